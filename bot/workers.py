"""A small thread pool of the bot's own for CPU-heavy image work (decode, scale, re-encode, parse).

`asyncio.to_thread` uses the loop's default executor, which is also where `getaddrinfo` runs for
every outgoing connection (httpx, aiohttp). A few large decodes there would make DNS look-ups, and
so every download and upstream call, wait behind them. Image work gets its own pool instead, sized
to the machine's cores: more threads than cores would only make each decode slower (Pillow holds
the GIL for part of the work) while using more memory at once.

The pool is created on first use and shut down when the bot closes; threads start lazily, so
importing this module costs nothing.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["cpu_pool_size", "run_cpu", "shutdown_cpu_pool"]

P = ParamSpec("P")
T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None


def cpu_pool_size() -> int:
    """Threads for image work: one per core this process may use, at least 1 and at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=cpu_pool_size(), thread_name_prefix="image-work")
    return _pool


async def run_cpu(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `func` on the image pool and wait for it without blocking the event loop.

    `func` runs in a copy of the caller's context, as `asyncio.to_thread` would run it: what it words
    (a note on a re-encoded image) is in the member's language (`bot.i18n`'s context variable).
    """
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    return await loop.run_in_executor(_executor(), functools.partial(context.run, func, *args, **kwargs))


def shutdown_cpu_pool() -> None:
    """Let the pool's threads end (the next `run_cpu` makes a new pool, as after a restart in tests)."""
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False)
