"""The owning table: the runtime's float struct (a table compiled into the runtime, or one
converted from a fitting-library table that this object then owns), its method and where it
came from.  Tables are immutable once made.  Each has a small integer id under which the
torch.library ops (actfit.ops) find it: the ops take that id, so a compiled graph carries a
number, and a module that later installs another table cannot change what an old graph's
backward reads.  A table pickles as its JSON text (fitted or loaded tables) or as the name of
the built-in it is, so modules that hold one deepcopy, pickle and torch.save."""

import ctypes
import json
import os
import threading

from . import ActfitError
from . import rt

_registry = []          # id -> Table (kept for the life of the process: an old graph may use it)
_registry_lock = threading.Lock()
_builtin_cache = {}     # (act, method, bits, weight) -> Table


def by_id(tid):
    return _registry[tid]


def _need_fit(what):
    if not rt.have_fitting():
        raise ActfitError(what, rt.Status.ENODEV, "needs the fitting library libactfit.so, which "
                          "was not found beside " + rt.rt_path + " (a runtime-only build has "
                          "none); fit the table on a machine with it (actfit fewbit/invact ... "
                          "-o t.json) and load that file, set ACTFIT_FIT_LIBRARY, or use a "
                          "built-in table")


def _need_tables(what):
    if not rt.have_tables():
        raise ActfitError(what, rt.Status.ENODEV, "needs libactfit_table.so (cJSON) or "
                          "libactfit.so, neither of which was found beside " + rt.rt_path +
                          "; build with libcjson-dev installed, or set ACTFIT_TABLE_LIBRARY")


