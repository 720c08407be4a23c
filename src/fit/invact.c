/* InvAct fit (Novikov & Oseledets 2024): g_s(y) = f'(f_s^-1(y)) per monotone branch.
 * Near the minimum T, g ~ +-c sqrt(y - y_min), so pieces use t = sqrt(y - y_min), where g is
 * smooth; a tail where y -> 0 uses one polynomial per binade of |y| (found from y's exponent
 * at run time); beyond the pieces the limit of f' applies and its error is counted.
 * Each piece is a near-minimax polynomial: weighted least squares on the Chebyshev basis
 * (gsl_multifit_wlinear) with Lawson's reweighting, which converges to the minimax fit.
 * Samples are made from x (y = f(x), g = f'(x)), so every pair is exact in double. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_roots.h>

#include "actfit/invact.h"
#include "core/util.h"
#include "elem.h"
#include "fit/invact_impl.h"

#define XFAR 1e3

void actfit_invact_params_init(actfit_invact_params *p)
{
  memset(p, 0, sizeof *p);
  p->target = 1e-7;
  p->max_degree = 8;
  p->max_pieces = 16;
  p->npoints = 10000000;
}


/* ---- exact forms -------------------------------------------------------------------------- */

static int exact_form(const actfit_act *act)
{
  const char *n = actfit_act_name(act);
  static const struct { const char *name; int form; } m[] = {
    {"sigmoid", ACTFIT_EXACT_SIGMOID}, {"tanh", ACTFIT_EXACT_TANH},
    {"softplus", ACTFIT_EXACT_SOFTPLUS}, {"elu", ACTFIT_EXACT_ELU},
    {"celu", ACTFIT_EXACT_CELU}, {"selu", ACTFIT_EXACT_SELU},
    {"softsign", ACTFIT_EXACT_SOFTSIGN}, {"logsigmoid", ACTFIT_EXACT_LOGSIGMOID},
    {"relu", ACTFIT_EXACT_RELU}, {"leaky_relu", ACTFIT_EXACT_LEAKY_RELU},
    {"relu6", ACTFIT_EXACT_RELU6}, {"hardtanh", ACTFIT_EXACT_HARDTANH},
    {"hardsigmoid", ACTFIT_EXACT_HARDSIGMOID}, {"hardswish", ACTFIT_EXACT_HARDSWISH},
    {"hardshrink", ACTFIT_EXACT_SHRINK}, {"softshrink", ACTFIT_EXACT_SHRINK}};
  if (actfit_act_expr(act))
    return 0;
  for (size_t i = 0; i < sizeof m / sizeof *m; i++)
    if (!strcmp(m[i].name, n))
      return m[i].form;
  return 0;
}

/* ---- piece fitting ------------------------------------------------------------------------ */

typedef struct {
  const actfit_act *act;
  int side;        /* branch */
  double lo, hi;   /* x range */
  int inc;
  double y_min;
} branch_ctx;

typedef struct {
  int n;
  double *v, *g; /* variable value (from the recomputed y) and exact f' */
} samples;

/* variable v -> y on this branch, for: 0 t, 1 |y| (binade, y < 0), 2 y */
static double v_to_y(const branch_ctx *b, int kind, double v)
{
  return kind == 0 ? b->y_min + v * v : kind == 1 ? -v : v;
}

static double y_to_v(const branch_ctx *b, int kind, double y)
{
  if (kind == 0) {
    double d = y - b->y_min;
    return sqrt(d > 0 ? d : 0);
  }
  return kind == 1 ? -y : y;
}

