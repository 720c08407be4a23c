"""The runtime's passes as torch.library custom ops, so that torch.compile sees each as one
opaque op with a fake kernel (no graph break), and eager mode pays one dispatch:

    actfit::forward(x, table, flags) -> (y, state)        the runtime computes y
    actfit::encode(x, y, table, flags) -> (y', state)     y given (expressions, forward='torch')
    actfit::backward(grad, y?, state, table, flags) -> grad_x

`table` is a Table id (actfit.table), `flags` the runtime's (BIT_IN_Y).  y keeps x's memory
format when x is dense (channels_last included); state is the packed bytes of the backward.
The backward is registered as the autograd formula of forward and encode; it is itself once
differentiable: asking for its derivative raises ActfitError.  Only float32, float16 and
bfloat16 are supported (ActfitError otherwise, in eager mode and when tracing)."""

from typing import Optional

import torch

from . import ActfitError, rt
from .table import by_id

# the CPU passes on torch's OpenMP threads (rt.use_openmp_team; ACTFIT_THREADS=own: not)
openmp_team = rt.use_openmp_team()

_DTYPES = {torch.float32: rt.FP32, torch.float16: rt.FP16, torch.bfloat16: rt.BF16}


def dtype_code(x, what):
    dt = _DTYPES.get(x.dtype)
    if dt is None:
        raise ActfitError(what, rt.Status.EDTYPE, f"unsupported dtype {x.dtype}: actfit's passes "
                          "take float32, float16 and bfloat16 (run this module in one of them)")
    return dt


def _stream(x, what):
    if x.device.type == "cpu":
        return None
    if x.device.type == "cuda":
        s = torch.cuda.current_stream(x.device).cuda_stream
        return s if s else rt.CUDA_DEFAULT_STREAM
    raise ActfitError(what, rt.Status.ENODEV, f"unsupported device {x.device} (cpu, cuda)")


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


def _dense(x):
    """x itself when it is dense in some memory order (then empty_like keeps its strides),
    else a contiguous copy: the runtime walks memory, so x and y must share one order."""
    y = torch.empty_like(x)
    if y.stride() == x.stride():
        return x, y
    x = x.contiguous()
    return x, torch.empty_like(x)


