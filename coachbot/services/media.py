"""The exercise pictures: each drawn once, in the drawing worker (never on the event loop), then
kept for the life of the process (issue 11)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from coachbot.content import Content, Exercise
from coachbot.pictures import animation_gif, still_png
from coachbot.services.progress import Renderer

Draw = Callable[[Exercise], bytes]


class MediaService:
    """An exercise's animation (GIF) and key-frame still (PNG), by exercise id."""

    def __init__(self, content: Content, renderer: Renderer) -> None:
        self._content = content
        self._renderer = renderer
        self._drawn: dict[tuple[str, str], bytes] = {}
        self._drawing: dict[tuple[str, str], asyncio.Lock] = {}
        # What the chat service calls an uploaded animation (Telegram's file_id), by exercise:
        # each picture is uploaded once per bot, then sent again by reference.
        self.uploaded: dict[str, str] = {}
        self._uploading: dict[str, asyncio.Lock] = {}

    def uploading(self, exercise_id: str) -> asyncio.Lock:
        """Held while an exercise's animation is first uploaded, so a second send waits for its
        reference instead of uploading it again."""
        return self._uploading.setdefault(exercise_id, asyncio.Lock())

    async def animation(self, exercise_id: str) -> bytes:
        return await self._get(exercise_id, "gif", animation_gif)

    async def still(self, exercise_id: str) -> bytes:
        return await self._get(exercise_id, "png", still_png)

    async def _get(self, exercise_id: str, kind: str, draw: Draw) -> bytes:
        key = (exercise_id, kind)
        lock = self._drawing.setdefault(key, asyncio.Lock())
        async with lock:  # two users asking at once: drawn once
            if key not in self._drawn:
                exercise = self._content.exercise(exercise_id)
                self._drawn[key] = await self._renderer.run(draw, exercise)
        return self._drawn[key]
