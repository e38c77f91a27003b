"Conventions that cross notebooks: profiles mirror the parameters cells, README mirrors index.ipynb."
import ast, json, yaml
from conftest import ROOT
from fgr.reproduce import index_markdown, study_notebooks

def parameters_cell(nb):
    cells = [c for c in json.loads(nb.read_text())['cells'] if 'parameters' in c.get('metadata', {}).get('tags', [])]
    assert len(cells) == 1, f'{nb.name} must have exactly one cell tagged parameters'
    tree = ast.parse(''.join(cells[0]['source']))
    return {t.id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) for t in n.targets}

def test_smoke_profile_is_the_notebooks_defaults():
    smoke = yaml.safe_load((ROOT/'profiles'/'smoke.yaml').read_text())
    profiles = {p: yaml.safe_load((ROOT/'profiles'/f'{p}.yaml').read_text()) for p in ('cpu', 'paper')}
    for nb in study_notebooks():
        params = parameters_cell(nb)
        assert params.pop('out_dir', None) is None, f'{nb.name}: out_dir defaults to None'
        for k, v in params.items():
            assert k in smoke, f'{nb.name}: parameter {k} is in no profile'
            assert smoke[k] == v, f'{nb.name}: default {k}={v!r} but smoke.yaml says {smoke[k]!r}'
    for name, p in profiles.items(): assert set(p) == set(smoke), f'{name}.yaml and smoke.yaml differ in keys'

def test_each_profile_mode_check_compares_one_factor_at_a_time():
    "06_ablation's mode check, as each profile sets it, on the device it is meant for (paper: CUDA): no two alike."
    from fgr.train import make_config
    from fgr.ablation import mode_references, mode_configs, mode_factors
    factors = lambda p, device: mode_factors(mode_configs(make_config(method='fgr', lam=0.1), p['mode_check'], 0),
                                             device)
    for name, device in (('smoke', 'cpu'), ('cpu', 'cpu'), ('paper', 'cuda')):
        p = yaml.safe_load((ROOT/'profiles'/f'{name}.yaml').read_text())
        f = factors(p, device); refs = mode_references(f)
        assert set(refs) == set(f) - {next(iter(f))}, f'{name}.yaml: a mode_check entry has no reference'
    paper = yaml.safe_load((ROOT/'profiles'/'paper.yaml').read_text())
    assert {c for _, c in mode_references(factors(paper, 'cuda')).values()} == {'gradient', 'precision'}

def test_readme_is_generated_from_index():
    assert (ROOT/'README.md').read_text() == index_markdown(), \
        'README.md differs from nbs/index.ipynb: run python -c "from fgr.reproduce import write_readme; write_readme()"'

def test_papermill_sees_every_parameter():
    "papermill silently ignores a parameter it cannot parse (e.g. a comment with '='): it must see them all."
    import papermill as pm
    for nb in study_notebooks():
        assert set(pm.inspect_notebook(str(nb))) == set(parameters_cell(nb)), (
            f'{nb.name}: papermill misreads its parameters cell')

MAX_FUNCTION_LINES = 60   # DEVELOPERS.md: functions ≤ 60 lines

