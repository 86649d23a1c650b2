"""Fair use under load: per-member limit, a bounded FIFO queue whose positions members see, and the
bot staying correct with a hundred commands in flight."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Conversation
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings
from tests.kit.payloads import Actor

QUEUED = re.compile(r"Queued: position (\d+)")


async def _start(database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter,
                 **overrides: object) -> BotHarness:
    settings = make_settings(database_path, fake_discord, fake_openrouter, **overrides)
    harness = BotHarness(settings, fake_discord, fake_openrouter)
    await harness.start()
    return harness


def _positions_shown(conversation: Conversation) -> list[int]:
    shown = []
    for request in conversation.requests:
        if request.method == "PATCH" and isinstance(request.json, dict):
            match = QUEUED.search(request.json.get("content") or "")
            if match:
                shown.append(int(match.group(1)))
    return shown


async def test_hundred_commands_from_twenty_members(database_path: Path, fake_discord: FakeDiscord,
                                                    fake_openrouter: FakeOpenRouter) -> None:
    harness = await _start(database_path, fake_discord, fake_openrouter, max_concurrent_jobs=4,
                           max_jobs_per_member=1, max_queued_jobs=100)
    try:
        members = [Actor(f"member{number}") for number in range(20)]
        payloads = [harness.payloads.slash("imagine", member, prompt=f"{member.name} try {attempt}")
                    for attempt in range(5) for member in members]
        fake_openrouter.hold = asyncio.Event()
        tasks = harness.dispatch(*payloads)

        # Four run, sixteen wait in line and see their position, eighty are refused at once.
        await fake_openrouter.wait_for_requests(4)
        refused = [p for p in payloads[20:]]
        await fake_discord.wait_for(lambda: all(harness.conversation(p).visible for p in refused))
        first_round = [harness.conversation(p) for p in payloads[:20]]
        await fake_discord.wait_for(
            lambda: sum(bool(_positions_shown(harness.conversation(p))) for p in payloads[:20]) == 16)
        assert len(fake_openrouter.chat_requests()) == 4, "the concurrency bound holds"

        for payload in refused:
            reply = harness.conversation(payload).last
            assert reply.ephemeral and "already have a job running" in reply.text
            assert not harness.conversation(payload).callback_types == [5], "refused before any defer"
        first_positions = sorted(_positions_shown(c)[0] for c in first_round if _positions_shown(c))
        assert first_positions == list(range(1, 17)), "each waiting job is told its place in line"

        fake_openrouter.hold.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        for payload in payloads[:20]:
            reply = harness.conversation(payload).last
            assert reply.files and not reply.ephemeral and not reply.content, "queue text replaced by result"
        assert len(fake_openrouter.chat_requests()) == 20
        prompts_in_order = [r.json["messages"][0]["content"] for r in fake_openrouter.chat_requests()]
        assert prompts_in_order[4:] == [p["data"]["options"][0]["value"] for p in payloads[:20]
                                        if p["data"]["options"][0]["value"] not in prompts_in_order[:4]], \
            "waiting jobs ran first in, first out"

        assert harness.bot is not None and harness.bot.jobs.queue.running == 0
        assert harness.bot.jobs.queue.waiting == 0 and harness.bot.jobs.active == 0
        again = await harness.run(harness.payloads.slash("imagine", members[0], prompt="once more"))
        assert again.last.files
    finally:
        await harness.stop()


async def test_a_full_queue_refuses_new_jobs_with_a_message(database_path: Path, fake_discord: FakeDiscord,
                                                             fake_openrouter: FakeOpenRouter) -> None:
    harness = await _start(database_path, fake_discord, fake_openrouter, max_concurrent_jobs=1,
                           max_queued_jobs=2, max_jobs_per_member=0)
    try:
        fake_openrouter.hold = asyncio.Event()
        payloads = [harness.payloads.slash("imagine", prompt=f"job {n}") for n in range(4)]
        tasks = harness.dispatch(*payloads[:3])
        await fake_openrouter.wait_for_requests(1)
        await fake_discord.wait_for(lambda: all(_positions_shown(harness.conversation(p)) for p in payloads[1:3]))
        overflow = await harness.run(payloads[3])
        assert overflow.last.ephemeral and "2 jobs are already waiting" in overflow.last.text
        assert overflow.callback_types == [4], "refused without a public thinking message"
        fake_openrouter.hold.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        assert all(harness.conversation(p).last.files for p in payloads[:3])
    finally:
        await harness.stop()


async def test_queue_positions_move_up_as_jobs_finish(database_path: Path, fake_discord: FakeDiscord,
                                                      fake_openrouter: FakeOpenRouter) -> None:
    harness = await _start(database_path, fake_discord, fake_openrouter, max_concurrent_jobs=1,
                           max_jobs_per_member=0)
    assert harness.bot is not None
    harness.bot.jobs.progress_interval_s = 0.0
    try:
        fake_openrouter.hold = asyncio.Event()
        payloads = [harness.payloads.slash("imagine", prompt=f"job {n}") for n in range(3)]
        tasks = harness.dispatch(*payloads)
        await fake_discord.wait_for(lambda: _positions_shown(harness.conversation(payloads[2])) == [2])
        fake_openrouter.hold.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        assert _positions_shown(harness.conversation(payloads[2]))[:2] == [2, 1]
    finally:
        await harness.stop()
