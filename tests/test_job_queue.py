"""Unit tests of the job queue's bookkeeping under cancellation races."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs.queue import JobQueue, MemberBusy, QueueFull


async def test_a_waiter_cancelled_as_a_slot_frees_does_not_break_the_release() -> None:
    queue = JobQueue(max_concurrent=1, max_queued=10, max_per_member=1)
    running = queue.admit("A")
    await running.acquire()
    waiting = queue.admit("B")
    waiter = asyncio.create_task(waiting.acquire())
    await asyncio.sleep(0)  # B is in line
    third = queue.admit("C")
    behind = asyncio.create_task(third.acquire())
    await asyncio.sleep(0)

    waiter.cancel()  # B's wait is cancelled but its task has not run yet ...
    running.release()  # ... when A frees the slot in the same step: the slot must go to C
    with pytest.raises(asyncio.CancelledError):
        await waiter
    waiting.release()
    await asyncio.wait_for(behind, 1)
    assert queue.running == 1 and queue.waiting == 0
    assert queue.jobs_of("A") == 0 and queue.jobs_of("B") == 0 and queue.jobs_of("C") == 1
    third.release()
    assert queue.running == 0 and queue.jobs_of("C") == 0


async def test_limits_are_enforced_at_admission() -> None:
    queue = JobQueue(max_concurrent=1, max_queued=1, max_per_member=1)
    first = queue.admit("A")
    await first.acquire()
    with pytest.raises(MemberBusy):
        queue.admit("A")
    second = queue.admit("B")
    task = asyncio.create_task(second.acquire())
    await asyncio.sleep(0)
    with pytest.raises(QueueFull):
        queue.admit("C")
    first.release()
    await task
    second.release()
    assert queue.running == 0 and queue.waiting == 0


async def test_the_line_keeps_admission_order_whoever_reaches_it_first() -> None:
    queue = JobQueue(max_concurrent=1, max_queued=10, max_per_member=0)
    running = queue.admit("A")
    await running.acquire()
    first, second, third = queue.admit("B"), queue.admit("C"), queue.admit("D")
    positions: dict[str, list[int]] = {"B": [], "C": [], "D": []}
    # C and D finish deferring before B does: they reach the line first.
    waiting_c = asyncio.create_task(second.acquire(positions["C"].append))
    waiting_d = asyncio.create_task(third.acquire(positions["D"].append))
    await asyncio.sleep(0)
    waiting_b = asyncio.create_task(first.acquire(positions["B"].append))
    await asyncio.sleep(0)
    assert positions == {"B": [1], "C": [1, 2], "D": [2, 3]}, "B, admitted first, stands first"
    started: list[str] = []
    for name, task, ticket in (("B", waiting_b, first), ("C", waiting_c, second), ("D", waiting_d, third)):
        running.release()
        await asyncio.wait_for(task, 1)
        started.append(name)
        running = ticket
    running.release()
    assert started == ["B", "C", "D"]
