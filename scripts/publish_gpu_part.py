#!/usr/bin/env python3
"""Publish what one GPU call of `scripts/gpu_part.sh` brought back: figures/<profile> and its gpu_speed.json.

    python scripts/publish_gpu_part.py FILES_AT [--root .]

FILES_AT holds the call's files: figures.zip, runs.zip, gpu_check.json, gpu_epochs.json, wall.txt (log.txt: people).
- the finished runs of runs.zip (config, history, evaluations; never checkpoints) are merged into
  parts/<profile>/runs.zip (tracked), which the next call unpacks into its run store: Table 1 or a frontier assembled
  from several calls;
- where notebooks ran, figures.zip replaces figures/<profile> (one rename: the notebooks that finished there, with the
  manifest that fgr-reproduce merged part by part; a notebook the budget stopped left it unchanged);
- gpu_speed.json (in that folder) gathers the check (FLOPs, floors, step times, equality, CUDA graph), the epoch times
  of every run that trained (from runs.zip's histories: also of a run the budget stopped), the part's wall times, and
  the paper profile's training time projected from them (`projected_training_min`, its method and sources stated).
- the weights a run: part brought back in parts (weights/<run>.pt.000, …: a run whose evaluations the call's limit
  stopped) are rebuilt, checked against the sha256 in its weights.json, into checkpoints/<profile>/<run>/weights.pt
  (git-ignored, never committed), for a later call staged with `scripts/gpu_stage.sh --eval`.
Then rebuild the ledger here: fgr-reproduce --profile paper --only 09_claims.
"""
import argparse, hashlib, json, os, shutil, sys, tempfile, zipfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import yaml
from gpu_epochs import steady_epoch_s   # one rule for an epoch's time, here and in the lease's own timings

CHECK_KEYS = ('device', 'torch', 'width', 'batch_size', 'plain_img_s', 'fgr_exact_x', 'fast_speedup', 'floor_ms',
              'step_ms', 'achieved_tflops', 'flops', 'bytes', 'traffic_ms', 'peak_bf16_tflops', 'equality_ok', 'timing',
              'equality',
              'train_graph', 'kernel_profile', 'benchmark_error', 'compile', 'cuda')
H100_BENCH = 'fgr-bench-h100-w1b128.json'   # step ratios of the classes a lease does not time (a committed record)


def read_wall(text:str) -> dict:
    "Returns {'part', 'profile', 'commit', 'notebooks': {nb: {rc, wall_s}}, 'check', 'wall_s', 'lines'} of wall.txt."
    out = dict(notebooks={}, lines=text.splitlines())
    for line in out['lines']:
        head, _, rest = line.partition(': ')
        kv = dict(w.split('=', 1) for w in (rest or line).split() if '=' in w)
        if line.startswith('part=') and 'budget_s' in kv:
            out.update(part=kv['part'], profile=kv['profile'], commit=kv['commit'])
        elif line.startswith('part=') and 'wall_s' in kv: out['wall_s'] = int(kv['wall_s'])
        elif head == 'check' and 'rc' in kv: out['check'] = dict(rc=int(kv['rc']), wall_s=int(kv['wall_s']))
        elif head == 'check': out['check'] = dict(rc=None, wall_s=0, note=rest)
        elif head == 'device': out.update(device=kv.get('name', 'unknown').replace('+', ' '), torch=kv.get('torch'))
        elif head[:2].isdigit() and 'rc' in kv:
            out['notebooks'][head] = dict(rc=int(kv['rc']), wall_s=int(kv['wall_s']))
        elif head[:2].isdigit(): out['notebooks'][head] = dict(rc=None, wall_s=0, note=rest)
    return out


def run_histories(runs_zip) -> dict:
    "Returns {run folder: {'config', 'epochs'}} of every run in runs.zip that has a history."
    runs = {}
    with zipfile.ZipFile(runs_zip) as z:
        for name in z.namelist():
            p = Path(name)
            if p.name == 'history.json':
                cfg = p.parent/'config.json'
                runs[p.parent.name] = dict(config=json.loads(z.read(str(cfg))) if str(cfg) in z.namelist() else {},
                                           epochs=json.loads(z.read(name)).get('epochs', []))
    return runs


def epoch_seconds(runs:dict) -> dict:
    "Returns {run: {method, epochs, median_epoch_s, epoch_s}}: each trained epoch's wall time (test pass included)."
    return {name: dict(method=r['config'].get('method'), penalty_mode=r['config'].get('penalty_mode'),
                       amp=r['config'].get('amp'), epochs=len(r['epochs']),
                       median_epoch_s=steady_epoch_s([e['wall_s'] for e in r['epochs']]),
                       epoch_s=[round(e['wall_s'], 2) for e in r['epochs']])
            for name, r in runs.items() if r['epochs']}


