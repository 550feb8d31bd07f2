"""The lean Bot API client (coachbot/bot/http.py), through PTB's own request interface
(`BaseRequest.post`, as every Bot method calls it), against small local HTTP servers that answer
the way a server may: kept alive or closed, by length or in chunks, compressed, slowly, never."""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from telegram import InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from coachbot.bot.http import LeanRequest, make_request

OK = {"ok": True, "result": {"message_id": 7}}
Answer = Callable[[dict[str, Any]], Awaitable[bytes | None]]  # raw response, or None: hang up


def response(body: object, *, status: int = 200, headers: str = "", chunked: bool = False,
             compress: bool = False) -> bytes:  # fmt: skip
    data = json.dumps(body).encode()
    if compress:
        data = gzip.compress(data)
        headers += "Content-Encoding: gzip\r\n"
    head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{headers}"
    if not chunked:
        return f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (data[:5], data[5:]))
    return f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + chunks + b"0\r\n\r\n"


class Server:
    """An HTTP/1.1 server on a random port: each request is read whole (Content-Length) and
    answered by `answer`; the connections and requests it saw are counted."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[dict[str, Any]] = []
        self.close_after_answer = False  # hang up on an idle keep-alive connection
        self.url = ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line, *lines = head.decode().split("\r\n")
                headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = {"line": line, "headers": headers, "body": body}
                self.requests.append(request)
                raw = await self.answer(request)
                if raw is None:
                    break
                writer.write(raw)
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self, context: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=context)
        port = server.sockets[0].getsockname()[1]
        self.url = f"{'https' if context else 'http'}://localhost:{port}/botTOKEN/sendMessage"
        async with server:
            yield self


def message(text: str = "hello") -> RequestData:
    values = {"chat_id": 42, "text": text, "reply_markup": {"inline_keyboard": []}}
    return RequestData([RequestParameter.from_input(name, value) for name, value in values.items()])


async def always(request: dict[str, Any]) -> bytes:
    return response(OK)


async def test_a_message_is_posted_as_json_and_the_connection_is_kept_for_the_next() -> None:
    client = LeanRequest()
    async with Server(always).running() as server:
        for text in ("first", "second ✋ <b>&"):
            assert await client.post(server.url, message(text)) == OK["result"]
        await client.shutdown()
    assert server.connections == 1
    first, second = server.requests
    assert first["line"] == "POST /botTOKEN/sendMessage HTTP/1.1"
    assert first["headers"]["content-type"] == "application/json"
    assert first["headers"]["host"] == server.url.split("/")[2]
    assert json.loads(second["body"]) == {"chat_id": "42", "text": "second ✋ <b>&",
                                          "reply_markup": '{"inline_keyboard": []}'}  # fmt: skip


@pytest.mark.parametrize("shape", [{"chunked": True}, {"compress": True},
                                   {"chunked": True, "compress": True}])  # fmt: skip
async def test_chunked_and_compressed_answers_are_read_whole(shape: dict[str, bool]) -> None:
    async def answer(request: dict[str, Any]) -> bytes:
        return response(OK, **shape)

    client = LeanRequest()
    async with Server(answer).running() as server:
        assert await client.post(server.url, message()) == OK["result"]
        assert await client.post(server.url, message()) == OK["result"]
        await client.shutdown()
    assert server.connections == 1


async def test_a_connection_the_server_closed_is_not_reused() -> None:
    async def answer(request: dict[str, Any]) -> bytes:  # answers, then hangs up on its side
        return response(OK, headers="Connection: close\r\n")

    client = LeanRequest()
    async with Server(answer).running() as server:
        for _ in range(3):
            assert await client.post(server.url, message()) == OK["result"]
        await client.shutdown()
    assert server.connections == 3


async def test_a_keep_alive_connection_closed_while_idle_is_replaced_not_failed() -> None:
    client = LeanRequest()
    async with Server(always).running() as server:
        server.close_after_answer = True  # no "Connection: close": the client learns it later
        assert await client.post(server.url, message()) == OK["result"]
        (idle,) = client._idle.values()  # noqa: SLF001 - the connection kept for reuse
        for _ in range(1000):  # until the server's close has reached the client
            if not idle[0].usable():
                break
            await asyncio.sleep(0)
        server.close_after_answer = False
        assert await client.post(server.url, message()) == OK["result"]
        await client.shutdown()
    assert server.connections == 2


async def test_telegram_errors_are_mapped_by_ptb_as_with_httpx() -> None:
    async def answer(request: dict[str, Any]) -> bytes:
        if b"blocked" in request["body"]:
            return response({"ok": False, "error_code": 403,
                             "description": "Forbidden: bot was blocked by the user"}, status=403)  # fmt: skip
        return response({"ok": False, "error_code": 400,
                         "description": "Bad Request: chat not found"}, status=400)  # fmt: skip

    client = LeanRequest()
    async with Server(answer).running() as server:
        with pytest.raises(Forbidden, match="blocked"):
            await client.post(server.url, message("blocked"))
        with pytest.raises(BadRequest, match="Chat not found"):
            await client.post(server.url, message())
        await client.shutdown()
    assert server.connections == 1  # error answers keep the connection


async def test_a_slow_answer_times_out_and_its_connection_is_dropped() -> None:
    release = asyncio.Event()

    async def answer(request: dict[str, Any]) -> bytes:
        if b"slow" in request["body"]:
            await release.wait()
        return response(OK)

    client = LeanRequest(read_timeout=0.2)
    async with Server(answer).running() as server:
        with pytest.raises(TimedOut):
            await client.post(server.url, message("slow"))
        release.set()
        # The late answer to the timed-out request is never read as this one's.
        assert await client.post(server.url, message("fast")) == OK["result"]
        await client.shutdown()
    assert server.connections == 2


async def test_a_hang_up_before_the_answer_is_a_network_error() -> None:
    async def answer(request: dict[str, Any]) -> None:
        return None

    client = LeanRequest()
    async with Server(answer).running() as server:
        with pytest.raises(NetworkError) as caught:
            await client.post(server.url, message())
        await client.shutdown()
    assert not isinstance(caught.value, TimedOut)


async def test_nobody_listening_is_a_network_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(NetworkError):
        await LeanRequest().post(f"http://127.0.0.1:{port}/botTOKEN/getMe", None)


async def test_a_full_pool_times_out_without_sending() -> None:
    release = asyncio.Event()

    async def answer(request: dict[str, Any]) -> bytes:
        await release.wait()
        return response(OK)

    client = LeanRequest(pool_size=1, pool_timeout=0.1)
    async with Server(answer).running() as server:
        first = asyncio.create_task(client.post(server.url, message()))
        await asyncio.sleep(0.05)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await client.post(server.url, message())
        release.set()
        assert await first == OK["result"]
        await client.shutdown()
    assert len(server.requests) == 1


async def test_uploads_go_as_multipart_through_httpx() -> None:
    client = LeanRequest()
    await client.initialize()
    upload = RequestData([RequestParameter.from_input("chat_id", 42),
                          RequestParameter.from_input("document", InputFile(b"%PDF-1.4", filename="r.pdf"))])  # fmt: skip
    async with Server(always).running() as server:
        assert await client.post(server.url, upload) == OK["result"]
        await client.shutdown()
    (request,) = server.requests
    assert request["headers"]["content-type"].startswith("multipart/form-data")
    assert b"%PDF-1.4" in request["body"]


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)  # fmt: skip
    return cert, key


async def test_https_with_a_trusted_certificate(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    trusted = ssl.create_default_context(cafile=str(cert))
    async with Server(always).running(served) as server:
        client = LeanRequest(ssl_context=trusted)
        assert await client.post(server.url, message()) == OK["result"]
        await client.shutdown()
        with pytest.raises(NetworkError, match="CERTIFICATE_VERIFY_FAILED"):
            await LeanRequest().post(server.url, message())  # the default trust store: not it


def test_a_proxy_in_the_environment_falls_back_to_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(make_request(pool_size=1), LeanRequest)
    monkeypatch.setenv("https_proxy", "http://proxy.invalid:3128")
    assert isinstance(make_request(pool_size=1), HTTPXRequest)
