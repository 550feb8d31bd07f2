"""Bot API request parameters and Telegram's rules for them, for the Bot API emulator.

Parameters may come as a query string, ``application/x-www-form-urlencoded`` (objects
JSON-encoded into strings, as PTB sends them), ``multipart/form-data`` (uploads) or a JSON
body; :class:`Params` reads them all alike. The rest of this module is what Telegram checks
before it acts: text and caption limits (after parsing, in UTF-16 code units), the HTML parse
mode (:mod:`coachbot.sandbox._html`), inline keyboards and callback data, bot commands, and the
photos and animations it can process. A refusal is an :class:`ApiError` with Telegram's status
and description.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tornado.httputil import HTTPServerRequest

from coachbot.sandbox._html import EntityParseError, ParsedText, parse_html_entities, utf16_len

__all__ = [
    "MAX_CALLBACK_ANSWER",
    "MAX_CAPTION",
    "MAX_COMMANDS",
    "MAX_DOCUMENT_BYTES",
    "MAX_TEXT",
    "ApiError",
    "JsonDict",
    "Params",
    "Upload",
    "allowed_updates",
    "bad_request",
    "check_animation",
    "check_length",
    "check_photo",
    "format_text",
    "image_size",
    "make_png",
    "parse_command",
    "parse_reply_markup",
    "too_many_requests",
    "with_command_entity",
]

JsonDict = dict[str, Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_ANIMATION_BYTES = 50 * 1024 * 1024  # sendAnimation: at most 50 MB
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER = 200
MAX_INLINE_BUTTONS = 100
MAX_INLINE_ROW = 8
MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION = 256
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_PHOTO_SIDES = 10_000
MAX_PHOTO_RATIO = 20

_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_LEADING_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_])")

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


# -- errors ---------------------------------------------------------------------------------------


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


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


# -- request parameters ---------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    file_name: str
    content_type: str
    data: bytes


class Params:
    """Bot API parameters, converted on read the way Telegram converts them.

    PTB sends every value as a string (objects JSON-encoded), JSON bodies carry native values;
    Telegram accepts both, so the getters accept both.
    """

    def __init__(self, values: Mapping[str, Any], uploads: Mapping[str, Upload]) -> None:
        self._values = dict(values)
        self._uploads = dict(uploads)

    @classmethod
    def from_request(cls, request: HTTPServerRequest) -> Params:
        values: dict[str, Any] = _decode_arguments(request.query_arguments)
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type == "application/json" and request.body:
            values.update(_decode_json_body(request.body))
        else:
            values.update(_decode_arguments(request.body_arguments))
        uploads = {
            name: Upload(part.filename, part.content_type, part.body)
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
        raise bad_request(f'parameter "{name}" must be a string')

    def integer(self, name: str) -> int | None:
        value = self._values.get(name)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise bad_request(f"invalid {name} specified")

    def number(self, name: str) -> float | None:
        value = self._values.get(name)
        if value is None:
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

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
            raise bad_request(error) from None

    def upload(self, name: str) -> Upload | str | None:
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
        raise bad_request("strings must be encoded in UTF-8") from None


def _decode_json_body(body: bytes) -> JsonDict:
    try:
        decoded = json.loads(body)
    except ValueError:
        raise bad_request("can't parse JSON object") from None
    if not isinstance(decoded, dict):
        raise bad_request("can't parse JSON object")
    return decoded


def allowed_updates(params: Params) -> list[str] | None:
    kinds = params.json("allowed_updates", "can't parse allowed_updates JSON array")
    if kinds is not None and not (
        isinstance(kinds, list) and all(isinstance(kind, str) for kind in kinds)
    ):
        raise bad_request("can't parse allowed_updates JSON array")
    return kinds


# -- files ----------------------------------------------------------------------------------------


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


def image_size(data: bytes) -> tuple[int, int] | None:
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


def check_animation(data: bytes) -> tuple[int, int]:
    """An animation Telegram plays inline: a GIF (or an MP4, not checked further) within the
    size limit; the GIF's width and height."""
    if len(data) > MAX_ANIMATION_BYTES:
        raise ApiError(413, "Request Entity Too Large")
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data[4:8] == b"ftyp":
        return 0, 0
    raise bad_request("wrong type of the web page content")


