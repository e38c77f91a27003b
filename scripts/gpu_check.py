#!/usr/bin/env python3
"""GPU check of `fgr.fast_conv` (notebook 95_fast_conv): is fast convolution equal to PyTorch's on CUDA, and faster?

    python3 scripts/gpu_check.py OUT.json [--width 1] [--batch-size 128] [--repeats 5] [--steps 20]

(a) equality: 20 FGR steps (exact double backprop, λ=0.1, cutoff 0.1, SGD) from one seed with native and with fast
    convolutions, in fp32 with TF32 off and under bf16 autocast; the loss trajectories and the first step's gradient are
    compared against the tolerances below;
(b) speed: a plain step, an exact FGR step with native and with fast convolutions, bf16 autocast + channels_last,
    cudnn.benchmark on, median of --repeats rounds; FLOPs and bytes of each step (fgr.train.step_counts), the floor
    and the achieved TFLOP/s;
(c) CUDA graph: tries to capture the whole fast FGR step (optimizer step inside); reports its replay time, or the error;
(d) fgr.train's own step (`GraphedStep`, FGR_CUDA_GRAPH=1) against its eager step, plain and exact FGR, bf16: loss
    trajectories over the same batches and schedule, and the time of each;
(e) where the time goes: the top operators of the plain, native and fast FGR steps by device time (torch.profiler);
(f) torch.compile for attacks (`fgr.train.eval_model`, FGR_COMPILE=1): PGD-10 on random images with the eager and the
    compiled model, the first call (compilation) and the median of the later rounds, and how far the results differ.
Offline: random images with labels from a fixed random rule, no data set. Writes one JSON to OUT.json after every part.
Without CUDA it says so, skips the CUDA-only parts and runs every other code path on the CPU at a tiny width: the
numbers of such a run only show that the script works.
"""
import argparse, json, math, statistics, sys, time
from contextlib import nullcontext
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the repository's fgr, also when it is not installed
import torch
import torch.nn.functional as F
from fgr.model import resnet18
from fgr.penalty import penalty_gradient
from fgr.train import GRAPH_RTOL, graph_verdict, loss_rdiff, step_trajectory   # train's graph gate
from fgr.train import chip_peaks, step_counts, step_floor        # FLOPs, bytes and floors, as fgr-bench counts them

LAM, CUTOFF, LR = 0.1, 0.1, 0.05
# tolerances: the largest |Δloss|/|loss| over the trajectory; ‖Δ∇θ‖/‖∇θ‖ of the first step's parameter gradient
TOLERANCE = dict(
    fp32=dict(loss_rtol=GRAPH_RTOL['fp32'], grad_rtol=1e-4),    # TF32 off: fp32 rounding, grown over 20 steps
    bf16=dict(loss_rtol=GRAPH_RTOL['bf16'], grad_rtol=5e-2))    # bf16 autocast: 8-bit mantissas in the 2nd derivative


def batches(n:int, batch_size:int, device, seed:int=0):
    "Returns `n` fixed (x, y) batches: uniform images, labels by a fixed random linear rule of their 4×4 pools."
    g = torch.Generator().manual_seed(seed)
    rule = torch.randn(3 * 16, 10, generator=g)
    out = []
    for _ in range(n):
        x = torch.rand(batch_size, 3, 32, 32, generator=g)
        y = (F.adaptive_avg_pool2d(x - 0.5, 4).flatten(1) @ rule).argmax(1)
        out.append((x.to(device), y.to(device)))
    return out


def setup(width:float, fast:bool, device, channels_last:bool, seed:int=0):
    "Returns `(model, optimizer)`: a ResNet-18 from `seed` in train mode and the training loop's SGD."
    torch.manual_seed(seed)
    model = resnet18(width, fast_conv=fast).to(device).train()
    if channels_last: model = model.to(memory_format=torch.channels_last)
    return model, torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, nesterov=True, weight_decay=5e-4)


