"""/stats for the operators named in ADMIN_IDS: counts only, never anything about one person."""

from __future__ import annotations

from sqlalchemy import func, select

from coachbot.content import Content
from coachbot.services.replies import Reply
from coachbot.storage.db import Database
from coachbot.storage.models import Escalation, User


class AdminService:
    def __init__(self, db: Database, content: Content) -> None:
        self._db = db
        self._m = content.messages

    async def stats(self) -> Reply:
        """Users by status and by phase, prompts switched off by reason, escalations by level."""
        async with self._db.transaction() as session:
            by_status = (await session.execute(
                select(User.status, func.count()).group_by(User.status).order_by(User.status)
            )).all()  # fmt: skip
            by_phase = (await session.execute(
                select(User.phase, func.count()).where(User.status == "active")
                .group_by(User.phase).order_by(User.phase)
            )).all()  # fmt: skip
            prompts_off = (await session.execute(
                select(User.prompts_off, func.count()).where(User.prompts_off.is_not(None))
                .group_by(User.prompts_off).order_by(User.prompts_off)
            )).all()  # fmt: skip
            escalations = (await session.execute(
                select(Escalation.level, func.count()).group_by(Escalation.level)
                .order_by(Escalation.level)
            )).all()  # fmt: skip

        def listing(rows: object) -> str:
            pairs = [(str(key), int(count)) for key, count in rows]  # type: ignore[attr-defined]
            return ", ".join(f"{key} {count}" for key, count in pairs) or "-"

        total = sum(int(count) for _, count in by_status)
        return Reply(self._m.render(
            "stats", users=total, statuses=listing(by_status), phases=listing(by_phase),
            prompts_off=listing(prompts_off), escalations=listing(escalations),
        ))  # fmt: skip
