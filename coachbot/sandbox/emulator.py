"""A Telegram Bot API emulator for tests and demos: real HTTP on localhost, Telegram's rules.

Why it exists: a bot is only as correct as the requests it sends. Mocking ``telegram.Bot``
hides exactly the mistakes Telegram punishes in production (bad HTML, over-long text, stale
buttons, 64-byte callback data, flood limits), so the real PTB ``Application`` talks HTTP to
this emulator instead, and the emulator refuses what Telegram refuses, with Telegram's status
codes and error descriptions.

Two faces, one server (``BotApiEmulator.url``):

* ``/bot<token>/<method>``: the Bot API subset coachbot uses, reached through
  ``ApplicationBuilder().base_url(f"{url}/bot")``. Parameters may come as a query string,
  ``application/x-www-form-urlencoded`` (objects JSON-encoded into strings, as PTB sends them),
  ``multipart/form-data`` (uploads) or a JSON body.
* ``/_sandbox/...``: the users' side, used by :mod:`coachbot.testing` and the terminal demo:
  send and edit messages, press buttons, block the bot, watch what the bot did, inject faults.

Only ``parse_mode="HTML"`` is checked (strictly, see :mod:`coachbot.sandbox._html`). Any other
parse mode, ``MarkdownV2`` and ``Markdown`` included, is refused with Telegram's
``Bad Request: unsupported parse_mode``: a bot switching parse modes must fail loudly here
rather than pass unchecked.

Known differences from Telegram, all on the side of refusing or of simplicity:

* webhooks may be plain ``http://`` on any port (tests have no certificates);
* files are uploads or file_ids the emulator issued; URLs are not fetched and are refused
  with Telegram's ``failed to get HTTP URL content``; photos must be PNG, JPEG or GIF;
* the ``entities``/``caption_entities`` parameters, inline messages (``inline_message_id``),
  replies and channels are not emulated; chats are private chats and groups;
* no 48-hour limit on editing or deleting, no expiry of callback queries, no 20-per-minute
  group limit and no 24-hour retention limit for pending updates.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import mimetypes
import re
import secrets
import signal
import struct
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import tornado.netutil
import tornado.web
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPServerRequest

from coachbot.sandbox._html import EntityParseError, ParsedText, parse_html_entities, utf16_len

__all__ = ["ApiError", "BotApiEmulator", "RecordedRequest", "main", "make_png"]

_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LANGUAGE_CODE = re.compile(r"(?:[a-z]{2})?")
_LEADING_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_])")

_MAX_TEXT = 4096
_MAX_CAPTION = 1024
_MAX_ANIMATION_BYTES = 50 * 1024 * 1024  # sendAnimation: at most 50 MB
_MAX_CALLBACK_DATA_BYTES = 64
_MAX_CALLBACK_ANSWER = 200
_MAX_INLINE_BUTTONS = 100
_MAX_INLINE_ROW = 8
_MAX_COMMANDS = 100
_MAX_COMMAND_DESCRIPTION = 256
_MAX_PHOTO_BYTES = 10 * 1024 * 1024
_MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
_MAX_PHOTO_SIDES = 10_000
_MAX_PHOTO_RATIO = 20
_MAX_BODY_BYTES = 64 * 1024 * 1024
_RATE_WINDOW_SECONDS = 1.0
_RATE_LIMIT_OVERALL = 30
_RATE_LIMIT_PER_CHAT = 1
_WEBHOOK_TIMEOUT_SECONDS = 10.0
_WEBHOOK_MAX_BACKOFF_SECONDS = 5.0

_INLINE_BUTTON_ACTIONS = frozenset(
    [
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    ]
)
_BUTTON_URL_SCHEMES = frozenset({"http", "https", "tg"})
_CHAT_ACTIONS = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)
_COMMAND_SCOPES = frozenset(
    [
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    ]
)
# Update types a bot receives only when it lists them in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_TYPES = frozenset({"private", "group", "supergroup"})
_USER_MEDIA_KINDS = frozenset({"sticker", "photo", "document", "voice"})

_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"

JsonDict = dict[str, Any]


# -- errors and records ----------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API failure, carrying Telegram's error envelope and HTTP status."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None,
                 migrate_to_chat_id: int | None = None):  # fmt: skip
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def envelope(self) -> JsonDict:
        body: JsonDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        parameters = {
            "retry_after": self.retry_after,
            "migrate_to_chat_id": self.migrate_to_chat_id,
        }
        if any(value is not None for value in parameters.values()):
            body["parameters"] = {k: v for k, v in parameters.items() if v is not None}
        return body


DROP_CONNECTION = 0  # the error code of an injected fault that closes the socket unanswered


class _InjectedFault(ApiError):
    """A failure a test asked for, so that it is recorded but not counted as the bot's fault."""


class _SandboxError(Exception):
    """A user-side request the emulated Telegram client could not have made."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def _too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


@dataclass(frozen=True)
class RecordedRequest:
    """One Bot API call as the emulator answered it (uploads shown as name and size)."""

    method: str
    params: JsonDict
    ok: bool
    error_code: int | None
    description: str | None
    at: float
    injected: bool = False

    @property
    def is_rejection(self) -> bool:
        """Refused by Telegram's rules: not injected, not a wrong token or an unknown method."""
        if self.injected or self.error_code is None:
            return False
        return 400 <= self.error_code < 500 and self.error_code not in (401, 404)


@dataclass
class _Fault:
    error: _InjectedFault
    remaining: int


# -- request parameters ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Upload:
    """A file part of a multipart request."""

    file_name: str
    content_type: str
    data: bytes


