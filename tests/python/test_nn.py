"""The PyTorch binding (python/actfit): bit identity with the C runtime, gradients against
stock torch within each table's stated error, exact FewBit gradients, saved bytes, replace,
calibrate, expression tables and bad input.  Run by CTest through .venv/bin/python; exits 77
(skipped) when torch is missing."""

import ctypes
import ctypes.util
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import warnings

try:
    import torch
except ImportError:
    print("test_nn: torch is not installed (tools/bootstrap.sh makes .venv with it): skipped")
    sys.exit(77)

import actfit
import actfit.nn as an
from actfit import rt
from actfit.table import Table

FIT = unittest.skipUnless(rt.have_fitting(), "needs the fitting library (a runtime-only build "
                          "has none)")
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DTYPES = {torch.float32: rt.FP32, torch.float16: rt.FP16, torch.bfloat16: rt.BF16}
EPS = {torch.float32: 2.0 ** -24, torch.float16: 2.0 ** -11, torch.bfloat16: 2.0 ** -8}
INVACT = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(SRC, "tables/invact/*.json")))
FEWBIT = sorted({os.path.basename(p).split("-")[0]
                 for p in glob.glob(os.path.join(SRC, "tables/fewbit/*-1bit.json"))})
TORCH_F = {
    "gelu": torch.nn.functional.gelu,
    "gelu_tanh": lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
    "silu": torch.nn.functional.silu, "mish": torch.nn.functional.mish,
    "softplus": torch.nn.functional.softplus, "elu": torch.nn.functional.elu,
    "celu": torch.nn.functional.celu, "selu": torch.nn.functional.selu,
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "logsigmoid": torch.nn.functional.logsigmoid,
    "softsign": torch.nn.functional.softsign, "tanhshrink": torch.nn.functional.tanhshrink,
    "hardswish": torch.nn.functional.hardswish, "hardsigmoid": torch.nn.functional.hardsigmoid,
    "hardtanh": torch.nn.functional.hardtanh, "relu": torch.relu, "relu6": torch.nn.functional.relu6,
    "leaky_relu": torch.nn.functional.leaky_relu, "hardshrink": torch.nn.functional.hardshrink,
    "softshrink": torch.nn.functional.softshrink}


def inputs(dtype, n=20011, lo=-10.0, hi=10.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, generator=g, dtype=torch.float64) * (hi - lo) + lo
    x[:3] = torch.tensor([0.0, -0.0, 1e-30])
    return x.to(dtype)


def raw(t):
    """the tensor's bits, for exact comparisons (NaN patterns included)"""
    return t.view(torch.int32) if t.dtype == torch.float32 else t.view(torch.int16)


def runtime_forward(table, x, flags=0):
    """y and state from the C runtime called directly, no module in between"""
    y = torch.empty_like(x)
    state = torch.empty(table.state_bytes(x.numel(), flags), dtype=torch.uint8)
    if table.method == rt.METHOD_FEWBIT:
        st = rt.fewbit_forward(table.ptr, DTYPES[x.dtype], x.data_ptr(), y.data_ptr(),
                               state.data_ptr(), x.numel(), None)
    else:
        st = rt.invact_forward(table.ptr, DTYPES[x.dtype], flags, x.data_ptr(), y.data_ptr(),
                               state.data_ptr(), x.numel(), None)
    rt.check(st, "test forward")
    return y, state


def saved_bytes(model, *args):
    """bytes of unique storages autograd saves during model(*args), parameters excluded"""
    with an.saved_bytes(model) as m:
        out = model(*args)
    return m.bytes, out


