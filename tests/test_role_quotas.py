"""Per-role daily quotas through the real tree: `/config quota`, which quota a member gets (the most generous
of their roles', else the member default), 0 and unlimited, images and USD apart, reservations under
concurrency, `/usage`, the configuration history, Manage Server, and the cache and storage beneath."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.storage.quotas import UNLIMITED, RoleQuota
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Reply
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings
from tests.kit.payloads import Actor
from tests.test_jobs_kit import Clock, at, click, imagine, started

COST = 0.0039  # what the stand-in charges per call


@pytest.fixture
async def harness(database_path: Path, fake_discord: FakeDiscord,
                  fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    async with started(database_path, fake_discord, fake_openrouter) as kit:
        yield kit


def add_role(harness: BotHarness, name: str) -> dict[str, Any]:
    """A new role, announced to the running bot as Discord would (GUILD_ROLE_CREATE)."""
    assert harness.bot is not None
    role = harness.payloads.role(name)
    harness.bot._connection.parse_guild_role_create(harness.payloads.role_create_event(role))  # type: ignore[arg-type]
    return role


def member_with(*roles: dict[str, Any], name: str = "artist") -> Actor:
    return Actor(name, roles=[int(role["id"]) for role in roles])


def mention(role: dict[str, Any]) -> str:
    return f"<@&{role['id']}>"


async def quota(harness: BotHarness, role: dict[str, Any] | None = None, actor: Actor | None = None,
                **values: str) -> Reply:
    options: dict[str, Any] = dict(values)
    if role is not None:
        options["role"] = role
    payload = harness.payloads.slash("config quota", actor=actor or harness.payloads.admin, **options)
    reply = (await harness.run(payload)).last
    assert reply.ephemeral
    return reply


async def budget(harness: BotHarness, **limits: Any) -> None:
    await harness.run(harness.payloads.slash("config budget", actor=harness.payloads.admin, **limits))


async def made(harness: BotHarness, actor: Actor, count: int) -> None:
    """`count` images in a row, each delivered."""
    for number in range(count):
        assert not (await imagine(harness, f"{actor.name} {number}", actor=actor)).last.ephemeral


def midnight(text: str) -> str:
    return f"<t:{int(at(text).timestamp())}:R>"


def usage_limits(reply: Reply) -> str:
    fields = {field["name"]: field["value"] for field in reply.embeds[0]["fields"]}
    return fields["Daily limits"]


# -- which quota applies ----------------------------------------------------------------------------------------


async def test_a_member_with_two_quota_roles_gets_the_more_generous(harness: BotHarness) -> None:
    assert harness.bot is not None
    harness.bot.jobs.clock = Clock(at("2026-11-24 15:00:00"))
    regular, patron = add_role(harness, "Regular"), add_role(harness, "Patron")
    await budget(harness, member_daily_images=10)  # the default is more generous still, yet roles replace it
    await quota(harness, regular, images_per_day="1")
    await quota(harness, patron, images_per_day="3")
    both = member_with(regular, patron)
    await made(harness, both, 3)

    refusal = (await imagine(harness, "a fourth", actor=both)).last
    assert refusal.ephemeral
    assert f"Your daily limit in this server (from the role {mention(patron)}) is 3 images" in refusal.text
    assert "you made 3 today" in refusal.text, "how much is used"
    assert midnight("2026-11-25 00:00:00") in refusal.text and "00:00 UTC" in refusal.text, "when it resets"
    assert "`/config quota`" in refusal.text
    assert len(harness.openrouter.chat_requests()) == 3, "refused before anything went upstream"

    only_regular = member_with(regular, name="regular")
    await made(harness, only_regular, 1)
    refusal = (await imagine(harness, "a second", actor=only_regular)).last
    assert f"(from the role {mention(regular)}) is 1 image," in refusal.text


async def test_a_member_without_a_quota_role_gets_the_member_default(harness: BotHarness) -> None:
    patron, plain = add_role(harness, "Patron"), add_role(harness, "Plain")
    await budget(harness, member_daily_images=2)
    await quota(harness, patron, images_per_day="5")
    nobody = member_with(plain, name="plain")  # a role, but one without a quota
    await made(harness, nobody, 2)
    refusal = (await imagine(harness, "a third", actor=nobody)).last
    assert "Your daily limit in this server is 2 images, and you made 2 today" in refusal.text
    assert "from the role" not in refusal.text and "`/config budget`" in refusal.text

    await made(harness, member_with(patron, name="patron"), 3)


async def test_without_any_budget_a_role_quota_still_limits(harness: BotHarness) -> None:
    limited = add_role(harness, "Limited")
    await quota(harness, limited, images_per_day="1")
    member = member_with(limited)
    await made(harness, member, 1)
    assert (await imagine(harness, "again", actor=member)).last.ephemeral
    await made(harness, Actor("unlimited stranger"), 2)  # no budget, no quota role: no limit


async def test_a_quota_on_everyone_applies_to_every_member(harness: BotHarness) -> None:
    everyone = harness.payloads.everyone_role()
    reply = await quota(harness, everyone, images_per_day="1")
    assert "Quota of @everyone" in reply.text
    await made(harness, harness.payloads.member, 1)
    refusal = (await imagine(harness, "two")).last
    assert "(from the role @everyone) is 1 image" in refusal.text
    vip = add_role(harness, "VIP")
    await quota(harness, vip, images_per_day="unlimited")
    await made(harness, member_with(vip), 3)


async def test_zero_allows_nothing_and_unlimited_beats_every_number(harness: BotHarness) -> None:
    muted, vip = add_role(harness, "Muted"), add_role(harness, "VIP")
    await budget(harness, member_daily_images=1)
    await quota(harness, muted, images_per_day="0")
    await quota(harness, vip, images_per_day="unlimited")

    silenced = member_with(muted, name="silenced")
    refusal = (await imagine(harness, "anything", actor=silenced)).last
    assert refusal.ephemeral
    assert f"Your daily limit in this server (from the role {mention(muted)}) is 0 images" in refusal.text
    assert "you may not make images here (you made 0 today)" in refusal.text
    assert harness.openrouter.chat_requests() == []

    result = (await imagine(harness, "the admin's", actor=harness.payloads.admin)).last
    described = (await click(harness, result, "describe", actor=silenced)).last
    assert not described.ephemeral, "0 images stops image-making only: a description makes none"

    await made(harness, member_with(muted, vip, name="muted vip"), 3)  # unlimited beats 0 and the default of 1


async def test_zero_usd_allows_no_command_at_all(harness: BotHarness) -> None:
    broke = add_role(harness, "Broke")
    await quota(harness, broke, usd_per_day="0")
    result = (await imagine(harness, "the admin's", actor=harness.payloads.admin)).last
    member = member_with(broke)
    refusal = (await imagine(harness, "mine", actor=member)).last
    assert refusal.ephemeral
    assert f"Your daily budget in this server (from the role {mention(broke)}) is $0" in refusal.text
    assert "$0 spent today" in refusal.text
    assert (await click(harness, result, "describe", actor=member)).last.ephemeral, "not even a description"
    assert len(harness.openrouter.chat_requests()) == 1


async def test_images_and_usd_are_independent(harness: BotHarness) -> None:
    counted, spender = add_role(harness, "Counted"), add_role(harness, "Spender")
    await budget(harness, member_daily_images=1, member_daily_usd=0.006)
    await quota(harness, counted, images_per_day="5")  # images only: USD stays the default
    await quota(harness, spender, usd_per_day="unlimited")  # USD only: images stay the default

    images_only = member_with(counted, name="counted")
    await made(harness, images_only, 1)
    refusal = (await imagine(harness, "second", actor=images_only)).last
    assert "Your daily budget in this server is $0.006" in refusal.text, "the member default's USD limit"
    assert f"${COST} spent today" in refusal.text and "from the role" not in refusal.text

    usd_only = member_with(spender, name="spender")
    await made(harness, usd_only, 1)
    refusal = (await imagine(harness, "second", actor=usd_only)).last
    assert "Your daily limit in this server is 1 image, and you made 1 today" in refusal.text

    await made(harness, member_with(counted, spender, name="both"), 3)  # 5 images, unlimited USD


async def test_a_usd_quota_refuses_with_the_role_the_amount_and_the_reset(harness: BotHarness) -> None:
    assert harness.bot is not None
    harness.bot.jobs.clock = Clock(at("2026-11-24 15:00:00"))
    saver = add_role(harness, "Saver")
    await budget(harness, member_daily_usd=1.0)
    await quota(harness, saver, usd_per_day="$0.006")
    member = member_with(saver)
    await made(harness, member, 1)
    refusal = (await imagine(harness, "second", actor=member)).last
    assert f"Your daily budget in this server (from the role {mention(saver)}) is $0.006" in refusal.text
    assert f"${COST} spent today" in refusal.text and "would go over" in refusal.text
    assert midnight("2026-11-25 00:00:00") in refusal.text


async def test_the_server_budget_still_binds_an_unlimited_role(harness: BotHarness) -> None:
    vip = add_role(harness, "VIP")
    await quota(harness, vip, images_per_day="unlimited", usd_per_day="unlimited")
    await budget(harness, guild_daily_usd=0.005)
    member = member_with(vip)
    await made(harness, member, 1)
    refusal = (await imagine(harness, "second", actor=member)).last
    assert "This server's daily budget" in refusal.text


async def test_quotas_roll_over_at_midnight_utc(harness: BotHarness) -> None:
    assert harness.bot is not None
    clock = Clock(at("2026-11-24 23:59:50"))
    harness.bot.jobs.clock = clock
    limited = add_role(harness, "Limited")
    await quota(harness, limited, images_per_day="1")
    member = member_with(limited)
    await made(harness, member, 1)
    assert (await imagine(harness, "one more", actor=member)).last.ephemeral
    clock.now = at("2026-11-25 00:00:01")
    await made(harness, member, 1)


# -- reservations -------------------------------------------------------------------------------------------------


@pytest.fixture
async def busy_harness(database_path: Path, fake_discord: FakeDiscord,
                       fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    """One member may run many jobs at once, so only the quota's reservations stand between them."""
    async with started(database_path, fake_discord, fake_openrouter, max_jobs_per_member=0) as kit:
        yield kit


