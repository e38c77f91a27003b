"The GPU lease's script on the CPU under smoke: a part runs, stops at its budget, comes back packed, and publishes."
import json, os, shutil, subprocess, sys, zipfile
import pytest
import yaml
from conftest import ROOT, real_archive
sys.path.insert(0, str(ROOT/'scripts'))
import publish_gpu_part as pub
import gpu_epochs as epochs

def gpu_part(part, out, **env):
    env.setdefault('FGR_PARTS', str(out.parent/'no-parts'))   # never the repository's own parts/ records,
    env.setdefault('FGR_STAGED', str(out.parent/'no-staging'))  # nor what a developer staged in .gpu for a GPU call
    if real_archive() is not None: env.setdefault('FGR_DATA', str(real_archive()))
    return subprocess.run(['bash', str(ROOT/'scripts'/'gpu_part.sh'), part, str(out), '--profile', 'smoke'], cwd=ROOT,
                          env=dict(os.environ, MPLBACKEND='Agg', **env), capture_output=True, text=True, timeout=900)

def test_table1_part_comes_back_in_two_zips_and_publishes(tmp_path):
    r = gpu_part('table1', tmp_path/'out')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    files = sorted(p.name for p in (tmp_path/'out').iterdir())
    # flat: a call returns ≤ 8, 2 levels down
    assert files == ['figures.zip', 'log.txt', 'runs.zip', 'wall.txt'], files
    wall = pub.read_wall((tmp_path/'out'/'wall.txt').read_text())
    assert {nb: v['rc'] for nb, v in wall['notebooks'].items()} == dict.fromkeys(('04_train', '05_attacks',
                                                                                 '07_corruptions'), 0), wall
    with zipfile.ZipFile(tmp_path/'out'/'runs.zip') as z: assert not [n for n in z.namelist() if n.endswith('.pt')]
    (tmp_path/'repo'/'figures').mkdir(parents=True)
    out = pub.publish_part(tmp_path/'out', tmp_path/'repo')
    manifest = json.loads((out/'manifest.json').read_text())
    assert {'04_train', '05_attacks', '07_corruptions'} <= set(manifest['notebooks'])
    assert (out/'table1.json').exists() and (out/'notebooks'/'05_attacks.ipynb').exists()
    speed = json.loads((out/'gpu_speed.json').read_text())
    assert speed['table1_wall_s'] == sum(v['wall_s'] for v in wall['notebooks'].values())
    assert {r['method'] for r in speed['epoch_s'].values()} == {'baseline', 'fgr'}
    assert speed['paper_profile_projected_min'] is None   # smoke has no H100 record to project other classes from

def test_lease_times_and_publishes_its_speed_record(tmp_path):
    r = gpu_part('lease', tmp_path/'out', FGR_LEASE_S='400', FGR_CHECK_S='120')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    wall = (tmp_path/'out'/'wall.txt').read_text()
    assert 'check: rc=0' in wall and 'epochs: rc=0' in wall, wall
    check = json.loads((tmp_path/'out'/'gpu_check.json').read_text())
    assert check['cuda'] is False and 'equality' in check
    (tmp_path/'repo'/'figures'/'smoke').mkdir(parents=True)
    out = pub.publish_part(tmp_path/'out', tmp_path/'repo')          # no notebook ran: gpu_speed.json alone
    assert sorted(p.name for p in out.iterdir()) == ['gpu_speed.json']
    speed = json.loads((out/'gpu_speed.json').read_text())
    assert set(speed['epochs_timed']) == set(epochs.VARIANTS) and speed['equality_ok'] is not None
    assert speed['device'] == 'cpu' and speed['table1_wall_s'] is None
    assert pub.read_wall(wall)['device'] == 'cpu'                       # the call names its device

def test_lease_stops_at_its_budget_and_says_so(tmp_path):
    r = gpu_part('lease', tmp_path/'out', FGR_LEASE_S='70', FGR_CHECK_S='30')   # the check leaves < 60 s
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    wall = (tmp_path/'out'/'wall.txt').read_text()
    # the check ends, or its own limit (30 s) stops it on a slow machine (rc 124): either way the budget holds
    assert ('check: rc=0' in wall or 'check: rc=124' in wall) and 'epochs: not started' in wall, wall
    assert not (tmp_path/'out'/'gpu_epochs.json').exists()

