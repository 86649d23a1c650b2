"""The benchmark scenarios of issue 8, each runnable against three targets.

- "project": the real `ImageBot` (all cogs, SQLite, job service), driven through its command tree;
- "minimal": `bench.minimal_bot.MinimalBot`, the floor a discord.py bot allows on this machine;
- "httpx":   no bot at all, the same HTTP calls made directly with one `httpx.AsyncClient`.

Each scenario returns its figures by name (milliseconds, ratios, megabytes); `ROWS` says which of
them the table shows, with which target; the scaling scenario's figures (per step) have a table of
their own (`bench.run.format_scaling_table`). Every loop here is bounded in count and in time.

Besides the first response and end to end, the bursts report when their upstream requests reached
the stand-in (`upstream_start_p50`/`_max`, ms after the burst began): what the bot does before the
call shows there first. The Images API scenario (issue 13) sets the server's /imagine model to one
only `POST /images` serves, through `/config model`, and asks for `count` 4 of 1 MiB images.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import io
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from bench.drivers import UnderTest, bot_under_test
from bench.measure import LoopTicker, peak_rss_bytes, percentile, reset_peak_rss, rss_bytes
from bench.pictures import jpeg_of_size, png_of_size
from bench.standins import Records, Standins
from bot.settings import Settings
from tests.kit.payloads import Actor

__all__ = ["IMAGES_MODEL", "POOL_CONNECTIONS", "ROWS", "SCENARIOS", "SIZES", "Result", "Row", "Sizes"]

MIB = 1024 * 1024
Result = dict[str, float | None]
#: What every scenario waits for its own interactions at most; a stuck bot fails the row, not the run.
SCENARIO_TIMEOUT_S = 90.0
DEFAULT_BOUND = int(Settings.model_fields["max_concurrent_jobs"].default)
#: Connections in the HTTP pools: the project's OpenRouter client's (`build_http_client`, which adds 16 for side
#: calls once the bound passes 240, `pool_limits`), the floors' alike.
POOL_CONNECTIONS = 256
_ids = itertools.count(1)


@dataclass(frozen=True)
class Sizes:
    """How big a run is; `full` is the issue's, `quick` shorter, `tiny` for the smoke test."""

    name: str
    upstream_s: float = 2.0
    in_flight: int = 200
    probe_rate: float = 20.0
    probe_s: float = 5.0
    burst: int = 200
    big_image: int = 4 * MIB
    queued_jobs: int = 200
    queued_upstream_s: float = 0.1
    catalog_models: int = 400
    autocomplete_n: int = 300
    config_reads: int = 5000
    cold_reads: int = 200
    describe_runs: int = 5
    attachment_bytes: int = 10 * MIB
    #: The Images API scenario: `burst` commands, each asking for `images_count` images of `images_image` bytes.
    images_count: int = 4
    images_image: int = 1 * MIB
    #: The grid scenario: `burst` grids of `images_count`, each image `grid_image` bytes.
    grid_image: int = 512 * 1024
    #: The scaling scenario's steps: that many concurrent /imagine, one burst after another.
    scaling: tuple[int, ...] = (100, 200, 400, 800)


