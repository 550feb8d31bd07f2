"""`coachbot content check`: lint the whole content set against the clinical spec (version 2).

Loading already validates each item's shape (pydantic, `extra="forbid"`) and that every phase lists
known exercises; this checks what spans items and files: references resolve, every phase of every
program has exercises within its load limit and a first day within rule 8's cap, the avoid lists
and advice the spec requires, every red flag of the spec has a question asked when the spec says,
every function check has a question, the messages the conversation needs exist with their
placeholders, and every text fits Telegram's limits.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path

from coachbot.bot.callbacks import MAX_BYTES, MAX_ROW_ID, encode
from coachbot.content import Content, ContentError, Exercise, load_content
from coachbot.domain.phases import PHASE_MAX_LOAD, PHASES, TENDON_AVOID_INJURIES, allows, load_rank
from coachbot.domain.plan import MAX_EXERCISES, MAX_MINUTES
from coachbot.domain.screening import CHECK_IDS
from coachbot.domain.triage import REFERRAL_ONLY, REFERRAL_WITH_PROGRAM, Level
from coachbot.domain.vocabulary import INJURIES, RED_FLAG_LEVELS, RULE_REASONS
from coachbot.poses import problems as pose_problems
from coachbot.services import actions

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
# Rule 8's lower ceilings: after a rating of 6 or more, and the early days of a sudden onset.
AFTER_HIGH_PAIN_MAX_LOAD = "mobility"
HEAVY_LOADS = frozenset({"eccentric", "plyometric"})
# Spec §1.3 "asked": I at enrolment, W weekly, R in a re-screen.
ASKED = {
    "hard_lump_after_bruise": frozenset("IW"),
    "limits_daily_activities": frozenset("W"),
    "night_pain_or_weight_loss": frozenset("IW"),
    "pop_with_bruising": frozenset("IR"),
}
ASKED_BY_DEFAULT = frozenset("IWR")
# Spec §1.5: these two checks ask for no pain at all; the others for pain at most `{limit}`.
NO_PAIN_CHECKS = frozenset({"sprint_confident", "daily_activities"})
# Spec §1.1 avoid lists: the exercises with these cautions, and the ones the spec names.
TENDON_CAUTIONS = frozenset({"static_stretch", "deep_hip_bend"})
TENDON_NAMED = {"windmill_single_leg": "deep_hip_bend"}
REFERRED_INJURY = "referred_pain"
REFERRED_CAUTIONS = frozenset({"nerve_tension"})
REFERRED_NAMED = {"extender_lengthening": "nerve_tension"}
SITTING_ADVICE = TENDON_AVOID_INJURIES  # the tendon group and unsure (Goom 2016)
CONTUSION = "hamstring_contusion"
CONTUSION_ADVICE_MAX_ONSET_AGE = 2  # no massage or heat while the onset is under 3 days old
OWN_PAIN_NUMBER = re.compile(r"\d\s*/\s*10|out of 10", re.IGNORECASE)
MARKUP = re.compile(r"[<>&]")
# Messages the version 2 conversation needs, with exactly these placeholders.
REQUIRED_MESSAGES: dict[str, frozenset[str]] = {
    key: frozenset(placeholders.split())
    for key, placeholders in {
        "ask_mechanism": "", "button_mechanism_sprint": "", "button_mechanism_stretch": "",
        "button_mechanism_blow": "", "button_mechanism_other": "",
        "ask_walking": "", "button_walking_normal": "", "button_walking_limp": "",
        "button_walking_cannot": "",
        "ask_previous_injury": "", "button_previous_injury_yes": "", "button_previous_injury_no": "",
        "ask_goal": "", "button_goal_sport": "", "button_goal_everyday": "",
        "ask_activity": "", "invalid_activity": "max", "button_skip": "",
        "ask_function_baseline": "activity",
        "under_16": "",
        "plan_intro": "phase goal", "pain_guide": "fine acceptable too_much",
        "advice_intro": "", "advice_item": "text",
        "ask_session": "", "button_done": "", "button_partly": "", "button_skipped": "",
        "ask_exercise_pain": "", "ask_rest_pain": "", "ask_check": "question",
        "ask_function": "activity", "ask_seen": "", "button_seen_yes": "", "button_seen_no": "",
        "weekly_screen_intro": "questions", "symptom_intro": "questions",
        "button_clear_start": "", "clear_confirm": "", "button_clear_confirm": "",
        "button_clear_cancel": "", "clear_cancelled": "",
        "escalation_emergency": "reason", "escalation_urgent": "reason",
        "escalation_routine": "reason", "escalation_offer_log": "",
        "reason_severe_pain": "", "reason_recurrent_injury": "", "reason_under_16": "",
        **{f"phase_change_{reason}": "phase why" for reason in (
            "progression", "flare_up", "exercise_pain", "cleared", "returned", "completed",
            "silence")},
        **{f"why_{reason}": "" for reason in (
            "progression", "flare_up", "exercise_pain", "cleared", "returned", "completed",
            "silence")},
    }.items()
}  # fmt: skip


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
    yield from _exercises(content)
    yield from _programs(content)
    yield from _avoid_lists(content)
    yield from _advice(content)
    yield from _checks(content)
    yield from _messages(content)
    yield from _plain_text(content)
    yield from _limits(content)
    yield from _poses(content)


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
    for flag in content.red_flags:
        expected = ASKED.get(flag.id, ASKED_BY_DEFAULT)
        if flag.id in RED_FLAG_LEVELS and flag.asked != expected:
            yield (
                f"red_flags.yaml: red flag {flag.id}: asked {sorted(flag.asked)} is not the "
                f"spec's {sorted(expected)}"
            )


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
    items += [("checks.yaml", c.id, c.source) for c in content.checks]
    items += [
        ("injuries.yaml", f"{i.id} advice", a.source) for i in content.injuries for a in i.advice
    ]
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
    for phase in content.phases:
        for exercise in content.phase_exercises(phase.id):
            if not allows(phase.id, exercise.load):
                yield (
                    f"phases.yaml: phase {phase.id}: exercise {exercise.id}: load {exercise.load} "
                    f"is above the phase's limit {PHASE_MAX_LOAD[phase.id]}"
                )


def _exercises(content: Content) -> Iterator[str]:
    """One pain scale, heavy work never daily, and no exercise that no phase prescribes."""
    listed = {e for phase in content.phases for e in phase.exercises}
    for exercise in content.exercises:
        if exercise.id not in listed:
            yield f"exercises.yaml: exercise {exercise.id} is in no phase's exercises"
        if exercise.load in HEAVY_LOADS and exercise.every < 2:
            yield (
                f"exercises.yaml: exercise {exercise.id}: {exercise.load} work must not be daily "
                "(every: 2 or 3)"
            )
        texts = (exercise.summary, exercise.dosage, *exercise.steps, exercise.should_feel,
                 exercise.stop_if)  # fmt: skip
        if any(OWN_PAIN_NUMBER.search(text) for text in texts):
            yield (
                f"exercises.yaml: exercise {exercise.id}: states its own pain number; refer to "
                "'your pain limit' (messages.yaml pain_guide)"
            )


def _programs(content: Content) -> Iterator[str]:
    """Each program phase offers an exercise on every kind of day rule 8 can make, and its first
    day (every exercise is due then) fits rule 8's cap, so the cap never drops one unseen."""
    for injury in content.injuries:
        if injury.id in REFERRAL_ONLY:
            continue
        first = EARLIEST_PHASE.get(injury.id)
        if first is None:
            yield f"injuries.yaml: injury {injury.id} has neither a program nor a referral"
            continue
        for phase in PHASES[PHASES.index(first) :]:
            usable = [e for e in content.phase_exercises(phase) if e.id not in injury.avoid]
            gentle = [e for e in usable if load_rank(e.load) <= load_rank(AFTER_HIGH_PAIN_MAX_LOAD)]
            light = [e for e in usable if e.load not in HEAVY_LOADS]
            for kind, found in (
                ("exercise", usable),
                ("gentle exercise (for a day after pain 6+)", gentle),
                ("exercise without eccentric or plyometric load", light),
            ):
                if not found:
                    yield f"phases.yaml: injury {injury.id}, phase {phase}: no {kind}"
            counted = [e for e in usable if e.load != "rest"]
            minutes = sum(e.minutes for e in counted)
            if len(counted) > MAX_EXERCISES or minutes > MAX_MINUTES:
                yield (
                    f"phases.yaml: injury {injury.id}, phase {phase}: the first day has "
                    f"{len(counted)} exercises above rest and {minutes} minutes (at most "
                    f"{MAX_EXERCISES} and {MAX_MINUTES})"
                )


