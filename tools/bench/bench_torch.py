#!/usr/bin/env python3
"""Benchmark (not a test) of actfit's torch modules against the stock activation, in eager
mode and under torch.compile (fullgraph, Inductor).  Run it with the set-up's interpreter:
.venv/bin/python tools/bench/bench_torch.py

Memory: the bytes autograd saves for backward (torch.autograd.graph.saved_tensors_hooks;
unique storages, parameters excluded) for a Transformer MLP block (Linear d->4d, the
activation, Linear 4d->d) and a small GPT (GELU MLPs; SwiGLU for --act SiLU), stock and every
method, fp32 and bf16, next to what each method should keep.  Under torch.compile the hooks
see the tensors the compiled graph saves (Inductor's partitioner decides which; it may
recompute pointwise ops instead of saving them), for stock and for the --compiled methods.
Time: forward+backward of the activation alone and of the block, stock and actfit taking
turns in the same process: medians of each, and the median of the per-turn ratios (each
actfit run over the stock run just before it, so a slow spell of a shared machine that hits
both cancels); compiled blocks against compiled stock.  The tables are Markdown.

  tools/bench/bench_torch.py [--act NAME] [--device cpu|cuda] [--rows N] [--d D] [--reps R]
                             [--threads T] [--compiled M,M,...|none]

--act takes a torch.nn class name that actfit.nn defines (GELU, the default; SiLU, Softplus,
Mish, Tanh, ...), with torch's default parameters.
"""

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))

import torch  # noqa: E402

import actfit.nn as an  # noqa: E402

METHODS = [("stock", None), ("invact", dict(method="invact")),
           ("invact bit-in-y", dict(method="invact", bit_in_y=True))] + \
          [(f"fewbit {b}", dict(method="fewbit", bits=b)) for b in (1, 2, 3, 4)] + \
          [("invact, forward=torch", dict(method="invact", forward="torch")),
           ("fewbit 2, forward=torch", dict(method="fewbit", bits=2, forward="torch"))]


ACT = "GELU"


def act(kw):
    return getattr(torch.nn, ACT)() if kw is None else getattr(an, ACT)(**kw)


def saved(model, *args, compiled=False):
    """bytes saved for backward by model(*args), eager or through torch.compile (after one
    warm-up step that compiles the forward and the backward)"""
    f = torch.compile(model, fullgraph=True) if compiled else model
    if compiled:
        f(*args).float().sum().backward()
        model.zero_grad()
    with an.saved_bytes(model) as m:
        out = f(*args)
    return m.bytes, out


def expected(kw, n_act, es, stock):
    """what the method should keep: stock less the activation's copy of x (n_act elements),
    plus the state (bits, or nothing with the bit in y)"""
    if kw is None:
        return stock
    bits = kw.get("bits", 0 if kw.get("bit_in_y") else 1)
    return stock - n_act * es + (n_act + 31) // 32 * 4 * bits


def sync(dev):
    if dev == "cuda":
        torch.cuda.synchronize()


