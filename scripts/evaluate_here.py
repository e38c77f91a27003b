#!/usr/bin/env python3
"""Finish a run's evaluations on this machine from its kept weights, and keep them with the run's records.

    python scripts/evaluate_here.py NAME [--profile paper] [--evaluations table1,checks] [--store DIR] [--keep-only]

For a run that a GPU call trained and whose evaluations the call's limit stopped: publish_gpu_part.py kept its weights
in checkpoints/<profile>/<run>/weights.pt (git-ignored) and its records in parts/<profile>/runs.zip (tracked). This
1. fills the run's folder in the run store DIR (default: $FGR_RUNS, else the repository's runs/) with those records (a
   file already there is kept, so a rerun resumes; a folder of another training of the run is replaced) and weights;
2. runs `scripts/gpu_run.py NAME --evaluations …` there: the notebooks' own calls with the profile's settings (the same
   records a GPU call makes), each attack kept as it ends;
3. merges the run's records, never its weights, into parts/<profile>/runs.zip, also after an interrupt: what the
   folder holds is added, what parts/ gained meanwhile (a GPU call published) is kept, and a run that trained again
   meanwhile is refused. The next GPU call and the notebooks read them instead of computing them again.
It never trains: a run without weights here is refused. Each attack's record names the device, torch and commit that
computed it (`computed_on`). Any device works: on 2 CPU cores, PGD-10 on 10,000 test images of the paper's ResNet-18
takes about 25 minutes.
"""
import argparse, json, os, shutil, sys, tempfile, zipfile
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT/'scripts'))


def _records(root:Path, profile:str, run:str) -> dict:
    "Returns {file name: bytes} of run `run`'s records in `root`'s parts/<profile>/runs.zip ({} where none)."
    records = root/'parts'/profile/'runs.zip'
    if not records.exists(): return {}
    with zipfile.ZipFile(records) as z:
        return {Path(n).name: z.read(n) for n in z.namelist() if Path(n).parent == Path(profile)/run}


def fill_run(root:Path, folder:Path, profile:str) -> bool:
    """Returns whether the run folder `folder` holds a finished run's records (from `root`'s parts/) and its weights
    (from `root`'s checkpoints/) after filling it; a folder of another training is replaced, one in use refused."""
    kept = _records(root, profile, folder.name)
    if 'history.json' not in kept: return False
    history = folder/'history.json'
    if folder.exists() and (history.read_bytes() if history.exists() else None) != kept['history.json']:
        if {'checkpoint.pt', '.train.lock'} & {p.name for p in folder.iterdir()}:
            raise SystemExit(f'{folder} holds a checkpoint or a training in progress of another training of the run: '
                             'move it aside, or use another --store')
        shutil.rmtree(folder)                                    # another training's records: gone
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in kept.items():
        if not (folder/name).exists(): (folder/name).write_bytes(data)
    w = root/'checkpoints'/profile/folder.name/'weights.pt'
    if w.exists() and not (folder/'weights.pt').exists(): shutil.copy(w, folder/'weights.pt')
    return (folder/'weights.pt').exists() and (folder/'weights.json').exists()   # train checks their sha256


def _union(kept:bytes, here:bytes, name:str) -> bytes:
    "Returns a record file as merged: a pieces file gets both sides' pieces (this machine's first), any other ours."
    if '_pieces-' not in name: return here
    a, b = json.loads(kept), json.loads(here)
    on = {**a.get('_computed_on', {}), **b.get('_computed_on', {})}
    union = {**a, **b, **({'_computed_on': on} if on else {})}
    return here if union == b else json.dumps(union, indent=1).encode()      # unchanged: the same bytes