/* n Chebyshev-distributed samples on [lo, hi] plus both ends */
static actfit_status make_samples(const branch_ctx *b, int kind, double lo, double hi, int n,
                                  samples *s)
{
  s->n = 0;
  s->v = malloc(sizeof(double) * (size_t)(n + 2));
  s->g = malloc(sizeof(double) * (size_t)(n + 2));
  if (!s->v || !s->g)
    return ACTFIT_ENOMEM;
  for (int i = -1; i <= n; i++) {
    double v = i < 0 ? lo : i == n ? hi
                            : 0.5 * (lo + hi) - 0.5 * (hi - lo) * cos(M_PI * (i + 0.5) / n);
    double x;
    if (actfit__invact_invert(b->act, b->lo, b->hi, b->inc, v_to_y(b, kind, v), &x) != ACTFIT_OK)
      continue;
    double o[3];
    actfit_act_eval(b->act, x, o);
    s->v[s->n] = y_to_v(b, kind, o[0]);
    s->g[s->n] = o[1];
    s->n++;
  }
  return ACTFIT_OK;
}

static void free_samples(samples *s)
{
  free(s->v);
  free(s->g);
}

/* Fits degree d on [lo, hi]; returns the max error on the check samples. */
static double fit_poly(const samples *fs, const samples *cs, double lo, double hi, int d,
                       actfit_invact_piece *out)
{
  int n = fs->n, m = d + 1;
  if (n < m + 2)
    return INFINITY;
  double c0 = 0.5 * (lo + hi), sc = 2.0 / (hi - lo);
  gsl_matrix *X = gsl_matrix_alloc((size_t)n, (size_t)m);
  gsl_vector *y = gsl_vector_alloc((size_t)n), *w = gsl_vector_alloc((size_t)n);
  gsl_vector *c = gsl_vector_alloc((size_t)m);
  gsl_matrix *cov = gsl_matrix_alloc((size_t)m, (size_t)m);
  gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc((size_t)n, (size_t)m);
  double best = INFINITY;
  if (!X || !y || !w || !c || !cov || !ws)
    goto out;
  for (int i = 0; i < n; i++) {
    double u = (fs->v[i] - c0) * sc, t0 = 1, t1 = u;
    for (int k = 0; k < m; k++) {
      double tk = k == 0 ? 1 : k == 1 ? u : 2 * u * t1 - t0;
      if (k >= 2) { t0 = t1; t1 = tk; }
      gsl_matrix_set(X, (size_t)i, (size_t)k, tk);
    }
    gsl_vector_set(y, (size_t)i, fs->g[i]);
    gsl_vector_set(w, (size_t)i, 1.0);
  }
  /* Lawson: w_i <- w_i |r_i| / sum, converging to the minimax solution */
  double cheb[ACTFIT_INVACT_MAX_DEG + 1];
  for (int it = 0; it < 30; it++) {
    double chisq;
    if (gsl_multifit_wlinear(X, w, y, c, cov, &chisq, ws))
      break;
    double sum = 0, emax = 0;
    for (int i = 0; i < n; i++) {
      double r = gsl_vector_get(y, (size_t)i);
      for (int k = 0; k < m; k++)
        r -= gsl_matrix_get(X, (size_t)i, (size_t)k) * gsl_vector_get(c, (size_t)k);
      double wi = gsl_vector_get(w, (size_t)i) * fabs(r);
      gsl_vector_set(w, (size_t)i, wi);
      sum += wi;
      emax = fmax(emax, fabs(r));
    }
    if (emax < best) {
      best = emax;
      for (int k = 0; k < m; k++)
        cheb[k] = gsl_vector_get(c, (size_t)k);
    }
    if (!(sum > 0))
      break;
    for (int i = 0; i < n; i++)
      gsl_vector_set(w, (size_t)i, fmax(gsl_vector_get(w, (size_t)i) / sum, 1e-300));
  }
  if (!isfinite(best))
    goto out;
  /* Chebyshev -> monomial in u, then Horner order (highest first) */
  double mono[ACTFIT_INVACT_MAX_DEG + 1] = {0}, Tp[ACTFIT_INVACT_MAX_DEG + 1] = {0},
         Tc[ACTFIT_INVACT_MAX_DEG + 1] = {0}, Tn[ACTFIT_INVACT_MAX_DEG + 1];
  Tp[0] = 1;
  mono[0] += cheb[0];
  if (m > 1) {
    Tc[1] = 1;
    mono[1] += cheb[1];
  }
  for (int k = 2; k < m; k++) {
    for (int j = 0; j <= k; j++)
      Tn[j] = (j ? 2 * Tc[j - 1] : 0) - Tp[j];
    for (int j = 0; j <= k; j++) {
      mono[j] += cheb[k] * Tn[j];
      Tp[j] = Tc[j];
      Tc[j] = Tn[j];
    }
  }
  out->lo = lo;
  out->hi = hi;
  out->deg = d;
  for (int k = 0; k < m; k++)
    out->coef[k] = mono[d - k];
  best = 0;
  for (int i = 0; i < cs->n; i++)
    best = fmax(best, fabs(actfit__invact_horner(out, cs->v[i]) - cs->g[i]));
out:
  gsl_multifit_linear_free(ws);
  gsl_matrix_free(X);
  gsl_matrix_free(cov);
  gsl_vector_free(y);
  gsl_vector_free(w);
  gsl_vector_free(c);
  return best;
}