def test_unknown_part_is_a_usage_error(tmp_path):
    r = gpu_part('tabel1', tmp_path/'out')
    assert r.returncode == 2 and "unknown part 'tabel1'" in r.stderr
    r = gpu_part('run:baseline+tabel1', tmp_path/'out')                 # each of joined parts is checked, first
    assert r.returncode == 2 and "unknown part 'tabel1'" in r.stderr and not (tmp_path/'out').exists()

def test_joined_parts_run_in_the_order_given(tmp_path):
    r = gpu_part('run:nosuch+check+run:other', tmp_path/'out', FGR_LEASE_S='300', FGR_CHECK_S='3')
    steps = [line.split(': ')[0] for line in (tmp_path/'out'/'wall.txt').read_text().splitlines()
             if ': rc=' in line or ': not started' in line]
    assert r.returncode == 0 and steps == ['run:nosuch', 'check', 'run:other'], (steps, r.stdout[-3000:] + r.stderr)
    assert "run:nosuch: rc=2" in r.stdout and "choose one of" in r.stdout       # gpu_run.py's usage error, logged
    for bad in ('run:a,,b', 'run:a,'):
        assert gpu_part(bad, tmp_path/'bad').returncode == 2
    r = gpu_part('check', tmp_path/'bad', FGR_CHECK_S='0')                       # timeout 0 would mean no limit
    assert r.returncode == 2 and 'positive whole number' in r.stderr

def test_a_call_without_a_check_keeps_the_last_checks_measurements(tmp_path):
    wall = pub.read_wall('part=table1 profile=smoke commit=c2 budget_s=9 T\ndevice: name=GPU torch=2\n'
                         '04_train: rc=0 wall_s=5\n')
    previous = dict(plain_img_s=43000.0, kernel_profile={'plain': []}, part='lease', commit='c1', epochs_timed={'x': 1})
    rec = pub.gpu_speed(tmp_path, wall, tmp_path, previous)
    assert rec['plain_img_s'] == 43000.0 and rec['check_from'] == dict(part='lease', commit='c1', device=None,
                                                                        torch=None)
    assert pub.gpu_speed(tmp_path, wall, tmp_path, rec)['check_from'] == rec['check_from']   # the first measurer
    assert rec['epochs_timed'] == {'x': 1} and (rec['commit'], rec['device']) == ('c2', 'GPU')
    assert pub.gpu_speed(tmp_path, wall, tmp_path)['plain_img_s'] is None     # nothing measured, nothing before

def test_a_call_whose_steps_never_started_publishes_its_records_alone(tmp_path):
    files, repo = tmp_path/'files', tmp_path/'repo'
    files.mkdir(); (repo/'figures'/'smoke').mkdir(parents=True)
    (files/'wall.txt').write_text('part=run:fgr+table1+check profile=smoke commit=abc budget_s=100 2026-01-01T00:00Z\n'
                                  'device: name=cpu torch=2\nrun:fgr: rc=124 wall_s=90\n'
                                  '04_train: not started, 9 s left\ncheck: not started, 8 s left\n'
                                  'part=run:fgr+table1+check wall_s=100\n')
    zipfile.ZipFile(files/'figures.zip', 'w').close()                         # empty: no notebook ran
    with zipfile.ZipFile(files/'runs.zip', 'w') as z: z.writestr('smoke/fgr-x/config.json', '{}')
    wall = pub.read_wall((files/'wall.txt').read_text())
    assert wall['check']['rc'] is None and wall['notebooks']['04_train']['rc'] is None
    assert pub.publish_part(files, repo) is None and (repo/'parts'/'smoke'/'runs.zip').exists()
    assert not (repo/'figures'/'smoke'/'gpu_speed.json').exists()             # nothing timed: no speed record

def test_projection_counts_every_training_of_the_paper_profile():
    params = yaml.safe_load((ROOT/'profiles'/'paper.yaml').read_text())
    bench = json.loads((ROOT/'figures'/'paper'/pub.H100_BENCH).read_text())['results'][0]
    p1, p2 = pub.projection(params, 4.6, 17.7, bench), pub.projection(params, 9.2, 35.4, bench)
    assert p1['n_trainings'] > 50 and abs(sum(p1['by_class_min'].values()) - p1['projected_training_min']) < 1
    assert abs(p2['projected_training_min'] - 2 * p1['projected_training_min']) < 0.2   # linear in the epoch times
    main = 50 * (4.6 + 17.7) / 60                                                         # the two 50-epoch runs alone
    assert p1['projected_training_min'] > main