def step_ratio(cfg:dict, fgr_x:float, bench:dict, source:str='this lease') -> tuple:
    "Returns (a training config's epoch time over a plain epoch's, its source): measured here, else the H100 record."
    from fgr.train import METHODS
    m = cfg['method']
    if m == 'baseline': return 1.0, 'plain'
    if METHODS[m].penalized:
        if cfg['penalty_mode'] == 'double_backprop' and cfg['penalty_fraction'] == 1 and cfg['penalty_every'] == 1:
            return fgr_x, f'exact FGR epoch / baseline epoch, {source}'
        key = 'fgr finite-diff' if cfg['penalty_mode'] == 'finite_difference' else 'fgr exact'
    else: key = 'pgd7_at' if m == 'pgd_at' else m
    return bench['ratio'][key], f'{H100_BENCH} step ratio {key!r}'


def paper_trainings(params:dict) -> list:
    "Returns the training configs of the `paper` profile: main, ablation, mode check, frontier (its seeds assumed)."
    from fgr.train import main_configs, make_config
    from fgr.ablation import ablation_configs, mode_configs
    from fgr.frontier import frontier_configs, curve_of
    p = params
    cfgs = list(main_configs(p['width'], p['epochs'], p['batch_size'], p['lr'], p['weight_decay'], p['lam'],
                             p['cutoff'], p['n_train'], p['n_test'], p['seed'], p['fgr_mode']).values())
    abl = ablation_configs(p['ablation'], p['width'], p['ablation_epochs'], p['batch_size'], p['lr'], p['weight_decay'],
                           p['ablation_n_train'], p['n_test'], p['seed'], p['fgr_mode'])
    cfgs += list(abl.values())
    cfgs += [c for s in p['mode_seeds'] for c in mode_configs(abl['standard'], p['mode_check'], s).values()]
    grid = {float(c): lams for c, lams in p['frontier_cutoffs']['grid'].items()}
    fr = frontier_configs(p['frontier_grid'], p['frontier_adversarial'], p['width'], p['frontier_epochs'],
                          p['batch_size'], p['lr'], p['weight_decay'], p['cutoff'], p['frontier_n_train'],
                          p['frontier_n_test'], p['seed'], p['fgr_mode'], grid)
    cfgs += list(fr.values())
    # one point per curve gets the extra seeds (which one: after training)
    curves = {}
    for name, c in fr.items(): curves.setdefault(curve_of(name, c), c)
    for curve, c in curves.items():
        seeds = p['frontier_cutoffs']['seeds'] if curve.startswith('fgr c=') else p['frontier_seeds']
        cfgs += [make_config(**{**c, 'seed': s}) for s in seeds]
    unique = {json.dumps(c, sort_keys=True): c for c in cfgs}   # a run found in the store trains once
    return list(unique.values())


def projection(params:dict, baseline_epoch_s:float, fgr_epoch_s:float, bench:dict, source:str='this lease') -> dict:
    "Returns the paper profile's training minutes on one GPU from measured epochs (evaluations and gates not included)."
    rows, total, cfgs = {}, 0.0, paper_trainings(params)
    for c in cfgs:
        r, src = step_ratio(c, fgr_epoch_s / baseline_epoch_s, bench, source)
        s = c['epochs'] * baseline_epoch_s * r * (c['n_train'] or 50_000) / 50_000
        key = f"{c['method']} ({src})"
        rows[key] = rows.get(key, 0) + s; total += s
    return dict(projected_training_min=round(total / 60, 1),
                by_class_min={k: round(v / 60, 1) for k, v in rows.items()},
                method='sum over every training of the profile of epochs x baseline epoch s x step ratio x'
                       ' n_train/50,000; the frontier seeds one point per curve; fp32 runs (amp off) counted at the'
                       ' bf16 rate; evaluations (attacks, corruptions) and each run\'s speed gate not included',
                n_trainings=len(cfgs))


