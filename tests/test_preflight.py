"""`python -m bot check` and the start-up check: each item passes against the stand-ins and fails on its own."""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web

from bot import preflight
from bot.__main__ import main
from bot.preflight import BOT_PERMISSIONS, Report, Status, run_checks, settings_failure, startup_check
from bot.settings import Settings, SettingsError, load_settings
from bot.storage.database import Database, load_migrations
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import BOT_TOKEN, BOT_USER_ID, FakeDiscord
from tests.kit.harness import make_settings
from tests.kit.process import process_environment

ALL_CHECKS = ["settings", "discord token", "invite link", "sharding", "openrouter key",
              "imagine model", "edit model", "describe model", "database"]


@pytest.fixture
def settings(database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter) -> Settings:
    return make_settings(database_path, fake_discord, fake_openrouter)


def statuses(report: Report) -> dict[str, Status]:
    return {result.name: result.status for result in report.results}


def assert_only(report: Report, failing: set[str], skipped: set[str] | None = None) -> None:
    """Exactly `failing` failed, `skipped` were skipped, everything else passed."""
    skipped = skipped or set()
    expected = {name: Status.FAIL if name in failing else Status.SKIP if name in skipped else Status.OK
                for name in ALL_CHECKS}
    assert statuses(report) == expected, report.table()
    assert report.ok is (not failing)


def assert_secret_free(text: str, settings: Settings) -> None:
    for secret in settings.secrets():
        assert secret not in text


async def make_database(path: Path, *, version: int | None = None) -> None:
    database = await Database.open(path)
    await database.close()
    if version is not None:
        with sqlite3.connect(path) as connection:
            connection.execute(f"PRAGMA user_version = {version}")


# -- all good -----------------------------------------------------------------------------------


async def test_everything_ok_against_the_stand_ins(settings: Settings) -> None:
    report = await run_checks(settings)
    assert_only(report, failing=set())
    assert [result.name for result in report.results] == ALL_CHECKS
    assert "ImageBot" in report.result("discord token").detail
    assert "$20.50" in report.result("openrouter key").detail
    assert "will be created" in report.result("database").detail
    assert not settings.database_path.exists(), "a check must not create the database"
    table = report.table()
    assert "All 9 checks passed." in table
    assert_secret_free(table, settings)


async def test_invite_link_has_the_scopes_and_permissions_the_bot_needs(settings: Settings) -> None:
    report = await run_checks(settings)
    url = urlsplit(report.result("invite link").detail)
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    assert query["client_id"] == [str(BOT_USER_ID)]
    assert query["scope"][0].split() == ["bot", "applications.commands"]
    permissions = int(query["permissions"][0])
    assert permissions == BOT_PERMISSIONS.value
    for flag in (1 << 10, 1 << 11, 1 << 14, 1 << 15, 1 << 16, 1 << 31):  # view, send, embed, attach, history, commands
        assert permissions & flag, f"permission bit {flag} missing"
    assert permissions & 8 == 0, "never ask for Administrator"


async def test_checks_the_token_with_a_bot_authorization(settings: Settings, fake_discord: FakeDiscord) -> None:
    await run_checks(settings)
    (me,) = fake_discord.matching("GET", "/users/@me")
    assert me.headers["Authorization"] == f"Bot {BOT_TOKEN}"
    assert me.headers["User-Agent"].startswith("DiscordBot (")
    assert not fake_discord.matching("POST", ""), "a check changes nothing on Discord"


