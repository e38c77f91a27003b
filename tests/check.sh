#!/usr/bin/env bash
# The project's tests, in order: notebooks clean, library in sync, notebook tests, cross-notebook tests.
# Run from anywhere inside an environment that has `pip install -e ".[dev]"` (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== 1/4 notebooks are clean (nbdev-clean leaves git unchanged, no outputs committed)"
nbdev-clean
if [ -n "$(git status --porcelain -- nbs)" ]; then
  git status --porcelain -- nbs; echo "FAIL: nbdev-clean changed nbs/ (run nbdev-clean and commit)"; exit 1; fi
python - <<'PY'
import json, pathlib, sys
bad = [p.name for p in pathlib.Path('nbs').glob('*.ipynb')
       if any(c.get('outputs') for c in json.loads(p.read_text())['cells'])]
if bad: sys.exit(f'FAIL: notebooks committed with outputs: {bad} (clear them; executed copies belong in figures/)')
PY

echo "== 2/4 the library is what the notebooks export (nbdev-export leaves git unchanged), and lint-clean"
nbdev-export
if [ -n "$(git status --porcelain -- fgr)" ]; then
  git status --porcelain -- fgr
  echo "FAIL: fgr/ differs from the notebooks' export (run nbdev-export and commit)"; exit 1
fi
# lint (pyproject.toml [tool.ruff]); line and function lengths of the notebooks: tests/test_project.py
ruff check fgr tests scripts

echo "== 3/4 nbdev-test (every notebook under the smoke profile)"
# Two notebooks at a time, one thread each: two workers that each use every core oversubscribe the CPU
# (01_spectral_bias took 92-115 s that way, 5 s alone).
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nbdev-test --n-workers 2 --timing

echo "== 4/4 pytest tests/"
python -m pytest tests -q -p no:cacheprovider --durations=5
