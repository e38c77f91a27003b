#!/usr/bin/env bash
# One lease's work of the `paper` profile on a fresh, offline GPU machine (../shared/gpu/README.md); results under OUT.
#   scripts/gpu_part.sh PART OUT [--profile paper|smoke]
# PART: one of these, or several joined by +, run in the order given (run:baseline+table1+check: the run, then Table 1's
#   notebooks from its records and those of earlier calls, then the check): lease (check, then epochs: what one call of
#   a 15-minute lease can finish), check (scripts/gpu_check.py: fast convolution equal to PyTorch's, steps timed against
#   their FLOP floor, CUDA-graph capture), epochs (scripts/gpu_epochs.py: epoch times of the training loop, native and
#   fast convolution), table1 (04_train 05_attacks 07_corruptions: from the runs' records where earlier calls brought
#   them, else training both runs, more than one call holds), ablation (06_ablation), frontier (08_frontier: a call
#   stopped at its limit brings back the records of the runs it finished, and the next frontier call, staged after
#   publish_gpu_part.py merged them, goes on from them: the frontier in chunks, call after call; tested so on the
#   CPU, not yet on a GPU),
#   run:NAME[,NAME] (scripts/gpu_run.py: one run of Table 1 trained and every evaluation of it kept in its folder, so
#   that table1 later builds its tables from the records without retraining: Table 1 across several calls. Its speed
#   gate picks CUDA graphs and the fast convolution for the run; it stops, status 3, after an epoch from which the run
#   cannot end by this part's deadline; FGR_RUN_EVALUATIONS=a,b computes those evaluations alone; a run whose
#   evaluations did not all finish returns its weights in OUT/weights, for a later call staged with gpu_stage.sh
#   --eval).
# Records that earlier calls brought back (parts/<profile>/runs.zip, tracked, merged by publish_gpu_part.py; FGR_PARTS:
# another folder) are unpacked into the run store first (or, instead, the records an earlier call of the same lease
# brought back, copied into the staged folder's parts/<profile>/runs.zip): a finished run there is not trained again,
# nor re-evaluated.
# Stage first, on the CPU machine, at a commit: scripts/gpu_stage.sh (into .gpu; FGR_STAGED names another folder); then
# ONE device call with carry [".gpu"] (or the shared README's [".gpu/data", ".gpu/wheels"]):
#   scripts/gpu_part.sh lease $OUT        (timeout_s 600; FGR_LEASE_S=<limit_s - 60> if the call gets less)
# Time: FGR_LEASE_S seconds in all (default 540), the check at most FGR_CHECK_S (240). Each notebook runs as its own
# `fgr-reproduce --only NB` into a copy of figures/<profile>, so a notebook the budget stops (SIGINT) loses only itself.
# OUT holds at most 8 files (what a call brings back, two folders down), packed after every stage so that a call killed
# at its limit still returns what finished: figures.zip (figures/<profile> after this part), runs.zip (config, history,
# evaluations and kernel log of every run: no checkpoints), gpu_check.json, gpu_epochs.json, wall.txt, log.txt, and
# weights/ (one run's weights in 3 parts at width 1, where its evaluations did not finish: run parts only).
# Publish here: python scripts/publish_gpu_part.py FILES_AT (replaces figures/<profile>, writes gpu_speed.json).
set -uo pipefail
part=${1:?usage: scripts/gpu_part.sh PART OUT [--profile NAME]}; out=${2:?usage: scripts/gpu_part.sh PART OUT}
profile=paper; if [ "${3:-}" = "--profile" ]; then profile=${4:?--profile needs a name}; fi
steps=""   # the parts' steps, in the order given: check, epochs, run:NAME, nb:NOTEBOOK
for one in ${part//+/ }; do
  case "$one" in
    lease) steps="$steps check epochs" ;;
    check|epochs) steps="$steps $one" ;;
    table1) steps="$steps nb:04_train nb:05_attacks nb:07_corruptions" ;;
    ablation) steps="$steps nb:06_ablation" ;;
    frontier) steps="$steps nb:08_frontier" ;;
    run:?*) case ",${one#run:}," in *,,*) echo "part '$one': a run name is empty (run:NAME[,NAME])" >&2; exit 2 ;; esac
       steps="$steps ${one//,/ run:}" ;;   # run:a,b: two runs
    *) echo "unknown part '$one': choose lease, check, epochs, table1, ablation, frontier or run:NAME (join with +)" >&2
       exit 2 ;;
  esac
