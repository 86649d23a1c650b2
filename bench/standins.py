"""The loopback stand-ins (Discord REST and OpenRouter) as the benchmarks drive them.

A benchmark run keeps them in a process of their own (`python -m bench.standins`), so their work —
rendering answers, parsing multi-megabyte uploads — is not charged to the bot's event loop and its
memory is not in the bot's RSS; on two cores the bot keeps one to itself. The process prints one JSON
line with its addresses, then serves a small control API beside the stand-ins; `RemoteStandins` is its
client. `LocalStandins` runs the same two servers in the caller's loop, for the smoke test.

Both stand-ins stamp every request on arrival with the system-wide monotonic clock (CLOCK_MONOTONIC,
what `time.perf_counter` and `time.monotonic` read on Linux), so a time taken in the bot's process
and an arrival time taken here can be subtracted. They listen with a deep backlog (`LISTEN_BACKLOG`):
with aiohttp's default of 128, hundreds of connections opened at once overflow it and the kernel's
one-second SYN retry would be counted against the bot.

The OpenRouter stand-in answers both image routes (`/chat/completions` and the Images API's
`POST /images` with `n`) from one pre-encoded image when the scenario sets one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from tests.fake_openrouter import FakeOpenRouter, default_models
from tests.kit.fake_discord import IS_COMPONENTS_V2, DiscordRequest, FakeDiscord, SentFile

__all__ = ["LocalStandins", "Records", "RemoteStandins", "Standins", "start_process", "stop_process",
           "synthetic_models"]

_PROJECT_ROOT = Path(__file__).resolve().parents[1]
_IMAGE_PLACEHOLDER = "@@BENCH-IMAGE@@"


def synthetic_models(count: int) -> list[dict[str, Any]]:
    """The stand-in's default models plus made-up ones up to `count`: a catalog the size of OpenRouter's."""
    models = default_models()
    template = models[0]
    authors = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "cyberdyne", "aperture")
    families = ("vision", "diffusion", "chat", "instruct", "coder", "image", "flash", "pro", "mini", "turbo")
    number = 0
    while len(models) < count:
        author, family = authors[number % len(authors)], families[(number // len(authors)) % len(families)]
        makes_images = number % 3 == 0
        model = json.loads(json.dumps(template))
        model["id"] = model["canonical_slug"] = f"{author}/{family}-{number}"
        model["name"] = f"{author.title()}: {family.title()} {number} ({'image' if makes_images else 'text'})"
        model["architecture"]["output_modalities"] = ["image", "text"] if makes_images else ["text"]
        model["architecture"]["input_modalities"] = ["text", "image"] if number % 2 else ["text"]
        models.append(model)
        number += 1
    return models[:count]


class BenchDiscord(FakeDiscord):
    """The Discord stand-in, indexed by interaction token.

    The base class finds an interaction's earlier requests by scanning all of them, which is fine for a
    test and quadratic for a benchmark: thousands of requests would slow the stand-in, not the bot.
    """

    def __init__(self) -> None:
        super().__init__()
        self._by_token: dict[str, list[DiscordRequest]] = defaultdict(list)

    def for_token(self, token: str) -> list[DiscordRequest]:
        return list(self._by_token.get(token, ()))

    async def _record(self, request: web.Request, path: str) -> DiscordRequest:
        if request.content_type.startswith("multipart/"):
            recorded = await self._record_multipart(request, path)
        else:
            recorded = await super()._record(request, path)
        if recorded.token:
            self._by_token[recorded.token].append(recorded)
        return recorded

    async def _record_multipart(self, request: web.Request, path: str) -> DiscordRequest:
        """Split an upload at its boundary in one pass.

        aiohttp's multipart reader works in 8 KiB steps of Python code: for 200 uploads of 4 MiB at once
        the stand-in, not the bot, would become what the benchmark measures.
        """
        body = await request.read()
        boundary = b"--" + _boundary(request.headers["Content-Type"])
        payload: Any = None
        files: list[SentFile] = []
        for part in body.split(boundary)[1:]:
            if part.startswith(b"--"):
                break
            head, _, data = part.partition(b"\r\n\r\n")
            headers = dict(line.split(": ", 1) for line in head.decode("latin-1").strip().split("\r\n") if ": " in line)
            disposition = {key.strip(): value.strip('"') for key, _, value in
                           (item.partition("=") for item in headers.get("Content-Disposition", "").split(";"))}
            data = data.removesuffix(b"\r\n")
            if disposition.get("name") == "payload_json":
                payload = json.loads(data)
            else:
                files.append(SentFile(disposition.get("filename", ""), data, headers.get("Content-Type", "")))
        recorded = DiscordRequest(method=request.method, path=path, query=dict(request.query),
                                  headers=dict(request.headers), json=payload, files=files)
        self.requests.append(recorded)
        return recorded

    def clear(self) -> None:
        """Forget every request and hosted file."""
        self.requests.clear()
        self._by_token.clear()
        self.attachments.clear()


def _boundary(content_type: str) -> bytes:
    for item in content_type.split(";"):
        key, _, value = item.strip().partition("=")
        if key.lower() == "boundary":
            return value.strip('"').encode()
    raise ValueError("multipart body without a boundary")


class BenchOpenRouter(FakeOpenRouter):
    """The OpenRouter stand-in, able to answer with one fixed large image cheaply.

    Encoding a 4 MiB PNG into a 5.6 MB JSON answer takes the stand-in several milliseconds; for 200
    answers due at the same moment that would serialise them over a second or two. The answer's JSON is
    built with a placeholder and the pre-encoded image is spliced in.
    """

    def __init__(self) -> None:
        super().__init__()
        self.validate_input_images = False  # decoding every input image would cost the stand-in, not the bot
        self._image_json: bytes | None = None
        self._b64_json: bytes | None = None

    def set_image(self, png: bytes | None) -> None:
        """Answer image requests (both routes) with `png` (None: the default small solid-colour images)."""
        if png is None:
            self._image_json = self._b64_json = None
            return
        import base64

        encoded = base64.b64encode(png).decode("ascii")
        self._image_json = json.dumps("data:image/png;base64," + encoded).encode()
        self._b64_json = json.dumps(encoded).encode()

    def _completion_response(self, payload: dict[str, Any], provider: str, message: dict[str, Any], *,
                             image_count: int, finish_reason: str = "stop",
                             error: dict[str, Any] | None = None) -> web.StreamResponse:
        images = message.get("images")
        if self._image_json is None or not images or payload.get("stream") is True:
            return super()._completion_response(payload, provider, message, image_count=image_count,
                                                finish_reason=finish_reason, error=error)
        placeholder = [{"type": "image_url", "image_url": {"url": _IMAGE_PLACEHOLDER}} for _ in images]
        response = super()._completion_response(payload, provider, {**message, "images": placeholder},
                                                image_count=image_count, finish_reason=finish_reason, error=error)
        assert isinstance(response, web.Response) and isinstance(response.body, bytes)
        body = response.body.replace(json.dumps(_IMAGE_PLACEHOLDER).encode(), self._image_json)
        return web.Response(body=body, status=response.status, content_type="application/json")

    async def _image_answer(self, request: web.Request, record: Any, plan: Any, kind: str | None) -> web.StreamResponse:
        """`POST /images` answered buffered with the fixed image, `plan.count` times, spliced in the same way.

        Faults, streams and the default images go through the base class. The answer is the spec's
        `ImageGenerationResponse` as the base class builds it (`data[].b64_json`, `media_type`, `usage`).
        """
        if self._b64_json is None or kind is not None or plan.stream:
            return await super()._image_answer(request, record, plan, kind)
        items = [{"b64_json": _IMAGE_PLACEHOLDER, "media_type": "image/png"} for _ in range(plan.count)]
        usage = self._image_usage(plan, len(items))
        text = json.dumps({"created": int(time.time()), "data": items, "usage": usage})
        body = text.encode().replace(json.dumps(_IMAGE_PLACEHOLDER).encode(), self._b64_json)
        record.cost = usage["cost"]
        return web.Response(body=body, content_type="application/json")


@dataclass(frozen=True)
class Records:
    """What reached the stand-ins, reduced to what the benchmarks compute with."""

    #: Discord: method, path, token, arrival time, callback type (or None), number of files.
    discord: list[dict[str, Any]]
    #: OpenRouter: method, path, arrival time, body size.
    openrouter: list[dict[str, Any]]

    def first_callback(self) -> dict[str, float]:
        """Interaction token -> arrival of its first interaction callback (the first response)."""
        found: dict[str, float] = {}
        for request in self.discord:
            if request["method"] == "POST" and request["path"].endswith("/callback") and request["token"]:
                found.setdefault(request["token"], request["at"])
        return found

    def last_delivery(self, *, with_files: bool) -> dict[str, float]:
        """Interaction token -> arrival of its last webhook edit (with files, if asked): the delivered result."""
        found: dict[str, float] = {}
        for request in self.discord:
            if request["path"].startswith("/webhooks/") and request["method"] in ("PATCH", "POST") \
                    and request["token"] and (request["files"] > 0 or not with_files):
                found[request["token"]] = request["at"]
        return found

    def grids(self, images: int) -> dict[str, bool]:
        """Interaction token -> whether its last delivery was an accepted Components V2 grid of `images` images."""
        found: dict[str, bool] = {}
        for request in self.discord:
            if request["path"].startswith("/webhooks/") and request["method"] in ("PATCH", "POST") \
                    and request["token"] and request["files"] > 0:
                found[request["token"]] = request["v2"] and request["gallery"] == images and not request["refused"]
        return found

    def chat_arrivals(self) -> list[float]:
        """Arrival times of chat completion requests, in order."""
        return self.generation_arrivals("/chat/completions")

    def generation_arrivals(self, path: str | None = None) -> list[float]:
        """Arrival times of generations (`path`: only chat completions or only `/images`), in order."""
        paths = (path,) if path else ("/chat/completions", "/images")
        return [r["at"] for r in self.openrouter if r["method"] == "POST" and r["path"] in paths]


class Standins:
    """The interface the scenarios use; see `LocalStandins` and `RemoteStandins`."""

    discord_api_base: str
    openrouter_base: str
    api_key: str

    async def configure(self, *, latency_s: float = 0.0, image_bytes: bytes | None = None,
                        models: int | None = None) -> None:
        """Upstream latency, the image every answer carries (None: small default), catalog size."""
        raise NotImplementedError

    async def host_attachment(self, filename: str, data: bytes, content_type: str) -> str:
        """Serve bytes at a Discord-CDN-like URL on the stand-in and return it."""
        raise NotImplementedError

    async def records(self) -> Records:
        """Everything received since the last `reset`."""
        raise NotImplementedError

    async def reset(self) -> None:
        """Forget requests, hosted files and answers; back to no latency, small images, default models."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Stop the stand-ins."""
        raise NotImplementedError

    # -- shared proxies for the test kit's settings helpers -------------------------------------

    @property
    def discord_proxy(self) -> Any:
        """What `make_settings` and `PayloadFactory` read of a FakeDiscord."""
        return _DiscordProxy(self.discord_api_base)

    @property
    def openrouter_proxy(self) -> Any:
        """What `make_settings` reads of a FakeOpenRouter."""
        return _OpenRouterProxy(self.openrouter_base, self.api_key)


