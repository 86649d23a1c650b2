"""`/config history`: the last 20 changes, with who, when, what, old and new value, kept across restarts."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.kit.conversation import Reply
from tests.kit.harness import BotHarness
from tests.kit.payloads import ADMIN_PERMISSIONS, Actor


async def admin(harness: BotHarness, path: str, actor: Actor | None = None, **values: object) -> Reply:
    reply = (await harness.run(harness.payloads.slash(path, actor=actor or harness.payloads.admin, **values))).last
    assert reply.ephemeral
    return reply


def lines(reply: Reply) -> list[str]:
    return reply.embeds[0]["description"].splitlines()


async def test_history_starts_empty(harness: BotHarness) -> None:
    reply = await admin(harness, "config history")
    assert "No changes yet" in reply.text


async def test_each_change_records_who_when_what_old_and_new(harness: BotHarness) -> None:
    assert harness.bot is not None
    await harness.bot.catalog.wait_until_loaded()
    other = Actor("otheradmin", permissions=ADMIN_PERMISSIONS)
    before = datetime.now(UTC)
    await admin(harness, "config model", operation="imagine", model="openai/gpt-5-image")
    await admin(harness, "config providers", actor=other, operation="edit", only="openai", ignore="together")
    await admin(harness, "config disable", operation="describe")
    await admin(harness, "config max-references", value=3)

    shown = lines(await admin(harness, "config history"))
    assert len(shown) == 5, "one line per changed setting"
    newest, *_rest, oldest = shown
    assert "**Edit** max references: *default* → `3`" in newest
    assert "**Describe** enabled: `on` → `off`" in shown[1]
    assert f"<@{other.user_id}> (Otheradmin)" in shown[2] and "**Edit** ignored providers: *default* → `together`" \
        in shown[2]
    assert "**Edit** only providers: *default* → `openai`" in shown[3]
    admin_id = harness.payloads.admin.user_id
    assert f"<@{admin_id}> (Admin)" in oldest and "**Imagine** model: *default* → `openai/gpt-5-image`" in oldest
    stamp = int(re.search(r"<t:(\d+):f>", oldest).group(1))  # type: ignore[union-attr]
    assert before.timestamp() - 2 <= stamp <= datetime.now(UTC).timestamp() + 2


async def test_only_the_last_20_changes_are_shown_newest_first(harness: BotHarness) -> None:
    for number in range(23):
        await admin(harness, "config model", operation="imagine", model=f"acme/model-{number}")
    reply = await admin(harness, "config history")
    shown = lines(reply)
    assert len(shown) == 20
    assert "`acme/model-21` → `acme/model-22`" in shown[0]
    assert "`acme/model-2` → `acme/model-3`" in shown[-1]
    assert "20" in reply.embeds[0]["footer"]["text"]
    assert len(reply.embeds[0]["description"]) <= 4096


async def test_long_values_still_fit_in_one_embed(harness: BotHarness) -> None:
    long_name = Actor("x" * 32, permissions=ADMIN_PERMISSIONS)
    for number in range(20):
        await admin(harness, "config model", actor=long_name, operation="edit", model=f"acme/{number:02d}" + "m" * 190)
    reply = await admin(harness, "config history")
    description = reply.embeds[0]["description"]
    assert len(description) <= 4096
    assert description.splitlines()[-1].startswith("…") and "older changes not shown" in description


async def test_resets_are_recorded_with_what_was_lost(harness: BotHarness) -> None:
    await admin(harness, "config model", operation="imagine", model="acme/one")
    await admin(harness, "config disable", operation="imagine")
    await admin(harness, "config reset", operation="all")
    newest = lines(await admin(harness, "config history"))[0]
    assert "**Imagine** reset to defaults (was `model acme/one; enabled off`)" in newest


async def test_history_survives_a_restart(harness: BotHarness) -> None:
    await admin(harness, "config disable", operation="edit")
    await harness.restart()
    shown = lines(await admin(harness, "config history"))
    assert len(shown) == 1 and "**Edit** enabled: `on` → `off`" in shown[0]


async def test_names_cannot_break_the_formatting(harness: BotHarness) -> None:
    sneaky = Actor("**loud**_admin", permissions=ADMIN_PERMISSIONS)
    await admin(harness, "config disable", actor=sneaky, operation="edit")
    (line,) = lines(await admin(harness, "config history"))
    assert "(\\*\\*Loud\\*\\*\\_Admin)" in line
