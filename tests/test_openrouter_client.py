"""Unit tests of the OpenRouter client on httpx.MockTransport: request shape, headers, errors, retries."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import bot.openrouter.client as client_module
from bot.fetcher import GuardedFetcher, StaticResolver
from bot.openrouter import ImageInput, ModelInfo, OpenRouterClient, ProviderFilter, build_http_client
from bot.openrouter import errors as e
from bot.openrouter.client import MAX_IMAGES_PER_ANSWER, OFF_LOOP_BYTES
from bot.openrouter.retry import RetryPolicy
from bot.requests import ImageRequest
from tests.fake_openrouter import render_png

KEY = "sk-or-v1-unit-test-key"
PNG = render_png(8, 8, (10, 20, 30))
#: Where the unit tests' public names resolve (MockTransport answers; nothing is ever dialled).
PUBLIC_IP = "93.184.215.14"
RESOLVER_TABLE = {"cdn.invalid": [PUBLIC_IP], "images.example.org": [PUBLIC_IP]}


DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()


def _image_answer(url: str | None = None, *, urls: list[str] | None = None) -> dict:
    listed = urls if urls is not None else [url or DATA_URL]
    return {"id": "gen-1", "model": "m/x", "usage": {"cost": 0.5},
            "choices": [{"message": {"role": "assistant", "content": "ok",
                                     "images": [{"type": "image_url", "image_url": {"url": u}} for u in listed]}}]}


def _client(handler: Callable[[httpx.Request], httpx.Response], **kwargs: object) -> OpenRouterClient:
    """A client on a MockTransport, with a fetcher on the same transport and a fixed resolver (no DNS)."""
    http = build_http_client(timeout_s=5, app_name="Test Bot", app_url="https://example.invalid/bot")
    http._transport = httpx.MockTransport(handler)
    fetcher = GuardedFetcher(trusted_origins=["https://or.invalid/api/v1"], transport=httpx.MockTransport(handler),
                             resolver=StaticResolver(RESOLVER_TABLE))
    return OpenRouterClient(http, api_key=KEY, base_url="https://or.invalid/api/v1", timeout_s=5,
                            retry=RetryPolicy(max_attempts=3, base_delay_s=0, max_delay_s=0), fetcher=fetcher,
                            **kwargs)  # type: ignore[arg-type]


async def _close(client: OpenRouterClient) -> None:
    await client.aclose()
    await client.fetcher.aclose()


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
    result = await client.generate_image(
        ImageRequest(prompt="p", model="m/x", aspect_ratio="16:9", providers=providers))
    assert seen[0].get("provider") == expected
    assert result.images[0].mime == "image/png" and result.cost == 0.5 and result.generation_id == "gen-1"
    await _close(client)


async def test_headers_and_reference_parts() -> None:
    captured: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(200, json=_image_answer())

    client = _client(handler)
    await client.generate_image(ImageRequest(prompt="make it blue", model="m/x"),
        references=[ImageInput(PNG, "image/png"), ImageInput(b"\xff\xd8\xff", "image/jpeg")])
    request = captured[0]
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["x-openrouter-title"] == "Test Bot"
    assert request.headers["http-referer"] == "https://example.invalid/bot"
    content = json.loads(request.content)["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "make it blue"}
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert content[2]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    await _close(client)


async def test_https_image_download_carries_no_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers["host"] == "cdn.invalid":
            return httpx.Response(200, content=PNG)
        return httpx.Response(200, json=_image_answer("https://cdn.invalid/a.png"))

    client = _client(handler)
    result = await client.generate_image(ImageRequest(prompt="p", model="m/x"))
    assert result.images[0].data == PNG
    assert "authorization" not in seen[1].headers
    assert (seen[1].url.host, seen[1].headers["host"]) == (PUBLIC_IP, "cdn.invalid"), "the checked address"
    assert seen[1].extensions["sni_hostname"] == "cdn.invalid", "TLS still verifies the real name"
    await _close(client)


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
        await client.generate_image(ImageRequest(prompt="p", model="m/x"))
    assert caught.value.model == "m/x"
    assert calls == (3 if status in (408, 429, 502, 503) else 1)
    if status == 429:
        assert isinstance(caught.value, e.RateLimitedError) and caught.value.retry_after == 7
    if status == 403:
        assert isinstance(caught.value, e.ModerationError) and caught.value.reasons == ["hate"]
    await _close(client)


async def test_retry_callback_is_told_each_attempt() -> None:
    answers = iter([httpx.Response(503, json={"error": {"code": 503, "message": "busy"}}),
                    httpx.Response(200, json=_image_answer())])
    told: list[tuple[int, int, float]] = []
    client = _client(lambda request: next(answers))
    await client.generate_image(ImageRequest(prompt="p", model="m/x"), on_retry=lambda *args: told.append(args))
    assert told == [(1, 3, 0.0)]
    await _close(client)


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
    await _close(client)


async def test_timeout_becomes_request_timed_out() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = _client(handler)
    with pytest.raises(e.RequestTimedOutError):
        await client.generate_image(ImageRequest(prompt="p", model="m/x"))
    await _close(client)


# -- image links in answers: the guarded fetcher, and the cap (issue item 4) ---------------------------

METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/security-credentials/bot"


def _answering(answer: dict, *, files: dict[str, bytes] | None = None,
               seen: list[httpx.Request] | None = None) -> Callable[[httpx.Request], httpx.Response]:
    """A handler: the chat route answers `answer`; any other request gets `files[path]` or 404."""

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if request.url.path.endswith("/chat/completions"):
            return httpx.Response(200, json=answer)
        data = (files or {}).get(request.url.path)
        return httpx.Response(200, content=data) if data is not None else httpx.Response(404)

    return handler


@pytest.mark.parametrize("operation", ["generate", "edit"])
async def test_a_link_to_the_metadata_service_is_never_fetched(operation: str) -> None:
    seen: list[httpx.Request] = []
    client = _client(_answering(_image_answer(METADATA_URL), seen=seen))
    references = [ImageInput(PNG, "image/png")] if operation == "edit" else []
    with pytest.raises(e.ImageAddressRefusedError) as caught:
        await client.generate_image(ImageRequest(prompt="p", model="m/x"), references=references)
    assert [request.url.path for request in seen] == ["/api/v1/chat/completions"], "nothing else was requested"
    error = caught.value
    assert isinstance(error, e.ImageDecodeError), "callers that handle unreadable results still catch it"
    assert error.why == "it points into a private network"
    assert (error.cost, error.generation_id, error.model) == (0.5, "gen-1", "m/x")
    await _close(client)


async def test_refused_links_are_dropped_and_counted_and_the_rest_delivered() -> None:
    seen: list[httpx.Request] = []
    urls = [DATA_URL, "http://10.0.0.5/a.png", "https://images.example.org/b.png", "http://[::1]/c.png"]
    client = _client(_answering(_image_answer(urls=urls), files={"/b.png": PNG}, seen=seen))
    result = await client.generate_image(ImageRequest(prompt="p", model="m/x"))
    assert [image.data for image in result.images] == [PNG, PNG]
    assert result.dropped == 2
    fetched = seen[1:]
    assert [(r.url.host, r.headers["host"]) for r in fetched] == [(PUBLIC_IP, "images.example.org")]
    assert "authorization" not in fetched[0].headers
    await _close(client)


async def test_images_on_openrouters_own_origin_are_trusted_and_carry_no_key() -> None:
    seen: list[httpx.Request] = []
    client = _client(_answering(_image_answer("https://or.invalid/files/x.png"), files={"/files/x.png": PNG},
                                seen=seen))
    result = await client.generate_image(ImageRequest(prompt="p", model="m/x"))
    assert result.images[0].data == PNG and result.dropped == 0
    assert seen[1].url.host == "or.invalid" and "authorization" not in seen[1].headers
    await _close(client)


async def test_an_answer_is_capped_at_ten_images_data_urls_included() -> None:
    colours = [render_png(4, 4, (index, 0, 0)) for index in range(12)]
    urls = ["data:image/png;base64," + base64.b64encode(png).decode() for png in colours]
    client = _client(_answering(_image_answer(urls=urls)))
    result = await client.generate_image(ImageRequest(prompt="p", model="m/x"))
    assert MAX_IMAGES_PER_ANSWER == 10
    assert [image.data for image in result.images] == colours[:10], "the first ten, in order"
    assert result.dropped == 2
    await _close(client)


async def test_links_past_the_cap_are_not_even_fetched() -> None:
    seen: list[httpx.Request] = []
    urls = [DATA_URL] * 10 + ["https://images.example.org/11.png"]
    client = _client(_answering(_image_answer(urls=urls), files={"/11.png": PNG}, seen=seen))
    result = await client.generate_image(ImageRequest(prompt="p", model="m/x"))
    assert len(result.images) == 10 and result.dropped == 1
    assert len(seen) == 1, "only the chat request"
    await _close(client)


# -- cost and generation id on every failure after the answer (issue item 8) ---------------------------


def _answer_with_message(message: dict, **extra: Any) -> dict:
    return {"id": "gen-7", "model": "m/x", "usage": {"cost": 0.25},
            "choices": [{"message": {"role": "assistant", **message}, **extra}]}


POST_ANSWER_FAILURES = {
    "no image": (_answer_with_message({"content": "I only do text"}), e.NoImageReturnedError),
    "broken data url": (_answer_with_message({"images": [{"image_url": {"url": "data:image/png;base64,!!"}}]}),
                        e.ImageDecodeError),
    "not an image": (_answer_with_message({"images": [{"image_url": {
        "url": "data:image/png;base64," + base64.b64encode(b"plain words").decode()}}]}), e.ImageDecodeError),
    "unknown form": (_answer_with_message({"images": [{"image_url": {"url": "ftp://x/y.png"}}]}),
                     e.ImageDecodeError),
    "refused link": (_answer_with_message({"images": [{"image_url": {"url": METADATA_URL}}]}),
                     e.ImageAddressRefusedError),
    "failed download": (_answer_with_message({"images": [{"image_url": {"url": "https://images.example.org/gone"}}]}),
                        e.ImageDecodeError),
    "choice error": (_answer_with_message({"content": ""}, error={"code": 400, "message": "bad"},
                                          finish_reason="error"), e.GenerationFailedError),
    "error body in a 200": ({"id": "gen-7", "usage": {"cost": 0.25}, "error": {"code": 400, "message": "no"}},
                            e.GenerationFailedError),
}


@pytest.mark.parametrize("case", list(POST_ANSWER_FAILURES))
async def test_every_failure_after_an_answer_carries_its_cost_and_generation_id(case: str) -> None:
    answer, error_type = POST_ANSWER_FAILURES[case]
    told: list[tuple[float | None, str | None]] = []
    client = _client(_answering(answer))
    with pytest.raises(error_type) as caught:
        await client.generate_image(ImageRequest(prompt="p", model="m/x"), on_answer=lambda *args: told.append(args))
    assert (caught.value.cost, caught.value.generation_id) == (0.25, "gen-7")
    assert told == [(0.25, "gen-7")], "on_answer heard of the answer once"
    await _close(client)


async def test_on_answer_is_told_before_any_image_is_fetched() -> None:
    events: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/chat/completions"):
            return httpx.Response(200, json=_image_answer("https://images.example.org/a.png"))
        events.append("image fetched")
        return httpx.Response(200, content=PNG)

    client = _client(handler)
    result = await client.generate_image(ImageRequest(prompt="p", model="m/x"),
        on_answer=lambda cost, gid: events.append(f"answer {cost} {gid}"))
    assert events == ["answer 0.5 gen-1", "image fetched"]
    assert (result.cost, result.generation_id) == (0.5, "gen-1")
    await _close(client)


async def test_analyze_images_reports_its_answer() -> None:
    answer = {"id": "gen-9", "model": "m/eye", "usage": {"cost": 0.01},
              "choices": [{"message": {"role": "assistant", "content": "A cat."}}]}
    told: list[tuple[float | None, str | None]] = []
    client = _client(_answering(answer))
    result = await client.analyze_images(prompt="what?", images=[ImageInput(PNG, "image/png")], model="m/eye",
                                         on_answer=lambda *args: told.append(args))
    assert result.text == "A cat." and told == [(0.01, "gen-9")]
    await _close(client)


async def test_an_answer_for_each_attempt_is_reported() -> None:
    failed = _answer_with_message({"content": ""}, error={"code": 502, "message": "busy"}, finish_reason="error")
    answers = iter([httpx.Response(200, json=failed), httpx.Response(200, json=_image_answer())])
    told: list[tuple[float | None, str | None]] = []
    client = _client(lambda request: next(answers))
    await client.generate_image(ImageRequest(prompt="p", model="m/x"), on_answer=lambda *args: told.append(args))
    assert told == [(0.25, "gen-7"), (0.5, "gen-1")]
    await _close(client)


async def test_a_cancellation_during_a_large_parse_waits_reports_then_propagates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cancelled while the answer is parsed on the image pool: the parse ends, `on_answer` hears, then it cancels."""
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    real = client_module._join_and_parse

    def slow_parse(chunks: list[bytes]) -> Any:
        started.set()
        assert release.wait(10), "the test never released the parse"
        try:
            return real(chunks)
        finally:
            finished.set()

    monkeypatch.setattr(client_module, "_join_and_parse", slow_parse)
    big = "data:image/png;base64," + base64.b64encode(PNG + b"\0" * OFF_LOOP_BYTES).decode()
    told: list[tuple[float | None, str | None]] = []
    client = _client(_answering(_image_answer(big)))
    task = asyncio.create_task(
        client.generate_image(ImageRequest(prompt="p", model="m/x"), on_answer=lambda *args: told.append(args))
    )
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, started.wait, 10), "the parse never started"
    task.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished.is_set(), "the parse was waited for"
    assert told == [(0.5, "gen-1")]
    await _close(client)