def _avoid_lists(content: Content) -> Iterator[str]:
    """Spec §1.1: the tendon group and unsure avoid static stretches and deep hip bending;
    referred pain avoids nerve-tension stretches."""
    exercises = {e.id: e for e in content.exercises}
    injuries = {i.id: i for i in content.injuries}
    rules = (
        (sorted(TENDON_AVOID_INJURIES), TENDON_CAUTIONS, TENDON_NAMED),
        ([REFERRED_INJURY], REFERRED_CAUTIONS, REFERRED_NAMED),
    )
    for injury_ids, cautions, named in rules:
        for exercise_id, caution in named.items():
            exercise = exercises.get(exercise_id)
            if exercise is None or caution not in exercise.cautions:
                yield (
                    f"exercises.yaml: exercise {exercise_id} (named by the spec) must exist with "
                    f"the caution {caution}"
                )
        for injury_id in injury_ids:
            if injury_id not in injuries:
                continue
            for exercise in content.exercises:
                if exercise.cautions & cautions and exercise.id not in injuries[injury_id].avoid:
                    yield (
                        f"injuries.yaml: injury {injury_id}: avoid must hold {exercise.id} "
                        f"({', '.join(sorted(exercise.cautions & cautions))})"
                    )


def _advice(content: Content) -> Iterator[str]:
    for injury in content.injuries:
        if injury.id in SITTING_ADVICE and not any(
            "sit" in a.text.lower() and a.max_onset_age is None for a in injury.advice
        ):
            yield f"injuries.yaml: injury {injury.id}: no sitting advice shown at all times"
        if injury.id == CONTUSION:
            early = [
                a for a in injury.advice if "massage" in a.text.lower() and "heat" in a.text.lower()
            ]
            if not early:
                yield f"injuries.yaml: injury {injury.id}: no 'no massage or heat' advice"
            for a in early:
                if a.max_onset_age != CONTUSION_ADVICE_MAX_ONSET_AGE:
                    yield (
                        f"injuries.yaml: injury {injury.id}: the massage and heat advice needs "
                        f"max_onset_age {CONTUSION_ADVICE_MAX_ONSET_AGE} (the first 3 days)"
                    )


