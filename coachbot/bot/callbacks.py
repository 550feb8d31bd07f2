"""Callback data: a small versioned grammar for typed actions, at most 64 bytes, validated.

`v2|<code>|<field>|...`: the action's short code, then its fields in order (whole numbers as
digits, yes/no as 1/0, enums by value, ids in `[a-z0-9_]`, absent as `-`). Anything else decodes to
None (answered politely, changing nothing); a version-1 button still in a user's chat decodes to
`Legacy` (answered with a pointer to /today).
"""

from __future__ import annotations

import re
import types
from dataclasses import fields
from enum import StrEnum
from functools import lru_cache
from typing import Any, get_args, get_type_hints

from coachbot.services import actions as a

VERSION = "v2"
LEGACY_VERSION = "v1"
MAX_BYTES = 64  # Telegram's limit for callback_data
MAX_ROW_ID = 2**31 - 1  # row ids are 32-bit integers on PostgreSQL
ABSENT = "-"
_ID = re.compile(r"^[a-z0-9_]{1,40}$")
_TEXT = re.compile(r"^[A-Za-z0-9_:/+.-]{1,40}$")  # answers such as 07:00 or Europe/London
_NUMBER = re.compile(r"^[0-9]{1,10}$")

CODES: dict[str, type[Any]] = {
    "an": a.Answer, "fl": a.IntakeFlag, "rs": a.Restart, "st": a.Settings, "dl": a.DeleteData,
    "rp": a.Report, "dd": a.Did, "ep": a.ExercisePain, "pn": a.RestPain, "ck": a.Check,
    "fn": a.Function, "sn": a.Seen, "sc": a.Screen, "rv": a.Revise, "in": a.Instructions,
    "c1": a.ClearStart, "c2": a.ClearConfirm, "c0": a.ClearCancel, "sy": a.Symptom,
    "ex": a.ShowExercise,
}  # fmt: skip
_CODE_OF = {cls: code for code, cls in CODES.items()}
_HINTS = {cls: get_type_hints(cls) for cls in CODES.values()}
_NAMES = {cls: tuple(f.name for f in fields(cls)) for cls in CODES.values()}


def _encode_field(value: object) -> str:
    if value is None:
        return ABSENT
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, StrEnum | int | str):
        return str(value)
    raise ValueError(f"cannot encode {value!r}")


def encode(action: a.Action) -> str:
    """The action's callback data; ValueError unless it decodes back to the same action."""
    kind: type[Any] = type(action)
    names = _NAMES.get(kind)
    if names is None:
        raise ValueError(f"{kind.__name__} is not sent as a button")
    code = _CODE_OF[kind]
    values = [getattr(action, name) for name in names]
    data = "|".join([VERSION, code, *map(_encode_field, values)])
    # Whole numbers (row ids, ratings) change with every check-in; the rest takes a few values.
    # So the round trip is checked once per shape of action (its numbers set to 0), and each
    # number against the grammar's bounds: the same guarantee as decoding every button.
    numbers = [value for value in values if type(value) is int]
    shape = tuple(0 if type(value) is int else value for value in values)
    if (len(data.encode()) > MAX_BYTES
            or not all(0 <= number <= MAX_ROW_ID for number in numbers)
            or not _round_trips(code, shape)):  # fmt: skip
        raise ValueError(f"callback data does not fit the grammar: {data!r}")
    return data


@lru_cache(maxsize=1024)
def _round_trips(code: str, shape: tuple[object, ...]) -> bool:
    data = "|".join([VERSION, code, *map(_encode_field, shape)])
    return bool(decode(data) == CODES[code](*shape))


def _decode_field(raw: str, hint: Any) -> object:
    options = get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if type(None) in options and raw == ABSENT:
        return None
    kind = next(option for option in options if option is not type(None))
    if kind is bool:
        if raw not in ("0", "1"):
            raise ValueError(raw)
        return raw == "1"
    if kind is int:
        if not _NUMBER.match(raw) or int(raw) > MAX_ROW_ID:
            raise ValueError(raw)
        return int(raw)
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return kind(raw)
    if not _TEXT.match(raw):
        raise ValueError(raw)
    return raw


def decode(data: str | None) -> a.Action | None:
    """The action a button's data stands for; None for anything malformed or tampered with."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    version, _, rest = data.partition("|")
    if version == LEGACY_VERSION and rest:
        return a.Legacy()
    parts = rest.split("|")
    cls = CODES.get(parts[0]) if version == VERSION else None
    if cls is None:
        return None
    names = [f.name for f in fields(cls)]
    if len(parts) - 1 != len(names):
        return None
    try:
        values = {
            n: _decode_field(raw, _HINTS[cls][n]) for n, raw in zip(names, parts[1:], strict=True)
        }
    except ValueError:
        return None
    action: a.Action = cls(**values)
    return action


def is_id(value: str) -> bool:
    """Whether `value` is shaped like a content id (flags, checks)."""
    return bool(_ID.match(value))
