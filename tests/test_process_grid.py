"""Grids as a real process (`python -m bot`): /imagine and /edit grids of 1-4, every kind of per-image
button (Upscale, Vary, Describe, Edit) before and after a restart, and every message the bot sent
accepted by the stand-in's Components V2 validation (Discord's published rules)."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

from tests.fake_openrouter import FakeOpenRouter, render_png
from tests.kit.conversation import Conversation, Reply
from tests.kit.fake_discord import FakeDiscord
from tests.kit.payloads import PayloadFactory
from tests.kit.process import answer, payload_factory, settled, start_identified

PER_IMAGE = re.compile(r"^job:(upscale|vary|edit|describe):([0-9]+):([0-9]+)$")


def _final(conversation: Conversation) -> bool:
    """The member's final reply (or a modal, or a deleted result): not a progress line."""
    if conversation.modal is not None or 6 in conversation.callback_types and any(
            r.method == "DELETE" for r in conversation.requests):
        return True
    return settled(conversation) and not conversation.visible[-1].content


async def _answer(fake_discord: FakeDiscord, payload: dict[str, Any]) -> Conversation:
    """Dispatch and wait for the member's final reply (or a modal)."""
    return await answer(fake_discord, payload, _final)


def _clicked(fake_discord: FakeDiscord, factory: PayloadFactory, token: str) -> dict[str, Any]:
    """The result message as a click brings it: what the stand-in answered, in the member's channel."""
    message = dict(fake_discord.last_message(token))
    message.update(channel_id=str(factory.channel_id), guild_id=str(factory.guild_id))
    return message


def _buttons(reply: Reply) -> dict[tuple[str, int], str]:
    return {(m[1], int(m[3])): c for c in reply.custom_ids if (m := PER_IMAGE.match(c))}


async def test_grids_and_their_buttons_in_a_real_process_before_and_after_a_restart(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    factory = await payload_factory(tmp_path, fake_discord, fake_openrouter)
    fake_discord.guilds = [factory.guild_dict()]
    database = tmp_path / "db" / "bot.sqlite3"
    process = await start_identified(fake_discord, fake_openrouter, database, tmp_path)
    grids: dict[int, tuple[str, Reply]] = {}
    try:
        for count in (1, 2, 3, 4):
            payload = factory.slash("imagine", prompt=f"a grid of {count}", count=count)
            reply = (await _answer(fake_discord, payload)).last
            assert len(reply.files) == count and reply.components_v2 is (count > 1)
            if count > 1:
                assert len(reply.gallery) == count and f"a grid of {count}" in reply.text
                assert set(_buttons(reply)) == {(a, n) for a in ("upscale", "vary", "edit", "describe")
                                                for n in range(1, count + 1)}
            grids[count] = (payload["token"], reply)
        for count in (1, 2, 4, 3):  # the grid of 3 is the one whose Edit 2 is used below
            photo = factory.attachment("cat.png", render_png(64, 48), "image/png", width=64, height=48)
            edit = factory.slash("edit", prompt="add a hat", image=photo, count=count)
            edited = (await _answer(fake_discord, edit)).last
            assert len(edited.files) == count and edited.components_v2 is (count > 1)
            if count > 1:
                assert len(edited.gallery) == count and "cat.png" in edited.text

        token, grid = grids[4]
        before = _clicked(fake_discord, factory, token)
        for action, number, title in (("upscale", 2, "Upscale"), ("vary", 3, "Vary")):
            done = (await _answer(fake_discord, factory.component(_buttons(grid)[(action, number)], before))).last
            assert done.embeds[0]["title"] == title and len(done.files) == 1
        described = (await _answer(fake_discord, factory.component(_buttons(grid)[("describe", 1)], before))).last
        assert "A test description of the image." in described.text
        token3, grid3 = grids[3]
        opened = await _answer(fake_discord, factory.component(_buttons(edited)[("edit", 2)],
                                                               _clicked(fake_discord, factory, edit["token"])))
        assert opened.modal is not None
        form = factory.modal_submit(opened.modal["custom_id"], {"prompt": "make it blue"},
                                    message=_clicked(fake_discord, factory, edit["token"]))
        submitted = (await _answer(fake_discord, form)).last
        assert submitted.embeds[0]["title"] == "Edit"

        process.signal(signal.SIGTERM)
        assert await process.wait() == 0
    finally:
        await process.kill()

    fake_discord.messages[(factory.channel_id, int(before["id"]))] = before
    restarted = await start_identified(fake_discord, fake_openrouter, database, tmp_path)
    try:
        for action, number, title in (("upscale", 1, "Upscale"), ("vary", 4, "Vary")):
            done = (await _answer(fake_discord, factory.component(_buttons(grid)[(action, number)], before))).last
            assert done.embeds[0]["title"] == title
        described = (await _answer(fake_discord, factory.component(_buttons(grid)[("describe", 4)], before))).last
        assert "A test description of the image." in described.text
        opened = await _answer(fake_discord, factory.component(_buttons(grid)[("edit", 1)], before))
        assert opened.modal is not None and opened.modal["title"] == "Edit 1"
        form = factory.modal_submit(opened.modal["custom_id"], {"prompt": "add snow"}, message=before)
        assert (await _answer(fake_discord, form)).last.embeds[0]["title"] == "Edit"
        upscale_3 = _buttons(grid3)[("upscale", 3)]
        done = (await _answer(fake_discord, factory.component(upscale_3, _clicked(fake_discord, factory, token3)))).last
        assert done.embeds[0]["title"] == "Upscale"
        job_id = int(PER_IMAGE.match(upscale_3)[2])  # type: ignore[index]
        rerolled = (await _answer(fake_discord, factory.component(f"job:reroll:{job_id}",
                                                                  _clicked(fake_discord, factory, token3)))).last
        assert rerolled.components_v2 and len(rerolled.gallery) == 3
        listed = (await _answer(fake_discord, factory.slash("jobs"))).last
        assert f"Upscale of image 3 of job #{job_id}" in listed.text
        restarted.signal(signal.SIGTERM)
        assert await restarted.wait() == 0
    finally:
        await restarted.kill()
    assert fake_discord.refused == [], [answer for _, answer in fake_discord.refused]