def _checks(content: Content) -> Iterator[str]:
    ids = {check.id for check in content.checks}
    for missing in [c for c in CHECK_IDS if c not in ids]:
        yield f"checks.yaml: check {missing} of the spec has no question"
    for extra in sorted(ids - set(CHECK_IDS)):
        yield f"checks.yaml: check {extra} is not in the spec"
    for check in content.checks:
        fields = _placeholders(check.question)
        expected = set() if check.id in NO_PAIN_CHECKS else {"limit"}
        if fields != expected:
            wanted = (
                "no placeholder (no pain at all)" if not expected else "the placeholder {limit}"
            )
            yield f"checks.yaml: check {check.id}: the question needs {wanted}, found {sorted(fields)}"


def _messages(content: Content) -> Iterator[str]:
    required = [f"escalation_{level.value}" for level in Level]
    required += [f"reason_{reason}" for reason in RULE_REASONS if reason != "referral_injury"]
    referred = sorted(REFERRAL_ONLY | {REFERRAL_WITH_PROGRAM, "hamstring_strain"})
    required += [f"reason_referral_{injury}" for injury in referred]
    for key in required:
        if key not in content.messages:
            yield f"messages.yaml: message {key} is missing (needed to escalate)"
    for key, placeholders in REQUIRED_MESSAGES.items():
        if key not in content.messages:
            if key not in required:
                yield f"messages.yaml: message {key} is missing"
        elif content.messages.placeholders(key) != placeholders:
            yield (
                f"messages.yaml: message {key}: placeholders {sorted(content.messages.placeholders(key))} "
                f"are not {sorted(placeholders)}"
            )