@dataclass
class _DiscordProxy:
    api_base: str

    def host_attachment(self, filename: str, data: bytes, content_type: str = "") -> str:
        raise RuntimeError("host attachments with `await standins.host_attachment(...)` and pass url=")


@dataclass
class _OpenRouterProxy:
    base_url: str
    api_key: str


def _discord_record(request: DiscordRequest) -> dict[str, Any]:
    body = request.json if isinstance(request.json, dict) else {}
    message = body.get("data", body) if isinstance(body.get("data", body), dict) else {}
    return {"method": request.method, "path": request.path, "token": request.token, "at": request.received_at,
            "type": body.get("type"), "files": len(request.files),
            "v2": bool(int(message.get("flags") or 0) & IS_COMPONENTS_V2),
            "gallery": _gallery_items(message.get("components") or []), "refused": request.refusal is not None}


def _gallery_items(components: list[Any]) -> int:
    """How many media gallery items a message's components hold (nested ones included)."""
    found = 0
    for item in components:
        if isinstance(item, dict):
            found += len(item.get("items") or []) if item.get("type") == 12 else 0
            found += _gallery_items(item.get("components") or [])
    return found


#: Listen backlog of the stand-ins' sockets. aiohttp's default (128) overflows when hundreds of connections
#: open at once: the kernel drops the SYNs beyond it and the client retries a second later, which the
#: benchmarks would count against the bot. Discord's and OpenRouter's edges accept far more.
LISTEN_BACKLOG = 4096