async def test_concurrent_jobs_overshoot_a_usd_quota_by_at_most_one_estimate(busy_harness: BotHarness) -> None:
    harness = busy_harness
    assert harness.bot is not None and harness.bot.jobs.budgets is not None
    saver = add_role(harness, "Saver")
    limit = 0.012  # about three jobs
    await quota(harness, saver, usd_per_day=str(limit))
    member = member_with(saver)
    await made(harness, member, 1)  # the model's last cost is now the estimate: $0.0039 a job

    harness.openrouter.latency_s = 0.3  # every admitted job is still running when the others arrive
    conversations = await asyncio.gather(*(imagine(harness, f"job {n}", actor=member) for n in range(6)))
    delivered = [c for c in conversations if not c.last.ephemeral]
    refused = [c for c in conversations if c.last.ephemeral]
    assert len(delivered) == 2 and len(refused) == 4, "$0.0039 spent plus two held estimates fill $0.012"
    assert all(f"(from the role {mention(saver)})" in c.last.text for c in refused)
    assert any("held by jobs running now" in c.last.text for c in refused), "the reservations were counted"
    spent = await harness.bot.store.usage.spend(harness.payloads.guild_id, since=harness.bot.jobs.clock().date(),
                                                member_id=member.user_id)
    assert spent.cost <= limit + COST
    assert harness.bot.jobs.budgets.held(harness.payloads.guild_id, member.user_id).empty, "all given back"


