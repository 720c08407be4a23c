"""torch.nn modules over the actfit runtime: drop-in replacements for torch.nn's pointwise
activations that keep y and one bit (InvAct) or b bits (FewBit) for the backward pass
instead of x.

    import actfit.nn
    block = torch.nn.Sequential(torch.nn.Linear(d, 4 * d), actfit.nn.GELU(), torch.nn.Linear(4 * d, d))
    actfit.nn.replace(model, method="fewbit", bits=2)        # swap every supported activation

Each class takes torch.nn's own parameters (stored as attributes, as torch.nn does) and, as
keywords, actfit's: method ('invact' or 'fewbit'), bits (FewBit, 1-8), weight (FewBit's fit
weight), bit_in_y (InvAct: the branch bit inside y's last mantissa bit, no extra state) and
forward (None: the runtime computes y; 'torch': torch's own function computes y and the
runtime only encodes the state; or any torch function).  The passes run in C (CPU, or CUDA on
the tensor's device and current stream) through the torch.library ops of actfit.ops, which
torch.compile traces without a graph break.  The backward is once differentiable, and the
dtypes are float32, float16 and bfloat16: anything else raises ActfitError.
"""

import contextlib
import os
import tempfile
import warnings

import torch
import torch.nn.functional as F

from .. import ActfitError, ops
from ..table import Table
from . import functional
from .gated import GatedMLP, is_llama_mlp
from ._resolve import BUILTIN_WEIGHTS, check_options, spec as _spec, table_for

__all__ = ["Activation", "replace", "register", "calibrate", "saved_bytes", "functional",
           "GatedMLP",
           "GELU", "SiLU", "Mish", "Softplus", "ELU", "CELU", "SELU", "Sigmoid", "Tanh",
           "LogSigmoid", "Softsign", "Tanhshrink", "Hardswish", "Hardsigmoid", "Hardtanh",
           "ReLU", "ReLU6", "LeakyReLU", "Hardshrink", "Softshrink", "QuickGELU"]


class Activation(torch.nn.Module):
    """A pointwise activation whose backward keeps y and one bit (method="invact") or b bits
    (method="fewbit") instead of x.

    act: a built-in name ("gelu", "silu", ...; `actfit list`) or "expr:FORMULA" together
    with forward=.  params: the activation's parameters under actfit's names.  Tables compiled
    into the runtime are used when they exist (FewBit: weight "uniform" or "gauss:0,1", bits
    1-4); anything else is fitted once per process by the fitting library.  table: a Table
    to use instead.  forward: a torch function computing y from x (needed for expressions,
    which the runtime has no f for); the runtime then only encodes the state."""

    def __init__(self, act, method="invact", bits=3, weight="uniform", bit_in_y=False, *,
                 params=None, defaults=None, table=None, forward=None):
        super().__init__()
        check_options(method, bits, weight, bit_in_y, type(self).__name__)
        if forward is not None and not callable(forward):
            raise ValueError(f"{type(self).__name__}: forward must be None (the runtime's f), "
                             f"'torch' or a function, got {forward!r}")
        self.act, self.method, self.bits, self.weight = act, method, bits, weight
        self.params = dict(params or {})
        self.forward_fn = forward
        if table is None:
            table = table_for(act, method, bits, weight, self.params, defaults or {})
        self._set_table(table, bit_in_y)

    def _set_table(self, table, bit_in_y):
        if bit_in_y and table.is_fewbit:
            raise ValueError("actfit: bit_in_y applies to InvAct tables, not FewBit ones")
        if not table.has_forward and self.forward_fn is None:
            raise ActfitError("table " + table.source, ops.rt.Status.EUNKNOWN,
                              "the table is of an expression, which the runtime has no f for: "
                              "pass forward=fn (a torch function)")
        self.table = table
        self.method = "fewbit" if table.is_fewbit else "invact"
        self.bit_in_y = bool(bit_in_y)
        if table.is_fewbit:
            self.bits = table.bits

    @property
    def flags(self):
        return ops.rt.BIT_IN_Y if self.bit_in_y else 0

    @classmethod
    def from_table(cls, path, forward=None, bit_in_y=False):
        """Any JSON table (built-in activation or expression); forward gives y for
        expressions (and, if given, overrides the runtime's f for built-ins).  The module
        carries the table's activation, parameters and fit settings."""
        t = Table.load(path)
        s = t.settings
        return Activation(s["act"], s["method"], max(s["bits"], 1), s.get("weight", "uniform"),
                          bit_in_y, params=s["params"], table=t, forward=forward)

    def set_table(self, table):
        """Installs another table (calibrate uses this); bit_in_y is kept where it applies.
        A graph already recorded keeps the table its forward used."""
        self._set_table(table, self.bit_in_y and not table.is_fewbit)

    def state_bytes(self, n):
        """Bytes of state the backward keeps for n elements, besides y (InvAct)."""
        return self.table.state_bytes(n, self.flags)

    def forward(self, x):
        return ops.apply(x, self.table, self.flags, self.forward_fn)

    def _method_repr(self):
        s = f"method={self.method}"
        if self.method == "fewbit":
            s += f", bits={self.bits}, weight={self.weight}"
        elif self.table.rt.bit:
            s += f", bit_in_y={self.bit_in_y}"
        return s

    def extra_repr(self):
        return ", ".join([self.act] + [f"{k}={v}" for k, v in self.params.items()] +
                         [self._method_repr()])


