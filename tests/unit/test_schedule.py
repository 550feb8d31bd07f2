"""The next prompt time: the user's local time in their zone, stored in UTC, right across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from coachbot.domain.schedule import local_due_time, next_prompt_at

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


class TestLocalDueTime:
    def test_winter_and_summer_in_london(self) -> None:
        """08:00 in London is 08:00 UTC in winter and 07:00 UTC in summer."""
        assert local_due_time(date(2026, 1, 10), time(8), LONDON) == datetime(
            2026, 1, 10, 8, tzinfo=UTC
        )
        assert local_due_time(date(2026, 7, 10), time(8), LONDON) == datetime(
            2026, 7, 10, 7, tzinfo=UTC
        )

    def test_skipped_hour_moves_forward(self) -> None:
        """01:30 does not exist on 29 March 2026 in London: it is sent at 02:30 BST (01:30 UTC)."""
        due = local_due_time(date(2026, 3, 29), time(1, 30), LONDON)
        assert due == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
        assert due.astimezone(LONDON).hour == 2

    def test_repeated_hour_is_sent_once_at_its_first_occurrence(self) -> None:
        """01:30 happens twice on 25 October 2026 in London: the first (BST) one counts."""
        assert local_due_time(date(2026, 10, 25), time(1, 30), LONDON) == datetime(
            2026, 10, 25, 0, 30, tzinfo=UTC
        )

    def test_new_york_gap(self) -> None:
        """02:15 on 8 March 2026 in New York is skipped: sent at 03:15 EDT."""
        due = local_due_time(date(2026, 3, 8), time(2, 15), NEW_YORK)
        assert due.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2026, 3, 8, 3, 15)


class TestNextPromptAt:
    @pytest.mark.parametrize(
        ("now", "expected"),
        [
            (datetime(2026, 11, 24, 7, 59, tzinfo=UTC), datetime(2026, 11, 24, 8, tzinfo=UTC)),
            (datetime(2026, 11, 24, 8, 0, tzinfo=UTC), datetime(2026, 11, 25, 8, tzinfo=UTC)),
            (datetime(2026, 11, 24, 8, 1, tzinfo=UTC), datetime(2026, 11, 25, 8, tzinfo=UTC)),
        ],
    )
    def test_strictly_after_now(self, now: datetime, expected: datetime) -> None:
        """A prompt due exactly now is not 'next': the next one is tomorrow."""
        assert next_prompt_at(time(8), LONDON, now) == expected

    def test_local_date_decides_not_utc_date(self) -> None:
        """At 23:30 UTC it is already tomorrow in Tokyo; 08:00 Tokyo is 8.5 hours later."""
        now = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
        due = next_prompt_at(time(8), ZoneInfo("Asia/Tokyo"), now)
        assert due == datetime(2026, 11, 25, 23, 0, tzinfo=UTC)

    def test_across_spring_forward(self) -> None:
        """The day after 28 March at 08:00 London (GMT) is 29 March 08:00 BST, 23 hours later."""
        now = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
        assert next_prompt_at(time(8), LONDON, now) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
