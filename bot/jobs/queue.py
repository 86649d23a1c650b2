"""A fair, bounded gate in front of the upstream.

FIFO order, a global concurrency bound, a limit of running jobs per member, and a cap on how many may wait.

Admission is synchronous (`admit()` raises at once), so a command can refuse before it sends
anything to Discord; waiting is separate (`Ticket.acquire()`), so the command can defer in between.
Waiters learn their position whenever it changes (the callback is synchronous and cheap: callers
throttle what they show). Cancelling a waiting job removes it and moves everyone behind it up.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Hashable

from bot.errors import UserFacingError
from bot.messages import jobs as texts

__all__ = ["JobQueue", "MemberBusy", "PositionCallback", "QueueFull", "Ticket"]

PositionCallback = Callable[[int], None]

#: The "member" of an extra-call slot: it belongs to a job whose member is already counted.
_EXTRA = object()


class MemberBusy(UserFacingError):
    """The member already has as many jobs running or waiting as allowed."""

    title = texts.MEMBER_BUSY_TITLE

    def __init__(self, limit: int) -> None:
        super().__init__(texts.member_busy(limit))
        self.limit = limit


class QueueFull(UserFacingError):
    """Too many jobs are waiting; refusing beats an unbounded queue."""

    title = texts.QUEUE_FULL.title

    def __init__(self, ahead: int) -> None:
        super().__init__(texts.QUEUE_FULL.format(ahead=ahead))
        self.ahead = ahead


class Ticket:
    """One admitted job's claim on a slot; release it exactly once, whatever happened."""

    def __init__(self, queue: JobQueue, member: Hashable, order: int = 0) -> None:
        self._queue = queue
        self.member = member
        #: Admission order: the line is kept in it, whichever job finished deferring first.
        self.order = order
        self.on_position: PositionCallback | None = None
        self._ready: asyncio.Future[None] | None = None
        self._holding = False
        self._released = False
        #: A slot for an admitted job's extra call (`take_free_slots`): no member or queue accounting.
        self._extra = False

    async def acquire(self, on_position: PositionCallback | None = None) -> None:
        """Wait for a slot, first come first served."""
        self.on_position = on_position
        queue = self._queue
        if queue._running < queue.max_concurrent and not queue._waiting:
            queue._running += 1
            self._holding = True
            return
        self._ready = asyncio.get_running_loop().create_future()
        position = len(queue._waiting)
        while position > 0 and queue._waiting[position - 1].order > self.order:
            position -= 1  # someone admitted later got here first (a faster defer): stand in front of them
        queue._waiting.insert(position, self)
        if position == len(queue._waiting) - 1:
            self._announce(position + 1)
        else:
            queue._announce_from(position)
        try:
            await self._ready
        except asyncio.CancelledError:
            if not self._holding:
                queue._remove(self)
            raise

    def release(self) -> None:
        """Give the slot (or the place in the queue) back and wake the next waiter."""
        if self._released:
            return
        self._released = True
        queue = self._queue
        if self._extra:
            self._holding = False
            queue._running -= 1
            queue._admit_next()
            return
        queue._admitted -= 1
        try:
            if self._holding:
                self._holding = False
                queue._running -= 1
                queue._admit_next()
            else:
                queue._remove(self)
        finally:
            remaining = queue.jobs_of(self.member) - 1
            if remaining > 0:
                queue._per_member[self.member] = remaining
            else:
                queue._per_member.pop(self.member, None)

    @property
    def _can_be_admitted(self) -> bool:
        """False for a waiter whose wait was cancelled but whose task has not yet run to leave the line."""
        return self._ready is not None and not self._ready.done()

    def _admit(self) -> None:
        self._holding = True
        assert self._ready is not None
        self._ready.set_result(None)

    def _announce(self, position: int) -> None:
        if self.on_position is not None:
            self.on_position(position)


class JobQueue:
    """Admits at most `max_concurrent` jobs at once; the rest wait in arrival order."""

    def __init__(self, *, max_concurrent: int, max_queued: int, max_per_member: int) -> None:
        self.max_concurrent = max_concurrent
        self.max_queued = max_queued
        self.max_per_member = max_per_member
        self._running = 0
        #: Tickets handed out and not yet released: running, waiting, and those still between `admit()`
        #: and `acquire()` (deferring, loading their images). The cap counts all of them, or a burst that
        #: arrives before any ticket reached the line would all be let in.
        self._admitted = 0
        self._admissions = 0
        self._waiting: deque[Ticket] = deque()
        self._per_member: dict[Hashable, int] = {}

    @property
    def running(self) -> int:
        """Jobs holding a slot now."""
        return self._running

    @property
    def waiting(self) -> int:
        """Jobs waiting for a slot."""
        return len(self._waiting)

    @property
    def admitted(self) -> int:
        """Jobs admitted and not yet released, wherever they are between admission and the end."""
        return self._admitted

    def jobs_of(self, member: Hashable) -> int:
        """Jobs a member has admitted (running or waiting)."""
        return self._per_member.get(member, 0)

    def admit(self, member: Hashable) -> Ticket:
        """Decide at once whether a job may join; raise MemberBusy or QueueFull if not."""
        if self.max_per_member and self.jobs_of(member) >= self.max_per_member:
            raise MemberBusy(self.max_per_member)
        if self._admitted >= self.max_concurrent + self.max_queued:
            raise QueueFull(max(self._admitted - self.max_concurrent, 0))
        self._admitted += 1
        self._admissions += 1
        self._per_member[member] = self.jobs_of(member) + 1
        return Ticket(self, member, self._admissions)

    def take_free_slots(self, wanted: int) -> list[Ticket]:
        """Up to `wanted` slots that are free right now, for the extra calls of an admitted job.

        Never waits: a job that already holds a slot and waited for more could deadlock with others
        doing the same. Nobody in line is passed over (none are taken while anyone waits), and the
        tickets count against the concurrency bound only, not the member's or the queue's.
        """
        taken: list[Ticket] = []
        while len(taken) < wanted and self._running < self.max_concurrent and not self._waiting:
            ticket = Ticket(self, _EXTRA)
            ticket._holding = True
            ticket._extra = True
            self._running += 1
            taken.append(ticket)
        return taken

    def _remove(self, ticket: Ticket) -> None:
        try:
            index = self._waiting.index(ticket)
        except ValueError:
            return
        del self._waiting[index]
        self._announce_from(index)

    def _admit_next(self) -> None:
        while self._waiting and self._running < self.max_concurrent:
            ticket = self._waiting.popleft()
            if not ticket._can_be_admitted:
                continue  # cancelled while waiting: it leaves the line itself, the slot goes on
            self._running += 1
            ticket._admit()
            self._announce_from(0)
            return

    def _announce_from(self, index: int) -> None:
        for position in range(index, len(self._waiting)):
            self._waiting[position]._announce(position + 1)