class _TorchActivation(Activation):
    """The torch.nn-shaped classes: torch's parameters stored under torch's names."""
    _act = ""             # actfit's name
    _torch_fn = None      # torch's function, for forward='torch'
    _defaults = {}        # torch's parameters and defaults (actfit's names where they differ)

    def _init(self, torch_params, inplace, method, bits, weight, bit_in_y, forward,
              act=None, params=None):
        if forward == "torch":  # y from torch's own function; the runtime encodes the state
            forward = _TorchFn(type(self)._torch_fn, torch_params)
        Activation.__init__(self, act or self._act, method, bits, weight, bit_in_y,
                            params=torch_params if params is None else params,
                            defaults=self._defaults, forward=forward)
        for k, v in torch_params.items():
            setattr(self, k, v)
        self.inplace = bool(inplace)
        self._torch_names = list(torch_params)

    def extra_repr(self):
        parts = [f"{k}={getattr(self, k)!r}" for k in self._torch_names]
        if self.inplace:
            parts.append("inplace=True")
        parts.append(self._method_repr())
        if self.forward_fn is not None:
            parts.append("forward=torch" if isinstance(self.forward_fn, _TorchFn)
                         else "forward=" + getattr(self.forward_fn, "__name__", "fn"))
        return ", ".join(parts)


class _TorchFn:
    """torch's function with the module's parameters (picklable, unlike a lambda)."""

    def __init__(self, fn, kw):
        self.fn, self.kw = fn, dict(kw)

    def __call__(self, x):
        return self.fn(x, **self.kw)


_INPLACE_DOC = ("inplace is accepted for torch's signature; the output is always a new tensor "
                "(x must not be overwritten: actfit frees it).")
_ACTFIT_DOC = ("Keywords: method='invact'|'fewbit', bits (FewBit, 1-8), weight (FewBit), "
               "bit_in_y (InvAct), forward (None, 'torch' or a function).")


class GELU(_TorchActivation):
    """torch.nn.GELU(approximate='none'|'tanh') whose backward keeps y and one bit."""
    __constants__ = ["approximate"]
    _torch_fn = staticmethod(F.gelu)

    def __init__(self, approximate: str = "none", *, method="invact", bits=3, weight="uniform",
                 bit_in_y=False, forward=None):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self._init({"approximate": approximate}, False, method, bits, weight, bit_in_y, forward,
                   act="gelu_tanh" if approximate == "tanh" else "gelu", params={})


