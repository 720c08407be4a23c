#!/usr/bin/env python3
"""Benchmark (not a test): two builds of the runtime library, A and B, in one process, each
fp32 pass timed on both in alternation, so that a change's effect is not lost in the
machine's drift between runs (on the development VM, whole runs move by 10% or more).

  .venv/bin/python tools/bench/bench_ab.py OLD/libactfit_rt.so NEW/libactfit_rt.so
      [--reps 21] [--log2n 24] [--threads 2] [--scale 3] [--mean 0] [--acts gelu,silu]

Make a build's copy first (cp build/libactfit_rt.so.0.1.0 /tmp/old.so), since both are
loaded side by side.  Both builds run on torch's OpenMP team (actfit_cpu_set_parallel with
its libgomp's GOMP_parallel), as `import actfit` arranges.  For each activation and pass
(InvAct forward, with the bit in y, FewBit 2 forward, InvAct backward, FewBit 2 backward)
it prints each build's median time (ms, and ns per element) and B's time over A's (below 1:
B is faster; the builds take turns at going first, and the ratio is the median over pairs
of turns), with torch's own kernel for the forwards.  In
cache: --log2n 15 --threads 1 --reps 201.  Each backward is preceded in
its turn by the same build's forward, so it reads that build's y and state.
"""

import argparse
import ctypes
import glob
import os
import statistics
import time

import torch

V = ctypes.c_void_p


def load(path, gomp):
    try:
        lib = ctypes.CDLL(os.path.abspath(path))
    except OSError as e:
        raise SystemExit("bench_ab: cannot load %s: %s" % (path, e))
    lib.actfit_rt_invact_builtin.restype = V
    lib.actfit_rt_fewbit_builtin.restype = V
    lib.actfit_invact_state_bytes.restype = ctypes.c_size_t
    lib.actfit_fewbit_state_bytes.restype = ctypes.c_size_t
    if gomp is not None:
        lib.actfit_cpu_set_parallel(ctypes.cast(gomp.GOMP_parallel, V))
    return lib


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--reps", type=int, default=21)
    ap.add_argument("--log2n", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scale", type=float, default=3.0)
    ap.add_argument("--mean", type=float, default=0.0)
    ap.add_argument("--acts", default="gelu,silu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    found = glob.glob(os.path.join(os.path.dirname(torch.__file__), "lib", "libgomp*.so*"))
    gomp = ctypes.CDLL(found[0]) if found else None
    libs = [load(args.a, gomp), load(args.b, gomp)]
    n = 1 << args.log2n
    N = ctypes.c_size_t(n)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, generator=g) * args.scale + args.mean
    go = torch.randn(n, generator=g)
    y, gi = torch.empty(n), torch.empty(n)

    def P(t):
        return V(t.data_ptr())

    print("# A = %s, B = %s; n = 2^%d, %d threads (%s), x ~ N(%g, %g^2), %d turns"
          % (args.a, args.b, args.log2n, args.threads,
             "torch's OpenMP team" if gomp else "the library's own", args.mean, args.scale,
             args.reps))
    torch_fwd = {"gelu": torch.ops.aten.gelu.out, "silu": torch.ops.aten.silu.out,
                 "mish": torch.ops.aten.mish.out}
    for act in args.acts.split(","):
        tabs = []
        for lib in libs:
            ia = lib.actfit_rt_invact_builtin(act.encode())
            fb = lib.actfit_rt_fewbit_builtin(act.encode(), 2, None)
            if not ia or not fb:
                raise SystemExit("bench_ab: no built-in tables for %r" % act)
            tabs.append((lib, V(ia), V(fb)))
        lib0, ia0, _ = tabs[0]
        st = torch.empty(lib0.actfit_invact_state_bytes(ia0, 0, N) + 64, dtype=torch.uint8)
        fst = torch.empty(lib0.actfit_fewbit_state_bytes(2, N) + 64, dtype=torch.uint8)
        passes = [
            ("InvAct forward", None,
             lambda L, ia, fb: L.actfit_invact_forward(ia, 0, 0, P(x), P(y), P(st), N, None)),
            ("InvAct forward, bit in y", None,
             lambda L, ia, fb: L.actfit_invact_forward(ia, 0, 1, P(x), P(y), P(st), N, None)),
            ("FewBit 2 forward", None,
             lambda L, ia, fb: L.actfit_fewbit_forward(fb, 0, P(x), P(y), P(fst), N, None)),
            ("InvAct backward",
             lambda L, ia, fb: L.actfit_invact_forward(ia, 0, 0, P(x), P(y), P(st), N, None),
             lambda L, ia, fb: L.actfit_invact_backward(ia, 0, 0, P(y), P(st), P(go), P(gi),
                                                        N, None)),
            ("FewBit 2 backward",
             lambda L, ia, fb: L.actfit_fewbit_forward(fb, 0, P(x), P(y), P(fst), N, None),
             lambda L, ia, fb: L.actfit_fewbit_backward(fb, 0, P(fst), P(go), P(gi), N, None)),
        ]
        for name, before, run in passes:
            times = ([], [])
            tt = []
            for turn in range(args.reps):
                # the builds take turns at going first: the run after torch's kernel (whose
                # OpenMP workers spin on for a while) and the one after the other build's
                # would differ by 1-2% out of cache and 8-10% in cache between two copies of
                # one build, always to B's favour, with A always first
                for k in ((0, 1) if turn % 2 == 0 else (1, 0)):
                    lib, ia, fb = tabs[k]
                    if before:
                        before(lib, ia, fb)
                    t0 = time.perf_counter()
                    rc = run(lib, ia, fb)
                    times[k].append(time.perf_counter() - t0)
                    if rc != 0:
                        raise SystemExit("bench_ab: %s returned status %d" % (name, rc))
                if before is None and act in torch_fwd:
                    t0 = time.perf_counter()
                    torch_fwd[act](x, out=y)
                    tt.append(time.perf_counter() - t0)
            # B over A per pair of turns (one with each going first), the geometric mean of
            # the two, so that the position cancels; the median over the pairs
            r = [b / a for a, b in zip(*times)]
            ratio = statistics.median([(r[i] * r[i + 1]) ** 0.5 for i in range(0, len(r) - 1, 2)]
                                      or r)
            def per(ts):  # the median as ms and as ns per element (readable in cache too)
                t = statistics.median(ts)
                return "%7.3f ms %6.3f ns" % (t * 1e3, t * 1e9 / n)
            print("%-10s %-26s A %s  B %s  B/A %.3f%s"
                  % (act, name, per(times[0]), per(times[1]), ratio,
                     "  torch %s" % per(tt) if tt else ""),
                  flush=True)


if __name__ == "__main__":
    main()
