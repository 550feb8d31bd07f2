"""`coachbot simulate`: a scripted user run day by day through the rules, with no Telegram.

It calls the same functions the bot's course service calls (`course.begin`, `course.advance`,
`plan.plan_for`) on the same content, so the simulator and the bot cannot disagree. The scenario
format and the JSON output are fixed by shared/clinical-spec.md §3; `cleared: true` on a day (the
user says a professional has cleared them) is an addition the spec does not forbid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coachbot.content import Content
from coachbot.domain import intake
from coachbot.domain.course import Course, DayInput, advance, begin
from coachbot.domain.plan import plan_for
from coachbot.domain.triage import IntakeFacts, facts_of


class ScenarioError(Exception):
    """A scenario that cannot run; the message names the field."""


class ScenarioDay(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pain: int | None = Field(default=None, ge=0, le=10)
    skip: bool = False
    red_flags: tuple[str, ...] = ()
    cleared: bool = False

    @model_validator(mode="after")
    def _pain_or_skip(self) -> ScenarioDay:
        if (self.pain is None) == (not self.skip):
            raise ValueError("give either pain (0-10) or skip: true")
        return self


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
    days: tuple[ScenarioDay, ...] = ()

    @property
    def facts(self) -> IntakeFacts:
        return facts_of(self)


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
    _check_ids(path, scenario, content)
    return scenario


def _check_ids(path: Path, scenario: Scenario, content: Content) -> None:
    injuries = {injury.id for injury in content.injuries}
    flags = set(content.levels)
    if scenario.injury not in injuries:
        raise ScenarioError(f"{path}: injury: unknown injury id {scenario.injury!r}")
    if scenario.grade is not None and scenario.injury != intake.STRAIN:
        raise ScenarioError(f"{path}: grade: only a hamstring_strain has a grade")
    unknown = [(f"intake_red_flags[{i}]", flag) for i, flag in enumerate(scenario.intake_red_flags)]
    for number, day in enumerate(scenario.days):
        unknown += [
            (f"days[{number}].red_flags[{i}]", flag) for i, flag in enumerate(day.red_flags)
        ]
    for field, flag in unknown:
        if flag not in flags:
            raise ScenarioError(f"{path}: {field}: unknown red flag id {flag!r}")


def _day_entry(course: Course, day: int, content: Content) -> dict[str, Any]:
    avoid = content.injury(course.facts.injury).avoid
    exercises = plan_for(course, day, content.exercises, avoid)
    return {
        "day": day,
        "phase": course.phase,
        "status": course.status.value,
        "exercises": [{"id": e.id, "load": e.load} for e in exercises],
    }


def simulate(scenario: Scenario, content: Content) -> dict[str, Any]:
    """The spec's output: escalations, and for day 0 and each scripted day the plan and state."""
    levels = content.levels
    course = begin(scenario.facts, scenario.intake_red_flags, levels)
    days = [_day_entry(course, 0, content)]
    for number, day in enumerate(scenario.days, start=1):
        days.append(_day_entry(course, number, content))  # the plan sent before the answer
        entry = DayInput(pain=day.pain, red_flags=day.red_flags, cleared=day.cleared)
        course = advance(course, number, entry, levels)
    return {
        "injury": scenario.injury,
        "escalations": [
            {"day": e.day, "level": e.level.value, "reason": e.reason} for e in course.escalations
        ],
        "days": days,
    }


def table(scenario: Scenario, result: dict[str, Any]) -> str:
    """A readable day-by-day table of a simulation."""
    by_day: dict[int, list[str]] = {}
    for escalation in result["escalations"]:
        by_day.setdefault(escalation["day"], []).append(
            f"{escalation['level']}: {escalation['reason']}"
        )
    answers = ["(intake)"] + ["skip" if day.skip else str(day.pain) for day in scenario.days]
    lines = [f"{'day':>3}  {'pain':<8} {'phase':<10} {'status':<10} {'exercises':<44} escalations"]
    for row, answer in zip(result["days"], answers, strict=True):
        names = ", ".join(e["id"] for e in row["exercises"]) or "-"
        if len(names) > 44:
            names = names[:41] + "..."
        notes = "; ".join(by_day.get(row["day"], []))
        lines.append(
            f"{row['day']:>3}  {answer:<8} {row['phase'] or '-':<10} {row['status']:<10} "
            f"{names:<44} {notes}"
        )
    return "\n".join(lines)
