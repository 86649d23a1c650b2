"""Sharding settings, the bot class they select, and SQLite shared by several processes."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import discord
import pytest
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bot.core import ImageBot, ShardedImageBot
from bot.settings import SettingsError, load_settings
from bot.storage.database import Database
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import BOT_TOKEN, FakeDiscord
from tests.kit.harness import ORIGINAL_ROUTE_BASE, make_settings
from tests.kit.shadow import shadow_bot

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """Only the two required secrets, from a clean environment and a folder without `.env`."""
    for name in list(os.environ):
        if name.startswith(("DISCORD_", "OPENROUTER_", "SHARD", "LOG_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "token-value-123")
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-v1-key-value-123")
    return monkeypatch


@pytest.fixture
def restore_discord_globals() -> Iterator[None]:
    """Logging a bot in moves discord.py's REST base (and possibly its gateway URL): put them back."""
    gateway = DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE = ORIGINAL_ROUTE_BASE
    DiscordWebSocket.DEFAULT_GATEWAY = gateway


# -- settings -----------------------------------------------------------------------------------


def test_sharding_is_off_by_default(environment: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert (settings.sharding, settings.shard_count, settings.shard_ids, settings.sharded) == ("off", None, None, False)


@pytest.mark.parametrize(
    ("variables", "count", "ids", "sharding"),
    [
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0,1"}, 4, (0, 1), "off"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": " 3, 1 "}, 4, (3, 1), "off"),
        ({"SHARD_COUNT": "2"}, 2, None, "off"),
        ({"SHARD_COUNT": "", "SHARD_IDS": ""}, None, None, "off"),
        ({"SHARDING": "AUTO"}, None, None, "auto"),
    ],
)
def test_shard_settings_from_the_environment(environment: pytest.MonkeyPatch, variables: dict[str, str],
                                             count: int | None, ids: tuple[int, ...] | None, sharding: str) -> None:
    for name, value in variables.items():
        environment.setenv(name, value)
    settings = load_settings()
    assert (settings.shard_count, settings.shard_ids, settings.sharding) == (count, ids, sharding)
    assert settings.sharded is (count is not None or sharding == "auto")


@pytest.mark.parametrize(
    ("variables", "words"),
    [
        ({"SHARD_IDS": "0,1"}, "SHARD_IDS is set but SHARD_COUNT is not: "),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,2"},
         "SHARD_IDS lists a shard of 2 or more, but SHARD_COUNT=2 numbers them 0 to 1: "),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1,1"}, "SHARD_IDS lists a shard twice: "),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "zero"}, "SHARD_IDS is not a list of shard numbers: "),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "-1"}, "SHARD_IDS is not a list of shard numbers: "),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT is too small: "),
        ({"SHARDING": "sometimes"}, "SHARDING is not one of the choices: set it to off or auto"),
    ],
)
def test_invalid_shard_settings_are_one_clear_line(environment: pytest.MonkeyPatch, variables: dict[str, str],
                                                   words: str) -> None:
    for name, value in variables.items():
        environment.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert words in str(caught.value)
    assert len(caught.value.lines) == 1, "one line for the one setting at fault"


# -- the bot class the settings select (no gateway connection) -------------------------------------


async def test_unsharded_settings_make_a_plain_bot(tmp_path: Path, fake_discord: FakeDiscord,
                                                   fake_openrouter: FakeOpenRouter) -> None:
    async with shadow_bot(make_settings(tmp_path / "bot.sqlite3", fake_discord, fake_openrouter), extensions=()) as bot:
        assert type(bot) is ImageBot
        assert not isinstance(bot, commands.AutoShardedBot)
        assert bot.shard_count is None


async def test_shard_settings_make_an_auto_sharded_bot_that_logs_in(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter, restore_discord_globals: None
) -> None:
    settings = make_settings(tmp_path / "bot.sqlite3", fake_discord, fake_openrouter, shard_count=4, shard_ids="1,3")
    async with shadow_bot(settings, extensions=("cogs.imagine",), sync_commands=False) as bot:
        assert isinstance(bot, ShardedImageBot)
        assert isinstance(bot, commands.AutoShardedBot) and isinstance(bot, ImageBot)
        assert bot.shard_count == 4
        assert bot.shard_ids == [1, 3]
        assert bot._connection.shard_count == 4
        await bot.login(BOT_TOKEN)  # runs setup_hook: the same services and cogs as the plain bot
        try:
            assert bot.tree.get_command("imagine") is not None
            assert await bot.store.database.schema_version() > 0
            assert not bot.shards, "logging in alone opens no gateway connection"
        finally:
            await bot.close()


async def test_sharding_auto_leaves_the_count_to_discord(tmp_path: Path, fake_discord: FakeDiscord,
                                                         fake_openrouter: FakeOpenRouter,
                                                         restore_discord_globals: None) -> None:
    settings = make_settings(tmp_path / "bot.sqlite3", fake_discord, fake_openrouter, sharding="auto")
    async with shadow_bot(settings, extensions=()) as bot:
        assert isinstance(bot, ShardedImageBot)
        assert bot.shard_count is None and bot.shard_ids is None  # discord.py asks GET /gateway/bot at connect


async def test_image_bot_keeps_its_constructor(tmp_path: Path, fake_discord: FakeDiscord,
                                               fake_openrouter: FakeOpenRouter, restore_discord_globals: None) -> None:
    settings = make_settings(tmp_path / "bot.sqlite3", fake_discord, fake_openrouter, shard_count=2)
    async with shadow_bot(settings, build=ImageBot, extensions=()) as bot:
        assert type(bot) is ImageBot and bot.shard_count is None, "only create_bot picks the sharded class"


# -- one SQLite file, several writers ---------------------------------------------------------------


async def test_two_database_instances_write_to_one_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    first = await Database.open(path)
    second = await Database.open(path)  # as a second shard process would, once the schema exists
    try:
        async def write(database: Database, prefix: str) -> None:
            for number in range(50):
                async with database.transaction() as connection:
                    await connection.execute("INSERT INTO bot_state (key, value) VALUES (?, ?)",
                                             (f"{prefix}-{number}", str(number)))

        await asyncio.gather(write(first, "a"), write(second, "b"))
        for database in (first, second):
            rows = await database.fetch_all("SELECT key FROM bot_state WHERE key LIKE 'a-%' OR key LIKE 'b-%'")
            assert len(rows) == 100
        journal = await first.fetch_one("PRAGMA journal_mode")
        assert journal is not None and journal[0] == "wal"
    finally:
        await first.close()
        await second.close()


WRITER = """
import asyncio, sys
from pathlib import Path
from bot.storage.database import Database

async def main() -> None:
    database = await Database.open(Path(sys.argv[1]))
    try:
        for number in range(200):
            async with database.transaction() as connection:
                await connection.execute("INSERT INTO bot_state (key, value) VALUES (?, ?)",
                                         (f"{sys.argv[2]}-{number}", "x"))
    finally:
        await database.close()

asyncio.run(main())
"""


def test_two_processes_write_to_one_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"

    async def create() -> None:
        await (await Database.open(path)).close()

    asyncio.run(create())  # migrated once, as the first process to start would
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT_ROOT)}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name], cwd=tmp_path, env=env,
                                stderr=subprocess.PIPE, text=True) for name in ("p1", "p2")]
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors
    with sqlite3.connect(path) as connection:
        counts = dict(connection.execute(
            "SELECT substr(key, 1, 2), count(*) FROM bot_state GROUP BY substr(key, 1, 2)").fetchall())
    assert counts == {"p1": 200, "p2": 200}
