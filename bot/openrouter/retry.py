"""When and how long to wait before trying an upstream call again.

Only failures that can pass on their own are retried (408, 429, 5xx, dropped connections, our own
time-outs); a bad key, no credits, moderation or an unknown model never gets better by asking again.
The delay grows exponentially with jitter, honours `Retry-After`, and the whole sequence is bounded
both in attempts and in total time, so a member is never kept waiting indefinitely.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from bot.openrouter.errors import OpenRouterError, RateLimitedError

__all__ = ["RetryCallback", "RetryPolicy"]

#: Called before each wait: (attempt that failed, attempts allowed, seconds until the next try).
RetryCallback = Callable[[int, int, float], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds and pacing of retries."""

    max_attempts: int = 3
    max_total_s: float = 60.0
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0

    def delay_after(self, attempt: int, error: OpenRouterError, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_delay_s)
        backoff = min(self.base_delay_s * 2 ** (attempt - 1), self.max_delay_s)
        return backoff * (0.5 + (rng or random).random())

    def should_retry(self, attempt: int, error: OpenRouterError, elapsed_s: float, delay_s: float) -> bool:
        """Whether another attempt is allowed and still fits in the time budget."""
        return error.retryable and attempt < self.max_attempts and elapsed_s + delay_s <= self.max_total_s
