"""The queries behind the daily dispatch: the database is the scheduler's truth.

Each user's next prompt time is stored in UTC (indexed). A dispatch tick *claims* the users who
are due: for each it creates that local day's check-in in state `pending` (one per user and day:
a unique constraint, so a prompt is claimed at most once whatever happens) and moves the user's
next prompt time on. The sender then *takes* pending check-ins in small chunks (`sending`, with
the time taken), sends them, and marks them `sent` with the message id. A check-in left in
`sending` by a crash is taken again once its lease has run out, so a prompt is never lost; the
cost is that a message in flight at the moment of the crash may be sent twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from coachbot.domain.schedule import next_prompt_at

# The prompt states are defined with the model (repositories use them too); re-exported here.
from coachbot.storage.models import FAILED as FAILED
from coachbot.storage.models import PENDING as PENDING
from coachbot.storage.models import SENDING as SENDING
from coachbot.storage.models import SENT as SENT
from coachbot.storage.repositories import CHECK_INS, USER_COLUMNS, USERS, UserRecord, user_of


@dataclass(frozen=True)
class ClaimResult:
    claimed: int
    skipped: int  # missed by more than the allowed lateness (after downtime): not sent


@dataclass(frozen=True)
class DuePrompt:
    """One prompt to send: the check-in and its user."""

    check_in_id: int
    day: date
    attempts: int
    user: UserRecord


# The claim's statements, built once (a tick claims 200 users at a time).
_DUE = (
    select(USERS.c.id, USERS.c.reminder_time, USERS.c.timezone, USERS.c.next_prompt_at)
    .where(USERS.c.next_prompt_at <= bindparam("now"), USERS.c.prompts_off.is_(None))
    .order_by(USERS.c.next_prompt_at)
    .limit(bindparam("limit"))
    # PostgreSQL: several dispatchers split the due users instead of queueing behind each
    # other's row locks (SQLite ignores it: one writer at a time anyway).
    .with_for_update(skip_locked=True)
)
_NEW_CHECK_IN = {  # Core inserts (an executemany, not the ORM's bulk insert), by dialect
    name: insert(CHECK_INS).on_conflict_do_nothing(index_elements=["user_id", "day"])
    for name, insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}
_MOVE = update(USERS).where(USERS.c.id == bindparam("uid")).values(next_prompt_at=bindparam("next"))


async def claim_due(
    session: AsyncSession, now: datetime, *, limit: int, max_lateness: timedelta
) -> ClaimResult:
    """Create today's pending check-in for up to `limit` due users and move them to tomorrow."""
    due: Any = (await session.execute(_DUE, {"now": now, "limit": limit})).all()
    if not due:
        return ClaimResult(0, 0)
    moves, check_ins, skipped = [], [], 0
    for user_id, reminder, zone_name, due_at in due:
        assert reminder is not None and zone_name is not None and due_at is not None
        zone = ZoneInfo(zone_name)
        moves.append({"uid": user_id, "next": next_prompt_at(reminder, zone, now)})
        if now - due_at > max_lateness:
            skipped += 1
            continue
        check_ins.append({"user_id": user_id, "day": due_at.astimezone(zone).date(),
                          "prompt_state": PENDING, "due_at": due_at, "send_attempts": 0,
                          "cleared": False})  # fmt: skip
    await session.execute(_MOVE, moves)  # Core: an executemany, not the ORM's bulk update
    if check_ins:
        await session.execute(_NEW_CHECK_IN[session.get_bind().dialect.name], check_ins)
    return ClaimResult(len(check_ins), skipped)


# What a take reads and marks, built once. Bound at each take: `now`, `stale_before` (now minus
# the lease) and `not_tried_since` (None: only prompts never tried; `< NULL` is never true).
_ABANDONED = and_(  # left `sending` by a crashed sender for longer than the lease
    CHECK_INS.c.prompt_state == SENDING, CHECK_INS.c.sending_since < bindparam("stale_before")
)
_PENDING = and_(  # pending, not tried since `not_tried_since`, and its retry time (if any) come
    CHECK_INS.c.prompt_state == PENDING,
    or_(CHECK_INS.c.sending_since.is_(None),
        CHECK_INS.c.sending_since < bindparam("not_tried_since")),
    or_(CHECK_INS.c.retry_at.is_(None), CHECK_INS.c.retry_at <= bindparam("now")),
)  # fmt: skip


def _earliest(state: ColumnElement[bool]) -> Select[Any]:
    """The ids of the `limit` earliest due check-ins in `state` (one prompt state): read in due
    order from the (prompt_state, due_at) index, not all collected and sorted."""
    return (
        select(CHECK_INS.c.id)
        .where(state)
        .order_by(CHECK_INS.c.due_at)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)  # PostgreSQL: dispatchers split the prompts
    )


EARLIEST_ABANDONED, EARLIEST_PENDING = _earliest(_ABANDONED), _earliest(_PENDING)
_TAKE = (
    update(CHECK_INS)
    .where(CHECK_INS.c.id.in_(bindparam("ids", expanding=True)), or_(_PENDING, _ABANDONED))
    .values(prompt_state=SENDING, sending_since=bindparam("now"),
            send_attempts=CHECK_INS.c.send_attempts + 1)  # fmt: skip
    .returning(CHECK_INS.c.id)
)