class _Params:
    """Bot API parameters, converted on read the way Telegram converts them.

    PTB sends every value as a string (objects JSON-encoded), JSON bodies carry native values;
    Telegram accepts both, so the getters accept both.
    """

    def __init__(self, values: Mapping[str, Any], uploads: Mapping[str, _Upload]) -> None:
        self._values = dict(values)
        self._uploads = dict(uploads)

    @classmethod
    def from_request(cls, request: HTTPServerRequest) -> _Params:
        values: dict[str, Any] = _decode_arguments(request.query_arguments)
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type == "application/json" and request.body:
            values.update(_decode_json_body(request.body))
        else:
            values.update(_decode_arguments(request.body_arguments))
        uploads = {
            name: _Upload(part.filename, part.content_type, part.body)
            for name, parts in request.files.items()
            for part in parts[-1:]
        }
        return cls(values, uploads)

    def recorded(self) -> JsonDict:
        """The parameters for the request log, each upload replaced by its name and size."""
        files = {
            name: {"file_name": upload.file_name, "size": len(upload.data)}
            for name, upload in self._uploads.items()
        }
        return {**self._values, **files}

    def text(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise _bad_request(f'parameter "{name}" must be a string')

    def integer(self, name: str) -> int | None:
        value = self._values.get(name)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise _bad_request(f"invalid {name} specified")

    def number(self, name: str) -> float | None:
        value = self._values.get(name)
        if value is None:
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self._values.get(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        return str(value).strip().lower() in ("true", "1")

    def json(self, name: str, error: str) -> Any:
        """A JSON-typed parameter; ``error`` is Telegram's detail for an undecodable one."""
        value = self._values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(error) from None

    def upload(self, name: str) -> _Upload | str | None:
        """An uploaded part (directly or through ``attach://``), or a file_id/URL string."""
        if name in self._uploads:
            return self._uploads[name]
        reference = self.text(name)
        if reference is not None and reference.startswith("attach://"):
            return self._uploads.get(reference.removeprefix("attach://"))
        return reference


def _decode_arguments(arguments: Mapping[str, list[bytes]]) -> dict[str, str]:
    try:
        return {name: values[-1].decode("utf-8") for name, values in arguments.items()}
    except UnicodeDecodeError:
        raise _bad_request("strings must be encoded in UTF-8") from None


def _decode_json_body(body: bytes) -> JsonDict:
    try:
        decoded = json.loads(body)
    except ValueError:
        raise _bad_request("can't parse JSON object") from None
    if not isinstance(decoded, dict):
        raise _bad_request("can't parse JSON object")
    return decoded


# -- the emulated world -------------------------------------------------------------------------


@dataclass
class _User:
    id: int
    first_name: str
    language_code: str | None = None
    blocked: bool = False

    def to_api(self) -> JsonDict:
        user: JsonDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass(frozen=True)
class _StoredFile:
    """A file Telegram holds; its file_id can be sent again."""

    kind: str  # "photo" | "document" | "animation" | "sticker" | "voice"
    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str
    mime_type: str
    width: int = 0
    height: int = 0

    def to_api(self) -> JsonDict:
        """The message fields this file contributes (``photo``, ``document``, ...)."""
        ids = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        size = {"file_size": len(self.data)}
        if self.kind == "photo":
            return {"photo": [{**ids, "width": self.width, "height": self.height, **size}]}
        if self.kind == "sticker":
            sticker = {"type": "regular", "width": 512, "height": 512, "emoji": "🙂"}
            return {"sticker": {**ids, **sticker, "is_animated": False, "is_video": False}}
        if self.kind == "voice":
            return {"voice": {**ids, "duration": 1, "mime_type": self.mime_type, **size}}
        if self.kind == "animation":
            shape = {"width": self.width, "height": self.height, "duration": 1}
            named = {"file_name": self.file_name, "mime_type": self.mime_type}
            return {"animation": {**ids, **shape, **named, **size}}
        document = {"file_name": self.file_name, "mime_type": self.mime_type}
        return {"document": {**ids, **document, **size}}

    def summary(self) -> JsonDict:
        """What the user side sees of the file; the bytes are at ``/_sandbox/files/<file_id>``."""
        info: JsonDict = {
            "file_id": self.file_id,
            "file_name": self.file_name,
            "size": len(self.data),
            "mime_type": self.mime_type,
        }
        if self.kind in ("photo", "animation"):
            info.update(width=self.width, height=self.height)
        return info


@dataclass
class _Chat:
    id: int
    type: str
    user: _User | None  # the other party of a private chat
    instance: str = field(default_factory=lambda: str(secrets.randbits(63)))
    messages: dict[int, _StoredMessage] = field(default_factory=dict)
    last_message_id: int = 0

    def to_api(self) -> JsonDict:
        if self.user is not None:
            return {"id": self.id, "type": self.type, "first_name": self.user.first_name}
        return {"id": self.id, "type": self.type, "title": f"Sandbox group {self.id}"}

    def add(self, message: _StoredMessage) -> None:
        self.messages[message.message_id] = message

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id


@dataclass(frozen=True)
class _Event:
    """Something the bot did in a chat, as the user side sees it."""

    chat_id: int
    type: str  # "message" | "edit" | "delete" | "callback_answer" | "chat_action"
    seq: int = 0
    message_id: int | None = None
    text: str | None = None
    caption: str | None = None
    parse_mode: str | None = None
    buttons: list[list[JsonDict]] = field(default_factory=list)
    photo: JsonDict | None = None
    document: JsonDict | None = None
    animation: JsonDict | None = None
    callback_text: str | None = None
    show_alert: bool | None = None
    action: str | None = None


@dataclass
class _StoredMessage:
    message_id: int
    chat: _Chat
    sender: JsonDict  # the API User object of the author
    from_bot: bool
    date: int
    text: ParsedText | None = None
    caption: ParsedText | None = None
    parse_mode: str | None = None
    file: _StoredFile | None = None
    reply_markup: JsonDict | None = None  # inline keyboards only: the others are not kept
    edit_date: int | None = None

    def to_api(self) -> JsonDict:
        message: JsonDict = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat.to_api(),
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.text is not None:
            message.update(_text_fields("text", "entities", self.text))
        if self.file is not None:
            message.update(self.file.to_api())
        if self.caption is not None:
            message.update(_text_fields("caption", "caption_entities", self.caption))
        if self.reply_markup is not None:
            message["reply_markup"] = self.reply_markup
        return message

    def buttons(self) -> list[list[JsonDict]]:
        """The inline keyboard as text plus action, the way a user sees it."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[_button_view(button) for button in row] for row in rows]

    def callback_data(self) -> set[str]:
        return {b["callback_data"] for row in self.buttons() for b in row if "callback_data" in b}

    def event(self, event_type: str) -> _Event:
        return _Event(
            chat_id=self.chat.id,
            type=event_type,
            message_id=self.message_id,
            text=self.text.text if self.text is not None else None,
            caption=self.caption.text if self.caption is not None else None,
            parse_mode=self.parse_mode,
            buttons=self.buttons(),
            photo=self.file.summary() if self.file and self.file.kind == "photo" else None,
            document=self.file.summary() if self.file and self.file.kind == "document" else None,
            animation=self.file.summary() if self.file and self.file.kind == "animation" else None,
        )

    def to_sandbox(self) -> JsonDict:
        """The message as it is now, for ``/_sandbox/messages``."""
        view = asdict(self.event("message"))
        for key in ("seq", "type", "callback_text", "show_alert", "action"):
            del view[key]
        view.update(
            from_bot=self.from_bot,
            user_id=self.sender["id"],
            kind=self.file.kind if self.file else "text",
            edited=self.edit_date is not None,
        )
        return view


def _text_fields(text_key: str, entities_key: str, parsed: ParsedText) -> JsonDict:
    fields: JsonDict = {text_key: parsed.text}
    if parsed.entities:
        fields[entities_key] = [dict(entity) for entity in parsed.entities]
    return fields


def _button_view(button: JsonDict) -> JsonDict:
    view = {"text": button["text"]}
    view.update({key: button[key] for key in ("callback_data", "url") if key in button})
    return view


@dataclass
class _CallbackQuery:
    chat_id: int
    message_id: int
    answered: bool = False


@dataclass(frozen=True)
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int


class _Signal:
    """Wakes every current waiter at the next ``notify()``: event-driven long polls."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self) -> None:
        await self._event.wait()


class _UpdateQueue:
    """A bot's pending updates: kept until confirmed by an offset or a webhook delivery."""

    def __init__(self) -> None:
        self._pending: list[JsonDict] = []
        self._update_ids = itertools.count(1)
        self._allowed: frozenset[str] | None = None  # None: Telegram's default selection
        self.changed = _Signal()

    def push(self, kind: str, payload: JsonDict) -> int:
        """Queue an update unless allowed_updates excludes its type; return its update_id."""
        update_id = next(self._update_ids)
        if self._allows(kind):
            self._pending.append({"update_id": update_id, kind: payload})
            self.changed.notify()
        return update_id

    def _allows(self, kind: str) -> bool:
        if self._allowed is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed

    def set_allowed(self, kinds: list[str] | None) -> None:
        """Like Telegram: absent keeps the setting, an empty list restores the default."""
        if kinds is not None:
            self._allowed = frozenset(kinds) or None

    @property
    def allowed(self) -> list[str] | None:
        return sorted(self._allowed) if self._allowed is not None else None

    def confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative one keeps only the last ``-offset``."""
        if offset < 0:
            self._pending = self._pending[offset:]
        elif offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]

    def peek(self, limit: int) -> list[JsonDict]:
        return self._pending[:limit]

    def clear(self) -> None:
        self._pending.clear()

    def __len__(self) -> int:
        return len(self._pending)


class _EventLog:
    """What the bot did, in order, with a global sequence number the user side polls on."""

    def __init__(self) -> None:
        self._events: list[_Event] = []
        self._changed = _Signal()

    def add(self, event: _Event) -> None:
        self._events.append(replace(event, seq=len(self._events) + 1))
        self._changed.notify()

    def since(self, chat_id: int, after: int) -> list[_Event]:
        return [e for e in self._events[after:] if e.chat_id == chat_id]

    async def wait_since(self, chat_id: int, after: int) -> list[_Event]:
        """The chat's events after ``after``, waiting for the first one if there is none."""
        while not (events := self.since(chat_id, after)):
            await self._changed.wait()
        return events


class _RateLimiter:
    """Telegram's flood limits as sliding one-second windows."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._overall: deque[float] = deque()
        self._per_chat: dict[int, deque[float]] = {}

    def retry_after(self, chat_id: int) -> int | None:
        """Seconds until one more message to ``chat_id`` is allowed, or None if it is now."""
        now = self._clock()
        overall = self._window(self._overall, now)
        in_chat = self._window(self._per_chat.setdefault(chat_id, deque()), now)
        waits = [
            window[0] + _RATE_WINDOW_SECONDS - now
            for window, limit in ((overall, _RATE_LIMIT_OVERALL), (in_chat, _RATE_LIMIT_PER_CHAT))
            if len(window) >= limit
        ]
        return max(1, math.ceil(max(waits))) if waits else None

    def record(self, chat_id: int) -> None:
        now = self._clock()
        self._overall.append(now)
        self._per_chat.setdefault(chat_id, deque()).append(now)

    @staticmethod
    def _window(times: deque[float], now: float) -> deque[float]:
        while times and times[0] <= now - _RATE_WINDOW_SECONDS:
            times.popleft()
        return times


class _WebhookDelivery:
    """Posts pending updates to the webhook one at a time, in order, retrying on failure."""

    def __init__(self, webhook: _Webhook, updates: _UpdateQueue) -> None:
        self.webhook = webhook
        self._updates = updates
        self.last_error: tuple[int, str] | None = None
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        headers = {"Content-Type": "application/json"}
        if self.webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook.secret_token
        async with httpx.AsyncClient(timeout=_WEBHOOK_TIMEOUT_SECONDS, headers=headers) as client:
            failures = 0
            while True:
                batch = self._updates.peek(1)
                if not batch:
                    await self._updates.changed.wait()
                    continue
                if await self._post(client, batch[0]):
                    self._updates.confirm(batch[0]["update_id"] + 1)
                    failures = 0
                else:
                    failures += 1
                    await asyncio.sleep(min(0.05 * 2**failures, _WEBHOOK_MAX_BACKOFF_SECONDS))

    async def _post(self, client: httpx.AsyncClient, update: JsonDict) -> bool:
        try:
            response = await client.post(self.webhook.url, content=json.dumps(update))
        except httpx.HTTPError as error:
            self.last_error = (int(time.time()), f"Connection failed: {error!r}")
            return False
        if response.is_success:
            return True
        reason = f"{response.status_code} {response.reason_phrase}"
        self.last_error = (int(time.time()), f"Wrong response from the webhook: {reason}")
        return False


@dataclass
class _PollTicket:
    """The getUpdates request currently waiting; a newer one supersedes it, like on Telegram."""

    superseded: bool = False


# -- files --------------------------------------------------------------------------------------


def make_png(width: int, height: int) -> bytes:
    """A valid grey PNG of the given size: placeholder content for photos sent by users."""
    row = b"\x00" + b"\x80" * width
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunks = [(b"IHDR", header), (b"IDAT", zlib.compress(row * height)), (b"IEND", b"")]
    body = b"".join(
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        for kind, data in chunks
    )
    return b"\x89PNG\r\n\x1a\n" + body


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG or GIF image, or None if it is none of those."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png_size(data)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _png_size(data: bytes) -> tuple[int, int] | None:
    """Walks every chunk, checking CRCs: Telegram cannot process a truncated or corrupt PNG."""
    position, size, chunk_type = 8, None, b""
    while chunk_type != b"IEND":
        if position + 12 > len(data):
            return None
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunk_type = data[position + 4 : position + 8]
        chunk = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(
            ">I", data[position + 8 + length : position + 12 + length] or b"\0" * 4
        )
        if len(chunk) != length or zlib.crc32(chunk_type + chunk) != crc:
            return None
        if chunk_type == b"IHDR" and length == 13:
            size = struct.unpack(">II", chunk[:8])
        position += 12 + length
    return size


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 9 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        position += 2 + length
    return None


def _check_animation(data: bytes) -> tuple[int, int]:
    """An animation Telegram plays inline: a GIF (or an MP4, not checked further) within the
    size limit; the GIF's width and height."""
    if len(data) > _MAX_ANIMATION_BYTES:
        raise ApiError(413, "Request Entity Too Large")
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data[4:8] == b"ftyp":
        return 0, 0
    raise _bad_request("wrong type of the web page content")


def _check_photo(data: bytes) -> tuple[int, int]:
    if len(data) > _MAX_PHOTO_BYTES:
        raise _bad_request("file is too big")
    size = _image_size(data)
    if size is None:
        raise _bad_request("IMAGE_PROCESS_FAILED")
    width, height = size
    sides_ok = width > 0 and height > 0 and width + height <= _MAX_PHOTO_SIDES
    if not sides_ok or max(width, height) > _MAX_PHOTO_RATIO * min(width, height):
        raise _bad_request("PHOTO_INVALID_DIMENSIONS")
    return width, height


_USER_MEDIA: dict[str, tuple[str, str, bytes]] = {
    "photo": ("photo.png", "image/png", make_png(1, 1)),
    "document": ("document.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n"),
    "sticker": ("sticker.webp", "image/webp", b"RIFF\x04\x00\x00\x00WEBP"),
    "voice": ("voice.ogg", "audio/ogg", b"OggS"),
}


# -- text and markup ------------------------------------------------------------------------------


def _format_text(source: str, parse_mode: str | None) -> ParsedText:
    """Apply the parse mode, then trim whitespace the way Telegram does."""
    if not parse_mode:
        parsed = ParsedText(source)
    elif parse_mode.lower() == "html":
        try:
            parsed = parse_html_entities(source)
        except EntityParseError as error:
            raise _bad_request(f"can't parse entities: {error.detail}") from None
    else:
        raise _bad_request("unsupported parse_mode")
    return _strip(parsed)


def _strip(parsed: ParsedText) -> ParsedText:
    """Trim leading and trailing whitespace, moving and clipping the entities with the text."""
    text = parsed.text.strip()
    if text == parsed.text:
        return parsed
    shift = utf16_len(parsed.text[: len(parsed.text) - len(parsed.text.lstrip())])
    end = utf16_len(text)
    entities = []
    for entity in parsed.entities:
        start = max(0, int(entity["offset"]) - shift)
        stop = min(end, int(entity["offset"]) + int(entity["length"]) - shift)
        if stop > start:
            entities.append({**entity, "offset": start, "length": stop - start})
    return ParsedText(text, tuple(entities))


def _with_command_entity(text: str) -> ParsedText:
    """A user's text, with the bot_command entity Telegram adds to a leading ``/command``."""
    match = _LEADING_COMMAND.match(text)
    if match is None:
        return ParsedText(text)
    entity = {"offset": 0, "length": utf16_len(match.group()), "type": "bot_command"}
    return ParsedText(text, (entity,))


def _parse_reply_markup(raw: Any, *, inline_only: bool = False) -> JsonDict | None:
    """Validate reply_markup; return what a message keeps of it (only inline keyboards)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        return {"inline_keyboard": _parse_inline_keyboard(raw["inline_keyboard"])}
    if inline_only:
        raise _bad_request("inline keyboard expected")
    if "keyboard" in raw:
        _check_reply_keyboard(raw["keyboard"])
    elif raw.get("remove_keyboard") is not True and raw.get("force_reply") is not True:
        raise _bad_request("can't parse reply keyboard markup JSON object")
    return None


def _parse_inline_keyboard(rows: Any) -> list[list[JsonDict]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    if sum(len(row) for row in rows) > _MAX_INLINE_BUTTONS or any(
        len(row) > _MAX_INLINE_ROW for row in rows
    ):
        raise _bad_request("REPLY_MARKUP_TOO_LONG")
    return [[_parse_inline_button(button) for button in row] for row in rows if row]


def _parse_inline_button(button: Any) -> JsonDict:
    def invalid(detail: str) -> ApiError:
        return _bad_request(f"can't parse inline keyboard button: {detail}")

    if not isinstance(button, dict):
        raise invalid("InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise invalid('Field "text" must be of type String')
    if not button["text"].strip():
        raise _bad_request("BUTTON_TEXT_INVALID")
    actions = _INLINE_BUTTON_ACTIONS & button.keys()
    if not actions:
        raise invalid("Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise invalid("exactly one of the optional fields must be used")
    if "callback_data" in button:
        _check_callback_data(button["callback_data"])
    if "url" in button and not _is_button_url(button["url"]):
        raise _bad_request("BUTTON_URL_INVALID")
    return button


def _check_callback_data(data: Any) -> None:
    if not isinstance(data, str):
        raise _bad_request(
            'can\'t parse inline keyboard button: Field "callback_data" must be of type String'
        )
    if not 1 <= len(data.encode("utf-8")) <= _MAX_CALLBACK_DATA_BYTES:
        raise _bad_request("BUTTON_DATA_INVALID")


def _is_button_url(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme in _BUTTON_URL_SCHEMES and bool(parts.netloc)


def _check_reply_keyboard(rows: Any) -> None:
    def is_button(button: Any) -> bool:
        text = button.get("text") if isinstance(button, dict) else button
        return isinstance(text, str) and bool(text.strip())

    if not isinstance(rows, list) or not all(
        isinstance(row, list) and all(is_button(b) for b in row) for row in rows
    ):
        raise _bad_request("can't parse reply keyboard markup JSON object")


# -- the emulator ---------------------------------------------------------------------------------

_ApiMethod = Callable[[_Params], Awaitable[Any]]
_SandboxRoute = Callable[[JsonDict], Awaitable[Any]]


class BotApiEmulator:
    """The Bot API and the users' side of one Telegram bot, served on localhost.

    Start it inside a running event loop; everything then happens on that loop, so the state
    needs no locks. ``clock`` (monotonic seconds) times requests and rate limits, and may be
    replaced by tests that need to move time.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "coachbot_sandbox_bot",
        enforce_rate_limits: bool = False,
    ) -> None:
        if token is not None and not _TOKEN_SHAPE.fullmatch(token):
            raise ValueError("token must look like Telegram's: <digits>:<30+ letters>")
        self._token = token
        self._host = host
        self._port = port
        self._bot_username = bot_username
        self._bot_id = int(token.split(":")[0]) if token else 1
        self._enforce_rate_limits = enforce_rate_limits
        self.clock: Callable[[], float] = time.monotonic
        self.requests: list[RecordedRequest] = []
        self.too_many_requests_count = 0
        self._rate_limiter = _RateLimiter(lambda: self.clock())
        self._faults: dict[str, deque[_Fault]] = {}
        self._users: dict[int, _User] = {}
        self._chats: dict[int, _Chat] = {}
        self._files: dict[str, _StoredFile] = {}
        self._queries: dict[str, _CallbackQuery] = {}
        self._query_ids = itertools.count(1)
        self._commands: dict[str, list[JsonDict]] = {}
        self._updates = _UpdateQueue()
        self._events = _EventLog()
        self._poll: _PollTicket | None = None
        self._webhook: _WebhookDelivery | None = None
        self._server: HTTPServer | None = None
        self._methods = self._api_methods()

    @property
    def enforce_rate_limits(self) -> bool:
        """Whether Telegram's flood limits are enforced (429 with retry_after beyond them)."""
        return self._enforce_rate_limits

    @enforce_rate_limits.setter
    def enforce_rate_limits(self, enforce: bool) -> None:
        self._enforce_rate_limits = enforce

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0 picks a free one)."""
        application = tornado.web.Application(
            [
                (r"/bot([^/]*)/([^/]*)", _BotApiHandler, {"emulator": self}),
                (r"/_sandbox/files/([^/]+)", _SandboxFileHandler, {"emulator": self}),
                (r"/_sandbox/([a-z]+)", _SandboxHandler, {"emulator": self}),
            ],
            log_function=lambda handler: None,
        )
        sockets = tornado.netutil.bind_sockets(self._port, self._host)
        self._server = HTTPServer(application, max_body_size=_MAX_BODY_BYTES)
        self._server.add_sockets(sockets)
        self._port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop webhook delivery, then close the server and every connection to it."""
        await self._stop_webhook()
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None

    @property
    def url(self) -> str:
        """The Bot API root, ``http://host:port``; PTB's base_url is ``f"{url}/bot"``."""
        return f"http://{self._host}:{self._port}"

    # -- inspection and fault injection ----------------------------------------------------

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting now, e.g. the bot under test is up."""
        return self._poll is not None

    def rejected(self) -> list[RecordedRequest]:
        """The calls Telegram's rules refused (injected faults excluded)."""
        return [request for request in self.requests if request.is_rejection]

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with this error, before any checks.
        ``error_code`` 0 drops the connection without an answer (``DROP_CONNECTION``)."""
        if method.lower() not in self._methods:
            raise ValueError(f"unknown Bot API method {method!r}")
        error = _InjectedFault(error_code, description, retry_after=retry_after,
                               migrate_to_chat_id=migrate_to_chat_id)  # fmt: skip
        self._faults.setdefault(method.lower(), deque()).append(_Fault(error, count))

    def set_blocked(self, user_id: int, blocked: bool = True) -> None:
        """Block or unblock the bot for a user; the bot gets a my_chat_member update."""
        user = self._users.setdefault(user_id, _User(user_id, "User"))
        if user.blocked == blocked:
            return
        user.blocked = blocked
        chat = self._chats.get(user_id)
        if chat is not None:
            self._updates.push("my_chat_member", self._membership_change(chat, user, blocked))

    # -- Bot API dispatch ----------------------------------------------------------------------

    async def call_api(
        self, token: str, method: str, request: HTTPServerRequest
    ) -> tuple[int, JsonDict]:
        """Answer one Bot API request: (HTTP status, Telegram envelope). Every call is recorded."""
        at = self.clock()
        params: _Params | None = None
        try:
            params = _Params.from_request(request)
            self._authenticate(token)
            if method.lower() not in self._methods:
                raise ApiError(404, "Not Found")
            method, handler = self._methods[method.lower()]
            self._raise_injected_fault(method)
            result = await handler(params)
        except ApiError as error:
            self._record(method, params, at, error)
            return error.error_code, error.envelope()  # error_code 0: the connection is dropped
        except asyncio.CancelledError:
            self._record(method, params, at, None, "client closed the connection")
            raise
        self._record(method, params, at)
        return 200, {"ok": True, "result": result}

    def _api_methods(self) -> dict[str, tuple[str, _ApiMethod]]:
        methods: dict[str, _ApiMethod] = {
            "getMe": self._get_me,
            "logOut": self._log_out,
            "close": self._log_out,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendAnimation": self._send_animation,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
        }
        return {name.lower(): (name, handler) for name, handler in methods.items()}

    def _authenticate(self, token: str) -> None:
        accepted = token == self._token if self._token else bool(_TOKEN_SHAPE.fullmatch(token))
        if not accepted:
            raise ApiError(401, "Unauthorized")
        self._bot_id = int(token.split(":")[0])

    def _raise_injected_fault(self, method: str) -> None:
        faults = self._faults.get(method.lower())
        if not faults:
            return
        fault = faults[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.popleft()
        raise fault.error

    def _record(
        self,
        method: str,
        params: _Params | None,
        at: float,
        error: ApiError | None = None,
        description: str | None = None,
    ) -> None:
        self.requests.append(
            RecordedRequest(
                method=method,
                params=params.recorded() if params is not None else {},
                ok=error is None and description is None,
                error_code=error.error_code if error else None,
                description=error.description if error else description,
                at=at,
                injected=isinstance(error, _InjectedFault),
            )
        )

    # -- Bot API: identity, updates, webhooks, commands ---------------------------------------

    def _bot_user(self) -> JsonDict:
        return {
            "id": self._bot_id,
            "is_bot": True,
            "first_name": "Coachbot Sandbox",
            "username": self._bot_username,
        }

    async def _get_me(self, params: _Params) -> JsonDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _log_out(self, params: _Params) -> bool:
        return True

    async def _get_updates(self, params: _Params) -> list[JsonDict]:
        if self._webhook is not None:
            raise ApiError(409, _WEBHOOK_CONFLICT)
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        self._updates.set_allowed(_allowed_updates(params))
        self._updates.confirm(params.integer("offset") or 0)
        if self._poll is not None:
            self._poll.superseded = True
            self._updates.changed.notify()
        ticket = self._poll = _PollTicket()
        try:
            if not self._updates.peek(limit) and timeout > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._wait_for_updates(ticket)
            return self._updates.peek(limit)
        finally:
            if self._poll is ticket:
                self._poll = None

    async def _wait_for_updates(self, ticket: _PollTicket) -> None:
        """Wait for the first update, giving way to a newer getUpdates or a webhook."""
        while not self._updates.peek(1):
            await self._updates.changed.wait()
            if ticket.superseded:
                raise ApiError(409, _POLL_CONFLICT)
            if self._webhook is not None:
                raise ApiError(409, _WEBHOOK_CONFLICT)

    async def _set_webhook(self, params: _Params) -> bool:
        url = params.text("url") or ""
        if not url:
            return await self._delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _bad_request("bad webhook: invalid webhook URL specified")
        secret = params.text("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise _bad_request("bad webhook: secret token contains unallowed characters")
        max_connections = params.integer("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise _bad_request("bad webhook: invalid max_connections specified")
        self._updates.set_allowed(_allowed_updates(params))
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        await self._stop_webhook()
        self._webhook = _WebhookDelivery(_Webhook(url, secret, max_connections), self._updates)
        self._updates.changed.notify()  # a waiting getUpdates must now give way
        return True

    async def _delete_webhook(self, params: _Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        await self._stop_webhook()
        return True

    async def _stop_webhook(self) -> None:
        if self._webhook is not None:
            webhook, self._webhook = self._webhook, None
            await webhook.stop()

    async def _get_webhook_info(self, params: _Params) -> JsonDict:
        info: JsonDict = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook is not None:
            info.update(url=self._webhook.webhook.url)
            info.update(max_connections=self._webhook.webhook.max_connections)
            if self._webhook.last_error is not None:
                date, message = self._webhook.last_error
                info.update(last_error_date=date, last_error_message=message)
        if self._updates.allowed is not None:
            info["allowed_updates"] = self._updates.allowed
        return info

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.json("commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > _MAX_COMMANDS:
            raise _bad_request("too many commands specified")
        self._commands[self._commands_key(params)] = [_parse_command(c) for c in commands]
        return True

    async def _get_my_commands(self, params: _Params) -> list[JsonDict]:
        return self._commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: _Params) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    @staticmethod
    def _commands_key(params: _Params) -> str:
        """Commands are kept per scope and language, as on Telegram."""
        scope = params.json("scope", "can't parse BotCommandScope JSON object")
        scope = scope if scope is not None else {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _COMMAND_SCOPES:
            raise _bad_request("unsupported bot command scope type")
        language = params.text("language_code") or ""
        if not _LANGUAGE_CODE.fullmatch(language):
            raise _bad_request("invalid language code specified")
        return json.dumps([scope, language], sort_keys=True)

    # -- Bot API: messages ----------------------------------------------------------------------

    async def _send_message(self, params: _Params) -> JsonDict:
        chat = self._writable_chat(params)
        text = _format_text(params.text("text") or "", params.text("parse_mode"))
        _check_length(text, _MAX_TEXT, empty="message text is empty", long="message is too long")
        markup = _parse_reply_markup(self._markup_param(params))
        self._throttle(chat)
        return self._post_bot_message(chat, params, text=text, reply_markup=markup)

    async def _send_photo(self, params: _Params) -> JsonDict:
        return await self._send_file(params, "photo")

    async def _send_document(self, params: _Params) -> JsonDict:
        return await self._send_file(params, "document")

    async def _send_animation(self, params: _Params) -> JsonDict:
        return await self._send_file(params, "animation")

    async def _send_file(self, params: _Params, kind: str) -> JsonDict:
        chat = self._writable_chat(params)
        caption = self._caption(params)
        markup = _parse_reply_markup(self._markup_param(params))
        stored = self._input_file(params, kind)
        self._throttle(chat)
        return self._post_bot_message(
            chat, params, caption=caption, file=stored, reply_markup=markup
        )

    async def _send_chat_action(self, params: _Params) -> bool:
        chat = self._writable_chat(params)
        action = params.text("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self._events.add(_Event(chat_id=chat.id, type="chat_action", action=action))
        return True

    async def _edit_message_text(self, params: _Params) -> JsonDict:
        message = self._message_to_edit(params)
        if message.text is None:
            raise _bad_request("there is no text in the message to edit")
        text = _format_text(params.text("text") or "", params.text("parse_mode"))
        _check_length(text, _MAX_TEXT, empty="message text is empty", long="message is too long")
        markup = _parse_reply_markup(self._markup_param(params), inline_only=True)
        parse_mode = params.text("parse_mode")
        edited = replace(message, text=text, parse_mode=parse_mode, reply_markup=markup)
        return self._commit_edit(message, edited)

    async def _edit_message_caption(self, params: _Params) -> JsonDict:
        message = self._message_to_edit(params)
        if message.file is None:
            raise _bad_request("there is no caption in the message to edit")
        caption = self._caption(params)
        markup = _parse_reply_markup(self._markup_param(params), inline_only=True)
        parse_mode = params.text("parse_mode")
        edited = replace(message, caption=caption, parse_mode=parse_mode, reply_markup=markup)
        return self._commit_edit(message, edited)

    async def _edit_message_reply_markup(self, params: _Params) -> JsonDict:
        message = self._message_to_edit(params)
        markup = _parse_reply_markup(self._markup_param(params), inline_only=True)
        return self._commit_edit(message, replace(message, reply_markup=markup))

    async def _delete_message(self, params: _Params) -> bool:
        chat = self._chat(params)
        message = chat.messages.get(self._message_id(params))
        if message is None:
            raise _bad_request("message to delete not found")
        if not message.from_bot and chat.type != "private":
            raise _bad_request("message can't be deleted")
        del chat.messages[message.message_id]
        self._events.add(_Event(chat_id=chat.id, type="delete", message_id=message.message_id))
        return True

    async def _answer_callback_query(self, params: _Params) -> bool:
        query = self._queries.get(params.text("callback_query_id") or "")
        if query is None or query.answered:
            raise _bad_request(_QUERY_TOO_OLD)
        text = params.text("text")
        if text is not None and utf16_len(text) > _MAX_CALLBACK_ANSWER:
            raise _bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        self._events.add(
            _Event(
                chat_id=query.chat_id,
                type="callback_answer",
                message_id=query.message_id,
                callback_text=text,
                show_alert=params.flag("show_alert"),
            )
        )
        return True

    # -- Bot API: shared checks -------------------------------------------------------------------

    def _chat(self, params: _Params) -> _Chat:
        raw = params.text("chat_id")
        if raw is None or not raw.strip():
            raise _bad_request("chat_id is empty")
        chat_id = int(raw) if re.fullmatch(r"-?\d+", raw.strip()) else None
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise _bad_request("chat not found")
        return chat

    def _writable_chat(self, params: _Params) -> _Chat:
        chat = self._chat(params)
        if chat.user is not None and chat.user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    @staticmethod
    def _message_id(params: _Params) -> int:
        message_id = params.integer("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        return message_id

    def _message_to_edit(self, params: _Params) -> _StoredMessage:
        if params.text("inline_message_id") is not None:
            raise _bad_request("inline messages are not emulated")
        chat = self._chat(params)
        message = chat.messages.get(self._message_id(params))
        if message is None:
            raise _bad_request("message to edit not found")
        if not message.from_bot:
            raise _bad_request("message can't be edited")
        return message

    @staticmethod
    def _markup_param(params: _Params) -> Any:
        return params.json("reply_markup", "can't parse reply keyboard markup JSON object")

    @staticmethod
    def _caption(params: _Params) -> ParsedText | None:
        caption = _format_text(params.text("caption") or "", params.text("parse_mode"))
        if utf16_len(caption.text) > _MAX_CAPTION:
            raise _bad_request("message caption is too long")
        return caption if caption.text else None

    def _input_file(self, params: _Params, kind: str) -> _StoredFile:
        given = params.upload(kind)
        if given is None or given == "":
            raise _bad_request(f"there is no {kind} in the request")
        if isinstance(given, _Upload):
            return self._store_upload(given, kind)
        if urlsplit(given).scheme in ("http", "https"):
            raise _bad_request("failed to get HTTP URL content")
        stored = self._files.get(given)
        if stored is None:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise _bad_request("type of file mismatch")
        return stored

    def _store_upload(self, upload: _Upload, kind: str) -> _StoredFile:
        if not upload.data:
            raise _bad_request("file must be non-empty")
        width = height = 0
        if kind == "photo":
            width, height = _check_photo(upload.data)
        elif kind == "animation":
            width, height = _check_animation(upload.data)
        elif len(upload.data) > _MAX_DOCUMENT_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        mime_type = upload.content_type
        if not mime_type or mime_type == "application/octet-stream":
            mime_type = mimetypes.guess_type(upload.file_name)[0] or "application/octet-stream"
        name = upload.file_name or kind
        return self._new_file(kind, upload.data, name, mime_type, width, height)

    def _new_file(
        self, kind: str, data: bytes, name: str, mime_type: str, width: int = 0, height: int = 0
    ) -> _StoredFile:
        file_id = f"{kind[:2].upper()}AC{secrets.token_urlsafe(24)}"
        stored = _StoredFile(
            kind, file_id, secrets.token_urlsafe(9), data, name, mime_type, width, height
        )
        self._files[file_id] = stored
        return stored

    def _throttle(self, chat: _Chat) -> None:
        """Refuse a message beyond Telegram's flood limits, when they are enforced."""
        if not self._enforce_rate_limits:
            return
        retry_after = self._rate_limiter.retry_after(chat.id)
        if retry_after is not None:
            self.too_many_requests_count += 1
            raise _too_many_requests(retry_after)
        self._rate_limiter.record(chat.id)

    def _post_bot_message(
        self,
        chat: _Chat,
        params: _Params,
        *,
        text: ParsedText | None = None,
        caption: ParsedText | None = None,
        file: _StoredFile | None = None,
        reply_markup: JsonDict | None = None,
    ) -> JsonDict:
        message = _StoredMessage(
            message_id=chat.next_message_id(),
            chat=chat,
            sender=self._bot_user(),
            from_bot=True,
            date=int(time.time()),
            text=text,
            caption=caption,
            parse_mode=params.text("parse_mode"),
            file=file,
            reply_markup=reply_markup,
        )
        chat.add(message)
        self._events.add(message.event("message"))
        return message.to_api()

    def _commit_edit(self, original: _StoredMessage, edited: _StoredMessage) -> JsonDict:
        """Replace the message by its edited copy; an edit that changes nothing is refused."""
        if _content(edited) == _content(original):
            raise _bad_request(_NOT_MODIFIED)
        self._throttle(original.chat)
        edited.edit_date = int(time.time())
        original.chat.add(edited)
        self._events.add(edited.event("edit"))
        return edited.to_api()

    def _membership_change(self, chat: _Chat, user: _User, blocked: bool) -> JsonDict:
        bot = self._bot_user()
        member: JsonDict = {"status": "member", "user": bot}
        kicked: JsonDict = {"status": "kicked", "user": bot, "until_date": 0}
        return {
            "chat": chat.to_api(),
            "from": user.to_api(),
            "date": int(time.time()),
            "old_chat_member": member if blocked else kicked,
            "new_chat_member": kicked if blocked else member,
        }

    # -- the users' side ----------------------------------------------------------------------------

    def open_private_chats(self, user_ids: Iterable[int]) -> None:
        """Users who started the bot before this emulator did (e.g. users already in a test
        database): their private chats exist, with no update queued."""
        for user_id in user_ids:
            user = self._users.setdefault(user_id, _User(user_id, "User"))
            self._chats.setdefault(user_id, _new_chat(user_id, "private", user))

    async def _open_chats(self, body: JsonDict) -> JsonDict:
        user_ids = body.get("user_ids")
        if not isinstance(user_ids, list) or not all(
            isinstance(u, int) and u > 0 for u in user_ids
        ):
            raise _SandboxError(400, "user_ids: a list of positive user ids")
        self.open_private_chats(user_ids)
        return {"opened": len(user_ids)}

    async def _stats(self, _query: JsonDict) -> JsonDict:
        per_chat = self.sent_messages_per_chat()
        return {"sent": sum(per_chat.values()), "chats": len(per_chat),
                "too_many_requests": self.too_many_requests_count}  # fmt: skip

    def sent_messages_per_chat(self) -> dict[int, int]:
        """How many messages the bot sent successfully into each chat."""
        counts: dict[int, int] = {}
        for request in self.requests:
            if request.ok and request.method in ("sendMessage", "sendPhoto", "sendDocument",
                                                 "sendAnimation"):  # fmt: skip
                chat_id = int(request.params["chat_id"])
                counts[chat_id] = counts.get(chat_id, 0) + 1
        return counts

    def sandbox_route(self, verb: str, action: str) -> _SandboxRoute | None:
        """The handler of ``<verb> /_sandbox/<action>``, JSON in and out.

        POST send, edit, press (``"forge": true`` is test-only), block, faults, chats;
        GET events (long poll), messages, requests, rejected, stats; files are served separately.
        """
        routes: dict[tuple[str, str], _SandboxRoute] = {
            ("POST", "send"): self._user_send,
            ("POST", "edit"): self._user_edit,
            ("POST", "press"): self._user_press,
            ("POST", "block"): self._user_block,
            ("POST", "faults"): self._add_fault,
            ("POST", "chats"): self._open_chats,
            ("GET", "stats"): self._stats,
            ("GET", "events"): self._bot_events,
            ("GET", "messages"): self._chat_messages,
            ("GET", "requests"): self._recorded_requests,
            ("GET", "rejected"): self._rejected_requests,
        }
        return routes.get((verb, action))

    def stored_file(self, file_id: str) -> _StoredFile | None:
        return self._files.get(file_id)

    async def _user_send(self, body: JsonDict) -> JsonDict:
        user = self._sandbox_user(body)
        chat = self._sandbox_chat(body, user)
        if user.blocked and chat.user is user:
            self.set_blocked(user.id, False)  # what the client's "Restart" button does
        kind = _optional(body, "kind", str) or "text"
        text = _optional(body, "text", str)
        message = _StoredMessage(
            message_id=chat.next_message_id(),
            chat=chat,
            sender=user.to_api(),
            from_bot=False,
            date=int(time.time()),
        )
        if kind == "text":
            if not text:
                raise _SandboxError(400, "a text message needs a non-empty text")
            message.text = _with_command_entity(text)
        elif kind in _USER_MEDIA_KINDS:
            message.file = self._user_media(kind)
            message.caption = ParsedText(text) if text else None
        else:
            raise _SandboxError(400, f"unknown kind {kind!r}")
        chat.add(message)
        update_id = self._updates.push("message", message.to_api())
        return {"update_id": update_id, "message_id": message.message_id}

    def _user_media(self, kind: str) -> _StoredFile:
        name, mime_type, data = _USER_MEDIA[kind]
        width_height = (1, 1) if kind == "photo" else (0, 0)
        return self._new_file(kind, data, name, mime_type, *width_height)

    async def _user_edit(self, body: JsonDict) -> JsonDict:
        user = self._sandbox_user(body)
        chat = self._sandbox_chat(body, user)
        message = _sandbox_message(chat, body)
        text = _required(body, "text", str)
        if message.from_bot or message.sender["id"] != user.id or message.text is None:
            raise _SandboxError(400, "users can only edit their own text messages")
        edited = replace(message, text=_with_command_entity(text), edit_date=int(time.time()))
        chat.add(edited)
        return {"update_id": self._updates.push("edited_message", edited.to_api())}

    async def _user_press(self, body: JsonDict) -> JsonDict:
        user = self._sandbox_user(body)
        chat = self._sandbox_chat(body, user)
        message = _sandbox_message(chat, body)
        data = _required(body, "callback_data", str)
        # Test-only "forge": deliver data the message has no button for, as a tampered client can.
        forged = _optional(body, "forge", bool) or False
        if not forged and data not in message.callback_data():
            offered = sorted(message.callback_data())
            raise _SandboxError(
                400,
                f"message {message.message_id} has no button with callback_data {data!r}; "
                f"it has {offered}",
            )
        query_id = str(next(self._query_ids))
        self._queries[query_id] = _CallbackQuery(chat.id, message.message_id)
        query = {
            "id": query_id,
            "from": user.to_api(),
            "message": message.to_api(),
            "chat_instance": chat.instance,
            "data": data,
        }
        update_id = self._updates.push("callback_query", query)
        return {"update_id": update_id, "callback_query_id": query_id}

    async def _user_block(self, body: JsonDict) -> JsonDict:
        blocked = _optional(body, "blocked", bool)
        self.set_blocked(_required(body, "user_id", int), True if blocked is None else blocked)
        return {}

    async def _add_fault(self, body: JsonDict) -> JsonDict:
        try:
            self.fail_next(
                _required(body, "method", str),
                error_code=_required(body, "error_code", int),
                description=_required(body, "description", str),
                retry_after=_optional(body, "retry_after", int),
                count=_optional(body, "count", int) or 1,
            )
        except ValueError as error:
            raise _SandboxError(400, str(error)) from None
        return {}

    async def _bot_events(self, query: JsonDict) -> JsonDict:
        chat_id = _query_number(query, "chat_id", int)
        after = _query_number(query, "after", int, default=0)
        timeout = _query_number(query, "timeout", float, default=0.0)
        events = self._events.since(chat_id, after)
        if not events and timeout > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    events = await self._events.wait_since(chat_id, after)
        last = events[-1].seq if events else after
        return {"events": [asdict(event) for event in events], "last": last}

    async def _chat_messages(self, query: JsonDict) -> list[JsonDict]:
        chat = self._chats.get(_query_number(query, "chat_id", int))
        messages = sorted(chat.messages.items()) if chat else []
        return [message.to_sandbox() for _, message in messages]

    async def _recorded_requests(self, query: JsonDict) -> list[JsonDict]:
        return [asdict(request) for request in self.requests]

    async def _rejected_requests(self, query: JsonDict) -> list[JsonDict]:
        return [asdict(request) for request in self.rejected()]

    def _sandbox_user(self, body: JsonDict) -> _User:
        user_id = _required(body, "user_id", int)
        if user_id <= 0:
            raise _SandboxError(400, "user ids are positive")
        user = self._users.setdefault(user_id, _User(user_id, "User"))
        user.first_name = _optional(body, "first_name", str) or user.first_name
        user.language_code = _optional(body, "language_code", str) or user.language_code
        return user

    def _sandbox_chat(self, body: JsonDict, user: _User) -> _Chat:
        """The chat the user acts in, created at first use like a chat opened in the client."""
        chat_id = _optional(body, "chat_id", int) or user.id
        chat_type = _optional(body, "chat_type", str)
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _new_chat(chat_id, chat_type, user)
        if chat_type is not None and chat_type != chat.type:
            raise _SandboxError(400, f"chat {chat_id} is a {chat.type} chat")
        if chat.type == "private" and chat.user is not user:
            raise _SandboxError(400, "a private chat with the bot has only its own user")
        return chat


