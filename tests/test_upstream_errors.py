"""Every upstream failure `/imagine` can meet ends in a clear private reply, and the bot carries on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings

RETRIED = 3  # the harness's RETRY_MAX_ATTEMPTS default

STATUS_CASES = [
    # status, attempts the bot makes, title, words the message must contain
    (400, 1, "Request refused", "refused the request"),
    (401, 1, "OpenRouter refused the bot's key", "OPENROUTER_API_KEY"),
    (402, 1, "Out of OpenRouter credits", "credits"),
    (403, 1, "Blocked by moderation", "violence"),
    (408, RETRIED, "The model took too long", "did not finish in time"),
    (413, 1, "Request too large", "smaller"),
    (429, RETRIED, "Too many requests", "rate-limiting"),
    (500, RETRIED, "Model unavailable", "HTTP 500"),
    (502, RETRIED, "Model unavailable", "HTTP 502"),
    (503, RETRIED, "Model unavailable", "HTTP 503"),
    (524, RETRIED, "Model unavailable", "HTTP 524"),
    (529, RETRIED, "Model unavailable", "HTTP 529"),
]


async def _assert_private_error(harness: BotHarness, payload: dict, title: str, words: str) -> None:
    conversation = harness.conversation(payload)
    reply = conversation.last
    assert reply.ephemeral, "errors are private"
    assert conversation.original is not None and conversation.original.deleted, "the public placeholder is gone"
    assert reply.embeds[0]["title"] == title
    assert words in reply.text
    assert harness.openrouter.api_key not in reply.text


async def _assert_next_command_works(harness: BotHarness) -> None:
    conversation = await harness.run(harness.payloads.slash("imagine", prompt="a calm sea"))
    assert conversation.last.files and not conversation.last.ephemeral


@pytest.mark.parametrize(("status", "attempts", "title", "words"), STATUS_CASES)
async def test_upstream_status_becomes_a_clear_private_message(
    harness: BotHarness, status: int, attempts: int, title: str, words: str
) -> None:
    harness.openrouter.fail_next(status, times=attempts)
    payload = harness.payloads.slash("imagine", prompt="a storm")
    await harness.run(payload)
    await _assert_private_error(harness, payload, title, words)
    assert len(harness.openrouter.chat_requests()) == attempts, "only passing failures are retried"
    await _assert_next_command_works(harness)


async def test_unknown_model_names_the_model_and_the_fix(harness: BotHarness) -> None:
    harness.openrouter.fail_next(404, message="Model acme/nope does not exist", metadata={})
    payload = harness.payloads.slash("imagine", prompt="x")
    await harness.run(payload)
    await _assert_private_error(harness, payload, "Unknown model", "/config model")


async def test_no_allowed_provider_lists_the_providers_that_serve_it(harness: BotHarness) -> None:
    harness.openrouter.fail_next(404)
    payload = harness.payloads.slash("imagine", prompt="x")
    await harness.run(payload)
    await _assert_private_error(harness, payload, "No allowed provider", "google-vertex")


async def test_a_retried_call_that_then_succeeds_delivers_the_result(harness: BotHarness) -> None:
    harness.openrouter.fail_next(429, times=1)
    conversation = await harness.run(harness.payloads.slash("imagine", prompt="a fox"))
    assert conversation.last.files
    assert len(harness.openrouter.chat_requests()) == 2


FAULT_CASES = [
    # kind, attempts the bot makes, title, words the message must contain
    ("error_in_200", RETRIED, "Generation failed", "failed"),
    ("no_image", 1, "No image came back", "I can only answer in text."),
    ("broken_data_url", 1, "Unreadable result", "could not read"),
    ("not_an_image", 1, "Unreadable result", "could not read"),
    ("bad_json", 1, "Generation failed", "not JSON"),
    ("reset", RETRIED, "OpenRouter unreachable", "could not reach"),
]


@pytest.mark.parametrize(("kind", "attempts", "title", "words"), FAULT_CASES)
async def test_malformed_answers_become_clear_messages(
    harness: BotHarness, kind: str, attempts: int, title: str, words: str
) -> None:
    harness.openrouter.fault_next(kind, times=attempts)
    payload = harness.payloads.slash("imagine", prompt="a storm")
    await harness.run(payload)
    await _assert_private_error(harness, payload, title, words)
    assert len(harness.openrouter.chat_requests()) == attempts
    await _assert_next_command_works(harness)


@pytest.mark.parametrize("kind", ["https_image", "b64_json", "content_parts"])
async def test_other_documented_image_shapes_are_accepted(harness: BotHarness, kind: str) -> None:
    harness.openrouter.fault_next(kind)
    conversation = await harness.run(harness.payloads.slash("imagine", prompt="a boat"))
    assert conversation.last.files and conversation.last.files[0].data.startswith(b"\x89PNG")


async def test_download_of_an_https_image_does_not_carry_the_key(harness: BotHarness) -> None:
    harness.openrouter.fault_next("https_image")
    await harness.run(harness.payloads.slash("imagine", prompt="a boat"))
    downloads = [r for r in harness.openrouter.requests if r.path.startswith("/files/")]
    assert downloads and all("authorization" not in r.headers for r in downloads)


async def test_a_huge_result_is_reencoded_to_fit_the_upload_limit(harness: BotHarness) -> None:
    harness.payloads.filesize_limit = 256 * 1024
    harness.openrouter.fault_next("huge_image")
    conversation = await harness.run(harness.payloads.slash("imagine", prompt="a wall"))
    reply = conversation.last
    assert len(reply.files[0].data) <= 256 * 1024
    assert "re-encoded" in reply.text


async def test_a_hanging_upstream_times_out_with_a_message(
    database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    settings = make_settings(database_path, fake_discord, fake_openrouter, request_timeout_s=0.3,
                             retry_max_attempts=1)
    harness = BotHarness(settings, fake_discord, fake_openrouter)
    await harness.start()
    try:
        fake_openrouter.fault_next("hang")
        payload = harness.payloads.slash("imagine", prompt="slow")
        await harness.run(payload)
        await _assert_private_error(harness, payload, "The model took too long", "did not finish in time")
        await _assert_next_command_works(harness)
    finally:
        await harness.stop()


async def test_upstream_unreachable(database_path: Path, fake_discord: FakeDiscord,
                                    fake_openrouter: FakeOpenRouter) -> None:
    settings = make_settings(database_path, fake_discord, fake_openrouter,
                             openrouter_base_url="http://127.0.0.1:9/api/v1", retry_max_attempts=1)
    harness = BotHarness(settings, fake_discord, fake_openrouter)
    await harness.start()
    try:
        payload = harness.payloads.slash("imagine", prompt="x")
        await harness.run(payload)
        await _assert_private_error(harness, payload, "OpenRouter unreachable", "Try again")
    finally:
        await harness.stop()


async def test_a_billed_answer_without_an_image_is_recorded_at_its_cost(harness: BotHarness) -> None:
    harness.openrouter.cost = 0.0123
    harness.openrouter.fault_next("no_image")
    payload = harness.payloads.slash("imagine", prompt="a text-only model")
    await harness.run(payload)
    assert harness.conversation(payload).last.ephemeral
    assert harness.bot is not None
    rows = await harness.bot.store.database.fetch_all("SELECT cost, cost_reported, succeeded FROM usage_ledger")
    assert [(row["cost"], row["cost_reported"], row["succeeded"]) for row in rows] == [(0.0123, 1, 0)]


async def test_an_unbilled_failure_is_recorded_at_zero(harness: BotHarness) -> None:
    harness.openrouter.fail_next(402)
    await harness.run(harness.payloads.slash("imagine", prompt="no credits"))
    assert harness.bot is not None
    rows = await harness.bot.store.database.fetch_all("SELECT cost, cost_reported FROM usage_ledger")
    assert [(row["cost"], row["cost_reported"]) for row in rows] == [(0.0, 0)]
