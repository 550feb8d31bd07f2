"""The clock services read; tests inject a fake one instead of sleeping or patching time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class TravelClock:
    """The sandbox's clock: real time, plus however far the sandbox has jumped ahead.

    Time keeps running between jumps (flood limits, leases and the dispatch job behave as in
    production); a jump only ever moves it forward, as days do.
    """

    def __init__(self, real: Clock = system_clock) -> None:
        self._real = real
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return self._real() + self.ahead

    def jump_to(self, when: datetime) -> datetime:
        """Move to `when` if it is later than now; return the new now."""
        now = self()
        if when > now:
            self.ahead += when - now
        return self()