done
for v in FGR_LEASE_S FGR_CHECK_S; do   # seconds: a positive whole number (timeout 0 would mean no limit at all)
  [[ "${!v:-1}" =~ ^[1-9][0-9]*$ ]] || { echo "$v=${!v}: give a positive whole number of seconds" >&2; exit 2; }
done
cd "$(dirname "$0")/.."
root=$PWD; start=$(date +%s); deadline=$(( start + ${FGR_LEASE_S:-540} ))
mkdir -p "$out"; out=$(cd "$out" && pwd); exec > >(tee -a "$out/log.txt") 2>&1
left() { echo $(( deadline - $(date +%s) )); }
note() { echo "$*" | tee -a "$out/wall.txt"; }
staged=${FGR_STAGED:-.gpu}; [[ "$staged" == /* ]] || staged=$root/$staged   # gpu_stage.sh's folder
export PYTHONPATH=$staged/wheels/site:$root${PYTHONPATH:+:$PYTHONPATH}   # pyautoattack (gpu_stage.sh), then fgr
if [ -d "$staged/wheels" ] && ! python3 -c "import papermill, ipykernel, fastcore, torchattacks" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    "$staged"/wheels/*.whl \
    || { note "wheels: install failed"; exit 1; }
  export PYTHONPATH=/tmp/site:$PYTHONPATH
fi
export PYTHONUNBUFFERED=1 FGR_OFFLINE=1 FGR_RUNS=${FGR_RUNS:-/tmp/fgr-runs} FGR_CACHE=${FGR_CACHE:-/tmp/fgr-cache}
# the staged archive, unless the caller names one; an evaluation call (gpu_stage.sh --eval) carries the test split alone
for f in cifar10-jpeg.npz cifar10-jpeg-test.npz; do
  [ -z "${FGR_DATA:-}" ] && [ -f "$staged/data/$f" ] && export FGR_DATA=$staged/data/$f
done
# the commit this tree was staged at (the device gets no .git): manifests record it
[ -f "$staged/wheels/COMMIT" ] && export FGR_COMMIT=$(cat "$staged/wheels/COMMIT")
note "part=$part profile=$profile commit=$(echo "${FGR_COMMIT:-unknown}" | tr " " +) budget_s=$(left)" \
  "$(date -u +%FT%TZ)"
note "device: $(python3 -c 'import torch; c = torch.cuda.is_available()
print("name=" + (torch.cuda.get_device_name() if c else "cpu").replace(" ", "+"), "torch=" + torch.__version__)' \
  2>/dev/null || echo name=unknown)"
records=${FGR_PARTS:-parts}/$profile/runs.zip   # what earlier calls brought back: histories and evaluations
# or what an earlier call of this lease brought back, copied into the staged folder before this call: its runs.zip
# holds the tracked records as that call unpacked them, with its own runs whole (a run it trained again has none of
# the older records, which unpacking both would bring back)
[ -f "$staged/parts/$profile/runs.zip" ] && records=$staged/parts/$profile/runs.zip
if [ -f "$records" ]; then
  mkdir -p "$FGR_RUNS" && python3 -m zipfile -e "$records" "$FGR_RUNS" && note "records: $records unpacked"
fi
# weights that an earlier call brought back (gpu_stage.sh --eval; FGR_WEIGHTS_IN: another folder): no training again
for w in "${FGR_WEIGHTS_IN:-$staged/weights}/$profile"/*/weights.pt; do
  [ -f "$w" ] || continue
  run=$(basename "$(dirname "$w")"); mkdir -p "$FGR_RUNS/$profile/$run" && cp "$w" "$FGR_RUNS/$profile/$run/"
  note "weights: $run"
done
needs_data=0; for step in $steps; do [ "$step" = check ] || needs_data=1; done   # the check makes its own images
if [ "$needs_data" = 1 ] && ! python3 -c "from fgr.data import load_cifar10; load_cifar10()" >/dev/null 2>&1; then
  python3 -c "from fgr.data import load_cifar10; load_cifar10()" 2>&1 | tail -3
  note "data: CIFAR-10 not found (stage .gpu/data with scripts/gpu_stage.sh and carry .gpu)"; exit 2
fi
# speed switches: each run that trains on CUDA chooses its own with its speed gate (fgr.train.speed_gate); a value
# the caller sets restricts it
note "switches: fast_conv=${FGR_FAST_CONV:-gate} cuda_graph=${FGR_CUDA_GRAPH:-gate} compile=${FGR_COMPILE:-0}"
export TQDM_DISABLE=1   # the log shows one line per epoch, not progress bars
pack() {  # the two zips, after every stage: a call killed at its limit still returns what finished
  python3 - "$out" "$FGR_RUNS" "$profile" <<'PY'
import sys, zipfile
from pathlib import Path
out, runs, profile = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
def pack(folder, dest, keep=lambda p: True):
    tmp = dest.with_suffix('.tmp')
    with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob('*')) if folder.is_dir() else []:
            if p.is_file() and keep(p): z.write(p, p.relative_to(folder))
    tmp.replace(dest)
pack(out/'figures', out/'figures.zip', lambda p: '.tmp-' not in str(p))   # not a notebook's staging folder
pack(runs, out/'runs.zip', lambda p: p.suffix in ('.json', '.log') and '.tmp-' not in p.name)   # records, logs
PY
}
fig=$out/figures/$profile
for step in $steps; do
  t=$(left); s=$(date +%s); name=${step#*:}
  if [ "$t" -lt 60 ]; then note "${step#nb:}: not started, $t s left"; continue; fi   # too short to write anything
  case "$step" in
    check)
      t=$(( t < ${FGR_CHECK_S:-240} ? t : ${FGR_CHECK_S:-240} ))
      timeout --signal=INT --kill-after=10 "$t" python3 scripts/gpu_check.py "$out/gpu_check.json"
      note "check: rc=$? wall_s=$(( $(date +%s) - s ))" ;;
    epochs)
      timeout --signal=INT --kill-after=10 "$t" \
        python3 scripts/gpu_epochs.py "$out/gpu_epochs.json" --profile "$profile"
      note "epochs: rc=$? wall_s=$(( $(date +%s) - s ))" ;;
    run:*)
      timeout --signal=INT --kill-after=30 "$t" \
        python3 scripts/gpu_run.py "$name" --profile "$profile" --deadline "$deadline" --weights-out "$out/weights" \
        ${FGR_RUN_EVALUATIONS:+--evaluations "$FGR_RUN_EVALUATIONS"}
      note "run:$name: rc=$? wall_s=$(( $(date +%s) - s ))" ;;
    nb:*)
      if [ ! -d "$fig" ]; then   # the published folder, this part's notebooks added to it
        mkdir -p "$fig"; [ -d "figures/$profile" ] && cp -r "figures/$profile/." "$fig"
      fi
      timeout --signal=INT --kill-after=30 "$t" \
        python3 -c "import sys; from fgr.reproduce import main; sys.exit(main(sys.argv[1:]))" \
        --profile "$profile" --only "$name" --out "$fig" --no-progress
      note "$name: rc=$? wall_s=$(( $(date +%s) - s ))"
      log=$FGR_RUNS/kernel-logs/$(basename "$fig").log
      [ -f "$log" ] && cp "$log" "$FGR_RUNS/kernel-logs/$name.log" ;;
  esac
  pack
done
note "part=$part wall_s=$(( $(date +%s) - start ))"
pack; rm -rf "$out/figures"
ls -la "$out"
