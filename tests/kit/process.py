"""Running the bot as a real process (`python -m bot`) against the loopback stand-ins."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.core import DEFAULT_EXTENSIONS
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Conversation
from tests.kit.fake_discord import BOT_TOKEN, FakeDiscord
from tests.kit.harness import make_settings
from tests.kit.payloads import PayloadFactory
from tests.kit.shadow import shadow_bot

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def process_environment(discord_api: FakeDiscord, openrouter: FakeOpenRouter, database_path: Path,
                        **extra: str) -> dict[str, str]:
    """Only what the bot needs: nothing of the developer's environment or `.env` leaks in."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(PROJECT_ROOT),
        "DISCORD_TOKEN": BOT_TOKEN,
        "OPENROUTER_API_KEY": openrouter.api_key,
        "OPENROUTER_BASE_URL": openrouter.base_url,
        "DISCORD_API_BASE_URL": discord_api.api_base,
        "DATABASE_PATH": str(database_path),
        "LOG_LEVEL": "DEBUG",
        "RETRY_BASE_DELAY_S": "0",
        "RETRY_MAX_DELAY_S": "0",
    }
    env.update(extra)
    return env


class BotProcess:
    """A `python -m bot` child process whose output is collected for inspection."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.process: asyncio.subprocess.Process | None = None
        self.output = bytearray()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Launch the process."""
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=self.cwd, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while chunk := await self.process.stdout.read(65536):
            self.output.extend(chunk)

    async def wait(self, timeout: float = 30.0) -> int:
        """Wait for the process to end and return its exit code."""
        assert self.process is not None
        code = await asyncio.wait_for(self.process.wait(), timeout)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, timeout)
        return code

    def signal(self, signum: int) -> None:
        """Send a signal (SIGTERM, SIGKILL, ...)."""
        assert self.process is not None
        self.process.send_signal(signum)

    async def kill(self) -> None:
        """Make sure the process is gone (test teardown)."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    @property
    def text(self) -> str:
        """Everything the process printed."""
        return self.output.decode(errors="replace")


async def start_identified(discord_api: FakeDiscord, openrouter: FakeOpenRouter, database_path: Path, cwd: Path,
                           **extra: str) -> BotProcess:
    """Start `python -m bot` (WARNING logs unless `extra` says otherwise) and wait until it identified.

    Fails the test with the process's last output when it never does, after killing it.
    """
    extra.setdefault("LOG_LEVEL", "WARNING")
    process = BotProcess(process_environment(discord_api, openrouter, database_path, **extra), cwd=cwd)
    discord_api.identified.clear()
    await process.start()
    try:
        await asyncio.wait_for(discord_api.identified.wait(), 30)
    except TimeoutError:
        await process.kill()
        pytest.fail(f"the bot never identified on the gateway; it printed:\n{process.text[-3000:]}")
    return process


async def payload_factory(tmp_path: Path, discord_api: FakeDiscord, openrouter: FakeOpenRouter, *,
                          load: Sequence[str] = DEFAULT_EXTENSIONS) -> PayloadFactory:
    """Payloads for a bot process, from the real command tree: `load` in a bot that never logs in."""
    async with shadow_bot(make_settings(tmp_path / "shadow.sqlite3", discord_api, openrouter), load=load) as shadow:
        return PayloadFactory(shadow.tree, discord_api)


def settled(conversation: Conversation) -> bool:
    """The member has a reply and it is no longer "thinking"."""
    visible = conversation.visible
    return bool(visible) and not visible[-1].loading


async def wait_for_result(discord_api: FakeDiscord, token: str,
                          done: Callable[[Conversation], bool] = settled) -> Conversation:
    """Wait (at most 30 s) until the interaction `token` is `done`, and return its conversation."""
    await discord_api.wait_for(lambda: done(Conversation(discord_api.for_token(token))), timeout=30)
    return Conversation(discord_api.for_token(token))


async def answer(discord_api: FakeDiscord, payload: dict[str, Any],
                 done: Callable[[Conversation], bool] = settled) -> Conversation:
    """Dispatch an interaction to the process and wait until it is `done` (by default: answered)."""
    await discord_api.dispatch("INTERACTION_CREATE", payload)
    return await wait_for_result(discord_api, payload["token"], done)
