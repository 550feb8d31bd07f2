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
            "avoid: [hamstring_stretch_lying,",
            "avoid: [no_such_exercise, hamstring_stretch_lying,",
        ),
        "injury hamstring_tendinopathy: avoid: unknown exercise 'no_such_exercise'",
    ),
    (
        "exercise above its phase's load limit",
        lambda d: edit(
            d / "exercises.yaml",
            "load: eccentric\n    phases: [strength, return]",
            "load: eccentric\n    phases: [mobility, strength, return]",
        ),
        "exercise nordic_assisted: load eccentric is above phase mobility's limit mobility",
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
        "program phase with no exercise",
        lambda d: (
            edit(
                d / "exercises.yaml",
                "phases: [protect, isometric, mobility, strength, return, maintain]",
                "phases: [isometric, mobility, strength, return, maintain]",
            )
            or edit(d / "exercises.yaml", "phases: [protect]", "phases: [isometric]")
            or edit(d / "exercises.yaml", "phases: [protect]", "phases: [isometric]")
        ),
        "injury hamstring_strain, phase protect: no exercise",
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
]


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
