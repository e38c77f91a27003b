"A newcomer's failures, replayed: the cause reaches the terminal, an interrupt changes nothing committed."
import os, shutil, signal, subprocess, sys, time
import numpy as np, pytest
from conftest import ROOT, real_archive

RUN = [sys.executable, '-c', 'import sys; from fgr.reproduce import main; sys.exit(main(sys.argv[1:]))']

def run_cli(args, tmp_path, **env):
    e = dict(os.environ, FGR_RUNS=str(tmp_path/'runs'), MPLBACKEND='Agg', **env)
    return subprocess.run(RUN + args, cwd=ROOT, env=e, capture_output=True, text=True, timeout=600)

def test_missing_data_names_the_cause_and_the_fix(tmp_path):
    r = run_cli(['--profile', 'smoke', '--only', '00_data', '--out', str(tmp_path/'out'), '--no-progress'], tmp_path,
                FGR_DATA=str(tmp_path/'nowhere.npz'), FGR_CACHE=str(tmp_path/'cache'))
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'FileNotFoundError' in r.stderr and 'Point FGR_DATA' in r.stderr, r.stderr
    copy = tmp_path/'.failed'/'out'/'FAILED-00_data.ipynb'
    assert str(copy) in r.stderr and copy.exists()
    assert not (tmp_path/'out').exists(), 'a failed run published results'

def test_corrupt_archive_names_the_cause_and_the_fix(tmp_path):
    bad = tmp_path/'cifar10-jpeg.npz'; np.savez(bad, train_labels=np.zeros(3, np.uint8))
    r = run_cli(['--profile', 'smoke', '--only', '00_data', '--out', str(tmp_path/'out'), '--no-progress'], tmp_path,
                FGR_DATA=str(bad), FGR_CACHE=str(tmp_path/'cache'))
    assert r.returncode == 1 and 'bad checksum' in r.stderr and 'copy it again' in r.stderr, r.stderr

def test_bad_profile_and_missing_inputs(tmp_path):
    r = run_cli(['--profile', 'huge'], tmp_path)
    assert r.returncode == 2 and "invalid choice: 'huge'" in r.stderr
    # a usage error: exit 2 at once
    t0 = time.time(); r = run_cli(['--profile', 'smoke', '--only', '99_nothing'], tmp_path)
    assert (r.returncode == 2 and r.stdout == ''
            and 'no study notebook matches 99_nothing' in r.stderr), r.stdout + r.stderr
    assert '00_data' in r.stderr and time.time() - t0 < 60, r.stderr                      # naming the valid notebooks
    r = run_cli(['--profile', 'smoke', '--only', '09_claims', '--out', str(tmp_path/'new'), '--no-progress'], tmp_path)
    assert r.returncode == 1 and 'no result file found' in r.stderr and 'Fix:' in r.stderr, r.stderr   # no silent "ok"
    assert not (tmp_path/'new'/'claims.json').exists()

def _copy_of_repository(dest):
    ignore = shutil.ignore_patterns('.git', '.venv', 'data', 'runs', '.gpu*', 'checkpoints', '__pycache__',
                                    '*.egg-info', '_proc', '_docs', 'smoke', '.failed',
                                    '.ruff_cache', '.pytest_cache')   # tool caches, staging, weights: not the project
    shutil.copytree(ROOT, dest, ignore=ignore)
    git = lambda *a: subprocess.run(['git', '-C', str(dest), *a], check=True, capture_output=True)
    git('init', '-q'); git('add', '-A'); git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-q', '-m', 'copy')
    return dest

@pytest.mark.skipif(real_archive() is None, reason='no offline CIFAR-10 archive on this machine')
@pytest.mark.parametrize('sig,code', [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_interrupt_changes_nothing_committed(tmp_path, sig, code):
    repo = _copy_of_repository(tmp_path/'repo')
    env = dict(os.environ, PYTHONPATH=str(repo), FGR_RUNS=str(tmp_path/'runs'), FGR_CACHE=str(tmp_path/'cache'),
               FGR_DATA=str(real_archive()), MPLBACKEND='Agg')
    p = subprocess.Popen(RUN + ['--no-progress'], cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    seen, t0 = '', time.time()
    while '[1/' not in seen and time.time() - t0 < 120: seen += p.stdout.readline()
    from fgr.core import load_profile
    assert load_profile('cpu')['duration'] in seen, seen        # the main command announces its duration first
    time.sleep(12)                                              # mid-notebook: the kernel is running 00_data
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    assert p.returncode == code, (p.returncode, err[-3000:])
    assert 'unchanged' in err and 'finished: ' in err and 'Traceback' not in err, err[-3000:]
    assert len([s for s in err.splitlines() if s.strip()]) == 1, err        # one line, nothing else
    status = subprocess.run(['git', '-C', str(repo), 'status', '--porcelain', '--ignored'], capture_output=True,
                            text=True).stdout
    left = [s for s in status.splitlines() if '__pycache__' not in s]
    assert left == [], left                                     # nothing changed or added, not even an ignored file
    log = tmp_path/'runs'/'kernel-logs'/'cpu.log'                # the stopped kernel's shutdown noise is filtered out
    assert 'Socket operation on non-socket' not in (log.read_text() if log.exists() else ''), log.read_text()
    assert not [p for p in repo.rglob('.tmp-*')], 'a temporary file was left behind'

def test_the_profile_chooses_its_executor_unless_the_user_did(monkeypatch):
    "profiles/cpu.yaml prefers Ray where it is installed; FGR_EXECUTOR (or --ray) wins; without Ray, a note, no error."
    import importlib.util
    from fgr.core import load_profile
    from fgr.reproduce import profile_executor_env
    monkeypatch.delenv('FGR_EXECUTOR', raising=False)
    assert profile_executor_env(load_profile('smoke')) == ({}, '')
    cpu = load_profile('cpu'); assert cpu['executor'] == 'ray'
    real = importlib.util.find_spec
    if real('ray'):                                              # with Ray: Ray, except the notebooks it names
        env, note = profile_executor_env(cpu)
        assert env['FGR_EXECUTOR'] == 'ray' and env['FGR_LOCAL_NOTEBOOKS'] == ','.join(cpu['executor_local_for'])
        assert f"except in {', '.join(cpu['executor_local_for'])}" in note
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a: None if name == 'ray' else real(name, *a))
    env, note = profile_executor_env(cpu)
    assert env == {} and 'pip install -e ".[ray]"' in note and 'one after another' in note
    monkeypatch.setenv('FGR_EXECUTOR', 'local')
    assert profile_executor_env(cpu) == ({}, '')
