"""Unit tests of the OpenRouter client on httpx.MockTransport: request shape, headers, errors, retries."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable

import httpx
import pytest

from bot.openrouter import ImageInput, OpenRouterClient, ProviderFilter, build_http_client
from bot.openrouter import errors as e
from bot.openrouter.retry import RetryPolicy
from tests.fake_openrouter import render_png

KEY = "sk-or-v1-unit-test-key"
PNG = render_png(8, 8, (10, 20, 30))


def _image_answer(url: str | None = None) -> dict:
    url = url or "data:image/png;base64," + base64.b64encode(PNG).decode()
    return {"id": "gen-1", "model": "m/x", "usage": {"cost": 0.5},
            "choices": [{"message": {"role": "assistant", "content": "ok",
                                     "images": [{"type": "image_url", "image_url": {"url": url}}]}}]}


def _client(handler: Callable[[httpx.Request], httpx.Response], **kwargs: object) -> OpenRouterClient:
    http = build_http_client(timeout_s=5, app_name="Test Bot", app_url="https://example.invalid/bot")
    http._transport = httpx.MockTransport(handler)
    return OpenRouterClient(http, api_key=KEY, base_url="https://or.invalid/api/v1", timeout_s=5,
                            retry=RetryPolicy(max_attempts=3, base_delay_s=0, max_delay_s=0), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("providers", "expected"),
    [
        (ProviderFilter(), None),
        (ProviderFilter(ignore=("openai",)), {"ignore": ["openai"]}),
        (ProviderFilter(only=("google-vertex",)), {"only": ["google-vertex"]}),
        (ProviderFilter(only=("google-vertex",), ignore=("openai",)), {"only": ["google-vertex"]}),
    ],
)
async def test_provider_filter_precedence(providers: ProviderFilter, expected: dict | None) -> None:
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=_image_answer())

    client = _client(handler)
    result = await client.generate_image(prompt="p", model="m/x", aspect_ratio="16:9", providers=providers)
    assert seen[0].get("provider") == expected
    assert result.images[0].mime == "image/png" and result.cost == 0.5 and result.generation_id == "gen-1"
    await client.aclose()


async def test_headers_and_reference_parts() -> None:
    captured: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(200, json=_image_answer())

    client = _client(handler)
    await client.generate_image(prompt="make it blue", model="m/x",
                                references=[ImageInput(PNG, "image/png"), ImageInput(b"\xff\xd8\xff", "image/jpeg")])
    request = captured[0]
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["x-openrouter-title"] == "Test Bot"
    assert request.headers["http-referer"] == "https://example.invalid/bot"
    content = json.loads(request.content)["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "make it blue"}
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert content[2]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    await client.aclose()


async def test_https_image_download_carries_no_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "cdn.invalid":
            return httpx.Response(200, content=PNG)
        return httpx.Response(200, json=_image_answer("https://cdn.invalid/a.png"))

    client = _client(handler)
    result = await client.generate_image(prompt="p", model="m/x")
    assert result.images[0].data == PNG
    assert "authorization" not in seen[1].headers
    await client.aclose()


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, e.BadRequestError), (401, e.AuthenticationError), (402, e.InsufficientCreditsError),
     (403, e.ModerationError), (404, e.ModelNotFoundError), (408, e.UpstreamTimeoutError),
     (413, e.PayloadTooLargeError), (429, e.RateLimitedError), (502, e.ProviderUnavailableError),
     (503, e.ProviderUnavailableError)],
)
async def test_status_maps_to_typed_error(status: int, error_type: type[e.OpenRouterError]) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        body = {"error": {"code": status, "message": "nope", "metadata": {"reasons": ["hate"]}}}
        return httpx.Response(status, json=body, headers={"Retry-After": "7"})

    client = _client(handler)
    with pytest.raises(error_type) as caught:
        await client.generate_image(prompt="p", model="m/x")
    assert caught.value.model == "m/x"
    assert calls == (3 if status in (408, 429, 502, 503) else 1)
    if status == 429:
        assert isinstance(caught.value, e.RateLimitedError) and caught.value.retry_after == 7
    if status == 403:
        assert isinstance(caught.value, e.ModerationError) and caught.value.reasons == ["hate"]
    await client.aclose()


async def test_retry_callback_is_told_each_attempt() -> None:
    answers = iter([httpx.Response(503, json={"error": {"code": 503, "message": "busy"}}),
                    httpx.Response(200, json=_image_answer())])
    told: list[tuple[int, int, float]] = []
    client = _client(lambda request: next(answers))
    await client.generate_image(prompt="p", model="m/x", on_retry=lambda *args: told.append(args))
    assert told == [(1, 3, 0.0)]
    await client.aclose()


def test_retry_policy_honours_retry_after_and_bounds() -> None:
    policy = RetryPolicy(max_attempts=3, max_total_s=10, base_delay_s=1, max_delay_s=5)
    limited = e.RateLimitedError("slow", status=429, retry_after=3)
    assert policy.delay_after(1, limited) == 3
    assert policy.delay_after(1, e.RateLimitedError("slow", status=429, retry_after=60)) == 5
    rng = random.Random(1)
    delays = [policy.delay_after(attempt, e.ProviderUnavailableError("x", status=502), rng) for attempt in (1, 2, 3)]
    assert 0.5 <= delays[0] <= 1.5 and 1 <= delays[1] <= 3 and 2 <= delays[2] <= 6
    assert policy.should_retry(1, limited, elapsed_s=0, delay_s=3)
    assert not policy.should_retry(3, limited, elapsed_s=0, delay_s=3), "attempts are bounded"
    assert not policy.should_retry(1, limited, elapsed_s=8, delay_s=3), "total time is bounded"
    assert not policy.should_retry(1, e.InsufficientCreditsError("x", status=402), 0, 0)


async def test_list_models_and_key_info() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            assert request.url.params["output_modalities"] == "all"
            return httpx.Response(200, json={"data": [
                {"id": "a/img", "name": "Img", "architecture": {"input_modalities": ["text"],
                                                                "output_modalities": ["image"]}},
                {"id": "a/eye", "name": "Eye", "architecture": {"input_modalities": ["text", "image"],
                                                                "output_modalities": ["text"]}}]})
        return httpx.Response(200, json={"data": {"label": "x", "limit": None, "limit_remaining": None,
                                                  "usage": 1.5, "is_free_tier": False}})

    client = _client(handler)
    models = {model.id: model for model in await client.list_models()}
    assert models["a/img"].makes_images and not models["a/img"].reads_images
    assert models["a/eye"].reads_images and not models["a/eye"].makes_images
    key = await client.key_info()
    assert key.usage == 1.5 and key.limit is None
    await client.aclose()


async def test_timeout_becomes_request_timed_out() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = _client(handler)
    with pytest.raises(e.RequestTimedOutError):
        await client.generate_image(prompt="p", model="m/x")
    await client.aclose()
