"""Logging through discord.py's setup, with secrets masked on every handler.

The redaction is a safety net under the rule that nothing logs a secret on purpose: if a library
ever prints a URL or header carrying the token or key, the log still shows `[redacted]`. It also
cuts the payload out of any `data:...;base64,` URL, so an image never lands in a log, and masks
interaction tokens: each one lets whoever holds it answer or edit that interaction's messages for
15 minutes, and at DEBUG discord.py logs them in every webhook and callback URL
(`/webhooks/<application id>/<token>/...`, `/interactions/<id>/<token>/callback`) and in every
INTERACTION_CREATE event it receives (`'token': '...'`). It covers the message, the exception text
and every string passed with `extra=` (inside lists and dicts too), so `LOG_FORMAT=json` (which
writes the extra fields out) is as safe as the text format.

The database password is one of the secrets (`Settings.secrets()`), and any `scheme://user:password@`
in a line is masked too (`bot.database_url.redact_url`), so a driver error that quotes a connection
URL, or a URL given on the command line (`migrate-db --to`), shows `user:***@`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

import discord

from bot.database_url import redact_url

__all__ = ["JsonFormatter", "RedactSecrets", "setup_logging"]

#: Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
#: The payload of a base64 data URL (an image sent to or received from a model).
_DATA_URL = re.compile(r"(data:[\w.+/-]*;base64,)[A-Za-z0-9+/=]{40,}")
#: The token part of an interaction's webhook or callback URL: `/webhooks/<id>/<token>`,
#: `/interactions/<id>/<token>/callback` (the id is kept: it helps to follow a request and grants nothing).
_URL_TOKEN = re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/\s?#&\"'\\<>]+")
#: A `token` field in a logged payload, as a Python dict (`'token': '...'`) or JSON (`"token": "..."`).
_FIELD_TOKEN = re.compile(r"""(["'](?:\w+_)?token["']\s*:\s*["'])[^"'\\\s]+""")
#: A dict key holding a token, in an `extra=` value that is a dict.
_TOKEN_KEY = re.compile(r"(?:\w+_)?token")


class RedactSecrets(logging.Filter):
    """Replaces each known secret and interaction token in a record's message and extras with `[redacted]`."""

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
            if key not in _RECORD_FIELDS and isinstance(value, str | list | tuple | dict):
                setattr(record, key, self._mask_value(value))
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            masked_text = self._mask(text)
            if masked_text != text:  # the traceback quotes a secret: freeze its masked text into the message
                masked = f"{masked}\n{masked_text}"
                record.exc_info = None
                record.exc_text = None
        record.msg, record.args = masked, None
        return True

    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        if "token" in text or "/webhooks/" in text or "/interactions/" in text:  # most lines skip the regexes
            text = _URL_TOKEN.sub(r"\1[redacted]", text)
            text = _FIELD_TOKEN.sub(r"\1[redacted]", text)
        if "://" in text and "@" in text:
            text = redact_url(text)
        return _DATA_URL.sub(r"\1[omitted]", text)

    def _mask_value(self, value: Any) -> Any:
        """Mask a string, or the strings inside a list, tuple or dict (a copy: the caller's object is kept)."""
        if isinstance(value, str):
            return self._mask(value)
        if isinstance(value, dict):
            return {key: "[redacted]" if isinstance(item, str) and isinstance(key, str) and _TOKEN_KEY.fullmatch(key)
                    else self._mask_value(item) for key, item in value.items()}
        if isinstance(value, tuple):
            return tuple(self._mask_value(item) for item in value)
        if isinstance(value, list):
            return [self._mask_value(item) for item in value]
        return value


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