/* Lowest degree <= dmax meeting tol on [lo, hi]; -1 if none. */
static int fit_piece(const branch_ctx *b, int kind, double lo, double hi, int dmax, double tol,
                     actfit_invact_piece *out, actfit_status *st)
{
  samples fs, cs;
  *st = make_samples(b, kind, lo, hi, 96, &fs);
  if (*st == ACTFIT_OK)
    *st = make_samples(b, kind, lo, hi, 401, &cs);
  int found = -1;
  for (int d = 1; *st == ACTFIT_OK && d <= dmax && found < 0; d++) {
    double e = fit_poly(&fs, &cs, lo, hi, d, out);
    if (e <= tol)
      found = d;
  }
  free_samples(&fs);
  free_samples(&cs);
  return found;
}

/* Covers [lo, hi] with pieces of degree <= d by halving; returns the piece count or -1. */
static int cover(const branch_ctx *b, int kind, double lo, double hi, int d, double tol,
                 int maxp, actfit_invact_piece *out, int depth, actfit_status *st)
{
  if (maxp < 1 || depth > 12)
    return -1;
  if (fit_piece(b, kind, lo, hi, d, tol, out, st) >= 0)
    return 1;
  if (*st != ACTFIT_OK)
    return -1;
  double mid = 0.5 * (lo + hi);
  int nl = cover(b, kind, lo, mid, d, tol, maxp - 1, out, depth + 1, st);
  if (nl < 0)
    return -1;
  int nr = cover(b, kind, mid, hi, d, tol, maxp - nl, out + nl, depth + 1, st);
  return nr < 0 ? -1 : nl + nr;
}

/* The farthest |x| <= XFAR in direction dir where f and f' are finite: user expressions
 * such as x/(1+exp(-x)) overflow long before 1e3. */
static double far_point(const actfit_act *act, int dir)
{
  static const double xs[] = {1e3, 700, 500, 300, 200, 100, 60, 40, 30, 20};
  for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
    double o[3];
    actfit_act_eval(act, dir * xs[i], o);
    if (isfinite(o[0]) && isfinite(o[1]))
      return dir * xs[i];
  }
  return NAN;
}

/* Where |f' - L| stays <= tol from x outward to the far point along the direction dir. */
static double saturation(const actfit_act *act, double from, int dir, double L, double tol)
{
  double last_bad = from, lim = fabs(far_point(act, dir));
  for (double d = 1e-3; d <= 2 * XFAR; d *= 1.002) {
    double x = from + dir * d;
    if (!(fabs(x) <= lim))
      break;
    if (!(fabs(actfit_act_df(act, x) - L) <= tol))
      last_bad = x;
  }
  return last_bad;
}

