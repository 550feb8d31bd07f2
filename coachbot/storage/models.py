"""The database schema. Every change here comes with an Alembic migration in `migrations/`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Time,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations behave the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A daily prompt's delivery state (check_ins.prompt_state): see coachbot/storage/dispatch.py.
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every engine (SQLite has no time zones: store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _user_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class User(Base):
    """A person talking to the bot: who they are, their intake facts, and where they are in the program."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # enrolling | active | paused | escalated | completed | stopped
    status: Mapped[str] = mapped_column(String(16))
    # The question awaiting an answer while enrolling (persisted so a restart resumes there).
    enrolment_step: Mapped[str | None] = mapped_column(String(64))
    consented_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    injury: Mapped[str | None] = mapped_column(String(32))
    age: Mapped[int | None] = mapped_column(Integer)
    onset: Mapped[str | None] = mapped_column(String(8))
    onset_days_ago: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(8))
    grade: Mapped[int | None] = mapped_column(Integer)
    baseline_pain: Mapped[int | None] = mapped_column(Integer)
    # Intake facts of clinical spec v2 (section 1.2); NULL while enrolling.
    mechanism: Mapped[str | None] = mapped_column(String(8))  # sprint | stretch | blow | other
    walking: Mapped[str | None] = mapped_column(String(8))  # normal | limp | cannot
    previous_injury: Mapped[bool | None] = mapped_column(Boolean)
    goal: Mapped[str | None] = mapped_column(String(8))  # sport | everyday
    # The Patient-Specific Functional Scale's one activity and its score at enrolment (optional).
    activity: Mapped[str | None] = mapped_column(String(60))
    function_baseline: Mapped[int | None] = mapped_column(Integer)  # 0-10
    phase: Mapped[str | None] = mapped_column(String(16))
    phase_since: Mapped[date | None] = mapped_column(Date)
    reminder_time: Mapped[time | None] = mapped_column(Time)
    timezone: Mapped[str | None] = mapped_column(String(64))
    next_prompt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    # Why prompts are off, when they are: paused | stopped | blocked (the user blocked the bot).
    prompts_off: Mapped[str | None] = mapped_column(String(8))
    # The weekly progress summary (sent with the check-in on the enrolment weekday).
    weekly_summary: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    enrolled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Day 0, the local date of enrolment: program days count from it whatever zone comes later.
    enrolled_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RedFlagAnswer(Base):
    """One answer to one red-flag question (at intake, and later re-screenings)."""

    __tablename__ = "red_flag_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    flag_id: Mapped[str] = mapped_column(String(48))
    answer: Mapped[bool] = mapped_column(Boolean)
    # intake | daily | weekly | rescreen | symptom (a /symptom report, also on day 0)
    screening: Mapped[str] = mapped_column(String(16))
    day: Mapped[date | None] = mapped_column(Date)  # the user's local date (NULL at intake)
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CheckIn(Base):
    """One day of the program for one user: the prompt sent and the answers given for that day."""

    __tablename__ = "check_ins"
    __table_args__ = (
        UniqueConstraint("user_id", "day", name="uq_check_ins_user_id_day"),
        # The dispatcher takes the earliest prompts of a state in due order (migration 0008).
        Index("ix_check_ins_prompt_state_due_at", "prompt_state", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    day: Mapped[date] = mapped_column(Date)
    # The daily prompt's delivery: pending -> sending -> sent (or failed, skipped).
    prompt_state: Mapped[str | None] = mapped_column(String(8))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sending_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    send_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # after a failed send
    prompted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # The day's session: done | partly | skipped.
    adherence: Mapped[str | None] = mapped_column(String(8))
    pain: Mapped[int | None] = mapped_column(Integer)  # rest pain, the day's rating
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The worst pain during the day's session (0-10; only with done or partly).
    exercise_pain: Mapped[int | None] = mapped_column(Integer)
    function_score: Mapped[int | None] = mapped_column(Integer)  # the weekly PSFS score, 0-10
    # The user said that day that a professional has cleared them to exercise again.
    cleared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The user said that day that they have seen a professional about the advice.
    seen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class CheckAnswer(Base):
    """The answer to one function check (spec section 1.5) on one local date: yes = passes.
    A second answer to the same check that day replaces the first."""

    __tablename__ = "check_answers"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "day", "check_id", name="uq_check_answers_user_id_day_check_id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    day: Mapped[date] = mapped_column(Date)
    check_id: Mapped[str] = mapped_column(String(32))
    answer: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PhaseChange(Base):
    """A transition of phase or status, with the reason and what caused it."""

    __tablename__ = "phase_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    phase: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    started_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(48))
    cause: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Escalation(Base):
    """Advice to see a professional: its level, its reason, and what caused it."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    level: Mapped[str] = mapped_column(String(16))  # emergency | urgent | routine
    reason: Mapped[str] = mapped_column(String(48))  # a red-flag id or a rule's reason
    program_day: Mapped[int] = mapped_column(Integer)
    cause: Mapped[str | None] = mapped_column(String(200))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ProcessedUpdate(Base):
    """A Telegram update already handled: a redelivery of the same update_id is ignored.
    Kept for 48 hours (Telegram keeps undelivered updates for 24)."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
