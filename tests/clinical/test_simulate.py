"""`coachbot simulate` on every shipped scenario, and on malformed ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from coachbot.cli import main
from coachbot.domain.vocabulary import INJURIES
from coachbot.paths import CONTENT_DIR

SCENARIOS = CONTENT_DIR / "scenarios"

# scenario: (escalations as (day, level, reason), the (first day, phase, status) of each stretch)
EXPECTED: dict[str, tuple[list[tuple[int, str, str]], list[tuple[int, str | None, str]]]] = {
    "strain_recovers": (
        [],
        [
            (0, "protect", "active"),
            (5, "isometric", "active"),
            (8, "mobility", "active"),
            (11, "strength", "active"),
            (14, "return", "active"),
            (21, "maintain", "active"),
            (35, "maintain", "completed"),
        ],
    ),
    "strain_grade3_referral": ([(0, "urgent", "referral_injury")], [(0, None, "escalated")]),
    "contusion": ([], [(0, "protect", "active"), (6, "isometric", "active")]),
    "cramp": ([], [(0, "mobility", "active"), (4, "strength", "active")]),
    "tight_hamstrings": ([], [(0, "mobility", "active"), (4, "strength", "active")]),
    "referred_pain": ([(0, "routine", "referral_injury")], [(0, "mobility", "active")]),
    "tendinopathy_upper": ([], [(0, "isometric", "active"), (5, "mobility", "active")]),
    "bursitis": (
        [],
        [(0, "isometric", "active"), (4, "mobility", "active"), (7, "strength", "active")],
    ),
    "avulsion_referral": ([(0, "urgent", "referral_injury")], [(0, None, "escalated")]),
    "compartment_sudden": ([(0, "emergency", "referral_injury")], [(0, None, "escalated")]),
    "compartment_gradual": ([(0, "routine", "referral_injury")], [(0, None, "escalated")]),
    "unsure_acute": ([], [(0, "protect", "active")]),
    "unsure_gradual": ([], [(0, "isometric", "active")]),
    "intake_emergency_flag": ([(0, "emergency", "cold_pale_leg")], [(0, "protect", "escalated")]),
    "intake_routine_flag": ([(0, "routine", "hard_lump_after_bruise")], [(0, "protect", "active")]),
    "suspected_avulsion": ([(0, "urgent", "suspected_avulsion")], [(0, "mobility", "escalated")]),
    "no_improvement": ([(7, "routine", "no_improvement")], [(0, "protect", "active")]),
    "worsening": ([(3, "routine", "worsening")], [(0, "protect", "active")]),
    "recurrent_flare": (
        [(6, "routine", "recurrent_flare"), (7, "routine", "no_improvement")],
        [(0, "protect", "active")],
    ),
    "red_flag_during_course": (
        [(4, "urgent", "calf_swelling_redness")],
        [(0, "protect", "active"), (5, "protect", "escalated"), (7, "protect", "active")],
    ),
    "silence": ([], [(0, "mobility", "active"), (9, "mobility", "paused")]),
    "flare_regression": (
        [],
        [(0, "protect", "active"), (4, "isometric", "active"), (5, "protect", "active")],
    ),
}


def simulate(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["simulate", str(path), "--json"]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def stretches(days: list[dict[str, Any]]) -> list[tuple[int, str | None, str]]:
    found: list[tuple[int, str | None, str]] = []
    for day in days:
        if not found or found[-1][1:] != (day["phase"], day["status"]):
            found.append((day["day"], day["phase"], day["status"]))
    return found


def test_every_shipped_scenario_has_an_expectation() -> None:
    """No scenario ships untested, and every injury has one."""
    assert {path.stem for path in SCENARIOS.glob("*.yaml")} == set(EXPECTED)
    injuries = {yaml.safe_load(path.read_text())["injury"] for path in SCENARIOS.glob("*.yaml")}
    assert injuries == set(INJURIES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scenario_gives_the_expected_phases_and_escalations(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each scenario's escalations and the course of its phases and statuses."""
    escalations, expected_stretches = EXPECTED[name]
    result = simulate(SCENARIOS / f"{name}.yaml", capsys)
    assert [(e["day"], e["level"], e["reason"]) for e in result["escalations"]] == escalations
    assert stretches(result["days"]) == expected_stretches


def test_output_has_the_spec_shape(capsys: pytest.CaptureFixture[str]) -> None:
    """injury, escalations, and one entry for day 0 and each scripted day."""
    result = simulate(SCENARIOS / "red_flag_during_course.yaml", capsys)
    assert set(result) == {"injury", "escalations", "days"}
    assert [d["day"] for d in result["days"]] == list(range(8))
    assert set(result["days"][0]) == {"day", "phase", "status", "exercises"}
    assert all(set(e) == {"id", "load"} for d in result["days"] for e in d["exercises"])
    # The day-4 red flag shows its effect from day 5: no exercises while escalated.
    assert result["days"][4]["exercises"] and result["days"][5]["exercises"] == []


def test_without_json_a_readable_table(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json a day-by-day table with the escalation on its day."""
    assert main(["simulate", str(SCENARIOS / "no_improvement.yaml")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["day", "pain", "phase", "status"]
    assert "routine: no_improvement" in lines[8]  # header, then day 0..7


MALFORMED = [
    ("injury: broken_leg", "injury: unknown injury id 'broken_leg'"),
    ("baseline_pain: 11", "baseline_pain: Input should be less than or equal to 10"),
    ("onset: slowly", "onset: Input should be 'sudden' or 'gradual'"),
    ("intake_red_flags: [itchy]", "intake_red_flags[0]: unknown red flag id 'itchy'"),
    ("days: [{pain: 12}]", "days[0].pain: Input should be less than or equal to 10"),
    (
        "days: [{pain: 3, skip: true}]",
        "days[0]: Value error, give either pain (0-10) or skip: true",
    ),
    ("days: [{}]", "days[0]: Value error, give either pain (0-10) or skip: true"),
    ("days: [{skip: true, red_flags: [nope]}]", "days[0].red_flags[0]: unknown red flag id 'nope'"),
    ("days: [{pain: 3, mood: 5}]", "days[0].mood: Extra inputs are not permitted"),
    ("grade: 2\ninjury: hamstring_cramp", "grade: only a hamstring_strain has a grade"),
]
VALID = """injury: hamstring_strain
age: 24
onset: sudden
onset_days_ago: 1
location: middle
baseline_pain: 6
"""


@pytest.mark.parametrize(("change", "message"), MALFORMED)
def test_malformed_scenarios_exit_2_naming_the_field(
    change: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong value or id exits 2 with one line that names the field."""
    lines = [line for line in VALID.splitlines() if line.split(":")[0] not in change]
    path = tmp_path / "bad.yaml"
    path.write_text("\n".join([*lines, change]) + "\n")
    assert main(["simulate", str(path), "--json"]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error


@pytest.mark.parametrize("text", ["[1, 2", "- just\n- a list\n", ""])
def test_unreadable_files_exit_2(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Broken YAML, a list or an empty file: exit 2 naming the file."""
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    assert main(["simulate", str(path)]) == 2
    assert "broken.yaml" in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml: cannot read" in capsys.readouterr().err
