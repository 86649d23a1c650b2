"""What OpenRouter offers, held in memory: models, providers, and whether the API key works.

Autocomplete has to answer within Discord's 3-second window on every keystroke, and `/imagine`
must pick its `modalities` without a round trip, so nothing here makes a command wait on
OpenRouter for long. The lists are fetched in a background task, kept for a time-to-live (10
minutes) and served as an immutable `CatalogSnapshot`. When they go stale the last snapshot keeps
being served while one refresh runs (never two at once). Only when nothing was ever loaded does a
caller wait, and at most `wait_s` (about a second); after that it gets an empty snapshot, never an
error. A failed refresh keeps the previous lists and is retried after a short back-off, so a
network outage does not turn every keystroke into a request.

Two catalogs make up the model list: the chat route's (`GET /models?output_modalities=all`) and the
Images API's (`GET /images/models`), fetched together, with the same time-to-live and the same
tolerance of failure (each keeps its last list when its fetch fails; an Images API that answers 404 is
taken as not offered). From them the catalog knows which route serves a model (`routes_for`,
`route_for`), which image parameters each route honours for it (`image_params`, a frozen
`ImageParams`), and a short hint of those for autocomplete (`hint`). The Images API's per-provider
records (`/images/models/{author}/{slug}/endpoints`) are fetched only when asked for
(`endpoint_params`), cached with the same time-to-live, and narrowed by a server's provider filter.

The `GET /key` check for `/status` lives here too: it is the same kind of cached, best-effort
knowledge about the OpenRouter account, with its own time-to-live.

The clock is injected so that tests can move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import difflib
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any, Protocol

from bot.messages import status as status_texts
from bot.openrouter import (
    AuthenticationError,
    InsufficientCreditsError,
    KeyInfo,
    ModelInfo,
    ModelNotFoundError,
    OpenRouterError,
    ProviderFilter,
    ProviderInfo,
    UpstreamStatusError,
)
from bot.openrouter.types import (
    BooleanParam,
    EnumParam,
    ImageEndpointInfo,
    ImageModelInfo,
    ParamDescriptor,
    RangeParam,
)
from bot.operations import Operation
from bot.requests import Route

__all__ = [
    "AUTOCOMPLETE_LIMIT",
    "CHAT_ASPECT_RATIOS",
    "CHAT_RESOLUTIONS",
    "IMAGES_ASPECT_RATIOS",
    "IMAGES_QUALITIES",
    "IMAGES_RESOLUTIONS",
    "CatalogSnapshot",
    "CatalogSource",
    "ImageCatalogSource",
    "ImageParams",
    "KeyState",
    "KeyStatus",
    "ModelCatalog",
    "Readiness",
]

log = logging.getLogger(__name__)

#: Discord accepts at most 25 autocomplete choices.
AUTOCOMPLETE_LIMIT = 25

_WORD_SPLIT = re.compile(r"[^0-9a-z]+")

#: `image_config.aspect_ratio` values the chat route documents.
CHAT_ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
#: `image_config.image_size` tiers of Gemini-like image models on the chat route.
CHAT_RESOLUTIONS = ("1K", "2K", "4K")
#: The enums of `ImageGenerationRequest` (OpenRouter's OpenAPI spec), smallest resolution first.
IMAGES_ASPECT_RATIOS = (
    "1:1", "1:2", "1:4", "1:8", "2:1", "2:3", "3:2", "3:4", "4:1", "4:3", "4:5", "5:4", "8:1", "9:16", "16:9",
    "9:19.5", "19.5:9", "9:20", "20:9", "9:21", "21:9", "auto",
)
IMAGES_RESOLUTIONS = ("512", "1K", "2K", "4K")
IMAGES_QUALITIES = ("auto", "low", "medium", "high")
#: `n` on the Images API is 1-10.
IMAGES_MAX_COUNT = 10
#: Endpoint listings kept at once (one per model asked about; the oldest go first).
ENDPOINT_CACHE_SIZE = 256


class CatalogSource(Protocol):
    """The part of `OpenRouterClient` the catalog reads; a protocol so tests can script it."""

    async def list_models(self, output_modalities: str = "all") -> list[ModelInfo]:
        """Every model, image-output ones included."""
        ...

    async def list_providers(self) -> list[ProviderInfo]:
        """Every provider OpenRouter routes to."""
        ...

    async def key_info(self) -> KeyInfo:
        """What OpenRouter knows of the API key."""
        ...


class ImageCatalogSource(Protocol):
    """The Images API part of `OpenRouterClient`; a source without it has no Images API catalog."""

    async def list_image_models(self) -> list[ImageModelInfo]:
        """Every model of `GET /images/models`."""
        ...

    async def image_model_endpoints(self, model_id: str) -> list[ImageEndpointInfo]:
        """The providers serving one Images API model."""
        ...


@dataclass(frozen=True, slots=True)
class ImageParams:
    """Which image parameters a model honours on one route, as far as the catalog knows.

    `max_count`: images one call may make (`n`; 1 where `n` is not supported, always 1 on the chat
    route). `seed`: a seed is honoured. `resolutions`, `qualities`, `aspect_ratios`: the values offered
    (empty: the parameter is not supported). `streaming`: previews can be streamed. `max_references`:
    reference images taken (0: none; None: not known). `known` is False when the model is in neither
    catalog: then nothing is known to be unsupported, and callers should not drop options for it.
    """

    max_count: int = 1
    seed: bool = False
    resolutions: tuple[str, ...] = ()
    qualities: tuple[str, ...] = ()
    aspect_ratios: tuple[str, ...] = ()
    streaming: bool = False
    max_references: int | None = None
    known: bool = False


def _choices(descriptor: ParamDescriptor | None, every: tuple[str, ...]) -> tuple[str, ...]:
    """The values an enum descriptor lists; a bare "supported" flag means every value of the spec's enum."""
    if isinstance(descriptor, EnumParam):
        return descriptor.values
    if isinstance(descriptor, BooleanParam):
        return every
    return ()


