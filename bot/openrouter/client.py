"""The one async OpenRouter client the whole process shares.

It wraps a pooled `httpx.AsyncClient` (handed in, so tests can point it at a stand-in server or a
`MockTransport`), turns every failure into a typed `OpenRouterError`, and turns answers into typed
results. The API key is sent per request rather than as a client default, and image URLs in an answer
are downloaded through the process's `GuardedFetcher` (OpenRouter's own origin trusted, other hosts only
at public addresses), never through this client, so a result download can never carry the key nor reach
into the bot's network.

Large request bodies (reference images as base64 data URLs) are built, and large answers parsed, on the
image thread pool (`bot.workers.run_cpu`), not on the event loop.

Two routes make images, chosen by `ImageRequest.route`: `POST /chat/completions` with `modalities`
(Route.CHAT) and OpenRouter's Images API, `POST /images` (Route.IMAGES), buffered or streamed as
server-sent events. Both go through the same retry loop (`_retrying`) and the same error mapping
(`_status_error` -> `error_for_status`); on the Images API a 502 means "failed, not charged"
(`GenerationNotChargedError`, cost 0.0).
"""

from __future__ import annotations

import asyncio
import binascii
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from bot.fetcher import AddressRefused, FetchFailed, GuardedFetcher, ResponseTooLarge
from bot.images import decode_data_url, sniff_mime
from bot.openrouter.errors import (
    ConnectionFailedError,
    GenerationFailedError,
    GenerationNotChargedError,
    ImageAddressRefusedError,
    ImageDecodeError,
    NoImageReturnedError,
    OpenRouterError,
    RequestTimedOutError,
    error_for_status,
)
from bot.openrouter.retry import RetryCallback, RetryPolicy
from bot.openrouter.types import (
    AnalysisResult,
    GeneratedImage,
    ImageEndpointInfo,
    ImageInput,
    ImageModelInfo,
    ImageResult,
    KeyInfo,
    ModelInfo,
    ProviderFilter,
    ProviderInfo,
)
from bot.requests import ImageRequest, Route
from bot.workers import run_cpu

__all__ = [
    "MAX_IMAGES_PER_ANSWER",
    "MAX_IMAGES_PER_REQUEST",
    "AnswerCallback",
    "OpenRouterClient",
    "PartialCallback",
    "build_http_client",
    "pool_limits",
]

T = TypeVar("T")

log = logging.getLogger(__name__)

NO_FILTER = ProviderFilter()

#: Largest image we accept from an https URL in an answer; bigger is not a usable result.
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024

#: Images taken from one answer (data URLs and links alike); the rest are dropped and counted in
#: `ImageResult.dropped`. Ten is what one Discord message holds, and bounds the downloads one answer causes.
MAX_IMAGES_PER_ANSWER = 10

#: The Images API's bound on `n` (1-10); `ImageRequest.count` is clamped to it.
MAX_IMAGES_PER_REQUEST = 10

AnswerCallback = Callable[[float | None, str | None], None]
"""`on_answer(cost, generation_id)`: told as soon as an answer is parsed, before its images are touched."""

PartialCallback = Callable[[int, bytes, str], None]
"""`on_partial(index, data, mime)`: a streamed preview (`partial_image_index`, its bytes, their MIME type).

Called on the event loop while the stream is read: it must not block (schedule any Discord edit as a task).
Previews are not billed; an exception it raises is logged and does not fail the generation.
"""

#: Answers, data URLs and request bodies' reference images at least this large are handled on the image pool. A
#: 4 MiB image comes as a 5.6 MB JSON answer: parsing it and decoding its base64 take tens of milliseconds, during
#: which the event loop (every other member's command, the gateway heartbeat) would otherwise stand still. Smaller
#: ones are not worth the hop to a thread.
OFF_LOOP_BYTES = 256 * 1024


#: Connections the pool always allows; more when more upstream calls may run at once (`pool_limits`).
MIN_POOL_CONNECTIONS = 256
#: Room in the pool beside the job calls: catalog refreshes, key checks, /usage.
SIDE_CALLS = 16


def pool_limits(concurrent_calls: int = 0) -> httpx.Limits:
    """The pool's limits, sized so that every call the job queue lets run gets a connection at once.

    Each upstream call holds a slot of `MAX_CONCURRENT_JOBS` (also the parallel calls of one job), so the
    bound is how many can be in flight. A pool smaller than that makes the calls above it wait inside
    httpcore's pool, whose hand-out is quadratic in its size and far slower than the job queue's line
    (bench/RESULTS.md: end to end 1.81 against 1.34 at 400, 3.65 against 2.84 at 800): the waiting
    belongs in the job queue, where members are shown their place.
    """
    return httpx.Limits(
        max_connections=max(MIN_POOL_CONNECTIONS, concurrent_calls + SIDE_CALLS),
        max_keepalive_connections=64,
        keepalive_expiry=60,
    )


