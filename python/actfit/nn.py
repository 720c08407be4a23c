"""torch.nn modules over the actfit runtime: drop-in replacements for torch.nn's pointwise
activations that keep y and one bit (InvAct) or b bits (FewBit) for the backward pass
instead of x.

    import actfit.nn
    block = torch.nn.Sequential(torch.nn.Linear(d, 4 * d), actfit.nn.GELU(), torch.nn.Linear(4 * d, d))
    actfit.nn.replace(model, method="fewbit", bits=2)        # swap every supported module

The forward and backward passes run in C (CPU, or CUDA on the tensor's own device and
current stream); the autograd.Function saves y and the packed state through
save_for_backward and nothing else.
"""

import contextlib
import functools
import math
import os
import tempfile
import warnings

import torch

from . import ActfitError, rt

__all__ = ["Activation", "replace", "calibrate", "saved_bytes", "GELU", "SiLU", "Mish", "Softplus", "ELU", "CELU",
           "SELU", "Sigmoid", "Tanh", "LogSigmoid", "Softsign", "Tanhshrink", "Hardswish",
           "Hardsigmoid", "Hardtanh", "ReLU", "ReLU6", "LeakyReLU", "Hardshrink", "Softshrink"]

_DTYPES = {torch.float32: rt.FP32, torch.float16: rt.FP16, torch.bfloat16: rt.BF16}
_BUILTIN_WEIGHTS = ("uniform", "gauss:0,1")


def _dtype(x, what):
    dt = _DTYPES.get(x.dtype)
    if dt is None:
        raise ActfitError(what, 11, f"unsupported dtype {x.dtype} (float32, float16, bfloat16)")
    return dt


def _stream(x, what):
    if x.device.type == "cpu":
        return None
    if x.device.type == "cuda":
        s = torch.cuda.current_stream(x.device).cuda_stream
        return s if s else rt.CUDA_DEFAULT_STREAM
    raise ActfitError(what, 12, f"unsupported device {x.device} (cpu, cuda)")


class _Device:
    """Makes x's CUDA device current for the call (the runtime launches on it)."""

    def __init__(self, x):
        self.ctx = torch.cuda.device(x.device) if x.device.type == "cuda" else None

    def __enter__(self):
        if self.ctx is not None:
            self.ctx.__enter__()

    def __exit__(self, *a):
        if self.ctx is not None:
            self.ctx.__exit__(*a)


class _ActFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, mod):
        table, flags = mod.table, mod.flags
        what = f"{mod.method} forward"
        dt = _dtype(x, what)
        x = x.contiguous()
        n = x.numel()
        stream = _stream(x, what)
        y = torch.empty_like(x, memory_format=torch.contiguous_format)
        state = torch.empty(table.state_bytes(n, flags), dtype=torch.uint8, device=x.device)
        fewbit = table.method == rt.METHOD_FEWBIT
        with _Device(x):
            if mod.forward_fn is not None:
                # the framework computes y; the runtime encodes the state from x (and y)
                with torch.no_grad():
                    y.copy_(mod.forward_fn(x))
                st = (rt.fewbit_encode(table.ptr, dt, x.data_ptr(), state.data_ptr(), n, stream)
                      if fewbit else
                      rt.invact_encode(table.ptr, dt, flags, x.data_ptr(), y.data_ptr(),
                                       state.data_ptr(), n, stream))
            elif fewbit:
                st = rt.fewbit_forward(table.ptr, dt, x.data_ptr(), y.data_ptr(),
                                       state.data_ptr(), n, stream)
            else:
                st = rt.invact_forward(table.ptr, dt, flags, x.data_ptr(), y.data_ptr(),
                                       state.data_ptr(), n, stream)
        rt.check(st, what)
        if fewbit:
            ctx.save_for_backward(state)
        else:
            ctx.save_for_backward(y, state)
        ctx.mod, ctx.dtype = mod, x.dtype
        return y

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        mod = ctx.mod
        table, flags = mod.table, mod.flags
        what = f"{mod.method} backward"
        saved = ctx.saved_tensors
        state, y = saved[-1], saved[0]
        go = grad_out.contiguous()
        if go.dtype != ctx.dtype:
            go = go.to(ctx.dtype)
        dt = _dtype(go, what)
        n = go.numel()
        gi = torch.empty_like(go)
        stream = _stream(go, what)
        with _Device(go):
            if table.method == rt.METHOD_FEWBIT:
                st = rt.fewbit_backward(table.ptr, dt, state.data_ptr(), go.data_ptr(),
                                        gi.data_ptr(), n, stream)
            else:
                st = rt.invact_backward(table.ptr, dt, flags, y.data_ptr(), state.data_ptr(),
                                        go.data_ptr(), gi.data_ptr(), n, stream)
        rt.check(st, what)
        return gi, None