def gpu_speed(files:Path, wall:dict, figures:Path, previous:dict=None) -> dict:
    """Returns gpu_speed.json's record of one call: the check, the epochs, the part's walls and the projection; where
    the call ran no check (or timed no epochs), `previous` record's stay, with the call that measured them."""
    check = json.loads((files/'gpu_check.json').read_text()) if (files/'gpu_check.json').exists() else {}
    runs = epoch_seconds(run_histories(files/'runs.zip')) if (files/'runs.zip').exists() else {}
    timed = json.loads((files/'gpu_epochs.json').read_text()) if (files/'gpu_epochs.json').exists() else {}
    rec = {k: check.get(k) for k in CHECK_KEYS}
    rec['device'] = rec['device'] or wall.get('device')          # a call without a check names its device in wall.txt
    rec.update(commit=wall.get('commit'), part=wall.get('part'), call_wall_s=wall.get('wall_s'),
               notebooks=wall['notebooks'], check_wall=wall.get('check'),
               cuda_graph=check.get('cuda_graph'), epoch_s=runs, epochs_timed=timed.get('variants'),
               lease_log=wall['lines'])
    whose = lambda key: previous.get(key) or {k: previous.get(k) for k in ('part', 'commit', 'device', 'torch')}
    if not check and previous:                  # no check here: the last one's measurements stay, and say whose
        rec.update({k: previous.get(k) for k in CHECK_KEYS if k != 'device'}, cuda_graph=previous.get('cuda_graph'),
                   check_from=whose('check_from'))
    if not timed and previous: rec.update(epochs_timed=previous.get('epochs_timed'), epochs_from=whose('epochs_from'))
    t1 = [wall['notebooks'].get(nb, {}) for nb in ('04_train', '05_attacks', '07_corruptions')]
    rec['table1_wall_s'] = sum(n['wall_s'] for n in t1) if all(n.get('rc') == 0 for n in t1) else None
    main = {r['method']: r['median_epoch_s'] for r in runs.values()       # epochs of the parts' own runs, else
            if r['epochs'] and r['penalty_mode'] == 'double_backprop' and r['method'] in ('baseline', 'fgr')}
    for v in (timed.get('variants') or {}).values():                     # gpu_epochs.py's (the faster convolution)
        if 'median_epoch_s' in v and timed.get('cuda'):
            m = v['config']['method']; main[m] = min(main.get(m, v['median_epoch_s']), v['median_epoch_s'])
    rec['projection_epoch_s'] = main
    bench = figures/H100_BENCH
    if {'baseline', 'fgr'} <= set(main) and bench.exists():
        params = yaml.safe_load((Path(__file__).resolve().parents[1]/'profiles'/'paper.yaml').read_text())
        ratios = json.loads(bench.read_text())['results'][0]
        rec.update(projection(params, main['baseline'], main['fgr'], ratios))
        rec['paper_profile_projected_min'] = rec['projected_training_min']
    else: rec['paper_profile_projected_min'] = None   # no epoch of both main methods came back
    return rec


def paper_runs(store:Path, profile:str, device:str=None, commit:str=None) -> dict:
    """Returns gpu_speed.json's `paper_runs`: for each Table 1 run of the profile that a GPU call trained, its speed
    gate's step times (eager, and the way it trained) and its epochs; and what they give at the profile's own scale:
    plain img/s, exact FGR's step and epoch ratios, the profile's training time projected from these epochs."""
    from fgr.core import load_profile
    from fgr.train import main_configs, FAST_CONV
    p, fast = load_profile(profile), {v: k for k, v in FAST_CONV.items()}   # a candidate's value: FGR_FAST_CONV's
    main = main_configs(p['width'], p['epochs'], p['batch_size'], p['lr'], p['weight_decay'], p['lam'], p['cutoff'],
                        p['n_train'], p['n_test'], p['seed'], p['fgr_mode'])
    hist, runs = run_histories(store), {}
    with zipfile.ZipFile(store) as z:
        for run, e in epoch_seconds(hist).items():
            cfg = {k: v for k, v in hist[run]['config'].items() if k != 'data'}
            name, gate = [n for n, c in main.items() if c == cfg], f'{profile}/{run}/speed_gate.json'
            cifar = str(hist[run]['config'].get('data', '')).startswith('CIFAR-10')
            if not (name and cifar) or gate not in z.namelist(): continue   # not Table 1's, or trained on no GPU
            g = json.loads(z.read(gate))
            if not g.get('reference'): continue                            # its gate failed: no step was timed
            way = [c for c in g['candidates'] if c.get('ok') and g['choice'] == {
                'FGR_CUDA_GRAPH': str(int(c['graph'])), 'FGR_FAST_CONV': fast[c['fast']]}]
            runs[name[0]] = dict(run=run, device=g.get('device') or device, torch=g.get('torch'),
                                 source='speed_gate.json' if g.get('device') else (
                                     'publish_gpu_part.py --device, --commit' if device else None),
                                 commit=g.get('commit') or commit, date=g.get('date'),
                                 switches=g['choice'], eager_step_ms=g['reference']['ms'],
                                 step_ms=way[0]['graph_ms'] if way else g['reference']['ms'], epochs=e['epochs'],
                                 of_epochs=cfg['epochs'], median_epoch_s=e['median_epoch_s'],
                                 train_s=round(sum(e['epoch_s']), 1), test_acc=hist[run]['epochs'][-1]['test_acc'])
    out = dict(runs=runs, source=f'parts/{profile}/runs.zip: each run\'s speed_gate.json and history.json')
    b, f = runs.get('baseline'), runs.get('fgr')
    if b and f and (b['device'], b['torch']) == (f['device'], f['torch']) and b['device']:   # one chip: ratios
        out.update(plain_img_s=p['batch_size'] / b['step_ms'] * 1000, fgr_exact_x=f['step_ms'] / b['step_ms'],
                   fgr_exact_x_eager=f['eager_step_ms'] / b['eager_step_ms'],
                   fgr_exact_x_epochs=f['median_epoch_s'] / b['median_epoch_s'],
                   epoch_s=dict(baseline=b['median_epoch_s'], fgr=f['median_epoch_s']))
        bench = Path(__file__).resolve().parents[1]/'figures'/profile/H100_BENCH
        if profile == 'paper' and bench.exists():
            pr = projection(p, b['median_epoch_s'], f['median_epoch_s'], json.loads(bench.read_text())['results'][0],
                            'the Table 1 runs')
            out.update(paper_profile_projected_min=pr['projected_training_min'], projection=pr)
    return out


