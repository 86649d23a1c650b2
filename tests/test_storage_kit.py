"""Shared fixtures of the storage tests (this module holds no tests itself): a `Store` on each backend.

`database_target` is parametrized: `sqlite` (a file in tmp_path) and `postgresql` (a fresh, empty
database per test on the server of `TEST_DATABASE_URL`, skipped with one line when it is unset). The
PostgreSQL database comes from pg-ops' `postgres_url` fixture (tests/kit/postgres.py) when it is
there, else from the stand-in below, which goes once that fixture is on main.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.operations import Operation
from bot.requests import ImageRequest
from bot.storage import Store
from bot.storage.jobs import JobSpec, JobStatus
from bot.storage.usage import LedgerEntry

T = TypeVar("T")

GUILD = 1_577_000_000_000_000_001
OTHER_GUILD = 1_577_000_000_000_000_002
MEMBER = 1_577_000_000_000_000_010
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)

SKIP_REASON = "PostgreSQL tests need TEST_DATABASE_URL (a role that may create databases; README: Tests)"


# -- where the PostgreSQL database comes from ---------------------------------------------------------


def _run_in_thread(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on a loop of its own (the admin work of a sync fixture, inside a running loop)."""
    result: dict[str, Any] = {}

    def runner() -> None:
        try:
            result["value"] = asyncio.run(work())  # type: ignore[arg-type]
        except BaseException as exc:  # handed to the calling thread
            result["error"] = exc

    thread = threading.Thread(target=runner)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]  # type: ignore[no-any-return]


def _fresh_database(admin_url: str) -> Iterator[str]:
    """A new empty database on the admin URL's server, dropped afterwards.

    Stand-in for pg-ops' `postgres_url` fixture (tests/kit/postgres.py) until it is on main.
    """
    import asyncpg

    name = f"bot_test_{secrets.token_hex(6)}"
    parts = urlsplit(admin_url)

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    _run_in_thread(lambda: admin(f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        _run_in_thread(lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def postgres_database(request: pytest.FixtureRequest) -> str:
    """A fresh PostgreSQL database URL for this test: pg-ops' `postgres_url`, else the local stand-in."""
    try:
        return str(request.getfixturevalue("postgres_url"))
    except pytest.FixtureLookupError:
        return str(request.getfixturevalue("stand_in_postgres_url"))


@pytest.fixture
def stand_in_postgres_url() -> Iterator[str]:
    admin_url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not admin_url:
        pytest.skip(SKIP_REASON)
    yield from _fresh_database(admin_url)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    return postgres_database(request)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    if request.param == "sqlite":
        return tmp_path / "bot.sqlite3"
    return postgres_database(request)


@pytest.fixture
async def store(database_target: Path | str) -> AsyncIterator[Store]:
    opened = await Store.open(database_target)
    try:
        yield opened
    finally:
        await opened.close()


def spec(prompt: str = "a lighthouse at dusk", guild_id: int | None = GUILD, member_id: int = MEMBER) -> JobSpec:
    return JobSpec(
        operation=Operation.IMAGINE,
        member_id=member_id,
        guild_id=guild_id,
        channel_id=42,
        request=ImageRequest(prompt=prompt, model="acme/painter", image_format="square", aspect_ratio="1:1"),
    )


def entry(cost: float, *, guild_id: int | None = GUILD, member_id: int = MEMBER, at: datetime = NOW,
          job_id: int | None = None, model: str = "acme/painter") -> LedgerEntry:
    return LedgerEntry(guild_id=guild_id, member_id=member_id, operation=Operation.IMAGINE, model=model, at=at,
                       cost=cost, cost_reported=True, images=1, succeeded=True, job_id=job_id)


async def finish(store: Store, job_id: int, *entries: LedgerEntry) -> None:
    await store.record_job_outcome(
        job_id, entries, status=JobStatus.DONE, finished_at=NOW, cost=sum(e.cost for e in entries) or None,
        generation_id="gen-1", error_kind=None, upstream_ms=1200, result_channel_id=42, result_message_id=99,
        result_files=["imagine_1.png"],
    )
