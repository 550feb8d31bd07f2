"""Telegram users for tests and the terminal demo, acting through the Bot API emulator.

The bot under test runs unmodified against :class:`coachbot.sandbox.emulator.BotApiEmulator`;
this module is the other end of the chat. An :class:`EmulatorClient` talks to the emulator's
``/_sandbox/`` HTTP API, and each :class:`SandboxUser` sends messages, presses buttons and waits
for the bot's replies the way a person in a Telegram client would, so a test reads like a chat::

    async with EmulatorClient(emulator.url) as client:
        sam = client.user(1001)
        await sam.send("/start")
        await sam.wait_for("Welcome")
        await sam.press("Start the plan")

Waiting is event-driven (the emulator long-polls), never a sleep, and every failure is an
``AssertionError`` that says what the user actually saw.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import insert, select

from coachbot.content import default_content
from coachbot.domain.course import begin
from coachbot.domain.schedule import first_prompt_at
from coachbot.domain.triage import IntakeFacts
from coachbot.services.course import catalogue_of
from coachbot.storage.db import Database
from coachbot.storage.models import Escalation as EscalationRow
from coachbot.storage.models import RedFlagAnswer, User

__all__ = ["BotEvent", "Button", "EmulatorClient", "FileInfo", "SandboxUser"]

_SLACK_SECONDS = 5.0  # HTTP timeout beyond the emulator's own long-poll time


@dataclass(frozen=True)
class Button:
    """An inline keyboard button as a user sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class FileInfo:
    """A photo, document or animation the bot sent; the bytes are at ``EmulatorClient.file(file_id)``."""

    file_id: str
    file_name: str
    size: int
    mime_type: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class BotEvent:
    """Something the bot did in a chat.

    ``type`` is "message", "edit", "delete", "callback_answer" or "chat_action". ``text`` is
    what the user reads: the message text or caption, or the callback answer's notification.
    """

    seq: int
    type: str
    message_id: int | None
    text: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    parse_mode: str | None = None
    photo: FileInfo | None = None
    document: FileInfo | None = None
    animation: FileInfo | None = None
    action: str | None = None
    show_alert: bool | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BotEvent:
        return cls(
            seq=data["seq"],
            type=data["type"],
            message_id=data["message_id"],
            text=data["text"] or data["caption"] or data["callback_text"] or "",
            buttons=_buttons(data["buttons"]),
            parse_mode=data["parse_mode"],
            photo=FileInfo(**data["photo"]) if data["photo"] else None,
            document=FileInfo(**data["document"]) if data["document"] else None,
            animation=FileInfo(**data["animation"]) if data.get("animation") else None,
            action=data["action"],
            show_alert=data["show_alert"],
        )

    @property
    def labels(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]

    def button(self, label: str) -> Button:
        """The button with exactly this label."""
        for row in self.buttons:
            for button in row:
                if button.text == label:
                    return button
        raise AssertionError(f"no button {label!r} on message {self.message_id}: {self.labels}")


def _buttons(rows: list[list[dict[str, str]]]) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(Button(**button) for button in row) for row in rows)


