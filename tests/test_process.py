"""The bot as a real process: `python -m bot` against loopback stand-ins of Discord and OpenRouter.

Commands are sent as INTERACTION_CREATE events over the stand-in gateway, exactly as Discord would,
and the answers are read back from what the process sent to the stand-in REST API.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import BOT_TOKEN, FakeDiscord
from tests.kit.payloads import PayloadFactory
from tests.kit.process import BotProcess, payload_factory, process_environment, wait_for_result


async def _payload_factory(tmp_path: Path, discord_api: FakeDiscord, openrouter: FakeOpenRouter) -> PayloadFactory:
    return await payload_factory(tmp_path, discord_api, openrouter, load=("cogs.imagine",))


async def test_real_process_serves_imagine_and_stops_cleanly_on_sigterm(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    factory = await _payload_factory(tmp_path, fake_discord, fake_openrouter)
    fake_discord.guilds = [factory.guild_dict()]
    process = BotProcess(process_environment(fake_discord, fake_openrouter, tmp_path / "db" / "bot.sqlite3"),
                         cwd=tmp_path)
    await process.start()
    try:
        try:
            await asyncio.wait_for(fake_discord.identified.wait(), 30)
        except TimeoutError:
            pytest.fail(f"the bot never identified on the gateway; it printed:\n{process.text[-3000:]}")
        assert fake_discord.identify_payload is not None
        assert fake_discord.identify_payload["token"] == BOT_TOKEN
        assert fake_discord.identify_payload["intents"] & (1 << 1 | 1 << 15) == 0, "no privileged intents"
        assert fake_discord.matching("PUT", "/commands"), "commands were synced on first start"

        for choice, ratio in (("landscape", "16:9"), ("portrait", "9:16")):
            payload = factory.slash("imagine", prompt=f"a {choice} lake", format=choice)
            await fake_discord.dispatch("INTERACTION_CREATE", payload)
            reply = (await wait_for_result(fake_discord, payload["token"])).last
            assert reply.files and not reply.ephemeral
            assert fake_openrouter.chat_requests()[-1].json["image_config"] == {"aspect_ratio": ratio}

        fake_openrouter.fail_next(402)
        payload = factory.slash("imagine", prompt="no money")
        await fake_discord.dispatch("INTERACTION_CREATE", payload)
        reply = (await wait_for_result(fake_discord, payload["token"])).last
        assert reply.ephemeral and "credits" in reply.text

        process.signal(signal.SIGTERM)
        assert await process.wait() == 0
    finally:
        await process.kill()
    output = process.text
    assert "Traceback" not in output
    assert BOT_TOKEN not in output and fake_openrouter.api_key not in output


async def test_sigkill_mid_write_leaves_a_database_that_opens_with_committed_state(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    import sqlite3

    from bot.storage.database import load_migrations

    factory = await _payload_factory(tmp_path, fake_discord, fake_openrouter)
    fake_discord.guilds = [factory.guild_dict()]
    database = tmp_path / "db" / "bot.sqlite3"
    env = process_environment(fake_discord, fake_openrouter, database, MAX_CONCURRENT_JOBS="50",
                              MAX_JOBS_PER_MEMBER="0", LOG_LEVEL="WARNING")
    process = BotProcess(env, cwd=tmp_path)
    await process.start()
    try:
        await asyncio.wait_for(fake_discord.identified.wait(), 30)
        finished = factory.slash("imagine", prompt="committed before the kill")
        await fake_discord.dispatch("INTERACTION_CREATE", finished)
        await wait_for_result(fake_discord, finished["token"])
        # A burst of jobs is writing when the process is killed without warning.
        for number in range(40):
            await fake_discord.dispatch("INTERACTION_CREATE", factory.slash("imagine", prompt=f"burst {number}"))
        await fake_openrouter.wait_for_requests(10)
        process.signal(signal.SIGKILL)
        assert await process.wait() == -signal.SIGKILL
    finally:
        await process.kill()

    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("PRAGMA user_version").fetchone()[0] == load_migrations()[-1].version
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert connection.execute("SELECT count(*) FROM bot_state").fetchone()[0] >= 1
        if "jobs" in tables:
            prompts = {row[0] for row in connection.execute("SELECT prompt FROM jobs WHERE status = 'done'")}
            assert "committed before the kill" in prompts
    finally:
        connection.close()

    fake_discord.identified.clear()
    restarted = BotProcess(env, cwd=tmp_path)
    await restarted.start()
    try:
        await asyncio.wait_for(fake_discord.identified.wait(), 30)
        after = factory.slash("imagine", prompt="after the restart")
        await fake_discord.dispatch("INTERACTION_CREATE", after)
        assert (await wait_for_result(fake_discord, after["token"])).last.files
        restarted.signal(signal.SIGTERM)
        assert await restarted.wait() == 0
    finally:
        await restarted.kill()


async def test_unusable_database_ends_the_process_with_one_line(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    database = tmp_path / "bot.sqlite3"
    database.write_bytes(b"garbage, not sqlite " * 100)
    process = BotProcess(process_environment(fake_discord, fake_openrouter, database), cwd=tmp_path)
    await process.start()
    assert await process.wait() == 1
    assert "Traceback" not in process.text
    assert "corrupt or not a SQLite database" in process.text


async def test_debug_logs_of_a_real_process_never_show_an_interaction_token(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    """At DEBUG discord.py logs every gateway event (INTERACTION_CREATE carries `'token': ...`) and
    every callback and webhook URL (`/interactions/<id>/<token>/callback`, `/webhooks/<app>/<token>/...`)."""
    factory = await _payload_factory(tmp_path, fake_discord, fake_openrouter)
    fake_discord.guilds = [factory.guild_dict()]
    process = BotProcess(process_environment(fake_discord, fake_openrouter, tmp_path / "db" / "bot.sqlite3",
                                             LOG_LEVEL="DEBUG"), cwd=tmp_path)
    await process.start()
    try:
        await asyncio.wait_for(fake_discord.identified.wait(), 30)
        payload = factory.slash("imagine", prompt="a heron at dawn")
        await fake_discord.dispatch("INTERACTION_CREATE", payload)
        await wait_for_result(fake_discord, payload["token"])
        process.signal(signal.SIGTERM)
        assert await process.wait() == 0
    finally:
        await process.kill()
    output = process.text
    assert payload["token"] not in output
    event_lines = [line for line in output.splitlines() if "WebSocket Event" in line and payload["id"] in line]
    assert event_lines and all("'token': '[redacted]'" in line for line in event_lines), output[-3000:]
    assert f"/interactions/{payload['id']}/[redacted]/callback" in output
    assert "/[redacted]/messages/@original" in output
