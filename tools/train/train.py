#!/usr/bin/env python3
"""Training proof for actfit's PyTorch modules: a small GPT-style character model on the
English text of Debian's `fortunes` package, trained once per method and seed with the same
initialisation and batch order (paired seeds).  Methods swap the model's activations with
actfit.nn.replace, exactly as a user would.

  tools/train/train.py                       # the full grid -> plots/train-summary.json, plots/train-loss.png
  tools/train/train.py --smoke               # a few dozen steps per method (CI)

Every --eval steps: the validation loss (fixed batches) and, on one fixed batch with the
current weights, the cosine between this method's weight gradient and the exact one."""

import argparse
import copy
import os

# one BLAS thread per run (set before torch loads OpenBLAS): runs go side by side, and
# OpenBLAS's own threads would only contend with them
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import glob
import json
import math
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))

METHODS = ["exact", "invact", "invact:bit-in-y", "fewbit:1", "fewbit:2", "fewbit:3", "fewbit:4"]
FORTUNES = "/usr/share/games/fortunes"


def die(msg):
    print(f"train: {msg}", file=sys.stderr)
    sys.exit(2)


def load_text(root):
    files = sorted(f for f in glob.glob(os.path.join(root, "*"))
                   if os.path.isfile(f) and not f.endswith((".dat", ".u8")))
    if not files:
        die(f"no fortune files under {root}: install Debian's 'fortunes' package "
            "(apt-get install fortunes), or pass --data DIR")
    parts = []
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            parts.append(fh.read().replace("\n%\n", "\n\n"))
    return "".join(parts), [os.path.basename(f) for f in files]


def build(args, torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, d, heads, ctx, mlp):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.heads = heads
            self.register_buffer("mask", torch.tril(torch.ones(ctx, ctx, dtype=torch.bool)),
                                 persistent=False)
            self.mlp_kind = mlp
            if mlp == "swiglu":  # LLaMA's: separate gate and up projections (a fused one,
                # chunked, would keep the SiLU's input alive as the other half's storage)
                h = (8 * d) // 3
                self.gate, self.up = nn.Linear(d, h), nn.Linear(d, h)
                self.act, self.down = nn.SiLU(), nn.Linear(h, d)
            else:
                self.up, self.act, self.down = nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
            q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
            att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.heads)
            att = att.masked_fill(~self.mask[:T, :T], float("-inf")).softmax(-1)
            x = x + self.proj((att @ v).transpose(1, 2).reshape(B, T, C))
            u = self.ln2(x)
            if self.mlp_kind == "swiglu":
                h = self.act(self.gate(u)) * self.up(u)
            else:
                h = self.act(self.up(u))
            return x + self.down(h)

    class GPT(nn.Module):
        def __init__(self, vocab, d, layers, heads, ctx, mlp):
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
            self.blocks = nn.Sequential(*[Block(d, heads, ctx, mlp) for _ in range(layers)])
            self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)

        def forward(self, idx):
            x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
            return self.head(self.ln(self.blocks(x)))

    return GPT


def apply_method(model, method, actnn):
    if method == "exact":
        return []
    kind, _, arg = method.partition(":")
    if kind == "invact":
        return actnn.replace(model, method="invact", bit_in_y=(arg == "bit-in-y"))
    return actnn.replace(model, method="fewbit", bits=int(arg))


def saved_bytes(model, torch, actnn, x, y):
    with actnn.saved_bytes(model) as m:
        loss = torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
    loss.backward()
    model.zero_grad(set_to_none=True)
    return m.bytes


