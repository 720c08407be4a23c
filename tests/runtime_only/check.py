"""The PyTorch package over a runtime-only build (libactfit_rt + libactfit_table; no
libactfit): fitted JSON tables load, keep their settings, train, copy and pickle, and what
needs the fitter is refused with a message that says so.  Run by run.sh."""

import copy
import json
import os
import pickle
import sys
import tempfile
import unittest

try:
    import torch
except ImportError:
    sys.exit(77)

import actfit
import actfit.nn as an
from actfit import rt
from actfit.table import Table

SRC = os.environ["ACTFIT_SOURCE_DIR"]


def grads(m, x):
    x = x.clone().requires_grad_()
    y = m(x)
    g, = torch.autograd.grad((y * torch.linspace(0.5, 2, y.numel()).view_as(y)).sum(), x)
    return y.detach(), g


class RuntimeOnly(unittest.TestCase):
    def test_the_table_library_is_loaded_and_the_fitter_is_not(self):
        self.assertTrue(rt.have_tables())
        self.assertFalse(rt.have_fitting())
        self.assertTrue(rt.tab_path.endswith("libactfit_table.so"), rt.tab_path)
        with open("/proc/self/maps") as f:
            maps = f.read()
        self.assertNotIn("libgsl", maps)
        self.assertNotIn("libmatheval", maps)

    def test_a_fitted_invact_table_runs_like_the_compiled_in_one(self):
        m = an.Activation.from_table(os.path.join(SRC, "tables/invact/gelu.json"))
        self.assertIsNotNone(m.table._owner)  # loaded, not compiled in
        x = torch.linspace(-6, 6, 10007)
        y1, g1 = grads(m, x)
        y2, g2 = grads(an.GELU(), x)
        self.assertTrue(torch.equal(y1, y2))
        self.assertTrue(torch.equal(g1, g2))
        self.assertEqual(m.state_bytes(10007), an.GELU().state_bytes(10007))

    def test_a_fitted_fewbit_table_keeps_its_settings_and_trains(self):
        m = an.Activation.from_table(os.path.join(SRC, "tables/fewbit/celu-3bit-gauss.json"))
        self.assertEqual((m.act, m.bits, m.weight, m.params),
                         ("celu", 3, "gauss:0,1", {"alpha": 1.0}))
        x = torch.randn(4099, generator=torch.Generator().manual_seed(1))
        y1, g1 = grads(m, x)
        y2, g2 = grads(an.CELU(method="fewbit", bits=3, weight="gauss:0,1"), x)
        self.assertTrue(torch.equal(y1, y2))
        self.assertTrue(torch.equal(g1, g2))
        net = torch.nn.Sequential(torch.nn.Linear(8, 8), m, torch.nn.Linear(8, 1))
        for twin in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
            self.assertEqual(repr(twin[1]), repr(m))
            xb = torch.randn(16, 8)
            self.assertTrue(torch.equal(twin(xb), net(xb)))

    def test_what_needs_the_fitter_is_refused_naming_it(self):
        with self.assertRaisesRegex(actfit.ActfitError, "needs the fitting library") as cm:
            Table.fit("elu:alpha=0.5", "invact")
        self.assertEqual(cm.exception.status, rt.Status.ENODEV)
        with self.assertRaisesRegex(actfit.ActfitError, "needs the fitting library"):
            an.ELU(alpha=0.25)  # no compiled-in table: it would be fitted
        with open(os.path.join(SRC, "tables/fewbit/gelu-2bit.json")) as f:
            d = json.load(f)
        d["activation"] = {"expr": "x*tanh(x)"}
        with tempfile.TemporaryDirectory() as tmp:
            p = os.path.join(tmp, "expr.json")
            with open(p, "w") as f:
                json.dump(d, f)
            with self.assertRaisesRegex(actfit.ActfitError, "expr.json: field 'activation': .*"
                                        "needs the fitting library libactfit"):
                an.Activation.from_table(p, forward=torch.tanh)

    def test_a_malformed_table_is_refused_naming_the_field(self):
        bad = os.path.join(SRC, "tests/data/bad/invact-T-huge.json")
        with self.assertRaisesRegex(actfit.ActfitError, "invact-T-huge.json: field 'T' is "
                                    ".*but the minimum of gelu lies between") as cm:
            Table.load(bad)
        self.assertEqual(cm.exception.status, rt.Status.EFORMAT)


if __name__ == "__main__":
    unittest.main()
