/* FewBit (Novikov et al., ICML 2023): the optimal piecewise-constant q with 2^b levels
 * approximating f' under a weighted L2 or L-infinity norm.  Grid DP for the global optimum
 * over cell borders, then continuous refinement to the exact stationary point. */
#ifndef ACTFIT_FEWBIT_H
#define ACTFIT_FEWBIT_H

#include <stddef.h>
#include "actfit/act.h"
#include "actfit/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- weights ------------------------------------------------------------------------
 * "uniform" (density 1/(B-A), default domain -10,10), "gauss:MU,SIGMA" (normal density,
 * default domain MU +- 8 SIGMA), "hist:FILE" (text samples, one number per line) or
 * "hist:f32:FILE" (raw little-endian float32): the format is named, never guessed; the
 * density of the samples on the grid cells, default domain their range. */
typedef struct actfit_weight actfit_weight;
ACTFIT_API actfit_status actfit_weight_alloc(const char *spec, actfit_weight **out, char *err,
                                             size_t errlen);
ACTFIT_API void actfit_weight_free(actfit_weight *w); /* NULL is a no-op */
ACTFIT_API void actfit_weight_default_domain(const actfit_weight *w, double *a, double *b);
ACTFIT_API const char *actfit_weight_spec(const actfit_weight *w);
/* The weight's density on the domain [a, b] at nx points (0 outside; histograms binned on
 * nbins equal cells, as `eval` bins them). */
ACTFIT_API actfit_status actfit_weight_density(const actfit_weight *w, double a, double b,
                                               int nbins, const double *xs, int nx,
                                               double *out);

/* ---- grid: cells, per-cell moments and compensated prefix sums ---------------------- */

/* Per cell c = [x[c], x[c+1]]: W = int w, mu = int f'w / W, V = int (f' - mu)^2 w (direct,
 * so no cancellation).  Prefix sums of W, W mu, W mu^2 and V are kept as double-double
 * (hi + lo) with exact products, so the segment cost
 *   cost(j, i) = sum V + sum W mu^2 - (sum W mu)^2 / sum W       over cells j..i-1
 * keeps its accuracy where f' is nearly constant over long stretches. */
typedef struct actfit_grid {
  int n;          /* cells */
  double *x;      /* n + 1 nodes; kinks of f' and breaks of w are nodes */
  double *W, *mu, *V;
  double *fmin, *fmax; /* extremes of f' on each cell (for linf) */
  double *p[8];   /* prefix sums (hi, lo) of W, W mu, W mu^2, V; n + 1 entries each */
  int fold;       /* fitted on |x| (even f') */
} actfit_grid;

/* Builds the grid on [a, b] (fold: on [0, max(|a|, |b|)] with the folded weight).
 * Free with actfit_grid_free(). */
ACTFIT_API actfit_status actfit_grid_alloc(const actfit_act *act, const actfit_weight *w,
                                           double a, double b, int n, int fold,
                                           actfit_grid **out, char *err, size_t errlen);
ACTFIT_API void actfit_grid_free(actfit_grid *g);
/* Cost of one piece over cells j..i-1 (0 <= j < i <= n). */
ACTFIT_API double actfit_grid_cost(const actfit_grid *g, int j, int i);

/* Globally optimal partition of the grid's n cells into k pieces for the L2 cost:
 * cuts[0..k-2] are the first cells of pieces 2..k (so borders are x[cuts[m]]).
 * Exact: bounds prune only candidates provably no better (ties go to the smaller index),
 * so the result does not depend on `threads` (<= 0: all cores). */
ACTFIT_API actfit_status actfit_dp_l2(const actfit_grid *g, int k, int threads, int *cuts,
                                      double *E);
/* Reference dense DP, O(k n^2) with an n x ... no pruning; for tests and benchmarks. */
ACTFIT_API actfit_status actfit_dp_l2_dense(const actfit_grid *g, int k, int *cuts,
                                            double *E);

/* ---- norms as descriptors (GSL style) ----------------------------------------------- */
typedef struct actfit_fewbit_params actfit_fewbit_params;
typedef struct actfit_norm_type {
  const char *name;
  const char *summary;
} actfit_norm_type;
ACTFIT_API extern const actfit_norm_type *const actfit_norm_l2;
ACTFIT_API extern const actfit_norm_type *const actfit_norm_linf;
ACTFIT_API const actfit_norm_type *actfit_norm_find(const char *name);

struct actfit_fewbit_params {
  int bits;                      /* 1..8 */
  const actfit_norm_type *norm;  /* NULL: l2 */
  double a, b;                   /* domain; NaN: the weight's default */
  int grid;                      /* cells; 0: 4096 */
  int parity;                    /* -1 auto (even f' and 0 inside the domain), 0 off */
  int threads;                   /* <= 0: all cores */
  int record_time;               /* store seconds in the table (not reproducible) */
  void (*progress)(double done, void *user);
  void *user;
};
ACTFIT_API void actfit_fewbit_params_init(actfit_fewbit_params *p);
/* A refined fit whose KKT residual stays above this is reported as not converged (in the
 * table's "measured" text, and by the CLI on stderr), and keeps the best borders found: its
 * E is never above the grid DP's.  Where the weight is zero on one side of a border (an
 * empty histogram cell) the residual is that side's inequality, not the equality. */
#define ACTFIT_FEWBIT_KKT_TOL 1e-10

/* Fits and fills *t (initialised here; destroy it afterwards). */
ACTFIT_API actfit_status actfit_fewbit_fit(const actfit_act *act, const actfit_weight *w,
                                           const actfit_fewbit_params *p, actfit_table *t,
                                           char *err, size_t errlen);

/* Independent error report of a FewBit table: E by adaptive quadrature piece by piece
 * (gsl_integration_qags, split at kinks), max |f' - q| by dense sampling plus the extremes
 * of f' per piece.  piece_E has 2^bits entries, malloc'ed; free it. */
typedef struct actfit_fewbit_report {
  double E;         /* l2: integral of (f' - q)^2 w; linf: max |f' - q| where w > 0 */
  double max_abs;   /* max |f' - q| on the domain */
  double max_at;
  double abserr;    /* quadrature's error estimate for E */
  int npieces;
  double *piece_E;  /* per level (both signs together for even parity) */
} actfit_fewbit_report;
ACTFIT_API actfit_status actfit_fewbit_eval(const actfit_table *t, const actfit_act *act,
                                            const actfit_weight *w, double a, double b,
                                            actfit_fewbit_report *rep, char *err,
                                            size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
