/* FewBit fit: grid DP (global optimum over cell borders), then refinement off the grid to
 * the exact stationary point.  l2: Newton on the border conditions
 *   F_i = f'(b_i) - (l_{i-1} + l_i)/2 = 0,  l_i = int f'w / int w over piece i,
 * whose Jacobian is tridiagonal (gsl_linalg_solve_tridiag), with a line search that never
 * lets E rise.  linf: greedy covering with bisection on E (exact minimax), on the grid and
 * then continuously. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_vector.h>

#include "core/util.h"
#include "fit/grid_impl.h"

static const actfit_norm_type norm_l2 = {"l2", "weighted L2: integral of (f' - q)^2 w"};
static const actfit_norm_type norm_linf = {"linf", "max |f' - q| where w > 0"};
const actfit_norm_type *const actfit_norm_l2 = &norm_l2;
const actfit_norm_type *const actfit_norm_linf = &norm_linf;

const actfit_norm_type *actfit_norm_find(const char *name)
{
  if (!strcmp(name, "l2"))
    return &norm_l2;
  if (!strcmp(name, "linf"))
    return &norm_linf;
  return NULL;
}

void actfit_fewbit_params_init(actfit_fewbit_params *p)
{
  memset(p, 0, sizeof *p);
  p->bits = 2;
  p->a = p->b = NAN;
  p->parity = -1;
}

/* ---- piece integrals from the grid + partial cells ------------------------------------ */