def test_table1_across_calls_from_run_records_without_checkpoints(tmp_path):
    "Two calls train and evaluate one run each; a third, on a fresh store, builds Table 1 from their records alone."
    for i, name in enumerate(('baseline', 'fgr')):
        r = gpu_part(f'run:{name}', tmp_path/f'out{i}', FGR_RUNS=str(tmp_path/f'store{i}'))   # a fresh machine each
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        assert f'run:{name}: rc=0' in (tmp_path/f'out{i}'/'wall.txt').read_text()
        with zipfile.ZipFile(tmp_path/f'out{i}'/'runs.zip') as z: names = z.namelist()
        assert not [n for n in names if n.endswith('.pt')] and [n for n in names if '/table1-' in n], names
        (tmp_path/'repo'/'figures'/'smoke').mkdir(parents=True, exist_ok=True)
        pub.publish_part(tmp_path/f'out{i}', tmp_path/'repo')
    assert not (tmp_path/'repo'/'figures'/'smoke'/'gpu_speed.json').exists()   # records only: no speed record
    with zipfile.ZipFile(tmp_path/'repo'/'parts'/'smoke'/'runs.zip') as z:
        runs = {n.split('/')[1] for n in z.namelist()}
    assert sorted(r.split('-')[0] for r in runs) == ['baseline', 'fgr'], runs
    from fgr.data import write_test_archive                  # the test split alone, as an evaluation call carries
    try: data = dict(FGR_DATA=str(write_test_archive(tmp_path/'test.npz', os.environ.get('FGR_DATA') or None)))
    except ValueError: data = {}                             # no published archive here (torchvision's): all of it
    r = gpu_part('run:fgr+table1', tmp_path/'out2', FGR_RUNS=str(tmp_path/'store2'),   # joined: the run is found
                 FGR_PARTS=str(tmp_path/'repo'/'parts'), **data)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    wall = pub.read_wall((tmp_path/'out2'/'wall.txt').read_text())
    assert {nb: v['rc'] for nb, v in wall['notebooks'].items()} == dict.fromkeys(('04_train', '05_attacks',
                                                                                 '07_corruptions'), 0), wall
    assert not list((tmp_path/'store2').rglob('*.pt'))                        # nothing trained again
    out = pub.publish_part(tmp_path/'out2', tmp_path/'repo')
    t1 = json.loads((out/'table1.json').read_text())
    assert set(t1['models']) == {'baseline', 'fgr'} and sorted(t1['runs'].values()) == sorted(runs)
    # a record missing (a call stopped during the evaluations): run:fgr trains again and replaces the run's records
    records = tmp_path/'repo'/'parts'/'smoke'/'runs.zip'
    with zipfile.ZipFile(records) as z:
        kept = {n: z.read(n) for n in z.namelist() if '/grid-' not in n or 'fgr-' not in n}
    with zipfile.ZipFile(records, 'w') as z:
        for n, v in kept.items(): z.writestr(n, v)
    r = gpu_part('run:fgr', tmp_path/'out3', FGR_RUNS=str(tmp_path/'store3'), FGR_PARTS=str(tmp_path/'repo'/'parts'))
    assert r.returncode == 0 and 'training again' in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]
    pub.publish_part(tmp_path/'out3', tmp_path/'repo')
    with zipfile.ZipFile(records) as z: assert [n for n in z.namelist() if '/grid-' in n and 'fgr-' in n]

