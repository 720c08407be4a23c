"""ctypes declarations of the C runtime (libactfit_rt) and of the parts of the table and fitting
libraries (libactfit_table, libactfit) the package uses: each function once, under its C prototype, with argtypes and
restype.  Statuses go through check(), which raises ActfitError with the library's message.
Nothing numerical happens in Python; the owning Table lives in actfit.table.

Finding the libraries: ACTFIT_LIBRARY (the path of libactfit_rt.so), else the library inside
the package (pip install .), else the one installed beside it by cmake --install
(<libdir>/python/actfit -> <libdir>/libactfit_rt.so), else the repository's build/.
JSON tables need libactfit (the fitter: tables and fits on the fly) or, without GSL and
libmatheval, libactfit_table (tables only, cJSON), looked up in that order in the same
directory, or at ACTFIT_FIT_LIBRARY / ACTFIT_TABLE_LIBRARY.  Both are optional: the tables
compiled into the runtime need neither.
"""

import ctypes
import enum
import os
import stat

from . import ActfitError

# ---- the table structs of kernels/elem.h (sizes checked against the library) -----------
MAX_BITS, MAX_DEG, MAX_TPIECES, MAX_BINADES = 8, 16, 32, 48
FP32, FP16, BF16 = 0, 1, 2          # actfit_dtype
BIT_IN_Y = 1                        # ACTFIT_BIT_IN_Y
METHOD_FEWBIT, METHOD_INVACT = 1, 2  # actfit_method
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
    return [os.path.join(_here, name),                       # inside the package (pip install .)
            os.path.join(_here, "..", "..", name),            # installed: <libdir>/python/actfit
            os.path.join(_here, "..", "..", "build", name)]   # the repository's build/


