import os, pathlib, pytest
ROOT = pathlib.Path(__file__).resolve().parents[1]

def real_archive():
    "The offline CIFAR-10 archive, where this machine has it."
    for p in (os.environ.get('FGR_DATA'), ROOT.parent/'shared'/'data'/'cifar10-jpeg.npz'):
        if p and pathlib.Path(p).is_file(): return pathlib.Path(p)
    return None