def _count_bound(descriptor: ParamDescriptor | None) -> int:
    """The most images `n` may ask for: 1 without `n`, else its range's or enum's top (within 1-10)."""
    if descriptor is None:
        return 1
    top = float(IMAGES_MAX_COUNT)
    if isinstance(descriptor, RangeParam):
        top = descriptor.maximum if descriptor.maximum is not None else float(IMAGES_MAX_COUNT)
    elif isinstance(descriptor, EnumParam):
        numbers = [float(value) for value in descriptor.values if _is_number(value)]
        top = max(numbers) if numbers else 1.0
    return max(1, min(IMAGES_MAX_COUNT, int(top)))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _images_params(
    parameters: Mapping[str, ParamDescriptor],
    *,
    streaming: bool,
    max_references: int | None,
    input_modalities: frozenset[str],
) -> ImageParams:
    """`ImageParams` from an Images API `supported_parameters` (a model's, or one endpoint's)."""
    references = parameters.get("input_references")
    if isinstance(references, RangeParam) and references.maximum is not None:
        max_references = max(0, int(references.maximum))
    elif max_references is None and input_modalities and "image" not in input_modalities:
        max_references = 0
    return ImageParams(
        max_count=_count_bound(parameters.get("n")),
        seed="seed" in parameters,
        resolutions=_choices(parameters.get("resolution"), IMAGES_RESOLUTIONS),
        qualities=_choices(parameters.get("quality"), IMAGES_QUALITIES),
        aspect_ratios=_choices(parameters.get("aspect_ratio"), IMAGES_ASPECT_RATIOS),
        streaming=streaming,
        max_references=max_references,
        known=True,
    )


def _listing_params(model: ImageModelInfo) -> ImageParams:
    return _images_params(
        model.supported_parameters, streaming=model.supports_streaming, max_references=model.max_references,
        input_modalities=model.input_modalities,
    )


def _is_gemini_like(model: ModelInfo) -> bool:
    """Google's Gemini image models: the ones the chat route gives `image_config.image_size` tiers."""
    return model.makes_images and model.id.casefold().startswith("google/gemini")


def _chat_params(model: ModelInfo) -> ImageParams:
    """What the chat route implies: `image_config` ratios, 1K-4K for Gemini-like models, no `n`, seed if listed."""
    return ImageParams(
        max_count=1,
        seed="seed" in model.supported_parameters,
        resolutions=CHAT_RESOLUTIONS if _is_gemini_like(model) else (),
        aspect_ratios=CHAT_ASPECT_RATIOS if model.makes_images else (),
        max_references=None if model.reads_images else 0,
        known=True,
    )


def _unknown_params(route: Route) -> ImageParams:
    ratios = IMAGES_ASPECT_RATIOS if route is Route.IMAGES else CHAT_ASPECT_RATIOS
    return ImageParams(aspect_ratios=ratios, known=False)


