"""Browser tests: Playwright driving Debian's Chromium against `coachbot demo --web`.

They need Debian's Chromium (`make test` installs the package when it runs as root); without
it they are reported as skipped, with the reason. The sandbox runs on SQLite whatever the test
leg, so they run in the SQLite leg only.
"""

from __future__ import annotations

import pytest

from ..conftest import ENGINE
from .walk import chromium_path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if ENGINE != "sqlite":
        reason = "the sandbox always runs on its own throwaway SQLite file: the SQLite leg runs these"
    elif chromium_path() is None:
        reason = ("no Chromium for the browser tests: apt-get install chromium (or set "
                  "COACHBOT_CHROMIUM to a Chromium binary)")  # fmt: skip
    else:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(skip)