@contextlib.contextmanager
def _wide_backlog() -> Iterator[None]:
    """Sites created meanwhile listen with `LISTEN_BACKLOG` (the stand-ins make theirs in `start()`)."""
    original = web.TCPSite.__init__

    def init(site: web.TCPSite, *args: Any, backlog: int = LISTEN_BACKLOG, **kwargs: Any) -> None:
        original(site, *args, backlog=backlog, **kwargs)

    web.TCPSite.__init__ = init  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        web.TCPSite.__init__ = original  # type: ignore[method-assign]


class _Servers:
    """The two stand-ins in one loop, and the operations the control API exposes."""

    def __init__(self) -> None:
        self.discord = BenchDiscord()
        self.openrouter = BenchOpenRouter()

    async def start(self) -> None:
        with _wide_backlog():
            await self.discord.start()
            await self.openrouter.start()

    async def stop(self) -> None:
        await self.openrouter.stop()
        await self.discord.stop()

    def configure(self, *, latency_s: float, image_bytes: bytes | None, models: int | None) -> None:
        self.openrouter.latency_s = latency_s
        self.openrouter.set_image(image_bytes)
        self.openrouter.models = synthetic_models(models) if models else default_models()

    def records(self) -> Records:
        return Records(
            discord=[_discord_record(request) for request in self.discord.requests],
            openrouter=[{"method": r.method, "path": r.path, "at": r.received_at, "bytes": len(r.body)}
                        for r in self.openrouter.requests],
        )

    def reset(self) -> None:
        self.discord.clear()
        self.openrouter.clear()
        self.configure(latency_s=0.0, image_bytes=None, models=None)


