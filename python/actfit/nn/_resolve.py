"""Finding the table for an activation and method: a table compiled into the runtime when
there is one, else a fit by the fitting library, made once per process (and, for expressions,
kept on disk under $XDG_CACHE_HOME/actfit, since an InvAct fit of one takes seconds)."""

import hashlib
import math
import os
import threading

import actfit
from .. import ActfitError
from ..table import Table

BUILTIN_WEIGHTS = ("uniform", "gauss:0,1")
_fitted = {}
_lock = threading.Lock()


def check_options(method, bits, weight, bit_in_y, what="actfit"):
    """The arguments every constructor and replace take; ValueError names the bad one."""
    if method not in ("invact", "fewbit"):
        raise ValueError(f"{what}: method must be 'invact' or 'fewbit', got {method!r}")
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 8:
        raise ValueError(f"{what}: bits must be an integer 1..8, got {bits!r}")
    if not isinstance(weight, str) or not weight:
        raise ValueError(f"{what}: weight must be a string ('uniform', 'gauss:MU,SIGMA', "
                         f"'hist:FILE'), got {weight!r}")
    if bit_in_y and method == "fewbit":
        raise ValueError(f"{what}: bit_in_y applies to method='invact', not 'fewbit'")


def spec(act, params):
    if not params:
        return act
    return act + ":" + ",".join(f"{k}={float(v)!r}" for k, v in params.items())


def _cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "actfit")


def fitted(sp, method, bits, weight):
    """Table.fit(sp, ...) once per process; expression fits are also cached on disk."""
    key = (sp, method, bits if method == "fewbit" else 0, weight if method == "fewbit" else "")
    with _lock:
        t = _fitted.get(key)
        if t is not None:
            return t
        path = None
        if sp.startswith("expr:") and not weight.startswith("hist:"):
            h = hashlib.sha256(repr((actfit.__version__,) + key).encode()).hexdigest()[:20]
            path = os.path.join(_cache_dir(), f"{method}-{h}.json")
            if os.path.isfile(path):
                try:
                    t = Table.load(path)
                except ActfitError:
                    t = None  # a damaged cache file: fit again and replace it
        if t is None:
            t = Table.fit(sp, method, bits, weight)
            if path is not None:
                try:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    t.save(path)
                except (OSError, ActfitError):
                    pass  # a cache that cannot be written only costs the next fit
        _fitted[key] = t
        return t


def table_for(act, method, bits, weight, params, defaults):
    """The table of activation `act` (an actfit name) with params (actfit's names)."""
    default_params = all(float(v) == float(defaults.get(k, math.nan)) for k, v in params.items())
    if default_params and not act.startswith("expr:") and (
            method == "invact" or weight in BUILTIN_WEIGHTS):
        t = Table.builtin(act, method, bits, weight)
        if t is not None:
            return t
    return fitted(act if act.startswith("expr:") else spec(act, params), method, bits, weight)