SIZES = {
    "full": Sizes("full"),
    # Half the load and shorter probes: a check that nothing regressed badly, not figures to hold to the targets.
    "quick": Sizes("quick", in_flight=100, probe_s=2.0, burst=100, queued_jobs=100, queued_upstream_s=0.05,
                   autocomplete_n=100, config_reads=2000, cold_reads=50, describe_runs=2, scaling=(50, 100, 200, 400)),
}
SIZES["tiny"] = replace(
    SIZES["full"], name="tiny", upstream_s=0.05, in_flight=3, probe_s=0.3, burst=4, big_image=64 * 1024,
    queued_jobs=5, queued_upstream_s=0.01, catalog_models=40, autocomplete_n=3, config_reads=20, cold_reads=3,
    describe_runs=1, attachment_bytes=256 * 1024, images_image=16 * 1024, grid_image=16 * 1024, scaling=(2, 3),
)


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure of a scenario and its target (None: shown for information)."""

    scenario: str
    key: str
    label: str
    figure: str
    target: float | None
    unit: str
    #: "<" strictly below the target passes; "<=" at or below.
    compare: str = "<"

    def title(self, sizes: Sizes) -> str:
        """The scenario's label with this run's counts filled in."""
        return self.label.format(**vars(sizes), big_mib=sizes.big_image / MIB, images_mib=sizes.images_image / MIB,
                                 grid_kib=sizes.grid_image / 1024,
                                 attachment_mib=sizes.attachment_bytes / MIB, bound=DEFAULT_BOUND)


_LOAD = "{in_flight} /imagine in flight (upstream {upstream_s:g} s), {probe_rate:g} new/s"
_BURST = "{burst} concurrent /imagine (upstream {upstream_s:g} s)"
_BIG = "{burst} concurrent /imagine, {big_mib:g} MiB PNGs"
_IMAGES = ("{burst} concurrent /imagine count {images_count}, Images API model, "
           "{images_mib:g} MiB images (upstream {upstream_s:g} s)")
_GRID = ("{burst} concurrent grids of {images_count} (/imagine count {images_count}, Images API model, "
         "{grid_kib:g} KiB images, upstream {upstream_s:g} s)")
_BOT_SIDE = "bot-side time p50 (download, decode, scale, encode)"
#: The model of the Images API scenario: served by `POST /images` only (not by the chat route), up to 4 per call.
IMAGES_MODEL = "bytedance-seed/seedream-4.5"

ROWS: tuple[Row, ...] = (
    Row("load", "ttfr_p50", _LOAD, "first response p50", None, "ms"),
    Row("load", "ttfr_p99", _LOAD, "first response p99", 100, "ms"),
    Row("load", "cold_read_p99", _LOAD, "config read of a guild not cached yet, p99", None, "ms"),
    Row("burst", "ttfr_max", "burst of {burst} /imagine at once (upstream {upstream_s:g} s)", "first response max",
        1000, "ms"),
    Row("burst", "e2e_ratio", _BURST, "end-to-end / upstream p50", 1.05, "x", "<="),
    Row("big", "lag_max", _BIG, "event-loop lag max", 50, "ms"),
    Row("big", "e2e_ratio", _BIG, "end-to-end / upstream p50", None, "x"),
    Row("images", "ttfr_max", _IMAGES, "first response max", 1000, "ms"),
    Row("images", "ttfr_p99", _IMAGES, "first response p99", None, "ms"),
    Row("images", "e2e_ratio", _IMAGES, "end-to-end / upstream p50", None, "x"),
    Row("images", "lag_max", _IMAGES, "event-loop lag max", None, "ms"),
    Row("grid", "ttfr_max", _GRID, "first response max", 1000, "ms"),
    Row("grid", "e2e_ratio", _GRID, "end-to-end / upstream p50", None, "x"),
    Row("grid", "rss_growth", _GRID, "peak RSS growth over idle", None, "MB"),
    Row("grid", "lag_max", _GRID, "event-loop lag max", None, "ms"),
    Row("queue", "rss_growth", "{queued_jobs} jobs behind the default bound ({bound}), {big_mib:g} MiB PNGs",
        "peak RSS growth over idle", 300, "MB"),
    Row("autocomplete", "p99", "/config model autocomplete, {catalog_models} models", "reply time p99", 50, "ms"),
    Row("config", "warm_p99", "guild configuration read on the command path", "p99", 1, "ms"),
    Row("config", "cold_p99", "guild configuration read, cache miss (idle)", "p99", None, "ms"),
    Row("describe", "png_p50", "/describe, {attachment_mib:g} MiB PNG (wider than 2048 px)", _BOT_SIDE, 300, "ms"),
    Row("describe", "jpeg_p50", "/describe, {attachment_mib:g} MiB JPEG (camera photo)", _BOT_SIDE, 300, "ms"),
)


# -- helpers ------------------------------------------------------------------------------------


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


async def _sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


async def _gather(tasks: list[asyncio.Task[Any]]) -> None:
    if tasks:
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), SCENARIO_TIMEOUT_S)


async def _warm_up(sut: UnderTest, *, images: int = 1) -> None:
    """One command first, as a bot that has been up a while: caches, pools and lazy imports are warm."""
    options: dict[str, Any] = {"count": images} if images > 1 else {}
    await sut.dispatcher.run(sut.payloads.slash("imagine", Actor("warmup"), prompt="warm up", **options))
    await sut.config_read(sut.payloads.guild_id)


def _image_request() -> dict[str, Any]:
    return {"model": "google/gemini-2.5-flash-image", "modalities": ["image", "text"],
            "messages": [{"role": "user", "content": "a lighthouse at dusk"}], "image_config": {"aspect_ratio": "1:1"}}


class Direct:
    """The direct-httpx floor: the same calls as the bots, with nothing around them."""

    def __init__(self, standins: Standins) -> None:
        self.standins = standins
        # One client per origin, each with the pool limits the project's OpenRouter client uses: httpcore 1.0's
        # pool does work quadratic in its size on every request, so one shared, larger pool would be slower.
        limits = httpx.Limits(max_connections=POOL_CONNECTIONS, max_keepalive_connections=64)
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=10.0), limits=limits)
        self.discord = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=10.0), limits=limits)
        self.auth = {"Authorization": f"Bearer {standins.api_key}"}
        self.sent_at: dict[str, float] = {}

    async def __aenter__(self) -> Direct:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()
        await self.discord.aclose()

    async def callback(self, token: str, body: dict[str, Any] | None = None, *,
                       gate: asyncio.Semaphore | None = None) -> None:
        """An interaction response, as discord.py posts it (the first response of a command)."""
        self.sent_at[token] = time.perf_counter()
        url = f"{self.standins.discord_api_base}/interactions/{next(_ids)}/{token}/callback"
        async with gate or contextlib.nullcontext():
            response = await self.discord.post(url, params={"with_response": "1"},
                                               json=body or {"type": 5, "data": {"flags": 0}})
        response.raise_for_status()

    async def imagine(self) -> bytes:
        """One image generation: the request, the JSON answer, the decoded image."""
        response = await self.http.post(f"{self.standins.openrouter_base}/chat/completions", json=_image_request(),
                                        headers=self.auth)
        response.raise_for_status()
        url = response.json()["choices"][0]["message"]["images"][0]["image_url"]["url"]
        return base64.b64decode(url.partition(",")[2])

    async def images(self, model: str, count: int) -> list[bytes]:
        """One `POST /images` for `count` images (`n`), every `data[].b64_json` decoded."""
        body: dict[str, Any] = {"model": model, "prompt": "a lighthouse at dusk", "aspect_ratio": "1:1"}
        if count > 1:
            body["n"] = count
        response = await self.http.post(f"{self.standins.openrouter_base}/images", json=body, headers=self.auth)
        response.raise_for_status()
        return [base64.b64decode(item["b64_json"]) for item in response.json()["data"]]

    async def generate(self, model: str | None = None, count: int = 1) -> None:
        """A chat-route image (no `model`), or `count` images of an Images API model."""
        if model is None:
            await self.imagine()
        else:
            await self.images(model, count)

    async def timed_generate(self, gate: asyncio.Semaphore | None = None, model: str | None = None,
                             count: int = 1) -> float:
        """One generation (behind `gate`, if any); returns its seconds, waiting for the gate included."""
        begun = time.perf_counter()
        if gate is None:
            await self.generate(model, count)
        else:
            async with gate:
                await self.generate(model, count)
        return time.perf_counter() - begun


def _token(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


# -- 200 in flight, 20 new per second ----------------------------------------------------------------


async def scenario_load(kind: str, sizes: Sizes, standins: Standins, workdir: Path) -> Result:
    """A steady 200 jobs in flight, with probe commands at 20/s whose first response is timed.

    200 members each send /imagine again as soon as their last one finished, started evenly over one
    upstream period so that completions and new commands come as a stream, not in waves: with a 2 s
    upstream that alone is about 100 commands per second. On top of it, probe commands arrive at
    `probe_rate`; the figure is their time to first response (the deferral reaching Discord).
    """
    await standins.configure(latency_s=sizes.upstream_s)
    stop = asyncio.Event()
    in_flight = [0]
    samples: list[int] = []
    cold: list[float] = []
    probes: list[str] = []
    probe_count = max(1, round(sizes.probe_rate * sizes.probe_s))

    if kind == "httpx":
        async with Direct(standins) as direct:
            await direct.imagine()

            async def client(index: int) -> None:
                await asyncio.sleep(index * sizes.upstream_s / sizes.in_flight)
                while not stop.is_set():
                    in_flight[0] += 1
                    await direct.imagine()
                    in_flight[0] -= 1

            clients = [asyncio.create_task(client(index)) for index in range(sizes.in_flight)]
            await asyncio.sleep(sizes.upstream_s + 0.5)
            started, probe_tasks = time.perf_counter(), []
            for number in range(probe_count):
                await _sleep_until(started + number / sizes.probe_rate)
                samples.append(in_flight[0])
                probes.append(_token("probe"))
                probe_tasks.append(asyncio.create_task(direct.callback(probes[-1])))
            stop.set()
            await _gather(clients + probe_tasks)
            sent_at = direct.sent_at
    else:
        async with bot_under_test(kind, standins, workdir, max_concurrent=max(sizes.in_flight, DEFAULT_BOUND),
                                  max_queued=10 * sizes.in_flight) as sut:
            await _warm_up(sut)

            async def member(index: int) -> None:
                await asyncio.sleep(index * sizes.upstream_s / sizes.in_flight)
                actor = Actor(f"member{index}")
                while not stop.is_set():
                    in_flight[0] += 1
                    await sut.dispatcher.run(sut.payloads.slash("imagine", actor, prompt=f"background {index}"))
                    in_flight[0] -= 1

            async def cold_read(guild_id: int) -> None:
                begun = time.perf_counter()
                await sut.config_read(guild_id)
                cold.append(time.perf_counter() - begun)

            members = [asyncio.create_task(member(index)) for index in range(sizes.in_flight)]
            await asyncio.sleep(sizes.upstream_s + 0.5)  # ramp up: every member has a job in flight
            started, probe_tasks = time.perf_counter(), []
            for number in range(probe_count):
                await _sleep_until(started + number / sizes.probe_rate)
                samples.append(in_flight[0])
                payload = sut.payloads.slash("imagine", Actor(f"probe{number}"), prompt=f"probe {number}")
                probes.append(payload["token"])
                probe_tasks += sut.dispatcher.dispatch(payload)
                if sut.forget_config is not None:  # a guild whose first command this is, while busy
                    probe_tasks.append(asyncio.create_task(cold_read(900_000 + number)))
            stop.set()
            await _gather(members + probe_tasks)
            sent_at = sut.dispatcher.sent_at
    records = await standins.records()
    first = records.first_callback()
    ttfr = [first[token] - sent_at[token] for token in probes if token in first]
    every = [first[token] - at for token, at in sent_at.items() if token in first]
    return {
        "ttfr_p50": _ms(percentile(ttfr, 50)), "ttfr_p99": _ms(percentile(ttfr, 99)), "ttfr_max": _ms(max(ttfr)),
        "all_ttfr_p99": _ms(percentile(every, 99)), "commands": len(sent_at), "probes_answered": len(ttfr),
        "probes": len(probes), "in_flight_mean": sum(samples) / len(samples),
        "cold_read_p99": _ms(percentile(cold, 99)) if cold else None,
        "duration_s": sizes.probe_s,
    }


# -- bursts ----------------------------------------------------------------------------------------


async def _burst(kind: str, sizes: Sizes, standins: Standins, workdir: Path, *, count: int,
                 max_concurrent: int, max_queued: int, ticker: LoopTicker | None = None,
                 minimal_gate: int | None = None, model: str | None = None,
                 images: int = 1) -> tuple[Result, dict[str, float], dict[str, float]]:
    """Send `count` /imagine at once; returns extra figures, and per token: first response and delivery.

    `model` (an Images API model) is chosen for the server with `/config model` first, through the tree;
    `images` is each command's `count` option (the direct floor asks `POST /images` for `n` instead).
    """
    extra: Result = {}
    if kind == "httpx":
        gate = asyncio.Semaphore(minimal_gate) if minimal_gate else None
        async with Direct(standins) as direct:
            await direct.generate(model, images)
            idle = _settle_rss()
            reset_peak_rss()
            async with (ticker or LoopTicker()) as ticking:
                extra_step, first, e2e = await _direct_step(direct, standins, count, gate=gate, model=model,
                                                            images=images)
            extra.update(_rss_figures(idle, ticking))
    else:
        async with bot_under_test(kind, standins, workdir, max_concurrent=max_concurrent, max_queued=max_queued,
                                  minimal_gate=minimal_gate) as sut:
            if model is not None:
                await _choose_model(sut, model)
            await _warm_up(sut, images=images)
            idle = _settle_rss()
            reset_peak_rss()
            async with (ticker or LoopTicker()) as ticking:
                extra_step, first, e2e = await _bot_step(sut, standins, count, "burst", images=images)
            extra.update(_rss_figures(idle, ticking))
    extra.update(extra_step)
    extra["lag_max"] = _ms(ticking.max_lag)
    return extra, first, e2e


async def _choose_model(sut: UnderTest, model: str) -> None:
    """`/config model` for /imagine, by the server's admin, through the bot's command tree."""
    await sut.dispatcher.run(sut.payloads.slash("config model", sut.payloads.admin, operation="imagine", model=model))
    chosen = await sut.config_read(sut.payloads.guild_id)
    if (chosen if isinstance(chosen, str) else getattr(chosen, "model", None)) != model:
        raise RuntimeError(f"/config model did not set {model} (reads {chosen!r})")


async def _bot_step(sut: UnderTest, standins: Standins, count: int, prefix: str, *,
                    images: int = 1) -> tuple[Result, dict[str, float], dict[str, float]]:
    """`count` /imagine dispatched at once, each from a member of its own, and waited for."""
    options: dict[str, Any] = {"count": images} if images > 1 else {}
    payloads = [sut.payloads.slash("imagine", Actor(f"{prefix}{number}"), prompt=f"{prefix} {number}", **options)
                for number in range(count)]
    tasks: list[asyncio.Task[Any]] = []
    for payload in payloads:
        tasks += sut.dispatcher.dispatch(payload)
    await _gather(tasks)
    sent_at = {payload["token"]: sut.dispatcher.sent_at[payload["token"]] for payload in payloads}
    records = await standins.records()
    first = {token: at - sent_at[token] for token, at in records.first_callback().items() if token in sent_at}
    done = {token: at for token, at in records.last_delivery(with_files=True).items() if token in sent_at}
    e2e = {token: at - sent_at[token] for token, at in done.items()}
    return {**_upstream_figures(records, min(sent_at.values()), count), "delivered": len(e2e)}, first, e2e


async def _direct_step(direct: Direct, standins: Standins, count: int, *, gate: asyncio.Semaphore | None = None,
                       model: str | None = None, images: int = 1) -> tuple[Result, dict[str, float], dict[str, float]]:
    """The floor of each figure on its own: first the answers at once, then the upstream calls at once."""
    tokens = [_token("burst") for _ in range(count)]
    await _gather([asyncio.create_task(direct.callback(token, gate=gate)) for token in tokens])
    began = time.perf_counter()
    calls = [asyncio.create_task(direct.timed_generate(gate, model, images)) for _ in tokens]
    await _gather(calls)
    records = await standins.records()
    sent_at = {token: direct.sent_at[token] for token in tokens if token in direct.sent_at}
    first = {token: at - sent_at[token] for token, at in records.first_callback().items() if token in sent_at}
    e2e = {token: call.result() for token, call in zip(tokens, calls, strict=True)
           if call.done() and not call.cancelled() and call.exception() is None}
    return {**_upstream_figures(records, began, count), "delivered": len(e2e)}, first, e2e


def _upstream_figures(records: Records, began: float, count: int) -> Result:
    """When the upstream requests of a burst begun at `began` arrived: the median and last, in ms after it."""
    arrivals = [at - began for at in records.generation_arrivals() if at >= began]
    return {"sent": count, "upstream_calls": len(arrivals),
            "images_calls": sum(1 for at in records.generation_arrivals("/images") if at >= began),
            "upstream_start_p50": _ms(percentile(arrivals, 50)) if arrivals else None,
            "upstream_start_max": _ms(max(arrivals)) if arrivals else None}


def _settle_rss() -> int:
    gc.collect()
    return rss_bytes()


def _rss_figures(idle: int, ticker: LoopTicker) -> Result:
    peak = max(peak_rss_bytes(), ticker.max_rss)
    return {"rss_idle": idle / 1e6, "rss_growth": (peak - idle) / 1e6, "rss_after": (_settle_rss() - idle) / 1e6}


async def scenario_burst(kind: str, sizes: Sizes, standins: Standins, workdir: Path) -> Result:
    """200 /imagine at once with the bound raised to 200: first-response max, end-to-end over upstream."""
    await standins.configure(latency_s=sizes.upstream_s)
    extra, first, e2e = await _burst(kind, sizes, standins, workdir, count=sizes.burst,
                                     max_concurrent=max(sizes.burst, DEFAULT_BOUND), max_queued=10 * sizes.burst)
    return {**extra, "ttfr_max": _ms(max(first.values(), default=None)),
            "ttfr_p50": _ms(percentile(list(first.values()), 50)),
            "e2e_ratio": percentile(list(e2e.values()), 50) / sizes.upstream_s if e2e else None,
            "e2e_p50": _ms(percentile(list(e2e.values()), 50)), "e2e_max": _ms(max(e2e.values(), default=None))}


async def scenario_big(kind: str, sizes: Sizes, standins: Standins, workdir: Path) -> Result:
    """The same burst with every answer a 4 MiB PNG; a ticker measures how long the loop is held."""
    await standins.configure(latency_s=sizes.upstream_s, image_bytes=png_of_size(sizes.big_image, fast=True))
    extra, first, e2e = await _burst(kind, sizes, standins, workdir, count=sizes.burst,
                                     max_concurrent=max(sizes.burst, DEFAULT_BOUND), max_queued=10 * sizes.burst,
                                     ticker=LoopTicker())
    return {**extra, "ttfr_max": _ms(max(first.values(), default=None)),
            "e2e_ratio": percentile(list(e2e.values()), 50) / sizes.upstream_s if e2e else None,
            "e2e_p50": _ms(percentile(list(e2e.values()), 50))}


def _timing_figures(first: dict[str, float], e2e: dict[str, float], upstream_s: float) -> Result:
    """First response p50/p99/max and end to end p50/max (ms), and end to end over the upstream's latency."""
    firsts, ends = list(first.values()), list(e2e.values())
    return {"ttfr_p50": _ms(percentile(firsts, 50)) if firsts else None,
            "ttfr_p99": _ms(percentile(firsts, 99)) if firsts else None,
            "ttfr_max": _ms(max(firsts, default=None)),
            "e2e_ratio": percentile(ends, 50) / upstream_s if ends else None,
            "e2e_p50": _ms(percentile(ends, 50)) if ends else None, "e2e_max": _ms(max(ends, default=None))}