def build_http_client(
    *, timeout_s: float, app_name: str, app_url: str, concurrent_calls: int = 0
) -> httpx.AsyncClient:
    """The pooled HTTP client: short connect time-out, long read time-out for slow image models."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(connect=10.0, read=timeout_s, write=60.0, pool=timeout_s),
        limits=pool_limits(concurrent_calls),
        headers={"HTTP-Referer": app_url, "X-OpenRouter-Title": app_name, "X-Title": app_name},
        follow_redirects=False,
    )


class OpenRouterClient:
    """Typed access to the parts of OpenRouter's API this bot uses."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str,
        base_url: str,
        timeout_s: float,
        retry: RetryPolicy | None = None,
        fetcher: GuardedFetcher | None = None,
    ) -> None:
        """`fetcher` downloads image URLs in answers; the bot passes its shared one.

        Without one, the client makes its own on first need (trusting only `base_url`'s origin besides
        public addresses) and closes it in `aclose`.
        """
        self._http = http
        self._retry = retry or RetryPolicy()
        self._auth = {"Authorization": f"Bearer {api_key}"}
        self._base = base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._fetcher = fetcher
        self._owns_fetcher = False

    @property
    def fetcher(self) -> GuardedFetcher:
        """What result images are downloaded through (never this client's own, keyed, connections)."""
        if self._fetcher is None:
            self._fetcher = GuardedFetcher(trusted_origins=[self._base])
            self._owns_fetcher = True
        return self._fetcher

    async def aclose(self) -> None:
        """Close the pooled connections (and the fetcher, if this client made it)."""
        await self._http.aclose()
        if self._owns_fetcher and self._fetcher is not None:
            await self._fetcher.aclose()

    # -- generation -----------------------------------------------------------------------------

    async def generate_image(
        self,
        request: ImageRequest,
        *,
        references: Sequence[ImageInput] = (),
        modalities: Sequence[str] = ("image", "text"),
        on_retry: RetryCallback | None = None,
        on_answer: AnswerCallback | None = None,
        on_partial: PartialCallback | None = None,
        stream: bool = False,
    ) -> ImageResult:
        """Generate (or, with `references`, the request's input images loaded, edit) images.

        Raises `OpenRouterError` on any failure.

        `request.route` picks the API. Route.CHAT: `POST /chat/completions` with `modalities`,
        `image_config` (`aspect_ratio`, and `image_size` from `request.resolution`) and `seed` when set;
        `count` and `quality` have no place there and are not sent. Route.IMAGES: `POST /images` with
        the request's set parameters (see `_encode_images_body`) and the references as `input_references`;
        `modalities` is not used. Streaming is asked for (`stream: true`) only on the Images route, when
        `stream` is True (the caller knows from the catalog that the endpoint streams) and `on_partial` is
        given; previews then arrive through `on_partial`, and once one has, a failure is no longer retried
        (the member has seen the generation under way). An endpoint that does not stream answers buffered,
        which is read as such.

        At most `MAX_IMAGES_PER_ANSWER` images are taken from the answer; image links that point anywhere
        but OpenRouter or a public address are not fetched. Both are counted in `ImageResult.dropped`;
        when every image was refused, `ImageAddressRefusedError` is raised.

        `on_answer(cost, generation_id)` is called once for each answer received (a retried answer that
        carried an error counts), as soon as its JSON is parsed and before any image in it is decoded or
        downloaded, so what was billed is known even if the job fails or is cancelled afterwards; a
        cancellation that arrives while a large answer is being parsed waits for the parse (it is bounded),
        reports the answer, then propagates. Every `OpenRouterError` raised after an answer arrived carries
        that answer's `cost` and `generation_id`. On the Images route an answer has no id (None), a streamed
        answer is reported once per completed image, and a 502 is reported as `on_answer(0.0, None)`.
        """
        if request.route is Route.IMAGES:
            return await self._generate_on_images_api(
                request, references=references, on_retry=on_retry, on_answer=on_answer,
                on_partial=on_partial if stream else None,
            )
        model = request.model
        extra: dict[str, Any] = {"modalities": list(modalities)}
        image_config: dict[str, Any] = {}
        if request.aspect_ratio:
            image_config["aspect_ratio"] = request.aspect_ratio
        if request.resolution:
            image_config["image_size"] = request.resolution
        if image_config:
            extra["image_config"] = image_config
        if request.seed is not None:
            extra["seed"] = request.seed
        self._add_providers(extra, request.providers)
        body = await _chat_body(
            model=model, prompt=request.prompt, images=references, extra=extra, as_parts=bool(references)
        )
        answer, message = await self._complete(body, model=model, on_retry=on_retry, on_answer=on_answer)
        try:
            text = _message_text(message)
            images, dropped = await self._collect_images(message, model=model)
            if not images:
                raise NoImageReturnedError(f"{model} answered without an image", text=text, model=model)
        except OpenRouterError as error:
            _billed(error, answer)
            raise
        return ImageResult(
            images=images,
            text=text,
            cost=_cost(answer),
            model=str(answer.get("model") or model),
            generation_id=_str_or_none(answer.get("id")),
            dropped=dropped,
        )

    async def analyze_images(
        self,
        *,
        prompt: str,
        images: Sequence[ImageInput],
        model: str,
        providers: ProviderFilter = NO_FILTER,
        on_retry: RetryCallback | None = None,
        on_answer: AnswerCallback | None = None,
    ) -> AnalysisResult:
        """Ask a vision model about images: a text part first, then one part per image.

        `on_answer` works as for `generate_image`.
        """
        extra: dict[str, Any] = {}
        self._add_providers(extra, providers)
        body = await _chat_body(model=model, prompt=prompt, images=images, extra=extra, as_parts=True)
        answer, message = await self._complete(body, model=model, on_retry=on_retry, on_answer=on_answer)
        return AnalysisResult(
            text=_message_text(message),
            cost=_cost(answer),
            model=str(answer.get("model") or model),
            generation_id=_str_or_none(answer.get("id")),
        )

    # -- discovery ------------------------------------------------------------------------------

    async def list_models(self, output_modalities: str = "all") -> list[ModelInfo]:
        """The model catalog; `all` includes image-output models, which the default hides."""
        answer = await self._get_json("/models", params={"output_modalities": output_modalities})
        return [ModelInfo.from_api(item) for item in _data_list(answer) if item.get("id")]

    async def list_image_models(self) -> list[ImageModelInfo]:
        """The Images API's models (`GET /images/models`), each with its parameters' descriptors."""
        answer = await self._get_json("/images/models")
        return [ImageModelInfo.from_api(item) for item in _data_list(answer) if item.get("id")]

    async def image_model_endpoints(self, model_id: str) -> list[ImageEndpointInfo]:
        """The providers serving an Images API model, each with its definitive parameters and prices.

        `GET /images/models/{author}/{slug}/endpoints`. Raises `ValueError` for an id without an author,
        `ModelNotFoundError` for a model the Images API does not know.
        """
        author, _, slug = model_id.partition("/")
        if not author or not slug:
            raise ValueError(f"{model_id!r} is not an author/slug model id")
        path = f"/images/models/{quote(author, safe='')}/{quote(slug, safe='')}/endpoints"
        answer = await self._request("GET", path, model=model_id)
        holder = answer.get("data") if isinstance(answer.get("data"), dict) else answer
        assert isinstance(holder, dict)
        endpoints = holder.get("endpoints")
        if not isinstance(endpoints, list):
            return []
        return [ImageEndpointInfo.from_api(item) for item in endpoints if isinstance(item, dict)]

    async def list_providers(self) -> list[ProviderInfo]:
        """Every provider OpenRouter can route to."""
        answer = await self._get_json("/providers")
        return [
            ProviderInfo(name=str(item.get("name") or item.get("slug")), slug=str(item.get("slug") or ""))
            for item in _data_list(answer)
            if item.get("slug") or item.get("name")
        ]

    async def key_info(self) -> KeyInfo:
        """What OpenRouter knows of the key: a cheap check that it works."""
        answer = await self._get_json("/key")
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        assert isinstance(data, dict)
        return KeyInfo(
            label=str(data.get("label") or ""),
            limit=_float_or_none(data.get("limit")),
            limit_remaining=_float_or_none(data.get("limit_remaining")),
            usage=_float_or_none(data.get("usage")),
            is_free_tier=bool(data.get("is_free_tier")),
        )

    # -- plumbing -------------------------------------------------------------------------------

    @staticmethod
    def _add_providers(body: dict[str, Any], providers: ProviderFilter) -> None:
        provider = providers.to_request()
        if provider:
            body["provider"] = provider

    async def _complete(
        self,
        body: bytes,
        *,
        model: str,
        on_retry: RetryCallback | None,
        on_answer: AnswerCallback | None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """POST a chat completion, retrying what may pass on its own; returns the answer and its message.

        `body` is the serialised JSON, built once: a retry sends the same bytes.
        """

        async def attempt() -> tuple[dict[str, Any], dict[str, Any]]:
            answer = await self._request("POST", "/chat/completions", content=body, model=model, on_answer=on_answer)
            try:
                return answer, self._first_message(answer, model=model)
            except OpenRouterError as error:
                _billed(error, answer)
                raise

        return await self._retrying(attempt, model=model, on_retry=on_retry)

    async def _retrying(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        model: str,
        on_retry: RetryCallback | None,
        may_retry: Callable[[], bool] | None = None,
    ) -> T:
        """Run `attempt` until it succeeds or its failure may not be retried: the one retry loop, both routes.

        What is retried, how often and how long to wait is `RetryPolicy`'s call; `may_retry` can forbid a
        retry the policy would allow (a stream whose previews the member has already seen).
        """
        policy = self._retry
        started = time.monotonic()
        number = 1
        while True:
            try:
                return await attempt()
            except OpenRouterError as error:
                delay = policy.delay_after(number, error)
                if not policy.should_retry(number, error, time.monotonic() - started, delay):
                    raise
                if may_retry is not None and not may_retry():
                    raise
                log.info("retrying %s after %s (attempt %d, wait %.1f s)", model, type(error).__name__, number, delay)
                if on_retry is not None:
                    on_retry(number, policy.max_attempts, delay)
                await asyncio.sleep(delay)
                number += 1

    async def _generate_on_images_api(
        self,
        request: ImageRequest,
        *,
        references: Sequence[ImageInput],
        on_retry: RetryCallback | None,
        on_answer: AnswerCallback | None,
        on_partial: PartialCallback | None,
    ) -> ImageResult:
        """`POST /images`, buffered or (with `on_partial`) streamed; see `generate_image`."""
        model = request.model
        streaming = on_partial is not None
        body = await _images_body(request, references, stream=streaming)
        delivery = _Delivery()

        async def attempt() -> dict[str, Any]:
            events = _ImageStream(model=model, on_partial=on_partial, on_answer=on_answer, delivery=delivery)
            return await self._request(
                "POST", "/images", content=body, model=model, on_answer=on_answer, images_api=True,
                events=events if streaming else None,
            )

        answer = await self._retrying(
            attempt, model=model, on_retry=on_retry, may_retry=lambda: not delivery.delivered
        )
        try:
            images, dropped = await self._collect_images_api(answer, model=model)
            if not images:
                raise NoImageReturnedError(f"{model} answered without an image", model=model)
        except OpenRouterError as error:
            _billed(error, answer)
            raise
        return ImageResult(
            images=images,
            text="",
            cost=_cost(answer),
            model=str(answer.get("model") or model),
            generation_id=_str_or_none(answer.get("id")),
            dropped=dropped,
        )

    async def _collect_images_api(self, answer: dict[str, Any], *, model: str) -> tuple[list[GeneratedImage], int]:
        """The images of an Images API answer (`data[].b64_json`), under the same cap and rules as chat's.

        An entry with a `url` instead (not in the spec) is downloaded through the guarded fetcher.
        """

        async def load(entry: dict[str, Any]) -> GeneratedImage:
            encoded, url = entry.get("b64_json"), entry.get("url")
            if isinstance(encoded, str) and encoded:
                data = await _decode_b64(encoded, model=model)
                mime = sniff_mime(data)
                if mime is None:
                    raise ImageDecodeError(f"{model} returned data that is not an image", model=model)
                return GeneratedImage(data=data, mime=mime)
            if isinstance(url, str) and url:
                return await self._load_image(url, model=model)
            raise ImageDecodeError(f"{model} returned an image in an unknown form", model=model)

        return await _capped(_data_list(answer), load, model=model)

    async def _get_json(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return await self._request("GET", path, params=params, model=None)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        params: dict[str, str] | None = None,
        model: str | None,
        on_answer: AnswerCallback | None = None,
        images_api: bool = False,
        events: _ImageStream | None = None,
    ) -> dict[str, Any]:
        """One HTTP exchange: typed errors for every failure, the answer's JSON on success.

        `images_api` selects the Images API's reading of a 502 and of an error in a 200. With `events`, an
        answer sent as server-sent events is read by it (a JSON answer still works: endpoints that do
        not stream ignore `stream: true`).
        """
        url = self._base + path
        headers = dict(self._auth)
        if content is not None:
            headers["Content-Type"] = "application/json"
        if events is not None:
            headers["Accept"] = "text/event-stream, application/json"
        chunks: list[bytes] = []
        streamed: dict[str, Any] | None = None
        try:
            async with asyncio.timeout(self._timeout_s):
                request = self._http.stream(method, url, content=content, params=params, headers=headers)
                async with request as response:
                    if response.status_code >= 400:
                        await response.aread()  # a small error body, read for `_status_error`
                    elif events is not None and _is_event_stream(response):
                        streamed = await events.consume(response)
                    else:
                        # Not `aread()`: it keeps the body on the Response, which sits in a reference cycle (its
                        # stream points back at it), so the body would outlive this call until the cyclic GC ran:
                        # with 4 MiB images, hundreds of megabytes of answers already dealt with. The chunks are
                        # joined where they are parsed, off the loop when large.
                        chunks = [chunk async for chunk in response.aiter_bytes()]
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise RequestTimedOutError(
                f"OpenRouter did not answer within {self._timeout_s:g} s", model=model
            ) from exc
        except httpx.TransportError as exc:
            raise ConnectionFailedError(
                f"could not reach OpenRouter ({type(exc).__name__})", model=model
            ) from exc
        if response.status_code >= 400:
            error = _status_error(response, model=model, images_api=images_api)
            if isinstance(error, GenerationNotChargedError):
                _report_answer(on_answer, {"usage": {"cost": 0.0}})
            raise error
        if streamed is not None:
            return streamed
        try:
            answer = await _parse_json(chunks, on_answer)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise GenerationFailedError("OpenRouter sent a body that is not JSON", model=model) from exc
        if not isinstance(answer, dict):
            raise GenerationFailedError("OpenRouter sent an unexpected body", model=model)
        if isinstance(answer.get("error"), dict):
            error_body = answer["error"]
            failure: OpenRouterError
            if images_api:
                failure = _event_error(error_body, model=model)
            else:
                code = _int_or_none(error_body.get("code"))
                message = str(error_body.get("message") or "generation failed")
                failure = GenerationFailedError(message, code=code, model=model)
            raise _billed(failure, answer)
        return answer

    @staticmethod
    def _first_message(answer: dict[str, Any], *, model: str) -> dict[str, Any]:
        choices = answer.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise GenerationFailedError("the answer holds no choices", model=model)
        choice = choices[0]
        error = choice.get("error")
        if isinstance(error, dict) or choice.get("finish_reason") == "error":
            details = error if isinstance(error, dict) else {}
            raise GenerationFailedError(
                str(details.get("message") or "the model reported an error"),
                code=_int_or_none(details.get("code")),
                model=model,
            )
        message = choice.get("message")
        if not isinstance(message, dict):
            raise GenerationFailedError("the answer holds no message", model=model)
        return message

    async def _collect_images(self, message: dict[str, Any], *, model: str) -> tuple[list[GeneratedImage], int]:
        """The answer's images (at most `MAX_IMAGES_PER_ANSWER`), and how many were dropped (see `_capped`)."""

        async def load(url: str) -> GeneratedImage:
            return await self._load_image(url, model=model)

        return await _capped(_image_urls(message), load, model=model)

    async def _load_image(self, url: str, *, model: str) -> GeneratedImage:
        if url.startswith("data:"):
            try:
                if len(url) < OFF_LOOP_BYTES:
                    data, _declared = decode_data_url(url)
                else:
                    data, _declared = await run_cpu(decode_data_url, url)
            except ValueError as exc:
                raise ImageDecodeError(f"{model} returned a malformed image", model=model) from exc
        elif url[:8].lower().startswith(("https://", "http://")):
            data = await self._download(url, model=model)
        else:
            raise ImageDecodeError(f"{model} returned an image in an unknown form", model=model)
        mime = sniff_mime(data)
        if mime is None:
            raise ImageDecodeError(f"{model} returned data that is not an image", model=model)
        return GeneratedImage(data=data, mime=mime)

    async def _download(self, url: str, *, model: str) -> bytes:
        """Fetch a result image through the guarded fetcher: no credentials, a size cap, public or trusted only."""
        try:
            return await self.fetcher.fetch(url, max_bytes=MAX_DOWNLOAD_BYTES, timeout_s=self._timeout_s)
        except AddressRefused as exc:
            log.warning("not fetching an image %s returned: %s (%s)", model, exc.why, exc.reason)
            raise ImageAddressRefusedError(
                f"{model} returned an image at an address the bot will not fetch ({exc.why})", why=exc.why,
                model=model,
            ) from exc
        except ResponseTooLarge as exc:
            raise ImageDecodeError(f"the image {model} returned is too large", model=model) from exc
        except FetchFailed as exc:
            raise ImageDecodeError(
                f"the image {model} returned could not be downloaded ({exc.why})", model=model
            ) from exc


async def _chat_body(
    *, model: str, prompt: str, images: Sequence[ImageInput], extra: dict[str, Any], as_parts: bool
) -> bytes:
    """The serialised chat request: built on the image pool when its images are large, else right here.

    Base64-encoding three 8 MiB references and dumping the JSON take most of a second: on the loop, every
    other member's command and the gateway heartbeat would wait that long.
    """
    if sum(len(image.data) + len(image.url or "") for image in images) < OFF_LOOP_BYTES:
        return _encode_chat_body(model, prompt, images, extra, as_parts)
    return await run_cpu(_encode_chat_body, model, prompt, images, extra, as_parts)


def _encode_chat_body(
    model: str, prompt: str, images: Sequence[ImageInput], extra: dict[str, Any], as_parts: bool
) -> bytes:
    """Build and serialise `{"model", "messages": [user message], **extra}` (images as data URLs) to JSON bytes."""
    content: str | list[dict[str, Any]]
    if as_parts:
        content = [{"type": "text", "text": prompt}]
        content += [{"type": "image_url", "image_url": {"url": image.as_url()}} for image in images]
    else:
        content = prompt
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    # ASCII escapes: a lone surrogate in a prompt (Discord allows them) cannot make the encoding fail.
    return json.dumps(body, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")


# -- the Images API: request body, answers, streamed events ---------------------------------------------


async def _images_body(request: ImageRequest, references: Sequence[ImageInput], *, stream: bool) -> bytes:
    """The serialised `POST /images` body; built on the image pool when its references are large."""
    if sum(len(image.data) + len(image.url or "") for image in references) < OFF_LOOP_BYTES:
        return _encode_images_body(request, references, stream)
    return await run_cpu(_encode_images_body, request, references, stream)


def _encode_images_body(request: ImageRequest, references: Sequence[ImageInput], stream: bool) -> bytes:
    """`ImageGenerationRequest` as JSON bytes, with only the keys the request sets.

    `model` and `prompt` always; `n` when more than one image is asked for (clamped to 1-10, the API's
    range: providers that make one image reject `n > 1`, so 1 is left to the default); `aspect_ratio`,
    `resolution`, `quality`, `seed` when set; `input_references` as `ContentPartImage`s (data URLs
    labelled with each image's MIME type, or its https URL); `provider` as `ProviderFilter.to_request`
    (only wins over ignore); `stream: true` when streaming.
    """
    body: dict[str, Any] = {"model": request.model, "prompt": request.prompt}
    count = min(max(request.count, 1), MAX_IMAGES_PER_REQUEST)
    if count > 1:
        body["n"] = count
    for key in ("aspect_ratio", "resolution", "quality"):
        value = getattr(request, key)
        if value:
            body[key] = value
    if request.seed is not None:
        body["seed"] = request.seed
    if references:
        body["input_references"] = [{"type": "image_url", "image_url": {"url": image.as_url()}} for image in references]
    provider = request.providers.to_request()
    if provider:
        body["provider"] = provider
    if stream:
        body["stream"] = True
    return json.dumps(body, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")


def _b64decode(text: str) -> bytes:
    raw = binascii.a2b_base64(text.strip(), strict_mode=True)
    if not raw:
        raise ValueError("empty image")
    return raw


async def _decode_b64(text: str, *, model: str) -> bytes:
    """`b64_json`'s bytes, decoded on the image pool when large."""
    try:
        if len(text) < OFF_LOOP_BYTES:
            return _b64decode(text)
        return await run_cpu(_b64decode, text)
    except (ValueError, binascii.Error) as exc:
        raise ImageDecodeError(f"{model} returned a malformed image", model=model) from exc


def _is_event_stream(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").split(";")[0].strip().lower() == "text/event-stream"


#: Words in a streamed error's `code` or `type` that tell which status a buffered call would have had.
_EVENT_STATUS_WORDS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("rate_limit", "too_many_requests"), 429),
    (("content_policy", "moderation", "safety", "refusal", "blocked", "block_reason"), 400),
    (("invalid_request", "invalid_parameter", "bad_request"), 400),
    (("insufficient_quota", "insufficient_credits", "payment_required"), 402),
)


def _event_error(error: dict[str, Any], *, model: str | None) -> OpenRouterError:
    """The error a buffered call would have raised for an error object in a stream or in a 200 (Images API).

    A numeric `code` is the status; otherwise its `code`/`type` words say (rate limit, refusal, bad
    request, credits), and anything else is a failed generation: a 502, so not charged.
    """
    metadata: dict[str, Any] = dict(error["metadata"]) if isinstance(error.get("metadata"), dict) else {}
    for key in ("code", "type", "param"):
        value = error.get(key)
        if value is not None and not isinstance(value, int | float):
            metadata.setdefault(f"error_{key}", str(value))
    message = str(error.get("message") or "the image generation failed")
    status = _int_or_none(error.get("code"))
    if status is None or not 400 <= status <= 599:
        words = " ".join(str(error.get(key) or "") for key in ("code", "type")).lower()
        words += " " + str(metadata.get("error_type") or "").lower()
        status = next((code for keys, code in _EVENT_STATUS_WORDS if any(word in words for word in keys)), 502)
        if status == 400 and any(word in words for word in _EVENT_STATUS_WORDS[1][0]):
            metadata.setdefault("block_reason", str(error.get("code") or error.get("type") or "refused"))
    return error_for_status(status, message, metadata=metadata, model=model, images_api=True)


class _Delivery:
    """Whether any preview of a generation reached `on_partial`, over all its attempts."""

    def __init__(self) -> None:
        self.delivered = False


class _ImageStream:
    """Reads one `POST /images` answer sent as server-sent events (`ImageStreamingResponse`).

    `image_generation.partial_image` -> `on_partial`; `image_generation.completed` -> a final image (and
    `on_answer` with its usage); an `error` event -> the error a buffered call would raise; comment lines
    (keep-alives) and events of other types are skipped; `[DONE]` ends it. A stream that stops before any
    image completed is a `ConnectionFailedError`, as a cut buffered answer is; one that stops after an
    image completed (without `[DONE]`) keeps what completed, which was billed.
    """

    def __init__(
        self,
        *,
        model: str,
        on_partial: PartialCallback | None,
        on_answer: AnswerCallback | None,
        delivery: _Delivery,
    ) -> None:
        self.model = model
        self.on_partial = on_partial
        self.on_answer = on_answer
        self.delivery = delivery
        self.completed: list[dict[str, Any]] = []
        self.cost: float | None = None
        self.generation_id: str | None = None
        self.created: int | None = None
        self.done = False

    def answer(self) -> dict[str, Any]:
        """What a buffered answer with the completed images would have been (`ImageGenerationResponse`)."""
        answer: dict[str, Any] = {"created": self.created, "data": list(self.completed)}
        if self.cost is not None:
            answer["usage"] = {"cost": self.cost}
        if self.generation_id:
            answer["id"] = self.generation_id
        return answer

    async def consume(self, response: httpx.Response) -> dict[str, Any]:
        """Read events until `[DONE]` or the end; returns the answer (see `answer`)."""
        data: list[str] = []
        try:
            async for line in response.aiter_lines():
                if not line:
                    if data and await self._event("\n".join(data)):
                        break
                    data = []
                    continue
                if line.startswith(":"):
                    continue  # a comment: OpenRouter's keep-alive (": OPENROUTER PROCESSING")
                name, _, value = line.partition(":")
                if name == "data":
                    data.append(value[1:] if value.startswith(" ") else value)
                # `event:`, `id:` and `retry:` add nothing: the event's type is in its data
            else:
                if data:
                    await self._event("\n".join(data))
        except httpx.TransportError:
            if not self.completed:
                raise
            log.warning("the image stream of %s broke off after %d image(s); keeping them", self.model,
                        len(self.completed))
            return self.answer()
        if not self.done and not self.completed:
            raise ConnectionFailedError("the image stream ended before the image was complete", model=self.model)
        return self.answer()

    async def _event(self, payload: str) -> bool:
        """Handle one event's data; True at `[DONE]`."""
        if payload.strip() == "[DONE]":
            self.done = True
            return True
        try:
            event = json.loads(payload) if len(payload) < OFF_LOOP_BYTES else await run_cpu(json.loads, payload)
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("skipping an image stream event of %s that is not JSON", self.model)
            return False
        if not isinstance(event, dict):
            return False
        if "type" not in event and isinstance(event.get("data"), dict):
            event = event["data"]  # the event wrapped as `ImageStreamingResponse` describes it
        kind = event.get("type")
        if kind == "error" or (kind is None and isinstance(event.get("error"), dict)):
            details = event.get("error")
            failure = _event_error(details if isinstance(details, dict) else {}, model=self.model)
            if isinstance(failure, GenerationNotChargedError):
                _report_answer(self.on_answer, {"usage": {"cost": 0.0}})
            raise _billed(failure, self.answer())
        if kind == "image_generation.partial_image":
            await self._partial(event)
        elif kind == "image_generation.completed":
            self._completed(event)
        return False

    async def _partial(self, event: dict[str, Any]) -> None:
        encoded = event.get("b64_json")
        if self.on_partial is None or not isinstance(encoded, str) or not encoded:
            return
        try:
            data = await _decode_b64(encoded, model=self.model)
        except ImageDecodeError:
            log.warning("skipping a malformed preview from %s", self.model)
            return
        declared = event.get("media_type")
        mime = sniff_mime(data) or (str(declared) if declared else "image/png")
        index = _int_or_none(event.get("partial_image_index")) or 0
        try:
            self.on_partial(index, data, mime)
        except Exception:
            log.exception("on_partial callback failed")
        self.delivery.delivered = True

    def _completed(self, event: dict[str, Any]) -> None:
        encoded = event.get("b64_json")
        if isinstance(encoded, str) and encoded:
            self.completed.append({"b64_json": encoded, "media_type": event.get("media_type")})
        self.created = _int_or_none(event.get("created")) or self.created
        self.generation_id = _str_or_none(event.get("id")) or self.generation_id
        cost = _cost(event)
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost
        _report_answer(self.on_answer, {"usage": {"cost": cost}, "id": self.generation_id})


def _billed(error: OpenRouterError, answer: dict[str, Any]) -> OpenRouterError:
    """Mark an error raised after `answer` arrived with what that answer billed and its generation id."""
    cost = _cost(answer)
    if cost is not None or error.cost is None:
        error.cost = cost
    error.generation_id = _str_or_none(answer.get("id")) or error.generation_id
    return error


def _report_answer(on_answer: AnswerCallback | None, answer: Any) -> None:
    """Tell `on_answer` what an answer billed; a failing callback is logged, never fails the call."""
    if on_answer is None or not isinstance(answer, dict):
        return
    try:
        on_answer(_cost(answer), _str_or_none(answer.get("id")))
    except Exception:
        log.exception("on_answer callback failed")


async def _parse_json(chunks: list[bytes], on_answer: AnswerCallback | None = None) -> Any:
    """The body's JSON, as `Response.json()` reads it; joined and parsed on the image pool when large.

    Joining a 5.6 MB body is itself a fresh 5.6 MB allocation and copy: it goes off the loop with the parse.
    `on_answer` hears of the parsed answer, even when the caller is cancelled during a parse on the pool:
    the parse is then awaited to its (bounded) end, reported, and the cancellation raised.
    """
    if sum(len(chunk) for chunk in chunks) < OFF_LOOP_BYTES:
        answer = json.loads(b"".join(chunks))
        _report_answer(on_answer, answer)
        return answer
    parse = asyncio.ensure_future(run_cpu(_join_and_parse, chunks))
    parse.add_done_callback(_retrieve)  # a parse nobody waits for any more must not log "never retrieved"
    try:
        answer = await asyncio.shield(parse)
    except asyncio.CancelledError:
        if on_answer is not None:
            await _finish_despite_cancellation(parse)
            if not parse.cancelled() and parse.exception() is None:
                _report_answer(on_answer, parse.result())
        raise
    _report_answer(on_answer, answer)
    return answer


async def _finish_despite_cancellation(task: asyncio.Future[Any]) -> None:
    """Wait for `task` to end, absorbing further cancellations (the caller re-raises the first one)."""
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            continue
        except Exception:  # the parse failed: nothing to report, and the cancellation still wins
            return


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _join_and_parse(chunks: list[bytes]) -> Any:
    content = b"".join(chunks)
    chunks.clear()  # the pieces can go as soon as the whole exists
    return json.loads(content)


def _status_error(response: httpx.Response, *, model: str | None, images_api: bool = False) -> OpenRouterError:
    message = f"HTTP {response.status_code}"
    metadata: dict[str, Any] = {}
    try:
        payload = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        error = payload["error"]
        message = str(error.get("message") or message)
        if isinstance(error.get("metadata"), dict):
            metadata = error["metadata"]
    retry_after = _float_or_none(response.headers.get("Retry-After"))
    return error_for_status(
        response.status_code, message, metadata=metadata, retry_after=retry_after, model=model,
        images_api=images_api,
    )


def _image_urls(message: dict[str, Any]) -> list[str]:
    """Every image URL in a message, in the documented shape and the shapes seen in the wild."""
    entries: list[Any] = []
    if isinstance(message.get("images"), list):
        entries.extend(message["images"])
    if isinstance(message.get("content"), list):
        entries.extend(
            part for part in message["content"] if isinstance(part, dict) and part.get("type") != "text"
        )
    urls: list[str] = []
    for entry in sorted(entries, key=lambda item: _int_or_none(_get(item, "index")) or 0):
        url = _entry_url(entry)
        if url:
            urls.append(url)
    return urls


async def _capped(
    entries: Sequence[T], load: Callable[[T], Awaitable[GeneratedImage]], *, model: str
) -> tuple[list[GeneratedImage], int]:
    """Load at most `MAX_IMAGES_PER_ANSWER` of an answer's images, both routes alike; returns them and the dropped.

    Dropped: those past the cap (never decoded nor fetched) and links the fetcher refused. A refused
    link does not sink the others; when none is left, the first refusal is raised.
    """
    dropped = max(0, len(entries) - MAX_IMAGES_PER_ANSWER)
    if dropped:
        log.info("%s answered with %d images; taking the first %d", model, len(entries), MAX_IMAGES_PER_ANSWER)
    images: list[GeneratedImage] = []
    refused: ImageAddressRefusedError | None = None
    for entry in entries[:MAX_IMAGES_PER_ANSWER]:
        try:
            images.append(await load(entry))
        except ImageAddressRefusedError as error:
            refused = refused or error
            dropped += 1
    if refused is not None and not images:
        raise refused
    return images, dropped


def _entry_url(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    image_url = entry.get("image_url")
    if isinstance(image_url, dict) and isinstance(image_url.get("url"), str):
        return str(image_url["url"])
    if isinstance(image_url, str):
        return image_url
    if isinstance(entry.get("url"), str):
        return str(entry["url"])
    if isinstance(entry.get("b64_json"), str):
        mime = str(entry.get("media_type") or entry.get("mime_type") or "image/png")
        return f"data:{mime};base64,{entry['b64_json']}"
    return None


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, list):
        texts = [str(part.get("text", "")) for part in content if isinstance(part, dict)]
        return "\n".join(text for text in texts if text).strip()
    return ""


def _data_list(answer: dict[str, Any]) -> list[dict[str, Any]]:
    data = answer.get("data")
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _cost(answer: dict[str, Any]) -> float | None:
    usage = answer.get("usage")
    return _float_or_none(usage.get("cost")) if isinstance(usage, dict) else None


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else None


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _str_or_none(value: Any) -> str | None:
    return str(value) if value else None