def merge_records(runs_zip, root, profile:str) -> Path:
    "Returns root/parts/<profile>/runs.zip with the finished runs of a call's `runs_zip` merged in, each one whole."
    dest = Path(root)/'parts'/profile/'runs.zip'; dest.parent.mkdir(parents=True, exist_ok=True)
    entries = {}
    if dest.exists():
        with zipfile.ZipFile(dest) as z: entries = {i.filename: (i, z.read(i)) for i in z.infolist()}
    with zipfile.ZipFile(runs_zip) as z:
        names = set(z.namelist())
        # finished: a history of all the run's epochs (a later call needs no checkpoint to use it), in this profile
        runs = {f'{profile}/{r}' for r, h in run_histories(runs_zip).items()
                if len(h['epochs']) == h['config'].get('epochs') and f'{profile}/{r}/history.json' in names}
        # a run the call holds replaces all of its earlier records: a run trained again keeps none of the old ones
        old, entries = entries, {n: v for n, v in entries.items() if str(Path(n).parent) not in runs}
        for i in z.infolist():
            if str(Path(i.filename).parent) not in runs: continue
            data = z.read(i)
            same = i.filename in old and old[i.filename][1] == data      # unchanged: its entry as it was, so that
            entries[i.filename] = old[i.filename] if same else (i, data)  # merging the same records changes nothing
    tmp = dest.with_suffix('.tmp')
    with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as z:
        for n in sorted(entries): z.writestr(entries[n][0], entries[n][1], zipfile.ZIP_DEFLATED)
    os.replace(tmp, dest)
    return dest


def restore_weights(files, root, profile:str) -> list:
    """Returns the weight files rebuilt from a call's weights/ parts in root/checkpoints/<profile>/<run>/weights.pt,
    each checked against the sha256 in its run's weights.json (parts that do not check are skipped, and said); weights
    kept there of a run whose records came back naming none (no weights.json) are deleted: an older training's."""
    files, runs, out = Path(files), {}, []
    for part in sorted((files/'weights').glob('*.pt.[0-9][0-9][0-9]')):
        runs.setdefault(part.name.rsplit('.pt.', 1)[0], []).append(part)
    names = set()
    if (files/'runs.zip').exists():
        with zipfile.ZipFile(files/'runs.zip') as z: names = set(z.namelist())
    tied = {Path(n).parent.name for n in names if n.endswith('/weights.json')}   # records that name their weights
    for run in {Path(n).parent.name for n in names if n.endswith('/history.json')} - tied - set(runs):
        shutil.rmtree(Path(root)/'checkpoints'/profile/run, ignore_errors=True)
    for run, parts in runs.items():
        try:
            with zipfile.ZipFile(files/'runs.zip') as z: meta = json.loads(z.read(f'{profile}/{run}/weights.json'))
        except (FileNotFoundError, KeyError):
            print(f'weights of {run}: no weights.json came back with them, so they cannot be checked: skipped')
            continue
        data = b''.join(p.read_bytes() for p in parts)
        if [p.name for p in parts] != meta.get('parts') or hashlib.sha256(data).hexdigest() != meta['sha256']:
            print(f"weights of {run} came back incomplete or damaged ({len(parts)} of {len(meta.get('parts', []))} "
                  'parts, or another sha256): skipped; its evaluations need a call that trains it')
            continue
        dest = Path(root)/'checkpoints'/profile/run/'weights.pt'; dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name('.tmp-weights.pt'); tmp.write_bytes(data); os.replace(tmp, dest); out.append(dest)
    return out