async def scenario_images(kind: str, sizes: Sizes, standins: Standins, workdir: Path) -> Result:
    """200 /imagine at once with `count` 4 on a model only the Images API serves, each image 1 MiB.

    The server's /imagine model is set with `/config model` through the tree first (both bots), so each
    command is one `POST /images` with `n` 4 whose answer carries four 1 MiB PNGs (5.6 MB of JSON),
    then one upload of four files; the direct floor makes the same calls with httpx.
    """
    await standins.configure(latency_s=sizes.upstream_s, image_bytes=png_of_size(sizes.images_image, fast=True))
    extra, first, e2e = await _burst(kind, sizes, standins, workdir, count=sizes.burst,
                                     max_concurrent=max(sizes.burst, DEFAULT_BOUND), max_queued=10 * sizes.burst,
                                     ticker=LoopTicker(), model=IMAGES_MODEL, images=sizes.images_count)
    return {**extra, **_timing_figures(first, e2e, sizes.upstream_s)}


async def scenario_grid(kind: str, sizes: Sizes, standins: Standins, workdir: Path) -> Result:
    """200 grids of 4 at once: /imagine count 4 on a model only the Images API serves, 512 KiB images.

    The project delivers each as one Components V2 message (a media gallery of its four uploads, the text,
    20 buttons), checked by the stand-in as Discord checks it; the minimal bot uploads the same four files
    in one plain message. `grids` counts the project's deliveries that were accepted grids of four.
    """
    await standins.configure(latency_s=sizes.upstream_s, image_bytes=png_of_size(sizes.grid_image, fast=True))
    extra, first, e2e = await _burst(kind, sizes, standins, workdir, count=sizes.burst,
                                     max_concurrent=max(sizes.burst, DEFAULT_BOUND), max_queued=10 * sizes.burst,
                                     ticker=LoopTicker(), model=IMAGES_MODEL, images=sizes.images_count)
    grids = (await standins.records()).grids(sizes.images_count) if kind != "httpx" else {}
    accepted = sum(1 for token, ok in grids.items() if ok and token in e2e)  # the burst's, not the warm-up's
    return {**extra, **_timing_figures(first, e2e, sizes.upstream_s), "grids": float(accepted)}