static int cell_of(const actfit_grid *g, double x)
{
  int lo = 0, hi = g->n - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (g->x[mid] <= x)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

static double pre(const actfit_grid *g, int q, int i) { return g->p[2 * q][i] + g->p[2 * q + 1][i]; }

/* W and M = int f'w over [u, v] */
static void piece_WM(const actfit__ctx *cx, const actfit_grid *g, double u, double v, double *W,
                     double *M)
{
  int cu = cell_of(g, u), cv = cell_of(g, v);
  double w1, m1;
  if (cu == cv || (cv == cu + 1 && v == g->x[cv])) {
    actfit__integrate(cx, u, v, 0, 1, W, M, NULL);
    return;
  }
  if (v == g->x[cv]) /* v on a node: cell cv not included */
    cv--;
  double Wf = 0, Mf = 0;
  if (u > g->x[cu]) {
    actfit__integrate(cx, u, g->x[cu + 1], 0, 1, &w1, &m1, NULL);
    Wf += w1;
    Mf += m1;
    cu++;
  }
  if (v < g->x[cv + 1]) {
    actfit__integrate(cx, g->x[cv], v, 0, 1, &w1, &m1, NULL);
    Wf += w1;
    Mf += m1;
  } else {
    cv++;
  }
  /* full cells cu .. cv-1 */
  if (cv > cu) {
    Wf += pre(g, 0, cv) - pre(g, 0, cu);
    Mf += pre(g, 1, cv) - pre(g, 1, cu);
  }
  *W = Wf;
  *M = Mf;
}

/* int (f' - l)^2 w over [u, v]: every term is >= 0, so no cancellation */
static double piece_E(const actfit__ctx *cx, const actfit_grid *g, double u, double v, double l)
{
  int cu = cell_of(g, u), cv = cell_of(g, v);
  double W, S2, e = 0;
  if (cu == cv) {
    actfit__integrate(cx, u, v, l, 2, &W, NULL, &S2);
    return S2;
  }
  if (u > g->x[cu]) {
    actfit__integrate(cx, u, g->x[cu + 1], l, 2, &W, NULL, &S2);
    e += S2;
    cu++;
  }
  if (v > g->x[cv]) {
    actfit__integrate(cx, g->x[cv], v, l, 2, &W, NULL, &S2);
    e += S2;
  }
  for (int c = cu; c < cv; c++) {
    double d = g->mu[c] - l;
    e += g->V[c] + g->W[c] * d * d;
  }
  return e;
}

typedef struct {
  int k;
  double *b;   /* k + 1 points: lo, borders, hi */
  double *l;   /* k levels */
  double *W;   /* k piece weights */
} sol;

static double levels_and_E(const actfit__ctx *cx, const actfit_grid *g, sol *s, int want_E)
{
  double E = 0;
  for (int i = 0; i < s->k; i++) {
    double W, M;
    piece_WM(cx, g, s->b[i], s->b[i + 1], &W, &M);
    s->W[i] = W;
    /* a piece of zero weight keeps its neighbours' level so the border is neutral */
    s->l[i] = W > 0 ? M / W : (i ? s->l[i - 1] : 0.0);
    if (want_E && W > 0)
      E += piece_E(cx, g, s->b[i], s->b[i + 1], s->l[i]);
  }
  return E;
}

static int is_break(const actfit__ctx *cx, double x)
{
  for (int i = 0; i < cx->nbreaks; i++)
    if (fabs(x - cx->breaks[i]) <= 4 * 2.2e-16 * fmax(1.0, fabs(x)))
      return 1;
  return 0;
}

/* Stationarity residual of border i (1..k-1): |f'(b) - mid| where w(b) > 0; at a jump of f'
 * the distance of mid from [f'(b-), f'(b+)]. */
static double border_residual(const actfit__ctx *cx, const sol *s, int i)
{
  double b = s->b[i], mid = 0.5 * (s->l[i - 1] + s->l[i]);
  double wl = actfit__wfun_eval(cx->wf, nextafter(b, -INFINITY));
  double wr = actfit__wfun_eval(cx->wf, nextafter(b, INFINITY));
  if (wl == 0 && wr == 0)
    return 0.0;
  if (s->l[i - 1] == s->l[i])
    return 0.0;
  if (is_break(cx, b)) {
    double dl = actfit_act_df(cx->act, nextafter(b, -INFINITY));
    double dr = actfit_act_df(cx->act, nextafter(b, INFINITY));
    double lo = fmin(dl, dr), hi = fmax(dl, dr);
    return mid < lo ? lo - mid : mid > hi ? mid - hi : 0.0;
  }
  /* dE/db = w(b) (l_i - l_{i-1}) (2 f'(b) - l_{i-1} - l_i): where the weight is zero on one
   * side (an empty histogram cell), the one-sided derivative there is zero and the
   * optimality condition is the other side's inequality, not the equality */
  double d = actfit_act_df(cx->act, b) - mid, up = s->l[i] > s->l[i - 1] ? d : -d;
  if (wl == 0)
    return fmax(0.0, -up); /* moving right must not lower E */
  if (wr == 0)
    return fmax(0.0, up); /* moving left must not lower E */
  return fabs(d);
}

static double max_residual(const actfit__ctx *cx, const sol *s)
{
  double r = 0;
  for (int i = 1; i < s->k; i++)
    r = fmax(r, border_residual(cx, s, i));
  return r;
}

/* Newton steps on the borders; returns the final E. */
static double refine_l2(const actfit__ctx *cx, const actfit_grid *g, sol *s, double *kkt,
                        double *E0)
{
  int k = s->k, K = k - 1;
  double E = levels_and_E(cx, g, s, 1);
  double *b0 = malloc(sizeof(double) * (size_t)(k + 1));
  *E0 = E;
  if (b0)
    memcpy(b0, s->b, sizeof(double) * (size_t)(k + 1));
  if (K == 0) {
    free(b0);
    *kkt = 0;
    return E;
  }
  double *F = malloc(sizeof *F * (size_t)K), *dg = malloc(sizeof *dg * (size_t)K);
  double *up = malloc(sizeof *up * (size_t)K), *lw = malloc(sizeof *lw * (size_t)K);
  double *dx = malloc(sizeof *dx * (size_t)K);
  sol t = {k, malloc(sizeof(double) * (size_t)(k + 1)), malloc(sizeof(double) * (size_t)k),
           malloc(sizeof(double) * (size_t)k)};
  if (!F || !dg || !up || !lw || !dx || !t.b || !t.l || !t.W)
    goto out;
  for (int it = 0; it < 60; it++) {
    double res = max_residual(cx, s);
    if (res < 1e-15)
      break;
    /* Jacobian of F_i = f'(b_i) - (l_{i-1} + l_i)/2 */
    for (int r = 0; r < K; r++) {
      int i = r + 1;
      double b = s->b[i], o[3];
      actfit_act_eval(cx->act, b, o);
      double w = actfit__wfun_eval(cx->wf, b);
      F[r] = o[1] - 0.5 * (s->l[i - 1] + s->l[i]);
      double dl_prev = s->W[i - 1] > 0 ? w * (o[1] - s->l[i - 1]) / s->W[i - 1] : 0; /* d l_{i-1}/d b_i */
      double dl_next = s->W[i] > 0 ? -w * (o[1] - s->l[i]) / s->W[i] : 0;         /* d l_i/d b_i */
      dg[r] = o[2] - 0.5 * (dl_prev + dl_next);
      if (r > 0) {
        double bp = s->b[i - 1], wp = actfit__wfun_eval(cx->wf, bp);
        double d = s->W[i - 1] > 0 ? -wp * (actfit_act_df(cx->act, bp) - s->l[i - 1]) / s->W[i - 1] : 0;
        lw[r - 1] = -0.5 * d; /* d F_i / d b_{i-1} */
      }
      if (r < K - 1) {
        double bn = s->b[i + 1], wn = actfit__wfun_eval(cx->wf, bn);
        double d = s->W[i] > 0 ? wn * (actfit_act_df(cx->act, bn) - s->l[i]) / s->W[i] : 0;
        up[r] = -0.5 * d; /* d F_i / d b_{i+1} */
      }
      if (w == 0 || s->l[i - 1] == s->l[i] || !isfinite(dg[r]) || dg[r] == 0 ||
          (is_break(cx, b) && border_residual(cx, s, i) == 0)) {
        /* frozen border */
        F[r] = 0;
        dg[r] = 1;
        if (r > 0) lw[r - 1] = 0;
        if (r < K - 1) up[r] = 0;
      }
      F[r] = -F[r];
    }
    /* zero the couplings into frozen rows' neighbours is not needed: frozen rows are e_r */
    gsl_vector_view vd = gsl_vector_view_array(dg, (size_t)K);
    gsl_vector_view vb = gsl_vector_view_array(F, (size_t)K);
    gsl_vector_view vx = gsl_vector_view_array(dx, (size_t)K);
    int ok;
    if (K == 1) {
      dx[0] = F[0] / dg[0];
      ok = isfinite(dx[0]);
    } else {
      gsl_vector_view ve = gsl_vector_view_array(up, (size_t)K - 1);
      gsl_vector_view vf = gsl_vector_view_array(lw, (size_t)K - 1);
      ok = gsl_linalg_solve_tridiag(&vd.vector, &ve.vector, &vf.vector, &vb.vector,
                                    &vx.vector) == 0;
    }
    if (!ok)
      break;
    double alpha = 1.0;
    int accepted = 0;
    for (int ls = 0; ls < 40 && !accepted; ls++, alpha *= 0.5) {
      t.b[0] = s->b[0];
      t.b[k] = s->b[k];
      int order = 1;
      for (int i = 1; i < k; i++) {
        t.b[i] = s->b[i] + alpha * dx[i - 1];
        if (!isfinite(t.b[i]))
          order = 0;
      }
      for (int i = 1; i <= k && order; i++)
        if (!(t.b[i] > t.b[i - 1]))
          order = 0;
      if (!order)
        continue;
      double Et = levels_and_E(cx, g, &t, 1);
      double rt = max_residual(cx, &t);
      /* E is summed over thousands of cells (noise ~1e-13 relative); near the optimum it
       * changes far less than that, so there the residual decides */
      if (Et < E || (Et <= E * (1 + 1e-12) + 1e-300 && rt < res)) {
        memcpy(s->b, t.b, sizeof(double) * (size_t)(k + 1));
        memcpy(s->l, t.l, sizeof(double) * (size_t)k);
        memcpy(s->W, t.W, sizeof(double) * (size_t)k);
        E = fmin(E, Et);
        accepted = 1;
      }
    }
    if (!accepted)
      break;
  }
out:
  if (b0 && E > *E0) { /* never above the grid solution, whatever the rounding */
    memcpy(s->b, b0, sizeof(double) * (size_t)(k + 1));
    E = levels_and_E(cx, g, s, 1);
  }
  free(b0);
  *kkt = max_residual(cx, s);
  free(F); free(dg); free(up); free(lw); free(dx);
  free(t.b); free(t.l); free(t.W);
  return E;
}

/* ---- max |f' - q| ---------------------------------------------------------------------- */

static double max_err(const actfit__ctx *cx, const actfit_grid *g, const sol *s)
{
  double m = 0;
  for (int i = 0; i < s->k; i++) {
    double u = s->b[i], v = s->b[i + 1];
    int cu = cell_of(g, u), cv = cell_of(g, v);
    double mn = INFINITY, mx = -INFINITY, a, b;
    for (int c = cu; c <= cv && c < g->n; c++) {
      double x0 = fmax(u, g->x[c]), x1 = fmin(v, g->x[c + 1]);
      if (!(x1 > x0))
        continue;
      if (x0 == g->x[c] && x1 == g->x[c + 1]) {
        a = g->fmin[c];
        b = g->fmax[c];
      } else {
        actfit__range(cx->act, x0, x1, 4, &a, &b, NULL);
      }
      mn = fmin(mn, a);
      mx = fmax(mx, b);
    }
    if (mn <= mx)
      m = fmax(m, fmax(mx - s->l[i], s->l[i] - mn));
  }
  return m;
}

/* ---- linf: greedy covering ------------------------------------------------------------ */

/* Range of f' on [u, v] within one cell (extremes of the whole cell when it is covered). */
static void cell_range(const actfit__ctx *cx, const actfit_grid *g, int c, double u, double v,
                       double *mn, double *mx)
{
  if (u == g->x[c] && v == g->x[c + 1]) {
    *mn = g->fmin[c];
    *mx = g->fmax[c];
  } else {
    actfit__range(cx->act, u, v, 4, mn, mx, NULL);
  }
}

/* Greedy: the fewest pieces with range <= 2E, each as long as possible.  Continuous when
 * cont, else borders on nodes.  Writes at most cap borders; returns the piece count (or
 * cap + 2 when more are needed). */
static int greedy(const actfit__ctx *cx, const actfit_grid *g, double E, int cont, double *bord,
                  double *lev, int cap)
{
  int pieces = 1;
  double pos = g->x[0], mn = INFINITY, mx = -INFINITY;
  for (int c = 0; c < g->n; c++) {
    if (g->W[c] == 0) /* no weight: no constraint */
      continue;
    double a, b;
    cell_range(cx, g, c, fmax(pos, g->x[c]), g->x[c + 1], &a, &b);
    if (fmax(mx, b) - fmin(mn, a) <= 2 * E) {
      mn = fmin(mn, a);
      mx = fmax(mx, b);
      continue;
    }
    /* the piece ends in this cell (or at its start) */
    double lo = fmax(pos, g->x[c]), hi = g->x[c + 1], cut = lo;
    if (cont) {
      double ca, cb;
      cell_range(cx, g, c, lo, nextafter(lo, hi), &ca, &cb);
      if (fmax(mx, cb) - fmin(mn, ca) <= 2 * E) {
        double L = lo, H = hi;
        for (int it = 0; it < 200 && nextafter(L, H) < H; it++) {
          double mid = 0.5 * (L + H);
          cell_range(cx, g, c, lo, mid, &ca, &cb);
          if (fmax(mx, cb) - fmin(mn, ca) <= 2 * E)
            L = mid;
          else
            H = mid;
        }
        cut = L;
        cell_range(cx, g, c, lo, cut, &ca, &cb);
        mn = fmin(mn, ca);
        mx = fmax(mx, cb);
      }
    }
    if (!(mn <= mx)) /* nothing fits before the cut: E is too small */
      return cap + 2;
    if (pieces - 1 >= cap)
      return cap + 2;
    lev[pieces - 1] = 0.5 * (mn + mx);
    bord[pieces - 1] = cut;
    pieces++;
    pos = cut;
    mn = INFINITY;
    mx = -INFINITY;
    /* redo this cell from the cut */
    double a2, b2;
    cell_range(cx, g, c, cut, g->x[c + 1], &a2, &b2);
    if (b2 - a2 > 2 * E)
      return cap + 2;
    mn = a2;
    mx = b2;
  }
  lev[pieces - 1] = mn <= mx ? 0.5 * (mn + mx) : (pieces > 1 ? lev[pieces - 2] : 0.0);
  return pieces;
}

static double fit_linf(const actfit__ctx *cx, const actfit_grid *g, int k, int cont, sol *s)
{
  double gmn = INFINITY, gmx = -INFINITY;
  for (int c = 0; c < g->n; c++)
    if (g->W[c] > 0) {
      gmn = fmin(gmn, g->fmin[c]);
      gmx = fmax(gmx, g->fmax[c]);
    }
  double lo = 0, hi = gmn <= gmx ? 0.5 * (gmx - gmn) : 0;
  double *bord = s->b + 1, *lev = s->l;
  for (int it = 0; it < 200 && hi > 0; it++) {
    double mid = 0.5 * (lo + hi);
    if (!(mid > lo && mid < hi))
      break;
    if (greedy(cx, g, mid, cont, bord, lev, k - 1) <= k)
      hi = mid;
    else
      lo = mid;
  }
  int p = greedy(cx, g, hi, cont, bord, lev, k - 1);
  if (p > k)
    p = 1;
  /* fewer pieces than levels: split the widest piece, same level on both sides */
  s->b[0] = g->x[0];
  while (p < k) {
    s->b[p] = g->x[g->n];
    int wi = 0;
    double ww = -1;
    for (int i = 0; i < p; i++)
      if (s->b[i + 1] - s->b[i] > ww) {
        ww = s->b[i + 1] - s->b[i];
        wi = i;
      }
    for (int i = p; i > wi; i--) {
      s->b[i + 1] = s->b[i];
      s->l[i] = s->l[i - 1];
    }
    s->b[wi + 1] = 0.5 * (s->b[wi] + s->b[wi + 2]);
    p++;
  }
  s->b[k] = g->x[g->n];
  return hi;
}

/* ---- the fit ---------------------------------------------------------------------------- */

actfit_status actfit_fewbit_fit(const actfit_act *act, const actfit_weight *w,
                                const actfit_fewbit_params *p, actfit_table *t, char *err,
                                size_t errlen)
{
  actfit_table_init(t);
  gsl_set_error_handler_off();
  if (p->bits < 1 || p->bits > ACTFIT_TABLE_MAX_BITS) {
    actfit__seterr(err, errlen, "bits must be 1..%d, got %d", ACTFIT_TABLE_MAX_BITS, p->bits);
    return ACTFIT_EINVAL;
  }
  const actfit_norm_type *norm = p->norm ? p->norm : actfit_norm_l2;
  double a = p->a, b = p->b;
  if (isnan(a) || isnan(b))
    actfit_weight_default_domain(w, &a, &b);
  if (!(a < b) || !isfinite(a) || !isfinite(b)) {
    actfit__seterr(err, errlen, "domain needs finite A < B, got %g,%g", a, b);
    return ACTFIT_EINVAL;
  }
  int n = p->grid > 0 ? p->grid : 4096, k = 1 << p->bits;
  if (n < k) {
    actfit__seterr(err, errlen, "grid of %d cells cannot hold %d levels", n, k);
    return ACTFIT_EINVAL;
  }
  if (n > (1 << 24)) {
    actfit__seterr(err, errlen, "grid of %d cells is above the limit 2^24", n);
    return ACTFIT_EINVAL;
  }
  actfit_status st = actfit_act_check_domain(act, a, b, err, errlen);
  if (st != ACTFIT_OK)
    return st;
  const actfit_act_structure *as = actfit_act_get_structure(act);
  int fold = p->parity != 0 && as->deriv_even && a < 0 && b > 0;

  actfit__wfun wf = {w, a, b, fold, NULL, 0, NULL};
  actfit__ctx cx;
  actfit_grid *g = NULL;
  sol s = {k, calloc((size_t)k + 1, sizeof(double)), calloc((size_t)k, sizeof(double)),
           calloc((size_t)k, sizeof(double))};
  int *cuts = calloc((size_t)k, sizeof(int));
  double t0 = actfit__now(), t1, t2;
  if (!s.b || !s.l || !s.W || !cuts) {
    st = ACTFIT_ENOMEM;
    goto done;
  }
  if ((st = actfit__ctx_init(&cx, act, &wf)) != ACTFIT_OK)
    goto done;
  st = actfit__grid_build(&cx, n, &g);
  if (st == ACTFIT_EINVAL)
    actfit__seterr(err, errlen, "weight '%s' has no mass on the domain [%g, %g]",
                   actfit_weight_spec(w), a, b);
  if (st != ACTFIT_OK)
    goto done_ctx;
  if (p->progress)
    p->progress(0.1, p->user);

  double E_dp, E, kkt = 0;
  if (norm == actfit_norm_l2) {
    if ((st = actfit_dp_l2(g, k, p->threads, cuts, &E_dp)) != ACTFIT_OK)
      goto done_ctx;
    t1 = actfit__now();
    if (p->progress)
      p->progress(0.7, p->user);
    s.b[0] = g->x[0];
    s.b[k] = g->x[n];
    for (int i = 1; i < k; i++)
      s.b[i] = g->x[cuts[i - 1]];
    /* E_dp is re-measured by the same piece integrals as E, so the two compare exactly */
    E = refine_l2(&cx, g, &s, &kkt, &E_dp);
  } else {
    E_dp = fit_linf(&cx, g, k, 0, &s);
    t1 = actfit__now();
    E = fit_linf(&cx, g, k, 1, &s);
    if (E > E_dp) { /* never worse than the grid solution */
      E = fit_linf(&cx, g, k, 0, &s);
    }
    kkt = 0;
  }
  t2 = actfit__now();

  if ((st = actfit_table_set_bits(t, p->bits)) != ACTFIT_OK ||
      (st = actfit_table_set_act(t, act)) != ACTFIT_OK)
    goto done_ctx;
  t->method = ACTFIT_METHOD_FEWBIT;
  t->parity_even = fold;
  snprintf(t->norm, sizeof t->norm, "%s", norm->name);
  snprintf(t->weight, sizeof t->weight, "%s", actfit_weight_spec(w));
  t->domain[0] = a;
  t->domain[1] = b;
  t->grid = n;
  for (int i = 0; i < k; i++)
    t->levels[i] = s.l[i];
  for (int i = 1; i < k; i++)
    t->borders[i - 1] = s.b[i];
  t->E_dp = E_dp;
  t->E = E;
  t->kkt = kkt;
  t->max_abs = max_err(&cx, g, &s);
  snprintf(t->measured, sizeof t->measured,
           "%s on %d cells: Gauss-Legendre %d per cell, double-double prefix sums; max by "
           "cell extremes of f'%s", norm->name, n, GL_ORDER_PUBLIC,
           kkt > ACTFIT_FEWBIT_KKT_TOL ? "; refinement not converged (KKT residual above 1e-10): "
           "E is that of these borders, which may be off the exact stationary point" : "");
  if (p->record_time) {
    t->time_dp = t1 - t0;
    t->time_refine = t2 - t1;
  }
  if (p->progress)
    p->progress(1.0, p->user);
done_ctx:
  actfit__ctx_destroy(&cx);
done:
  actfit__wfun_destroy(&wf);
  actfit_grid_free(g);
  free(s.b);
  free(s.l);
  free(s.W);
  free(cuts);
  if (st != ACTFIT_OK)
    actfit_table_destroy(t);
  return st;
}