static actfit_status fit_branch(const actfit_act *act, const actfit_invact_params *p, int side,
                                double y_min, int d, double tol, actfit_invact_branch *br,
                                char *err, size_t errlen)
{
  branch_ctx b;
  b.act = act;
  b.side = side;
  actfit__invact_branch_range(act, side, &b.lo, &b.hi, &b.inc);
  b.y_min = y_min;
  memset(br, 0, sizeof *br);
  br->side = side;
  actfit_status st = ACTFIT_OK;
  double xr = far_point(act, 1), xl = far_point(act, -1);
  if (isnan(xr) || isnan(xl)) {
    actfit__seterr(err, errlen, "f or f' is not finite for |x| >= 20: the branches cannot be "
                   "inverted on the range");
    return ACTFIT_EDOMAIN;
  }
  double L_hi = actfit_act_df(act, xr) + 0.0, L_lo = actfit_act_df(act, xl) + 0.0;
  if (side != 0) {
    br->var = ACTFIT_INVACT_VAR_T;
    const actfit_act_structure *as = actfit_act_get_structure(act);
    double T = as->T, L = side > 0 ? L_hi : L_lo;
    double y_end = actfit_act_f(act, side > 0 ? xr : xl);
    double t_end;
    if (side < 0 && fabs(y_end) < 1e-300 && y_min < 0) {
      /* tail y -> 0-: binades of |y| below the one holding y_min */
      /* the square-root branch point at y_min limits polynomials in |y|: the binades stop
       * 30% short of |y_min|, and t pieces cover the rest */
      int e;
      frexp(-y_min / 1.3, &e); /* in [2^(e-1), 2^e) */
      br->binade_top = e - 1;
      double top = ldexp(1.0, br->binade_top);
      t_end = sqrt(fmax(-top - y_min, 0)) * (1 + 1e-5);
      br->asym_zero = L;
      for (int i = 0; i < ACTFIT_INVACT_MAX_BINADES; i++) {
        double hi = ldexp(1.0, br->binade_top - i), lo = hi / 2, gmax = 0;
        /* the binade is needed unless |g - L| <= tol on it */
        for (int k = 0; k <= 64; k++) {
          double g;
          if (actfit_invact_reference(act, -(lo + (hi - lo) * k / 64), side, &g, NULL) ==
              ACTFIT_OK)
            gmax = fmax(gmax, fabs(g - L));
        }
        if (gmax <= tol / 2)
          break;
        if (fit_piece(&b, 1, lo, hi, d, tol, &br->b[i], &st) < 0) {
          if (st == ACTFIT_OK) {
            actfit__seterr(err, errlen, "binade [%g, %g) of |y| needs degree > %d", lo, hi, d);
            st = ACTFIT_ETARGET;
          }
          return st;
        }
        br->nb = i + 1;
      }
      if (br->nb == ACTFIT_INVACT_MAX_BINADES) {
        actfit__seterr(err, errlen, "g does not reach its limit within %d binades",
                       ACTFIT_INVACT_MAX_BINADES);
        return ACTFIT_ETARGET;
      }
      br->asym_hi = L; /* t beyond the pieces: only if no binade was needed */
    } else {
      double xs = saturation(act, T, side, L, tol / 4);
      double ys = actfit_act_f(act, xs);
      t_end = sqrt(fmax(ys - y_min, 0)) * (1 + 1e-5);
      br->asym_hi = L;
    }
    br->asym_lo = 0.0; /* t < 0 never happens */
    int np = cover(&b, 0, 0.0, t_end, d, tol, p->max_pieces, br->p, 0, &st);
    if (np < 0) {
      if (st == ACTFIT_OK) {
        actfit__seterr(err, errlen, "%s branch needs more than %d pieces of degree %d",
                       side < 0 ? "left" : "right", p->max_pieces, d);
        st = ACTFIT_ETARGET;
      }
      return st;
    }
    br->np = np;
    if (br->nb) /* rounding of t at the binade top: continue the last piece */
      br->asym_hi = actfit__invact_horner(&br->p[np - 1], br->p[np - 1].hi);
    return ACTFIT_OK;
  }
  /* monotone f without an exact form: pieces in y between the two saturations */
  br->var = ACTFIT_INVACT_VAR_Y;
  double sl = saturation(act, 0, -1, L_lo, tol / 4), sr = saturation(act, 0, 1, L_hi, tol / 4);
  double ya = actfit_act_f(act, fmin(sl, -1)), yb = actfit_act_f(act, fmax(sr, 1));
  if (ya > yb) {
    double t = ya; ya = yb; yb = t;
    double u = L_lo; L_lo = L_hi; L_hi = u;
  }
  br->asym_lo = L_lo;
  br->asym_hi = L_hi;
  int np = cover(&b, 2, ya, yb, d, tol, p->max_pieces, br->p, 0, &st);
  if (np < 0) {
    if (st == ACTFIT_OK && ya > 0 && log10(yb) - log10(ya) > 30) {
      /* f' does not level off (exp(x): g(y) = y up to 8e303): pieces in y cannot span that */
      actfit__seterr(err, errlen, "g(y) would have to be fitted on y in [%g, %g] (%.0f decades), "
                     "because f' does not level off on one side; InvAct fits pieces in y between "
                     "two levels of f', and binades only for y < 0", ya, yb, log10(yb) - log10(ya));
      st = ACTFIT_ESTRUCT;
    } else if (st == ACTFIT_OK) {
      actfit__seterr(err, errlen, "g(y) needs more than %d pieces of degree %d on [%g, %g] "
                     "(is f' smooth in y?)", p->max_pieces, d, ya, yb);
      st = ACTFIT_ETARGET;
    }
    return st;
  }
  br->np = np;
  return ACTFIT_OK;
}

