"""The users' side of the emulator: ``/_sandbox/...``, JSON in and out, and the web page.

What a Telegram client would let its users do (send and edit messages, press buttons, block the
bot), plus what tests need to watch the bot and to steer the emulator:

* POST ``send``, ``edit``, ``press`` (``"forge": true`` is test-only), ``block``, ``faults``,
  ``chats``;
* GET ``events`` (a long poll), ``messages``, ``commands`` (the bot's menu), ``requests``,
  ``rejected``, ``stats``;
* GET ``files/<file_id>``: the bytes of a file (``?download=1`` to save it);
* POST ``control/<action>``: the bot-side controls of a sandbox (:class:`SandboxControls`),
  when one is attached.

:mod:`coachbot.testing` is the client of these routes in tests, and the page in ``web/``
(``GET /``, its files at ``GET /web/<name>``) is the client in a browser; the routes themselves
are wired in :mod:`coachbot.sandbox.server`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

from coachbot.sandbox._html import ParsedText
from coachbot.sandbox.bot_api import BotApi
from coachbot.sandbox.params import JsonDict, make_png, with_command_entity
from coachbot.sandbox.world import (
    DEFAULT_SCOPE,
    Chat,
    StoredFile,
    StoredMessage,
    User,
    World,
    commands_key,
)

__all__ = ["NO_CONTROLS", "WEB_ROOT", "SandboxControls", "SandboxError", "UserSide"]

WEB_ROOT = Path(__file__).with_name("web")  # the page's files, shipped in the package
_WEB_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")  # a plain name: no folders, no dotfiles
_WEB_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
NO_CONTROLS = "time travel and the inspector exist only in `coachbot demo`"

_CHAT_TYPES = frozenset({"private", "group", "supergroup"})
_USER_MEDIA_KINDS = frozenset({"sticker", "photo", "document", "voice"})
_USER_MEDIA: dict[str, tuple[str, str, bytes]] = {
    "photo": ("photo.png", "image/png", make_png(1, 1)),
    "document": ("document.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n"),
    "sticker": ("sticker.webp", "image/webp", b"RIFF\x04\x00\x00\x00WEBP"),
    "voice": ("voice.ogg", "audio/ogg", b"OggS"),
}

_SandboxRoute = Callable[[JsonDict], Awaitable[Any]]


class SandboxError(Exception):
    """A user-side request the emulated Telegram client could not have made."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SandboxControls(Protocol):
    """Bot-side controls of a sandbox (time travel, the inspector), reached by the web page at
    ``POST /_sandbox/control/<action>`` with a JSON object.

    ``control`` returns the JSON answer; it raises :class:`LookupError` for an unknown action
    or thing (404) and :class:`ValueError` for a bad request (400), their message the error.
    """

    async def control(self, action: str, body: dict[str, Any]) -> dict[str, Any]: ...


