"""Logging through discord.py's setup, with secrets masked on every handler.

The redaction is a safety net under the rule that nothing logs a secret on purpose: if a library
ever prints a URL or header carrying the token or key, the log still shows `[redacted]`. It also
cuts the payload out of any `data:...;base64,` URL, so an image never lands in a log. It covers the
message, the exception text and every string passed with `extra=`, so `LOG_FORMAT=json` (which
writes the extra fields out) is as safe as the text format.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

import discord

__all__ = ["JsonFormatter", "RedactSecrets", "setup_logging"]

#: Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
#: The payload of a base64 data URL (an image sent to or received from a model).
_DATA_URL = re.compile(r"(data:[\w.+/-]*;base64,)[A-Za-z0-9+/=]{40,}")


class RedactSecrets(logging.Filter):
    """Replaces each known secret in a record's final message and string extras with `[redacted]`."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = tuple(secret for secret in secrets if len(secret) >= 8)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, mask secrets, and freeze the result into the record."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not kill logging
            return True
        masked = self._mask(message)
        for key, value in list(vars(record).items()):
            if key not in _RECORD_FIELDS and isinstance(value, str):
                setattr(record, key, self._mask(value))
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

    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _DATA_URL.sub(r"\1[omitted]", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line (time, level, logger, message, then the `extra=` fields).

    Log shippers index such lines without a parsing rule, and fields such as a job's model or cost
    stay typed numbers and strings instead of text to scrape.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Serialise one record; values JSON cannot hold are written with `str()`."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def setup_logging(level: int, secrets: Iterable[str], log_format: Literal["text", "json"] = "text") -> None:
    """Configure the root logger the way discord.py does, plus redaction, and quiet httpx."""
    if log_format == "json":
        discord.utils.setup_logging(formatter=JsonFormatter(), level=level, root=True)
    else:
        discord.utils.setup_logging(level=level, root=True)
    redactor = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