def _spec(act, params):
    if not params:
        return act
    return act + ":" + ",".join(f"{k}={float(v)!r}" for k, v in params.items())


class Activation(torch.nn.Module):
    """A pointwise activation whose backward keeps y and one bit (method="invact") or b bits
    (method="fewbit") instead of x.

    act: a built-in name ("gelu", "silu", ...; `actfit list`), optionally with parameters
    ("elu:alpha=0.5"), or "expr:FORMULA" together with forward=.  Tables compiled into the
    runtime are used when they exist (FewBit: weight "uniform" or "gauss:0,1", bits 1-4);
    anything else is fitted on the fly by the fitting library.
    forward: a torch function computing y from x, for tables of expressions (the runtime
    has no f for them); the runtime then only encodes the state."""

    def __init__(self, act, method="invact", bits=3, weight="uniform", bit_in_y=False, *,
                 params=None, defaults=None, table=None, forward=None):
        super().__init__()
        if method not in ("invact", "fewbit"):
            raise ValueError(f"actfit: method must be 'invact' or 'fewbit', got {method!r}")
        self.act, self.method, self.bits, self.weight = act, method, bits, weight
        self.params = dict(params or {})
        self.forward_fn = forward
        if table is None:
            table = self._resolve(act, method, bits, weight, self.params, defaults or {})
        self._set_table(table, bit_in_y)

    @staticmethod
    def _resolve(act, method, bits, weight, params, defaults):
        if method == "fewbit" and not 1 <= int(bits) <= 8:
            raise ValueError(f"actfit: bits must be 1..8, got {bits!r}")
        default_params = all(float(v) == float(defaults.get(k, math.nan)) for k, v in params.items())
        if default_params and not act.startswith("expr:") and ":" not in act and (
                method == "invact" or weight in _BUILTIN_WEIGHTS):
            t = rt.Table.builtin(act, method, int(bits), weight)
            if t is not None:
                return t
        spec = act if act.startswith("expr:") else _spec(act, params)
        return rt.Table.fit(spec, method, int(bits), weight)

    def _set_table(self, table, bit_in_y):
        self.table = table
        self.method = "fewbit" if table.method == rt.METHOD_FEWBIT else "invact"
        if bit_in_y and self.method == "fewbit":
            raise ValueError("actfit: bit_in_y applies to InvAct tables, not FewBit ones")
        self.bit_in_y = bool(bit_in_y)
        self.flags = rt.BIT_IN_Y if bit_in_y else 0
        if self.method == "fewbit":
            self.bits = table.bits
        if not table.has_forward and self.forward_fn is None:
            raise ActfitError("table " + table.source, 3, "the table is of an expression, which "
                              "the runtime has no f for: pass forward=fn (a torch function)")

    @classmethod
    def from_table(cls, path, forward=None, bit_in_y=False):
        """Any JSON table (built-in activation or expression); forward gives y for
        expressions (and, if given, overrides the runtime's f for built-ins)."""
        t = rt.Table.load(path)
        m = cls.__new__(cls)
        torch.nn.Module.__init__(m)
        m.act, m.params, m.weight, m.forward_fn = f"table:{path}", {}, None, forward
        m.bits = t.bits
        m._set_table(t, bit_in_y)
        return m

    def set_table(self, table):
        """Installs another table (calibrate uses this); bit_in_y is kept where it applies."""
        self._set_table(table, self.bit_in_y and table.method == rt.METHOD_INVACT)

    def state_bytes(self, n):
        """Bytes of state the backward keeps for n elements, besides y (InvAct)."""
        return self.table.state_bytes(n, self.flags)

    def forward(self, x):
        return _ActFunction.apply(x, self)

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


