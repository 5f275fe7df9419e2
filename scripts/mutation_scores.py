"""Prints the mutation score per module (scripts/mutation.sh): from scripts/mutation_run.py's
results in mutants/runner-*.json, over the mutants mutmut generated (its .meta files).

A mutant is killed when a test fails (or times out) with it; the score is killed / (killed +
survived). Mutants no fast test reaches ("no tests") are counted apart: untested code. With a
sample, "run" is how many of the module's mutants were run.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {1, 3, 36, -24, 24, 152, 255}        # mutmut's exit codes for a failed or timed-out test
SURVIVED = {0}
NO_TESTS = {5, 33}


def main() -> None:
    root = Path("mutants")
    results: dict[str, int] = {}
    for part in sorted(root.glob("runner-*.json")):
        results.update(json.loads(part.read_text()))
    counts: dict[str, Counter] = defaultdict(Counter)
    for meta in sorted(root.rglob("*.py.meta")):
        module = str(meta.relative_to(root))[: -len(".meta")]
        for name in json.loads(meta.read_text())["exit_code_by_key"]:
            code = results.get(name)
            counts[module]["mutants"] += 1
            if code is not None:
                counts[module]["run"] += 1
                counts[module]["killed" if code in KILLED else "survived" if code in SURVIVED else "no tests"] += 1
    if not results:
        raise SystemExit("no results in mutants/: run scripts/mutation.sh first")
    print("| module | mutants | run | killed | survived | no tests | score |\n|---|---|---|---|---|---|---|")
    total = Counter()
    for module, c in sorted(counts.items()):
        total.update(c)
        print(_row(module, c))
    print(_row("**all**", total))


def _row(name: str, c: Counter) -> str:
    tested = c["killed"] + c["survived"]
    score = f"{100 * c['killed'] / tested:.1f} %" if tested else "-"
    return f"| {name} | {c['mutants']} | {c['run']} | {c['killed']} | {c['survived']} | {c['no tests']} | {score} |"


if __name__ == "__main__":
    main()