def _state(t, x, flags):
    n = x.numel()
    return x.new_empty((t.state_planes(flags) * 4 * ((n + 31) // 32),), dtype=torch.uint8)


def _name(t):
    return "fewbit" if t.is_fewbit else "invact"


# ---- forward -------------------------------------------------------------------------------
@torch.library.custom_op("actfit::forward", mutates_args=())
def forward(x: torch.Tensor, table: int, flags: int) -> tuple[torch.Tensor, torch.Tensor]:
    t = by_id(table)
    what = f"{_name(t)} forward"
    dt = dtype_code(x, what)
    stream = _stream(x, what)
    x, y = _dense(x)
    state = _state(t, x, flags)
    with _Device(x):
        if t.is_fewbit:
            st = rt.fewbit_forward(t.ptr, dt, x.data_ptr(), y.data_ptr(), state.data_ptr(),
                                   x.numel(), stream)
        else:
            st = rt.invact_forward(t.ptr, dt, flags, x.data_ptr(), y.data_ptr(),
                                   state.data_ptr(), x.numel(), stream)
    rt.check(st, what)
    return y, state


@forward.register_fake
def _(x, table, flags):
    t = by_id(table)
    dtype_code(x, f"{_name(t)} forward")
    if not t.has_forward:
        raise ActfitError(f"{_name(t)} forward", rt.Status.EUNKNOWN, "the table is of an "
                          "expression, which the runtime has no f for: give a forward function")
    x, y = _dense(x)
    return y, _state(t, x, flags)


# ---- encode: y given, the runtime writes the state (and a copy of y in x's order) -----------
@torch.library.custom_op("actfit::encode", mutates_args=())
def encode(x: torch.Tensor, y: torch.Tensor, table: int,
           flags: int) -> tuple[torch.Tensor, torch.Tensor]:
    t = by_id(table)
    what = f"{_name(t)} encode"
    dt = dtype_code(x, what)
    stream = _stream(x, what)
    if y.shape != x.shape or y.dtype != x.dtype or y.device != x.device:
        raise ActfitError(what, rt.Status.EINVAL, f"the forward function returned y of shape "
                          f"{tuple(y.shape)}, {y.dtype} on {y.device}; x is {tuple(x.shape)}, "
                          f"{x.dtype} on {x.device}")
    x, out = _dense(x)
    out.copy_(y)
    state = _state(t, x, flags)
    with _Device(x):
        if t.is_fewbit:
            st = rt.fewbit_encode(t.ptr, dt, x.data_ptr(), state.data_ptr(), x.numel(), stream)
        else:
            st = rt.invact_encode(t.ptr, dt, flags, x.data_ptr(), out.data_ptr(),
                                  state.data_ptr(), x.numel(), stream)
    rt.check(st, what)
    return out, state


@encode.register_fake
def _(x, y, table, flags):
    t = by_id(table)
    dtype_code(x, f"{_name(t)} encode")
    x, out = _dense(x)
    return out, _state(t, x, flags)


# ---- backward ------------------------------------------------------------------------------
@torch.library.custom_op("actfit::backward", mutates_args=())
def backward(grad: torch.Tensor, y: Optional[torch.Tensor], state: torch.Tensor, table: int,
             flags: int) -> torch.Tensor:
    """grad must have the forward's y's strides (the wrapper makes it so)."""
    t = by_id(table)
    what = f"{_name(t)} backward"
    dt = dtype_code(grad, what)
    stream = _stream(grad, what)
    n = grad.numel()
    if state.numel() != t.state_bytes(n, flags) or (
            not t.is_fewbit and (y is None or y.numel() != n or y.stride() != grad.stride())):
        raise ActfitError(what, rt.Status.EINVAL, "grad, y and state do not belong to one "
                          "forward of this table")
    gi = torch.empty_like(grad)
    with _Device(grad):
        if t.is_fewbit:
            st = rt.fewbit_backward(t.ptr, dt, state.data_ptr(), grad.data_ptr(), gi.data_ptr(),
                                    n, stream)
        else:
            st = rt.invact_backward(t.ptr, dt, flags, y.data_ptr(), state.data_ptr(),
                                    grad.data_ptr(), gi.data_ptr(), n, stream)
    rt.check(st, what)
    return gi


@backward.register_fake
def _(grad, y, state, table, flags):
    return torch.empty_like(grad)


def _no_double_backward(ctx, grad):
    raise ActfitError("double backward", rt.Status.EINVAL, "actfit's backward is once "
                      "differentiable: it cannot be differentiated again (create_graph=True "
                      "through an actfit activation, e.g. for a gradient penalty, needs the stock "
                      "torch module)")


torch.library.register_autograd("actfit::backward", _no_double_backward)


# ---- the autograd formula of forward and encode ------------------------------------------
def _setup(ctx, inputs, output):
    table, flags = inputs[-2], inputs[-1]
    y, state = output
    t = by_id(table)
    ctx.table, ctx.flags, ctx.fewbit = table, flags, t.is_fewbit
    ctx.dtype, ctx.stride = y.dtype, y.stride()
    if t.is_fewbit:
        ctx.save_for_backward(state)
    else:
        ctx.save_for_backward(y, state)


def _backward(ctx, grad_y, grad_state):
    saved = ctx.saved_tensors
    y, state = (None, saved[0]) if ctx.fewbit else saved
    g = grad_y if grad_y.dtype == ctx.dtype else grad_y.to(ctx.dtype)
    if g.stride() != ctx.stride:
        g = torch.empty_strided(g.shape, ctx.stride, dtype=g.dtype, device=g.device).copy_(g)
    gi = torch.ops.actfit.backward(g, y, state, ctx.table, ctx.flags)
    return (gi, None, None) if len(ctx.needs_input_grad) == 3 else (gi, None, None, None)


torch.library.register_autograd("actfit::forward", _backward, setup_context=_setup)
torch.library.register_autograd("actfit::encode", _backward, setup_context=_setup)


def apply(x, table, flags, forward_fn=None):
    """y for x through table (a Table), differentiable by the runtime's backward.  forward_fn,
    if given, computes y (torch code, not differentiated); the runtime then encodes the state."""
    if forward_fn is None:
        return torch.ops.actfit.forward(x, table.id, flags)[0]
    with torch.no_grad():
        y = forward_fn(x.detach())
    return torch.ops.actfit.encode(x, y, table.id, flags)[0]
