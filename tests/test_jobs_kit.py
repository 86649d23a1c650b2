"""Shared helpers for the job, button, usage and budget tests (this module holds no tests itself).

The bot under test loads only the extensions these features need, so that another feature's
work in progress cannot break them; `test_jobs.py` checks the full default list separately.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Conversation, Reply
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings
from tests.kit.payloads import Actor

#: The Describe button under a result is `/describe`'s own `run_describe`, so the buttons need `cogs.describe`.
EXTENSIONS = ("cogs.imagine", "cogs.describe", "cogs.result_buttons", "cogs.jobs", "cogs.usage")
JOB_BUTTON = re.compile(r"^job:(?P<action>reroll|edit|describe|delete):(?P<id>[0-9]+)$")


@asynccontextmanager
async def started(
    database_path: Path, discord_api: FakeDiscord, openrouter: FakeOpenRouter, **settings: Any
) -> AsyncIterator[BotHarness]:
    """A running bot with this feature's extensions."""
    kit = BotHarness(make_settings(database_path, discord_api, openrouter, **settings), discord_api, openrouter,
                     extensions=EXTENSIONS)
    await kit.start()
    try:
        yield kit
    finally:
        await kit.stop()


class Clock:
    """A clock the test moves by hand (`bot.jobs.clock = clock`)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def at(text: str) -> datetime:
    """An aware UTC time from 'YYYY-MM-DD HH:MM:SS'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def buttons(reply: Reply) -> dict[str, str]:
    """The job buttons on a reply, action -> custom id."""
    found = {}
    for custom_id in reply.custom_ids:
        match = JOB_BUTTON.match(custom_id)
        if match:
            found[match["action"]] = custom_id
    return found


def job_id(reply: Reply) -> int:
    """The job id the reply's buttons carry (they all carry the same one)."""
    ids = {int(JOB_BUTTON.match(custom_id)["id"]) for custom_id in buttons(reply).values()}  # type: ignore[index]
    assert len(ids) == 1, reply.custom_ids
    return ids.pop()


async def imagine(harness: BotHarness, prompt: str = "a lighthouse at dusk", actor: Actor | None = None,
                  **options: Any) -> Conversation:
    """Run `/imagine` and return what the member saw."""
    return await harness.run(harness.payloads.slash("imagine", actor=actor, prompt=prompt, **options))


async def result_message(harness: BotHarness, reply: Reply, *, with_files: bool = True) -> dict[str, Any]:
    """The result message as Discord sends it with a click on one of its buttons.

    Its id is the one the bot recorded for the job; its attachments are served by the stand-in CDN
    (fresh URLs, as every click brings), unless `with_files` is False (an image that is gone).
    """
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(job_id(reply))
    assert record is not None and record.result_message_id is not None
    attachments = []
    for sent in reply.files:
        if with_files:
            attachments.append(harness.payloads.attachment(sent.filename, sent.data, sent.content_type or "image/png"))
        else:
            attachments.append(harness.payloads.attachment(sent.filename, sent.data, "image/png",
                                                           url=f"http://127.0.0.1:{harness.discord.port}/attachments/0/{sent.filename}"))
    message = harness.payloads.message(attachments=attachments, embeds=reply.embeds, components=reply.components)
    message["flags"] = reply.flags
    message["id"] = str(record.result_message_id)
    message["author"] = harness.discord.bot_user()
    return message


async def click(harness: BotHarness, reply: Reply, action: str, actor: Actor | None = None,
                message: dict[str, Any] | None = None) -> Conversation:
    """Click one of a result's buttons."""
    custom_id = buttons(reply)[action]
    message = message if message is not None else await result_message(harness, reply)
    return await harness.run(harness.payloads.component(custom_id, message=message, actor=actor))
