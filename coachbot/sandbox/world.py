"""The emulated Telegram's state: users, chats, their messages and files, and what flows out of it.

:class:`World` is shared by the two faces of the emulator: the Bot API methods
(:mod:`coachbot.sandbox.bot_api`) and the users' side (:mod:`coachbot.sandbox.user_side`).
What users do reaches the bot as updates in the :class:`UpdateQueue`; what the bot does reaches
users as events in the :class:`EventLog`. Everything runs on one event loop, so no locks.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace

from coachbot.sandbox._html import ParsedText
from coachbot.sandbox.params import JsonDict

__all__ = [
    "DEFAULT_SCOPE",
    "CallbackQuery",
    "Chat",
    "Event",
    "EventLog",
    "RateLimiter",
    "Signal",
    "StoredFile",
    "StoredMessage",
    "UpdateQueue",
    "User",
    "World",
    "commands_key",
]

RATE_WINDOW_SECONDS = 1.0
RATE_LIMIT_OVERALL = 30
RATE_LIMIT_PER_CHAT = 1

# Update types a bot receives only when it lists them in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

DEFAULT_SCOPE: JsonDict = {"type": "default"}


@dataclass
class User:
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
class StoredFile:
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
class Chat:
    id: int
    type: str
    user: User | None  # the other party of a private chat
    instance: str = field(default_factory=lambda: str(secrets.randbits(63)))
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    last_message_id: int = 0

    def to_api(self) -> JsonDict:
        if self.user is not None:
            return {"id": self.id, "type": self.type, "first_name": self.user.first_name}
        return {"id": self.id, "type": self.type, "title": f"Sandbox group {self.id}"}

    def add(self, message: StoredMessage) -> None:
        self.messages[message.message_id] = message

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id


@dataclass(frozen=True)
class Event:
    """Something the bot did in a chat, as the user side sees it.

    ``entities`` and ``caption_entities`` are the MessageEntity objects of ``text`` and
    ``caption`` (offsets in UTF-16 code units, as in the Bot API), empty when there are none.
    """

    chat_id: int
    type: str  # "message" | "edit" | "delete" | "callback_answer" | "chat_action"
    seq: int = 0
    message_id: int | None = None
    text: str | None = None
    entities: list[JsonDict] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JsonDict] = field(default_factory=list)
    parse_mode: str | None = None
    buttons: list[list[JsonDict]] = field(default_factory=list)
    photo: JsonDict | None = None
    document: JsonDict | None = None
    animation: JsonDict | None = None
    callback_text: str | None = None
    show_alert: bool | None = None
    action: str | None = None


@dataclass
class StoredMessage:
    message_id: int
    chat: Chat
    sender: JsonDict  # the API User object of the author
    from_bot: bool
    date: int
    text: ParsedText | None = None
    caption: ParsedText | None = None
    parse_mode: str | None = None
    file: StoredFile | None = None
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

    def event(self, event_type: str) -> Event:
        return Event(
            chat_id=self.chat.id,
            type=event_type,
            message_id=self.message_id,
            text=self.text.text if self.text is not None else None,
            entities=_entities(self.text),
            caption=self.caption.text if self.caption is not None else None,
            caption_entities=_entities(self.caption),
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

    def content(self) -> tuple[object, ...]:
        """What an edit must change: Telegram compares text, entities and keyboard."""
        return self.text, self.caption, self.reply_markup


def _text_fields(text_key: str, entities_key: str, parsed: ParsedText) -> JsonDict:
    fields: JsonDict = {text_key: parsed.text}
    if parsed.entities:
        fields[entities_key] = _entities(parsed)
    return fields


def _entities(parsed: ParsedText | None) -> list[JsonDict]:
    return [dict(entity) for entity in parsed.entities] if parsed is not None else []


def _button_view(button: JsonDict) -> JsonDict:
    view = {"text": button["text"]}
    view.update({key: button[key] for key in ("callback_data", "url") if key in button})
    return view


@dataclass
class CallbackQuery:
    chat_id: int
    message_id: int
    answered: bool = False


class Signal:
    """Wakes every current waiter at the next ``notify()``: event-driven long polls."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self) -> None:
        await self._event.wait()


