"""Per-member cooldowns per operation, as server admins set them with `/config cooldown`.

Kept in memory: a cooldown is about seconds or minutes, a restart forgiving one is harmless, and a
check on every command must cost nothing. Each entry holds when it ends, so expired ones are simply
ignored and swept out once the table grows.

Per process, also on a PostgreSQL database shared by several: a guild lives on one shard, so its
members' commands reach one process. Only while a guild moves between processes (a re-shard, a rolling
restart) can a member get one extra use in, which is what a cooldown is for anyway; budgets, which
guard money, hold across processes instead (`bot.storage.reservations`). The cooldown *setting* is
guild configuration and reaches every process at once (`bot.storage.guild_config`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable

from bot.errors import UserFacingError
from bot.messages.jobs import ON_COOLDOWN

__all__ = ["Cooldowns", "OnCooldown"]

_SWEEP_AT = 10_000


class OnCooldown(UserFacingError):
    """The member used this operation too recently."""

    title = ON_COOLDOWN.title

    def __init__(self, command: str, remaining_s: float, cooldown_s: int) -> None:
        super().__init__(ON_COOLDOWN.format(command=command, remaining=math.ceil(remaining_s), cooldown=cooldown_s))
        self.remaining_s = remaining_s


class Cooldowns:
    """When each (guild, member, operation) may next start a job."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[Hashable, float] = {}

    def check(self, key: Hashable, cooldown_s: int, command: str) -> None:
        """Raise OnCooldown if the member's cooldown for this key has not run out."""
        if cooldown_s <= 0:
            return
        remaining = self._until.get(key, 0.0) - self._clock()
        if remaining > 0:
            raise OnCooldown(command, remaining, cooldown_s)

    def start(self, key: Hashable, cooldown_s: int) -> None:
        """Begin the cooldown after a job was admitted."""
        if cooldown_s <= 0:
            return
        now = self._clock()
        if len(self._until) >= _SWEEP_AT:
            self._until = {k: until for k, until in self._until.items() if until > now}
        self._until[key] = now + cooldown_s

    def cancel(self, key: Hashable) -> None:
        """Forget a cooldown that was started for a job that was then refused."""
        self._until.pop(key, None)
