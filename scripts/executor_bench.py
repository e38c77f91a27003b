"""Wall time of the same frontier runs under the local executor (one after another, 2 threads) and Ray (2 tasks side by
side, 1 thread each) on this machine, from an empty run store each time, interleaved; prints and writes JSON.

Usage: python scripts/executor_bench.py OUT.json [--epochs E] [--n-attack N] [--repeats R]
The runs are the `cpu` profile's frontier points (width, batch, n_train, fgr_mode from profiles/cpu.yaml), with fewer
epochs and attacked images than the profile so that one comparison takes minutes; the ratio is what is reported."""
import argparse, json, os, platform, subprocess, sys, tempfile, time
from functools import partial
from pathlib import Path
import torch
from fgr.core import load_profile
from fgr.data import load_cifar10
from fgr.frontier import frontier_configs, _point_row
from fgr.runs import run_all, import_ray

ap = argparse.ArgumentParser(); ap.add_argument('out'); ap.add_argument('--epochs', type=int, default=1)
ap.add_argument('--n-attack', type=int, default=500); ap.add_argument('--repeats', type=int, default=2)
a = ap.parse_args()
p = load_profile('cpu')
cfgs = frontier_configs({'fgr': [0.1], 'gradnorm': [0.1]}, {'fgsm_rs': {}}, p['width'], a.epochs, p['batch_size'],
                        p['lr'], p['weight_decay'], p['cutoff'], p['frontier_n_train'], p['frontier_n_test'], 0,
                        p['fgr_mode'])
data = load_cifar10()
evaluate = partial(_point_row, data=data, n_test=None, n_attack=a.n_attack, pgd_steps=p['pgd_steps'], progress=False)
ray = import_ray(); t = time.time()
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False); ray_init_s = time.time() - t
commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
out = dict(command=' '.join(sys.argv), date=time.strftime('%Y-%m-%d'), commit=commit,
           machine=f'{os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}', torch=torch.__version__,
           runs=list(cfgs), epochs=a.epochs, n_attack=a.n_attack, ray_init_s=round(ray_init_s, 1),
           local_2_threads_s=[], ray_2_tasks_1_thread_s=[], load_before=[])
for rep in range(a.repeats):
    for kind in ('local_2_threads_s', 'ray_2_tasks_1_thread_s'):
        os.environ['FGR_RUNS'] = tempfile.mkdtemp(prefix='fgr-exec-bench-')   # empty: every run trains
        torch.set_num_threads(2 if kind.startswith('local') else 1)
        out['load_before'].append(round(os.getloadavg()[0], 2)); t = time.time()
        res = run_all(cfgs, data, 'bench', evaluate, executor='local' if kind.startswith('local') else 'ray',
                      progress=False)
        out[kind].append(round(time.time() - t, 1))
        assert all(r['trained_epochs'] == a.epochs for r in res.values())
        print(kind, rep, out[kind][-1], flush=True)
out['ratio_local_over_ray'] = [round(x / y, 3) for x, y in zip(out['local_2_threads_s'], out['ray_2_tasks_1_thread_s'])]
print(json.dumps(out, indent=1)); Path(a.out).write_text(json.dumps(out, indent=1) + '\n')