def timed(fn, dev, reps):
    fn()
    sync(dev)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync(dev)
        ts.append(time.perf_counter() - t0)
    return ts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--rows", type=int, default=4096, help="tokens per batch for the block")
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--reps", type=int, default=21)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--act", default="GELU", help="torch.nn class name (default GELU)")
    ap.add_argument("--compiled", default="invact,invact bit-in-y,fewbit 2",
                    help="the methods also measured under torch.compile, comma-separated "
                         "(stock always is; 'none' for eager only)")
    args = ap.parse_args()
    names = [n for n, _ in METHODS]
    compiled = [] if args.compiled == "none" else [c.strip() for c in args.compiled.split(",")]
    for c in compiled:
        if c not in names:
            ap.error(f"--compiled {c!r}: not a method ({', '.join(names)})")
    global ACT
    if not isinstance(getattr(an, args.act, None), type) or not hasattr(torch.nn, args.act):
        ap.error(f"--act {args.act}: not an activation both torch.nn and actfit.nn define")
    ACT = args.act
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = args.device
    print(f"# bench_torch: {ACT}, device {dev}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s), block {args.rows} x {args.d} -> {4 * args.d}")

    # stock torch may lack a dtype (torch 1.13 has no bfloat16 Mish on the CPU): skip it
    dtypes = []
    for dtype in (torch.float32, torch.bfloat16):
        try:
            act(None)(torch.zeros(4, dtype=dtype, device=dev))
            dtypes.append(dtype)
        except RuntimeError as e:
            print(f"# skipped {str(dtype)[6:]}: stock torch.nn.{ACT} fails on it here ({e})")

    # ---- memory: the block and a small GPT
    from train import build
    print("\n## Saved for backward (bytes; unique storages, parameters excluded)\n")
    print("expected: stock eager less the activation's x plus the method's state; "
          "vs stock: against stock in eager mode\n")
    print("| model | dtype | method | mode | saved | expected | vs stock eager |")
    print("|---|---|---|---|---|---|---|")
    runs = [(n, kw, c) for n, kw in METHODS for c in (False, True)
            if not c or (kw is None and compiled) or n in compiled]
    for dtype in dtypes:
        es = 4 if dtype == torch.float32 else 2
        torch.manual_seed(0)
        x = torch.randn(args.rows, args.d, dtype=dtype, device=dev)
        stock = None
        for name, kw, comp in runs:
            torch.manual_seed(0)
            blk = torch.nn.Sequential(torch.nn.Linear(args.d, 4 * args.d), act(kw),
                                      torch.nn.Linear(4 * args.d, args.d)).to(dev, dtype)
            got, _ = saved(blk, x, compiled=comp)
            stock = got if kw is None and not comp else stock
            want = expected(kw, args.rows * 4 * args.d, es, stock)
            print(f"| MLP block | {str(dtype)[6:]} | {name} | {'compiled' if comp else 'eager'} "
                  f"| {got} | {want} | {got / stock:.3f} |")
        if ACT not in ("GELU", "SiLU"):
            continue
        Ga = build(None, torch)
        B, T, d, L = 16, 64, 64, 4
        mlp, hid = ("swiglu", (8 * d) // 3) if ACT == "SiLU" else ("gelu", 4 * d)
        idx = torch.randint(0, 96, (B, T), device=dev)
        for name, kw, comp in runs:
            torch.manual_seed(0)
            g = Ga(96, d, L, 4, T, mlp).to(dev, dtype)
            if kw is not None:
                an.replace(g, **kw)
            got, _ = saved(g, idx, compiled=comp)
            if kw is None and not comp:
                gstock = got
            want = expected(kw, L * B * T * hid, es, gstock)
            print(f"| GPT {L}x{d} ({mlp}) | {str(dtype)[6:]} | {name} | "
                  f"{'compiled' if comp else 'eager'} | {got} | {want} | {got / gstock:.3f} |")

    # ---- time: fwd+bwd, stock and actfit taking turns
    print(f"\n## Forward + backward time (median of {args.reps}, ms; ratio: median of the "
          f"per-turn actfit / stock)\n")
    print("| what | dtype | method | mode | stock ms | actfit ms | ratio |")
    print("|---|---|---|---|---|---|---|")
    for dtype in dtypes:
        n = args.rows * 4 * args.d
        x = torch.randn(n, dtype=dtype, device=dev)
        go = torch.randn(n, dtype=dtype, device=dev)
        xb = torch.randn(args.rows, args.d, dtype=dtype, device=dev)
        for name, kw in METHODS[1:]:
            mods = {"stock": act(None), "actfit": act(kw)}

            def alone(m):
                xr = x.detach().requires_grad_()
                return lambda: torch.autograd.grad(m(xr), xr, go)

            torch.manual_seed(0)
            blocks = {k: torch.nn.Sequential(torch.nn.Linear(args.d, 4 * args.d), m,
                                             torch.nn.Linear(4 * args.d, args.d)).to(dev, dtype)
                      for k, m in mods.items()}

            def block(b):
                return lambda: b(xb).float().sum().backward()

            cases = [("activation alone", "eager", lambda k: alone(mods[k])),
                     ("MLP block", "eager", lambda k: block(blocks[k]))]
            if name in compiled:
                cblocks = {k: torch.compile(b, fullgraph=True) for k, b in blocks.items()}
                cases.append(("MLP block", "compiled", lambda k: block(cblocks[k])))
            for what, mode, make in cases:
                fs = {k: make(k) for k in mods}
                ts = {k: [] for k in mods}
                for _ in range(args.reps):  # interleaved, so drift hits both
                    for k in mods:
                        ts[k] += timed(fs[k], dev, 1)
                s, a = statistics.median(ts["stock"]), statistics.median(ts["actfit"])
                r = statistics.median(ta / ts_ for ta, ts_ in zip(ts["actfit"], ts["stock"]))
                print(f"| {what} ({n} elements) | {str(dtype)[6:]} | {name} | {mode} | "
                      f"{1e3 * s:.2f} | {1e3 * a:.2f} | {r:.2f} |")


if __name__ == "__main__":
    main()