def _new_chat(chat_id: int, chat_type: str | None, user: _User) -> _Chat:
    chat_type = chat_type or ("private" if chat_id == user.id else "group")
    if chat_type not in _CHAT_TYPES:
        raise _SandboxError(400, f"chat_type must be one of {sorted(_CHAT_TYPES)}")
    if chat_type == "private":
        if chat_id != user.id:
            raise _SandboxError(400, "a private chat's id is its user's id")
        return _Chat(chat_id, chat_type, user)
    if chat_id >= 0:
        raise _SandboxError(400, "group chat ids are negative on Telegram")
    return _Chat(chat_id, chat_type, None)


def _allowed_updates(params: _Params) -> list[str] | None:
    kinds = params.json("allowed_updates", "can't parse allowed_updates JSON array")
    if kinds is not None and not (
        isinstance(kinds, list) and all(isinstance(kind, str) for kind in kinds)
    ):
        raise _bad_request("can't parse allowed_updates JSON array")
    return kinds


def _content(message: _StoredMessage) -> tuple[object, ...]:
    """What an edit must change: Telegram compares text, entities and keyboard."""
    return message.text, message.caption, message.reply_markup


def _check_length(text: ParsedText, limit: int, *, empty: str, long: str) -> None:
    if not text.text:
        raise _bad_request(empty)
    if utf16_len(text.text) > limit:
        raise _bad_request(long)


