"""/stats: operators named in ADMIN_IDS see counts; everyone else sees an unknown command."""

from __future__ import annotations

import pytest

from coachbot.bot.app import build_application, polling
from coachbot.clock import FakeClock
from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.services.container import create_services
from coachbot.testing import EmulatorClient

from ..factories import ENROLLED, add_enrolled_users
from .conftest import SCRIPTED, TOKEN

pytestmark = pytest.mark.e2e
ADMIN = 9000


async def test_stats_counts_users_for_admins_only(
    emulator: BotApiEmulator, database_url: str, clock: FakeClock, client: EmulatorClient
) -> None:
    await add_enrolled_users(database_url, range(9100, 9103), enrolled_at=ENROLLED)
    await add_enrolled_users(database_url, [9200], enrolled_at=ENROLLED,
                             intake_red_flags=("calf_swelling_redness",))  # fmt: skip
    services = create_services(database_url, "Europe/London", clock=clock)
    application = build_application(TOKEN, emulator.url, services, flood=SCRIPTED,
                                    admin_ids=frozenset({ADMIN}))  # fmt: skip
    async with polling(application):
        admin = client.user(ADMIN)
        await admin.send("/stats")
        stats = await admin.wait_for("coachbot stats")
        assert "Users: 4 (active 3, escalated 1)" in stats.text
        assert "Active users by phase: protect 3" in stats.text
        for user_id in ("9100", "9200"):
            assert user_id not in stats.text  # counts only, nobody in particular
        someone = client.user(9300)
        await someone.send("/stats")
        await someone.wait_for("I don't know that command")


async def test_the_sandbox_time_travel_commands_do_not_exist_in_the_real_bot(
    bot: object, client: EmulatorClient
) -> None:
    """/next, /skip and /state belong to `coachbot demo` only: the bot `coachbot run` builds
    answers them as unknown commands and leaves them out of its menu."""
    person = client.user(9400)
    for command in ("/next", "/skip 3", "/state"):
        await person.send(command)
        await person.wait_for("I don't know that command")
    menu = {c["command"] for c in await client.get("commands")}
    assert menu and not menu & {"next", "skip", "state"}
