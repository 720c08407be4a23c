"""Functional forms, for models that call torch.nn.functional inside their forward:

    import actfit.nn.functional as AF
    h = AF.gelu(self.fc1(x))                  # instead of F.gelu(...): keeps y and one bit
    h = AF.silu(g, method="fewbit", bits=2)

Each takes torch's parameters and actfit's keywords (method, bits, weight, bit_in_y) and
finds its table once per process (the modules' rules: compiled-in, else fitted once)."""

import torch

from .. import ops
from ._resolve import check_options, table_for

QUICK_GELU_EXPR = "expr:x/(1+exp(-1.702*x))"


def quick_gelu_torch(x):
    """transformers' QuickGELUActivation: x * sigmoid(1.702 x)."""
    return x * torch.sigmoid(1.702 * x)


def _act(x, act, params, defaults, method, bits, weight, bit_in_y, forward=None):
    check_options(method, bits, weight, bit_in_y, f"actfit.nn.functional.{act}")
    t = table_for(act, method, bits, weight, params, defaults)
    return ops.apply(x, t, ops.rt.BIT_IN_Y if bit_in_y else 0, forward)


def gelu(x, approximate="none", *, method="invact", bits=3, weight="uniform", bit_in_y=False):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _act(x, "gelu_tanh" if approximate == "tanh" else "gelu", {}, {}, method, bits,
                weight, bit_in_y)


def _plain(act):
    def f(x, *, method="invact", bits=3, weight="uniform", bit_in_y=False):
        return _act(x, act, {}, {}, method, bits, weight, bit_in_y)
    f.__name__ = f.__qualname__ = act
    f.__doc__ = f"actfit's {act}(x): torch's, with a backward that keeps less than x."
    return f


silu, mish, selu, sigmoid, tanh, logsigmoid, softsign, hardswish, hardsigmoid, relu, relu6 = (
    _plain(a) for a in ("silu", "mish", "selu", "sigmoid", "tanh", "logsigmoid", "softsign",
                        "hardswish", "hardsigmoid", "relu", "relu6"))


def tanhshrink(x, *, method="fewbit", bits=3, weight="uniform"):
    return _act(x, "tanhshrink", {}, {}, method, bits, weight, False)


def softplus(x, beta=1.0, threshold=20.0, *, method="invact", bits=3, weight="uniform",
             bit_in_y=False):
    return _act(x, "softplus", {"beta": beta, "threshold": threshold},
                {"beta": 1.0, "threshold": 20.0}, method, bits, weight, bit_in_y)


def elu(x, alpha=1.0, *, method="invact", bits=3, weight="uniform", bit_in_y=False):
    return _act(x, "elu", {"alpha": alpha}, {"alpha": 1.0}, method, bits, weight, bit_in_y)


def celu(x, alpha=1.0, *, method="invact", bits=3, weight="uniform", bit_in_y=False):
    return _act(x, "celu", {"alpha": alpha}, {"alpha": 1.0}, method, bits, weight, bit_in_y)


def hardtanh(x, min_val=-1.0, max_val=1.0, *, method="invact", bits=3, weight="uniform",
             bit_in_y=False):
    return _act(x, "hardtanh", {"min_val": min_val, "max_val": max_val},
                {"min_val": -1.0, "max_val": 1.0}, method, bits, weight, bit_in_y)


def leaky_relu(x, negative_slope=0.01, *, method="invact", bits=3, weight="uniform",
               bit_in_y=False):
    return _act(x, "leaky_relu", {"negative_slope": negative_slope}, {"negative_slope": 0.01},
                method, bits, weight, bit_in_y)


def hardshrink(x, lambd=0.5, *, method="invact", bits=3, weight="uniform", bit_in_y=False):
    return _act(x, "hardshrink", {"lambd": lambd}, {"lambd": 0.5}, method, bits, weight,
                bit_in_y)


def softshrink(x, lambd=0.5, *, method="invact", bits=3, weight="uniform", bit_in_y=False):
    return _act(x, "softshrink", {"lambd": lambd}, {"lambd": 0.5}, method, bits, weight,
                bit_in_y)


def quick_gelu(x, *, method="invact", bits=3, weight="uniform", bit_in_y=False):
    return _act(x, QUICK_GELU_EXPR, {}, {}, method, bits, weight, bit_in_y, quick_gelu_torch)
