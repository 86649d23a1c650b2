"""Measuring tools: percentiles, an event-loop lag ticker, and resident memory from /proc."""

from __future__ import annotations

import asyncio
import contextlib
import math
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LoopTicker", "percentile", "reset_peak_rss", "rss_bytes", "peak_rss_bytes"]

_STATUS = Path("/proc/self/status")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _status_kib(field_name: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_bytes() -> int:
    """Resident set size now (VmRSS), or the lifetime peak from getrusage where /proc is missing."""
    kib = _status_kib("VmRSS")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024


def peak_rss_bytes() -> int:
    """Peak resident set size (VmHWM) since the process started or since `reset_peak_rss()`."""
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs); False if not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class LoopTicker:
    """A task that sleeps `interval_s` again and again and records how late each wake-up was.

    Lateness is the event-loop lag: the time some callback held the loop past the moment the ticker
    was due. It also samples RSS every `rss_every` ticks, which catches peaks between reads.
    """

    interval_s: float = 0.005
    rss_every: int = 10
    lags: list[float] = field(default_factory=list)
    rss_samples: list[int] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopTicker:
        self._task = asyncio.create_task(self._run(), name="bench-loop-ticker")
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        ticks = 0
        while True:
            due = time.perf_counter() + self.interval_s
            await asyncio.sleep(self.interval_s)
            self.lags.append(max(0.0, time.perf_counter() - due))
            ticks += 1
            if ticks % self.rss_every == 0:
                self.rss_samples.append(rss_bytes())

    @property
    def max_lag(self) -> float:
        """The worst lateness seen, in seconds."""
        return max(self.lags, default=0.0)

    @property
    def max_rss(self) -> int:
        """The largest RSS sampled, in bytes."""
        return max(self.rss_samples, default=0)


class StallSampler:
    """Finds what holds the event loop: a thread samples the loop thread's stack while the loop is late.

    The loop bumps a heartbeat every `beat_s`; when the heartbeat is older than `threshold_s`, the
    sampler records the loop thread's innermost frames every `every_s`. `top()` counts the samples by
    stack, so the callers that keep the loop busy come first. A diagnosis tool (`python -m
    bench.stalls`), not part of the figures.
    """

    def __init__(self, *, beat_s: float = 0.002, threshold_s: float = 0.02, every_s: float = 0.002,
                 depth: int = 8) -> None:
        import threading

        self.beat_s, self.threshold_s, self.every_s, self.depth = beat_s, threshold_s, every_s, depth
        self.samples: dict[tuple[str, ...], int] = {}
        self._heartbeat = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True, name="bench-stall-sampler")
        self._loop_thread = threading.get_ident()
        self._beat: asyncio.Task[None] | None = None

    async def __aenter__(self) -> StallSampler:
        self._loop_thread = __import__("threading").get_ident()
        self._beat = asyncio.create_task(self._beats())
        self._thread.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
        self._thread.join(1.0)

    async def _beats(self) -> None:
        while True:
            self._heartbeat = time.perf_counter()
            await asyncio.sleep(self.beat_s)

    def _sample(self) -> None:
        import sys

        while not self._stop.wait(self.every_s):
            if time.perf_counter() - self._heartbeat < self.threshold_s:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            stack: list[str] = []
            while frame is not None and len(stack) < self.depth:
                code = frame.f_code
                stack.append(f"{Path(code.co_filename).name}:{frame.f_lineno}:{code.co_name}")
                frame = frame.f_back
            key = tuple(stack)
            self.samples[key] = self.samples.get(key, 0) + 1

    def top(self, count: int = 15) -> list[tuple[int, tuple[str, ...]]]:
        """The most sampled stacks while the loop was late, innermost frame first."""
        ranked = sorted(((hits, stack) for stack, hits in self.samples.items()), reverse=True)
        return ranked[:count]
