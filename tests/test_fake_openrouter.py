"""Tests of the fake OpenRouter server itself (tests/fake_openrouter.py)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from PIL import Image, UnidentifiedImageError

from tests.fake_openrouter import (
    ASPECT_RATIO_SIZES,
    BLOCK_REASON,
    DEFAULT_TEXT_REPLY,
    KEEPALIVE,
    NO_ALLOWED_PROVIDERS,
    NO_IMAGE_TEXT,
    FakeOpenRouter,
)

IMAGE_MODEL = "google/gemini-2.5-flash-image"


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenRouter]:
    async with FakeOpenRouter() as server:
        yield server


@pytest.fixture
async def client(fake: FakeOpenRouter) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=fake.base_url,
        headers={"Authorization": f"Bearer {fake.api_key}", "HTTP-Referer": "https://example.test"},
        timeout=10.0,
    ) as http:
        yield http


def image_body(aspect_ratio: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": IMAGE_MODEL,
        "messages": [{"role": "user", "content": "A lighthouse at dusk, oil painting"}],
        "modalities": ["image", "text"],
    }
    if aspect_ratio is not None:
        body["image_config"] = {"aspect_ratio": aspect_ratio}
    body.update(extra)
    return body


def decode_data_url(url: str) -> bytes:
    header, _, encoded = url.partition(",")
    assert header == "data:image/png;base64"
    return base64.b64decode(encoded, validate=True)


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.size


def png_data_url(size: tuple[int, int] = (8, 8), fmt: str = "PNG") -> str:
    buf = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(buf, fmt)
    mime = "image/png" if fmt == "PNG" else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode()}"


# ---- auth and recording ---------------------------------------------------------------------


async def test_missing_and_wrong_key_get_401_and_are_recorded(fake: FakeOpenRouter) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url) as anon:
        missing = await anon.post("/chat/completions", json=image_body())
        wrong = await anon.get("/key", headers={"Authorization": "Bearer sk-or-v1-wrong"})
    assert missing.status_code == 401
    assert missing.json() == {"error": {"code": 401, "message": "No auth credentials found"}}
    assert wrong.status_code == 401
    assert wrong.json()["error"]["message"] == "User not found."
    assert [(r.method, r.path) for r in fake.requests] == [("POST", "/chat/completions"), ("GET", "/key")]
    assert fake.chat_requests()[0].json == image_body()
    assert fake.requests[1].headers["authorization"] == "Bearer sk-or-v1-wrong"


async def test_headers_are_case_insensitive(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    await client.get("/key")
    recorded = fake.requests[0]
    assert recorded.headers["Http-Referer"] == "https://example.test"
    assert "AUTHORIZATION" in recorded.headers
    assert recorded.header("http-referer") == "https://example.test"


# ---- chat completions ------------------------------------------------------------------------


async def test_image_16_9_is_1344x768(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    resp = await client.post("/chat/completions", json=image_body("16:9"))
    assert resp.status_code == 200
    data = resp.json()
    assert data["id"].startswith("gen-")
    assert data["model"] == IMAGE_MODEL
    assert data["object"] == "chat.completion"
    assert isinstance(data["created"], int)
    assert data["usage"]["cost"] == pytest.approx(0.0039)
    assert (
        data["usage"]["total_tokens"] == data["usage"]["prompt_tokens"] + data["usage"]["completion_tokens"]
    )
    message = data["choices"][0]["message"]
    assert message["role"] == "assistant"
    assert message["content"] == "Here is your image."
    [image] = message["images"]
    assert image["type"] == "image_url"
    assert image_size(decode_data_url(image["image_url"]["url"])) == (1344, 768)


@pytest.mark.parametrize("ratio", sorted(ASPECT_RATIO_SIZES))
async def test_every_aspect_ratio_has_its_size(client: httpx.AsyncClient, ratio: str) -> None:
    resp = await client.post("/chat/completions", json=image_body(ratio))
    url = resp.json()["choices"][0]["message"]["images"][0]["image_url"]["url"]
    assert image_size(decode_data_url(url)) == ASPECT_RATIO_SIZES[ratio]


async def test_default_is_square_and_image_count_and_cost(
    fake: FakeOpenRouter, client: httpx.AsyncClient
) -> None:
    fake.image_count = 3
    fake.cost = 0.5
    resp = await client.post("/chat/completions", json=image_body())
    data = resp.json()
    images = data["choices"][0]["message"]["images"]
    assert len(images) == 3
    payloads = [decode_data_url(i["image_url"]["url"]) for i in images]
    assert all(image_size(p) == (1024, 1024) for p in payloads)
    assert len(set(payloads)) == 3  # distinct colors
    assert data["usage"]["cost"] == 0.5


async def test_invalid_aspect_ratio_is_400(client: httpx.AsyncClient) -> None:
    resp = await client.post("/chat/completions", json=image_body("7:3"))
    assert resp.status_code == 400
    assert "aspect_ratio" in resp.json()["error"]["message"]


async def test_text_answer_for_vision(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    body = {
        "model": "google/gemini-2.5-flash",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Describe this image."},
                    {"type": "image_url", "image_url": {"url": png_data_url()}},
                ],
            }
        ],
    }
    resp = await client.post("/chat/completions", json=body)
    assert resp.status_code == 200
    message = resp.json()["choices"][0]["message"]
    assert message == {"role": "assistant", "content": DEFAULT_TEXT_REPLY}
    assert fake.chat_requests()[0].prompt == "Describe this image."
    assert len(fake.chat_requests()[0].input_image_urls) == 1

    fake.text_reply = "A red square."
    resp = await client.post("/chat/completions", json=body)
    assert resp.json()["choices"][0]["message"]["content"] == "A red square."


async def test_mislabelled_input_image_is_400(client: httpx.AsyncClient) -> None:
    jpeg_as_png = png_data_url(fmt="JPEG").replace("image/jpeg", "image/png", 1)
    body = image_body()
    body["messages"][0]["content"] = [
        {"type": "text", "text": "Make it blue"},
        {"type": "image_url", "image_url": {"url": jpeg_as_png}},
    ]
    resp = await client.post("/chat/completions", json=body)
    assert resp.status_code == 400
    assert resp.json()["error"]["metadata"]["error_type"] == "invalid_image"


async def test_validation_errors(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    no_model = await client.post("/chat/completions", json={"messages": [{"role": "user", "content": "x"}]})
    no_messages = await client.post("/chat/completions", json={"model": IMAGE_MODEL})
    not_json = await client.post(
        "/chat/completions", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert [r.status_code for r in (no_model, no_messages, not_json)] == [400, 400, 400]
    assert no_model.json()["error"]["code"] == 400
    assert fake.chat_requests()[2].json is None
    assert fake.chat_requests()[2].body == b"{nope"


async def test_unknown_model_is_404_unless_model_list_is_empty(
    fake: FakeOpenRouter, client: httpx.AsyncClient
) -> None:
    resp = await client.post("/chat/completions", json=image_body(model="acme/nope"))
    assert resp.status_code == 404
    assert resp.json()["error"]["message"] == "Model acme/nope does not exist"
    fake.models = []
    resp = await client.post("/chat/completions", json=image_body(model="acme/nope"))
    assert resp.status_code == 200


async def test_text_only_model_asked_for_images_is_404(client: httpx.AsyncClient) -> None:
    resp = await client.post("/chat/completions", json=image_body(model="openai/gpt-4o-mini"))
    assert resp.status_code == 404
    assert "output modalities" in resp.json()["error"]["message"]


async def test_provider_only(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    bad = await client.post("/chat/completions", json=image_body(provider={"only": ["openai"]}))
    assert bad.status_code == 404
    error = bad.json()["error"]
    assert error["message"] == NO_ALLOWED_PROVIDERS
    assert error["metadata"]["available_providers"] == ["google-vertex", "google-ai-studio"]
    by_name = await client.post("/chat/completions", json=image_body(provider={"only": ["Google AI Studio"]}))
    assert by_name.status_code == 200
    assert by_name.json()["provider"] == "Google AI Studio"
    fake.model_providers[IMAGE_MODEL] = ["openai"]
    ok = await client.post("/chat/completions", json=image_body(provider={"only": ["OpenAI"]}))
    assert ok.status_code == 200


async def test_streaming_answer(client: httpx.AsyncClient) -> None:
    resp = await client.post("/chat/completions", json=image_body(stream=True))
    assert resp.headers["content-type"].startswith("text/event-stream")
    lines = [line for line in resp.text.splitlines() if line]
    assert lines[0] == ": OPENROUTER PROCESSING"
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[1:-1]]
    assert chunks[0]["choices"][0]["delta"]["images"][0]["type"] == "image_url"
    assert chunks[-1]["usage"]["cost"] == pytest.approx(0.0039)


async def test_generation_lookup(client: httpx.AsyncClient) -> None:
    gen_id = (await client.post("/chat/completions", json=image_body())).json()["id"]
    resp = await client.get("/generation", params={"id": gen_id})
    assert resp.json()["data"]["total_cost"] == pytest.approx(0.0039)
    assert (await client.get("/generation", params={"id": "gen-missing"})).status_code == 404


# ---- scripted failures ----------------------------------------------------------------------


async def test_fail_next_429_gives_retry_after_then_recovers(
    fake: FakeOpenRouter, client: httpx.AsyncClient
) -> None:
    fake.fail_next(429, times=2)
    assert fake.pending_scripted == 2
    for _ in range(2):
        resp = await client.post("/chat/completions", json=image_body())
        assert resp.status_code == 429
        assert resp.headers["Retry-After"] == "1"
        assert resp.json()["error"]["code"] == 429
    resp = await client.post("/chat/completions", json=image_body())
    assert resp.status_code == 200
    assert len(fake.chat_requests()) == 3


async def test_fail_next_defaults_and_overrides(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.fail_next(403)
    fake.fail_next(404)
    fake.fail_next(502)
    fake.fail_next(402, message="No money", metadata={"x": 1}, headers={"X-Test": "yes"})
    fake.fail_next(529)
    moderated = (await client.post("/chat/completions", json=image_body())).json()["error"]
    assert moderated["code"] == 403
    assert moderated["metadata"]["reasons"] == ["violence"]
    assert moderated["metadata"]["flagged_input"] == "A lighthouse at dusk, oil painting"
    assert moderated["metadata"]["provider_name"] == "Google Vertex"
    not_found = (await client.post("/chat/completions", json=image_body())).json()["error"]
    assert not_found["message"] == NO_ALLOWED_PROVIDERS
    assert not_found["metadata"]["available_providers"] == ["google-vertex", "google-ai-studio"]
    bad_gateway = (await client.post("/chat/completions", json=image_body())).json()["error"]
    assert {"provider_name", "raw"} <= set(bad_gateway["metadata"])
    custom = await client.post("/chat/completions", json=image_body())
    assert custom.status_code == 402
    assert custom.json() == {"error": {"code": 402, "message": "No money", "metadata": {"x": 1}}}
    assert custom.headers["X-Test"] == "yes"
    overloaded = await client.post("/chat/completions", json=image_body())
    assert overloaded.status_code == 529


async def test_scripted_actions_run_in_order(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.fail_next(502)
    fake.fault_next("no_image")
    first = await client.post("/chat/completions", json=image_body())
    second = await client.post("/chat/completions", json=image_body())
    assert first.status_code == 502
    assert second.json()["choices"][0]["message"]["content"] == NO_IMAGE_TEXT


def test_fault_next_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError):
        FakeOpenRouter().fault_next("explode")


# ---- faults ---------------------------------------------------------------------------------


async def post_with_fault(fake: FakeOpenRouter, client: httpx.AsyncClient, kind: str) -> httpx.Response:
    fake.fault_next(kind)
    resp = await client.post("/chat/completions", json=image_body("16:9"))
    assert resp.status_code == 200
    return resp


async def test_fault_error_in_200(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    choice = (await post_with_fault(fake, client, "error_in_200")).json()["choices"][0]
    assert choice["finish_reason"] == "error"
    assert choice["error"]["code"] == 502
    assert choice["error"]["message"]
    assert "images" not in choice["message"]


async def test_fault_no_image(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    data = (await post_with_fault(fake, client, "no_image")).json()
    assert data["choices"][0]["message"] == {"role": "assistant", "content": NO_IMAGE_TEXT}
    assert data["choices"][0]["finish_reason"] == "stop"


async def test_fault_broken_data_url(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    images = (await post_with_fault(fake, client, "broken_data_url")).json()["choices"][0]["message"][
        "images"
    ]
    assert images[0]["image_url"]["url"] == "data:image/png;base64,!!!notbase64"


async def test_fault_not_an_image(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    images = (await post_with_fault(fake, client, "not_an_image")).json()["choices"][0]["message"]["images"]
    raw = decode_data_url(images[0]["image_url"]["url"])
    assert raw
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(raw))


async def test_fault_https_image(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    images = (await post_with_fault(fake, client, "https_image")).json()["choices"][0]["message"]["images"]
    url = images[0]["image_url"]["url"]
    assert url.startswith(f"{fake.root_url}/files/") and url.endswith(".png")
    async with httpx.AsyncClient() as downloader:  # no OpenRouter key: it is a plain image host
        download = await downloader.get(url)
    assert download.status_code == 200
    assert download.headers["content-type"] == "image/png"
    assert image_size(download.content) == (1344, 768)
    assert fake.requests[-1].path.startswith("/files/")


async def test_fault_b64_json(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    images = (await post_with_fault(fake, client, "b64_json")).json()["choices"][0]["message"]["images"]
    assert set(images[0]) == {"b64_json", "index"}
    assert images[0]["index"] == 0
    assert image_size(base64.b64decode(images[0]["b64_json"])) == (1344, 768)


async def test_fault_content_parts(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    message = (await post_with_fault(fake, client, "content_parts")).json()["choices"][0]["message"]
    assert "images" not in message
    assert isinstance(message["content"], list)
    image_parts = [p for p in message["content"] if p["type"] == "image_url"]
    assert image_size(decode_data_url(image_parts[0]["image_url"]["url"])) == (1344, 768)


async def test_fault_huge_image(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    images = (await post_with_fault(fake, client, "huge_image")).json()["choices"][0]["message"]["images"]
    assert image_size(decode_data_url(images[0]["image_url"]["url"])) == (6000, 6000)


async def test_fault_bad_json(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    resp = await post_with_fault(fake, client, "bad_json")
    with pytest.raises(json.JSONDecodeError):
        resp.json()


async def test_fault_reset_raises_transport_error(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.fault_next("reset")
    with pytest.raises(httpx.TransportError):
        await client.post("/chat/completions", json=image_body())
    # The server keeps working afterwards.
    assert (await client.post("/chat/completions", json=image_body())).status_code == 200


async def test_fault_hang_is_cut_by_client_timeout(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.fault_next("hang")
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/chat/completions", json=image_body(), timeout=0.3)
    assert (await client.post("/chat/completions", json=image_body())).status_code == 200


async def test_stop_with_a_hanging_request_in_flight() -> None:
    server = FakeOpenRouter()
    await server.start()
    server.fault_next("hang")
    async with httpx.AsyncClient(
        base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=30.0
    ) as http:
        pending = asyncio.create_task(http.post("/chat/completions", json=image_body()))
        await server.wait_for_requests(1)
        started = time.monotonic()
        await server.stop()
        assert time.monotonic() - started < 2.0
        with pytest.raises(httpx.TransportError):
            await pending


# ---- waiting --------------------------------------------------------------------------------


async def test_wait_for_requests(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.latency_s = 0.05
    tasks = [asyncio.create_task(client.post("/chat/completions", json=image_body())) for _ in range(3)]
    await fake.wait_for_requests(3)
    assert len(fake.chat_requests()) == 3
    assert all(r.status_code == 200 for r in await asyncio.gather(*tasks))
    with pytest.raises(TimeoutError):
        await fake.wait_for_requests(4, timeout=0.05)
    with pytest.raises(TimeoutError):
        await fake.wait_for_requests(1, path="/key", timeout=0.05)


# ---- discovery ------------------------------------------------------------------------------


def ids(resp: httpx.Response) -> set[str]:
    return {m["id"] for m in resp.json()["data"]}


async def test_models_filter(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    text = ids(await client.get("/models"))
    image = ids(await client.get("/models", params={"output_modalities": "image"}))
    every = ids(await client.get("/models", params={"output_modalities": "all"}))
    both = ids(await client.get("/models", params={"output_modalities": "image,text"}))
    assert "google/gemini-2.5-flash" in text and "meta-llama/llama-3.1-8b-instruct" in text
    assert "google/gemini-2.5-flash-image" in text  # outputs image AND text
    assert "black-forest-labs/flux.2-pro" not in text
    assert image == {
        "google/gemini-2.5-flash-image",
        "black-forest-labs/flux.2-pro",
        "openai/gpt-5-image",
        "sourceful/riverflow-v2",
    }
    assert every == both == {m["id"] for m in fake.models}
    model = (await client.get("/models", params={"output_modalities": "all"})).json()["data"][0]
    assert {"id", "name", "description", "context_length", "architecture", "pricing"} <= set(model)
    assert all(isinstance(v, str) for v in model["pricing"].values())


async def test_providers_key_and_endpoints(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    providers = (await client.get("/providers")).json()["data"]
    assert {p["slug"] for p in providers} >= {"google-vertex", "google-ai-studio", "openai", "deepinfra"}
    assert all({"name", "slug", "privacy_policy_url"} <= set(p) for p in providers)
    key = (await client.get("/key")).json()["data"]
    assert key["limit_remaining"] == 20.5 and key["is_free_tier"] is False
    endpoints = (await client.get(f"/models/{IMAGE_MODEL}/endpoints")).json()["data"]["endpoints"]
    assert [e["tag"] for e in endpoints] == ["google-vertex", "google-ai-studio"]
    assert {"provider_name", "status", "pricing", "uptime_last_30m"} <= set(endpoints[0])
    assert (await client.get("/models/acme/none/endpoints")).status_code == 404
    assert (await client.get("/nope")).json()["error"]["code"] == 404


# ---- scripted image answers -----------------------------------------------------------------


async def test_image_urls_replace_the_rendered_images(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.image_urls = ["http://127.0.0.1:1/internal.png", png_data_url((3, 3))]
    resp = await client.post("/chat/completions", json=image_body())
    images = resp.json()["choices"][0]["message"]["images"]
    assert [image["image_url"]["url"] for image in images] == fake.image_urls
    assert resp.json()["usage"]["completion_tokens_details"]["image_tokens"] > 0
    fake.image_urls = None
    resp = await client.post("/chat/completions", json=image_body())
    assert image_size(decode_data_url(resp.json()["choices"][0]["message"]["images"][0]["image_url"]["url"])) == (
        1024, 1024)


async def test_image_padding_is_appended_after_the_png(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.image_padding = 4096
    fake.image_count = 2
    resp = await client.post("/chat/completions", json=image_body("16:9"))
    for image in resp.json()["choices"][0]["message"]["images"]:
        data = decode_data_url(image["image_url"]["url"])
        assert data.endswith(b"\0" * 4096) and data[:-4096].endswith(b"IEND\xaeB`\x82")
        assert image_size(data) == (1344, 768)
    https = (await post_with_fault(fake, client, "https_image")).json()["choices"][0]["message"]["images"]
    async with httpx.AsyncClient() as downloader:
        assert (await downloader.get(https[0]["image_url"]["url"])).content.endswith(b"\0" * 4096)


# =============================================================================================
# The Images API (POST /images, GET /images/models, GET /images/models/{author}/{slug}/endpoints)
#
# The schemas below are copied from OpenRouter's OpenAPI spec (ImageGenerationResponse,
# ImageGenerationUsage, ImageGen*Event, ImageModelListItem, ImageModelArchitecture, ImageEndpoint,
# ImagePricingEntry, CapabilityDescriptor, the error bodies): required fields, types and enums, as the
# spec gives them. The tests must not read ../shared, so they live here. ``schema_errors`` is strict on
# top: an answer may not carry a key the spec does not list (the fake must not invent fields).

INT: dict[str, Any] = {"type": "integer"}
STR: dict[str, Any] = {"type": "string"}
NULLABLE_INT: dict[str, Any] = {"type": ["integer", "null"]}
NULLABLE_STR: dict[str, Any] = {"type": ["string", "null"]}

IMAGE_USAGE: dict[str, Any] = {
    "type": "object",
    "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
    "properties": {
        "prompt_tokens": INT,
        "completion_tokens": INT,
        "total_tokens": INT,
        "cost": {"type": ["number", "null"]},
        "is_byok": {"type": "boolean"},
        "cost_details": {"type": ["object", "null"]},
        "service_tier": NULLABLE_STR,
        "completion_tokens_details": {
            "type": ["object", "null"],
            "properties": {
                "audio_tokens": NULLABLE_INT,
                "image_tokens": NULLABLE_INT,
                "reasoning_tokens": NULLABLE_INT,
            },
        },
        "prompt_tokens_details": {"type": ["object", "null"]},
        "server_tool_use": {"type": ["object", "null"]},
    },
}
IMAGE_GENERATION_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["created", "data"],
    "properties": {
        "created": INT,
        "data": {
            "type": "array",
            "items": {"type": "object", "required": ["b64_json"], "properties": {"b64_json": STR, "media_type": STR}},
        },
        "usage": IMAGE_USAGE,
    },
}
PARTIAL_IMAGE_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["type", "partial_image_index", "b64_json"],
    "properties": {
        "type": {"type": "string", "enum": ["image_generation.partial_image"]},
        "partial_image_index": INT,
        "b64_json": STR,
    },
}
TEXT_CHUNK_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["type", "text", "phase"],
    "properties": {
        "type": {"type": "string", "enum": ["image_generation.text_chunk"]},
        "text": STR,
        "phase": {"type": "string", "enum": ["content", "reasoning", "draft"]},
    },
}
COMPLETED_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["type", "b64_json", "created"],
    "properties": {
        "type": {"type": "string", "enum": ["image_generation.completed"]},
        "b64_json": STR,
        "created": INT,
        "media_type": STR,
        "usage": IMAGE_USAGE,
    },
}
STREAM_ERROR_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["type", "error"],
    "properties": {
        "type": {"type": "string", "enum": ["error"]},
        "error": {
            "type": "object",
            "required": ["message"],
            "properties": {"code": NULLABLE_STR, "message": STR, "param": NULLABLE_STR, "type": NULLABLE_STR},
        },
    },
}
#: ImageStreamingResponse.data
STREAM_EVENT: dict[str, Any] = {"anyOf": [PARTIAL_IMAGE_EVENT, TEXT_CHUNK_EVENT, COMPLETED_EVENT, STREAM_ERROR_EVENT]}
CAPABILITY: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "required": ["type", "values"],
            "properties": {"type": {"type": "string", "enum": ["enum"]}, "values": {"type": "array", "items": STR}},
        },
        {
            "type": "object",
            "required": ["type", "min", "max"],
            "properties": {
                "type": {"type": "string", "enum": ["range"]},
                "min": {"type": "number"},
                "max": {"type": "number"},
            },
        },
        {"type": "object", "required": ["type"], "properties": {"type": {"type": "string", "enum": ["boolean"]}}},
    ]
}
SUPPORTED_PARAMETERS: dict[str, Any] = {"type": "object", "additionalProperties": CAPABILITY}
IMAGE_MODEL_ARCHITECTURE: dict[str, Any] = {
    "type": "object",
    "required": ["input_modalities", "output_modalities"],
    "properties": {
        "input_modalities": {
            "type": "array",
            "items": {"type": "string", "enum": ["text", "image", "file", "audio", "video"]},
        },
        "output_modalities": {
            "type": "array",
            "items": {
                "type": "string",
                "enum": ["text", "image", "embeddings", "audio", "video", "rerank", "speech", "transcription"],
            },
        },
    },
}
IMAGE_MODEL_LIST_ITEM: dict[str, Any] = {
    "type": "object",
    "required": [
        "id", "name", "description", "created", "architecture", "supported_parameters", "supports_streaming",
        "endpoints",
    ],
    "properties": {
        "id": STR,
        "name": STR,
        "description": STR,
        "created": INT,
        "architecture": IMAGE_MODEL_ARCHITECTURE,
        "supported_parameters": SUPPORTED_PARAMETERS,
        "supports_streaming": {"type": "boolean"},
        "endpoints": STR,
    },
}  # fmt: skip
IMAGE_MODELS_LIST_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["data"],
    "properties": {"data": {"type": "array", "items": IMAGE_MODEL_LIST_ITEM}},
}
IMAGE_PRICING_ENTRY: dict[str, Any] = {
    "type": "object",
    "required": ["billable", "unit", "cost_usd"],
    "properties": {
        "billable": {
            "type": "string",
            "enum": ["output_image", "input_image", "input_font", "input_reference", "input_text"],
        },
        "cost_usd": {"type": "number"},
        "unit": {"type": "string", "enum": ["image", "megapixel", "token"]},
        "variant": STR,
    },
}
IMAGE_ENDPOINT: dict[str, Any] = {
    "type": "object",
    "required": [
        "provider_name", "provider_slug", "provider_tag", "supported_parameters", "allowed_passthrough_parameters",
        "supports_streaming", "pricing",
    ],
    "properties": {
        "allowed_passthrough_parameters": {"type": "array", "items": STR},
        "pricing": {"type": "array", "items": IMAGE_PRICING_ENTRY},
        "provider_name": STR,
        "provider_slug": STR,
        "provider_tag": NULLABLE_STR,
        "supported_parameters": SUPPORTED_PARAMETERS,
        "supports_streaming": {"type": "boolean"},
    },
}  # fmt: skip
IMAGE_MODEL_ENDPOINTS_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "endpoints"],
    "properties": {"id": STR, "endpoints": {"type": "array", "items": IMAGE_ENDPOINT}},
}
#: BadRequestResponse, NotFoundResponse, BadGatewayResponse, ... (all the same shape).
ERROR_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": INT, "message": STR, "metadata": {"type": ["object", "null"]}},
        },
        "openrouter_metadata": {"type": ["object", "null"]},
        "user_id": NULLABLE_STR,
    },
}

_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def schema_errors(schema: dict[str, Any], value: Any, path: str = "$") -> list[str]:
    """Check ``value`` against the small JSON Schema subset above; list what is wrong (strict on extra keys)."""
    for combinator, wanted in (("anyOf", None), ("oneOf", 1)):
        if combinator in schema:
            matches = sum(not schema_errors(option, value, path) for option in schema[combinator])
            if (wanted is None and matches == 0) or (wanted is not None and matches != wanted):
                return [f"{path}: {matches} of the {combinator} options match {value!r:.80}"]
            return []
    errors: list[str] = []
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_TYPE_CHECKS[t](value) for t in types):
            return [f"{path}: expected {'/'.join(types)}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict):
        errors += [f"{path}: missing required {key!r}" for key in schema.get("required", []) if key not in value]
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(properties[key], item, f"{path}.{key}")
            elif isinstance(extra, dict):
                errors += schema_errors(extra, item, f"{path}.{key}")
            elif properties:
                errors.append(f"{path}: {key!r} is not a property of the spec's schema")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += schema_errors(schema["items"], item, f"{path}[{index}]")
    return errors


def assert_matches(schema: dict[str, Any], value: Any) -> None:
    errors = schema_errors(schema, value)
    assert not errors, "\n".join(errors)


def test_the_schema_validator_catches_what_it_should() -> None:
    good = {"created": 1, "data": [{"b64_json": "AAAA", "media_type": "image/png"}]}
    assert schema_errors(IMAGE_GENERATION_RESPONSE, good) == []
    assert schema_errors(IMAGE_GENERATION_RESPONSE, {"data": []}) == ["$: missing required 'created'"]
    assert schema_errors(IMAGE_GENERATION_RESPONSE, {**good, "id": "gen-1"})  # not in the spec
    assert schema_errors(IMAGE_GENERATION_RESPONSE, {"created": True, "data": []})  # a bool is no integer
    assert schema_errors(IMAGE_PRICING_ENTRY, {"billable": "output_image", "unit": "pixel", "cost_usd": 1})
    assert schema_errors(CAPABILITY, {"type": "range", "min": 0}) != []
    assert schema_errors(CAPABILITY, {"type": "boolean"}) == []
    assert schema_errors(STREAM_EVENT, {"type": "image_generation.partial_image", "b64_json": "x"}) != []


# ---- helpers -------------------------------------------------------------------------------------

SEEDREAM = "bytedance-seed/seedream-4.5"
GPT_IMAGE = "openai/gpt-image-2"
QWEN = "qwen/qwen-image-3"
KREA = "krea/krea-1"
FLUX = "black-forest-labs/flux.2-pro"
IMAGES_ONLY_MODELS = {GPT_IMAGE, SEEDREAM, QWEN, KREA}
HTTPS_REF = {"type": "image_url", "image_url": {"url": "https://images.example.org/ref.png"}}


def images_body(model: str = SEEDREAM, prompt: str = "a red panda astronaut", **extra: Any) -> dict[str, Any]:
    return {"model": model, "prompt": prompt, **extra}


def decoded(item: dict[str, Any]) -> bytes:
    return base64.b64decode(item["b64_json"], validate=True)


def image_info(data: bytes) -> tuple[str | None, tuple[int, int], str]:
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.format, img.size, img.mode


def sse_blocks(text: str) -> list[str]:
    """The SSE blocks of a stream (a comment line or one ``data:`` line each)."""
    return [block for block in text.split("\n\n") if block]


def sse_events(text: str) -> list[dict[str, Any] | str]:
    """The data of each ``data:`` block, parsed ("[DONE]" kept as the string)."""
    events: list[dict[str, Any] | str] = []
    for block in sse_blocks(text):
        if block.startswith("data: "):
            data = block.removeprefix("data: ")
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


async def post_images(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/images", json=images_body(**body))


# ---- POST /images, buffered ---------------------------------------------------------------------


async def test_images_buffered_answer_matches_the_spec(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    resp = await post_images(client, n=2, aspect_ratio="16:9", resolution="2K", seed=7)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    data = resp.json()
    assert_matches(IMAGE_GENERATION_RESPONSE, data)
    assert abs(data["created"] - time.time()) < 60
    assert len(data["data"]) == 2
    for item in data["data"]:
        assert item["media_type"] == "image/png"
        assert image_info(decoded(item))[:2] == ("PNG", (2688, 1536))
    assert data["usage"]["cost"] == pytest.approx(0.08)  # $0.04 per image
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    [record] = fake.image_requests()
    assert fake.chat_requests() == []
    assert record.prompt == "a red panda astronaut"
    assert record.json["n"] == 2
    assert record.cost == pytest.approx(0.08)
    assert record.served_by == "Bytedance"


@pytest.mark.parametrize(
    ("model", "params", "size"),
    [
        (SEEDREAM, {}, (1024, 1024)),
        (SEEDREAM, {"aspect_ratio": "9:16"}, (768, 1344)),
        (SEEDREAM, {"aspect_ratio": "21:9", "resolution": "2K"}, (3072, 1344)),
        (SEEDREAM, {"aspect_ratio": "3:2", "size": "2K"}, (2496, 1664)),  # a tier size is a resolution
        (SEEDREAM, {"resolution": "512"}, (1024, 1024)),  # not listed: clamped to the nearest tier, 1K
        (GPT_IMAGE, {"aspect_ratio": "21:9"}, (1344, 768)),  # not listed: clamped to the nearest ratio, 16:9
        (GPT_IMAGE, {"aspect_ratio": "auto"}, (1024, 1024)),
        (GPT_IMAGE, {"resolution": "4K"}, (2048, 2048)),  # gpt-image-2 goes up to 2K
        ("google/gemini-2.5-flash-image", {"aspect_ratio": "4:5", "resolution": "4K"}, (896, 1152)),  # 1K only
        (QWEN, {"size": "1536x1024"}, (1536, 1024)),  # explicit pixels are authoritative
    ],
)
async def test_images_sizes_follow_aspect_ratio_and_resolution(
    client: httpx.AsyncClient, model: str, params: dict[str, Any], size: tuple[int, int]
) -> None:
    resp = await post_images(client, model=model, **params)
    assert resp.status_code == 200, resp.text
    assert image_info(decoded(resp.json()["data"][0]))[1] == size


async def test_images_4k(client: httpx.AsyncClient) -> None:
    resp = await post_images(client, aspect_ratio="16:9", resolution="4K")
    assert image_info(decoded(resp.json()["data"][0]))[:2] == ("PNG", (5376, 3072))


@pytest.mark.parametrize(
    ("model", "output_format", "fmt", "media_type"),
    [
        (GPT_IMAGE, "jpeg", "JPEG", "image/jpeg"),
        (GPT_IMAGE, "webp", "WEBP", "image/webp"),
        (SEEDREAM, "jpeg", "JPEG", "image/jpeg"),
        (SEEDREAM, "webp", "PNG", "image/png"),  # not listed: the default
        ("google/gemini-2.5-flash-image", "jpeg", "PNG", "image/png"),
        (GPT_IMAGE, "svg", "PNG", "image/png"),
    ],
)
async def test_images_output_format(
    client: httpx.AsyncClient, model: str, output_format: str, fmt: str, media_type: str
) -> None:
    resp = await post_images(client, model=model, output_format=output_format, output_compression=80)
    item = resp.json()["data"][0]
    assert item["media_type"] == media_type
    assert image_info(decoded(item))[:2] == (fmt, (1024, 1024))


async def test_images_transparent_background(client: httpx.AsyncClient) -> None:
    resp = await post_images(client, model=GPT_IMAGE, background="transparent")
    assert image_info(decoded(resp.json()["data"][0]))[2] == "RGBA"
    jpeg = await post_images(client, model=GPT_IMAGE, background="transparent", output_format="jpeg")
    assert jpeg.status_code == 400
    assert_matches(ERROR_RESPONSE, jpeg.json())
    ignored = await post_images(client, model=SEEDREAM, background="transparent")  # no background knob
    assert image_info(decoded(ignored.json()["data"][0]))[2] == "RGB"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"model": None}, "model"),
        ({"prompt": None}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"model": 5}, "model"),
        ({"aspect_ratio": "7:3"}, "aspect_ratio"),
        ({"quality": "ultra"}, "quality"),
        ({"resolution": "8K"}, "resolution"),
        ({"resolution": "1k"}, "resolution"),
        ({"output_format": "gif"}, "output_format"),
        ({"background": "none"}, "background"),
        ({"n": 0}, "n must"),
        ({"n": 11}, "n must"),
        ({"n": "2"}, "n must"),
        ({"n": True}, "n must"),
        ({"n": 1.5}, "n must"),
        ({"seed": "42"}, "seed"),
        ({"seed": 4.2}, "seed"),
        ({"output_compression": 101}, "output_compression"),
        ({"stream": "yes"}, "stream"),
        ({"size": "big"}, "size"),
        ({"size": "1536x1024", "aspect_ratio": "1:1"}, "aspect_ratio"),
        ({"size": "1536x1024", "resolution": "2K"}, "resolution"),
        ({"size": "9000x9000"}, "size"),
        ({"size": "2K", "resolution": "1K"}, "resolution"),
        ({"input_references": [HTTPS_REF] * 17}, "at most 16"),
        ({"input_references": HTTPS_REF}, "array"),
        ({"input_references": [{"type": "input_image", "image_url": {"url": "https://x.test/a.png"}}]}, "type"),
        ({"input_references": [{"type": "image_url"}]}, "url"),
        ({"input_references": [{"type": "image_url", "image_url": {"url": "ftp://x.test/a.png"}}]}, "URL"),
        ({"input_references": ["https://x.test/a.png"]}, "object"),
        ({"provider": "openai"}, "provider"),
        ({"provider": {"only": "openai"}}, "provider.only"),
        ({"provider": {"ignore": [1]}}, "provider.ignore"),
        ({"provider": {"sort": "cheapest"}}, "provider.sort"),
        ({"provider": {"allow_fallbacks": "no"}}, "allow_fallbacks"),
    ],
)
async def test_images_bad_bodies_get_400(
    fake: FakeOpenRouter, client: httpx.AsyncClient, change: dict[str, Any], fragment: str
) -> None:
    body = images_body(model=GPT_IMAGE)
    for key, value in change.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    resp = await client.post("/images", json=body)
    assert resp.status_code == 400
    assert_matches(ERROR_RESPONSE, resp.json())
    assert resp.json()["error"]["code"] == 400
    assert fragment in resp.json()["error"]["message"]
    assert fake.image_requests()[0].json == body
    assert fake.image_requests()[0].cost is None


async def test_images_not_json_is_400(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    resp = await client.post("/images", content=b"{nope", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert_matches(ERROR_RESPONSE, resp.json())
    assert fake.image_requests()[0].body == b"{nope"
    assert (await client.post("/images", json=["a list"])).status_code == 400


async def test_images_unknown_top_level_keys_are_ignored(client: httpx.AsyncClient) -> None:
    # ImageGenerationRequest declares no additionalProperties: false, so extra keys are allowed.
    extra = {"image_config": {"aspect_ratio": "16:9"}, "user": "u-1", "modalities": ["image"]}
    resp = await post_images(client, **extra)
    assert resp.status_code == 200
    assert image_info(decoded(resp.json()["data"][0]))[1] == (1024, 1024)


async def test_images_without_a_key_is_401(fake: FakeOpenRouter) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url) as anon:
        resp = await anon.post("/images", json=images_body())
    assert resp.status_code == 401
    assert_matches(ERROR_RESPONSE, resp.json())
    assert len(fake.image_requests()) == 1


async def test_images_references_are_checked_and_recorded(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    good = {"type": "image_url", "image_url": {"url": png_data_url()}}
    resp = await post_images(client, model=GPT_IMAGE, input_references=[good, HTTPS_REF])
    assert resp.status_code == 200
    assert fake.image_requests()[0].input_image_urls == [good["image_url"]["url"], HTTPS_REF["image_url"]["url"]]
    jpeg_as_png = png_data_url(fmt="JPEG").replace("image/jpeg", "image/png", 1)
    bad = {"type": "image_url", "image_url": {"url": jpeg_as_png}}
    resp = await post_images(client, model=GPT_IMAGE, input_references=[bad])
    assert resp.status_code == 400
    assert resp.json()["error"]["metadata"]["error_type"] == "invalid_image"


@pytest.mark.parametrize(
    ("model", "most"), [(GPT_IMAGE, 16), ("google/gemini-2.5-flash-image", 14), (FLUX, 8), (QWEN, 4)]
)
async def test_images_reference_maximum_per_model(
    fake: FakeOpenRouter, client: httpx.AsyncClient, model: str, most: int
) -> None:
    listing = {m["id"]: m for m in (await client.get("/images/models")).json()["data"]}
    assert listing[model]["supported_parameters"]["input_references"] == {"type": "range", "min": 0, "max": most}
    ok = await post_images(client, model=model, input_references=[HTTPS_REF] * most)
    assert ok.status_code == 200
    too_many = await post_images(client, model=model, input_references=[HTTPS_REF] * (most + 1))
    assert too_many.status_code == 400
    assert_matches(ERROR_RESPONSE, too_many.json())
    assert "input_references" in too_many.json()["error"]["message"]


async def test_images_references_are_ignored_by_text_only_models(client: httpx.AsyncClient) -> None:
    listing = {m["id"]: m for m in (await client.get("/images/models")).json()["data"]}
    assert "input_references" not in listing[KREA]["supported_parameters"]
    assert listing[KREA]["architecture"]["input_modalities"] == ["text"]
    assert (await post_images(client, model=KREA, input_references=[HTTPS_REF] * 3)).status_code == 200


# ---- per-model behaviour ---------------------------------------------------------------------------


async def test_qwen_rejects_n_above_one(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    resp = await post_images(client, model=QWEN, n=2)
    assert resp.status_code == 400
    body = resp.json()
    assert_matches(ERROR_RESPONSE, body)
    assert body["error"]["metadata"]["provider_name"] == "Alibaba"
    assert "n=2" in body["error"]["metadata"]["raw"]
    assert fake.image_requests()[0].cost is None
    assert len((await post_images(client, model=QWEN, n=1)).json()["data"]) == 1


async def test_krea_returns_fewer_images_than_n(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    listing = {m["id"]: m for m in (await client.get("/images/models")).json()["data"]}
    assert listing[KREA]["supported_parameters"]["n"] == {"type": "range", "min": 1, "max": 4}
    data = (await post_images(client, model=KREA, n=3)).json()
    assert len(data["data"]) == 1
    assert data["usage"]["cost"] == pytest.approx(0.03)  # only what was made is billed
    fake.image_endpoint(SEEDREAM).max_images = 2  # any model can be made to return fewer
    assert len((await post_images(client, n=4)).json()["data"]) == 2


async def test_n_is_an_upper_bound(client: httpx.AsyncClient) -> None:
    assert len((await post_images(client, model=GPT_IMAGE, n=6)).json()["data"]) == 4  # its range is 1-4
    assert len((await post_images(client, model="google/gemini-2.5-flash-image", n=3)).json()["data"]) == 1
    assert len((await post_images(client, model=FLUX, n=2)).json()["data"]) == 1  # no n: one image
    images = (await post_images(client, n=3)).json()["data"]
    assert len({item["b64_json"] for item in images}) == 3  # distinct images


async def test_seed_is_honoured_only_where_supported(client: httpx.AsyncClient) -> None:
    async def first_image(**params: Any) -> str:
        return str((await post_images(client, **params)).json()["data"][0]["b64_json"])

    assert await first_image(seed=7) == await first_image(seed=7)
    assert await first_image(seed=7) != await first_image(seed=8)
    listing = {m["id"]: m for m in (await client.get("/images/models")).json()["data"]}
    assert listing[SEEDREAM]["supported_parameters"]["seed"] == {"type": "boolean"}
    assert "seed" not in listing[GPT_IMAGE]["supported_parameters"]  # absent: unsupported, silently ignored
    assert await first_image(model=GPT_IMAGE, seed=7) != await first_image(model=GPT_IMAGE, seed=7)


async def test_quality_changes_the_cost_of_token_priced_models(client: httpx.AsyncClient) -> None:
    async def cost(**params: Any) -> float:
        return float((await post_images(client, **params)).json()["usage"]["cost"])

    low, medium, high = [await cost(model=GPT_IMAGE, aspect_ratio="16:9", quality=q) for q in ("low", "medium", "high")]
    assert low < medium < high
    assert high == pytest.approx(0.13, abs=0.01)  # "gpt-image-2 high 16:9 about $0.13"
    assert await cost(quality="high") == await cost(quality="low") == pytest.approx(0.04)  # seedream: ignored
    assert await cost(model=FLUX) == pytest.approx(0.03 * 1024 * 1024 / 1e6)  # $0.03 per megapixel
    assert await cost(model="google/gemini-2.5-flash-image") == pytest.approx(0.0387, abs=0.0005)


async def test_image_cost_and_padding_knobs(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.image_cost = 0.5
    fake.image_padding = 4096
    data = (await post_images(client, n=2)).json()
    assert data["usage"]["cost"] == 0.5
    assert fake.image_requests()[0].cost == 0.5
    for item in data["data"]:
        raw = decoded(item)
        assert raw.endswith(b"\0" * 4096) and raw[:-4096].endswith(b"IEND\xaeB`\x82")


async def test_images_provider_routing(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    gemini = "google/gemini-2.5-flash-image"
    assert (await post_images(client, model=gemini)).status_code == 200
    assert (await post_images(client, model=gemini, provider={"only": ["google-ai-studio"]})).status_code == 200
    assert (await post_images(client, model=gemini, provider={"ignore": ["Google Vertex"]})).status_code == 200
    assert (await post_images(client, model=gemini, provider={"order": ["google-ai-studio"]})).status_code == 200
    assert [r.served_by for r in fake.image_requests()] == ["Google Vertex"] + ["Google AI Studio"] * 3
    resp = await post_images(client, model=gemini, provider={"only": ["openai"]})
    assert resp.status_code == 404
    assert_matches(ERROR_RESPONSE, resp.json())
    assert resp.json()["error"]["message"] == NO_ALLOWED_PROVIDERS
    assert resp.json()["error"]["metadata"]["available_providers"] == ["google-vertex", "google-ai-studio"]


async def test_images_unknown_and_chat_only_models_are_404(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    unknown = await post_images(client, model="acme/nope")
    assert unknown.status_code == 404
    assert_matches(ERROR_RESPONSE, unknown.json())
    assert unknown.json()["error"]["message"] == "Model acme/nope does not exist"
    chat_only = await post_images(client, model="openai/gpt-5-image")
    assert chat_only.status_code == 404
    assert "Images API" in chat_only.json()["error"]["message"]
    # An Images-API-only model is unknown to the chat route.
    chat = await client.post("/chat/completions", json=image_body(model=GPT_IMAGE))
    assert chat.status_code == 404


async def test_an_empty_image_table_serves_any_model(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.image_models = []
    assert (await client.get("/images/models")).json() == {"data": []}
    resp = await post_images(client, model="acme/anything", n=2, aspect_ratio="16:9")
    assert resp.status_code == 200
    assert [image_info(decoded(item))[1] for item in resp.json()["data"]] == [(1344, 768)] * 2


# ---- streaming ----------------------------------------------------------------------------------------


async def test_images_stream_events_in_order(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    resp = await post_images(client, model=GPT_IMAGE, n=2, aspect_ratio="16:9", stream=True)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    blocks = sse_blocks(resp.text)
    assert blocks[0] == KEEPALIVE.strip()
    assert all(b.startswith("data: ") or b == KEEPALIVE.strip() for b in blocks)
    events = sse_events(resp.text)
    assert events[-1] == "[DONE]"
    data = [e for e in events if isinstance(e, dict)]
    for event in data:
        assert_matches(STREAM_EVENT, event)
    assert [(e["type"], e.get("partial_image_index")) for e in data] == [
        ("image_generation.partial_image", 0),
        ("image_generation.partial_image", 1),
        ("image_generation.completed", None),
    ] * 2
    partial_sizes = [image_info(decoded(e))[1] for e in data if e["type"] == "image_generation.partial_image"]
    assert partial_sizes == [(84, 48), (168, 96)] * 2  # low-res previews, getting sharper
    completed = [e for e in data if e["type"] == "image_generation.completed"]
    assert [image_info(decoded(e))[:2] for e in completed] == [("PNG", (1344, 768))] * 2
    assert all(e["media_type"] == "image/png" for e in completed)
    assert completed[0]["b64_json"] != completed[1]["b64_json"]
    total = sum(e["usage"]["cost"] for e in completed)  # one completed per image, each with its usage
    assert total == pytest.approx(fake.image_requests()[0].cost)
    assert total > 0


async def test_images_stream_partial_image_count(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.partial_images = 0
    events = sse_events((await post_images(client, model=GPT_IMAGE, stream=True)).text)
    assert [e["type"] for e in events if isinstance(e, dict)] == ["image_generation.completed"]


async def test_stream_on_a_model_without_streaming_is_buffered(
    fake: FakeOpenRouter, client: httpx.AsyncClient
) -> None:
    # The spec: "Non-streaming providers ignore this flag and return a buffered response."
    resp = await post_images(client, stream=True)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    assert_matches(IMAGE_GENERATION_RESPONSE, resp.json())
    # A test can make any endpoint stream; the listing follows.
    fake.image_endpoint(SEEDREAM).supports_streaming = True
    listing = {m["id"]: m for m in (await client.get("/images/models")).json()["data"]}
    assert listing[SEEDREAM]["supports_streaming"] is True
    streamed = await post_images(client, stream=True)
    assert streamed.headers["content-type"].startswith("text/event-stream")


async def test_stream_error_event_is_not_charged(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.fault_next("stream_error")
    resp = await post_images(client, model=GPT_IMAGE, n=2, stream=True)
    assert resp.status_code == 200
    events = sse_events(resp.text)
    assert events[-1] == "[DONE]"
    data = [e for e in events if isinstance(e, dict)]
    for event in data:
        assert_matches(STREAM_EVENT, event)
    assert [e["type"] for e in data] == ["image_generation.partial_image"] * 2 + ["error"]
    assert_matches(STREAM_ERROR_EVENT, data[-1])
    assert "cost" not in resp.text
    assert fake.image_requests()[0].cost is None
    # Buffered, the same failure is a 502 without cost.
    fake.fault_next("stream_error")
    buffered = await post_images(client)
    assert buffered.status_code == 502
    assert_matches(ERROR_RESPONSE, buffered.json())
    assert "cost" not in buffered.text and "usage" not in buffered.text


async def test_stream_cut_breaks_off_midway(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.fault_next("stream_cut")
    seen: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        async with client.stream("POST", "/images", json=images_body(model=GPT_IMAGE, stream=True)) as resp:
            assert resp.status_code == 200
            async for line in resp.aiter_lines():
                seen.append(line)
    assert any("image_generation.partial_image" in line for line in seen)
    assert not any("completed" in line or "[DONE]" in line for line in seen)
    assert fake.image_requests()[0].cost is None
    fake.fault_next("stream_cut")  # buffered: half the body, then the connection closes
    with pytest.raises(httpx.RemoteProtocolError):
        await post_images(client)
    assert (await post_images(client, model=GPT_IMAGE, stream=True)).status_code == 200  # still serving


async def test_client_leaving_a_stream_is_a_disconnect(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.stream_interval_s = 0.5
    async with client.stream("POST", "/images", json=images_body(model=GPT_IMAGE, stream=True)) as resp:
        async for line in resp.aiter_lines():
            if "partial_image" in line:
                break
    await fake.wait_for_disconnects(1)
    [record] = fake.image_requests()
    assert record.disconnected and record.cost is None


# ---- scripted failures and faults on the Images API --------------------------------------------------


async def test_images_502_is_not_charged(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.fail_next(502)
    resp = await post_images(client, model=GPT_IMAGE)
    assert resp.status_code == 502
    body = resp.json()
    assert_matches(ERROR_RESPONSE, body)
    assert body["error"]["message"] == "Provider returned error"
    assert body["error"]["metadata"]["provider_name"] == "OpenAI"
    assert "cost" not in resp.text and "usage" not in resp.text
    assert fake.image_requests()[0].cost is None
    assert (await post_images(client, model=GPT_IMAGE)).status_code == 200
    assert fake.image_requests()[1].cost is not None


async def test_images_fail_next_defaults(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.fail_next(403)
    fake.fail_next(404)
    fake.fail_next(429)
    moderated = (await post_images(client, prompt="something violent")).json()
    assert_matches(ERROR_RESPONSE, moderated)
    assert moderated["error"]["metadata"]["flagged_input"] == "something violent"
    assert moderated["error"]["metadata"]["provider_name"] == "Bytedance"
    not_found = (await post_images(client, model="google/gemini-2.5-flash-image")).json()
    assert not_found["error"]["metadata"]["available_providers"] == ["google-vertex", "google-ai-studio"]
    limited = await post_images(client)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"


async def test_refusal_is_400_with_block_reason(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.fault_next("refusal")
    resp = await post_images(client, model=GPT_IMAGE, stream=True)
    assert resp.status_code == 400
    body = resp.json()
    assert_matches(ERROR_RESPONSE, body)
    assert body["error"]["metadata"]["block_reason"] == BLOCK_REASON
    assert body["error"]["metadata"]["provider_name"] == "OpenAI"
    assert fake.image_requests()[0].cost is None


async def test_scripted_actions_keep_to_their_route(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.fail_next(502, route="chat")
    fake.fault_next("stream_error")  # an Images API kind: chat completions pass it by
    assert (await post_images(client, model=GPT_IMAGE)).status_code == 502  # stream_error, buffered
    assert fake.pending_scripted == 1
    assert (await client.post("/chat/completions", json=image_body())).status_code == 502
    fake.fault_next("content_parts")  # a chat kind: POST /images passes it by
    assert (await post_images(client)).status_code == 200
    assert fake.pending_scripted == 1
    fake.clear()
    fake.fail_next(429)  # no route: the next generation of either route
    assert (await post_images(client)).status_code == 429
    with pytest.raises(ValueError):
        fake.fault_next("content_parts", route="images")
    with pytest.raises(ValueError):
        fake.fault_next("stream_cut", route="chat")
    with pytest.raises(ValueError):
        fake.fail_next(500, route="video")


async def test_image_faults(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    async def with_fault(kind: str, **params: Any) -> httpx.Response:
        fake.fault_next(kind)
        resp = await post_images(client, model=GPT_IMAGE, **params)
        assert resp.status_code == 200
        return resp

    empty = (await with_fault("no_image")).json()
    assert_matches(IMAGE_GENERATION_RESPONSE, empty)
    assert empty["data"] == [] and empty["usage"]["cost"] == 0
    fewer = (await with_fault("fewer_images", n=3)).json()
    assert len(fewer["data"]) == 1
    broken = (await with_fault("broken_b64")).json()
    with pytest.raises(binascii.Error):
        decoded(broken["data"][0])
    untyped = (await with_fault("no_media_type")).json()
    assert_matches(IMAGE_GENERATION_RESPONSE, untyped)
    assert "media_type" not in untyped["data"][0]
    no_usage = (await with_fault("no_usage")).json()
    assert_matches(IMAGE_GENERATION_RESPONSE, no_usage)
    assert "usage" not in no_usage
    garbage = (await with_fault("not_an_image")).json()
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(decoded(garbage["data"][0])))
    huge = (await with_fault("huge_image")).json()
    assert image_info(decoded(huge["data"][0]))[1] == (6000, 6000)
    with pytest.raises(json.JSONDecodeError):
        (await with_fault("bad_json")).json()
    streamed_empty = sse_events((await with_fault("no_image", stream=True)).text)
    assert streamed_empty == ["[DONE]"]
    streamed_untyped = sse_events((await with_fault("no_media_type", stream=True)).text)
    completed = [e for e in streamed_untyped if isinstance(e, dict) and e["type"] == "image_generation.completed"]
    assert_matches(COMPLETED_EVENT, completed[0])
    assert "media_type" not in completed[0]


async def test_images_reset_and_hang(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.fault_next("reset")
    with pytest.raises(httpx.TransportError):
        await post_images(client)
    fake.fault_next("hang")
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/images", json=images_body(), timeout=0.3)
    assert (await post_images(client)).status_code == 200


async def test_images_hold_and_latency(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    fake.hold = asyncio.Event()
    pending = asyncio.create_task(post_images(client))
    await fake.wait_for_requests(1, path="/images")
    await asyncio.sleep(0.05)
    assert not pending.done()
    fake.hold.set()
    assert (await pending).status_code == 200
    fake.hold = None
    fake.latency_s = 0.2
    started = time.monotonic()
    assert (await post_images(client, model=GPT_IMAGE, stream=True)).status_code == 200
    assert time.monotonic() - started >= 0.2


# ---- discovery ------------------------------------------------------------------------------------------


async def test_image_models_listing_matches_the_spec(fake: FakeOpenRouter, client: httpx.AsyncClient) -> None:
    resp = await client.get("/images/models")
    assert resp.status_code == 200
    body = resp.json()
    assert_matches(IMAGE_MODELS_LIST_RESPONSE, body)
    listing = {m["id"]: m for m in body["data"]}
    assert set(listing) == IMAGES_ONLY_MODELS | {FLUX, "google/gemini-2.5-flash-image"}
    gpt = listing[GPT_IMAGE]
    assert gpt["supports_streaming"] is True
    assert gpt["supported_parameters"]["quality"] == {"type": "enum", "values": ["auto", "low", "medium", "high"]}
    assert gpt["supported_parameters"]["n"] == {"type": "range", "min": 1, "max": 4}
    assert listing[SEEDREAM]["supports_streaming"] is False
    assert listing[SEEDREAM]["supported_parameters"]["resolution"] == {"type": "enum", "values": ["1K", "2K", "4K"]}
    assert "n" not in listing[QWEN]["supported_parameters"]
    for model in body["data"]:
        assert model["endpoints"] == f"/api/v1/images/models/{model['id']}/endpoints"
        endpoints = await client.get(fake.root_url + model["endpoints"])
        assert endpoints.status_code == 200
        assert_matches(IMAGE_MODEL_ENDPOINTS_RESPONSE, endpoints.json())
        assert endpoints.json()["id"] == model["id"]


async def test_image_model_endpoints(client: httpx.AsyncClient) -> None:
    seedream = (await client.get(f"/images/models/{SEEDREAM}/endpoints")).json()
    assert "data" not in seedream  # ImageModelEndpointsResponse has no data wrapper
    [endpoint] = seedream["endpoints"]
    assert endpoint["provider_name"] == "Bytedance" and endpoint["provider_tag"] == "bytedance"
    assert endpoint["pricing"] == [{"billable": "output_image", "unit": "image", "cost_usd": 0.04}]
    assert endpoint["supports_streaming"] is False
    units = {}
    for model in (GPT_IMAGE, FLUX):
        endpoints = (await client.get(f"/images/models/{model}/endpoints")).json()["endpoints"]
        units[model] = {line["unit"] for line in endpoints[0]["pricing"] if line["billable"] == "output_image"}
    assert units == {GPT_IMAGE: {"token"}, FLUX: {"megapixel"}}
    gemini = (await client.get("/images/models/google/gemini-2.5-flash-image/endpoints")).json()["endpoints"]
    assert [e["provider_slug"] for e in gemini] == ["google-vertex", "google-ai-studio"]
    assert all(e["supported_parameters"]["resolution"] == {"type": "enum", "values": ["1K"]} for e in gemini)
    for missing in ("/images/models/acme/none/endpoints", "/images/models/openai/gpt-5-image/endpoints"):
        resp = await client.get(missing)
        assert resp.status_code == 404
        assert_matches(ERROR_RESPONSE, resp.json())


async def test_chat_catalog_lists_only_chat_route_image_models(client: httpx.AsyncClient) -> None:
    image = ids(await client.get("/models", params={"output_modalities": "image"}))
    every = ids(await client.get("/models", params={"output_modalities": "all"}))
    assert not (image | every) & IMAGES_ONLY_MODELS
    assert {"google/gemini-2.5-flash-image", FLUX} <= image  # in both catalogs
    assert (await client.get(f"/models/{GPT_IMAGE}/endpoints")).status_code == 404
