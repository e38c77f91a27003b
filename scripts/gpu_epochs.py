#!/usr/bin/env python3
"""Epoch times of the real training loop (`fgr.train.train`) at the paper profile's recipe, per speed switch.

    python3 scripts/gpu_epochs.py OUT.json [--epochs 3] [--profile paper] [--variants baseline fgr fgr_fast_conv]

Each variant trains `--epochs` epochs on all training images (the profile's width, batch, recipe; its own short
schedule, which leaves a step's cost alone) in a run store of its own, and records each epoch's wall time (its
test-set pass and gradient probe included, as in the published histories) and test accuracy. The first epoch carries
cuDNN's algorithm search (and a CUDA graph's capture), so the median of the later ones is the epoch time. Variants, in
order of importance: baseline and fgr (exact FGR), eager; the same replayed from CUDA graphs (FGR_CUDA_GRAPH=1); fgr
with `fgr.fast_conv` (FGR_FAST_CONV=1), eager and replayed. OUT.json is written after each variant, so a call stopped by
its time limit keeps the variants that finished; the same seed makes the variants' train losses comparable. Without CUDA
it runs at a tiny size and its numbers only show that the script runs.
"""
import argparse, json, os, statistics, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch
from fgr.core import load_profile, environment_info
from fgr.data import load_cifar10
from fgr.train import make_config, recipe, train

_SW = lambda fast, graph: dict(FGR_FAST_CONV=str(fast), FGR_CUDA_GRAPH=str(graph))   # the speed switches
VARIANTS = dict(baseline=(dict(method='baseline'), _SW(0, 0)), fgr=(dict(method='fgr'), _SW(0, 0)),
                baseline_graph=(dict(method='baseline'), _SW(0, 1)), fgr_graph=(dict(method='fgr'), _SW(0, 1)),
                fgr_fast_conv=(dict(method='fgr'), _SW(1, 0)), fgr_fast_conv_graph=(dict(method='fgr'), _SW(1, 1)))


def steady_epoch_s(walls:list) -> float:
    "Returns the median wall time of the epochs after the first (which carries cuDNN's search and graph capture)."
    return statistics.median(walls[1:] or walls)


def epoch_times(variant:str, params:dict, epochs:int, data, cuda:bool) -> dict:
    "Returns {'epoch_s', 'median_epoch_s', 'test_acc', 'config'} of `variant` trained `epochs` epochs from scratch."
    kw, switches = VARIANTS[variant]
    lam = dict(lam=params['lam']) if kw['method'] != 'baseline' else {}
    common = recipe(params['width'] if cuda else 0.0625, epochs, params['batch_size'], params['lr'],
                    params['weight_decay'], None if cuda else 256, None if cuda else 256, 0, cutoff=params['cutoff'])
    cfg = make_config(**kw, **lam, **common)
    os.environ.update(switches)
    with tempfile.TemporaryDirectory() as store:
        os.environ['FGR_RUNS'] = store
        t0 = time.time(); run = train(cfg, data, 'epochs', progress=True)
    walls = [h['wall_s'] for h in run.history]
    return dict(epoch_s=walls, median_epoch_s=steady_epoch_s(walls), test_acc=[h['test_acc'] for h in
                run.history], train_loss=[h['train_loss'] for h in run.history], wall_s=time.time() - t0,
                switches=switches, cuda_graph=run.history[-1].get('cuda_graph'), config=cfg)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out', help='the JSON file to write')
    ap.add_argument('--epochs', type=int, default=3, help='epochs per variant (default 3; the first is warm-up)')
    ap.add_argument('--profile', default='paper', help='the profile whose recipe is timed (default paper)')
    ap.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=list(VARIANTS))
    a = ap.parse_args(argv)
    cuda = torch.cuda.is_available(); params = load_profile(a.profile); data = load_cifar10()
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    res = dict(environment=environment_info(), profile=a.profile, epochs=a.epochs, cuda=cuda, variants={})
    if not cuda: res['note'] = 'no CUDA device: width 0.0625 on 256 images; the numbers only show that the script runs'
    for v in a.variants:
        try: res['variants'][v] = epoch_times(v, params, a.epochs, data, cuda)
        except Exception as e: res['variants'][v] = dict(error=f'{type(e).__name__}: {e}'[:2000])   # a result too
        r = res['variants'][v]
        print(f"{v}: {'median epoch %.2f s' % r['median_epoch_s'] if 'median_epoch_s' in r else r['error']}",
              flush=True)
        out.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == '__main__': sys.exit(main())
