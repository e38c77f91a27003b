"The reproduction command end to end under the smoke profile."
import json, shutil
import pytest
from conftest import fgr_reproduce
from fgr.reproduce import study_notebooks

def test_fgr_reproduce_smoke(smoke_publication, tmp_path):
    published, r = smoke_publication
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = tmp_path/'figures'; shutil.copytree(published, out)
    m = json.loads((out/'manifest.json').read_text())
    names = [p.stem for p in study_notebooks()]
    assert m['profile'] == 'smoke' and list(m['notebooks']) == names and m['notebooks_this_run'] == names
    assert f'done: {len(names)} notebooks in' in r.stdout and f'[{len(names)}/{len(names)}]' in r.stdout, r.stdout
    assert all(v['status'] == 'ok' and v['wall_s'] > 0 for v in m['notebooks'].values())
    for n, v in m['notebooks'].items():                     # each entry: its commit, its runs, the files it wrote
        assert v['git_commit'] and isinstance(v['git_dirty'], bool) and v['runs'] in ('store', 'trained'), v
        assert f'notebooks/{n}.ipynb' in v['writes'], v
    assert m['notebooks']['04_train']['parameters']['epochs'] == m['config']['epochs']   # what each notebook was given
    assert 'out_dir' not in m['notebooks']['04_train']['parameters']
    assert isinstance(m['run_store_empty_at_start'], bool) and m['wall_s_this_run'] > 0
    if m['run_store_empty_at_start']: assert m['notebooks']['04_train']['runs'] == 'trained'
    assert m['config']['threads'] == 1
    assert {'device', 'torch', 'git_commit'} <= set(m['environment']) and m['config']['profile'] == 'smoke'
    assert m["data"]["source"] and m["run_store_train_wall_s_total"] > 0
    for n in names: assert (out/'notebooks'/f'{n}.ipynb').exists()
    # executed notebooks show their figures (even with MPLBACKEND=Agg)
    for n in ('01_spectral_bias', '04_train', '05_attacks'):
        assert 'image/png' in (out/'notebooks'/f'{n}.ipynb').read_text(), n
    assert not list(out.rglob('.tmp-*')), 'a temporary file was left behind'
    for f in ('data_samples.png', 'spectral_bias.png', 'high_pass_masks.png', 'figure1.png', 'figure2.png',
              'figure3.png'):
        assert (out/f).stat().st_size > 1000, f
    for f in ('table1.md', 'table1.json', 'table2.md', 'table2.json', 'figure2.json', 'robustness_checks.json',
              'step_costs.json', 'mode_check.json', 'reconstruction.json', 'corruptions.json', 'figure6.png',
              'fd_error_vs_h.json', 'frontier.json', 'frontier.md', 'figure4.png', 'figure5.png'):
        assert (out/f).exists(), f
    # the ledger: schema, and every record points at a result file
    claims = json.loads((out/'claims.json').read_text())
    from fgr.claims import FIELDS, VERDICTS
    assert len(claims) >= 14 and len({c['id'] for c in claims}) == len(claims)
    for c in claims:
        assert tuple(c) == FIELDS and c['verdict'] in VERDICTS and c['profile'] == 'smoke', c
        assert (out/c['source']).is_file(), c
    ids = {c['id'] for c in claims}
    assert {'clean_acc_baseline', 'clean_acc_fgr', 'pgd_acc_baseline', 'pgd_acc_fgr', 'relative_pgd_gain', 'clean_drop',
            'fgr_step_cost', 'robust_all_strengths', 'ablation_standard', 'ablation_very_aggressive',
            'absolute_pgd_gain', 'autoattack_fgr', 'paper_attack_reading', 'corruptions_noise', 'corruptions_blur',
            'frontier_mask', 'frontier_mask_cutoff_0.2', 'frontier_cost', 'frontier_tradeoff'} <= ids
    # the frontier: every point evaluated, the seeded points repeated
    fr = json.loads((out/'frontier.json').read_text())
    assert set(fr['points']) == set(fr['configs']) and 'baseline' in fr['seeded']
    assert all(s['clean']['k'] >= 2 for s in fr['seeded'].values())
    # a partial rerun drops the executed copy and manifest entry of a notebook that no longer exists (renamed, removed)
    (out/'notebooks'/'07_old_name.ipynb').write_text('{}')
    m['notebooks']['07_old_name'] = dict(status='ok', wall_s=1.0); (out/'manifest.json').write_text(json.dumps(m))
    r = fgr_reproduce('--only', '09_claims', '--out', out, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert not (out/'notebooks'/'07_old_name.ipynb').exists()
    assert list(json.loads((out/'manifest.json').read_text())['notebooks']) == names
    assert 'done: 1 notebook in' in r.stdout, r.stdout      # what ran, not what the manifest holds

def test_a_file_has_one_owner(smoke_publication, tmp_path):
    "A partial run (--only 04_train) changes no file that another notebook wrote; every published file has one owner."
    published, r = smoke_publication
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = tmp_path/'smoke'; shutil.copytree(published, out)
    files = lambda: {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob('*') if p.is_file()}
    before, m0 = files(), json.loads((out/'manifest.json').read_text())
    owner = {f: nb for nb, e in m0['notebooks'].items() for f in e['writes']}
    assert set(before) - {'manifest.json'} == set(owner), set(before) ^ set(owner)   # the map covers every file
    r = fgr_reproduce('--only', '04_train', '--out', out, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    after, m = files(), json.loads((out/'manifest.json').read_text())
    foreign = [f'{f} (owned by {owner[f]})' for f in before
               if f in owner and owner[f] != '04_train' and after.get(f) != before[f]]
    assert not foreign, f'04_train changed files of other notebooks: {foreign}'
    # its runs were stored
    assert m['notebooks_this_run'] == ['04_train'] and m['notebooks']['04_train']['runs'] == 'store'
    others = lambda man: {k: v for k, v in man['notebooks'].items() if k != '04_train'}
    assert others(m) == others(m0)                          # the other notebooks' entries are kept as they were

def _notebook(path, *cells):
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("out_dir = None", metadata={'tags': ['parameters']}),
                                         *map(nbformat.v4.new_code_cell, cells)])
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'python3', 'language': 'python'}
    nbformat.write(nb, path)