async def test_current_schema_is_ok_and_older_schema_is_ok_without_migrating(settings: Settings) -> None:
    latest = load_migrations()[-1].version
    await make_database(settings.database_path)
    report = await run_checks(settings)
    assert report.result("database").status is Status.OK
    assert f"current schema ({latest})" in report.result("database").detail

    with sqlite3.connect(settings.database_path) as connection:
        connection.execute("PRAGMA user_version = 0")
    report = await run_checks(settings)
    assert report.result("database").status is Status.OK
    assert f"upgraded to {latest} at start" in report.result("database").detail
    with sqlite3.connect(settings.database_path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 0, "the check must not migrate"


# -- each item failing on its own ---------------------------------------------------------------


async def test_bad_discord_token_fails_only_discord(database_path: Path, fake_discord: FakeDiscord,
                                                   fake_openrouter: FakeOpenRouter) -> None:
    settings = make_settings(database_path, fake_discord, fake_openrouter, discord_token="MTIz.wrong.token-value")
    report = await run_checks(settings)
    assert_only(report, failing={"discord token"}, skipped={"invite link", "sharding"})
    result = report.result("discord token")
    assert "401" in result.detail and "Reset Token" in result.fix
    assert_secret_free(report.table(), settings)


async def test_unreachable_discord_fails_only_discord(database_path: Path, fake_discord: FakeDiscord,
                                                     fake_openrouter: FakeOpenRouter) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(database_path, fake_discord, fake_openrouter,
                             discord_api_base_url=f"http://127.0.0.1:{port}/api/v10")
    report = await run_checks(settings)
    assert_only(report, failing={"discord token"}, skipped={"invite link", "sharding"})
    assert "could not reach Discord at 127.0.0.1" in report.result("discord token").detail


async def test_bad_openrouter_key_fails_only_openrouter(database_path: Path, fake_discord: FakeDiscord,
                                                       fake_openrouter: FakeOpenRouter) -> None:
    settings = make_settings(database_path, fake_discord, fake_openrouter, openrouter_api_key="sk-or-v1-wrong-key-000")
    report = await run_checks(settings)
    assert_only(report, failing={"openrouter key"}, skipped={"imagine model", "edit model", "describe model"})
    assert "OPENROUTER_API_KEY" in report.result("openrouter key").fix
    assert_secret_free(report.table(), settings)


async def test_used_up_key_limit_fails(settings: Settings, fake_openrouter: FakeOpenRouter) -> None:
    fake_openrouter.key_info["limit_remaining"] = 0.0
    report = await run_checks(settings)
    assert_only(report, failing={"openrouter key"})
    assert "used up" in report.result("openrouter key").detail


async def test_key_without_limit_is_ok(settings: Settings, fake_openrouter: FakeOpenRouter) -> None:
    fake_openrouter.key_info.update(limit=None, limit_remaining=None)
    report = await run_checks(settings)
    assert report.result("openrouter key").status is Status.OK
    assert "no spending limit" in report.result("openrouter key").detail


async def test_default_model_missing_from_the_catalog_fails_only_its_command(
    settings: Settings, fake_openrouter: FakeOpenRouter
) -> None:
    fake_openrouter.models = [model for model in fake_openrouter.models if model["id"] != "google/gemini-2.5-flash"]
    report = await run_checks(settings)
    assert_only(report, failing={"describe model"})
    result = report.result("describe model")
    assert "google/gemini-2.5-flash (DEFAULT_VISION_MODEL) is not in OpenRouter's catalog" in result.detail
    assert "DEFAULT_VISION_MODEL" in result.fix


@pytest.mark.parametrize(
    ("overrides", "failing", "words"),
    [
        ({"default_image_model": "google/gemini-2.5-flash"}, "imagine model", "does not output images"),
        ({"default_edit_model": "meta-llama/llama-3.1-8b-instruct"}, "edit model",
         "does not output images and does not accept images"),
        ({"default_vision_model": "meta-llama/llama-3.1-8b-instruct"}, "describe model", "does not accept images"),
    ],
)
async def test_default_model_without_the_needed_modality_fails(
    database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter,
    overrides: dict[str, Any], failing: str, words: str,
) -> None:
    settings = make_settings(database_path, fake_discord, fake_openrouter, **overrides)
    report = await run_checks(settings)
    assert_only(report, failing={failing})
    assert words in report.result(failing).detail


async def test_newer_database_schema_fails_only_the_database(settings: Settings) -> None:
    latest = load_migrations()[-1].version
    await make_database(settings.database_path, version=latest + 1)
    report = await run_checks(settings)
    assert_only(report, failing={"database"})
    result = report.result("database")
    assert f"schema {latest + 1}, newer than this bot's {latest}" in result.detail
    assert "newer bot version" in result.fix


async def test_corrupt_database_fails_only_the_database(settings: Settings) -> None:
    settings.database_path.parent.mkdir(parents=True)
    settings.database_path.write_bytes(b"this is not a sqlite database, just bytes\n" * 200)
    report = await run_checks(settings)
    assert_only(report, failing={"database"})
    assert "corrupt or not a SQLite database" in report.result("database").detail


async def test_database_path_that_is_a_folder_fails(database_path: Path, fake_discord: FakeDiscord,
                                                   fake_openrouter: FakeOpenRouter) -> None:
    database_path.mkdir(parents=True)
    settings = make_settings(database_path, fake_discord, fake_openrouter)
    report = await run_checks(settings)
    assert_only(report, failing={"database"})


async def test_database_folder_that_cannot_be_created_fails_with_the_reason(
    fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    """/proc takes no new folders, not even from root (for whom `os.access` says yes)."""
    settings = make_settings(Path("/proc/nope/bot.sqlite3"), fake_discord, fake_openrouter)
    report = await run_checks(settings)
    assert_only(report, failing={"database"})
    result = report.result("database")
    assert result.detail.startswith("cannot create the folder /proc/nope: "), result.detail
    assert len(result.detail) > len("cannot create the folder /proc/nope: "), "the OS's reason is given"
    assert "DATABASE_PATH" in result.fix
    assert not Path("/proc/nope").exists()


@pytest.mark.parametrize(
    ("below_the_file", "words"),
    [("bot.sqlite3", "cannot create the folder {file}: a file of that name exists"),
     ("data/bot.sqlite3", "cannot create the folder {file}/data: {file} is a file, not a folder")],
    ids=["the-file-is-the-folder", "a-file-above-the-folder"],
)
async def test_database_under_a_regular_file_fails_with_the_reason(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter, below_the_file: str, words: str
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be\n")
    settings = make_settings(blocker / below_the_file, fake_discord, fake_openrouter)
    report = await run_checks(settings)
    assert_only(report, failing={"database"})
    assert report.result("database").detail == words.format(file=blocker)
    assert blocker.read_text() == "a file where a folder should be\n"


async def test_existing_database_in_a_folder_that_takes_no_new_files_fails(
    fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    """SQLite creates `-wal` and `-shm` files beside the database, so its folder must take new files."""
    settings = make_settings(Path("/proc/version"), fake_discord, fake_openrouter)
    report = await run_checks(settings)
    assert_only(report, failing={"database"})
    assert report.result("database").detail.startswith("cannot create files in the folder /proc: ")


async def test_database_check_creates_folders_and_leaves_nothing_behind(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    new = tmp_path / "new" / "deeper" / "bot.sqlite3"
    report = await run_checks(make_settings(new, fake_discord, fake_openrouter))
    assert report.result("database").status is Status.OK
    assert "will be created at start" in report.result("database").detail
    assert sorted(tmp_path.iterdir()) == [], "the folders the check made to prove it could are gone"

    existing = tmp_path / "data" / "bot.sqlite3"
    await make_database(existing)
    content = existing.read_bytes()
    report = await run_checks(make_settings(existing, fake_discord, fake_openrouter))
    assert report.result("database").status is Status.OK
    # (SQLite's own -wal and -shm files may appear beside a WAL database; the bot makes them too.)
    left = {path.name for path in existing.parent.iterdir()} - {"bot.sqlite3", "bot.sqlite3-wal", "bot.sqlite3-shm"}
    assert not left, "no probe file is left"
    assert existing.read_bytes() == content, "opening for writing changed nothing"


# -- sharding advice ----------------------------------------------------------------------------


class BigBotDiscord(FakeDiscord):
    """The stand-in, but Discord recommends three shards (a bot in about 3,000 servers)."""

    async def _respond(self, request: web.Request, recorded: Any) -> web.StreamResponse:
        if recorded.path == "/gateway/bot":
            return web.json_response({"url": "ws://127.0.0.1:1", "shards": 3, "session_start_limit": {
                "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}})
        return await super()._respond(request, recorded)


@pytest.fixture
async def big_discord() -> AsyncIterator[FakeDiscord]:
    async with BigBotDiscord() as server:
        yield server


async def test_unsharded_bot_past_the_recommendation_is_warned_not_failed(
    database_path: Path, big_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    report = await run_checks(make_settings(database_path, big_discord, fake_openrouter))
    result = report.result("sharding")
    assert result.status is Status.WARN
    assert "Discord recommends 3 shards" in result.detail and "SHARDING=auto" in result.fix
    assert report.ok, "advice alone does not fail the check"


async def test_sharded_settings_are_shown_and_ok(database_path: Path, big_discord: FakeDiscord,
                                                fake_openrouter: FakeOpenRouter) -> None:
    settings = make_settings(database_path, big_discord, fake_openrouter, shard_count=4, shard_ids="1,3")
    result = (await run_checks(settings)).result("sharding")
    assert result.status is Status.OK
    assert result.detail == "4 shards, this process runs 1, 3; Discord recommends 3 shards"


# -- time budget, start-up summary, output --------------------------------------------------------


async def test_a_silent_host_costs_at_most_the_time_budget(database_path: Path, fake_discord: FakeDiscord,
                                                          fake_openrouter: FakeOpenRouter) -> None:
    release = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = make_settings(database_path, fake_discord, fake_openrouter,
                             discord_api_base_url=f"http://127.0.0.1:{port}/api/v10")
    try:
        started = time.monotonic()
        report = await run_checks(settings, timeout_s=0.5)
        elapsed = time.monotonic() - started
    finally:
        release.set()
        server.close()
        await server.wait_closed()
    assert report.result("discord token").status is Status.FAIL
    assert report.result("openrouter key").status is Status.OK
    assert elapsed < 3.0, f"the check took {elapsed:.1f} s with a 0.5 s budget"


async def test_startup_check_logs_one_ok_line(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.preflight")
    report = await startup_check(settings)
    assert report is not None and report.ok
    (record,) = [record for record in caplog.records if record.name == "bot.preflight"]
    assert record.levelno == logging.INFO
    assert record.getMessage() == "pre-flight checks: 9 OK"


async def test_startup_check_logs_one_warning_naming_the_failure(
    database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.preflight")
    settings = make_settings(database_path, fake_discord, fake_openrouter, openrouter_api_key="sk-or-v1-wrong-key-000")
    await startup_check(settings)
    (record,) = [record for record in caplog.records if record.name == "bot.preflight"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert message.startswith("pre-flight checks: 5 OK, 1 FAIL, 3 SKIP (openrouter key: OpenRouter rejected")
    assert "python -m bot check" in message
    assert_secret_free(message, settings)


async def test_startup_check_never_raises(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    async def broken(*args: object, **kwargs: object) -> Report:
        raise RuntimeError("a bug in a check")

    monkeypatch.setattr(preflight, "run_checks", broken)
    assert await startup_check(settings) is None
    assert "pre-flight checks could not run (RuntimeError)" in caplog.text


def test_report_masks_secrets_and_shows_fixes_only_for_problems() -> None:
    secret = "sk-or-v1-leaky-secret-value"
    report = Report((
        preflight.CheckResult("a", Status.OK, "fine", "never shown"),
        preflight.CheckResult("b", Status.FAIL, f"upstream said {secret}", "do this"),
    ), secrets=(secret,))
    table = report.table()
    assert secret not in table and secret not in report.summary()
    assert "upstream said [redacted]" in table
    assert "never shown" not in table and "fix: do this" in table
    assert table.endswith("1 of 2 checks failed.")


def test_settings_failure_is_a_one_row_failing_report() -> None:
    report = settings_failure("DISCORD_TOKEN is missing")
    assert not report.ok
    assert [(result.name, result.status) for result in report.results] == [("settings", Status.FAIL)]


def test_settings_failure_shows_every_setting_line_under_details(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("DISCORD_TOKEN", "OPENROUTER_API_KEY", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    lines = settings_failure(caught.value).table().splitlines()
    assert lines[1] == "settings  FAIL    " + caught.value.headline
    assert lines[2:5] == [" " * 20 + line for line in caught.value.lines]
    assert [line.split(" ", 1)[0] for line in caught.value.lines] == ["DISCORD_TOKEN", "OPENROUTER_API_KEY",
                                                                      "LOG_LEVEL"]
    assert lines[5].lstrip().startswith("fix: ")


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


# -- the real command, as a process ---------------------------------------------------------------


async def run_check_process(env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check", cwd=cwd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_check_command_passes_against_the_stand_ins(tmp_path: Path, database_path: Path,
                                                         fake_discord: FakeDiscord,
                                                         fake_openrouter: FakeOpenRouter) -> None:
    env = process_environment(fake_discord, fake_openrouter, database_path)
    code, out, err = await run_check_process(env, tmp_path)
    assert code == 0, out + err
    for name in ALL_CHECKS:
        assert any(line.startswith(name) and " OK " in line for line in out.splitlines()), f"{name}:\n{out}"
    assert "All 9 checks passed." in out
    assert BOT_TOKEN not in out + err and fake_openrouter.api_key not in out + err
    assert fake_discord.matching("GET", "/users/@me") and any(r.path == "/key" for r in fake_openrouter.requests)


async def test_check_command_fails_with_exit_1_and_says_what_to_do(tmp_path: Path, database_path: Path,
                                                                   fake_discord: FakeDiscord,
                                                                   fake_openrouter: FakeOpenRouter) -> None:
    bad_key = "sk-or-v1-this-key-is-wrong-0123"
    env = process_environment(fake_discord, fake_openrouter, database_path, OPENROUTER_API_KEY=bad_key)
    code, out, err = await run_check_process(env, tmp_path)
    assert code == 1, out + err
    lines = out.splitlines()
    failing = next(index for index, line in enumerate(lines) if line.startswith("openrouter key"))
    assert " FAIL " in lines[failing]
    assert "fix: create a key" in lines[failing + 1]
    assert "1 of 9 checks failed." in out
    assert bad_key not in out + err and BOT_TOKEN not in out + err


async def test_check_command_with_broken_settings_exits_2(tmp_path: Path, database_path: Path,
                                                          fake_discord: FakeDiscord,
                                                          fake_openrouter: FakeOpenRouter) -> None:
    env = process_environment(fake_discord, fake_openrouter, database_path, SHARD_IDS="0,1")
    del env["DISCORD_TOKEN"]
    code, out, err = await run_check_process(env, tmp_path)
    assert code == 2, out + err
    assert out.splitlines()[1].startswith("settings  FAIL")
    assert "DISCORD_TOKEN is missing: " in out
    assert "SHARD_IDS is set but SHARD_COUNT is not: " in out
    assert fake_openrouter.api_key not in out + err
    assert not fake_discord.requests and not fake_openrouter.requests, "nothing is contacted with bad settings"


async def test_check_command_prints_the_same_setting_lines_as_the_bot(tmp_path: Path, database_path: Path,
                                                                     fake_discord: FakeDiscord,
                                                                     fake_openrouter: FakeOpenRouter) -> None:
    env = process_environment(fake_discord, fake_openrouter, database_path, REQUEST_TIMEOUT_S="soon",
                              SHARD_COUNT="2", SHARD_IDS="0,2")
    del env["OPENROUTER_API_KEY"]
    run = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=tmp_path, env=env,
                                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, run_err = await asyncio.wait_for(run.communicate(), 60)
    assert run.returncode == 2
    run_lines = [line.strip() for line in run_err.decode().splitlines()[1:]]
    assert [line.split(" ", 1)[0] for line in run_lines] == ["OPENROUTER_API_KEY", "REQUEST_TIMEOUT_S", "SHARD_IDS"]
    code, out, _ = await run_check_process(env, tmp_path)
    assert code == 2
    shown = [line.strip() for line in out.splitlines()]
    assert all(line in shown for line in run_lines), out


async def test_check_command_fails_on_a_database_folder_that_cannot_be_created(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    env = process_environment(fake_discord, fake_openrouter, Path("/proc/nope/bot.sqlite3"))
    code, out, err = await run_check_process(env, tmp_path)
    assert code == 1, out + err
    (row,) = [line for line in out.splitlines() if line.startswith("database")]
    assert " FAIL " in row and "cannot create the folder /proc/nope: " in row
    assert "1 of 9 checks failed." in out


async def test_default_models_only_the_images_api_lists_pass_for_imagine_and_edit(
    database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    assert "openai/gpt-image-2" not in {model["id"] for model in fake_openrouter.models}, "Images API only"
    settings = make_settings(database_path, fake_discord, fake_openrouter, default_image_model="openai/gpt-image-2",
                             default_edit_model="bytedance-seed/seedream-4.5")
    report = await run_checks(settings)
    assert_only(report, failing=set())
    assert "through the Images API" in report.result("imagine model").detail
    assert "reads and outputs images" in report.result("edit model").detail


@pytest.mark.parametrize(
    ("overrides", "failing", "words"),
    [
        ({"default_edit_model": "krea/krea-1"}, "edit model", "does not accept images"),
        ({"default_vision_model": "openai/gpt-image-2"}, "describe model", "is not in OpenRouter's catalog"),
    ],
)
async def test_an_images_api_model_that_cannot_serve_the_command_fails(
    database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter,
    overrides: dict[str, Any], failing: str, words: str,
) -> None:
    report = await run_checks(make_settings(database_path, fake_discord, fake_openrouter, **overrides))
    assert_only(report, failing={failing})
    assert words in report.result(failing).detail
