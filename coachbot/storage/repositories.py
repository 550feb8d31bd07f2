"""Repositories: the only code that builds queries. They take a session and return plain DTOs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from coachbot.domain.triage import Escalation, Level
from coachbot.storage.models import (
    PENDING,
    SENDING,
    SENT,
    CheckAnswer,
    CheckIn,
    PhaseChange,
    ProcessedUpdate,
    RedFlagAnswer,
    User,
)
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
    # Intake facts of clinical spec v2 (section 1.2); None while enrolling.
    mechanism: str | None = None
    walking: str | None = None
    previous_injury: bool | None = None
    goal: str | None = None
    activity: str | None = None
    function_baseline: int | None = None


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
    "mechanism",
    "walking",
    "previous_injury",
    "goal",
    "activity",
    "function_baseline",
    "phase",
    "phase_since",
    "reminder_time",
    "timezone",
    "next_prompt_at",
    "enrolled_at",
    "enrolled_on",
    "prompts_off",
)


# The hot paths (a press, a prompt, the update gate) run prebuilt Core statements on the tables
# and build DTOs from plain rows: no ORM objects, no statement built per call (SQLAlchemy caches
# each prebuilt statement's compiled form and its cache key). The ORM stays for the rest.
USERS = cast(Table, User.__table__)
CHECK_INS = cast(Table, CheckIn.__table__)
RED_FLAG_ANSWERS = cast(Table, RedFlagAnswer.__table__)
CHECK_ANSWERS = cast(Table, CheckAnswer.__table__)
ESCALATIONS = cast(Table, EscalationRow.__table__)
PHASE_HISTORY = cast(Table, PhaseChange.__table__)
PROCESSED_UPDATES = cast(Table, ProcessedUpdate.__table__)
USER_COLUMNS = tuple(USERS.c[name] for name in _USER_FIELDS)  # in UserRecord's field order


async def _all(session: AsyncSession, statement: Any, params: dict[str, Any]) -> list[Any]:
    """The rows of a prebuilt Core statement, as plain tuples to unpack."""
    return list((await session.execute(statement, params)).all())


async def _first(session: AsyncSession, statement: Any, params: dict[str, Any]) -> Any:
    return (await session.execute(statement, params)).first()


def user_of(row: Sequence[Any]) -> UserRecord:
    """A UserRecord from a row of `USER_COLUMNS` (possibly after other columns: pass the tail)."""
    return UserRecord(*row)


_GET_USER = select(*USER_COLUMNS).where(USERS.c.telegram_user_id == bindparam("telegram_user_id"))


async def get_user(session: AsyncSession, telegram_user_id: int) -> UserRecord | None:
    row = await _first(session, _GET_USER, {"telegram_user_id": telegram_user_id})
    return None if row is None else user_of(row)


async def create_user(
    session: AsyncSession, telegram_user_id: int, chat_id: int, *, step: str, now: datetime
) -> UserRecord:
    row = await _first(session, insert(USERS).values(
        telegram_user_id=telegram_user_id, chat_id=chat_id, status="enrolling",
        enrolment_step=step, created_at=now, updated_at=now,
    ).returning(*USER_COLUMNS), {})  # fmt: skip
    return user_of(row)


async def update_user(session: AsyncSession, user_id: int, now: datetime, **values: Any) -> None:
    unknown = set(values) - set(_USER_FIELDS)
    if unknown:
        raise TypeError(f"not user fields: {sorted(unknown)}")
    await session.execute(update(USERS).where(USERS.c.id == user_id).values(updated_at=now, **values))


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
    await session.execute(_ADD_RED_FLAG_ANSWER, {
        "user_id": user_id, "flag_id": flag_id, "answer": answer, "screening": screening,
        "day": day, "answered_at": now,
    })  # fmt: skip


_ADD_RED_FLAG_ANSWER = insert(RED_FLAG_ANSWERS).values(
    {name: bindparam(name) for name in
     ("user_id", "flag_id", "answer", "screening", "day", "answered_at")}
)  # fmt: skip


async def red_flag_answers(
    session: AsyncSession, user_id: int, screening: str
) -> list[tuple[str, bool]]:
    return (await red_flag_answers_of(session, [user_id], screening)).get(user_id, [])


_RED_FLAG_ANSWERS_OF = (
    select(RED_FLAG_ANSWERS.c.user_id, RED_FLAG_ANSWERS.c.flag_id, RED_FLAG_ANSWERS.c.answer)
    .where(RED_FLAG_ANSWERS.c.user_id.in_(bindparam("user_ids", expanding=True)),
           RED_FLAG_ANSWERS.c.screening == bindparam("screening"))
    .order_by(RED_FLAG_ANSWERS.c.id)
)  # fmt: skip


async def red_flag_answers_of(
    session: AsyncSession, user_ids: Sequence[int], screening: str
) -> dict[int, list[tuple[str, bool]]]:
    """Each user's answers to one screening (e.g. the intake's), in the order given."""
    rows = await _all(session, _RED_FLAG_ANSWERS_OF,
                      {"user_ids": list(user_ids), "screening": screening})  # fmt: skip
    found: dict[int, list[tuple[str, bool]]] = {}
    for user_id, flag, answer in rows:
        found.setdefault(user_id, []).append((flag, answer))
    return found


async def record_escalation(
    session: AsyncSession, user_id: int, escalation: Escalation, *, cause: str, now: datetime
) -> None:
    await session.execute(insert(ESCALATIONS).values(
        user_id=user_id, level=escalation.level.value, reason=escalation.reason,
        program_day=escalation.day, cause=cause, raised_at=now,
    ))  # fmt: skip


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
    await session.execute(insert(PHASE_HISTORY).values(
        user_id=user_id, phase=phase, status=status, started_on=started_on, reason=reason,
        cause=cause, created_at=now,
    ))  # fmt: skip


SESSIONS = ("done", "partly", "skipped")  # the day's session (stored as check_ins.adherence)
WITH_EXERCISE_PAIN = ("done", "partly")
# Red-flag screenings after intake; they belong to a local date (intake answers have none).
DAY_SCREENINGS = ("daily", "weekly", "rescreen", "symptom")


@dataclass(frozen=True)
class CheckInRecord:
    """One check-in (one local date of the program): its prompt's state and the answers in it."""

    id: int
    user_id: int
    day: date
    prompt_state: str | None
    adherence: str | None  # the day's session: done | partly | skipped
    pain: int | None  # rest pain, the day's rating
    exercise_pain: int | None
    function: int | None  # the weekly function score
    cleared: bool
    seen: bool