def make_step(model, opt, kind:str, amp:bool, device, graph_safe:bool=False):
    "Returns `step(x, y) -> loss`: one optimizer step, plain cross-entropy (`kind='plain'`) or exact FGR."
    dev = torch.device(device).type
    ctx = (lambda: torch.autocast(dev, dtype=torch.bfloat16, cache_enabled=not graph_safe)) if amp else nullcontext
    def step(x, y):
        if not graph_safe: opt.zero_grad(set_to_none=True)
        with ctx():
            if kind == 'plain':
                loss = F.cross_entropy(model(x).float(), y); loss.backward()
            else: loss = penalty_gradient(model, x, y, LAM, CUTOFF, mode='double_backprop')[1]['loss']
        opt.step()
        return loss.detach()
    return step


def trajectory(width, fast, amp, device, data, channels_last):
    "Returns (losses of the FGR steps over `data`, the first step's flat parameter gradient)."
    model, opt = setup(width, fast, device, channels_last)
    step, losses, first = make_step(model, opt, 'fgr', amp, device), [], None
    for i, (x, y) in enumerate(data):
        if channels_last: x = x.contiguous(memory_format=torch.channels_last)
        losses.append(step(x, y))
        if i == 0: first = torch.cat([p.grad.float().flatten() for p in model.parameters()])
    return torch.stack(losses).float().cpu(), first


def check_equality(width, batch_size, steps, device, cuda, result=None, save=lambda: None):
    "Returns {'fp32': …, 'bf16': …}: fast against native FGR trajectories, with their tolerances and verdicts."
    data, res = batches(steps, batch_size, device, seed=1), {}
    if result is not None: result['equality'] = res                   # saved after each precision
    tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = torch.backends.cudnn.benchmark = False
    try:
        for name, amp in (('fp32', False), ('bf16', True)):
            cl = amp and cuda                                          # bf16 runs channels_last, as fgr.train does
            (ln, gn), (lf, gf) = (trajectory(width, fast, amp, device, data, cl) for fast in (False, True))
            rd, grad_rdiff = loss_rdiff(ln, lf), ((gn - gf).norm() / gn.norm()).item()   # rd: inf if lf is not finite
            tol = TOLERANCE[name]
            finite = bool(torch.isfinite(lf).all())
            ok = finite and rd <= tol['loss_rtol'] and grad_rdiff <= tol['grad_rtol']
            res[name] = dict(loss_native=ln.tolist(), loss_fast=lf.tolist(), loss_max_rdiff=rd,
                             first_grad_rdiff=grad_rdiff, **tol, finite=finite, ok=ok); save()
            print(f"equality {name}: max |Δloss|/loss {rd:.2e} (tol {tol['loss_rtol']:g}), first-step "
                  f"gradient {grad_rdiff:.2e} (tol {tol['grad_rtol']:g}): {'OK' if ok else 'FAIL'}", flush=True)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark = tf32
    ref32, ref16 = torch.tensor(res['fp32']['loss_native']), torch.tensor(res['bf16']['loss_native'])
    scale = ((ref16 - ref32).abs() / ref32.abs()).max().item()   # bf16's own rounding, for scale
    res['bf16']['native_bf16_vs_fp32_loss_max_rdiff'] = scale
    print(f'  for scale: native bf16 against native fp32 differ by {scale:.2e}', flush=True)
    return res


def timed(step, x, y, sync, inner:int):
    "Returns the seconds per step of `inner` consecutive calls of `step`."
    sync(); t0 = time.perf_counter()
    for _ in range(inner): step(x, y)
    sync()
    return (time.perf_counter() - t0) / inner


