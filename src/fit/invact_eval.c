/* InvAct evaluation: the reference inverse f_s^-1 (bracket expansion and Brent, GSL) and
 * g_s(y) = f'(f_s^-1(y)) from it; a fitted table's g (its pieces, binades and exact forms);
 * and the table's error over the real line.  Used by the fit (invact.c) and the analysis
 * (invact_analyse.c); it calls neither. */
#include <float.h>
#include <math.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>

#include "actfit/invact.h"
#include "core/util.h"
#include "elem.h"
#include "fit/invact_impl.h"

#define XFAR 1e3

/* ---- branches and the reference inverse ------------------------------------------------ */

typedef struct {
  const actfit_act *act;
  double lo, hi; /* x range of the branch */
  int inc;       /* f increasing on it */
  double y;
} inv_ctx;

static double fy(double x, void *p)
{
  const inv_ctx *c = p;
  return actfit_act_f(c->act, x) - c->y;
}

/* x on [lo, hi] with f(x) = y (f monotone there), by bracket expansion and Brent. */
actfit_status actfit__invact_invert(const actfit_act *act, double lo, double hi, int inc,
                                    double y, double *x)
{
  /* expand a finite bracket from the finite end */
  double a, b;
  if (isinf(lo) && isinf(hi)) {
    a = -1;
    b = 1;
  } else if (isinf(lo)) {
    a = hi - 1;
    b = hi;
  } else if (isinf(hi)) {
    a = lo;
    b = lo + 1;
  } else {
    a = lo;
    b = hi;
  }
  for (int it = 0; it < 64; it++) {
    double fa = actfit_act_f(act, a) - y, fb = actfit_act_f(act, b) - y;
    if (fa == 0) { *x = a; return ACTFIT_OK; }
    if (fb == 0) { *x = b; return ACTFIT_OK; }
    if ((fa < 0) != (fb < 0))
      break;
    /* y beyond: grow towards the infinite side(s) that can still reach it */
    int need_left = inc ? fa > 0 : fa < 0;
    if (need_left && isinf(lo) && a > -XFAR)
      a = fmax(-XFAR, a - 2 * (b - a));
    else if (!need_left && isinf(hi) && b < XFAR)
      b = fmin(XFAR, b + 2 * (b - a));
    else
      return ACTFIT_EDOMAIN;
  }
  inv_ctx c = {act, lo, hi, inc, y};
  gsl_function F = {fy, &c};
  gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
  if (!s)
    return ACTFIT_ENOMEM;
  if (gsl_root_fsolver_set(s, &F, a, b)) {
    gsl_root_fsolver_free(s);
    return ACTFIT_EDOMAIN;
  }
  double r = 0.5 * (a + b);
  for (int it = 0; it < 300; it++) {
    if (gsl_root_fsolver_iterate(s))
      break;
    r = gsl_root_fsolver_root(s);
    double l = gsl_root_fsolver_x_lower(s), h = gsl_root_fsolver_x_upper(s);
    if (h - l <= 2 * DBL_EPSILON * fmax(fabs(l), fabs(h)) || h - l < 1e-300)
      break;
  }
  gsl_root_fsolver_free(s);
  *x = r;
  return ACTFIT_OK;
}

void actfit__invact_branch_range(const actfit_act *act, int side, double *lo, double *hi,
                                 int *inc)
{
  const actfit_act_structure *st = actfit_act_get_structure(act);
  if (side < 0) {
    *lo = -INFINITY; *hi = st->T; *inc = 0;
  } else if (side > 0) {
    *lo = st->T; *hi = INFINITY; *inc = 1;
  } else {
    *lo = -INFINITY; *hi = INFINITY; *inc = st->branches[0].dir >= 0;
  }
}

actfit_status actfit_invact_reference(const actfit_act *act, double y, int side, double *g,
                                      double *xout)
{
  double lo, hi, x;
  int inc;
  gsl_set_error_handler_off();
  actfit__invact_branch_range(act, side, &lo, &hi, &inc);
  actfit_status st = actfit__invact_invert(act, lo, hi, inc, y, &x);
  if (st != ACTFIT_OK)
    return st;
  *g = actfit_act_df(act, x);
  if (xout)
    *xout = x;
  return ACTFIT_OK;
}

/* ---- evaluation in double ---------------------------------------------------------------- */

double actfit__invact_horner(const actfit_invact_piece *p, double v)
{
  double c = 0.5 * (p->lo + p->hi), s = 2.0 / (p->hi - p->lo), u = (v - c) * s;
  double acc = p->coef[0];
  for (int i = 1; i <= p->deg; i++)
    acc = acc * u + p->coef[i];
  return acc;
}

