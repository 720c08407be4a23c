"""actfit.nn's classes as torch.nn's (signatures, stored parameters, repr), copying and
saving every module kind, replace (torch.nn modules, functions held as attributes, transformers'
activations, registered classes, bad arguments, which warnings) and actfit.nn.functional.
Run by CTest through .venv/bin/python; exits 77 without torch."""

import copy
import inspect
import io
import os
import pickle
import sys
import tempfile
import warnings

try:
    import torch
    import pytest
except ImportError:
    print("test_replace: torch or pytest is not installed (tools/bootstrap.sh makes .venv): "
          "skipped")
    sys.exit(77)

import actfit
import actfit.nn as an
import actfit.nn.functional as AF
from actfit import rt
from actfit.table import Table

torch.set_num_threads(1)
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="actfit-test-cache-")  # QuickGELU's fits
F = torch.nn.functional
FIT = pytest.mark.skipif(not rt.have_fitting(), reason="needs the fitting library")
SRC = os.environ.get("ACTFIT_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
CLASSES = ["GELU", "SiLU", "Mish", "Softplus", "ELU", "CELU", "SELU", "Sigmoid", "Tanh",
           "LogSigmoid", "Softsign", "Tanhshrink", "Hardswish", "Hardsigmoid", "Hardtanh",
           "ReLU", "ReLU6", "LeakyReLU", "Hardshrink", "Softshrink"]


@pytest.mark.parametrize("name", CLASSES)
def test_each_class_has_torchs_signature_and_stores_its_parameters(name):
    ours, theirs = getattr(an, name), getattr(torch.nn, name)
    sig_t = inspect.signature(theirs.__init__).parameters
    sig_o = inspect.signature(ours.__init__).parameters
    torch_args = [p for p in sig_t if p not in ("self", "args", "kwargs")]
    assert [p for p in sig_o if p != "self"][:len(torch_args)] == torch_args
    for p in torch_args:
        assert sig_o[p].default == sig_t[p].default, p
    m, ref = ours(), theirs()
    for p in torch_args:
        if hasattr(ref, p):  # (Hardtanh's deprecated min_value is not stored)
            assert getattr(m, p) == getattr(ref, p), p
    assert isinstance(m, torch.nn.Module) and m.__doc__


def test_every_class_names_an_activation_of_the_runtimes_one_list():
    names = rt.act_names()
    assert len(names) == 21 and names[0] == "gelu"
    for cls in CLASSES:
        act = getattr(an, cls)._act or "gelu"  # GELU picks gelu or gelu_tanh
        assert act in names, cls
    assert "gelu_tanh" in names


def test_parameters_are_attributes_and_show_in_the_repr():
    m = an.ELU(alpha=0.5)
    assert m.alpha == 0.5 and m.inplace is False
    assert repr(m) == "ELU(alpha=0.5, method=invact)"
    assert an.LeakyReLU(0.2, inplace=True).negative_slope == 0.2
    assert "inplace=True" in repr(an.LeakyReLU(0.2, inplace=True))
    assert repr(an.GELU(method="fewbit", bits=2)) == \
        "GELU(approximate='none', method=fewbit, bits=2, weight=uniform)"
    assert an.Hardtanh(-2.0, 2.0).max_val == 2.0
    with pytest.raises(TypeError):
        an.ELU(beta=2)


def _modules():
    out = {name: getattr(an, name)() for name in CLASSES}
    out["GELU-tanh-fewbit2"] = an.GELU("tanh", method="fewbit", bits=2)
    out["GELU-bit-in-y"] = an.GELU(bit_in_y=True)
    out["SiLU-forward-torch"] = an.SiLU(forward="torch")
    if rt.have_fitting():
        out["ELU-0.5"] = an.ELU(alpha=0.5)
        out["Softplus-beta2"] = an.Softplus(beta=2)
        out["LeakyReLU-0.2"] = an.LeakyReLU(0.2)
        out["GELU-fewbit5"] = an.GELU(method="fewbit", bits=5)
        out["GELU-gauss02"] = an.GELU(method="fewbit", bits=2, weight="gauss:0,2")
        out["QuickGELU"] = an.QuickGELU()
        out["from_table"] = an.Activation.from_table(os.path.join(SRC, "tables/invact/silu.json"))
    return out


MODS = _modules()


@pytest.mark.parametrize("name", sorted(MODS))
def test_every_module_deepcopies_pickles_and_torch_saves_with_the_same_results(name):
    m = MODS[name]
    model = torch.nn.Sequential(torch.nn.Linear(6, 6), m)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(3, 6, generator=g) * 3
    go = torch.randn(3, 6, generator=g)

    def run(mod):
        xi = x.clone().requires_grad_()
        y = mod(xi)
        y.backward(go)
        return y.detach(), xi.grad

    y0, g0 = run(model)
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    copies = [copy.deepcopy(model), pickle.loads(pickle.dumps(model)),
              torch.load(buf, weights_only=False)]
    for c in copies:
        y1, g1 = run(c)
        assert torch.equal(y0, y1) and torch.equal(g0, g1)
        assert repr(c) == repr(model)


@FIT
def test_a_calibrated_module_pickles_its_fitted_table():
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), an.GELU(method="fewbit", bits=2))
    an.calibrate(model, [torch.randn(64, 4)], bits=2)
    x = torch.randn(5, 4)
    c = pickle.loads(pickle.dumps(model))
    assert torch.equal(c(x), model(x))
    assert c[1].table is not model[1].table
    assert c[1].table.to_json() == model[1].table.to_json()