class UserSide:
    """The users of ``world``, and the test's view of what ``bot_api`` was asked.

    ``controls`` may be attached at any time; ``web_root`` is the page's folder (the package's
    ``web/`` unless given).
    """

    def __init__(
        self,
        world: World,
        bot_api: BotApi,
        *,
        controls: SandboxControls | None = None,
        web_root: Path | None = None,
    ) -> None:
        self._world = world
        self._bot_api = bot_api
        self.controls = controls
        self.web_root = web_root if web_root is not None else WEB_ROOT
        self._routes: dict[tuple[str, str], _SandboxRoute] = {
            ("POST", "send"): self._user_send,
            ("POST", "edit"): self._user_edit,
            ("POST", "press"): self._user_press,
            ("POST", "block"): self._user_block,
            ("POST", "faults"): self._add_fault,
            ("POST", "chats"): self._open_chats,
            ("GET", "stats"): self._stats,
            ("GET", "events"): self._bot_events,
            ("GET", "messages"): self._chat_messages,
            ("GET", "commands"): self._bot_commands,
            ("GET", "requests"): self._recorded_requests,
            ("GET", "rejected"): self._rejected_requests,
        }

    async def answer(self, verb: str, action: str, arguments: Any) -> tuple[int, Any]:
        """``<verb> /_sandbox/<action>`` with the POST body or the GET query: (status, JSON)."""
        route = self._routes.get((verb, action))
        if route is None:
            return 404, {"error": f"no {verb} /_sandbox/{action}"}
        if not isinstance(arguments, dict):
            return 400, {"error": "the body must be a JSON object"}
        try:
            return 200, await route(arguments)
        except SandboxError as error:
            return error.status, {"error": str(error)}

    async def control(self, action: str, body: Any) -> tuple[int, Any]:
        """``POST /_sandbox/control/<action>``: (status, JSON) from the attached controls."""
        if self.controls is None:
            return 404, {"error": NO_CONTROLS}
        if not isinstance(body, dict):
            return 400, {"error": "the body must be a JSON object"}
        try:
            return 200, await self.controls.control(action, body)
        except LookupError as error:
            return 404, {"error": str(error)}
        except ValueError as error:
            return 400, {"error": str(error)}

    def stored_file(self, file_id: str) -> StoredFile | None:
        return self._world.files.get(file_id)

    def web_file(self, name: str) -> tuple[bytes, str] | None:
        """A file of the web page and its content type, or None: only plain names of the
        page's own kinds of file are served, never a path."""
        content_type = _WEB_TYPES.get(Path(name).suffix.lower())
        if content_type is None or not _WEB_NAME.fullmatch(name):
            return None
        try:
            return (self.web_root / name).read_bytes(), content_type
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    # -- what users do ----------------------------------------------------------------------

    async def _user_send(self, body: JsonDict) -> JsonDict:
        user = self._sandbox_user(body)
        chat = self._sandbox_chat(body, user)
        if user.blocked and chat.user is user:
            self._world.set_blocked(user.id, False)  # what the client's "Restart" button does
        kind = _optional(body, "kind", str) or "text"
        text = _optional(body, "text", str)
        message = StoredMessage(
            message_id=chat.next_message_id(),
            chat=chat,
            sender=user.to_api(),
            from_bot=False,
            date=int(time.time()),
        )
        if kind == "text":
            if not text:
                raise SandboxError(400, "a text message needs a non-empty text")
            message.text = with_command_entity(text)
        elif kind in _USER_MEDIA_KINDS:
            message.file = self._user_media(kind)
            message.caption = ParsedText(text) if text else None
        else:
            raise SandboxError(400, f"unknown kind {kind!r}")
        chat.add(message)
        update_id = self._world.updates.push("message", message.to_api())
        return {"update_id": update_id, "message_id": message.message_id}

    def _user_media(self, kind: str) -> StoredFile:
        name, mime_type, data = _USER_MEDIA[kind]
        width_height = (1, 1) if kind == "photo" else (0, 0)
        return self._world.store_file(kind, data, name, mime_type, *width_height)

    async def _user_edit(self, body: JsonDict) -> JsonDict:
        user = self._sandbox_user(body)
        chat = self._sandbox_chat(body, user)
        message = _sandbox_message(chat, body)
        text = _required(body, "text", str)
        if message.from_bot or message.sender["id"] != user.id or message.text is None:
            raise SandboxError(400, "users can only edit their own text messages")
        edited = replace(message, text=with_command_entity(text), edit_date=int(time.time()))
        chat.add(edited)
        return {"update_id": self._world.updates.push("edited_message", edited.to_api())}

    async def _user_press(self, body: JsonDict) -> JsonDict:
        user = self._sandbox_user(body)
        chat = self._sandbox_chat(body, user)
        message = _sandbox_message(chat, body)
        data = _required(body, "callback_data", str)
        # Test-only "forge": deliver data the message has no button for, as a tampered client can.
        forged = _optional(body, "forge", bool) or False
        if not forged and data not in message.callback_data():
            offered = sorted(message.callback_data())
            raise SandboxError(
                400,
                f"message {message.message_id} has no button with callback_data {data!r}; "
                f"it has {offered}",
            )
        query_id = self._world.open_query(chat.id, message.message_id)
        query = {
            "id": query_id,
            "from": user.to_api(),
            "message": message.to_api(),
            "chat_instance": chat.instance,
            "data": data,
        }
        update_id = self._world.updates.push("callback_query", query)
        return {"update_id": update_id, "callback_query_id": query_id}

    async def _user_block(self, body: JsonDict) -> JsonDict:
        blocked = _optional(body, "blocked", bool)
        user_id = _required(body, "user_id", int)
        self._world.set_blocked(user_id, True if blocked is None else blocked)
        return {}

    def _sandbox_user(self, body: JsonDict) -> User:
        user_id = _required(body, "user_id", int)
        if user_id <= 0:
            raise SandboxError(400, "user ids are positive")
        user = self._world.user(user_id)
        user.first_name = _optional(body, "first_name", str) or user.first_name
        user.language_code = _optional(body, "language_code", str) or user.language_code
        return user

    def _sandbox_chat(self, body: JsonDict, user: User) -> Chat:
        """The chat the user acts in, created at first use like a chat opened in the client."""
        chat_id = _optional(body, "chat_id", int) or user.id
        chat_type = _optional(body, "chat_type", str)
        chat = self._world.chats.get(chat_id)
        if chat is None:
            chat = self._world.chats[chat_id] = _new_chat(chat_id, chat_type, user)
        if chat_type is not None and chat_type != chat.type:
            raise SandboxError(400, f"chat {chat_id} is a {chat.type} chat")
        if chat.type == "private" and chat.user is not user:
            raise SandboxError(400, "a private chat with the bot has only its own user")
        return chat

    # -- what tests watch and steer -----------------------------------------------------------

    async def _add_fault(self, body: JsonDict) -> JsonDict:
        try:
            self._bot_api.fail_next(
                _required(body, "method", str),
                error_code=_required(body, "error_code", int),
                description=_required(body, "description", str),
                retry_after=_optional(body, "retry_after", int),
                count=_optional(body, "count", int) or 1,
            )
        except ValueError as error:
            raise SandboxError(400, str(error)) from None
        return {}

    async def _open_chats(self, body: JsonDict) -> JsonDict:
        user_ids = body.get("user_ids")
        if not isinstance(user_ids, list) or not all(
            isinstance(u, int) and u > 0 for u in user_ids
        ):
            raise SandboxError(400, "user_ids: a list of positive user ids")
        self._world.open_private_chats(user_ids)
        return {"opened": len(user_ids)}

    async def _stats(self, _query: JsonDict) -> JsonDict:
        per_chat = self._bot_api.sent_messages_per_chat()
        return {"sent": sum(per_chat.values()), "chats": len(per_chat),
                "too_many_requests": self._bot_api.too_many_requests_count}  # fmt: skip

    async def _bot_events(self, query: JsonDict) -> JsonDict:
        chat_id = _query_number(query, "chat_id", int)
        after = _query_number(query, "after", int, default=0)
        timeout = _query_number(query, "timeout", float, default=0.0)
        events = self._world.events.since(chat_id, after)
        if not events and timeout > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    events = await self._world.events.wait_since(chat_id, after)
        last = events[-1].seq if events else after
        return {"events": [asdict(event) for event in events], "last": last}

    async def _chat_messages(self, query: JsonDict) -> list[JsonDict]:
        chat = self._world.chats.get(_query_number(query, "chat_id", int))
        messages = sorted(chat.messages.items()) if chat else []
        return [message.to_sandbox() for _, message in messages]

    async def _bot_commands(self, query: JsonDict) -> list[JsonDict]:
        """The bot's command menu (setMyCommands, default scope) in the user's language, if
        the bot set one for it (``language_code``), else the menu for all languages."""
        menus = self._world.commands
        language = query.get("language_code") or ""
        for key in (commands_key(DEFAULT_SCOPE, language), commands_key(DEFAULT_SCOPE, "")):
            if key in menus:
                return menus[key]
        return []

    async def _recorded_requests(self, query: JsonDict) -> list[JsonDict]:
        return [asdict(request) for request in self._bot_api.requests]

    async def _rejected_requests(self, query: JsonDict) -> list[JsonDict]:
        return [asdict(request) for request in self._bot_api.rejected()]


