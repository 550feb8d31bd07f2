"""Repositories: the only code that builds queries. They take a session and return plain DTOs."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from coachbot.domain.triage import Escalation, Level
from coachbot.storage.models import CheckIn, PhaseChange, ProcessedUpdate, RedFlagAnswer, User
from coachbot.storage.models import Escalation as EscalationRow


@dataclass(frozen=True)
class UserRecord:
    """A user as the services see it (never an ORM object)."""

    id: int
    telegram_user_id: int
    chat_id: int
    status: str
    enrolment_step: str | None
    consented_at: datetime | None
    injury: str | None
    age: int | None
    onset: str | None
    onset_days_ago: int | None
    location: str | None
    grade: int | None
    baseline_pain: int | None
    phase: str | None
    phase_since: date | None
    reminder_time: time | None
    timezone: str | None
    next_prompt_at: datetime | None
    prompts_off: str | None
    enrolled_at: datetime | None
    weekly_summary: bool
    enrolled_on: date | None


_USER_FIELDS = tuple(field.name for field in fields(UserRecord))
# What "start over" clears: every intake fact and program position (the identity stays).
_PROGRAM_FIELDS = (
    "injury",
    "age",
    "onset",
    "onset_days_ago",
    "location",
    "grade",
    "baseline_pain",
    "phase",
    "phase_since",
    "reminder_time",
    "timezone",
    "next_prompt_at",
    "enrolled_at",
    "enrolled_on",
    "prompts_off",
)


def _record(row: User) -> UserRecord:
    return UserRecord(**{name: getattr(row, name) for name in _USER_FIELDS})


async def get_user(session: AsyncSession, telegram_user_id: int) -> UserRecord | None:
    row = await session.scalar(select(User).where(User.telegram_user_id == telegram_user_id))
    return None if row is None else _record(row)


async def create_user(
    session: AsyncSession, telegram_user_id: int, chat_id: int, *, step: str, now: datetime
) -> UserRecord:
    row = User(
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        status="enrolling",
        enrolment_step=step,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return _record(row)


async def update_user(session: AsyncSession, user_id: int, now: datetime, **values: Any) -> None:
    unknown = set(values) - set(_USER_FIELDS)
    if unknown:
        raise TypeError(f"not user fields: {sorted(unknown)}")
    await session.execute(update(User).where(User.id == user_id).values(updated_at=now, **values))


async def _delete_course(session: AsyncSession, user_id: int) -> None:
    # Explicit rather than left to ON DELETE CASCADE alone, which SQLite honours only with
    # foreign_keys=ON on that very connection.
    for _, column in USER_TABLES[1:]:
        await session.execute(delete(column.class_).where(column == user_id))


async def delete_user(session: AsyncSession, user_id: int) -> None:
    """Erase a user and every row about them (in the caller's transaction)."""
    await _delete_course(session, user_id)
    await session.execute(delete(User).where(User.id == user_id))


async def reset_program(session: AsyncSession, user_id: int, *, step: str, now: datetime) -> None:
    """Start over: clear the intake, the log and the program, keep the identity and consent."""
    await _delete_course(session, user_id)
    cleared = dict.fromkeys(_PROGRAM_FIELDS)
    await update_user(session, user_id, now, status="enrolling", enrolment_step=step, **cleared)


async def record_red_flag_answer(
    session: AsyncSession,
    user_id: int,
    flag_id: str,
    answer: bool,
    *,
    screening: str,
    now: datetime,
    day: date | None = None,  # the local date a daily answer belongs to
) -> None:
    session.add(
        RedFlagAnswer(
            user_id=user_id,
            flag_id=flag_id,
            answer=answer,
            screening=screening,
            day=day,
            answered_at=now,
        )
    )


async def red_flag_answers(
    session: AsyncSession, user_id: int, screening: str
) -> list[tuple[str, bool]]:
    rows = await session.execute(
        select(RedFlagAnswer.flag_id, RedFlagAnswer.answer)
        .where(RedFlagAnswer.user_id == user_id, RedFlagAnswer.screening == screening)
        .order_by(RedFlagAnswer.id)
    )
    return [(flag, answer) for flag, answer in rows.all()]


async def record_escalation(
    session: AsyncSession, user_id: int, escalation: Escalation, *, cause: str, now: datetime
) -> None:
    session.add(
        EscalationRow(
            user_id=user_id,
            level=escalation.level.value,
            reason=escalation.reason,
            program_day=escalation.day,
            cause=cause,
            raised_at=now,
        )
    )


async def record_phase_change(
    session: AsyncSession,
    user_id: int,
    *,
    phase: str | None,
    status: str,
    started_on: date,
    reason: str,
    cause: str | None,
    now: datetime,
) -> None:
    session.add(
        PhaseChange(
            user_id=user_id,
            phase=phase,
            status=status,
            started_on=started_on,
            reason=reason,
            cause=cause,
            created_at=now,
        )
    )


async def save_day_answers(
    session: AsyncSession,
    user_id: int,
    day: date,
    *,
    pain: int | None,
    cleared: bool,
    red_flags: tuple[str, ...],
    now: datetime,
) -> None:
    """Store one day's answers: a rating replaces that day's earlier one, never adds a second."""
    check_in = await session.scalar(
        select(CheckIn).where(CheckIn.user_id == user_id, CheckIn.day == day)
    )
    if check_in is None:
        check_in = CheckIn(user_id=user_id, day=day, cleared=False)
        session.add(check_in)
    if pain is not None:
        check_in.pain, check_in.rated_at = pain, now
    check_in.cleared = check_in.cleared or cleared
    reported = await flags_reported_on(session, user_id, day)
    # A red flag is reported once a day: the same press re-sent (a new update id) adds nothing.
    for flag in dict.fromkeys(red_flags):
        if flag not in reported:
            await record_red_flag_answer(
                session, user_id, flag, True, screening="daily", now=now, day=day
            )
    await session.flush()


async def flags_reported_on(session: AsyncSession, user_id: int, day: date) -> set[str]:
    """The red flags the user reported on local date `day` (after enrolment)."""
    rows = await session.execute(
        select(RedFlagAnswer.flag_id).where(
            RedFlagAnswer.user_id == user_id,
            RedFlagAnswer.day == day,
            RedFlagAnswer.screening == "daily",
        )
    )
    return set(rows.scalars())


@dataclass(frozen=True)
class DayAnswers:
    """Everything the user told us about one local date after enrolment."""

    day: date
    pain: int | None = None
    cleared: bool = False
    red_flags: tuple[str, ...] = ()
    adherence: str | None = None  # done | partly | skipped


async def day_answers(session: AsyncSession, user_id: int) -> list[DayAnswers]:
    """Each date with a check-in or a report, in order: its rating, clearance, red flags and
    whether the exercises were done."""
    rows = await session.execute(
        select(CheckIn.day, CheckIn.pain, CheckIn.cleared, CheckIn.adherence).where(
            CheckIn.user_id == user_id
        )
    )
    found = {
        day: DayAnswers(day, pain, cleared, adherence=adherence)
        for day, pain, cleared, adherence in rows.all()
    }
    flags = await session.execute(
        select(RedFlagAnswer.day, RedFlagAnswer.flag_id)
        .where(
            RedFlagAnswer.user_id == user_id,
            RedFlagAnswer.screening == "daily",
            RedFlagAnswer.answer.is_(True),
        )
        .order_by(RedFlagAnswer.id)
    )
    for day, flag in flags.all():
        assert day is not None, "a daily red flag always has its day"
        current = found.get(day, DayAnswers(day))
        found[day] = replace(current, red_flags=(*current.red_flags, flag))
    return [found[day] for day in sorted(found)]


async def recorded_escalations(session: AsyncSession, user_id: int) -> list[Escalation]:
    rows = await session.execute(
        select(EscalationRow.level, EscalationRow.reason, EscalationRow.program_day)
        .where(EscalationRow.user_id == user_id)
        .order_by(EscalationRow.id)
    )
    return [Escalation(Level(level), reason, day) for level, reason, day in rows.all()]


@dataclass(frozen=True)
class PhaseRecord:
    started_on: date
    phase: str | None
    status: str
    reason: str


async def phase_history(session: AsyncSession, user_id: int) -> list[PhaseRecord]:
    rows = await session.execute(
        select(PhaseChange.started_on, PhaseChange.phase, PhaseChange.status, PhaseChange.reason)
        .where(PhaseChange.user_id == user_id)
        .order_by(PhaseChange.id)
    )
    return [PhaseRecord(*row) for row in rows.all()]


@dataclass(frozen=True)
class EscalationRecord:
    program_day: int
    level: str
    reason: str
    cause: str | None


async def escalation_log(session: AsyncSession, user_id: int) -> list[EscalationRecord]:
    rows = await session.execute(
        select(EscalationRow.program_day, EscalationRow.level, EscalationRow.reason,
               EscalationRow.cause)
        .where(EscalationRow.user_id == user_id)
        .order_by(EscalationRow.id)
    )  # fmt: skip
    return [EscalationRecord(*row) for row in rows.all()]


async def first_delivery(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Record a Telegram update id; False if it was recorded before (a redelivery)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(ProcessedUpdate)
        .values(update_id=update_id, received_at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdate.update_id)
    )
    return result.first() is not None


async def forget_updates_before(session: AsyncSession, cutoff: datetime) -> None:
    await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.received_at < cutoff))


# Every table that holds rows about a user, with the column that names them. Export reads these
# and erasure deletes from them; a new table about users must be added here (a test checks).
USER_TABLES: tuple[tuple[str, Any], ...] = (
    ("users", User.id),
    ("red_flag_answers", RedFlagAnswer.user_id),
    ("check_ins", CheckIn.user_id),
    ("phase_history", PhaseChange.user_id),
    ("escalations", EscalationRow.user_id),
)


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date | datetime | time) else value


async def everything_about(session: AsyncSession, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row about a user, table by table, as plain JSON-ready values (right of access)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table, column in USER_TABLES:
        mapped = column.class_
        rows: Any = (
            await session.execute(select(mapped).where(column == user_id).order_by(mapped.id))
        ).scalars()
        found[table] = [
            {c.key: _plain(getattr(row, c.key)) for c in mapped.__table__.columns} for row in rows
        ]
    return found