def check_photo(data: bytes) -> tuple[int, int]:
    if len(data) > MAX_PHOTO_BYTES:
        raise bad_request("file is too big")
    size = image_size(data)
    if size is None:
        raise bad_request("IMAGE_PROCESS_FAILED")
    width, height = size
    sides_ok = width > 0 and height > 0 and width + height <= MAX_PHOTO_SIDES
    if not sides_ok or max(width, height) > MAX_PHOTO_RATIO * min(width, height):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    return width, height


# -- text and markup ------------------------------------------------------------------------------


def format_text(source: str, parse_mode: str | None) -> ParsedText:
    """Apply the parse mode, then trim whitespace the way Telegram does."""
    if not parse_mode:
        parsed = ParsedText(source)
    elif parse_mode.lower() == "html":
        try:
            parsed = parse_html_entities(source)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error.detail}") from None
    else:
        raise bad_request("unsupported parse_mode")
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


def check_length(text: ParsedText, limit: int, *, empty: str, long: str) -> None:
    if not text.text:
        raise bad_request(empty)
    if utf16_len(text.text) > limit:
        raise bad_request(long)


def with_command_entity(text: str) -> ParsedText:
    """A user's text, with the bot_command entity Telegram adds to a leading ``/command``."""
    match = _LEADING_COMMAND.match(text)
    if match is None:
        return ParsedText(text)
    entity = {"offset": 0, "length": utf16_len(match.group()), "type": "bot_command"}
    return ParsedText(text, (entity,))


def parse_reply_markup(raw: Any, *, inline_only: bool = False) -> JsonDict | None:
    """Validate reply_markup; return what a message keeps of it (only inline keyboards)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        return {"inline_keyboard": _parse_inline_keyboard(raw["inline_keyboard"])}
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in raw:
        _check_reply_keyboard(raw["keyboard"])
    elif raw.get("remove_keyboard") is not True and raw.get("force_reply") is not True:
        raise bad_request("can't parse reply keyboard markup JSON object")
    return None


def _parse_inline_keyboard(rows: Any) -> list[list[JsonDict]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS or any(
        len(row) > MAX_INLINE_ROW for row in rows
    ):
        raise bad_request("REPLY_MARKUP_TOO_LONG")
    return [[_parse_inline_button(button) for button in row] for row in rows if row]


def _parse_inline_button(button: Any) -> JsonDict:
    def invalid(detail: str) -> ApiError:
        return bad_request(f"can't parse inline keyboard button: {detail}")

    if not isinstance(button, dict):
        raise invalid("InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise invalid('Field "text" must be of type String')
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = _INLINE_BUTTON_ACTIONS & button.keys()
    if not actions:
        raise invalid("Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise invalid("exactly one of the optional fields must be used")
    if "callback_data" in button:
        _check_callback_data(button["callback_data"])
    if "url" in button and not _is_button_url(button["url"]):
        raise bad_request("BUTTON_URL_INVALID")
    return button


def _check_callback_data(data: Any) -> None:
    if not isinstance(data, str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "callback_data" must be of type String'
        )
    if not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
        raise bad_request("BUTTON_DATA_INVALID")


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
        raise bad_request("can't parse reply keyboard markup JSON object")


def parse_command(command: Any) -> JsonDict:
    """One BotCommand of setMyCommands, as Telegram keeps it."""
    if not isinstance(command, dict):
        raise bad_request("can't parse BotCommand JSON object")
    name, description = command.get("command"), command.get("description")
    if not isinstance(name, str) or not _COMMAND_NAME.fullmatch(name):
        raise bad_request("BOT_COMMAND_INVALID")
    if not isinstance(description, str) or not description.strip():
        raise bad_request("command description must be non-empty")
    if len(description) > MAX_COMMAND_DESCRIPTION:
        raise bad_request("command description is too long")
    return {"command": name, "description": description}