async def test_concurrent_jobs_never_pass_an_image_quota(busy_harness: BotHarness) -> None:
    harness = busy_harness
    assert harness.bot is not None
    limited = add_role(harness, "Limited")
    await quota(harness, limited, images_per_day="2")
    member = member_with(limited)
    harness.openrouter.latency_s = 0.3
    conversations = await asyncio.gather(*(imagine(harness, f"job {n}", actor=member) for n in range(5)))
    assert sum(1 for c in conversations if not c.last.ephemeral) == 2
    refused = [c.last.text for c in conversations if c.last.ephemeral]
    assert len(refused) == 3 and all("on the way" in text or "you made 2" in text for text in refused)
    assert len(harness.openrouter.chat_requests()) == 2


# -- /usage -------------------------------------------------------------------------------------------------------


async def test_usage_shows_what_is_left_and_which_role_gives_it(harness: BotHarness) -> None:
    patron, saver, vip = add_role(harness, "Patron"), add_role(harness, "Saver"), add_role(harness, "VIP")
    await budget(harness, member_daily_images=2, member_daily_usd=0.5)
    await quota(harness, patron, images_per_day="5")
    await quota(harness, saver, usd_per_day="0.25")
    member = member_with(patron, saver)
    await made(harness, member, 2)

    limits = usage_limits((await harness.run(harness.payloads.slash("usage", actor=member))).last)
    assert f"Your images: **3 of 5 images left** today (from the role {mention(patron)})" in limits
    assert f"Your spend: **$0.2422 of $0.25 left** today (from the role {mention(saver)})" in limits
    assert "Reset <t:" in limits

    plain = Actor("plain")
    await made(harness, plain, 1)
    limits = usage_limits((await harness.run(harness.payloads.slash("usage", actor=plain))).last)
    assert "Your images: **1 of 2 images left** today (the server's limit for each member)" in limits
    assert "Your spend: **$0.4961 of $0.5 left** today (the server's limit for each member)" in limits

    await quota(harness, vip, images_per_day="unlimited")
    limits = usage_limits((await harness.run(harness.payloads.slash("usage", actor=member_with(vip)))).last)
    assert f"Your images: **unlimited** (from the role {mention(vip)})" in limits