def test_speed_gate_takes_the_fastest_equal_candidate(monkeypatch):
    import torch
    import fgr.train
    from fgr.data import Cifar10
    from fgr.train import make_config
    ref = torch.tensor([2.3, 2.2, 2.0])
    fakes = {(False, False): (ref, 10.0), (True, False): (ref * 1.0005, 4.0), (True, True): (ref * 1.2, 3.0),
             (True, 'conv'): (ref * 1.2, 3.5)}
    def fake(cfg, batches, device, graph, fast=False, repeats=0, inner=5):
        losses, ms = fakes[graph, fast]
        return dict(losses=losses, ms=ms, error=None)
    monkeypatch.setattr(fgr.train, 'step_trajectory', fake)
    for var in ('FGR_CUDA_GRAPH', 'FGR_FAST_CONV'): monkeypatch.delenv(var, raising=False)
    x, y = torch.zeros(8, 3, 32, 32, dtype=torch.uint8), torch.zeros(8, dtype=torch.long)
    data = Cifar10(x, y, x, y, 'fake')
    cfg = make_config(method='fgr', lam=0.1, batch_size=4)
    gate = fgr.train.speed_gate(cfg, data, 'cpu', steps=2)   # fast conv: fastest, but 20% off the reference's losses
    assert gate['choice'] == {'FGR_CUDA_GRAPH': '1', 'FGR_FAST_CONV': '0'}, gate
    assert [c['ok'] for c in gate['candidates']] == [False, False, True] and gate['loss_rtol'] == 1e-3   # fp32, CPU
    fakes[True, True] = (ref, 3.0)
    assert fgr.train.speed_gate(cfg, data, 'cpu', 2)['choice'] == {'FGR_CUDA_GRAPH': '1', 'FGR_FAST_CONV': '1'}
    fakes[True, True], fakes[True, 'conv'] = (ref * 1.2, 3.0), (ref, 3.5)    # the convolutions alone: equal, fastest
    assert fgr.train.speed_gate(cfg, data, 'cpu', 2)['choice'] == {'FGR_CUDA_GRAPH': '1', 'FGR_FAST_CONV': 'conv'}
    monkeypatch.setenv('FGR_FAST_CONV', 'conv')                    # a caller's value: the one candidate
    assert [c['fast'] for c in fgr.train.speed_gate(cfg, data, 'cpu', 2)['candidates']] == ['conv']
    monkeypatch.setenv('FGR_FAST_CONV', '0')                       # the caller's choice restricts the gate
    assert fgr.train.speed_gate(cfg, data, 'cpu', 2)['choice'] == {'FGR_CUDA_GRAPH': '1', 'FGR_FAST_CONV': '0'}
    fakes[True, False] = (ref, 9.8)                                # equal but within 5%: eager
    assert fgr.train.speed_gate(cfg, data, 'cpu', 2)['choice'] == {'FGR_CUDA_GRAPH': '0', 'FGR_FAST_CONV': '0'}
    monkeypatch.delenv('FGR_FAST_CONV')
    fakes.update({(True, False): (ref, 4.0), (True, True): (ref, 3.0), (True, 'conv'): (ref, 3.5)})
    gate = fgr.train.speed_gate(cfg, data, 'cpu', 2, first='conv')  # an earlier run's choice: tried first, and alone
    assert [c['fast'] for c in gate['candidates']] == ['conv'] and gate['choice']['FGR_FAST_CONV'] == 'conv'
    fakes[True, 'conv'] = (ref * 1.2, 3.5)                         # it fails here: the others are tried, in order
    gate = fgr.train.speed_gate(cfg, data, 'cpu', 2, first='conv')
    assert [c['fast'] for c in gate['candidates']] == ['conv', True, False] and gate['choice']['FGR_FAST_CONV'] == '1'

def test_runs_of_one_step_share_the_speed_gates_choice(tmp_path, monkeypatch):
    import torch
    import fgr.train
    from fgr.data import synthetic_cifar
    from fgr.train import make_config, gate_key
    seen = []
    def gate(cfg, data, device, steps=20, first=None):
        seen.append(first)
        return dict(choice={'FGR_CUDA_GRAPH': '1', 'FGR_FAST_CONV': 'conv'}, candidates=[])
    monkeypatch.setattr(fgr.train, 'speed_gate', gate); monkeypatch.setattr(fgr.train, 'cuda_graph', lambda d: True)
    monkeypatch.setattr(torch.cuda, 'empty_cache', lambda: None)
    data, store = synthetic_cifar(16), tmp_path/'store'
    cfg = lambda **kw: make_config(**dict(dict(method='fgr', lam=0.1, width=0.0625, batch_size=8, epochs=1), **kw))
    for lam in (0.1, 0.3): fgr.train._speed_decision(cfg(lam=lam), data, 'cpu', store/f'run-{lam}')
    fgr.train._speed_decision(cfg(batch_size=16), data, 'cpu', store/'other-step')
    assert seen == [None, 'conv', None]                            # λ changes no kernel; the batch size does
    assert gate_key(cfg(lam=0.1), 'cpu') == gate_key(cfg(lam=0.3, seed=2), 'cpu') != gate_key(cfg(amp=False), 'cpu')
    record = json.loads((store/'run-0.3'/'speed_gate.json').read_text())
    assert record['tried_first'] == dict(fast='conv', run='run-0.1')
    (store/'.speed-gates'/f"{gate_key(cfg(), 'cpu')}.json").write_text('not json')   # unreadable: as if none
    fgr.train._speed_decision(cfg(lam=0.5), data, 'cpu', store/'run-0.5')
    assert seen[-1] is None

