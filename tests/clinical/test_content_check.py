"""`coachbot content check` passes on the shipped content and names each kind of problem."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from coachbot.cli import main
from coachbot.content import ContentError, load_content
from coachbot.paths import CONTENT_DIR


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def check(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["content", "check", str(directory)])
    captured = capsys.readouterr()
    return code, captured.err


def test_shipped_content_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """The content in the repository has no problem."""
    code, errors = check(CONTENT_DIR, capsys)
    assert (code, errors) == (0, "")


BREAKAGES: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "dangling exercise id",
        lambda d: edit(
            d / "injuries.yaml",
            "avoid: [extender_lengthening, diver,",
            "avoid: [no_such_exercise, extender_lengthening, diver,",
        ),
        "injury referred_pain: avoid: unknown exercise 'no_such_exercise'",
    ),
    (
        "exercise above its phase's load limit",
        lambda d: edit(
            d / "phases.yaml",
            "exercises: [gentle_walk, bridge_double_slow,",
            "exercises: [gentle_walk, nordic_assisted, bridge_double_slow,",
        ),
        "phase mobility: exercise nordic_assisted: load eccentric is above the phase's limit",
    ),
    (
        "red flag with no escalation message",
        lambda d: edit(d / "messages.yaml", "  escalation_urgent:", "  escalation_urgent_old:"),
        "message escalation_urgent is missing",
    ),
    (
        "red flag of the spec with no question",
        lambda d: edit(d / "red_flags.yaml", "  - id: fever_or_unwell", "  - id: fever_or_unwel"),
        "red flag fever_or_unwell of the spec has no question",
    ),
    (
        "red flag with the wrong level",
        lambda d: edit(
            d / "red_flags.yaml",
            "  - id: cold_pale_leg\n    level: emergency",
            "  - id: cold_pale_leg\n    level: routine",
        ),
        "red flag cold_pale_leg: level routine is not the spec's emergency",
    ),
    (
        "limits_daily_activities asked at intake",
        lambda d: edit(d / "red_flags.yaml", "    asked: [W]\n", "    asked: [I, W]\n"),
        "red flag limits_daily_activities: asked ['I', 'W'] is not the spec's ['W']",
    ),
    (
        "pop_with_bruising asked weekly",
        lambda d: edit(d / "red_flags.yaml", "    asked: [I, R]\n", "    asked: [I, W, R]\n"),
        "red flag pop_with_bruising: asked ['I', 'R', 'W'] is not the spec's ['I', 'R']",
    ),
    (
        "program phase with no exercise",
        lambda d: edit(
            d / "phases.yaml",
            "exercises: [gentle_walk, bridge_single_leg, banded_hamstring_curl, diver, "
            "glider_lengthening, nordic_assisted]",
            "exercises: [diver, glider_lengthening]",
        ),
        "injury referred_pain, phase strength: no exercise",
    ),
    (
        "first day over the cap of five exercises",
        lambda d: edit(
            d / "phases.yaml",
            "windmill_single_leg, tendon_isometric_hold, single_leg_balance]",
            "windmill_single_leg, tendon_isometric_hold, single_leg_balance, plank_trunk]",
        ),
        "injury hamstring_strain, phase mobility: the first day has 6 exercises above rest and "
        "28 minutes",
    ),
    (
        "first day over thirty minutes",
        lambda d: edit(
            d / "exercises.yaml",
            "    every: 1\n    minutes: 8\n",
            "    every: 1\n    minutes: 20\n",
        ),
        "injury hamstring_strain, phase mobility: the first day has 5 exercises above rest and "
        "37 minutes",
    ),
    (
        "an exercise in no phase",
        lambda d: edit(
            d / "phases.yaml", ", plank_trunk, running_progression]", ", running_progression]"
        ),
        "exercise plank_trunk is in no phase's exercises",
    ),
    (
        "a daily Nordic",
        lambda d: edit(
            d / "exercises.yaml",
            "  - id: nordic_hamstring\n    name: Nordic hamstring exercise\n    load: eccentric\n"
            "    every: 3",
            "  - id: nordic_hamstring\n    name: Nordic hamstring exercise\n    load: eccentric\n"
            "    every: 1",
        ),
        "exercise nordic_hamstring: eccentric work must not be daily",
    ),
    (
        "an exercise with its own pain number",
        lambda d: edit(
            d / "exercises.yaml",
            "Stop if the pain is sharp or goes above your pain limit. If the pain is worse the "
            "next morning, squat",
            "Stop if the pain is sharp or goes above 5/10. If the pain is worse the next "
            "morning, squat",
        ),
        "exercise squat_bodyweight: states its own pain number",
    ),
    (
        "tendon avoid list without the windmill",
        lambda d: edit(
            d / "injuries.yaml",
            "avoid: [extender_lengthening, windmill_single_leg, diver, glider_lengthening, "
            "single_leg_rdl]\n    advice: &sitting",
            "avoid: [extender_lengthening, diver, glider_lengthening, single_leg_rdl]\n"
            "    advice: &sitting",
        ),
        "injury hamstring_tendinopathy: avoid must hold windmill_single_leg (deep_hip_bend)",
    ),
    (
        "unsure without the tendon avoid list",
        lambda d: edit(
            d / "injuries.yaml",
            "    avoid: [extender_lengthening, windmill_single_leg, diver, glider_lengthening, "
            "single_leg_rdl]\n    advice: *sitting\n  - id: hamstring_avulsion",
            "    advice: *sitting\n  - id: hamstring_avulsion",
        ),
        "injury ischiogluteal_bursitis: avoid must hold single_leg_rdl",
    ),
    (
        "referred pain given the Extender",
        lambda d: edit(
            d / "injuries.yaml",
            "avoid: [extender_lengthening, diver, glider_lengthening]",
            "avoid: [diver, glider_lengthening]",
        ),
        "injury referred_pain: avoid must hold extender_lengthening (nerve_tension)",
    ),
    (
        "the Extender not marked as a nerve-tension stretch",
        lambda d: edit(
            d / "exercises.yaml",
            "    cautions: [deep_hip_bend, nerve_tension]\n    summary: Lying down",
            "    cautions: [deep_hip_bend]\n    summary: Lying down",
        ),
        "exercise extender_lengthening (named by the spec) must exist with the caution nerve_tension",
    ),
    (
        "tendon injury without sitting advice",
        lambda d: edit(d / "injuries.yaml", "    advice: *sitting\n", ""),
        "injury ischiogluteal_bursitis: no sitting advice shown at all times",
    ),
    (
        "contusion advice without its time limit",
        lambda d: edit(d / "injuries.yaml", "        max_onset_age: 2\n", ""),
        "injury hamstring_contusion: the massage and heat advice needs max_onset_age 2",
    ),
    (
        "contusion without the massage and heat advice",
        lambda d: edit(d / "injuries.yaml", "no massage and no heat", "rest"),
        "injury hamstring_contusion: no 'no massage or heat' advice",
    ),
    (
        "check of the spec with no question",
        lambda d: edit(d / "checks.yaml", "  - id: stairs\n", "  - id: stair_climb\n"),
        "check stairs of the spec has no question",
    ),
    (
        "check without its pain limit",
        lambda d: edit(
            d / "checks.yaml",
            "two flights of stairs at your normal pace with pain no higher than {limit} out of 10?",
            "two flights of stairs at your normal pace?",
        ),
        "check stairs: the question needs the placeholder {limit}",
    ),
    (
        "a no-pain check loosened to the limit",
        lambda d: edit(
            d / "checks.yaml",
            "(kicks, turns) with no pain at all",
            "(kicks, turns) with pain no higher than {limit} out of 10",
        ),
        "check sprint_confident: the question needs no placeholder",
    ),
    (
        "new message missing",
        lambda d: edit(d / "messages.yaml", "  pain_guide: |-", "  pain_guide_old: |-"),
        "message pain_guide is missing",
    ),
    (
        "phase change message without its reason",
        lambda d: edit(
            d / "messages.yaml",
            "with lighter exercises, because {why}.",
            "with lighter exercises.",
        ),
        "message phase_change_exercise_pain: placeholders ['phase'] are not ['phase', 'why']",
    ),
    (
        "markup in an item",
        lambda d: edit(d / "checks.yaml", "jog very slowly", "jog <b>very</b> slowly"),
        "checks.yaml: item jog_slow: plain text only",
    ),
    (
        "unknown seed file",
        lambda d: edit(
            d / "injuries.yaml", "source: 000_618c5a10ec7ef6ea.txt", "source: 999_missing.txt"
        ),
        "field source: unknown seed file '999_missing.txt'",
    ),
    (
        "text over Telegram's limit",
        lambda d: edit(
            d / "messages.yaml",
            "  too_long: That message",
            "  too_long: " + "x" * 4100 + " That message",
        ),
        "message too_long: longer than Telegram's 4096",
    ),
    (
        "a red-flag id too long for a button's 64 bytes",
        lambda d: edit(
            d / "red_flags.yaml",
            "id: fever_or_unwell",
            "id: fever_or_unwell_or_feeling_unwell_all_over",
        ),
        "red flag fever_or_unwell_or_feeling_unwell_all_over: its buttons' callback data would exceed",
    ),
    (
        "an exercise without poses",
        lambda d: drop_poses(d / "exercises.yaml", "plank_trunk"),
        "exercise plank_trunk: field poses: missing",
    ),
    (
        "a knee bent to 170",
        lambda d: edit(
            d / "exercises.yaml",
            "near: {hip: 60, knee: 131, ankle: -28}, far: {hip: 60, knee: 0",
            "near: {hip: 60, knee: 170, ankle: -28}, far: {hip: 60, knee: 0",
        ),
        "item bridge_single_leg: field poses.frames.0.near.knee",
    ),
    (
        "a bridge whose feet leave the floor",
        lambda d: edit(
            d / "exercises.yaml",
            "{hold: 10, trunk: -115, near: {hip: 0, knee: 115, ankle: 0}, "
            "far: {hip: 0, knee: 115, ankle: 0}",
            "{hold: 10, trunk: -115, near: {hip: 0, knee: 40, ankle: 0}, "
            "far: {hip: 0, knee: 40, ankle: 0}",
        ),
        "exercise bridge_isometric_double: frame 2: field poses.contacts: feet",
    ),
    (
        "a Nordic whose knees leave the floor",
        lambda d: edit(
            d / "exercises.yaml",
            "{hold: 1, trunk: 35, near: {hip: 0, knee: 65, ankle: -45}, "
            "far: {hip: 0, knee: 65, ankle: -45}",
            "{hold: 1, trunk: 35, near: {hip: 0, knee: 20, ankle: -45}, "
            "far: {hip: 0, knee: 20, ankle: -45}",
        ),
        "exercise nordic_assisted: frame 2: field poses.contacts: knees",
    ),
]


def drop_poses(path: Path, exercise_id: str) -> None:
    """Remove one exercise's `poses:` block (it runs to the next line indented less than 6)."""
    lines = path.read_text().split("\n")
    start = lines.index(f"  - id: {exercise_id}")
    at = lines.index("    poses:", start)
    end = at + 1
    while end < len(lines) and lines[end].startswith("      "):
        end += 1
    path.write_text("\n".join(lines[:at] + lines[end:]))


