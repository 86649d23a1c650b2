"""No URL can make the bot call into its own network: embeds, attachments and model answers, end to end.

A second stand-in server on 127.0.0.1, on a port nobody configured, plays an internal service (the cloud
metadata endpoint, an admin page): every test checks that it received nothing. The stand-in Discord and
OpenRouter are on 127.0.0.1 too and *are* trusted, by their exact origin, which is what lets these tests
tell "trusted by origin" from "trusted by host name".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.fetcher import GuardedFetcher, StaticResolver, origin_of
from bot.openrouter import ImageResult
from tests.fake_openrouter import FakeOpenRouter, _data_url, render_png
from tests.kit.harness import BotHarness

SECRET_PNG = render_png(16, 16, (1, 2, 3))


@pytest.fixture
async def internal() -> AsyncIterator[FakeOpenRouter]:
    """A service inside the bot's network that must never be called (it would hand out `SECRET_PNG`)."""
    async with FakeOpenRouter() as server:
        server.add_file("latest-meta-data.png", SECRET_PNG)
        yield server


def _internal_url(server: FakeOpenRouter, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{server.root_url.rsplit(':', 1)[1]}/files/latest-meta-data.png"


def _embed(url: str) -> dict[str, Any]:
    """A link-preview embed with no `proxy_url`: the bot would fetch the raw `url` itself."""
    return {"type": "image", "url": url, "thumbnail": {"url": url, "width": 16, "height": 16}}


def _assert_refused(reply_text: str) -> None:
    assert "it points into a private network" in reply_text
    assert "Upload the image as an attachment instead." in reply_text


# -- embeds ---------------------------------------------------------------------------------------

#: 127.0.0.1 written as a resolver reads it; the old check only knew the dotted form (and then trusted it).
LOOPBACK_SPELLINGS = ["127.0.0.1", "2130706433", "127.1", "0x7f.1", "0x7f000001", "017700000001", "0177.1"]


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
async def test_describe_image_refuses_an_embed_pointing_at_the_bots_network_in_any_notation(
    harness: BotHarness, internal: FakeOpenRouter, host: str
) -> None:
    message = harness.payloads.message(embeds=[_embed(_internal_url(internal, host))])
    conversation = await harness.run(harness.payloads.message_command("Describe image", message=message))

    assert conversation.callback_types == [4] and conversation.last.ephemeral
    assert conversation.last.embeds[0]["title"] == "Couldn't fetch the image"
    _assert_refused(conversation.last.text)
    assert "latest-meta-data.png" in conversation.last.text, "the member is told which image"
    assert internal.requests == [], "nothing reached the internal service"
    assert harness.openrouter.chat_requests() == []


async def test_edit_image_refuses_such_an_embed_after_the_modal(harness: BotHarness, internal: FakeOpenRouter) -> None:
    message = harness.payloads.message(embeds=[_embed(_internal_url(internal, "2130706433"))])
    opened = await harness.run(harness.payloads.message_command("Edit image", message=message))
    assert opened.modal is not None
    (row,) = opened.modal["components"]
    (field,) = row["components"]
    submitted = await harness.run(harness.payloads.modal_submit(opened.modal["custom_id"], {field["custom_id"]: "x"}))

    assert submitted.last.ephemeral
    _assert_refused(submitted.last.text)
    assert internal.requests == [] and harness.openrouter.chat_requests() == []


async def test_a_name_that_resolves_into_the_bots_network_is_refused(
    harness: BotHarness, internal: FakeOpenRouter
) -> None:
    assert harness.bot is not None
    resolver = StaticResolver({"images.partner.example": ["127.0.0.1"]})
    harness.bot.fetcher.resolver = resolver
    message = harness.payloads.message(embeds=[_embed(_internal_url(internal, "images.partner.example"))])
    conversation = await harness.run(harness.payloads.message_command("Describe image", message=message))

    assert conversation.last.ephemeral
    _assert_refused(conversation.last.text)
    assert resolver.calls == ["images.partner.example"], "looked up once, then refused"
    assert internal.requests == []


# -- attachments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["edit", "describe"])
async def test_an_attachment_url_off_discords_origin_gets_the_same_check(
    harness: BotHarness, internal: FakeOpenRouter, command: str
) -> None:
    attachment = harness.payloads.attachment("photo.png", b"", "image/png", size=100, url=_internal_url(internal))
    if command == "edit":
        payload = harness.payloads.slash("edit", prompt="brighter", image=attachment)
    else:
        payload = harness.payloads.slash("describe", image=attachment)
    conversation = await harness.run(payload)

    assert conversation.callback_types == [4] and conversation.last.ephemeral
    assert "it points into a private network" in conversation.last.text
    assert internal.requests == [] and harness.openrouter.chat_requests() == []


# -- image links in a model's answer ------------------------------------------------------------------


async def test_an_answer_linking_into_the_bots_network_is_refused_and_its_cost_kept(
    harness: BotHarness, internal: FakeOpenRouter
) -> None:
    assert harness.bot is not None
    harness.openrouter.image_urls = [_internal_url(internal), _internal_url(internal, "2130706433")]
    payload = harness.payloads.slash("imagine", prompt="a harbour")
    conversation = await harness.run(payload)

    reply = conversation.last
    assert reply.ephemeral and not reply.files
    assert reply.embeds[0]["title"] == "Result image refused"
    assert "it points into a private network" in reply.text
    assert internal.requests == [], "the bot did not fetch (or post) what the answer pointed at"
    (record,) = await harness.bot.store.jobs.recent(harness.payloads.guild_id, harness.payloads.member.user_id)
    assert record.cost == pytest.approx(harness.openrouter.cost), "the call was billed: the cost is kept"
    assert record.generation_id is not None


async def test_refused_links_are_dropped_and_the_rest_delivered(
    harness: BotHarness, internal: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert harness.bot is not None
    results = _spy_results(harness, monkeypatch)
    served = harness.openrouter.add_file("result.png", render_png(40, 30))  # OpenRouter's own origin: trusted
    harness.openrouter.image_urls = [_internal_url(internal), served, _data_url(render_png(20, 20))]
    conversation = await harness.run(harness.payloads.slash("imagine", prompt="two of three"))

    assert not conversation.last.ephemeral
    assert conversation.original is not None and len(conversation.original.files) == 2
    (result,) = results
    assert result.dropped == 1
    assert internal.requests == []


async def test_the_bot_has_one_fetcher_shared_by_downloads_and_the_client(harness: BotHarness) -> None:
    bot = harness.bot
    assert bot is not None
    fetcher = bot.fetcher
    assert isinstance(fetcher, GuardedFetcher)
    assert bot.attachments.fetcher is fetcher and bot.openrouter.fetcher is fetcher
    assert origin_of(harness.discord.api_base) in fetcher.trusted_origins
    assert origin_of(harness.openrouter.base_url) in fetcher.trusted_origins
    await harness.stop()
    assert fetcher.closed


def _spy_results(harness: BotHarness, monkeypatch: pytest.MonkeyPatch) -> list[ImageResult]:
    """Record what the bot's client returned (observing only: the call itself is the real one)."""
    assert harness.bot is not None
    client = harness.bot.openrouter
    real = client.generate_image
    results: list[ImageResult] = []

    async def recording(*args: Any, **kwargs: Any) -> ImageResult:
        result = await real(*args, **kwargs)
        results.append(result)
        return result

    monkeypatch.setattr(client, "generate_image", recording)
    return results
