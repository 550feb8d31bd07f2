"""The users' side (``/_sandbox/``): what users do, what they see of the bot, the web page's
routes, and the bot-side controls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Bot, BotCommandScopeAllPrivateChats
from telegram.error import BadRequest

import coachbot.sandbox
from coachbot.sandbox.emulator import BotApiEmulator, make_png
from coachbot.sandbox.server import attachment
from coachbot.sandbox.user_side import WEB_ROOT
from coachbot.testing import EmulatorClient, SandboxUser
from tests.sandbox.conftest import keyboard

# -- buttons --------------------------------------------------------------------------------------


async def test_users_press_only_buttons_that_exist(
    emulator: BotApiEmulator, bot: Bot, sam: SandboxUser
) -> None:
    sent = await bot.send_message(
        sam.chat_id, "Pain today?", reply_markup=keyboard(("Low", "pain:1"), ("High", "pain:9"))
    )
    shown = await sam.wait_for("Pain today?")
    assert shown.button("High").callback_data == "pain:9"
    await sam.press("High")
    query = (await bot.get_updates())[-1].callback_query
    assert query is not None and query.data == "pain:9"
    assert query.message is not None and query.message.message_id == sent.message_id
    await bot.answer_callback_query(query.id, text="Noted")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query.id)
    answer = await sam.wait_for("Noted", types=("callback_answer",))
    assert answer.message_id == sent.message_id

    await bot.edit_message_reply_markup(sam.chat_id, sent.message_id)  # keyboard removed
    with pytest.raises(AssertionError, match="no button 'High'"):
        await sam.press("High", timeout=0)
    stale = await sam.press_data(sent.message_id, "pain:9")
    assert stale.status_code == 400
    await sam.press_forged(sent.message_id, "pain:9")
    forged = (await bot.get_updates())[-1].callback_query
    assert forged is not None and forged.data == "pain:9"


async def test_press_waits_for_the_button_to_appear(bot: Bot, sam: SandboxUser) -> None:
    press = asyncio.create_task(sam.press("Later"))
    await bot.send_message(sam.chat_id, "Now?", reply_markup=keyboard(("Later", "later")))
    await asyncio.wait_for(press, timeout=5)
    query = (await bot.get_updates())[-1].callback_query
    assert query is not None and query.data == "later"


# -- messages -------------------------------------------------------------------------------------


async def test_user_edits_arrive_as_edited_messages(bot: Bot, sam: SandboxUser) -> None:
    message_id = await sam.send("typo")
    await sam.edit(message_id, "fixed")
    update = (await bot.get_updates())[-1]
    assert update.edited_message is not None
    assert (update.edited_message.message_id, update.edited_message.text) == (message_id, "fixed")


async def test_messages_reflect_the_current_state(bot: Bot, sam: SandboxUser) -> None:
    sent = await bot.send_message(sam.chat_id, "draft", reply_markup=keyboard(("Go", "go")))
    await bot.send_chat_action(sam.chat_id, "typing")
    await bot.edit_message_text("final", sam.chat_id, sent.message_id)
    await bot.delete_message(sam.chat_id, sent.message_id)
    types = [event.type for event in await sam.next_events()]
    assert types == ["message", "chat_action", "edit", "delete"]
    assert [m["text"] for m in await sam.messages()] == ["hi"]


# -- the web page ---------------------------------------------------------------------------------


@pytest.fixture
async def page_emulator(tmp_path: Path) -> AsyncIterator[BotApiEmulator]:
    """An emulator serving the page from a folder of this test's own."""
    web = tmp_path / "web"
    web.mkdir()
    files = {
        "index.html": b"<!doctype html><title>chat</title>",
        "chat.css": b"body { margin: 0 }",
        "chat.js": b"'use strict';",
        "logo.png": make_png(2, 2),
        "icon.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        "notes.txt": b"not a page file",
        ".hidden.css": b"a dotfile",
    }
    for name, data in files.items():
        (web / name).write_bytes(data)
    (web / "folder.css").mkdir()
    (tmp_path / "secret.html").write_bytes(b"outside the page's folder")
    emulator = BotApiEmulator(web_root=web)
    await emulator.start()
    yield emulator
    await emulator.stop()


