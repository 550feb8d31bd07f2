"""When a user's next daily prompt is due, in UTC, from their local reminder time and IANA zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_due_time(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of `at` on local `day`, well-defined across daylight-saving changes.

    A time skipped by a spring-forward gap is sent at the same wall-clock distance after the gap
    (02:30 becomes 03:30); a time repeated by a fall-back is sent at its first occurrence.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0)
    # zoneinfo resolves a non-existent time with fold=0 using the offset from before the gap;
    # round-tripping through UTC exposes that and moves it forward past the gap.
    round_trip = first.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != naive:
        return round_trip.astimezone(UTC)
    return first.astimezone(UTC)


def next_prompt_at(at: time, zone: ZoneInfo, now: datetime) -> datetime:
    """The first daily prompt strictly after `now` (aware), in UTC."""
    local_today = now.astimezone(zone).date()
    for offset in range(3):  # today, tomorrow, or (across a gap) the day after
        due = local_due_time(local_today + timedelta(days=offset), at, zone)
        if due > now:
            return due
    raise AssertionError("unreachable: a daily time always recurs within three days")


def first_prompt_at(at: time, zone: ZoneInfo, now: datetime, enrolled_at: datetime) -> datetime:
    """The next prompt, never on the enrolment day itself: day 1 is the first check-in."""
    enrolment_day = enrolled_at.astimezone(zone).date()
    day_one = datetime.combine(enrolment_day + timedelta(days=1), time(0), tzinfo=zone)
    return next_prompt_at(at, zone, max(now, day_one.astimezone(UTC) - timedelta(microseconds=1)))