async def scenario_scaling(kind: str, sizes: Sizes, standins: Standins, workdir: Path) -> Result:
    """100, 200, 400 and 800 concurrent /imagine, each step the burst scenario at that count.

    Every command of a step at once (upstream 2 s, small images), waited for to the last delivery;
    figures are keyed by step (`e2e_ratio_400`, `ttfr_p99_800`, ...). Each step starts a fresh bot (and
    the direct floor a fresh client), warmed up with one command as in the burst scenario: httpcore
    1.0's pool handles a burst much worse when it already holds many idle connections (requests are all
    offered the same idle connection, fail over and retry), and a step must not inherit the previous
    one's pool. The project's OpenRouter client's pool holds `POOL_CONNECTIONS` (256) connections, as
    do the floors', so from 400 on part of the calls must wait, and every target waits in front of the
    pool: the project in its own queue (its bound is raised to the step, up to the pool's size), the
    floors behind a semaphore of that size (around the upstream call, and the direct floor's answers
    to Discord too). httpcore's pool does work for every waiting request on every change: 800 requests
    at once in it take a bare httpx client ~18 s to send, and the project with a bound of 800 gets
    3.6x the upstream's latency against the floor's 2.7x.
    """
    await standins.configure(latency_s=sizes.upstream_s)
    result: Result = {}

    def add(step: int, figures: Result, first: dict[str, float], e2e: dict[str, float]) -> None:
        for key, value in {**figures, **_timing_figures(first, e2e, sizes.upstream_s)}.items():
            if key != "sent":
                result[f"{key}_{step}"] = value

    for step in sizes.scaling:
        if kind == "httpx":
            async with Direct(standins) as direct:
                await direct.imagine()
                add(step, *await _direct_step(direct, standins, step, gate=asyncio.Semaphore(POOL_CONNECTIONS)))
        else:
            bound = max(min(step, POOL_CONNECTIONS), DEFAULT_BOUND)
            async with bot_under_test(kind, standins, workdir / f"step-{step}", minimal_gate=POOL_CONNECTIONS,
                                      max_concurrent=bound, max_queued=10 * step) as sut:
                await _warm_up(sut)
                add(step, *await _bot_step(sut, standins, step, f"scale{step}-"))
        await _pause_between_steps()
    return result


