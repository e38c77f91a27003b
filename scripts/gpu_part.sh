#!/usr/bin/env bash
# One part of the `paper` profile on a fresh, offline GPU machine (see ../shared/gpu/README.md), results under OUT.
#   scripts/gpu_part.sh PART OUT [--profile paper|smoke]
# PART: table1 (04_train 05_attacks 07_corruptions: the corruptions evaluate the main models, whose checkpoints do not
#       travel between leases), ablation (06_ablation), frontier (08_frontier), claims (09_claims), check (gpu_check.py only).
# Stage first on the CPU machine: ../shared/gpu/stage, then carry [".gpu/data", ".gpu/wheels"] with the call.
# OUT gets: figures/<profile>/ (tables, figures, executed notebooks, manifest), runs.zip (histories and evaluations of the
# runs, no checkpoints), wall.txt. Publish locally with: fgr-reproduce's published results under OUT/figures/<profile>.
set -euo pipefail
part=${1:?usage: scripts/gpu_part.sh PART OUT [--profile NAME]}; out=${2:?usage: scripts/gpu_part.sh PART OUT}
profile=paper; if [ "${3:-}" = "--profile" ]; then profile=${4:?--profile needs a name}; fi
case "$part" in
  table1) nbs="04_train 05_attacks 07_corruptions" ;;
  ablation) nbs="06_ablation" ;;
  frontier) nbs="08_frontier" ;;
  claims) nbs="09_claims" ;;
  check) nbs="" ;;
  *) echo "unknown part '$part': choose table1, ablation, frontier, claims or check" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
mkdir -p "$out"
if [ -d .gpu/wheels ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/wheels/*.whl
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1 FGR_OFFLINE=1 FGR_RUNS=/tmp/fgr-runs FGR_CACHE=/tmp/fgr-cache
[ -f .gpu/data/cifar10-jpeg.npz ] && export FGR_DATA=$PWD/.gpu/data/cifar10-jpeg.npz
start=$(date +%s)
if [ "$part" = check ]; then
  python3 scripts/gpu_check.py "$out/gpu_speed.json"
else
  # shellcheck disable=SC2086
  python3 -c "import sys; from fgr.reproduce import main; sys.exit(main(sys.argv[1:]))" \
    --profile "$profile" --only $nbs --out "$out/figures/$profile" --no-progress
fi
echo "part=$part profile=$profile wall_s=$(( $(date +%s) - start ))" | tee "$out/wall.txt"
# the runs' histories and evaluations (JSON), never the checkpoints: a later lease can build tables from them
(cd "$FGR_RUNS" 2>/dev/null && find . -name '*.json' -print | zip -q -@ "$out/runs.zip") || true
