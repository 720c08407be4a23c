"""actfit.ops, the torch.library custom ops: torch.compile(fullgraph=True) traces and trains
through them with eager's bits, the fake kernels agree with the real ones (opcheck), the
memory format is kept, the autograd graph keeps the table its forward used, and the stated
limits (once differentiable, float32/16-bit only, trace but not script) raise clearly.
Run by CTest through .venv/bin/python; exits 77 without torch."""

import sys
import warnings

try:
    import torch
    import pytest
except ImportError:
    print("test_ops: torch or pytest is not installed (tools/bootstrap.sh makes .venv): skipped")
    sys.exit(77)

import actfit
import actfit.nn as an
from actfit.table import Table

torch.set_num_threads(1)
MODULES = [lambda: an.GELU(), lambda: an.GELU(bit_in_y=True), lambda: an.SiLU(),
           lambda: an.GELU(method="fewbit", bits=3), lambda: an.Sigmoid()]
IDS = ["gelu", "gelu-bit-in-y", "silu", "gelu-fewbit3", "sigmoid"]


def bits(t):
    return t.view(torch.int32) if t.dtype == torch.float32 else t.view(torch.int16)


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield


@pytest.mark.parametrize("make", MODULES, ids=IDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_a_compiled_activation_gives_eagers_y_and_gradient_bit_for_bit(make, dtype):
    m = make()
    g = torch.Generator().manual_seed(1)
    x = (torch.randn(4099, generator=g) * 3).to(dtype)
    go = torch.randn(4099, generator=g).to(dtype)
    xe, xc = x.clone().requires_grad_(), x.clone().requires_grad_()
    ye = m(xe)
    ye.backward(go)
    yc = torch.compile(m, fullgraph=True)(xc)
    yc.backward(go)
    assert torch.equal(bits(ye.detach()), bits(yc.detach()))
    assert torch.equal(bits(xe.grad), bits(xc.grad))


@pytest.mark.parametrize("make", [lambda: an.GELU(forward="torch"),
                                  lambda: an.SiLU(method="fewbit", bits=2, forward="torch")],
                         ids=["gelu-invact", "silu-fewbit2"])
def test_a_compiled_torch_forward_gives_torchs_compiled_y_and_the_runtimes_backward(make):
    """forward='torch': y is torch's own (Inductor's code when compiled, so only close to
    eager's), and the gradient is the runtime's backward of the state encoded from x."""
    m = make()
    g = torch.Generator().manual_seed(4)
    x = torch.randn(4099, generator=g) * 3
    go = torch.randn(4099, generator=g)
    xe, xc = x.clone().requires_grad_(), x.clone().requires_grad_()
    ye = m(xe)
    ye.backward(go)
    yc = torch.compile(m, fullgraph=True)(xc)
    yc.backward(go)
    torch.testing.assert_close(yc, ye, rtol=1e-5, atol=5e-6)
    if m.method == "fewbit":
        assert torch.equal(xe.grad, xc.grad)
    else:  # g(y) is steep near y_min: y's last bits move the gradient more
        torch.testing.assert_close(xc.grad, xe.grad, rtol=1e-4, atol=1e-4)


def _mlp(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(24, 96), an.GELU(), torch.nn.Linear(96, 96),
                               an.SiLU(method="fewbit", bits=2), torch.nn.Linear(96, 96),
                               an.Mish(bit_in_y=True), torch.nn.Linear(96, 5))


def test_a_compiled_model_trains_with_no_graph_break_and_eagers_gradients():
    eager, comp = _mlp(0), _mlp(0)
    step = torch.compile(comp, fullgraph=True)  # fullgraph: a graph break raises
    opt_e = torch.optim.SGD(eager.parameters(), lr=0.05)
    opt_c = torch.optim.SGD(comp.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(2)
    teacher = torch.randn(24, 5, generator=g)
    losses = []
    for i in range(8):
        x = torch.randn(64, 24, generator=g)
        t = (x @ teacher).argmax(1)
        le = torch.nn.functional.cross_entropy(eager(x), t)
        lc = torch.nn.functional.cross_entropy(step(x), t)
        le.backward()
        lc.backward()
        if i == 0:
            for (n, p), q in zip(eager.named_parameters(), comp.parameters()):
                torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-6, msg=n)
        opt_e.step()
        opt_c.step()
        opt_e.zero_grad()
        opt_c.zero_grad()
        losses.append((le.item(), lc.item()))
    for le, lc in losses:
        assert abs(le - lc) <= 1e-4 * abs(le)
    assert losses[-1][0] < losses[0][0]


def test_the_fake_kernels_and_autograd_registration_pass_opcheck():
    x = torch.randn(100, requires_grad=True)
    for m in (an.GELU(), an.GELU(bit_in_y=True), an.GELU(method="fewbit", bits=4),
              an.Sigmoid()):
        torch.library.opcheck(torch.ops.actfit.forward.default, (x, m.table.id, m.flags))
        torch.library.opcheck(torch.ops.actfit.encode.default,
                              (x, torch.nn.functional.gelu(x.detach()), m.table.id, m.flags))
        y, state = torch.ops.actfit.forward(x.detach(), m.table.id, m.flags)
        torch.library.opcheck(torch.ops.actfit.backward.default,
                              (torch.randn(100), None if m.method == "fewbit" else y, state,
                               m.table.id, m.flags))


def test_channels_last_stays_channels_last_with_the_contiguous_results():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 5, 7, 9, generator=g)
    xl = x.to(memory_format=torch.channels_last)
    go = torch.randn(2, 5, 7, 9, generator=g)
    for m in (an.GELU(), an.SiLU(method="fewbit", bits=2), an.GELU(forward="torch")):
        a = x.clone().requires_grad_()
        b = xl.clone().requires_grad_()
        ya, yb = m(a), m(b)
        assert yb.is_contiguous(memory_format=torch.channels_last)
        assert not yb.is_contiguous()
        ya.backward(go)
        yb.backward(go.to(memory_format=torch.channels_last))
        if m.forward_fn is None:
            assert torch.equal(ya, yb)
            assert torch.equal(a.grad, b.grad)
        else:  # torch's own gelu may round differently in another layout
            torch.testing.assert_close(ya, yb)
            torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-4)
    # a grad in another layout than y is laid out like y first
    b = xl.clone().requires_grad_()
    an.GELU()(b).backward(go)
    a = x.clone().requires_grad_()
    an.GELU()(a).backward(go)
    assert torch.equal(a.grad, b.grad)