def test_deadline_stops_a_run_that_cannot_end_in_time(monkeypatch):
    import gpu_run
    clock = iter([1000.0, 1030.0, 1040.0, 1050.0])                 # a first epoch of 30 s (capture), then 10 s each
    monkeypatch.setattr(gpu_run.time, 'time', lambda: next(clock))
    guard = gpu_run.Deadline(deadline=1040 + 10 * 48 + 20, epochs=50, reserve_s=20)   # exactly enough
    guard(0, 0, None); guard(0, 5, None); guard(1, 0, None)        # the first epoch decides nothing
    guard(2, 0, None)                                              # 48 epochs left at 10 s: 480 + 20 s, fits
    guard.deadline -= 11
    with pytest.raises(gpu_run.WontFit, match='3 of 50 epochs done, the last in 10.0 s'): guard(3, 0, None)

def test_a_run_that_cannot_end_by_the_deadline_stops_after_its_second_epoch(tmp_path, monkeypatch, capsys):
    import time
    import gpu_run
    import fgr.core
    smoke = fgr.core.load_profile('smoke')
    monkeypatch.setattr(fgr.core, 'load_profile', lambda name: dict(smoke, epochs=3))   # the guard decides from the 3rd
    monkeypatch.setenv('FGR_RUNS', str(tmp_path/'store')); monkeypatch.setenv('TQDM_DISABLE', '1')
    assert gpu_run.main(['baseline', '--profile', 'smoke', '--deadline', str(time.time() + 30),
                         '--reserve-s', '3600']) == 3
    out = capsys.readouterr().out
    assert '2 of 3 epochs done' in out and 'stopped' in out, out[-2000:]

def test_speed_gate_runs_its_real_trajectories_and_keeps_eager_without_cuda(monkeypatch):
    import torch
    import fgr.train
    from fgr.data import Cifar10
    from fgr.train import make_config
    for var in ('FGR_CUDA_GRAPH', 'FGR_FAST_CONV'): monkeypatch.delenv(var, raising=False)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8, generator=g), torch.arange(16) % 10
    cfg = make_config(method='fgr', lam=0.1, width=0.0625, batch_size=8, epochs=1)
    gate = fgr.train.speed_gate(cfg, Cifar10(x, y, x, y, 'fake'), 'cpu', steps=2)
    assert gate['choice'] == {'FGR_CUDA_GRAPH': '0', 'FGR_FAST_CONV': '0'} and len(gate['reference']['losses']) == 2
    assert len(gate['candidates']) == 3 and all(c['error'] and not c['ok'] for c in gate['candidates'])   # no capture