class SiLU(_TorchActivation):
    """torch.nn.SiLU whose backward keeps y and one bit."""
    __constants__ = ["inplace"]
    _act, _torch_fn = "silu", staticmethod(F.silu)

    def __init__(self, inplace: bool = False, *, method="invact", bits=3, weight="uniform",
                 bit_in_y=False, forward=None):
        self._init({}, inplace, method, bits, weight, bit_in_y, forward)


class Mish(_TorchActivation):
    """torch.nn.Mish whose backward keeps y and one bit."""
    __constants__ = ["inplace"]
    _act, _torch_fn = "mish", staticmethod(F.mish)

    def __init__(self, inplace: bool = False, *, method="invact", bits=3, weight="uniform",
                 bit_in_y=False, forward=None):
        self._init({}, inplace, method, bits, weight, bit_in_y, forward)


class Softplus(_TorchActivation):
    """torch.nn.Softplus(beta, threshold) whose backward keeps y (its g needs no bit)."""
    __constants__ = ["beta", "threshold"]
    _act, _torch_fn = "softplus", staticmethod(F.softplus)
    _defaults = {"beta": 1.0, "threshold": 20.0}

    def __init__(self, beta: float = 1.0, threshold: float = 20.0, *, method="invact", bits=3,
                 weight="uniform", bit_in_y=False, forward=None):
        self._init({"beta": beta, "threshold": threshold}, False, method, bits, weight,
                   bit_in_y, forward)


class ELU(_TorchActivation):
    """torch.nn.ELU(alpha) whose backward keeps y."""
    __constants__ = ["alpha", "inplace"]
    _act, _torch_fn = "elu", staticmethod(F.elu)
    _defaults = {"alpha": 1.0}

    def __init__(self, alpha: float = 1.0, inplace: bool = False, *, method="invact", bits=3,
                 weight="uniform", bit_in_y=False, forward=None):
        self._init({"alpha": alpha}, inplace, method, bits, weight, bit_in_y, forward)


class CELU(_TorchActivation):
    """torch.nn.CELU(alpha) whose backward keeps y."""
    __constants__ = ["alpha", "inplace"]
    _act, _torch_fn = "celu", staticmethod(F.celu)
    _defaults = {"alpha": 1.0}

    def __init__(self, alpha: float = 1.0, inplace: bool = False, *, method="invact", bits=3,
                 weight="uniform", bit_in_y=False, forward=None):
        self._init({"alpha": alpha}, inplace, method, bits, weight, bit_in_y, forward)


class SELU(_TorchActivation):
    """torch.nn.SELU whose backward keeps y."""
    __constants__ = ["inplace"]
    _act, _torch_fn = "selu", staticmethod(F.selu)

    def __init__(self, inplace: bool = False, *, method="invact", bits=3, weight="uniform",
                 bit_in_y=False, forward=None):
        self._init({}, inplace, method, bits, weight, bit_in_y, forward)


class Sigmoid(_TorchActivation):
    """torch.nn.Sigmoid whose backward keeps y (g = y(1 - y))."""
    _act, _torch_fn = "sigmoid", staticmethod(torch.sigmoid)

    def __init__(self, *, method="invact", bits=3, weight="uniform", bit_in_y=False,
                 forward=None):
        self._init({}, False, method, bits, weight, bit_in_y, forward)


class Tanh(_TorchActivation):
    """torch.nn.Tanh whose backward keeps y (g = 1 - y^2)."""
    _act, _torch_fn = "tanh", staticmethod(torch.tanh)

    def __init__(self, *, method="invact", bits=3, weight="uniform", bit_in_y=False,
                 forward=None):
        self._init({}, False, method, bits, weight, bit_in_y, forward)


class LogSigmoid(_TorchActivation):
    """torch.nn.LogSigmoid whose backward keeps y."""
    _act, _torch_fn = "logsigmoid", staticmethod(F.logsigmoid)

    def __init__(self, *, method="invact", bits=3, weight="uniform", bit_in_y=False,
                 forward=None):
        self._init({}, False, method, bits, weight, bit_in_y, forward)


class Softsign(_TorchActivation):
    """torch.nn.Softsign whose backward keeps y."""
    _act, _torch_fn = "softsign", staticmethod(F.softsign)

    def __init__(self, *, method="invact", bits=3, weight="uniform", bit_in_y=False,
                 forward=None):
        self._init({}, False, method, bits, weight, bit_in_y, forward)


