"""Fixtures: the two stand-in servers, a logged-in bot wired to them, and a PostgreSQL database per test."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fake_openrouter import DEFAULT_API_KEY, FakeOpenRouter
from tests.kit import postgres
from tests.kit.fake_discord import BOT_TOKEN, FakeDiscord
from tests.kit.harness import BotHarness, make_settings
from tests.kit.network_guard import loopback_only

#: `pytester` runs pytest on a made-up test file (the REQUIRE_POSTGRES hook's own test).
pytest_plugins = ("pytester",)


@pytest.fixture(scope="session", autouse=True)
def nothing_leaves_this_machine() -> Iterator[None]:
    """No test connects anywhere but loopback (`tests.kit.network_guard`): not Discord, not OpenRouter."""
    with loopback_only():
        yield


@pytest.fixture
async def fake_openrouter() -> AsyncIterator[FakeOpenRouter]:
    async with FakeOpenRouter() as server:
        yield server


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
async def harness(database_path: Path, fake_discord: FakeDiscord,
                  fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    settings = make_settings(database_path, fake_discord, fake_openrouter)
    kit = BotHarness(settings, fake_discord, fake_openrouter)
    await kit.start()
    try:
        yield kit
    finally:
        await kit.stop()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """`TEST_DATABASE_URL`: a role that may create databases (skips the test when unset)."""
    return postgres.require_admin_url().dsn


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """The URL of a fresh, empty database of this test's own, dropped afterwards."""
    admin = postgres.DatabaseUrl.parse(postgres_admin_url)
    database = postgres.create_database(admin)
    try:
        yield database.dsn
    finally:
        postgres.drop_database(admin, database)


def _uses_postgres(item: pytest.Item) -> bool:
    return item.get_closest_marker("postgres") is not None or "postgres_url" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses a PostgreSQL database carries the `postgres` marker (`-m postgres` selects them)."""
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()) and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)


_postgres_passed: list[str] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Under `REQUIRE_POSTGRES=1` (CI) a PostgreSQL test that skipped, for whatever reason, fails."""
    report = yield
    if _uses_postgres(item):
        if report.skipped and postgres.postgres_required() and not hasattr(report, "wasxfail"):
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            report.outcome = "failed"
            report.longrepr = f"{postgres.REQUIRE_ENV}=1, but this PostgreSQL test skipped: {reason}"
        elif report.when == "call" and report.passed:
            _postgres_passed.append(item.nodeid)
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under `REQUIRE_POSTGRES=1` a run in which no PostgreSQL test passed fails, whatever else happened.

    Test databases a drop had to leave (a server session still on them) are dropped now.
    """
    still_there = postgres.drop_left_over()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if still_there and reporter is not None:
        reporter.write_line(f"test databases left on the PostgreSQL server: {', '.join(still_there)}", yellow=True)
    if postgres.postgres_required() and not _postgres_passed and session.testscollected and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter is not None:
            reporter.write_line(f"{postgres.REQUIRE_ENV}=1, but no PostgreSQL test ran and passed", red=True)


_ADMIN = postgres.admin_url()
#: The test token and key, and the test server's database password (CI makes a random one per run).
SECRETS = (BOT_TOKEN, DEFAULT_API_KEY, *(_ADMIN.secrets() if _ADMIN is not None else ()))


@pytest.fixture(autouse=True)
def discord_accepts_every_message(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every message any test's bot sent passed the stand-in's checks (Discord's, Components V2 included).

    A test that sends malformed messages on purpose says so with `@pytest.mark.refusals_expected`.
    """
    yield
    if request.node.get_closest_marker("refusals_expected") is not None:
        return
    refused = [(sent.method, sent.path, answer["errors"]) for discord_api in FakeDiscord.instances
               for sent, answer in discord_api.refused]
    assert not refused, f"Discord would have refused these messages: {refused}"


@pytest.fixture(autouse=True)
def no_secret_escapes(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Search everything a test captured (log records, what reached Discord) for the test secrets."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="aiosqlite")
    FakeDiscord.instances.clear()
    yield
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    for secret in SECRETS:
        assert secret not in logged, "a secret reached the log"
    for discord_api in FakeDiscord.instances:
        for sent in discord_api.requests:
            shown = json.dumps(sent.json) if sent.json is not None else ""
            for secret in SECRETS:
                assert secret not in shown, f"a secret was sent to Discord in {sent.method} {sent.path}"
