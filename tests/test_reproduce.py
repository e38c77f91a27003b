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
    assert m["data"]["source"] and m["run_store_train_wall_s_total"] > 0
    for n in names: assert (out/'notebooks'/f'{n}.ipynb').exists()
    for n in ('01_spectral_bias', '04_train', '05_attacks'):   # executed notebooks show their figures (even with MPLBACKEND=Agg)
        assert 'image/png' in (out/'notebooks'/f'{n}.ipynb').read_text(), n
    assert not list(out.rglob('.tmp-*')), 'a temporary file was left behind'
    for f in ('data_samples.png', 'spectral_bias.png', 'high_pass_masks.png', 'figure1.png', 'figure2.png', 'figure3.png'):
        assert (out/f).stat().st_size > 1000, f
    for f in ('table1.md', 'table1.json', 'table2.md', 'table2.json', 'figure2.json', 'robustness_checks.json', 'step_costs.json',
              'mode_check.json', 'reconstruction.json', 'corruptions.json', 'figure6.png', 'fd_error_vs_h.json', 'frontier.json', 'frontier.md',
              'figure4.png', 'figure5.png'):
        assert (out/f).exists(), f
    claims = json.loads((out/'claims.json').read_text())   # the ledger: schema, and every record points at a result file
    from fgr.claims import FIELDS, VERDICTS
    assert len(claims) >= 14 and len({c['id'] for c in claims}) == len(claims)
    for c in claims:
        assert tuple(c) == FIELDS and c['verdict'] in VERDICTS and c['profile'] == 'smoke', c
        assert (out/c['source']).is_file(), c
    ids = {c['id'] for c in claims}
    assert {'clean_acc_baseline', 'clean_acc_fgr', 'pgd_acc_baseline', 'pgd_acc_fgr', 'relative_pgd_gain', 'clean_drop',
            'fgr_step_cost', 'robust_all_strengths', 'ablation_standard', 'ablation_very_aggressive', 'absolute_pgd_gain',
            'autoattack_fgr', 'paper_attack_reading', 'corruptions_noise_blur', 'frontier_mask', 'frontier_cost', 'frontier_tradeoff'} <= ids
    fr = json.loads((out/'frontier.json').read_text())      # the frontier: every point evaluated, the seeded points repeated
    assert set(fr['points']) == set(fr['configs']) and 'baseline' in fr['seeded'] and all(s['clean']['k'] >= 2 for s in fr['seeded'].values())
    # a partial rerun drops the executed copy and manifest entry of a notebook that no longer exists (renamed or removed)
    (out/'notebooks'/'07_old_name.ipynb').write_text('{}')
    m['notebooks']['07_old_name'] = dict(status='ok', wall_s=1.0); (out/'manifest.json').write_text(json.dumps(m))
    r = subprocess.run(['fgr-reproduce', '--profile', 'smoke', '--only', '09_claims', '--out', str(out), '--no-progress'],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert not (out/'notebooks'/'07_old_name.ipynb').exists() and list(json.loads((out/'manifest.json').read_text())['notebooks']) == names

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
    assert not (tmp_path/'out').exists(), 'a failed run published results'
    assert (tmp_path/'.failed'/'out'/'FAILED-00_broken.ipynb').exists() and not list(tmp_path.glob('.tmp-*'))
