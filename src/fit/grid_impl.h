/* Private to src/fit: the fit context and the inlined segment cost. */
#ifndef ACTFIT_GRID_IMPL_H
#define ACTFIT_GRID_IMPL_H
#include <gsl/gsl_integration.h>
#include "fit/fit_impl.h"

#define GL_ORDER_PUBLIC 6

typedef struct actfit__ctx {
  const actfit_act *act;
  actfit__wfun *wf;
  const actfit_weight *w;
  double lo, hi; /* fit domain (folded: [0, max |x|]) */
  double breaks[ACTFIT_ACT_MAX_KINKS + 2];
  int nbreaks;
  gsl_integration_glfixed_table *gl;
} actfit__ctx;

actfit_status actfit__ctx_init(actfit__ctx *cx, const actfit_act *act, actfit__wfun *wf);
void actfit__ctx_destroy(actfit__ctx *cx);
/* what: bit 0 -> S1 = int f'w, bit 1 -> S2 = int (f' - c)^2 w; W always. */
void actfit__integrate(const actfit__ctx *cx, double u, double v, double c, int what,
                       double *W, double *S1, double *S2);
void actfit__range(const actfit_act *act, double u, double v, int ns, double *mn, double *mx,
                   double *crit);
actfit_status actfit__grid_build(actfit__ctx *cx, int n, actfit_grid **out);

/* cost over cells j..i-1, evaluated in double-double (see actfit_grid). */
static inline double actfit__cost(const actfit_grid *g, int j, int i)
{
  double *const *p = g->p;
  double W = (p[0][i] - p[0][j]) + (p[1][i] - p[1][j]);
  double V = (p[6][i] - p[6][j]) + (p[7][i] - p[7][j]);
  if (!(W > 0))
    return V;
  double q1h, q1l, q2h, q2l;
  dd_two_sum(p[2][i], -p[2][j], &q1h, &q1l);
  q1l += p[3][i] - p[3][j];
  dd_two_sum(q1h, q1l, &q1h, &q1l);
  dd_two_sum(p[4][i], -p[4][j], &q2h, &q2l);
  q2l += p[5][i] - p[5][j];
  /* r + rem = q1^2 / W in double-double */
  double sh, sl;
  dd_two_prod(q1h, q1h, &sh, &sl);
  sl += 2.0 * q1h * q1l;
  double iw = 1.0 / W, r = sh * iw, ph, pl;
  dd_two_prod(r, W, &ph, &pl);
  double rem = (((sh - ph) - pl) + sl) * iw;
  double between = ((q2h - r) + q2l) - rem;
  return V + (between > 0 ? between : 0.0);
}

/* The same cost in plain double from the hi parts, with a bound on its error: |cost - c| <=
 * *err.  The DP prunes and screens with it and evaluates the double-double cost only where
 * the bound cannot decide, so the result is exactly the double-double DP's. */
static inline double actfit__cost_fast(const actfit_grid *g, int j, int i, double *err)
{
  double *const *p = g->p;
  const double e = 2.2204460492503131e-16;
  double W = p[0][i] - p[0][j], q1 = p[2][i] - p[2][j], q2 = p[4][i] - p[4][j];
  double V = p[6][i] - p[6][j];
  if (!(W > 0)) {
    *err = 8 * e * (p[6][i] + p[6][j]) + 1e-300;
    return V;
  }
  /* one division: the bound has a factor 8 to spare for the extra roundings of 1/W */
  double iw = 1.0 / W, r = q1 * q1 * iw, aq = fabs(q1);
  *err = 8 * e * (p[4][i] + p[4][j] + p[6][i] + p[6][j] +
                  (2 * aq * (fabs(p[2][i]) + fabs(p[2][j])) + r * (p[0][i] + p[0][j])) * iw) +
         1e-300;
  double b = q2 - r;
  return V + (b > 0 ? b : 0.0);
}

#endif
