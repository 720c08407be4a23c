"""actfit.nn.GatedMLP, down(act(gate(x)) * up(x)) as one autograd function: gradients equal
the unfused actfit model's, it keeps exactly x + 2 FFN-wide tensors + the InvAct bit (stock:
x + 4), replace(fuse_mlp=True) fuses transformers' LlamaMLP in place with unchanged
state_dict keys, and it compiles.  Run by CTest through .venv/bin/python; exits 77 without
torch."""

import copy
import sys

try:
    import torch
    import pytest
except ImportError:
    print("test_gated: torch or pytest is not installed (tools/bootstrap.sh makes .venv): skipped")
    sys.exit(77)

import actfit.nn as an
from actfit import rt

torch.set_num_threads(1)
D, FFN, ROWS = 48, 160, 96


class Stock(torch.nn.Module):
    """LlamaMLP's layout and forward"""

    def __init__(self, act, bias=False):
        super().__init__()
        self.gate_proj = torch.nn.Linear(D, FFN, bias=bias)
        self.up_proj = torch.nn.Linear(D, FFN, bias=bias)
        self.down_proj = torch.nn.Linear(FFN, D, bias=bias)
        self.act_fn = act

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


def pair(act, bias=False, dtype=torch.float32):
    torch.manual_seed(0)
    unfused = Stock(act(), bias).to(dtype)
    fused = copy.deepcopy(unfused)
    fused = an.GatedMLP(fused.gate_proj, fused.up_proj, fused.down_proj, fused.act_fn)
    return unfused, fused


def grads(model, x, go):
    x = x.clone().requires_grad_()
    y = model(x)
    y.backward(go)
    return y.detach(), x.grad, [p.grad for p in model.parameters()]


