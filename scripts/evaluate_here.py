#!/usr/bin/env python3
"""Finish a run's evaluations on this machine from its kept weights, and keep them with the run's records.

    python scripts/evaluate_here.py NAME [--profile paper] [--evaluations table1,checks] [--store DIR]

For a run that a GPU call trained and whose evaluations the call's limit stopped: publish_gpu_part.py kept its weights
in checkpoints/<profile>/<run>/weights.pt (git-ignored) and its records in parts/<profile>/runs.zip (tracked). This
1. fills the run store DIR (default: $FGR_RUNS, else the repository's runs/) with those records (a file already there
   is kept, so a rerun resumes; a run whose history differs there, another training, is replaced) and the weights;
2. runs `scripts/gpu_run.py NAME --evaluations …` there: the notebooks' own calls with the profile's settings (the same
   records a GPU call makes), each attack kept as it ends;
3. merges the run's records, never its weights, into parts/<profile>/runs.zip (as publish_gpu_part.py merges a call's),
   also after an interrupt: the next GPU call and the notebooks read them instead of computing them again.
Each attack's record names the device, torch and commit that computed it (`computed_on`). Any device works: on 2 CPU
cores, PGD-10 on 10,000 test images of the paper's ResNet-18 takes about 25 minutes.
"""
import argparse, os, shutil, sys, tempfile, zipfile
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT/'scripts'))


def fill_store(root:Path, store:Path, profile:str) -> list:
    "Returns the runs whose weights this put in `store`/<profile>, after unpacking `root`'s records of `profile` there."
    records = root/'parts'/profile/'runs.zip'
    if not records.exists(): raise SystemExit(f'{records} is missing: no GPU call brought records of {profile} back')
    weighted = []
    with zipfile.ZipFile(records) as z:
        names = z.namelist()
        for run in sorted({Path(n).parent for n in names if n.endswith('/history.json')}):
            here = store/run
            if (here/'history.json').exists() and (here/'history.json').read_bytes() != z.read(f'{run}/history.json'):
                shutil.rmtree(here)                               # another training of the run: its records go
            for n in (n for n in names if Path(n).parent == run and not (store/n).exists()): z.extract(n, store)
            w = root/'checkpoints'/run/'weights.pt'
            if w.exists() and (here/'weights.json').exists():   # load_weights checks them against weights.json
                if not (here/'weights.pt').exists(): shutil.copy(w, here/'weights.pt')
                weighted.append(run.name)
    return weighted


def keep_records(root:Path, run_dir:Path, profile:str) -> Path:
    "Returns parts/<profile>/runs.zip of `root` with the records of the run folder `run_dir` (no weights) merged in."
    from publish_gpu_part import merge_records
    with tempfile.TemporaryDirectory() as d:
        pack = Path(d)/'runs.zip'
        with zipfile.ZipFile(pack, 'w', zipfile.ZIP_DEFLATED) as z:
            for p in sorted(run_dir.glob('*.json')): z.write(p, f'{profile}/{run_dir.name}/{p.name}')
        return merge_records(pack, root, profile)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('name', help="a run of 04_train's main_configs: baseline or fgr")
    ap.add_argument('--profile', default='paper')
    ap.add_argument('--evaluations', help='comma-separated, in their order (default: all of scripts/gpu_run.py)')
    ap.add_argument('--store', help='the run store to fill and compute in (default: $FGR_RUNS, else runs/)')
    ap.add_argument('--root', default=str(ROOT), help='the repository whose parts/ and checkpoints/ to use')
    a = ap.parse_args(argv)
    if a.store: os.environ['FGR_RUNS'] = str(Path(a.store).resolve())
    import gpu_run
    from fgr.core import runs_dir
    from fgr.data import load_cifar10
    try: folder = gpu_run.profile_run(a.name, a.profile, load_cifar10())[2]
    except KeyError as e: ap.error(e.args[0])
    root = Path(a.root)
    weighted = fill_store(root, runs_dir(a.profile).parent, a.profile)
    if folder.name not in weighted:     # gpu_run would train it: here, never
        raise SystemExit(f'{folder.name}: no weights in {root}/checkpoints/{a.profile}/{folder.name}/weights.pt, or no '
                         f'finished record of it in parts/{a.profile}/runs.zip: evaluate it where it trained, or '
                         'publish the GPU call that brought its weights back (scripts/publish_gpu_part.py)')
    print(f'{folder.name}: records and weights in {folder}', flush=True)
    try: return gpu_run.main([a.name, '--profile', a.profile] + (['--evaluations', a.evaluations]
                                                                   if a.evaluations else []))
    finally:   # what finished is kept, also after an interrupt
        print(f'{folder.name}: its records merged into {keep_records(root, folder, a.profile)}', flush=True)

if __name__ == '__main__':
    sys.exit(main())