async def take_for_sending(
    session: AsyncSession, now: datetime, *, limit: int, lease: timedelta,
    not_tried_since: datetime | None = None,
) -> list[DuePrompt]:  # fmt: skip
    """Mark up to `limit` pending (or abandoned) check-ins as being sent, and load them.

    `not_tried_since` leaves out prompts whose last attempt (a network failure) was at or after
    that time: a tick retries a failed prompt at the next tick, not in a tight loop.
    """
    bound = {"now": now, "stale_before": now - lease, "not_tried_since": not_tried_since}
    chosen: list[int] = list(
        (await session.execute(EARLIEST_ABANDONED, bound | {"limit": limit})).scalars()
    )
    if len(chosen) < limit:
        chosen += (
            await session.execute(EARLIEST_PENDING, bound | {"limit": limit - len(chosen)})
        ).scalars()
    if not chosen:
        return []
    taken = (await session.execute(_TAKE, bound | {"ids": chosen})).scalars().all()
    return await load_prompts(session, list(taken))


async def load_prompts(session: AsyncSession, check_in_ids: Sequence[int]) -> list[DuePrompt]:
    """The check-ins with their users (one query; the course comes from the answers)."""
    if not check_in_ids:
        return []
    rows: Any = (await session.execute(_LOAD_PROMPTS, {"ids": list(check_in_ids)})).all()
    return [DuePrompt(check_in_id=row[0], day=row[1], attempts=row[2], user=user_of(row[3:]))
            for row in rows]  # fmt: skip


_LOAD_PROMPTS = (
    select(CHECK_INS.c.id, CHECK_INS.c.day, CHECK_INS.c.send_attempts, *USER_COLUMNS)
    .join_from(CHECK_INS, USERS, USERS.c.id == CHECK_INS.c.user_id)
    .where(CHECK_INS.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(CHECK_INS.c.due_at)
)


# The PostgreSQL advisory lock that elects the one sending dispatcher among several instances.
LEADER_LOCK_KEY = 0x636F6163686274  # "coachbt"


class Leadership:
    """Whether this process is the dispatcher that sends (PostgreSQL: the holder of an advisory
    lock on a connection kept open for it; released when the process or its connection dies,
    and taken over by another instance at its next tick). SQLite: always, one process."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def held(self) -> bool:
        if self._engine.dialect.name != "postgresql":
            return True
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                return True
            except DBAPIError:  # the connection (and so the lock) is gone
                await self.release()
        connection = await self._engine.connect()
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            won = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY}
            )
        except BaseException:
            await connection.close()
            raise
        if not won:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def release(self) -> None:
        """Give the lock up. The connection is discarded, not returned to the pool: a pooled
        connection would keep holding the session-level lock."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(DBAPIError):
                await connection.invalidate()
                await connection.close()


# The recorder's statements, built once (it commits every few prompts): executemany by key.
_MARK_SENT = (
    update(CHECK_INS)
    .where(CHECK_INS.c.id == bindparam("cid"))
    .values(prompt_state=SENT, prompt_message_id=bindparam("mid"), prompted_at=bindparam("at"))
)
_MARK_RETRY = (
    update(CHECK_INS)
    .where(CHECK_INS.c.id == bindparam("cid"))
    .values(prompt_state=PENDING, retry_at=bindparam("at"))
)
_MARK_STATE = (
    update(CHECK_INS)
    .where(CHECK_INS.c.id.in_(bindparam("ids", expanding=True)))
    .values(prompt_state=bindparam("state"))
)
_PROMPTS_OFF = (
    update(USERS)
    .where(USERS.c.id.in_(bindparam("ids", expanding=True)))
    .values(prompts_off=bindparam("reason"), updated_at=bindparam("now"))
)


# The marks below run inside `Database.run`: one synchronous transaction per few prompts.


def mark_sent(connection: Connection, sent: Sequence[tuple[int, int]], now: datetime) -> None:
    """Record (check-in id, message id) pairs as delivered."""
    if sent:
        connection.execute(
            _MARK_SENT, [{"cid": check_in, "mid": message, "at": now} for check_in, message in sent]
        )


def mark_retry(connection: Connection, retries: Sequence[tuple[int, datetime]]) -> None:
    """Put (check-in id, retry time) pairs back to pending, each to be tried at its time."""
    if retries:
        connection.execute(_MARK_RETRY, [{"cid": check_in, "at": at} for check_in, at in retries])


def move_chat(connection: Connection, user_id: int, chat_id: int) -> None:
    """Telegram moved the user's chat (a group became a supergroup): send there from now on."""
    connection.execute(update(USERS).where(USERS.c.id == user_id).values(chat_id=chat_id))


def mark_state(connection: Connection, check_in_ids: Sequence[int], state: str) -> None:
    if check_in_ids:
        connection.execute(_MARK_STATE, {"ids": list(check_in_ids), "state": state})


def set_prompts_off(connection: Connection, user_ids: Sequence[int], reason: str | None,
                    now: datetime) -> None:  # fmt: skip
    if user_ids:
        connection.execute(_PROMPTS_OFF, {"ids": list(user_ids), "reason": reason, "now": now})
