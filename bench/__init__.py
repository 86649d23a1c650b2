"""Benchmarks (issues 8, 12, 14): how fast the bot answers, what it adds to the upstream's latency, what memory
it holds, on both image routes, and how that grows with load.

Run `python -m bench` (or `python -m bench --quick`); see `bench.run`. Not part of the test suite: one
smoke test (`tests/test_bench_smoke.py`) only checks that the machinery produces every row.
"""