class EmulatorClient:
    """The user side of one emulator; use it as an async context manager, or call aclose()."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._http = httpx.AsyncClient(base_url=url, timeout=_SLACK_SECONDS)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def user(
        self,
        user_id: int,
        *,
        first_name: str = "Sam",
        chat_id: int | None = None,
        chat_type: str | None = None,
    ) -> SandboxUser:
        """A user in their private chat with the bot, or in the group ``chat_id``.

        ``chat_type`` ("group" or "supergroup") matters only for the chat's first message;
        by default a chat other than the user's own is a group.
        """
        return SandboxUser(
            self, user_id, first_name=first_name, chat_id=chat_id, chat_type=chat_type
        )

    async def requests(self) -> list[dict[str, Any]]:
        """Every Bot API call the bot made, with the emulator's verdict."""
        result: list[dict[str, Any]] = await self.get("requests")
        return result

    async def rejected(self) -> list[dict[str, Any]]:
        """The Bot API calls Telegram's rules refused."""
        result: list[dict[str, Any]] = await self.get("rejected")
        return result

    async def set_blocked(self, user_id: int, blocked: bool = True) -> None:
        await self.post("block", {"user_id": user_id, "blocked": blocked})

    async def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Make the bot's next ``count`` calls of ``method`` fail with this error."""
        fault = {"method": method, "error_code": error_code, "description": description}
        await self.post("faults", {**fault, "retry_after": retry_after, "count": count})

    async def file(self, file_id: str) -> bytes:
        """The bytes of a file the bot sent."""
        response = await self._http.get(f"/_sandbox/files/{file_id}")
        _check(response)
        return response.content

    async def get(self, action: str, wait: float = 0.0, **query: Any) -> Any:
        """GET ``/_sandbox/<action>``; ``wait`` is how long the emulator may hold the answer."""
        response = await self._http.get(
            f"/_sandbox/{action}", params=query, timeout=wait + _SLACK_SECONDS
        )
        _check(response)
        return response.json()

    async def post(self, action: str, body: dict[str, Any]) -> Any:
        """POST ``/_sandbox/<action>``, failing the test if the emulator refuses."""
        response = await self.post_raw(action, body)
        _check(response)
        return response.json()

    async def post_raw(self, action: str, body: dict[str, Any]) -> httpx.Response:
        return await self._http.post(f"/_sandbox/{action}", json=body)


def _check(response: httpx.Response) -> None:
    if not response.is_success:
        request = response.request
        raise AssertionError(
            f"{request.method} {request.url.path} -> {response.status_code}: {response.text}"
        )


