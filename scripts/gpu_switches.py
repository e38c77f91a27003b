#!/usr/bin/env python3
"""Prints, as `export` lines for scripts/gpu_part.sh, the speed switches that a GPU check found equal and faster.

    python3 scripts/gpu_switches.py RECORD.json     (this call's gpu_check.json, or a published gpu_speed.json)

FGR_FAST_CONV=1 where the fast convolution was equal to PyTorch's (equality_ok) and more than 5% faster;
FGR_CUDA_GRAPH=1 where fgr.train's graphed step was equal to its eager step and more than 5% faster for a method the
check tried (train_graph: plain, exact FGR): every run then passes its own graph gate before it replays
(fgr.train.graph_gate), and trains eager where it fails. Nothing for a record made without CUDA, and nothing for a
switch the environment already sets (the caller's choice wins). scripts/gpu_run.py decides both again for each run it
trains (its speed gate).
FGR_COMPILE is never turned on from a check: on an H200 (2026-11-29, torch 2.11) the check's compiled PGD agreed and
was 1.09x faster, but the spectrum evaluation, which takes input gradients with retain_graph, then failed ("compiled
with non-empty donated buffers which requires create_graph=False and retain_graph=False").
"""
import json, os, sys
from pathlib import Path

FASTER = 1.05          # a speed-up under 5% is within the noise of a few timed rounds


def switches(rec:dict) -> dict:
    "Returns {variable: '1'} of the switches record `rec` (gpu_check.py's JSON or gpu_speed.json) found worth it."
    if not rec.get('cuda', rec.get('device') not in (None, 'cpu')): return {}
    out = {}
    if rec.get('equality_ok') and (rec.get('fast_speedup') or 0) > FASTER: out['FGR_FAST_CONV'] = '1'
    graphs = [g for g in (rec.get('train_graph') or {}).values() if isinstance(g, dict)]
    if any(g.get('ok') and (g.get('speedup') or 0) > FASTER for g in graphs): out['FGR_CUDA_GRAPH'] = '1'
    return out


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1: print(__doc__, file=sys.stderr); return 2
    p = Path(args[0])
    if not p.exists(): return 0   # no check yet: every switch keeps its default
    for k, v in switches(json.loads(p.read_text())).items():
        if k not in os.environ: print(f'export {k}={v}')
    return 0


if __name__ == '__main__': sys.exit(main())
