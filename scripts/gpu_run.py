#!/usr/bin/env python3
"""One run of a profile's Table 1, trained and evaluated in one call: a lease-sized part (scripts/gpu_part.sh run:NAME).

    python scripts/gpu_run.py NAME [--profile paper]

NAME is a run of 04_train's `main_configs` (baseline or fgr). The run trains (or is found) in $FGR_RUNS, then every
evaluation that 04_train, 05_attacks and 07_corruptions make of it is computed with the profile's settings and kept
in the run's folder (`fgr.train.cached_evaluation`), most needed first: Table 1's attacks, Figure 1's spectrum, the
strength checks, Figure 2's grid, the corruptions, the attack reconstruction. The run's folder then comes back without
its checkpoint (runs.zip) and the notebooks build their tables from the history and these records, on any machine
(`train` finds a finished run without its checkpoint). A call stopped at its limit keeps the evaluations that
finished; a run stopped before its last epoch brings back nothing usable (no checkpoint returns), so at the paper
profile `run:fgr` needs a call longer than its 50 epochs (about 15 min at the H100 epoch time, eager) or the speed-ups.
A run found finished (records from an earlier call) whose records lack an evaluation trains again from the start, its
old records deleted: an evaluation never mixes two trainings.
"""
import argparse, json, shutil, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def evaluations(run, data, p:dict, progress:bool=False):
    "Yields (name, seconds) as each evaluation of `run` under profile settings `p` is computed or read back."
    from fgr.attacks import attack_evaluations
    from fgr.corruptions import run_corruption_correct
    from fgr.train import gradient_spectrum
    kw = dict(pgd_steps=p['pgd_steps'], pgd_restarts=p['pgd_restarts'], autoattack=p['autoattack'],
              n_autoattack=p['n_autoattack'],
              n_check=p['n_check'], square_queries=p['square_queries'], heat_eps=p['heat_eps'],
              heat_steps=p['heat_steps'], seed=p['seed'], progress=progress)
    attacks = lambda kind: (lambda: attack_evaluations(run, data, p['n_attack'], **kw, kinds=[kind]))
    # the notebooks' own calls with the profile's settings (the same records), the most needed first
    steps = [('table1', attacks('table1')),
             ('spectrum', lambda: gradient_spectrum(run, data.test_x[:128].float() / 255, data.test_y[:128])),
             ('checks', attacks('checks')), ('grid', attacks('grid')),
             ('corruptions', lambda: run_corruption_correct(run, data.test_x[:p['n_corrupt']],
                                                            data.test_y[:p['n_corrupt']], data.source, p['seed'],
                                                            progress)),
             ('reconstruction', attacks('reconstruction'))]
    for name, compute in steps:
        t0 = time.time(); compute(); yield name, round(time.time() - t0, 1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('name', help="a run of 04_train's main_configs: baseline or fgr")
    ap.add_argument('--profile', default='paper')
    a = ap.parse_args(argv)
    from fgr.core import load_profile
    from fgr.data import load_cifar10
    from fgr.train import main_configs, train, ModelNotHere
    p = load_profile(a.profile)
    configs = main_configs(p['width'], p['epochs'], p['batch_size'], p['lr'], p['weight_decay'], p['lam'], p['cutoff'],
                           p['n_train'], p['n_test'], p['seed'], p['fgr_mode'])
    if a.name not in configs:
        ap.error(f"run {a.name!r}: choose one of {', '.join(configs)} (04_train's main_configs)")
    data = load_cifar10()
    for attempt in (1, 2):
        t0 = time.time(); run = train(configs[a.name], data, a.profile, progress=True)
        print(json.dumps(dict(run=run.path.name, epochs=len(run.history), train_s=round(time.time() - t0, 1),
                              test_acc=run.final.get('test_acc'), model_here=run.net is not None)), flush=True)
        try:
            for name, seconds in evaluations(run, data, p):
                print(json.dumps(dict(evaluation=name, seconds=seconds)), flush=True)
            return 0
        except ModelNotHere:   # records of an earlier call lack an evaluation: train again, from nothing
            if attempt == 2: raise
            print(f'{run.path.name}: an evaluation has no record and the model is not here: training again', flush=True)
            shutil.rmtree(run.path)


if __name__ == '__main__':
    sys.exit(main())
