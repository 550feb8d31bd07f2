"""Build enrolled users straight in the database, in one line (for scheduling and load tests)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from coachbot.domain.schedule import first_prompt_at
from coachbot.storage.db import Database
from coachbot.storage.models import User


async def add_enrolled_users(
    database_url: str, user_ids: range | list[int], *, enrolled_at: datetime,
    zone: str = "Europe/London", reminder: time = time(8, 0), injury: str = "hamstring_contusion",
    baseline_pain: int = 4, phase: str = "protect",
) -> None:  # fmt: skip
    """Users who finished enrolment at `enrolled_at`, first prompt at their next `reminder`."""
    due = first_prompt_at(reminder, ZoneInfo(zone), enrolled_at, enrolled_at)
    rows = [
        {
            "telegram_user_id": uid,
            "chat_id": uid,
            "status": "active",
            "enrolment_step": None,
            "consented_at": enrolled_at,
            "injury": injury,
            "age": 30,
            "onset": "sudden",
            "onset_days_ago": 1,
            "location": "middle",
            "grade": None,
            "baseline_pain": baseline_pain,
            "phase": phase,
            "phase_since": enrolled_at.astimezone(ZoneInfo(zone)).date(),
            "reminder_time": reminder,
            "timezone": zone,
            "next_prompt_at": due,
            "enrolled_at": enrolled_at,
            "created_at": enrolled_at,
            "updated_at": enrolled_at,
        }  # fmt: skip
        for uid in user_ids
    ]
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            for start in range(0, len(rows), 5000):
                await session.execute(insert(User), rows[start : start + 5000])
    finally:
        await db.dispose()


ENROLLED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
