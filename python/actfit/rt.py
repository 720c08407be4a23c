"""ctypes declarations of the C runtime (libactfit_rt) and of the parts of the fitting
library (libactfit) the modules use.  Every function is declared once here, with argtypes
and restype, and every status goes through check(), which raises ActfitError with the
library's message.  Nothing numerical happens in Python.

Finding the libraries: ACTFIT_LIBRARY (the path of libactfit_rt.so), else the library
installed beside the package (<libdir>/python/actfit -> <libdir>/libactfit_rt.so), else the
repository's build/.  libactfit (fitting: JSON tables, fits on the fly) is looked up in the
same directory, or at ACTFIT_FIT_LIBRARY; it is optional (a GPU machine with CUDA alone
builds only the runtime).
"""

import ctypes
import os

from . import ActfitError

# ---- the table structs of kernels/elem.h (sizes checked against the library) -----------
MAX_BITS, MAX_DEG, MAX_TPIECES, MAX_BINADES = 8, 16, 32, 48
FP32, FP16, BF16 = 0, 1, 2
BIT_IN_Y = 1
METHOD_FEWBIT, METHOD_INVACT = 1, 2
CUDA_DEFAULT_STREAM = (1 << 64) - 1  # ACTFIT_CUDA_DEFAULT_STREAM, (void *)-1
ERRLEN = 512


class RtFewbit(ctypes.Structure):
    _fields_ = [("act", ctypes.c_int), ("params", ctypes.c_float * 4), ("bits", ctypes.c_int),
                ("parity_even", ctypes.c_int),
                ("borders", ctypes.c_float * ((1 << MAX_BITS) - 1)),
                ("levels", ctypes.c_float * (1 << MAX_BITS))]


class RtPiece(ctypes.Structure):
    _fields_ = [("lo", ctypes.c_float), ("hi", ctypes.c_float), ("c", ctypes.c_float),
                ("s", ctypes.c_float), ("deg", ctypes.c_int),
                ("coef", ctypes.c_float * (MAX_DEG + 1))]


class RtBranch(ctypes.Structure):
    _fields_ = [("var", ctypes.c_int), ("np", ctypes.c_int), ("p", RtPiece * MAX_TPIECES),
                ("asym_lo", ctypes.c_float), ("asym_hi", ctypes.c_float), ("nb", ctypes.c_int),
                ("binade_top", ctypes.c_int), ("asym_zero", ctypes.c_float),
                ("b", RtPiece * MAX_BINADES)]


class RtInvact(ctypes.Structure):
    _fields_ = [("act", ctypes.c_int), ("params", ctypes.c_float * 4), ("exact", ctypes.c_int),
                ("bit", ctypes.c_int), ("T", ctypes.c_float), ("ymin_hi", ctypes.c_float),
                ("ymin_lo", ctypes.c_float), ("nbranch", ctypes.c_int),
                ("br", RtBranch * 2)]


_here = os.path.dirname(os.path.abspath(__file__))


def _candidates(env, name):
    if os.environ.get(env):
        return [os.environ[env]]
    return [os.path.join(_here, name),                       # copied into the package
            os.path.join(_here, "..", "..", name),            # installed: <libdir>/python/actfit
            os.path.join(_here, "..", "..", "build", name)]   # the repository's build/


def _open(env, name):
    tried = _candidates(env, name)
    for path in tried:
        if os.path.exists(path):
            try:
                return ctypes.CDLL(os.path.abspath(path)), os.path.abspath(path)
            except OSError as e:
                raise ImportError(f"actfit: cannot load {path}: {e}") from None
    raise ImportError(f"actfit: {name} not found (looked at {', '.join(tried)}); build the "
                      f"project (tools/bootstrap.sh) or set {env} to its path")