def benchmark(width, batch_size, repeats, inner, device, cuda, peaks):
    "Returns step times (median of `repeats` rounds), img/s, ratios, FLOPs, floors and TFLOP/s of the three steps."
    torch.backends.cudnn.benchmark = True
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    (x, y), = batches(1, batch_size, device, seed=2)
    x = x.contiguous(memory_format=torch.channels_last)
    steps = {}
    for name, kind, fast in (('plain', 'plain', False), ('fgr_native', 'fgr', False), ('fgr_fast', 'fgr', True)):
        model, opt = setup(width, fast, device, channels_last=True)
        steps[name] = make_step(model, opt, kind, True, device)
    for step in steps.values():                                        # warm-up: cudnn.benchmark picks its algorithms
        for _ in range(3): step(x, y)
    sync()
    times = {k: [] for k in steps}
    for _ in range(repeats):                                           # rounds interleave the methods
        for k, step in steps.items(): times[k].append(timed(step, x, y, sync, inner))
    med = {k: statistics.median(v) for k, v in times.items()}
    counts = {k: step_counts(lambda s=step: s(x, y)) for k, step in steps.items()}
    flops = {k: c['flops'] for k, c in counts.items()}
    floors = {k: step_floor(c, peaks, True) for k, c in counts.items()}
    out = dict(step_ms={k: 1e3 * v for k, v in med.items()},
               step_ms_rounds={k: [1e3 * t for t in v] for k, v in times.items()},
               plain_img_s=batch_size / med['plain'],
               fgr_exact_img_s=dict(native=batch_size / med['fgr_native'], fast=batch_size / med['fgr_fast']),
               fgr_exact_x=dict(native=med['fgr_native'] / med['plain'], fast=med['fgr_fast'] / med['plain']),
               fast_speedup=med['fgr_native'] / med['fgr_fast'], flops=flops,
               bytes={k: c['bytes'] for k, c in counts.items()},
               traffic_ms={k: f['traffic_ms'] for k, f in floors.items()},
               floor_ms={k: f['floor_ms'] for k, f in floors.items()},
               achieved_tflops={k: flops[k] / med[k] / 1e12 for k in flops})
    for k in steps:
        fl = out['floor_ms'][k]
        print(f"{k:11s} {out['step_ms'][k]:8.2f} ms/step {batch_size / med[k]:9.0f} img/s {flops[k] / 1e9:8.1f} GFLOP "
              f"floor {'%.2f ms' % fl if fl is not None else 'n/a (GPU not in the peak table)'}  "
              f"{out['achieved_tflops'][k]:.1f} TFLOP/s", flush=True)
    print(f"FGR exact: native {out['fgr_exact_x']['native']:.2f}x plain, fast {out['fgr_exact_x']['fast']:.2f}x plain; "
          f"fast conv speed-up {out['fast_speedup']:.2f}x", flush=True)
    return out


def try_cuda_graph(width, batch_size, repeats, inner, device):
    "Returns {ok, error, step_ms, …}: the whole fast FGR step (bf16, channels_last, SGD) captured in a CUDA graph."
    res = dict(ok=False, error=None, step_ms=None, method='fgr exact, fast conv, bf16 autocast, channels_last')
    try:
        (x, y), = batches(1, batch_size, device, seed=2)
        static_x, static_y = x.contiguous(memory_format=torch.channels_last), y.clone()
        model, opt = setup(width, True, device, channels_last=True)
        step = make_step(model, opt, 'fgr', True, device, graph_safe=True)
        side = torch.cuda.Stream(); side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):                                   # warm-up on a side stream, as capture requires
            for _ in range(3): opt.zero_grad(set_to_none=True); step(static_x, static_y)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph): static_loss = step(static_x, static_y)
        losses = []
        for _ in range(3): graph.replay(); losses.append(static_loss.item())
        times = [timed(lambda *_: graph.replay(), None, None, torch.cuda.synchronize, inner) for _ in range(repeats)]
        res.update(ok=all(math.isfinite(v) for v in losses), step_ms=1e3 * statistics.median(times),
                   replay_losses=losses)
        if not res['ok']: res['error'] = f'capture worked but replayed losses are not finite: {losses}'
        print(f"CUDA graph: captured; replay {res['step_ms']:.2f} ms/step, losses {losses}", flush=True)
    except Exception as e:                                             # report, do not fail the whole check
        res['error'] = f'{type(e).__name__}: {e}'[:4000]
        print(f"CUDA graph: capture failed: {res['error'][:500]}", flush=True)
    return res


