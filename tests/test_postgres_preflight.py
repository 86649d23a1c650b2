"""`python -m bot check` on a PostgreSQL DATABASE_URL: connection, server version and schema, against a real server.

Each failure is named for what it is (refused, authentication failed, no such database) with what to
do, and nothing printed carries the password. The check reads the schema without migrating.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.database_url import DatabaseUrl
from bot.preflight import Report, Status, run_checks
from bot.settings import Settings
from bot.storage import Store
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import make_settings
from tests.kit.process import PROJECT_ROOT, process_environment

DATABASE_ROWS = ("database", "database server", "database schema")


def pg_settings(url: str, tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter) -> Settings:
    return make_settings(tmp_path / "unused.sqlite3", fake_discord, fake_openrouter, database_url=url)


def database_rows(report: Report) -> dict[str, tuple[Status, str, str]]:
    return {result.name: (result.status, result.detail, result.fix) for result in report.results
            if result.name in DATABASE_ROWS}


def assert_only_database_failed(report: Report, failing: str) -> None:
    others = {result.name: result.status for result in report.results if result.name not in DATABASE_ROWS}
    assert set(others.values()) == {Status.OK}, report.table()
    rows = database_rows(report)
    assert rows[failing][0] is Status.FAIL, report.table()
    assert not report.ok


def assert_password_free(report: Report, password: str | None) -> None:
    assert password, "the test URL has a password to leak"
    assert password not in report.table() and password not in report.summary()


async def _execute(url: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _scalar(url: str, query: str) -> object:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(query)
    finally:
        await connection.close()


async def migrated(url: str) -> int:
    store = await Store.open(url)
    try:
        return await store.database.schema_version()
    finally:
        await store.close()


async def test_an_empty_database_passes_and_stays_empty(postgres_url: str, tmp_path: Path, fake_discord: FakeDiscord,
                                                        fake_openrouter: FakeOpenRouter) -> None:
    report = await run_checks(pg_settings(postgres_url, tmp_path, fake_discord, fake_openrouter))
    assert report.ok, report.table()
    rows = database_rows(report)
    where = DatabaseUrl.parse(postgres_url).where
    assert rows["database"][:2] == (Status.OK, f"PostgreSQL at {where} accepts the connection")
    assert rows["database server"][0] is Status.OK and rows["database server"][1].startswith("PostgreSQL 1")
    assert rows["database schema"][0] is Status.OK and "is empty; the schema" in rows["database schema"][1]
    tables = await _scalar(postgres_url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
    assert tables == 0, "a check must not create or migrate anything"
    assert_password_free(report, DatabaseUrl.parse(postgres_url).password)


async def test_schema_at_behind_and_newer_than_this_bot(postgres_url: str, tmp_path: Path, fake_discord: FakeDiscord,
                                                        fake_openrouter: FakeOpenRouter) -> None:
    settings = pg_settings(postgres_url, tmp_path, fake_discord, fake_openrouter)
    latest = await migrated(postgres_url)
    current = database_rows(await run_checks(settings))["database schema"]
    assert current[:2] == (Status.OK, f"{DatabaseUrl.parse(postgres_url).where} is at the current schema ({latest})")

    await _execute(postgres_url, f"DELETE FROM schema_migrations WHERE version = {latest}")
    behind = database_rows(await run_checks(settings))["database schema"]
    assert behind[0] is Status.OK and f"at schema {latest - 1}; upgraded to {latest} at start" in behind[1]

    await _execute(postgres_url, f"INSERT INTO schema_migrations (version, name) VALUES ({latest + 5}, 'future')")
    report = await run_checks(settings)
    assert_only_database_failed(report, "database schema")
    newer = database_rows(report)["database schema"]
    assert f"at schema {latest + 5}, newer than this bot's {latest}" in newer[1]
    assert "run the newer bot version" in newer[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_says_so_without_the_password(tmp_path: Path, fake_discord: FakeDiscord,
                                                                 fake_openrouter: FakeOpenRouter) -> None:
    """No server needed: nothing listens on the port."""
    password = "refused-pass-0815-secret"
    url = f"postgresql://bot:{password}@127.0.0.1:{free_port()}/bot"
    report = await run_checks(pg_settings(url, tmp_path, fake_discord, fake_openrouter))
    assert_only_database_failed(report, "database")
    status, detail, fix = database_rows(report)["database"]
    assert "refused" in detail, detail
    assert "start PostgreSQL" in fix
    assert database_rows(report)["database server"][0] is Status.SKIP
    assert_password_free(report, password)


async def test_a_wrong_password_is_an_authentication_failure(postgres_url: str, tmp_path: Path,
                                                             fake_discord: FakeDiscord,
                                                             fake_openrouter: FakeOpenRouter) -> None:
    database = DatabaseUrl.parse(postgres_url)
    wrong = "not-the-password-4242-x"
    url = database.dsn.replace(f":{database.password}@", f":{wrong}@", 1)
    report = await run_checks(pg_settings(url, tmp_path, fake_discord, fake_openrouter))
    assert_only_database_failed(report, "database")
    _, detail, fix = database_rows(report)["database"]
    assert "authentication failed" in detail, detail
    assert "user name and password" in fix
    assert_password_free(report, wrong)
    assert_password_free(report, database.password)


async def test_a_missing_database_is_named(postgres_url: str, tmp_path: Path, fake_discord: FakeDiscord,
                                           fake_openrouter: FakeOpenRouter) -> None:
    url = DatabaseUrl.parse(postgres_url).with_database("no_such_database_here").dsn
    report = await run_checks(pg_settings(url, tmp_path, fake_discord, fake_openrouter))
    assert_only_database_failed(report, "database")
    _, detail, fix = database_rows(report)["database"]
    assert "no_such_database_here" in detail and "does not exist" in detail, detail
    assert "createdb" in fix
    assert_password_free(report, DatabaseUrl.parse(postgres_url).password)


async def test_check_command_on_postgres_as_a_process(postgres_url: str, tmp_path: Path, fake_discord: FakeDiscord,
                                                      fake_openrouter: FakeOpenRouter) -> None:
    """The real `python -m bot check`: exit 0 on a good server; a bad password is exit 1 and never printed."""
    database = DatabaseUrl.parse(postgres_url)
    results = []
    for url in (postgres_url, database.dsn.replace(f":{database.password}@", ":wrong-pass-77x@", 1)):
        env = process_environment(fake_discord, fake_openrouter, tmp_path / "unused.sqlite3", DATABASE_URL=url)
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "check", cwd=tmp_path, env=env,
                                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output, _ = await asyncio.wait_for(process.communicate(), 60)
        results.append((process.returncode, output.decode()))
    (good_code, good), (bad_code, bad) = results
    assert good_code == 0, good
    assert "All 11 checks passed." in good
    assert bad_code == 1, bad
    assert "authentication failed" in bad and "1 of 11 checks failed." in bad
    for text in (good, bad):
        assert database.password is not None and database.password not in text
        assert "wrong-pass-77x" not in text


def test_check_without_the_driver_names_the_extra(tmp_path: Path) -> None:
    shadow = tmp_path / "no-driver"
    shadow.mkdir()
    (shadow / "asyncpg.py").write_text("raise ImportError(\"No module named 'asyncpg'\")\n")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{shadow}{os.pathsep}{PROJECT_ROOT}",
           "DISCORD_TOKEN": "token-value-123456", "OPENROUTER_API_KEY": "sk-or-v1-key-000000000",
           "OPENROUTER_BASE_URL": f"http://127.0.0.1:{free_port()}/api/v1",
           "DISCORD_API_BASE_URL": f"http://127.0.0.1:{free_port()}/api/v10",
           "DATABASE_URL": "postgresql://bot:driverless-pass-99@127.0.0.1:5432/bot"}
    result = subprocess.run([sys.executable, "-m", "bot", "check"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=90)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    row = next(index for index, line in enumerate(lines) if line.startswith("database "))
    assert "FAIL" in lines[row] and "asyncpg driver is not installed" in lines[row]
    assert "fix: install the driver: pip install -e '.[postgres]'" in lines[row + 1]
    assert "driverless-pass-99" not in result.stdout + result.stderr


@pytest.mark.parametrize("marker", ["postgres"])
def test_postgres_tests_carry_the_marker(request: pytest.FixtureRequest, marker: str) -> None:
    """Selecting with `-m postgres` finds the tests that use the database fixture."""
    session = request.session
    marked = {item.name for item in session.items if item.get_closest_marker(marker)}
    assert "test_an_empty_database_passes_and_stays_empty" in marked
    assert "test_check_without_the_driver_names_the_extra" not in marked


async def test_a_server_older_than_13_fails_the_version_row(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                            fake_discord: FakeDiscord,
                                                            fake_openrouter: FakeOpenRouter) -> None:
    """No such server here: the storage's answer is stood in for, the check's wording is what is tested."""
    from bot.storage import postgres

    async def old_server(dsn: str, *, timeout_s: float = 5.0) -> postgres.ServerInfo:
        return postgres.ServerInfo(server_version="12.19 (Debian 12.19-1)", schema_version=11, latest_version=11)

    monkeypatch.setattr(postgres, "inspect_server", old_server)
    url = "postgresql://bot:old-server-pass-1@127.0.0.1:5432/bot"
    report = await run_checks(pg_settings(url, tmp_path, fake_discord, fake_openrouter))
    assert_only_database_failed(report, "database server")
    _, detail, fix = database_rows(report)["database server"]
    assert detail == "PostgreSQL 12.19 (Debian 12.19-1) is too old for this bot"
    assert fix == "upgrade to PostgreSQL 13 or newer"
    assert database_rows(report)["database schema"][0] is Status.OK


async def test_the_bot_on_an_unreachable_server_ends_with_one_line_without_the_password(
        tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter) -> None:
    """`python -m bot` itself (not `check`): the store cannot open, so the process ends at once, in one line."""
    password = "unreachable-pass-2718"
    url = f"postgresql://bot:{password}@127.0.0.1:{free_port()}/bot"
    env = process_environment(fake_discord, fake_openrouter, tmp_path / "unused.sqlite3", DATABASE_URL=url,
                              LOG_LEVEL="WARNING")
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=tmp_path, env=env,
                                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    last = err.decode().strip().splitlines()[-1]
    assert last.startswith("error: cannot use the PostgreSQL database 127.0.0.1:") and "cannot connect" in last
    assert "Traceback" not in err.decode()
    assert password not in out.decode() + err.decode()
    assert not fake_discord.identified.is_set(), "it never went on to the gateway"
