"""The job history: one row per command or button run, kept so that work can be redone after a restart.

Result buttons carry nothing but a job id, so the row must hold everything a later click needs: the
prompt, format, model and providers, where the reference images came from, and which message holds
the result. The job service writes the rows (`create`, `mark_running`, `finish` inside its completion
transaction); `/jobs` and the buttons read them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.openrouter.types import ProviderFilter
from bot.operations import Operation
from bot.process_identity import is_running, this_process
from bot.requests import ImageRequest, ReferenceSource, Route
from bot.storage.backend import Backend, Dialect, Row, Transaction

__all__ = [
    "INTERRUPTED",
    "MAX_CHOICES",
    "JobRecord",
    "JobSpec",
    "JobStatus",
    "JobStore",
    "ReferenceSource",
    "format_time",
    "parse_time",
]

#: `error_kind` of a job whose process died before it finished (its member was never answered).
INTERRUPTED = "interrupted"

#: The most jobs `find_recent` returns: Discord shows at most 25 autocomplete choices.
MAX_CHOICES = 25



def _spaced_prompt(dialect: Dialect) -> str:
    """A prompt lower-cased, with its line breaks and tabs as spaces, and a space in front.

    So `LIKE lower('% word%')` finds every word start, the first word's included, case-insensitively
    on both dialects (PostgreSQL's `LIKE` minds case, SQLite's does not for ASCII).
    """
    newline, carriage, tab = dialect.char(10), dialect.char(13), dialect.char(9)
    return f"lower(' ' || replace(replace(replace(prompt, {newline}, ' '), {carriage}, ' '), {tab}, ' '))"


class JobStatus(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What was asked for, by whom and where: the part of a job that a re-roll repeats.

    The request itself is one `ImageRequest`; the properties below read it for the many places that
    only want its prompt or model.
    """

    operation: Operation
    member_id: int
    request: ImageRequest
    guild_id: int | None = None
    channel_id: int | None = None
    parent_job_id: int | None = None
    #: Which image of the parent this job was made from (1-based; None: no parent, or not one image).
    parent_image_index: int | None = None
    #: How it was made from that image ("upscale", "vary", "edit", "describe"), for `/jobs`; None for other
    #: kinds of child.
    parent_action: str | None = None

    @property
    def prompt(self) -> str:
        """The prompt (or the question, for describe) as the member wrote it."""
        return self.request.prompt

    @property
    def model(self) -> str:
        """The model the job used."""
        return self.request.model

    @property
    def image_format(self) -> str | None:
        """The shape the member chose by name, if any."""
        return self.request.image_format

    @property
    def aspect_ratio(self) -> str | None:
        """The aspect ratio sent upstream."""
        return self.request.aspect_ratio

    @property
    def providers(self) -> ProviderFilter:
        """The provider filter in force when the job ran."""
        return self.request.providers

    @property
    def references(self) -> tuple[ReferenceSource, ...]:
        """Where the input images came from."""
        return self.request.references


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A stored job: its spec, and what became of it."""

    id: int
    spec: JobSpec
    status: JobStatus
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result_channel_id: int | None = None
    result_message_id: int | None = None
    result_files: tuple[str, ...] = ()
    #: The seed each of `result_files` was made with, in the same order (None: none sent, or not recorded:
    #: rows from before seeds were kept per image have none).
    result_seeds: tuple[int | None, ...] = ()
    #: Each of `result_files`' share of its call's cost, in the same order (a call of n images bills n
    #: shares; the ledger keeps the call's row); empty where not recorded (rows from before, or no cost).
    result_costs: tuple[float | None, ...] = ()
    result_deleted: bool = False
    cost: float | None = None
    generation_id: str | None = None
    error_kind: str | None = None
    upstream_ms: int | None = None

    @property
    def result_url(self) -> str | None:
        """A link to the result message, while there is one."""
        if self.result_message_id is None or self.result_deleted:
            return None
        channel = self.result_channel_id or self.spec.channel_id
        guild = self.spec.guild_id if self.spec.guild_id is not None else "@me"
        return f"https://discord.com/channels/{guild}/{channel}/{self.result_message_id}"


_COLUMNS = (
    "id, guild_id, channel_id, member_id, operation, prompt, image_format, aspect_ratio, model, "
    "provider_filter, reference_images, parent_job_id, status, result_channel_id, result_message_id, "
    "result_files, result_deleted, cost, generation_id, error_kind, created_at, started_at, finished_at, "
    "upstream_ms, route, resolution, quality, image_count, seed, parent_image_index, parent_action, seed_given"
)


class JobStore:
    """Reads and writes `jobs`."""

    def __init__(self, database: Backend, *, owner: str | None = None) -> None:
        self._db = database
        #: Which process the jobs this store creates belong to (see `bot.process_identity`).
        self.owner = owner or this_process()

    async def create(self, spec: JobSpec, *, created_at: datetime) -> int:
        """Record a new, queued job and return its id (the id the result buttons will carry)."""
        request = spec.request
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "INSERT INTO jobs (guild_id, channel_id, member_id, operation, prompt, image_format, "
                "aspect_ratio, model, provider_filter, reference_images, parent_job_id, status, created_at, owner, "
                "route, resolution, quality, image_count, seed, parent_image_index, parent_action, seed_given) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    spec.guild_id,
                    spec.channel_id,
                    spec.member_id,
                    spec.operation.value,
                    request.prompt,
                    request.image_format,
                    request.aspect_ratio,
                    request.model,
                    json.dumps({"only": list(request.providers.only), "ignore": list(request.providers.ignore)}),
                    json.dumps([reference.to_json() for reference in request.references]),
                    spec.parent_job_id,
                    format_time(created_at),
                    self.owner,
                    request.route.value,
                    request.resolution,
                    request.quality,
                    request.count,
                    request.seed,
                    spec.parent_image_index,
                    spec.parent_action,
                    int(request.seed_given),
                ),
            )
        assert row is not None
        return int(row["id"])

    async def mark_running(self, job_id: int, *, started_at: datetime) -> None:
        """The job got its slot and is about to call the upstream."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE jobs SET status = 'running', started_at = ? WHERE id = ?", (format_time(started_at), job_id)
            )

    @staticmethod
    async def finish(
        tx: Transaction,
        job_id: int,
        *,
        status: JobStatus,
        finished_at: datetime,
        cost: float | None,
        generation_id: str | None,
        error_kind: str | None,
        upstream_ms: int | None,
        result_channel_id: int | None,
        result_message_id: int | None,
        result_files: Sequence[str],
        result_seeds: Sequence[int | None] = (),
        result_costs: Sequence[float | None] = (),
    ) -> None:
        """Record the outcome inside the caller's transaction (the ledger row goes in the same one).

        `result_seeds` and `result_costs` go with `result_files`, in the same JSON column (`_files_json`):
        no migration.
        """
        await tx.execute(
            "UPDATE jobs SET status = ?, finished_at = ?, cost = ?, generation_id = ?, error_kind = ?, "
            "upstream_ms = ?, result_channel_id = ?, result_message_id = ?, result_files = ? WHERE id = ?",
            (
                status.value,
                format_time(finished_at),
                cost,
                generation_id,
                error_kind,
                upstream_ms,
                result_channel_id,
                result_message_id,
                _files_json(result_files, result_seeds, result_costs),
                job_id,
            ),
        )

    async def interrupt_orphans(self, *, now: datetime) -> list[int]:
        """Mark failed ("interrupted") the queued and running jobs whose process is gone; returns their ids.

        Run at start-up. Jobs of another live process on this machine are left alone, and so are jobs
        of processes on other machines, whose life cannot be checked from here.
        """
        rows = await self._db.fetch_all(
            "SELECT id, owner FROM jobs WHERE status IN ('queued', 'running')"
        )
        orphans = [int(row["id"]) for row in rows if row["owner"] is None or is_running(row["owner"]) is False]
        if not orphans:
            return []
        async with self._db.transaction() as tx:
            await tx.execute_many(
                "UPDATE jobs SET status = 'failed', error_kind = ?, finished_at = ? "
                "WHERE id = ? AND status IN ('queued', 'running')",
                [(INTERRUPTED, format_time(now), job_id) for job_id in orphans],
            )
        return orphans

    async def mark_result_deleted(self, job_id: int) -> None:
        """The result message was deleted: no link, no image to reuse."""
        async with self._db.transaction() as tx:
            await tx.execute("UPDATE jobs SET result_deleted = 1 WHERE id = ?", (job_id,))

    async def get(self, job_id: int) -> JobRecord | None:
        """One job, or None if there is no such job."""
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        return _from_row(row) if row else None

    async def recent(self, guild_id: int, member_id: int, limit: int = 10) -> list[JobRecord]:
        """A member's latest jobs in one server, newest first."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM jobs WHERE guild_id = ? AND member_id = ? ORDER BY id DESC LIMIT ?",
            (guild_id, member_id, limit),
        )
        return [_from_row(row) for row in rows]

    async def find_recent(
        self,
        guild_id: int,
        *,
        member_id: int | None = None,
        typed: str = "",
        status: JobStatus | None = None,
        include_deleted: bool = True,
        limit: int = MAX_CHOICES,
    ) -> list[JobRecord]:
        """The latest jobs of one server (of one member, with `member_id`) matching what is typed, newest first.

        For autocomplete. `typed` is matched, case-insensitively for ASCII, against the job id and the
        prompt: `#12` matches ids starting with 12; `12` matches those ids, and prompts with a word
        starting with 12; other text matches prompts in which every typed word starts a word. A job
        whose id is exactly the typed number comes first. `status` keeps only jobs in that state, and
        `include_deleted=False` drops jobs whose result message was deleted. At most `limit` jobs,
        never more than `MAX_CHOICES`.
        """
        conditions = ["guild_id = ?"]
        parameters: list[object] = [guild_id]
        if member_id is not None:
            conditions.append("member_id = ?")
            parameters.append(member_id)
        if status is not None:
            conditions.append("status = ?")
            parameters.append(status.value)
        if not include_deleted:
            conditions.append("result_deleted = 0")
        text = " ".join(typed.split())
        by_id_only = text.startswith("#")
        text = text.lstrip("#").strip()
        exact_id = int(text) if text.isdigit() and len(text) <= 18 else None
        if text:
            spaced_prompt = _spaced_prompt(self._db.dialect)
            # Both sides lower-cased by the same database's `lower`, so each dialect agrees with itself.
            word_starts = [f"{spaced_prompt} LIKE lower(?) ESCAPE '\\'" for _ in text.split()]
            words = [f"% {_like_escape(word)}%" for word in text.split()]
            if exact_id is not None:
                id_clause = "CAST(id AS TEXT) LIKE ?"
                if by_id_only:
                    conditions.append(id_clause)
                    parameters.append(f"{text}%")
                else:
                    conditions.append(f"({id_clause} OR {' AND '.join(word_starts)})")
                    parameters.extend([f"{text}%", *words])
            else:
                conditions.extend(word_starts)
                parameters.extend(words)
        parameters.extend([exact_id if exact_id is not None else -1, max(1, min(limit, MAX_CHOICES))])
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM jobs WHERE {' AND '.join(conditions)} ORDER BY id = ? DESC, id DESC LIMIT ?",
            tuple(parameters),
        )
        return [_from_row(row) for row in rows]


def _like_escape(text: str) -> str:
    """Text matched literally by `LIKE` with a backslash as `ESCAPE` (`%` and `_` are then no wildcards)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def format_time(moment: datetime) -> str:
    """The stored form of a time: ISO-8601 in UTC (aware datetimes only)."""
    return moment.isoformat(timespec="milliseconds")


