"""Property-based fuzzing of every handler, through the real bot over the Bot API emulator.

Random and hostile input (any unicode, RTL and zero-width characters, emoji, HTML-looking text,
huge messages, commands with junk arguments, impossible numbers, random and tampered callback
data, double taps, stickers, photos, edits, group messages, malformed updates) goes to users in
several states: fresh (no /start), at each enrolment question, enrolled, and answering /time or
/timezone. For every input:

1. the bot answers it: a message or an edit, and a callback answer for a button press;
2. no exception reaches ``on_error`` (no ERROR record from the bot or from PTB);
3. Telegram's rules refuse nothing (no 400 from the emulator, checked per example as well as
   by the conftest at teardown);
4. text the user typed is shown as typed: markup in it is escaped, never rendered.

"Answered" is decided without sleeping: after the input the same user sends a sentinel whose
reply is known (a sticker; /help after media), and the bot's UpdateGate handles each user's
updates one at a time, in order, so every event before the sentinel's reply belongs to the
input, and the input's handler (and its error handler) has finished when that reply arrives.

Hypothesis reuses the function-scoped fixtures (one emulator and one bot per test) across its
examples, so each example takes a new user id and builds that user's state itself. Examples are
derandomized (the same on every run) and the suite's flood limit for scripted users applies.

Malformed updates, which Telegram cannot deliver through the emulator, go straight into
`Application.process_update` of a bot that is initialised but not polling.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from functools import partial
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import event as statistic
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from sqlalchemy import insert, select
from telegram import Update

from coachbot.bot.app import AnyApplication, build_application
from coachbot.bot.callbacks import CODES, MAX_BYTES
from coachbot.clock import FakeClock
from coachbot.content import default_content
from coachbot.domain import intake
from coachbot.domain.screening import INTAKE, flags_asked
from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.services.actions import Question
from coachbot.services.container import create_services
from coachbot.services.questions import TYPED
from coachbot.storage import repositories
from coachbot.storage.db import Database
from coachbot.storage.models import User
from coachbot.testing import BotEvent, EmulatorClient, SandboxUser, add_enrolled_users

from ..conftest import START
from .conftest import SCRIPTED, TOKEN

pytestmark = pytest.mark.e2e

CONTENT = default_content()
FLAG_IDS = tuple(flag.id for flag in CONTENT.red_flags)
BOT_USERNAME = "coachbot_sandbox_bot"  # the emulator's default
ENROLLED_AT = START - timedelta(days=2)  # so /today makes a check-in on the fake clock's day

# Replies the tests key on (content/messages.yaml).
UNSUPPORTED = "I can only read text messages"
HELP = "What I can do"
GROUP_ONLY_PRIVATE = "I work only in a private chat"
APOLOGY = "something went wrong on my side"
UNKNOWN_COMMAND = "I don't know that command"
ANSWER_SECONDS = 15.0  # the longest wait for a reply (a first PDF starts the renderer process)

FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is reproducible
    database=None,
    print_blob=True,
    # No "explain" phase: on a failure it replays variations of the failing example, which costs
    # half a minute against a live bot and adds little to the shrunk example.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # by design: one bot per test, a new user each example
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# -- user states --------------------------------------------------------------------------------

# The questions of a sudden strain's enrolment with an activity named, in order; the red-flag
# screening is one question (`red_flags`) that asks the next unanswered flag.
_ORDER = intake.steps(SimpleNamespace(injury=intake.STRAIN, onset="sudden", activity="running"), ())
STEPS = (*_ORDER[: _ORDER.index(intake.REMINDER_TIME)], Question.RED_FLAGS.value,
         *_ORDER[_ORDER.index(intake.REMINDER_TIME) :])  # fmt: skip
TYPED_STEPS = frozenset(question.value for question in TYPED)
INTAKE_FLAGS = flags_asked(CONTENT.red_flags, INTAKE, injury=intake.STRAIN, group=None,
                           onset_age=1, day=0)  # fmt: skip
LAST_FLAG = "red_flags:last"  # the screening with every flag but the last one answered
# What answering each question stores, for a user put straight at a later question.
ANSWERED: dict[str, dict[str, object]] = {
    intake.CONSENT: {"consented_at": START},
    intake.INJURY: {"injury": intake.STRAIN},
    intake.AGE: {"age": 30},
    intake.ONSET: {"onset": "sudden"},
    intake.ONSET_DAYS: {"onset_days_ago": 1},
    intake.MECHANISM: {"mechanism": "sprint"},
    intake.LOCATION: {"location": "middle"},
    intake.GRADE: {"grade": 2},
    intake.WALKING_STEP: {"walking": "normal"},
    intake.PREVIOUS_INJURY: {"previous_injury": False},
    intake.BASELINE_PAIN: {"baseline_pain": 4},
    intake.GOAL: {"goal": "sport"},
    intake.ACTIVITY: {"activity": "running"},
    intake.FUNCTION_BASELINE: {"function_baseline": 3},
    intake.REMINDER_TIME: {"reminder_time": time(8, 0)},
}
# The enrolment questions to fuzz: all of them, the screening at its first and its last flag.
ENROLLING_STEPS = (*STEPS, LAST_FLAG)
STATES = (
    "fresh",
    *(f"enrolling:{step}" for step in ENROLLING_STEPS),
    "enrolled",
    "setting:time",
    "setting:timezone",
)
# Each kind of state equally often, whichever of its questions.
states = st.one_of(
    st.just("fresh"),
    st.sampled_from([s for s in STATES if s.startswith("enrolling:")]),
    st.just("enrolled"),
    st.sampled_from(["setting:time", "setting:timezone"]),
)

# -- text strategies ----------------------------------------------------------------------------

any_char = st.characters(exclude_categories=["Cs"])  # the whole range but lone surrogates
NASTY = (
    "<b>x</b>", "</b>", "<", ">", "&", "&&", "<>", "<<>>", "a < b & c > d", "&amp;", "&lt;b&gt;",
    "&#0;", "&#x110000;", "&nbsp;", "&bogus;", "<a href=\"javascript:alert(1)\">x</a>",
    "<a href='tg://user?id=1'>me</a>", "<tg-spoiler>x</tg-spoiler>", "<pre><code>x</code></pre>",
    "<script>alert(1)</script>", "<!-- x -->", "<![CDATA[x]]>", "<b><i>x</b></i>", "\"'`",
    "{value}", "{0}", "{}", "{{", "}", "%s", "%(name)s", "$1", "\\", "\\n", "' OR 1=1 --",
    "\u202eevil\u202c", "\u200f\u200e", "مرحبا بك", "שלום עולם", "\u200b\u200c\u200d\u2060\ufeff",
    "\u00a0", "\u3000", "\u2028\u2029", "\x00", "\x1b[31m", "\r\n", "\t", " x ", "👍🏽", "👨‍👩‍👧‍👦",
    "🏳️‍🌈", "e\u0301\u0301\u0301", "Z\u0351\u0352\u0353\u0354", "ﷺ", "𝕏", "\U0010ffff", "\ufffd",
    "٣٠", "３０", "٥", "²", "½", "Ⅻ", "30.0", "3e1", "0x1e", "-0", "+5", "00030", "99999",
    "100000", "-1", "11", "10.5", "NaN", "inf", "null", "None", "true", "[]", "{\"a\": 1}",
    "24:00", "23:60", "7:5", "07:30:00", "7.30", "noon", "UTC+99", "UTC-13", "UTC+14", "UTC-12",
    "UTC+5:30", "GMT", "z", "Etc/GMT-14", "etc/gmt+12", "europe/LONDON", " Europe/London ",
    "Europe/London\x00", "America/Argentina/Buenos_Aires", "../../etc/passwd", "Atlantis/<Lost>",
    "posixrules", "localtime", "Factory", "yes", "no", "I agree", "Start over", "Pulled hamstring",
)  # fmt: skip
numbers = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.integers(-5, 120).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)
# Text with markup in it around a marker: if the bot rendered the markup instead of escaping it,
# the reply would show the marker without the tags around it.
MARKUP = ("<b>{}</b>", "<i>{}</i>", "<a href=\"https://e.x\">{}</a>", "<code>{}</code>",
          "&lt;{}&gt;", "&amp;{}", "<{}>", "</{}>", "<b>{}", "{}&", "&#60;{}")  # fmt: skip
markers = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=6, max_size=10)
markup_texts = st.builds(
    lambda before, form, marker, after: before + form.format(marker) + after,
    st.text(any_char, max_size=20),
    st.sampled_from(MARKUP),
    markers,
    st.text(any_char, max_size=20),
)
long_texts = st.builds(
    lambda piece, size: (piece * size)[:size],
    st.sampled_from(["x", "é", "😀", "<b>", "&amp;", "\u200b", "مر", "7", " "]),
    st.integers(4097, 20_000),
)
any_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(any_char, min_size=1, max_size=300),
    markup_texts,
    numbers,
).filter(lambda text: text != "")

COMMANDS = ("start", "help", "today", "pain", "settings", "export", "progress", "report",
            "delete", "pause", "resume", "stop", "time", "timezone", "dance", "START", "Help",
            "x" * 32, "admin", "s")  # fmt: skip
commands = st.builds(
    lambda name, to, arguments: f"/{name}{to}{arguments}",
    st.sampled_from(COMMANDS),
    st.sampled_from(["", f"@{BOT_USERNAME}", "@otherbot", "@", "@" + "b" * 40]),
    st.one_of(
        st.just(""),
        st.sampled_from([" x", " 99", " -1", " <b>", " &", " 10**99", " " + "9" * 40]),
        st.text(any_char, max_size=80).map(lambda junk: " " + junk),
    ),
)

# -- callback data strategies --------------------------------------------------------------------


def fits(data: str) -> bool:
    return 0 < len(data.encode()) <= MAX_BYTES


ODD_DATA = ("v1", "v1|", "v1||", "v1|||", "v2", "v2|", "v2||", "|an|age|30", "v2|an|age",
            "V2|an|age|30", "v2|an|age|30|", "v2|dd|1|done|x", "v2| an|age|30", "v2|an|age|30 ",
            "null", "v2|pn|\u0661|5", "v2|pn|1|\u0665", "v2|an|bogus|1", "v2|fl|-|1", "v2|sy|",
            "v3|an|age|30", "v1|age|30", "v1|did:1|done", "garbage\x00" * 7)  # fmt: skip
random_data = st.one_of(
    st.binary(min_size=1, max_size=MAX_BYTES).map(lambda raw: raw.decode("utf-8", "replace")),
    st.text(any_char, min_size=1, max_size=MAX_BYTES),
    st.builds("|".join, st.lists(st.text(any_char, max_size=20), min_size=2, max_size=5)),
    st.sampled_from(ODD_DATA),
).filter(fits)

PART = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_:/+.-"), min_size=1, max_size=20
)
VALUES = ("done", "partly", "skipped", "weekly", "rescreen", "session", "rest_pain",
          "exercise_pain", "0", "1", "-", "", "yes", "no", "skip", "time", "timezone", "pause",
          "resume", "weekly_on", "weekly_off", "sudden", "gradual", "upper", "middle", "lower",
          "sprint", "stretch", "blow", "other", "normal", "limp", "cannot", "sport", "everyday",
          "unknown", "hamstring_strain", "cramp", *map(str, range(-1, 12)), "99999", "0" * 30,
          "9" * 30, "07:00", "25:00", "Europe/London", "Mars/Olympus", "UTC+3", "walk_normal",
          "not_a_check", *FLAG_IDS[:3], "not_a_flag", *(q.value for q in Question))  # fmt: skip
# A check-in id, as a placeholder filled in per example (the real ids are known only then).
CHECK_IN_IDS = ("own", "other", "missing", "zero", "leading_zeros", "huge", "int64", "empty",
                "letters")  # fmt: skip
# v2|<code>|<field>|...: every code with the right number of fields or not, each field a value,
# a check-in id placeholder or anything of the grammar's alphabet; some version-1 data as well.
well_formed = st.tuples(
    st.sampled_from(["v2", "v2", "v2", "v1"]),
    st.one_of(st.sampled_from(sorted(CODES)), PART),
    st.lists(
        st.one_of(
            st.sampled_from(VALUES),
            st.sampled_from(CHECK_IN_IDS).map(lambda kind: f"@{kind}"),
            PART,
        ),
        max_size=4,
    ),
)


# -- the harness ----------------------------------------------------------------------------------


class Harness:
    """Puts new users in a state, sends them input and checks the four properties."""

    def __init__(
        self, bot: AnyApplication, emulator: BotApiEmulator, client: EmulatorClient,
        database_url: str, caplog: pytest.LogCaptureFixture,
    ) -> None:  # fmt: skip
        self.bot = bot
        self.emulator = emulator
        self.client = client
        self.database_url = database_url
        self.caplog = caplog
        self.db = Database(database_url)
        self._ids = itertools.count(50_000)
        self._owner_check_in: int | None = None

    def new_id(self) -> int:
        return next(self._ids)

    # States ----------------------------------------------------------------------------------

    async def user_in(self, state: str) -> SandboxUser:
        """A new user in `state` (see STATES)."""
        if currently_in_test_context():  # hypothesis statistics: which states were tried
            statistic(state.partition(":")[0])
        uid = self.new_id()
        user = self.client.user(uid, first_name="Fuzz")
        kind, _, detail = state.partition(":")
        await put_in_state(
            self.db, self.database_url, uid, "enrolled" if kind == "setting" else state
        )
        if kind == "setting":
            await user.send(f"/{detail}")
            await user.wait_for("Which time zone" if detail == "timezone" else "What time")
        return user

    async def bot_message(self, user: SandboxUser, state: str) -> BotEvent:
        """A message from the bot in the user's chat to press buttons on (with buttons if the
        state has any): the help text, the current question, or today's prompt."""
        kind = state.partition(":")[0]
        if kind == "fresh":
            await user.send("/help")
            return await user.wait_for(HELP)
        if kind == "enrolled":
            await user.send("/today")
            return await user.wait_for("Day 2")
        if kind == "setting":
            await user.send("/settings")
            return await user.wait_for("Prompts")
        await user.send("/start")
        return await user.wait_for(lambda event: event.type == "message")

    async def owner_check_in(self) -> int:
        """Another enrolled user's check-in id (made once per test by their /today)."""
        if self._owner_check_in is None:
            owner = await self.user_in("enrolled")
            prompt = await self.bot_message(owner, "enrolled")
            self._owner_check_in = check_in_of(prompt)
        return self._owner_check_in

    # Input and the properties ---------------------------------------------------------------

    async def exchange(
        self,
        user: SandboxUser,
        act: Callable[[], Awaitable[Any]],
        *,
        press: bool = False,
        after_media: bool = False,
        what: str = "",
    ) -> list[BotEvent]:
        """Do `act` as `user`, then a sentinel; the bot's events in between, checked.

        The sentinel goes only once the input's first reply is seen: its handler then holds the
        user's turn, so the sentinel cannot overtake it (see test_replies_come_in_the_order_sent
        for what happens otherwise)."""
        logged = len(self.caplog.records)
        requested = len(self.emulator.requests)
        await act()
        first = await user.next_events(timeout=ANSWER_SECONDS)
        if after_media:
            await user.send("/help")
            sentinel = HELP
        else:
            await user.send_kind("sticker")
            sentinel = UNSUPPORTED
        events = first + await self._events_until(user, sentinel)
        self.check(
            logged, requested, events, press=press, what=f"{what!r} from user {user.user_id}"
        )
        return events

    def check(
        self, logged: int, requested: int, events: list[BotEvent], *, press: bool, what: str
    ) -> None:
        """Properties 1-3 for what happened since `logged` records and `requested` requests."""
        context = f"{what}: the bot did {describe(events)}"
        # (2) no exception reached on_error, nor escaped it
        errors = [r for r in self.caplog.records[logged:] if r.levelno >= logging.ERROR]
        assert not errors, f"{context}\n" + "\n".join(failure(r) for r in errors)
        # (3) Telegram's rules refused nothing
        refused = [f"{r.method}: {r.description}" for r in self.emulator.requests[requested:]
                   if r.error_code == 400]  # fmt: skip
        assert not refused, f"Telegram would refuse {refused} after {context}"
        # (1) an answer: a message or an edit; a callback answer for a press
        assert not any(APOLOGY in e.text for e in events), context
        if press:
            assert any(e.type == "callback_answer" for e in events), (
                f"no callback answer: {context}"
            )
        else:
            assert any(e.type in ("message", "edit") for e in events), f"no answer: {context}"

    async def _events_until(self, user: SandboxUser, sentinel: str) -> list[BotEvent]:
        """Consume the chat's events up to the sentinel's reply; those before it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_SECONDS
        events: list[BotEvent] = []
        while (remaining := deadline - loop.time()) > 0:
            for event in await user.next_events(timeout=remaining):
                if event.type == "message" and sentinel in event.text:
                    return events
                events.append(event)
        raise AssertionError(f"no reply to the sentinel in {ANSWER_SECONDS} s: {describe(events)}")

    async def close(self) -> None:
        await self.db.dispose()


async def put_in_state(db: Database, database_url: str, uid: int, state: str) -> None:
    """Store what the bot would hold about `uid` in `state`: nothing for a fresh user; the
    answers so far for one at an enrolment question; a finished enrolment."""
    kind, _, step = state.partition(":")
    if kind == "enrolled":
        await add_enrolled_users(database_url, [uid], enrolled_at=ENROLLED_AT)
    elif kind == "enrolling":
        last_flag = step == LAST_FLAG
        step = Question.RED_FLAGS.value if last_flag else step
        facts: dict[str, object] = {}
        for earlier in STEPS[: STEPS.index(step)]:
            facts.update(ANSWERED.get(earlier, {}))
        async with db.transaction() as session:
            await session.execute(insert(User).values(
                telegram_user_id=uid, chat_id=uid, status="enrolling", enrolment_step=step,
                created_at=START, updated_at=START, **facts,
            ))  # fmt: skip
            if last_flag:  # every flag asked of a strain but the last one, answered "no"
                user_id = await session.scalar(select(User.id).where(User.telegram_user_id == uid))
                assert user_id is not None
                for flag in INTAKE_FLAGS[:-1]:
                    await repositories.record_red_flag_answer(
                        session, user_id, flag, False, screening="intake", now=START
                    )
    else:
        assert kind == "fresh", state


def message_id_of(event: BotEvent) -> int:
    assert event.message_id is not None, event
    return event.message_id


def check_in_of(prompt: BotEvent) -> int:
    for row in prompt.buttons:
        for button in row:
            found = re.fullmatch(r"v2\|dd\|(\d+)\|\w+", button.callback_data or "")
            if found:
                return int(found[1])
    raise AssertionError(f"no check-in button on {prompt.text!r}: {prompt.labels}")


def describe(events: list[BotEvent]) -> str:
    return "; ".join(f"{e.type} {e.text[:80]!r}" for e in events) or "nothing"


def failure(record: logging.LogRecord) -> str:
    text = f"{record.levelname} {record.name}: {record.getMessage()}"
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        text += f"\n  {type(error).__name__}: {error}"
        ours = [
            f"{frame.f_code.co_filename.rpartition('/coachbot/')[2]}:{line}"
            for frame, line in traceback.walk_tb(error.__traceback__)
            if "/coachbot/" in frame.f_code.co_filename
        ]  # fmt: skip
        text += f" (raised via coachbot/{', '.join(ours[-3:])})" if ours else ""
    return text


@pytest.fixture
async def harness(
    bot: AnyApplication, emulator: BotApiEmulator, client: EmulatorClient, database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[Harness]:  # fmt: skip
    caplog.set_level(logging.WARNING)
    fuzz = Harness(bot, emulator, client, database_url, caplog)
    yield fuzz
    await fuzz.close()


# -- typed text ---------------------------------------------------------------------------------


class TestTypedText:
    @settings(FUZZ, max_examples=60)
    @given(state=states, text=any_text)
    async def test_any_text_in_any_state_is_answered(
        self, harness: Harness, state: str, text: str
    ) -> None:
        """Unicode, RTL, zero-width, emoji, markup and numbers: a reply each, nothing fails."""
        user = await harness.user_in(state)
        events = await harness.exchange(user, lambda: user.send(text), what=text)
        check_markup_is_escaped(events, text)

    @settings(FUZZ, max_examples=12)
    @given(state=states, text=long_texts)
    async def test_huge_messages_are_answered(
        self, harness: Harness, state: str, text: str
    ) -> None:
        """4 097 to 20 000 characters (more than Telegram delivers): a short reply each."""
        user = await harness.user_in(state)
        events = await harness.exchange(user, lambda: user.send(text), what=text[:40])
        assert all(text not in event.text for event in events)

    @settings(FUZZ, max_examples=40)
    @given(state=states, command=commands)
    async def test_commands_with_junk_arguments(
        self, harness: Harness, state: str, command: str
    ) -> None:
        """/start@otherbot x, /today 99, /settings <b>, unknown commands: each answered."""
        statistic(command.split()[0].split("@")[0] if command.strip() else command)
        user = await harness.user_in(state)
        events = await harness.exchange(user, lambda: user.send(command), what=command)
        check_markup_is_escaped(events, command)

    @settings(FUZZ, max_examples=30)
    @given(
        state=st.sampled_from(["setting:timezone", f"enrolling:{intake.TIMEZONE}"]),
        text=st.one_of(
            markup_texts, st.sampled_from(NASTY), st.text(any_char, min_size=1, max_size=60)
        ),
    )
    async def test_an_unknown_time_zone_is_echoed_exactly_as_typed(
        self, harness: Harness, state: str, text: str
    ) -> None:
        """The one reply that quotes the user: what they typed is shown, never rendered."""
        user = await harness.user_in(state)
        events = await harness.exchange(user, lambda: user.send(text), what=text)
        check_markup_is_escaped(events, text)
        refusals = [e for e in events if "I don't know the time zone" in e.text]
        if refusals and len(text) <= intake.MAX_ANSWER_LENGTH:
            assert f'"{text}"' in refusals[0].text, (text, refusals[0].text)


def check_markup_is_escaped(events: list[BotEvent], typed: str) -> None:
    """If a reply shows any of the user's text around a marker, it shows the markup too."""
    for form in MARKUP:
        prefix, _, suffix = form.partition("{}")
        pattern = re.escape(prefix) + "([a-z]{6,10})" + re.escape(suffix)
        for found in re.finditer(pattern, typed):
            marker, literal = found[1], found[0]
            for event in events:
                if marker in event.text:
                    assert literal in event.text, (
                        f"{typed!r} was rendered, not escaped: the user reads {event.text!r}"
                    )


