"""Storage figures on SQLite and PostgreSQL side by side: the config read and a job's bookkeeping.

    BENCH_DATABASE_URL=postgresql://user:pass@host:5432/db python -m bench.storage
    BENCH_DATABASE_URL=postgresql://...  python -m bench     # the main run, then this table

What a command costs the database, measured through the store the bot uses (`bot.storage.Store`), so
the figures include the unit of work, the placeholder rewriting and the pool:

- **config read, cache miss**: `guild_config.get_all` of a guild whose cache entry was just dropped
  (what the first command in a server, or the first after another process changed it, pays);
- **config read, cached**: the same read served from the cache (every other command);
- **job bookkeeping**: one job's three writes as the job service makes them: the row (INSERT), the
  mark-running UPDATE, and the outcome transaction (the job's UPDATE and its ledger row), one job at a
  time, p50 and p99 of the three together;
- **job bookkeeping, N at once**: N jobs' three writes concurrently, as a burst of commands makes
  them; jobs per second.

SQLite runs on a temporary file; PostgreSQL on the given database, in tables this run creates in a
schema of its own (`bench_<random>`, dropped at the end), so an existing bot database is untouched.
The URL's password is never printed. Figures from a shared machine vary run to run; compare the two
columns of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import bot.openrouter  # noqa: F401 - before bot.requests, which needs it loaded first (an import cycle)
from bot.database_url import DatabaseUrl
from bot.operations import Operation
from bot.requests import ImageRequest
from bot.storage import Store
from bot.storage.jobs import JobSpec, JobStatus
from bot.storage.usage import LedgerEntry

__all__ = ["URL_ENV", "Figures", "StorageSizes", "format_storage_table", "measure", "run"]

URL_ENV = "BENCH_DATABASE_URL"
GUILD = 1_190_000_000_000_000_777
MEMBER = 1_190_000_000_000_000_778


@dataclass(frozen=True)
class StorageSizes:
    """How much to measure."""

    config_reads: int = 2000
    cold_reads: int = 500
    jobs: int = 300
    concurrent: int = 50


SIZES = {"full": StorageSizes(), "quick": StorageSizes(1000, 200, 150, 50), "tiny": StorageSizes(20, 10, 5, 4)}


@dataclass
class Figures:
    """One backend's figures (milliseconds; jobs per second)."""

    backend: str
    cold_p50: float
    cold_p99: float
    warm_p99: float
    job_p50: float
    job_p99: float
    burst_jobs_per_s: float


def _percentile(samples: Sequence[float], percent: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(percent / 100 * (len(ordered) - 1))))
    return ordered[index] * 1000


def _spec(number: int) -> JobSpec:
    return JobSpec(operation=Operation.IMAGINE, member_id=MEMBER, guild_id=GUILD, channel_id=10 + number,
                   request=ImageRequest(prompt=f"bench job {number}", model="google/gemini-2.5-flash-image",
                                        image_format="square", aspect_ratio="1:1"))


async def _bookkeeping(store: Store, number: int) -> None:
    """One job's writes, in the order and shape the job service makes them."""
    now = datetime.now(UTC)
    job_id = await store.jobs.create(_spec(number), created_at=now)
    await store.jobs.mark_running(job_id, started_at=now)
    entry = LedgerEntry(guild_id=GUILD, member_id=MEMBER, operation=Operation.IMAGINE,
                        model="google/gemini-2.5-flash-image", at=now, cost=0.0039, cost_reported=True, images=1,
                        succeeded=True, job_id=job_id, generation_id=f"gen-{number}")
    await store.record_job_outcome(job_id, [entry], status=JobStatus.DONE, finished_at=now, cost=0.0039,
                                   generation_id=f"gen-{number}", error_kind=None, upstream_ms=2000,
                                   result_channel_id=10 + number, result_message_id=20 + number,
                                   result_files=["image.png"])


