"""`coachbot demo`: the real bot against the local emulator, chatted with in this terminal.

The bot's messages are printed with their buttons numbered; type text to send it, or a button's
number to press it (`=5` sends the text "5" when a button list is showing). Reads stdin line by
line, so `printf '/start\\n1\\n' | coachbot demo` is a script; it exits at the end of input.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from typing import TextIO

from coachbot.sandbox.demo import DEMO_USER_ID, sandbox
from coachbot.testing import BotEvent, Button, EmulatorClient, SandboxUser

FIRST_REPLY_TIMEOUT = 10.0  # seconds to wait for the bot's first reply to an input
QUIET_PERIOD = 0.5  # seconds without a new bot message that end a reply


def plain(text: str) -> str:
    """Telegram HTML as a terminal shows it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


class TerminalChat:
    """Prints what the bot does and turns typed lines into messages or button presses."""

    def __init__(self, user: SandboxUser, out: TextIO) -> None:
        self._user = user
        self._out = out
        self._buttons: list[Button] = []
        self._buttons_message: int | None = None

    def _show(self, event: BotEvent) -> None:
        if event.type == "message" or (
            event.type == "edit" and event.message_id == self._buttons_message
        ):
            if event.type == "message":
                # A terminal shows no pictures: an exercise animation is shown by its caption.
                picture = "[animation] " if event.animation is not None else ""
                print(f"\nbot: {picture}{plain(event.text)}", file=self._out)
            flat = [button for row in event.buttons for button in row]
            if flat:
                self._buttons, self._buttons_message = flat, event.message_id
                for number, button in enumerate(flat, start=1):
                    print(f"  [{number}] {button.text}", file=self._out)
            elif event.message_id == self._buttons_message:
                self._buttons, self._buttons_message = [], None
        elif event.type == "callback_answer" and event.text:
            print(f"  ({plain(event.text)})", file=self._out)
        self._out.flush()

    async def _settle(self) -> None:
        """Print the bot's reply: wait for its first event, then until it goes quiet."""
        timeout = FIRST_REPLY_TIMEOUT
        while events := await self._user.next_events(timeout=timeout):
            for event in events:
                self._show(event)
            timeout = QUIET_PERIOD

    async def handle(self, line: str) -> None:
        text = line.strip()
        if not text:
            return
        print(f"you> {text}", file=self._out)
        if text.isdigit() and self._buttons and 1 <= int(text) <= len(self._buttons):
            button = self._buttons[int(text) - 1]
            assert self._buttons_message is not None and button.callback_data is not None
            await self._user.press_data(self._buttons_message, button.callback_data)
        else:
            await self._user.send(text.removeprefix("="))
        await self._settle()


async def run_demo(default_zone: str, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """Start a sandbox (coachbot/sandbox/demo.py), then chat until the end of input."""
    async with sandbox(default_zone) as box, EmulatorClient(box.emulator.url) as client:
        chat = TerminalChat(client.user(DEMO_USER_ID, first_name="You"), out)
        print("coachbot sandbox: type /start to begin; Ctrl-D to quit.\n"
              "Time travel: /next (the next daily prompt), /skip N (N days, answering nothing), "
              "/state (what the rules see).\n"
              "In a browser, with pictures and the inspector: coachbot demo --web (or make run)", file=out)  # fmt: skip
        while line := await asyncio.to_thread(stdin.readline):
            await chat.handle(line)
    return 0