_CHECK_IN_RECORD = (CHECK_INS.c.id, CHECK_INS.c.user_id, CHECK_INS.c.day, CHECK_INS.c.prompt_state,
                    CHECK_INS.c.adherence, CHECK_INS.c.pain, CHECK_INS.c.exercise_pain,
                    CHECK_INS.c.function_score, CHECK_INS.c.cleared, CHECK_INS.c.seen)  # fmt: skip
_CHECK_IN_OF_DAY = select(*_CHECK_IN_RECORD).where(
    CHECK_INS.c.user_id == bindparam("user_id"), CHECK_INS.c.day == bindparam("day")
)


async def _check_in_of(session: AsyncSession, user_id: int, day: date) -> CheckInRecord | None:
    row = await _first(session, _CHECK_IN_OF_DAY, {"user_id": user_id, "day": day})
    return None if row is None else CheckInRecord(*row)


def _score(name: str, value: int | None) -> None:
    if value is not None and not 0 <= value <= 10:
        raise ValueError(f"{name} is 0-10, not {value}")


@dataclass(frozen=True)
class DayPatch:
    """Answers given for one local date; only what is given changes (None, False and empty mean
    "not said"). See `save_day_answers` for the rules."""

    pain: int | None = None
    adherence: str | None = None
    exercise_pain: int | None = None
    checks: Mapping[str, bool] | None = None
    function: int | None = None
    cleared: bool = False
    seen: bool = False
    red_flags: Mapping[str, bool] | Iterable[str] = ()
    screening: str = "daily"

    def flags(self) -> dict[str, bool]:
        """The red-flag answers given, as {id: answer}."""
        if isinstance(self.red_flags, Mapping):
            return dict(self.red_flags)
        return dict.fromkeys(self.red_flags, True)

    def applied_to(self, stored: DayAnswers) -> DayAnswers:
        """What `day_answers` reads for the day once `save_day_answers` has stored this on top
        of `stored` (the same rules, so a use case need not read the day again)."""
        latest = dict(stored.checks)
        latest.update(self.checks or {})
        yes = [flag for flag, answer in self.flags().items() if answer]
        kept = None if self.adherence == "skipped" else stored.exercise_pain
        return replace(
            stored,
            pain=stored.pain if self.pain is None else self.pain,
            adherence=stored.adherence if self.adherence is None else self.adherence,
            exercise_pain=kept if self.exercise_pain is None else self.exercise_pain,
            checks=tuple(latest.items()),
            function=stored.function if self.function is None else self.function,
            cleared=stored.cleared or self.cleared,
            seen=stored.seen or self.seen,
            red_flags=(*stored.red_flags, *(f for f in yes if f not in stored.red_flags)),
        )


