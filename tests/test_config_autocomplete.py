"""Autocomplete of `/config model` and `/config providers` through the real tree.

Ordering per operation, matching on id and name, the 25-choice cap, comma-separated provider lists,
and the promise that autocomplete never waits long on OpenRouter nor fails when it is away.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.catalog import ModelCatalog
from bot.openrouter import ConnectionFailedError, KeyInfo, ModelInfo, ProviderInfo
from tests.kit.harness import BotHarness

IMAGE_MAKERS = {
    "google/gemini-2.5-flash-image", "black-forest-labs/flux.2-pro", "openai/gpt-5-image", "sourceful/riverflow-v2",
}
IMAGE_READERS = {
    "google/gemini-2.5-flash-image", "google/gemini-2.5-flash", "black-forest-labs/flux.2-pro",
    "openai/gpt-5-image", "openai/gpt-4o-mini", "sourceful/riverflow-v2",
}


async def model_choices(harness: BotHarness, typed: str, operation: str | None = "imagine",
                        actor: Any = None) -> list[dict[str, Any]]:
    values: dict[str, Any] = {"model": typed}
    if operation is not None:
        values["operation"] = operation
    payload = harness.payloads.autocomplete("config model", focused="model",
                                            actor=actor or harness.payloads.admin, **values)
    conversation = await harness.run(payload)
    assert conversation.autocomplete_choices is not None, "autocomplete always answers"
    return conversation.autocomplete_choices


async def provider_choices(harness: BotHarness, typed: str, option: str = "only") -> list[dict[str, Any]]:
    payload = harness.payloads.autocomplete("config providers", focused=option, actor=harness.payloads.admin,
                                            operation="imagine", **{option: typed})
    conversation = await harness.run(payload)
    assert conversation.autocomplete_choices is not None
    return conversation.autocomplete_choices


@pytest.fixture
async def ready(harness: BotHarness) -> BotHarness:
    assert harness.bot is not None
    assert await harness.bot.catalog.wait_until_loaded()
    return harness


@pytest.mark.parametrize("operation", ["imagine", "edit"])
async def test_image_makers_come_first_for_imagine_and_edit(ready: BotHarness, operation: str) -> None:
    choices = await model_choices(ready, "", operation)
    values = [choice["value"] for choice in choices]
    makers = IMAGE_MAKERS | {model.id for model in ready.openrouter.image_models}  # both catalogs
    assert set(values[: len(makers)]) == makers
    assert set(values[len(makers):]) == {"google/gemini-2.5-flash", "openai/gpt-4o-mini",
                                         "meta-llama/llama-3.1-8b-instruct"}
    assert all("(no image output)" in choice["name"] for choice in choices[len(makers):])
    assert not any("(no image" in choice["name"] for choice in choices[: len(makers)])


async def test_image_readers_come_first_for_describe(ready: BotHarness) -> None:
    choices = await model_choices(ready, "", "describe")
    values = [choice["value"] for choice in choices]
    assert set(values[: len(IMAGE_READERS)]) == IMAGE_READERS
    assert values[-1] == "meta-llama/llama-3.1-8b-instruct"
    assert choices[-1]["name"].endswith("(no image input)")


async def test_the_same_query_orders_differently_per_operation(ready: BotHarness) -> None:
    imagine = [choice["value"] for choice in await model_choices(ready, "GEMINI", "imagine")]
    describe = [choice["value"] for choice in await model_choices(ready, "gemini", "describe")]
    assert imagine == ["google/gemini-2.5-flash-image", "google/gemini-2.5-flash"]
    assert describe == ["google/gemini-2.5-flash", "google/gemini-2.5-flash-image"], "both read images: best match"


async def test_matches_names_too_and_puts_exact_and_prefix_before_substring(ready: BotHarness) -> None:
    assert ready.bot is not None
    ready.openrouter.models += [
        _model_dict("acme/superflux", "Acme: Superflux"),
        _model_dict("flux", "Flux Classic"),
    ]
    await ready.bot.catalog.refresh()
    values = [choice["value"] for choice in await model_choices(ready, "flux", "imagine")]
    assert values == ["flux", "black-forest-labs/flux.2-pro", "acme/superflux"]

    by_name = [choice["value"] for choice in await model_choices(ready, "nano banana", "imagine")]
    assert by_name == ["google/gemini-2.5-flash-image"]
    choice = (await model_choices(ready, "riverflow", "edit"))[0]
    assert choice["value"] == "sourceful/riverflow-v2"
    assert choice["name"].startswith("Sourceful: Riverflow V2 · sourceful/riverflow-v2"), "then what it supports"


async def test_at_most_25_choices_and_each_within_discords_limits(ready: BotHarness) -> None:
    assert ready.bot is not None
    ready.openrouter.models += [_model_dict(f"acme/image-{n:02d}", "Acme " + "Long Name " * 15) for n in range(40)]
    ready.openrouter.models.append(_model_dict("acme/" + "x" * 120, "Too long an id"))
    await ready.bot.catalog.refresh()
    choices = await model_choices(ready, "acme", "imagine")
    assert len(choices) == 25
    assert all(1 <= len(choice["name"]) <= 100 and len(choice["value"]) <= 100 for choice in choices)


async def test_no_operation_yet_orders_as_for_imagine(ready: BotHarness) -> None:
    values = [choice["value"] for choice in await model_choices(ready, "openai", operation=None)]
    assert values[-1] == "openai/gpt-4o-mini", "the model that makes no image comes last"
    assert set(values[:-1]) == {"openai/gpt-5-image", "openai/gpt-image-2"}


async def test_members_without_manage_server_get_no_choices(ready: BotHarness) -> None:
    assert await model_choices(ready, "gem", actor=ready.payloads.member) == []


# -- providers -------------------------------------------------------------------------------------


async def test_provider_choices_match_slug_and_name(ready: BotHarness) -> None:
    values = [choice["value"] for choice in await provider_choices(ready, "goo")]
    assert values == ["google-ai-studio", "google-vertex"]
    named = await provider_choices(ready, "Black Forest", option="ignore")
    assert named == [{"name": "black-forest-labs (Black Forest Labs)", "value": "black-forest-labs"}]


async def test_each_item_of_a_list_completes_and_chosen_ones_are_left_out(ready: BotHarness) -> None:
    choices = await provider_choices(ready, "google-vertex, goo")
    assert [choice["value"] for choice in choices] == ["google-vertex, google-ai-studio"]
    values = [choice["value"] for choice in await provider_choices(ready, "openai,Together, ")]
    assert values[0] == "openai, Together, black-forest-labs", "the items so far are kept, tidied"
    assert not any(value.endswith(("openai", "together")) for value in values), "chosen ones are left out"
    assert len(values) == 4
    typed = [choice["value"] for choice in await provider_choices(ready, "openai, d")]
    assert typed[0] == "openai, deepinfra", "prefix before substring (google-ai-studio)"


async def test_none_is_offered_to_clear_a_list(ready: BotHarness) -> None:
    values = [choice["value"] for choice in await provider_choices(ready, "")]
    assert values[-1] == "none" and len(values) == 7
    assert [choice["value"] for choice in await provider_choices(ready, "no")] == ["none"]


# -- never waits long, never fails -----------------------------------------------------------------


class SlowSource:
    """An OpenRouter that does not answer until released, and then maybe fails."""

    def __init__(self, models: list[ModelInfo]) -> None:
        self.models = models
        self.release = asyncio.Event()
        self.fail = False

    async def list_models(self, output_modalities: str = "all") -> list[ModelInfo]:
        await self.release.wait()
        if self.fail:
            raise ConnectionFailedError("down")
        return list(self.models)

    async def list_providers(self) -> list[ProviderInfo]:
        await self.release.wait()
        if self.fail:
            raise ConnectionFailedError("down")
        return [ProviderInfo(name="OpenAI", slug="openai")]

    async def key_info(self) -> KeyInfo:
        raise ConnectionFailedError("down")


async def _swap_catalog(harness: BotHarness, catalog: ModelCatalog) -> None:
    assert harness.bot is not None
    await harness.bot.catalog.aclose()
    harness.bot.catalog = catalog


async def test_with_nothing_loaded_and_openrouter_silent_the_answer_is_empty_and_quick(harness: BotHarness) -> None:
    source = SlowSource([ModelInfo(id="a/b", name="A B", output_modalities=frozenset({"image"}))])
    catalog = ModelCatalog(source, wait_s=0.2)
    await _swap_catalog(harness, catalog)
    try:
        started = time.perf_counter()
        assert await model_choices(harness, "a") == []
        assert await provider_choices(harness, "op") == []
        assert time.perf_counter() - started < 1.5, "about a second at most, per request"

        source.release.set()  # the refresh kept running in the background
        assert await catalog.wait_until_loaded()
        assert [choice["value"] for choice in await model_choices(harness, "a")] == ["a/b"]
    finally:
        source.release.set()
        await catalog.aclose()


async def test_stale_lists_are_served_when_openrouter_is_away(harness: BotHarness) -> None:
    now = [0.0]
    source = SlowSource([ModelInfo(id="a/b", name="A B", output_modalities=frozenset({"image"}))])
    source.release.set()
    catalog = ModelCatalog(source, clock=lambda: now[0])
    await _swap_catalog(harness, catalog)
    try:
        await catalog.refresh()
        source.release.clear()
        source.fail = True
        now[0] += 11 * 60  # past the time-to-live: a refresh starts and hangs

        started = time.perf_counter()
        assert [choice["value"] for choice in await model_choices(harness, "a")] == ["a/b"]
        assert time.perf_counter() - started < 1.0, "the last list, at once"
        source.release.set()
        await catalog.refresh()  # which fails: the last list is kept
        assert [choice["value"] for choice in await model_choices(harness, "a")] == ["a/b"]
    finally:
        source.release.set()
        await catalog.aclose()


def _model_dict(model_id: str, name: str, outputs: tuple[str, ...] = ("image",)) -> dict[str, Any]:
    return {
        "id": model_id, "name": name, "description": "",
        "architecture": {"input_modalities": ["text"], "output_modalities": list(outputs)},
        "pricing": {"prompt": "0", "completion": "0", "image": "0.01", "request": "0"},
    }
