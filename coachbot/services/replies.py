"""What a service asks the bot to say: text (Telegram HTML) and buttons with their meaning."""

from __future__ import annotations

from dataclasses import dataclass

from coachbot.services.actions import Action


@dataclass(frozen=True)
class Button:
    """A button and what pressing it does."""

    label: str
    action: Action


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Reply:
    """One message to send."""

    text: str
    buttons: Keyboard = ()
    animation: str | None = None  # an exercise id: sent as its animation, `text` the caption


@dataclass(frozen=True)
class Outcome:
    """A service's answer to one user action.

    `accepted` tells the bot the action was applied (so the pressed keyboard can be retired,
    unless `edit` gives the message's new text and buttons); `notice` is a short note for the
    button's callback answer (e.g. "that button is stale").
    """

    replies: tuple[Reply, ...] = ()
    accepted: bool = True
    notice: str | None = None
    edit: Reply | None = None  # the pressed message, rewritten to show what was recorded


def rows(buttons: list[Button], per_row: int) -> Keyboard:
    """Lay buttons out `per_row` to a row."""
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))