async def test_the_page_and_its_files_are_served_uncached(page_emulator: BotApiEmulator) -> None:
    async with httpx.AsyncClient(base_url=page_emulator.url) as http:
        page = await http.get("/")
        assert page.status_code == 200
        assert page.content == b"<!doctype html><title>chat</title>"
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert page.headers["Cache-Control"] == "no-store"
        types = {
            "index.html": "text/html; charset=utf-8",
            "chat.css": "text/css; charset=utf-8",
            "chat.js": "text/javascript; charset=utf-8",
            "logo.png": "image/png",
            "icon.svg": "image/svg+xml",
        }
        for name, content_type in types.items():
            response = await http.get(f"/web/{name}")
            assert response.status_code == 200, name
            assert response.headers["Content-Type"] == content_type
            assert response.headers["Cache-Control"] == "no-store"
        assert (await http.get("/web/logo.png")).content == make_png(2, 2)


@pytest.mark.parametrize(
    "path",
    [
        "/web/notes.txt",  # not a kind of file the page has
        "/web/missing.css",
        "/web/.hidden.css",
        "/web/folder.css",
        "/web/..%2Fsecret.html",
        "/web/%2E%2E%2Fsecret.html",
        "/web/../secret.html",
        "/web/..",
        "/web/",
        "/web/sub/chat.css",
        "/secret.html",
    ],
)
async def test_nothing_else_is_served(page_emulator: BotApiEmulator, path: str) -> None:
    status, body = await raw_get(page_emulator.url, path)
    assert status == 404
    assert b"outside" not in body


