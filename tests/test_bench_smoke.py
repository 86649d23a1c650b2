"""The benchmark machinery runs end to end (tiny counts, everything in this process) and prints every row.

Only a smoke test: no figure is asserted, wall-clock times on a shared CI machine mean nothing. The
benchmark itself is `python -m bench`, outside the test suite.
"""

from __future__ import annotations

from bench.run import format_report, run_in_process
from bench.scenarios import ROWS, SCENARIOS, SIZES, TARGETS


def _table(report: str, header: str) -> list[list[str]]:
    """The cells of the Markdown table whose header line starts with `header` (header and rule left out)."""
    lines = report.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("| "):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


async def test_every_scenario_produces_its_rows() -> None:
    sizes = SIZES["tiny"]
    results = await run_in_process(list(SCENARIOS), TARGETS, sizes)

    errors = {(scenario, target): figures["error"] for scenario, by_target in results.items()
              for target, figures in by_target.items() if "error" in figures}
    assert not errors, errors
    report = format_report(results, sizes, mode="in one process", elapsed_s=0.0)
    table = _table(report, "| scenario |")
    assert len(table) == len(ROWS)
    for row, cells in zip(ROWS, table, strict=True):
        assert cells[:2] == [row.title(sizes), row.figure]
        assert cells[2] != "—", f"no project figure for {row.scenario}/{row.key}"
    # Every job of the bursts reached its member with an image, for both bots.
    for scenario, count in {"burst": sizes.burst, "big": sizes.burst, "queue": sizes.queued_jobs,
                            "images": sizes.burst, "grid": sizes.burst}.items():
        for target in ("project", "minimal"):
            assert results[scenario][target]["delivered"] == count, (scenario, target)
    # Every grid of the project's was one accepted Components V2 message of four images; the floor's plain uploads.
    assert results["grid"]["project"]["grids"] == sizes.burst
    assert results["grid"]["minimal"]["grids"] == 0
    # The Images API scenario went to POST /images, one call per command, whoever made it.
    for target in TARGETS:
        assert results["images"][target]["images_calls"] == sizes.burst, target

    # The scaling table: one line per step, with the project's and the minimal bot's figures.
    scaling = _table(report, "| concurrent /imagine |")
    assert [cells[0] for cells in scaling] == [str(step) for step in sizes.scaling]
    for step, cells in zip(sizes.scaling, scaling, strict=True):
        project_e2e, minimal_e2e, project_first, minimal_first = cells[1], cells[2], cells[5], cells[6]
        assert "—" not in (project_e2e, minimal_e2e, project_first, minimal_first), cells
        for target in ("project", "minimal"):
            assert results["scaling"][target][f"delivered_{step}"] == step, (step, target)
