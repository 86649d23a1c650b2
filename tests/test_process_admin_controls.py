"""The admin controls as a real process (`python -m bot`) over the stand-in gateway.

Commands in an allowed channel, another channel and a thread; members with different roles under a
role quota; Cancel clicked while a job waits and while it runs; `/show` after a restart.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path
from typing import Any

from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Reply
from tests.kit.fake_discord import FakeDiscord
from tests.kit.payloads import Actor, PayloadFactory
from tests.kit.process import answer, payload_factory, start_identified


async def _answer(fake_discord: FakeDiscord, payload: dict[str, Any]) -> Reply:
    return (await answer(fake_discord, payload)).last


def _cancel_button(fake_discord: FakeDiscord, token: str) -> str | None:
    for request in fake_discord.for_token(token):
        body = request.json if isinstance(request.json, dict) else {}
        for row in body.get("components") or []:
            for item in row.get("components", []):
                if str(item.get("custom_id", "")).startswith("job:cancel:"):
                    return str(item["custom_id"])
    return None


async def _click_cancel(fake_discord: FakeDiscord, factory: PayloadFactory, token: str, actor: Actor) -> Reply:
    await fake_discord.wait_for(lambda: _cancel_button(fake_discord, token) is not None, timeout=30)
    custom_id = _cancel_button(fake_discord, token)
    assert custom_id is not None
    row = {"type": 1, "components": [{"type": 2, "style": 4, "label": "Cancel", "custom_id": custom_id}]}
    message = factory.message(components=[row])
    message["author"] = fake_discord.bot_user()
    return await _answer(fake_discord, factory.component(custom_id, message, actor=actor))


async def test_admin_controls_hold_in_a_real_process(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    factory = await payload_factory(tmp_path, fake_discord, fake_openrouter)
    art = factory.add_channel("art")
    elsewhere = factory.add_channel("chat")
    thread = factory.add_thread(art, "art thread")
    patron_role = factory.role("Patron")
    member, patron = Actor("member"), Actor("patron", roles=[int(patron_role["id"])])
    fake_discord.guilds = [factory.guild_dict()]
    database = tmp_path / "db" / "bot.sqlite3"
    process = await start_identified(fake_discord, fake_openrouter, database, tmp_path, MAX_CONCURRENT_JOBS="1")
    admin = factory.admin
    try:
        assert f"<#{art['id']}>" in (await _answer(fake_discord, factory.slash(
            "config channels add", actor=admin, channel=art))).text
        await _answer(fake_discord, factory.slash("config budget", actor=admin, member_daily_images=1))
        await _answer(fake_discord, factory.slash("config quota", actor=admin, role=patron_role,
                                                  images_per_day="2"))

        with factory.in_channel(elsewhere):
            refused = await _answer(fake_discord, factory.slash("imagine", actor=member, prompt="a cat"))
        assert refused.ephemeral and f"<#{art['id']}>" in refused.text
        assert fake_openrouter.chat_requests() == []

        with factory.in_channel(art):
            first = await _answer(fake_discord, factory.slash("imagine", actor=member, prompt="a cat in art"))
            over = await _answer(fake_discord, factory.slash("imagine", actor=member, prompt="one more"))
        assert first.files and not first.ephemeral
        assert over.ephemeral and "1 image" in over.text, "the member default holds for a member without a role"
        with factory.in_channel(thread):
            in_thread = [await _answer(fake_discord, factory.slash("imagine", actor=patron, prompt=f"patron {n}"))
                         for n in range(3)]
        assert in_thread[0].files and in_thread[1].files, "a thread of a listed channel counts; the role gives 2"
        refusal = in_thread[2]
        assert refusal.ephemeral and f"<@&{patron_role['id']}>" in refusal.text and "2 images" in refusal.text

        # Cancel while running, then while waiting behind a running job (MAX_CONCURRENT_JOBS=1).
        fake_openrouter.hold = asyncio.Event()
        with factory.in_channel(art):
            running = factory.slash("imagine", actor=admin, prompt="slow one")
            await fake_discord.dispatch("INTERACTION_CREATE", running)
            await fake_openrouter.wait_for_requests(4)
            waiting = factory.slash("imagine", actor=Actor("third"), prompt="never sent")
            await fake_discord.dispatch("INTERACTION_CREATE", waiting)
            cancelled_waiting = await _click_cancel(fake_discord, factory, waiting["token"], admin)
            assert cancelled_waiting.ephemeral and "ancel" in cancelled_waiting.text
            disconnects = fake_openrouter.disconnects
            cancelled_running = await _click_cancel(fake_discord, factory, running["token"], admin)
            assert cancelled_running.ephemeral and "ancel" in cancelled_running.text
        await fake_discord.wait_for(lambda: fake_openrouter.disconnects > disconnects, timeout=30)
        fake_openrouter.hold.set()
        assert all(r.prompt != "never sent" for r in fake_openrouter.chat_requests())

        process.signal(signal.SIGTERM)
        assert await process.wait() == 0
    finally:
        await process.kill()

    connection = sqlite3.connect(database)
    try:
        job_id, channel_id, message_id = connection.execute(
            "SELECT id, result_channel_id, result_message_id FROM jobs WHERE prompt = 'a cat in art'").fetchone()
        statuses = dict(connection.execute("SELECT prompt, error_kind FROM jobs WHERE prompt IN "
                                           "('slow one', 'never sent')").fetchall())
    finally:
        connection.close()
    assert all(kind and kind.startswith("cancelled by") for kind in statuses.values()), statuses

    stored = factory.message(attachments=[factory.attachment(sent.filename, sent.data, "image/png")
                                          for sent in first.files])
    stored["id"], stored["channel_id"] = str(message_id), str(channel_id)
    stored["author"] = fake_discord.bot_user()
    fake_discord.messages[(channel_id, message_id)] = stored
    restarted = await start_identified(fake_discord, fake_openrouter, database, tmp_path)
    try:
        with factory.in_channel(art):
            shown = await _answer(fake_discord, factory.slash("show", actor=member, job=str(job_id)))
        assert not shown.ephemeral
        assert [sent.data for sent in shown.files] == [sent.data for sent in first.files]
        assert f"job:reroll:{job_id}" in shown.custom_ids
        restarted.signal(signal.SIGTERM)
        assert await restarted.wait() == 0
    finally:
        await restarted.kill()
