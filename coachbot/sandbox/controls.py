"""The sandbox's time travel and inspector: see weeks of a course in minutes.

Only `coachbot demo` (terminal or web) builds these; `coachbot run` has no way to reach them. The
bot runs on a `TravelClock`; jumping moves that clock to the user's next daily prompt and runs the
dispatcher at once, so the prompt arrives as it would on that morning. The inspector replays the
stored answers through the same rules the bot uses (`CourseService.today`) and shows what they
see: phase and since when, status, holds, and the last decisions with the rule and the numbers
behind each.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from coachbot.bot.app import ExtraCommands
from coachbot.clock import TravelClock
from coachbot.domain.course import Course, Transition
from coachbot.domain.triage import Escalation
from coachbot.scheduler import Dispatcher
from coachbot.services.container import Services
from coachbot.services.course import NotEnrolled, enrolment_date
from coachbot.storage import repositories as repo

MAX_SKIP_DAYS = 28
LAST_DECISIONS = 8

# Which rule of the clinical spec decides each change and escalation (see its §1.6 and §2).
RULE_OF_CHANGE = {
    "progression": "rule 7",
    "completed": "rule 7",
    "flare_up": "rule 6",
    "exercise_pain": "rule 11",
    "silence": "rule 9",
    "returned": "rule 9",
    "cleared": "rule 12",
}
RULE_OF_ESCALATION = {
    "referral_injury": "rule 2",
    "under_16": "rule 2",
    "recurrent_injury": "rule 2",
    "suspected_avulsion": "rule 3",
    "no_improvement": "rule 4",
    "worsening": "rule 5",
    "recurrent_flare": "rule 6",
    "severe_pain": "rule 10",
}  # any other reason is a red flag: rule 1


@dataclass(frozen=True)
class Jump:
    """Where a jump landed and what it did."""

    now: datetime
    local_time: str
    said: str
    moved: bool = True  # False: nothing to jump to

    def to_json(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "local_time": self.local_time, "said": self.said}


class Controls:
    """Time travel and the inspector for one sandbox (the emulator's `SandboxControls`)."""

    def __init__(self, services: Services, dispatcher: Dispatcher, clock: TravelClock) -> None:
        self._services = services
        self._dispatcher = dispatcher
        self._clock = clock

    async def control(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /_sandbox/control/<action>`: next, skip, inspect."""
        user_id = body.get("user_id")
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise ValueError("user_id (a number) is required")
        if action == "next":
            return (await self.next_prompt(user_id)).to_json()
        if action == "skip":
            days = body.get("days")
            if not isinstance(days, int) or isinstance(days, bool):
                raise ValueError("days (a number) is required")
            return (await self.skip(user_id, days)).to_json()
        if action == "inspect":
            return await self.inspect(user_id)
        raise LookupError(f"no control {action!r}: next, skip or inspect")

    async def next_prompt(self, user_id: int) -> Jump:
        """Jump to the user's next daily prompt and send it."""
        zone, due = await self._schedule(user_id)
        if due is None:
            return self._landed(zone, "No daily prompt is scheduled (not enrolled yet, or the "
                                      "prompts are off): nothing to jump to.", moved=False)  # fmt: skip
        self._clock.jump_to(due + timedelta(seconds=1))
        await self._dispatcher.tick()
        return self._landed(zone, "Jumped to the next daily prompt.")

    async def skip(self, user_id: int, days: int) -> Jump:
        """Jump `days` days ahead, each day's prompt sent and left unanswered (silence)."""
        if not 1 <= days <= MAX_SKIP_DAYS:
            raise ValueError(f"days must be 1-{MAX_SKIP_DAYS}")
        zone, _ = await self._schedule(user_id)
        end = self._clock() + timedelta(days=days)
        sent = 0
        while True:
            _, due = await self._schedule(user_id)
            if due is None or due >= end:
                break
            self._clock.jump_to(due + timedelta(seconds=1))
            sent += (await self._dispatcher.tick()).sent
        self._clock.jump_to(end)
        await self._dispatcher.tick()
        prompts = "1 prompt" if sent == 1 else f"{sent} prompts"
        return self._landed(zone, f"Jumped {days} day{'s' * (days != 1)} ahead: {prompts} "
                                  "sent and left unanswered.")  # fmt: skip

    async def inspect(self, user_id: int) -> dict[str, Any]:
        """What the rules see today, as JSON for the web inspector."""
        now = self._clock()
        try:
            user, day, course = await self._services.course.today(user_id)
        except NotEnrolled:
            zone, _ = await self._schedule(user_id)
            return {"enrolled": False, "now": now.isoformat(), "local_time": _local(now, zone)}
        assert user.timezone is not None
        zone = ZoneInfo(user.timezone)
        content = self._services.content
        start = enrolment_date(user)
        due = user.next_prompt_at if user.prompts_off is None else None
        return {
            "enrolled": True,
            "now": now.isoformat(),
            "local_time": _local(now, zone),
            "day": day,
            "injury": content.injury(course.facts.injury).label,
            "group": course.group.value if course.group else None,
            "phase": course.phase,
            "phase_name": content.phase(course.phase).name if course.phase else None,
            "phase_since": course.phase_since,
            "days_in_phase": course.days_in_phase(day) if course.phase else None,
            "status": course.status.value,
            "prompts_off": user.prompts_off,
            "holds": [f"{_hold_reason(course, d)} since day {d}" for d in course.holds],
            "next_prompt": _local(due, zone) if due is not None else None,
            "started": start.isoformat(),
            "ratings": [list(r) for r in course.ratings],
            "decisions": decisions(course)[:LAST_DECISIONS],
        }

    async def _schedule(self, user_id: int) -> tuple[ZoneInfo | None, datetime | None]:
        async with self._services.db.read() as session:
            user = await repo.get_user(session, user_id)
        if user is None:
            return None, None
        zone = ZoneInfo(user.timezone) if user.timezone else None
        return zone, user.next_prompt_at if user.prompts_off is None else None

    def _landed(self, zone: ZoneInfo | None, said: str, *, moved: bool = True) -> Jump:
        now = self._clock()
        return Jump(now, _local(now, zone), said, moved)


def decisions(course: Course) -> list[dict[str, Any]]:
    """Every change of phase or status and every escalation, newest first, with its rule and
    the numbers that triggered it."""
    found: list[tuple[int, int, dict[str, Any]]] = []
    phase_before: str | None = None
    for order, step in enumerate(course.transitions):
        found.append((step.day, order, _start(course) if order == 0 else _change(step, phase_before)))
        phase_before = step.phase
    for order, escalation in enumerate(course.escalations):
        found.append((escalation.day, order, _escalation(escalation)))
    return [item for _, _, item in sorted(found, key=lambda f: (f[0], f[1]), reverse=True)]


def _start(course: Course) -> dict[str, Any]:
    """Day 0: where the intake put the course (rules 2, 3 and 10's day-0 part choose)."""
    step, facts = course.transitions[0], course.facts
    summary = f"starts in {step.phase}" if step.phase else "no program"
    if step.status.value != "active":
        summary += f", {step.status.value} ({step.reason})"
    why = (f"{facts.injury}, {facts.onset} onset {facts.onset_days_ago} days before, rest pain "
           f"{facts.baseline_pain}, group {course.group.value if course.group else '-'}")  # fmt: skip
    return {"day": 0, "rule": "intake", "kind": "intake", "summary": summary, "why": why}


def _change(step: Transition, phase_before: str | None) -> dict[str, Any]:
    if step.phase != phase_before:
        summary = f"{phase_before} → {step.phase}"
    else:
        summary = f"{step.status.value} ({step.phase})" if step.phase else step.status.value
    kind = step.reason if step.reason in RULE_OF_CHANGE else "status"
    return {"day": step.day, "rule": RULE_OF_CHANGE.get(step.reason, "rule 1"), "kind": kind,
            "summary": summary, "why": step.cause}  # fmt: skip


def _escalation(escalation: Escalation) -> dict[str, Any]:
    rule = RULE_OF_ESCALATION.get(escalation.reason, "rule 1")
    why = escalation.why or ("red flag answered yes" if rule == "rule 1" else escalation.reason)
    return {"day": escalation.day, "rule": rule, "kind": "escalation",
            "summary": f"{escalation.level.value} advice: {escalation.reason}", "why": why}  # fmt: skip


def _hold_reason(course: Course, day: int) -> str:
    reasons = [e.reason for e in course.escalations if e.day == day and e.level.value == "routine"]
    return ", ".join(reasons) or "advice"


def _local(when: datetime | None, zone: ZoneInfo | None) -> str:
    if when is None:
        return "-"
    local = when.astimezone(zone) if zone else when
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M} {zone.key if zone else 'UTC'}"


def state_text(inspection: dict[str, Any]) -> str:
    """The inspector as plain text, for the terminal demo and the chat's /state."""
    if not inspection["enrolled"]:
        return f"{inspection['local_time']}\nNot enrolled yet: send /start."
    phase = inspection["phase"] or "none"
    lines = [
        f"{inspection['local_time']}, day {inspection['day']}",
        f"Injury: {inspection['injury']} (group {inspection['group'] or '-'})",
        f"Phase: {phase}" + (f" since day {inspection['phase_since']} "
                             f"({inspection['days_in_phase']} days)" if inspection["phase"] else ""),
        f"Status: {inspection['status']}"
        + (f", prompts off ({inspection['prompts_off']})" if inspection["prompts_off"] else ""),
        f"Holds: {'; '.join(inspection['holds']) or 'none'}",
        f"Next prompt: {inspection['next_prompt'] or 'none scheduled'}",
        "Rest pain: " + " → ".join(str(p) for _, p in inspection["ratings"][-10:]),
        "Last decisions:",
    ]
    lines += [f"  day {d['day']}, {d['rule']}: {d['summary']}: {d['why']}"
              for d in inspection["decisions"]] or ["  none yet"]  # fmt: skip
    return "\n".join(lines)


CONTROLS_KEY = "sandbox_controls"  # bot_data: the sandbox's Controls


async def _say(update: Update, text: str) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"<i>{html.escape(text)}</i>",
                                              parse_mode=ParseMode.HTML)  # fmt: skip


def _controls(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Controls, int]:
    assert update.effective_user is not None
    return context.application.bot_data[CONTROLS_KEY], update.effective_user.id


async def on_next(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    controls, user_id = _controls(update, context)
    await _say(update, "Sandbox: jumping to the next daily prompt…")
    jump = await controls.next_prompt(user_id)
    if not jump.moved:
        await _say(update, jump.said)


async def on_skip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    controls, user_id = _controls(update, context)
    args = context.args or []
    if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= MAX_SKIP_DAYS:
        await _say(update, f"Sandbox: /skip N jumps N days ahead (1-{MAX_SKIP_DAYS}), "
                           "answering nothing. For example /skip 3.")  # fmt: skip
        return
    jump = await controls.skip(user_id, int(args[0]))
    await _say(update, f"Sandbox: {jump.said} Now {jump.local_time}.")


async def on_state(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    controls, user_id = _controls(update, context)
    await _say(update, state_text(await controls.inspect(user_id)))


# The sandbox-only chat commands (never in `coachbot run`), for `build_application`.
CHAT_COMMANDS: ExtraCommands = (
    (BotCommand("next", "Sandbox: jump to the next daily prompt"), on_next),
    (BotCommand("skip", "Sandbox: jump N days ahead, answering nothing"), on_skip),
    (BotCommand("state", "Sandbox: what the rules see now"), on_state),
)
