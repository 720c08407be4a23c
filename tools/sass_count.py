#!/usr/bin/env python3
"""SASS instruction counts of the GPU passes, per element, without a GPU.

Compiles kernels/sass_probe.cu (the activation and dtype fixed at compile time; the same
elem.h calls and load/store helpers as the library's kernels) to cubins for sm_80 (A100)
and sm_90 (H100) with the library's flags, disassembles them with cuobjdump, and counts,
for each pass, two probes:

- the hot loop (vprobe_*): the library's 16-byte loop for the pass, whose outer loop body
  does 4 fp32 or 8 bf16 elements; its instructions over those elements, the
  special-function ones (MUFU: ex2, lg2, rcp, rsq, sin...; a quarter of the FP32 rate)
  weighing 4, inner loops (a fitted table's piece scan and Horner) once;
- one element (probe_*): one element per thread, every path of the code once (the static
  count), with its loops listed by body size.

A copy of each kind (load, convert, store) is the baseline: "own" is the pass's work beyond
it.  Prints a Markdown table against the roofline budgets of issue 23 (bf16: A100 19, H100
40 instructions per element; fp32 twice that), "over" where the hot loop's own work passes
the budget; with --check FILE, exits 1 if either probe's weighted count exceeds the ceiling
FILE gives it (lines "arch probe ceiling"), so a hot path cannot grow unseen.  --write FILE
records today's counts plus 5% as the ceilings.  Exits 0 with a line on stderr where nvcc
or cuobjdump is missing (as tools/ptx-check.sh).

  .venv/bin/python tools/sass_count.py [--check tools/sass-ceilings.txt] [--write FILE]
"""

import argparse
import glob
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ARCHS = {"80": "A100 (sm_80)", "90": "H100 (sm_90)"}
BUDGET = {"80": 19, "90": 40}           # bf16 instructions per element; fp32 doubles them
PROBES = [f"probe_{a}_fwd_{d}" for a in ("gelu", "gelu_tanh", "silu", "mish")
          for d in ("fp32", "bf16")] + \
         [f"probe_{p}_bwd_{d}" for p in ("invact", "fewbit") for d in ("fp32", "bf16")] + \
         ["probe_copy_fp32", "probe_copy_bf16"]
VEC = {"fp32": 4, "bf16": 8}            # elements per thread per iteration of the 16-byte loops
LINE = re.compile(r"^\s*/\*([0-9a-f]{4,})\*/\s+(@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)\s*([^;]*);")


def find(name, env_dirs):
    cands = [os.environ.get("CUDACXX") if name == "nvcc" else None]
    cands += [os.path.join(d, "bin", name) for d in env_dirs if d]
    cands += [shutil.which(name), f"/usr/local/cuda/bin/{name}"]
    # PyPI's triton (a dependency of torch) ships cuobjdump and nvdisasm
    cands += glob.glob(os.path.join(ROOT, ".venv", "lib", "python*", "site-packages", "triton",
                                    "backends", "nvidia", "bin", name))
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def compile_cubin(nvcc, arch, out):
    subprocess.run([nvcc, "-std=c++17", f"-arch=sm_{arch}", "-fmad=false", "-cubin",
                    "-Iinclude", "-Ikernels", "kernels/sass_probe.cu", "-o", out],
                   cwd=ROOT, check=True)
    return out


def parse(sass):
    """{function: [(addr, opcode, operands, guard)]} (guard: "@P0", "@!P1" or "") without the
    NOP padding and the final self-branch after EXIT."""
    funcs, cur = {}, None
    for ln in sass.splitlines():
        m = re.match(r"\s*Function : (\S+)", ln)
        if m:
            cur = funcs.setdefault(m.group(1), [])
            continue
        m = LINE.match(ln)
        if m and cur is not None:
            cur.append((int(m.group(1), 16), m.group(3), m.group(4).strip(),
                        (m.group(2) or "").strip()))
    for f, ins in funcs.items():
        ins = [i for i in ins if i[1] != "NOP"]
        while ins and ins[-1][1] == "BRA" and ins[-1][2].startswith("0x") and \
                int(ins[-1][2].split()[0], 16) == ins[-1][0]:
            ins.pop()
        funcs[f] = ins
    return funcs


def count(ins):
    mufu = sum(1 for i in ins if i[1].startswith("MUFU"))
    loops, spans = [], []
    for addr, op, args, _ in ins:
        if op == "BRA" and args.startswith("0x") and int(args.split()[0], 16) < addr:
            tgt = int(args.split()[0], 16)
            loops.append(sum(1 for i in ins if tgt <= i[0] <= addr))
            spans.append((tgt, addr))
    return {"total": len(ins), "mufu": mufu, "weighted": len(ins) + 3 * mufu, "loops": loops,
            "spans": spans}