def kernel_profile(width, batch_size, device, cuda, steps:int=5, top:int=15) -> dict:
    "Returns {step: the `top` operators by device (else CPU) time in `steps` steps, as rows}: where a step's time goes."
    from torch.profiler import profile, ProfilerActivity
    (x, y), = batches(1, batch_size, device, seed=4)
    x, out = x.contiguous(memory_format=torch.channels_last), {}
    dev = lambda e: getattr(e, 'self_device_time_total', None) or getattr(e, 'self_cuda_time_total', 0)
    for name, kind, fast in (('plain', 'plain', False), ('fgr_native', 'fgr', False), ('fgr_fast', 'fgr', True)):
        model, opt = setup(width, fast, device, channels_last=True)
        step = make_step(model, opt, kind, True, device)
        for _ in range(3): step(x, y)                                  # warm-up: cuDNN's algorithm search
        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
        with profile(activities=acts) as prof:
            for _ in range(steps): step(x, y)
            if cuda: torch.cuda.synchronize()
        rows = sorted(prof.key_averages(), key=lambda e: -(dev(e) if cuda else e.self_cpu_time_total))[:top]
        out[name] = [dict(op=e.key[:120], calls=e.count // steps, self_device_us=dev(e) / steps,
                          self_cpu_us=e.self_cpu_time_total / steps) for e in rows]
        print(f'profile {name}: ' + '; '.join(f"{r['op'][:40]} {r['self_device_us' if cuda else 'self_cpu_us']:.0f} us"
                                               for r in out[name][:5]), flush=True)
    return out


def graph_check(width, batch_size, steps, repeats, inner, device) -> dict:
    "Returns {method: fgr.train.graph_verdict}: fgr.train's step, eager and replayed, equal and >5% faster?"
    from fgr.train import make_config
    data, out = batches(steps, batch_size, device, seed=3), {}
    for name, kw in (('plain', dict(method='baseline')), ('fgr exact', dict(method='fgr', lam=LAM))):
        cfg = make_config(**kw, width=width, cutoff=CUTOFF, lr=LR, epochs=1)
        try:
            eager, graph = (step_trajectory(cfg, data, device, g, repeats=repeats, inner=inner) for g in (False, True))
            out[name] = v = graph_verdict(cfg, device, eager, graph)    # train's graph gate, on these batches
            print(f"CUDA graph, fgr.train's {name} step: eager {eager['ms']:.2f} ms, replayed {graph['ms']:.2f} ms; "
                  f"max |Δloss|/loss {v['loss_max_rdiff']:.2e}: {'OK' if v['ok'] else 'FAIL'}", flush=True)
        except Exception as e:
            out[name] = dict(ok=False, error=f'{type(e).__name__}: {e}'[:4000])
            print(f"CUDA graph, fgr.train's {name} step: failed: {out[name]['error'][:300]}", flush=True)
    return out