def test_a_strided_view_gives_the_results_of_its_copy():
    x = torch.randn(64, 64)[:, ::3]
    m = an.GELU()
    assert torch.equal(m(x), m(x.contiguous()))


def test_the_backward_uses_the_table_of_its_forward_not_the_modules_current_one():
    m = an.GELU(method="fewbit", bits=1)
    ref = an.GELU(method="fewbit", bits=1)
    x = torch.randn(65536, requires_grad=True)
    x2 = x.detach().clone().requires_grad_()
    y = m(x)
    m.set_table(Table.builtin("gelu", "fewbit", 4, "uniform"))  # what calibrate does
    y.backward(torch.ones_like(y))
    ref(x2).backward(torch.ones_like(x2))
    assert torch.equal(x.grad, x2.grad)
    assert len(torch.unique(x.grad)) == 2  # 1-bit: two levels


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_bit_in_y_keeps_nan_a_nan(dtype):
    x = torch.tensor([float("nan"), -float("nan"), 1.0, -1.0], dtype=dtype)
    x[1] = torch.log(torch.tensor(-1.0)).to(dtype)  # torch's own NaN encoding
    y = an.GELU(bit_in_y=True)(x.requires_grad_())
    assert torch.isnan(y[:2]).all() and not torch.isnan(y[2:]).any()
    y.backward(torch.ones_like(y))
    assert torch.isnan(x.grad[:2]).all()