# ---- replace -------------------------------------------------------------------------------
def test_replace_raises_value_error_on_bad_arguments_like_the_constructors():
    model = torch.nn.Sequential(torch.nn.GELU())
    for kw, word in (({"method": "foo"}, "method"), ({"method": "fewbit", "bits": 9}, "bits"),
                     ({"method": "fewbit", "bit_in_y": True}, "bit_in_y"),
                     ({"forward": 3}, "forward"), ({"bits": 0}, "bits")):
        with pytest.raises(ValueError, match=word):
            an.replace(model, **kw)
    assert type(model[0]) is torch.nn.GELU


def test_transformer_encoder_layers_functional_gelu_is_swapped_without_warnings():
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(16, 2, 64, dropout=0.0, activation="gelu",
                                             batch_first=True)
    ref = copy.deepcopy(layer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning about attention, Linear or LayerNorm
        done = an.replace(layer)
    assert [(q, type(n).__name__) for q, _, n in done] == [("activation", "GELU")]
    assert isinstance(layer.activation, an.GELU)
    assert "activation" in dict(layer.named_children())
    x = torch.randn(2, 5, 16)
    torch.testing.assert_close(layer(x), ref(x), rtol=1e-5, atol=1e-5)
    with an.saved_bytes(ref) as a:
        ref(x).sum()
    with an.saved_bytes(layer) as b:
        layer(x).sum()
    assert b.bytes < a.bytes  # GELU's input (2*5*64 floats) is no longer kept
    # a whole encoder: every cloned layer is swapped
    enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(
        16, 2, 32, activation="relu", batch_first=True), 3, enable_nested_tensor=False)
    assert len(an.replace(enc)) == 3


def test_activations_actfit_cannot_swap_warn_and_the_rest_is_silent():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.PReLU(), torch.nn.Threshold(0.1, 0),
                                torch.nn.Softmax(-1), torch.nn.MultiheadAttention(4, 1),
                                torch.nn.ReLU())
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        done = an.replace(model)
    msgs = [str(x.message) for x in w]
    assert len(msgs) == 2, msgs
    assert "PReLU" in msgs[0] and "Threshold" in msgs[1]
    assert [q for q, _, _ in done] == ["5"]


def test_register_adds_a_users_class():
    class MyGELU(torch.nn.Module):
        def forward(self, x):
            return F.gelu(x)

    model = torch.nn.Sequential(torch.nn.Linear(3, 3), MyGELU())
    assert an.replace(model) == []
    an.register(MyGELU, lambda m, **kw: an.GELU(**kw))
    done = an.replace(model, method="fewbit", bits=2)
    assert isinstance(model[1], an.GELU) and model[1].bits == 2 and len(done) == 1


def _tiny_bert(act):
    import transformers
    cfg = transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2,
                                  num_attention_heads=2, intermediate_size=32, hidden_act=act)
    torch.manual_seed(0)
    return transformers.BertModel(cfg).eval()