# -- button presses -----------------------------------------------------------------------------


class TestButtons:
    @settings(FUZZ, max_examples=40)
    @given(state=states, data=random_data)
    async def test_random_callback_data_is_answered(
        self, harness: Harness, state: str, data: str
    ) -> None:
        """Up to 64 bytes of anything as callback data: a callback answer, nothing changes."""
        user = await harness.user_in(state)
        message = await harness.bot_message(user, state)
        await harness.exchange(
            user, lambda: user.press_forged(message_id_of(message), data), press=True, what=data
        )

    @settings(FUZZ, max_examples=50)
    @given(state=states, choice=well_formed)
    async def test_well_formed_data_with_unknown_codes_values_or_ids(
        self, harness: Harness, state: str, choice: tuple[str, str, list[str]]
    ) -> None:
        """v2|code|fields with unknown codes, wrong field counts, values out of range, others'
        check-in ids; v1 data from the previous version (answered with an alert)."""
        version, code, parts = choice
        user = await harness.user_in(state)
        message = await harness.bot_message(user, state)
        own = check_in_of(message) if state == "enrolled" else None
        fields = [await check_in_id(harness, part[1:], own) if part.startswith("@") else part
                  for part in parts]  # fmt: skip
        data = "|".join([version, code, *fields])
        if not fits(data):
            data = data.encode()[:MAX_BYTES].decode(errors="ignore")
        events = await harness.exchange(
            user, lambda: user.press_forged(message_id_of(message), data), press=True, what=data
        )
        if version == "v1":
            answers = [e for e in events if e.type == "callback_answer"]
            assert answers[0].show_alert, f"{data}: {describe(events)}"

    @settings(FUZZ, max_examples=25)
    @given(
        scenario=st.one_of(
            st.sampled_from([s for s in ENROLLING_STEPS if s not in TYPED_STEPS]).map(
                lambda step: (f"enrolling:{step}", "/start")
            ),
            st.sampled_from(["/today", "/settings", "/start", "/delete", "/time", "/timezone"]).map(
                lambda command: ("enrolled", command)
            ),
        ),
        pick=st.integers(0, 20),
    )
    async def test_a_double_tap_is_answered_twice_without_errors(
        self, harness: Harness, scenario: tuple[str, str], pick: int
    ) -> None:
        """A real button pressed twice before the bot answers the first press (a double tap):
        both presses answered, nothing refused, no error."""
        state, command = scenario
        user = await harness.user_in(state)
        await user.send(command)
        message = await user.wait_for(lambda event: bool(event.buttons))
        buttons = [b for row in message.buttons for b in row if b.callback_data]
        button = buttons[pick % len(buttons)]
        assert button.callback_data is not None
        data = button.callback_data

        async def double_tap() -> None:
            first, second = await asyncio.gather(
                user.press_data(message_id_of(message), data),
                user.press_data(message_id_of(message), data),
            )
            assert first.status_code == 200, first.text
            assert second.status_code == 200, "the second tap came too late to be a double tap"

        events = await harness.exchange(user, double_tap, press=True, what=f"2 x {data}")
        answers = [e for e in events if e.type == "callback_answer"]
        assert len(answers) == 2, f"{data}: {describe(events)}"


