"""`coachbot simulate`: a scripted user run day by day through the rules, with no Telegram.

It calls the same functions the bot's course service calls (`begin`, `advance`, `plan_for`,
`asks_for`, `rescreen`) on the same content, so the simulator and the bot cannot disagree. The
scenario format and the JSON output are fixed by shared/clinical-spec.md §3 (version 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coachbot.content import Content
from coachbot.domain import intake
from coachbot.domain.course import Course, DayInput, advance, asks_for, begin, rescreen
from coachbot.domain.plan import plan_for
from coachbot.domain.screening import CHECK_IDS
from coachbot.domain.triage import IntakeFacts, facts_of
from coachbot.services.course import catalogue_of

Score = Field(default=None, ge=0, le=10)


class ScenarioError(Exception):
    """A scenario that cannot run; the message names the field."""


class ScenarioDay(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pain: int | None = Score
    skip: bool = False
    session: Literal["done", "partly", "skipped"] | None = None
    exercise_pain: int | None = Score
    checks: dict[str, bool] = {}
    function: int | None = Score
    red_flags: tuple[str, ...] = ()
    seen: bool = False
    cleared: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioDay:
        answered = (self.pain, self.session, self.exercise_pain, self.function)
        given = any(v is not None for v in answered) or self.checks or self.red_flags
        if self.skip and (given or self.seen or self.cleared):
            raise ValueError("skip: true cannot be combined with other answers")
        if self.exercise_pain is not None and self.session not in ("done", "partly"):
            raise ValueError("exercise_pain needs session: done or partly")
        return self

    def entry(self) -> DayInput:
        return DayInput(pain=self.pain, session=self.session, exercise_pain=self.exercise_pain,
                        checks=tuple(self.checks.items()), function=self.function,
                        red_flags=self.red_flags, cleared=self.cleared, seen=self.seen)  # fmt: skip


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    injury: str
    grade: int | None = Field(default=None, ge=1, le=3)
    age: int = Field(ge=intake.MIN_AGE, le=intake.MAX_AGE)
    onset: Literal["sudden", "gradual"]
    onset_days_ago: int = Field(ge=0, le=intake.MAX_ONSET_DAYS)
    location: Literal["upper", "middle", "lower"]
    baseline_pain: int = Field(ge=0, le=10)
    intake_red_flags: tuple[str, ...] = ()
    mechanism: Literal["sprint", "stretch", "blow", "other"] = "other"
    walking: Literal["normal", "limp", "cannot"] = "normal"
    previous_injury: bool = False
    goal: Literal["sport", "everyday"] = "everyday"
    activity: str | None = Field(default=None, min_length=1, max_length=intake.MAX_ACTIVITY_LENGTH)
    function_baseline: int | None = Score
    days: tuple[ScenarioDay, ...] = ()

    @property
    def facts(self) -> IntakeFacts:
        # §3: `grade` is ignored for injuries other than hamstring_strain.
        grade = self.grade if self.injury == intake.STRAIN else None
        return facts_of(self, grade=grade)


def _field_name(location: tuple[int | str, ...]) -> str:
    name = ""
    for part in location:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "(scenario)"


def load_scenario(path: Path, content: Content) -> Scenario:
    """Read and validate a scenario file against the spec's format and the content's ids."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping of scenario fields")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ScenarioError(f"{path}: {_field_name(error['loc'])}: {error['msg']}") from None
    problem = _check_ids(scenario, content)
    if problem:
        raise ScenarioError(f"{path}: {problem}")
    return scenario


