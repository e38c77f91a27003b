"The reproduction command end to end under the smoke profile."
import json, os, subprocess, sys
from conftest import ROOT
from fgr.reproduce import study_notebooks

def test_fgr_reproduce_smoke(tmp_path):
    env = dict(os.environ, FGR_RUNS=str(tmp_path/'runs'), MPLBACKEND='Agg')
    out = tmp_path/'figures'
    r = subprocess.run(['fgr-reproduce', '--profile', 'smoke', '--out', str(out), '--no-progress'],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    m = json.loads((out/'manifest.json').read_text())
    names = [p.stem for p in study_notebooks()]
    assert m['profile'] == 'smoke' and list(m['notebooks']) == names
    assert all(v['status'] == 'ok' and v['wall_s'] > 0 for v in m['notebooks'].values())
    assert {'device', 'torch', 'git_commit'} <= set(m['environment']) and m['config']['profile'] == 'smoke'
    assert m['data']['source']
    for n in names: assert (out/'notebooks'/f'{n}.ipynb').exists()
    assert not list(out.rglob('.tmp-*')), 'a temporary file was left behind'
    assert (out/'data_samples.png').stat().st_size > 1000

def test_failing_notebook_stops_the_run(tmp_path):
    nbs = tmp_path/'nbs'; nbs.mkdir()
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("out_dir = None", metadata={'tags': ['parameters']}),
                                         nbformat.v4.new_code_cell("raise ValueError('boom')")])
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'python3', 'language': 'python'}
    nbformat.write(nb, nbs/'00_broken.ipynb')
    import fgr.reproduce as R
    orig = R.select_notebooks
    R.select_notebooks = lambda names=None, nbs_dir=None: orig(names, nbs)
    try:
        import pytest
        with pytest.raises(RuntimeError, match='00_broken.ipynb failed'): R.reproduce('smoke', out_dir=tmp_path/'out', progress=False)
    finally: R.select_notebooks = orig
    m = json.loads((tmp_path/'out'/'manifest.json').read_text())
    assert m['notebooks']['00_broken']['status'] == 'failed' and 'boom' in m['notebooks']['00_broken']['error']
    assert (tmp_path/'out'/'notebooks'/'FAILED-00_broken.ipynb').exists()