async def check_in_id(harness: Harness, kind: str, own: int | None) -> str:
    """The check-in id a well-formed callback names: the presser's own, someone else's..."""
    other = await harness.owner_check_in()
    return {
        "own": str(own if own is not None else other),
        "other": str(other),
        "missing": str(other + 1_000_000),
        "zero": "0",
        "leading_zeros": f"{other:030d}",
        "huge": "9" * 30,
        "int64": str(2**63),
        "empty": "",
        "letters": "abc",
    }[kind]


# -- typed time zones ------------------------------------------------------------------------------

ENROL_ZONES = ("Etc/GMT+12", "America/New_York", "Europe/London", "Asia/Kolkata",
               "Pacific/Kiritimati")  # fmt: skip
TYPED_ZONES = ("UTC-12", "UTC+14", "America/Los_Angeles", "Asia/Tokyo", "UTC", "Etc/GMT-14")


class TestTypedTimeZones:
    @settings(FUZZ, max_examples=15)
    @example(zone="Etc/GMT+12", minutes_to_midnight=30, minutes_after=60, typed="UTC+14")
    @given(
        zone=st.sampled_from(ENROL_ZONES),
        minutes_to_midnight=st.integers(1, 240),
        minutes_after=st.integers(1, 240),
        typed=st.sampled_from(TYPED_ZONES),
    )
    async def test_a_new_time_zone_never_makes_an_open_prompt_unanswerable(
        self, harness: Harness, clock: FakeClock, zone: str, minutes_to_midnight: int,
        minutes_after: int, typed: str,
    ) -> None:  # fmt: skip
        """Enrolled late in the evening, prompted by /today after midnight, then a new zone typed
        (a traveller): the prompt's buttons and a typed rating are still answered."""
        uid = harness.new_id()
        midnight = datetime.combine(START.date() + timedelta(days=1), time(0), ZoneInfo(zone))
        enrolled_at = (midnight - timedelta(minutes=minutes_to_midnight)).astimezone(UTC)
        await add_enrolled_users(harness.database_url, [uid], enrolled_at=enrolled_at, zone=zone)
        clock.now = midnight.astimezone(UTC) + timedelta(minutes=minutes_after)
        user = harness.client.user(uid, first_name="Fuzz")
        await user.send("/today")
        prompt = await user.wait_for("Day 1")
        await user.send("/timezone")
        await user.wait_for("Which time zone")
        await user.send(typed)
        await user.wait_for("Done")
        session = prompt.button("Not today").callback_data
        assert session is not None
        await harness.exchange(
            user, partial(user.press_data, message_id_of(prompt), session), press=True,
            what=session,
        )  # fmt: skip
        events = await harness.exchange(user, partial(user.send, "4"), what=f"4 after {typed}")
        assert any("pain 4/10" in e.text for e in events), describe(events)