static double branch_eval(const actfit_invact_branch *b, double y, double t)
{
  if (b->nb > 0) {
    if (y >= 0)
      return b->asym_zero;
    double ay = -y;
    int e;
    frexp(ay, &e);
    int i = b->binade_top - e;
    if (i >= 0)
      return i >= b->nb ? b->asym_zero : actfit__invact_horner(&b->b[i], ay);
  }
  double v = b->var == ACTFIT_INVACT_VAR_T ? t : y;
  if (v < b->p[0].lo)
    return b->asym_lo;
  for (int i = 0; i < b->np; i++)
    if (v <= b->p[i].hi)
      return actfit__invact_horner(&b->p[i], v);
  return b->asym_hi;
}

static double exact_g(const actfit_table *t, double y, int s)
{
  const double *p = t->params;
  switch (t->exact) {
  case ACTFIT_EXACT_SIGMOID: return y * (1 - y);
  case ACTFIT_EXACT_TANH: return (1 - y) * (1 + y);
  case ACTFIT_EXACT_SOFTPLUS: return p[0] * y > p[1] ? 1.0 : -expm1(-p[0] * y);
  case ACTFIT_EXACT_ELU: return y > 0 ? 1.0 : y + p[0];
  case ACTFIT_EXACT_CELU: return y > 0 ? 1.0 : y / p[0] + 1;
  case ACTFIT_EXACT_SELU:
    return y > 0 ? 1.0507009873554804934 : y + 1.0507009873554804934 * 1.6732632423543772848;
  case ACTFIT_EXACT_SOFTSIGN: return (1 - fabs(y)) * (1 - fabs(y));
  case ACTFIT_EXACT_LOGSIGMOID: return -expm1(y);
  case ACTFIT_EXACT_RELU: return y > 0 ? 1.0 : 0.0;
  case ACTFIT_EXACT_LEAKY_RELU: return y > 0 ? 1.0 : p[0];
  case ACTFIT_EXACT_RELU6: return y > 0 && y < 6 ? 1.0 : 0.0;
  case ACTFIT_EXACT_HARDTANH: return y > p[0] && y < p[1] ? 1.0 : 0.0;
  case ACTFIT_EXACT_HARDSIGMOID: return y > 0 && y < 1 ? 1.0 / 6.0 : 0.0;
  case ACTFIT_EXACT_HARDSWISH: {
    if (!s && y > 3)
      return 1.0;
    if (s && y >= 0)
      return 0.0;
    double r = sqrt(fmax(9 + 24 * y, 0.0)) / 6;
    return s ? -r : r;
  }
  case ACTFIT_EXACT_SHRINK: return y != 0 ? 1.0 : 0.0;
  default: return 0.0;
  }
}

double actfit_invact_eval(const actfit_table *t, double y, int s)
{
  if (t->exact)
    return exact_g(t, y, s);
  double d = y - t->y_min;
  double tt = sqrt(d > 0 ? d : 0);
  const actfit_invact_branch *b = &t->br[t->nbranch == 2 ? (s ? 0 : 1) : 0];
  return branch_eval(b, y, tt);
}

/* max |g_fit(f(x)) - f'(x)| over x on a dense grid of the real line, in double: 400001 points
 * on [-40, 40], 20001 out to +-1e3 and 20001 clustered at T (points where an expression is
 * not finite are skipped).  Used to choose the degree and as the table's reported error. */
double actfit__invact_err_real_line(const actfit_table *t, const actfit_act *act)
{
  double m = 0;
  const double T = t->bit ? t->T : 0;
  for (int pass = 0; pass < 3; pass++) {
    int n = pass == 0 ? 400000 : 20000;
    for (int i = 0; i <= n; i++) {
      double x;
      if (pass == 0)
        x = -40 + 80.0 * i / n;
      else if (pass == 1)
        x = (i % 2 ? 1 : -1) * (40 + (XFAR - 40) * pow((double)i / n, 2));
      else
        x = T + (i % 2 ? 1 : -1) * pow(10.0, -12 + 12.0 * i / n);
      double o[3];
      actfit_act_eval(act, x, o);
      if (!isfinite(o[0]) || !isfinite(o[1]))
        continue;
      double g = actfit_invact_eval(t, o[0], t->bit ? x < T : 0);
      m = fmax(m, fabs(g - o[1]));
    }
  }
  return m;
}
