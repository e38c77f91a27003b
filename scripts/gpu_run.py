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
A run found finished (records from an earlier call) whose records lack an evaluation is evaluated from its weights
where a call staged with them (below), else trains again from the start, its old records deleted: an evaluation never
mixes two trainings.

Before a run trains on CUDA, `fgr.train.train` runs its speed gate (`fgr.train.speed_gate`): fgr.train's step of the
run's own config on the run's own first 20 batches from its seed, eager with PyTorch's kernels (the reference), and
replayed from CUDA graphs with PyTorch's kernels, with fgr.fast_conv's convolutions, batch norms and ReLUs, and with its
convolutions alone. The fastest replayed candidate whose loss trajectory equals the reference's within
fgr.train.GRAPH_RTOL (bf16 3e-2, fp32 1e-3: the largest |Δloss|/loss) and that is more than 5% faster trains the run;
else it trains eager. FGR_CUDA_GRAPH=0 and FGR_FAST_CONV restrict the gate. train prints its choice in one line, and
its record, speed_gate.json, is kept in the run's folder and comes back in runs.zip.
With --weights-out DIR (gpu_part.sh passes OUT/weights), a run trained in this call leaves its weights there, in
parts of at most 15 MiB (a call returns files of 16 MiB at most), until every evaluation has finished: a run the call's
limit stopped in its evaluations comes back with them (their sha256 in weights.json, in the run's folder), and
publish_gpu_part.py rebuilds them in checkpoints/<profile>/<run>/weights.pt (git-ignored), from which a later call
staged with `scripts/gpu_stage.sh --eval` (the test split alone, and the weights) finishes the evaluations without
training. One run's weights per call: 3 parts at width 1, beside the call's 4 other files, under its 8.
With --deadline (Unix seconds; gpu_part.sh passes its own), training stops at the start of any epoch (the third or
later) from which the last epoch's time projects its end, plus --reserve-s to save its weights, past the deadline: exit
status 3, and the lease's time goes to its next part rather than to a run that cannot come back.
"""
import argparse, hashlib, json, shutil, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
EVALUATIONS = ('table1', 'spectrum', 'checks', 'grid', 'corruptions', 'reconstruction')   # the order they run in


class WontFit(RuntimeError):
    "Raised by `Deadline` when the epochs measured so far project a run's end past the deadline."


class Deadline:
    """A `train` callback that raises `WontFit` at the start of an epoch (the third or later) when the last epoch's
    time, times the epochs left, plus `reserve_s`, ends past `deadline`. The first epoch, slowed by graph capture and
    cuDNN's algorithm search, decides nothing."""
    def __init__(self, deadline:float, epochs:int, reserve_s:float):
        self.deadline, self.epochs, self.reserve_s, self.starts = deadline, epochs, reserve_s, []
    def __call__(self, epoch, step, model):
        if step: return
        now = time.time(); self.starts.append(now)
        if len(self.starts) < 3: return
        per_epoch = now - self.starts[-2]
        end = now + per_epoch * (self.epochs - epoch) + self.reserve_s
        if end > self.deadline:
            raise WontFit(f'{epoch} of {self.epochs} epochs done, the last in {per_epoch:.1f} s: the run would end '
                          f'{end - self.deadline:.0f} s after the deadline (with {self.reserve_s:.0f} s kept to bring '
                          'back its weights); stopped, so that the lease goes to its next part')


CHUNK = 15 * 2**20   # bytes per weights part: a call returns files of at most 16 MiB
CALL_FILES = 8       # files a call brings back, at most
PACKED = ('figures.zip', 'runs.zip', 'wall.txt', 'log.txt')   # what gpu_part.sh writes into OUT in any case


def export_weights(run, dest:Path, chunk:int=CHUNK) -> list:
    """Returns the files dest/<run>.pt.000, .001, … (each ≤ `chunk` bytes) that hold `run`'s weights (`save_weights`),
    their sha256, size and names written to weights.json in the run's folder; [] where they would bring the call's
    folder (dest's parent) past `CALL_FILES` files."""
    import tempfile
    from fgr.core import save_json
    from fgr.train import save_weights
    with tempfile.TemporaryDirectory() as d:                        # not in OUT: a call stopped here returns no .tmp
        data = save_weights(run, Path(d)/'weights.pt').read_bytes()
    out = dest.parent
    files = {p.relative_to(out) for p in out.rglob('*') if p.is_file()} | {Path(n) for n in PACKED}
    n_parts = -(-len(data) // chunk)
    if len(files) + n_parts > CALL_FILES:
        print(f'{run.path.name}: its weights ({n_parts} parts) would bring the call past {CALL_FILES} files: kept '
              'here only', flush=True)
        (run.path/'weights.json').unlink(missing_ok=True)           # no weights come back: its records name none
        return []
    dest.mkdir(parents=True, exist_ok=True)
    parts = [dest/f'{run.path.name}.pt.{i // chunk:03d}' for i in range(0, len(data), chunk)]
    for i, p in enumerate(parts): p.write_bytes(data[i * chunk:(i + 1) * chunk])
    save_json(dict(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), parts=[p.name for p in parts]),
              run.path/'weights.json')
    return parts


def evaluations(run, data, p:dict, progress:bool=False, only:str=None):
    "Yields (name, seconds) as each evaluation of `run` under profile settings `p` (`only`: those named) is done."
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
    assert tuple(n for n, _ in steps) == EVALUATIONS
    wanted = EVALUATIONS if only is None else only.split(',')
    for name, compute in steps:
        if name not in wanted: continue
        t0 = time.time(); compute(); yield name, round(time.time() - t0, 1)


class UnknownRun(KeyError):
    "Raised by `profile_config` for a name that is not a run of 04_train's `main_configs`."


def profile_config(name:str, profile:str) -> tuple:
    "Returns (cfg, p): run `name` of 04_train's main_configs under `profile`, and the profile's settings."
    from fgr.core import load_profile
    from fgr.train import main_configs
    p = load_profile(profile)
    configs = main_configs(p['width'], p['epochs'], p['batch_size'], p['lr'], p['weight_decay'], p['lam'], p['cutoff'],
                           p['n_train'], p['n_test'], p['seed'], p['fgr_mode'])
    if name not in configs:
        raise UnknownRun(f"run {name!r}: choose one of {', '.join(configs)} (04_train's main_configs)")
    return configs[name], p


def run_folder(cfg:dict, profile:str, data) -> Path:
    "Returns the folder in the run store of `profile` that `train` keeps the run of `cfg` on `data` in."
    from fgr.core import runs_dir
    from fgr.train import run_name
    return runs_dir(profile)/run_name(dict(cfg, data=data.source))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('name', help="a run of 04_train's main_configs: baseline or fgr")
    ap.add_argument('--profile', default='paper')
    ap.add_argument('--deadline', type=float, help='Unix time by which training must end (and its weights be saved)')
    ap.add_argument('--reserve-s', type=float, default=20, help='seconds kept after training to save its weights')
    ap.add_argument('--weights-out', help="folder for the weights of a run trained here, until its evaluations end")
    ap.add_argument('--evaluations', help='comma-separated evaluations to compute, in their order (default: all)')
    a = ap.parse_args(argv)
    if a.evaluations and set(a.evaluations.split(',')) - set(EVALUATIONS):
        ap.error(f'--evaluations {a.evaluations}: choose from {",".join(EVALUATIONS)}')
    from fgr.data import load_cifar10
    from fgr.train import train, ModelNotHere
    try: cfg, p = profile_config(a.name, a.profile)
    except UnknownRun as e: ap.error(e.args[0])
    data = load_cifar10(); path = run_folder(cfg, a.profile, data)
    for attempt in (1, 2):
        guard = Deadline(a.deadline, cfg['epochs'], a.reserve_s) if a.deadline else None
        t0 = time.time()
        try: run = train(cfg, data, a.profile, progress=True, callback=guard)
        except WontFit as e:
            print(json.dumps(dict(run=path.name, stopped=str(e))), flush=True); return 3
        print(json.dumps(dict(run=run.path.name, epochs=len(run.history), train_s=round(time.time() - t0, 1),
                              test_acc=run.final.get('test_acc'), model_here=run.net is not None)), flush=True)
        from fgr.train import WEIGHTS
        keep = (a.weights_out and run.net is not None and not (run.path/WEIGHTS).exists()
                and not any(Path(a.weights_out).glob('*.pt.*')))   # trained here; one run's weights per call
        parts = export_weights(run, Path(a.weights_out)) if keep else []
        if parts: print(json.dumps(dict(weights=[q.name for q in parts], until='its evaluations end')), flush=True)
        try:
            for name, seconds in evaluations(run, data, p, only=a.evaluations):
                print(json.dumps(dict(evaluation=name, seconds=seconds)), flush=True)
            if a.evaluations is None:                # all of them kept: the weights need not come back
                for q in parts: q.unlink()
                if keep: (run.path/'weights.json').unlink(missing_ok=True)
            return 0
        except ModelNotHere:   # records of an earlier call lack an evaluation: train again, from nothing
            if not len(data.train_y):
                raise SystemExit(f'{run.path.name}: an evaluation has no record, and neither the weights of the run '
                                 'nor training images are here (the test split alone): stage the weights that its '
                                 'training call brought back (scripts/gpu_stage.sh --eval; carry [".gpu"]), or the '
                                 'full archive to train it again; its records are left as they are') from None
            if attempt == 2: raise
            print(f'{run.path.name}: an evaluation has no record and the model is not here: training again', flush=True)
            shutil.rmtree(run.path)


if __name__ == '__main__':
    sys.exit(main())