async def save_day_answers(
    session: AsyncSession, user_id: int, day: date, *, now: datetime, **answers: Any
) -> None:
    """Store answers for local date `day`; only what is given changes (None, False and empty
    mean "not said"), and a bad value changes nothing (ValueError).

    - `pain` (the rating), `exercise_pain` and `function` replace that day's earlier ones.
    - `adherence` (the session) replaces the day's earlier one; "skipped" clears the day's
      exercise pain, and `exercise_pain` is refused unless the session that day (given here or
      stored) is done or partly.
    - `checks` ({check id: passed}): an answer replaces that day's earlier answer to that check.
    - `cleared` and `seen`: True records that the user said so that day (never withdrawn).
    - `red_flags`: ids answered yes, or {id: answer} to keep the no answers too, from
      `screening` (daily | weekly | rescreen | symptom; a /symptom on the enrolment day is
      stored with that day). The same answer to the same flag is recorded once a day.
    """
    given = DayPatch(**answers)
    pain, adherence, exercise_pain = given.pain, given.adherence, given.exercise_pain
    function, cleared, seen, screening = given.function, given.cleared, given.seen, given.screening
    _score("pain", pain)
    _score("function", function)
    _score("exercise_pain", exercise_pain)
    if adherence is not None and adherence not in SESSIONS:
        raise ValueError(f"a session is one of {SESSIONS}, not {adherence!r}")
    if screening not in DAY_SCREENINGS:
        raise ValueError(f"a day's screening is one of {DAY_SCREENINGS}, not {screening!r}")
    on_check_in = (pain, adherence, exercise_pain, function)
    if any(value is not None for value in on_check_in) or cleared or seen:
        row = await _check_in_of(session, user_id, day)
        # The session and the pain during it: "skipped" clears the exercise pain, and an
        # exercise pain needs a session done or partly done that day.
        kind = adherence if adherence is not None else (row.adherence if row else None)
        if exercise_pain is not None and kind not in WITH_EXERCISE_PAIN:
            raise ValueError(f"exercise pain needs a session done or partly done, not {kind!r}")
        values: dict[str, Any] = {}
        if adherence is not None:
            values["adherence"] = adherence
            if adherence not in WITH_EXERCISE_PAIN:
                values["exercise_pain"] = None
        if exercise_pain is not None:
            values["exercise_pain"] = exercise_pain
        if pain is not None:
            values.update(pain=pain, rated_at=now)
        if function is not None:
            values["function_score"] = function
        if cleared:
            values["cleared"] = True
        if seen:
            values["seen"] = True
        if row is None:
            await session.execute(insert(CHECK_INS).values(
                user_id=user_id, day=day, send_attempts=0,
                **{"cleared": False, "seen": False, **values},
            ))  # fmt: skip
        elif values:
            await session.execute(update(CHECK_INS).where(CHECK_INS.c.id == row.id).values(values))
    for check_id, passed in (given.checks or {}).items():
        await _record_check_answer(session, user_id, day, check_id, passed, now)
    answers = given.flags()
    on_record = await _flag_answers_on(session, user_id, day) if answers else set()
    # The same press re-sent (a new update id) or a flag reported twice a day adds nothing.
    for flag, answer in answers.items():
        if (flag, answer) not in on_record:
            await record_red_flag_answer(
                session, user_id, flag, answer, screening=screening, now=now, day=day
            )


