#!/usr/bin/env bash
# Mutation testing of the core (a dev tool, not run in CI): mutmut changes one operator, constant,
# string or call at a time in color.py, inference/points.py, inference/colorizer.py, models/ (hint_inputs.py
# among them) and evaluation/metrics.py
# (pyproject.toml, [tool.mutmut]); the fast tests that reach the changed function run against it.
# A mutant the tests still pass is a gap in the tests (or an equivalent change).
# Usage: [JOBS=2] [SAMPLE=0.3] [SURVIVORS=1] bash scripts/mutation.sh
#   SURVIVORS=1 runs again only the mutants that survived, against the tests as they are now (after
#   tests were added to kill them; the generated mutants stay, the tests are copied in afresh).
#   SAMPLE runs a seeded share of each module's mutants (all of them take about 2.5 s x 3,900 on
#   one core). Resumable: delete mutants/ to start again after the code changed.
#   Then: .venv/bin/mutmut show NAME (a survivor's diff); scores in BENCHMARKS.md, "Mutation testing".
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/mutmut ] || .venv/bin/pip install -q "mutmut==3.8.1"
export OMP_NUM_THREADS=1 CHROMATIZE_BF16=0
if [ ! -f mutants/mutmut-stats.json ]; then
  # mutmut writes the mutants and its map of which tests reach which function, then finds no mutant
  # of this name to run: its own runner forks workers from a process that imported torch, and they
  # hang, so scripts/mutation_run.py runs the mutants instead.
  .venv/bin/mutmut run "generate-only.no-such-mutant" > mutants.log 2>&1 || true
  [ -f mutants/mutmut-stats.json ] || { echo "mutmut did not generate the mutants: see mutants.log" >&2; exit 1; }
fi
jobs=${JOBS:-$(nproc)}
again=()
if [ -n "${SURVIVORS:-}" ]; then
  rm -rf mutants/tests && cp -r tests mutants/tests
  again=(--survivors)
fi
for w in $(seq 0 $((jobs - 1))); do
  .venv/bin/python scripts/mutation_run.py --worker "$w" --workers "$jobs" --sample "${SAMPLE:-1}" "${again[@]}" &
done
wait
.venv/bin/python scripts/mutation_scores.py