# -- the order of replies ---------------------------------------------------------------------------

SENT_AND_ANSWERED = (("/help", HELP), ("sticker", UNSUPPORTED), ("/dance", UNKNOWN_COMMAND))


class TestOrder:
    @settings(FUZZ, max_examples=10)
    @example(slow=[0.1, 0.0])
    @given(slow=st.lists(st.sampled_from([0.0, 0.02, 0.1]), min_size=2, max_size=5))
    async def test_replies_come_in_the_order_sent(
        self, harness: Harness, monkeypatch: pytest.MonkeyPatch, slow: list[float]
    ) -> None:
        """A user's messages are handled in the order sent (UpdateGate: "an answer is never
        applied before the question it answers") even when the database is slower for one of
        them than for the next: the n-th message's duplicate check (processed_updates) is
        delayed by slow[n] seconds, standing in for a busy database or a cold connection."""
        user = await harness.user_in("fresh")
        delays: dict[int, float] = {}
        original = repositories.first_delivery

        async def slow_first_delivery(session: Any, update_id: int, now: Any) -> bool:
            await asyncio.sleep(delays.get(update_id, 0.0))  # a slow query, not a wait
            return await original(session, update_id, now)

        monkeypatch.setattr(repositories, "first_delivery", slow_first_delivery)
        sent = [SENT_AND_ANSWERED[n % len(SENT_AND_ANSWERED)] for n in range(len(slow))]
        for (text, _), delay in zip(sent, slow, strict=True):
            update = await harness.client.post(
                "send",
                {"user_id": user.user_id, "chat_id": user.user_id, "first_name": "Fuzz",
                 **({"kind": "sticker"} if text == "sticker" else {"text": text})},
            )  # fmt: skip
            delays[update["update_id"]] = delay
        replies: list[str] = []
        while len(replies) < len(sent):
            events = await user.next_events(timeout=ANSWER_SECONDS)
            assert events, f"only {replies} within {ANSWER_SECONDS} s"
            replies += [e.text for e in events if e.type == "message"]
        answered = [next(t for t, reply in sent if reply in text) for text in replies]
        assert answered == [text for text, _ in sent], (
            f"sent {[t for t, _ in sent]}, answered in the order {answered}"
        )