def _define(name, act, torch_params=(), default_method="invact"):
    """One class per torch.nn activation, with torch's parameter names and defaults."""
    names = [p for p, _ in torch_params]
    defaults = dict(torch_params)

    fname = {"Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyReLU": "leaky_relu"}.get(
        name, name.lower())

    def __init__(self, *args, method=default_method, bits=3, weight="uniform", bit_in_y=False,
                 forward=None, inplace=False, **kw):
        if len(args) > len(names):
            raise TypeError(f"{name}() takes at most {len(names)} positional arguments")
        vals = dict(defaults)
        vals.update(zip(names, args))
        for k, v in kw.items():
            if k not in defaults:
                raise TypeError(f"{name}() got an unexpected keyword argument {k!r}")
            vals[k] = v
        a, params, dflt = act(vals) if callable(act) else (act, vals, defaults)
        if forward == "torch":  # y from torch's own function; the runtime encodes the state
            fn = getattr(torch, fname) if fname in ("sigmoid", "tanh") else \
                getattr(torch.nn.functional, fname)
            forward = functools.partial(fn, **vals)  # (picklable, unlike a lambda)
        elif forward is not None and not callable(forward):
            raise ValueError(f"{name}: forward must be None (the runtime's f), 'torch' or a "
                             f"function, got {forward!r}")
        Activation.__init__(self, a, method, bits, weight, bit_in_y, params=params,
                            defaults=dflt, forward=forward)
        self._torch_params = vals

    def extra_repr(self):
        return ", ".join([f"{k}={v!r}" for k, v in self._torch_params.items()] +
                         [self._method_repr()] +
                         (["forward=torch"] if self.forward_fn is not None else []))

    doc = (f"actfit's {name}: torch.nn.{name}, with torch's parameters, whose backward keeps "
           f"y and one bit (method='invact') or b bits (method='fewbit'); default "
           f"{default_method!r}.  forward='torch' computes y with torch's own function and "
           f"the runtime only encodes the state (faster where torch's forward is; y then has "
           f"torch's rounding).  inplace is accepted and ignored (the output is a new tensor).")
    return type(name, (Activation,), {"__init__": __init__, "extra_repr": extra_repr,
                                      "__doc__": doc})


# torch's parameter names -> actfit's; the tables compiled in have torch's defaults
def _gelu(v):
    if v["approximate"] not in ("none", "tanh"):
        raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {v['approximate']!r}")
    return ("gelu_tanh" if v["approximate"] == "tanh" else "gelu"), {}, {}


GELU = _define("GELU", _gelu, [("approximate", "none")])
SiLU = _define("SiLU", "silu")
Mish = _define("Mish", "mish")
Softplus = _define("Softplus", "softplus", [("beta", 1.0), ("threshold", 20.0)])
ELU = _define("ELU", "elu", [("alpha", 1.0)])
CELU = _define("CELU", "celu", [("alpha", 1.0)])
SELU = _define("SELU", "selu")
Sigmoid = _define("Sigmoid", "sigmoid")
Tanh = _define("Tanh", "tanh")
LogSigmoid = _define("LogSigmoid", "logsigmoid")
Softsign = _define("Softsign", "softsign")
# Tanhshrink has no InvAct form (g(y) is not smooth at 0): FewBit is its default
Tanhshrink = _define("Tanhshrink", "tanhshrink", default_method="fewbit")
Hardswish = _define("Hardswish", "hardswish")
Hardsigmoid = _define("Hardsigmoid", "hardsigmoid")
Hardtanh = _define("Hardtanh", "hardtanh", [("min_val", -1.0), ("max_val", 1.0)])
ReLU = _define("ReLU", "relu")
ReLU6 = _define("ReLU6", "relu6")
LeakyReLU = _define("LeakyReLU", "leaky_relu", [("negative_slope", 0.01)])
Hardshrink = _define("Hardshrink", "hardshrink", [("lambd", 0.5)])
Softshrink = _define("Softshrink", "softshrink", [("lambd", 0.5)])

_SWAP = {"GELU": GELU, "SiLU": SiLU, "Mish": Mish, "Softplus": Softplus, "ELU": ELU,
         "CELU": CELU, "SELU": SELU, "Sigmoid": Sigmoid, "Tanh": Tanh, "LogSigmoid": LogSigmoid,
         "Softsign": Softsign, "Tanhshrink": Tanhshrink, "Hardswish": Hardswish,
         "Hardsigmoid": Hardsigmoid, "Hardtanh": Hardtanh, "ReLU": ReLU, "ReLU6": ReLU6,
         "LeakyReLU": LeakyReLU, "Hardshrink": Hardshrink, "Softshrink": Softshrink}