def with_answers(stored: DayAnswers, **answers: Any) -> DayAnswers:
    """`stored` once `save_day_answers(**answers)` has run (see `DayPatch.applied_to`)."""
    return DayPatch(**answers).applied_to(stored)


async def _record_check_answer(
    session: AsyncSession, user_id: int, day: date, check_id: str, passed: bool, now: datetime
) -> None:
    dialect = session.get_bind().dialect.name
    upsert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = upsert(CHECK_ANSWERS).values(
        user_id=user_id, day=day, check_id=check_id, answer=passed, answered_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "day", "check_id"],
            set_={"answer": statement.excluded.answer,
                  "answered_at": statement.excluded.answered_at},
        )
    )  # fmt: skip


_FLAG_ANSWERS_ON = select(RED_FLAG_ANSWERS.c.flag_id, RED_FLAG_ANSWERS.c.answer).where(
    RED_FLAG_ANSWERS.c.user_id == bindparam("user_id"),
    RED_FLAG_ANSWERS.c.day == bindparam("day"),
    RED_FLAG_ANSWERS.c.screening.in_(DAY_SCREENINGS),
)


async def _flag_answers_on(session: AsyncSession, user_id: int, day: date) -> set[tuple[str, bool]]:
    rows = await _all(session, _FLAG_ANSWERS_ON, {"user_id": user_id, "day": day})
    return {(flag, answer) for flag, answer in rows}


async def flags_reported_on(session: AsyncSession, user_id: int, day: date) -> set[str]:
    """The red flags the user answered yes on local date `day` (any screening after intake)."""
    return {flag for flag, answer in await _flag_answers_on(session, user_id, day) if answer}


@dataclass(frozen=True)
class DayAnswers:
    """Everything the user told us about one local date: after enrolment, or on the enrolment
    date itself for what came after the intake (a /symptom report: red flags only)."""

    day: date
    pain: int | None = None  # rest pain, the rating
    cleared: bool = False
    red_flags: tuple[str, ...] = ()  # answered yes that day, any screening but intake
    adherence: str | None = None  # the session: done | partly | skipped
    exercise_pain: int | None = None
    checks: tuple[tuple[str, bool], ...] = ()  # (check id, passed): the day's latest answers
    function: int | None = None  # the weekly function score
    seen: bool = False


async def day_answers(
    session: AsyncSession, user_id: int, *, day: date | None = None
) -> list[DayAnswers]:
    """Each date with a check-in, a check answer or a red flag answered yes, in order (only
    `day` when given): the rating, the session and its pain, checks, function score, red flags,
    clearance and whether a professional was seen."""
    return (await day_answers_of(session, [user_id], day=day)).get(user_id, [])


