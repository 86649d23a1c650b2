"""Spoilered results through the real tree: the member's `spoiler` option, `/config spoilers`, age-restricted
channels and threads, and results made from a spoilered one (Re-roll, Edit, the "Edit image" menu)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.storage import Store
from bot.storage.guild_config import SpoilerMode
from tests.kit.conversation import Reply
from tests.kit.harness import BotHarness
from tests.test_attachments import png_bytes
from tests.test_channels import admin, new_channel, new_thread
from tests.test_jobs_kit import click, imagine, result_message

MODES = ("off", "always", "outside-age-restricted")


def spoilered(reply: Reply) -> bool:
    """Whether a result is hidden: every file a spoiler, and no embed image or thumbnail giving it away."""
    assert reply.files, "an image result"
    hidden = [sent.filename.startswith("SPOILER_") for sent in reply.files]
    assert len(set(hidden)) == 1, "all files of a result alike"
    embed = reply.embeds[0]
    if hidden[0]:
        assert "image" not in embed and "thumbnail" not in embed, "Discord never hides an embed's image"
    else:
        assert embed["image"]["url"] == f"attachment://{reply.files[0].filename}"
    return hidden[0]


async def set_mode(harness: BotHarness, mode: str) -> Reply:
    return await admin(harness, "config spoilers", mode=mode)


def photo(harness: BotHarness, name: str = "photo.png") -> dict[str, Any]:
    return harness.payloads.attachment(name, png_bytes(64, 48), "image/png", width=64, height=48)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("age_restricted", [False, True], ids=["normal", "age-restricted"])
@pytest.mark.parametrize("asked", [False, True], ids=["not-asked", "asked"])
async def test_imagine_follows_the_mode_the_channel_and_the_members_option(
    harness: BotHarness, mode: str, age_restricted: bool, asked: bool
) -> None:
    channel = new_channel(harness, "lounge", nsfw=age_restricted)
    if mode != "off":
        await set_mode(harness, mode)
    options = {"spoiler": True} if asked else {}
    with harness.payloads.in_channel(channel):
        reply = (await imagine(harness, **options)).last
    expected = asked or mode == "always" or (mode == "outside-age-restricted" and not age_restricted)
    assert spoilered(reply) is expected


@pytest.mark.parametrize(("mode", "asked", "expected"), [
    ("off", False, False), ("off", True, True), ("always", False, True), ("outside-age-restricted", False, True),
])
async def test_edit_follows_the_mode_and_the_members_option(
    harness: BotHarness, mode: str, asked: bool, expected: bool
) -> None:
    await set_mode(harness, mode)
    options = {"spoiler": True} if asked else {}
    payload = harness.payloads.slash("edit", prompt="make it blue", image=photo(harness), **options)
    reply = (await harness.run(payload)).last
    assert spoilered(reply) is expected
    if not expected:
        assert reply.embeds[0]["thumbnail"]["url"], "the source shows when nothing is hidden"


async def test_a_thread_follows_its_parents_age_restriction(harness: BotHarness) -> None:
    await set_mode(harness, "outside-age-restricted")
    adults, lobby = new_channel(harness, "adults", nsfw=True), new_channel(harness, "lobby")
    with harness.payloads.in_channel(new_thread(harness, adults)):
        assert not spoilered((await imagine(harness)).last)
    with harness.payloads.in_channel(new_thread(harness, lobby)):
        assert spoilered((await imagine(harness)).last)


async def test_reroll_and_edit_of_a_spoilered_result_stay_spoilered(harness: BotHarness) -> None:
    hidden = (await imagine(harness, spoiler=True)).last
    assert spoilered(hidden)
    assert harness.bot is not None
    message = await result_message(harness, hidden)

    assert spoilered((await click(harness, hidden, "reroll", message=message)).last)
    opened = await click(harness, hidden, "edit", message=message)
    assert opened.modal is not None
    edited = await harness.run(harness.payloads.modal_submit(
        opened.modal["custom_id"], {"prompt": "make it sunny"}, message=message))
    assert spoilered(edited.last)
    request = harness.openrouter.chat_requests()[-1]
    assert request.input_image_urls, "the spoilered result itself was found again and edited"

    plain = (await imagine(harness)).last
    assert not spoilered((await click(harness, plain, "reroll")).last), "an open result's re-roll stays open"


async def test_the_edit_image_menu_keeps_a_spoilered_image_hidden(harness: BotHarness) -> None:
    message = harness.payloads.message(attachments=[photo(harness, "SPOILER_secret.png")])
    opened = await harness.run(harness.payloads.message_command("Edit image", message=message))
    assert opened.modal is not None
    field = opened.modal["components"][0]["components"][0]["custom_id"]
    submitted = await harness.run(harness.payloads.modal_submit(opened.modal["custom_id"], {field: "a hat"}))
    assert spoilered(submitted.last)

    plain = harness.payloads.message(attachments=[photo(harness, "open.png")])
    opened = await harness.run(harness.payloads.message_command("Edit image", message=plain))
    assert opened.modal is not None
    submitted = await harness.run(harness.payloads.modal_submit(opened.modal["custom_id"], {field: "a hat"}))
    assert not spoilered(submitted.last)


async def test_the_setting_is_saved_shown_and_recorded(harness: BotHarness) -> None:
    show = (await admin(harness, "config show")).embeds[0]["description"]
    assert "Spoilers (whole server): off (only when a member asks) *(default)*" in show

    saved = await set_mode(harness, "outside-age-restricted")
    assert saved.embeds[0]["title"] == "Spoilers saved"
    assert "Spoilers: **everywhere except age-restricted channels**" in saved.text
    assert "Before: off (only when a member asks) *(default)*" in saved.text
    assert "nothing changed" in (await set_mode(harness, "outside-age-restricted")).text
    show = (await admin(harness, "config show")).embeds[0]["description"]
    assert "Spoilers (whole server): everywhere except age-restricted channels" in show
    await set_mode(harness, "always")
    await set_mode(harness, "off")

    assert harness.bot is not None
    history = await harness.bot.store.config_history.recent(harness.payloads.guild_id)
    assert [(entry.operation, entry.setting, entry.old_value, entry.new_value) for entry in reversed(history)] == [
        ("server", "spoilers", None, "outside-age-restricted"),
        ("server", "spoilers", "outside-age-restricted", "always"),
        ("server", "spoilers", "always", None),
    ]
    await set_mode(harness, "always")
    await harness.restart()
    assert spoilered((await imagine(harness)).last), "the setting survives a restart"


async def test_an_unknown_mode_from_a_stale_client_is_refused(harness: BotHarness) -> None:
    refused = await admin(harness, "config spoilers", mode="sometimes")
    assert "Pick off, always or outside-age-restricted" in refused.text and "Nothing was changed" in refused.text
    assert not spoilered((await imagine(harness)).last)


async def test_the_settings_cache_never_keeps_an_uncommitted_or_raced_write(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "bot.sqlite3")
    try:
        writing, release = asyncio.Event(), asyncio.Event()

        async def failing_write() -> None:
            async with store.database.transaction() as connection:
                await connection.execute("INSERT INTO guild_settings (guild_id, spoilers) VALUES (5, 'always')")
                writing.set()
                await release.wait()
                raise RuntimeError("rolled back")

        writer = asyncio.create_task(failing_write())
        await writing.wait()
        seen = await store.guild_config.server_settings(5)  # while the transaction is open
        release.set()
        with pytest.raises(RuntimeError):
            await writer
        assert seen.spoilers == SpoilerMode.OFF and (await store.guild_config.server_settings(5)).spoilers == "off"

        # A read that has its (old) row and lands only after a change committed must not be cached.
        original = store.database.fetch_all_committed
        have_read, resume = asyncio.Event(), asyncio.Event()

        async def slow_read(sql: str, parameters: tuple[object, ...] = ()) -> list[Any]:
            rows = await original(sql, parameters)
            have_read.set()
            await resume.wait()
            return rows

        store.database.fetch_all_committed = slow_read  # type: ignore[method-assign]
        reading = asyncio.ensure_future(store.guild_config.server_settings(6))
        await have_read.wait()
        store.database.fetch_all_committed = original  # type: ignore[method-assign]
        await store.guild_config.change_server_settings(6, {"spoilers": SpoilerMode.ALWAYS})
        resume.set()
        assert (await reading).spoilers == SpoilerMode.OFF, "it read before the change"
        assert (await store.guild_config.server_settings(6)).spoilers == SpoilerMode.ALWAYS
    finally:
        await store.close()
