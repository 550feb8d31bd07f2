"""Who an action came from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Who:
    """The Telegram user and the private chat an action came from."""

    telegram_user_id: int
    chat_id: int
