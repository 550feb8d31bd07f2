"""The web sandbox in a real browser: a person enrols by clicking, lives a week of check-ins
with the time controls, and reads in the inspector why the program moved on and why it
advises seeing a professional."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from coachbot.sandbox.demo import Sandbox

from .walk import WebChat, browser, check_in, enrol, web_sandbox


@pytest.fixture
async def box() -> AsyncIterator[Sandbox]:
    async with web_sandbox() as started:
        yield started


@pytest.fixture(params=[(1280, 800), (390, 844)], ids=["desktop", "phone"])
async def page(request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    width, height = request.param
    async with browser() as launched:
        opened = await launched.new_page(viewport={"width": width, "height": height})
        yield opened


async def test_a_week_by_clicking_with_the_inspector_explaining(box: Sandbox, page: Page) -> None:
    chat = WebChat(page)
    await chat.open(box.emulator.url)
    await enrol(chat)
    plan = chat.bot_messages("Your plan starts today").last
    await expect(plan).to_be_visible()
    await expect(page.locator("#messages .from-bot img").first).to_be_visible()  # its pictures
    await expect(page.locator("#inspector [data-field='phase']")).to_contain_text("protect")
    for day in range(1, 8):
        await check_in(chat, day)
    await expect(page.locator("#inspector [data-field='day']")).to_contain_text("7")
    await expect(page.locator("#inspector [data-field='phase']")).to_contain_text("isometric")
    progression = chat.decision("progression")
    await expect(progression).to_contain_text("rule 7")
    await expect(progression).to_contain_text("protect → isometric")
    await expect(progression).to_contain_text("onset 4 days ago >= 3, pain 5 <= 5")
    escalation = chat.decision("escalation")
    await expect(escalation).to_contain_text("rule 4")
    await expect(escalation).to_contain_text("no_improvement")
    await expect(escalation).to_contain_text(
        "last ratings 5, 5, 5 not down to 3.5 (baseline 5), no downward trend over days 1-7"
    )
    # The chat told them too, plainly: see a professional.
    await expect(chat.bot_messages("physiotherapist").last).to_be_visible()


async def test_skipping_days_and_the_command_menu(box: Sandbox, page: Page) -> None:
    """The composer's command menu lists the bot's commands; skipping days shows silence."""
    chat = WebChat(page)
    await chat.open(box.emulator.url)
    await page.locator("#commands-button").click()
    await expect(page.locator("#command-menu")).to_contain_text("/progress")
    await page.keyboard.press("Escape")
    await enrol(chat)
    await page.locator("#skip-count").fill("8")
    await page.locator("#skip-days").click()
    await expect(page.locator("#control-said")).to_contain_text("Jumped 8 days ahead")
    await expect(page.locator("#inspector [data-field='status']")).to_contain_text("paused")
    await expect(chat.decision("silence")).to_contain_text("no rating for 7 days")