class Tanhshrink(_TorchActivation):
    """torch.nn.Tanhshrink; FewBit only (its g(y) is not smooth at 0), so that is the default."""
    _act, _torch_fn = "tanhshrink", staticmethod(F.tanhshrink)

    def __init__(self, *, method="fewbit", bits=3, weight="uniform", bit_in_y=False,
                 forward=None):
        self._init({}, False, method, bits, weight, bit_in_y, forward)


class Hardswish(_TorchActivation):
    """torch.nn.Hardswish whose backward keeps y and one bit."""
    __constants__ = ["inplace"]
    _act, _torch_fn = "hardswish", staticmethod(F.hardswish)

    def __init__(self, inplace: bool = False, *, method="invact", bits=3, weight="uniform",
                 bit_in_y=False, forward=None):
        self._init({}, inplace, method, bits, weight, bit_in_y, forward)


class Hardsigmoid(_TorchActivation):
    """torch.nn.Hardsigmoid whose backward keeps y."""
    __constants__ = ["inplace"]
    _act, _torch_fn = "hardsigmoid", staticmethod(F.hardsigmoid)

    def __init__(self, inplace: bool = False, *, method="invact", bits=3, weight="uniform",
                 bit_in_y=False, forward=None):
        self._init({}, inplace, method, bits, weight, bit_in_y, forward)


class Hardtanh(_TorchActivation):
    """torch.nn.Hardtanh(min_val, max_val) whose backward keeps y (min_value and max_value
    are torch's deprecated spellings)."""
    __constants__ = ["min_val", "max_val", "inplace"]
    _act, _torch_fn = "hardtanh", staticmethod(F.hardtanh)
    _defaults = {"min_val": -1.0, "max_val": 1.0}

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value=None, max_value=None, *, method="invact", bits=3, weight="uniform",
                 bit_in_y=False, forward=None):
        if min_value is not None or max_value is not None:
            warnings.warn("Hardtanh: keyword arguments min_value and max_value are deprecated "
                          "(as in torch.nn); use min_val and max_val", FutureWarning,
                          stacklevel=2)
            min_val = min_val if min_value is None else min_value
            max_val = max_val if max_value is None else max_value
        if not min_val < max_val:
            raise ValueError(f"Hardtanh: min_val {min_val!r} must be below max_val {max_val!r}")
        self._init({"min_val": min_val, "max_val": max_val}, inplace, method, bits, weight,
                   bit_in_y, forward)


class ReLU(_TorchActivation):
    """torch.nn.ReLU whose backward keeps y (g = [y > 0])."""
    __constants__ = ["inplace"]
    _act, _torch_fn = "relu", staticmethod(F.relu)

    def __init__(self, inplace: bool = False, *, method="invact", bits=3, weight="uniform",
                 bit_in_y=False, forward=None):
        self._init({}, inplace, method, bits, weight, bit_in_y, forward)


class ReLU6(_TorchActivation):
    """torch.nn.ReLU6 whose backward keeps y."""
    __constants__ = ["inplace"]
    _act, _torch_fn = "relu6", staticmethod(F.relu6)

    def __init__(self, inplace: bool = False, *, method="invact", bits=3, weight="uniform",
                 bit_in_y=False, forward=None):
        self._init({}, inplace, method, bits, weight, bit_in_y, forward)


class LeakyReLU(_TorchActivation):
    """torch.nn.LeakyReLU(negative_slope) whose backward keeps y."""
    __constants__ = ["negative_slope", "inplace"]
    _act, _torch_fn = "leaky_relu", staticmethod(F.leaky_relu)
    _defaults = {"negative_slope": 0.01}

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False, *, method="invact",
                 bits=3, weight="uniform", bit_in_y=False, forward=None):
        self._init({"negative_slope": negative_slope}, inplace, method, bits, weight, bit_in_y,
                   forward)