class BitIdentity(unittest.TestCase):
    def test_module_y_and_state_equal_the_runtime_for_every_builtin_and_dtype(self):
        for dtype in DTYPES:
            x = inputs(dtype)
            cases = [(a, an.Activation(a, "invact")) for a in INVACT]
            cases += [(a, an.Activation(a, "invact", bit_in_y=True)) for a in ("gelu", "silu", "hardswish")]
            cases += [(a, an.Activation(a, "fewbit", bits=b)) for a in FEWBIT for b in (1, 4)]
            for name, m in cases:
                with self.subTest(act=name, dtype=dtype, module=repr(m)):
                    y = m(x.clone().requires_grad_())
                    want_y, want_state = runtime_forward(m.table, x, m.flags)
                    self.assertTrue(torch.equal(raw(y.detach()), raw(want_y)))
                    state = y.grad_fn.saved_tensors[-1]
                    self.assertTrue(torch.equal(state, want_state))

    def test_noncontiguous_and_shaped_input_give_the_flat_results(self):
        x = inputs(torch.float32, 4096).reshape(64, 64)
        m = an.GELU()
        y = m(x.t())
        self.assertEqual(y.shape, (64, 64))
        want, _ = runtime_forward(m.table, x.t().contiguous().reshape(-1))
        self.assertTrue(torch.equal(y.reshape(-1), want))


class Gradients(unittest.TestCase):
    def test_invact_gradients_are_within_the_tables_stated_error_of_torch(self):
        for dtype in DTYPES:
            dkey = {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}[dtype]
            x = inputs(dtype, seed=1)
            for a in INVACT:
                with open(os.path.join(SRC, "tables/invact", a + ".json")) as f:
                    errors = json.load(f)["errors"]
                for biy in (False, True):
                    m = an.Activation(a, "invact", bit_in_y=biy)
                    if biy and not m.table.rt.bit:
                        continue
                    with self.subTest(act=a, dtype=dtype, bit_in_y=biy):
                        stated = errors["dtypes"][dkey]
                        stated = stated["bit_in_y"]["max"] if biy else stated["max"]
                        xg = x.clone().requires_grad_()
                        g, = torch.autograd.grad(m(xg).sum(), xg)
                        xr = x.double().requires_grad_()
                        want, = torch.autograd.grad(TORCH_F[a](xr).sum(), xr)
                        # the table's error for exact f', plus the rounding of grad to dtype
                        tol = stated + want.abs() * EPS[dtype] + 1e-7
                        bad = (g.double() - want).abs() > tol
                        self.assertFalse(bad.any(), f"{int(bad.sum())} elements off, worst "
                                         f"{(g.double() - want).abs().max().item():.3g} "
                                         f"(stated {stated:.3g})")

    def test_fewbit_gradients_equal_grad_out_times_the_level_of_the_code(self):
        for dtype in DTYPES:
            x = inputs(dtype, seed=2)
            go = inputs(dtype, seed=3, lo=-3, hi=3)
            for a in FEWBIT:
                for bits in (1, 2, 3, 4):
                    with self.subTest(act=a, bits=bits, dtype=dtype):
                        m = an.Activation(a, "fewbit", bits=bits)
                        t = m.table.rt
                        nb = (1 << bits) - 1
                        borders = torch.tensor(list(t.borders)[:nb], dtype=torch.float32)
                        levels = torch.tensor(list(t.levels)[:nb + 1], dtype=torch.float32)
                        xf = x.float().abs() if t.parity_even else x.float()
                        code = torch.searchsorted(borders, xf, right=True)
                        want = (go.float() * levels[code]).to(dtype)
                        xg = x.clone().requires_grad_()
                        g, = torch.autograd.grad(m(xg), xg, go)
                        self.assertTrue(torch.equal(raw(g), raw(want)))


