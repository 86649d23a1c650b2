"""Run every benchmark scenario against the project's bot, the minimal bot and direct httpx; print a table.

    python -m bench                 # the full run (about four and a half minutes here)
    python -m bench --quick         # half the load, shorter probes (about three minutes)
    python -m bench --only load,burst --targets project,minimal
    python -m bench --markdown out.md   # also write the report as Markdown
    BENCH_DATABASE_URL=postgresql://... python -m bench   # also the storage figures, SQLite beside PostgreSQL

Each scenario runs once per target in a fresh worker process (`bench.worker`), all sharing one
stand-ins process (`bench.standins`); everything listens on 127.0.0.1. The whole run is bounded: a
worker is stopped after `WORKER_TIMEOUT_S`, and scenarios left when `--budget` seconds are spent are
reported as skipped. `--in-process` runs everything in this process instead (the smoke test does,
with tiny counts): quicker to start, but the stand-ins then share the bot's loop and memory. The
scaling scenario's figures are printed as a table of their own, one line per step, after the main one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import discord

from bench import storage
from bench.scenarios import POOL_CONNECTIONS, ROWS, SCENARIOS, SIZES, TARGETS, Result, Row, Sizes, describe_result
from bench.standins import LocalStandins, start_process, stop_process
from bench.worker import run_one

__all__ = ["format_report", "format_scaling_table", "format_table", "main", "run_in_process", "run_in_subprocesses"]

ROOT = Path(__file__).resolve().parents[1]
WORKER_TIMEOUT_S = 120.0
DEFAULT_BUDGET_S = 420.0
TARGET_NAMES = {"project": "project bot", "minimal": "minimal bot", "httpx": "direct httpx"}

Results = dict[str, dict[str, Result]]


async def run_in_process(scenarios: Sequence[str], targets: Sequence[str], sizes: Sizes) -> Results:
    """Every scenario and target in this process, with the stand-ins in this loop too."""
    results: Results = {}
    standins = await LocalStandins().start()
    try:
        for scenario in scenarios:
            for target in targets:
                try:
                    results.setdefault(scenario, {})[target] = await run_one(scenario, target, sizes, standins)
                except Exception as exc:  # one broken scenario must not hide the others' figures
                    results.setdefault(scenario, {})[target] = {"error": f"{type(exc).__name__}: {exc}"}  # type: ignore[dict-item]
    finally:
        await standins.aclose()
    return results


def run_in_subprocesses(scenarios: Sequence[str], targets: Sequence[str], sizes: Sizes, *, budget_s: float,
                        log_dir: Path) -> Results:
    """Each scenario and target in a worker process of its own, within `budget_s` for the whole run."""
    deadline = time.monotonic() + budget_s
    results: Results = {}
    process, addresses = start_process()
    try:
        for scenario in scenarios:
            for target in targets:
                results.setdefault(scenario, {})[target] = _run_worker(scenario, target, sizes, addresses,
                                                                       deadline, log_dir)
    finally:
        stop_process(process)
    return results


def _run_worker(scenario: str, target: str, sizes: Sizes, addresses: dict[str, str], deadline: float,
                log_dir: Path) -> Result:
    remaining = deadline - time.monotonic()
    if remaining < 5:
        _progress(f"{scenario:<13}{target:<9} skipped: the run's time budget is spent")
        return {"error": "skipped: time budget spent"}  # type: ignore[dict-item]
    command = [sys.executable, "-m", "bench.worker", scenario, target, "--size", sizes.name,
               "--standins", json.dumps(addresses)]
    log_path = log_dir / f"{scenario}-{target}.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        try:
            completed = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log,
                                       timeout=min(WORKER_TIMEOUT_S, remaining), check=False)
        except subprocess.TimeoutExpired:
            _progress(f"{scenario:<13}{target:<9} timed out (log: {log_path})")
            return {"error": "timed out"}  # type: ignore[dict-item]
    lines = completed.stdout.decode(errors="replace").strip().splitlines()
    if completed.returncode != 0 or not lines:
        _progress(f"{scenario:<13}{target:<9} failed with exit code {completed.returncode} (log: {log_path})")
        return {"error": f"exit code {completed.returncode}"}  # type: ignore[dict-item]
    figures: Result = json.loads(lines[-1])["figures"]
    _progress(f"{scenario:<13}{target:<9} {time.monotonic() - started:5.1f} s")
    return figures


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the report -----------------------------------------------------------------------------------------


def _format(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "x":
        return f"{value:.3f}"
    if unit == "MB":
        return f"{value:.0f} MB"
    if value < 0.1:
        return f"{value * 1000:.1f} µs"
    if value < 10:
        return f"{value:.2f} ms"
    return f"{value:.0f} ms"


def _value(results: Results, row: Row, target: str) -> float | None:
    figures = results.get(row.scenario, {}).get(target)
    if not figures or "error" in figures:
        return None
    value = figures.get(row.key)
    return float(value) if isinstance(value, int | float) else None


def _passes(value: float, row: Row) -> bool:
    assert row.target is not None
    return value <= row.target if row.compare == "<=" else value < row.target


def _verdict(row: Row, project: float | None, minimal: float | None) -> str:
    if row.target is None:
        return "info"
    if project is None:
        return "no figure"
    if _passes(project, row):
        return "pass"
    if minimal is not None and not _passes(minimal, row):
        return "MISS (floor misses too)"
    return "MISS"


def _error(results: Results, row: Row, target: str) -> str | None:
    figures = results.get(row.scenario, {}).get(target)
    if figures and "error" in figures:
        return str(figures["error"])
    return None


def format_table(results: Results, sizes: Sizes) -> str:
    """The Markdown table: one line per figure, the project's value against its target and the floors."""
    lines = [
        "| scenario | figure | project bot | target | result | minimal bot | direct httpx | project / minimal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in ROWS:
        if row.scenario not in results:
            continue
        project, minimal, direct = (_value(results, row, target) for target in TARGETS)
        target = "—" if row.target is None else f"{row.compare} {_format(row.target, row.unit)}"
        ratio = f"{project / minimal:.2f}" if project is not None and minimal else "—"
        cells = []
        for name, value in (("project", project), ("minimal", minimal), ("httpx", direct)):
            error = _error(results, row, name)
            cells.append(f"error: {error}" if error else _format(value, row.unit))
        lines.append(f"| {row.title(sizes)} | {row.figure} | {cells[0]} | {target} | {_verdict(row, project, minimal)} "
                     f"| {cells[1]} | {cells[2]} | {ratio} |")
    return "\n".join(lines)


def format_scaling_table(results: Results, sizes: Sizes) -> str:
    """The scaling scenario as one table: a line per step, the project beside the minimal bot (and httpx)."""
    by_target = results.get("scaling", {})

    def cell(target: str, key: str, unit: str) -> str:
        figures = by_target.get(target)
        if not figures:
            return "—"
        if "error" in figures:
            return f"error: {figures['error']}"
        value = figures.get(key)
        return _format(float(value), unit) if isinstance(value, int | float) else "—"

    def ratio(key: str, step: int) -> str:
        values = [by_target.get(target, {}).get(f"{key}_{step}") for target in ("project", "minimal")]
        project, minimal = (float(v) if isinstance(v, int | float) else None for v in values)
        return f"{project / minimal:.2f}" if project is not None and minimal else "—"

    lines = [
        f"Scaling: N concurrent /imagine at once (upstream {sizes.upstream_s:g} s), each step in a fresh bot; "
        f"beyond {POOL_CONNECTIONS} every target waits in front of its HTTP pool ({POOL_CONNECTIONS} connections).",
        "",
        "| concurrent /imagine | end-to-end / upstream p50: project | minimal | direct httpx | project / minimal "
        "| first response p99: project | minimal | direct httpx | project / minimal "
        "| upstream request sent, p50 after the burst: project | minimal | direct httpx |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for step in sizes.scaling:
        e2e = [cell(target, f"e2e_ratio_{step}", "x") for target in TARGETS]
        first = [cell(target, f"ttfr_p99_{step}", "ms") for target in TARGETS]
        sent = [cell(target, f"upstream_start_p50_{step}", "ms") for target in TARGETS]
        lines.append(f"| {step} | {' | '.join(e2e)} | {ratio('e2e_ratio', step)} | {' | '.join(first)} "
                     f"| {ratio('ttfr_p99', step)} | {' | '.join(sent)} |")
    return "\n".join(lines)


def machine() -> str:
    """What the figures were measured on."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores{memory}; Linux {platform.release()}; Python {platform.python_version()}, "
            f"discord.py {discord.__version__}")


def format_report(results: Results, sizes: Sizes, *, mode: str, elapsed_s: float) -> str:
    """Header, table and every figure each run produced."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    details = []
    for scenario, by_target in results.items():
        for target, figures in by_target.items():
            details.append(f"- `{scenario}` / {TARGET_NAMES[target]}: {describe_result(figures)}")
    return "\n".join([
        f"Benchmark run ({sizes.name}, {mode}), {when}, {elapsed_s:.0f} s",
        f"Machine: {machine()}",
        "",
        format_table(results, sizes),
        "",
        *([format_scaling_table(results, sizes), ""] if "scaling" in results else []),
        "All figures of each run (times in ms, RSS in MB):",
        *details,
    ])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenarios asked for and print the report; exit code 0 even when targets are missed."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="half the load, shorter probes, fewer repetitions")
    parser.add_argument("--only", help=f"comma-separated scenarios (of {', '.join(SCENARIOS)})")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated: project,minimal,httpx")
    parser.add_argument("--in-process", action="store_true", help="no worker processes (smoke test, debugging)")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S, help="seconds for the whole run")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    scenarios = args.only.split(",") if args.only else list(SCENARIOS)
    targets = args.targets.split(",")
    unknown = [name for name in scenarios if name not in SCENARIOS] + [name for name in targets if name not in TARGETS]
    if unknown:
        parser.error(f"unknown scenario or target: {', '.join(unknown)}")
    sizes = SIZES["quick" if args.quick else "full"]
    started = time.monotonic()
    if args.in_process:
        results = asyncio.run(run_in_process(scenarios, targets, sizes))
        mode = "in one process"
    else:
        log_dir = Path(tempfile.mkdtemp(prefix="bench-logs-"))
        _progress(f"worker logs: {log_dir}")
        results = run_in_subprocesses(scenarios, targets, sizes, budget_s=args.budget, log_dir=log_dir)
        mode = "one worker process per scenario and target, stand-ins in their own process"
    report = format_report(results, sizes, mode=mode, elapsed_s=time.monotonic() - started)
    postgres = storage.postgres_from_environment()
    if postgres is not None:  # the storage figures, SQLite beside PostgreSQL (bench/storage.py)
        storage_sizes = storage.SIZES["quick" if args.quick else "full"]
        _progress(f"storage figures: SQLite and PostgreSQL at {postgres.where}")
        figures = asyncio.run(storage.run(storage_sizes, postgres))
        report += "\n\nStorage (bench/storage.py, through bot.storage.Store):\n\n" + storage.format_storage_table(
            figures, storage_sizes)
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