def assert_same_training(a, b, x, go, y_rtol):
    """a and b give the same y, input gradient and parameter gradients (float32 tolerances)."""
    y0, gx0, gp0 = grads(a, x, go)
    y1, gx1, gp1 = grads(b, x, go)
    torch.testing.assert_close(y1, y0, rtol=y_rtol, atol=1e-6)
    torch.testing.assert_close(gx1, gx0, rtol=1e-5, atol=1e-6)
    for p1, p0 in zip(gp1, gp0):
        torch.testing.assert_close(p1, p0, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("act", [lambda: an.SiLU(), lambda: an.GELU(), lambda: an.SiLU(bit_in_y=True),
                                 lambda: an.GELU("tanh", forward="torch")],
                         ids=["silu", "gelu", "silu-bit-in-y", "gelu-tanh-torch-forward"])
@pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "bias"])
def test_gradients_equal_the_unfused_actfit_models(act, bias):
    unfused, fused = pair(act, bias)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, ROWS // 2, D, generator=g)
    go = torch.randn(2, ROWS // 2, D, generator=g)
    assert_same_training(unfused, fused, x, go, y_rtol=1e-6)


def test_bf16_gradients_equal_the_unfused_ones_to_bf16_rounding():
    unfused, fused = pair(lambda: an.SiLU(), dtype=torch.bfloat16)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(ROWS, D, generator=g).bfloat16()
    go = torch.randn(ROWS, D, generator=g).bfloat16()
    _, gx0, gp0 = grads(unfused, x, go)
    _, gx1, gp1 = grads(fused, x, go)
    torch.testing.assert_close(gx1, gx0, rtol=2e-2, atol=2e-2)
    for a, b in zip(gp1, gp0):
        torch.testing.assert_close(a, b, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_bytes_kept_are_x_plus_two_ffn_wide_tensors_and_the_bit(dtype):
    es = 4 if dtype == torch.float32 else 2
    x = torch.randn(ROWS, D, dtype=dtype)
    torch.manual_seed(0)
    stock = Stock(torch.nn.SiLU()).to(dtype)
    unfused, fused = pair(lambda: an.SiLU(), dtype=dtype)
    kept = {}
    for name, m in (("stock", stock), ("unfused", unfused), ("fused", fused)):
        with an.saved_bytes(m) as s:
            m(x.clone().requires_grad_()).sum()
        kept[name] = s.bytes
    X, W, bit = ROWS * D * es, ROWS * FFN * es, ROWS * FFN // 8
    assert kept["stock"] == X + 4 * W
    assert kept["unfused"] == X + 3 * W + bit
    assert kept["fused"] == X + 2 * W + bit


def test_fewbit_is_refused_since_it_would_not_save_more():
    with pytest.raises(ValueError, match="invact"):
        an.GatedMLP(torch.nn.Linear(4, 8), torch.nn.Linear(4, 8), torch.nn.Linear(8, 4),
                    an.SiLU(method="fewbit", bits=2))
    with pytest.raises(TypeError, match="act_fn"):
        an.GatedMLP(torch.nn.Linear(4, 8), torch.nn.Linear(4, 8), torch.nn.Linear(8, 4),
                    torch.nn.SiLU())
    with pytest.raises(ValueError, match="fuse_mlp"):
        an.replace(Stock(torch.nn.SiLU()), method="fewbit", fuse_mlp=True)


def test_replace_fuses_llama_mlps_in_place_with_the_same_parameters_and_keys():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=96,
                                   num_hidden_layers=2, num_attention_heads=2,
                                   num_key_value_heads=2, max_position_embeddings=32)
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(cfg)
    unfused = copy.deepcopy(model)
    an.replace(unfused)
    keys = list(model.state_dict())
    params = {n: p.data_ptr() for n, p in model.named_parameters()}
    done = an.replace(model, fuse_mlp=True)
    fused = [q for q, _, n in done if isinstance(n, an.GatedMLP)]
    assert fused == ["model.layers.0.mlp", "model.layers.1.mlp"]
    assert list(model.state_dict()) == keys
    assert {n: p.data_ptr() for n, p in model.named_parameters()} == params  # no copies
    ids = torch.randint(0, 64, (2, 9), generator=torch.Generator().manual_seed(3))
    l0 = unfused(ids, labels=ids).loss
    l1 = model(ids, labels=ids).loss
    l0.backward()
    l1.backward()
    torch.testing.assert_close(l1, l0)
    for (n, p), q in zip(model.named_parameters(), unfused.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-6, msg=n)
    # the state_dict round trip: a stock model loads the fused one's weights and agrees
    fresh = transformers.LlamaForCausalLM(cfg)
    fresh.load_state_dict(model.state_dict())
    torch.testing.assert_close(fresh(ids).logits, model(ids).logits, rtol=1e-5, atol=1e-5)


def test_a_compiled_gated_mlp_trains_like_eager():
    unfused, fused = pair(lambda: an.SiLU())
    comp = copy.deepcopy(fused)
    step = torch.compile(comp, fullgraph=True)
    g = torch.Generator().manual_seed(4)
    x, go = torch.randn(ROWS, D, generator=g), torch.randn(ROWS, D, generator=g)
    assert_same_training(fused, step, x, go, y_rtol=1e-5)


@pytest.mark.skipif(not (torch.cuda.is_available() and rt.have_cuda()),
                    reason="needs a CUDA device, a CUDA torch and a CUDA build")
def test_cuda_on_a_side_stream_gives_the_cpu_results():
    unfused, fused = pair(lambda: an.SiLU())
    g = torch.Generator().manual_seed(5)
    x, go = torch.randn(ROWS, D, generator=g), torch.randn(ROWS, D, generator=g)
    _, gx0, _ = grads(fused, x, go)
    fc = copy.deepcopy(fused).cuda()
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        _, gx1, _ = grads(fc, x.cuda(), go.cuda())
    torch.cuda.synchronize()
    torch.testing.assert_close(gx1.cpu(), gx0, rtol=1e-4, atol=1e-5)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