def _new_chat(chat_id: int, chat_type: str | None, user: User) -> Chat:
    chat_type = chat_type or ("private" if chat_id == user.id else "group")
    if chat_type not in _CHAT_TYPES:
        raise SandboxError(400, f"chat_type must be one of {sorted(_CHAT_TYPES)}")
    if chat_type == "private":
        if chat_id != user.id:
            raise SandboxError(400, "a private chat's id is its user's id")
        return Chat(chat_id, chat_type, user)
    if chat_id >= 0:
        raise SandboxError(400, "group chat ids are negative on Telegram")
    return Chat(chat_id, chat_type, None)


def _sandbox_message(chat: Chat, body: JsonDict) -> StoredMessage:
    message_id = _required(body, "message_id", int)
    message = chat.messages.get(message_id)
    if message is None:
        raise SandboxError(404, f"chat {chat.id} has no message {message_id}")
    return message


_T = TypeVar("_T")
_N = TypeVar("_N", int, float)


def _optional(body: JsonDict, name: str, kind: type[_T]) -> _T | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SandboxError(400, f"{name} must be of type {kind.__name__}")
    return value


def _required(body: JsonDict, name: str, kind: type[_T]) -> _T:
    value = _optional(body, name, kind)
    if value is None:
        raise SandboxError(400, f"{name} is required")
    return value


def _query_number(query: JsonDict, name: str, kind: type[_N], default: _N | None = None) -> _N:
    raw = query.get(name)
    if raw is None:
        if default is None:
            raise SandboxError(400, f"query parameter {name} is required")
        return default
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise SandboxError(400, f"query parameter {name} must be a number") from None
