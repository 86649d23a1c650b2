"""`/config channels` through the real tree: who may set the lists, what they allow, and where the bot refuses.

Channels and threads exist for the bot the way they do on Discord: in the guild it received
(`guild_dict`) or announced by a gateway event (CHANNEL_CREATE, THREAD_CREATE, CHANNEL_DELETE) handed to
discord.py's own parser. Interactions come from them with `payloads.in_channel(...)`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.operations import Operation
from bot.storage import Store
from bot.storage.channels import MAX_CHANNELS_PER_LIST
from tests.kit.conversation import Conversation, Reply
from tests.kit.harness import BotHarness
from tests.test_attachments import png_bytes
from tests.test_jobs_kit import buttons, click, imagine, job_id, result_message

REFUSED_TITLE = "Not in this channel"


# -- helpers ---------------------------------------------------------------------------------------


def new_channel(harness: BotHarness, name: str, *, nsfw: bool = False, kind: int = 0) -> dict[str, Any]:
    """A channel created on "Discord" and announced to the running bot (CHANNEL_CREATE)."""
    channel = harness.payloads.add_channel(name, nsfw=nsfw, kind=kind)
    assert harness.bot is not None
    harness.bot._connection.parse_channel_create(channel)  # type: ignore[arg-type]
    return channel


def new_thread(harness: BotHarness, parent: dict[str, Any], name: str = "thread") -> dict[str, Any]:
    """A thread (a post, in a forum) created in `parent` and announced to the running bot (THREAD_CREATE)."""
    thread = harness.payloads.add_thread(parent, name)
    assert harness.bot is not None
    harness.bot._connection.parse_thread_create({**thread, "newly_created": True})  # type: ignore[arg-type]
    return thread


def delete_channel(harness: BotHarness, channel: dict[str, Any]) -> None:
    """Delete a channel on "Discord" and tell the running bot (CHANNEL_DELETE)."""
    assert harness.bot is not None
    harness.bot._connection.parse_channel_delete(harness.payloads.remove_channel(channel))  # type: ignore[arg-type]


def general(harness: BotHarness) -> dict[str, Any]:
    return harness.payloads.channel_dict(harness.payloads.general_channel_id)


def mention(channel: dict[str, Any]) -> str:
    return f"<#{channel['id']}>"


async def admin(harness: BotHarness, path: str, **values: Any) -> Reply:
    reply = (await harness.run(harness.payloads.slash(path, actor=harness.payloads.admin, **values))).last
    assert reply.ephemeral, "config replies are private"
    return reply


async def listed(harness: BotHarness) -> dict[str | None, list[int]]:
    assert harness.bot is not None
    lists = await harness.bot.store.channels.get(harness.payloads.guild_id)
    return {
        (scope.value if scope else None): [entry.channel_id for entry in lists.scope(scope)]
        for scope in (None, *Operation)
    }


def refused(conversation: Conversation, operation: str, allowed: list[dict[str, Any]],
            not_named: list[dict[str, Any]] = ()) -> None:  # type: ignore[assignment]
    """A private refusal naming every allowed channel (and none of `not_named`)."""
    reply = conversation.last
    assert reply.ephemeral, "a refusal is private"
    assert reply.embeds[0]["title"] == REFUSED_TITLE, reply.text
    assert f"**{operation}** can be used only in" in reply.text
    for channel in allowed:
        assert mention(channel) in reply.text, reply.text
    for channel in not_named:
        assert mention(channel) not in reply.text, reply.text


def photo(harness: BotHarness, name: str = "photo.png") -> dict[str, Any]:
    return harness.payloads.attachment(name, png_bytes(64, 48), "image/png", width=64, height=48)


# -- who may change the lists --------------------------------------------------------------------------


async def test_only_manage_server_may_change_or_see_the_lists(harness: BotHarness) -> None:
    art = new_channel(harness, "art")
    member = harness.payloads.member
    attempts = [
        harness.payloads.slash("config channels add", actor=member, channel=art),
        harness.payloads.slash("config channels remove", actor=member, channel=art),
        harness.payloads.slash("config channels list", actor=member),
        harness.payloads.slash("config channels clear", actor=member),
        harness.payloads.slash("config spoilers", actor=member, mode="always"),
    ]
    await admin(harness, "config channels add", channel=art)
    for payload in attempts:
        reply = (await harness.run(payload)).last
        assert reply.ephemeral and "Manage Server" in reply.text, reply.text
        assert "Where the image commands work" not in reply.text
    assert (await listed(harness))[None] == [int(art["id"])], "the member's remove and clear changed nothing"
    assert harness.bot is not None
    assert (await harness.bot.store.guild_config.server_settings(harness.payloads.guild_id)).spoilers == "off"


# -- the rule ------------------------------------------------------------------------------------------


async def test_a_listed_channel_confines_every_command_and_elsewhere_members_are_told_where(
    harness: BotHarness,
) -> None:
    art, bots = new_channel(harness, "art"), new_channel(harness, "bots")
    reply = await admin(harness, "config channels add", channel=art)
    assert f"Listed {mention(art)} for all commands" in reply.text
    assert "told privately where to use the bot" in reply.text
    await admin(harness, "config channels add", channel=bots)

    conversation = await imagine(harness)  # from #general
    refused(conversation, "Imagine", [art, bots], [general(harness)])
    assert conversation.callback_types == [4], "refused at once, with no public 'thinking'"
    describe = harness.payloads.slash("describe", image=photo(harness))
    refused(await harness.run(describe), "Describe", [art, bots])
    edit = harness.payloads.slash("edit", prompt="make it blue", image=photo(harness))
    refused(await harness.run(edit), "Edit", [art, bots])
    assert harness.openrouter.chat_requests() == [], "nothing went upstream"

    with harness.payloads.in_channel(art):
        made = (await imagine(harness)).last
    assert not made.ephemeral and made.files, "the listed channel works"
    with harness.payloads.in_channel(bots):
        assert (await harness.run(harness.payloads.slash("describe", image=photo(harness)))).last.embeds[0][
            "title"] == "Describe"


async def test_a_thread_or_forum_post_counts_as_its_parent_channel(harness: BotHarness) -> None:
    art = new_channel(harness, "art")
    gallery = new_channel(harness, "gallery", kind=15)
    await admin(harness, "config channels add", channel=art)
    await admin(harness, "config channels add", channel=gallery, operation="imagine")

    with harness.payloads.in_channel(new_thread(harness, art, "cats")):
        assert (await imagine(harness)).last.files, "a thread of a listed channel"
    with harness.payloads.in_channel(new_thread(harness, gallery, "my post")):
        assert (await imagine(harness)).last.files, "a post in a listed forum"
    with harness.payloads.in_channel(harness.payloads.add_thread(art, "not yet announced")):
        assert (await imagine(harness)).last.files, "a thread the cache does not know yet, from its payload"
    with harness.payloads.in_channel(new_thread(harness, general(harness), "elsewhere")):
        refused(await imagine(harness), "Imagine", [art, gallery])


async def test_per_operation_lists_add_to_the_list_for_all_commands(harness: BotHarness) -> None:
    art, bots = new_channel(harness, "art"), new_channel(harness, "bots")
    await admin(harness, "config channels add", channel=art, operation="imagine")

    refused(await imagine(harness), "Imagine", [art])
    described = await harness.run(harness.payloads.slash("describe", image=photo(harness)))
    assert described.last.embeds[0]["title"] == "Describe", "describe has no list: it works everywhere"

    await admin(harness, "config channels add", channel=bots)  # for all commands
    refused(await imagine(harness), "Imagine", [bots, art])
    refused(await harness.run(harness.payloads.slash("describe", image=photo(harness))), "Describe", [bots], [art])
    with harness.payloads.in_channel(bots):
        assert (await imagine(harness)).last.files, "the list for all commands counts for imagine too"
    with harness.payloads.in_channel(art):
        assert (await imagine(harness)).last.files
        edit = harness.payloads.slash("edit", prompt="make it blue", image=photo(harness))
        refused(await harness.run(edit), "Edit", [bots], [art])
    assert await listed(harness) == {None: [int(bots["id"])], "imagine": [int(art["id"])], "edit": [], "describe": []}


async def test_the_menus_are_refused_outside_the_listed_channels(harness: BotHarness) -> None:
    art = new_channel(harness, "art")
    message = harness.payloads.message(attachments=[photo(harness)])  # in #general
    opened = await harness.run(harness.payloads.message_command("Edit image", message=message))
    assert opened.modal is not None, "before any list, the menu opens its form"
    await admin(harness, "config channels add", channel=art)

    menu = await harness.run(harness.payloads.message_command("Edit image", message=message))
    assert menu.modal is None, "refused before the form"
    refused(menu, "Edit", [art])
    refused(await harness.run(harness.payloads.message_command("Describe image", message=message)), "Describe", [art])
    submitted = await harness.run(harness.payloads.modal_submit(
        opened.modal["custom_id"], {opened.modal["components"][0]["components"][0]["custom_id"]: "a hat"}))
    refused(submitted, "Edit", [art])
    assert harness.openrouter.chat_requests() == []

    with harness.payloads.in_channel(art):
        here = harness.payloads.message(attachments=[photo(harness)])
        assert (await harness.run(harness.payloads.message_command("Edit image", message=here))).modal is not None
        described = await harness.run(harness.payloads.message_command("Describe image", message=here))
    assert described.last.embeds[0]["title"] == "Describe"


async def test_result_buttons_follow_the_lists_of_today_but_delete_works_anywhere(harness: BotHarness) -> None:
    art = new_channel(harness, "art")
    result = (await imagine(harness)).last  # made in #general before any list
    message = await result_message(harness, result)
    opened = await click(harness, result, "edit", message=message)
    assert opened.modal is not None
    await admin(harness, "config channels add", channel=art)
    sent = len(harness.openrouter.chat_requests())

    refused(await click(harness, result, "reroll", message=message), "Imagine", [art])
    refused(await click(harness, result, "edit", message=message), "Edit", [art])
    refused(await click(harness, result, "describe", message=message), "Describe", [art])
    form = await harness.run(harness.payloads.modal_submit(
        opened.modal["custom_id"], {"prompt": "make it sunny"}, message=message))
    refused(form, "Edit", [art])
    assert len(harness.openrouter.chat_requests()) == sent, "nothing went upstream"

    deleted = await click(harness, result, "delete", message=message)
    assert deleted.callback_types == [6] and deleted.original is not None and deleted.original.deleted
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(job_id(result))
    assert record is not None and record.result_deleted


async def test_result_buttons_work_in_a_thread_of_a_listed_channel(harness: BotHarness) -> None:
    art = new_channel(harness, "art")
    await admin(harness, "config channels add", channel=art)
    with harness.payloads.in_channel(new_thread(harness, art)):
        result = (await imagine(harness)).last
        rerolled = (await click(harness, result, "reroll")).last
        described = (await click(harness, result, "describe")).last
    assert set(buttons(rerolled)) == {"reroll", "edit", "describe", "delete"}
    assert described.embeds[0]["title"] == "Describe"


# -- list, remove, clear -------------------------------------------------------------------------------


async def test_list_remove_and_clear(harness: BotHarness) -> None:
    art, bots, memes = new_channel(harness, "art"), new_channel(harness, "bots"), new_channel(harness, "memes")
    empty = await admin(harness, "config channels list")
    assert "none listed" in empty.text and "`/imagine`: every channel *(default)*" in empty.text

    await admin(harness, "config channels add", channel=art)
    await admin(harness, "config channels add", channel=bots)
    again = await admin(harness, "config channels add", channel=bots)
    assert "already listed" in again.text and "nothing changed" in again.text
    await admin(harness, "config channels add", channel=memes, operation="describe")
    await admin(harness, "config channels add", channel=art, operation="describe")

    shown = {item["name"]: item["value"] for item in (await admin(harness, "config channels list")).embeds[0]["fields"]}
    assert shown["Listed for all commands"] == f"{mention(art)} and {mention(bots)}"
    assert shown["Listed for /describe"] == f"{mention(memes)} and {mention(art)}"
    assert shown["Listed for /imagine"] == "none listed"
    assert f"`/describe`: {mention(art)}, {mention(bots)}, and {mention(memes)} (and their threads)" in shown["Result"]

    removed = await admin(harness, "config channels remove", channel=art)  # from every list
    assert f"Took {mention(art)} off any list" in removed.text
    assert await listed(harness) == {None: [int(bots["id"])], "imagine": [], "edit": [], "describe": [int(memes["id"])]}
    absent = await admin(harness, "config channels remove", channel=art, operation="imagine")
    assert "was not on the list for `/imagine`; nothing changed" in absent.text

    cleared = await admin(harness, "config channels clear", operation="describe")
    assert f"Cleared the list for `/describe` (it held {mention(memes)})" in cleared.text
    assert (await listed(harness))[None] == [int(bots["id"])]
    everything = await admin(harness, "config channels clear")
    assert f"Cleared every list (it held {mention(bots)})" in everything.text
    assert "`/imagine`: every channel *(default)*" in everything.text
    assert (await imagine(harness)).last.files, "with no list left, the bot works everywhere again"
    assert "already empty" in (await admin(harness, "config channels clear")).text


async def test_threads_and_categories_cannot_be_listed(harness: BotHarness) -> None:
    art = new_channel(harness, "art")
    thread = new_thread(harness, art)
    category = harness.payloads.add_channel("Projects", kind=4)
    for channel in (thread, category):
        reply = await admin(harness, "config channels add", channel=channel)
        assert "threads and forum posts follow their parent channel" in reply.text
    assert await listed(harness) == {None: [], "imagine": [], "edit": [], "describe": []}
    assert harness.bot is not None
    group = harness.bot.tree.get_command("config")
    add = group.get_command("channels").get_command("add")  # type: ignore[union-attr]
    option = add.to_dict(harness.bot.tree)["options"][0]  # type: ignore[union-attr]
    assert option["type"] == 7 and set(option["channel_types"]) == {0, 2, 5, 13, 15, 16}, "the picker offers channels"


async def test_a_list_holds_at_most_25_channels(harness: BotHarness) -> None:
    channels = [new_channel(harness, f"c{number}") for number in range(MAX_CHANNELS_PER_LIST + 1)]
    for channel in channels[:-1]:
        await admin(harness, "config channels add", channel=channel)
    full = await admin(harness, "config channels add", channel=channels[-1])
    assert full.embeds[0]["title"] == "Channel list full" and "at most 25" in full.text
    assert len((await listed(harness))[None]) == MAX_CHANNELS_PER_LIST
    refusal = (await imagine(harness)).last
    assert all(mention(channel) in refusal.text for channel in channels[:-1]), "the refusal names all 25"
    assert len(refusal.embeds[0]["description"]) <= 4096


# -- deleted channels ----------------------------------------------------------------------------------


async def test_a_deleted_channel_is_dropped_the_next_time_the_list_is_read(harness: BotHarness) -> None:
    art, bots = new_channel(harness, "art"), new_channel(harness, "bots")
    await admin(harness, "config channels add", channel=art)
    await admin(harness, "config channels add", channel=bots)
    await admin(harness, "config channels add", channel=art, operation="edit")
    delete_channel(harness, art)
    assert (await listed(harness))[None] == [int(art["id"]), int(bots["id"])], "nothing read the list yet"

    refused(await imagine(harness), "Imagine", [bots], [art])
    assert await listed(harness) == {None: [int(bots["id"])], "imagine": [], "edit": [], "describe": []}
    assert harness.bot is not None
    history = await harness.bot.store.config_history.recent(harness.payloads.guild_id)
    dropped = {(entry.operation, entry.old_value, entry.new_value) for entry in history[:2]}
    assert dropped == {("server", "#art, #bots", "#bots"), ("edit", "#art", None)}
    assert all("channel deleted" in entry.user_name for entry in history[:2])

    delete_channel(harness, bots)
    assert (await imagine(harness)).last.files, "with every listed channel gone, the bot works everywhere"


async def test_nothing_is_dropped_while_the_server_is_unavailable(harness: BotHarness) -> None:
    art = new_channel(harness, "art")
    await admin(harness, "config channels add", channel=art)
    assert harness.bot is not None
    guild = harness.bot.get_guild(harness.payloads.guild_id)
    assert guild is not None
    guild._remove_channel(guild.get_channel(int(art["id"])))  # type: ignore[arg-type]
    guild.unavailable = True  # an outage: the cache cannot tell what was deleted
    refused(await imagine(harness), "Imagine", [art])
    assert (await listed(harness))[None] == [int(art["id"])]


# -- where the lists show --------------------------------------------------------------------------------


async def test_config_show_and_status_show_the_lists(harness: BotHarness) -> None:
    art, bots = new_channel(harness, "art"), new_channel(harness, "bots")
    await admin(harness, "config channels add", channel=art)
    await admin(harness, "config channels add", channel=bots, operation="imagine")

    shown = {item["name"]: item["value"] for item in (await admin(harness, "config show")).embeds[0]["fields"]}
    assert f"Channels: {mention(art)} and {mention(bots)} (and their threads)" in shown["Imagine"]
    assert f"Channels: {mention(art)} (and their threads)" in shown["Describe"]

    status = (await harness.run(harness.payloads.slash("status"))).last
    fields = {item["name"]: item["value"] for item in status.embeds[0]["fields"]}
    assert fields["/imagine"].endswith(f"Channels: only {mention(art)} and {mention(bots)} (not this one)")
    assert fields["/edit"].endswith(f"Channels: only {mention(art)} (not this one)")
    with harness.payloads.in_channel(new_thread(harness, bots)):
        status = (await harness.run(harness.payloads.slash("status"))).last
    fields = {item["name"]: item["value"] for item in status.embeds[0]["fields"]}
    assert fields["/imagine"].endswith(f"Channels: only {mention(art)} and {mention(bots)}"), "in a thread of #bots"
    assert fields["/edit"].endswith("(not this one)")


async def test_channel_changes_go_to_the_configuration_history(harness: BotHarness) -> None:
    art, bots = new_channel(harness, "art"), new_channel(harness, "bots")
    await admin(harness, "config channels add", channel=art)
    await admin(harness, "config channels add", channel=bots, operation="imagine")
    await admin(harness, "config channels add", channel=bots, operation="imagine")  # no change: no row
    await admin(harness, "config channels remove", channel=art)
    await admin(harness, "config channels clear")
    assert harness.bot is not None
    history = await harness.bot.store.config_history.recent(harness.payloads.guild_id)
    assert [(entry.operation, entry.setting, entry.old_value, entry.new_value) for entry in reversed(history)] == [
        ("server", "channels", None, "#art"),
        ("imagine", "channels", None, "#bots"),
        ("server", "channels", "#art", None),
        ("imagine", "channels", "#bots", None),
    ]
    assert {entry.user_id for entry in history} == {harness.payloads.admin.user_id}
    shown = (await admin(harness, "config history")).text
    assert "**Server** channels: *default* → `#art`" in shown


async def test_the_lists_survive_a_restart(harness: BotHarness) -> None:
    art = new_channel(harness, "art")
    await admin(harness, "config channels add", channel=art)
    await harness.restart()  # the guild, #art included, comes back with GUILD_CREATE
    refused(await imagine(harness), "Imagine", [art])
    with harness.payloads.in_channel(art):
        assert (await imagine(harness)).last.files


# -- the store's cache -----------------------------------------------------------------------------------


async def test_a_cache_fill_never_keeps_an_uncommitted_or_raced_write(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "bot.sqlite3")
    try:
        writing, release = asyncio.Event(), asyncio.Event()

        async def failing_write() -> None:
            async with store.database.transaction() as connection:
                await connection.execute(
                    "INSERT INTO guild_allowed_channels (guild_id, scope, channel_id) VALUES (5, 'all', 1)")
                writing.set()
                await release.wait()
                raise RuntimeError("rolled back")

        writer = asyncio.create_task(failing_write())
        await writing.wait()
        seen = await store.channels.get(5)  # while the transaction is open
        release.set()
        try:
            await writer
        except RuntimeError:
            pass
        assert seen.entries == () and (await store.channels.get(5)).entries == ()

        # A read that has its (old) rows and lands only after a write committed must not be cached.
        store.channels.forget_cache()
        original = store.database.fetch_all_committed
        have_read, resume = asyncio.Event(), asyncio.Event()

        async def slow_read(sql: str, parameters: tuple[object, ...] = ()) -> list[Any]:
            rows = await original(sql, parameters)
            have_read.set()
            await resume.wait()
            return rows

        store.database.fetch_all_committed = slow_read  # type: ignore[method-assign]
        reading = asyncio.ensure_future(store.channels.get(5))
        await have_read.wait()
        store.database.fetch_all_committed = original  # type: ignore[method-assign]
        await store.channels.add(5, None, 7, "art")
        resume.set()
        assert (await reading).entries == (), "it read before the write"
        assert [entry.channel_id for entry in (await store.channels.get(5)).entries] == [7]

        # A cold burst reads a server once.
        store.channels.forget_cache()
        reads = 0

        async def counting(sql: str, parameters: tuple[object, ...] = ()) -> list[Any]:
            nonlocal reads
            reads += 1
            return await original(sql, parameters)

        store.database.fetch_all_committed = counting  # type: ignore[method-assign]
        results = await asyncio.gather(*(store.channels.get(5) for _ in range(50)))
        assert reads == 1 and all(result.channel_ids == {7} for result in results)
    finally:
        await store.close()
