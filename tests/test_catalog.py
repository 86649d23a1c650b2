"""The model and provider catalog: time-to-live, one refresh at a time, bounded waits, ranking, key cache."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from bot.catalog import (
    CHAT_ASPECT_RATIOS,
    CHAT_RESOLUTIONS,
    IMAGES_ASPECT_RATIOS,
    ImageParams,
    KeyState,
    ModelCatalog,
    Readiness,
)
from bot.openrouter import (
    AuthenticationError,
    ConnectionFailedError,
    ImageEndpointInfo,
    ImageModelInfo,
    KeyInfo,
    ModelInfo,
    OpenRouterClient,
    ProviderFilter,
    ProviderInfo,
)
from bot.openrouter import errors as e
from bot.operations import Operation
from bot.requests import Route
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
    assert paths == {("/models", "all"), ("/providers", None), ("/images/models", None)}


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


# -- the Images API's catalog: routes, parameters, hints ---------------------------------------------

def _image_model(model_id: str, name: str, parameters: dict[str, Any], *, streaming: bool = False,
                 inputs: tuple[str, ...] = ("text", "image")) -> ImageModelInfo:
    return ImageModelInfo.from_api({
        "id": model_id, "name": name, "description": "", "created": 1,
        "architecture": {"input_modalities": list(inputs), "output_modalities": ["image"]},
        "supported_parameters": parameters, "supports_streaming": streaming,
        "endpoints": f"/api/v1/images/models/{model_id}/endpoints",
    })


ENUM_RES = {"type": "enum", "values": ["1K", "2K", "4K"]}
DEFAULT_IMAGE_MODELS = [
    _image_model("openai/gpt-image-2", "OpenAI: GPT Image 2", {
        "n": {"type": "range", "min": 1, "max": 4}, "quality": {"type": "enum", "values": ["low", "medium", "high"]},
        "resolution": ENUM_RES, "aspect_ratio": {"type": "enum", "values": ["1:1", "3:2", "2:3", "auto"]},
        "input_references": {"type": "range", "min": 0, "max": 16},
    }, streaming=True),
    _image_model("bytedance-seed/seedream-4.5", "ByteDance: Seedream 4.5",
                 {"resolution": ENUM_RES, "seed": {"type": "boolean"}, "n": {"type": "boolean"},
                  "aspect_ratio": {"type": "boolean"}}),
    _image_model("google/gemini-2.5-flash-image", "Google: Gemini 2.5 Flash Image",
                 {"aspect_ratio": {"type": "boolean"}, "n": {"type": "enum", "values": ["1", "2"]}}),
    _image_model("acme/text-maker", "Acme Text Maker", {}, inputs=("text",)),
]

ENDPOINTS = {
    "bytedance-seed/seedream-4.5": [
        ImageEndpointInfo.from_api({
            "provider_name": "Bytedance", "provider_slug": "bytedance", "provider_tag": "bytedance",
            "supported_parameters": {"resolution": {"type": "enum", "values": ["1K", "2K", "4K"]},
                                     "seed": {"type": "boolean"}, "n": {"type": "range", "min": 1, "max": 4}},
            "supports_streaming": False, "pricing": [], "allowed_passthrough_parameters": []}),
        ImageEndpointInfo.from_api({
            "provider_name": "Fal", "provider_slug": "fal", "provider_tag": "fal-ai",
            "supported_parameters": {"resolution": {"type": "enum", "values": ["1K", "2K"]},
                                     "n": {"type": "range", "min": 1, "max": 2}},
            "supports_streaming": True, "pricing": [], "allowed_passthrough_parameters": []}),
    ],
}


class ImagesSource(ScriptedSource):
    """A scripted source with the Images API too."""

    def __init__(self) -> None:
        super().__init__()
        self.image_models: list[ImageModelInfo] = list(DEFAULT_IMAGE_MODELS)
        self.image_calls = 0
        self.image_fail: BaseException | None = None
        self.endpoint_calls: list[str] = []
        self.endpoint_fail: BaseException | None = None
        self.endpoint_gate: asyncio.Event | None = None
        self.endpoint_cancelled = False

    async def list_image_models(self) -> list[ImageModelInfo]:
        self.image_calls += 1
        if self.image_fail is not None:
            raise self.image_fail
        return list(self.image_models)

    async def image_model_endpoints(self, model_id: str) -> list[ImageEndpointInfo]:
        self.endpoint_calls.append(model_id)
        if self.endpoint_gate is not None:
            try:
                await self.endpoint_gate.wait()
            except asyncio.CancelledError:
                self.endpoint_cancelled = True
                raise
        if self.endpoint_fail is not None:
            raise self.endpoint_fail
        return list(ENDPOINTS.get(model_id, []))


@pytest.fixture
def image_source() -> ImagesSource:
    return ImagesSource()


@pytest.fixture
async def images(image_source: ImagesSource, clock: Clock) -> Any:
    """A catalog of both lists, loaded."""
    made = ModelCatalog(image_source, clock=clock)
    await made.refresh()
    yield made
    await made.aclose()


async def test_both_catalogs_load_together_within_the_time_to_live(
    images: ModelCatalog, image_source: ImagesSource, clock: Clock
) -> None:
    snapshot = images.current
    assert len(snapshot.models) == 7 and len(snapshot.image_models) == 4 and snapshot.has_image_models
    clock.advance(599)
    assert images.refresh_if_due() is None
    clock.advance(2)
    await images.refresh()
    assert (image_source.model_calls, image_source.image_calls) == (2, 2)


async def test_a_failed_images_listing_keeps_the_last_one_and_backs_off(
    images: ModelCatalog, image_source: ImagesSource, clock: Clock
) -> None:
    clock.advance(601)
    image_source.image_fail = ConnectionFailedError("down")
    await images.refresh()
    assert len(images.current.image_models) == 4, "the last list"
    assert images.route_for("openai/gpt-image-2") is Route.IMAGES
    clock.advance(10)
    assert images.refresh_if_due() is None, "backs off"
    clock.advance(21)
    image_source.image_fail = None
    task = images.refresh_if_due()
    assert task is not None
    await task
    assert image_source.image_calls == 3


async def test_an_images_api_that_answers_404_is_taken_as_absent(image_source: ImagesSource, clock: Clock) -> None:
    image_source.image_fail = e.ModelNotFoundError("Not Found", status=404)
    catalog = ModelCatalog(image_source, clock=clock)
    try:
        await catalog.refresh()
        assert catalog.current.has_models and not catalog.current.has_image_models
        clock.advance(31)
        assert catalog.refresh_if_due() is None, "not a failure to retry"
        assert catalog.route_for("openai/gpt-image-2") is Route.CHAT
    finally:
        await catalog.aclose()


async def test_a_source_without_the_images_api_still_works(catalog: ModelCatalog) -> None:
    snapshot = await catalog.refresh()
    assert snapshot.has_models and not snapshot.has_image_models
    assert catalog.routes_for("google/gemini-2.5-flash-image") == {Route.CHAT}
    assert catalog.route_for("google/gemini-2.5-flash-image", Route.IMAGES) is Route.CHAT


@pytest.mark.parametrize(
    ("model", "forced", "routes", "route"),
    [
        ("google/gemini-2.5-flash-image", None, {Route.CHAT, Route.IMAGES}, Route.CHAT),  # both: chat kept
        ("google/gemini-2.5-flash-image", Route.IMAGES, {Route.CHAT, Route.IMAGES}, Route.IMAGES),
        ("GOOGLE/Gemini-2.5-Flash-Image", Route.CHAT, {Route.CHAT, Route.IMAGES}, Route.CHAT),
        ("openai/gpt-image-2", None, {Route.IMAGES}, Route.IMAGES),  # only the Images API
        ("openai/gpt-image-2", Route.CHAT, {Route.IMAGES}, Route.IMAGES),  # the forced route does not serve it
        ("black-forest-labs/flux.2-pro", Route.IMAGES, {Route.CHAT}, Route.CHAT),
        ("black-forest-labs/flux.2-pro", None, {Route.CHAT}, Route.CHAT),
        ("acme/unknown", None, set(), Route.CHAT),
        ("acme/unknown", Route.IMAGES, set(), Route.IMAGES),  # nothing says otherwise: the admin's choice
    ],
)
async def test_routing_rules(
    images: ModelCatalog, model: str, forced: Route | None, routes: set[Route], route: Route
) -> None:
    assert images.routes_for(model) == frozenset(routes)
    assert images.route_for(model, forced) is route


async def test_a_chat_listed_model_without_image_output_goes_to_the_images_api(
    images: ModelCatalog, image_source: ImagesSource
) -> None:
    image_source.image_models.append(_image_model("google/gemini-2.5-flash", "Flash via images", {}))
    await images.refresh()
    assert images.routes_for("google/gemini-2.5-flash") == {Route.CHAT, Route.IMAGES}
    assert images.route_for("google/gemini-2.5-flash") is Route.IMAGES
    assert images.route_for("meta-llama/llama-3.1-8b-instruct") is Route.CHAT, "served by chat only"


async def test_image_params_on_the_images_route_come_from_the_descriptors(images: ModelCatalog) -> None:
    assert images.image_params("openai/gpt-image-2") == ImageParams(
        max_count=4, seed=False, resolutions=("1K", "2K", "4K"), qualities=("low", "medium", "high"),
        aspect_ratios=("1:1", "3:2", "2:3", "auto"), streaming=True, max_references=16, known=True)
    seedream = images.image_params("bytedance-seed/seedream-4.5")
    assert (seedream.max_count, seedream.seed, seedream.qualities, seedream.max_references) == (10, True, (), None)
    assert seedream.aspect_ratios == IMAGES_ASPECT_RATIOS, "a bare flag: the spec's enum"
    text_only = images.image_params("acme/text-maker")
    assert (text_only.max_count, text_only.max_references, text_only.aspect_ratios) == (1, 0, ())
    gemini = images.image_params("google/gemini-2.5-flash-image", Route.IMAGES)
    assert gemini.max_count == 2 and gemini.known


async def test_image_params_on_the_chat_route_are_what_the_chat_catalog_implies(images: ModelCatalog) -> None:
    gemini = images.image_params("google/gemini-2.5-flash-image")
    assert gemini == ImageParams(max_count=1, seed=True, resolutions=CHAT_RESOLUTIONS, qualities=(),
                                 aspect_ratios=CHAT_ASPECT_RATIOS, streaming=False, max_references=None, known=True)
    flux = images.image_params("black-forest-labs/flux.2-pro")
    assert (flux.seed, flux.resolutions, flux.max_count) == (True, (), 1), "seed from supported_parameters"
    gpt5 = images.image_params("openai/gpt-5-image")
    assert gpt5.seed and not gpt5.resolutions
    text = images.image_params("meta-llama/llama-3.1-8b-instruct")
    assert (text.aspect_ratios, text.max_references) == ((), 0)


async def test_an_unknown_model_is_not_known(images: ModelCatalog) -> None:
    unknown = images.image_params("acme/unknown")
    assert not unknown.known and unknown.max_count == 1 and unknown.aspect_ratios == CHAT_ASPECT_RATIOS
    assert images.image_params("acme/unknown", Route.IMAGES).aspect_ratios == IMAGES_ASPECT_RATIOS
    assert images.image_params("openai/gpt-image-2", Route.CHAT).known is False, "the chat catalog lacks it"
    assert images.hint("acme/unknown") == ""


@pytest.mark.parametrize(
    ("model", "route", "hint"),
    [
        ("openai/gpt-image-2", None, "n≤4 · 4K · quality · stream"),
        ("bytedance-seed/seedream-4.5", None, "n≤10 · seed · 4K"),
        ("google/gemini-2.5-flash-image", None, "seed · 4K"),
        ("google/gemini-2.5-flash-image", Route.IMAGES, "n≤2"),
        ("black-forest-labs/flux.2-pro", None, "seed"),
        ("acme/text-maker", None, ""),
    ],
)
async def test_hints(images: ModelCatalog, model: str, route: Route | None, hint: str) -> None:
    assert images.hint(model, route) == hint


async def test_image_models_merges_both_catalogs_image_capable_first(images: ModelCatalog) -> None:
    everything = [model.id for model in images.image_models(limit=None)]
    assert len(everything) == len(set(everything)) == 7 + 3, "a model both list appears once"
    makers = {"google/gemini-2.5-flash-image", "black-forest-labs/flux.2-pro", "openai/gpt-5-image",
              "sourceful/riverflow-v2", "openai/gpt-image-2", "bytedance-seed/seedream-4.5", "acme/text-maker"}
    assert set(everything[: len(makers)]) == makers
    assert [model.id for model in images.image_models("gpt")] == ["openai/gpt-5-image", "openai/gpt-image-2",
                                                                   "openai/gpt-4o-mini"]
    assert [model.id for model in images.image_models("seedream")] == ["bytedance-seed/seedream-4.5"]
    assert images.current.model("google/gemini-2.5-flash-image") == images.current.chat_model(
        "google/gemini-2.5-flash-image"), "the chat entry when both list it"
    assert len(images.image_models("", limit=3)) == 3


async def test_models_only_the_images_api_serves_are_known_and_ready_to_make_images(images: ModelCatalog) -> None:
    snapshot = images.current
    found = snapshot.model("OpenAI/GPT-Image-2")
    assert found is not None and found.makes_images and found.name == "OpenAI: GPT Image 2"
    assert snapshot.model_by_name("bytedance: seedream 4.5") is not None
    assert snapshot.readiness(Operation.IMAGINE, "openai/gpt-image-2", enabled=True) is Readiness.READY
    assert snapshot.readiness(Operation.EDIT, "bytedance-seed/seedream-4.5", enabled=True) is Readiness.READY
    assert snapshot.readiness(Operation.DESCRIBE, "bytedance-seed/seedream-4.5", enabled=True) \
        is Readiness.INCAPABLE, "the Images API does not describe"
    assert snapshot.search_models("gpt-image", Operation.IMAGINE) == [], "the chat catalog's search is unchanged"


async def test_endpoint_params_narrow_to_what_every_allowed_endpoint_honours(
    images: ModelCatalog, image_source: ImagesSource
) -> None:
    model = "bytedance-seed/seedream-4.5"
    both = await images.endpoint_params(model)
    assert (both.max_count, both.seed, both.resolutions, both.streaming) == (2, False, ("1K", "2K"), True)
    bytedance = await images.endpoint_params(model, ProviderFilter(only=("Bytedance",)))
    assert (bytedance.max_count, bytedance.seed, bytedance.resolutions, bytedance.streaming) == (
        4, True, ("1K", "2K", "4K"), False)
    fal = await images.endpoint_params(model, ProviderFilter(ignore=("bytedance",), only=("fal-ai",)))
    assert (fal.max_count, fal.seed) == (2, False), "only wins, matched by tag too"
    nobody = await images.endpoint_params(model, ProviderFilter(only=("openai",)))
    assert nobody == images.image_params(model), "no endpoint allowed: the listing's parameters"
    assert image_source.endpoint_calls == [model], "fetched once, then cached"


async def test_endpoint_params_are_cached_for_the_time_to_live_and_failures_back_off(
    images: ModelCatalog, image_source: ImagesSource, clock: Clock
) -> None:
    model = "bytedance-seed/seedream-4.5"
    image_source.endpoint_fail = ConnectionFailedError("down")
    assert await images.endpoint_params(model) == images.image_params(model), "unknown: the listing's"
    clock.advance(10)
    await images.endpoint_params(model)
    assert len(image_source.endpoint_calls) == 1, "a failure is not retried on every call"
    clock.advance(21)
    image_source.endpoint_fail = None
    assert (await images.endpoint_params(model)).max_count == 2
    clock.advance(599)
    await images.endpoint_params(model)
    assert len(image_source.endpoint_calls) == 2
    clock.advance(2)
    await images.endpoint_params(model)
    assert len(image_source.endpoint_calls) == 3


async def test_endpoint_params_never_fetch_for_the_chat_route_and_wait_a_bounded_time(
    images: ModelCatalog, image_source: ImagesSource
) -> None:
    assert await images.endpoint_params("google/gemini-2.5-flash-image") == images.image_params(
        "google/gemini-2.5-flash-image")
    assert await images.endpoint_params("acme/unknown", route=Route.IMAGES) == images.image_params(
        "acme/unknown", Route.IMAGES)
    assert image_source.endpoint_calls == []

    image_source.endpoint_gate = asyncio.Event()
    model = "bytedance-seed/seedream-4.5"
    started = time.perf_counter()
    assert await images.endpoint_params(model, wait_s=0.05) == images.image_params(model)
    assert time.perf_counter() - started < 1.0
    image_source.endpoint_gate.set()  # the fetch went on in the background
    narrowed = images.image_params(model)
    for _ in range(100):
        narrowed = await images.endpoint_params(model, wait_s=0.01)
        if narrowed.max_count == 2:
            break
    assert narrowed.max_count == 2 and len(image_source.endpoint_calls) == 1


async def test_close_cancels_an_endpoint_fetch_in_flight(images: ModelCatalog, image_source: ImagesSource) -> None:
    image_source.endpoint_gate = asyncio.Event()
    await images.endpoint_params("bytedance-seed/seedream-4.5", wait_s=0.01)
    await images.aclose()
    assert image_source.endpoint_calls == ["bytedance-seed/seedream-4.5"] and image_source.endpoint_cancelled