async def test_admins_see_every_role_quota_in_usage(harness: BotHarness) -> None:
    patron, muted = add_role(harness, "Patron"), add_role(harness, "Muted")
    await quota(harness, patron, images_per_day="5", usd_per_day="unlimited")
    await quota(harness, muted, images_per_day="0")
    reply = (await harness.run(harness.payloads.slash("usage", actor=harness.payloads.admin))).last
    fields = {field["name"]: field["value"] for field in reply.embeds[0]["fields"]}
    lines = fields["Role quotas"].splitlines()
    assert lines[0] == f"{mention(muted)}: **0 images** per day", "the highest role first"
    assert lines[1] == f"{mention(patron)}: **5 images** and **unlimited** USD per day"
    assert "member default, no image limit and no USD limit" in lines[2]


# -- /config quota ------------------------------------------------------------------------------------------------


async def test_quota_shows_sets_and_clears_each_dimension(harness: BotHarness) -> None:
    assert harness.bot is not None
    patron = add_role(harness, "Patron")
    shown = await quota(harness, patron)
    assert "Images per day: not set" in shown.text and "USD per day: not set" in shown.text

    changed = await quota(harness, patron, images_per_day="12", usd_per_day="1.5")
    assert changed.embeds[0]["title"] == "Role quota updated"
    assert "Images per day: **12 images**" in changed.text and "USD per day: **$1.50**" in changed.text
    assert "most generous" in changed.text and "00:00 UTC" in changed.text
    store = harness.bot.store.quotas
    assert await store.role(harness.payloads.guild_id, int(patron["id"])) == RoleQuota(int(patron["id"]), 12, 1.5)

    cleared = await quota(harness, patron, images_per_day="clear")
    assert "Images per day: not set" in cleared.text and "USD per day: **$1.50**" in cleared.text
    await quota(harness, patron, usd_per_day="CLEAR")
    store.forget_cache()
    assert await store.get(harness.payloads.guild_id) == {}, "a role with neither dimension has no quota"

    await quota(harness, patron, images_per_day="unlimited")
    await harness.restart()
    assert harness.bot is not None
    again = await quota(harness, patron)
    assert "Images per day: **unlimited**" in again.text, "quotas outlive a restart"


async def test_quota_without_a_role_lists_every_quota(harness: BotHarness) -> None:
    assert "No role has a quota" in (await quota(harness)).text
    patron = add_role(harness, "Patron")
    await budget(harness, member_daily_images=4)
    await quota(harness, patron, usd_per_day="2")
    listing = await quota(harness)
    assert listing.embeds[0]["title"] == "Role quotas"
    assert f"{mention(patron)}: **$2.00** per day" in listing.text
    assert "the member default, 4 images and no USD limit" in listing.text
    refusal = await quota(harness, images_per_day="3")
    assert "Pick the `role`" in refusal.text