async def measure(store: Store, backend: str, sizes: StorageSizes) -> Figures:
    """The figures of one open store."""
    await store.guild_config.update(GUILD, Operation.IMAGINE, model="bytedance-seed/seedream-4.5", cooldown_s=5)
    await store.guild_config.get_all(GUILD)
    warm = []
    for _ in range(sizes.config_reads):
        begun = time.perf_counter()
        await store.guild_config.get_all(GUILD)
        warm.append(time.perf_counter() - begun)
    cold = []
    for _ in range(sizes.cold_reads):
        store.guild_config.forget_guild(GUILD)
        begun = time.perf_counter()
        await store.guild_config.get_all(GUILD)
        cold.append(time.perf_counter() - begun)
    jobs = []
    for number in range(sizes.jobs):
        begun = time.perf_counter()
        await _bookkeeping(store, number)
        jobs.append(time.perf_counter() - begun)
    begun = time.perf_counter()
    await asyncio.gather(*(_bookkeeping(store, sizes.jobs + number) for number in range(sizes.concurrent)))
    burst_s = time.perf_counter() - begun
    return Figures(backend, _percentile(cold, 50), _percentile(cold, 99), _percentile(warm, 99),
                   _percentile(jobs, 50), _percentile(jobs, 99), sizes.concurrent / burst_s)


@contextlib.asynccontextmanager
async def _postgres_schema(url: DatabaseUrl) -> AsyncIterator[str]:
    """A DSN whose connections work in a schema of this run's own, dropped afterwards."""
    import asyncpg

    schema = f"bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(url.dsn)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        parts = urlsplit(url.dsn)
        # asyncpg passes unknown query parameters on as server settings: every connection works in `schema`.
        query = "&".join(part for part in (parts.query, urlencode({"search_path": schema})) if part)
        yield urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


async def run(sizes: StorageSizes, postgres: DatabaseUrl | None) -> list[Figures]:
    """SQLite always; PostgreSQL when a URL is given."""
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as folder:
        store = await Store.open(Path(folder) / "bench.sqlite3")
        try:
            results.append(await measure(store, "SQLite (file, WAL)", sizes))
        finally:
            await store.close()
    if postgres is not None:
        async with _postgres_schema(postgres) as dsn:
            store = await Store.open(dsn, pool_size=10)
            try:
                version = await store.database.server_version()  # type: ignore[attr-defined]
                results.append(await measure(store, f"PostgreSQL {version.split()[0]} ({postgres.where})", sizes))
            finally:
                await store.close()
    return results


def format_storage_table(results: Sequence[Figures], sizes: StorageSizes) -> str:
    """The Markdown table: one row per figure, one column per backend."""
    rows = [
        ("guild configuration read, cache miss, p50", "cold_p50", "ms"),
        ("guild configuration read, cache miss, p99", "cold_p99", "ms"),
        ("guild configuration read, cached, p99", "warm_p99", "ms"),
        ("job bookkeeping (INSERT, mark running, outcome + ledger), one at a time, p50", "job_p50", "ms"),
        ("job bookkeeping, one at a time, p99", "job_p99", "ms"),
        (f"job bookkeeping, {sizes.concurrent} jobs at once", "burst_jobs_per_s", "jobs/s"),
    ]
    lines = ["| storage figure | " + " | ".join(figures.backend for figures in results) + " |",
             "|---|" + "---|" * len(results)]
    for title, key, unit in rows:
        cells = []
        for figures in results:
            value = getattr(figures, key)
            cells.append(f"{value:.0f} {unit}" if unit == "jobs/s" else
                         f"{value * 1000:.1f} µs" if value < 0.1 else f"{value:.2f} {unit}")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def postgres_from_environment() -> DatabaseUrl | None:
    """`BENCH_DATABASE_URL`, parsed (PostgreSQL only), or None."""
    text = os.environ.get(URL_ENV, "").strip()
    if not text:
        return None
    url = DatabaseUrl.parse(text)
    if not url.is_postgres:
        raise SystemExit(f"{URL_ENV} must be a postgresql:// URL")
    return url


def main(argv: Sequence[str] | None = None) -> int:
    """Print the storage table."""
    parser = argparse.ArgumentParser(prog="python -m bench.storage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    sizes = SIZES["quick" if args.quick else "full"]
    postgres = postgres_from_environment()
    if postgres is None:
        print(f"(set {URL_ENV}=postgresql://... for the PostgreSQL column)", file=sys.stderr)
    print(format_storage_table(asyncio.run(run(sizes, postgres)), sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