def parse_time(text: str) -> datetime:
    """Read a stored time back."""
    return datetime.fromisoformat(text)


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _files_json(files: Sequence[str], seeds: Sequence[int | None], costs: Sequence[float | None] = ()) -> str:
    """`result_files` as stored: a JSON list of filenames, or of {"file", "seed", "cost"} objects once known.

    The plain list is what every row had before seeds and costs were kept per image (and still has without
    either); `_files_of` reads both.
    """
    if not any(seed is not None for seed in seeds) and not any(cost is not None for cost in costs):
        return json.dumps(list(files))
    seeds = [*seeds, *[None] * (len(files) - len(seeds))]
    costs = [*costs, *[None] * (len(files) - len(costs))]
    return json.dumps([{"file": name, "seed": seed, "cost": cost}
                       for name, seed, cost in zip(files, seeds, costs, strict=False)])


def _files_of(stored: str | None) -> tuple[tuple[str, ...], tuple[int | None, ...], tuple[float | None, ...]]:
    """The filenames and (where recorded) their seeds and costs from a stored `result_files`."""
    names: list[str] = []
    seeds: list[int | None] = []
    costs: list[float | None] = []
    for item in json.loads(stored or "[]"):
        if isinstance(item, dict):
            names.append(str(item.get("file", "")))
            seeds.append(_int(item.get("seed")))
            cost = item.get("cost")
            costs.append(float(cost) if isinstance(cost, int | float) else None)
        else:
            names.append(str(item))
            seeds.append(None)
            costs.append(None)
    return (tuple(names), tuple(seeds) if any(seed is not None for seed in seeds) else (),
            tuple(costs) if any(cost is not None for cost in costs) else ())