def compile_check(width, device, cuda, n:int=2000, batch:int=500, repeats:int=3) -> dict:
    "Returns PGD-10 (ℓ∞ 8/255) on `n` random images, eager against `torch.compile`d (`eval_model`): times, agreement."
    import os
    from fgr.attacks import pgd_linf
    from fgr.train import Run, eval_model
    torch.manual_seed(0); run = Run(Path('.'), {}, [], resnet18(width).to(device))
    x, y = torch.rand(n, 3, 32, 32, device=device), torch.randint(0, 10, (n,), device=device)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    def attack_all(m):
        torch.manual_seed(1)
        return torch.cat([pgd_linf(m, x[i:i + batch], y[i:i + batch], 8 / 255, 2 / 255, 10)
                          for i in range(0, n, batch)])
    saved = os.environ.get('FGR_COMPILE'); os.environ['FGR_COMPILE'] = '1'
    try: compiled = eval_model(run)
    finally:
        if saved is None: os.environ.pop('FGR_COMPILE')
        else: os.environ['FGR_COMPILE'] = saved
    out, adv = {}, {}
    for name, m in (('eager', eval_model(run)), ('compiled', compiled)):
        t0 = time.time(); adv[name] = attack_all(m); sync(); first = time.time() - t0   # compiled: compilation too
        rounds = []
        for _ in range(repeats): t0 = time.time(); attack_all(m); sync(); rounds.append(time.time() - t0)
        out[name] = dict(first_s=round(first, 3), median_s=round(statistics.median(rounds), 4), rounds_s=rounds)
    ref = eval_model(run)
    with torch.no_grad(): agree = (ref(adv['eager']).argmax(1) == ref(adv['compiled']).argmax(1)).float().mean().item()
    res = dict(n=n, batch=batch, attack='PGD-linf, eps 8/255, alpha 2/255, 10 steps, random start, seeded', **out,
               max_abs_adv_diff=(adv['eager'] - adv['compiled']).abs().max().item(), prediction_agreement=agree,
               speedup=out['eager']['median_s'] / out['compiled']['median_s'])
    print(f"compile: eager {out['eager']['median_s']:.3f} s, compiled {out['compiled']['median_s']:.3f} s "
          f"(first call {out['compiled']['first_s']:.1f} s), agreement {agree:.4f}", flush=True)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out', help='the JSON file to write')
    ap.add_argument('--width', type=float, help='ResNet-18 width (default 1 on CUDA, 0.0625 on the CPU)')
    ap.add_argument('--batch-size', type=int, help='batch size (default 128 on CUDA, 8 on the CPU)')
    ap.add_argument('--repeats', type=int, default=5, help='timed rounds, their median is reported (default 5, ≥ 5)')
    ap.add_argument('--inner', type=int, help='steps per timed round (default 5 on CUDA, 1 on the CPU)')
    ap.add_argument('--steps', type=int, help='FGR steps per equality trajectory (default 20 on CUDA, 3 on CPU)')
    a = ap.parse_args(argv)
    if a.repeats < 5: ap.error('--repeats must be at least 5 (the median of at least 5 rounds is reported)')
    cuda = torch.cuda.is_available(); device = 'cuda' if cuda else 'cpu'
    width, batch_size = a.width or (1.0 if cuda else 0.0625), a.batch_size or (128 if cuda else 8)
    inner, steps = a.inner or (5 if cuda else 1), a.steps or (20 if cuda else 3)
    name = torch.cuda.get_device_name() if cuda else 'cpu'
    peaks = chip_peaks(device) if cuda else None
    result = dict(device=name, torch=torch.__version__, cuda=cuda, width=width, batch_size=batch_size,
                  timing=timing_protocol(a, inner), peak_bf16_tflops=peaks['bf16'] / 1e12 if peaks else None,
                  lam=LAM, cutoff=CUTOFF)
    if not cuda:
        result['note'] = ('no CUDA device: the CUDA parts (equality and timing on CUDA, CUDA graph capture) were '
                          'skipped; every other code path ran on the CPU at a tiny size; its numbers only show that '
                          'the script runs')
        print(f"gpu_check: {result['note']} (width {width:g}, batch {batch_size}).", flush=True)
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    save = lambda: out.write_text(json.dumps(result, indent=1))
    print(f'gpu_check on {name}, torch {torch.__version__}, width {width:g}, batch {batch_size}', flush=True)
    def part(name, fn):                                               # a part that raises is a result, saved
        try: return fn()
        except Exception as e:
            print(f'gpu_check: {name} failed: {type(e).__name__}: {e}', flush=True)
            return dict(error=f'{type(e).__name__}: {e}'[:4000])
        finally: save()
    result['equality'] = part('equality', lambda: check_equality(width, batch_size, steps, device, cuda, result, save))
    result['equality_ok'] = all(r.get('ok') for r in result['equality'].values()) if 'error' not in result['equality'] \
        else False
    bench = part('benchmark', lambda: benchmark(width, batch_size, a.repeats, inner, device, cuda, peaks))
    result.update(bench if 'error' not in bench else dict(benchmark_error=bench['error']))
    result['cuda_graph'] = (part('cuda_graph', lambda: try_cuda_graph(width, batch_size, a.repeats, inner, device))
                            if cuda else dict(ok=False, error='skipped: no CUDA device', step_ms=None))
    result['train_graph'] = (part('train_graph',
                                  lambda: graph_check(width, batch_size, steps, a.repeats, inner, device))
                             if cuda else dict(error='skipped: no CUDA device'))
    result['kernel_profile'] = part('kernel_profile', lambda: kernel_profile(width, batch_size, device, cuda))
    result['compile'] = (part('compile', lambda: compile_check(width, device, cuda)) if cuda
                         else dict(error='skipped: no CUDA device (tests/test_compile.py checks it on the CPU)'))
    save()
    print(f"equality {'OK' if result['equality_ok'] else 'FAILED (see equality in the JSON)'}; written to {a.out}")
    return 0   # a failed equality is a result, in the JSON: the GPU part that runs this goes on to save its files


def timing_protocol(a, inner) -> dict:
    "Returns the timing protocol: rounds, steps per round, warm-up steps."
    return dict(rounds=a.repeats, steps_per_round=inner, warmup_steps=3, statistic='median of the rounds')


if __name__ == '__main__': sys.exit(main())