class TorchForward(unittest.TestCase):
    def test_forward_torch_gives_torchs_y_and_the_runtimes_state(self):
        for dtype in DTYPES:
            x = inputs(dtype, seed=11)
            try:
                torch.nn.functional.gelu(x)
            except RuntimeError:  # this torch has no CPU GELU in the dtype (fp16 in 1.13)
                continue
            for kw, fn in [(dict(), torch.nn.functional.gelu),
                           (dict(approximate="tanh"), lambda v: torch.nn.functional.gelu(v, approximate="tanh")),
                           (dict(method="fewbit", bits=2), torch.nn.functional.gelu)]:
                m = an.GELU(forward="torch", **kw)
                with self.subTest(module=repr(m), dtype=dtype):
                    self.assertIn("forward=torch", repr(m))
                    xg = x.clone().requires_grad_()
                    y = m(xg)
                    self.assertTrue(torch.equal(raw(y.detach()), raw(fn(x))))
                    _, want_state = runtime_forward(m.table, x, m.flags)
                    self.assertTrue(torch.equal(y.grad_fn.saved_tensors[-1], want_state))
                    g, = torch.autograd.grad(y.sum(), xg)
                    xr = x.double().requires_grad_()
                    want, = torch.autograd.grad(fn(xr).sum(), xr)
                    # torch's y is within an ulp or two of the runtime's: the InvAct error
                    # stays at the dtype's level (bf16: 2^-7 relative plus the table's floor)
                    tol = 0.3 if kw.get("method") == "fewbit" else 0.02 + 4 * EPS[dtype]
                    self.assertLess((g.double() - want).abs().max().item(), tol)
        with self.assertRaisesRegex(ValueError, "forward must be"):
            an.SiLU(forward="numpy")
        model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.SiLU())
        an.replace(model, forward="torch", bit_in_y=True)
        self.assertIn("forward=torch", repr(model[1]))
        model(torch.randn(3, 4)).sum().backward()


