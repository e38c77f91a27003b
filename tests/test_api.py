"The public API is findable: help(fgr) lists it, and every public function says what it returns."
import importlib, inspect, pkgutil
import fgr

def test_help_lists_every_module():
    mods = [m.name for m in pkgutil.iter_modules(fgr.__path__) if not m.name.startswith('_')]
    assert mods and all(f'fgr.{m}' in fgr.__doc__ for m in mods), [m for m in mods if f'fgr.{m}' not in fgr.__doc__]
    assert len(fgr.__doc__.splitlines()) <= 30

def test_public_functions_say_what_they_return():
    missing = []
    for m in pkgutil.iter_modules(fgr.__path__):
        if m.name.startswith('_'): continue
        mod = importlib.import_module(f'fgr.{m.name}')
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name)
            if inspect.isfunction(obj) and 'return' not in (obj.__doc__ or '').lower():
                missing.append(f'fgr.{m.name}.{name}')
    assert not missing, f'docstrings that do not say what is returned: {missing}'

def test_help_names_only_what_exists():
    "Every `name()` that help(fgr) lists beside a module exists in that module."
    import re
    mod, missing = None, []
    for line in fgr.__doc__.splitlines():
        m = re.match(r'\s+(fgr\.\w+)\s', line)
        if m: mod = importlib.import_module(m[1])
        if mod is None: continue
        missing += [f'{mod.__name__}.{n}' for n in re.findall(r'(?<![\w.])([a-z_]\w*)\(\)', line)
                    if not hasattr(mod, n)]
    assert not missing, f'help(fgr) names what does not exist: {missing}'