class LocalStandins(Standins):
    """Both stand-ins in the caller's event loop (the smoke test; figures then include their work)."""

    def __init__(self) -> None:
        self._servers = _Servers()

    async def start(self) -> LocalStandins:
        await self._servers.start()
        self.discord_api_base = self._servers.discord.api_base
        self.openrouter_base = self._servers.openrouter.base_url
        self.api_key = self._servers.openrouter.api_key
        return self

    async def configure(self, *, latency_s: float = 0.0, image_bytes: bytes | None = None,
                        models: int | None = None) -> None:
        self._servers.configure(latency_s=latency_s, image_bytes=image_bytes, models=models)

    async def host_attachment(self, filename: str, data: bytes, content_type: str) -> str:
        return self._servers.discord.host_attachment(filename, data, content_type)

    async def records(self) -> Records:
        return self._servers.records()

    async def reset(self) -> None:
        self._servers.reset()

    async def aclose(self) -> None:
        await self._servers.stop()


class RemoteStandins(Standins):
    """A client of the control API of a `python -m bench.standins` process."""

    def __init__(self, control_url: str, addresses: dict[str, str], process: subprocess.Popen[bytes] | None) -> None:
        self._control = httpx.AsyncClient(base_url=control_url, timeout=60.0)
        self.discord_api_base = addresses["discord_api_base"]
        self.openrouter_base = addresses["openrouter_base"]
        self.api_key = addresses["api_key"]
        self._process = process

    @classmethod
    def spawn(cls) -> RemoteStandins:
        """Start a stand-ins process and connect to it; `aclose()` ends it."""
        process, addresses = start_process()
        return cls(addresses["control_url"], addresses, process)

    @classmethod
    def connect(cls, addresses: dict[str, str]) -> RemoteStandins:
        """Use a stand-ins process someone else started (the orchestrator shares one with its workers)."""
        return cls(addresses["control_url"], addresses, None)

    async def configure(self, *, latency_s: float = 0.0, image_bytes: bytes | None = None,
                        models: int | None = None) -> None:
        params = {"latency_s": str(latency_s), "models": str(models or 0), "image": "1" if image_bytes else "0"}
        response = await self._control.post("/control/configure", params=params, content=image_bytes or b"")
        response.raise_for_status()

    async def host_attachment(self, filename: str, data: bytes, content_type: str) -> str:
        response = await self._control.post("/control/attachment", params={"filename": filename,
                                                                            "content_type": content_type},
                                            content=data)
        response.raise_for_status()
        return str(response.json()["url"])

    async def records(self) -> Records:
        response = await self._control.get("/control/records")
        response.raise_for_status()
        data = response.json()
        return Records(discord=data["discord"], openrouter=data["openrouter"])

    async def reset(self) -> None:
        (await self._control.post("/control/reset")).raise_for_status()

    async def aclose(self) -> None:
        await self._control.aclose()
        self.close_process()

    def close_process(self) -> None:
        """End the stand-ins process this client started, if any."""
        process, self._process = self._process, None
        if process is not None:
            stop_process(process)


