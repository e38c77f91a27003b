"fgr.runs: run_all gives what a plain loop gives, here and on Ray, and a shared run store trains each run once."
import importlib.util, json, os, subprocess, sys, textwrap
import pytest, torch
from conftest import ROOT, real_archive, fgr_reproduce
from fgr.data import synthetic_cifar
from fgr.train import make_config, train
from fgr.runs import run_all

SYN = synthetic_cifar(128, seed=0)

def tiny(**kw):
    "A smoke-size config: width 0.125, one epoch on 128 images."
    return make_config(**{**dict(width=0.125, epochs=1, batch_size=64, n_train=128, n_test=32, amp=False), **kw})

CONFIGS = {'baseline': tiny(), 'fgr': tiny(method='fgr', lam=0.1)}

def logit_sum(run):
    "The evaluation: summed logits on 16 fixed images and the accuracy on the 32 test images, where the model is."
    with torch.no_grad():
        logits = run.model(SYN.test_x.float() / 255)
    return dict(logit_sum=logits[:16].sum().item(), acc=(logits.argmax(1) == SYN.test_y).float().mean().item())

def numbers(result):
    "A result's numbers: the history without its wall times, the final test accuracy and the evaluation."
    return ([{k: v for k, v in e.items() if k != 'wall_s'} for e in result['history']], result['final']['test_acc'],
            result['evaluation'])

@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv('FGR_RUNS', str(tmp_path))
    for k in ('FGR_EXECUTOR', 'FGR_RAY_ADDRESS', 'FGR_RUNS_PER_GPU'): monkeypatch.delenv(k, raising=False)
    threads = torch.get_num_threads(); torch.set_num_threads(1)   # as each Ray task runs
    yield tmp_path
    torch.set_num_threads(threads)

def test_local_executor_equals_a_plain_loop(store):
    res = run_all(CONFIGS, SYN, 'local', logit_sum, executor='local', progress=False)
    plain = {n: train(c, SYN, 'plain', progress=False) for n, c in CONFIGS.items()}
    assert list(res) == list(CONFIGS)
    for n, r in plain.items():
        assert numbers(res[n]) == numbers(dict(history=r.history, final=r.final, evaluation=logit_sum(r)))
        assert res[n]['run'] == r.path.name and res[n]['config'] == r.config
    json.dumps(res)

def test_environment_selects_ray_and_names_the_extra(store, monkeypatch):
    monkeypatch.setenv('FGR_EXECUTOR', 'ray'); monkeypatch.setitem(sys.modules, 'ray', None)   # Ray not installed
    with pytest.raises(ImportError, match=r'pip install -e "\.\[ray\]"'): run_all(CONFIGS, SYN, 'x', progress=False)

@pytest.fixture(scope='module')
def local_ray():
    "A local Ray of two one-CPU workers, this test module's functions shipped by value (the workers cannot import it)."
    ray = pytest.importorskip('ray')
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()

def test_ray_equals_local_number_for_number(store, local_ray):
    local = run_all(CONFIGS, SYN, 'local', logit_sum, executor='local', progress=False)
    on_ray = run_all(CONFIGS, SYN, 'ray', logit_sum, executor='ray', progress=False)
    assert list(on_ray) == list(CONFIGS)
    for n in CONFIGS:
        assert numbers(on_ray[n]) == numbers(local[n]), n
        assert on_ray[n]['path'] == str(store/'ray'/on_ray[n]['run']) and on_ray[n]['trained_epochs'] == 1
    again = run_all(CONFIGS, SYN, 'ray', logit_sum, executor='ray', progress=False)   # found in the store
    assert [r['trained_epochs'] for r in again.values()] == [0, 0]

def test_ray_failure_is_reported_and_the_rest_go_on(store, local_ray, capsys):
    from fgr.runs import RunsFailed
    def breaks_fgr(run):
        if run.config['method'] == 'fgr': raise ValueError('evaluation broke')
        return {}
    with pytest.raises(RunsFailed) as e: run_all(CONFIGS, SYN, 'ray', breaks_fgr, executor='ray', progress=False)
    assert list(e.value.failures) == ['fgr'] and list(e.value.results) == ['baseline']
    assert "run 'fgr' failed: ValueError: evaluation broke" in capsys.readouterr().err