class Memory(unittest.TestCase):
    def block(self, act, d=32, dtype=torch.float32):
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(d, 4 * d), act, torch.nn.Linear(4 * d, d)).to(dtype)

    def test_saved_bytes_of_a_block_are_what_the_method_keeps(self):
        rows, d = 48, 32
        for dtype in (torch.float32, torch.bfloat16):
            es = 4 if dtype == torch.float32 else 2
            n = rows * 4 * d
            x = torch.randn(rows, d, dtype=dtype)
            stock, _ = saved_bytes(self.block(torch.nn.GELU(), d, dtype), x)
            # stock: Linear 1 keeps x, GELU keeps its input h, Linear 2 keeps y = GELU(h)
            self.assertEqual(stock, rows * d * es + 2 * n * es)
            for m, extra in [(an.GELU(), (n + 31) // 32 * 4), (an.GELU(bit_in_y=True), 0),
                             (an.Sigmoid(), 0)] + \
                            [(an.GELU(method="fewbit", bits=b), (n + 31) // 32 * 4 * b) for b in (1, 2, 3, 4)]:
                with self.subTest(module=repr(m), dtype=dtype):
                    got, out = saved_bytes(self.block(m, d, dtype), x)
                    # x, y (shared by the activation and Linear 2), the state; no copy of h
                    self.assertEqual(got, rows * d * es + n * es + extra)
                    self.assertEqual(m.state_bytes(n), extra)
                    out.sum().backward()

    def test_the_input_is_not_kept_alive(self):
        m = an.GELU()
        x = torch.randn(1000, requires_grad=True)
        h = x * 2
        ref = h.untyped_storage().data_ptr()
        y = m(h)
        saved = [t.untyped_storage().data_ptr() for t in y.grad_fn.saved_tensors]
        self.assertNotIn(ref, saved)


class Replace(unittest.TestCase):
    @FIT
    def test_replace_swaps_nested_modules_with_their_parameters(self):
        inner = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ELU(alpha=0.5),
                                    torch.nn.Sequential(torch.nn.GELU(approximate="tanh"), torch.nn.SiLU()))
        model = torch.nn.ModuleDict({"a": inner, "b": torch.nn.Softplus(beta=2.0), "c": torch.nn.PReLU()})
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            done = an.replace(model, method="invact")
        names = sorted(q for q, _, _ in done)
        self.assertEqual(names, ["a.1", "a.2.0", "a.2.1", "b"])
        self.assertIsInstance(model["a"][1], an.ELU)
        self.assertEqual(model["a"][1].params, {"alpha": 0.5})
        self.assertEqual(model["a"][2][0].act, "gelu_tanh")
        self.assertIsInstance(model["c"], torch.nn.PReLU)
        self.assertTrue(any("c (PReLU) left alone" in str(x.message) for x in w))
        x = torch.randn(8, 4, dtype=torch.float64).float()
        xr = x.clone().requires_grad_()
        xa = x.clone().requires_grad_()
        ref = torch.nn.Sequential(torch.nn.ELU(alpha=0.5))
        ga, = torch.autograd.grad(model["a"][1](xa).sum(), xa)
        gr, = torch.autograd.grad(ref(xr).sum(), xr)
        self.assertLess((ga - gr).abs().max().item(), 1e-6)

    def test_replace_with_fewbit_takes_the_bits_and_leaves_nothing_stock(self):
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.GELU(), torch.nn.Tanh())
        an.replace(model, method="fewbit", bits=2)
        self.assertEqual([m.bits for m in model if isinstance(m, an.Activation)], [2, 2])


@FIT
class Tables(unittest.TestCase):
    def test_parameters_without_builtin_tables_are_fitted_on_the_fly(self):
        m = an.ELU(alpha=0.25, method="fewbit", bits=2)
        self.assertIsNotNone(m.table._owner)  # fitted, not compiled in
        x = inputs(torch.float32, 2000, -4, 4).requires_grad_()
        y = m(x)
        self.assertLess((y - torch.nn.functional.elu(x, 0.25)).abs().max().item(), 1e-6)

    def test_a_loaded_table_keeps_its_activation_and_fit_settings(self):
        m = an.Activation.from_table(os.path.join(SRC, "tables/fewbit/celu-3bit-gauss.json"))
        self.assertEqual((m.act, m.method, m.bits, m.weight), ("celu", "fewbit", 3, "gauss:0,1"))
        self.assertEqual(m.params, {"alpha": 1.0})
        self.assertIn("celu, alpha=1.0, method=fewbit, bits=3, weight=gauss:0,1", repr(m))
        e = an.Activation.from_table(os.path.join(SRC, "tables/invact/elu.json"))
        self.assertEqual((e.act, e.method, e.params), ("elu", "invact", {"alpha": 1.0}))
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "t.json")
            Table.fit("expr:x/(1+exp(-x))", "fewbit", 2, "gauss:0,2").save(p)
            x = an.Activation.from_table(p, forward=torch.nn.functional.silu)
            self.assertEqual((x.act, x.bits, x.weight), ("expr:x/(1+exp(-x))", 2, "gauss:0,2"))

    def test_expression_tables_train_through_the_given_forward(self):
        with tempfile.TemporaryDirectory() as d:
            for method in ("fewbit", "invact"):
                p = os.path.join(d, method + ".json")
                Table.fit("expr:x/(1+exp(-x))", method, 3, "uniform").save(p)
                with self.assertRaisesRegex(actfit.ActfitError, "forward=fn"):
                    an.Activation.from_table(p)
                m = an.Activation.from_table(p, forward=torch.nn.functional.silu)
                x = inputs(torch.float32, 5000, -8, 8, seed=5).requires_grad_()
                g, = torch.autograd.grad(m(x).sum(), x)
                xr = x.detach().double().requires_grad_()
                want, = torch.autograd.grad(torch.nn.functional.silu(xr).sum(), xr)
                err = (g.double() - want).abs().max().item()
                with self.subTest(method=method):
                    self.assertLess(err, 0.2 if method == "fewbit" else 1e-4)

    def test_calibrate_fits_each_layer_to_its_inputs_and_reports_the_errors(self):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(16, 64), an.GELU(), torch.nn.Linear(64, 64), an.SiLU())
        with torch.no_grad():
            model[0].weight.mul_(4.0)  # pre-activations far from N(0, 1)
            model[0].bias.add_(2.0)
        batches = [torch.randn(64, 16) for _ in range(4)]
        rep = an.calibrate(model, batches, bits=2)
        self.assertEqual([r["module"] for r in rep], ["1", "3"])
        for r in rep:
            self.assertEqual(r["samples"], 4 * 64 * 64)
            # the table fitted to the recorded distribution is the best of the three on it
            self.assertLess(r["E_hist"], r["E_uniform"])
            self.assertLess(r["E_hist"], r["E_gauss"])
        self.assertEqual(model[1].method, "fewbit")
        self.assertEqual(model[1].weight, "hist")
        model(batches[0]).sum().backward()


