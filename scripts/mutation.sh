#!/usr/bin/env bash
# Mutation testing of the core (a dev tool, not run in CI): mutmut changes one operator, constant
# or call at a time in color.py, hints.py, propagation.py, inference.py, models/ and
# evaluation/metrics.py (pyproject.toml, [tool.mutmut]) and runs the fast tests that reach the
# changed function; a mutant the tests still pass is a gap in the tests (or an equivalent change).
# Usage: bash scripts/mutation.sh [MUTANT_NAME_GLOBS...]   (resumable: mutmut keeps mutants/)
# Then: .venv/bin/mutmut show NAME (a survivor's diff); scores in BENCHMARKS.md, "Mutation testing".
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/mutmut ] || .venv/bin/pip install -q "mutmut==3.8.1"
export OMP_NUM_THREADS=1 CHROMATIZE_BF16=0           # one thread per mutant; mutmut runs one per core
.venv/bin/mutmut run --max-children "${JOBS:-$(nproc)}" "$@" > mutants.log 2>&1 || true
.venv/bin/python scripts/mutation_scores.py