class Hardshrink(_TorchActivation):
    """torch.nn.Hardshrink(lambd) whose backward keeps y."""
    __constants__ = ["lambd"]
    _act, _torch_fn = "hardshrink", staticmethod(F.hardshrink)
    _defaults = {"lambd": 0.5}

    def __init__(self, lambd: float = 0.5, *, method="invact", bits=3, weight="uniform",
                 bit_in_y=False, forward=None):
        self._init({"lambd": lambd}, False, method, bits, weight, bit_in_y, forward)


class Softshrink(_TorchActivation):
    """torch.nn.Softshrink(lambd) whose backward keeps y."""
    __constants__ = ["lambd"]
    _act, _torch_fn = "softshrink", staticmethod(F.softshrink)
    _defaults = {"lambd": 0.5}

    def __init__(self, lambd: float = 0.5, *, method="invact", bits=3, weight="uniform",
                 bit_in_y=False, forward=None):
        self._init({"lambd": lambd}, False, method, bits, weight, bit_in_y, forward)


class QuickGELU(_TorchActivation):
    """x * sigmoid(1.702 x) (transformers' QuickGELUActivation, CLIP's): no built-in, so its
    table is fitted once from the expression and cached on disk; y comes from torch."""
    _torch_fn = staticmethod(functional.quick_gelu_torch)

    def __init__(self, *, method="invact", bits=3, weight="uniform", bit_in_y=False):
        self._init({}, False, method, bits, weight, bit_in_y, "torch",
                   act=functional.QUICK_GELU_EXPR)


for _c in (SiLU, Mish, ELU, CELU, SELU, Hardswish, Hardsigmoid, Hardtanh, ReLU, ReLU6,
           LeakyReLU):
    _c.__doc__ += "\n\n" + _INPLACE_DOC
for _c in (GELU, SiLU, Mish, Softplus, ELU, CELU, SELU, Sigmoid, Tanh, LogSigmoid, Softsign,
           Tanhshrink, Hardswish, Hardsigmoid, Hardtanh, ReLU, ReLU6, LeakyReLU, Hardshrink,
           Softshrink, QuickGELU):
    _c.__doc__ += "\n\n" + _ACTFIT_DOC


class _Count:
    bytes = 0


@contextlib.contextmanager
def saved_bytes(*modules):
    """Measures what autograd saves for backward inside the block: the bytes of the unique
    storages it keeps (a storage kept twice, as y by an activation and by the next Linear,
    counts once), the parameters of `modules` excluded.

        with actfit.nn.saved_bytes(model) as m:
            loss = model(x).sum()
        print(m.bytes)
    """
    params = {p.untyped_storage().data_ptr() for mod in modules for p in mod.parameters()}
    seen = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in params:
            seen[s.data_ptr()] = s.nbytes()
        return t

    count = _Count()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        yield count
    count.bytes = sum(seen.values())


# ---- replace ------------------------------------------------------------------------------
def _torch_args(*names):
    return lambda m: {k: getattr(m, k) for k in names}