def _check_ids(scenario: Scenario, content: Content) -> str | None:
    """The first id or cross-field problem, naming its field (None: the scenario is sound)."""
    if scenario.injury not in {injury.id for injury in content.injuries}:
        return f"injury: unknown injury id {scenario.injury!r}"
    if (scenario.activity is None) != (scenario.function_baseline is None):
        field = "function_baseline" if scenario.activity is not None else "activity"
        return f"{field}: activity and function_baseline come together"
    flags = set(content.levels)
    for i, flag in enumerate(scenario.intake_red_flags):
        if flag not in flags:
            return f"intake_red_flags[{i}]: unknown red flag id {flag!r}"
    for number, day in enumerate(scenario.days):
        for i, flag in enumerate(day.red_flags):
            if flag not in flags:
                return f"days[{number}].red_flags[{i}]: unknown red flag id {flag!r}"
        for check in day.checks:
            if check not in CHECK_IDS:
                return f"days[{number}].checks.{check}: unknown check id {check!r}"
        if day.function is not None and scenario.activity is None:
            return (
                f"days[{number}].function: a function answer needs activity and function_baseline"
            )
    return None


def _day_entry(course: Course, day: int, content: Content, after: Course | None) -> dict[str, Any]:
    """Day `day` as planned from `course` (the state before the day's answers); `after` is the
    state once they were applied (its re-screen is part of the day's screen)."""
    catalogue = catalogue_of(content)
    asks = asks_for(course, day, catalogue)
    again = set(rescreen(after, day, catalogue)) if after is not None else set()
    screen = [flag.id for flag in content.red_flags if flag.id in again or flag.id in asks.screen]
    return {
        "day": day,
        "phase": course.phase,
        "status": course.status.value,
        "held": course.held,
        "exercises": [
            {"id": e.id, "load": e.load, "every": e.every, "minutes": e.minutes}
            for e in plan_for(course, day, catalogue)
        ],  # fmt: skip
        "asks": asks.names(),
        "screen": screen,
    }


def simulate(scenario: Scenario, content: Content) -> dict[str, Any]:
    """The spec's output: group, escalations, the plan and state of each day, and transitions."""
    catalogue = catalogue_of(content)
    course = begin(scenario.facts, scenario.intake_red_flags, catalogue)
    days = [_day_entry(course, 0, content, None)]
    for number, day in enumerate(scenario.days, start=1):
        after = advance(course, number, day.entry(), catalogue)
        days.append(_day_entry(course, number, content, after))
        course = after
    return {
        "injury": scenario.injury,
        "group": course.group.value if course.group else None,
        "escalations": [
            {"day": e.day, "level": e.level.value, "reason": e.reason} for e in course.escalations
        ],
        "days": days,
        "transitions": [
            {"day": t.day, "phase": t.phase, "status": t.status.value, "reason": t.reason}
            for t in course.transitions
            if t.day > 0
        ],
    }


def table(scenario: Scenario, result: dict[str, Any]) -> str:
    """A readable day-by-day table of a simulation."""
    by_day: dict[int, list[str]] = {}
    for escalation in result["escalations"]:
        by_day.setdefault(escalation["day"], []).append(
            f"{escalation['level']}: {escalation['reason']}"
        )
    for change in result["transitions"]:
        by_day.setdefault(change["day"], []).append(f"-> {change['phase']} ({change['reason']})")
    answers = ["(intake)"] + [_answer(day) for day in scenario.days]
    lines = [f"{'day':>3}  {'answers':<14} {'phase':<10} {'status':<10} {'exercises':<44} notes"]
    for row, answer in zip(result["days"], answers, strict=True):
        names = ", ".join(e["id"] for e in row["exercises"]) or "-"
        if len(names) > 44:
            names = names[:41] + "..."
        notes = "; ".join(by_day.get(row["day"], []))
        held = "*" if row["held"] else ""
        lines.append(
            f"{row['day']:>3}  {answer:<14} {(row['phase'] or '-') + held:<10} {row['status']:<10} "
            f"{names:<44} {notes}"
        )
    return "\n".join(lines)


def _answer(day: ScenarioDay) -> str:
    if day.skip:
        return "skip"
    parts = [] if day.pain is None else [str(day.pain)]
    if day.session:
        parts.append(day.session[0] + ("" if day.exercise_pain is None else str(day.exercise_pain)))
    return "/".join(parts) or "-"