class Table:
    """A table the runtime can use.  Make one with Table.builtin, Table.load, Table.from_json
    or Table.fit."""

    def __init__(self, method, struct, owner=None, source="", builtin_key=None):
        self.method, self.rt, self._owner, self.source = method, struct, owner, source
        self._builtin_key = builtin_key
        # the struct's address, for the ops; the struct lives as long as this object
        self.ptr = ctypes.cast(ctypes.pointer(self.rt), ctypes.c_void_p).value
        self.planes = (self.rt.bits if method == rt.METHOD_FEWBIT
                       else int(bool(self.rt.bit)))  # 32-bit words of state per 32 elements
        with _registry_lock:
            self.id = len(_registry)
            _registry.append(self)

    @property
    def is_fewbit(self):
        return self.method == rt.METHOD_FEWBIT

    @property
    def bits(self):
        return self.rt.bits if self.is_fewbit else 0

    @property
    def has_forward(self):
        """False for a table of an expression: the runtime has no f for it."""
        return self.rt.act >= 0

    def state_bytes(self, n, flags=0):
        """Bytes of state kept for n elements (besides y, for InvAct): the library's count."""
        if self.is_fewbit:
            return rt.fewbit_state_bytes(self.rt.bits, n)
        return rt.invact_state_bytes(self.ptr, flags, n)

    def state_planes(self, flags=0):
        """32-bit words per 32 elements: state_bytes(n) = 4 * planes * ceil(n / 32).  The fake
        kernels use it with symbolic n."""
        return self.state_bytes(32, flags) // 4

    # ---- serialisation -------------------------------------------------------------------
    def to_json(self):
        """The table's JSON text (fitted and loaded tables)."""
        if self._owner is None:
            raise ActfitError("table to_json", rt.Status.EINVAL, f"{self.source} is compiled "
                              "into the runtime and has no JSON table")
        out = ctypes.c_void_p()
        err = ctypes.create_string_buffer(rt.ERRLEN)
        rt.check(rt.table_to_json(self._owner, ctypes.byref(out), err, rt.ERRLEN),
                 "table to_json", err)
        try:
            return ctypes.string_at(out.value).decode()
        finally:
            rt.libc_free(out)

    @property
    def settings(self):
        """What the table was fitted for: act (a built-in name, or 'expr:FORMULA'), params
        (actfit's names; {} for a built-in table, which has the defaults), method, bits and,
        for FewBit, weight and norm."""
        if self._owner is None:
            act, method = self._builtin_key[:2]
            out = {"act": act, "params": {}, "method": method, "bits": self.bits}
            if self.is_fewbit:
                out.update(weight=self._builtin_key[3], norm="l2")
            return out
        d = json.loads(self.to_json())
        a = d["activation"]
        out = {"act": "expr:" + a["expr"] if "expr" in a else a["name"],
               "params": {k: float(v) for k, v in a.get("params", {}).items()},
               "method": d["method"], "bits": self.bits}
        if self.is_fewbit:
            out.update(weight=d["fit"]["weight"], norm=d["fit"]["norm"])
        return out

    def __reduce__(self):
        if self._builtin_key is not None:
            return (Table.builtin, self._builtin_key)
        return (_from_json_source, (self.to_json(), self.source))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self  # immutable

    def error(self, weight):
        """E of this FewBit table under weight (needs the fitting library)."""
        _need_fit("table error")
        if self._owner is None:
            raise ActfitError("table error", rt.Status.EINVAL, "built-in tables carry no fitted "
                              "table; use Table.fit")
        E = ctypes.c_double()
        err = ctypes.create_string_buffer(rt.ERRLEN)
        rt.check(rt.table_fewbit_error(self._owner, weight.encode(), ctypes.byref(E), err,
                                       rt.ERRLEN), "table error", err)
        return E.value

    def save(self, path):
        _need_tables("table save")
        if self._owner is None:
            raise ActfitError("table save", rt.Status.EINVAL, f"{self.source} is compiled into "
                              "the runtime and has no JSON table")
        err = ctypes.create_string_buffer(rt.ERRLEN)
        rt.check(rt.table_save(self._owner, os.fsencode(path), err, rt.ERRLEN), "table save", err)

    def __del__(self):  # never runs for registered tables; kept for tables that failed checks
        if getattr(self, "_owner", None) is not None and rt.have_tables():
            rt.table_free(self._owner)
            self._owner = None

    def __repr__(self):
        return f"<actfit table {self.source}>"

    # ---- constructors --------------------------------------------------------------------
    @staticmethod
    def _from_heap(ptr, source):
        method = rt.table_method(ptr)
        if method == rt.METHOD_FEWBIT:
            struct, conv, chk = rt.RtFewbit(), rt.table_to_rt_fewbit, rt.fewbit_check
        else:
            struct, conv, chk = rt.RtInvact(), rt.table_to_rt_invact, rt.invact_check
        st = conv(ptr, ctypes.byref(struct))
        if st == rt.Status.OK:
            st = chk(ctypes.byref(struct))
        if st != rt.Status.OK:
            rt.table_free(ptr)
            rt.check(st, f"table {source}")
        return Table(method, struct, ptr, source)

    @staticmethod
    def load(path):
        """A JSON table file (of a built-in activation or an expression)."""
        _need_tables(f"table {path}")
        return Table._parse(rt.table_load, os.fsencode(path), str(path))

    @staticmethod
    def from_json(text, source="JSON text"):
        """A table from its JSON text."""
        _need_tables(f"table {source}")
        return Table._parse(rt.table_from_json, text.encode(), source)

    @staticmethod
    def _parse(fn, arg, source):
        p = ctypes.c_void_p()
        rt.check(rt.table_alloc(ctypes.byref(p)), "table alloc")
        err = ctypes.create_string_buffer(rt.ERRLEN)
        st = fn(arg, p, err, rt.ERRLEN)
        if st != rt.Status.OK:
            rt.table_free(p)
            rt.check(st, f"table {source}", err)
        return Table._from_heap(p, source)

    @staticmethod
    def fit(spec, method, bits=3, weight="uniform"):
        """Fits on the fly: spec 'elu:alpha=0.5' or 'expr:FORMULA'."""
        _need_fit(f"fit {spec}")
        p = ctypes.c_void_p()
        err = ctypes.create_string_buffer(rt.ERRLEN)
        rt.check(rt.table_fit(spec.encode(), method.encode(), bits,
                              weight.encode() if weight else None, ctypes.byref(p), err,
                              rt.ERRLEN), f"fit {method} {spec}", err)
        return Table._from_heap(p, f"{method} {spec}")

    @staticmethod
    def builtin(act, method, bits=3, weight="uniform"):
        """A table compiled into the runtime (one object per table), or None."""
        key = (act, method, int(bits) if method == "fewbit" else 0,
               weight if method == "fewbit" else "")
        t = _builtin_cache.get(key)
        if t is not None:
            return t
        if method == "fewbit":
            p = rt.fewbit_builtin(act.encode(), int(bits), weight.encode())
            if not p:
                return None
            t = Table(rt.METHOD_FEWBIT, p.contents, source=f"built-in {act} {bits}-bit {weight}",
                      builtin_key=(act, method, bits, weight))
        else:
            p = rt.invact_builtin(act.encode())
            if not p:
                return None
            t = Table(rt.METHOD_INVACT, p.contents, source=f"built-in invact {act}",
                      builtin_key=(act, method))
        return _builtin_cache.setdefault(key, t)


def _from_json_source(text, source):
    return Table.from_json(text, source)