# -- random walks ---------------------------------------------------------------------------------

# Answers that move a conversation on, mixed into the walks so they get somewhere.
GOOD_ANSWERS = ("30", "3", "0", "4", "8", "10", "07:45", "UTC+3", "Europe/London", "5")
WALK_COMMANDS = ("/start", "/today", "/settings", "/time", "/timezone", "/pause", "/resume",
                 "/stop", "/delete", "/help", "/progress")  # fmt: skip
walk_steps = st.one_of(
    st.tuples(st.just("tap"), st.integers(0, 40)),
    st.tuples(st.just("tap"), st.integers(0, 40)),
    st.tuples(st.just("type"), st.one_of(st.sampled_from(GOOD_ANSWERS), any_text)),
    st.tuples(
        st.just("command"),
        st.one_of(
            st.sampled_from(WALK_COMMANDS),
            commands,
        ),
    ),
    st.tuples(st.just("forge"), random_data),
)


class TestRandomWalks:
    @settings(FUZZ, max_examples=20)
    @given(state=states, walk=st.lists(walk_steps, min_size=3, max_size=8))
    async def test_a_random_conversation_is_answered_at_every_step(
        self, harness: Harness, state: str, walk: list[tuple[str, Any]]
    ) -> None:
        """Taps on whatever buttons the bot shows, typed answers good and bad, commands and
        forged presses, one after another: every step answered, nothing fails."""
        user = await harness.user_in(state)
        for action, argument in walk:
            if action == "tap" and (offered := await newest_buttons(user)):
                message_id, buttons = offered
                data = buttons[argument % len(buttons)]
                await harness.exchange(
                    user, partial(user.press_data, message_id, data), press=True, what=data
                )
            elif action == "forge" and (on := await newest_bot_message(user)):
                forge = partial(user.press_forged, on, argument)
                await harness.exchange(user, forge, press=True, what=argument)
            else:
                text = argument if action in ("type", "command") else "/start"
                events = await harness.exchange(user, partial(user.send, text), what=text)
                check_markup_is_escaped(events, text)