def _run_fake_notebooks(nbs, out):
    import fgr.reproduce as R
    orig = R.select_notebooks
    R.select_notebooks = lambda names=None, nbs_dir=None: orig(names, nbs)
    try: return R.reproduce('smoke', out_dir=out, progress=False)
    finally: R.select_notebooks = orig

def test_two_writers_of_one_file_are_refused(tmp_path):
    nbs = tmp_path/'nbs'; nbs.mkdir()
    for n in ('00_a', '01_b'):
        _notebook(nbs/f'{n}.ipynb', "import pathlib; pathlib.Path(out_dir, 'same.txt').write_text('x')")
    with pytest.raises(RuntimeError, match=r'same\.txt \(00_a, 01_b\)'): _run_fake_notebooks(nbs, tmp_path/'out')
    assert not (tmp_path/'out').exists() and not list(tmp_path.glob('.tmp-*')), 'a refused run published or left files'

def test_study_notebooks_never_export():
    "A study notebook (00_-89_) is results, not library: only tooling notebooks run nbdev_export."
    bad = [p.name for p in study_notebooks() if 'nbdev_export' in p.read_text()]
    assert not bad, f'study notebooks that call nbdev_export (delete that cell; run nbdev-export from the shell): {bad}'

def test_failing_notebook_stops_the_run(tmp_path):
    nbs = tmp_path/'nbs'; nbs.mkdir()
    _notebook(nbs/'00_broken.ipynb', "raise ValueError('boom')")
    with pytest.raises(RuntimeError, match='00_broken.ipynb failed'): _run_fake_notebooks(nbs, tmp_path/'out')
    assert not (tmp_path/'out').exists(), 'a failed run published results'
    assert (tmp_path/'.failed'/'out'/'FAILED-00_broken.ipynb').exists() and not list(tmp_path.glob('.tmp-*'))