@pytest.mark.parametrize(("what", "breaks", "problem"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_a_broken_copy_fails_naming_the_problem(
    what: str,
    breaks: Callable[[Path], None],
    problem: str,
    copy: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each kind of breakage exits 1 with a line naming the file, the item and the problem."""
    breaks(copy)
    code, errors = check(copy, capsys)
    assert code == 1
    assert problem in errors


@pytest.mark.parametrize(
    ("file", "old", "new", "named"),
    [
        (
            "red_flags.yaml",
            "    question: Is your leg or foot cold",
            "    questio: Is your leg or foot cold",
            "red_flags.yaml: item cold_pale_leg: field question",
        ),
        ("exercises.yaml", "    load: isometric", "    load: heavy", "exercises.yaml: item "),
        (
            "exercises.yaml",
            "    every: 3\n    minutes: 6\n",
            "    every: 7\n    minutes: 6\n",
            "exercises.yaml: item nordic_assisted: field every",
        ),
        (
            "exercises.yaml",
            "    leg: sore\n",
            "    leg: left\n",
            "exercises.yaml: item rest_and_protect: field leg",
        ),
        (
            "red_flags.yaml",
            "    asked: [W]\n",
            "    asked: [W, X]\n",
            "red_flags.yaml: item limits_daily_activities: field asked",
        ),
        (
            "phases.yaml",
            "exercises: [rest_and_protect,",
            "exercises: [no_such_exercise, rest_and_protect,",
            "phases.yaml: item protect: field exercises: unknown",
        ),
        (
            "injuries.yaml",
            "        max_onset_age: 2\n",
            "        max_onset_age: -1\n",
            "injuries.yaml: item hamstring_contusion: field advice",
        ),
        (
            "phases.yaml",
            "    max_load: rest",
            "    max_load: 3",
            "phases.yaml: item protect: field max_load",
        ),
    ],
)
def test_a_file_that_does_not_load_names_file_item_and_field(
    file: str, old: str, new: str, named: str, copy: Path
) -> None:
    """Loading stops with the file, the item and the field (what start-up prints too)."""
    edit(copy / file, old, new)
    with pytest.raises(ContentError, match=named):
        load_content(copy)


def test_phase_exercises_are_in_priority_order() -> None:
    """`Content.phase_exercises` gives the phase's exercises as objects, in the listed order."""
    content = load_content()
    for phase in content.phases:
        assert tuple(e.id for e in content.phase_exercises(phase.id)) == phase.exercises
    assert content.check("walk_normal").id == "walk_normal"