def _parse_command(command: Any) -> JsonDict:
    if not isinstance(command, dict):
        raise _bad_request("can't parse BotCommand JSON object")
    name, description = command.get("command"), command.get("description")
    if not isinstance(name, str) or not _COMMAND_NAME.fullmatch(name):
        raise _bad_request("BOT_COMMAND_INVALID")
    if not isinstance(description, str) or not description.strip():
        raise _bad_request("command description must be non-empty")
    if len(description) > _MAX_COMMAND_DESCRIPTION:
        raise _bad_request("command description is too long")
    return {"command": name, "description": description}


def _sandbox_message(chat: _Chat, body: JsonDict) -> _StoredMessage:
    message_id = _required(body, "message_id", int)
    message = chat.messages.get(message_id)
    if message is None:
        raise _SandboxError(404, f"chat {chat.id} has no message {message_id}")
    return message


_T = TypeVar("_T")
_N = TypeVar("_N", int, float)


def _optional(body: JsonDict, name: str, kind: type[_T]) -> _T | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _SandboxError(400, f"{name} must be of type {kind.__name__}")
    return value


def _required(body: JsonDict, name: str, kind: type[_T]) -> _T:
    value = _optional(body, name, kind)
    if value is None:
        raise _SandboxError(400, f"{name} is required")
    return value


