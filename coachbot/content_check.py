"""`coachbot content check`: lint the whole content set against the clinical spec.

Loading already validates each item's shape (pydantic, `extra="forbid"`); this checks what spans
items and files: references resolve, every phase of every program has exercises within its load
limit, every injury has a program or a referral, every red flag of the spec has a question and an
escalation message, every text fits Telegram's limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from coachbot.bot.callbacks import MAX_BYTES
from coachbot.content import Content, ContentError, Exercise, load_content
from coachbot.domain.intake import RED_FLAG_PREFIX
from coachbot.domain.phases import PHASE_MAX_LOAD, PHASES, allows, load_rank
from coachbot.domain.plan import AFTER_HIGH_PAIN_MAX_LOAD, HEAVY_LOADS
from coachbot.domain.triage import REFERRAL_ONLY, REFERRAL_WITH_PROGRAM, Level
from coachbot.domain.vocabulary import INJURIES, RED_FLAG_LEVELS, RULE_REASONS

SEEDS = ("000_618c5a10ec7ef6ea.txt", "003_e3b62e3b3e193535.txt")
TELEGRAM_TEXT_LIMIT = 4096
EXERCISE_CARD_LIMIT = 1500  # one exercise's full instructions; a prompt lists several summaries
# The earliest phase each injury's program can start in (spec §1, "program" column).
EARLIEST_PHASE = {
    "hamstring_strain": "protect",
    "hamstring_contusion": "protect",
    "hamstring_cramp": "mobility",
    "tight_hamstrings": "mobility",
    "referred_pain": "mobility",
    "hamstring_tendinopathy": "isometric",
    "ischiogluteal_bursitis": "isometric",
    "unsure": "protect",
}


def check_directory(directory: Path) -> list[str]:
    """Every problem found in the content in `directory` (empty: the content is sound)."""
    try:
        content = load_content(directory)
    except ContentError as exc:
        return [str(exc)]
    return list(check_content(content))


def check_content(content: Content) -> Iterator[str]:
    yield from _vocabulary(content)
    yield from _references(content)
    yield from _phases(content)
    yield from _programs(content)
    yield from _messages(content)
    yield from _limits(content)


def _vocabulary(content: Content) -> Iterator[str]:
    injuries = {injury.id for injury in content.injuries}
    for missing in sorted(set(INJURIES) - injuries):
        yield f"injuries.yaml: injury {missing} of the spec is missing"
    for extra in sorted(injuries - set(INJURIES)):
        yield f"injuries.yaml: injury {extra} is not in the spec"
    flags = {flag.id: flag.level for flag in content.red_flags}
    for flag_id, level in RED_FLAG_LEVELS.items():
        if flag_id not in flags:
            yield f"red_flags.yaml: red flag {flag_id} of the spec has no question"
        elif flags[flag_id] is not level:
            yield f"red_flags.yaml: red flag {flag_id}: level {flags[flag_id]} is not the spec's {level}"
    for extra in sorted(set(flags) - set(RED_FLAG_LEVELS)):
        yield f"red_flags.yaml: red flag {extra} is not in the spec"


def _references(content: Content) -> Iterator[str]:
    exercises = {exercise.id for exercise in content.exercises}
    for injury in content.injuries:
        for exercise_id in injury.avoid:
            if exercise_id not in exercises:
                yield f"injuries.yaml: injury {injury.id}: avoid: unknown exercise {exercise_id!r}"
    items = [("injuries.yaml", i.id, i.source) for i in content.injuries]
    items += [("red_flags.yaml", f.id, f.source) for f in content.red_flags]
    items += [("phases.yaml", p.id, p.source) for p in content.phases]
    items += [("exercises.yaml", e.id, e.source) for e in content.exercises]
    for file, item, source in items:
        if not source.strip():
            yield f"{file}: item {item}: field source: empty"
        for word in source.replace(";", " ").replace(",", " ").split():
            if word.endswith(".txt") and word not in SEEDS:
                yield f"{file}: item {item}: field source: unknown seed file {word!r}"


def _phases(content: Content) -> Iterator[str]:
    ids = tuple(phase.id for phase in content.phases)
    if ids != PHASES:
        yield f"phases.yaml: phases must be {list(PHASES)} in that order, found {list(ids)}"
    for phase in content.phases:
        if phase.max_load != PHASE_MAX_LOAD[phase.id]:
            yield (
                f"phases.yaml: phase {phase.id}: max_load {phase.max_load} is not the spec's "
                f"{PHASE_MAX_LOAD[phase.id]}"
            )
    for exercise in content.exercises:
        for phase_id in exercise.phases:
            if not allows(phase_id, exercise.load):
                yield (
                    f"exercises.yaml: exercise {exercise.id}: load {exercise.load} is above "
                    f"phase {phase_id}'s limit {PHASE_MAX_LOAD[phase_id]}"
                )


def _programs(content: Content) -> Iterator[str]:
    """Each program phase offers an exercise on every kind of day rule 8 can make."""
    for injury in content.injuries:
        if injury.id in REFERRAL_ONLY:
            continue
        first = EARLIEST_PHASE.get(injury.id)
        if first is None:
            yield f"injuries.yaml: injury {injury.id} has neither a program nor a referral"
            continue
        for phase in PHASES[PHASES.index(first) :]:
            usable = [
                e for e in content.exercises if phase in e.phases and e.id not in injury.avoid
            ]
            gentle = [e for e in usable if load_rank(e.load) <= load_rank(AFTER_HIGH_PAIN_MAX_LOAD)]
            light = [e for e in usable if e.load not in HEAVY_LOADS]
            for kind, found in (
                ("exercise", usable),
                ("gentle exercise (for a day after pain 6+)", gentle),
                ("exercise without eccentric or plyometric load", light),
            ):
                if not found:
                    yield f"exercises.yaml: injury {injury.id}, phase {phase}: no {kind}"


def _messages(content: Content) -> Iterator[str]:
    required = [f"escalation_{level.value}" for level in Level]
    required += [f"reason_{reason}" for reason in RULE_REASONS if reason != "referral_injury"]
    referred = sorted(REFERRAL_ONLY | {REFERRAL_WITH_PROGRAM, "hamstring_strain"})
    required += [f"reason_referral_{injury}" for injury in referred]
    for key in required:
        if key not in content.messages:
            yield f"messages.yaml: message {key} is missing (needed to escalate)"


def _limits(content: Content) -> Iterator[str]:
    for key in content.messages.names():
        if len(content.messages.template(key)) > TELEGRAM_TEXT_LIMIT:
            yield f"messages.yaml: message {key}: longer than Telegram's {TELEGRAM_TEXT_LIMIT}"
    for exercise in content.exercises:
        if len(_card(exercise)) > EXERCISE_CARD_LIMIT:
            yield f"exercises.yaml: exercise {exercise.id}: instructions over {EXERCISE_CARD_LIMIT} characters"
    buttons = [(f"{RED_FLAG_PREFIX}{flag.id}", "yes") for flag in content.red_flags]
    buttons += [("injury", injury.id) for injury in content.injuries]
    for step, value in buttons:
        if len(f"v1|{step}|{value}".encode()) > MAX_BYTES:
            yield f"{step}: its buttons' callback data would exceed Telegram's {MAX_BYTES} bytes"


def _card(exercise: Exercise) -> str:
    return "\n".join(
        (exercise.name, exercise.dosage, *exercise.steps, exercise.should_feel, exercise.stop_if)
    )
