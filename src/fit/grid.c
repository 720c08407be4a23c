/* Grid for the FewBit DP: N cells with kinks of f' (and breaks of the weight) on nodes,
 * per-cell moments by Gauss-Legendre (gsl_integration_glfixed, GL_ORDER = 6 points per smooth
 * sub-interval), and double-double prefix sums so S2 - S1^2/S0 keeps its digits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_integration.h>
#include <gsl/gsl_roots.h>

#include "core/util.h"
#include "fit/fit_impl.h"
#include "fit/grid_impl.h"

#define GL_ORDER GL_ORDER_PUBLIC

static void fit_domain(const actfit__wfun *wf, double *lo, double *hi)
{
  if (wf->fold) {
    *lo = 0.0;
    *hi = fmax(fabs(wf->a), fabs(wf->b));
  } else {
    *lo = wf->a;
    *hi = wf->b;
  }
}

/* Points inside (lo, hi) where f' or w is not smooth, sorted. */
static int breaks(const actfit_act *act, const actfit__wfun *wf, double lo, double hi,
                  double *out, int cap)
{
  const actfit_act_structure *st = actfit_act_get_structure(act);
  int n = 0;
  for (int i = 0; i < st->nkinks && n < cap; i++) {
    double k = wf->fold ? fabs(st->kinks[i]) : st->kinks[i];
    if (k > lo && k < hi)
      out[n++] = k;
  }
  if (wf->fold && wf->a < 0 && wf->b > 0 && n < cap) {
    double k = fmin(-wf->a, wf->b);
    if (k > lo && k < hi)
      out[n++] = k;
  }
  qsort(out, (size_t)n, sizeof *out, actfit__cmp_double);
  int m = 0;
  for (int i = 0; i < n; i++)
    if (!m || out[i] != out[m - 1])
      out[m++] = out[i];
  return m;
}

/* Integrals of w, f'w and (f' - c)^2 w over [u, v] with GL, split at the breaks inside. */
void actfit__integrate(const actfit__ctx *cx, double u, double v, double c, int what,
                       double *W, double *S1, double *S2)
{
  double sW = 0, s1 = 0, s2 = 0;
  double pts[ACTFIT_ACT_MAX_KINKS + 4];
  int np = 0;
  pts[np++] = u;
  for (int i = 0; i < cx->nbreaks; i++)
    if (cx->breaks[i] > u && cx->breaks[i] < v)
      pts[np++] = cx->breaks[i];
  pts[np++] = v;
  for (int s = 0; s + 1 < np; s++) {
    for (int q = 0; q < GL_ORDER; q++) {
      double xi, wi, o[3];
      gsl_integration_glfixed_point(pts[s], pts[s + 1], (size_t)q, &xi, &wi, cx->gl);
      double ww = wi * actfit__wfun_eval(cx->wf, xi);
      if (ww == 0.0)
        continue;
      actfit_act_eval(cx->act, xi, o);
      sW += ww;
      if (what & 1)
        s1 += ww * o[1];
      if (what & 2)
        s2 += ww * (o[1] - c) * (o[1] - c);
    }
  }
  *W = sW;
  if (S1)
    *S1 = s1;
  if (S2)
    *S2 = s2;
}

static double d2f_fn(double x, void *p) { return actfit_act_d2f((const actfit_act *)p, x); }

/* Extremes of f' on [u, v] (one-sided values at the ends), and the interior critical point
 * found from a sign change of f'' among `ns` samples (NaN if none). */
void actfit__range(const actfit_act *act, double u, double v, int ns, double *mn, double *mx,
                   double *crit)
{
  double xu = nextafter(u, v), xv = nextafter(v, u);
  if (!(xu < xv)) {
    xu = u;
    xv = v;
  }
  double a = actfit_act_df(act, xu), b = actfit_act_df(act, xv);
  *mn = fmin(a, b);
  *mx = fmax(a, b);
  if (crit)
    *crit = NAN;
  double px = xu, pd = actfit_act_d2f(act, xu);
  for (int i = 1; i <= ns; i++) {
    double x = i == ns ? xv : u + (v - u) * i / ns;
    double o[3];
    actfit_act_eval(act, x, o);
    if (o[1] < *mn) *mn = o[1];
    if (o[1] > *mx) *mx = o[1];
    if ((pd < 0 && o[2] > 0) || (pd > 0 && o[2] < 0)) {
      gsl_function F = {d2f_fn, (void *)act};
      gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
      double r = 0.5 * (px + x);
      if (s && gsl_root_fsolver_set(s, &F, px, x) == 0) {
        for (int it = 0; it < 100; it++) {
          if (gsl_root_fsolver_iterate(s))
            break;
          r = gsl_root_fsolver_root(s);
          if (gsl_root_test_interval(gsl_root_fsolver_x_lower(s), gsl_root_fsolver_x_upper(s),
                                     0, 1e-15) == 0)
            break;
        }
      }
      gsl_root_fsolver_free(s);
      double d = actfit_act_df(act, r);
      if (d < *mn) *mn = d;
      if (d > *mx) *mx = d;
      if (crit)
        *crit = r;
    }
    px = x;
    pd = o[2];
  }
}

static void dd_prefix(double *hi, double *lo, int i, double v)
{
  hi[i + 1] = hi[i];
  lo[i + 1] = lo[i];
  dd_add(&hi[i + 1], &lo[i + 1], v, 0.0);
}

static void dd_prefix2(double *hi, double *lo, int i, double vh, double vl)
{
  hi[i + 1] = hi[i];
  lo[i + 1] = lo[i];
  dd_add(&hi[i + 1], &lo[i + 1], vh, vl);
}

