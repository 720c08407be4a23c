/* Tables: the contract between the fitter, the generator and the runtime.  One JSON
 * document per table (format "actfit-table", version 1), doubles written with %.17g so they
 * read back bit-exactly; the loader validates every field and names the first bad one. */
#ifndef ACTFIT_TABLE_H
#define ACTFIT_TABLE_H

#include <stddef.h>
#include "actfit/act.h"
#include "actfit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ACTFIT_TABLE_FORMAT "actfit-table"
#define ACTFIT_TABLE_VERSION 1
#define ACTFIT_TABLE_MAX_BITS 8

typedef enum actfit_method {
  ACTFIT_METHOD_FEWBIT = 1,
  ACTFIT_METHOD_INVACT = 2
} actfit_method;

#define ACTFIT_INVACT_MAX_DEG 16
#define ACTFIT_INVACT_MAX_PIECES 32
#define ACTFIT_INVACT_MAX_BINADES 48

/* A polynomial piece: p(u) with u = (v - c) s, c = (lo + hi)/2, s = 2/(hi - lo); coef[0] is
 * the highest degree (Horner order, as the kernels evaluate it). */
typedef struct actfit_invact_piece {
  double lo, hi;
  int deg;
  double coef[ACTFIT_INVACT_MAX_DEG + 1];
} actfit_invact_piece;

typedef enum actfit_invact_var {
  ACTFIT_INVACT_VAR_T = 0,             /* t = sqrt(y - y_min) */
  ACTFIT_INVACT_VAR_Y = 1              /* y itself */
} actfit_invact_var;

/* One monotone branch of f, g(y) = f'(f^-1(y)) on it.  Pieces in the branch variable cover
 * [p[0].lo, p[np-1].hi]; asym_lo / asym_hi apply outside.  With nb > 0, y < 0 and
 * |y| < 2^binade_top use binade pieces instead (v = |y|, b[i] on
 * [2^(binade_top-1-i), 2^(binade_top-i))), and asym_zero below the last binade and for
 * y >= 0. */
typedef struct actfit_invact_branch {
  int side;                            /* -1 left (x < T), +1 right, 0 the only branch */
  actfit_invact_var var;
  int np;
  actfit_invact_piece p[ACTFIT_INVACT_MAX_PIECES];
  double asym_lo, asym_hi;
  int nb, binade_top;
  double asym_zero;
  actfit_invact_piece b[ACTFIT_INVACT_MAX_BINADES];
} actfit_invact_branch;

/* Errors of g_fit(round(y)) against exact f'(x), per storage dtype (fp32, fp16, bf16), with
 * the floor: the exact g applied to the same rounded y. */
typedef struct actfit_invact_err {
  double max, rms, floor_max, floor_rms;
} actfit_invact_err;

enum { ACTFIT_DT_FP32, ACTFIT_DT_FP16, ACTFIT_DT_BF16, ACTFIT_DT_COUNT };

typedef struct actfit_table {
  int version;
  actfit_method method;
  /* activation: a built-in with parameters, or a user expression */
  char act_name[64];                   /* "" when expr is set */
  char *expr;                          /* owned; NULL for built-ins */
  int nparams;
  char param_names[ACTFIT_ACT_MAX_PARAMS][32];
  double params[ACTFIT_ACT_MAX_PARAMS];
  /* fit settings */
  char norm[8];                        /* "l2" | "linf" */
  char weight[256];                    /* "uniform", "gauss:MU,SIGMA", "hist:FILE" */
  double domain[2];
  int grid;                            /* DP cells */
  /* FewBit */
  int bits;
  int parity_even;                     /* codes from |x|; borders are then all > 0 */
  double *borders;                     /* owned; 2^bits - 1 ascending interior borders */
  double *levels;                      /* owned; 2^bits levels */
  /* measured errors (NaN when not measured) */
  double E;                            /* objective after refinement (l2: integral, linf: max) */
  double E_dp;                         /* objective of the grid DP solution */
  double max_abs;                      /* max |f' - q| on the domain */
  double kkt;                          /* stationarity residual of the refined solution */
  char measured[256];                  /* how the errors were measured */
  /* wall-clock seconds of DP and refinement; < 0 means "not recorded" (reproducible files) */
  double time_dp, time_refine;
  /* InvAct */
  int exact;                           /* ACTFIT_EXACT_* of kernels/elem.h, 0: fitted */
  int bit;                             /* a branch bit s = (x < T) is stored */
  double T, y_min;
  double target;
  int nbranch;                         /* 0 (exact), 1 or 2 (left, right) */
  actfit_invact_branch *br;            /* owned, nbranch entries */
  int ops_fma, ops_sqrt, ops_div, ops_log, ops_cmp; /* per element, worst path */
  double err_exact_y;                  /* max |g_fit(y) - f'(x)| for y = f(x) in double */
  int have_dtype_err;
  actfit_invact_err dt[ACTFIT_DT_COUNT][2]; /* [dtype][0: separate bit, 1: bit in y] */
} actfit_table;

