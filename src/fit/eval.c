/* Independent error report of a FewBit table: E by adaptive quadrature (QAGS) on each piece
 * of q, split at kinks of f' and breaks of the weight, over the original (unfolded) domain;
 * max |f' - q| from the extremes of f' per piece.  Shares no code path with the fit's grid. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

#include "core/util.h"
#include "fit/grid_impl.h"

typedef struct {
  const actfit_act *act;
  const actfit__wfun *wf;
  double l;
} integrand;

static double sq_err(double x, void *p)
{
  const integrand *q = p;
  double w = actfit__wfun_eval(q->wf, x);
  if (w == 0)
    return 0;
  double d = actfit_act_df(q->act, x) - q->l;
  return d * d * w;
}

actfit_status actfit_fewbit_eval(const actfit_table *t, const actfit_act *act,
                                 const actfit_weight *w, double a, double b,
                                 actfit_fewbit_report *rep, char *err, size_t errlen)
{
  rep->piece_E = NULL;
  gsl_set_error_handler_off();
  if (t->method != ACTFIT_METHOD_FEWBIT) {
    actfit__seterr(err, errlen, "not a FewBit table");
    return ACTFIT_EINVAL;
  }
  if (isnan(a) || isnan(b)) {
    a = t->domain[0];
    b = t->domain[1];
  }
  if (!(a < b)) {
    actfit__seterr(err, errlen, "domain needs A < B");
    return ACTFIT_EINVAL;
  }
  actfit_status st = actfit_act_check_domain(act, a, b, err, errlen);
  if (st != ACTFIT_OK)
    return st;
  int k = 1 << t->bits, nb = k - 1;
  /* the unfolded weight; histograms are binned on the table's uniform grid */
  actfit__wfun wf = {w, a, b, 0, NULL, 0, NULL};
  int n = t->grid > 0 ? t->grid : 4096;
  double *nodes = NULL;
  if (actfit__wfun_bind_uniform(&wf, n, &nodes) != ACTFIT_OK) {
    actfit__seterr(err, errlen, "weight has no mass on the domain");
    return ACTFIT_EINVAL;
  }
  /* pieces on the real line: for even parity, mirrored borders */
  int np = t->parity_even ? 2 * nb + 1 : nb + 1;
  double *cut = malloc(sizeof *cut * (size_t)(np + 1));
  int *code = malloc(sizeof *code * (size_t)np);
  rep->piece_E = calloc((size_t)k, sizeof *rep->piece_E);
  gsl_integration_workspace *ws = gsl_integration_workspace_alloc(1000);
  if (!cut || !code || !rep->piece_E || !ws) {
    st = ACTFIT_ENOMEM;
    goto done;
  }
  int m = 0;
  cut[m++] = -INFINITY;
  if (t->parity_even)
    for (int i = nb - 1; i >= 0; i--)
      cut[m++] = -t->borders[i];
  for (int i = 0; i < nb; i++)
    cut[m++] = t->borders[i];
  for (int i = 0; i < np; i++)
    code[i] = t->parity_even ? abs(i - nb) : i;
  /* note: in the mirrored layout piece i spans (cut[i], cut[i+1]) */
  cut[m] = INFINITY;

  const actfit_act_structure *as = actfit_act_get_structure(act);
  rep->E = 0;
  rep->abserr = 0;
  rep->max_abs = 0;
  rep->max_at = a;
  rep->npieces = np;
  double linf = 0;
  for (int i = 0; i < np; i++) {
    double u = fmax(a, cut[i]), v = fmin(b, cut[i + 1]);
    if (!(v > u))
      continue;
    integrand q = {act, &wf, t->levels[code[i]]};
    gsl_function F = {sq_err, &q};
    /* split at kinks, the weight's breaks and hist nodes inside the piece */
    double pts[ACTFIT_ACT_MAX_KINKS + 4];
    int npt = 0;
    pts[npt++] = u;
    for (int j = 0; j < as->nkinks; j++)
      if (as->kinks[j] > u && as->kinks[j] < v)
        pts[npt++] = as->kinks[j];
    pts[npt++] = v;
    double e = 0;
    for (int j = 0; j + 1 < npt; j++) {
      double r, ae;
      if (nodes) {
        /* piecewise constant weight: integrate bin by bin */
        int c0 = (int)floor((pts[j] - a) / (b - a) * n), c1 = (int)ceil((pts[j + 1] - a) / (b - a) * n);
        if (c0 < 0) c0 = 0;
        if (c1 > n) c1 = n;
        for (int c = c0; c < c1; c++) {
          double x0 = fmax(pts[j], nodes[c]), x1 = fmin(pts[j + 1], nodes[c + 1]);
          if (x1 > x0 && gsl_integration_qags(&F, x0, x1, 0, 1e-13, 1000, ws, &r, &ae) != 0 &&
              gsl_integration_qag(&F, x0, x1, 0, 1e-11, 1000, GSL_INTEG_GAUSS61, ws, &r, &ae))
            st = ACTFIT_ENOCONV;
          if (x1 > x0) { e += r; rep->abserr += ae; }
        }
      } else {
        int s = gsl_integration_qags(&F, pts[j], pts[j + 1], 0, 1e-13, 1000, ws, &r, &ae);
        if (s)
          s = gsl_integration_qag(&F, pts[j], pts[j + 1], 0, 1e-11, 1000, GSL_INTEG_GAUSS61, ws,
                                  &r, &ae);
        if (s)
          st = ACTFIT_ENOCONV;
        e += r;
        rep->abserr += ae;
      }
    }
    rep->piece_E[code[i]] += e;
    rep->E += e;
    /* max error: extremes of f' on a fine subdivision of each smooth part of the piece
     * (one-sided limits at kinks) */
    for (int j = 0; j + 1 < npt; j++) {
      const int ns = 64;
      for (int m2 = 0; m2 < ns; m2++) {
        double x0 = pts[j] + (pts[j + 1] - pts[j]) * m2 / ns;
        double x1 = m2 == ns - 1 ? pts[j + 1] : pts[j] + (pts[j + 1] - pts[j]) * (m2 + 1) / ns;
        double mn, mx;
        actfit__range(act, x0, x1, 8, &mn, &mx, NULL);
        double d = fmax(mx - q.l, q.l - mn);
        if (d > rep->max_abs) {
          rep->max_abs = d;
          rep->max_at = 0.5 * (x0 + x1);
        }
        if (actfit__wfun_eval(&wf, 0.5 * (x0 + x1)) > 0)
          linf = fmax(linf, d);
      }
    }
  }
  if (st == ACTFIT_ENOCONV)
    actfit__seterr(err, errlen, "quadrature did not reach its tolerance");
  if (t->norm[0] && !strcmp(t->norm, "linf"))
    rep->E = linf;
done:
  gsl_integration_workspace_free(ws);
  free(cut);
  free(code);
  free(nodes);
  actfit__wfun_destroy(&wf);
  if (st != ACTFIT_OK && st != ACTFIT_ENOCONV) {
    free(rep->piece_E);
    rep->piece_E = NULL;
  gsl_set_error_handler_off();
  }
  return st;
}