async def raw_get(url: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (an HTTP client would resolve ``..`` before sending)."""
    host, port = httpx.URL(url).host, httpx.URL(url).port
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        response = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    status_line, _, rest = response.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


async def test_no_page_folder_is_a_404(tmp_path: Path) -> None:
    emulator = BotApiEmulator(web_root=tmp_path / "absent")
    await emulator.start()
    try:
        async with httpx.AsyncClient(base_url=emulator.url) as http:
            assert (await http.get("/")).status_code == 404
            assert (await http.get("/web/chat.js")).status_code == 404
    finally:
        await emulator.stop()


def test_the_page_ships_inside_the_package() -> None:
    assert Path(coachbot.sandbox.__file__).parent / "web" == WEB_ROOT


# -- the bot's command menu -----------------------------------------------------------------------


async def test_commands_are_the_default_scope_menu(bot: Bot, client: EmulatorClient) -> None:
    assert await client.get("commands") == []
    await bot.set_my_commands([("start", "Begin"), ("today", "Today's exercises")])
    await bot.set_my_commands([("start", "Anfangen")], language_code="de")
    await bot.set_my_commands([("admin", "Admin")], scope=BotCommandScopeAllPrivateChats())
    menu = [
        {"command": "start", "description": "Begin"},
        {"command": "today", "description": "Today's exercises"},
    ]
    assert await client.get("commands") == menu
    assert await client.get("commands", language_code="fr") == menu
    assert await client.get("commands", language_code="de") == [
        {"command": "start", "description": "Anfangen"}
    ]
    await bot.delete_my_commands()
    assert await client.get("commands") == []


# -- formatted text -------------------------------------------------------------------------------


async def test_events_and_messages_carry_entities(
    bot: Bot, client: EmulatorClient, sam: SandboxUser
) -> None:
    await bot.send_message(sam.chat_id, "<b>Hi</b> 😀 <i>there</i>", parse_mode="HTML")
    await bot.send_photo(sam.chat_id, make_png(4, 4), caption="<u>Week</u> 1", parse_mode="HTML")
    await bot.send_message(sam.chat_id, "plain")
    raw = await client.get("events", chat_id=sam.chat_id)
    text, photo, plain = raw["events"]
    bold = {"type": "bold", "offset": 0, "length": 2}
    italic = {"type": "italic", "offset": 6, "length": 5}  # after the emoji's 2 UTF-16 units
    assert (text["text"], text["entities"], text["caption_entities"]) == (
        "Hi 😀 there",
        [bold, italic],
        [],
    )
    underline = {"type": "underline", "offset": 0, "length": 4}
    assert (photo["caption"], photo["entities"]) == ("Week 1", [])
    assert photo["caption_entities"] == [underline]
    assert (plain["entities"], plain["caption_entities"]) == ([], [])

    command = {"type": "bot_command", "offset": 0, "length": 6}
    await sam.send("/start now")
    views = await sam.messages()
    assert [(v["entities"], v["caption_entities"]) for v in views] == [
        ([], []),  # sam's "hi"
        ([bold, italic], []),
        ([], [underline]),
        ([], []),
        ([command], []),
    ]
    event = await sam.wait_for("Hi")  # the test client still reads the events
    assert event.parse_mode == "HTML"


# -- file downloads -------------------------------------------------------------------------------


async def test_download_names_the_file(bot: Bot, client: EmulatorClient, sam: SandboxUser) -> None:
    sent = await bot.send_document(sam.chat_id, b"day,pain\n", filename="día 1, plan.csv")
    assert sent.document is not None
    async with httpx.AsyncClient(base_url=client.url) as http:
        shown = await http.get(f"/_sandbox/files/{sent.document.file_id}")
        saved = await http.get(f"/_sandbox/files/{sent.document.file_id}?download=1")
    assert "Content-Disposition" not in shown.headers
    assert saved.content == shown.content == b"day,pain\n"
    assert saved.headers["Content-Disposition"] == (
        "attachment; filename=\"d_a 1, plan.csv\"; filename*=UTF-8''d%C3%ADa%201%2C%20plan.csv"
    )


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("plan.pdf", "attachment; filename=\"plan.pdf\"; filename*=UTF-8''plan.pdf"),
        (
            'a "quoted" \\ name',
            'attachment; filename="a _quoted_ _ name"; '
            "filename*=UTF-8''a%20%22quoted%22%20%5C%20name",
        ),
        ("../x\r\n.csv", "attachment; filename=\".._x__.csv\"; filename*=UTF-8''..%2Fx%0D%0A.csv"),
        ("Übung", "attachment; filename=\"_bung\"; filename*=UTF-8''%C3%9Cbung"),
        ("日本", "attachment; filename=\"__\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC"),
        ("", "attachment; filename=\"file\"; filename*=UTF-8''"),
    ],
)
def test_attachment_header_quotes_any_name(name: str, header: str) -> None:
    assert attachment(name) == header


# -- bot-side controls ----------------------------------------------------------------------------


class _Controls:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def control(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((action, body))
        if action == "inspect":
            return {"user_id": body["user_id"], "phase": 1}
        if action == "skip":
            raise ValueError("days must be 1-30")
        raise LookupError(f"no control {action!r}")


async def test_controls_answer_when_attached(emulator: BotApiEmulator) -> None:
    async with httpx.AsyncClient(base_url=emulator.url) as http:
        absent = await http.post("/_sandbox/control/inspect", json={"user_id": 7})
        assert (absent.status_code, absent.json()) == (
            404,
            {"error": "time travel and the inspector exist only in `coachbot demo`"},
        )
        controls = _Controls()
        emulator.controls = controls  # attached after the start, as the demo does
        found = await http.post("/_sandbox/control/inspect", json={"user_id": 7})
        assert (found.status_code, found.json()) == (200, {"user_id": 7, "phase": 1})
        refused = await http.post("/_sandbox/control/skip", json={"days": 99})
        assert (refused.status_code, refused.json()) == (400, {"error": "days must be 1-30"})
        unknown = await http.post("/_sandbox/control/rewind", json={})
        assert (unknown.status_code, unknown.json()) == (404, {"error": "no control 'rewind'"})
        empty = await http.post("/_sandbox/control/rewind")
        assert empty.status_code == 404
        not_an_object = await http.post("/_sandbox/control/inspect", json=[7])
        assert (not_an_object.status_code, not_an_object.json()) == (
            400,
            {"error": "the body must be a JSON object"},
        )
        assert (await http.get("/_sandbox/control/inspect")).status_code == 405
    assert controls.calls == [
        ("inspect", {"user_id": 7}),
        ("skip", {"days": 99}),
        ("rewind", {}),
        ("rewind", {}),
    ]


async def test_controls_given_at_construction() -> None:
    controls = _Controls()
    emulator = BotApiEmulator(controls=controls)
    assert emulator.controls is controls
    await emulator.start()
    try:
        async with httpx.AsyncClient(base_url=emulator.url) as http:
            answer = await http.post("/_sandbox/control/inspect", json={"user_id": 3})
        assert answer.json() == {"user_id": 3, "phase": 1}
    finally:
        await emulator.stop()