/* Zeroes *t and sets NaN errors and unrecorded times. */
ACTFIT_API void actfit_table_init(actfit_table *t);
/* Frees what t owns; t stays usable after actfit_table_init. */
ACTFIT_API void actfit_table_destroy(actfit_table *t);
/* Allocates borders/levels for 2^bits levels (previous ones are freed). */
ACTFIT_API actfit_status actfit_table_set_bits(actfit_table *t, int bits);
/* Records the activation (name, parameters or expression). */
ACTFIT_API actfit_status actfit_table_set_act(actfit_table *t, const actfit_act *act);
/* Builds the activation a table names. */
ACTFIT_API actfit_status actfit_table_act(const actfit_table *t, actfit_act **out, char *err,
                                          size_t errlen);

/* Serialise: *out is a malloc'ed NUL-terminated JSON text the caller frees. */
ACTFIT_API actfit_status actfit_table_to_json(const actfit_table *t, char **out, char *err,
                                              size_t errlen);
/* Parse and validate; on failure t is left destroyed and err names the field. */
ACTFIT_API actfit_status actfit_table_from_json(const char *text, actfit_table *t, char *err,
                                                size_t errlen);
/* File forms.  Saving writes a temporary file beside path and renames it, so a failure
 * never leaves a half-written table. */
ACTFIT_API actfit_status actfit_table_load(const char *path, actfit_table *t, char *err,
                                           size_t errlen);
ACTFIT_API actfit_status actfit_table_save(const actfit_table *t, const char *path, char *err,
                                           size_t errlen);

/* code(x): number of borders <= x (|x| for even parity).  nb = 2^bits - 1. */
ACTFIT_API int actfit_table_code(const actfit_table *t, double x);

/* Tables -> the runtime's float structs (kernels/elem.h).  FewBit borders round up to
 * float so that float codes equal the double table's.  An expression's table gets act = -1:
 * the runtime's forward refuses it, and its encoders (state from x and a given y) and
 * backward passes take it. */
struct actfit_rt_fewbit;
struct actfit_rt_invact;
ACTFIT_API actfit_status actfit_table_to_rt_fewbit(const actfit_table *t,
                                                   struct actfit_rt_fewbit *rt);
ACTFIT_API actfit_status actfit_table_to_rt_invact(const actfit_table *t,
                                                   struct actfit_rt_invact *rt);

/* ---- heap tables and one-call fits, for bindings (src/fit/table_fit.c) ---------------- */
/* A table on the heap, initialised; free with actfit_table_free (NULL is a no-op). */
ACTFIT_API actfit_status actfit_table_alloc(actfit_table **out);
ACTFIT_API void actfit_table_free(actfit_table *t);
/* ACTFIT_METHOD_FEWBIT or ACTFIT_METHOD_INVACT (0 for NULL). */
ACTFIT_API int actfit_table_method(const actfit_table *t);
/* Fits a new heap table, as `actfit fewbit SPEC --bits B --weight W` or `actfit invact SPEC`
 * would with their defaults (InvAct without the per-dtype analysis).  spec: a built-in with
 * parameters ("elu:alpha=0.5") or "expr:FORMULA"; method "fewbit" or "invact"; weight NULL
 * means "uniform".  On failure *out is NULL and err names the problem. */
ACTFIT_API actfit_status actfit_table_fit(const char *spec, const char *method, int bits,
                                          const char *weight, actfit_table **out, char *err,
                                          size_t errlen);
/* E of a FewBit table under another weight (NULL: its own) on that weight's default domain,
 * by actfit_fewbit_eval's adaptive quadrature. */
ACTFIT_API actfit_status actfit_table_fewbit_error(const actfit_table *t, const char *weight,
                                                   double *E, char *err, size_t errlen);

/* Name of an InvAct exact form ("sigmoid", ...); "" for 0. */
ACTFIT_API const char *actfit_table_exact_name(int exact);

/* Writes a buffer to path.  "-" is standard output.  A regular file (or a new path) is
 * replaced atomically through a temporary file beside it and keeps its mode; a symlink is
 * followed to its target; a device, FIFO or socket is written directly, never replaced. */
ACTFIT_API actfit_status actfit_write_file(const char *path, const void *data, size_t len,
                                           char *err, size_t errlen);
/* Whether actfit_write_file(path) can succeed (directory exists and is writable, path is
 * not a directory), so that a long fit can refuse an output path before it starts. */
ACTFIT_API actfit_status actfit_check_writable(const char *path, char *err, size_t errlen);
/* Reads a whole regular file of at most ACTFIT_READ_MAX bytes; *out is malloc'ed,
 * NUL-terminated; *len may be NULL.  A FIFO, device, socket or directory is refused (EIO)
 * without blocking, as is a larger file, each with a message naming it. */
#define ACTFIT_READ_MAX (1ull << 30)
ACTFIT_API actfit_status actfit_read_file(const char *path, char **out, size_t *len, char *err,
                                          size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
