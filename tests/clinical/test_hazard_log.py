"""The hazard log points at tests that exist (and so run with the suite)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

LOG = Path(__file__).resolve().parents[2] / "docs" / "safety" / "hazard-log.md"
HAZARDS = (
    "Missed red flag",
    "Exercise too hard too early",
    "Late escalation",
    "Escalation spam",
    "Misleading message",
    "Lost rating",
)
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::([\w:]+)`")


NAME = re.compile(r"^\| H\d+ \| \*\*([^*]+)\*\*")


def rows() -> dict[str, list[tuple[str, str]]]:
    """Each hazard row of the log: its name and the tests it cites."""
    found: dict[str, list[tuple[str, str]]] = {}
    for line in LOG.read_text().splitlines():
        name = NAME.match(line)
        if name:
            found[name[1]] = REFERENCE.findall(line)
    return found


def test_every_hazard_has_a_row_with_evidence() -> None:
    """Each of the six hazards has a row naming at least one test."""
    table = rows()
    assert set(HAZARDS) <= set(table)
    assert all(table.values()), "every row cites a test"


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