def _query_number(query: JsonDict, name: str, kind: type[_N], default: _N | None = None) -> _N:
    raw = query.get(name)
    if raw is None:
        if default is None:
            raise _SandboxError(400, f"query parameter {name} is required")
        return default
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise _SandboxError(400, f"query parameter {name} must be a number") from None


# -- HTTP -----------------------------------------------------------------------------------------


class _EmulatorHandler(tornado.web.RequestHandler):
    """Runs the answer as a task that ends when the client leaves.

    A long poll whose client has gone (PTB cancelling its getUpdates at shutdown, a test
    giving up) must stop waiting: it would otherwise take the next updates for nobody, or keep
    the server from closing.
    """

    def initialize(self, emulator: BotApiEmulator) -> None:
        self._emulator = emulator
        self._work: asyncio.Future[tuple[int, Any]] | None = None

    async def _answer(self, work: Awaitable[tuple[int, Any]]) -> None:
        self._work = asyncio.ensure_future(work)
        try:
            status, body = await self._work
        except asyncio.CancelledError:
            return  # nobody left to answer
        if status == DROP_CONNECTION:  # an injected fault: the line goes dead mid-request
            self.request.connection.close()  # type: ignore[union-attr]
            return
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, ensure_ascii=False))

    def on_connection_close(self) -> None:
        if self._work is not None:
            self._work.cancel()