/* ---- the fit -------------------------------------------------------------------------------- */

static void count_ops(actfit_table *t)
{
  t->ops_fma = t->ops_sqrt = t->ops_div = t->ops_log = t->ops_cmp = 0;
  if (t->exact) {
    int e = t->exact;
    t->ops_fma = 2;
    t->ops_cmp = 1;
    if (e == ACTFIT_EXACT_HARDSWISH)
      t->ops_sqrt = 1;
    if (e == ACTFIT_EXACT_CELU)
      t->ops_div = 1;
    if (e == ACTFIT_EXACT_SOFTPLUS || e == ACTFIT_EXACT_LOGSIGMOID)
      t->ops_log = 1; /* one expm1 */
    return;
  }
  int deg = 0, np = 0;
  for (int b = 0; b < t->nbranch; b++) {
    for (int i = 0; i < t->br[b].np; i++)
      deg = t->br[b].p[i].deg > deg ? t->br[b].p[i].deg : deg;
    for (int i = 0; i < t->br[b].nb; i++)
      deg = t->br[b].b[i].deg > deg ? t->br[b].b[i].deg : deg;
    np = t->br[b].np > np ? t->br[b].np : np;
  }
  t->ops_fma = deg + 1; /* Horner + the affine map of the variable */
  t->ops_sqrt = t->nbranch && t->br[0].var == ACTFIT_INVACT_VAR_T ? 1 : 0;
  t->ops_cmp = np + 2;  /* piece scan, clamp, binade test */
}


