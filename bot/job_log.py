"""One log line per finished job, the same shape whichever command or button ran it.

Operators read these lines (text) or query them (`LOG_FORMAT=json`, where every field below is its
own typed key) to see who uses what, what it costs and where the time goes: `upstream_ms` is the
model's share, `total_ms` adds the queue wait, image processing and the upload to Discord.

Only ids, names and numbers go in: never the prompt, a secret or image data. The line is written by
whoever finishes a job (see `log_finished_job`, meant for the job service's `finally`), so a job
that fails or is cancelled is counted as well as one that succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.jobs.service import Job

__all__ = ["JOB_LOGGER", "JobStatus", "job_status", "log_finished_job", "log_job"]

#: The logger name, so an operator can route or silence job lines on their own.
JOB_LOGGER = "bot.jobs.done"

log = logging.getLogger(JOB_LOGGER)


class JobStatus:
    """The values of the `status` field (plain strings, so a JSON query needs no enum)."""

    OK = "ok"
    FAILED = "failed"
    CANCELLED = "cancelled"


def job_status(error: BaseException | None) -> str:
    """The status for a job that ended with `error` (None: it succeeded)."""
    if error is None:
        return JobStatus.OK
    if isinstance(error, asyncio.CancelledError):
        return JobStatus.CANCELLED
    return JobStatus.FAILED


def log_job(
    *,
    operation: str,
    model: str,
    status: str,
    guild_id: int | None,
    member_id: int,
    cost: float | None,
    upstream_ms: float | None,
    total_ms: float,
    error: str | None = None,
) -> None:
    """Write the job's line: key=value text for people, the same values as extra fields for JSON.

    `cost` is USD as OpenRouter reported it (None when unknown); `upstream_ms` is None when the job
    never reached the model (for example, cancelled while queued); `error` is an error *type* name
    such as `RateLimitedError`, never a message that could quote a prompt.
    """
    fields: dict[str, object] = {
        "operation": str(operation),
        "status": status,
        "guild_id": guild_id,
        "member_id": member_id,
        "model": model,
        "cost_usd": cost,
        "upstream_ms": None if upstream_ms is None else round(upstream_ms),
        "total_ms": round(total_ms),
    }
    if error is not None:
        fields["error"] = error
    text = " ".join(f"{key}={'-' if value is None else value}" for key, value in fields.items())
    log.info("job %s", text, extra=fields)


def log_finished_job(job: Job, *, error: BaseException | None = None, upstream_ms: float | None = None) -> None:
    """Log a `Job` from the job service when it ends, successful or not.

    `upstream_ms` defaults to the time from the upstream call's start to its end as the job recorded
    them (`upstream_started`, `upstream_finished`; until now when the end is not recorded), so the
    queue wait and the upload to Discord count only in `total_ms`.
    """
    now = time.perf_counter()
    if upstream_ms is None and job.upstream_started is not None:
        upstream_ms = ((job.upstream_finished or now) - job.upstream_started) * 1000
    log_job(
        operation=job.operation,
        model=job.model,
        status=job_status(error),
        guild_id=job.interaction.guild_id,
        member_id=job.interaction.user.id,
        cost=job.cost,
        upstream_ms=upstream_ms,
        total_ms=(now - job.started) * 1000,
        error=None if error is None else type(error).__name__,
    )