def publish_part(files, root, device:str=None, commit:str=None) -> Path:
    """Replaces figures/<profile> of `root` by the call's figures.zip and writes its gpu_speed.json; returns the folder,
    or None after a call that ran no notebook and timed nothing (a run: part), whose records alone are kept
    (parts/<profile>/runs.zip)."""
    from fgr.core import save_json
    files, root = Path(files), Path(root)
    wall = read_wall((files/'wall.txt').read_text())
    profile = wall.get('profile')
    if not profile: raise SystemExit(f'{files}/wall.txt names no profile: is FILES_AT what gpu_part.sh wrote?')
    out = root/'figures'/profile
    def with_runs(rec):                 # every gpu_speed.json carries the speed of the Table 1 runs the store holds
        store = root/'parts'/profile/'runs.zip'
        return dict(rec, paper_runs=paper_runs(store, profile, device, commit)) if store.exists() else rec
    if (files/'runs.zip').exists(): merge_records(files/'runs.zip', root, profile)   # for the next call's notebooks
    for w in restore_weights(files, root, profile):
        print(f'weights of {w.parent.name} kept in {w} (git-ignored): its remaining evaluations need no training; '
              f'stage them with scripts/gpu_stage.sh --eval')
    timed = (files/'gpu_check.json').exists() or (files/'gpu_epochs.json').exists()   # a check or epochs wrote
    previous = json.loads((out/'gpu_speed.json').read_text()) if (out/'gpu_speed.json').exists() else None
    ran = {nb: v for nb, v in wall['notebooks'].items() if v['rc'] is not None}       # notebooks that started
    if not ran and not timed:                  # records alone: a run: part, or a call whose other steps never started
        speed = out/'gpu_speed.json'                          # records, and the runs' speed beside the lease's
        if speed.exists(): save_json(with_runs(json.loads(speed.read_text())), speed)
        return None
    if not ran:                                # a lease or check: no notebook ran, the record is gpu_speed.json alone
        out.mkdir(parents=True, exist_ok=True)
        save_json(with_runs(gpu_speed(files, wall, out, previous)), out/'gpu_speed.json')
        return out
    stage = Path(tempfile.mkdtemp(prefix=f'.tmp-gpu-{profile}-', dir=out.parent))
    with zipfile.ZipFile(files/'figures.zip') as z: z.extractall(stage)
    if not (stage/profile/'manifest.json').exists():
        shutil.rmtree(stage)
        raise SystemExit(f'figures.zip holds no {profile}/manifest.json: nothing to publish (see {files}/log.txt)')
    save_json(with_runs(gpu_speed(files, wall, stage/profile, previous)), stage/profile/'gpu_speed.json')
    old = out.parent/f'{stage.name}-old'
    if out.exists(): os.replace(out, old)
    os.replace(stage/profile, out); shutil.rmtree(stage); shutil.rmtree(old, ignore_errors=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('files', help="the folder of the call's files (the run tool's files_at)")
    ap.add_argument('--root', default=str(Path(__file__).resolve().parents[1]), help='the repository (default: this)')
    ap.add_argument('--device', help="the GPU that the run tool named for the call that trained the Table 1 runs, for "
                    "records that name none (before 2026-11-30); the records say it came from here")
    ap.add_argument('--commit', help='the commit that call trained them at, for the same records (wall.txt names it)')
    a = ap.parse_args(argv)
    out = publish_part(a.files, a.root, a.device, a.commit)
    for records in sorted((Path(a.root)/'parts').glob('*/runs.zip')):
        print(f'run records (configs, histories, evaluations) in {records}: '
              f'{records.stat().st_size / 1024:.0f} kB, tracked; the next call unpacks them')
    if out is None:
        print('records only (no notebook ran, nothing was timed), figures unchanged; a table1 call builds Table 1 '
              'from both runs\' records')
        return 0
    speed = json.loads((out/'gpu_speed.json').read_text())
    print(f"published {out}: notebooks {speed['notebooks']}; projected paper profile (training) "
          f"{speed['paper_profile_projected_min']} min. Next: fgr-reproduce --profile {out.name} --only 09_claims")
    return 0


if __name__ == '__main__': sys.exit(main())