class SandboxUser:
    """One Telegram user in one chat with the bot.

    It reads the bot's events in order through a private cursor: :meth:`wait_for` and
    :meth:`next_events` consume them, so each reply is matched once, in the order sent.
    """

    def __init__(
        self,
        client: EmulatorClient,
        user_id: int,
        *,
        first_name: str,
        chat_id: int | None,
        chat_type: str | None,
    ) -> None:
        self._client = client
        self.user_id = user_id
        self.first_name = first_name
        self.chat_id = chat_id if chat_id is not None else user_id
        self.chat_type = chat_type
        self._cursor = 0

    async def send(self, text: str) -> int:
        """Send a text message (any length: Telegram's client limits are not the bot's)."""
        return await self._send({"text": text})

    async def send_kind(self, kind: str, text: str | None = None) -> int:
        """Send a sticker, photo, document or voice message (``text`` becomes its caption)."""
        return await self._send({"kind": kind, "text": text})

    async def _send(self, content: dict[str, Any]) -> int:
        result = await self._client.post("send", {**self._identity(), **content})
        message_id: int = result["message_id"]
        return message_id

    async def edit(self, message_id: int, text: str) -> None:
        """Edit one of this user's own messages."""
        await self._client.post(
            "edit", {**self._identity(), "message_id": message_id, "text": text}
        )

    async def press(
        self,
        label: str,
        *,
        message_id: int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - the emulator's long-poll time, not a cancel
    ) -> None:
        """Press the button with exactly this label, as the messages are now.

        Without ``message_id`` the newest bot message with such a button is used. If there is
        none yet, the user waits (up to ``timeout``) for the bot to show one, as a person would.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            checked_at = await self._last_seq()
            candidates = _candidates(await self.messages(), message_id)
            for message in candidates:
                for button in (b for row in message["buttons"] for b in row):
                    if button["text"] == label:
                        await self._press(
                            message["message_id"], _callback_data(button), forge=False
                        )
                        return
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self._events_after(checked_at, remaining):
                break
        where = f"message {message_id}" if message_id is not None else "the bot's messages"
        labels = [b["text"] for m in candidates for row in m["buttons"] for b in row]
        raise AssertionError(f"no button {label!r} on {where} in chat {self.chat_id}: {labels}")

    async def press_data(self, message_id: int, callback_data: str) -> httpx.Response:
        """Press by callback data; the raw answer lets tests check refusals of stale buttons."""
        body = {**self._identity(), "message_id": message_id, "callback_data": callback_data}
        return await self._client.post_raw("press", body)

    async def press_forged(self, message_id: int, callback_data: str) -> None:
        """TEST ONLY: deliver a callback query with data the message has no button for.

        A real client cannot do this, but a modified one can, so a bot must survive tampered
        or stale callback data; the emulator's ``"forge": true`` skips its button check.
        """
        await self._press(message_id, callback_data, forge=True)

    async def _press(self, message_id: int, callback_data: str, *, forge: bool) -> None:
        body = {"message_id": message_id, "callback_data": callback_data, "forge": forge}
        await self._client.post("press", {**self._identity(), **body})

    async def wait_for(
        self,
        match: str | Callable[[BotEvent], bool],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - the emulator's long-poll time, not a cancel
        types: tuple[str, ...] = ("message", "edit"),
    ) -> BotEvent:
        """Consume the chat's events until one of ``types`` matches, and return it.

        ``match`` is a substring of the event's text or a predicate. Events passed over are
        consumed; events after the match are left for the next call.
        """
        matches = match if callable(match) else (lambda event: match in event.text)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen: list[BotEvent] = []
        while (remaining := deadline - loop.time()) > 0:
            for event in await self._events_after(self._cursor, remaining):
                self._cursor = event.seq
                seen.append(event)
                if event.type in types and matches(event):
                    return event
        saw = "\n".join(f"  {event.type} {event.message_id}: {event.text!r}" for event in seen)
        raise AssertionError(
            f"no {'/'.join(types)} matching {match!r} in chat {self.chat_id} within {timeout}s; "
            f"the bot did:\n{saw or '  nothing'}"
        )

    async def next_events(self, *, timeout: float = 0.0) -> list[BotEvent]:  # noqa: ASYNC109
        """Consume and return every new event, waiting up to ``timeout`` for the first one."""
        events = await self._events_after(self._cursor, timeout)
        if events:
            self._cursor = events[-1].seq
        return events

    async def messages(self) -> list[dict[str, Any]]:
        """The chat's messages (the user's and the bot's) as they are now."""
        result: list[dict[str, Any]] = await self._client.get("messages", chat_id=self.chat_id)
        return result

    async def _last_seq(self) -> int:
        """The newest event in this chat (at least the cursor), without consuming anything."""
        result = await self._client.get("events", chat_id=self.chat_id, after=self._cursor)
        last: int = result["last"]
        return last

    async def _events_after(self, after: int, wait: float) -> list[BotEvent]:
        result = await self._client.get(
            "events", wait, chat_id=self.chat_id, after=after, timeout=wait
        )
        return [BotEvent.from_json(event) for event in result["events"]]

    def _identity(self) -> dict[str, Any]:
        identity = {"user_id": self.user_id, "chat_id": self.chat_id, "first_name": self.first_name}
        return identity if self.chat_type is None else {**identity, "chat_type": self.chat_type}


def _candidates(messages: list[dict[str, Any]], message_id: int | None) -> list[dict[str, Any]]:
    """The message to press a button on, or the bot's messages newest first."""
    if message_id is not None:
        return [m for m in messages if m["message_id"] == message_id]
    return [m for m in reversed(messages) if m["from_bot"]]


def _callback_data(button: dict[str, str]) -> str:
    if "callback_data" not in button:
        raise AssertionError(f"button {button['text']!r} has no callback_data: {button}")
    return button["callback_data"]


EIGHT_AM = time(8, 0)