_TORCH_ARGS = {"GELU": ["approximate"], "Softplus": ["beta", "threshold"], "ELU": ["alpha"],
               "CELU": ["alpha"], "Hardtanh": ["min_val", "max_val"],
               "LeakyReLU": ["negative_slope"], "Hardshrink": ["lambd"],
               "Softshrink": ["lambd"]}


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
    params = {p.storage().data_ptr() for mod in modules for p in mod.parameters()}
    seen = {}

    def pack(t):
        s = t.storage()
        if s.data_ptr() not in params:
            seen[s.data_ptr()] = s.nbytes()
        return t

    count = _Count()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        yield count
    count.bytes = sum(seen.values())


def replace(model, method="invact", bits=3, weight="uniform", bit_in_y=False, forward=None):
    """Swaps, in place, every torch.nn activation module of model that actfit supports
    (GELU, SiLU, ... with their parameters) for actfit's module with the same parameters.
    Returns [(qualified name, old module, new module)].  A pointwise activation module it
    cannot swap (PReLU, Softmax, a method the activation lacks, ...) is left alone with a
    warning.  forward='torch' makes the new modules compute y with torch's own function (the
    runtime then only encodes the state).  A model that calls torch.nn.functional directly is
    not changed: use the modules."""
    done = []
    for pname, parent in list(model.named_modules()):
        for cname, child in list(parent.named_children()):
            qual = f"{pname}.{cname}" if pname else cname
            if isinstance(child, Activation):
                continue
            cls = type(child)
            if cls.__module__ != "torch.nn.modules.activation":
                continue
            new_cls = _SWAP.get(cls.__name__)
            if new_cls is None or type(child) is not getattr(torch.nn, cls.__name__):
                warnings.warn(f"actfit.nn.replace: {qual} ({cls.__name__}) left alone: not a "
                              "pointwise activation actfit supports", stacklevel=2)
                continue
            kw = {k: getattr(child, k) for k in _TORCH_ARGS.get(cls.__name__, [])}
            m = method
            if cls.__name__ == "Tanhshrink" and method == "invact":
                m = "fewbit"  # its only method
            try:
                new = new_cls(method=m, bits=bits, weight=weight,
                              bit_in_y=bit_in_y and m == "invact", forward=forward, **kw)
            except (ActfitError, ValueError) as e:
                warnings.warn(f"actfit.nn.replace: {qual} ({cls.__name__}) left alone: {e}",
                              stacklevel=2)
                continue
            setattr(parent, cname, new)
            done.append((qual, child, new))
    return done


def calibrate(model, batches, bits=3, max_samples=1 << 18, keep_dir=None):
    """Fits one FewBit table per actfit activation of model from the inputs it sees on
    `batches` (each a tensor, or a tuple of model arguments), with the weight hist:FILE of
    those inputs, and installs it in the module.  Returns one dict per module: its name, the
    number of samples, and the L2 error E under the recorded distribution of the calibrated
    table and of the uniform and gauss:0,1 tables of the same bits.  keep_dir, if given,
    keeps the sample files and tables there (JSON, loadable with Activation.from_table)."""
    rt._need_fit("calibrate")
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
            path = os.path.join(d, f"{tag}.samples.txt")
            with open(path, "w") as f:
                f.write("\n".join(f"{v:.9g}" for v in x.tolist()))
                f.write("\n")
            spec = m.act if m.act.startswith("expr:") else _spec(m.act, m.params)
            hist = "hist:" + path
            t = rt.Table.fit(spec, "fewbit", bits, hist)
            row = {"module": name, "samples": int(x.numel()), "E_hist": t.error(hist)}
            for w in _BUILTIN_WEIGHTS:
                row["E_" + w.split(":")[0]] = rt.Table.fit(spec, "fewbit", bits, w).error(hist)
            if keep_dir:
                t.save(os.path.join(d, f"{tag}-{bits}bit.json"))
            m.weight = "hist"
            m.set_table(t)
            out.append(row)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return out