@pytest.mark.parametrize(("option", "typed", "says"), [
    ("images_per_day", "-1", "between 0 and"),
    ("images_per_day", "2.5", "a whole number of images"),
    ("images_per_day", "lots", "a whole number of images"),
    ("images_per_day", "none", "could mean either"),
    ("usd_per_day", "nan", "between $0 and"),
    ("usd_per_day", "inf", "between $0 and"),
    ("usd_per_day", "1000000", "between $0 and"),
    ("usd_per_day", "five", "an amount in USD"),
])
async def test_invalid_quota_values_are_refused_and_change_nothing(
    harness: BotHarness, option: str, typed: str, says: str
) -> None:
    assert harness.bot is not None
    patron = add_role(harness, "Patron")
    await quota(harness, patron, images_per_day="3")
    reply = await quota(harness, patron, **{option: typed, "usd_per_day" if option == "images_per_day"
                                            else "images_per_day": "7"})
    assert reply.embeds[0]["title"] == "Invalid quota" and says in reply.text and "Nothing was changed" in reply.text
    assert await harness.bot.store.quotas.role(harness.payloads.guild_id, int(patron["id"])) == RoleQuota(
        int(patron["id"]), 3), "not even the other, valid option was saved"


async def test_quota_values_are_suggested_while_typing(harness: BotHarness) -> None:
    patron = add_role(harness, "Patron")
    payload = harness.payloads.autocomplete("config quota", focused="usd_per_day", actor=harness.payloads.admin,
                                            role=patron, usd_per_day="0.5")
    choices = (await harness.run(payload)).autocomplete_choices
    assert choices is not None and choices[0] == {"name": "$0.5 per day", "value": "0.5"}
    payload = harness.payloads.autocomplete("config quota", focused="images_per_day", actor=harness.payloads.admin,
                                            role=patron, images_per_day="un")
    choices = (await harness.run(payload)).autocomplete_choices
    assert choices == [{"name": "unlimited", "value": "unlimited"}]


async def test_only_managers_can_see_or_set_quotas(harness: BotHarness) -> None:
    assert harness.bot is not None
    patron = add_role(harness, "Patron")
    member = member_with(patron)
    for values in ({"images_per_day": "unlimited"}, {}):
        reply = await quota(harness, patron, actor=member, **values)
        assert "Manage Server" in reply.text and "Quota of" not in reply.text
    assert "Manage Server" in (await quota(harness, actor=member)).text
    assert await harness.bot.store.quotas.get(harness.payloads.guild_id) == {}


async def test_quota_changes_go_to_the_configuration_history(harness: BotHarness) -> None:
    assert harness.bot is not None
    patron = add_role(harness, "Patron")
    await quota(harness, patron, images_per_day="5")
    await quota(harness, patron, images_per_day="0", usd_per_day="unlimited")
    await quota(harness, patron, images_per_day="0")  # no change, no row
    await quota(harness, patron, images_per_day="clear", usd_per_day="clear")
    entries = await harness.bot.store.config_history.recent(harness.payloads.guild_id)
    rows = [(e.setting, e.old_value, e.new_value) for e in reversed(entries)]
    assert rows == [
        (f"images per day for {mention(patron)}", None, "5 images"),
        (f"images per day for {mention(patron)}", "5 images", "0 images"),
        (f"USD per day for {mention(patron)}", None, "unlimited"),
        (f"images per day for {mention(patron)}", "0 images", None),
        (f"USD per day for {mention(patron)}", "unlimited", None),
    ]
    admin = harness.payloads.admin
    assert {(e.user_id, e.operation) for e in entries} == {(admin.user_id, "server")}


async def test_a_deleted_roles_quota_is_removed_and_recorded(harness: BotHarness) -> None:
    assert harness.bot is not None
    patron, kept = add_role(harness, "Patron"), add_role(harness, "Kept")
    await quota(harness, patron, images_per_day="5")
    await quota(harness, kept, images_per_day="2")
    before = asyncio.all_tasks()
    harness.bot._connection.parse_guild_role_delete(harness.payloads.role_delete_event(patron))  # type: ignore[arg-type]
    await asyncio.gather(*(asyncio.all_tasks() - before))  # the listener's task
    quotas = await harness.bot.store.quotas.get(harness.payloads.guild_id)
    assert set(quotas) == {int(kept["id"])}
    (latest, *_older) = await harness.bot.store.config_history.recent(harness.payloads.guild_id)
    assert (latest.setting, latest.old_value, latest.new_value, latest.user_name) == (
        f"images per day for {mention(patron)}", "5 images", None, "role deleted")


