"""The Images API route and the new options, through the real tree against the stand-in OpenRouter.

Model picks from both catalogs, each route, count, seed, resolution, quality and the extra shapes,
parameters a model does not support (named, never dropped silently), servers' count limits, parallel
calls where an endpoint makes fewer images, live previews, the 502-not-charged rule, budgets that hold
`count` estimates, and `/config route` / `/config count`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Conversation, Reply
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings

GPT_IMAGE = "openai/gpt-image-2"
SEEDREAM = "bytedance-seed/seedream-4.5"
QWEN = "qwen/qwen-image-3"
KREA = "krea/krea-1"
GEMINI = "google/gemini-2.5-flash-image"


@pytest.fixture
async def harness(database_path: Path, fake_discord: FakeDiscord,
                  fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    kit = BotHarness(make_settings(database_path, fake_discord, fake_openrouter), fake_discord, fake_openrouter)
    await kit.start()
    assert kit.bot is not None
    await kit.bot.catalog.refresh()
    try:
        yield kit
    finally:
        await kit.stop()


async def admin(harness: BotHarness, path: str, **options: Any) -> Reply:
    return (await harness.run(harness.payloads.slash(path, actor=harness.payloads.admin, **options))).last


async def use(harness: BotHarness, model: str, operation: str = "imagine") -> None:
    await admin(harness, "config model", operation=operation, model=model)


async def imagine(harness: BotHarness, **options: Any) -> Conversation:
    options.setdefault("prompt", "a lighthouse at dusk")
    return await harness.run(harness.payloads.slash("imagine", **options))


def fields(reply: Reply) -> dict[str, str]:
    return {field["name"]: field["value"] for field in reply.embeds[0].get("fields", [])}


async def test_a_model_only_the_images_api_serves_goes_there(harness: BotHarness) -> None:
    await use(harness, GPT_IMAGE)
    reply = (await imagine(harness, format="landscape", quality="high")).last
    assert reply.files and not reply.ephemeral
    (sent,) = harness.openrouter.image_requests()
    assert harness.openrouter.chat_requests() == []
    assert sent.json["model"] == GPT_IMAGE and sent.json["aspect_ratio"] == "16:9" and sent.json["quality"] == "high"
    assert "n" not in sent.json, "one image: n is not sent"
    shown = fields(await admin(harness, "config show"))
    assert "Images API" in shown["Imagine"]


async def test_count_and_seed_go_in_one_call_where_the_model_takes_them(harness: BotHarness) -> None:
    await use(harness, SEEDREAM)
    reply = (await imagine(harness, count=3, seed=1234, resolution="2K")).last
    assert len(reply.files) == 3
    (sent,) = harness.openrouter.image_requests()
    assert (sent.json["n"], sent.json["seed"], sent.json["resolution"]) == (3, 1234, "2K")
    assert reply.components_v2, "several images: one grid message"
    assert "**Seed** `1234`" in reply.text, "the seed is shown so the result can be reproduced"


async def test_a_seed_is_picked_and_shown_when_the_member_gave_none(harness: BotHarness) -> None:
    await use(harness, SEEDREAM)
    reply = (await imagine(harness)).last
    (sent,) = harness.openrouter.image_requests()
    assert isinstance(sent.json.get("seed"), int)
    assert fields(reply)["Seed"] == f"`{sent.json['seed']}`"


async def test_an_unsupported_parameter_is_named_not_dropped_silently(harness: BotHarness) -> None:
    await use(harness, GPT_IMAGE)
    reply = (await imagine(harness, seed=7, resolution="4K")).last
    assert reply.files
    (sent,) = harness.openrouter.image_requests()
    assert "seed" not in sent.json and "resolution" not in sent.json
    text = reply.text
    assert f"seed: not supported by {GPT_IMAGE}" in text
    assert f"resolution 4K: not supported by {GPT_IMAGE}" in text
    assert "Seed" not in fields(reply)


async def test_a_model_that_makes_one_image_per_call_gets_several_calls(harness: BotHarness) -> None:
    await use(harness, QWEN)
    reply = (await imagine(harness, count=3)).last
    assert len(reply.files) == 3
    sent = harness.openrouter.image_requests()
    assert len(sent) == 3 and all("n" not in request.json for request in sent), "never n > 1 where it is refused"
    assert "3 calls" in reply.text


async def test_an_endpoint_that_returns_fewer_images_is_topped_up(harness: BotHarness) -> None:
    await use(harness, KREA)
    reply = (await imagine(harness, count=2)).last
    assert len(reply.files) == 2, "the missing image was made by another call"
    assert len(harness.openrouter.image_requests()) == 2


async def test_a_provider_that_rejects_several_images_gets_single_calls_instead(harness: BotHarness) -> None:
    await use(harness, SEEDREAM)
    harness.openrouter.image_endpoint(SEEDREAM).rejects_multiple = True  # the listing still says n up to 4
    reply = (await imagine(harness, count=2, seed=10)).last
    assert not reply.ephemeral and len(reply.files) == 2, "the job did not fail: two single calls made the images"
    first, *later = harness.openrouter.image_requests()
    assert first.json["n"] == 2, "planned from the listing: one call of two, which the provider refused"
    assert len(later) == 2 and all("n" not in request.json for request in later)
    assert sorted(request.json["seed"] for request in later) == [10, 11]


async def test_the_plan_takes_the_smallest_count_among_the_endpoints_openrouter_may_pick(
    harness: BotHarness,
) -> None:
    from tests.fake_openrouter import ImageEndpoint, enum_capability

    single = ImageEndpoint("Fal", "fal", {"aspect_ratio": enum_capability("1:1", "16:9"), "seed": {"type": "boolean"},
                                          "resolution": enum_capability("1K", "2K", "4K")},
                           [{"billable": "output_image", "unit": "image", "cost_usd": 0.04}], rejects_multiple=True)
    harness.openrouter.image_model(SEEDREAM).endpoints.insert(0, single)  # OpenRouter routes to it first
    await use(harness, SEEDREAM)
    reply = (await imagine(harness, count=2)).last
    assert len(reply.files) == 2
    sent = harness.openrouter.image_requests()
    assert len(sent) == 2 and all("n" not in request.json for request in sent), "never asked one endpoint for two"
    assert "makes 1 image per call" in reply.text


async def test_more_images_than_the_server_allows_is_refused_before_anything_is_sent(harness: BotHarness) -> None:
    await use(harness, SEEDREAM)
    await admin(harness, "config count", operation="imagine", maximum=2)
    refused = (await imagine(harness, count=3)).last
    assert refused.ephemeral and "at most 2 images per request" in refused.text
    assert harness.openrouter.image_requests() == []


async def test_the_servers_default_count_applies(harness: BotHarness) -> None:
    await use(harness, SEEDREAM)
    saved = await admin(harness, "config count", operation="imagine", default=2)
    assert "2 images by default" in saved.text
    assert len((await imagine(harness)).last.files) == 2


async def test_a_502_on_the_images_api_is_not_charged_and_says_so(harness: BotHarness) -> None:
    assert harness.bot is not None
    await use(harness, SEEDREAM)
    harness.openrouter.fail_next(502, route="images", times=3)
    refused = (await imagine(harness)).last
    assert refused.ephemeral and "not charged" in refused.text
    rows = await harness.bot.store.database.fetch_all("SELECT cost, cost_reported FROM usage_ledger")
    assert rows and all(row["cost"] == 0 and row["cost_reported"] == 1 for row in rows)


async def test_a_streaming_model_shows_a_preview_before_the_result(harness: BotHarness) -> None:
    await use(harness, GPT_IMAGE)
    harness.openrouter.stream_interval_s = 0.0
    conversation = await imagine(harness)
    previews = [r for r in conversation.requests if r.method == "PATCH"
                and any(f.filename.startswith("preview.") for f in r.files)]
    assert previews, "a partial image was shown in the progress message"
    assert conversation.last.files and not any(f.filename.startswith("preview.") for f in conversation.last.files)
    (sent,) = harness.openrouter.image_requests()
    assert sent.json.get("stream") is True


async def test_config_route_forces_the_images_api_for_a_model_both_serve(harness: BotHarness) -> None:
    await use(harness, GEMINI)
    saved = await admin(harness, "config route", operation="imagine", route="images")
    assert "Images API" in saved.text
    assert (await imagine(harness)).last.files
    assert harness.openrouter.image_requests() and not harness.openrouter.chat_requests()
    await admin(harness, "config route", operation="imagine", route="auto")
    assert (await imagine(harness)).last.files
    assert len(harness.openrouter.chat_requests()) == 1, "auto: the chat route, as the chat catalog lists it"


async def test_the_new_shapes_reach_the_request(harness: BotHarness) -> None:
    reply = (await imagine(harness, format="cinema")).last
    assert reply.files
    assert harness.openrouter.chat_requests()[-1].json["image_config"]["aspect_ratio"] == "21:9"
    assert fields(reply)["Format"] == "Cinema (21:9)"


async def test_a_shape_the_model_lacks_is_sent_as_its_nearest_and_the_result_says_so(harness: BotHarness) -> None:
    await use(harness, GPT_IMAGE)  # offers 1:1, 2:3, 3:2, 3:4, 4:3, 9:16, 16:9: no 21:9
    reply = (await imagine(harness, format="cinema")).last
    (sent,) = harness.openrouter.image_requests()
    assert sent.json["aspect_ratio"] == "16:9", "the nearest ratio the model makes, not one it would clamp"
    assert f"shape 21:9: not supported by {GPT_IMAGE}; used 16:9" in reply.text
    assert fields(reply)["Format"] == "16:9", "labelled with the shape it has"


async def test_an_edit_that_keeps_a_shape_the_model_lacks_uses_its_nearest(harness: BotHarness) -> None:
    from tests.fake_openrouter import render_png

    await use(harness, GPT_IMAGE, operation="edit")
    wide = harness.payloads.attachment("wide.png", render_png(210, 90), "image/png", width=210, height=90)
    reply = (await harness.run(harness.payloads.slash("edit", prompt="add a moon", image=wide))).last
    (sent,) = harness.openrouter.image_requests()
    assert sent.json["aspect_ratio"] == "16:9"
    assert f"shape 21:9: not supported by {GPT_IMAGE}; used 16:9" in reply.text
    assert fields(reply)["Format"] == "Kept the image's shape (16:9)"


async def test_a_budget_holds_count_times_the_estimate(harness: BotHarness) -> None:
    assert harness.bot is not None
    await use(harness, SEEDREAM)
    assert (await imagine(harness)).last.files  # the model's last cost is now known: $0.04 an image
    await harness.bot.store.budgets.update(harness.payloads.guild_id, guild_daily_usd=0.1)
    refused = (await imagine(harness, count=3)).last
    assert refused.ephemeral and "would go over" in refused.text
    assert len(harness.openrouter.image_requests()) == 1


async def test_each_calls_cost_is_its_own_ledger_row(harness: BotHarness) -> None:
    assert harness.bot is not None
    await use(harness, QWEN)
    assert len((await imagine(harness, count=2)).last.files) == 2
    rows = await harness.bot.store.database.fetch_all("SELECT cost, images FROM usage_ledger ORDER BY id")
    costs = [request.cost for request in harness.openrouter.image_requests()]
    assert [row["cost"] for row in rows] == pytest.approx(costs)
    assert sum(row["images"] for row in rows) == 2


async def test_model_autocomplete_lists_both_catalogs_with_hints(harness: BotHarness) -> None:
    payload = harness.payloads.autocomplete("config model", "model", actor=harness.payloads.admin,
                                            operation="imagine", model="")
    choices = (await harness.run(payload)).autocomplete_choices or []
    values = [choice["value"] for choice in choices]
    assert GPT_IMAGE in values and GEMINI in values
    gpt = next(choice for choice in choices if choice["value"] == GPT_IMAGE)
    assert "n≤4" in gpt["name"]


async def test_the_jobs_request_is_recorded_whole(harness: BotHarness) -> None:
    assert harness.bot is not None
    await use(harness, SEEDREAM)
    await imagine(harness, count=2, seed=99, resolution="4K")
    rows = await harness.bot.store.database.fetch_all(
        "SELECT route, image_count, seed, resolution FROM jobs ORDER BY id DESC LIMIT 1")
    assert dict(rows[0]) == {"route": "images", "image_count": 2, "seed": 99, "resolution": "4K"}


async def test_status_names_the_route_each_command_uses(harness: BotHarness) -> None:
    await use(harness, GPT_IMAGE)
    shown = fields((await harness.run(harness.payloads.slash("status"))).last)
    assert "Route: Images API" in shown["/imagine"] and "Route: chat" in shown["/edit"]
    assert "Route" not in shown["/describe"]


async def test_edit_on_the_images_api_sends_its_references(harness: BotHarness) -> None:
    from tests.fake_openrouter import render_png

    await use(harness, SEEDREAM, operation="edit")
    photo = harness.payloads.attachment("cat.png", render_png(64, 48), "image/png", width=64, height=48)
    reply = (await harness.run(harness.payloads.slash("edit", prompt="add a hat", image=photo, count=2))).last
    assert len(reply.files) == 2 and reply.components_v2 and "### Edit" in reply.text
    assert "cat.png" in reply.text, "the grid names its source image"
    (sent,) = harness.openrouter.image_requests()
    (reference,) = sent.json["input_references"]
    assert reference["type"] == "image_url" and reference["image_url"]["url"].startswith("data:image/")
    assert sent.json["aspect_ratio"] == "4:3", "the edit keeps the image's shape"


# -- a model that takes no picture cannot edit one ------------------------------------------------


def _picture(harness: BotHarness, name: str = "cat.png") -> dict[str, Any]:
    from tests.fake_openrouter import render_png

    return harness.payloads.attachment(name, render_png(64, 48), "image/png", width=64, height=48)


async def test_an_edit_model_that_takes_no_picture_is_warned_about_and_refused(harness: BotHarness) -> None:
    saved = await admin(harness, "config model", operation="edit", model=KREA)
    assert "makes images from text only" in saved.text, "the admin is warned when picking it"
    refused = (await harness.run(harness.payloads.slash("edit", prompt="add a hat", image=_picture(harness)))).last
    assert refused.ephemeral and f"`{KREA}` can't take an image, so it can't edit one" in refused.text
    assert harness.openrouter.image_requests() == [] and harness.openrouter.chat_requests() == []


async def test_edit_image_and_the_edit_button_refuse_a_model_that_takes_no_picture(harness: BotHarness) -> None:
    result = (await imagine(harness)).last  # the chat route's default model, which does take pictures
    assert harness.bot is not None
    job_id = int(result.custom_ids[0].split(":")[2])
    record = await harness.bot.store.jobs.get(job_id)
    assert record is not None
    attachments = [harness.payloads.attachment(f.filename, f.data) for f in result.files]
    message = harness.payloads.message(attachments=attachments, components=result.components)
    message["id"] = str(record.result_message_id)
    await use(harness, KREA, operation="edit")
    before = len(harness.openrouter.requests)

    opened = await harness.run(harness.payloads.component(f"job:edit:{job_id}", message=message))
    assert opened.modal is not None
    button = (await harness.run(harness.payloads.modal_submit(
        opened.modal["custom_id"], {"prompt": "make it night"}, message=message))).last
    menu = await harness.run(harness.payloads.message_command("Edit image", message=message))
    assert menu.modal is not None
    submitted = (await harness.run(harness.payloads.modal_submit(
        menu.modal["custom_id"], {"prompt": "make it night"}, message=message))).last
    for reply in (button, submitted):
        assert reply.ephemeral and f"`{KREA}` can't take an image, so it can't edit one" in reply.text
    generations = [r for r in harness.openrouter.requests[before:] if r.method == "POST"]
    assert generations == [], "nothing was sent, so nothing was paid"


async def test_more_pictures_than_the_model_takes_are_cut_to_its_limit_with_a_note(harness: BotHarness) -> None:
    from tests.fake_openrouter import range_capability

    harness.openrouter.image_endpoint(SEEDREAM).supported_parameters["input_references"] = range_capability(0, 1)
    await use(harness, SEEDREAM, operation="edit")
    await admin(harness, "config max-references", value=2)
    reply = (await harness.run(harness.payloads.slash(
        "edit", prompt="add a hat", image=_picture(harness), reference2=_picture(harness, "dog.png")))).last
    assert reply.files and not reply.ephemeral
    (sent,) = harness.openrouter.image_requests()
    assert len(sent.json["input_references"]) == 1
    assert f"Used the first of the 2 images: {SEEDREAM} takes only 1." in reply.text


# -- previews, broken streams and parallel calls, through the tree ------------------------------------


async def test_preview_edits_of_one_message_are_at_least_a_throttle_interval_apart(harness: BotHarness) -> None:
    await use(harness, GPT_IMAGE)
    harness.openrouter.partial_images = 10
    harness.openrouter.stream_interval_s = 0.3  # ten partial images over about three seconds
    conversation = await imagine(harness)
    assert conversation.last.files and not conversation.last.ephemeral
    previews = [r.received_at for r in conversation.requests if r.method == "PATCH"
                and any(f.filename.startswith("preview.") for f in r.files)]
    assert 2 <= len(previews) < 10, "a burst of partial images is coalesced, but previews were shown"
    gaps = [later - earlier for earlier, later in zip(previews, previews[1:], strict=False)]
    # The throttle times the edits as they leave the bot; the stand-in times their arrival (a few ms later).
    assert min(gaps) >= 1.5 - 0.05, gaps


async def test_a_stream_that_breaks_off_ends_in_a_clear_private_error(harness: BotHarness) -> None:
    await use(harness, GPT_IMAGE)
    harness.openrouter.fault_next("stream_cut")
    reply = (await imagine(harness)).last
    assert reply.ephemeral and not reply.files
    assert "OpenRouter unreachable" in reply.text
    (sent,) = harness.openrouter.image_requests()
    assert sent.json.get("stream") is True, "it was a stream, cut after its first partial image"


async def test_the_calls_of_one_job_hold_a_slot_each_and_no_more_than_the_limit(
    database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    settings = make_settings(database_path, fake_discord, fake_openrouter, max_concurrent_jobs=2)
    kit = BotHarness(settings, fake_discord, fake_openrouter)
    await kit.start()
    try:
        assert kit.bot is not None
        await kit.bot.catalog.refresh()
        await use(kit, QWEN)  # one image per call: three calls for three images
        fake_openrouter.latency_s = 0.3  # slow enough that calls in parallel overlap
        reply = (await imagine(kit, count=3)).last
        assert len(reply.files) == 3 and len(fake_openrouter.image_requests()) == 3
        assert fake_openrouter.peak_images_in_flight == 2, "two slots: two calls at once, the third after one"
        assert kit.bot.jobs.queue.running == 0, "every extra slot was given back"
    finally:
        await kit.stop()


async def test_a_job_of_several_calls_streams_the_first_calls_previews(harness: BotHarness) -> None:
    harness.openrouter.image_endpoint(QWEN).supports_streaming = True  # one image per call, and it streams
    await use(harness, QWEN)
    conversation = await imagine(harness, count=2)
    assert len(conversation.last.files) == 2
    streamed = [request.json.get("stream") is True for request in harness.openrouter.image_requests()]
    assert sorted(streamed) == [False, True], "the first call streams, the other answers buffered"
    previews = [r for r in conversation.requests if r.method == "PATCH"
                and any(f.filename.startswith("preview.") for f in r.files)]
    assert previews, "its partial images were shown in the progress message"


async def test_a_budget_estimates_per_image_not_per_call(harness: BotHarness) -> None:
    assert harness.bot is not None
    await use(harness, SEEDREAM)
    assert len((await imagine(harness, count=4)).last.files) == 4  # one call of four images: $0.16
    assert len(harness.openrouter.image_requests()) == 1
    await harness.bot.store.budgets.update(harness.payloads.guild_id, guild_daily_usd=0.5)
    # $0.16 spent, and four more images hold 4 x $0.04: within $0.50 (a per-call estimate would hold $0.64).
    again = (await imagine(harness, count=4)).last
    assert len(again.files) == 4, again.text


async def test_the_first_job_on_an_images_only_model_is_held_at_its_endpoints_price(harness: BotHarness) -> None:
    assert harness.bot is not None
    await use(harness, SEEDREAM)  # the Images API's listing has no prices; its endpoints list $0.04 an image
    await harness.bot.store.budgets.update(harness.payloads.guild_id, guild_daily_usd=0.05)
    refused = (await imagine(harness, count=4)).last
    assert refused.ephemeral and "would go over" in refused.text
    assert harness.openrouter.image_requests() == [], "refused before anything was sent"
