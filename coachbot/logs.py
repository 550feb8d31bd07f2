"""Logging that never carries the bot token or what users told us.

Third-party loggers are capped: httpx logs every request URL at INFO and the URL holds the token;
PTB's bot logger prints every API call's parameters and results at DEBUG, which hold users' messages
and our replies (health data). Our own loggers log user ids and event names only. As a last line of
defence a filter masks the token in any record that still reaches a handler.
"""

from __future__ import annotations

import logging

# Loggers whose records may contain request URLs (the token) or message payloads (health data).
_CAPPED_LOGGERS = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,  # its DEBUG records hold every API call's parameters and results
    "aiosqlite": logging.INFO,
    "apscheduler": logging.INFO,
    "tornado.access": logging.WARNING,
}

REDACTED = "<redacted>"


class SecretRedactingFilter(logging.Filter):
    """Replace secrets in a record's rendered message (the last line of defence)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, REDACTED)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def cap_third_party_loggers() -> None:
    """Keep chatty libraries below the level at which they log tokens or payloads."""
    for name, level in _CAPPED_LOGGERS.items():
        logger = logging.getLogger(name)
        # Only ever raise a level: a quieter setting made elsewhere (the demo's WARNING) stands.
        logger.setLevel(max(level, logger.getEffectiveLevel()))


def configure_logging(level: str, secrets: list[str]) -> None:
    """Set up the process's logging: one stream handler, capped libraries, secrets masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretRedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    cap_third_party_loggers()
