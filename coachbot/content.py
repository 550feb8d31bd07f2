"""Content as validated data: the YAML files in `content/`, loaded into pydantic models at start-up.

A broken file stops the bot with a message naming the file, the item and the field.
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coachbot.domain.triage import Level
from coachbot.paths import CONTENT_DIR


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Load = Literal["rest", "isometric", "mobility", "isotonic", "eccentric", "plyometric"]
PhaseId = Literal["protect", "isometric", "mobility", "strength", "return", "maintain"]
Text = Annotated[str, Field(min_length=1, max_length=400)]
ExerciseId = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,40}$")]
# Why an exercise is wrong for some injuries (spec §1.1): the avoid lists must cover these.
Caution = Literal["static_stretch", "deep_hip_bend", "nerve_tension"]
Asked = Literal["I", "W", "R"]  # at enrolment, in the weekly screen, in a re-screen (spec §1.3)


class Advice(_Item):
    """Advice shown with the day's plan while the onset age is at most `max_onset_age` (None: always)."""

    text: Text
    max_onset_age: int | None = Field(default=None, ge=0)
    source: str


class Injury(_Item):
    id: str
    label: str = Field(max_length=40)
    description: str = Field(max_length=200)
    avoid: tuple[str, ...] = ()  # exercise ids this injury must never be given
    advice: tuple[Advice, ...] = ()
    source: str


class Phase(_Item):
    id: PhaseId
    name: str = Field(max_length=40)
    goal: Text
    max_load: Load
    next_step_hint: Text
    exercises: tuple[ExerciseId, ...] = Field(min_length=1)  # priority order (rule 8)
    source: str


Position = Literal["lying_back", "lying_front", "side_lying", "kneeling", "standing", "sitting",
                   "on_bike"]  # fmt: skip
Prop = Literal["floor", "wall", "step", "chair", "band", "partner", "bike", "towel"]
Contact = Literal["head", "shoulders", "pelvis", "knees", "feet", "hands"]


class LegAngles(_Item):
    """One leg in a keyframe: hip flexion from the trunk line, knee flexion, ankle (toes up +)."""

    hip: float = Field(ge=-30, le=140)
    knee: float = Field(ge=0, le=160)
    ankle: float = Field(default=0, ge=-50, le=40)


class ArmAngles(_Item):
    shoulder: float = Field(default=0, ge=-60, le=180)
    elbow: float = Field(default=0, ge=0, le=150)


class Keyframe(_Item):
    """One pose of the movement, held `hold` seconds (0: passed through)."""

    hold: float = Field(ge=0, le=60)
    trunk: float = Field(
        ge=-180, le=180
    )  # from vertical-up, clockwise positive (90: lying, head left)
    near: LegAngles
    far: LegAngles
    arms: ArmAngles = ArmAngles()


class Poses(_Item):
    """A 2-D side view of the movement (the figure faces right; the near leg is drawn in front):
    what the exercise pictures are drawn from (coachbot/poses.py, coachbot/pictures.py)."""

    position: Position
    sore: Literal["near", "far", "both"]  # the sore (working) leg
    props: tuple[Prop, ...] = ("floor",)
    contacts: tuple[Contact, ...] = Field(min_length=1)  # on the floor in every keyframe
    frames: tuple[Keyframe, ...] = Field(min_length=2, max_length=4)


class Exercise(_Item):
    id: ExerciseId
    name: str = Field(max_length=40)
    load: Load
    every: int = Field(ge=1, le=3)  # 1 daily, 2 every other day, 3 every third day
    minutes: int = Field(ge=0, le=60)  # estimated time; `rest` exercises never count
    leg: Literal["sore", "both", "each"]  # which leg works
    rest_between_sets: str = Field(min_length=1, max_length=40)  # "-" when there are no sets
    cautions: frozenset[Caution] = frozenset()
    summary: str = Field(max_length=160)
    steps: tuple[Text, ...] = Field(min_length=1, max_length=10)
    dosage: Text
    should_feel: Text
    stop_if: Text
    source: str
    poses: Poses | None = None  # issue 11: required of every exercise by `content check`


class RedFlag(_Item):
    id: str
    level: Level
    question: str = Field(max_length=300)
    reason: str = Field(max_length=300)
    asked: frozenset[Asked] = Field(min_length=1)
    source: str


class Check(_Item):
    """A function check (spec §1.5): one tap, yes = passes; `{limit}` is the rest-pain limit."""

    id: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    question: str = Field(min_length=1, max_length=300)
    source: str


class Command(_Item):
    command: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    description: str = Field(min_length=1, max_length=256)


class ContentError(Exception):
    """A content file that does not load; the message names the file, the item and the field."""


def escape(text: str) -> str:
    """Make user-supplied or data text safe inside a Telegram-HTML message."""
    return html.escape(text, quote=False)


