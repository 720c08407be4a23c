#!/usr/bin/env python3
"""The runtime's forward against torch's own function, both against the exact value.

For GELU, GELU-tanh, SiLU and Mish: fp32 over every K-th of the 2^32 bit patterns (NaN
and infinities left out; K = 16 by default, --step 1 for all of them), and bf16 and fp16
over all 65,536 inputs.  The exact value is computed in float64 from forms that do not
cancel (GELU as x erfc(-x/sqrt 2)/2, GELU-tanh as x sigmoid(2u), Mish with logaddexp),
about 1e-15 relative.  Errors are in units of the float spacing at the exact value (fp32),
or counted as results that differ from the exact value rounded to the dtype (16-bit).
Reports, per activation: each one's worst error and where, how many inputs each has beyond
1 and 2 ulp, at how many inputs actfit is further from the exact value than torch
(pointwise), and in how many binades of x (sign and exponent: 512) actfit's worst error is
above torch's worst there (listed, up to five, with both worsts).  torch runs on the CPU, with its own vector kernels.

  .venv/bin/python tools/ulp_torch.py [--step K] [--acts gelu,silu,...]
"""

import argparse
import ctypes
import math
import os
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from actfit import rt  # noqa: E402


def exact(act, x):
    x = x.double()
    if act == "gelu":
        return 0.5 * x * torch.special.erfc(-x / math.sqrt(2.0))
    if act == "gelu_tanh":
        u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
        return x * torch.sigmoid(2.0 * u)
    if act == "silu":
        return x * torch.sigmoid(x)
    if act == "mish":
        return x * torch.tanh(torch.logaddexp(x, torch.zeros_like(x)))
    raise ValueError(act)


def torch_fn(act, x):
    if act == "gelu":
        return F.gelu(x)
    if act == "gelu_tanh":
        return F.gelu(x, approximate="tanh")
    if act == "silu":
        return F.silu(x)
    return F.mish(x)


def actfit_fn(table, x, code):
    y = torch.empty_like(x)
    st = torch.empty(rt.invact_state_bytes(table, 0, x.numel()), dtype=torch.uint8)
    rt.check(rt.invact_forward(table, code, 0, ctypes.c_void_p(x.data_ptr()),
                               ctypes.c_void_p(y.data_ptr()), ctypes.c_void_p(st.data_ptr()),
                               x.numel(), None), "forward")
    return y


def ulps(y, e):
    """|y - e| in units of the float32 spacing at |e| (e float64)."""
    a = e.abs().float()
    a = torch.where(a.double() > e.abs(), torch.nextafter(a, torch.zeros_like(a)), a)
    sp = (torch.nextafter(a, torch.full_like(a, math.inf)) - a).double()
    return (y.double() - e).abs() / sp


def sweep32(act, table, step, chunk=1 << 24):
    worst = {"actfit": (0.0, 0.0), "torch": (0.0, 0.0)}
    over1 = {"actfit": 0, "torch": 0}
    over2 = {"actfit": 0, "torch": 0}
    worse, n = 0, 0
    bmax = {"actfit": torch.zeros(512, dtype=torch.float64),
            "torch": torch.zeros(512, dtype=torch.float64)}
    for start in range(0, 1 << 32, chunk * step):
        u = torch.arange(start, min(start + chunk * step, 1 << 32), step, dtype=torch.int64)
        # the patterns as int32 (two's complement), viewed as floats
        x = (u - (u >= (1 << 31)).long() * (1 << 32)).to(torch.int32).view(torch.float32)
        x = x[torch.isfinite(x)].contiguous()
        if x.numel() == 0:
            continue
        e = exact(act, x)
        ok = torch.isfinite(e) & (e.abs() < 3.4028234663852886e38)
        errs = {}
        for who, y in (("actfit", actfit_fn(table, x, 0)), ("torch", torch_fn(act, x))):
            err = torch.where(ok, ulps(y, e), torch.zeros_like(e))
            err = torch.nan_to_num(err, nan=math.inf, posinf=math.inf)
            i = int(err.argmax())
            if err[i] > worst[who][0]:
                worst[who] = (float(err[i]), float(x[i]))
            over1[who] += int((err > 1).sum())
            over2[who] += int((err > 2).sum())
            errs[who] = err
            b = (x.view(torch.int32).long() >> 23) & 511
            bmax[who].scatter_reduce_(0, b, err, reduce="amax")
        worse += int((errs["actfit"] > errs["torch"]).sum())
        n += x.numel()
    bad = [(i, float(bmax["actfit"][i]), float(bmax["torch"][i])) for i in range(512)
           if bmax["actfit"][i] > bmax["torch"][i]]
    return n, worst, over1, over2, worse, bad


def binade(i):
    """the x range of binade i (sign bit and exponent field) as text"""
    sign, e = ("-" if i >= 256 else ""), i & 255
    return f"{sign}[0, 2^-126)" if e == 0 else f"{sign}[2^{e - 127}, 2^{e - 126})"


def sweep16(act, table, dt, code):
    bits = torch.arange(0, 1 << 16, dtype=torch.int32).to(torch.int16)
    x = bits.view(dt)
    x = x[torch.isfinite(x.float())].contiguous()
    e = exact(act, x.float())
    want = e.to(dt)   # float64 -> dtype rounds once, to nearest even
    out = {}
    for who, y in (("actfit", actfit_fn(table, x, code)), ("torch", torch_fn(act, x))):
        ne = ~((y.view(torch.int16) == want.view(torch.int16)) |
               (torch.isnan(y.float()) & torch.isnan(want.float())))
        out[who] = int(ne.sum())
    return x.numel(), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--step", type=int, default=16)
    ap.add_argument("--acts", default="gelu,gelu_tanh,silu,mish")
    a = ap.parse_args()
    if a.step < 1:
        ap.error("--step must be >= 1")
    print(f"# torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()}), "
          f"{torch.get_num_threads()} threads; fp32: every {a.step}th bit pattern")
    print("\n| activation | fp32 inputs | actfit worst ulp (at x) | torch worst ulp (at x) | "
          "> 1 ulp: actfit / torch | > 2 ulp: actfit / torch | actfit further than torch | "
          "binades where actfit's worst is above torch's | bf16 not correctly rounded: actfit / torch | fp16: actfit / torch |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for act in a.acts.split(","):
        table = rt.invact_builtin(act.encode())
        if not table:
            sys.exit(f"ulp_torch: no built-in table for '{act}'")
        t0 = time.time()
        n, worst, o1, o2, worse, bad = sweep32(act, table, a.step)
        nb, b = sweep16(act, table, torch.bfloat16, 2)
        nh, h = sweep16(act, table, torch.float16, 1)
        print(f"| {act} | {n} | {worst['actfit'][0]:.3g} ({worst['actfit'][1]:.7g}) | "
              f"{worst['torch'][0]:.3g} ({worst['torch'][1]:.7g}) | {o1['actfit']} / "
              f"{o1['torch']} | {o2['actfit']} / {o2['torch']} | {worse} ({100 * worse / n:.2f}%) "
              f"| {len(bad)} of 512 | {b['actfit']} / {b['torch']} of {nb} | {h['actfit']} / {h['torch']} of {nh} |",
              flush=True)
        for i, wa, wt in bad[:5]:
            print(f"#   {act}: x in {binade(i)}: actfit's worst {wa:.3g} ulp, torch's {wt:.3g}",
                  file=sys.stderr)
        print(f"# {act}: {time.time() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