actfit_status actfit_invact_fit(const actfit_act *act, const actfit_invact_params *p,
                                actfit_table *t, char *err, size_t errlen)
{
  actfit_table_init(t);
  gsl_set_error_handler_off();
  if (!(p->target >= 1e-13) || !isfinite(p->target)) {
    actfit__seterr(err, errlen, "target %g is below what double can certify (>= 1e-13)",
                   p->target);
    return ACTFIT_EINVAL;
  }
  if (!(p->target <= 1e-2)) { /* f' is O(1): a coarser g is no fit of it */
    actfit__seterr(err, errlen, "target %g is above 1e-2, where g(y) would not resemble f'",
                   p->target);
    return ACTFIT_EINVAL;
  }
  if (p->max_degree < 1 || p->max_degree > ACTFIT_INVACT_MAX_DEG || p->max_pieces < 1 ||
      p->max_pieces > ACTFIT_INVACT_MAX_PIECES) {
    actfit__seterr(err, errlen, "max degree must be 1..%d and max pieces 1..%d",
                   ACTFIT_INVACT_MAX_DEG, ACTFIT_INVACT_MAX_PIECES);
    return ACTFIT_EINVAL;
  }
  const actfit_act_structure *as = actfit_act_get_structure(act);
  actfit_status st = actfit_table_set_act(t, act);
  if (st != ACTFIT_OK)
    return st;
  t->method = ACTFIT_METHOD_INVACT;
  t->target = p->target;
  t->exact = exact_form(act);
  if (t->exact == ACTFIT_EXACT_HARDSWISH) {
    t->bit = 1;
    t->T = as->T;
    t->y_min = as->fT;
  }
  if (!t->exact) {
    int nmin = 0, nmax = 0;
    for (int i = 0; i + 1 < as->nbranches; i++)
      if (as->branches[i].dir < 0)
        nmin++;
      else
        nmax++;
    if (nmin + nmax > 1 || nmax == 1) {
      actfit__seterr(err, errlen, "InvAct needs f monotone or with one minimum; f has %d "
                     "interior minima and %d maxima", nmin, nmax);
      actfit_table_destroy(t);
      return ACTFIT_ESTRUCT;
    }
    t->bit = nmin == 1;
    if (t->bit) {
      t->T = as->T;
      t->y_min = as->fT;
    }
    /* an isolated zero of f' inside a monotone branch (tanhshrink at 0: f' = tanh^2 x) is a
     * cusp of g(y) = f'(f^-1(y)) (there like |y|^(2/3)), which no polynomial piece fits */
    for (int i = -40 * 64; i <= 40 * 64; i++) {
      double x = i / 64.0, h = 1.0 / 64;
      if (t->bit && fabs(x - as->T) < 2 * h)
        continue;
      if (fabs(actfit_act_df(act, x)) < 1e-10 && fabs(actfit_act_df(act, x - h)) > 1e-6 &&
          fabs(actfit_act_df(act, x + h)) > 1e-6) {
        actfit__seterr(err, errlen, "f'(%g) = 0 inside a monotone branch: g(y) = f'(f^-1(y)) "
                       "has a cusp at y = %.6g (not smooth in y), which InvAct's polynomials "
                       "cannot fit; use FewBit", x, actfit_act_f(act, x));
        actfit_table_destroy(t);
        return ACTFIT_ESTRUCT;
      }
    }
    t->nbranch = t->bit ? 2 : 1;
    t->br = calloc(2, sizeof *t->br);
    if (!t->br) {
      actfit_table_destroy(t);
      return ACTFIT_ENOMEM;
    }
    /* the fewest operations: the lowest degree that meets the target everywhere */
    st = ACTFIT_ETARGET;
    for (int d = 1; d <= p->max_degree; d++) {
      char e2[ACTFIT_ERRLEN] = "";
      st = ACTFIT_OK;
      for (int b = 0; b < t->nbranch && st == ACTFIT_OK; b++)
        st = fit_branch(act, p, t->nbranch == 2 ? (b ? 1 : -1) : 0, t->y_min, d,
                        p->target / 2, &t->br[b], e2, sizeof e2);
      if (st == ACTFIT_OK && (t->err_exact_y = actfit__invact_err_real_line(t, act)) <=
                                 p->target)
        break;
      if (st == ACTFIT_OK)
        st = ACTFIT_ETARGET;
      if (st != ACTFIT_ETARGET) {
        actfit__seterr(err, errlen, "%s", e2);
        actfit_table_destroy(t);
        return st;
      }
      if (d == p->max_degree)
        actfit__seterr(err, errlen, "cannot meet target %g with degree <= %d and <= %d pieces"
                       " per branch: %s", p->target, p->max_degree, p->max_pieces,
                       *e2 ? e2 : "error between samples");
    }
    if (st != ACTFIT_OK) {
      actfit_table_destroy(t);
      return st;
    }
  }
  count_ops(t);
  if (t->exact)
    t->err_exact_y = actfit__invact_err_real_line(t, act);
  /* the real-line error is already measured: only the dtype table remains */
  st = actfit__invact_analyse_dtypes(t, act, p->npoints, p->progress, p->user, p->threads, err,
                                     errlen);
  if (st != ACTFIT_OK)
    actfit_table_destroy(t);
  return st;
}
