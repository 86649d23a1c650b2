"""The Images API route of the OpenRouter client (`POST /images`, discovery) on httpx.MockTransport.

Request bodies are checked against `ImageGenerationRequest` as OpenRouter's OpenAPI spec draws it
(required fields, enums, bounds: `validate_image_request`); answers are shaped as
`ImageGenerationResponse`, `ImageStreamingResponse` (server-sent events) and the discovery schemas.
Both routes share one retry loop and one error mapping, which the parametrized tests walk through.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import httpx
import pytest
from PIL import Image

import bot.openrouter.client as client_module
from bot.error_messages import describe_error
from bot.fetcher import GuardedFetcher, StaticResolver
from bot.openrouter import (
    BooleanParam,
    EnumParam,
    ImageInput,
    OpenRouterClient,
    ProviderFilter,
    RangeParam,
    build_http_client,
)
from bot.openrouter import errors as e
from bot.openrouter.client import MAX_IMAGES_PER_ANSWER, OFF_LOOP_BYTES
from bot.openrouter.retry import RetryPolicy
from bot.requests import ImageRequest, Route

KEY = "sk-or-v1-unit-test-key"
BASE = "https://or.invalid/api/v1"


def _png(color: tuple[int, int, int] = (10, 20, 30), size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, "JPEG")
    return buffer.getvalue()


PNG = _png()
PREVIEW = _png((1, 2, 3), 4)
B64 = base64.b64encode(PNG).decode()


# -- ImageGenerationRequest, as the spec has it ---------------------------------------------------------

SPEC_ASPECT_RATIOS = {
    "1:1", "1:2", "1:4", "1:8", "2:1", "2:3", "3:2", "3:4", "4:1", "4:3", "4:5", "5:4", "8:1", "9:16", "16:9",
    "9:19.5", "19.5:9", "9:20", "20:9", "9:21", "21:9", "auto",
}
SPEC_ENUMS = {
    "aspect_ratio": SPEC_ASPECT_RATIOS,
    "background": {"auto", "transparent", "opaque"},
    "output_format": {"png", "jpeg", "webp", "svg"},
    "quality": {"auto", "low", "medium", "high"},
    "resolution": {"512", "1K", "2K", "4K"},
}
SPEC_PROPERTIES = {
    "aspect_ratio", "background", "input_references", "model", "n", "output_compression", "output_format",
    "prompt", "provider", "quality", "resolution", "seed", "size", "stream",
}
PROVIDER_PROPERTIES = {"allow_fallbacks", "ignore", "only", "options", "order", "sort"}


def validate_image_request(body: Any) -> list[str]:
    """What is wrong with `body` as an `ImageGenerationRequest` (empty: nothing)."""
    if not isinstance(body, dict):
        return ["not an object"]
    problems = [f"unknown key {key!r}" for key in body if key not in SPEC_PROPERTIES]
    for key in ("model", "prompt"):
        if not isinstance(body.get(key), str):
            problems.append(f"{key} is required and must be a string")
    if isinstance(body.get("prompt"), str) and len(body["prompt"]) < 1:
        problems.append("prompt: minLength 1")
    for key, allowed in SPEC_ENUMS.items():
        if key in body and body[key] not in allowed:
            problems.append(f"{key} {body[key]!r} is not one of the enum")
    for key in ("n", "seed", "output_compression"):
        if key in body and (not isinstance(body[key], int) or isinstance(body[key], bool)):
            problems.append(f"{key} must be an integer")
    if isinstance(body.get("n"), int) and not 1 <= body["n"] <= 10:
        problems.append("n must be 1-10")
    if "stream" in body and not isinstance(body["stream"], bool):
        problems.append("stream must be a boolean")
    references = body.get("input_references")
    if references is not None:
        if not isinstance(references, list) or len(references) > 16:
            problems.append("input_references: an array of at most 16")
        else:
            for part in references:
                url = part.get("image_url", {}).get("url") if isinstance(part, dict) else None
                if not isinstance(part, dict) or part.get("type") != "image_url" or not isinstance(url, str):
                    problems.append(f"input_references: {part!r} is not a ContentPartImage")
    provider = body.get("provider")
    if provider is not None:
        if not isinstance(provider, dict):
            problems.append("provider must be an object")
        else:
            problems += [f"provider: unknown key {key!r}" for key in provider if key not in PROVIDER_PROPERTIES]
            for key in ("only", "ignore", "order"):
                if key in provider and not (
                    isinstance(provider[key], list) and all(isinstance(item, str) for item in provider[key])
                ):
                    problems.append(f"provider.{key} must be an array of strings")
    return problems


def test_the_validator_catches_what_the_spec_forbids() -> None:
    assert validate_image_request({"model": "m/x", "prompt": "p"}) == []
    assert validate_image_request({"prompt": "p"}) == ["model is required and must be a string"]
    assert validate_image_request({"model": "m/x", "prompt": ""}) == ["prompt: minLength 1"]
    assert validate_image_request({"model": "m/x", "prompt": "p", "resolution": "8K"})
    assert validate_image_request({"model": "m/x", "prompt": "p", "n": 11})
    assert validate_image_request({"model": "m/x", "prompt": "p", "image_config": {}})
    assert validate_image_request({"model": "m/x", "prompt": "p", "provider": {"only": "openai"}})
    assert validate_image_request({"model": "m/x", "prompt": "p", "input_references": [{"url": "x"}]})


# -- plumbing --------------------------------------------------------------------------------------------


Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, **kwargs: Any) -> OpenRouterClient:
    http = build_http_client(timeout_s=5, app_name="Test Bot", app_url="https://example.invalid/bot")
    http._transport = httpx.MockTransport(handler)
    fetcher = GuardedFetcher(trusted_origins=[BASE], transport=httpx.MockTransport(handler),
                             resolver=StaticResolver({"cdn.invalid": ["93.184.215.14"]}))
    return OpenRouterClient(http, api_key=KEY, base_url=BASE, timeout_s=5,
                            retry=RetryPolicy(max_attempts=3, base_delay_s=0, max_delay_s=0), fetcher=fetcher,
                            **kwargs)


async def _close(client: OpenRouterClient) -> None:
    await client.aclose()
    await client.fetcher.aclose()


def _images_answer(*images: bytes, cost: float | None = 0.04, media_type: str | None = "image/png") -> dict:
    data = []
    for image in images or (PNG,):
        entry: dict[str, Any] = {"b64_json": base64.b64encode(image).decode()}
        if media_type:
            entry["media_type"] = media_type
        data.append(entry)
    answer: dict[str, Any] = {"created": 1748372400, "data": data}
    if cost is not None:
        answer["usage"] = {"completion_tokens": 4175, "cost": cost, "prompt_tokens": 0, "total_tokens": 4175}
    return answer


def _chat_answer() -> dict:
    url = "data:image/png;base64," + B64
    return {"id": "gen-1", "model": "m/x", "usage": {"cost": 0.5},
            "choices": [{"message": {"role": "assistant", "content": "ok",
                                     "images": [{"type": "image_url", "image_url": {"url": url}}]}}]}


def _title(error: BaseException) -> str:
    described = describe_error(error)
    assert described is not None
    return described[0]


def _error(status: int, message: str = "nope", **metadata: Any) -> httpx.Response:
    body: dict[str, Any] = {"error": {"code": status, "message": message}}
    if metadata:
        body["error"]["metadata"] = metadata
    return httpx.Response(status, json=body)


class Recorder:
    """A handler answering from a script, keeping every request and the parsed bodies."""

    def __init__(self, *answers: httpx.Response | Callable[[httpx.Request], httpx.Response]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    @property
    def bodies(self) -> list[Any]:
        return [json.loads(request.content) for request in self.requests]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request) if callable(answer) else answer


def _images_request(**overrides: Any) -> ImageRequest:
    return ImageRequest(prompt=overrides.pop("prompt", "a red panda astronaut"),
                        model=overrides.pop("model", "bytedance-seed/seedream-4.5"), route=Route.IMAGES, **overrides)


# -- request bodies --------------------------------------------------------------------------------------


async def test_a_full_request_sends_every_set_parameter_in_the_specs_shape() -> None:
    recorder = Recorder(httpx.Response(200, json=_images_answer()))
    client = _client(recorder)
    jpeg = _jpeg()
    request = _images_request(aspect_ratio="16:9", resolution="2K", quality="high", count=3, seed=42,
                              providers=ProviderFilter(only=("openai",), ignore=("azure",)))
    await client.generate_image(request, references=[ImageInput(PNG, "image/png"), ImageInput(jpeg, "image/jpeg")],
                                modalities=("image",))
    (sent,) = recorder.requests
    assert sent.url.path == "/api/v1/images" and sent.method == "POST"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["content-type"] == "application/json"
    body = json.loads(sent.content)
    assert validate_image_request(body) == []
    assert body == {
        "model": "bytedance-seed/seedream-4.5", "prompt": "a red panda astronaut", "n": 3, "aspect_ratio": "16:9",
        "resolution": "2K", "quality": "high", "seed": 42,
        "input_references": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + B64}},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()}},
        ],
        "provider": {"only": ["openai"]},
    }
    await _close(client)


@pytest.mark.parametrize(
    ("overrides", "expected_extra"),
    [
        ({}, {}),
        ({"count": 1}, {}),
        ({"count": 12}, {"n": 10}),
        ({"seed": 0}, {"seed": 0}),
        ({"providers": ProviderFilter(ignore=("openai",))}, {"provider": {"ignore": ["openai"]}}),
        ({"aspect_ratio": "auto", "resolution": "512", "quality": "auto"},
         {"aspect_ratio": "auto", "resolution": "512", "quality": "auto"}),
    ],
)
async def test_only_the_keys_that_are_set_are_sent(overrides: dict, expected_extra: dict) -> None:
    recorder = Recorder(httpx.Response(200, json=_images_answer()))
    client = _client(recorder)
    await client.generate_image(_images_request(**overrides))
    (body,) = recorder.bodies
    assert validate_image_request(body) == []
    assert body == {"model": "bytedance-seed/seedream-4.5", "prompt": "a red panda astronaut", **expected_extra}
    await _close(client)


@pytest.mark.parametrize(
    ("stream", "with_partial", "streamed"), [(True, True, True), (True, False, False), (False, True, False)]
)
async def test_stream_is_asked_for_only_when_the_caller_says_and_listens(
    stream: bool, with_partial: bool, streamed: bool
) -> None:
    recorder = Recorder(httpx.Response(200, json=_images_answer()))
    client = _client(recorder)
    await client.generate_image(_images_request(), stream=stream,
                                on_partial=(lambda *args: None) if with_partial else None)
    (body,) = recorder.bodies
    assert validate_image_request(body) == []
    assert body.get("stream") is (True if streamed else None)
    await _close(client)


@pytest.mark.parametrize("large", [True, False])
async def test_the_images_body_is_built_off_the_loop_when_its_references_are_large(
    monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    threads: list[int] = []
    real = client_module._encode_images_body

    def spy(*args: Any) -> bytes:
        threads.append(threading.get_ident())
        return real(*args)

    monkeypatch.setattr(client_module, "_encode_images_body", spy)
    recorder = Recorder(httpx.Response(200, json=_images_answer()))
    client = _client(recorder)
    size = OFF_LOOP_BYTES if large else 10
    await client.generate_image(_images_request(), references=[ImageInput(b"\0" * size + PNG, "image/png")])
    assert len(threads) == 1 and (threads[0] != threading.get_ident()) is large
    assert validate_image_request(recorder.bodies[0]) == []
    await _close(client)


async def test_the_chat_route_sends_resolution_as_image_size_and_the_seed_but_no_count() -> None:
    recorder = Recorder(httpx.Response(200, json=_chat_answer()))
    client = _client(recorder)
    request = ImageRequest(prompt="p", model="google/gemini-3-pro-image-preview", aspect_ratio="16:9",
                           resolution="4K", seed=7, count=3, quality="high")
    await client.generate_image(request)
    (sent,) = recorder.requests
    assert sent.url.path == "/api/v1/chat/completions"
    body = json.loads(sent.content)
    assert body["image_config"] == {"aspect_ratio": "16:9", "image_size": "4K"}
    assert body["seed"] == 7
    assert not {"n", "quality", "prompt", "resolution"} & set(body)
    await _close(client)


# -- buffered answers ------------------------------------------------------------------------------------


async def test_a_buffered_answer_becomes_typed_images_with_its_cost() -> None:
    jpeg = _jpeg()
    told: list[tuple[float | None, str | None]] = []
    client = _client(Recorder(httpx.Response(200, json=_images_answer(PNG, jpeg, media_type=None))))
    result = await client.generate_image(_images_request(count=2), on_answer=lambda *args: told.append(args))
    assert [(image.data, image.mime) for image in result.images] == [(PNG, "image/png"), (jpeg, "image/jpeg")]
    assert (result.cost, result.generation_id, result.model, result.text, result.dropped) == (
        0.04, None, "bytedance-seed/seedream-4.5", "", 0)
    assert told == [(0.04, None)]
    await _close(client)


async def test_an_answer_is_capped_at_ten_images() -> None:
    colours = [_png((index, 0, 0), 4) for index in range(12)]
    client = _client(Recorder(httpx.Response(200, json=_images_answer(*colours))))
    result = await client.generate_image(_images_request(count=10))
    assert [image.data for image in result.images] == colours[:MAX_IMAGES_PER_ANSWER]
    assert result.dropped == 2
    await _close(client)


async def test_a_large_image_is_decoded_on_the_image_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    names: list[str] = []
    real = client_module._b64decode

    def spy(text: str) -> bytes:
        names.append(threading.current_thread().name)
        return real(text)

    monkeypatch.setattr(client_module, "_b64decode", spy)
    big = PNG + b"\0" * OFF_LOOP_BYTES
    client = _client(Recorder(httpx.Response(200, json=_images_answer(big))))
    result = await client.generate_image(_images_request())
    assert result.images[0].data == big
    assert names and names[0].startswith("image-work")
    await _close(client)


@pytest.mark.parametrize(
    ("answer", "error_type"),
    [
        ({"created": 1, "data": [], "usage": {"cost": 0.0}}, e.NoImageReturnedError),
        ({"created": 1, "data": [{"b64_json": "!!not base64"}], "usage": {"cost": 0.04}}, e.ImageDecodeError),
        ({"created": 1, "data": [{"b64_json": base64.b64encode(b"words").decode()}], "usage": {"cost": 0.04}},
         e.ImageDecodeError),
    ],
)
async def test_an_answer_without_a_usable_image_fails_with_its_cost(answer: dict, error_type: type) -> None:
    client = _client(Recorder(httpx.Response(200, json=answer)))
    with pytest.raises(error_type) as caught:
        await client.generate_image(_images_request())
    assert caught.value.cost == answer["usage"]["cost"]
    await _close(client)


# -- one retry loop, one error mapping, both routes ------------------------------------------------------


def _request_for(route: Route) -> ImageRequest:
    return _images_request() if route is Route.IMAGES else ImageRequest(prompt="p", model="m/x")


def _ok(route: Route) -> httpx.Response:
    return httpx.Response(200, json=_images_answer() if route is Route.IMAGES else _chat_answer())


@pytest.mark.parametrize("route", list(Route))
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 524, 529])
async def test_passing_failures_are_retried_on_both_routes(route: Route, status: int) -> None:
    recorder = Recorder(_error(status), _error(status), _ok(route))
    told: list[tuple[int, int, float]] = []
    client = _client(recorder)
    result = await client.generate_image(_request_for(route), on_retry=lambda *args: told.append(args))
    assert result.images[0].data == PNG
    assert len(recorder.requests) == 3 and told == [(1, 3, 0.0), (2, 3, 0.0)]
    expected = "/api/v1/images" if route is Route.IMAGES else "/api/v1/chat/completions"
    assert {request.url.path for request in recorder.requests} == {expected}
    await _close(client)


@pytest.mark.parametrize("route", list(Route))
@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, e.BadRequestError), (401, e.AuthenticationError), (402, e.InsufficientCreditsError),
     (403, e.ModerationError), (404, e.ModelNotFoundError), (413, e.PayloadTooLargeError)],
)
async def test_lasting_failures_are_not_retried_on_either_route(
    route: Route, status: int, error_type: type[e.OpenRouterError]
) -> None:
    recorder = Recorder(_error(status))
    client = _client(recorder)
    with pytest.raises(error_type) as caught:
        await client.generate_image(_request_for(route))
    assert len(recorder.requests) == 1
    assert not isinstance(caught.value, e.GenerationNotChargedError | e.ContentRefusedError)
    await _close(client)


async def test_a_502_on_the_images_api_is_not_charged_and_says_so() -> None:
    recorder = Recorder(_error(502, "Provider returned error", provider_name="OpenAI"))
    told: list[tuple[float | None, str | None]] = []
    client = _client(recorder)
    with pytest.raises(e.GenerationNotChargedError) as caught:
        await client.generate_image(_images_request(), on_answer=lambda *args: told.append(args))
    error = caught.value
    assert len(recorder.requests) == 3, "retried like any 502"
    assert isinstance(error, e.ProviderUnavailableError) and error.status == 502 and error.retryable
    assert error.cost == 0.0 and error.provider_name == "OpenAI"
    assert told == [(0.0, None)] * 3, "each attempt reported as billed at $0"
    title, message = describe_error(error) or ("", "")
    assert title == "Generation failed"
    assert "failed and was not charged; try again" in message and "bytedance-seed/seedream-4.5" in message
    await _close(client)


async def test_a_502_on_the_chat_route_is_unavailable_with_an_unknown_cost() -> None:
    client = _client(Recorder(_error(502)))
    with pytest.raises(e.ProviderUnavailableError) as caught:
        await client.generate_image(ImageRequest(prompt="p", model="m/x"))
    assert not isinstance(caught.value, e.GenerationNotChargedError)
    assert caught.value.cost is None
    assert _title(caught.value) == "Model unavailable"
    await _close(client)


async def test_a_502_then_a_success_reports_both_answers() -> None:
    told: list[tuple[float | None, str | None]] = []
    client = _client(Recorder(_error(502), httpx.Response(200, json=_images_answer())))
    result = await client.generate_image(_images_request(), on_answer=lambda *args: told.append(args))
    assert result.cost == 0.04 and told == [(0.0, None), (0.04, None)]
    await _close(client)


@pytest.mark.parametrize("route", list(Route))
async def test_a_content_refusal_reads_as_moderation(route: Route) -> None:
    recorder = Recorder(_error(400, "Request blocked by the provider", block_reason="SAFETY"))
    client = _client(recorder)
    with pytest.raises(e.ContentRefusedError) as caught:
        await client.generate_image(_request_for(route))
    error = caught.value
    assert len(recorder.requests) == 1
    assert isinstance(error, e.ModerationError) and isinstance(error, e.BadRequestError)
    assert error.status == 400 and error.block_reason == "SAFETY" and error.reasons == ["SAFETY"]
    title, message = describe_error(error) or ("", "")
    assert title == "Blocked by moderation" and "SAFETY" in message
    await _close(client)


@pytest.mark.parametrize(
    ("error", "error_type"),
    [
        ({"code": 502, "message": "Provider returned error"}, e.GenerationNotChargedError),
        ({"code": 400, "message": "bad", "metadata": {"block_reason": "csam"}}, e.ContentRefusedError),
        ({"code": 429, "message": "slow down"}, e.RateLimitedError),
        ({"code": "upstream_error", "message": "x", "type": "provider_error"}, e.GenerationNotChargedError),
    ],
)
async def test_an_error_in_a_200_maps_as_its_status_would(error: dict, error_type: type) -> None:
    client = _client(Recorder(httpx.Response(200, json={"error": error})))
    with pytest.raises(error_type):
        await client.generate_image(_images_request())
    await _close(client)


async def test_a_rate_limit_honours_retry_after_on_the_images_api() -> None:
    limited = httpx.Response(429, json={"error": {"code": 429, "message": "slow"}}, headers={"Retry-After": "0"})
    recorder = Recorder(limited, httpx.Response(200, json=_images_answer()))
    told: list[tuple[int, int, float]] = []
    client = _client(recorder)
    await client.generate_image(_images_request(), on_retry=lambda *args: told.append(args))
    assert told == [(1, 3, 0.0)] and len(recorder.requests) == 2
    await _close(client)


async def test_a_dropped_connection_is_retried_on_the_images_api() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=_images_answer())

    client = _client(handler)
    result = await client.generate_image(_images_request())
    assert calls == 2 and result.images
    await _close(client)


# -- streaming -------------------------------------------------------------------------------------------


def _event(data: dict | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"


def _partial(index: int, image: bytes = PREVIEW) -> str:
    return _event({"type": "image_generation.partial_image", "partial_image_index": index,
                   "b64_json": base64.b64encode(image).decode()})


def _completed(image: bytes = PNG, cost: float | None = 0.13) -> str:
    event: dict[str, Any] = {"type": "image_generation.completed", "b64_json": base64.b64encode(image).decode(),
                             "created": 1748372400, "media_type": "image/png"}
    if cost is not None:
        event["usage"] = {"completion_tokens": 4175, "cost": cost, "prompt_tokens": 0, "total_tokens": 4175}
    return _event(event)


DONE = "data: [DONE]\n\n"
KEEPALIVE = ": OPENROUTER PROCESSING\n\n"


class _Broken(httpx.AsyncByteStream):
    """A response body that sends `parts`, then (optionally) breaks the connection."""

    def __init__(self, parts: Iterable[str], *, breaks: bool) -> None:
        self.parts = list(parts)
        self.breaks = breaks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            yield part.encode()
        if self.breaks:
            raise httpx.ReadError("connection reset by peer")


def _sse(*parts: str, breaks: bool = False) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              stream=_Broken(parts, breaks=breaks))

    return answer


class Partials:
    def __init__(self) -> None:
        self.seen: list[tuple[int, bytes, str]] = []

    def __call__(self, index: int, data: bytes, mime: str) -> None:
        self.seen.append((index, data, mime))


async def test_a_stream_delivers_previews_then_the_final_image() -> None:
    recorder = Recorder(_sse(KEEPALIVE, _partial(0), "event: image_generation.partial_image\n" + _partial(1),
                             KEEPALIVE, _completed(), DONE))
    partials = Partials()
    told: list[tuple[float | None, str | None]] = []
    client = _client(recorder)
    result = await client.generate_image(_images_request(), stream=True, on_partial=partials,
                                         on_answer=lambda *args: told.append(args))
    assert recorder.bodies[0]["stream"] is True
    assert "text/event-stream" in recorder.requests[0].headers["accept"]
    assert partials.seen == [(0, PREVIEW, "image/png"), (1, PREVIEW, "image/png")]
    assert [(image.data, image.mime) for image in result.images] == [(PNG, "image/png")]
    assert result.cost == 0.13 and told == [(0.13, None)]
    await _close(client)


async def test_a_stream_of_several_images_sums_their_costs() -> None:
    second = _png((0, 90, 0))
    told: list[tuple[float | None, str | None]] = []
    client = _client(Recorder(_sse(_completed(PNG, 0.05), _completed(second, 0.05), DONE)))
    result = await client.generate_image(_images_request(count=2), stream=True, on_partial=Partials(),
                                         on_answer=lambda *args: told.append(args))
    assert [image.data for image in result.images] == [PNG, second]
    assert result.cost == pytest.approx(0.10) and told == [(0.05, None), (0.05, None)]
    await _close(client)


async def test_an_endpoint_that_does_not_stream_answers_buffered() -> None:
    partials = Partials()
    client = _client(Recorder(httpx.Response(200, json=_images_answer())))
    result = await client.generate_image(_images_request(), stream=True, on_partial=partials)
    assert result.images[0].data == PNG and partials.seen == []
    await _close(client)


async def test_a_failing_preview_callback_does_not_fail_the_generation() -> None:
    def explode(index: int, data: bytes, mime: str) -> None:
        raise RuntimeError("discord said no")

    client = _client(Recorder(_sse(_partial(0), _completed(), DONE)))
    result = await client.generate_image(_images_request(), stream=True, on_partial=explode)
    assert result.images[0].data == PNG
    await _close(client)


async def test_a_malformed_preview_is_skipped() -> None:
    partials = Partials()
    broken = _event({"type": "image_generation.partial_image", "partial_image_index": 0, "b64_json": "%%%"})
    client = _client(Recorder(_sse(broken, _partial(1), _completed(), DONE)))
    result = await client.generate_image(_images_request(), stream=True, on_partial=partials)
    assert [index for index, _data, _mime in partials.seen] == [1] and result.images
    await _close(client)


STREAM_ERRORS = [
    ({"code": "upstream_error", "message": "The upstream provider returned an error", "param": None,
      "type": "provider_error"}, e.GenerationNotChargedError),
    ({"code": "rate_limit_exceeded", "message": "slow down", "type": "rate_limit"}, e.RateLimitedError),
    ({"code": "content_policy_violation", "message": "refused", "type": "invalid_request_error"},
     e.ContentRefusedError),
    ({"code": "invalid_parameter", "message": "bad size", "param": "size", "type": "invalid_request_error"},
     e.BadRequestError),
    ({"code": 402, "message": "no credits"}, e.InsufficientCreditsError),
]


@pytest.mark.parametrize(("error", "error_type"), STREAM_ERRORS)
async def test_an_error_event_raises_what_a_buffered_call_would(error: dict, error_type: type) -> None:
    recorder = Recorder(_sse(KEEPALIVE, _event({"type": "error", "error": error}), DONE))
    client = _client(recorder)
    with pytest.raises(error_type) as caught:
        await client.generate_image(_images_request(), stream=True, on_partial=Partials())
    retried = caught.value.retryable
    assert len(recorder.requests) == (3 if retried else 1), "retried under the same policy"
    if error_type is e.GenerationNotChargedError:
        assert caught.value.cost == 0.0
    if error_type is e.ContentRefusedError:
        assert _title(caught.value) == "Blocked by moderation"
    await _close(client)


async def test_an_error_event_after_a_preview_is_not_retried() -> None:
    error = {"type": "error", "error": {"code": "upstream_error", "message": "x", "type": "provider_error"}}
    recorder = Recorder(_sse(_partial(0), _event(error), DONE), _sse(_completed(), DONE))
    partials = Partials()
    client = _client(recorder)
    with pytest.raises(e.GenerationNotChargedError):
        await client.generate_image(_images_request(), stream=True, on_partial=partials)
    assert len(recorder.requests) == 1 and len(partials.seen) == 1
    await _close(client)


@pytest.mark.parametrize("breaks", [True, False], ids=["connection reset", "ends early"])
async def test_a_stream_that_breaks_off_before_anything_is_retried(breaks: bool) -> None:
    recorder = Recorder(_sse(KEEPALIVE, breaks=breaks), _sse(_partial(0), _completed(), DONE))
    told: list[tuple[int, int, float]] = []
    client = _client(recorder)
    result = await client.generate_image(_images_request(), stream=True, on_partial=Partials(),
                                         on_retry=lambda *args: told.append(args))
    assert len(recorder.requests) == 2 and told == [(1, 3, 0.0)]
    assert result.images[0].data == PNG
    await _close(client)


@pytest.mark.parametrize("breaks", [True, False], ids=["connection reset", "ends early"])
async def test_a_stream_that_breaks_off_after_a_preview_fails_without_a_retry(breaks: bool) -> None:
    recorder = Recorder(_sse(_partial(0), breaks=breaks), _sse(_completed(), DONE))
    client = _client(recorder)
    with pytest.raises(e.ConnectionFailedError) as caught:
        await client.generate_image(_images_request(), stream=True, on_partial=Partials())
    assert len(recorder.requests) == 1
    assert _title(caught.value) == "OpenRouter unreachable"
    await _close(client)


async def test_a_stream_that_breaks_off_after_the_image_completed_keeps_it() -> None:
    client = _client(Recorder(_sse(_partial(0), _completed(), breaks=True)))
    result = await client.generate_image(_images_request(), stream=True, on_partial=Partials())
    assert result.images[0].data == PNG and result.cost == 0.13
    await _close(client)


async def test_a_stream_always_breaking_gives_up_after_the_policys_attempts() -> None:
    recorder = Recorder(_sse(KEEPALIVE, breaks=True))
    client = _client(recorder)
    with pytest.raises(e.ConnectionFailedError):
        await client.generate_image(_images_request(), stream=True, on_partial=Partials())
    assert len(recorder.requests) == 3
    await _close(client)


async def test_a_stream_with_an_error_status_maps_like_a_buffered_one() -> None:
    recorder = Recorder(_error(502), _sse(_completed(), DONE))
    told: list[tuple[float | None, str | None]] = []
    client = _client(recorder)
    result = await client.generate_image(_images_request(), stream=True, on_partial=Partials(),
                                         on_answer=lambda *args: told.append(args))
    assert result.images and told == [(0.0, None), (0.13, None)]
    await _close(client)


# -- discovery -------------------------------------------------------------------------------------------

IMAGE_MODELS = {"data": [
    {"architecture": {"input_modalities": ["text", "image"], "output_modalities": ["image"]},
     "created": 1692901234, "description": "A text-to-image model.",
     "endpoints": "/api/v1/images/models/bytedance-seed/seedream-4.5/endpoints",
     "id": "bytedance-seed/seedream-4.5", "name": "Seedream 4.5",
     "supported_parameters": {"resolution": {"type": "enum", "values": ["1K", "2K", "4K"]},
                              "seed": {"type": "boolean"},
                              "n": {"type": "range", "min": 1, "max": 4},
                              "input_references": {"type": "range", "min": 0, "max": 14},
                              "output_compression": {"max": 100, "min": 0, "type": "range"},
                              "future_knob": {"type": "something-new"}},
     "supports_streaming": False},
    {"architecture": {"input_modalities": ["text"], "output_modalities": ["image"]},
     "created": 1692901235, "description": "", "endpoints": "/api/v1/images/models/openai/gpt-image-2/endpoints",
     "id": "openai/gpt-image-2", "name": "GPT Image 2",
     "supported_parameters": {"quality": {"type": "enum", "values": ["low", "medium", "high"]}},
     "supports_streaming": True},
    {"name": "no id: skipped"},
]}

ENDPOINTS = {"id": "bytedance-seed/seedream-4.5", "endpoints": [
    {"allowed_passthrough_parameters": ["watermark"],
     "pricing": [{"billable": "output_image", "cost_usd": 0.04, "unit": "image"},
                 {"billable": "input_image", "cost_usd": 0.01, "unit": "megapixel", "variant": "hd"},
                 {"billable": "output_image", "unit": "image"}],
     "provider_name": "Bytedance", "provider_slug": "bytedance", "provider_tag": "bytedance",
     "supported_parameters": {"resolution": {"type": "enum", "values": ["1K", "2K"]}, "seed": {"type": "boolean"}},
     "supports_streaming": False},
    {"allowed_passthrough_parameters": [], "pricing": [], "provider_name": "Fal", "provider_slug": "fal",
     "provider_tag": None, "supported_parameters": {}, "supports_streaming": True},
]}


async def test_list_image_models_parses_typed_descriptors() -> None:
    recorder = Recorder(httpx.Response(200, json=IMAGE_MODELS))
    client = _client(recorder)
    models = {model.id: model for model in await client.list_image_models()}
    assert recorder.requests[0].url.path == "/api/v1/images/models"
    assert list(models) == ["bytedance-seed/seedream-4.5", "openai/gpt-image-2"]
    seedream = models["bytedance-seed/seedream-4.5"]
    assert seedream.name == "Seedream 4.5" and seedream.reads_images and not seedream.supports_streaming
    assert seedream.supported_parameters["resolution"] == EnumParam(("1K", "2K", "4K"))
    assert seedream.supported_parameters["seed"] == BooleanParam()
    assert seedream.supported_parameters["n"] == RangeParam(1.0, 4.0)
    assert seedream.supported_parameters["future_knob"] == BooleanParam(), "present means accepted"
    assert seedream.max_references == 14 and seedream.created == 1692901234
    assert seedream.endpoints_url.endswith("/seedream-4.5/endpoints")
    gpt = models["openai/gpt-image-2"]
    assert gpt.supports_streaming and not gpt.reads_images and gpt.max_references is None
    assert "seed" not in gpt.supported_parameters, "absent means unsupported"
    info = gpt.as_model_info()
    assert info.makes_images and info.id == "openai/gpt-image-2"
    await _close(client)


async def test_image_model_endpoints_parses_providers_prices_and_parameters() -> None:
    recorder = Recorder(httpx.Response(200, json=ENDPOINTS))
    client = _client(recorder)
    endpoints = await client.image_model_endpoints("bytedance-seed/seedream-4.5")
    assert recorder.requests[0].url.path == "/api/v1/images/models/bytedance-seed/seedream-4.5/endpoints"
    first, second = endpoints
    assert (first.provider_name, first.provider_slug, first.provider_tag) == ("Bytedance", "bytedance", "bytedance")
    assert [(p.billable, p.unit, p.cost_usd, p.variant) for p in first.pricing] == [
        ("output_image", "image", 0.04, None), ("input_image", "megapixel", 0.01, "hd")], "unreadable lines skipped"
    assert first.supported_parameters["resolution"] == EnumParam(("1K", "2K"))
    assert first.allowed_passthrough_parameters == ("watermark",) and not first.supports_streaming
    assert second.provider_tag is None and second.supports_streaming and not second.supported_parameters
    await _close(client)


async def test_endpoint_discovery_errors() -> None:
    recorder = Recorder(_error(404, "Resource not found"))
    client = _client(recorder)
    with pytest.raises(e.ModelNotFoundError):
        await client.image_model_endpoints("acme/nope:free")
    assert recorder.requests[0].url.raw_path == b"/api/v1/images/models/acme/nope%3Afree/endpoints"
    with pytest.raises(ValueError):
        await client.image_model_endpoints("no-author")
    await _close(client)