def _decl(lib, name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_rt, rt_path = _open("ACTFIT_LIBRARY", "libactfit_rt.so")
_P, _I, _Z, _S = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t, ctypes.c_char_p

strerror = _decl(_rt, "actfit_strerror", _S, _I)
version = _decl(_rt, "actfit_version", _S)
fewbit_state_bytes = _decl(_rt, "actfit_fewbit_state_bytes", _Z, _I, _Z)
invact_state_bytes = _decl(_rt, "actfit_invact_state_bytes", _Z, _P, _I, _Z)
fewbit_check = _decl(_rt, "actfit_rt_fewbit_check", _I, _P)
invact_check = _decl(_rt, "actfit_rt_invact_check", _I, _P)
fewbit_forward = _decl(_rt, "actfit_fewbit_forward", _I, _P, _I, _P, _P, _P, _Z, _P)
fewbit_encode = _decl(_rt, "actfit_fewbit_encode", _I, _P, _I, _P, _P, _Z, _P)
fewbit_backward = _decl(_rt, "actfit_fewbit_backward", _I, _P, _I, _P, _P, _P, _Z, _P)
invact_forward = _decl(_rt, "actfit_invact_forward", _I, _P, _I, _I, _P, _P, _P, _Z, _P)
invact_encode = _decl(_rt, "actfit_invact_encode", _I, _P, _I, _I, _P, _P, _P, _Z, _P)
invact_backward = _decl(_rt, "actfit_invact_backward", _I, _P, _I, _I, _P, _P, _P, _P, _Z, _P)
fewbit_builtin = _decl(_rt, "actfit_rt_fewbit_builtin", ctypes.POINTER(RtFewbit), _S, _I, _S)
invact_builtin = _decl(_rt, "actfit_rt_invact_builtin", ctypes.POINTER(RtInvact), _S)
have_cuda = _decl(_rt, "actfit_rt_have_cuda", _I)
rt_fewbit_sizeof = _decl(_rt, "actfit_rt_fewbit_sizeof", _Z)
rt_invact_sizeof = _decl(_rt, "actfit_rt_invact_sizeof", _Z)
pack = _decl(_rt, "actfit_rt_pack", None, _P, _I, _Z, _P)
unpack = _decl(_rt, "actfit_rt_unpack", None, _P, _I, _Z, _P)

if rt_fewbit_sizeof() != ctypes.sizeof(RtFewbit) or rt_invact_sizeof() != ctypes.sizeof(RtInvact):
    raise ImportError(f"actfit: {rt_path} does not match this package (table struct sizes "
                      f"{rt_fewbit_sizeof()}/{rt_invact_sizeof()}, expected "
                      f"{ctypes.sizeof(RtFewbit)}/{ctypes.sizeof(RtInvact)})")


def check(status, what, detail=None):
    """Raises ActfitError for a non-zero status, with the detail message if one was filled."""
    if status != 0:
        msg = detail.value.decode(errors="replace") if detail is not None and detail.value else ""
        raise ActfitError(what, status, msg or strerror(status).decode())


# ---- the fitting library (optional) ---------------------------------------------------
def _open_fit():
    path = os.environ.get("ACTFIT_FIT_LIBRARY") or os.path.join(os.path.dirname(rt_path),
                                                                "libactfit.so")
    if not os.path.exists(path):
        return None, None
    try:
        return ctypes.CDLL(os.path.abspath(path)), os.path.abspath(path)
    except OSError as e:
        raise ImportError(f"actfit: cannot load {path}: {e}") from None


_fit, fit_path = _open_fit()
if _fit is not None:
    table_alloc = _decl(_fit, "actfit_table_alloc", _I, ctypes.POINTER(_P))
    table_free = _decl(_fit, "actfit_table_free", None, _P)
    table_method = _decl(_fit, "actfit_table_method", _I, _P)
    table_load = _decl(_fit, "actfit_table_load", _I, _S, _P, _P, _Z)
    table_fit = _decl(_fit, "actfit_table_fit", _I, _S, _S, _I, _S, ctypes.POINTER(_P), _P, _Z)
    table_fewbit_error = _decl(_fit, "actfit_table_fewbit_error", _I, _P, _S,
                               ctypes.POINTER(ctypes.c_double), _P, _Z)
    table_save = _decl(_fit, "actfit_table_save", _I, _P, _S, _P, _Z)
    table_to_rt_fewbit = _decl(_fit, "actfit_table_to_rt_fewbit", _I, _P, _P)
    table_to_rt_invact = _decl(_fit, "actfit_table_to_rt_invact", _I, _P, _P)


def have_fitting():
    return _fit is not None


def _need_fit(what):
    if _fit is None:
        raise ActfitError(what, 12, "needs the fitting library libactfit.so, which was not found "
                          "beside " + rt_path + " (a runtime-only build has none); fit the table "
                          "on a machine with it (actfit fewbit/invact ... -o t.json) and set "
                          "ACTFIT_FIT_LIBRARY, or use a built-in table")


class Table:
    """A table the runtime can use: the float struct (built-in, or converted from a fitting
    library table, which this object then owns) and its method."""

    def __init__(self, method, rt, owner=None, source=""):
        self.method, self.rt, self._owner, self.source = method, rt, owner, source

    @property
    def ptr(self):
        return ctypes.cast(ctypes.pointer(self.rt), _P)

    @property
    def bits(self):
        return self.rt.bits if self.method == METHOD_FEWBIT else 0

    @property
    def has_forward(self):
        return self.rt.act >= 0

    def state_bytes(self, n, flags=0):
        if self.method == METHOD_FEWBIT:
            return fewbit_state_bytes(self.rt.bits, n)
        return invact_state_bytes(self.ptr, flags, n)

    def error(self, weight):
        """E of this FewBit table under weight (needs the fitting library)."""
        _need_fit("table error")
        if self._owner is None:
            raise ActfitError("table error", 1, "built-in tables carry no fitted table; use "
                              "Table.fit")
        E = ctypes.c_double()
        err = ctypes.create_string_buffer(ERRLEN)
        check(table_fewbit_error(self._owner, weight.encode(), ctypes.byref(E), err, ERRLEN),
              "table error", err)
        return E.value

    def save(self, path):
        _need_fit("table save")
        err = ctypes.create_string_buffer(ERRLEN)
        check(table_save(self._owner, os.fsencode(path), err, ERRLEN), "table save", err)

    def __del__(self):
        if getattr(self, "_owner", None) is not None and _fit is not None:
            table_free(self._owner)
            self._owner = None

    @staticmethod
    def _from_heap(ptr, source):
        method = table_method(ptr)
        if method == METHOD_FEWBIT:
            rt, conv = RtFewbit(), table_to_rt_fewbit
        else:
            rt, conv = RtInvact(), table_to_rt_invact
        t = Table(method, rt, ptr, source)  # owns ptr from here on
        check(conv(ptr, ctypes.byref(rt)), f"table {source}")
        check((fewbit_check if method == METHOD_FEWBIT else invact_check)(t.ptr),
              f"table {source}")
        return t

    @staticmethod
    def load(path):
        """A JSON table (any: built-in activation or expression)."""
        _need_fit(f"table {path}")
        p = _P()
        check(table_alloc(ctypes.byref(p)), "table alloc")
        err = ctypes.create_string_buffer(ERRLEN)
        st = table_load(os.fsencode(path), p, err, ERRLEN)
        if st != 0:
            table_free(p)
            check(st, f"table {path}", err)
        return Table._from_heap(p, str(path))

    @staticmethod
    def fit(spec, method, bits=3, weight="uniform"):
        """Fits on the fly: spec 'elu:alpha=0.5' or 'expr:FORMULA'."""
        _need_fit(f"fit {spec}")
        p = _P()
        err = ctypes.create_string_buffer(ERRLEN)
        check(table_fit(spec.encode(), method.encode(), bits, weight.encode() if weight else None,
                        ctypes.byref(p), err, ERRLEN), f"fit {method} {spec}", err)
        return Table._from_heap(p, f"{method} {spec}")

    @staticmethod
    def builtin(act, method, bits=3, weight="uniform"):
        """A table compiled into the runtime, or None."""
        if method == "fewbit":
            p = fewbit_builtin(act.encode(), bits, weight.encode())
            return Table(METHOD_FEWBIT, p.contents, source=f"built-in {act} {bits}-bit {weight}") if p else None
        p = invact_builtin(act.encode())
        return Table(METHOD_INVACT, p.contents, source=f"built-in invact {act}") if p else None
