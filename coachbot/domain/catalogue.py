"""What the rules need to know of the content: red-flag levels and when each is asked, and each
phase's exercises in priority order with the injury's avoid-list. Built once from `content/` by
the services; plain data, so the domain stays free of the loader."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from coachbot.domain.triage import Level


class ExerciseLike(Protocol):
    """What the plan needs to know of an exercise (content's Exercise has these)."""

    @property
    def id(self) -> str: ...
    @property
    def load(self) -> str: ...
    @property
    def every(self) -> int: ...
    @property
    def minutes(self) -> int: ...


class FlagLike(Protocol):
    """What screening needs to know of a red flag: when it is asked (I, W, R)."""

    @property
    def id(self) -> str: ...
    @property
    def asked(self) -> Collection[str]: ...


@dataclass(frozen=True)
class Catalogue:
    levels: Mapping[str, Level]  # each red flag's level
    flags: tuple[FlagLike, ...]  # in content order (the order questions are asked in)
    exercises: Mapping[str, tuple[ExerciseLike, ...]]  # by phase, in priority order
    avoid: Mapping[str, frozenset[str]] = field(default_factory=dict)  # by injury

    def candidates(self, phase: str, injury: str) -> tuple[ExerciseLike, ...]:
        """The phase's exercises this injury may be given, in priority order."""
        avoid = self.avoid.get(injury, frozenset())
        return tuple(e for e in self.exercises.get(phase, ()) if e.id not in avoid)
