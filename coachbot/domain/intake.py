"""The enrolment questionnaire: which question comes next, and what counts as a valid answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

MIN_AGE, MAX_AGE = 10, 110
MAX_ONSET_DAYS = 3650  # ten years: anything older is "a long time" and still a valid answer
MAX_ANSWER_LENGTH = 200  # longer free text is not an answer to any of our questions
ONSETS = ("sudden", "gradual")
LOCATIONS = ("upper", "middle", "lower")
GRADES = ("1", "2", "3", "unknown")
MECHANISMS = ("sprint", "stretch", "blow", "other")
WALKING = ("normal", "limp", "cannot")
GOALS = ("sport", "everyday")
YES_NO = ("yes", "no")
SKIP = "skip"  # the activity question may be skipped
MAX_ACTIVITY_LENGTH = 60
STRAIN = "hamstring_strain"

CONSENT, INJURY, AGE, ONSET, ONSET_DAYS = "consent", "injury", "age", "onset", "onset_days"
MECHANISM, LOCATION, GRADE, WALKING_STEP = "mechanism", "location", "grade", "walking"
PREVIOUS_INJURY, BASELINE_PAIN, GOAL = "previous_injury", "baseline_pain", "goal"
ACTIVITY, FUNCTION_BASELINE = "activity", "function_baseline"
REMINDER_TIME, TIMEZONE = "reminder_time", "timezone"
RED_FLAG_PREFIX = "red_flag:"


class InvalidAnswer(ValueError):
    """An answer the question cannot take; `.step` says which question, for the right message."""

    def __init__(self, step: str) -> None:
        super().__init__(step)
        self.step = step


def steps(answers: object, red_flag_ids: tuple[str, ...]) -> tuple[str, ...]:
    """Every question, in order, for the answers given so far (any object with the intake
    facts' attribute names): the mechanism only for a sudden onset, the strain grade only for
    strains, the function score only when an activity was named (spec v2 §1.2)."""
    injury, onset = getattr(answers, "injury", None), getattr(answers, "onset", None)
    mechanism = (MECHANISM,) if onset == "sudden" else ()
    grade = (GRADE,) if injury == STRAIN else ()
    function = (FUNCTION_BASELINE,) if getattr(answers, "activity", None) else ()
    return (
        CONSENT,
        INJURY,
        AGE,
        ONSET,
        ONSET_DAYS,
        *mechanism,
        LOCATION,
        *grade,
        WALKING_STEP,
        PREVIOUS_INJURY,
        BASELINE_PAIN,
        GOAL,
        ACTIVITY,
        *function,
        *(RED_FLAG_PREFIX + flag for flag in red_flag_ids),
        REMINDER_TIME,
        TIMEZONE,
    )


def next_step(current: str, answers: object, red_flag_ids: tuple[str, ...]) -> str | None:
    """The question after `current`, or None when enrolment is complete."""
    order = steps(answers, red_flag_ids)
    position = order.index(current)
    return order[position + 1] if position + 1 < len(order) else None


def red_flag_of(step: str) -> str | None:
    return step.removeprefix(RED_FLAG_PREFIX) if step.startswith(RED_FLAG_PREFIX) else None


def _whole_number(text: str, step: str, low: int, high: int) -> int:
    cleaned = text.strip()
    if not re.fullmatch(r"\d{1,5}", cleaned) or not low <= int(cleaned) <= high:
        raise InvalidAnswer(step)
    return int(cleaned)


def parse_age(text: str) -> int:
    return _whole_number(text, AGE, MIN_AGE, MAX_AGE)


def parse_onset_days(text: str) -> int:
    return _whole_number(text, ONSET_DAYS, 0, MAX_ONSET_DAYS)


def parse_pain(text: str, step: str = BASELINE_PAIN) -> int:
    return _whole_number(text, step, 0, 10)


def parse_choice(value: str, step: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidAnswer(step)
    return value


def parse_reminder_time(text: str) -> time:
    """`HH:MM` (or `H:MM`, `HH.MM`) in 24-hour time."""
    match = re.fullmatch(r"([01]?\d|2[0-3])[:.]([0-5]\d)", text.strip())
    if not match:
        raise InvalidAnswer(REMINDER_TIME)
    return time(int(match[1]), int(match[2]))


_OFFSET = re.compile(r"(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?00)?", re.IGNORECASE)
_ZONES_BY_FOLDED_NAME = {name.casefold(): name for name in available_timezones()}


def parse_timezone(text: str) -> str:
    """The IANA zone name for an IANA name (any case) or a whole-hour UTC offset such as `UTC+2` or `-05:00`.

    Offsets become the IANA `Etc/GMT` zones (whose signs are inverted by POSIX convention), so
    everything stored is an IANA name. Half-hour offsets have no such zone: the user is asked for
    a place name instead, which also follows daylight saving.
    """
    cleaned = text.strip()
    if cleaned.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    offset = _OFFSET.fullmatch(cleaned)
    if offset:
        hours = int(offset[2]) * (1 if offset[1] == "+" else -1)
        if not -12 <= hours <= 14:
            raise InvalidAnswer(TIMEZONE)
        if hours == 0:
            return "UTC"
        return f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"
    name = _ZONES_BY_FOLDED_NAME.get(cleaned.replace(" ", "_").casefold())
    if name is None:
        raise InvalidAnswer(TIMEZONE)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidAnswer(TIMEZONE) from None
    return name


def zone_label(zone_name: str) -> str:
    """How a stored zone is shown to the user: `Etc/GMT-2` reads as `UTC+2`."""
    if not zone_name.startswith("Etc/GMT"):
        return zone_name
    offset = -int(zone_name.removeprefix("Etc/GMT") or 0)
    return f"UTC{offset:+d}" if offset else "UTC"


def parse_activity(text: str) -> str | None:
    """The one activity the problem stops (PSFS), or None when skipped; at most 60 characters."""
    cleaned = " ".join(text.split())
    if cleaned.casefold() == SKIP:
        return None
    if not cleaned or len(cleaned) > MAX_ACTIVITY_LENGTH or not cleaned.isprintable():
        raise InvalidAnswer(ACTIVITY)
    return cleaned


def _grade(value: str) -> int | None:
    grade = parse_choice(value, GRADE, GRADES)
    return None if grade == "unknown" else int(grade)


_FIELD_PARSERS: dict[str, tuple[str, Callable[[str], object]]] = {
    AGE: ("age", parse_age),
    ONSET: ("onset", lambda value: parse_choice(value, ONSET, ONSETS)),
    ONSET_DAYS: ("onset_days_ago", parse_onset_days),
    LOCATION: ("location", lambda value: parse_choice(value, LOCATION, LOCATIONS)),
    GRADE: ("grade", _grade),
    MECHANISM: ("mechanism", lambda value: parse_choice(value, MECHANISM, MECHANISMS)),
    WALKING_STEP: ("walking", lambda value: parse_choice(value, WALKING_STEP, WALKING)),
    PREVIOUS_INJURY: (
        "previous_injury",
        lambda value: parse_choice(value, PREVIOUS_INJURY, YES_NO) == "yes",
    ),
    BASELINE_PAIN: ("baseline_pain", parse_pain),
    GOAL: ("goal", lambda value: parse_choice(value, GOAL, GOALS)),
    ACTIVITY: ("activity", parse_activity),
    FUNCTION_BASELINE: ("function_baseline", lambda value: parse_pain(value, FUNCTION_BASELINE)),
    REMINDER_TIME: ("reminder_time", parse_reminder_time),
    TIMEZONE: ("timezone", parse_timezone),
}


def parse_fact(step: str, value: str, injury_ids: tuple[str, ...]) -> dict[str, object]:
    """The user fields that an answer to a fact question sets (raises InvalidAnswer)."""
    if step == INJURY:
        return {"injury": parse_choice(value, INJURY, injury_ids)}
    field_name, parse = _FIELD_PARSERS[step]
    return {field_name: parse(value)}
