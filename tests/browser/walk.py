"""A person trying the web sandbox, by clicking: shared by the browser tests and by
`python -m tests.browser.samples docs/samples`, which takes the README's screenshots.

Everything is done as a person would: typing in the composer, pressing the inline buttons of
the newest message that offers them, and the time controls beside the chat. Waits are
Playwright's (for something to appear or change), never sleeps.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from coachbot.clock import FakeClock
from coachbot.sandbox.demo import Sandbox, sandbox

# Noon in Buenos Aires on 30 November 2026, where the walkthrough enrols (daily at 07:45).
START = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
TIMEOUT_MS = 15_000


def chromium_path() -> str | None:
    """Debian's Chromium (apt-get install chromium), or COACHBOT_CHROMIUM."""
    configured = os.environ.get("COACHBOT_CHROMIUM")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@asynccontextmanager
async def web_sandbox() -> AsyncIterator[Sandbox]:
    async with sandbox("UTC", real=FakeClock(START)) as box:
        yield box


@asynccontextmanager
async def browser() -> AsyncIterator[Browser]:
    path = chromium_path()
    assert path is not None, "no Chromium: apt-get install chromium"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


class WebChat:
    """The page, driven like a person would."""

    def __init__(self, page: Page) -> None:
        self.page = page
        page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)

    async def open(self, url: str) -> None:
        await self.page.goto(f"{url}/")
        await expect(self.page.locator("#composer")).to_be_visible()

    def bot_messages(self, text: str | None = None) -> Locator:
        found = self.page.locator("#messages .from-bot")
        return found if text is None else found.filter(has_text=text)

    def message(self, message_id: str | None) -> Locator:
        assert message_id is not None
        return self.page.locator(f"#messages [data-message-id='{message_id}']")

    async def send(self, text: str) -> None:
        await self.page.locator("#composer").fill(text)
        await self.page.keyboard.press("Enter")

    async def wait_for(self, text: str) -> Locator:
        """The newest bot message containing `text`, once it is shown."""
        message = self.bot_messages(text).last
        await expect(message).to_be_visible()
        return message

    async def press(self, label: str, message: Locator) -> None:
        """Press the button `label` of `message` and wait until the bot has dealt with it (the
        message changed or lost the button)."""
        before = await message.locator(".text").inner_text()
        button = message.locator("button.inline-button").filter(has_text=label)
        exact = button.get_by_text(label, exact=True)
        await (exact if await exact.count() else button).first.click()
        await expect(message.locator(".text")).not_to_have_text(before)

    async def press_in_newest(self, label: str, text: str) -> None:
        """Press `label` in the newest bot message containing `text`, then wait for the reply."""
        message = await self.wait_for(text)
        count = await self.bot_messages().count()
        button = message.locator("button.inline-button").get_by_text(label, exact=True)
        await button.first.click()
        await expect(self.bot_messages()).not_to_have_count(count)

    async def inspector(self, field: str) -> str:
        return await self.page.locator(f"#inspector [data-field='{field}']").inner_text()

    def decision(self, kind: str) -> Locator:
        return self.page.locator(f"#decisions li[data-kind='{kind}']")


async def enrol(chat: WebChat) -> None:
    """A grade 2 sprinting strain 3 days old, pain 5 at rest, daily at 07:45 in Buenos Aires."""
    await chat.send("/start")
    await chat.press_in_newest("I agree", "Do you agree?")
    await chat.press_in_newest("Pulled hamstring", "sounds most like your pain")
    await chat.wait_for("How old are you?")
    await chat.send("29")
    await chat.press_in_newest("Suddenly", "suddenly")
    await chat.wait_for("How many days ago")
    await chat.send("3")
    for question, label in (
        ("How did it happen?", "Running fast"),
        ("Where on the back of your thigh", "Middle"),
        ("grade of your strain", "Grade 2 (partial tear)"),
        ("How are you walking right now?", "With a limp"),
        ("same problem in the same thigh", "No, this is the first time"),
        ("How bad is the pain right now", "5"),
        ("What do you want to get back to?", "Running and sport"),
        ("Name one activity", "Skip"),
    ):
        await chat.press_in_newest(label, question)
    first = await chat.wait_for("Safety question 1 of")
    count = int((await first.inner_text()).split(" of ", 1)[1].split()[0])
    for number in range(1, count + 1):  # one message each; this person answers "No" to all
        await chat.press_in_newest("No", f"Safety question {number} of")
    await chat.send("07:45")
    await chat.wait_for("Which time zone are you in?")
    await chat.send("America/Argentina/Buenos_Aires")
    await chat.wait_for("Your plan starts today")


# The check-in's questions (its last paragraph) and what this person answers.
ANSWERS = (
    ("Did you do today's exercises?", "Done"),
    ("worst pain during the exercises", "1"),
    ("pain at rest right now", "5"),
    ("Weekly safety check", "None of these"),
    ("Quick check", "Yes"),
    ("Once a week: how able", "5"),
    ("Have you seen a professional", "I've seen a professional"),
)


async def next_prompt(chat: WebChat, day: int) -> Locator:
    """Jump to the next morning with the time controls; that day's check-in message."""
    await chat.page.locator("#next-prompt").click()
    found = chat.bot_messages(f"Day {day}").filter(has=chat.page.locator(".inline-button")).last
    await expect(found).to_be_visible()
    return chat.message(await found.get_attribute("data-message-id"))


async def answer(chat: WebChat, prompt: Locator) -> None:
    """Answer a check-in by tapping, question after question, until all is recorded."""
    while "All recorded for today" not in (text := await prompt.locator(".text").inner_text()):
        asking = text.split("\n\n")[-1]
        label = next((answer for words, answer in ANSWERS if words in asking), None)
        assert label is not None, f"no answer for {text!r}"
        await chat.press(label, prompt)


async def check_in(chat: WebChat, day: int) -> None:
    await answer(chat, await next_prompt(chat, day))
