"""Where the bot keeps its data: a `DATABASE_URL`, parsed once, and the one way to print it.

Two forms are understood (README "Growing"):

- `sqlite:///data/bot.sqlite3` (relative to the working folder) or `sqlite:////data/bot.sqlite3`
  (absolute; the fourth slash starts the path), SQLAlchemy's convention. This is the default, built
  from `DATABASE_PATH` when `DATABASE_URL` is unset, so nothing changes for an existing setup.
- `postgresql://user:password@host:port/database` (`postgres://` too, as Heroku-style hosts write
  it), with libpq's query options such as `?sslmode=require` or `?host=/var/run/postgresql`.

The password is a secret like the Discord token: `DatabaseUrl.redacted` and `redact_url` replace it
with `***` wherever a URL, or a driver's error text that quotes one, could be printed or logged, and
`Settings.secrets()` hands it to the log redaction. Only `DatabaseUrl.dsn` carries it, for the
driver itself.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = [
    "POSTGRES_EXTRA_HINT",
    "DatabaseUrl",
    "DatabaseUrlError",
    "asyncpg_installed",
    "driver_missing_message",
    "redact_url",
    "sqlite_url",
]

Backend = Literal["sqlite", "postgresql"]

#: What to run when a PostgreSQL URL is configured but the driver is not installed.
POSTGRES_EXTRA_HINT = "pip install -e '.[postgres]'"

_POSTGRES_SCHEMES = ("postgresql", "postgres")
#: The credentials of any `scheme://user:password@` in a text; the user name is kept (it is no secret).
#: Greedy up to the last `@` before the path (as `urlsplit` reads it), so a raw `@` in a password is masked
#: whole, while `http://host:port/path/@x` (no credentials) is left alone.
_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s'\"<>]*):(?P<password>[^\s/?#'\"<>]*)@")


class DatabaseUrlError(ValueError):
    """A `DATABASE_URL` that is neither a SQLite nor a PostgreSQL URL; the text never quotes the URL."""


@dataclass(frozen=True, slots=True, repr=False)
class DatabaseUrl:
    """A parsed `DATABASE_URL`. `repr()` and `str()` show the redacted form only."""

    backend: Backend
    #: The SQLite file (for `sqlite`); for `postgresql` an empty path, never used.
    sqlite_path: Path
    #: The whole URL as the driver needs it, password included; scheme `postgresql://` or `sqlite:///`.
    dsn: str = field(repr=False)
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, text: str) -> DatabaseUrl:
        """Read a `DATABASE_URL`; raise `DatabaseUrlError` worded for `.env` (without the value)."""
        text = text.strip()
        scheme, sep, rest = text.partition("://")
        scheme = scheme.lower()
        if not sep:
            raise DatabaseUrlError("is not a URL (expected sqlite:///path/to/bot.sqlite3 or postgresql://...)")
        if scheme == "sqlite":
            return cls.for_sqlite(_sqlite_path(rest))
        if scheme in _POSTGRES_SCHEMES:
            return cls._postgres(f"postgresql://{rest}")
        raise DatabaseUrlError("is neither a sqlite:/// nor a postgresql:// URL")

    @classmethod
    def for_sqlite(cls, path: Path) -> DatabaseUrl:
        """The URL of a SQLite file (what an unset `DATABASE_URL` means, from `DATABASE_PATH`)."""
        return cls("sqlite", path, sqlite_url(path))

    @classmethod
    def _postgres(cls, dsn: str) -> DatabaseUrl:
        try:
            parts = urlsplit(dsn)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise DatabaseUrlError("is not a valid postgresql:// URL (check the host and port)") from None
        database = unquote(parts.path.lstrip("/"))
        if not database:
            raise DatabaseUrlError("names no database (expected postgresql://user:password@host:5432/database)")
        if "/" in database:
            raise DatabaseUrlError("has a path after the database name")
        password = unquote(parts.password) if parts.password is not None else None
        return cls("postgresql", Path(), dsn, password or None)

    @property
    def is_postgres(self) -> bool:
        """Whether this is a PostgreSQL server (as opposed to an embedded SQLite file)."""
        return self.backend == "postgresql"

    @property
    def redacted(self) -> str:
        """The URL with its password (if any) replaced by `***`: safe to print and log."""
        return redact_url(self.dsn)

    @property
    def database_name(self) -> str:
        """The PostgreSQL database's name, or the SQLite file's path."""
        if not self.is_postgres:
            return str(self.sqlite_path)
        return unquote(urlsplit(self.dsn).path.lstrip("/"))

    @property
    def where(self) -> str:
        """`host:port/database` for PostgreSQL (no user, no password), the path for SQLite: for messages."""
        if not self.is_postgres:
            return str(self.sqlite_path)
        parts = urlsplit(self.dsn)
        host = parts.hostname or "localhost"
        if parts.query and not parts.hostname:  # a unix socket: ?host=/var/run/postgresql
            for option in parts.query.split("&"):
                key, _, value = option.partition("=")
                if key == "host" and value:
                    host = unquote(value)
        port = f":{parts.port}" if parts.port else ""
        return f"{host}{port}/{self.database_name}"

    def with_database(self, name: str) -> DatabaseUrl:
        """The same server and credentials, another database (the tests' throw-away databases)."""
        if not self.is_postgres:
            raise ValueError("only a PostgreSQL URL names a database")
        parts = urlsplit(self.dsn)
        return DatabaseUrl._postgres(urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, "")))

    def secrets(self) -> tuple[str, ...]:
        """The password, for log redaction (nothing for SQLite or a password-less URL)."""
        return (self.password,) if self.password else ()

    def __str__(self) -> str:
        return self.redacted

    def __repr__(self) -> str:
        return f"DatabaseUrl({self.redacted!r})"


def sqlite_url(path: Path) -> str:
    """`sqlite:///relative/path` or `sqlite:////absolute/path` (SQLAlchemy's form)."""
    return f"sqlite:///{path.as_posix()}"


def _sqlite_path(rest: str) -> Path:
    """The path after `sqlite://`: one slash separates the (empty) host, the rest is the path."""
    if not rest.startswith("/") or rest.strip("/") == "":
        raise DatabaseUrlError("names no file (expected sqlite:///data/bot.sqlite3, or sqlite:////abs/path)")
    path = unquote(rest[1:].split("?", 1)[0])
    if path.endswith("/"):
        raise DatabaseUrlError("names a folder, not a file (expected sqlite:///data/bot.sqlite3)")
    return Path(path)


def redact_url(text: str) -> str:
    """`text` with the password of every `scheme://user:password@` in it replaced by `***`.

    For a URL, or any message (a driver's error, a traceback) that might quote one.
    """
    return _CREDENTIALS.sub(lambda match: f"{match['scheme']}{match['user']}:***@", text)


def asyncpg_installed() -> bool:
    """Whether the PostgreSQL driver imports (it is the optional `postgres` extra).

    An import, not just a lookup: a half-installed driver (its compiled part missing) counts as missing.
    """
    try:
        importlib.import_module("asyncpg")
    except ImportError:
        return False
    return True


def driver_missing_message() -> str:
    """The one line that ends the bot when `DATABASE_URL` is PostgreSQL but asyncpg is missing."""
    return ("DATABASE_URL is a PostgreSQL URL, but its driver (asyncpg) is not installed; "
            f"install the postgres extra: {POSTGRES_EXTRA_HINT}")
