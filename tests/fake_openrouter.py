"""A stand-in OpenRouter HTTP server for tests and benchmarks.

It speaks the subset of the OpenRouter API described in ``/work/shared/openrouter-api.md`` under
``/api/v1`` on ``127.0.0.1`` (random free port), records every request it receives and can be
scripted to fail (:meth:`FakeOpenRouter.fail_next`) or misbehave (:meth:`FakeOpenRouter.fault_next`).
A chat completion whose client closes the connection before the answer (a cancelled call) is counted in
:attr:`FakeOpenRouter.disconnects` and marked ``disconnected``; :meth:`FakeOpenRouter.wait_for_disconnects` waits.

Usage::

    async with FakeOpenRouter() as fake:
        client = MyClient(base_url=fake.base_url, api_key=fake.api_key)
        fake.fail_next(429)
        ...
        assert fake.chat_requests()[0].json["model"] == "google/gemini-2.5-flash-image"
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import io
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Self

from aiohttp import web
from PIL import Image, UnidentifiedImageError

__all__ = [
    "API_PREFIX",
    "ASPECT_RATIO_SIZES",
    "DEFAULT_API_KEY",
    "DEFAULT_IMAGE_TEXT",
    "DEFAULT_MODEL_PROVIDERS",
    "DEFAULT_TEXT_REPLY",
    "FAULT_KINDS",
    "NO_IMAGE_TEXT",
    "FakeOpenRouter",
    "Headers",
    "RecordedRequest",
    "default_key_info",
    "default_models",
    "default_providers",
    "render_png",
]

API_PREFIX: Final = "/api/v1"
DEFAULT_API_KEY: Final = "sk-or-v1-test-secret-key"
DEFAULT_TEXT_REPLY: Final = "A test description of the image."
DEFAULT_IMAGE_TEXT: Final = "Here is your image."
NO_IMAGE_TEXT: Final = "I can only answer in text."
NO_ALLOWED_PROVIDERS: Final = "No allowed providers are available for the selected model."
DEFAULT_MODEL_PROVIDERS: Final[tuple[str, ...]] = ("google-vertex", "google-ai-studio")

#: Pixel sizes per ``image_config.aspect_ratio`` at ``image_size`` "1K" (Gemini's table).
ASPECT_RATIO_SIZES: Final[dict[str, tuple[int, int]]] = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}
#: ``image_config.image_size`` -> multiplier applied to :data:`ASPECT_RATIO_SIZES`.
IMAGE_SIZE_SCALE: Final[dict[str, int]] = {"1K": 1, "2K": 2, "4K": 4}
HUGE_IMAGE_SIZE: Final = (6000, 6000)

FAULT_KINDS: Final[frozenset[str]] = frozenset(
    {
        "error_in_200",
        "no_image",
        "broken_data_url",
        "not_an_image",
        "https_image",
        "b64_json",
        "content_parts",
        "huge_image",
        "hang",
        "reset",
        "bad_json",
    }
)

SUPPORTED_INPUT_MIME: Final[dict[str, str]] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}

_PALETTE: Final[tuple[tuple[int, int, int], ...]] = (
    (66, 133, 244),
    (219, 68, 55),
    (244, 180, 0),
    (15, 157, 88),
    (171, 71, 188),
    (0, 172, 193),
)
_NOT_AN_IMAGE: Final = b"This is definitely not an image, just some plain bytes.\n" * 8
_BAD_JSON_BODY: Final = '{"id": "gen-broken", "object": "chat.completion", "choices": [{"message": '
_REASONS: Final[dict[int, str]] = {524: "A Timeout Occurred", 529: "Site Is Overloaded"}
_IMAGE_TOKENS: Final = 1290
_INPUT_IMAGE_TOKENS: Final = 258


# --------------------------------------------------------------------------------------------
# Recorded requests


class Headers(dict[str, str]):
    """A plain ``dict`` of request headers whose keys are lower-cased and looked up case-insensitively."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        for key, value in items:
            low = key.lower()
            existing = dict.get(self, low)
            super().__setitem__(low, value if existing is None else f"{existing}, {value}")

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass
class RecordedRequest:
    """One request the fake received (recorded before auth or validation, so failures are included)."""

    method: str
    path: str  # without the /api/v1 prefix, e.g. "/chat/completions"
    query: dict[str, str]
    headers: dict[str, str]  # a Headers instance: case-insensitive lookups
    json: Any | None  # the parsed JSON body, None when absent or not JSON
    body: bytes = b""
    received_at: float = field(default_factory=time.monotonic)
    #: True when the client went away (closed the connection) before this chat completion was answered.
    disconnected: bool = False

    def header(self, name: str, default: str | None = None) -> str | None:
        """Return a header value, looked up case-insensitively."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return default

    @property
    def prompt(self) -> str:
        """The text of the last user message of a chat request ("" if none)."""
        return _last_user_text(self.json)

    @property
    def input_image_urls(self) -> list[str]:
        """The image URLs (data: or http[s]:) in the messages of a chat request."""
        return [url for url, _part in _iter_image_parts(self.json)]


# --------------------------------------------------------------------------------------------
# Default data


def _model(
    model_id: str,
    name: str,
    description: str,
    *,
    inputs: list[str],
    outputs: list[str],
    context_length: int,
    prompt: str,
    completion: str,
    image: str,
    supported_parameters: list[str],
    created: int,
) -> dict[str, Any]:
    return {
        "id": model_id,
        "canonical_slug": model_id,
        "hugging_face_id": "",
        "name": name,
        "created": created,
        "description": description,
        "context_length": context_length,
        "architecture": {
            "modality": f"{'+'.join(inputs)}->{'+'.join(outputs)}",
            "input_modalities": inputs,
            "output_modalities": outputs,
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "pricing": {
            "prompt": prompt,
            "completion": completion,
            "request": "0",
            "image": image,
            "web_search": "0",
            "internal_reasoning": "0",
        },
        "top_provider": {
            "context_length": context_length,
            "max_completion_tokens": 8192,
            "is_moderated": False,
        },
        "per_request_limits": None,
        "supported_parameters": supported_parameters,
        "default_parameters": {},
    }


def default_models() -> list[dict[str, Any]]:
    """Return a fresh copy of the default model list (includes the project's default models)."""
    text_params = ["max_tokens", "temperature", "top_p", "stop", "seed", "response_format"]
    return [
        _model(
            "google/gemini-2.5-flash-image",
            "Google: Gemini 2.5 Flash Image (Nano Banana)",
            "Gemini 2.5 Flash Image is a state-of-the-art image generation model with contextual "
            "understanding. It is capable of image generation, edits, and multi-turn conversations.",
            inputs=["image", "text"],
            outputs=["image", "text"],
            context_length=32768,
            prompt="0.0000003",
            completion="0.0000025",
            image="0.001238",
            supported_parameters=["max_tokens", "temperature", "top_p", "seed", "response_format"],
            created=1759870431,
        ),
        _model(
            "google/gemini-2.5-flash",
            "Google: Gemini 2.5 Flash",
            "Gemini 2.5 Flash is Google's state-of-the-art workhorse model, designed for advanced "
            "reasoning, coding, mathematics, and scientific tasks.",
            inputs=["text", "image"],
            outputs=["text"],
            context_length=1048576,
            prompt="0.0000003",
            completion="0.0000025",
            image="0.001238",
            supported_parameters=[*text_params, "tools", "tool_choice", "reasoning", "include_reasoning"],
            created=1750172488,
        ),
        _model(
            "black-forest-labs/flux.2-pro",
            "Black Forest Labs: FLUX.2 Pro",
            "FLUX.2 [pro] is a high-quality image generation and editing model from Black Forest Labs.",
            inputs=["text", "image"],
            outputs=["image"],
            context_length=46864,
            prompt="0",
            completion="0",
            image="0.03",
            supported_parameters=["seed"],
            created=1764000000,
        ),
        _model(
            "openai/gpt-5-image",
            "OpenAI: GPT-5 Image",
            "GPT-5 Image combines OpenAI's GPT-5 model with state-of-the-art image generation.",
            inputs=["text", "image"],
            outputs=["image", "text"],
            context_length=400000,
            prompt="0.00001",
            completion="0.00001",
            image="0.00001",
            supported_parameters=[*text_params, "reasoning", "include_reasoning"],
            created=1760447986,
        ),
        _model(
            "openai/gpt-4o-mini",
            "OpenAI: GPT-4o-mini",
            "GPT-4o mini is OpenAI's affordable small model, supporting both text and image inputs.",
            inputs=["text", "image"],
            outputs=["text"],
            context_length=128000,
            prompt="0.00000015",
            completion="0.0000006",
            image="0.000217",
            supported_parameters=[*text_params, "tools", "tool_choice"],
            created=1721260800,
        ),
        _model(
            "meta-llama/llama-3.1-8b-instruct",
            "Meta: Llama 3.1 8B Instruct",
            "Meta's 8B instruct-tuned Llama 3.1, fast and efficient.",
            inputs=["text"],
            outputs=["text"],
            context_length=131072,
            prompt="0.00000002",
            completion="0.00000003",
            image="0",
            supported_parameters=text_params,
            created=1721692800,
        ),
        _model(
            "sourceful/riverflow-v2",
            "Sourceful: Riverflow V2",
            "Riverflow V2 is an image generation and editing model tuned for product and design work.",
            inputs=["text", "image"],
            outputs=["image"],
            context_length=8192,
            prompt="0",
            completion="0",
            image="0.035",
            supported_parameters=["seed"],
            created=1765000000,
        ),
    ]


def default_providers() -> list[dict[str, Any]]:
    """Return a fresh copy of the default provider list."""

    def provider(name: str, slug: str, site: str) -> dict[str, Any]:
        return {
            "name": name,
            "slug": slug,
            "privacy_policy_url": f"https://{site}/privacy",
            "terms_of_service_url": f"https://{site}/terms",
            "status_page_url": f"https://status.{site}",
        }

    return [
        provider("Google Vertex", "google-vertex", "cloud.google.com"),
        provider("Google AI Studio", "google-ai-studio", "ai.google.dev"),
        provider("OpenAI", "openai", "openai.com"),
        provider("Black Forest Labs", "black-forest-labs", "bfl.ai"),
        provider("Together", "together", "together.ai"),
        provider("DeepInfra", "deepinfra", "deepinfra.com"),
    ]


def default_key_info() -> dict[str, Any]:
    """Return a fresh copy of the default ``GET /key`` data."""
    return {
        "label": "sk-or-v1-tes...key",
        "limit": 25.0,
        "limit_remaining": 20.5,
        "usage": 4.5,
        "is_free_tier": False,
    }


# --------------------------------------------------------------------------------------------
# Helpers


@lru_cache(maxsize=64)
def render_png(width: int, height: int, color: tuple[int, int, int] = _PALETTE[0]) -> bytes:
    """Encode a solid-color RGB PNG (cached; call it off the event loop, big sizes take a while)."""
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def _data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _iter_messages(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        return []
    messages = payload.get("messages")
    if not isinstance(messages, list):
        return []
    return [m for m in messages if isinstance(m, dict)]


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "\n".join(t for t in texts if isinstance(t, str))
    return ""


def _last_user_text(payload: Any) -> str:
    for message in reversed(_iter_messages(payload)):
        if message.get("role") == "user":
            return _message_text(message)
    return ""


def _iter_image_parts(payload: Any) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for message in _iter_messages(payload):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "image_url":
                continue
            image_url = part.get("image_url")
            url = image_url.get("url") if isinstance(image_url, dict) else image_url
            if isinstance(url, str):
                found.append((url, part))
    return found


def _check_input_image(url: str) -> tuple[str, str] | None:
    """Validate one input image URL; return (error_type, message) when it is bad."""
    if not url.startswith("data:"):
        if url.startswith(("http://", "https://")):
            return None
        return "invalid_image", "Image URL must be an http(s) URL or a base64 data URL"
    header, sep, encoded = url.partition(",")
    if not sep or not header.endswith(";base64"):
        return "invalid_image", "Image data URL must be base64 encoded"
    mime = header[len("data:") : -len(";base64")].lower()
    expected = SUPPORTED_INPUT_MIME.get(mime)
    if expected is None:
        return "unsupported_image_format", f"Unsupported image format: {mime or 'unknown'}"
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return "invalid_image", "Image data is not valid base64"
    try:
        with Image.open(io.BytesIO(raw)) as img:
            actual = img.format
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return "invalid_image", "Image data could not be decoded"
    if actual != expected:
        return "invalid_image", f"Image declared as {mime} but its data is {actual}"
    return None


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _error_body(status: int, message: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": status, "message": message}
    if metadata is not None:
        error["metadata"] = metadata
    return {"error": error}


def _error_response(
    status: int,
    message: str,
    metadata: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return web.json_response(
        _error_body(status, message, metadata),
        status=status,
        reason=_REASONS.get(status),
        headers=headers,
    )


@dataclass
class _Failure:
    status: int
    message: str | None
    metadata: dict[str, Any] | None
    headers: dict[str, str] | None


@dataclass
class _Fault:
    kind: str


_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_RECORDED: Final = web.RequestKey("recorded", RecordedRequest)


# --------------------------------------------------------------------------------------------
# The server


class FakeOpenRouter:
    """An in-process OpenRouter look-alike; see the module docstring."""

    def __init__(self, *, api_key: str = DEFAULT_API_KEY, host: str = "127.0.0.1", port: int = 0) -> None:
        self.api_key: str = api_key
        self.host: str = host
        self.port: int = port
        self.base_url: str = ""  # set by start()
        self.root_url: str = ""  # "http://127.0.0.1:<port>", set by start()
        self.requests: list[RecordedRequest] = []
        self.models: list[dict[str, Any]] = default_models()
        self.providers: list[dict[str, Any]] = default_providers()
        self.key_info: dict[str, Any] = default_key_info()
        #: model id -> provider slugs serving it; models not listed use DEFAULT_MODEL_PROVIDERS.
        self.model_providers: dict[str, list[str]] = {}
        self.cost: float = 0.0039
        self.latency_s: float = 0.0
        #: When set to an unset Event, chat completions wait for it: tests hold jobs in flight deterministically.
        self.hold: asyncio.Event | None = None
        self.image_count: int = 1
        #: Bytes appended to every rendered image (after PNG's IEND), to make results large without rendering cost.
        self.image_padding: int = 0
        #: When set, image answers list exactly these URLs (data: URLs or links) instead of rendered images.
        self.image_urls: list[str] | None = None
        self.text_reply: str | None = None  # None -> DEFAULT_TEXT_REPLY
        self.image_text: str = DEFAULT_IMAGE_TEXT  # message.content of image answers
        #: Reject badly labelled / undecodable data: URLs in input messages with 400 (like the real API).
        self.validate_input_images: bool = True
        #: Bodies larger than this get 413.
        self.max_request_bytes: int = 32 * 1024 * 1024
        #: name -> (bytes, content type), served without auth at GET /files/<name>.
        self.files: dict[str, tuple[bytes, str]] = {}
        #: response id -> record served by GET /generation?id=...
        self.generations: dict[str, dict[str, Any]] = {}
        self._script: deque[_Failure | _Fault] = deque()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._cond: asyncio.Condition | None = None
        self._stopping: asyncio.Event | None = None
        #: Chat completions whose client closed the connection before the answer (a cancelled call).
        self.disconnects: int = 0
        self._disconnected: asyncio.Event | None = None

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening; sets :attr:`base_url`."""
        if self._runner is not None:
            raise RuntimeError("FakeOpenRouter already started")
        self._cond = asyncio.Condition()
        self._stopping = asyncio.Event()
        self._disconnected = asyncio.Event()
        app = web.Application(middlewares=[self._middleware], client_max_size=1024**3)
        app.router.add_post(f"{API_PREFIX}/chat/completions", self._chat_completions)
        app.router.add_get(f"{API_PREFIX}/models", self._list_models)
        app.router.add_get(f"{API_PREFIX}/models/{{author}}/{{slug}}/endpoints", self._model_endpoints)
        app.router.add_get(f"{API_PREFIX}/providers", self._list_providers)
        app.router.add_get(f"{API_PREFIX}/key", self._key)
        app.router.add_get(f"{API_PREFIX}/credits", self._credits)
        app.router.add_get(f"{API_PREFIX}/generation", self._generation)
        app.router.add_get("/files/{name}", self._file)
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        self.root_url = f"http://{self.host}:{port}"
        self.base_url = f"{self.root_url}{API_PREFIX}"

    async def stop(self) -> None:
        """Stop the server; hanging requests are dropped, in-flight handlers cancelled."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._stopping is not None:
            self._stopping.set()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ---- scripting ------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        message: str | None = None,
        metadata: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` chat completions answer with an error body and HTTP ``status``.

        ``message``/``metadata``/``headers`` left as None get per-status defaults; given ones replace
        the defaults entirely (pass ``headers={}`` for a 429 without Retry-After).
        """
        if not 400 <= status <= 599:
            raise ValueError(f"fail_next needs an error status, got {status}")
        for _ in range(times):
            meta = copy.deepcopy(metadata)
            self._script.append(
                _Failure(status, message, meta, dict(headers) if headers is not None else None)
            )

    def fault_next(self, kind: str, *, times: int = 1) -> None:
        """Make the next ``times`` chat completions misbehave; ``kind`` is one of :data:`FAULT_KINDS`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        for _ in range(times):
            self._script.append(_Fault(kind))

    @property
    def pending_scripted(self) -> int:
        """How many scripted failures/faults are still queued."""
        return len(self._script)

    def clear(self) -> None:
        """Forget recorded requests, queued failures/faults, generations and served files."""
        self.requests.clear()
        self._script.clear()
        self.generations.clear()
        self.files.clear()

    def add_file(self, name: str, data: bytes, content_type: str = "image/png") -> str:
        """Serve ``data`` at GET /files/<name> (no auth needed) and return its absolute URL."""
        self.files[name] = (data, content_type)
        return f"{self.root_url}/files/{name}"

    # ---- inspection -----------------------------------------------------------------------

    def chat_requests(self) -> list[RecordedRequest]:
        """The recorded POST /chat/completions requests, oldest first."""
        return [r for r in self.requests if r.method == "POST" and r.path == "/chat/completions"]

    def _count(self, path: str | None) -> int:
        return sum(1 for r in self.requests if path is None or r.path == path)

    async def wait_for_requests(
        self, count: int, *, path: str | None = "/chat/completions", timeout: float = 5.0
    ) -> None:
        """Wait until at least ``count`` requests to ``path`` (None: any path) were recorded."""
        if self._cond is None:
            raise RuntimeError("FakeOpenRouter is not started")
        async with self._cond:
            try:
                async with asyncio.timeout(timeout):
                    await self._cond.wait_for(lambda: self._count(path) >= count)
            except TimeoutError:
                raise TimeoutError(
                    f"waited {timeout}s for {count} request(s) to {path}, got {self._count(path)}"
                ) from None

    async def wait_for_disconnects(self, count: int = 1, *, timeout: float = 5.0) -> None:
        """Wait until at least ``count`` chat completions were abandoned by their client (connection closed)."""
        if self._disconnected is None:
            raise RuntimeError("FakeOpenRouter is not started")
        try:
            async with asyncio.timeout(timeout):
                while self.disconnects < count:
                    self._disconnected.clear()
                    await self._disconnected.wait()
        except TimeoutError:
            raise TimeoutError(
                f"waited {timeout}s for {count} client disconnect(s), got {self.disconnects}"
            ) from None

    def _client_went_away(self, record: RecordedRequest) -> None:
        """The handler was cancelled while the server runs: aiohttp does that when the client disconnects."""
        if self._stopping is not None and self._stopping.is_set():
            return
        record.disconnected = True
        self.disconnects += 1
        if self._disconnected is not None:
            self._disconnected.set()

    # ---- plumbing -------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        body = await request.read()
        parsed: Any | None = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        path = request.path
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            path = path[len(API_PREFIX) :] or "/"
        record = RecordedRequest(
            method=request.method,
            path=path,
            query=dict(request.query),
            headers=Headers(request.headers.items()),
            json=parsed,
            body=body,
        )
        request[_RECORDED] = record
        self.requests.append(record)
        if self._cond is not None:
            async with self._cond:
                self._cond.notify_all()

        if len(body) > self.max_request_bytes:
            return _error_response(413, "Request body too large")
        if not request.path.startswith("/files/"):
            auth = request.headers.get("Authorization", "")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return _error_response(401, "No auth credentials found")
            if token.strip() != self.api_key:
                return _error_response(401, "User not found.")
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return _error_response(exc.status, exc.reason or HTTPStatus(exc.status).phrase)

    def _find_model(self, model_id: str) -> dict[str, Any] | None:
        base = model_id.split(":", 1)[0]
        for model in self.models:
            if model.get("id") in (model_id, base) or model.get("canonical_slug") in (model_id, base):
                return model
        return None

    def _model_provider_entries(self, model_id: str) -> list[dict[str, Any]]:
        base = model_id.split(":", 1)[0]
        slugs = (
            self.model_providers.get(model_id) or self.model_providers.get(base) or DEFAULT_MODEL_PROVIDERS
        )
        by_slug = {str(p.get("slug", "")).lower(): p for p in self.providers}
        entries: list[dict[str, Any]] = []
        for slug in slugs:
            known = by_slug.get(slug.lower())
            entries.append({"slug": slug, "name": known.get("name", slug) if known else slug})
        return entries

    @staticmethod
    def _matches(entry: dict[str, Any], names: Iterable[Any]) -> bool:
        wanted = {str(n).strip().lower() for n in names}
        return entry["slug"].lower() in wanted or entry["name"].lower() in wanted

    def _route(self, model_id: str, routing: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Return (allowed providers in preference order, all providers of the model)."""
        entries = self._model_provider_entries(model_id)
        allowed = list(entries)
        if isinstance(routing, dict):
            only = routing.get("only")
            if isinstance(only, list) and only:
                allowed = [e for e in allowed if self._matches(e, only)]
            ignore = routing.get("ignore")
            if isinstance(ignore, list) and ignore:
                allowed = [e for e in allowed if not self._matches(e, ignore)]
            order = routing.get("order")
            if isinstance(order, list) and order:
                ranked = [e for name in order for e in allowed if self._matches(e, [name])]
                allowed = ranked + [e for e in allowed if e not in ranked]
        return allowed, entries

    def _default_failure(self, status: int, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        model = str(payload.get("model", ""))
        providers = self._model_provider_entries(model) if model else []
        provider_name = providers[0]["name"] if providers else "Google Vertex"
        prompt = _last_user_text(payload)
        if status == 400:
            return "Provider returned error", {"provider_name": provider_name, "raw": "Bad request"}
        if status == 401:
            return "User not found.", {}
        if status == 402:
            return (
                "Insufficient credits. Add more using https://openrouter.ai/settings/credits",
                {},
            )
        if status == 403:
            return (
                f'{model} requires moderation on {provider_name}. Your input was flagged for "violence"',
                {
                    "reasons": ["violence"],
                    "flagged_input": prompt[:100] + ("..." if len(prompt) > 100 else ""),
                    "provider_name": provider_name,
                    "model_slug": model,
                    "error_type": "content_policy_violation",
                },
            )
        if status == 404:
            return NO_ALLOWED_PROVIDERS, {"available_providers": [p["slug"] for p in providers]}
        if status == 408:
            return "Request timed out. Please try again.", {}
        if status == 413:
            return "Request body too large", {}
        if status == 429:
            return (
                f"{model} is temporarily rate-limited upstream. Please retry shortly.",
                {
                    "provider_name": provider_name,
                    "raw": f"{model} is temporarily rate-limited upstream.",
                    "error_type": "rate_limit_exceeded",
                },
            )
        if status == 502:
            return (
                "Provider returned error",
                {
                    "provider_name": provider_name,
                    "raw": json.dumps(
                        {
                            "error": {
                                "code": 500,
                                "message": "Internal error encountered.",
                                "status": "INTERNAL",
                            }
                        }
                    ),
                },
            )
        if status == 503:
            return "No available model provider that meets your routing requirements", {}
        if status == 524:
            return "Provider timed out", {"provider_name": provider_name}
        if status == 529:
            return "Provider returned error", {
                "provider_name": provider_name,
                "error_type": "provider_overloaded",
            }
        try:
            return HTTPStatus(status).phrase, {}
        except ValueError:
            return "Error", {}

    def _failure_response(self, failure: _Failure, payload: dict[str, Any]) -> web.Response:
        default_message, default_metadata = self._default_failure(failure.status, payload)
        headers = failure.headers
        if headers is None:
            headers = {"Retry-After": "1"} if failure.status == 429 else {}
        return _error_response(
            failure.status,
            failure.message if failure.message is not None else default_message,
            failure.metadata if failure.metadata is not None else default_metadata,
            headers,
        )

    @staticmethod
    def _drop_connection(request: web.Request) -> None:
        request.protocol.force_close()
        transport = request.transport
        if transport is not None:
            transport.abort()

    # ---- chat completions -----------------------------------------------------------------

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        record = request[_RECORDED]
        try:
            return await self._answer_chat(request, record)
        except asyncio.CancelledError:
            self._client_went_away(record)  # handler_cancellation: the connection closed before the answer
            raise

    async def _answer_chat(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        if self.hold is not None:
            await self.hold.wait()
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        payload = record.json
        if not isinstance(payload, dict):
            return _error_response(400, "Invalid JSON body")
        model = payload.get("model")
        messages = payload.get("messages")
        if not isinstance(model, str) or not model:
            return _error_response(400, "Missing required parameter: model")
        if not isinstance(messages, list) or not messages:
            return _error_response(400, 'Input required: specify "prompt" or "messages"')

        if self._script:
            action = self._script.popleft()
            if isinstance(action, _Failure):
                return self._failure_response(action, payload)
            allowed, _ = self._route(model, payload.get("provider"))
            provider = allowed[0]["name"] if allowed else "Google Vertex"
            return await self._fault_response(request, action.kind, payload, provider)

        model_entry = self._find_model(model)
        if self.models and model_entry is None:
            return _error_response(404, f"Model {model} does not exist")
        allowed, entries = self._route(model, payload.get("provider"))
        if not allowed:
            return _error_response(
                404, NO_ALLOWED_PROVIDERS, {"available_providers": [e["slug"] for e in entries]}
            )
        raw_modalities = payload.get("modalities")
        modalities: list[Any] = raw_modalities if isinstance(raw_modalities, list) else []
        wants_image = "image" in modalities
        if wants_image and model_entry is not None:
            outputs = (model_entry.get("architecture") or {}).get("output_modalities")
            if isinstance(outputs, list) and "image" not in outputs:
                requested = ", ".join(str(m) for m in modalities)
                return _error_response(
                    404, f"No endpoints found that support the requested output modalities: {requested}"
                )
        if self.validate_input_images:
            for url, _part in _iter_image_parts(payload):
                problem = await asyncio.to_thread(_check_input_image, url)
                if problem is not None:
                    error_type, problem_text = problem
                    return _error_response(400, problem_text, {"error_type": error_type})

        if wants_image:
            size, size_error = self._requested_size(payload)
            if size_error is not None:
                return _error_response(400, size_error, {"provider_name": allowed[0]["name"]})
            urls = self.image_urls
            if urls is None:
                pngs = await self._render_many(size, self.image_count, self.image_padding)
                urls = await asyncio.to_thread(lambda: [_data_url(png) for png in pngs])
            images = [{"type": "image_url", "image_url": {"url": url}} for url in urls]
            message: dict[str, Any] = {"role": "assistant", "content": self.image_text, "images": images}
            return self._completion_response(payload, allowed[0]["name"], message, image_count=len(images))
        reply = self.text_reply if self.text_reply is not None else DEFAULT_TEXT_REPLY
        return self._completion_response(
            payload, allowed[0]["name"], {"role": "assistant", "content": reply}, image_count=0
        )

    @staticmethod
    def _requested_size(payload: dict[str, Any]) -> tuple[tuple[int, int], str | None]:
        config = payload.get("image_config")
        config = config if isinstance(config, dict) else {}
        ratio = config.get("aspect_ratio", "1:1")
        image_size = config.get("image_size", "1K")
        if ratio not in ASPECT_RATIO_SIZES:
            return ASPECT_RATIO_SIZES["1:1"], f"Invalid aspect_ratio {ratio!r}; supported: " + ", ".join(
                ASPECT_RATIO_SIZES
            )
        if image_size not in IMAGE_SIZE_SCALE:
            return ASPECT_RATIO_SIZES["1:1"], f"Invalid image_size {image_size!r}; supported: 1K, 2K, 4K"
        width, height = ASPECT_RATIO_SIZES[ratio]
        scale = IMAGE_SIZE_SCALE[image_size]
        return (width * scale, height * scale), None

    @staticmethod
    async def _render_many(size: tuple[int, int], count: int, padding: int = 0) -> list[bytes]:
        width, height = size
        colors = [_PALETTE[i % len(_PALETTE)] for i in range(max(0, count))]
        tail = b"\0" * max(0, padding)
        return await asyncio.to_thread(lambda: [render_png(width, height, c) + tail for c in colors])

    def _completion(
        self, payload: dict[str, Any], provider: str, choice: dict[str, Any], *, image_count: int
    ) -> dict[str, Any]:
        gen_id = f"gen-{next(self._ids)}"
        prompt_tokens = sum(_estimate_tokens(_message_text(m)) for m in _iter_messages(payload))
        prompt_tokens += _INPUT_IMAGE_TOKENS * len(_iter_image_parts(payload))
        message = choice.get("message") or {}
        content = message.get("content")
        text_tokens = _estimate_tokens(content) if isinstance(content, str) and content else 0
        image_tokens = _IMAGE_TOKENS * image_count
        completion_tokens = text_tokens + image_tokens
        created = int(time.time())
        model = str(payload.get("model"))
        self.generations[gen_id] = {
            "id": gen_id,
            "model": model,
            "provider_name": provider,
            "total_cost": self.cost,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created)),
            "latency": int(self.latency_s * 1000),
            "generation_time": int(self.latency_s * 1000),
            "tokens_prompt": prompt_tokens,
            "tokens_completion": completion_tokens,
            "native_tokens_prompt": prompt_tokens,
            "native_tokens_completion": completion_tokens,
            "num_media_completion": image_count,
            "finish_reason": choice.get("finish_reason"),
            "streamed": bool(payload.get("stream")),
        }
        return {
            "id": gen_id,
            "provider": provider,
            "model": model,
            "object": "chat.completion",
            "created": created,
            "choices": [choice],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "cost": self.cost,
                "is_byok": False,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "image_tokens": image_tokens},
            },
        }

    def _completion_response(
        self,
        payload: dict[str, Any],
        provider: str,
        message: dict[str, Any],
        *,
        image_count: int,
        finish_reason: str = "stop",
        error: dict[str, Any] | None = None,
    ) -> web.StreamResponse:
        choice: dict[str, Any] = {
            "logprobs": None,
            "finish_reason": finish_reason,
            "native_finish_reason": "STOP" if finish_reason == "stop" else finish_reason.upper(),
            "index": 0,
            "message": message,
        }
        if error is not None:
            choice["error"] = error
        completion = self._completion(payload, provider, choice, image_count=image_count)
        if payload.get("stream") is True:
            return self._sse_response(completion)
        return web.json_response(completion)

    @staticmethod
    def _sse_response(completion: dict[str, Any]) -> web.Response:
        """Render a finished completion as an SSE stream (one content chunk, one final chunk)."""
        base = {k: completion[k] for k in ("id", "provider", "model", "created")}
        base["object"] = "chat.completion.chunk"
        choice = completion["choices"][0]
        first_choice: dict[str, Any] = {"index": 0, "delta": choice["message"], "finish_reason": None}
        if "error" in choice:
            first_choice["error"] = choice["error"]
        last_choice = {
            "index": 0,
            "delta": {"role": "assistant", "content": ""},
            "finish_reason": choice["finish_reason"],
            "native_finish_reason": choice["native_finish_reason"],
        }
        chunks = [
            {**base, "choices": [first_choice]},
            {**base, "choices": [last_choice], "usage": completion["usage"]},
        ]
        lines = [": OPENROUTER PROCESSING\n\n"]
        lines += [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
        lines.append("data: [DONE]\n\n")
        return web.Response(
            text="".join(lines), content_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    async def _fault_response(
        self, request: web.Request, kind: str, payload: dict[str, Any], provider: str
    ) -> web.StreamResponse:
        if kind == "hang":
            assert self._stopping is not None
            # Returns only when the server stops; a client giving up cancels this handler.
            await self._stopping.wait()
            self._drop_connection(request)
            return web.Response()
        if kind == "reset":
            self._drop_connection(request)
            return web.Response()
        if kind == "bad_json":
            return web.Response(text=_BAD_JSON_BODY, content_type="application/json")
        if kind == "error_in_200":
            error = {
                "code": 502,
                "message": "Provider returned error",
                "metadata": {"provider_name": provider, "raw": "upstream stream interrupted"},
            }
            return self._completion_response(
                payload,
                provider,
                {"role": "assistant", "content": ""},
                image_count=0,
                finish_reason="error",
                error=error,
            )
        if kind == "no_image":
            return self._completion_response(
                payload, provider, {"role": "assistant", "content": NO_IMAGE_TEXT}, image_count=0
            )

        size, _size_error = self._requested_size(payload)
        message: dict[str, Any] = {"role": "assistant", "content": self.image_text}
        if kind == "broken_data_url":
            message["images"] = [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,!!!notbase64"}}
            ]
            return self._completion_response(payload, provider, message, image_count=1)
        if kind == "not_an_image":
            message["images"] = [{"type": "image_url", "image_url": {"url": _data_url(_NOT_AN_IMAGE)}}]
            return self._completion_response(payload, provider, message, image_count=1)
        if kind == "huge_image":
            png = await asyncio.to_thread(render_png, *HUGE_IMAGE_SIZE)
            message["images"] = [{"type": "image_url", "image_url": {"url": _data_url(png)}}]
            return self._completion_response(payload, provider, message, image_count=1)

        pngs = await self._render_many(size, self.image_count, self.image_padding)
        if kind == "https_image":
            urls = [self.add_file(f"img-{next(self._ids)}.png", png) for png in pngs]
            message["images"] = [{"type": "image_url", "image_url": {"url": url}} for url in urls]
        elif kind == "b64_json":
            message["images"] = [
                {"b64_json": base64.b64encode(png).decode("ascii"), "index": i} for i, png in enumerate(pngs)
            ]
        elif kind == "content_parts":
            message["content"] = [{"type": "text", "text": self.image_text}] + [
                {"type": "image_url", "image_url": {"url": _data_url(png)}} for png in pngs
            ]
        else:  # pragma: no cover - guarded by fault_next
            raise AssertionError(kind)
        return self._completion_response(payload, provider, message, image_count=len(pngs))

    # ---- discovery and account ------------------------------------------------------------

    async def _list_models(self, request: web.Request) -> web.Response:
        raw = request.query.get("output_modalities")
        if raw is None or not raw.strip():
            wanted: set[str] | None = {"text"}
        else:
            parts = {p.strip().lower() for p in raw.split(",") if p.strip()}
            wanted = None if "all" in parts else parts

        def outputs(model: dict[str, Any]) -> set[str]:
            arch = model.get("architecture")
            mods = arch.get("output_modalities") if isinstance(arch, dict) else None
            return {str(m).lower() for m in mods} if isinstance(mods, list) else {"text"}

        data = [m for m in self.models if wanted is None or outputs(m) & wanted]
        return web.json_response({"data": data})

    async def _model_endpoints(self, request: web.Request) -> web.Response:
        model_id = f"{request.match_info['author']}/{request.match_info['slug']}"
        model = self._find_model(model_id)
        if model is None:
            return _error_response(404, f"Model {model_id} does not exist")
        endpoints = [
            {
                "name": f"{entry['name']} | {model['id']}",
                "model_name": model.get("name", model["id"]),
                "context_length": model.get("context_length", 0),
                "pricing": dict(model.get("pricing") or {}),
                "provider_name": entry["name"],
                "tag": entry["slug"],
                "quantization": None,
                "max_completion_tokens": 8192,
                "max_prompt_tokens": None,
                "supported_parameters": list(model.get("supported_parameters") or []),
                "status": 0,
                "uptime_last_30m": 99.5,
                "supports_implicit_caching": False,
            }
            for entry in self._model_provider_entries(model["id"])
        ]
        data = {
            "id": model["id"],
            "name": model.get("name", model["id"]),
            "created": model.get("created", 0),
            "description": model.get("description", ""),
            "architecture": model.get("architecture", {}),
            "endpoints": endpoints,
        }
        return web.json_response({"data": data})

    async def _list_providers(self, request: web.Request) -> web.Response:
        return web.json_response({"data": self.providers})

    async def _key(self, request: web.Request) -> web.Response:
        return web.json_response({"data": self.key_info})

    async def _credits(self, request: web.Request) -> web.Response:
        limit = self.key_info.get("limit") or 0.0
        usage = self.key_info.get("usage") or 0.0
        return web.json_response({"data": {"total_credits": limit, "total_usage": usage}})

    async def _generation(self, request: web.Request) -> web.Response:
        gen_id = request.query.get("id", "")
        record = self.generations.get(gen_id)
        if record is None:
            return _error_response(404, f"Generation {gen_id} not found")
        return web.json_response({"data": record})

    async def _file(self, request: web.Request) -> web.Response:
        entry = self.files.get(request.match_info["name"])
        if entry is None:
            return _error_response(404, "Not Found")
        data, content_type = entry
        return web.Response(body=data, content_type=content_type)