def test_weights_of_an_unfinished_evaluation_come_back_and_a_test_only_call_finishes_it(tmp_path, monkeypatch):
    """Call 1 trains and evaluates table1 alone: its weights return in parts; this machine computes the checks from
    them (evaluate_here.py); call 2 carries the test split alone."""
    from fgr.data import load_cifar10, write_test_archive
    src = os.environ.get('FGR_DATA')
    if not (src and src.endswith('.npz')): pytest.skip('needs the offline archive (FGR_DATA) to cut its test split')
    r = gpu_part('run:baseline', tmp_path/'out1', FGR_RUNS=str(tmp_path/'store1'), FGR_RUN_EVALUATIONS='table1')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    parts = sorted(p.name for p in (tmp_path/'out1'/'weights').iterdir())
    assert parts and all('.pt.' in p for p in parts), parts
    repo = tmp_path/'repo'; (repo/'figures'/'smoke').mkdir(parents=True)
    pub.publish_part(tmp_path/'out1', repo)
    weights = list((repo/'checkpoints'/'smoke').glob('*/weights.pt'))
    assert len(weights) == 1 and weights[0].parent.name.startswith('baseline-'), weights
    import evaluate_here
    monkeypatch.setenv('FGR_RUNS', str(tmp_path/'here'))
    assert evaluate_here.main(['baseline', '--profile', 'smoke', '--evaluations', 'checks', '--root', str(repo)]) == 0
    with zipfile.ZipFile(repo/'parts'/'smoke'/'runs.zip') as z:                   # kept with the run's records
        checks = [n for n in z.namelist() if n.split('/')[-1].startswith('checks-')]
        assert len(checks) == 1 and json.loads(z.read(checks[0]))['computed_on'], z.namelist()
        assert not [n for n in z.namelist() if n.endswith('.pt')]
    assert evaluate_here.main(['baseline', '--profile', 'smoke', '--root', str(repo), '--keep-only']) == 0
    with pytest.raises(SystemExit, match='no weights'):                          # never trained here
        evaluate_here.main(['fgr', '--profile', 'smoke', '--root', str(repo)])
    staged = tmp_path/'gpu'/'weights'/'smoke'/weights[0].parent.name; staged.mkdir(parents=True)
    shutil.copy(weights[0], staged)                                                  # what gpu_stage.sh --eval stages
    test_only = write_test_archive(tmp_path/'gpu'/'cifar10-jpeg-test.npz', src)
    r = gpu_part('run:baseline', tmp_path/'out2', FGR_RUNS=str(tmp_path/'store2'), FGR_PARTS=str(repo/'parts'),
                 FGR_WEIGHTS_IN=str(tmp_path/'gpu'/'weights'), FGR_DATA=str(test_only))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    log = (tmp_path/'out2'/'log.txt').read_text()
    assert 'weights: baseline-' in log and 'epoch 1' not in log, log[-3000:]       # evaluated, not trained again
    assert not list((tmp_path/'out2').glob('weights/*.pt.*'))                       # nothing to bring back
    with zipfile.ZipFile(tmp_path/'out2'/'runs.zip') as z: names = z.namelist()
    kinds = {n.split('/')[-1].split('-')[0] for n in names if n.count('/') == 2}
    assert {'table1', 'spectrum', 'checks', 'grid', 'corruptions', 'reconstruction'} <= kinds, names
    assert len(load_cifar10(test_only).train_y) == 0 and (staged/'weights.pt').exists()

def test_restore_weights_checks_each_run_and_forgets_older_trainings(tmp_path, capsys):
    import hashlib
    files, root = tmp_path/'files', tmp_path/'repo'
    (files/'weights').mkdir(parents=True)
    good = bytes(range(40))
    (files/'weights'/'a.pt.000').write_bytes(good[:25]); (files/'weights'/'a.pt.001').write_bytes(good[25:])
    (files/'weights'/'b.pt.000').write_bytes(b'damaged')
    with zipfile.ZipFile(files/'runs.zip', 'w') as z:
        for run, data, parts in (('a', good, ['a.pt.000', 'a.pt.001']), ('b', b'other', ['b.pt.000'])):
            z.writestr(f'smoke/{run}/history.json', '{}')
            z.writestr(f'smoke/{run}/weights.json', json.dumps(dict(sha256=hashlib.sha256(data).hexdigest(),
                                                                    parts=parts)))
        z.writestr('smoke/c/history.json', '{}')          # trained again and evaluated whole: its records name none
        z.writestr('smoke/d/history.json', '{}'); z.writestr('smoke/d/weights.json', '{}')   # still tied to weights
    old, kept = (root/'checkpoints'/'smoke'/r/'weights.pt' for r in ('c', 'd'))
    for f in (old, kept): f.parent.mkdir(parents=True); f.write_bytes(b'an earlier call')
    out = pub.restore_weights(files, root, 'smoke')
    assert out == [root/'checkpoints'/'smoke'/'a'/'weights.pt'] and out[0].read_bytes() == good
    assert not (root/'checkpoints'/'smoke'/'b').exists()
    assert 'weights of b came back incomplete' in capsys.readouterr().out
    assert not old.exists() and kept.exists()