async def _pause_between_steps() -> None:
    """Let the last step's closing work (connections, logs, garbage) settle before the next burst."""
    gc.collect()
    await asyncio.sleep(0.3)


async def scenario_queue(kind: str, sizes: Sizes, standins: Standins, workdir: Path) -> Result:
    """200 jobs at once behind the default concurrency bound (8); peak RSS growth over the idle bot."""
    await standins.configure(latency_s=sizes.queued_upstream_s, image_bytes=png_of_size(sizes.big_image, fast=True))
    extra, _first, e2e = await _burst(kind, sizes, standins, workdir, count=sizes.queued_jobs,
                                      max_concurrent=DEFAULT_BOUND, max_queued=sizes.queued_jobs,
                                      minimal_gate=DEFAULT_BOUND)
    return {**extra, "e2e_max": _ms(max(e2e.values(), default=None))}


# -- autocomplete and configuration ---------------------------------------------------------------------

_QUERIES = ("", "g", "gem", "gemini", "flux", "openai/", "image", "acme", "vision 1", "zzz", "turbo-3", "pro",
            "google/gemini-2.5-flash-image", "st", "hooli/coder")


async def scenario_autocomplete(kind: str, sizes: Sizes, standins: Standins, workdir: Path) -> Result:
    """Keystrokes in `/config model`'s model option, one after another, over a catalog of 400 models."""
    await standins.configure(models=sizes.catalog_models)
    tokens: list[str] = []
    if kind == "httpx":
        async with Direct(standins) as direct:
            choices = [{"name": f"Model {n}", "value": f"acme/model-{n}"} for n in range(25)]
            for _ in range(sizes.autocomplete_n + 1):
                tokens.append(_token("auto"))
                await direct.callback(tokens[-1], {"type": 8, "data": {"choices": choices}})
            sent_at = direct.sent_at
            catalog = sizes.catalog_models
    else:
        async with bot_under_test(kind, standins, workdir) as sut:
            bot = sut.extras.get("bot")
            catalog = len(bot.catalog.current.models) if bot is not None else len(sut.client.model_ids)  # type: ignore[attr-defined]
            for number in range(sizes.autocomplete_n + 1):  # the first one warms up and is not counted
                payload = sut.payloads.autocomplete("config model", "model", sut.payloads.admin, operation="imagine",
                                                    model=_QUERIES[number % len(_QUERIES)])
                tokens.append(payload["token"])
                await sut.dispatcher.run(payload)
            sent_at = sut.dispatcher.sent_at
    first = (await standins.records()).first_callback()
    times = [first[token] - sent_at[token] for token in tokens[1:] if token in first]
    return {"p50": _ms(percentile(times, 50)), "p99": _ms(percentile(times, 99)), "answered": len(times),
            "catalog": catalog}