def _common(values: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The values every tuple has, in the first one's order."""
    first, *rest = values
    return tuple(value for value in first if all(value in other for other in rest))


def _narrowed(endpoints: list[ImageEndpointInfo], model: ImageModelInfo) -> ImageParams:
    """What every one of `endpoints` honours: OpenRouter may route to any of them and drops what it does not.

    Counts and reference limits take the smallest (a provider that makes one image rejects `n > 1`);
    streaming is offered when any endpoint streams (the others answer buffered).
    """
    each = [
        _images_params(endpoint.supported_parameters, streaming=endpoint.supports_streaming,
                       max_references=model.max_references, input_modalities=model.input_modalities)
        for endpoint in endpoints
    ]
    limits = [params.max_references for params in each if params.max_references is not None]
    return ImageParams(
        max_count=min(params.max_count for params in each),
        seed=all(params.seed for params in each),
        resolutions=_common([params.resolutions for params in each]),
        qualities=_common([params.qualities for params in each]),
        aspect_ratios=_common([params.aspect_ratios for params in each]),
        streaming=any(params.streaming for params in each),
        max_references=min(limits) if limits else None,
        known=True,
    )


def _hint(params: ImageParams) -> str:
    """A few words for autocomplete: "n≤4 · seed · 4K · quality · stream"; empty when nothing is known."""
    if not params.known:
        return ""
    parts: list[str] = []
    if params.max_count > 1:
        parts.append(f"n≤{params.max_count}")
    if params.seed:
        parts.append("seed")
    ranked = [value for value in IMAGES_RESOLUTIONS if value in params.resolutions]
    if ranked:
        parts.append(ranked[-1])
    if params.qualities:
        parts.append("quality")
    if params.streaming:
        parts.append("stream")
    return " · ".join(parts)


class Readiness(Enum):
    """Whether an operation can work in a server, as far as the bot can tell without trying."""

    READY = "ready"
    DISABLED = "disabled"
    UNKNOWN_MODEL = "unknown_model"
    INCAPABLE = "incapable"
    UNCHECKED = "unchecked"

    def describe(self, operation: Operation) -> str:
        """An indicator and a few words, the same in `/config show` and `/status` (`bot.messages.status`)."""
        if self is Readiness.INCAPABLE:
            incapable = status_texts.READY_INCAPABLE_IMAGES if operation.needs_image_output else (
                status_texts.READY_INCAPABLE_VISION
            )
            return incapable.text
        return {
            Readiness.READY: status_texts.READY,
            Readiness.DISABLED: status_texts.READY_DISABLED,
            Readiness.UNKNOWN_MODEL: status_texts.READY_UNKNOWN_MODEL,
            Readiness.UNCHECKED: status_texts.READY_UNCHECKED,
        }[self].text


def is_capable(model: ModelInfo, operation: Operation) -> bool:
    """Imagine and edit need image output; describe needs image input."""
    return model.makes_images if operation.needs_image_output else model.reads_images


def _lookup(models: Mapping[str, Any], model_id: str) -> Any:
    """`models[model_id]`, else the entry whose id matches case-insensitively, else None."""
    found = models.get(model_id)
    if found is not None:
        return found
    wanted = model_id.casefold()
    return next((model for model in models.values() if model.id.casefold() == wanted), None)


def _ranked(models: Iterable[ModelInfo], query: str, operation: Operation, limit: int | None) -> list[ModelInfo]:
    wanted = query.strip().casefold()
    ranked: list[tuple[tuple[int, int, str], ModelInfo]] = []
    for model in models:
        rank = _match_rank(wanted, model.id.casefold(), model.name.casefold())
        if rank is not None:
            capable = 0 if is_capable(model, operation) else 1
            ranked.append(((capable, rank, model.id.casefold()), model))
    ranked.sort(key=lambda item: item[0])
    return [model for _key, model in ranked[:limit]]


def _words(text: str) -> list[str]:
    return [word for word in _WORD_SPLIT.split(text) if word]


def _match_rank(query: str, *texts: str) -> int | None:
    """How well `query` matches: 0 exact, 1 prefix, 2 word prefix, 3 substring, 4 all words; None.

    Both sides are already case-folded. The part of an id after its author counts as a prefix, so
    "gem" ranks "google/gemini-…" as a prefix match, which is what people type.
    """
    if not query:
        return 0
    if any(text == query for text in texts):
        return 0
    if any(text.startswith(query) or text.partition("/")[2].startswith(query) for text in texts):
        return 1
    if any(word.startswith(query) for text in texts for word in _words(text)):
        return 2
    if any(query in text for text in texts):
        return 3
    terms = query.split()
    joined = " ".join(texts)
    if len(terms) > 1 and all(term in joined for term in terms):
        return 4
    return None


@dataclass(frozen=True)
class CatalogSnapshot:
    """The lists as of one refresh; immutable, so a command reads one consistent view."""

    #: The chat route's catalog (`GET /models`).
    models: Mapping[str, ModelInfo] = field(default_factory=lambda: MappingProxyType({}))
    providers: tuple[ProviderInfo, ...] = ()
    models_loaded_at: float | None = None
    providers_loaded_at: float | None = None
    #: The Images API's catalog (`GET /images/models`).
    image_models: Mapping[str, ImageModelInfo] = field(default_factory=lambda: MappingProxyType({}))
    image_models_loaded_at: float | None = None

    @property
    def has_models(self) -> bool:
        """True once the chat route's model list arrived (an empty list from OpenRouter counts as not loaded)."""
        return bool(self.models)

    @property
    def has_image_models(self) -> bool:
        """True once the Images API's model list arrived."""
        return bool(self.image_models)

    @property
    def has_providers(self) -> bool:
        """True once a provider list arrived."""
        return bool(self.providers)

    # -- models ---------------------------------------------------------------------------------

    def model(self, model_id: str) -> ModelInfo | None:
        """The model with this id, compared case-insensitively (ids are lower-case upstream).

        The chat catalog's entry when it lists the model, else one made from the Images API's entry (a
        model only that API serves), so checks and warnings know both.
        """
        found = self.chat_model(model_id)
        if found is not None:
            return found
        image_model = self.image_model(model_id)
        return image_model.as_model_info() if image_model is not None else None

    def chat_model(self, model_id: str) -> ModelInfo | None:
        """The chat catalog's entry for this id (case-insensitive), or None."""
        return _lookup(self.models, model_id)

    def image_model(self, model_id: str) -> ImageModelInfo | None:
        """The Images API catalog's entry for this id (case-insensitive), or None."""
        return _lookup(self.image_models, model_id)

    def model_by_name(self, name: str) -> ModelInfo | None:
        """The model whose display name is exactly `name` (case-insensitive), for hand-typed names."""
        wanted = name.strip().casefold()
        found = next((m for m in self.models.values() if m.name.casefold() == wanted), None)
        if found is None:
            image_model = next((m for m in self.image_models.values() if m.name.casefold() == wanted), None)
            found = image_model.as_model_info() if image_model is not None else None
        return found

    # -- routes and parameters ------------------------------------------------------------------

    def routes_for(self, model_id: str) -> frozenset[Route]:
        """The routes whose catalog lists the model (empty when neither does)."""
        routes = set()
        if self.chat_model(model_id) is not None:
            routes.add(Route.CHAT)
        if self.image_model(model_id) is not None:
            routes.add(Route.IMAGES)
        return frozenset(routes)

    def route_for(self, model_id: str, forced: Route | None = None) -> Route:
        """The route an image request for the model takes.

        `forced` wins when that route serves the model, or when neither catalog lists it (the lists may
        lag behind new models, or not be loaded: an admin's explicit choice stands). Otherwise a model
        the chat catalog lists as making images keeps Route.CHAT; one the Images API serves (and the chat
        catalog does not, or lists without image output) uses Route.IMAGES; anything else Route.CHAT.
        """
        routes = self.routes_for(model_id)
        if forced is not None and (forced in routes or not routes):
            return forced
        chat = self.chat_model(model_id)
        if chat is not None and (chat.makes_images or Route.IMAGES not in routes):
            return Route.CHAT
        return Route.IMAGES if Route.IMAGES in routes else Route.CHAT

    def image_params(self, model_id: str, route: Route | None = None) -> ImageParams:
        """What the model honours on `route` (default: `route_for(model_id)`).

        Route.IMAGES: from `/images/models`' supported parameters (the union over its endpoints; see
        `ModelCatalog.endpoint_params` for one provider filter's). Route.CHAT: what the chat catalog
        implies. A model the route's catalog does not list: `known=False`, the route's aspect ratios.
        """
        chosen = route or self.route_for(model_id)
        if chosen is Route.IMAGES:
            image_model = self.image_model(model_id)
            return _listing_params(image_model) if image_model is not None else _unknown_params(chosen)
        chat = self.chat_model(model_id)
        return _chat_params(chat) if chat is not None else _unknown_params(chosen)

    def hint(self, model_id: str, route: Route | None = None) -> str:
        """A short hint of what the model honours, for autocomplete: e.g. "n≤4 · seed · 4K · stream"."""
        return _hint(self.image_params(model_id, route))

    def search_image_models(
        self, query: str = "", operation: Operation = Operation.IMAGINE, limit: int | None = AUTOCOMPLETE_LIMIT
    ) -> list[ModelInfo]:
        """Models of both catalogs matching `query`: capable ones first, then best match, then alphabetical.

        A model both list appears once, as the chat catalog has it.
        """
        merged = dict(self.models)
        known = {model_id.casefold() for model_id in merged}
        for image_model in self.image_models.values():
            if image_model.id.casefold() not in known:
                merged[image_model.id] = image_model.as_model_info()
        return _ranked(merged.values(), query, operation, limit)

    def search_models(
        self, query: str, operation: Operation, limit: int = AUTOCOMPLETE_LIMIT
    ) -> list[ModelInfo]:
        """Models matching `query`, capable ones first, then best match, then alphabetical."""
        return _ranked(self.models.values(), query, operation, limit)

    def readiness(self, operation: Operation, model_id: str, *, enabled: bool) -> Readiness:
        """Whether `model_id` can serve `operation`, judged from the lists alone.

        A model only the Images API serves is ready to make images, never to describe them.
        """
        if not enabled:
            return Readiness.DISABLED
        if not self.has_models:
            return Readiness.UNCHECKED
        model = self.model(model_id)
        if model is None:
            return Readiness.UNKNOWN_MODEL
        if not operation.needs_image_output and self.chat_model(model_id) is None:
            return Readiness.INCAPABLE
        return Readiness.READY if is_capable(model, operation) else Readiness.INCAPABLE

    # -- providers ------------------------------------------------------------------------------

    def provider(self, text: str) -> ProviderInfo | None:
        """The provider whose slug or display name is `text`, case-insensitively."""
        wanted = text.strip().casefold()
        for provider in self.providers:
            if wanted in (provider.slug.casefold(), provider.name.casefold()):
                return provider
        return None

    def close_providers(self, text: str, n: int = 3) -> list[ProviderInfo]:
        """Providers whose slug or name looks like `text`, for "did you mean" answers."""
        by_key: dict[str, ProviderInfo] = {}
        for provider in self.providers:
            by_key.setdefault(provider.slug.casefold(), provider)
            by_key.setdefault(provider.name.casefold(), provider)
        found: list[ProviderInfo] = []
        for key in difflib.get_close_matches(text.strip().casefold(), list(by_key), n=n * 2, cutoff=0.5):
            if by_key[key] not in found:
                found.append(by_key[key])
        return found[:n]

    def search_providers(
        self, query: str, exclude: Iterable[str] = (), limit: int = AUTOCOMPLETE_LIMIT
    ) -> list[ProviderInfo]:
        """Providers matching `query` by slug or name, best first, leaving out slugs in `exclude`."""
        wanted = query.strip().casefold()
        skip = {slug.casefold() for slug in exclude}
        ranked: list[tuple[tuple[int, str], ProviderInfo]] = []
        for provider in self.providers:
            if provider.slug.casefold() in skip:
                continue
            rank = _match_rank(wanted, provider.slug.casefold(), provider.name.casefold())
            if rank is not None:
                ranked.append(((rank, provider.slug.casefold()), provider))
        ranked.sort(key=lambda item: item[0])
        return [provider for _key, provider in ranked[:limit]]


class KeyState(Enum):
    """What the last `GET /key` said about the API key."""

    WORKS = "works"
    NO_CREDIT = "no_credit"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class KeyStatus:
    """The outcome of one key check; `info` is None unless OpenRouter answered it."""

    state: KeyState
    checked_at: float
    info: KeyInfo | None = None
    detail: str = ""

    @property
    def works(self) -> bool:
        """True when OpenRouter accepted the key (it may still be out of credit)."""
        return self.state in (KeyState.WORKS, KeyState.NO_CREDIT)


class ModelCatalog:
    """OpenRouter's models and providers in memory, refreshed in the background; see the module."""

    def __init__(
        self,
        source: CatalogSource,
        *,
        ttl_s: float = 600.0,
        retry_after_failure_s: float = 30.0,
        wait_s: float = 1.0,
        refresh_timeout_s: float = 30.0,
        key_ttl_s: float = 300.0,
        key_failure_ttl_s: float = 30.0,
        key_timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self.ttl_s = ttl_s
        self.retry_after_failure_s = retry_after_failure_s
        self.wait_s = wait_s
        self.refresh_timeout_s = refresh_timeout_s
        self.key_ttl_s = key_ttl_s
        self.key_failure_ttl_s = key_failure_ttl_s
        self.key_timeout_s = key_timeout_s
        #: Public so a test can swap in a clock it moves by hand.
        self.clock = clock
        self._snapshot = CatalogSnapshot()
        self._last_attempt: float | None = None
        self._last_failed = False
        self._task: asyncio.Task[None] | None = None
        self._refreshes = 0
        self._key_status: KeyStatus | None = None
        self._key_lock = asyncio.Lock()
        #: Endpoint listings by model id: when fetched, and the endpoints (None: the fetch failed).
        self._endpoints: dict[str, tuple[float, tuple[ImageEndpointInfo, ...] | None]] = {}
        self._endpoint_tasks: dict[str, asyncio.Task[None]] = {}

    # -- reading --------------------------------------------------------------------------------

    @property
    def current(self) -> CatalogSnapshot:
        """The lists as they are now, without waiting; starts a refresh if they are due for one."""
        self.refresh_if_due()
        return self._snapshot

    async def snapshot(self, wait_s: float | None = None) -> CatalogSnapshot:
        """The lists, waiting at most `wait_s` (default `self.wait_s`) and only if none was loaded.

        A stale list is served at once while the refresh runs: an answer now beats a fresher one
        later for autocomplete, and a lagging list only costs a warning elsewhere.
        """
        task = self.refresh_if_due()
        if task is not None and not self._snapshot.has_models:
            timeout = self.wait_s if wait_s is None else wait_s
            # asyncio.wait neither raises on time-out nor cancels the task: the refresh keeps going.
            await asyncio.wait({task}, timeout=timeout)
        return self._snapshot

    def modalities_for(self, model_id: str) -> tuple[str, ...]:
        """The `modalities` to request: ("image",) for image-only models, else ("image", "text").

        Never waits. An unknown model gets ("image", "text"), which text-and-image models need and
        which OpenRouter documents as the usual value.
        """
        model = self.current.model(model_id)
        if model is not None and model.output_modalities and "text" not in model.output_modalities:
            return ("image",)
        return ("image", "text")

    def routes_for(self, model_id: str) -> frozenset[Route]:
        """The routes whose catalog lists the model (empty if unknown); never waits."""
        return self.current.routes_for(model_id)

    def route_for(self, model_id: str, forced: Route | None = None) -> Route:
        """The route an image request for the model takes (`CatalogSnapshot.route_for`); never waits."""
        return self.current.route_for(model_id, forced)

    def image_params(self, model_id: str, route: Route | None = None) -> ImageParams:
        """What the model honours on `route` (default: its `route_for`); never waits."""
        return self.current.image_params(model_id, route)

    def hint(self, model_id: str, route: Route | None = None) -> str:
        """A short hint for autocomplete, e.g. "n≤4 · seed · 4K · stream"; never waits."""
        return self.current.hint(model_id, route)

    def image_models(
        self, query: str = "", operation: Operation = Operation.IMAGINE, limit: int | None = AUTOCOMPLETE_LIMIT
    ) -> list[ModelInfo]:
        """Both catalogs' models matching `query`, image-capable first (`CatalogSnapshot.search_image_models`).

        Never waits: before anything is loaded it is empty (await `snapshot()` first to wait a little).
        """
        return self.current.search_image_models(query, operation, limit)

    async def endpoint_params(
        self,
        model_id: str,
        providers: ProviderFilter | None = None,
        *,
        route: Route | None = None,
        wait_s: float | None = None,
    ) -> ImageParams:
        """`image_params`, narrowed to the Images API endpoints `providers` allows, when that is known.

        The endpoint listing is fetched on first need and kept for the time-to-live (a failed fetch is
        retried after the back-off); this waits for it at most `wait_s` (default `self.wait_s`), and the
        fetch goes on in the background. Narrowed means what every allowed endpoint honours (see
        `_narrowed`). Falls back to `image_params` for a model on the chat route, when the listing is not
        (yet) known, or when the filter allows none of the endpoints (the request will then be refused).
        """
        snapshot = self.current
        chosen = route or snapshot.route_for(model_id)
        fallback = snapshot.image_params(model_id, chosen)
        image_model = snapshot.image_model(model_id)
        if chosen is not Route.IMAGES or image_model is None:
            return fallback
        endpoints = await self._endpoints_of(image_model.id, self.wait_s if wait_s is None else wait_s)
        allowed = [
            endpoint for endpoint in endpoints or ()
            if (providers or ProviderFilter()).allows(endpoint.provider_slug, endpoint.provider_name,
                                                      endpoint.provider_tag)
        ]
        return _narrowed(allowed, image_model) if allowed else fallback

    def known_endpoints(self, model_id: str) -> tuple[ImageEndpointInfo, ...]:
        """The Images API endpoints of a model as last fetched, without fetching (empty when not known)."""
        image_model = self.current.image_model(model_id)
        cached = self._endpoints.get(image_model.id if image_model is not None else model_id)
        return cached[1] or () if cached is not None else ()

    async def _endpoints_of(self, model_id: str, wait_s: float) -> tuple[ImageEndpointInfo, ...] | None:
        cached = self._endpoints.get(model_id)
        if cached is not None:
            fetched_at, endpoints = cached
            ttl = self.ttl_s if endpoints is not None else self.retry_after_failure_s
            if self.clock() - fetched_at < ttl:
                return endpoints
        task = self._endpoint_tasks.get(model_id)
        if task is None or task.done():
            task = asyncio.create_task(self._fetch_endpoints(model_id), name=f"catalog-endpoints-{model_id}")
            self._endpoint_tasks[model_id] = task
        await asyncio.wait({task}, timeout=wait_s)
        cached = self._endpoints.get(model_id)
        return cached[1] if cached is not None else None

    async def _fetch_endpoints(self, model_id: str) -> None:
        fetch = getattr(self._source, "image_model_endpoints", None)
        endpoints: tuple[ImageEndpointInfo, ...] | None = None
        try:
            if fetch is not None:
                async with asyncio.timeout(self.refresh_timeout_s):
                    endpoints = tuple(await fetch(model_id))
        except (OpenRouterError, TimeoutError, ValueError) as exc:
            log.warning("could not load the endpoints of %s: %s", model_id, _reason(exc))
        finally:
            self._endpoint_tasks.pop(model_id, None)
        self._endpoints.pop(model_id, None)
        self._endpoints[model_id] = (self.clock(), endpoints)
        while len(self._endpoints) > ENDPOINT_CACHE_SIZE:
            del self._endpoints[next(iter(self._endpoints))]  # the oldest fetched

    # -- refreshing -----------------------------------------------------------------------------

    @property
    def refreshes(self) -> int:
        """How many refreshes ran to completion (successful or not); for tests and logs."""
        return self._refreshes

    def _due(self) -> bool:
        now = self.clock()
        if self._last_attempt is not None and self._last_failed:
            return now - self._last_attempt >= self.retry_after_failure_s
        loaded = self._snapshot.models_loaded_at
        return loaded is None or now - loaded >= self.ttl_s

    def refresh_if_due(self) -> asyncio.Task[None] | None:
        """Start a background refresh if the lists are stale; return the one in flight, if any."""
        if self._task is not None and not self._task.done():
            return self._task
        if not self._due():
            return None
        self._last_attempt = self.clock()
        self._task = asyncio.create_task(self._refresh(), name="catalog-refresh")
        return self._task

    def start(self) -> None:
        """Begin loading in the background; called from `setup_hook`, which must not wait on it."""
        self.refresh_if_due()

    async def refresh(self) -> CatalogSnapshot:
        """Refresh now (joining one already running) and return the result; for tests and tools."""
        if self._task is None or self._task.done():
            self._last_attempt = self.clock()
            self._task = asyncio.create_task(self._refresh(), name="catalog-refresh")
        await asyncio.shield(self._task)
        return self._snapshot

    async def wait_until_loaded(self, timeout: float = 10.0) -> bool:
        """Wait (bounded) until a model list is held; True if one is."""
        async with asyncio.timeout(timeout):
            while not self._snapshot.has_models:
                task = self.refresh_if_due()
                if task is None:
                    return False
                await asyncio.shield(task)
        return True

    async def _refresh(self) -> None:
        """Fetch both lists; each one that arrives replaces its predecessor, a failure keeps it."""
        try:
            async with asyncio.timeout(self.refresh_timeout_s):
                models, providers, image_models = await asyncio.gather(
                    self._source.list_models(output_modalities="all"),
                    self._source.list_providers(),
                    self._list_image_models(),
                    return_exceptions=True,
                )
            now = self.clock()
            snapshot = self._snapshot
            failed = False
            if isinstance(models, BaseException):
                failed = True
                log.warning("could not refresh the model list: %s", _reason(models))
            elif models:
                snapshot = _replace_models(snapshot, models, now)
            if isinstance(providers, BaseException):
                failed = True
                log.warning("could not refresh the provider list: %s", _reason(providers))
            elif providers:
                snapshot = _replace_providers(snapshot, providers, now)
            if isinstance(image_models, ModelNotFoundError):
                log.info("OpenRouter offers no Images API here (HTTP 404); the chat route serves every model")
                snapshot = _replace_image_models(snapshot, [], now)
            elif isinstance(image_models, BaseException):
                failed = True
                log.warning("could not refresh the Images API's model list: %s", _reason(image_models))
            elif image_models:
                snapshot = _replace_image_models(snapshot, image_models, now)
            self._snapshot = snapshot
            self._last_failed = failed or not snapshot.has_models
            log.info(
                "catalog refreshed: %d models (%d make images), %d Images API models, %d providers",
                len(snapshot.models),
                sum(model.makes_images for model in snapshot.models.values()),
                len(snapshot.image_models),
                len(snapshot.providers),
            )
        except TimeoutError:
            self._last_failed = True
            log.warning("the catalog refresh took longer than %g s; keeping the old lists", self.refresh_timeout_s)
        finally:
            self._refreshes += 1

    async def _list_image_models(self) -> list[ImageModelInfo] | None:
        """The Images API's list; None from a source that has no Images API (it keeps what is held)."""
        fetch = getattr(self._source, "list_image_models", None)
        if fetch is None:
            return None
        found: list[ImageModelInfo] = await fetch()
        return found

    # -- the API key ----------------------------------------------------------------------------

    async def key_status(self) -> KeyStatus:
        """Whether the key works, from a cache (5 minutes; 30 s after an unreachable check)."""
        async with self._key_lock:  # one check in flight; the others reuse its answer
            cached = self._key_status
            if cached is not None:
                ttl = self.key_failure_ttl_s if cached.state is KeyState.UNREACHABLE else self.key_ttl_s
                if self.clock() - cached.checked_at < ttl:
                    return cached
            self._key_status = await self._check_key()
            return self._key_status

    async def _check_key(self) -> KeyStatus:
        try:
            async with asyncio.timeout(self.key_timeout_s):
                info = await self._source.key_info()
        except AuthenticationError as exc:
            return KeyStatus(KeyState.REJECTED, self.clock(), detail=f"HTTP {exc.status}")
        except InsufficientCreditsError as exc:
            return KeyStatus(KeyState.NO_CREDIT, self.clock(), detail=f"HTTP {exc.status}")
        except (OpenRouterError, TimeoutError) as exc:
            return KeyStatus(KeyState.UNREACHABLE, self.clock(), detail=_reason(exc))
        out_of_credit = info.limit is not None and info.limit_remaining is not None and info.limit_remaining <= 0
        state = KeyState.NO_CREDIT if out_of_credit else KeyState.WORKS
        return KeyStatus(state, self.clock(), info=info)

    # -- lifecycle ------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop a refresh in flight, so shutdown does not leave a task behind."""
        task, self._task = self._task, None
        tasks = [task, *self._endpoint_tasks.values()]
        self._endpoint_tasks.clear()
        for pending in tasks:
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending


def _replace_models(snapshot: CatalogSnapshot, models: list[ModelInfo], now: float) -> CatalogSnapshot:
    by_id = MappingProxyType({model.id: model for model in models})
    return dataclasses.replace(snapshot, models=by_id, models_loaded_at=now)


def _replace_providers(
    snapshot: CatalogSnapshot, providers: list[ProviderInfo], now: float
) -> CatalogSnapshot:
    unique = tuple({provider.slug.casefold(): provider for provider in providers if provider.slug}.values())
    return dataclasses.replace(snapshot, providers=unique, providers_loaded_at=now)


def _replace_image_models(snapshot: CatalogSnapshot, models: list[ImageModelInfo], now: float) -> CatalogSnapshot:
    by_id = MappingProxyType({model.id: model for model in models if model.id})
    return dataclasses.replace(snapshot, image_models=by_id, image_models_loaded_at=now)


def _reason(error: BaseException) -> str:
    """A short, secret-free reason for logs and `/status`; a bug (not an upstream error) is logged in full."""
    if not isinstance(error, OpenRouterError | TimeoutError):
        log.error("unexpected error talking to OpenRouter", exc_info=error)
    if isinstance(error, UpstreamStatusError):
        return f"HTTP {error.status}"
    if isinstance(error, TimeoutError):
        return "timed out"
    return type(error).__name__