def run(args, method, seed):
    import torch
    torch.set_num_threads(args.threads)
    import actfit.nn as actnn

    text, _ = load_text(args.data)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    GPT = build(args, torch)
    torch.manual_seed(seed)  # the same initialisation for every method
    model = GPT(len(chars), args.d, args.layers, args.heads, args.ctx, args.mlp)
    ref = copy.deepcopy(model)  # stock activations, for the gradient cosine
    apply_method(model, method, actnn)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    gb = torch.Generator().manual_seed(1000 + seed)  # the same batch order for every method

    def batch(src, g, n):
        i = torch.randint(len(src) - args.ctx - 1, (n,), generator=g)
        x = torch.stack([src[j:j + args.ctx] for j in i])
        return x, torch.stack([src[j + 1:j + 1 + args.ctx] for j in i])

    gv = torch.Generator().manual_seed(7)
    vbatches = [batch(val, gv, args.batch) for _ in range(args.val_batches)]
    gbatch = batch(train, torch.Generator().manual_seed(99), args.batch)

    def lossf(m, x, y):
        return torch.nn.functional.cross_entropy(m(x).flatten(0, 1), y.flatten())

    def evaluate():
        with torch.no_grad():
            return sum(lossf(model, x, y).item() for x, y in vbatches) / len(vbatches)

    def cosine():
        ref.load_state_dict(model.state_dict())
        grads = []
        for m in (model, ref):
            m.zero_grad(set_to_none=True)
            lossf(m, *gbatch).backward()
            grads.append(torch.cat([p.grad.flatten() for p in m.parameters()]))
            m.zero_grad(set_to_none=True)
        return torch.nn.functional.cosine_similarity(grads[0], grads[1], dim=0).item()

    n_act = args.layers * args.batch * args.ctx * ((8 * args.d) // 3 if args.mlp == "swiglu" else 4 * args.d)
    sb = saved_bytes(model, torch, actnn, *gbatch)
    sb_exact = saved_bytes(ref, torch, actnn, *gbatch)
    curve, cos, trains = [], [], []
    t0 = time.time()
    for step in range(1, args.steps + 1):
        lr = args.lr * min(1.0, step / args.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / args.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch(train, gb, args.batch)
        loss = lossf(model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        trains.append(loss.item())
        if step % args.eval == 0 or step == args.steps:
            curve.append([step, evaluate()])
            cos.append([step, cosine()])
    print(f"train: {method} seed {seed}: val {curve[-1][1]:.4f} after {args.steps} steps, "
          f"{time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    return {"method": method, "seed": seed, "val_curve": curve, "grad_cosine": cos,
            "final_train_loss": sum(trains[-args.eval:]) / len(trains[-args.eval:]),
            "saved_bytes": sb, "saved_bytes_exact": sb_exact, "act_elements": n_act,
            "seconds": time.time() - t0}


def summarise(args, results, files):
    import statistics as st
    methods = {}
    for m in args.methods:
        rs = [r for r in results if r["method"] == m]
        finals = [r["val_curve"][-1][1] for r in rs]
        # bytes the activations keep per element: the exact model keeps its input (es bytes);
        # the method's difference to exact, measured, added to that
        es = 4
        per = [es + (r["saved_bytes"] - r["saved_bytes_exact"]) / r["act_elements"] for r in rs]
        methods[m] = {
            "final_val_loss_mean": st.mean(finals),
            "final_val_loss_std": st.stdev(finals) if len(finals) > 1 else 0.0,
            "final_train_loss_mean": st.mean(r["final_train_loss"] for r in rs),
            "grad_cosine_mean": st.mean(c for r in rs for _, c in r["grad_cosine"]),
            "grad_cosine_min": min(c for r in rs for _, c in r["grad_cosine"]),
            "saved_bytes_per_element": st.mean(per),
            "saved_bytes_model": st.mean(r["saved_bytes"] for r in rs),
            "seconds": st.mean(r["seconds"] for r in rs),
            "val_curve_mean": [[s, st.mean(r["val_curve"][i][1] for r in rs)]
                               for i, (s, _) in enumerate(rs[0]["val_curve"])],
        }
    ex = methods.get("exact")
    flat = None
    if ex:
        c = ex["val_curve_mean"]
        q = [v for s, v in c if s >= 0.75 * args.steps]
        flat = {"val_loss_at_3/4": q[0], "val_loss_final": q[-1],
                "improvement_last_quarter": q[0] - q[-1],
                "relative": (q[0] - q[-1]) / q[0]}
        for m in methods.values():
            m["vs_exact"] = m["final_val_loss_mean"] / ex["final_val_loss_mean"] - 1
    return {"data": f"Debian fortunes ({len(files)} files under {args.data}), characters, "
                    "last 10% for validation",
            "model": f"GPT, {args.layers} layers, d={args.d}, {args.heads} heads, context "
                     f"{args.ctx}, {args.mlp} MLP, batch {args.batch}, AdamW lr {args.lr} "
                     f"cosine to 10%, fp32, {args.threads} thread(s) per run",
            "steps": args.steps, "seeds": args.seeds, "exact_flattening": flat,
            "methods": methods}


def plot(summary, png):
    """Validation loss per method (mean over seeds) and, below, its difference to exact."""
    dat = png[:-4] + ".dat"
    names = list(summary["methods"])
    curves = [summary["methods"][m]["val_curve_mean"] for m in names]
    ex = summary["methods"].get("exact", {}).get("val_curve_mean")
    with open(dat, "w") as f:
        f.write("# step " + " ".join(names) + (" then each minus exact" if ex else "") + "\n")
        for i in range(len(curves[0])):
            row = [f"{c[i][1]:.6f}" for c in curves]
            if ex:
                row += [f"{c[i][1] - ex[i][1]:.6f}" for c in curves]
            f.write(f"{curves[0][i][0]} " + " ".join(row) + "\n")
    colors = ["#000000", "#1b9e77", "#66c2a5", "#d95f02", "#7570b3", "#e7298a", "#386cb0",
              "#a6761d"]
    n = len(names)

    def line(i, m, col):
        lw = 3 if m == "exact" else 2
        dt = " dt 2" if m == "invact:bit-in-y" else ""
        return f"'{dat}' using 1:{col} with linespoints lw {lw}{dt} pt 7 ps 0.5 " \
               f"lc rgb '{colors[i % len(colors)]}'"
    cmds = [
        "set terminal pngcairo size 1000,800 font 'DejaVu Sans,11'",
        f"set output '{png}'",
        "set multiplot layout 2,1 title 'Character GPT on fortunes: validation loss, mean of " +
        f"{len(summary['seeds'])} seeds (" + summary["model"].split(", batch")[0] + ")' font ',12'",
        "set lmargin at screen 0.10", "set rmargin at screen 0.97",
        "set grid", "set key top right box opaque", "set ylabel 'validation loss (nats/char)'",
        "plot " + ", ".join(line(i, m, i + 2) + f" title '{m} ({summary['methods'][m]['final_val_loss_mean']:.4f})'"
                            for i, m in enumerate(names)),
    ]
    if ex:
        cmds += ["set xlabel 'step'", "set ylabel 'minus exact (nats/char)'", "set key off",
                 "plot " + ", ".join(line(i, m, n + i + 2) + " notitle" for i, m in enumerate(names))]
    cmds.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(cmds), text=True, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--eval", type=int, default=100, help="steps between evaluations")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ctx", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--val-batches", type=int, default=16)
    ap.add_argument("--mlp", choices=["gelu", "swiglu"], default="gelu")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per run")
    ap.add_argument("--jobs", type=int, default=2, help="runs side by side")
    ap.add_argument("--data", default=FORTUNES)
    ap.add_argument("--out", default=os.path.join(ROOT, "plots", "train-summary.json"))
    ap.add_argument("--png", default=os.path.join(ROOT, "plots", "train-loss.png"))
    ap.add_argument("--replot", action="store_true",
                    help="only redraw --png from the summary at --out")
    ap.add_argument("--smoke", action="store_true",
                    help="CI size: 40 steps, one seed, a tiny model; checks the loss falls")
    args = ap.parse_args()
    if args.replot:
        with open(args.out) as f:
            plot(json.load(f), args.png)
        print(f"wrote {args.png}")
        return
    if args.smoke:
        args.steps, args.eval, args.warmup, args.d, args.layers, args.ctx, args.batch = 40, 20, 5, 32, 2, 32, 16
        args.seeds, args.val_batches, args.jobs = "0", 4, 1
    args.methods = args.methods.split(",")
    for m in args.methods:
        if m not in METHODS:
            die(f"unknown method '{m}' ({', '.join(METHODS)})")
    try:
        args.seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        die(f"--seeds must be integers separated by commas, got '{args.seeds}'")
    _, files = load_text(args.data)
    jobs = [(m, s) for s in args.seeds for m in args.methods]
    t0 = time.time()
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor
        import multiprocessing as mp
        with ProcessPoolExecutor(args.jobs, mp_context=mp.get_context("spawn")) as ex:
            results = list(ex.map(run, [args] * len(jobs), *zip(*jobs)))
    else:
        results = [run(args, m, s) for m, s in jobs]
    summary = summarise(args, results, files)
    summary["wall_seconds"] = time.time() - t0
    for m, r in summary["methods"].items():
        print(f"{m:16s} val {r['final_val_loss_mean']:.4f} ± {r['final_val_loss_std']:.4f}  "
              f"train {r['final_train_loss_mean']:.4f}  cos {r['grad_cosine_mean']:.6f} "
              f"(min {r['grad_cosine_min']:.6f})  saved B/elem {r['saved_bytes_per_element']:.3f}  "
              f"{r['seconds']:.0f} s")
    if args.smoke:
        bad = [r["method"] for r in results if not r["final_train_loss"] < math.log(len(set(load_text(args.data)[0]))) - 0.5]
        if bad:
            die(f"smoke: the loss did not fall for {', '.join(bad)}")
        print(f"smoke: the loss fell for every method ({summary['wall_seconds']:.0f} s)")
        return
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    os.replace(tmp, args.out)
    plot(summary, args.png)
    print(f"wrote {args.out} and {args.png} in {summary['wall_seconds']:.0f} s")


if __name__ == "__main__":
    main()
