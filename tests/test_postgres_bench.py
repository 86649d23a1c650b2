"""The storage benchmark runs on both backends (tiny counts) and leaves nothing behind; no figure is asserted."""

from __future__ import annotations

from bench.storage import SIZES, format_storage_table, run
from bot.database_url import DatabaseUrl
from tests.test_postgres_processes import query


async def test_storage_figures_for_sqlite_and_postgres(postgres_url: str) -> None:
    url = DatabaseUrl.parse(postgres_url)
    sizes = SIZES["tiny"]
    results = await run(sizes, url)
    assert [figures.backend.split()[0] for figures in results] == ["SQLite", "PostgreSQL"]
    table = format_storage_table(results, sizes)
    lines = table.splitlines()
    assert lines[0].count("|") == 4 and len(lines) == 2 + 6
    assert all(cell.strip() for line in lines[2:] for cell in line.strip("|").split("|"))
    assert url.password and url.password not in table
    schemas = await query(postgres_url, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench_%'")
    assert schemas == [], "the run's schema is dropped"