def test_no_exported_function_is_over_60_lines():
    "Every function and method of the library (fgr/, exported from notebooks) fits in 60 lines, decorators excluded."
    long = []
    for py in sorted((ROOT/'fgr').glob('*.py')):
        for node in ast.walk(ast.parse(py.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES: long.append(f'{py.name}:{node.lineno} {node.name} ({n} lines)')
    assert not long, f'functions over {MAX_FUNCTION_LINES} lines (split them in their notebook): {long}'

def test_function_length_check_can_fail(tmp_path):
    "The check above counts lines as ast does: a 61-line function is caught."
    src = 'def f():\n' + '    x = 1\n' * 60
    node = ast.parse(src).body[0]
    assert node.end_lineno - node.lineno + 1 == 61 > MAX_FUNCTION_LINES

MAX_LINE = 120            # DEVELOPERS.md: lines ≤ 120 characters

def test_code_lines_fit_in_120_characters():
    "Every line of every code cell of the notebooks, and of scripts/ and tests/ (shell too), fits in 120 characters."
    long = []
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        for c in json.loads(nb.read_text())['cells']:
            if c['cell_type'] != 'code': continue
            long += [f'{nb.name}: {len(s)} chars: {s[:60]}…' for s in ''.join(c['source']).split('\n')
                     if len(s) > MAX_LINE]
    for py in sorted([*(ROOT/'scripts').glob('*.py'), *(ROOT/'scripts').glob('*.sh'), *(ROOT/'tests').glob('*.py'),
                      *(ROOT/'tests').glob('*.sh')]):
        long += [f'{py.name}:{i}: {len(s)} chars' for i, s in enumerate(py.read_text().split('\n'), 1)
                 if len(s) > MAX_LINE]
    assert not long, f'{len(long)} code lines over {MAX_LINE} characters:\n' + '\n'.join(long[:20])

def test_generated_modules_fit_in_120_characters():
    "Every line nbdev writes into fgr/ fits too (module docstrings from the `>` summaries), but its own `__all__`."
    long = [f'{p.name}:{i}: {len(s)} chars' for p in sorted((ROOT/'fgr').glob('*.py')) if p.name != '_modidx.py'
            for i, s in enumerate(p.read_text().split('\n'), 1)
            if len(s) > MAX_LINE and not s.startswith('__all__ = ')]   # nbdev wraps __all__ at 160 (pformat)
    assert not long, f'{len(long)} lines of fgr/ over {MAX_LINE} characters:\n' + '\n'.join(long[:20])

MAX_TRACKED_MIB = 5.6     # DEVELOPERS.md: what a GPU call can carry beside the data and the wheels

def test_tracked_files_fit_in_a_gpu_call():
    "The files git tracks (code, notebooks, published results) stay under 5.6 MiB in all."
    import subprocess, pytest
    r = subprocess.run(['git', 'ls-files', '-z'], cwd=ROOT, capture_output=True)
    if r.returncode != 0: pytest.skip('not a git checkout')
    files = [ROOT/f for f in r.stdout.decode().split('\0') if f and (ROOT/f).is_file()]
    total = sum(f.stat().st_size for f in files) / 2**20
    big = sorted(files, key=lambda f: -f.stat().st_size)[:5]
    assert total < MAX_TRACKED_MIB, (f'tracked files take {total:.2f} MiB, over {MAX_TRACKED_MIB}; the largest: '
                                     + ', '.join(f'{f.relative_to(ROOT)} ({f.stat().st_size / 2**20:.2f})'
                                                 for f in big))

def published_notebook_faults(nb_path) -> list:
    "Returns the faults of one executed notebook: error outputs and placeholder panels ('not computed yet')."
    cells = json.loads(nb_path.read_text())['cells']
    outs = [o for c in cells for o in c.get('outputs', [])]
    errors = [f"{nb_path.name}: error output {o.get('ename')}: {o.get('evalue', '')[:80]}"
              for o in outs if o.get('output_type') == 'error']
    placeholders = [f'{nb_path.name}: a placeholder output' for o in outs if 'not computed yet' in json.dumps(o)]
    return errors + placeholders

def test_published_notebooks_hold_no_error_or_placeholder(tmp_path):
    "Every executed notebook under figures/<profile>/notebooks/ ran clean; the check itself can fail."
    bad = tmp_path/'bad.ipynb'
    bad.write_text(json.dumps(dict(cells=[dict(cell_type='code', source='', outputs=[
        dict(output_type='error', ename='ValueError', evalue='x', traceback=[]),
        dict(output_type='stream', name='stdout', text='PGD accuracy: not computed yet')])])))
    assert len(published_notebook_faults(bad)) == 2
    faults = [f for nb in sorted((ROOT/'figures').glob('*/notebooks/*.ipynb')) for f in published_notebook_faults(nb)]
    assert not faults, 'published notebooks with faults (republish them):\n' + '\n'.join(faults)