async def day_answers_of(
    session: AsyncSession, user_ids: Sequence[int], *, day: date | None = None
) -> dict[int, list[DayAnswers]]:
    """`day_answers` for several users at once (three queries whatever their number)."""
    check_ins, flags, checks = _DAY_ANSWERS[day is not None]
    params: dict[str, Any] = {"user_ids": list(user_ids), "day": day}
    found: dict[tuple[int, date], DayAnswers] = {
        (user_id, on): DayAnswers(on, pain, cleared, adherence=adherence,
                                  exercise_pain=exercise_pain, function=function, seen=seen)
        for user_id, on, pain, cleared, adherence, exercise_pain, function, seen
        in await _all(session, check_ins, params)
    }  # fmt: skip
    for user_id, flag_day, flag in await _all(session, flags, params):
        assert flag_day is not None, "a red flag after intake always has its day"
        current = found.get((user_id, flag_day), DayAnswers(flag_day))
        if flag not in current.red_flags:
            found[(user_id, flag_day)] = replace(current, red_flags=(*current.red_flags, flag))
    for user_id, check_day, check_id, passed in await _all(session, checks, params):
        current = found.get((user_id, check_day), DayAnswers(check_day))
        found[(user_id, check_day)] = replace(current, checks=(*current.checks, (check_id, passed)))
    by_user: dict[int, list[DayAnswers]] = {}
    for user_id, answer_day in sorted(found):
        by_user.setdefault(user_id, []).append(found[(user_id, answer_day)])
    return by_user


def _day_answer_queries(one_day: bool) -> tuple[Any, Any, Any]:
    """The three queries of `day_answers_of`: check-ins, red flags said yes, check answers."""
    users: Any = bindparam("user_ids", expanding=True)
    c, f, a = CHECK_INS.c, RED_FLAG_ANSWERS.c, CHECK_ANSWERS.c
    check_ins = select(c.user_id, c.day, c.pain, c.cleared, c.adherence, c.exercise_pain,
                       c.function_score, c.seen).where(c.user_id.in_(users))  # fmt: skip
    flags = (select(f.user_id, f.day, f.flag_id)
             .where(f.user_id.in_(users), f.screening.in_(DAY_SCREENINGS), f.answer.is_(True))
             .order_by(f.id))  # fmt: skip
    checks = (select(a.user_id, a.day, a.check_id, a.answer).where(a.user_id.in_(users))
              .order_by(a.id))  # fmt: skip
    if one_day:
        on: Any = bindparam("day")
        return check_ins.where(c.day == on), flags.where(f.day == on), checks.where(a.day == on)
    return check_ins, flags, checks


_DAY_ANSWERS = {False: _day_answer_queries(False), True: _day_answer_queries(True)}


async def answers_on(session: AsyncSession, user_id: int, day: date) -> DayAnswers:
    """Everything the user told us about local date `day` (empty answers when nothing)."""
    found = await day_answers(session, user_id, day=day)
    return found[0] if found else DayAnswers(day)


# Check-ins ---------------------------------------------------------------------------------


_LATEST_SENT = (select(*_CHECK_IN_RECORD)
                .where(CHECK_INS.c.user_id == bindparam("user_id"), CHECK_INS.c.prompt_state == SENT)
                .order_by(CHECK_INS.c.day.desc()).limit(1))  # fmt: skip


async def latest_sent_check_in(session: AsyncSession, user_id: int) -> CheckInRecord | None:
    """The user's check-in of the latest date whose prompt was sent (None: no prompt yet)."""
    row = await _first(session, _LATEST_SENT, {"user_id": user_id})
    return None if row is None else CheckInRecord(*row)