@pytest.mark.skipif(real_archive() is None, reason='no offline CIFAR-10 archive on this machine')
def test_ray_workers_load_the_data_themselves(store, local_ray, monkeypatch):
    monkeypatch.setenv('FGR_DATA', str(real_archive()))
    res = run_all({'a': tiny(n_train=64, n_test=64)}, None, 'ray-data', executor='ray', progress=False)
    assert res['a']['config']['data'] != 'synthetic' and len(res['a']['history']) == 1

def test_ray_gpu_options_on_a_fake_gpu(store, local_ray):
    "The GPU path (num_gpus=1/runs_per_gpu, kept workers) on a CPU machine, on a GPU Ray is told of: the same numbers."
    local_ray.shutdown(); local_ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    local = run_all(CONFIGS, SYN, 'local', logit_sum, executor='local', progress=False)
    packed = run_all(CONFIGS, SYN, 'fake-gpu', logit_sum, executor='ray', runs_per_gpu=2, progress=False)
    for n in CONFIGS: assert numbers(packed[n]) == numbers(local[n]), n

WORKER = textwrap.dedent('''
    import sys, torch, fgr.train as T
    from fgr.runs import run_all
    from fgr.data import synthetic_cifar
    torch.set_num_threads(1)
    marker, order = sys.argv[1], sys.argv[2].split(',')
    plain = T.train
    def counted(config, data=None, profile='smoke', device=None, progress=True, callback=None):
        def mark(epoch, step, model):          # called only at steps actually trained
            if step == 0:
                with open(marker, 'a') as f: f.write(f"{config['method']} {epoch}\\n")
        return plain(config, data, profile, device, progress, mark)
    T.train = counted
    cfg = lambda **kw: T.make_config(width=0.125, epochs=2, batch_size=64, n_train=128, n_test=32, amp=False, **kw)
    configs = {'baseline': cfg(), 'fgr': cfg(method='fgr', lam=0.1)}
    run_all({n: configs[n] for n in order}, synthetic_cifar(128, seed=0), 'shared', executor='local', progress=False)
''')

def test_two_run_all_at_once_train_each_run_once(store):
    marker = store/'trained.txt'
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    procs = [subprocess.Popen([sys.executable, '-c', WORKER, str(marker), order], cwd=ROOT, env=env,
                              stderr=subprocess.PIPE, text=True) for order in ('baseline,fgr', 'fgr,baseline')]
    errs = [p.communicate(timeout=600)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errs
    # each epoch once
    assert sorted(marker.read_text().split('\n')[:-1]) == ['baseline 0', 'baseline 1', 'fgr 0', 'fgr 1']
    for name in ('baseline', 'fgr'):
        run, = (store/'shared').glob(f'{name}-*')
        assert len(json.loads((run/'history.json').read_text())['epochs']) == 2

def numbers_of(obj):
    "Returns `obj` without its timings (keys ending in _s or seconds): what two executors must agree on exactly."
    if isinstance(obj, dict):
        return {k: numbers_of(v) for k, v in obj.items() if not (k.endswith('_s') or k.endswith('seconds'))}
    return [numbers_of(v) for v in obj] if isinstance(obj, list) else obj

PUBLISHED_NUMBERS = {'table2.json': None, 'mode_check.json': ('rows', 'equivalence'),
                     'frontier.json': ('points', 'seeded', 'best', 'curves', 'autoattack', 'configs')}

@pytest.mark.skipif(importlib.util.find_spec('ray') is None, reason='Ray is an optional extra: pip install -e ".[ray]"')
def test_fgr_reproduce_on_ray_publishes_the_local_numbers(smoke_publication, tmp_path):
    "The smoke Table 2, mode check and frontier, trained from an empty store by a local Ray (2 one-thread workers)."
    local, r = smoke_publication
    assert r.returncode == 0, r.stderr[-3000:]
    p = fgr_reproduce('--only', '06_ablation', '08_frontier', '--ray', '--out', tmp_path/'smoke',
                      env=dict(FGR_RUNS=str(tmp_path/'runs')))
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert any((tmp_path/'runs'/'smoke').iterdir())                       # trained there, not found in the session's
    for name, keys in PUBLISHED_NUMBERS.items():
        a, b = (json.loads((d/name).read_text()) for d in (local, tmp_path/'smoke'))
        if keys: a, b = ({k: x[k] for k in keys} for x in (a, b))
        assert numbers_of(b) == numbers_of(a), name
