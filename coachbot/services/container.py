"""All services, wired to one database, one content set and one clock."""

from __future__ import annotations

from dataclasses import dataclass

from coachbot.clock import Clock, system_clock
from coachbot.content import Content, default_content
from coachbot.services.admin import AdminService
from coachbot.services.checkin import CheckInService
from coachbot.services.course import CourseService
from coachbot.services.data_rights import DataRightsService
from coachbot.services.enrolment import EnrolmentService
from coachbot.services.media import MediaService
from coachbot.services.progress import ProgressService, Renderer
from coachbot.services.questions import Questions
from coachbot.services.replies import Reply
from coachbot.services.settings import SettingsService
from coachbot.storage.db import Database


@dataclass(frozen=True)
class Services:
    db: Database
    content: Content
    enrolment: EnrolmentService
    course: CourseService
    checkin: CheckInService
    settings: SettingsService
    data: DataRightsService
    progress: ProgressService
    admin: AdminService
    media: MediaService  # the exercise pictures
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
    course = CourseService(db, content, clock)
    questions = Questions(content, default_zone)
    checkin = CheckInService(db, content, clock, course)
    settings = SettingsService(db, content, clock, questions)
    enrolment = EnrolmentService(db, content, clock, questions, checkin, settings)
    renderer = Renderer()
    return Services(
        db=db,
        content=content,
        enrolment=enrolment,
        course=course,
        checkin=checkin,
        settings=settings,
        data=DataRightsService(db, content, clock),
        progress=ProgressService(db, content, clock, course, renderer),
        admin=AdminService(db, content),
        media=MediaService(content, renderer),
        renderer=renderer,
    )
