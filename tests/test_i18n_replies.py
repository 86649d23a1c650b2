"""The same commands, driven with payloads in each shipped locale: replies come back in the member's language.

Two kinds of check. With a pseudo-translation of German installed (every text of the template wrapped
in «...»), any English text that reaches a member without passing through the catalogs shows up
outside the marks: that finds leaks whatever the translators wrote. With the real catalogs, a few
phrases per locale must appear, and no English text that the catalog translates may be left in the
reply. Besides: an unknown locale reads English, a related one its language's catalog, a post in the
channel the server's language, and the logs stay English.
"""

from __future__ import annotations

import asyncio
import gettext
import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

import bot.i18n
from bot.i18n import SHIPPED, using
from bot.i18n.check import template
from bot.messages import Msg, commands, history, results, status, ui
from bot.messages import usage as usage_texts
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Reply
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings
from tests.kit.payloads import Actor

LOCALES = sorted(SHIPPED)


def _fragments(msgid: str) -> list[str]:
    """The literal pieces of an English template long enough that finding one in a reply means a leak."""
    return [piece.strip() for piece in re.split(r"\{[^{}]*\}", msgid) if len(piece.strip()) >= 12 and " " in piece]


def _english_texts() -> list[str]:
    """Every text of the template (not the command names: those Discord shows, not the replies)."""
    texts = []
    for message in template():
        if message.id and message.context is None:
            texts += list(message.id) if isinstance(message.id, tuple) else [message.id]
    return texts


ENGLISH = _english_texts()


def _leaks(text: str, locale: str | None = None) -> list[str]:
    """English fragments in `text` that the locale's catalog translates (all of them for the pseudo-locale)."""
    found = []
    for msgid in ENGLISH:
        translation = ""
        if locale is not None:
            with using(locale):
                translation = bot.i18n.gettext(msgid)
            if translation == msgid:
                continue  # not translated, or the same word in this language
        # A piece the translation itself keeps ("· **Images**" in French) is not a leak.
        found += [fragment for fragment in _fragments(msgid) if fragment in text and fragment not in translation]
    return sorted(set(found))


# -- a pseudo-translation, to find texts that bypass the catalogs ---------------------------------


def _pseudo_catalog() -> gettext.GNUTranslations:
    catalog = Catalog(locale="de")
    for message in template():
        if not message.id or message.context in ("command_name", "group_name", "parameter_name"):
            continue
        if isinstance(message.id, tuple):
            catalog.add(message.id, tuple(f"«{message.id[-1]}»" for _ in range(catalog.num_plurals)))
        else:
            catalog.add(message.id, f"«{message.id}»", context=message.context)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@pytest.fixture
