#!/usr/bin/env bash
# Stage what a GPU call needs beside the tracked tree, under .gpu/ (git-ignored): the shared wheels and CIFAR-10 archive
# (../shared/gpu/stage), pyautoattack's package without its 43 MB of examples (05_attacks runs AutoAttack; the whole
# wheel would not fit in a call beside the data), and the commit the tree is at; both under .gpu/wheels, so that the
# shared README's carry [".gpu/data", ".gpu/wheels"] and carry [".gpu"] both bring them. Then ONE device call:
#   scripts/gpu_part.sh lease $OUT
# `scripts/gpu_stage.sh --eval [TEXT]` stages an evaluation call instead: the archive's test split alone (9 of its
# 56 MB, fgr.data.write_test_archive) and the weights that earlier calls brought back
# (checkpoints/<profile>/<run>/weights.pt, publish_gpu_part.py) under .gpu/weights: then `scripts/gpu_part.sh run:NAME
# $OUT` (carry [".gpu"]) finishes that run's evaluations without training it. One run's weights (45 MB at width 1) fit a
# call beside the rest: TEXT picks the runs whose folder names contain it (e.g. fgr-lam0.1), when checkpoints/ holds
# more. `--eval` and `--runs` (the full archive, for run: parts that train) leave the Jupyter wheels behind: such a call
# runs no notebook; `--notebooks` keeps them (an evaluation call that then builds Table 1's notebooks from the records:
# run:baseline+table1). To prepare several calls of one lease ahead, so that each follows the last while the machine
# is warm, stage each with `--as .gpu-NAME` (git-ignored): its call carries [".gpu-NAME"] and runs
# `FGR_STAGED=.gpu-NAME scripts/gpu_part.sh PART $OUT`. Records that an earlier call of the lease brought back go to
# .gpu-NAME/parts/<profile>/runs.zip before the call: gpu_part.sh unpacks them instead of the tracked ones.
set -euo pipefail
mode=""; text=""; notebooks=0; as=""
while [ $# -gt 0 ]; do
  case "$1" in
    --eval) mode=eval; if [ $# -gt 1 ] && [[ "$2" != --* ]]; then text=$2; shift; fi ;;
    --runs) mode=runs ;;
    --notebooks) notebooks=1 ;;
    --as) as=${2:-}; shift
          [[ "$as" =~ ^\.gpu-[A-Za-z0-9_-]+$ ]] || { echo "gpu_stage: --as '$as': name a folder .gpu-NAME" \
            "(git-ignored, so that only a call that carries it takes it)" >&2; exit 2; } ;;
    *) echo "gpu_stage: unknown option '$1': none, --eval [TEXT], --runs, --notebooks, --as .gpu-NAME" >&2; exit 2 ;;
  esac
  shift
done
cd "$(dirname "$0")/.."
shared=${FGR_SHARED_GPU:-../shared/gpu}
"$shared/stage"
rm -rf .gpu/weights .gpu/parts .gpu/data/cifar10-jpeg-test.npz   # what an earlier staging left
py=python3; [ -x .venv/bin/python ] && py=.venv/bin/python          # the environment that has pyautoattack and fgr
if [ "$mode" = eval ]; then
  "$py" -c "import sys; from fgr.data import write_test_archive as w; w(*sys.argv[1:])" \
    .gpu/data/cifar10-jpeg-test.npz .gpu/data/cifar10-jpeg.npz
  rm -f .gpu/data/cifar10-jpeg.npz
  for w in checkpoints/*/*/weights.pt; do
    [ -f "$w" ] && [[ "$w" == *"$text"* ]] || continue
    dest=.gpu/weights/${w#checkpoints/}; mkdir -p "$(dirname "$dest")" && cp "$w" "$dest"
    echo "gpu_stage: weights ${w#checkpoints/}"
  done
  [ -d .gpu/weights ] || { echo "gpu_stage: --eval $text: no weights in checkpoints/*/*${text:+*$text*}/weights.pt" \
    "(publish_gpu_part.py keeps there what a call brought back)" >&2; exit 1; }
fi
if [ -n "$mode" ] && [ "$notebooks" = 0 ]; then
  # a call that runs scripts/gpu_run.py alone (run: parts) needs of the wheels only the strength checks' torchattacks
  # (pyautoattack comes as a package, below): the notebooks' Jupyter stack (4.8 MB) stays behind
  find .gpu/wheels -maxdepth 1 -name '*.whl' ! -name 'torchattacks-*' -delete
fi
# no GPU part runs 02_penalty, the one notebook that imports ipywidgets: 0.36 MB more room for the tracked tree
rm -f .gpu/wheels/ipywidgets-*.whl .gpu/wheels/jupyterlab_widgets-*.whl
rm -rf .gpu/site .gpu/commit .gpu/wheels/site; mkdir -p .gpu/wheels/site   # beside the wheels: any carry works
"$py" - <<'PY'
import shutil, importlib.util
from pathlib import Path
src = Path(importlib.util.find_spec('pyautoattack').origin).parent      # from this environment: no download
shutil.copytree(src, Path(".gpu/wheels/site")/src.name, ignore=shutil.ignore_patterns('examples', '__pycache__'))
PY
dirty=$([ -n "$(git status --porcelain --untracked-files=no)" ] && echo ' dirty' || true)
echo "$(git rev-parse HEAD)$dirty" > .gpu/wheels/COMMIT
[ -z "$dirty" ] || echo "gpu_stage: the tree has uncommitted changes: commit first, or the results say 'dirty'" >&2
tracked=$(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1)
extra=$(git ls-files -z --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
total=$(( $(du -sb .gpu | cut -f1) + tracked + ${extra:-0} ))
echo "gpu_stage: .gpu $(du -sh .gpu | cut -f1), commit $(cat .gpu/wheels/COMMIT);" \
  "a call carries $(( total / 1048576 )) MiB of 64"
[ "$total" -lt $(( 64 * 1048576 )) ] || { echo "gpu_stage: over the 64 MiB a call carries: track less (--eval: stage" \
  "one run's weights, --eval TEXT)" >&2; exit 1; }
if [ -n "$as" ]; then
  rm -rf "$as" && mv .gpu "$as"
  echo "gpu_stage: staged in $as: carry [\"$as\"] and run FGR_STAGED=$as scripts/gpu_part.sh PART \$OUT"
fi
