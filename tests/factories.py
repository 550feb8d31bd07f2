"""Test data in one line."""

from __future__ import annotations

from datetime import UTC, datetime

from coachbot.testing import add_enrolled_users

ENROLLED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

__all__ = ["ENROLLED", "add_enrolled_users"]
