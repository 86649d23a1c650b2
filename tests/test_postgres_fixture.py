"""The PostgreSQL test fixture itself: a fresh, empty database per test, gone afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.database_url import DatabaseUrl
from tests.kit import postgres

PROJECT_ROOT = Path(__file__).resolve().parents[1]
seen: list[str] = []


async def _tables_and_name(url: str) -> tuple[int, str]:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        tables = await connection.fetchval("SELECT count(*) FROM information_schema.tables "
                                           "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
        name = await connection.fetchval("SELECT current_database()")
        await connection.execute("CREATE TABLE left_behind (x int)")  # the next test must not see it
        return int(tables), str(name)
    finally:
        await connection.close()


async def _exists(admin: str, name: str) -> bool:
    import asyncpg

    connection = await asyncpg.connect(admin)
    try:
        return bool(await connection.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name))
    finally:
        await connection.close()


@pytest.mark.parametrize("round_", [1, 2])
async def test_each_test_gets_its_own_empty_database(postgres_url: str, postgres_admin_url: str, round_: int) -> None:
    tables, name = await _tables_and_name(postgres_url)
    assert tables == 0
    assert name.startswith(postgres.DATABASE_PREFIX)
    assert name not in seen
    for earlier in seen:  # dropped when its test ended
        assert not await _exists(postgres_admin_url, earlier)
    seen.append(name)


def test_a_sync_test_can_use_it_too(postgres_url: str) -> None:
    tables, _ = postgres.run_async(lambda: _tables_and_name(postgres_url))
    assert tables == 0


def test_the_fixture_url_keeps_the_admin_credentials(postgres_url: str, postgres_admin_url: str) -> None:
    admin, own = DatabaseUrl.parse(postgres_admin_url), DatabaseUrl.parse(postgres_url)
    assert own.password == admin.password
    assert own.database_name != admin.database_name


def test_without_test_database_url_postgres_tests_skip_or_fail_under_require(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Locally a one-line skip; under REQUIRE_POSTGRES=1 (CI) the same test fails, and so does the run."""
    pytester.makeconftest("from tests.conftest import *  # noqa: F403\n")  # the fixtures and hooks
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nmarkers =\n    postgres: PostgreSQL\n")
    pytester.makepyfile(test_uses_pg="def test_needs_pg(postgres_url):\n    assert postgres_url\n")
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    monkeypatch.delenv(postgres.URL_ENV, raising=False)
    monkeypatch.delenv(postgres.REQUIRE_ENV, raising=False)
    local = pytester.runpytest_subprocess("-q", "-rs", "-p", "no:cacheprovider")
    local.assert_outcomes(passed=1, skipped=1)
    assert any(postgres.SKIP_REASON in line for line in local.outlines)
    monkeypatch.setenv(postgres.REQUIRE_ENV, "1")
    ci = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    assert ci.ret != 0
    ci.assert_outcomes(passed=1, errors=1)
    only_plain = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "test_plain.py")
    only_plain.assert_outcomes(passed=1)
    assert only_plain.ret == pytest.ExitCode.TESTS_FAILED, "no PostgreSQL test passed, so the run fails"
    assert any("no PostgreSQL test ran and passed" in line for line in only_plain.outlines)