async def scenario_config(kind: str, sizes: Sizes, standins: Standins, workdir: Path) -> Result:
    """The configuration read every command does first: cached (warm) and, for the project, a cache miss."""
    if kind == "httpx":
        return {"warm_p99": None, "cold_p99": None}
    async with bot_under_test(kind, standins, workdir) as sut:
        guild = sut.payloads.guild_id
        await sut.config_read(guild)
        warm = []
        for _ in range(sizes.config_reads):
            begun = time.perf_counter()
            await sut.config_read(guild)
            warm.append(time.perf_counter() - begun)
        cold = []
        if sut.forget_config is not None:
            for _ in range(sizes.cold_reads):
                sut.forget_config()
                begun = time.perf_counter()
                await sut.config_read(guild)
                cold.append(time.perf_counter() - begun)
    return {"warm_p50": _ms(percentile(warm, 50)), "warm_p99": _ms(percentile(warm, 99)),
            "cold_p99": _ms(percentile(cold, 99)) if cold else None}


# -- /describe ------------------------------------------------------------------------------------------


def _small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


async def scenario_describe(kind: str, sizes: Sizes, standins: Standins, workdir: Path) -> Result:
    """`/describe` with a 10 MiB attachment: time from the command to its upstream request arriving.

    That span is the bot's own work on the image (download from the CDN stand-in, decode, scale,
    re-encode, base64, send); the upstream answers at once, so the end-to-end time is shown as well.
    """
    await standins.configure(latency_s=0.0)
    images = {"png": (png_of_size(sizes.attachment_bytes, aspect=16 / 9), "image/png", "screenshot.png"),
              "jpeg": (jpeg_of_size(sizes.attachment_bytes), "image/jpeg", "photo.jpg")}
    result: Result = {}
    if kind == "httpx":
        async with Direct(standins) as direct:
            for label, (data, content_type, filename) in images.items():
                bot_side = []
                for _ in range(sizes.describe_runs + 1):  # the first run warms up and is not counted
                    url = await standins.host_attachment(filename, data, content_type)
                    before = len((await standins.records()).chat_arrivals())
                    begun = time.perf_counter()
                    downloaded = (await direct.http.get(url)).content
                    data_url = f"data:{content_type};base64,{base64.b64encode(downloaded).decode('ascii')}"
                    body = {"model": "google/gemini-2.5-flash", "messages": [{"role": "user", "content": [
                        {"type": "text", "text": "Describe this image."},
                        {"type": "image_url", "image_url": {"url": data_url}}]}]}
                    (await direct.http.post(f"{standins.openrouter_base}/chat/completions", json=body,
                                            headers=direct.auth)).raise_for_status()
                    bot_side.append((await standins.records()).chat_arrivals()[before] - begun)
                result[f"{label}_p50"] = _ms(percentile(bot_side[1:], 50))
                result[f"{label}_max"] = _ms(max(bot_side[1:]))
        return result
    async with bot_under_test(kind, standins, workdir) as sut:
        small = _small_png()
        url = await standins.host_attachment("warmup.png", small, "image/png")
        attachment = sut.payloads.attachment("warmup.png", small, "image/png", url=url, width=64, height=64)
        await sut.dispatcher.run(sut.payloads.slash("describe", Actor("warmup"), image=attachment))
        for label, (data, content_type, filename) in images.items():
            bot_side, e2e = [], []
            with Image.open(io.BytesIO(data)) as opened:
                width, height = opened.size
            for run in range(sizes.describe_runs):
                url = await standins.host_attachment(filename, data, content_type)
                attachment = sut.payloads.attachment(filename, data, content_type, url=url, width=width,
                                                     height=height)
                payload = sut.payloads.slash("describe", Actor(f"describe-{label}-{run}"), image=attachment)
                before = len((await standins.records()).chat_arrivals())
                await sut.dispatcher.run(payload)
                records = await standins.records()
                arrivals = records.chat_arrivals()
                began = sut.dispatcher.sent_at[payload["token"]]
                if len(arrivals) > before:
                    bot_side.append(arrivals[before] - began)
                delivered = records.last_delivery(with_files=False).get(payload["token"])
                if delivered is not None:
                    e2e.append(delivered - began)
            result[f"{label}_p50"] = _ms(percentile(bot_side, 50)) if bot_side else None
            result[f"{label}_max"] = _ms(max(bot_side)) if bot_side else None
            result[f"{label}_e2e_p50"] = _ms(percentile(e2e, 50)) if e2e else None
    return result


Scenario = Callable[[str, Sizes, Standins, Path], Awaitable[Result]]

SCENARIOS: dict[str, Scenario] = {
    "load": scenario_load,
    "burst": scenario_burst,
    "big": scenario_big,
    "images": scenario_images,
    "grid": scenario_grid,
    "scaling": scenario_scaling,
    "queue": scenario_queue,
    "autocomplete": scenario_autocomplete,
    "config": scenario_config,
    "describe": scenario_describe,
}

TARGETS = ("project", "minimal", "httpx")


def describe_result(result: Result) -> str:
    """A compact one-line rendering of every figure of a result, for the notes under the table."""
    parts = []
    for key, value in result.items():
        if isinstance(value, float):
            parts.append(f"{key}={value:.3g}")
        else:
            parts.append(f"{key}={json.dumps(value)}")
    return ", ".join(parts)