# torch.nn class -> (actfit class, its torch arguments read from the module)
_TORCH_SWAP = {
    torch.nn.GELU: (GELU, _torch_args("approximate")),
    torch.nn.SiLU: (SiLU, _torch_args()), torch.nn.Mish: (Mish, _torch_args()),
    torch.nn.Softplus: (Softplus, _torch_args("beta", "threshold")),
    torch.nn.ELU: (ELU, _torch_args("alpha")), torch.nn.CELU: (CELU, _torch_args("alpha")),
    torch.nn.SELU: (SELU, _torch_args()), torch.nn.Sigmoid: (Sigmoid, _torch_args()),
    torch.nn.Tanh: (Tanh, _torch_args()), torch.nn.LogSigmoid: (LogSigmoid, _torch_args()),
    torch.nn.Softsign: (Softsign, _torch_args()),
    torch.nn.Tanhshrink: (Tanhshrink, _torch_args()),
    torch.nn.Hardswish: (Hardswish, _torch_args()),
    torch.nn.Hardsigmoid: (Hardsigmoid, _torch_args()),
    torch.nn.Hardtanh: (Hardtanh, _torch_args("min_val", "max_val")),
    torch.nn.ReLU: (ReLU, _torch_args()), torch.nn.ReLU6: (ReLU6, _torch_args()),
    torch.nn.LeakyReLU: (LeakyReLU, _torch_args("negative_slope")),
    torch.nn.Hardshrink: (Hardshrink, _torch_args("lambd")),
    torch.nn.Softshrink: (Softshrink, _torch_args("lambd")),
}
# the functions a module may hold as an attribute (TransformerEncoderLayer's activation)
_FUNCTIONAL_SWAP = {
    F.gelu: (GELU, {}), F.silu: (SiLU, {}), F.mish: (Mish, {}), F.softplus: (Softplus, {}),
    F.elu: (ELU, {}), F.celu: (CELU, {}), F.selu: (SELU, {}), torch.sigmoid: (Sigmoid, {}),
    F.sigmoid: (Sigmoid, {}), torch.tanh: (Tanh, {}), F.tanh: (Tanh, {}),
    F.logsigmoid: (LogSigmoid, {}), F.softsign: (Softsign, {}),
    F.tanhshrink: (Tanhshrink, {}), F.hardswish: (Hardswish, {}),
    F.hardsigmoid: (Hardsigmoid, {}), F.hardtanh: (Hardtanh, {}), F.relu: (ReLU, {}),
    torch.relu: (ReLU, {}), F.relu6: (ReLU6, {}), F.leaky_relu: (LeakyReLU, {}),
    F.hardshrink: (Hardshrink, {}), F.softshrink: (Softshrink, {}), torch.selu: (SELU, {}),
}
# torch.nn.modules.activation classes that are not pointwise activations: never warned about
_NOT_POINTWISE = {"MultiheadAttention", "Softmax", "Softmin", "LogSoftmax", "Softmax2d", "GLU"}
_registered = {}  # user classes: cls -> factory(module, **options) -> actfit module or None


def register(cls, factory):
    """Lets replace swap modules of class cls (exactly that class): factory(module, method=,
    bits=, weight=, bit_in_y=, forward=) returns the actfit module to put in its place, or None
    to leave it (replace then warns)."""
    if not isinstance(cls, type) or not callable(factory):
        raise TypeError("actfit.nn.register(cls, factory): a class and a callable")
    _registered[cls] = factory


def _hf_table():
    """transformers' activation classes (when transformers.activations is loaded), each to the
    actfit class that computes the same function (checked against transformers' formulas)."""
    hf = __import__("sys").modules.get("transformers.activations")
    if hf is None:
        return {}, set()
    swap = {}
    for name, target in (("GELUActivation", (GELU, {})),
                         ("NewGELUActivation", (GELU, {"approximate": "tanh"})),
                         ("GELUTanh", (GELU, {"approximate": "tanh"})),
                         ("PytorchGELUTanh", (GELU, {"approximate": "tanh"})),
                         ("FastGELUActivation", (GELU, {"approximate": "tanh"})),
                         ("AccurateGELUActivation", (GELU, {"approximate": "tanh"})),
                         ("QuickGELUActivation", (QuickGELU, None)),
                         ("SiLUActivation", (SiLU, {})), ("MishActivation", (Mish, {}))):
        c = getattr(hf, name, None)
        if c is not None:
            swap[c] = target
    # identity: nothing to save and nothing to say
    silent = {getattr(hf, "LinearActivation")} if hasattr(hf, "LinearActivation") else set()
    return swap, silent


def _is_activation_like(cls):
    mod = cls.__module__
    if mod == "torch.nn.modules.activation":
        return cls.__name__ not in _NOT_POINTWISE
    return mod == "transformers.activations"


