"""The hazard log names every hazard the clinical issues require, and points at tests that exist
(and so run with the suite), with the mutation that showed each control matters."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

LOG = Path(__file__).resolve().parents[2] / "docs" / "safety" / "hazard-log.md"
HAZARDS = (
    # Version 1.
    "Missed red flag",
    "Exercise too hard too early",
    "Late escalation",
    "Escalation spam",
    "Misleading message",
    "Lost rating",
    # Version 2 (issue 10: the hazards the clinical review named).
    "Wrong injury picked",
    "No way to report a new symptom",
    "Self-clearance by a reflex tap",
    "False alarms from over-broad red flags",
    "Progression on stale data",
    "A hold that can't be lifted",
    "Misread exercise frequency",
    "Minors",
    # Issue 11: exercise pictures.
    "Movement learned wrong from a picture",
    # Issue 12: the sandbox's time travel.
    "Time travel in the real bot",
)
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::([\w:]+)`")
NAME = re.compile(r"^\| (H\d+) \| \*\*([^*]+)\*\*")
HEADER = "| id | hazard | cause | control | evidence (test) | checked by | severity / likelihood |"
SEVERITY = re.compile(r"\| ([1-5]) / ([1-5]) \|$")


def lines() -> list[str]:
    return LOG.read_text().splitlines()


def hazard_rows() -> list[tuple[str, str, str]]:
    """(id, name, the whole row) of each hazard row of the log, in order."""
    return [(m[1], m[2], line) for line in lines() if (m := NAME.match(line))]


def rows() -> dict[str, list[tuple[str, str]]]:
    """Each hazard row of the log: its name and the tests it cites."""
    return {name: REFERENCE.findall(line) for _, name, line in hazard_rows()}


def cells(row: str) -> list[str]:
    """The cells of a table row (no `|` appears inside a cell of this log)."""
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def test_every_hazard_has_a_row_with_evidence() -> None:
    """Each hazard the issues name has a row naming at least one test."""
    table = rows()
    missing = [name for name in HAZARDS if name not in table]
    assert not missing, f"hazards without a row: {missing}"
    assert all(table.values()), "every row cites a test"


def test_rows_are_numbered_in_order_with_every_column_filled() -> None:
    """H1, H2, ... with no gap or repeat; each row has the header's columns, none empty."""
    assert HEADER in lines()
    found = hazard_rows()
    assert [hazard_id for hazard_id, _, _ in found] == [f"H{n}" for n in range(1, len(found) + 1)]
    width = len(cells(HEADER))
    for hazard_id, _, row in found:
        assert len(cells(row)) == width, hazard_id
        assert all(cells(row)), f"{hazard_id} has an empty cell"


def test_each_row_says_which_mutation_was_checked_and_rates_the_risk() -> None:
    """The "checked by" cell names the control removed or weakened and the test that failed; the
    last cell is severity / likelihood on DCB0129's 1-5 scales."""
    for hazard_id, _, row in hazard_rows():
        checked = cells(row)[5]
        assert re.search(r"\bfails?\b", checked), f"{hazard_id}: no failing test named"
        assert SEVERITY.search(row.rstrip()), f"{hazard_id}: severity / likelihood"


@pytest.mark.parametrize(
    ("path", "name"), sorted({ref for refs in rows().values() for ref in refs})
)
def test_each_referenced_test_exists(path: str, name: str) -> None:
    """The file, class and test function named in the log are real."""
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    target: object = module
    for part in name.split("::"):
        target = getattr(target, part)
    assert callable(target)
