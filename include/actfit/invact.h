/* InvAct (Novikov & Oseledets, 2024): keep y = f(x) (and one bit s = (x < T) when f has a
 * minimum at T) and compute f'(x) = g_s(y) in the backward pass, from an exact form or a
 * fitted piecewise polynomial in t = sqrt(y - y_min), y, or per binade of |y|. */
#ifndef ACTFIT_INVACT_H
#define ACTFIT_INVACT_H

#include <stddef.h>
#include "actfit/act.h"
#include "actfit/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct actfit_invact_params {
  double target;      /* max |g_fit(y) - f'(x)| for y = f(x) in double; default 1e-7 */
  int max_degree;     /* default 8 */
  int max_pieces;     /* per branch, in t or y (binades not counted); default 16 */
  long npoints;       /* uniform points on [-10, 10] for the dtype analysis; default 1e7;
                       * 0 skips the analysis */
  int threads;        /* <= 0: all cores; results do not depend on it */
  /* called with the fraction done (0..1) of the per-dtype analysis, from one thread; NULL:
   * none */
  void (*progress)(double done, void *user);
  void *user;
} actfit_invact_params;

ACTFIT_API void actfit_invact_params_init(actfit_invact_params *p);

/* Fits (or picks the exact form), measures the error over the whole real line and, unless
 * npoints == 0, the per-dtype table; fills *t (initialised here). */
ACTFIT_API actfit_status actfit_invact_fit(const actfit_act *act, const actfit_invact_params *p,
                                           actfit_table *t, char *err, size_t errlen);

/* Reference g on a branch (side -1 left of T, +1 right, 0 monotone f) by inverting f with
 * bracketing and Brent's method in double.  EDOMAIN if y is outside the branch's range. */
ACTFIT_API actfit_status actfit_invact_reference(const actfit_act *act, double y, int side,
                                                 double *g, double *x);

/* g_s(y) of a table in double (fitted pieces, asymptotes, exact forms); s = (x < T). */
ACTFIT_API double actfit_invact_eval(const actfit_table *t, double y, int s);

/* Re-measures a table: the error for exact y over the real line and the per-dtype table
 * (against exact f' with the kernels' float arithmetic), overwriting t's errors. */
ACTFIT_API actfit_status actfit_invact_analyse(actfit_table *t, const actfit_act *act,
                                               long npoints, int threads, char *err,
                                               size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
