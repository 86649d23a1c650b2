"""One scenario against one target, in a process of its own: `python -m bench.worker SCENARIO TARGET`.

A fresh process per scenario keeps the figures apart: peak RSS is this process's, nothing warmed or
fragmented by an earlier scenario carries over. It prints one JSON line with the figures. Given the
addresses of a running stand-ins process (`--standins '{...}'`, as the orchestrator does) it uses
that one; otherwise it starts its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from bench.scenarios import SCENARIOS, SIZES, TARGETS, Result, Sizes
from bench.standins import RemoteStandins, Standins
from bot.logs import setup_logging
from tests.fake_openrouter import DEFAULT_API_KEY
from tests.kit.fake_discord import BOT_TOKEN

__all__ = ["run_one"]


async def run_one(scenario: str, target: str, sizes: Sizes, standins: Standins) -> Result:
    """Reset the stand-ins, run the scenario in a scratch folder, and return its figures."""
    await standins.reset()
    with tempfile.TemporaryDirectory(prefix=f"bench-{scenario}-{target}-") as folder:
        started = time.perf_counter()
        result = await SCENARIOS[scenario](target, sizes, standins, Path(folder))
        result["wall_s"] = time.perf_counter() - started
    return result


async def _main(scenario: str, target: str, sizes: Sizes, addresses: dict[str, str] | None) -> Result:
    standins = RemoteStandins.connect(addresses) if addresses else RemoteStandins.spawn()
    try:
        return await run_one(scenario, target, sizes, standins)
    finally:
        await standins.aclose()


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run, print the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.worker", description=__doc__)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--standins", help="JSON addresses of a running `python -m bench.standins`")
    args = parser.parse_args(argv)
    # The bot logs as in production (INFO, secrets redacted), to this process's stderr.
    setup_logging(logging.INFO, (BOT_TOKEN, DEFAULT_API_KEY))
    addresses = json.loads(args.standins) if args.standins else None
    result = asyncio.run(_main(args.scenario, args.target, SIZES[args.size], addresses))
    print(json.dumps({"scenario": args.scenario, "target": args.target, "figures": result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