def _from_row(row: Row) -> JobRecord:
    providers = json.loads(row["provider_filter"] or "{}")
    request = ImageRequest(
        prompt=str(row["prompt"]),
        model=str(row["model"]),
        route=Route(row["route"] or Route.CHAT),
        image_format=row["image_format"],
        aspect_ratio=row["aspect_ratio"],
        resolution=row["resolution"],
        quality=row["quality"],
        count=int(row["image_count"] or 1),
        seed=_int(row["seed"]),
        seed_given=bool(row["seed_given"]),
        references=tuple(ReferenceSource.from_json(item) for item in json.loads(row["reference_images"] or "[]")),
        providers=ProviderFilter(
            only=tuple(providers.get("only") or ()), ignore=tuple(providers.get("ignore") or ())
        ),
    )
    spec = JobSpec(
        operation=Operation(row["operation"]),
        member_id=int(row["member_id"]),
        request=request,
        guild_id=_int(row["guild_id"]),
        channel_id=_int(row["channel_id"]),
        parent_job_id=_int(row["parent_job_id"]),
        parent_image_index=_int(row["parent_image_index"]),
        parent_action=row["parent_action"],
    )
    files, seeds, costs = _files_of(row["result_files"])
    return JobRecord(
        id=int(row["id"]),
        spec=spec,
        status=JobStatus(row["status"]),
        created_at=parse_time(row["created_at"]),
        started_at=parse_time(row["started_at"]) if row["started_at"] else None,
        finished_at=parse_time(row["finished_at"]) if row["finished_at"] else None,
        result_channel_id=_int(row["result_channel_id"]),
        result_message_id=_int(row["result_message_id"]),
        result_files=files,
        result_seeds=seeds,
        result_costs=costs,
        result_deleted=bool(row["result_deleted"]),
        cost=row["cost"],
        generation_id=row["generation_id"],
        error_kind=row["error_kind"],
        upstream_ms=row["upstream_ms"],
    )
