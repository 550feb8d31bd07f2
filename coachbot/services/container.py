"""All services, wired to one database, one content set and one clock."""

from __future__ import annotations

from dataclasses import dataclass

from coachbot.clock import Clock, system_clock
from coachbot.content import Content, default_content
from coachbot.services.admin import AdminService
from coachbot.services.course import CourseService
from coachbot.services.daily import DailyService
from coachbot.services.data_rights import DataRightsService
from coachbot.services.enrolment import EnrolmentService
from coachbot.services.progress import ProgressService, Renderer
from coachbot.services.replies import Reply
from coachbot.storage.db import Database


@dataclass(frozen=True)
class Services:
    db: Database
    content: Content
    enrolment: EnrolmentService
    course: CourseService
    daily: DailyService
    data: DataRightsService
    progress: ProgressService
    admin: AdminService
    renderer: Renderer  # draws charts and PDFs in a worker process

    def say(self, key: str) -> Reply:
        """A fixed message from the catalogue (e.g. the answer to a sticker)."""
        return Reply(self.content.messages.render(key))

    def help(self) -> Reply:
        """/help: the command list and the safety line."""
        listing = "\n".join(
            f"/{command.command} - {command.description}" for command in self.content.commands
        )
        return Reply(self.content.messages.render("help", commands=listing))

    async def close(self) -> None:
        self.renderer.close()
        await self.db.dispose()


def create_services(
    database_url: str,
    default_zone: str,
    *,
    clock: Clock = system_clock,
    content: Content | None = None,
) -> Services:
    content = content or default_content()
    db = Database(database_url)
    enrolment = EnrolmentService(db, content, clock, default_zone)
    course = CourseService(db, content, clock)
    renderer = Renderer()
    return Services(
        db=db,
        content=content,
        enrolment=enrolment,
        course=course,
        daily=DailyService(db, content, clock, course, enrolment),
        data=DataRightsService(db, content, clock),
        progress=ProgressService(db, content, clock, course, renderer),
        admin=AdminService(db, content),
        renderer=renderer,
    )
