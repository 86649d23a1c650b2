"""The model and provider catalog: time-to-live, one refresh at a time, bounded waits, ranking, key cache."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from bot.catalog import KeyState, ModelCatalog, Readiness
from bot.openrouter import (
    AuthenticationError,
    ConnectionFailedError,
    KeyInfo,
    ModelInfo,
    OpenRouterClient,
    ProviderInfo,
)
from bot.operations import Operation
from tests.fake_openrouter import FakeOpenRouter, default_models, default_providers


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ScriptedSource:
    """A catalog source that counts calls and can be held (gate) or made to fail."""

    def __init__(self) -> None:
        self.models = [ModelInfo.from_api(item) for item in default_models()]
        self.providers = [ProviderInfo(name=item["name"], slug=item["slug"]) for item in default_providers()]
        self.model_calls = 0
        self.provider_calls = 0
        self.key_calls = 0
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.fail: BaseException | None = None
        self.key_result: KeyInfo | BaseException = KeyInfo(
            label="sk-or-v1-abc...xyz", limit=None, limit_remaining=None, usage=1.0, is_free_tier=False
        )

    async def list_models(self, output_modalities: str = "all") -> list[ModelInfo]:
        assert output_modalities == "all"
        self.model_calls += 1
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return list(self.models)

    async def list_providers(self) -> list[ProviderInfo]:
        self.provider_calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return list(self.providers)

    async def key_info(self) -> KeyInfo:
        self.key_calls += 1
        if isinstance(self.key_result, BaseException):
            raise self.key_result
        return self.key_result


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def source() -> ScriptedSource:
    return ScriptedSource()


@pytest.fixture
async def catalog(source: ScriptedSource, clock: Clock) -> Any:
    made = ModelCatalog(source, clock=clock)
    yield made
    await made.aclose()


# -- loading and time-to-live ------------------------------------------------------------------


async def test_loads_both_lists_once_within_the_time_to_live(
    catalog: ModelCatalog, source: ScriptedSource, clock: Clock
) -> None:
    snapshot = await catalog.refresh()
    assert len(snapshot.models) == 7 and len(snapshot.providers) == 6
    clock.advance(599)
    assert catalog.refresh_if_due() is None
    await catalog.snapshot()
    assert (source.model_calls, source.provider_calls) == (1, 1)


async def test_stale_lists_are_served_at_once_while_one_refresh_runs(
    catalog: ModelCatalog, source: ScriptedSource, clock: Clock
) -> None:
    await catalog.refresh()
    source.models = source.models[:2]
    source.gate = asyncio.Event()
    clock.advance(601)

    snapshots = await asyncio.gather(*(catalog.snapshot() for _ in range(5)))
    assert all(len(snapshot.models) == 7 for snapshot in snapshots), "the old list, without waiting"
    assert source.model_calls == 2, "five callers, one refresh"

    task = catalog.refresh_if_due()
    assert task is not None
    source.gate.set()
    await task
    assert len(catalog.current.models) == 2
    assert source.model_calls == 2


async def test_an_empty_catalog_waits_a_bounded_time_then_answers_empty(
    source: ScriptedSource, clock: Clock
) -> None:
    source.gate = asyncio.Event()
    catalog = ModelCatalog(source, clock=clock, wait_s=0.05)
    try:
        started = time.perf_counter()
        snapshot = await catalog.snapshot()
        assert time.perf_counter() - started < 1.0
        assert not snapshot.has_models and snapshot.search_models("gem", Operation.IMAGINE) == []
        assert catalog.modalities_for("black-forest-labs/flux.2-pro") == ("image", "text"), "unknown: the default"

        source.gate.set()  # the refresh kept going after the caller gave up
        assert await catalog.wait_until_loaded()
        assert catalog.modalities_for("black-forest-labs/flux.2-pro") == ("image",)
        assert source.model_calls == 1
    finally:
        await catalog.aclose()


async def test_a_failed_refresh_keeps_the_old_lists_and_backs_off(
    catalog: ModelCatalog, source: ScriptedSource, clock: Clock
) -> None:
    await catalog.refresh()
    clock.advance(601)
    source.fail = ConnectionFailedError("down")
    await catalog.refresh()
    assert len(catalog.current.models) == 7 and len(catalog.current.providers) == 6
    calls = source.model_calls

    clock.advance(10)
    assert catalog.refresh_if_due() is None, "no retry on every keystroke"
    clock.advance(21)
    source.fail = None
    task = catalog.refresh_if_due()
    assert task is not None
    await task
    assert source.model_calls == calls + 1


async def test_close_cancels_a_refresh_in_flight(source: ScriptedSource, clock: Clock) -> None:
    source.gate = asyncio.Event()
    catalog = ModelCatalog(source, clock=clock)
    catalog.start()
    await source.entered.wait()
    task = catalog.refresh_if_due()
    assert task is not None
    await catalog.aclose()
    assert task.cancelled()


async def test_reads_the_real_client_against_the_stand_in(fake_openrouter: FakeOpenRouter) -> None:
    async with httpx.AsyncClient() as http:
        client = OpenRouterClient(http, api_key=fake_openrouter.api_key, base_url=fake_openrouter.base_url,
                                  timeout_s=5)
        catalog = ModelCatalog(client)
        snapshot = await catalog.refresh()
        await catalog.aclose()
    assert snapshot.model("sourceful/riverflow-v2") is not None, "image-only models are listed too"
    paths = {(request.path, request.query.get("output_modalities")) for request in fake_openrouter.requests}
    assert paths == {("/models", "all"), ("/providers", None)}


# -- modalities ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("black-forest-labs/flux.2-pro", ("image",)),
        ("google/gemini-2.5-flash-image", ("image", "text")),
        ("acme/not-listed", ("image", "text")),
    ],
)
async def test_modalities_follow_the_models_outputs(
    catalog: ModelCatalog, model: str, expected: tuple[str, ...]
) -> None:
    await catalog.refresh()
    assert catalog.modalities_for(model) == expected


# -- ranking ---------------------------------------------------------------------------------


def _model(model_id: str, name: str, outputs: tuple[str, ...] = ("image",),
           inputs: tuple[str, ...] = ("text",)) -> ModelInfo:
    return ModelInfo(id=model_id, name=name, input_modalities=frozenset(inputs), output_modalities=frozenset(outputs))


async def test_exact_then_prefix_then_substring_within_capable_models(
    catalog: ModelCatalog, source: ScriptedSource
) -> None:
    source.models = [
        _model("acme/superflux", "Acme: Superflux"),  # substring
        _model("flux", "Plain Flux"),  # exact id
        _model("acme/flux-lite", "Acme: Flux Lite"),  # prefix after the author
        _model("text/flux-writer", "Flux Writer", outputs=("text",)),  # prefix, but no image output
    ]
    snapshot = await catalog.refresh()
    found = [model.id for model in snapshot.search_models("FLUX", Operation.IMAGINE)]
    assert found == ["flux", "acme/flux-lite", "acme/superflux", "text/flux-writer"]


async def test_describe_puts_image_readers_first(catalog: ModelCatalog, source: ScriptedSource) -> None:
    source.models = [
        _model("a/painter", "Painter", outputs=("image",), inputs=("text",)),
        _model("b/viewer", "Viewer", outputs=("text",), inputs=("text", "image")),
    ]
    snapshot = await catalog.refresh()
    assert [m.id for m in snapshot.search_models("", Operation.DESCRIBE)] == ["b/viewer", "a/painter"]
    assert [m.id for m in snapshot.search_models("", Operation.EDIT)] == ["a/painter", "b/viewer"]


async def test_search_is_capped_at_25(catalog: ModelCatalog, source: ScriptedSource) -> None:
    source.models = [_model(f"acme/model-{number:02d}", f"Model {number}") for number in range(40)]
    snapshot = await catalog.refresh()
    assert len(snapshot.search_models("model", Operation.IMAGINE)) == 25


async def test_providers_resolve_by_slug_or_name_and_suggest_close_ones(catalog: ModelCatalog) -> None:
    snapshot = await catalog.refresh()
    provider = snapshot.provider("google vertex")
    assert provider is not None and provider.slug == "google-vertex"
    assert snapshot.provider("OPENAI") is not None
    assert snapshot.provider("gogle-vertex") is None
    assert [p.slug for p in snapshot.close_providers("gogle-vertex")][0] == "google-vertex"
    assert [p.slug for p in snapshot.search_providers("goo", exclude=["google-vertex"])] == ["google-ai-studio"]


async def test_readiness(catalog: ModelCatalog) -> None:
    empty = catalog.current
    assert empty.readiness(Operation.IMAGINE, "x/y", enabled=True) is Readiness.UNCHECKED
    snapshot = await catalog.refresh()
    assert snapshot.readiness(Operation.IMAGINE, "google/gemini-2.5-flash-image", enabled=True) is Readiness.READY
    assert snapshot.readiness(Operation.IMAGINE, "google/gemini-2.5-flash", enabled=True) is Readiness.INCAPABLE
    assert snapshot.readiness(Operation.DESCRIBE, "meta-llama/llama-3.1-8b-instruct", enabled=True) \
        is Readiness.INCAPABLE
    assert snapshot.readiness(Operation.EDIT, "acme/nope", enabled=True) is Readiness.UNKNOWN_MODEL
    assert snapshot.readiness(Operation.EDIT, "acme/nope", enabled=False) is Readiness.DISABLED


# -- the key ---------------------------------------------------------------------------------


async def test_key_status_is_cached_for_five_minutes(
    catalog: ModelCatalog, source: ScriptedSource, clock: Clock
) -> None:
    first = await catalog.key_status()
    assert first.state is KeyState.WORKS and first.works
    clock.advance(299)
    await asyncio.gather(catalog.key_status(), catalog.key_status())
    assert source.key_calls == 1
    clock.advance(2)
    await catalog.key_status()
    assert source.key_calls == 2


@pytest.mark.parametrize(
    ("result", "state"),
    [
        (AuthenticationError("User not found.", status=401), KeyState.REJECTED),
        (ConnectionFailedError("down"), KeyState.UNREACHABLE),
        (KeyInfo(label="", limit=5.0, limit_remaining=0.0, usage=5.0, is_free_tier=False), KeyState.NO_CREDIT),
    ],
)
async def test_key_states(
    catalog: ModelCatalog, source: ScriptedSource, result: KeyInfo | Exception, state: KeyState
) -> None:
    source.key_result = result
    status = await catalog.key_status()
    assert status.state is state


async def test_an_unreachable_key_check_is_retried_sooner(
    catalog: ModelCatalog, source: ScriptedSource, clock: Clock
) -> None:
    source.key_result = ConnectionFailedError("down")
    await catalog.key_status()
    clock.advance(31)
    source.key_result = KeyInfo(label="", limit=None, limit_remaining=None, usage=0.0, is_free_tier=True)
    assert (await catalog.key_status()).state is KeyState.WORKS
    assert source.key_calls == 2