class Messages:
    """The message catalogue: Telegram-HTML templates whose placeholders are filled escaped."""

    def __init__(self, templates: Mapping[str, str]) -> None:
        self._templates = dict(templates)
        self._plain: dict[str, str] = {}  # the templates rendered without values, once each

    def __contains__(self, key: str) -> bool:
        return key in self._templates

    def render(self, key: str, **values: object) -> str:
        """The template `key` with each value HTML-escaped (values are never markup)."""
        if not values:  # buttons and questions: a prompt renders about ten
            plain = self._plain.get(key)
            if plain is None:
                plain = self._plain[key] = self._templates[key].format()
            return plain
        escaped = {name: escape(str(value)) for name, value in values.items()}
        return self._templates[key].format(**escaped)

    def render_markup(self, key: str, **fragments: str) -> str:
        """The template `key` filled with fragments that are already safe markup."""
        return self._templates[key].format(**fragments)

    def names(self) -> list[str]:
        return list(self._templates)

    def template(self, key: str) -> str:
        return self._templates[key]

    def placeholders(self, key: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self._templates[key]) if name}


class Content(BaseModel):
    """Everything the bot says and prescribes, validated."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    injuries: tuple[Injury, ...]
    red_flags: tuple[RedFlag, ...]
    phases: tuple[Phase, ...]
    exercises: tuple[Exercise, ...]
    checks: tuple[Check, ...]
    commands: tuple[Command, ...]
    messages: Messages

    @cached_property
    def _by_id(self) -> dict[tuple[str, str], Any]:
        """Items by (kind, id): prompts look them up thousands of times a second."""
        kinds = (("injury", self.injuries), ("red_flag", self.red_flags),
                 ("phase", self.phases), ("exercise", self.exercises),
                 ("check", self.checks))  # fmt: skip
        return {(kind, item.id): item for kind, items in kinds for item in items}

    def injury(self, injury_id: str) -> Injury:
        return cast(Injury, self._by_id[("injury", injury_id)])

    def red_flag(self, flag_id: str) -> RedFlag:
        return cast(RedFlag, self._by_id[("red_flag", flag_id)])

    def phase(self, phase_id: str) -> Phase:
        return cast(Phase, self._by_id[("phase", phase_id)])

    def exercise(self, exercise_id: str) -> Exercise:
        return cast(Exercise, self._by_id[("exercise", exercise_id)])

    def check(self, check_id: str) -> Check:
        return cast(Check, self._by_id[("check", check_id)])

    def phase_exercises(self, phase_id: str) -> tuple[Exercise, ...]:
        """The phase's exercises in priority order (rule 8 walks them in this order)."""
        return self._phase_exercises[phase_id]

    @cached_property
    def _phase_exercises(self) -> dict[str, tuple[Exercise, ...]]:
        return {p.id: tuple(self.exercise(e) for e in p.exercises) for p in self.phases}

    def reason(self, reason: str, injury: str | None) -> str:
        """An escalation's reason in everyday words: the red flag's, or the rule's message."""
        if reason in self.levels:
            return self.red_flag(reason).reason
        if reason == "referral_injury":
            return self.messages.render(f"reason_referral_{injury}")
        return self.messages.render(f"reason_{reason}")

    @cached_property
    def levels(self) -> dict[str, Level]:
        """Each red flag's level, by id (what the rules need of the red flags)."""
        return {flag.id: flag.level for flag in self.red_flags}


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"{path.name}: {exc}") from None


def _load_items(path: Path, key: str, model: type[_Item]) -> tuple[Any, ...]:
    data = _read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise ContentError(f"{path.name}: expected a top-level list `{key}:`")
    items = []
    for index, raw in enumerate(data[key]):
        label = (
            raw.get("id", raw.get("command", f"#{index + 1}")) if isinstance(raw, dict) else index
        )
        try:
            items.append(model.model_validate(raw))
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"]) or "(item)"
            raise ContentError(
                f"{path.name}: item {label}: field {field}: {error['msg']}"
            ) from None
    ids = [str(getattr(item, "id", getattr(item, "command", ""))) for item in items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ContentError(f"{path.name}: duplicate ids {duplicates}")
    return tuple(items)


def _load_messages(path: Path) -> Messages:
    data = _read_yaml(path)
    templates = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(templates, dict):
        raise ContentError(f"{path.name}: expected a top-level mapping `messages:`")
    for key, text in templates.items():
        if not isinstance(text, str) or not text.strip():
            raise ContentError(f"{path.name}: message {key}: must be non-empty text")
    return Messages(templates)


_ITEM_FILES: dict[str, type[_Item]] = {
    "injuries": Injury,
    "red_flags": RedFlag,
    "phases": Phase,
    "exercises": Exercise,
    "checks": Check,
    "commands": Command,
}


def load_content(directory: Path = CONTENT_DIR) -> Content:
    """Load and validate every content file in `directory`."""
    loaded = {
        kind: _load_items(directory / f"{kind}.yaml", kind, model)
        for kind, model in _ITEM_FILES.items()
    }
    exercises = {exercise.id for exercise in loaded["exercises"]}
    for phase in loaded["phases"]:
        unknown = [e for e in phase.exercises if e not in exercises]
        if unknown:
            raise ContentError(f"phases.yaml: item {phase.id}: field exercises: unknown {unknown}")
        if len(set(phase.exercises)) != len(phase.exercises):
            raise ContentError(f"phases.yaml: item {phase.id}: field exercises: listed twice")
    return Content(messages=_load_messages(directory / "messages.yaml"), **loaded)


@cache
def default_content() -> Content:
    """The shipped content, loaded once per process."""
    return load_content()