async def show_check_in(
    session: AsyncSession, user_id: int, day: date, *, now: datetime
) -> tuple[CheckInRecord, bool]:
    """The check-in of `day`, its prompt shown now (asked for, e.g. with /today): created as sent
    when missing; a pending or sending one becomes sent, so the dispatcher will not send it
    again. Returns the check-in and whether it was created."""
    row = await _check_in_of(session, user_id, day)
    if row is None:
        created = await _first(session, insert(CHECK_INS).values(
            user_id=user_id, day=day, prompt_state=SENT, cleared=False, seen=False,
            send_attempts=0, prompted_at=now,
        ).returning(*_CHECK_IN_RECORD), {})  # fmt: skip
        return CheckInRecord(*created), True
    if row.prompt_state in (PENDING, SENDING):
        await session.execute(
            update(CHECK_INS).where(CHECK_INS.c.id == row.id).values(prompt_state=SENT)
        )
        row = replace(row, prompt_state=SENT)
    return row, False


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


_DELIVERED_BEFORE = select(PROCESSED_UPDATES.c.update_id).where(
    PROCESSED_UPDATES.c.update_id == bindparam("update_id")
)


async def delivered_before(session: AsyncSession, update_id: int) -> bool:
    return await _first(session, _DELIVERED_BEFORE, {"update_id": update_id}) is not None


async def first_delivery(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Record a Telegram update id; False if it was recorded before (a redelivery)."""
    statement = _FIRST_DELIVERY[session.get_bind().dialect.name == "postgresql"]
    result = await session.execute(statement, {"update_id": update_id, "received_at": now})
    return result.first() is not None


_FIRST_DELIVERY = {
    postgres: upsert(PROCESSED_UPDATES)
    .values(update_id=bindparam("update_id"), received_at=bindparam("received_at"))
    .on_conflict_do_nothing(index_elements=["update_id"])
    .returning(PROCESSED_UPDATES.c.update_id)
    for postgres, upsert in ((True, postgresql_insert), (False, sqlite_insert))
}


async def forget_updates_before(session: AsyncSession, cutoff: datetime) -> None:
    await session.execute(
        delete(PROCESSED_UPDATES).where(PROCESSED_UPDATES.c.received_at < cutoff)
    )


# Every table that holds rows about a user, with the column that names them. Export reads these
# and erasure deletes from them; a new table about users must be added here (a test checks).
USER_TABLES: tuple[tuple[str, Any], ...] = (
    ("users", User.id),
    ("red_flag_answers", RedFlagAnswer.user_id),
    ("check_ins", CheckIn.user_id),
    ("check_answers", CheckAnswer.user_id),
    ("phase_history", PhaseChange.user_id),
    ("escalations", EscalationRow.user_id),
)


def user_table_columns() -> dict[str, list[str]]:
    """The columns of every table about users, in table order (an export's CSV headers)."""
    return {
        table: [c.key for c in column.class_.__table__.columns] for table, column in USER_TABLES
    }


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


async def screenings_on(session: AsyncSession, user_id: int, day: date) -> set[str]:
    """The screenings (weekly, rescreen, symptom, daily) with any answer on local date `day`."""
    return (await screenings_of(session, [(user_id, day)])).get((user_id, day), set())


_SCREENINGS_OF = select(
    RED_FLAG_ANSWERS.c.user_id, RED_FLAG_ANSWERS.c.day, RED_FLAG_ANSWERS.c.screening
).where(
    RED_FLAG_ANSWERS.c.user_id.in_(bindparam("user_ids", expanding=True)),
    RED_FLAG_ANSWERS.c.day.in_(bindparam("days", expanding=True)),
).distinct()


async def screenings_of(
    session: AsyncSession, days: Sequence[tuple[int, date]]
) -> dict[tuple[int, date], set[str]]:
    """`screenings_on` for several (user, date) pairs at once."""
    wanted = set(days)
    if not wanted:
        return {}
    rows = await _all(session, _SCREENINGS_OF, {"user_ids": list({user for user, _ in days}),
                                                "days": list({day for _, day in days})})  # fmt: skip
    found: dict[tuple[int, date], set[str]] = {}
    for user_id, day, screening in rows:
        if day is not None and (user_id, day) in wanted:
            found.setdefault((user_id, day), set()).add(screening)
    return found
