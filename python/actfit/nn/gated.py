"""GatedMLP: down(act(gate(x)) * up(x)), the MLP of LLaMA, Mistral and Qwen (SwiGLU with
SiLU, GEGLU with GELU), as one module and one autograd function.

Stock torch keeps four FFN-wide tensors per such MLP for the backward: g = gate(x) for the
activation, act(g) and u = up(x) for the product, and h = act(g) * u for down's weight
gradient.  Replacing the activation alone drops only g.  Here the function keeps x, y = act(g),
u and the InvAct branch bit, and recomputes h = y * u in the backward: two FFN-wide tensors
instead of four.  FewBit would not keep less (the product's backward needs y itself), so the
activation must be an InvAct one."""

import torch

from .. import ops


def _linear(x, w, b):
    return torch.nn.functional.linear(x, w, b)


class _GatedMLPFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, wg, bg, wu, bu, wd, bd, table, flags, forward_fn):
        g = _linear(x, wg, bg)
        if forward_fn is None:
            y, state = torch.ops.actfit.forward(g, table, flags)
        else:
            y, state = torch.ops.actfit.encode(g, forward_fn(g), table, flags)
        del g
        u = _linear(x, wu, bu)
        out = _linear(y * u, wd, bd)
        ctx.save_for_backward(x, y, u, state, wg, wu, wd)
        ctx.table, ctx.flags = table, flags
        ctx.has_bias = (bg is not None, bu is not None, bd is not None)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dout):
        x, y, u, state, wg, wu, wd = ctx.saved_tensors
        d_in = x.shape[-1]
        x2, y2, u2 = x.reshape(-1, d_in), y.reshape(-1, y.shape[-1]), u.reshape(-1, u.shape[-1])
        do2 = dout.reshape(-1, dout.shape[-1]).to(x.dtype)
        h2 = y2 * u2                               # recomputed, not kept
        dwd = do2.t() @ h2
        dbd = do2.sum(0) if ctx.has_bias[2] else None
        del h2
        dh = do2 @ wd                              # (rows, ffn)
        du = dh * y2
        dy = (dh * u2).reshape(y.shape)
        del dh
        dg = torch.ops.actfit.backward(dy, y, state, ctx.table, ctx.flags).reshape(-1, y.shape[-1])
        dwg, dwu = dg.t() @ x2, du.t() @ x2
        dbg = dg.sum(0) if ctx.has_bias[0] else None
        dbu = du.sum(0) if ctx.has_bias[1] else None
        dx = (dg @ wg + du @ wu).reshape(x.shape)
        return dx, dwg, dbg, dwu, dbu, dwd, dbd, None, None, None


class GatedMLP(torch.nn.Module):
    """down_proj(act_fn(gate_proj(x)) * up_proj(x)) keeping x, act_fn's y, up_proj(x) and
    InvAct's bit for the backward.  The submodules keep the names (and so the state_dict
    keys) of transformers' LlamaMLP; pass existing Linear layers to reuse their parameters.

        mlp = actfit.nn.GatedMLP(gate_proj, up_proj, down_proj, actfit.nn.SiLU())
        actfit.nn.replace(model, fuse_mlp=True)   # every LLaMA-shaped MLP of a model
    """

    def __init__(self, gate_proj, up_proj, down_proj, act_fn):
        super().__init__()
        from . import Activation
        if not isinstance(act_fn, Activation):
            raise TypeError("GatedMLP: act_fn must be an actfit.nn activation (SiLU(), GELU(), "
                            f"...), got {type(act_fn).__name__}")
        if act_fn.method != "invact":
            raise ValueError("GatedMLP: act_fn must use method='invact' (the product's backward "
                             "keeps y anyway, so FewBit's codes would add memory, not save it)")
        for name, lin in (("gate_proj", gate_proj), ("up_proj", up_proj),
                          ("down_proj", down_proj)):
            if not isinstance(lin, torch.nn.Linear):
                raise TypeError(f"GatedMLP: {name} must be a torch.nn.Linear, got "
                                f"{type(lin).__name__}")
        if gate_proj.weight.shape != up_proj.weight.shape or \
                down_proj.weight.shape[1] != gate_proj.weight.shape[0]:
            raise ValueError("GatedMLP: gate_proj and up_proj must map d -> ffn and down_proj "
                             "ffn -> d")
        self.gate_proj, self.up_proj, self.down_proj, self.act_fn = (gate_proj, up_proj,
                                                                     down_proj, act_fn)

    def forward(self, x):
        a = self.act_fn
        ops.dtype_code(x, "GatedMLP")
        return _GatedMLPFunction.apply(x, self.gate_proj.weight, self.gate_proj.bias,
                                       self.up_proj.weight, self.up_proj.bias,
                                       self.down_proj.weight, self.down_proj.bias,
                                       a.table.id, a.flags, a.forward_fn)

    def extra_repr(self):
        return "fused: keeps x, act(gate(x)), up(x) and the InvAct bit"


def is_llama_mlp(m):
    """transformers' LlamaMLP shape (also Mistral's, Qwen2's, ...): gate_proj, up_proj and
    down_proj Linear layers and an act_fn, with forward down(act(gate(x)) * up(x))."""
    return (not isinstance(m, GatedMLP) and
            all(isinstance(getattr(m, n, None), torch.nn.Linear)
                for n in ("gate_proj", "up_proj", "down_proj")) and
            isinstance(getattr(m, "act_fn", None), torch.nn.Module))
