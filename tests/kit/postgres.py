"""A real PostgreSQL server for the tests: one fresh, empty database per test.

`TEST_DATABASE_URL` names a role that may create databases (`.ci/run` makes a throw-away one per
run; README "Tests" says how to make one locally). Each test that asks for `postgres_url` gets a
database of its own with a random name on that server, dropped after the test, whatever the test
left connected to it (`DROP DATABASE ... WITH (FORCE)`, PostgreSQL 13+): a bot process killed with
SIGKILL leaves nothing behind.

Without `TEST_DATABASE_URL` the PostgreSQL tests skip with one line. With `REQUIRE_POSTGRES=1` (CI)
a PostgreSQL test that skips fails instead, and a run in which no PostgreSQL test passed fails
(`tests/conftest.py`), so a CI that silently lost its server cannot pass.

The admin work runs on a thread of its own with its own event loop, so the fixture is a plain one
that sync tests and async tests (pytest-asyncio's loop) use alike.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from bot.database_url import POSTGRES_EXTRA_HINT, DatabaseUrl, asyncpg_installed

__all__ = [
    "REQUIRE_ENV",
    "SKIP_REASON",
    "URL_ENV",
    "admin_url",
    "create_database",
    "drop_database",
    "drop_left_over",
    "postgres_required",
    "require_admin_url",
    "run_async",
]

URL_ENV = "TEST_DATABASE_URL"
REQUIRE_ENV = "REQUIRE_POSTGRES"
SKIP_REASON = f"PostgreSQL tests need {URL_ENV} (a role that may create databases; README: \"Quick start\")"
#: Databases made by the tests start with this, so a leftover one is recognisable (and droppable).
DATABASE_PREFIX = "bot_test_"

T = TypeVar("T")


def postgres_required() -> bool:
    """Whether a skipped PostgreSQL test must fail instead (CI sets `REQUIRE_POSTGRES=1`)."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes")


def admin_url() -> DatabaseUrl | None:
    """`TEST_DATABASE_URL`, parsed; None when unset."""
    text = os.environ.get(URL_ENV, "").strip()
    return DatabaseUrl.parse(text) if text else None


def run_async(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a thread of its own (safe inside a running event loop)."""
    result: dict[str, Any] = {}

    def runner() -> None:
        try:
            result["value"] = asyncio.run(_as_coroutine(work))
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            result["error"] = exc

    thread = threading.Thread(target=runner, name="postgres-admin")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]  # type: ignore[no-any-return]


async def _as_coroutine(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


async def _execute(url: DatabaseUrl, *statements: str) -> None:
    import asyncpg  # noqa: PLC0415 - optional driver, only when a PostgreSQL test runs

    connection = await asyncpg.connect(url.dsn, timeout=10)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_database(admin: DatabaseUrl) -> DatabaseUrl:
    """A new empty database with a random name on `admin`'s server, owned by `admin`'s role."""
    name = f"{DATABASE_PREFIX}{secrets.token_hex(6)}"
    # template0: nothing anyone added to template1 on this server ends up in the test's database.
    run_async(lambda: _execute(admin, f"CREATE DATABASE {_quoted(name)} TEMPLATE template0 ENCODING 'UTF8'"))
    return admin.with_database(name)


#: Test databases a drop could not take yet, tried again once the run ends (`drop_left_over`).
_left_over: list[tuple[DatabaseUrl, str]] = []


def drop_database(admin: DatabaseUrl, database: DatabaseUrl) -> None:
    """Drop a test database, disconnecting whatever is still connected to it.

    `WITH (FORCE)` ends the role's own connections (a killed bot's are gone anyway). A session the role
    may not end (an autovacuum worker that just started on the database, a connection still logging in)
    is the server's to end, and there is no event for that: the database is left for `drop_left_over`
    at the end of the run rather than waited for here, and `.ci/run` drops whatever its role still owns.
    """
    if not run_async(lambda: _drop(admin, database.database_name)):
        _left_over.append((admin, database.database_name))


def drop_left_over() -> list[str]:
    """Try once more to drop what `drop_database` had to leave; the names still there."""
    remaining = [(admin, name) for admin, name in _left_over if not run_async(lambda a=admin, n=name: _drop(a, n))]
    _left_over[:] = remaining
    return [name for _admin, name in remaining]


async def _drop(admin: DatabaseUrl, name: str) -> bool:
    """Drop `name`; False when a session the role may not end still holds it."""
    import asyncpg  # noqa: PLC0415 - optional driver, only when a PostgreSQL test runs

    try:
        await _execute(admin, f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")
    except (asyncpg.InsufficientPrivilegeError, asyncpg.ObjectInUseError):
        return False
    return True


def require_admin_url() -> DatabaseUrl:
    """`TEST_DATABASE_URL`, or skip (or fail, under `REQUIRE_POSTGRES=1`) with one line."""
    url = admin_url()
    reason = SKIP_REASON if url is None or not url.is_postgres else (
        None if asyncpg_installed() else f"PostgreSQL tests need the asyncpg driver ({POSTGRES_EXTRA_HINT})")
    if reason is not None:
        if postgres_required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    assert url is not None
    return url
