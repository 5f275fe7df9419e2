"""Shared timing helper for the benchmarks."""
from __future__ import annotations

import statistics
import time


def median_seconds(fn, runs: int) -> float:
    """Median wall time of `runs` calls of fn, after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