def replace(model, method="invact", bits=3, weight="uniform", bit_in_y=False, forward=None,
            fuse_mlp=False):
    """Swaps, in place, every activation of model that actfit supports for actfit's module
    with the same function and parameters, and returns [(qualified name, old, new)]:

    - torch.nn modules (GELU, SiLU, ELU(alpha=0.5), ...; Tanhshrink always goes to FewBit);
    - module attributes holding a torch function (torch.nn.functional.gelu, relu, ...), as
      TransformerEncoderLayer(activation="gelu") stores it;
    - transformers' activation classes (GELUActivation, NewGELUActivation, GELUTanh,
      FastGELUActivation, QuickGELUActivation, SiLUActivation, MishActivation, ...);
    - classes added with register(cls, factory).

    Bad arguments raise ValueError, as the constructors do.  An activation module it cannot
    swap (PReLU, Threshold, RReLU, an unknown transformers activation, a fit that fails) is
    left alone with a warning; attention, Linear and containers are not activations.
    forward='torch' makes the new modules compute y with torch's own function.  A model that
    calls torch.nn.functional inside its forward is not changed: call actfit.nn.functional.

    fuse_mlp=True (InvAct only) then turns every LLaMA-shaped MLP (gate_proj, up_proj,
    down_proj Linear layers and an act_fn: transformers' LlamaMLP, MistralMLP, Qwen2MLP, ...)
    into a GatedMLP over the same Linear layers, which keeps two FFN-wide tensors instead of
    four; the parameters and state_dict keys stay as they were."""
    check_options(method, bits, weight, bit_in_y, "actfit.nn.replace")
    if fuse_mlp and method != "invact":
        raise ValueError("actfit.nn.replace: fuse_mlp needs method='invact' (a fused MLP keeps "
                         "y anyway, so FewBit's codes would add memory)")
    if forward not in (None, "torch") and not callable(forward):
        raise ValueError(f"actfit.nn.replace: forward must be None, 'torch' or a function, got "
                         f"{forward!r}")
    opts = {"method": method, "bits": bits, "weight": weight, "bit_in_y": bit_in_y,
            "forward": forward}
    hf_swap, silent = _hf_table()
    done = []
    replaced = set()  # ids of modules taken out: their insides are not the model's any more

    def make(cls_args, qual, what):
        new_cls, kw = cls_args
        o = dict(opts)
        if new_cls is Tanhshrink and o["method"] == "invact":
            o["method"], o["bit_in_y"] = "fewbit", False  # its only method
        if kw is None:  # a class with no torch parameters and its own forward (QuickGELU)
            o.pop("forward")
            kw = {}
        try:
            return new_cls(**kw, **o)
        except (ActfitError, ValueError) as e:
            warnings.warn(f"actfit.nn.replace: {qual} ({what}) left alone: {e}", stacklevel=3)
            return None

    for pname, parent in list(model.named_modules()):
        if isinstance(parent, Activation) or id(parent) in replaced:
            continue
        for cname, child in list(parent.named_children()):
            qual = f"{pname}.{cname}" if pname else cname
            cls = type(child)
            if isinstance(child, Activation):
                continue
            new = None
            if cls in _registered:
                new = _registered[cls](child, **opts)
                if new is None:
                    warnings.warn(f"actfit.nn.replace: {qual} ({cls.__name__}) left alone: its "
                                  "registered factory returned None", stacklevel=2)
            elif cls in _TORCH_SWAP:
                new_cls, args = _TORCH_SWAP[cls]
                new = make((new_cls, args(child)), qual, cls.__name__)
            elif cls in hf_swap:
                new = make(hf_swap[cls], qual, cls.__name__)
            elif cls in silent:
                continue
            elif _is_activation_like(cls):
                warnings.warn(f"actfit.nn.replace: {qual} ({cls.__name__}) left alone: actfit "
                              "has no activation of this kind (register one with "
                              "actfit.nn.register)", stacklevel=2)
            if new is not None:
                setattr(parent, cname, new)
                done.append((qual, child, new))
                replaced.update(id(m) for m in child.modules())
        # a torch function held as an attribute (nn.TransformerEncoderLayer's activation)
        for aname, val in list(vars(parent).items()):
            if aname.startswith("_") or not callable(val) or isinstance(val, torch.nn.Module):
                continue
            try:
                target = _FUNCTIONAL_SWAP.get(val)
            except TypeError:  # unhashable
                continue
            if target is None:
                continue
            qual = f"{pname}.{aname}" if pname else aname
            new = make(target, qual, getattr(val, "__name__", "function"))
            if new is not None:
                setattr(parent, aname, new)  # Module.__setattr__ moves it into _modules
                done.append((qual, val, new))
    if fuse_mlp:
        for pname, parent in list(model.named_modules()):
            for cname, child in list(parent.named_children()):
                if not is_llama_mlp(child):
                    continue
                qual = f"{pname}.{cname}" if pname else cname
                act = child.act_fn
                if not isinstance(act, Activation) or act.method != "invact":
                    warnings.warn(f"actfit.nn.replace: {qual} ({type(child).__name__}) not "
                                  f"fused: its act_fn ({type(act).__name__}) is no actfit "
                                  "InvAct activation", stacklevel=2)
                    continue
                new = GatedMLP(child.gate_proj, child.up_proj, child.down_proj, act)
                setattr(parent, cname, new)
                done.append((qual, child, new))
    return done


