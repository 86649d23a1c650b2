"""What OpenRouter offers, held in memory: models, providers, and whether the API key works.

Autocomplete has to answer within Discord's 3-second window on every keystroke, and `/imagine`
must pick its `modalities` without a round trip, so nothing here makes a command wait on
OpenRouter for long. The lists are fetched in a background task, kept for a time-to-live (10
minutes) and served as an immutable `CatalogSnapshot`. When they go stale the last snapshot keeps
being served while one refresh runs (never two at once). Only when nothing was ever loaded does a
caller wait, and at most `wait_s` (about a second); after that it gets an empty snapshot, never an
error. A failed refresh keeps the previous lists and is retried after a short back-off, so a
network outage does not turn every keystroke into a request.

The `GET /key` check for `/status` lives here too: it is the same kind of cached, best-effort
knowledge about the OpenRouter account, with its own time-to-live.

The clock is injected so that tests can move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Protocol

from bot.openrouter import (
    AuthenticationError,
    InsufficientCreditsError,
    KeyInfo,
    ModelInfo,
    OpenRouterError,
    ProviderInfo,
    UpstreamStatusError,
)
from bot.operations import Operation

__all__ = [
    "AUTOCOMPLETE_LIMIT",
    "CatalogSnapshot",
    "CatalogSource",
    "KeyState",
    "KeyStatus",
    "ModelCatalog",
    "Readiness",
]

log = logging.getLogger(__name__)

#: Discord accepts at most 25 autocomplete choices.
AUTOCOMPLETE_LIMIT = 25

_WORD_SPLIT = re.compile(r"[^0-9a-z]+")


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


class Readiness(Enum):
    """Whether an operation can work in a server, as far as the bot can tell without trying."""

    READY = "ready"
    DISABLED = "disabled"
    UNKNOWN_MODEL = "unknown_model"
    INCAPABLE = "incapable"
    UNCHECKED = "unchecked"

    def describe(self, operation: Operation) -> str:
        """An indicator and a few words, the same in `/config show` and `/status`."""
        if self is Readiness.INCAPABLE:
            lacking = "can't make images" if operation.needs_image_output else "can't read images"
            return f"🔴 Model {lacking}"
        return {
            Readiness.READY: "🟢 Ready",
            Readiness.DISABLED: "⚫ Disabled",
            Readiness.UNKNOWN_MODEL: "🟡 Model not in OpenRouter's list",
            Readiness.UNCHECKED: "⚪ Not checked (model list unavailable)",
        }[self]


def is_capable(model: ModelInfo, operation: Operation) -> bool:
    """Imagine and edit need image output; describe needs image input."""
    return model.makes_images if operation.needs_image_output else model.reads_images


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

    models: Mapping[str, ModelInfo] = field(default_factory=lambda: MappingProxyType({}))
    providers: tuple[ProviderInfo, ...] = ()
    models_loaded_at: float | None = None
    providers_loaded_at: float | None = None

    @property
    def has_models(self) -> bool:
        """True once a model list arrived (an empty list from OpenRouter counts as not loaded)."""
        return bool(self.models)

    @property
    def has_providers(self) -> bool:
        """True once a provider list arrived."""
        return bool(self.providers)

    # -- models ---------------------------------------------------------------------------------

    def model(self, model_id: str) -> ModelInfo | None:
        """The model with this id, compared case-insensitively (ids are lower-case upstream)."""
        found = self.models.get(model_id)
        if found is not None:
            return found
        wanted = model_id.casefold()
        return next((m for m in self.models.values() if m.id.casefold() == wanted), None)

    def model_by_name(self, name: str) -> ModelInfo | None:
        """The model whose display name is exactly `name` (case-insensitive), for hand-typed names."""
        wanted = name.strip().casefold()
        return next((m for m in self.models.values() if m.name.casefold() == wanted), None)

    def search_models(
        self, query: str, operation: Operation, limit: int = AUTOCOMPLETE_LIMIT
    ) -> list[ModelInfo]:
        """Models matching `query`, capable ones first, then best match, then alphabetical."""
        wanted = query.strip().casefold()
        ranked: list[tuple[tuple[int, int, str], ModelInfo]] = []
        for model in self.models.values():
            rank = _match_rank(wanted, model.id.casefold(), model.name.casefold())
            if rank is not None:
                capable = 0 if is_capable(model, operation) else 1
                ranked.append(((capable, rank, model.id.casefold()), model))
        ranked.sort(key=lambda item: item[0])
        return [model for _key, model in ranked[:limit]]

    def readiness(self, operation: Operation, model_id: str, *, enabled: bool) -> Readiness:
        """Whether `model_id` can serve `operation`, judged from the lists alone."""
        if not enabled:
            return Readiness.DISABLED
        if not self.has_models:
            return Readiness.UNCHECKED
        model = self.model(model_id)
        if model is None:
            return Readiness.UNKNOWN_MODEL
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
                models, providers = await asyncio.gather(
                    self._source.list_models(output_modalities="all"),
                    self._source.list_providers(),
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
            self._snapshot = snapshot
            self._last_failed = failed or not snapshot.has_models
            log.info(
                "catalog refreshed: %d models (%d make images), %d providers",
                len(snapshot.models),
                sum(model.makes_images for model in snapshot.models.values()),
                len(snapshot.providers),
            )
        except TimeoutError:
            self._last_failed = True
            log.warning("the catalog refresh took longer than %g s; keeping the old lists", self.refresh_timeout_s)
        finally:
            self._refreshes += 1

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
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _replace_models(snapshot: CatalogSnapshot, models: list[ModelInfo], now: float) -> CatalogSnapshot:
    by_id = MappingProxyType({model.id: model for model in models})
    return CatalogSnapshot(by_id, snapshot.providers, now, snapshot.providers_loaded_at)


def _replace_providers(
    snapshot: CatalogSnapshot, providers: list[ProviderInfo], now: float
) -> CatalogSnapshot:
    unique = tuple({provider.slug.casefold(): provider for provider in providers if provider.slug}.values())
    return CatalogSnapshot(snapshot.models, unique, snapshot.models_loaded_at, now)


def _reason(error: BaseException) -> str:
    """A short, secret-free reason for logs and `/status`; a bug (not an upstream error) is logged in full."""
    if not isinstance(error, OpenRouterError | TimeoutError):
        log.error("unexpected error talking to OpenRouter", exc_info=error)
    if isinstance(error, UpstreamStatusError):
        return f"HTTP {error.status}"
    if isinstance(error, TimeoutError):
        return "timed out"
    return type(error).__name__