async def newest_bot_message(user: SandboxUser) -> int | None:
    ids = [m["message_id"] for m in await user.messages() if m["from_bot"]]
    return ids[-1] if ids else None


async def newest_buttons(user: SandboxUser) -> tuple[int, list[str]] | None:
    """The newest bot message with buttons, and their callback data."""
    for message in reversed(await user.messages()):
        data = [
            b["callback_data"] for row in message["buttons"] for b in row if "callback_data" in b
        ]
        if message["from_bot"] and data:
            return message["message_id"], data
    return None


# -- other kinds of update -----------------------------------------------------------------------


class TestOtherUpdates:
    @settings(FUZZ, max_examples=30)
    @given(
        state=states,
        kind=st.sampled_from(["sticker", "photo", "document", "voice", "edit", "group"]),
        text=st.one_of(st.none(), any_text),
    )
    async def test_media_edits_and_group_messages_are_answered(
        self, harness: Harness, state: str, kind: str, text: str | None
    ) -> None:
        """Stickers, photos, documents and voice (with any caption), edits of earlier messages
        and messages in a group: each gets its short reply."""
        user = await harness.user_in(state)
        if kind == "group":
            group = harness.client.user(
                user.user_id, chat_id=-user.user_id, chat_type="group", first_name="Fuzz"
            )
            logged, requested = len(harness.caplog.records), len(harness.emulator.requests)
            await group.send(text or "/start")
            reply = await group.wait_for(GROUP_ONLY_PRIVATE)  # the handler's only action
            harness.check(logged, requested, [reply], press=False, what=f"{text!r} in a group")
            return
        if kind == "edit":
            original = text or "/start"
            sent: list[int] = []

            async def send_original() -> None:
                sent.append(await user.send(original))

            await harness.exchange(user, send_original, what=original)
            events = await harness.exchange(
                user, lambda: user.edit(sent[0], (text or "") + " (edited)"), what="an edit"
            )
            assert any("I don't read edited messages" in e.text for e in events)
            return
        events = await harness.exchange(
            user, lambda: user.send_kind(kind, text), after_media=True, what=f"{kind}: {text!r}"
        )
        assert any(UNSUPPORTED in e.text for e in events)


