"""Settings: the one place that reads the environment (and an optional `.env`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,}$")
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SECRET_SHAPE = "1-256 characters of A-Z, a-z, 0-9, _ and -"
SUPPORTED_DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
HEALTH_CHECK_PATH = "/healthz"  # served beside the webhook, so WEBHOOK_URL cannot use it


class ConfigError(Exception):
    """A missing or malformed setting; the message is one line naming the variable."""


class Settings(BaseSettings):
    """Everything coachbot reads from its environment."""

    # An empty variable counts as unset (compose passes `WEBHOOK_URL: ${WEBHOOK_URL:-}`).
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org")
    data_dir: Path = Path("data")
    database_url: str = ""
    webhook_url: AnyHttpUrl | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0:8443"
    # Polling mode: serve /healthz here (e.g. 0.0.0.0:8080 in the container); empty: no server.
    health_listen: str = ""
    # Telegram user ids allowed to use /stats.
    admin_ids: str = ""
    default_timezone: str = "UTC"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Telegram allows about 30 messages a second overall; a local Bot API server may allow more.
    telegram_max_rate: float = Field(default=30.0, gt=0)
    dispatch_interval_seconds: float = Field(default=5.0, gt=0, le=300)
    dispatch_concurrency: int = Field(default=4, ge=1, le=16)
    dispatch_lease_seconds: float = Field(default=120.0, gt=0)
    # Prompts sent but not yet committed, at most: a crash can make Telegram deliver that many
    # twice. 3 keeps Telegram's 30 a second over round trips up to about 100 ms.
    dispatch_max_unrecorded: int = Field(default=3, ge=1, le=64)

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TOKEN_PATTERN.match(value.get_secret_value()):
            # Never echo the value: it is a secret even when malformed.
            raise ValueError("not a Telegram bot token (expected <digits>:<35 characters>)")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        if value and not value.startswith(SUPPORTED_DATABASE_SCHEMES):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_path(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if value is not None and (value.path or "/").rstrip("/") == HEALTH_CHECK_PATH:
            raise ValueError(f"the path {HEALTH_CHECK_PATH} is the health check; choose another")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        # Runs for the default too (pydantic-settings validates defaults), after webhook_url.
        if value is None and info.data.get("webhook_url") is not None:
            # Without a secret anyone who finds the URL could post forged updates.
            raise ValueError(f"required when WEBHOOK_URL is set ({SECRET_SHAPE})")
        if value is not None and not WEBHOOK_SECRET_PATTERN.match(value.get_secret_value()):
            raise ValueError(SECRET_SHAPE)
        return value

    @field_validator("admin_ids")
    @classmethod
    def _admin_ids(cls, value: str) -> str:
        if any(not part.strip().isdigit() for part in value.split(",") if part.strip()):
            raise ValueError("comma-separated Telegram user ids, e.g. 12345,67890")
        return value

    @property
    def admins(self) -> frozenset[int]:
        return frozenset(int(part) for part in self.admin_ids.split(",") if part.strip())

    @field_validator("health_listen")
    @classmethod
    def _health_listen_shape(cls, value: str) -> str:
        return cls._listen_shape(value) if value else value

    @field_validator("webhook_listen")
    @classmethod
    def _listen_shape(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("expected HOST:PORT, e.g. 0.0.0.0:8443")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA time zone name, e.g. Europe/London") from None
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'coachbot.sqlite3'}"
        return self

    @property
    def api_root(self) -> str:
        """The Bot API root without a trailing slash; the bot calls <root>/bot<token>/<method>."""
        return str(self.telegram_api_url).rstrip("/")

    @property
    def is_default_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite+aiosqlite://")

    def require_token(self) -> str:
        if self.telegram_bot_token is None:
            raise ConfigError("TELEGRAM_BOT_TOKEN: not set (get one from @BotFather)")
        return self.telegram_bot_token.get_secret_value()


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning validation errors into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}") from None