def _plain_text(content: Content) -> Iterator[str]:
    """Items are plain text (escaped when sent): no markup characters."""
    texts: list[tuple[str, str, str]] = []
    for e in content.exercises:
        for text in (e.name, e.summary, e.dosage, *e.steps, e.should_feel, e.stop_if):
            texts.append(("exercises.yaml", e.id, text))
    for i in content.injuries:
        for text in (i.label, i.description, *(a.text for a in i.advice)):
            texts.append(("injuries.yaml", i.id, text))
    texts += [
        ("red_flags.yaml", f.id, t) for f in content.red_flags for t in (f.question, f.reason)
    ]
    texts += [
        ("phases.yaml", p.id, t) for p in content.phases for t in (p.name, p.goal, p.next_step_hint)
    ]
    texts += [("checks.yaml", c.id, c.question) for c in content.checks]
    for file, item, text in texts:
        if MARKUP.search(text):
            yield f"{file}: item {item}: plain text only (no <, > or &)"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _limits(content: Content) -> Iterator[str]:
    for key in content.messages.names():
        if len(content.messages.template(key)) > TELEGRAM_TEXT_LIMIT:
            yield f"messages.yaml: message {key}: longer than Telegram's {TELEGRAM_TEXT_LIMIT}"
    for exercise in content.exercises:
        if len(_card(exercise)) > EXERCISE_CARD_LIMIT:
            yield f"exercises.yaml: exercise {exercise.id}: instructions over {EXERCISE_CARD_LIMIT} characters"
    yield from _buttons(content)


def _buttons(content: Content) -> Iterator[str]:
    """Every button that carries a content id encodes within Telegram's 64 bytes, with the
    largest check-in id the database can hold."""
    biggest = MAX_ROW_ID
    buttons: list[tuple[str, actions.Action]] = []
    for flag in content.red_flags:
        buttons += [(f"red flag {flag.id}", actions.IntakeFlag(flag.id, True)),
                    (f"red flag {flag.id}", actions.Symptom(flag.id)),
                    (f"red flag {flag.id}", actions.Screen(biggest, actions.ScreenKind.RESCREEN, flag.id))]  # fmt: skip
    buttons += [
        (f"injury {i.id}", actions.Answer(actions.Question.INJURY, i.id)) for i in content.injuries
    ]
    buttons += [(f"check {c.id}", actions.Check(biggest, c.id, True)) for c in content.checks]
    for what, action in buttons:
        try:
            encode(action)
        except ValueError:
            yield f"{what}: its buttons' callback data would exceed Telegram's {MAX_BYTES} bytes"


def _card(exercise: Exercise) -> str:
    return "\n".join(
        (exercise.name, exercise.dosage, *exercise.steps, exercise.should_feel, exercise.stop_if)
    )


def _poses(content: Content) -> Iterator[str]:
    """Issue 11: every exercise has its picture's poses, within human ranges, resting on the floor
    where it says it does and never through it."""
    for exercise in content.exercises:
        if exercise.poses is None:
            yield f"exercises.yaml: exercise {exercise.id}: field poses: missing (every exercise needs its picture)"
        else:
            yield from pose_problems(exercise.id, exercise.poses)