def test_paper_runs_gives_each_table1_runs_speed_as_it_trained_and_their_ratios(tmp_path):
    from fgr.core import load_profile
    from fgr.train import main_configs
    p = load_profile('smoke')
    cfgs = main_configs(p['width'], p['epochs'], p['batch_size'], p['lr'], p['weight_decay'], p['lam'], p['cutoff'],
                        p['n_train'], p['n_test'], p['seed'], p['fgr_mode'])
    cfgs['other'] = dict(cfgs['fgr'], lam=9.0)                             # not a Table 1 run: left out
    store = tmp_path/'runs.zip'
    with zipfile.ZipFile(store, 'w') as z:
        for name, eager_ms, graph_ms, wall in (('baseline', 10.0, 4.0, 2.0), ('fgr', 40.0, 20.0, 14.0),
                                               ('other', 1.0, 1.0, 1.0)):
            cfg, f = cfgs[name], f'smoke/{name}-run'
            z.writestr(f'{f}/config.json', json.dumps(dict(cfg, data='CIFAR-10 (JPEG q75 copy)')))
            z.writestr(f'{f}/history.json', json.dumps(dict(epochs=[dict(wall_s=wall, test_acc=50.0)] * cfg['epochs'])))
            gate = dict(choice={'FGR_CUDA_GRAPH': '1', 'FGR_FAST_CONV': '0'}, reference=dict(ms=eager_ms),
                        candidates=[dict(ok=True, graph=True, fast=True, graph_ms=graph_ms / 2),   # faster, not chosen
                                    dict(ok=True, graph=True, fast=False, graph_ms=graph_ms)])
            z.writestr(f'{f}/speed_gate.json', json.dumps(gate))
        z.writestr('smoke/synthetic-run/config.json', json.dumps(dict(cfgs['fgr'], data='synthetic')))  # not CIFAR
        z.writestr('smoke/synthetic-run/history.json', z.read('smoke/fgr-run/history.json'))
        z.writestr('smoke/synthetic-run/speed_gate.json', z.read('smoke/fgr-run/speed_gate.json'))
    r = pub.paper_runs(store, 'smoke', device='GPU X', commit='abc')
    assert set(r['runs']) == {'baseline', 'fgr'} and r['runs']['fgr']['run'] == 'fgr-run'  # not the synthetic one
    assert (r['runs']['fgr']['device'], r['runs']['fgr']['commit']) == ('GPU X', 'abc')   # records name none: said so
    assert r['runs']['fgr']['source'] == 'publish_gpu_part.py --device, --commit'
    assert r['runs']['fgr']['step_ms'] == 20.0 and r['runs']['baseline']['median_epoch_s'] == 2.0
    assert r['plain_img_s'] == pytest.approx(p['batch_size'] / 4.0 * 1000)
    assert (r['fgr_exact_x'], r['fgr_exact_x_eager'], r['fgr_exact_x_epochs']) == (5.0, 4.0, 7.0)
    assert 'paper_profile_projected_min' not in r                          # projected for the paper profile alone
    assert 'fgr_exact_x' not in pub.paper_runs(store, 'smoke')               # no device named: no ratio across runs

def test_records_computed_here_join_those_of_parts_and_never_another_training(tmp_path):
    import evaluate_here as here
    root, folder = tmp_path/'repo', tmp_path/'store'/'smoke'/'r'
    (root/'parts'/'smoke').mkdir(parents=True); folder.mkdir(parents=True)
    cfg, hist = json.dumps(dict(epochs=1)), json.dumps(dict(epochs=[{}]))
    def parts(files):
        with zipfile.ZipFile(root/'parts'/'smoke'/'runs.zip', 'w') as z:
            for n, v in files.items(): z.writestr(f'smoke/r/{n}', v)
    parts({'config.json': cfg, 'history.json': hist, 'grid-1.json': '{}',        # a GPU call published meanwhile
           't_pieces-1.json': json.dumps({'linf': 1, '_computed_on': {'linf': 'GPU'}})})
    for n, v in {'config.json': cfg, 'history.json': hist, 'table1-1.json': '{}', '.tmp-9-x.json': '{',
                 't_pieces-1.json': json.dumps({'l2': 2, '_computed_on': {'l2': 'CPU'}})}.items():
        (folder/n).write_text(v)
    with zipfile.ZipFile(here.keep_records(root, folder, 'smoke')) as z:
        names = sorted(n.split('/')[-1] for n in z.namelist())
        assert names == ['config.json', 'grid-1.json', 'history.json', 't_pieces-1.json', 'table1-1.json'], names
        assert json.loads(z.read('smoke/r/t_pieces-1.json')) == {'linf': 1, 'l2': 2,
                                                                  '_computed_on': {'linf': 'GPU', 'l2': 'CPU'}}
    parts({'config.json': cfg, 'history.json': json.dumps(dict(epochs=[{'a': 1}]))})   # trained again meanwhile
    with pytest.raises(SystemExit, match='another training'): here.keep_records(root, folder, 'smoke')
