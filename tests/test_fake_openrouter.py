"""Tests of the fake OpenRouter server itself (tests/fake_openrouter.py)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image, UnidentifiedImageError

from tests.fake_openrouter import (
    ASPECT_RATIO_SIZES,
    DEFAULT_TEXT_REPLY,
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