class _BotApiHandler(_EmulatorHandler):
    """``/bot<token>/<method>``: Telegram's envelope, with Telegram's HTTP status."""

    async def get(self, token: str, method: str) -> None:
        await self._answer(self._emulator.call_api(token, method, self.request))

    async def post(self, token: str, method: str) -> None:
        await self._answer(self._emulator.call_api(token, method, self.request))


class _SandboxHandler(_EmulatorHandler):
    """``/_sandbox/<action>``: JSON in (the body of a POST, the query of a GET), JSON out."""

    async def get(self, action: str) -> None:
        query = {name: values[-1].decode() for name, values in self.request.query_arguments.items()}
        await self._answer(self._sandbox("GET", action, query))

    async def post(self, action: str) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = None
        await self._answer(self._sandbox("POST", action, body))

    async def _sandbox(self, verb: str, action: str, arguments: Any) -> tuple[int, Any]:
        route = self._emulator.sandbox_route(verb, action)
        if route is None:
            return 404, {"error": f"no {verb} /_sandbox/{action}"}
        if not isinstance(arguments, dict):
            return 400, {"error": "the body must be a JSON object"}
        try:
            return 200, await route(arguments)
        except _SandboxError as error:
            return error.status, {"error": str(error)}


class _SandboxFileHandler(_EmulatorHandler):
    """``/_sandbox/files/<file_id>``: the bytes of a file the bot or a user sent."""

    async def get(self, file_id: str) -> None:
        stored = self._emulator.stored_file(file_id)
        if stored is None:
            self.set_status(404)
            self.finish({"error": f"no file {file_id}"})
            return
        self.set_header("Content-Type", stored.mime_type)
        self.finish(stored.data)


# -- command line ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run a standalone emulator until SIGINT or SIGTERM, printing its URL on one line."""
    parser = argparse.ArgumentParser(
        prog="python -m coachbot.sandbox", description="Serve the Telegram Bot API emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", help="accept only this token (default: any well-formed one)")
    parser.add_argument("--bot-username", default="coachbot_sandbox_bot")
    parser.add_argument("--enforce-rate-limits", action="store_true")
    args = parser.parse_args(argv)
    emulator = BotApiEmulator(
        token=args.token,
        host=args.host,
        port=args.port,
        bot_username=args.bot_username,
        enforce_rate_limits=args.enforce_rate_limits,
    )
    asyncio.run(_serve_until_signalled(emulator))
    return 0


async def _serve_until_signalled(emulator: BotApiEmulator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await emulator.start()
    print(emulator.url, flush=True)
    try:
        await stop.wait()
    finally:
        await emulator.stop()