async def test_quota_joins_the_real_config_group_and_its_history(
        database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter) -> None:
    kit = BotHarness(make_settings(database_path, fake_discord, fake_openrouter), fake_discord, fake_openrouter)
    await kit.start()
    try:
        patron = add_role(kit, "Patron")
        assert "Missing permission" in (await quota(kit, patron, actor=Actor("nobody"), images_per_day="9")).text
        assert "**3 images**" in (await quota(kit, patron, images_per_day="3")).text
        history = (await kit.run(kit.payloads.slash("config history", actor=kit.payloads.admin))).last
        assert f"images per day for {mention(patron)}: *default* → `3 images`" in history.text
    finally:
        await kit.stop()


# -- storage ------------------------------------------------------------------------------------------------------


async def test_the_quota_cache_never_holds_a_change_that_rolled_back(harness: BotHarness) -> None:
    assert harness.bot is not None
    quotas = harness.bot.store.quotas
    guild = harness.payloads.guild_id
    quotas.forget_cache()
    seen: list[Any] = []

    async def record_then_fail(connection: Any, old: Any, new: Any) -> None:
        seen.append(await quotas.get(guild))  # another coroutine reads while the change is uncommitted
        raise RuntimeError("history write failed")

    with pytest.raises(RuntimeError):
        await quotas.update(guild, 42, images_per_day=UNLIMITED, record=record_then_fail)
    assert seen == [{}], "the read saw only committed data"
    assert await quotas.get(guild) == {}, "and nothing uncommitted was cached"


async def test_a_cache_fill_that_raced_a_change_is_not_kept(harness: BotHarness) -> None:
    assert harness.bot is not None
    quotas = harness.bot.store.quotas
    guild = harness.payloads.guild_id
    quotas.forget_cache()
    database = harness.bot.store.database
    original = database.fetch_all_committed
    read, changed = asyncio.Event(), asyncio.Event()

    async def slow_read(sql: str, parameters: tuple[object, ...] = ()) -> Any:
        rows = await original(sql, parameters)  # read before the change commits...
        read.set()
        await changed.wait()  # ...and handed back after it did
        return rows

    database.fetch_all_committed = slow_read  # type: ignore[method-assign]
    try:
        reading = asyncio.create_task(quotas.get(guild))
        await read.wait()
        await quotas.update(guild, 7, images_per_day=3)
        changed.set()
        assert await reading == {}, "the racing read returns what it read"
    finally:
        database.fetch_all_committed = original  # type: ignore[method-assign]
    assert await quotas.get(guild) == {7: RoleQuota(7, 3)}, "but the newer committed value stays cached"


async def test_the_table_refuses_what_no_quota_can_be(harness: BotHarness) -> None:
    assert harness.bot is not None
    insert = "INSERT INTO guild_role_quotas (guild_id, role_id, images_per_day, usd_per_day) VALUES (1, 2, ?, ?)"
    for images, amount in ((-1, None), ("lots", None), (None, -0.5), (None, "free"), (None, None)):
        with pytest.raises(Exception, match="CHECK constraint failed"):
            async with harness.bot.store.database.transaction() as connection:
                await connection.execute(insert, (images, amount))


async def test_config_show_lists_the_role_quotas(
    database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    kit = BotHarness(make_settings(database_path, fake_discord, fake_openrouter), fake_discord, fake_openrouter)
    await kit.start()
    try:
        patron = add_role(kit, "Patron")
        await quota(kit, patron, images_per_day="5", usd_per_day="unlimited")
        shown = (await kit.run(kit.payloads.slash("config show", actor=kit.payloads.admin))).last
        fields = {field["name"]: field["value"] for field in shown.embeds[0]["fields"]}
        assert "Role quotas (per UTC day)" in fields
        assert mention(patron) in fields["Role quotas (per UTC day)"]
        assert "5 images" in fields["Role quotas (per UTC day)"]
    finally:
        await kit.stop()