def test_a_forward_function_of_the_wrong_shape_or_dtype_raises():
    """from_table(forward=fn) / forward=fn: y.copy_ broadcast a wrong shape before"""
    x = torch.randn(4, 5)
    for fn in (lambda t: t.sum(0), lambda t: t[:1], lambda t: t.double()):
        m = an.GELU(forward=fn)
        with pytest.raises(actfit.ActfitError, match="the forward function returned y"):
            m(x)


def test_double_backward_raises_one_sentence():
    x = torch.randn(50, requires_grad=True)
    g, = torch.autograd.grad(an.GELU()(x).sum(), x, create_graph=True)
    with pytest.raises(actfit.ActfitError, match="once differentiable"):
        g.sum().backward()


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_float64_raises_actfit_error(compiled):
    m = an.GELU()
    f = torch.compile(m, fullgraph=True) if compiled else m
    with pytest.raises(Exception) as e:
        f(torch.randn(8, dtype=torch.float64))
    # eager raises ActfitError itself; torch.compile wraps it (its fake kernel raised it)
    if not compiled:
        assert isinstance(e.value, actfit.ActfitError)
    assert "ActfitError" in repr(e.value) or isinstance(e.value, actfit.ActfitError)
    assert "unsupported dtype torch.float64" in str(e.value)


def test_jit_trace_works_and_script_is_refused():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), an.GELU(), torch.nn.Linear(8, 2))
    x = torch.randn(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, x)
    assert torch.equal(traced(x), model(x))
    with pytest.raises(Exception):
        torch.jit.script(an.GELU())


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))


def test_cpu_passes_run_on_torchs_openmp_team_with_the_bits_of_their_own_threads():
    """`import actfit` lends torch's OpenMP team to the runtime (rt.use_openmp_team), unless
    ACTFIT_THREADS=own; a pass large enough to run on several threads gives the same bits
    on either, with torch on one thread or two."""
    import os
    import subprocess
    from actfit import ops, rt
    if sys.platform.startswith("linux"):
        assert ops.openmp_team is not None and "gomp" in os.path.basename(ops.openmp_team)
    env = dict(os.environ, ACTFIT_THREADS="own")
    r = subprocess.run([sys.executable, "-c", "import actfit.ops as o; print(o.openmp_team)"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "None"
    x = torch.randn(1 << 19, generator=torch.Generator().manual_seed(3)) * 3
    runs = []
    for own, nthreads in ((True, 2), (False, 2), (False, 1)):
        os.environ["ACTFIT_THREADS"] = "own" if own else ""
        assert (rt.use_openmp_team() is None) == own or not sys.platform.startswith("linux")
        torch.set_num_threads(nthreads)
        xi = x.clone().requires_grad_()
        y = an.GELU()(xi)
        y.backward(torch.cos(x))
        runs.append((bits(y.detach()).clone(), bits(xi.grad).clone()))
    os.environ.pop("ACTFIT_THREADS")
    rt.use_openmp_team()
    torch.set_num_threads(1)
    for y, gx in runs[1:]:
        assert torch.equal(y, runs[0][0]) and torch.equal(gx, runs[0][1])


def test_passes_past_the_cache_give_the_same_bits_by_non_temporal_stores():
    """rt.cpu_set_nontemporal(1) makes every fp32 pass write its output by non-temporal
    stores (on AVX-512; tests/test_runtime.c counts them); a GELU module's forward and
    backward, with and without the bit in y, and a FewBit SiLU's give the bits of plain
    stores (2**64 - 1: never)."""
    from actfit import rt
    x = torch.randn(1 << 16, generator=torch.Generator().manual_seed(5)) * 3
    runs = []
    try:
        for limit in (2**64 - 1, 1):
            rt.cpu_set_nontemporal(limit)
            out = []
            for m in (an.GELU(), an.GELU(bit_in_y=True), an.SiLU(method="fewbit", bits=2)):
                xi = x.clone().requires_grad_()
                y = m(xi)
                y.backward(torch.cos(x))
                out += [bits(y.detach()).clone(), bits(xi.grad).clone()]
            runs.append(out)
    finally:
        rt.cpu_set_nontemporal(0)
    for a, b in zip(*runs):
        assert torch.equal(a, b)
