"""The bot as a real process, driven as an attacker would (the hardening issue's own check).

DM interactions, forged component clicks, embeds pointing at a loopback listener in every notation
(the listener must see no request), and kill -9 in the middle of a job followed by a restart: the
lost job is marked interrupted, and a form opened before the kill is still answered after it.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.fake_openrouter import FakeOpenRouter, render_png
from tests.kit.fake_discord import FakeDiscord
from tests.kit.payloads import PayloadFactory
from tests.kit.process import answer, payload_factory, start_identified, wait_for_result


@pytest.fixture
async def listener() -> AsyncIterator[tuple[int, list[str]]]:
    """A loopback HTTP server no bot request may reach: (port, paths it was asked for)."""
    seen: list[str] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(body=render_png(8, 8), content_type="image/png")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield port, seen
    finally:
        await runner.cleanup()


async def _answer(fake_discord: FakeDiscord, payload: dict[str, Any]) -> Any:
    return (await answer(fake_discord, payload)).last


def _with_embed_image(factory: PayloadFactory, url: str) -> dict[str, Any]:
    return factory.message(embeds=[{"type": "image", "url": url, "image": {"url": url}}])


async def test_an_attacker_gets_refusals_and_the_bot_reaches_nothing_it_must_not(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter, listener: tuple[int, list[str]]
) -> None:
    port, seen = listener
    factory = await payload_factory(tmp_path, fake_discord, fake_openrouter)
    fake_discord.guilds = [factory.guild_dict()]
    process = await start_identified(fake_discord, fake_openrouter, tmp_path / "db" / "bot.sqlite3", tmp_path)
    try:
        dm = await _answer(fake_discord, factory.slash("imagine", in_guild=False, prompt="free images"))
        assert dm.ephemeral and "server" in dm.text

        custom_id = "job:reroll:424242"
        row = {"type": 1, "components": [{"type": 2, "style": 2, "label": "Re-roll", "custom_id": custom_id}]}
        message = factory.message(components=[row])
        message["author"] = fake_discord.bot_user()
        forged = await _answer(fake_discord, factory.component(custom_id, message))
        assert forged.ephemeral and "no longer on record" in forged.text

        for host in ("127.0.0.1", "2130706433", "127.1", "0x7f.1", "localhost.", "[::ffff:127.0.0.1]", "[::1]"):
            url = f"http://{host}:{port}/metadata.png"
            for menu in ("Describe image", "Edit image"):
                reply = await _use_menu(fake_discord, factory, menu, url)
                assert reply.ephemeral and "can't fetch" in reply.text, (menu, host, reply.text)
        assert seen == [], "the loopback listener was reached"
        assert fake_openrouter.chat_requests() == []
    finally:
        await process.kill()


async def _use_menu(fake_discord: FakeDiscord, factory: PayloadFactory, menu: str, url: str) -> Any:
    """Use a message menu on a message whose embed points at `url`; submit the form if one opens."""
    message = _with_embed_image(factory, url)
    payload = factory.message_command(menu, message)
    await fake_discord.dispatch("INTERACTION_CREATE", payload)

    def answered() -> bool:
        requests = fake_discord.for_token(payload["token"])
        return any(r.path.endswith("/callback") for r in requests) and (
            menu == "Edit image" or bool(_visible(fake_discord, payload["token"])))

    await fake_discord.wait_for(answered, timeout=30)
    callback = next(r for r in fake_discord.for_token(payload["token"]) if r.path.endswith("/callback"))
    if callback.json and callback.json.get("type") == 9:  # the form: submit it as the member would
        fake_discord.messages[(factory.channel_id, int(message["id"]))] = message
        submit = factory.modal_submit(callback.json["data"]["custom_id"], {"prompt": "show me"})
        return await _answer(fake_discord, submit)
    return (await wait_for_result(fake_discord, payload["token"])).last


def _visible(fake_discord: FakeDiscord, token: str) -> list[Any]:
    from tests.kit.conversation import Conversation

    conversation = Conversation(fake_discord.for_token(token))
    return [reply for reply in conversation.visible if not reply.loading]


async def test_kill_9_mid_job_then_restart_marks_the_job_interrupted_and_answers_old_forms(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    factory = await payload_factory(tmp_path, fake_discord, fake_openrouter)
    fake_discord.guilds = [factory.guild_dict()]
    database = tmp_path / "db" / "bot.sqlite3"
    process = await start_identified(fake_discord, fake_openrouter, database, tmp_path)
    photo = factory.attachment("cat.png", render_png(64, 64), "image/png", width=64, height=64)
    target = factory.message(attachments=[photo])
    try:
        menu = factory.message_command("Edit image", target)
        await fake_discord.dispatch("INTERACTION_CREATE", menu)
        await fake_discord.wait_for(lambda: any(r.path.endswith("/callback") for r in fake_discord.for_token(
            menu["token"])), timeout=30)
        form = next(r for r in fake_discord.for_token(menu["token"]) if r.path.endswith("/callback")).json
        assert form["type"] == 9

        fake_openrouter.hold = asyncio.Event()
        lost = factory.slash("imagine", prompt="lost in the crash")
        await fake_discord.dispatch("INTERACTION_CREATE", lost)
        await fake_openrouter.wait_for_requests(1, timeout=30)
        process.signal(signal.SIGKILL)
        assert await process.wait() == -signal.SIGKILL
    finally:
        await process.kill()
    fake_openrouter.hold.set()

    connection = sqlite3.connect(database)
    try:
        # The mark-running write is in the background (off the upstream call's path): at the kill it
        # may not have landed, but the row exists, so the restart can find it either way.
        assert connection.execute("SELECT status FROM jobs WHERE prompt = 'lost in the crash'").fetchone() in {
            ("queued",), ("running",)}
    finally:
        connection.close()

    restarted = await start_identified(fake_discord, fake_openrouter, database, tmp_path)
    try:
        connection = sqlite3.connect(database)
        try:
            row = connection.execute(
                "SELECT status, error_kind FROM jobs WHERE prompt = 'lost in the crash'").fetchone()
        finally:
            connection.close()
        assert row == ("failed", "interrupted")

        fake_discord.messages[(factory.channel_id, int(target["id"]))] = target
        submit = factory.modal_submit(form["data"]["custom_id"], {"prompt": "give it a hat"})
        reply = await _answer(fake_discord, submit)
        assert reply.files and reply.embeds[0]["title"] == "Edit"
        restarted.signal(signal.SIGTERM)
        assert await restarted.wait() == 0
    finally:
        await restarted.kill()