void actfit_grid_free(actfit_grid *g)
{
  if (!g)
    return;
  free(g->x);
  free(g->W);
  free(g->mu);
  free(g->V);
  free(g->fmin);
  free(g->fmax);
  for (int i = 0; i < 8; i++)
    free(g->p[i]);
  free(g);
}

actfit_status actfit__grid_build(actfit__ctx *cx, int n, actfit_grid **out)
{
  *out = NULL;
  actfit_grid *g = calloc(1, sizeof *g);
  if (!g)
    return ACTFIT_ENOMEM;
  g->n = n;
  g->fold = cx->wf->fold;
  size_t n1 = (size_t)n + 1;
  g->x = malloc(n1 * sizeof *g->x);
  g->W = malloc(n1 * sizeof *g->W);
  g->mu = malloc(n1 * sizeof *g->mu);
  g->V = malloc(n1 * sizeof *g->V);
  g->fmin = malloc(n1 * sizeof *g->fmin);
  g->fmax = malloc(n1 * sizeof *g->fmax);
  int ok = g->x && g->W && g->mu && g->V && g->fmin && g->fmax;
  for (int i = 0; i < 8; i++)
    ok = ok && (g->p[i] = calloc(n1, sizeof(double)));
  if (!ok) {
    actfit_grid_free(g);
    return ACTFIT_ENOMEM;
  }
  double lo = cx->lo, hi = cx->hi, h = (hi - lo) / n;
  for (int i = 0; i <= n; i++)
    g->x[i] = i == n ? hi : lo + h * i;
  /* snap breaks onto the nearest free interior node (not for histograms: their bins are the
   * uniform cells; breaks inside a cell are split by the quadrature anyway) */
  if (cx->w->kind != W_HIST) {
    char *used = calloc(n1, 1);
    if (!used) {
      actfit_grid_free(g);
      return ACTFIT_ENOMEM;
    }
    for (int k = 0; k < cx->nbreaks; k++) {
      long c = lround((cx->breaks[k] - lo) / h);
      if (c < 1) c = 1;
      if (c > n - 1) c = n - 1;
      if (c >= 1 && !used[c] && cx->breaks[k] > g->x[c - 1] && cx->breaks[k] < g->x[c + 1]) {
        g->x[c] = cx->breaks[k];
        used[c] = 1;
      }
    }
    free(used);
  }
  actfit_status st = actfit__wfun_bind(cx->wf, g->x, n);
  if (st != ACTFIT_OK) {
    actfit_grid_free(g);
    return st;
  }
  for (int c = 0; c < n; c++) {
    double W, S1;
    actfit__integrate(cx, g->x[c], g->x[c + 1], 0, 1, &W, &S1, NULL);
    double mu = W > 0 ? S1 / W : 0.0, V = 0;
    if (W > 0)
      actfit__integrate(cx, g->x[c], g->x[c + 1], mu, 2, &W, NULL, &V);
    g->W[c] = W;
    g->mu[c] = mu;
    g->V[c] = V;
    actfit__range(cx->act, g->x[c], g->x[c + 1], 4, &g->fmin[c], &g->fmax[c], NULL);
    /* exact products W mu and W mu^2 as double-doubles */
    double a, ae, b, be, b2, b2e;
    dd_two_prod(W, mu, &a, &ae);
    dd_two_prod(a, mu, &b, &be);
    dd_two_prod(ae, mu, &b2, &b2e);
    dd_prefix(g->p[0], g->p[1], c, W);
    dd_prefix2(g->p[2], g->p[3], c, a, ae);
    dd_prefix2(g->p[4], g->p[5], c, b, be + b2 + b2e);
    dd_prefix(g->p[6], g->p[7], c, V);
  }
  *out = g;
  return ACTFIT_OK;
}

double actfit_grid_cost(const actfit_grid *g, int j, int i)
{
  return actfit__cost(g, j, i);
}

actfit_status actfit_grid_alloc(const actfit_act *act, const actfit_weight *w, double a,
                                double b, int n, int fold, actfit_grid **out, char *err,
                                size_t errlen)
{
  *out = NULL;
  if (!(a < b) || n < 1) {
    actfit__seterr(err, errlen, "grid needs A < B and at least one cell");
    return ACTFIT_EINVAL;
  }
  actfit__wfun wf = {w, a, b, fold, NULL, 0, NULL};
  actfit__ctx cx;
  actfit_status st = actfit__ctx_init(&cx, act, &wf);
  if (st != ACTFIT_OK)
    return st;
  st = actfit__grid_build(&cx, n, out);
  actfit__ctx_destroy(&cx);
  actfit__wfun_destroy(&wf);
  return st;
}

actfit_status actfit__ctx_init(actfit__ctx *cx, const actfit_act *act, actfit__wfun *wf)
{
  memset(cx, 0, sizeof *cx);
  cx->act = act;
  cx->wf = wf;
  cx->w = wf->w;
  fit_domain(wf, &cx->lo, &cx->hi);
  cx->nbreaks = breaks(act, wf, cx->lo, cx->hi, cx->breaks, ACTFIT_ACT_MAX_KINKS + 2);
  cx->gl = gsl_integration_glfixed_table_alloc(GL_ORDER);
  return cx->gl ? ACTFIT_OK : ACTFIT_ENOMEM;
}

void actfit__ctx_destroy(actfit__ctx *cx)
{
  gsl_integration_glfixed_table_free(cx->gl);
  cx->gl = NULL;
}