def _load(path):
    """dlopen of a regular file; anything else (a FIFO would block, a directory fails late) is
    refused with its path, as is a file that is not a library or lacks the runtime's API."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise ImportError(f"actfit: cannot load {path}: {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ImportError(f"actfit: cannot load {path}: not a regular file")
    try:
        return ctypes.CDLL(os.path.abspath(path))
    except OSError as e:
        raise ImportError(f"actfit: cannot load {path}: {e}") from None


def _open(env, name):
    tried = _candidates(env, name)
    for path in tried:
        if os.path.lexists(path):
            return _load(path), os.path.abspath(path)
    raise ImportError(f"actfit: {name} not found (looked at {', '.join(tried)}); build the "
                      f"project (tools/bootstrap.sh), pip install it, or set {env} to its path")


def _decl(lib, path, name, restype, *argtypes):
    try:
        f = getattr(lib, name)
    except AttributeError:
        raise ImportError(f"actfit: {path} is not an actfit library (it has no {name})") from None
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_rt, rt_path = _open("ACTFIT_LIBRARY", "libactfit_rt.so")
_P, _I, _Z, _S = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t, ctypes.c_char_p
_PP = ctypes.POINTER(_P)

# const char *actfit_strerror(int status);
strerror = _decl(_rt, rt_path, "actfit_strerror", _S, _I)
# const char *actfit_status_name(int status);
status_name = _decl(_rt, rt_path, "actfit_status_name", _S, _I)
# size_t actfit_fewbit_state_bytes(int bits, size_t n);
fewbit_state_bytes = _decl(_rt, rt_path, "actfit_fewbit_state_bytes", _Z, _I, _Z)
# size_t actfit_invact_state_bytes(const actfit_rt_invact *t, int flags, size_t n);
invact_state_bytes = _decl(_rt, rt_path, "actfit_invact_state_bytes", _Z, _P, _I, _Z)
# actfit_status actfit_rt_fewbit_check(const actfit_rt_fewbit *t);
fewbit_check = _decl(_rt, rt_path, "actfit_rt_fewbit_check", _I, _P)
# actfit_status actfit_rt_invact_check(const actfit_rt_invact *t);
invact_check = _decl(_rt, rt_path, "actfit_rt_invact_check", _I, _P)
# actfit_status actfit_fewbit_forward(const actfit_rt_fewbit *t, actfit_dtype dt,
#     const void *x, void *y, uint32_t *state, size_t n, void *stream);
fewbit_forward = _decl(_rt, rt_path, "actfit_fewbit_forward", _I, _P, _I, _P, _P, _P, _Z, _P)
# actfit_status actfit_fewbit_encode(const actfit_rt_fewbit *t, actfit_dtype dt,
#     const void *x, uint32_t *state, size_t n, void *stream);
fewbit_encode = _decl(_rt, rt_path, "actfit_fewbit_encode", _I, _P, _I, _P, _P, _Z, _P)
# actfit_status actfit_fewbit_backward(const actfit_rt_fewbit *t, actfit_dtype dt,
#     const uint32_t *state, const void *grad_out, void *grad_in, size_t n, void *stream);
fewbit_backward = _decl(_rt, rt_path, "actfit_fewbit_backward", _I, _P, _I, _P, _P, _P, _Z, _P)
# actfit_status actfit_invact_forward(const actfit_rt_invact *t, actfit_dtype dt, int flags,
#     const void *x, void *y, uint32_t *state, size_t n, void *stream);
invact_forward = _decl(_rt, rt_path, "actfit_invact_forward", _I, _P, _I, _I, _P, _P, _P, _Z,
                       _P)
# actfit_status actfit_invact_encode(const actfit_rt_invact *t, actfit_dtype dt, int flags,
#     const void *x, void *y, uint32_t *state, size_t n, void *stream);
invact_encode = _decl(_rt, rt_path, "actfit_invact_encode", _I, _P, _I, _I, _P, _P, _P, _Z, _P)
# actfit_status actfit_invact_backward(const actfit_rt_invact *t, actfit_dtype dt, int flags,
#     const void *y, const uint32_t *state, const void *grad_out, void *grad_in, size_t n,
#     void *stream);
invact_backward = _decl(_rt, rt_path, "actfit_invact_backward", _I, _P, _I, _I, _P, _P, _P, _P,
                        _Z, _P)
# const actfit_rt_fewbit *actfit_rt_fewbit_builtin(const char *act, int bits, const char *weight);
fewbit_builtin = _decl(_rt, rt_path, "actfit_rt_fewbit_builtin", ctypes.POINTER(RtFewbit), _S,
                       _I, _S)
# const actfit_rt_invact *actfit_rt_invact_builtin(const char *act);
invact_builtin = _decl(_rt, rt_path, "actfit_rt_invact_builtin", ctypes.POINTER(RtInvact), _S)
# const char *actfit_rt_act_name(int id);
act_name = _decl(_rt, rt_path, "actfit_rt_act_name", _S, _I)
# int actfit_rt_have_cuda(void);
have_cuda = _decl(_rt, rt_path, "actfit_rt_have_cuda", _I)
# size_t actfit_rt_fewbit_sizeof(void);
rt_fewbit_sizeof = _decl(_rt, rt_path, "actfit_rt_fewbit_sizeof", _Z)
# size_t actfit_rt_invact_sizeof(void);
rt_invact_sizeof = _decl(_rt, rt_path, "actfit_rt_invact_sizeof", _Z)

if rt_fewbit_sizeof() != ctypes.sizeof(RtFewbit) or rt_invact_sizeof() != ctypes.sizeof(RtInvact):
    raise ImportError(f"actfit: {rt_path} does not match this package (table struct sizes "
                      f"{rt_fewbit_sizeof()}/{rt_invact_sizeof()}, expected "
                      f"{ctypes.sizeof(RtFewbit)}/{ctypes.sizeof(RtInvact)})")

# the status codes by name, from the library's own map (actfit_status_name)
Status = enum.IntEnum("Status", {status_name(i).decode()[len("ACTFIT_"):]: i
                                 for i in range(64)
                                 if status_name(i).decode() != "ACTFIT_UNKNOWN"})


# void actfit_cpu_set_parallel(actfit_parallel_fn fn);
cpu_set_parallel = _decl(_rt, rt_path, "actfit_cpu_set_parallel", None, _P)
# void actfit_cpu_set_nontemporal(size_t min_bytes);  0: the cache's size, 2**64 - 1: never
cpu_set_nontemporal = _decl(_rt, rt_path, "actfit_cpu_set_nontemporal", None, ctypes.c_size_t)

_team_lib = None  # the OpenMP runtime whose team the CPU passes borrow (kept loaded)
_OPENMP = ("libgomp", "libiomp5", "libomp")


def use_openmp_team():
    """Run the CPU passes on the thread team of the OpenMP runtime already loaded in this
    process (PyTorch's libgomp), through its GOMP_parallel (actfit_cpu_set_parallel): the
    passes then share torch's threads and thread count instead of starting their own, which
    would compete for the cores with torch's threads while those spin after each op.  Returns
    the runtime's path, or None where none is loaded or ACTFIT_THREADS=own asks for the
    library's own threads (and restores them)."""
    global _team_lib
    if os.environ.get("ACTFIT_THREADS", "").strip().lower() == "own":
        cpu_set_parallel(None)
        _team_lib = None
        return None
    try:
        with open("/proc/self/maps") as f:  # address, perms, offset, dev, inode, path
            loaded = {fields[5].strip() for fields in (line.split(None, 5) for line in f)
                      if len(fields) == 6}
    except OSError:  # not Linux: the library's own threads
        return None
    found = sorted((p for p in loaded if os.path.basename(p).startswith(_OPENMP) and ".so" in p),
                   key=lambda p: ("torch" not in p, p))  # torch's own copy first
    for path in found:
        try:
            lib = ctypes.CDLL(path, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
            fn = lib.GOMP_parallel
        except (OSError, AttributeError):
            continue
        cpu_set_parallel(ctypes.cast(fn, _P))
        _team_lib = lib
        return path
    return None


def act_names():
    """The built-in activations' names, in the runtime's id order (include/actfit/act_list.h)."""
    out, i = [], 0
    while (name := act_name(i)) is not None:
        out.append(name.decode())
        i += 1
    return out


def check(status, what, detail=None):
    """Raises ActfitError for a non-zero status, with the detail message if one was filled."""
    if status != Status.OK:
        msg = detail.value.decode(errors="replace") if detail is not None and detail.value else ""
        code = Status(status) if status in Status._value2member_map_ else status
        raise ActfitError(what, code, msg or strerror(status).decode())


# ---- the table library (optional): libactfit (the fitter; a superset) or libactfit_table
# (load, check, save and convert JSON tables with cJSON alone: a runtime-only build's)
def _open_tables():
    for env, fits in (("ACTFIT_FIT_LIBRARY", True), ("ACTFIT_TABLE_LIBRARY", False)):
        if os.environ.get(env):
            path = os.environ[env]
            lib = _load(path)
            return lib, os.path.abspath(path), hasattr(lib, "actfit_table_fit")
    for name in ("libactfit.so", "libactfit_table.so"):
        path = os.path.join(os.path.dirname(rt_path), name)
        if os.path.exists(path):
            return _load(path), os.path.abspath(path), name == "libactfit.so"
    return None, None, False


_tab, tab_path, _fits = _open_tables()
if _tab is not None:
    # actfit_status actfit_table_alloc(actfit_table **out);
    table_alloc = _decl(_tab, tab_path, "actfit_table_alloc", _I, _PP)
    # void actfit_table_free(actfit_table *t);
    table_free = _decl(_tab, tab_path, "actfit_table_free", None, _P)
    # int actfit_table_method(const actfit_table *t);
    table_method = _decl(_tab, tab_path, "actfit_table_method", _I, _P)
    # actfit_status actfit_table_load(const char *path, actfit_table *t, char *err, size_t errlen);
    table_load = _decl(_tab, tab_path, "actfit_table_load", _I, _S, _P, _P, _Z)
    # actfit_status actfit_table_from_json(const char *text, actfit_table *t, char *err,
    #     size_t errlen);
    table_from_json = _decl(_tab, tab_path, "actfit_table_from_json", _I, _S, _P, _P, _Z)
    # actfit_status actfit_table_to_json(const actfit_table *t, char **out, char *err,
    #     size_t errlen);
    table_to_json = _decl(_tab, tab_path, "actfit_table_to_json", _I, _P,
                          ctypes.POINTER(ctypes.c_void_p), _P, _Z)
    # actfit_status actfit_table_save(const actfit_table *t, const char *path, char *err,
    #     size_t errlen);
    table_save = _decl(_tab, tab_path, "actfit_table_save", _I, _P, _S, _P, _Z)
    # actfit_status actfit_table_to_rt_fewbit(const actfit_table *t, actfit_rt_fewbit *out);
    table_to_rt_fewbit = _decl(_tab, tab_path, "actfit_table_to_rt_fewbit", _I, _P, _P)
    # actfit_status actfit_table_to_rt_invact(const actfit_table *t, actfit_rt_invact *out);
    table_to_rt_invact = _decl(_tab, tab_path, "actfit_table_to_rt_invact", _I, _P, _P)
if _fits:
    # actfit_status actfit_table_fit(const char *spec, const char *method, int bits,
    #     const char *weight, actfit_table **out, char *err, size_t errlen);
    table_fit = _decl(_tab, tab_path, "actfit_table_fit", _I, _S, _S, _I, _S, _PP, _P, _Z)
    # actfit_status actfit_table_fewbit_error(const actfit_table *t, const char *weight,
    #     double *E, char *err, size_t errlen);
    table_fewbit_error = _decl(_tab, tab_path, "actfit_table_fewbit_error", _I, _P, _S,
                               ctypes.POINTER(ctypes.c_double), _P, _Z)

# void free(void *); for the JSON text actfit_table_to_json returns
libc_free = ctypes.CDLL(None).free
libc_free.argtypes, libc_free.restype = [_P], None


def have_fitting():
    """Whether fits on the fly work (libactfit)."""
    return _fits


def have_tables():
    """Whether JSON tables load and save (libactfit or libactfit_table)."""
    return _tab is not None