def pseudo_german(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    pseudo, real = _pseudo_catalog(), bot.i18n.catalog
    monkeypatch.setattr(bot.i18n, "catalog", lambda locale: pseudo if locale == "de" else real(locale))
    yield


def _outside_marks(text: str) -> str:
    """`text` without what the pseudo-translation marked (innermost first: translated values nest)."""
    while True:
        stripped = re.sub(r"«[^«»]*»", " ", text)
        if stripped == text:
            return text
        text = stripped


async def _ready(harness: BotHarness) -> None:
    assert harness.bot is not None
    await harness.bot.catalog.wait_until_loaded()


async def _replies(harness: BotHarness, admin: bool = False) -> dict[str, Reply]:
    """The member-facing answers of the commands most members and admins use, as one locale's member."""
    payloads = harness.payloads
    actor = payloads.admin if admin else payloads.member
    replies: dict[str, Reply] = {}

    async def run(name: str, path: str, **values: Any) -> Reply:
        replies[name] = (await harness.run(payloads.slash(path, actor=actor, **values))).last
        return replies[name]

    await run("imagine", "imagine", prompt="a lighthouse at dusk")
    await run("status", "status")
    await run("jobs", "jobs")
    await run("usage", "usage")
    await run("show missing", "show", job="999999")
    if admin:
        await run("config show", "config show")
        await run("config model", "config model", operation="imagine", model="acme/not-listed")
        await run("config channels", "config channels list")
        await run("config budget", "config budget", member_daily_images=5)
        await run("config history", "config history")
        await run("config quota", "config quota")
        await run("disabled", "config disable", operation="describe")
    return replies


@pytest.mark.parametrize("admin", [False, True], ids=["member", "admin"])
async def test_no_english_text_bypasses_the_catalogs(harness: BotHarness, pseudo_german: None, admin: bool) -> None:
    await _ready(harness)
    with harness.payloads.speaking("de", guild_locale="de"):
        replies = await _replies(harness, admin=admin)
    for name, reply in replies.items():
        outside = _outside_marks(reply.text)
        assert not _leaks(outside), f"{name}: English outside the catalogs: {_leaks(outside)}\n{reply.text}"
        assert "«" in reply.text, f"{name} was not translated at all"
        for embed in reply.embeds:
            names = [embed.get("title", "«"), (embed.get("footer") or {}).get("text", "«")]
            names += [item["name"] for item in embed.get("fields", []) if not item["name"].startswith("/")]
            assert all("«" in name for name in names), f"{name}: a title, field name or footer bypasses: {names}"
    labels = [component.get("label") for row in replies["imagine"].components for component in row["components"]]
    assert labels and all(label.startswith("«") for label in labels), labels


# -- the real catalogs ----------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
async def test_replies_come_in_the_members_language(harness: BotHarness, locale: str) -> None:
    await _ready(harness)
    with harness.payloads.speaking(locale):
        replies = await _replies(harness)
    phrases = {
        "imagine": [ui.FIELD_MODEL, ui.FIELD_COST, ui.FIELD_TIME, ui.REROLL_BUTTON, ui.DELETE_BUTTON],
        "status": [status.TITLE, status.ALL_READY, status.KEY_FIELD, status.READY],
        "jobs": [history.JOBS_TITLE_OWN, history.STATUS_DONE],
        "usage": [usage_texts.MEMBER_TITLE, usage_texts.TODAY, usage_texts.THIS_MONTH],
        "show missing": [Msg(results.JOB_NOT_FOUND.title)],
    }
    for name, texts in phrases.items():
        reply = replies[name]
        shown = reply.text + "\n".join(
            str(component.get("label", "")) for row in reply.components for component in row.get("components", [])
        )
        with using(locale):
            translated = [text.text for text in texts]
        assert any(phrase != text.source for phrase, text in zip(translated, texts, strict=True)), (
            f"{locale} {name}: none of {translated} is translated"
        )
        for phrase in translated:
            assert phrase in shown, f"{locale} {name}: {phrase!r} not in\n{shown}"
        assert not _leaks(reply.text, locale), f"{locale} {name}: English left: {_leaks(reply.text, locale)}"


async def test_an_unknown_locale_reads_english_and_a_related_one_its_languages_catalog(harness: BotHarness) -> None:
    await _ready(harness)
    with harness.payloads.speaking("ko"):
        reply = (await harness.run(harness.payloads.slash("status"))).last
    assert "Every image command is ready." in reply.text
    with harness.payloads.speaking("es-419"):
        spanish = (await harness.run(harness.payloads.slash("status"))).last
    with using("es-ES"):
        assert status.ALL_READY.text in spanish.text


async def test_a_post_in_the_channel_speaks_the_servers_language(harness: BotHarness) -> None:
    """A result whose token expired is posted in the channel: its line is the server's, not the member's."""
    await _ready(harness)
    with harness.payloads.speaking("ja", guild_locale="de"):
        payload = harness.payloads.slash("imagine", prompt="a slow painting")
    harness.discord.expired_tokens.add(payload["token"])
    await harness.run(payload)
    (posted,) = harness.discord.matching("POST", f"/channels/{harness.payloads.channel_id}/messages")
    mention = f"<@{harness.payloads.member.user_id}>"
    with using("de"):
        assert posted.json["content"] == commands.LATE_REPLY.format(mention=mention)
    with using("ja"):
        assert posted.json["content"] != commands.LATE_REPLY.format(mention=mention)


async def test_logs_stay_english(harness: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    await _ready(harness)
    caplog.set_level(logging.INFO)
    with harness.payloads.speaking("fr"):
        reply = (await harness.run(harness.payloads.slash("show", job="999999"))).last
    english = "There is no job #999999 in this server."
    assert english not in reply.text
    assert any(english in record.getMessage() for record in caplog.records), "the refusal is logged in English"


async def test_queue_positions_speak_the_waiting_members_language(
    database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter, pseudo_german: None
) -> None:
    """A waiting job's new position is announced by whichever job freed the slot, yet in its own member's language."""
    settings = make_settings(database_path, fake_discord, fake_openrouter, max_concurrent_jobs=1,
                             max_jobs_per_member=0)
    harness = BotHarness(settings, fake_discord, fake_openrouter)
    await harness.start()
    assert harness.bot is not None
    harness.bot.jobs.progress_interval_s = 0.0
    try:
        fake_openrouter.hold = asyncio.Event()
        english, german = Actor("english", locale="en-US"), Actor("german", locale="de")
        payloads = [harness.payloads.slash("imagine", english, prompt="first"),
                    harness.payloads.slash("imagine", english, prompt="second"),
                    harness.payloads.slash("imagine", german, prompt="third")]
        tasks = harness.dispatch(*payloads)
        await fake_discord.wait_for(lambda: len(_queue_lines(harness.conversation(payloads[2]))) == 1)
        fake_openrouter.hold.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        german_lines = _queue_lines(harness.conversation(payloads[2]))
        assert len(german_lines) >= 2 and all(line.startswith("«Queued: position") for line in german_lines)
        assert all(line.startswith("Queued: position") for line in _queue_lines(harness.conversation(payloads[1])))
    finally:
        await harness.stop()


def _queue_lines(conversation: Any) -> list[str]:
    return [
        request.json["content"] for request in conversation.requests
        if request.method == "PATCH" and isinstance(request.json, dict)
        and "Queued" in (request.json.get("content") or "")
    ]


async def test_buttons_and_forms_speak_the_clicking_members_language(harness: BotHarness, pseudo_german: None) -> None:
    """Clicks and form submissions do not pass the command tree: they set the member's language themselves."""
    from tests.test_jobs_kit import click, imagine, result_message

    with harness.payloads.speaking("de"):
        reply = (await imagine(harness)).last
        message = await result_message(harness, reply)
        rerolled = (await click(harness, reply, "reroll", message=message)).last
        described = (await click(harness, reply, "describe", message=message)).last
        refused = (await click(harness, reply, "delete", actor=Actor("bystander"), message=message)).last
        opened = await click(harness, reply, "edit", message=message)
        assert opened.modal is not None
        edited = (await harness.run(harness.payloads.modal_submit(
            opened.modal["custom_id"], {"prompt": "paint it red"}, message=message))).last
    assert rerolled.embeds[0]["title"] == "«Re-roll»" and edited.embeds[0]["title"] == "«Edit»"
    assert described.embeds[0]["title"] == "«Describe»"
    assert refused.ephemeral and refused.embeds[0]["title"].startswith("«")
    assert refused.embeds[0]["description"].startswith("«Only the member who asked")
    assert opened.modal["title"] == "«Edit this image»"
    (text_input,) = [item for row in opened.modal["components"] for item in row["components"]]
    assert text_input["label"] == "«What should change?»" and text_input["placeholder"].startswith("«")
    for shown in (rerolled, described, edited, refused):
        assert not _leaks(_outside_marks(shown.text)), shown.text


async def test_the_cancel_button_and_its_answers_speak_the_clicking_members_language(
    database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter, pseudo_german: None
) -> None:
    settings = make_settings(database_path, fake_discord, fake_openrouter, max_concurrent_jobs=1,
                             max_jobs_per_member=0)
    harness = BotHarness(settings, fake_discord, fake_openrouter)
    bot = await harness.start()
    bot.jobs.progress_interval_s = 0
    try:
        fake_openrouter.hold = asyncio.Event()
        with harness.payloads.speaking("de"):
            running = harness.payloads.slash("imagine", prompt="first")
            waiting = harness.payloads.slash("imagine", prompt="second")
            tasks = harness.dispatch(running, waiting)

            def cancel_shown() -> bool:
                original = harness.conversation(waiting).original
                return original is not None and any(item.startswith("job:cancel:") for item in original.custom_ids)

            await fake_discord.wait_for(cancel_shown)
            progress = harness.conversation(waiting).original
            assert progress is not None
            (cancel_id,) = [item for item in progress.custom_ids if item.startswith("job:cancel:")]
            labels = [item.get("label") for row in progress.components for item in row["components"]]
            message = harness.payloads.message(content=progress.content, components=progress.components)
            message["author"] = harness.discord.bot_user()
            answer = (await harness.run(harness.payloads.component(cancel_id, message))).last
        fake_openrouter.hold.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
        assert progress.content.startswith("«Queued: position 1")
        assert labels == ["«Cancel»"]
        assert answer.ephemeral and answer.embeds[0]["title"] == "«Cancelled»", answer.text
        assert answer.embeds[0]["description"].startswith("«Job #"), answer.text
        summary = harness.conversation(waiting).original
        assert summary is not None and summary.content.startswith("«🚫 Cancelled by"), summary.content
    finally:
        fake_openrouter.hold.set()
        await bot.jobs.drain(5)
        await harness.stop()


async def test_a_grid_and_its_buttons_speak_the_members_language(harness: BotHarness, pseudo_german: None) -> None:
    """A result of several images (Components V2: text displays, per-image buttons) bypasses no catalog."""
    from tests.test_jobs_kit import imagine

    with harness.payloads.speaking("de"):
        grid = (await imagine(harness, "four foxes in snow", count=4, seed=77)).last
    assert grid.components_v2
    outside = _outside_marks(grid.text)
    assert not _leaks(outside), f"English outside the catalogs: {_leaks(outside)}\n{grid.text}"
    for word in ("Model", "Cost", "Seed", "Requested by"):
        assert word not in outside, f"{word!r} bypasses the catalogs:\n{grid.text}"
    assert grid.labels and all(label.startswith("«") for label in grid.labels.values()), grid.labels
    assert all(item["description"].startswith("«Image") for item in grid.gallery), "alt texts are translated"


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_grid_comes_in_the_members_language(harness: BotHarness, locale: str) -> None:
    from bot.messages import grid as grid_texts
    from tests.test_jobs_kit import imagine

    with harness.payloads.speaking(locale):
        grid = (await imagine(harness, "two foxes", count=2, seed=5)).last
    with using(locale):
        edit_one, image_one = grid_texts.BUTTON_EDIT.format(number=1), grid_texts.ALT_TEXT.format(number=1, prompt="")
        requested = grid_texts.GRID_REQUESTED_BY.format(name="")
    assert edit_one in grid.labels.values() and edit_one != "Edit 1", grid.labels
    assert grid.gallery[0]["description"].startswith(image_one.strip())
    assert requested.strip() in grid.text
    assert not _leaks(grid.text, locale), f"{locale}: English left: {_leaks(grid.text, locale)}"


async def test_commands_named_in_a_translated_text_are_mentions_the_client_shows_in_its_language(
    harness: BotHarness,
) -> None:
    """`/imagine` in backticks would not match the German command list; a mention shows the German name."""
    (synced,) = harness.discord.matching("PUT", "/commands")
    assert synced.json, "the harness synced the commands at start"
    with harness.payloads.speaking("de"):
        german = (await harness.run(harness.payloads.slash("jobs"))).last
    with harness.payloads.speaking("en-US"):
        english = (await harness.run(harness.payloads.slash("jobs"))).last
    assert re.search(r"</imagine:\d+>", german.text) and "`/imagine`" not in german.text, german.text
    assert "`/imagine`" in english.text and "</imagine:" not in english.text


@pytest.mark.parametrize(("locale", "written"), [
    ("en-US", "`1`, `2`, and `3`"), ("de", "`1`, `2` und `3`"), ("fr", "`1`, `2` et `3`"),
    ("es-ES", "`1`, `2` y `3`"), ("pt-BR", "`1`, `2` e `3`"), ("ja", "`1`、`2`、`3`"),
])
def test_lists_are_written_as_the_members_language_writes_them(locale: str, written: str) -> None:
    from bot.i18n import listing, using

    with using(locale):
        assert listing(["`1`", "`2`", "`3`"]) == written
        assert listing(["`1`"]) == "`1`" and listing([]) == ""