class BadInput(unittest.TestCase):
    def test_unsupported_dtypes_raise_with_the_runtimes_words(self):
        for dt in (torch.float64, torch.int32):
            with self.assertRaisesRegex(actfit.ActfitError, "unsupported dtype"):
                an.GELU()(torch.zeros(4, dtype=dt))

    def test_bad_names_options_and_tables_raise(self):
        with self.assertRaisesRegex(actfit.ActfitError,
                                    "unknown" if rt.have_fitting() else "fitting library"):
            an.Activation("nosuch")
        with self.assertRaisesRegex(ValueError, "bits"):
            an.GELU(method="fewbit", bits=9)
        with self.assertRaisesRegex(ValueError, "method"):
            an.GELU(method="lookup")
        with self.assertRaisesRegex(ValueError, "bit_in_y"):
            an.GELU(method="fewbit", bit_in_y=True)
        with self.assertRaisesRegex(ValueError, "approximate"):
            an.GELU(approximate="fast")
        with self.assertRaisesRegex(TypeError, "unexpected keyword"):
            an.ELU(beta=2)
        with self.assertRaisesRegex(actfit.ActfitError, "Tanhshrink|tanhshrink|smooth"):
            an.Tanhshrink(method="invact")
        if not rt.have_fitting():
            return
        for bad in sorted(glob.glob(os.path.join(SRC, "tests/data/bad/*.json"))):
            with self.subTest(table=os.path.basename(bad)):
                with self.assertRaises(actfit.ActfitError) as cm:
                    an.Activation.from_table(bad)
                self.assertIn(os.path.basename(bad), str(cm.exception))
        with self.assertRaisesRegex(actfit.ActfitError, "cannot|No such|open"):
            an.Activation.from_table("/nonexistent/t.json")
        # not regular files: refused at once (a FIFO blocked, /dev/zero ran out of memory)
        with tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "t.json")
            os.mkfifo(fifo)
            for p, kind in ((fifo, "FIFO"), ("/dev/zero", "device")):
                with self.assertRaisesRegex(actfit.ActfitError, "not a regular file.*" + kind):
                    an.Activation.from_table(p)
            for lib, words in ((fifo, "not a regular file"), ("libc", "not found"),
                               (ctypes.util.find_library("c") or "libc.so.6", "not found"),
                               ("/lib/x86_64-linux-gnu/libc.so.6", "not an actfit library")):
                if lib.startswith("/") and not os.path.exists(lib):
                    continue
                r = subprocess.run([sys.executable, "-c", "import actfit.nn"], timeout=60,
                                   env=dict(os.environ, ACTFIT_LIBRARY=lib),
                                   capture_output=True, text=True)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("ImportError: actfit:", r.stderr)
                self.assertIn(words, r.stderr.splitlines()[-1], lib)
        # a 400 KB expression: one clear error (libmatheval overflowed its stack on it)
        with self.assertRaisesRegex(actfit.ActfitError, "longer than the limit"):
            Table.fit("expr:" + "+".join(["x"] * 200000), "fewbit", 1)

    def test_a_missing_library_raises_import_error_naming_it(self):
        env = dict(os.environ, ACTFIT_LIBRARY="/nonexistent/libactfit_rt.so")
        r = subprocess.run([sys.executable, "-c", "import actfit.nn"], env=env,
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ImportError: actfit: libactfit_rt.so not found", r.stderr)
        self.assertIn("/nonexistent/libactfit_rt.so", r.stderr)

    def test_the_table_library_is_found_by_name_or_path_and_its_absence_is_named(self):
        """libactfit beside the runtime first; ACTFIT_TABLE_LIBRARY picks libactfit_table
        (tables without fits); a runtime alone loads built-in tables and refuses JSON."""
        src = os.path.dirname(rt.rt_path)
        tab = os.path.join(src, "libactfit_table.so")
        if not os.path.exists(tab):
            self.skipTest("this build has no libactfit_table.so")
        probe = ("import actfit.rt as rt, actfit.nn as an\n"
                 "from actfit.table import Table\n"
                 "print(rt.have_tables(), rt.have_fitting(), rt.tab_path)\n"
                 "an.GELU()\n"
                 "try:\n"
                 "    Table.load(%r)\n"
                 "    print('loaded')\n"
                 "except Exception as e:\n"
                 "    print(type(e).__name__, e.status.name, e)\n"
                 % os.path.join(SRC, "tables/invact/gelu.json"))
        base = {k: v for k, v in os.environ.items()
                if k not in ("ACTFIT_FIT_LIBRARY", "ACTFIT_TABLE_LIBRARY")}
        with tempfile.TemporaryDirectory() as d:
            alone = os.path.join(d, "libactfit_rt.so")
            shutil.copy(rt.rt_path, alone)
            runs = {"default": dict(base),
                    "table library": dict(base, ACTFIT_TABLE_LIBRARY=tab),
                    "runtime alone": dict(base, ACTFIT_LIBRARY=alone)}
            out = {}
            for name, env in runs.items():
                r = subprocess.run([sys.executable, "-c", probe], env=env, timeout=120,
                                   capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                out[name] = r.stdout.splitlines()
        self.assertEqual(out["default"][0].split()[:2], ["True", str(rt.have_fitting())])
        self.assertEqual(out["default"][1], "loaded")
        self.assertEqual(out["table library"][0], f"True False {tab}")
        self.assertEqual(out["table library"][1], "loaded")
        self.assertEqual(out["runtime alone"][0], "False False None")
        self.assertRegex(out["runtime alone"][1], "ActfitError ENODEV .*needs "
                         "libactfit_table.so \\(cJSON\\) or libactfit.so")

    @unittest.skipIf(torch.cuda.is_available() and rt.have_cuda(), "this build has CUDA")
    def test_cuda_tensors_on_a_cpu_only_build_raise(self):
        if not torch.cuda.is_available():
            self.skipTest("no CUDA torch")
        with self.assertRaisesRegex(actfit.ActfitError, "backend not available"):
            an.GELU()(torch.zeros(4, device="cuda"))


@unittest.skipUnless(torch.cuda.is_available() and rt.have_cuda(),
                     "needs a CUDA device, a CUDA torch and a CUDA build")
class Cuda(unittest.TestCase):
    def test_cuda_tensors_give_the_cpu_bits(self):
        for dtype in DTYPES:
            x = inputs(dtype, 100003)
            go = inputs(dtype, 100003, -3, 3, seed=9)
            for m in [an.GELU(), an.SiLU(bit_in_y=True), an.Sigmoid(), an.GELU(method="fewbit", bits=3)]:
                with self.subTest(module=repr(m), dtype=dtype):
                    xc = x.clone().requires_grad_()
                    yc = m(xc)
                    gc, = torch.autograd.grad(yc, xc, go)
                    xg = x.cuda().requires_grad_()
                    yg = m(xg)
                    gg, = torch.autograd.grad(yg, xg, go.cuda())
                    torch.cuda.synchronize()
                    self.assertTrue(torch.equal(raw(yc.detach()), raw(yg.detach().cpu())))
                    self.assertTrue(torch.equal(raw(gc), raw(gg.cpu())))


if __name__ == "__main__":
    unittest.main(verbosity=1)