def calibrate(model, batches, bits=3, max_samples=1 << 18, keep_dir=None):
    """Fits one FewBit table per actfit activation of model from the inputs it sees on
    `batches` (each a tensor, or a tuple of model arguments), with the weight hist:f32:FILE
    of those inputs, and installs it in the module.  Returns one dict per module: its name,
    the number of samples, and the L2 error E under the recorded distribution of the
    calibrated table and of the uniform and gauss:0,1 tables of the same bits.  keep_dir, if
    given, keeps the sample files and tables there (JSON, loadable with
    Activation.from_table)."""
    mods = [(n, m) for n, m in model.named_modules()
            if isinstance(m, Activation) and not m.act.startswith("table:")]
    if not mods:
        raise ValueError("actfit.nn.calibrate: the model has no actfit activation with a "
                         "known activation (use actfit.nn.replace first)")
    samples = {n: [] for n, _ in mods}
    counts = {n: 0 for n, _ in mods}
    gen = torch.Generator().manual_seed(0)

    def hook(name):
        def record(_m, inp):
            x = inp[0].detach().float().reshape(-1).cpu()
            room = max_samples - counts[name]
            if room <= 0:
                return
            if x.numel() > room:
                x = x[torch.randperm(x.numel(), generator=gen)[:room]]
            samples[name].append(x)
            counts[name] += x.numel()
        return record

    handles = [m.register_forward_pre_hook(hook(n)) for n, m in mods]
    try:
        with torch.no_grad():
            for b in batches:
                model(*b) if isinstance(b, (tuple, list)) else model(b)
    finally:
        for h in handles:
            h.remove()
    out = []
    tmp = None if keep_dir else tempfile.TemporaryDirectory(prefix="actfit-calibrate-")
    d = os.path.abspath(keep_dir or tmp.name)
    os.makedirs(d, exist_ok=True)
    try:
        for name, m in mods:
            x = torch.cat(samples[name]) if samples[name] else torch.empty(0)
            x = x[torch.isfinite(x)]
            if x.numel() < 2:
                raise ValueError(f"actfit.nn.calibrate: {name} saw {x.numel()} finite inputs")
            tag = name.replace(".", "-") or "act"
            path = os.path.join(d, f"{tag}.samples.f32")
            x.numpy().astype("<f4").tofile(path)  # raw little-endian float32: hist:f32:FILE
            sp = m.act if m.act.startswith("expr:") else _spec(m.act, m.params)
            hist = "hist:f32:" + path
            t = Table.fit(sp, "fewbit", bits, hist)
            row = {"module": name, "samples": int(x.numel()), "E_hist": t.error(hist)}
            for w in BUILTIN_WEIGHTS:
                row["E_" + w.split(":")[0]] = Table.fit(sp, "fewbit", bits, w).error(hist)
            if keep_dir:
                t.save(os.path.join(d, f"{tag}-{bits}bit.json"))
            m.weight = "hist"
            m.set_table(t)
            out.append(row)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return out