def direct_tops():
    """elem.h's direct-path bounds: ACTFIT_D_TOP* (|x| below one takes the direct path), and
    GELU's, whose positive side reaches ACTFIT_GELU_XSAT (-3.875 < x < 5.375)"""
    with open(os.path.join(ROOT, "kernels", "elem.h")) as f:
        src = f.read()
    tops = {float(v) for v in re.findall(r"#define ACTFIT_D_TOP\d+ ([0-9.]+)f", src)}
    sat = {float(v) for v in re.findall(r"#define ACTFIT_GELU_XSAT ([0-9.]+)f", src)}
    return tops, sat


FSETP_ABS = re.compile(r"^FSETP\.(\w+)\.AND (P\d), PT, \|R\d+\|, ([0-9.]+), PT$")
# a compare of x itself with -top (x above it) or with GELU's upper end (x below it)
FSETP_X = re.compile(r"^FSETP\.(\w+)\.AND (P\d), PT, R\d+(?:\.reuse)?, (-?[0-9.]+), PT$")
BELOW = ("LT", "LTU", "LE", "LEU")
ABOVE = ("GT", "GTU", "GE", "GEU")


def hot_loop(ins, vec, bounds):
    """A vprobe's outer loop (the backward branch reaching furthest back, the grid-stride
    loop around VEC elements' work): (weighted instructions per element on the path every
    element takes when each |x| is below the direct path's bound, the same with every path
    once), or None.  The first skips the code that a branch on a compare of |x| with a
    bound in tops jumps over when |x| is below it (the lean path's tail: elements there run
    it instead, a warp with both kinds runs both); without such a branch the two agree."""
    spans = count(ins)["spans"]
    if not spans:
        return None
    lo, hi = min(spans)
    body = [i for i in ins if lo <= i[0] <= hi]
    tops, sat = bounds  # direct_tops()
    truth, skip = {}, []  # predicate -> its value for an x on the direct path
    for a, op, args, guard in body:
        m = FSETP_ABS.match(f"{op} {args}")
        if m and float(m.group(3)) in tops:
            truth[m.group(2)] = m.group(1) in BELOW
            continue
        m = FSETP_X.match(f"{op} {args}")
        if m and (-float(m.group(3)) in tops or float(m.group(3)) in sat):
            truth[m.group(2)] = m.group(1) in (ABOVE if float(m.group(3)) < 0 else BELOW)
            continue
        pm = re.match(r"(P\d)\b", args)
        if pm and op.split(".")[0] in ("FSETP", "ISETP", "PLOP3", "DSETP", "HSETP2", "R2P"):
            truth.pop(pm.group(1), None)
        # a branch: its guard (@P, @!P) and its own predicate (BRA P, 0x... / BRA !P, 0x...),
        # each known for a direct-path x, all true
        bm = re.match(r"(?:(!?)(P\d), )?(0x[0-9a-f]+)", args)
        if op == "BRA" and bm:
            conds = [(g.group(1), g.group(2)) for g in [re.match(r"@(!?)(P\d)$", guard)] if g]
            if bm.group(2):
                conds.append((bm.group(1), bm.group(2)))
            tgt = int(bm.group(3), 16)
            if conds and tgt > a and all(p in truth and truth[p] != (n == "!") for n, p in conds):
                skip.append((a, tgt))

    def weigh(ops):
        return len(ops) + 3 * sum(1 for op in ops if op.startswith("MUFU"))
    every = weigh([i[1] for i in body])
    taken = weigh([i[1] for i in body if not any(s < i[0] < t for s, t in skip)])
    return taken / vec, every / vec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", metavar="FILE")
    ap.add_argument("--write", metavar="FILE")
    a = ap.parse_args()
    dirs = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH")]
    nvcc, cuobjdump = find("nvcc", dirs), find("cuobjdump", dirs)
    if not nvcc or not cuobjdump:
        print(f"sass_count: no {'nvcc' if not nvcc else 'cuobjdump'} (CUDACXX, CUDA_HOME, "
              "PATH, /usr/local/cuda, triton's in .venv): skipped", file=sys.stderr)
        return 0
    bounds = direct_tops()
    with tempfile.TemporaryDirectory() as tmp:
        with ThreadPoolExecutor(len(ARCHS)) as ex:
            cubins = dict(zip(ARCHS, ex.map(lambda ar: compile_cubin(
                nvcc, ar, os.path.join(tmp, f"probe.sm_{ar}.cubin")), ARCHS)))
        counts = {}
        for ar, cb in cubins.items():
            funcs = parse(subprocess.run([cuobjdump, "-sass", cb], capture_output=True,
                                         text=True, check=True).stdout)
            for p in PROBES:
                vp = "v" + p
                if p not in funcs or vp not in funcs:
                    print(f"sass_count: {p} or {vp} is not in the sm_{ar} cubin", file=sys.stderr)
                    return 1
                counts[ar, p] = count(funcs[p])
                h = hot_loop(funcs[vp], VEC[p.rsplit("_", 1)[1]], bounds)
                if h is None:
                    print(f"sass_count: {vp} has no loop in the sm_{ar} cubin", file=sys.stderr)
                    return 1
                counts[ar, p]["hot"], counts[ar, p]["hot_every"] = h
    print(f"SASS per element ({os.path.basename(nvcc)} {nvcc_version(nvcc)}; weighted = "
          "instructions + 3 x MUFU).  Hot loop: the library's 16-byte loop for the pass "
          "(4 fp32 or 8 bf16 elements an iteration), its body over the elements, on the path "
          "of elements on the forwards' direct path (elem.h's ACTFIT_D_TOP*, |x| < "
          "3.875 or 7.75; GELU's -3.875 < x < 5.375; the backwards have one path); own = "
          "beyond the same loop copying (load, convert, store); verdict on own.  Every path: the same body with the lean path too (what an "
          "element beyond the bound runs).  One element: the one-element probe's static count "
          "(every path once), beyond its copy.\n")
    print("| pass | dtype | " + " | ".join(f"{ARCHS[ar]}: hot loop total, own / budget"
                                            for ar in ARCHS) +
          " | H100 hot loop, every path: total | H100 one element: instr (MUFU), own "
          "| loops (body sizes) |")
    print("|---|---|" + "---|" * len(ARCHS) + "---|---|---|")
    for p in PROBES:
        name, dt = p[len("probe_"):].rsplit("_", 1)
        cells = []
        for ar in ARCHS:
            c = counts[ar, p]
            b = BUDGET[ar] * (2 if dt == "fp32" else 1)
            own = c["hot"] - counts[ar, f"probe_copy_{dt}"]["hot"]
            verdict = " over" if own > b else ""
            cells.append(f"{c['hot']:.1f}, {own:.1f} / {b}{verdict}")
        c = counts["90", p]
        one = f"{c['total']} ({c['mufu']}), {c['weighted'] - counts['90', f'probe_copy_{dt}']['weighted']}"
        loops = c["loops"]
        print(f"| {name.replace('_', ' ')} | {dt} | " + " | ".join(cells) +
              f" | {c['hot_every']:.1f} | {one} | {', '.join(map(str, loops)) if loops else '-'} |")
    if a.write:
        with open(a.write, "w") as f:
            f.write("# tools/sass_count.py --check: arch probe ceiling (weighted SASS "
                    "instructions per element; today's counts + 5%)\n")
            for (ar, p), c in sorted(counts.items()):
                f.write(f"sm_{ar} {p} {math.ceil(c['weighted'] * 1.05)}\n")
                f.write(f"sm_{ar} v{p} {math.ceil(c['hot'] * 1.05)}\n")
    if a.check:
        ceil = {}
        with open(a.check) as f:
            for ln in f:
                if ln.strip() and not ln.startswith("#"):
                    ar, p, v = ln.split()
                    ceil[ar[3:], p] = int(v)
        got = {}
        for (ar, p), c in counts.items():
            got[ar, p] = c["weighted"]
            got[ar, "v" + p] = c["hot"]
        bad = [(ar, p, w, ceil.get((ar, p))) for (ar, p), w in sorted(got.items())
               if (ar, p) not in ceil or w > ceil[ar, p]]
        for ar, p, w, c in bad:
            print(f"sass_count: sm_{ar} {p}: {w:g} weighted instructions per element, ceiling "
                  f"{c if c is not None else '(none recorded)'}", file=sys.stderr)
        if bad:
            return 1
        print(f"\nsass_count: every probe within its ceiling ({a.check})")
    return 0


def nvcc_version(nvcc):
    out = subprocess.run([nvcc, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"release ([\d.]+)", out)
    return m.group(1) if m else "?"


if __name__ == "__main__":
    sys.exit(main())
