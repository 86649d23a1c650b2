"""Logging through discord.py's setup, with secrets masked on every handler.

The redaction is a safety net under the rule that nothing logs a secret on purpose: if a library
ever prints a URL or header carrying the token or key, the log still shows `[redacted]`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import discord

__all__ = ["RedactSecrets", "setup_logging"]


class RedactSecrets(logging.Filter):
    """Replaces each known secret in a record's final message with `[redacted]`."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = tuple(secret for secret in secrets if len(secret) >= 8)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, mask secrets, and freeze the result into the record."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not kill logging
            return True
        masked = message
        for secret in self._secrets:
            masked = masked.replace(secret, "[redacted]")
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if any(secret in text for secret in self._secrets):
                for secret in self._secrets:
                    text = text.replace(secret, "[redacted]")
                masked = f"{masked}\n{text}"
                record.exc_info = None
                record.exc_text = None
        record.msg, record.args = masked, None
        return True


def setup_logging(level: int, secrets: Iterable[str]) -> None:
    """Configure the root logger the way discord.py does, plus redaction, and quiet httpx."""
    discord.utils.setup_logging(level=level, root=True)
    redactor = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
