#!/usr/bin/env python3
"""Benchmark (not a test): each runtime pass against torch's own kernel for the same job,
in the same process, on the CPU.

Pairs (preallocated outputs): a forward (InvAct with its bit, InvAct with the bit in y,
FewBit 2 bits) against aten.<act>.out, and a backward (InvAct, FewBit) against
aten.<act>_backward.grad_input (Mish's has no such overload: its default, which allocates).  Activations: GELU, GELU-tanh, SiLU, Mish; fp32 and bf16.
The runtime is called through its C API (actfit.rt), so no Python or autograd sits between
it and the timer, as none sits in front of aten's .out kernels.  Every turn times a memcpy of
the pass's bytes (torch's copy_), then torch's kernel and actfit's, which take turns at
going first (so that neither always runs in the state the other leaves); the tables
give each one's median time, the median over pairs of turns of torch's time over actfit's
(the geometric mean of the pair's two; "speed vs torch": above 1, actfit is faster), and the
median over turns of memcpy's time over each
pass's with the pass's own minimal traffic (bytes in + out + state; "vs memcpy").

  .venv/bin/python tools/bench/bench_aten.py [--log2n 24] [--reps 9] [--threads 2] [--scale 3]
      [--mean 0]   (x normal; --scale 1 --mean -0.7 is close to a pretrained BERT's pre-GELU values)
  ACTFIT_SIMD=avx2 ATEN_CPU_CAPABILITY=avx2 .venv/bin/python tools/bench/bench_aten.py

Prints the CPU model, both libraries' vector ISA, memcpy's bandwidth and the hypervisor's
steal share during the run (read low ratios next to it).
"""

import argparse
import ctypes
import os
import statistics
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))

import torch  # noqa: E402

from actfit import rt  # noqa: E402

ACTS = [("gelu", "gelu", {}), ("gelu_tanh", "gelu", {"approximate": "tanh"}),
        ("silu", "silu", {}), ("mish", "mish", {})]
DTS = [("fp32", torch.float32, 0), ("bf16", torch.bfloat16, 2)]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def ticks():
    try:
        with open("/proc/stat") as f:
            v = [int(t) for t in f.readline().split()[1:]]
        return v[7], sum(v)
    except (OSError, IndexError, ValueError):
        return 0, 0


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def P(t):
    return ctypes.c_void_p(t.data_ptr())


