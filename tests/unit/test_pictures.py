"""The exercise pictures (coachbot/pictures.py): every exercise renders a GIF Telegram plays inline
(animated, looping, 480 px wide, well under its size limit) and a PNG still; the contact sheet has
one labelled cell per exercise."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
from PIL import Image, ImageSequence

from coachbot import pictures
from coachbot.content import Exercise, default_content

EXERCISES = default_content().exercises
TELEGRAM_GIF_LIMIT = 2 * 1024 * 1024  # ours: well within sendAnimation's limits


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_every_exercise_renders_a_looping_animation_and_a_still(exercise: Exercise) -> None:
    data = pictures.animation_gif(exercise)
    assert len(data) < TELEGRAM_GIF_LIMIT
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF"
    assert gif.size[0] == pictures.WIDTH
    assert getattr(gif, "is_animated", False) and getattr(gif, "n_frames", 1) >= 4
    assert gif.info.get("loop") == 0  # loops forever
    durations = [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]
    assert sum(durations) <= pictures.MAX_LOOP_SECONDS * 1000 + 50
    still = Image.open(io.BytesIO(pictures.still_png(exercise)))
    assert still.format == "PNG"
    assert still.size == (pictures.WIDTH, pictures.HEIGHT)


def test_a_hold_is_a_pause_and_the_movement_runs_at_ten_frames_a_second() -> None:
    """The bridge hold's 10 s hold is one long frame; the lift and lowering are 100 ms steps."""
    bridge = default_content().exercise("bridge_isometric_double")
    gif = Image.open(io.BytesIO(pictures.animation_gif(bridge)))
    durations = [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]
    assert max(durations) == pictures.MAX_PAUSE_SECONDS * 1000
    assert durations.count(1000 // pictures.FPS) >= 10


def test_the_still_shows_the_key_frame_and_differs_between_exercises() -> None:
    """The key frame is the longest hold (the bridge at the top, not lying flat)."""
    content = default_content()
    bridge = content.exercise("bridge_isometric_double")
    assert bridge.poses is not None
    assert pictures._key_index(bridge.poses) == 1
    stills = {pictures.still_png(e) for e in EXERCISES[:6]}
    assert len(stills) == 6


def test_the_contact_sheet_has_one_labelled_cell_per_exercise() -> None:
    sheet = Image.open(io.BytesIO(pictures.contact_sheet_png(EXERCISES)))
    columns = pictures.SHEET_COLUMNS
    rows = math.ceil(len(EXERCISES) / columns)
    cell_w, cell_h = pictures.SHEET_CELL
    assert sheet.size[0] == columns * cell_w
    assert sheet.size[1] - rows * cell_h in range(30, 80)  # the header above the grid
    # Every cell is drawn (not blank): its middle holds more than the background.
    top = sheet.size[1] - rows * cell_h
    for index in range(len(EXERCISES)):
        x, y = (index % columns) * cell_w, top + (index // columns) * cell_h
        cell = sheet.crop((x + 2, y + 2, x + cell_w - 2, y + cell_h - 2)).convert("L")
        darkest = cell.getextrema()[0]
        assert isinstance(darkest, int) and darkest < 100, EXERCISES[index].id
    # The cells after the last exercise are empty.
    last = len(EXERCISES)
    if last % columns:
        x, y = (last % columns) * cell_w, top + (last // columns) * cell_h
        empty = sheet.crop((x + 2, y + 2, x + cell_w - 2, y + cell_h - 2)).convert("L")
        assert empty.getextrema() == (255, 255)


def test_the_command_writes_the_sheet_and_every_animation(tmp_path: Path) -> None:
    few = EXERCISES[:2]
    written = pictures.write_samples(tmp_path, few)
    assert written[0] == tmp_path / "exercises.png"
    assert sorted(p.name for p in (tmp_path / "exercises").iterdir()) == sorted(
        f"{e.id}.gif" for e in few
    )
    assert pictures.main([]) == 2  # usage
