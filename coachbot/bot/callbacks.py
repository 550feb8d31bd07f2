"""Callback data: a small versioned grammar, at most 64 bytes, validated on the way in.

`v1|<step>|<value>`: the answer `value` to the question `step`. Anything else (an old format, a
tampered or truncated string) decodes to None and is answered politely without changing anything.
"""

from __future__ import annotations

import re

from coachbot.services.replies import Choice

VERSION = "v1"
MAX_BYTES = 64  # Telegram's limit for callback_data
_PART = re.compile(r"^[A-Za-z0-9_:/+.-]{1,48}$")


def encode(choice: Choice) -> str:
    data = f"{VERSION}|{choice.step}|{choice.value}"
    if len(data.encode()) > MAX_BYTES or not (
        _PART.match(choice.step) and _PART.match(choice.value)
    ):
        raise ValueError(f"callback data does not fit the grammar: {data!r}")
    return data


def decode(data: str | None) -> Choice | None:
    parts = (data or "").split("|")
    if len(parts) != 3 or parts[0] != VERSION or len((data or "").encode()) > MAX_BYTES:
        return None
    _, step, value = parts
    if not (_PART.match(step) and _PART.match(value)):
        return None
    return Choice(step, value)
