/* The runtime's table structs, their enums and limits, shared by the CPU runtime, the CUDA
 * kernels, the generated headers and the public runtime.h: types only, no math (that is
 * elem.h, which includes this).  C11 and CUDA C++. */
#ifndef ACTFIT_ELEM_TYPES_H
#define ACTFIT_ELEM_TYPES_H

#define ACTFIT_RT_MAX_BITS 8
#define ACTFIT_RT_MAX_DEG 16
#define ACTFIT_RT_MAX_TPIECES 32
#define ACTFIT_RT_MAX_BINADES 48

/* Built-in activation ids for the forward pass: ACTFIT_A_GELU, ..., from the one list */
#include "actfit/act_list.h"

/* FewBit: code(x) = number of borders <= x (|x| for even parity); backward uses
 * levels[code].  Borders and levels are the table's doubles rounded to float. */
typedef struct actfit_rt_fewbit {
  int act;          /* ACTFIT_A_* */
  float params[4];
  int bits;
  int parity_even;
  float borders[(1 << ACTFIT_RT_MAX_BITS) - 1];
  float levels[1 << ACTFIT_RT_MAX_BITS];
} actfit_rt_fewbit;

/* InvAct piece: polynomial in u = (v - c) * s, Horner from coef[0] (highest degree). */
typedef struct actfit_rt_piece {
  float lo, hi;     /* interval of v */
  float c, s;
  int deg;
  float coef[ACTFIT_RT_MAX_DEG + 1];
} actfit_rt_piece;

enum { ACTFIT_VAR_T = 0, ACTFIT_VAR_Y = 1 };

/* One monotone branch: pieces in v (t = sqrt(y - y_min), or y), sorted; below the first
 * piece asym_lo applies, above the last asym_hi.  Optionally, for y < 0 with
 * |y| < 2^binade_top, one piece per binade of |y| (v = |y|), found from y's exponent:
 * binade i covers [2^(binade_top-1-i), 2^(binade_top-i)); below the last, asym_zero. */
typedef struct actfit_rt_branch {
  int var;
  int np;
  actfit_rt_piece p[ACTFIT_RT_MAX_TPIECES];
  float asym_lo, asym_hi;
  int nb;
  int binade_top;
  float asym_zero;
  actfit_rt_piece b[ACTFIT_RT_MAX_BINADES];
} actfit_rt_branch;

/* Exact forms of g(y) = f'(f^-1(y)) */
enum {
  ACTFIT_EXACT_NONE = 0, ACTFIT_EXACT_SIGMOID, ACTFIT_EXACT_TANH, ACTFIT_EXACT_SOFTPLUS,
  ACTFIT_EXACT_ELU, ACTFIT_EXACT_CELU, ACTFIT_EXACT_SELU, ACTFIT_EXACT_SOFTSIGN,
  ACTFIT_EXACT_LOGSIGMOID, ACTFIT_EXACT_RELU, ACTFIT_EXACT_LEAKY_RELU, ACTFIT_EXACT_RELU6,
  ACTFIT_EXACT_HARDTANH, ACTFIT_EXACT_HARDSIGMOID, ACTFIT_EXACT_HARDSWISH,
  ACTFIT_EXACT_SHRINK
};

typedef struct actfit_rt_invact {
  int act;          /* ACTFIT_A_* for the forward; -1 for expressions (no forward) */
  float params[4];
  int exact;        /* ACTFIT_EXACT_* or NONE */
  int bit;          /* a branch bit s = (x < T) is kept */
  float T;
  float ymin_hi, ymin_lo; /* y_min = hi + lo */
  int nbranch;      /* 1 (monotone) or 2 (left = 0, right = 1) */
  actfit_rt_branch br[2];
} actfit_rt_invact;

#endif
