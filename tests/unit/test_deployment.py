"""The container files agree with the code: the settings they pass are accepted, the health
check asks the endpoint the bot serves, migrations run before the bot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from coachbot.config import HEALTH_CHECK_PATH, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_compose_settings_are_accepted_with_the_optional_ones_left_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    environment = compose["services"]["coachbot"]["environment"]
    filled = {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35, "POSTGRES_PASSWORD": "pw"}
    for name, value in environment.items():
        # ${NAME:?...} is required (filled above); ${NAME:-} is empty when the operator skips it.
        value = re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: filled[m[1]], str(value))
        value = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m[2], value)
        value = re.sub(r"\$\{(\w+)\}", lambda m: filled[m[1]], value)
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.database_url.startswith("postgresql+asyncpg://coachbot:pw@postgres")
    assert settings.webhook_url is None and settings.admins == frozenset()
    assert "service_healthy" in str(compose["services"]["coachbot"]["depends_on"])


def test_the_image_checks_healthz_runs_as_a_user_and_migrates_first() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    healthcheck = next(line for line in dockerfile.splitlines() if "urlopen" in line)
    assert f"{HEALTH_CHECK_PATH}'" in healthcheck
    assert re.search(r"^USER coachbot$", dockerfile, re.MULTILINE)
    assert "coachbot migrate && exec coachbot run" in dockerfile
    assert "HEALTH_LISTEN=0.0.0.0:8080" in dockerfile
    load_settings(health_listen="0.0.0.0:8080")  # the image's default is a valid setting