class UpdateQueue:
    """A bot's pending updates: kept until confirmed by an offset or a webhook delivery."""

    def __init__(self) -> None:
        self._pending: list[JsonDict] = []
        self._update_ids = itertools.count(1)
        self._allowed: frozenset[str] | None = None  # None: Telegram's default selection
        self.changed = Signal()

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


class EventLog:
    """What the bot did, in order, with a global sequence number the user side polls on."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._changed = Signal()

    def add(self, event: Event) -> None:
        self._events.append(replace(event, seq=len(self._events) + 1))
        self._changed.notify()

    def since(self, chat_id: int, after: int) -> list[Event]:
        return [e for e in self._events[after:] if e.chat_id == chat_id]

    async def wait_since(self, chat_id: int, after: int) -> list[Event]:
        """The chat's events after ``after``, waiting for the first one if there is none."""
        while not (events := self.since(chat_id, after)):
            await self._changed.wait()
        return events


class RateLimiter:
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
            window[0] + RATE_WINDOW_SECONDS - now
            for window, limit in ((overall, RATE_LIMIT_OVERALL), (in_chat, RATE_LIMIT_PER_CHAT))
            if len(window) >= limit
        ]
        return max(1, math.ceil(max(waits))) if waits else None

    def record(self, chat_id: int) -> None:
        now = self._clock()
        self._overall.append(now)
        self._per_chat.setdefault(chat_id, deque()).append(now)

    @staticmethod
    def _window(times: deque[float], now: float) -> deque[float]:
        while times and times[0] <= now - RATE_WINDOW_SECONDS:
            times.popleft()
        return times


def commands_key(scope: JsonDict, language: str) -> str:
    """Commands are kept per scope and language, as on Telegram."""
    return json.dumps([scope, language], sort_keys=True)


class World:
    """The bot, its users and chats, and the two queues between them."""

    def __init__(self, *, bot_id: int, bot_username: str) -> None:
        self.bot_id = bot_id  # the token's, once the bot has called
        self.bot_username = bot_username
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.queries: dict[str, CallbackQuery] = {}
        self._query_ids = itertools.count(1)
        self.commands: dict[str, list[JsonDict]] = {}  # by commands_key(scope, language)
        self.updates = UpdateQueue()  # to the bot
        self.events = EventLog()  # to the users

    def bot_user(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Coachbot Sandbox",
            "username": self.bot_username,
        }

    def user(self, user_id: int) -> User:
        """The user with this id, known from now on if not before."""
        return self.users.setdefault(user_id, User(user_id, "User"))

    def store_file(
        self, kind: str, data: bytes, name: str, mime_type: str, width: int = 0, height: int = 0
    ) -> StoredFile:
        """Keep a file under a new file_id, as Telegram does with every upload."""
        file_id = f"{kind[:2].upper()}AC{secrets.token_urlsafe(24)}"
        stored = StoredFile(
            kind, file_id, secrets.token_urlsafe(9), data, name, mime_type, width, height
        )
        self.files[file_id] = stored
        return stored

    def open_query(self, chat_id: int, message_id: int) -> str:
        """A callback query from a button of this message; its id for answerCallbackQuery."""
        query_id = str(next(self._query_ids))
        self.queries[query_id] = CallbackQuery(chat_id, message_id)
        return query_id

    def open_private_chats(self, user_ids: Iterable[int]) -> None:
        """Users who started the bot before this emulator did: their private chats exist,
        with no update queued."""
        for user_id in user_ids:
            user = self.user(user_id)
            self.chats.setdefault(user_id, Chat(user_id, "private", user))

    def set_blocked(self, user_id: int, blocked: bool) -> None:
        """Block or unblock the bot for a user; the bot gets a my_chat_member update."""
        user = self.user(user_id)
        if user.blocked == blocked:
            return
        user.blocked = blocked
        chat = self.chats.get(user_id)
        if chat is not None:
            self.updates.push("my_chat_member", self._membership_change(chat, user, blocked))

    def _membership_change(self, chat: Chat, user: User, blocked: bool) -> JsonDict:
        bot = self.bot_user()
        member: JsonDict = {"status": "member", "user": bot}
        kicked: JsonDict = {"status": "kicked", "user": bot, "until_date": 0}
        return {
            "chat": chat.to_api(),
            "from": user.to_api(),
            "date": int(time.time()),
            "old_chat_member": member if blocked else kicked,
            "new_chat_member": kicked if blocked else member,
        }