# -- malformed updates -----------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(any_char, max_size=30),
    st.floats(allow_nan=False),
)  # fmt: skip
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
MESSAGE_FIELDS = ("message_id", "date", "chat", "from", "text", "entities", "caption", "sticker",
                  "reply_to_message", "sender_chat", "edit_date", "reply_markup")  # fmt: skip
UPDATE_KINDS = ("message", "edited_message", "callback_query", "callback_query_inaccessible",
                "callback_query_inline", "channel_post", "my_chat_member", "unknown")  # fmt: skip


@st.composite
def malformed_updates(draw: st.DrawFn, uid: int, query_id: str) -> dict[str, Any]:
    """A plausible update from `uid`, then damaged: fields dropped or replaced by random JSON,
    odd ids, entities and chat types, a callback query without its message..."""
    chat: dict[str, Any] = {
        "id": draw(st.sampled_from([uid, uid, -uid, 0, 2**62])),
        "type": draw(st.sampled_from(["private", "private", "group", "channel", "supergroup",
                                      "sender", "", "PRIVATE"])),
    }  # fmt: skip
    sender: dict[str, Any] = {
        "id": draw(st.sampled_from([uid, uid, uid + 1, 0, -1, 2**53])),
        "is_bot": draw(st.booleans()),
        "first_name": draw(st.text(any_char, max_size=10)),
    }
    message: dict[str, Any] = {
        "message_id": draw(st.integers(-5, 2**40)),
        "date": draw(st.integers(-(2**31), 2**33)),
        "chat": chat,
        "from": sender,
        "text": draw(st.one_of(any_text, commands, st.just(""))),
    }
    if draw(st.booleans()):
        message["entities"] = [
            {"type": draw(st.sampled_from(["bot_command", "bold", "text_link", "mention", "nope"])),
             "offset": draw(st.integers(-3, 50)), "length": draw(st.integers(-3, 50))}
        ]  # fmt: skip
    for field in draw(st.lists(st.sampled_from(MESSAGE_FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()):
            message.pop(field, None)
        else:
            message[field] = draw(json_values)
    kind = draw(st.sampled_from(UPDATE_KINDS))
    update: dict[str, Any] = {"update_id": draw(st.integers(1, 2**31))}
    if kind in ("message", "edited_message", "channel_post"):
        update[kind] = message
    elif kind.startswith("callback_query"):
        query: dict[str, Any] = {
            "id": draw(st.sampled_from([query_id, query_id, "0", ""])),
            "from": sender,
            "chat_instance": "1",
            "data": draw(st.one_of(st.none(), random_data, st.just("v1|consent|yes"))),
        }
        if kind == "callback_query":
            query["message"] = message
        elif kind == "callback_query_inaccessible":
            query["message"] = {"chat": chat, "message_id": 1, "date": 0}
        else:
            query["inline_message_id"] = "abc"
        update["callback_query"] = query
    elif kind == "my_chat_member":
        update[kind] = {
            "chat": chat, "from": sender, "date": 0,
            "old_chat_member": {"status": "member", "user": sender},
            "new_chat_member": {"status": "kicked", "user": sender, "until_date": 0},
        }  # fmt: skip
    else:
        update[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
    if draw(st.integers(0, 9)) == 0:  # two kinds in one update
        update["edited_message"] = message
    return update


class OfflineBot:
    """The bot initialised against the emulator but not polling: updates go straight into
    `process_update`, and what users do through the sandbox stays queued, unread. So a test can
    make real chats, messages and callback query ids, then hand the bot its own updates."""

    def __init__(
        self, application: AnyApplication, emulator: BotApiEmulator, client: EmulatorClient,
        database_url: str, caplog: pytest.LogCaptureFixture,
    ) -> None:  # fmt: skip
        self.application = application
        self.emulator = emulator
        self.client = client
        self.database_url = database_url
        self.caplog = caplog
        self.db = Database(database_url)
        self._ids = itertools.count(70_000)

    async def user_with_a_query(self, state: str) -> tuple[int, str]:
        """A new user in `state` with a private chat and a callback query id the emulator issued."""
        uid = next(self._ids)
        await put_in_state(self.db, self.database_url, uid, state)
        user = self.client.user(uid)
        message_id = await user.send("/start")  # queued; nobody reads it
        press = {"user_id": uid, "chat_id": uid, "message_id": message_id,
                 "callback_data": "v1|x|y", "forge": True}  # fmt: skip
        pressed = await self.client.post("press", press)
        return uid, str(pressed["callback_query_id"])

    async def process(self, raw: dict[str, Any]) -> list[logging.LogRecord] | None:
        """Hand the bot the update `raw`; the ERROR records it caused (None: PTB can't parse it,
        so it would never reach the handlers). An exception escaping fails the test."""
        try:
            update = Update.de_json(raw, self.application.bot)
        except (TypeError, KeyError, ValueError, AttributeError):
            return None
        logged = len(self.caplog.records)
        await self.application.process_update(update)
        return [r for r in self.caplog.records[logged:] if r.levelno >= logging.ERROR]


@pytest.fixture
async def offline_bot(
    emulator: BotApiEmulator, client: EmulatorClient, database_url: str, clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[OfflineBot]:  # fmt: skip
    caplog.set_level(logging.WARNING)
    services = create_services(database_url, "Europe/London", clock=clock)
    application = build_application(TOKEN, emulator.url, services, flood=SCRIPTED)
    await application.initialize()
    offline = OfflineBot(application, emulator, client, database_url, caplog)
    yield offline
    await offline.db.dispose()
    await application.shutdown()
    await services.close()


OFFLINE_STATES = st.one_of(
    st.just("fresh"),
    st.sampled_from([s for s in STATES if s.startswith("enrolling:")]),
    st.just("enrolled"),
)


class TestMalformedUpdates:
    @settings(FUZZ, max_examples=60)
    @given(data=st.data())
    async def test_malformed_updates_never_crash_the_bot(
        self, offline_bot: OfflineBot, data: st.DataObject
    ) -> None:
        """Updates with missing, odd or contradictory fields go straight into the bot's update
        processing: no exception escapes it, and the error handler itself never fails (a handler
        may fail on an update Telegram could not send: on_error logs it and apologises)."""
        uid, query_id = await offline_bot.user_with_a_query(data.draw(OFFLINE_STATES))
        errors = await offline_bot.process(data.draw(malformed_updates(uid, query_id)))
        statistic(
            "PTB cannot parse it" if errors is None else f"handled, {len(errors)} errors logged"
        )
        escaped = [r for r in errors or [] if not r.name.startswith("coachbot.bot.handlers")]
        assert not escaped, "\n".join(failure(r) for r in escaped)

    @pytest.mark.parametrize(
        "kind",
        ["nothing", "inline_query", "game_callback", "inaccessible_message", "long_command_entity",
         "no_content", "my_chat_member", "bot_sender", "unknown_field"],
    )  # fmt: skip
    @pytest.mark.parametrize("state", ["fresh", f"enrolling:{intake.ONSET}", "enrolled"])
    async def test_odd_but_valid_updates_are_handled_without_errors(
        self, offline_bot: OfflineBot, kind: str, state: str
    ) -> None:
        """Updates the Bot API can send (kinds not asked for, a game callback, a press on an
        inaccessible message, content the bot doesn't know): no handler fails, Telegram's
        rules refuse nothing."""
        uid, query_id = await offline_bot.user_with_a_query(state)
        requested = len(offline_bot.emulator.requests)
        errors = await offline_bot.process(odd_update(kind, uid, query_id))
        assert errors is not None, "PTB could not parse it"
        assert not errors, "\n".join(failure(r) for r in errors)
        refused = [f"{r.method}: {r.description}" for r in offline_bot.emulator.requests[requested:]
                   if r.error_code == 400]  # fmt: skip
        assert not refused


def odd_update(kind: str, uid: int, query_id: str) -> dict[str, Any]:
    sender = {"id": uid, "is_bot": False, "first_name": "A"}
    chat = {"id": uid, "type": "private"}
    message: dict[str, Any] = {"message_id": 1, "date": 0, "chat": chat, "from": sender}
    query: dict[str, Any] = {"id": query_id, "from": sender, "chat_instance": "1"}
    updates: dict[str, dict[str, Any]] = {
        "nothing": {},
        "inline_query": {"inline_query": {"id": "1", "from": sender, "query": "<b>", "offset": ""}},
        "game_callback": {"callback_query": {**query, "game_short_name": "g",
                                             "message": {**message, "text": "x"}}},
        "inaccessible_message": {"callback_query": {**query, "data": "v1|consent|yes",
                                                    "message": {**message, "date": 0}}},
        "long_command_entity": {"message": {**message, "text": "/start", "entities": [
            {"type": "bot_command", "offset": 0, "length": 99}]}},
        "no_content": {"message": message},
        "my_chat_member": {"my_chat_member": {
            "chat": chat, "from": sender, "date": 0,
            "old_chat_member": {"status": "member", "user": sender},
            "new_chat_member": {"status": "kicked", "user": sender, "until_date": 0}}},
        "bot_sender": {"message": {**message, "from": {**sender, "is_bot": True}, "text": "hi"}},
        "unknown_field": {"message": {**message, "text": "hi", "future_field": {"x": 1}},
                          "future_kind": {"y": 2}},
    }  # fmt: skip
    return {"update_id": 1, **updates[kind]}
