"""DATABASE_URL and its neighbours: the two forms, the defaults, and a password that never shows."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.database_url import DatabaseUrl, redact_url
from bot.logs import RedactSecrets
from bot.settings import README_GROWING, Settings, SettingsError, load_settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "pg-pass-do-not-print-4711"
TOKEN = "token-value-123456"
KEY = "sk-or-v1-settings-test-key-000000"


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, discord_token=TOKEN, openrouter_api_key=KEY, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("DATABASE_", "DISCORD_", "OPENROUTER_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_unset_database_url_is_the_sqlite_file_at_database_path() -> None:
    default = settings()
    assert default.database.backend == "sqlite"
    assert default.database.sqlite_path == Path("data/bot.sqlite3")
    assert default.database.dsn == "sqlite:///data/bot.sqlite3"
    moved = settings(database_path=Path("/srv/bot/bot.sqlite3"), database_url="")
    assert moved.database.sqlite_path == Path("/srv/bot/bot.sqlite3")
    assert moved.database.dsn == "sqlite:////srv/bot/bot.sqlite3"
    assert (default.database_pool_size, default.database_statement_timeout_s) == (10, 15)


@pytest.mark.parametrize(("url", "path"), [("sqlite:///data/other.sqlite3", Path("data/other.sqlite3")),
                                           ("sqlite:////var/lib/bot/bot.sqlite3", Path("/var/lib/bot/bot.sqlite3")),
                                           ("SQLITE:///x.db", Path("x.db"))],
                         ids=["relative", "absolute", "upper-case-scheme"])
def test_a_sqlite_url_names_the_file_and_wins_over_database_path(url: str, path: Path) -> None:
    chosen = settings(database_url=url, database_path=Path("ignored.sqlite3"))
    assert chosen.database.backend == "sqlite"
    assert chosen.database.sqlite_path == path
    assert chosen.database_path == path, "the code that reads DATABASE_PATH sees the same file"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_postgresql_url_is_a_secret_with_its_password_redacted(scheme: str) -> None:
    chosen = settings(database_url=f"{scheme}://bot:{PASSWORD}@db.internal:6543/botdata?sslmode=require")
    database = chosen.database
    assert database.is_postgres
    assert database.dsn == f"postgresql://bot:{PASSWORD}@db.internal:6543/botdata?sslmode=require"
    assert database.redacted == "postgresql://bot:***@db.internal:6543/botdata?sslmode=require"
    assert database.where == "db.internal:6543/botdata"
    assert database.database_name == "botdata"
    assert PASSWORD in chosen.secrets()
    for shown in (repr(chosen), str(chosen), repr(database), str(database), f"{database}"):
        assert PASSWORD not in shown


def test_a_unix_socket_url_says_where_it_connects() -> None:
    database = DatabaseUrl.parse("postgresql:///bot?host=/var/run/postgresql")
    assert database.where == "/var/run/postgresql/bot"
    assert database.password is None and database.secrets() == ()


@pytest.mark.parametrize(("url", "problem"), [
    ("mysql://bot:" + PASSWORD + "@db/bot", "is neither a sqlite:/// nor a postgresql:// URL"),
    ("postgresql://bot:" + PASSWORD + "@db:port/bot", "is not a valid postgresql:// URL (check the host and port)"),
    ("postgresql://bot:" + PASSWORD + "@db:5432/", "names no database"),
    ("sqlite:///", "names no file"),
    ("my-db-file", "is not a URL"),
], ids=["other-scheme", "bad-port", "no-database", "no-file", "not-a-url"])
def test_a_bad_database_url_is_one_line_that_never_quotes_it(url: str, problem: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, discord_token=TOKEN, openrouter_api_key=KEY, database_url=url)
    (line,) = caught.value.lines
    assert line.startswith(f"DATABASE_URL {problem}"), line
    assert line.endswith(f'(README: "{README_GROWING}")')
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(("variable", "value", "problem"), [
    ("DATABASE_POOL_SIZE", "0", "is too small"), ("DATABASE_POOL_SIZE", "many", "is not a whole number"),
    ("DATABASE_STATEMENT_TIMEOUT_S", "0", "is too small"), ("DATABASE_STATEMENT_TIMEOUT_S", "soon", "is not a number"),
])
def test_pool_size_and_statement_timeout_are_checked(monkeypatch: pytest.MonkeyPatch, variable: str, value: str,
                                                     problem: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, discord_token=TOKEN, openrouter_api_key=KEY)
    (line,) = caught.value.lines
    assert line.startswith(f"{variable} {problem}: set it to "), line


@pytest.mark.parametrize(("text", "expected"), [
    ("postgresql://bot:secret@db/bot", "postgresql://bot:***@db/bot"),
    ("connect to postgres://u:p@ss:w0rd@h:5432/d failed", "connect to postgres://u:***@h:5432/d failed"),
    ("'postgresql://a:b@h/d' and 'postgresql://c:d@h/e'", "'postgresql://a:***@h/d' and 'postgresql://c:***@h/e'"),
    ("postgresql://bot@db/bot (no password)", "postgresql://bot@db/bot (no password)"),
    ("https://example.org/path?a=b", "https://example.org/path?a=b"),
    ("http://127.0.0.1:8080/webhooks/1/x/messages/@original", "http://127.0.0.1:8080/webhooks/1/x/messages/@original"),
], ids=["plain", "at-in-password", "two-urls", "no-password", "not-credentials", "port-then-at-in-path"])
def test_redact_url_masks_every_password_and_nothing_else(text: str, expected: str) -> None:
    assert redact_url(text) == expected


def test_log_redaction_masks_the_password_and_any_url_credentials() -> None:
    chosen = settings(database_url=f"postgresql://bot:{PASSWORD}@db/bot")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(chosen.secrets()))
    logger = logging.getLogger("test.postgres.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("driver said: password %s rejected", PASSWORD)
        logger.warning("could not reach %s", "postgresql://other:another-pass@elsewhere/db")
        try:
            raise ConnectionError(f"connect failed for {chosen.database.dsn}")
        except ConnectionError:
            logger.exception("database down")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert PASSWORD not in text and "another-pass" not in text
    assert "postgresql://other:***@elsewhere/db" in text
    assert "postgresql://bot:***@db/bot" in text


def test_a_postgresql_url_without_the_driver_ends_the_bot_with_one_line(tmp_path: Path) -> None:
    """The driver is the optional `postgres` extra: its absence is one line naming the extra."""
    shadow = tmp_path / "no-driver"
    shadow.mkdir()
    (shadow / "asyncpg.py").write_text("raise ImportError(\"No module named 'asyncpg'\")\n")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{shadow}{os.pathsep}{PROJECT_ROOT}",
           "DISCORD_TOKEN": TOKEN, "OPENROUTER_API_KEY": KEY,
           "DATABASE_URL": f"postgresql://bot:{PASSWORD}@127.0.0.1:1/bot"}
    result = subprocess.run([sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: DATABASE_URL is a PostgreSQL URL, but its driver (asyncpg) is not installed; "
        "install the postgres extra: pip install -e '.[postgres]'"]
    assert PASSWORD not in result.stderr
