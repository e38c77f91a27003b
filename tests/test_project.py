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

def test_readme_is_generated_from_index():
    assert (ROOT/'README.md').read_text() == index_markdown(), \
        'README.md differs from nbs/index.ipynb: run python -c "from fgr.reproduce import write_readme; write_readme()"'

def test_papermill_sees_every_parameter():
    "papermill silently ignores a parameter it cannot parse (e.g. a comment with '='): it must see them all."
    import papermill as pm
    for nb in study_notebooks():
        assert set(pm.inspect_notebook(str(nb))) == set(parameters_cell(nb)), f'{nb.name}: papermill misreads its parameters cell'