async def add_enrolled_users(
    database_url: str, user_ids: range | list[int], *, enrolled_at: datetime,
    zone: str = "Europe/London", reminder: time = EIGHT_AM, injury: str = "hamstring_contusion",
    baseline_pain: int = 4, due: datetime | None = None, intake_red_flags: tuple[str, ...] = (),
) -> None:  # fmt: skip
    """Add users who finished enrolment at `enrolled_at`, straight into the database (for
    scheduling tests and benchmarks), in the state the course rules give their intake; their
    first prompt is at `due` or at their `reminder` time the next day."""
    facts = IntakeFacts(injury=injury, age=30, onset="sudden", onset_days_ago=1,
                        location="middle", baseline_pain=baseline_pain)  # fmt: skip
    course = begin(facts, intake_red_flags, catalogue_of(default_content()))
    due = due or first_prompt_at(reminder, ZoneInfo(zone), enrolled_at, enrolled_at)
    local_day = enrolled_at.astimezone(ZoneInfo(zone)).date()

    def row(uid: int) -> dict[str, object]:
        return {
            "telegram_user_id": uid, "chat_id": uid, "status": course.status.value,
            "enrolment_step": None, "consented_at": enrolled_at, "injury": injury, "age": facts.age,
            "onset": facts.onset, "onset_days_ago": facts.onset_days_ago,
            "location": facts.location, "grade": None, "baseline_pain": baseline_pain,
            # spec v2 §1.2's defaults, as a v2 enrolment or the migration stores them
            "mechanism": facts.mechanism, "walking": facts.walking,
            "previous_injury": facts.previous_injury, "goal": facts.goal,
            "phase": course.phase, "phase_since": local_day, "reminder_time": reminder,
            "timezone": zone, "next_prompt_at": due, "enrolled_at": enrolled_at,
            "enrolled_on": local_day,
            "created_at": enrolled_at, "updated_at": enrolled_at,
        }  # fmt: skip

    chunk = 5000  # rows built a chunk at a time: 100 000 users must not inflate the caller's RSS
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            for start in range(0, len(user_ids), chunk):
                batch = [row(uid) for uid in user_ids[start : start + chunk]]
                await session.execute(insert(User), batch)
            if intake_red_flags:
                ids = (await session.execute(
                    select(User.id).where(User.telegram_user_id.in_(list(user_ids)))
                )).scalars().all()  # fmt: skip
                await session.execute(insert(RedFlagAnswer), [
                    {"user_id": user_id, "flag_id": flag, "answer": True, "screening": "intake",
                     "day": local_day, "answered_at": enrolled_at}
                    for user_id in ids for flag in intake_red_flags
                ])  # fmt: skip
                await session.execute(insert(EscalationRow), [
                    {"user_id": user_id, "level": e.level.value, "reason": e.reason,
                     "program_day": 0, "cause": "intake answer: yes", "raised_at": enrolled_at}
                    for user_id in ids for e in course.escalations
                ])  # fmt: skip
    finally:
        await db.dispose()


# coachbot's own settings: a test or benchmark process never inherits them from the shell.
_SETTINGS = ("TELEGRAM_", "DATABASE_URL", "DATA_DIR", "WEBHOOK_", "HEALTH_LISTEN", "ADMIN_IDS",
             "DISPATCH_", "DEFAULT_TIMEZONE", "LOG_LEVEL")  # fmt: skip


def coachbot_environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any coachbot setting, then DATA_DIR and `settings`."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(_SETTINGS)}
    return {**keep, "DATA_DIR": str(data_dir), **settings}


async def coachbot_process(
    *arguments: str, env: dict[str, str], cwd: Path | None = None, stdin: int | None = None,
    stdout: int | None = asyncio.subprocess.PIPE, stderr: int | None = asyncio.subprocess.PIPE,
) -> asyncio.subprocess.Process:  # fmt: skip
    """`python -m coachbot <arguments>` as a separate process (the real command line)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "coachbot", *arguments, env=env, cwd=cwd, stdin=stdin,
        stdout=stdout, stderr=stderr,
    )  # fmt: skip
