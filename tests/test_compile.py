"Evaluations and attacks on a `torch.compile`d model (FGR_COMPILE=1) agree with eager ones, on the CPU."
from functools import partial
from pathlib import Path
import torch
from fgr.attacks import robust_accuracy, pgd_linf, _predicts
from fgr.train import Run, eval_model, clean_accuracy
from fgr.data import synthetic_cifar

class Tiny(torch.nn.Module):
    "A conv, batch norm and linear head: what ResNet-18 is made of, compiled in seconds."
    def __init__(self):
        super().__init__()
        self.conv, self.bn, self.head = (torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8),
                                         torch.nn.Linear(8, 10))
    def forward(self, x): return self.head(torch.relu(self.bn(self.conv(x))).mean((2, 3)))

def test_compiled_evaluation_equals_eager(monkeypatch):
    monkeypatch.delenv('FGR_COMPILE', raising=False)
    torch.manual_seed(0); net = Tiny(); data = synthetic_cifar(16, 40)
    with torch.no_grad(): net.bn.running_var.fill_(0.5); net.bn.running_mean.fill_(0.1)   # eval mode uses them
    run = Run(Path('.'), {}, [], net)
    eager = eval_model(run)
    monkeypatch.setenv('FGR_COMPILE', '1')
    compiled = eval_model(run)
    assert isinstance(compiled, torch._dynamo.eval_frame.OptimizedModule) and not compiled.training
    x, y = data.test_x, data.test_y
    assert clean_accuracy(compiled, data) == clean_accuracy(eager, data)
    xf = x.float() / 255
    assert torch.equal(_predicts(compiled, xf, y), _predicts(eager, xf, y))
    attack = partial(pgd_linf, eps=8 / 255, alpha=2 / 255, steps=5)
    torch.manual_seed(1); a_c = attack(compiled, xf, y)
    torch.manual_seed(1); a_e = attack(eager, xf, y)
    assert (a_c - a_e).abs().max() < 1e-5                                   # the same adversarial examples
    torch.manual_seed(1); r_c = robust_accuracy(compiled, x, y, attack, batch_size=16, progress=False)
    torch.manual_seed(1); r_e = robust_accuracy(eager, x, y, attack, batch_size=16, progress=False)
    assert (r_c['clean_acc'], r_c['robust_acc']) == (r_e['clean_acc'], r_e['robust_acc'])

def test_gpu_check_compile_part_runs(monkeypatch):
    "scripts/gpu_check.py's compile part, here with dynamo's eager backend (inductor would compile for a minute)."
    monkeypatch.delenv('FGR_COMPILE', raising=False)
    import sys
    from conftest import ROOT
    sys.path.insert(0, str(ROOT/'scripts'))
    import gpu_check
    real = torch.compile
    monkeypatch.setattr(torch, 'compile', lambda m, **kw: real(m, backend='eager'))
    r = gpu_check.compile_check(0.0625, 'cpu', False, n=8, batch=4, repeats=1)
    assert r['prediction_agreement'] == 1.0 and r['max_abs_adv_diff'] < 1e-5 and r['speedup'] > 0
    assert 'FGR_COMPILE' not in __import__('os').environ   # restored