# -- request bodies and answers off the event loop (issue item 6) -------------------------------------


def _expected_body(prompt: str, references: list[ImageInput]) -> dict:
    content = [{"type": "text", "text": prompt}]
    content += [{"type": "image_url", "image_url": {"url": ref.as_url()}} for ref in references]
    return {"model": "m/x", "messages": [{"role": "user", "content": content}], "modalities": ["image", "text"],
            "image_config": {"aspect_ratio": "1:1"}}


@pytest.mark.parametrize("large", [True, False])
async def test_the_request_body_is_built_off_the_loop_when_its_references_are_large(
    monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    threads: list[int] = []
    real = client_module._encode_chat_body

    def spy(*args: Any) -> bytes:
        threads.append(threading.get_ident())
        return real(*args)

    monkeypatch.setattr(client_module, "_encode_chat_body", spy)
    captured: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(200, json=_image_answer())

    size = OFF_LOOP_BYTES if large else 100
    references = [ImageInput(bytes([index]) * size + PNG, "image/png") for index in range(3)]
    client = _client(handler)
    await client.generate_image(ImageRequest(prompt="héllo \u2728", model="m/x", aspect_ratio="1:1"),
                                references=references)
    loop_thread = threading.get_ident()
    assert len(threads) == 1
    assert (threads[0] != loop_thread) is large
    (request,) = captured
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == _expected_body("héllo \u2728", references)
    await _close(client)


async def test_a_large_answer_is_parsed_on_the_image_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    names: list[str] = []
    real = client_module._join_and_parse

    def spy(chunks: list[bytes]) -> Any:
        names.append(threading.current_thread().name)
        return real(chunks)

    monkeypatch.setattr(client_module, "_join_and_parse", spy)
    big = "data:image/png;base64," + base64.b64encode(PNG + b"\0" * OFF_LOOP_BYTES).decode()
    client = _client(_answering(_image_answer(big)))
    await client.generate_image(ImageRequest(prompt="p", model="m/x"))
    assert len(names) == 1 and names[0].startswith("image-work"), names
    await _close(client)


async def test_a_client_without_a_fetcher_makes_and_closes_its_own() -> None:
    http = build_http_client(timeout_s=5, app_name="t", app_url="https://example.invalid")
    client = OpenRouterClient(http, api_key=KEY, base_url="https://or.invalid/api/v1", timeout_s=5)
    fetcher = client.fetcher
    assert fetcher.is_trusted("https://or.invalid/files/a.png")
    assert not fetcher.is_trusted("https://or.invalid:8443/files/a.png")
    await client.aclose()
    assert fetcher.closed


# -- one error mapping for both routes ------------------------------------------------------------------


@pytest.mark.parametrize("images_api", [False, True])
@pytest.mark.parametrize(
    ("status", "metadata", "chat_type", "images_type"),
    [
        (400, {}, e.BadRequestError, e.BadRequestError),
        (400, {"block_reason": "SAFETY"}, e.ContentRefusedError, e.ContentRefusedError),
        (403, {"reasons": ["violence"]}, e.ModerationError, e.ModerationError),
        (429, {}, e.RateLimitedError, e.RateLimitedError),
        (500, {}, e.ProviderUnavailableError, e.ProviderUnavailableError),
        (502, {}, e.ProviderUnavailableError, e.GenerationNotChargedError),
        (503, {}, e.ProviderUnavailableError, e.ProviderUnavailableError),
    ],
)
def test_error_for_status_serves_both_routes(
    images_api: bool, status: int, metadata: dict, chat_type: type, images_type: type
) -> None:
    error = e.error_for_status(status, "x", metadata=metadata, model="m/x", images_api=images_api)
    assert type(error) is (images_type if images_api else chat_type)
    assert error.status == status and error.retryable is (status >= 429)
    assert error.cost == (0.0 if type(error) is e.GenerationNotChargedError else None)


def test_provider_filter_allows_by_slug_name_or_tag_and_only_wins() -> None:
    assert ProviderFilter().allows("openai")
    assert ProviderFilter(only=("OpenAI",)).allows("openai", "OpenAI", None)
    assert not ProviderFilter(only=("openai",)).allows("fal", "Fal", "fal-ai")
    assert ProviderFilter(only=("fal-ai",), ignore=("fal",)).allows("fal", "Fal", "fal-ai"), "only wins"
    assert not ProviderFilter(ignore=("Google Vertex",)).allows("google-vertex", "Google Vertex")


def test_model_info_keeps_the_chat_routes_supported_parameters() -> None:
    info = ModelInfo.from_api({"id": "a/b", "supported_parameters": ["seed", "max_tokens"]})
    assert info.supported_parameters == {"seed", "max_tokens"}
    assert ModelInfo.from_api({"id": "a/b", "supported_parameters": "seed"}).supported_parameters == frozenset()


def test_the_pool_gives_every_call_the_job_queue_lets_run_a_connection() -> None:
    from bot.openrouter import pool_limits

    assert pool_limits().max_connections == 256  # the default bound (8) and anything up to 240
    assert pool_limits(240).max_connections == 256
    # Above that the pool grows with the bound, so calls wait in the job queue, not inside httpcore's pool.
    assert pool_limits(800).max_connections == 816
    assert pool_limits(800).max_keepalive_connections == 64