def check(st, what):
    if st != 0:
        raise SystemExit(f"bench_aten: {what}: {rt.strerror(st).decode()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log2n", type=int, default=24)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scale", type=float, default=3.0,
                    help="x is normal with this deviation (default 3: a fifth of GELU's inputs "
                         "beyond its direct path's 3.875)")
    ap.add_argument("--mean", type=float, default=0.0, help="and this mean (default 0)")
    ap.add_argument("--acts", default=",".join(x[0] for x in ACTS),
                    help="comma-separated activations (default: all four)")
    ap.add_argument("--dtypes", default=",".join(x[0] for x in DTS),
                    help="comma-separated dtypes (default: fp32,bf16)")
    ap.add_argument("--passes", default="",
                    help="only the passes whose name contains one of these comma-separated words "
                         "(e.g. forward, InvAct backward)")
    a = ap.parse_args()
    acts, dts = a.acts.split(","), a.dtypes.split(",")
    for name, known in ((acts, [x[0] for x in ACTS]), (dts, [x[0] for x in DTS])):
        bad = [v for v in name if v not in known]
        if bad:
            ap.error(f"unknown {bad[0]!r} (known: {', '.join(known)})")
    want = [w.strip() for w in a.passes.split(",") if w.strip()]
    if not 10 <= a.log2n <= 30 or a.reps < 1 or a.threads < 1:
        ap.error("--log2n 10..30, --reps >= 1, --threads >= 1")
    turns = a.reps + a.reps % 2  # pairs of turns, one with each kernel going first
    torch.set_num_threads(a.threads)
    n = 1 << a.log2n
    g = torch.Generator().manual_seed(0)
    team = rt.use_openmp_team()  # as `import actfit.nn` does (ACTFIT_THREADS=own: not)
    s0, t0 = ticks()
    print(f"# {cpu_model()}; torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()}"
          f"), actfit ACTFIT_SIMD={os.environ.get('ACTFIT_SIMD', '(widest)')}; "
          f"{a.threads} threads; n = 2^{a.log2n}; {turns} turns; x ~ N({a.mean:g}, "
          f"{a.scale:g}^2)")
    print(f"# actfit's CPU threads: {'the OpenMP team of ' + team if team else 'its own'}; "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    rows, copy_bw = [], []
    for dname, dt, code in DTS:
        if dname not in dts:
            continue
        es = torch.finfo(dt).bits // 8
        x = (torch.randn(n, generator=g) * a.scale + a.mean).to(dt)
        y, y2 = torch.empty_like(x), torch.empty_like(x)
        go = torch.randn(n, generator=g).to(dt)
        gi = torch.empty_like(x)
        for act, aten, kw in ACTS:
            if act not in acts:
                continue
            tab = rt.invact_builtin(act.encode())
            fb = rt.fewbit_builtin(act.encode(), 2, b"uniform")
            st1 = torch.empty(rt.invact_state_bytes(tab, 0, n), dtype=torch.uint8)
            st2 = torch.empty(rt.fewbit_state_bytes(2, n), dtype=torch.uint8)
            fwd_op = getattr(torch.ops.aten, aten).out
            bwd = getattr(torch.ops.aten, aten + "_backward")
            # mish_backward has no .grad_input overload: its default allocates the output
            bwd_out = "grad_input" in bwd.overloads()

            def torch_fwd():
                fwd_op(x, **kw, out=y2)

            def torch_bwd():
                if bwd_out:
                    bwd.grad_input(go, x, **kw, grad_input=gi)
                else:
                    bwd.default(go, x, **kw)

            def inv_fwd():
                check(rt.invact_forward(tab, code, 0, P(x), P(y), P(st1), n, None), "fwd")

            def inv_fwd_y():
                check(rt.invact_forward(tab, code, rt.BIT_IN_Y, P(x), P(y), None, n, None), "fwd")

            def inv_bwd():
                check(rt.invact_backward(tab, code, 0, P(y), P(st1), P(go), P(gi), n, None), "bwd")

            def fb_fwd():
                check(rt.fewbit_forward(fb, code, P(x), P(y), P(st2), n, None), "fwd")

            def fb_bwd():
                check(rt.fewbit_backward(fb, code, P(st2), P(go), P(gi), n, None), "bwd")

            inv_fwd()
            fb_fwd()
            # (pass, actfit fn, torch fn, actfit bytes, torch bytes)
            passes = [("InvAct forward", inv_fwd, torch_fwd, 2 * es * n + n // 8, 2 * es * n),
                      ("InvAct forward, bit in y", inv_fwd_y, torch_fwd, 2 * es * n, 2 * es * n),
                      ("FewBit 2 forward", fb_fwd, torch_fwd, 2 * es * n + n // 4, 2 * es * n),
                      ("InvAct backward", inv_bwd, torch_bwd, 3 * es * n + n // 8, 3 * es * n),
                      ("FewBit 2 backward", fb_bwd, torch_bwd, 2 * es * n + n // 4, 3 * es * n)]
            for name, fa, ft, ba, bt in passes:
                if want and not any(w in name for w in want):
                    continue
                if name == "InvAct backward":
                    inv_fwd()  # y and s for the backward
                if name == "FewBit 2 backward":
                    fb_fwd()
                src = torch.empty(ba // 2, dtype=torch.uint8)
                dst = torch.empty_like(src)
                ta, tt, tc, ratio, mr = [], [], [], [], []
                for turn in range(turns + 1):
                    c = timed(lambda: dst.copy_(src))
                    if turn % 2:  # torch's kernel and actfit's take turns at going first
                        f = timed(fa)
                        t = timed(ft)
                    else:
                        t = timed(ft)
                        f = timed(fa)
                    tc.append(c), tt.append(t), ta.append(f), ratio.append(t / f), mr.append(c / f)
                    copy_bw.append(ba / c)
                ta, tt, ratio, mr = ta[1:], tt[1:], ratio[1:], mr[1:]  # the first turn warms up
                # torch's time over actfit's per pair of turns (one each way), the geometric
                # mean of the two, so that the order cancels: with torch's kernel first the
                # ratio came out 3-20% higher for Mish and GELU-tanh's bf16 passes than with
                # actfit's first, and within 5% either way for GELU's fp32 passes (Intel Xeon
                # VM, docs/benchmarks.md)
                ratio = [(ratio[i] * ratio[i + 1]) ** 0.5 for i in range(0, turns, 2)]
                rows.append((act, dname, name + ("" if bwd_out or "backward" not in name
                                                  else " (torch allocates)"), statistics.median(tt) * 1e3,
                             statistics.median(ta) * 1e3, statistics.median(ratio),
                             statistics.median(mr)))
    s1, t1 = ticks()
    print(f"# memcpy (torch copy_, same bytes): median {statistics.median(copy_bw) / 1e9:.1f} GB/s"
          f" (range {min(copy_bw) / 1e9:.1f}-{max(copy_bw) / 1e9:.1f})")
    print("\n| activation | dtype | pass | torch ms | actfit ms | speed vs torch | vs memcpy |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.2f} | {r[6]:.2f} |")
    if t1 > t0:
        print(f"\n# steal: {100 * (s1 - s0) / (t1 - t0):.0f}% of this machine's CPU time went to "
              "other guests during the run")


if __name__ == "__main__":
    main()
