"""The benchmark machinery runs end to end (tiny counts, everything in this process) and prints every row.

Only a smoke test: no figure is asserted, wall-clock times on a shared CI machine mean nothing. The
benchmark itself is `python -m bench`, outside the test suite.
"""

from __future__ import annotations

from bench.run import format_report, run_in_process
from bench.scenarios import ROWS, SCENARIOS, SIZES, TARGETS


async def test_every_scenario_produces_its_rows() -> None:
    sizes = SIZES["tiny"]
    results = await run_in_process(list(SCENARIOS), TARGETS, sizes)

    errors = {(scenario, target): figures["error"] for scenario, by_target in results.items()
              for target, figures in by_target.items() if "error" in figures}
    assert not errors, errors
    report = format_report(results, sizes, mode="in one process", elapsed_s=0.0)
    table = [line for line in report.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(table) == len(ROWS)
    for row, line in zip(ROWS, table, strict=True):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[:2] == [row.title(sizes), row.figure]
        assert cells[2] != "—", f"no project figure for {row.scenario}/{row.key}"
    # Every job of the bursts reached its member with an image, for both bots.
    for scenario, count in {"burst": sizes.burst, "big": sizes.burst, "queue": sizes.queued_jobs}.items():
        for target in ("project", "minimal"):
            assert results[scenario][target]["delivered"] == count, (scenario, target)
