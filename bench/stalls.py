"""What holds the event loop in a scenario: `python -m bench.stalls SCENARIO [TARGET]`.

Runs the scenario in this process against a stand-ins process, with `StallSampler` watching the loop,
and prints the stacks that were on the loop thread while the loop was late. For finding causes, not
for figures: the sampler itself costs a little.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench.measure import StallSampler
from bench.scenarios import SCENARIOS, SIZES, TARGETS
from bench.standins import RemoteStandins


async def _main(scenario: str, target: str, size: str, threshold_ms: float) -> None:
    standins = RemoteStandins.spawn()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-stalls-") as folder:
            async with StallSampler(threshold_s=threshold_ms / 1000) as sampler:
                result = await SCENARIOS[scenario](target, SIZES[size], standins, Path(folder))
    finally:
        await standins.aclose()
    print({key: round(value, 3) if isinstance(value, float) else value for key, value in result.items()})
    total = sum(sampler.samples.values())
    print(f"{total} samples while the loop was more than {threshold_ms:g} ms late; most frequent stacks:")
    for hits, stack in sampler.top():
        print(f"{hits:6d}  " + "  <  ".join(stack))


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(prog="python -m bench.stalls", description=__doc__)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("target", choices=TARGETS, nargs="?", default="project")
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--threshold-ms", type=float, default=20.0)
    args = parser.parse_args()
    asyncio.run(_main(args.scenario, args.target, args.size, args.threshold_ms))


if __name__ == "__main__":
    main()