def start_process() -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """Start `python -m bench.standins`; returns it and its addresses (it ends when its stdin closes)."""
    process = subprocess.Popen([sys.executable, "-m", "bench.standins"], cwd=_PROJECT_ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(5)
        raise RuntimeError(f"the stand-ins process exited with {process.returncode} before starting")
    return process, json.loads(line)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """End a stand-ins process: close its stdin, and kill it (this one, by its handle) if it lingers."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


# -- the stand-ins process ----------------------------------------------------------------------


def _control_app(servers: _Servers) -> web.Application:
    async def configure(request: web.Request) -> web.Response:
        image = await request.read() if request.query.get("image") == "1" else None
        models = int(request.query.get("models", "0"))
        servers.configure(latency_s=float(request.query.get("latency_s", "0")), image_bytes=image or None,
                          models=models or None)
        return web.json_response({"ok": True})

    async def attachment(request: web.Request) -> web.Response:
        data = await request.read()
        url = servers.discord.host_attachment(request.query["filename"], data, request.query.get("content_type", ""))
        return web.json_response({"url": url})

    async def records(request: web.Request) -> web.Response:
        result = servers.records()
        return web.json_response({"discord": result.discord, "openrouter": result.openrouter})

    async def reset(request: web.Request) -> web.Response:
        servers.reset()
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=256 * 1024 * 1024)
    app.router.add_post("/control/configure", configure)
    app.router.add_post("/control/attachment", attachment)
    app.router.add_get("/control/records", records)
    app.router.add_post("/control/reset", reset)
    return app


async def _serve() -> None:
    servers = _Servers()
    await servers.start()
    runner = web.AppRunner(_control_app(servers), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"control_url": f"http://127.0.0.1:{port}", "discord_api_base": servers.discord.api_base,
                      "openrouter_base": servers.openrouter.base_url, "api_key": servers.openrouter.api_key}),
          flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # Ends when the parent closes our stdin (or dies), so no stand-in outlives its benchmark.
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), loop.call_soon_threadsafe(stop.set)),
                     daemon=True).start()
    await stop.wait()
    await runner.cleanup()
    await servers.stop()


if __name__ == "__main__":
    asyncio.run(_serve())