@pytest.mark.parametrize("act,want", [("gelu", "GELU"), ("gelu_new", "GELU"),
                                      ("gelu_pytorch_tanh", "GELU"), ("gelu_fast", "GELU"),
                                      ("relu", "ReLU"), ("silu", "SiLU"), ("mish", "Mish")])
def test_bert_activations_are_swapped_and_compute_the_same_function(act, want):
    pytest.importorskip("transformers")
    bert = _tiny_bert(act)
    ids = torch.randint(0, 50, (2, 7), generator=torch.Generator().manual_seed(1))
    ref = bert(ids).last_hidden_state
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        done = an.replace(bert)
    names = {q: type(n).__name__ for q, _, n in done}
    assert names == {"encoder.layer.0.intermediate.intermediate_act_fn": want,
                     "encoder.layer.1.intermediate.intermediate_act_fn": want,
                     "pooler.activation": "Tanh"}, names
    torch.testing.assert_close(bert(ids).last_hidden_state, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["GELUActivation", "NewGELUActivation", "GELUTanh",
                                  "FastGELUActivation", "AccurateGELUActivation",
                                  "SiLUActivation", "MishActivation", "QuickGELUActivation"])
def test_each_transformers_class_maps_to_its_formula(name):
    hf = pytest.importorskip("transformers.activations")
    cls = getattr(hf, name, None)
    if cls is None:
        pytest.skip(f"this transformers has no {name}")
    if name == "QuickGELUActivation" and not rt.have_fitting():
        pytest.skip("QuickGELU's table is fitted")
    model = torch.nn.Sequential(cls())
    x = torch.linspace(-8, 8, 4001)
    ref = model(x)
    done = an.replace(model)
    assert len(done) == 1
    torch.testing.assert_close(model(x), ref, rtol=2e-6, atol=2e-6)


def test_llama_mlps_silu_is_swapped():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
                                   num_hidden_layers=2, num_attention_heads=2,
                                   num_key_value_heads=2, max_position_embeddings=32)
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(cfg)
    ids = torch.randint(0, 64, (2, 9), generator=torch.Generator().manual_seed(2))
    ref = model(ids).logits
    done = an.replace(model)
    assert sorted(q for q, _, _ in done) == ["model.layers.0.mlp.act_fn", "model.layers.1.mlp.act_fn"]
    torch.testing.assert_close(model(ids).logits, ref, rtol=1e-4, atol=1e-4)
    model(ids, labels=ids).loss.backward()


@FIT
def test_quick_gelu_is_fitted_once_and_cached_on_disk(monkeypatch, tmp_path):
    from actfit.nn import _resolve
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(_resolve, "_fitted", {})
    a = an.QuickGELU(method="fewbit", bits=2)
    files = list((tmp_path / "actfit").iterdir())
    assert len(files) == 1
    monkeypatch.setattr(_resolve, "_fitted", {})
    b = an.QuickGELU(method="fewbit", bits=2)  # from the file
    assert b.table.to_json() == a.table.to_json()


# ---- functional ----------------------------------------------------------------------------
class _Block(torch.nn.Module):
    def __init__(self, act):
        super().__init__()
        torch.manual_seed(0)
        self.fc1, self.fc2, self.act = torch.nn.Linear(8, 64), torch.nn.Linear(64, 8), act

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_functional_forms_give_the_modules_results_and_keep_less():
    x = torch.randn(16, 8)
    stock = _Block(F.gelu)
    ours = _Block(AF.gelu)
    with an.saved_bytes(stock) as a:
        ys = stock(x)
    with an.saved_bytes(ours) as b:
        yo = ours(x)
    assert a.bytes - b.bytes == 16 * 64 * 4 - 16 * 64 // 8  # x of GELU -> one bit
    torch.testing.assert_close(yo, ys, rtol=1e-5, atol=1e-6)
    xx = torch.randn(1000)
    for f, m in ((AF.silu, an.SiLU()), (lambda t: AF.elu(t, 1.0), an.ELU()),
                 (lambda t: AF.gelu(t, "tanh", method="fewbit", bits=2),
                  an.GELU("tanh", method="fewbit", bits=2))):
        assert torch.equal(f(xx), m(xx))
    with pytest.raises(ValueError, match="bits"):
        AF.gelu(xx, method="fewbit", bits=11)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
