import os, pathlib, subprocess, pytest
ROOT = pathlib.Path(__file__).resolve().parents[1]

def real_archive():
    "The offline CIFAR-10 archive, where this machine has it."
    for p in (os.environ.get('FGR_DATA'), ROOT.parent/'shared'/'data'/'cifar10-jpeg.npz'):
        if p and pathlib.Path(p).is_file(): return pathlib.Path(p)
    return None

@pytest.fixture(scope='session', autouse=True)
def own_run_store(tmp_path_factory):
    "Each test session trains into a run store of its own (FGR_RUNS), so two test runs never share runs/smoke."
    old = os.environ.get('FGR_RUNS')
    os.environ['FGR_RUNS'] = str(tmp_path_factory.mktemp('runs'))   # inherited by every fgr-reproduce a test starts
    yield pathlib.Path(os.environ['FGR_RUNS'])
    if old is None: os.environ.pop('FGR_RUNS', None)
    else: os.environ['FGR_RUNS'] = old

def fgr_reproduce(*args, timeout=1500, env=None):
    """Runs `fgr-reproduce --profile smoke ARGS --no-progress` in the session's run store (or `env`'s);
    returns the process."""
    return subprocess.run(['fgr-reproduce', '--profile', 'smoke', *map(str, args), '--no-progress'], cwd=ROOT,
                          env=dict(os.environ, MPLBACKEND='Agg', **(env or {})), capture_output=True, text=True,
                          timeout=timeout)

@pytest.fixture(scope='session')
def smoke_publication(tmp_path_factory):
    "Every notebook published once under smoke, shared by the tests that read it: (the folder, the finished process)."
    out = tmp_path_factory.mktemp('published')/'smoke'
    return out, fgr_reproduce('--out', out)
