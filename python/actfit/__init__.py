"""actfit: activations that keep a few bits (FewBit) or y and one bit (InvAct) for the
backward pass instead of x.

    import actfit.nn
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), actfit.nn.GELU(), torch.nn.Linear(256, 64))

`actfit.rt` is the ctypes layer over the C runtime (libactfit_rt) and, where it is
installed, the fitting library (libactfit); `actfit.table` the owning Table; `actfit.ops`
the torch.library ops; `actfit.nn` the torch.nn modules and `actfit.nn.functional`.
"""

__version__ = "0.1.0"
__all__ = ["rt", "nn", "ops", "table", "ActfitError"]


class ActfitError(RuntimeError):
    """A status the C library returned, with its message (actfit_strerror or the detail)."""

    def __init__(self, what, status, message):
        super().__init__(f"actfit: {what}: {message}")
        self.status = status
