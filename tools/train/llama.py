#!/usr/bin/env python3
"""Memory and loss of a LLaMA-architecture model (transformers' LlamaForCausalLM, random init,
a small config) trained on the bytes of Debian's `fortunes` text, with paired seeds (the same
initialisation and batches for every variant):

  stock                 transformers' model as it is, eager
  invact                actfit.nn.replace(model): SiLU -> InvAct
  invact+fused          actfit.nn.replace(model, fuse_mlp=True): each MLP one GatedMLP
  stock compiled        torch.compile(model)
  invact compiled       replace, then torch.compile
  invact+fused compiled replace(fuse_mlp=True), then torch.compile

Per variant: the bytes autograd keeps for backward per token (saved-tensor hooks, parameters
excluded; for compiled graphs the tensors the graph saves), the validation loss after --steps
steps (mean and std over seeds) and the median seconds per step.

  .venv/bin/python tools/train/llama.py          # -> plots/llama-summary.json, plots/llama-loss.png
  .venv/bin/python tools/train/llama.py --smoke  # CI: a few steps, the accounting checked
"""

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, HERE)

VARIANTS = ["stock", "invact", "invact+fused", "stock compiled", "invact compiled",
            "invact+fused compiled"]


def die(msg):
    print(f"llama: {msg}", file=sys.stderr)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--ctx", type=int, default=64)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="/usr/share/games/fortunes")
    ap.add_argument("--smoke", action="store_true", help="a few steps, two variants, no files")
    ap.add_argument("--out", default=os.path.join(ROOT, "plots", "llama-summary.json"))
    ap.add_argument("--png", default=os.path.join(ROOT, "plots", "llama-loss.png"))
    args = ap.parse_args()
    variants = [v.strip() for v in args.variants.split(",")]
    for v in variants:
        if v not in VARIANTS:
            ap.error(f"--variants: unknown {v!r} ({', '.join(VARIANTS)})")
    if args.smoke:
        args.steps, args.seeds, args.d, args.ctx, args.batch = 12, "0", 64, 32, 8
    seeds = [int(s) for s in args.seeds.split(",")]

    import torch
    try:
        import transformers
    except ImportError:
        die("transformers is not installed (tools/bootstrap.sh puts it in .venv)")
    import actfit.nn as an
    from train import load_text

    torch.set_num_threads(args.threads)
    text, files = load_text(args.data)
    data = torch.frombuffer(bytearray(text.encode("utf-8", errors="replace")), dtype=torch.uint8)
    cut = int(0.9 * len(data))
    train_d, val_d = data[:cut].long(), data[cut:].long()
    ffn = 8 * args.d // 3
    cfg = transformers.LlamaConfig(vocab_size=256, hidden_size=args.d, intermediate_size=ffn,
                                   num_hidden_layers=args.layers, num_attention_heads=4,
                                   num_key_value_heads=4, max_position_embeddings=args.ctx,
                                   tie_word_embeddings=False)

    def batch(src, g):
        i = torch.randint(0, len(src) - args.ctx - 1, (args.batch,), generator=g)
        return torch.stack([src[j:j + args.ctx] for j in i])

    gv = torch.Generator().manual_seed(1234)
    val = [batch(val_d, gv) for _ in range(8)]

    def make(variant, seed):
        torch.manual_seed(seed)
        m = transformers.LlamaForCausalLM(cfg)
        if variant.startswith("invact"):
            an.replace(m, fuse_mlp="fused" in variant)
        return m, (torch.compile(m) if variant.endswith("compiled") else m)

    results = {}
    t_all = time.time()
    for variant in variants:
        rows = []
        for seed in seeds:
            model, step_fn = make(variant, seed)
            opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
            g = torch.Generator().manual_seed(seed)
            times, curve = [], []
            for s in range(args.steps):
                x = batch(train_d, g)
                t0 = time.perf_counter()
                loss = step_fn(x, labels=x).loss
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)
                times.append(time.perf_counter() - t0)
                if (s + 1) % max(1, args.steps // 6) == 0 or s + 1 == args.steps:
                    with torch.no_grad():
                        v = sum(step_fn(b, labels=b).loss.item() for b in val) / len(val)
                    curve.append([s + 1, v])
            with an.saved_bytes(model) as kept:
                step_fn(val[0], labels=val[0]).loss
            rows.append({"seed": seed, "val_loss": curve[-1][1], "curve": curve,
                         "bytes_per_token": kept.bytes / (args.batch * args.ctx),
                         "s_per_step": statistics.median(times[len(times) // 4:])})
            print(f"{variant:22s} seed {seed}: val {curve[-1][1]:.4f}  kept "
                  f"{rows[-1]['bytes_per_token']:.0f} B/token  {rows[-1]['s_per_step']:.4f} "
                  "s/step", flush=True)
        vl = [r["val_loss"] for r in rows]
        results[variant] = {
            "final_val_loss_mean": statistics.mean(vl),
            "final_val_loss_std": statistics.stdev(vl) if len(vl) > 1 else 0.0,
            "bytes_per_token": rows[0]["bytes_per_token"],
            "s_per_step_median": statistics.median(r["s_per_step"] for r in rows),
            "val_curve_mean": [[c[0], statistics.mean(r["curve"][i][1] for r in rows)]
                               for i, c in enumerate(rows[0]["curve"])],
            "per_seed": rows}
    stock = results.get("stock", {}).get("bytes_per_token")
    print("\n| variant | bytes kept per token | vs stock eager | val loss (mean ± std) | "
          "s per step |\n|---|---|---|---|---|")
    for v, r in results.items():
        share = f"{r['bytes_per_token'] / stock:.3f}" if stock else "-"
        print(f"| {v} | {r['bytes_per_token']:.0f} | {share} | {r['final_val_loss_mean']:.4f} ± "
              f"{r['final_val_loss_std']:.4f} | {r['s_per_step_median']:.3f} |")
    # what the accounting says the MLPs keep, per token and layer: stock 4 FFN-wide tensors,
    # InvAct 3 and a bit, fused 2 and a bit (fp32)
    acct = {"stock": 4 * 4 * ffn, "invact": 3 * 4 * ffn + ffn / 8,
            "invact+fused": 2 * 4 * ffn + ffn / 8}
    if "stock" in results:
        for v in ("invact", "invact+fused"):
            if v in results:
                got = (stock - results[v]["bytes_per_token"]) / args.layers
                want = (acct["stock"] - acct[v])
                print(f"{v}: {got:.2f} B/token/layer less than stock (accounting: {want:.2f})")
    summary = {"model": f"LlamaForCausalLM, {args.layers} layers, d={args.d}, ffn={ffn}, 4 heads,"
                        f" context {args.ctx}, batch {args.batch}, AdamW lr 0.003, fp32, "
                        f"{args.threads} threads, random init",
               "data": f"Debian fortunes ({len(files)} files), bytes, last 10% for validation",
               "steps": args.steps, "seeds": seeds, "torch": torch.__version__,
               "transformers": transformers.__version__,
               "wall_seconds": time.time() - t_all, "variants": results}
    if args.smoke:
        print(json.dumps({v: r["bytes_per_token"] for v, r in results.items()}))
        return
    from plotutil import write
    write(summary, args.out, args.png, plot)


def plot(summary, png):
    from plotutil import curves
    v = summary["variants"]
    curves(png, "LlamaForCausalLM on fortunes bytes: validation loss, mean of "
           f"{len(summary['seeds'])} seeds", "step", "validation loss (nats/byte)",
           [(f"{n} ({r['bytes_per_token']:.0f} B/token kept)", r["val_curve_mean"])
            for n, r in v.items()])


if __name__ == "__main__":
    main()
