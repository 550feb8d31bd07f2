"""`python -m tests.browser.samples docs/samples`: the README's screenshots of the web sandbox.

The same walk as the browser test (tests/browser/walk.py): enrol by clicking, then check-ins
day by day with the time controls. It saves day 2's prompt with its new exercises' pictures
and its buttons (desktop), the inspector after the week (the progression of day 1 and the
advice of day 7, each with its numbers), and the chat on a phone-sized screen.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from playwright.async_api import expect

from .walk import WebChat, answer, browser, check_in, enrol, next_prompt, web_sandbox


async def take(folder: Path) -> list[Path]:
    shots = [folder / "web-sandbox-prompt.png", folder / "web-sandbox-inspector.png",
             folder / "web-sandbox-phone.png"]  # fmt: skip
    async with web_sandbox() as box, browser() as launched:
        page = await launched.new_page(viewport={"width": 1280, "height": 860})
        chat = WebChat(page)
        await chat.open(box.emulator.url)
        await enrol(chat)
        await check_in(chat, 1)
        prompt = await next_prompt(chat, 2)  # a new phase: its new exercises' pictures first
        tall = await launched.new_page(viewport={"width": 1280, "height": 1600})
        await WebChat(tall).open(box.emulator.url)  # the history, scrolled to the newest
        await expect(tall.locator("#inspector [data-field='day']")).to_contain_text("2")
        await tall.evaluate("Promise.all([...document.querySelectorAll('#messages img')]"
                            ".map(i => i.decode().catch(() => null)))")  # fmt: skip
        await tall.screenshot(path=shots[0])
        await tall.close()
        await answer(chat, prompt)
        for day in range(3, 8):
            await check_in(chat, day)
        await expect(chat.decision("escalation")).to_contain_text("days 1-7")  # day 7 all in
        await page.locator("#inspector").screenshot(path=shots[1])
        phone = await launched.new_page(viewport={"width": 390, "height": 844})
        await WebChat(phone).open(box.emulator.url)
        await expect(phone.locator("#messages .from-bot").last).to_be_visible()
        await phone.screenshot(path=shots[2])
    return shots


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/samples")
    target.mkdir(parents=True, exist_ok=True)
    for shot in asyncio.run(take(target)):
        print(shot)
