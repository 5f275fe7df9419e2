"""Prints the mutation score per module from mutmut's results in mutants/ (scripts/mutation.sh).

A mutant is killed when a test fails (or times out) with it; the score is killed / (killed +
survived); mutants no fast test reaches ("no tests") are counted apart, as they are untested code.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {1, 3, 36, -24, 24, 152, 255}        # mutmut's exit codes for a failed or timed-out test
SURVIVED = {0}
NO_TESTS = {5, 33}


def main() -> None:
    counts: dict[str, Counter] = defaultdict(Counter)
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        module = str(meta.relative_to("mutants"))[: -len(".meta")]
        for code in json.loads(meta.read_text())["exit_code_by_key"].values():
            kind = "killed" if code in KILLED else "survived" if code in SURVIVED else \
                "no tests" if code in NO_TESTS else "not run" if code is None else "other"
            counts[module][kind] += 1
    if not counts:
        raise SystemExit("no mutmut results in mutants/: run scripts/mutation.sh first")
    print(f"| module | mutants | killed | survived | no tests | not run | score |\n|---|---|---|---|---|---|---|")
    total = Counter()
    for module, c in sorted(counts.items()):
        total.update(c)
        print(_row(module, c))
    print(_row("**all**", total))


def _row(name: str, c: Counter) -> str:
    tested = c["killed"] + c["survived"]
    score = f"{100 * c['killed'] / tested:.1f} %" if tested else "-"
    return (f"| {name} | {sum(c.values())} | {c['killed']} | {c['survived']} | {c['no tests']} | "
            f"{c['not run'] + c['other']} | {score} |")


if __name__ == "__main__":
    main()