def keep_records(root:Path, folder:Path, profile:str) -> Path:
    """Returns parts/<profile>/runs.zip of `root` with the records of the run folder `folder` (no weights) merged in,
    those it lacks kept; refuses where parts/ holds another training of the run."""
    from publish_gpu_part import merge_records
    kept = _records(root, profile, folder.name)
    if kept.get('history.json', b'') != (folder/'history.json').read_bytes():
        raise SystemExit(f'parts/{profile}/runs.zip holds another training of {folder.name} now: its records there '
                         f'are left as they are, and those computed here stay in {folder}')
    here = {p.name: p.read_bytes() for p in folder.glob('*.json') if '.tmp-' not in p.name}   # not a killed write
    merged = {**kept, **{n: _union(kept[n], d, n) if n in kept else d for n, d in here.items()}}
    with tempfile.TemporaryDirectory() as d:
        pack = Path(d)/'runs.zip'
        with zipfile.ZipFile(pack, 'w', zipfile.ZIP_DEFLATED) as z:
            for n in sorted(merged): z.writestr(f'{profile}/{folder.name}/{n}', merged[n])
        return merge_records(pack, root, profile)


def main(argv=None) -> int:
    "Returns the exit status of the evaluations (scripts/gpu_run.py's), after keeping their records in parts/."
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('name', help="a run of 04_train's main_configs: baseline or fgr")
    ap.add_argument('--profile', default='paper')
    ap.add_argument('--evaluations', help='comma-separated, in their order (default: all of scripts/gpu_run.py)')
    ap.add_argument('--store', help='the run store to fill and compute in (default: $FGR_RUNS, else runs/)')
    ap.add_argument('--root', default=str(ROOT), help='the repository whose parts/ and checkpoints/ to use')
    ap.add_argument('--keep-only', action='store_true', help='compute nothing: only merge what the store holds of the '
                    'run (after gpu_run.py ran there itself, or was killed)')
    a = ap.parse_args(argv)
    import gpu_run
    if a.evaluations and set(a.evaluations.split(',')) - set(gpu_run.EVALUATIONS):
        ap.error(f'--evaluations {a.evaluations}: choose from {",".join(gpu_run.EVALUATIONS)}')
    try: cfg = gpu_run.profile_config(a.name, a.profile)[0]
    except gpu_run.UnknownRun as e: ap.error(e.args[0])
    saved = os.environ.get('FGR_RUNS')
    if a.store: os.environ['FGR_RUNS'] = str(Path(a.store).resolve())
    try: return _evaluate(a, cfg, Path(a.root))
    finally:
        if saved is None: os.environ.pop('FGR_RUNS', None)
        else: os.environ['FGR_RUNS'] = saved


def _merged(root:Path, folder:Path, profile:str) -> str:
    "Returns the line that says where `keep_records` merged the run folder's records."
    return f'{folder.name}: its records merged into {keep_records(root, folder, profile)}'


def _evaluate(a, cfg:dict, root:Path) -> int:
    "Returns gpu_run's exit status for run `a.name`, its folder filled first and its records kept after."
    import gpu_run
    from fgr.data import load_cifar10
    folder = gpu_run.run_folder(cfg, a.profile, load_cifar10())
    if a.keep_only: print(_merged(root, folder, a.profile), flush=True); return 0
    if not fill_run(root, folder, a.profile):             # gpu_run would train it: here, never
        raise SystemExit(f'{folder.name}: no finished record of it in parts/{a.profile}/runs.zip, or no weights in '
                         f'checkpoints/{a.profile}/{folder.name}/weights.pt: evaluate it where it trained, or publish '
                         'the GPU call that brought its weights back (scripts/publish_gpu_part.py)')
    print(f'{folder.name}: records and weights in {folder}', flush=True)
    try: return gpu_run.main([a.name, '--profile', a.profile] + (['--evaluations', a.evaluations]
                                                                   if a.evaluations else []))
    finally:   # what finished is kept, also after an interrupt; a failure here hides no earlier error
        try: print(_merged(root, folder, a.profile), flush=True)
        except (Exception, SystemExit) as e: print(f'{folder.name}: records not merged: {e}', flush=True)


if __name__ == '__main__':
    sys.exit(main())
