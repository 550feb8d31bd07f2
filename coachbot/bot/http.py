"""A lean HTTP/1.1 client for the Bot API, behind python-telegram-bot's own request interface.

PTB sends every Bot API call through a `BaseRequest`: `do_request(url, method, data, timeouts)`
returning the status and the body, which PTB then parses and maps to its errors (`Forbidden`,
`BadRequest`, `RetryAfter`, ...). Its default, `HTTPXRequest`, costs about a millisecond of CPU
a call beside the network: httpx builds a request model, merges and extracts cookies into a
jar, runs auth and redirect logic, and httpcore checks each pooled connection and runs its
state machine through anyio. A bot posts a few small forms to one host, so `LeanRequest`
writes each request on a kept-alive asyncio stream and reads the answer back (Content-Length
or chunked), nothing else: about a third of the CPU of an update or a prompt (benchmarks/).

What stays as it was: the request is PTB's (`BaseRequest.post`: rate limiter, parsing, error
mapping); the parameters are PTB's JSON parameters, sent as a JSON body (one of the Bot API's
documented ways, beside the form httpx sends: encoding a form costs several times more); the
TLS trust store is httpx's (`httpx.create_ssl_context`: certifi); timeouts are PTB's (connect,
write, read, pool), a timeout raises `TimedOut` and any other transport failure
`NetworkError`, as `HTTPXRequest` does. Uploads (multipart, rare: the first send of an
exercise's animation, charts and documents) go through an `HTTPXRequest`, made at the first. A request is never
retried here: a connection the server closed while idle is noticed before it is reused, and
anything else is the caller's to retry, as with httpx (PTB's rate limiter, the dispatcher).
A proxy (HTTPS_PROXY, ALL_PROXY...) is not supported here: `make_request` then returns PTB's
`HTTPXRequest`, which honours it.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
_MAX_HEAD = 64 * 1024  # status line and headers
_POOL_TIMEOUT = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent "
    "to Telegram. Consider adjusting the connection pool size or the pool timeout."
)  # PTB's own words for httpx's PoolTimeout


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


@lru_cache(maxsize=64)
def _split(url: str) -> tuple[_Origin, str]:
    """The origin and the path (with its query) of an http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NetworkError(f"unsupported URL scheme: {parts.scheme!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Origin(parts.scheme, parts.hostname, port), path


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def usable(self) -> bool:
        """Still open at both ends (a server closes idle keep-alive connections)."""
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


@dataclass
class _Answer:
    status: int
    body: bytes
    keep_alive: bool


class LeanRequest(BaseRequest):
    """PTB's `BaseRequest` on asyncio streams: HTTP/1.1, keep-alive, at most `pool_size`
    requests at once (each on its own connection), no cookies, no redirects."""

    def __init__(
        self,
        *,
        pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._timeouts = {"read": read_timeout, "write": write_timeout,
                          "connect": connect_timeout, "pool": pool_timeout}  # fmt: skip
        self._pool_size = pool_size
        self._slots: asyncio.Semaphore | None = None
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._ssl = ssl_context
        self._media_write_timeout = media_write_timeout
        self._uploads: HTTPXRequest | None = None  # made at the first upload (the long poll: never)

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        """Nothing to set up: connections are opened when first needed."""

    async def shutdown(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
        if self._uploads is not None:
            await self._uploads.shutdown()
            self._uploads = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            return await self._upload().do_request(url, method, request_data, read_timeout,
                                                   write_timeout, connect_timeout, pool_timeout)  # fmt: skip
        read = self._timeout("read", read_timeout)
        write = self._timeout("write", write_timeout)
        connect = self._timeout("connect", connect_timeout)
        origin, path = _split(url)
        body = request_data.json_payload if request_data else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {origin.host_header}\r\n"
            f"User-Agent: {self.USER_AGENT}\r\nAccept-Encoding: identity\r\n"
            + ("Content-Type: application/json\r\n" if request_data else "")
            + f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")  # fmt: skip
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._pool_size)
        if not self._slots.locked():
            await self._slots.acquire()  # a slot is free: taken at once, no timer needed
        else:
            try:
                async with asyncio.timeout(self._timeout("pool", pool_timeout)):
                    await self._slots.acquire()
            except TimeoutError:
                raise TimedOut(_POOL_TIMEOUT) from None
        connection: _Connection | None = None
        try:
            connection = await self._connection(origin, connect)
            connection.writer.write(head + body)
            if connection.writer.transport.get_write_buffer_size():  # else all went at once
                async with asyncio.timeout(write):
                    await connection.writer.drain()
            async with asyncio.timeout(read):
                answer = await _read_answer(connection.reader)
        except TimeoutError as exc:
            raise TimedOut from exc
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError, zlib.error) as exc:  # fmt: skip
            raise NetworkError(f"{type(exc).__name__}: {exc}") from exc
        else:
            if answer.keep_alive:
                self._idle.setdefault(origin, []).append(connection)
                connection = None
            return answer.status, answer.body
        finally:  # failed or cancelled: an answer may still come, so never on this connection
            if connection is not None:
                connection.close()
            self._slots.release()

    def _upload(self) -> HTTPXRequest:
        if self._uploads is None:
            self._uploads = HTTPXRequest(
                connection_pool_size=max(1, min(self._pool_size, 8)),
                read_timeout=self._timeouts["read"], write_timeout=self._timeouts["write"],
                connect_timeout=self._timeouts["connect"], pool_timeout=self._timeouts["pool"],
                media_write_timeout=self._media_write_timeout,
            )  # fmt: skip
        return self._uploads

    def _timeout(self, kind: str, given: Any) -> float | None:
        if isinstance(given, (int, float)) or given is None:
            return given
        return self._timeouts[kind]  # PTB's DEFAULT_NONE: this request's default

    async def _connection(self, origin: _Origin, connect: float | None) -> _Connection:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.usable():
                return connection
            connection.close()
        context: ssl.SSLContext | None = None
        if origin.scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()  # the same trust store as httpx's
            context = self._ssl
        try:
            async with asyncio.timeout(connect):
                reader, writer = await asyncio.open_connection(
                    origin.host, origin.port, ssl=context, limit=_MAX_HEAD,
                    server_hostname=origin.host if context else None,
                )  # fmt: skip
        except TimeoutError as exc:
            raise TimedOut("connect timed out") from exc
        return _Connection(reader, writer)


async def _read_answer(reader: asyncio.StreamReader) -> _Answer:
    """One HTTP/1.1 response: status, headers, and a Content-Length or chunked body."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    version, status, *_ = status_line.split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers are sent to a client asking none
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:  # the body runs to the end of the connection
        body = await reader.read()
        keep_alive = False
    encoding = headers.get("content-encoding", "identity").lower()
    if encoding in ("gzip", "deflate"):
        body = zlib.decompress(body, wbits=47)  # gzip or zlib, detected from the header
    elif encoding != "identity":
        raise ValueError(f"unsupported content encoding {encoding!r}")
    return _Answer(int(status), body, keep_alive)


def proxy_configured() -> bool:
    return any(os.environ.get(name) or os.environ.get(name.lower()) for name in PROXY_VARIABLES)


def make_request(*, pool_size: int) -> BaseRequest:
    """The request a bot sends through: `LeanRequest`, or PTB's `HTTPXRequest` when a proxy is
    configured in the environment (httpx honours it; `LeanRequest` does not)."""
    if proxy_configured():
        return HTTPXRequest(connection_pool_size=pool_size)
    return LeanRequest(pool_size=pool_size)
