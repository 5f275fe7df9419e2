"""Runs the mutants that `mutmut run` generated (in mutants/), one test session per mutant in this
process, and stores each outcome in mutmut's own result files (so `mutmut results`, `mutmut show`
and scripts/mutation_scores.py read them).

Why not mutmut's own runner: it forks a worker per mutant from a process that has imported torch,
and on this project the forked workers hang (torch is not fork-safe); its forkserver mode hung
too. Here each mutant is switched on through MUTANT_UNDER_TEST, which mutmut's trampolines read
at every call, and pytest runs the tests that reach the mutated function (mutmut's stats) with
-x, under a wall-clock alarm of TIMEOUT_S. A mutant is killed when a test fails (or the alarm
rings), survives when all pass.

    python scripts/mutation_run.py --worker 0 --workers 2 [--sample 0.3 --seed 0] [--module chromatize.color]
        [--survivors]     (only the mutants that survived before: after tests were added to kill them)
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
from pathlib import Path

TIMEOUT_S = 60
KILLED, SURVIVED, NO_TESTS, TIMEOUT = 1, 0, 33, 36          # mutmut's exit codes


class Timeout(Exception):
    pass


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--worker", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--sample", type=float, default=1.0, help="share of each module's mutants to run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--module", action="append", default=[], help="only these modules (dotted names)")
    p.add_argument("--survivors", action="store_true", help="run again only the mutants that survived")
    args = p.parse_args()
    os.chdir("mutants")
    sys.path.insert(0, os.getcwd())
    import pytest

    stats = json.loads(Path("mutmut-stats.json").read_text())["tests_by_mangled_function_name"]
    todo = [name for name in _mutants(args) if _is_mine(name, args)]
    out = Path(f"runner-{args.worker}.json")
    done = json.loads(out.read_text()) if out.exists() else {}
    if args.survivors:
        todo = [name for name in todo if done.get(name) == SURVIVED]
        for name in todo:
            del done[name]
    signal.signal(signal.SIGALRM, _ring)
    for i, name in enumerate(todo):
        if name in done:
            continue
        tests = sorted(stats.get(name.rpartition("__mutmut_")[0], []))
        done[name] = _run(pytest, name, tests) if tests else NO_TESTS
        if i % 20 == 0 or i == len(todo) - 1:
            out.write_text(json.dumps(done))
            print(f"worker {args.worker}: {i + 1}/{len(todo)}", flush=True)
    out.write_text(json.dumps(done))


def _mutants(args) -> list[str]:
    """The name of every generated mutant, or a seeded sample per module, in a
    seeded random order."""
    rng = random.Random(args.seed)
    chosen = []
    for meta in sorted(Path(".").rglob("*.py.meta")):
        module = str(meta)[: -len(".py.meta")].replace("/", ".")
        if args.module and module not in args.module:
            continue
        names = sorted(json.loads(meta.read_text())["exit_code_by_key"])
        if args.sample < 1 and names:
            names = sorted(rng.sample(names, max(1, round(len(names) * args.sample))))
        chosen += names
    rng.shuffle(chosen)                       # stopped early, the run is still a sample of every module
    return chosen


def _is_mine(name: str, args) -> bool:
    return sum(map(ord, name)) % args.workers == args.worker


def _ring(signum, frame):
    raise Timeout


def _run(pytest, name: str, tests: list[str]) -> int:
    os.environ["MUTANT_UNDER_TEST"] = name
    signal.alarm(TIMEOUT_S)
    try:
        code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "--no-header", "-p", "no:warnings", *tests])
    except Timeout:
        return TIMEOUT
    except Exception:                             # a mutant that breaks the session itself
        return KILLED
    finally:
        signal.alarm(0)
        os.environ["MUTANT_UNDER_TEST"] = ""
    return SURVIVED if code == 0 else KILLED


if __name__ == "__main__":
    main()
