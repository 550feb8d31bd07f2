"""Settings come from the environment; a bad value stops start-up with one line naming it."""

from __future__ import annotations

import pytest

from coachbot.config import ConfigError, load_settings

TOKEN = "123456:" + "A" * 35


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_API_URL",
        "DATABASE_URL",
        "DATA_DIR",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "WEBHOOK_LISTEN",
        "DEFAULT_TIMEZONE",
        "LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]  # no stray .env


class TestDefaults:
    def test_defaults_need_nothing_but_give_a_sqlite_file_under_data(self) -> None:
        """With nothing set, the database is a SQLite file in ./data and the API is Telegram's."""
        settings = load_settings()
        assert settings.database_url == "sqlite+aiosqlite:///data/coachbot.sqlite3"
        assert settings.api_root == "https://api.telegram.org"
        assert settings.telegram_bot_token is None

    def test_api_root_loses_its_trailing_slash(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """TELEGRAM_API_URL=http://127.0.0.1:8081/ gives calls to .../bot<token>/<method>."""
        monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/")
        assert load_settings().api_root == "http://127.0.0.1:8081"

    def test_dotenv_file_is_read(self, tmp_path: object) -> None:
        """A .env in the working directory is read like the environment."""
        from pathlib import Path

        Path(".env").write_text("DEFAULT_TIMEZONE=Europe/Paris\n")
        assert load_settings().default_timezone == "Europe/Paris"


class TestErrors:
    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("TELEGRAM_BOT_TOKEN", "not-a-token"),
            ("TELEGRAM_API_URL", "nope"),
            ("DATABASE_URL", "mysql://localhost/x"),
            ("WEBHOOK_SECRET", "has spaces"),
            ("WEBHOOK_LISTEN", "8443"),
            ("DEFAULT_TIMEZONE", "Mars/Olympus"),
            ("LOG_LEVEL", "LOUD"),
        ],
    )
    def test_malformed_value_names_the_variable_in_one_line(
        self, monkeypatch: pytest.MonkeyPatch, name: str, value: str
    ) -> None:
        """Each malformed variable gives one line that starts with its name."""
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError) as error:
            load_settings()
        message = str(error.value)
        assert message.startswith(f"{name}:")
        assert "\n" not in message

    def test_malformed_token_is_not_echoed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Even a wrong token is a secret: the error does not repeat it."""
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "secret-ish-value-123")
        with pytest.raises(ConfigError) as error:
            load_settings()
        assert "secret-ish-value-123" not in str(error.value)

    def test_missing_token_is_named_when_running(self) -> None:
        """Running without a token says which variable to set."""
        with pytest.raises(ConfigError, match="^TELEGRAM_BOT_TOKEN: not set"):
            load_settings().require_token()

    def test_valid_token_is_accepted_and_hidden_in_repr(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A good token loads, and printing the settings does not show it."""
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        settings = load_settings()
        assert settings.require_token() == TOKEN
        assert TOKEN not in repr(settings)

    def test_postgres_url_is_accepted(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """PostgreSQL through asyncpg is a supported engine."""
        monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1/test")
        assert not load_settings().is_default_sqlite


class TestWebhook:
    def test_webhook_url_without_a_secret_names_webhook_secret(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A webhook anyone could post forged updates to is refused at start-up."""
        monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/telegram")
        with pytest.raises(ConfigError, match="^WEBHOOK_SECRET: required when WEBHOOK_URL is set"):
            load_settings()

    def test_webhook_url_with_a_secret_is_accepted_and_the_secret_hidden(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """URL and secret together load; the secret does not show in the settings' repr."""
        monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/telegram")
        monkeypatch.setenv("WEBHOOK_SECRET", "s3cret_Value-1")
        settings = load_settings()
        assert str(settings.webhook_url) == "https://bot.example.org/telegram"
        assert settings.webhook_secret is not None
        assert settings.webhook_secret.get_secret_value() == "s3cret_Value-1"
        assert "s3cret_Value-1" not in repr(settings)

    def test_polling_needs_no_secret(self) -> None:
        """Without WEBHOOK_URL (polling, the default) the secret is optional."""
        settings = load_settings()
        assert settings.webhook_url is None and settings.webhook_secret is None

    def test_a_malformed_secret_is_named_even_with_a_url(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A secret Telegram would refuse is reported as malformed, not as missing."""
        monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/telegram")
        monkeypatch.setenv("WEBHOOK_SECRET", "has spaces")
        with pytest.raises(ConfigError, match="^WEBHOOK_SECRET: 1-256 characters"):
            load_settings()

    def test_the_health_check_path_is_not_a_webhook_path(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """/healthz is served beside the webhook, so the webhook cannot live there."""
        monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/healthz")
        monkeypatch.setenv("WEBHOOK_SECRET", "s3cret")
        with pytest.raises(ConfigError, match="^WEBHOOK_URL: the path /healthz"):
            load_settings()
