/* Globally optimal segmentation DP (Bellman 1961; FewBit, Novikov et al. 2023, sec. 3):
 *   D_m[i] = min_j D_{m-1}[j] + cost(j, i).
 * Exact branch-and-bound over j: for j in [lo, hi], D_{m-1}[j] >= D_{m-1}[lo] (D is
 * nondecreasing: dropping cells never costs more) and cost(j, i) >= cost(hi, i) (a segment
 * costs at least any sub-segment), so LB = D_{m-1}[lo] + cost(hi, i) bounds the whole range.
 * Ranges are halved recursively, the half holding the previous argmin first.  Ties go to the
 * smaller j, so the result is independent of visiting order and of the thread count.
 * Within a thread's rows a second bound holds: for j <= hi, superadditivity of the cost gives
 * D_{m-1}[j] + cost(j, i) >= D_m[hi] + cost(hi, i).  Bounds and screening use a plain-double
 * cost with a rigorous error bound; the double-double cost decides the rest. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "fit/grid_impl.h"

#define LEAF 8

typedef struct {
  const actfit_grid *g;
  const double *prev;
  double *cur;
  int32_t *arg;
  int jmin;     /* smallest valid j */
  int i0, i1;   /* rows [i0, i1) */
} dp_job;

typedef struct {
  const actfit_grid *g;
  const double *prev;
  const double *cur; /* this layer, valid on rows [cur_lo, i) */
  int cur_lo;
  int i;
  double best;
  int bestj;
} search_st;

static void scan(search_st *s, int lo, int hi)
{
  for (int j = lo; j <= hi; j++) {
    double err, cf = actfit__cost_fast(s->g, j, s->i, &err);
    double low = cf - err; /* (a ternary: fmax is a libm call on baseline x86-64) */
    if (s->prev[j] + (low > 0 ? low : 0.0) > s->best) /* provably worse: no double-double */
      continue;
    double v = s->prev[j] + actfit__cost(s->g, j, s->i);
    if (v < s->best || (v == s->best && j < s->bestj)) {
      s->best = v;
      s->bestj = j;
    }
  }
}

/* prune unless the bound could still beat (or tie at a smaller index) the incumbent;
 * the relative margin absorbs rounding in the bound */
static int prunable(const search_st *s, int lo, int hi)
{
  double err, cf = actfit__cost_fast(s->g, hi, s->i, &err);
  /* for j <= hi also D_m[hi] + cost(hi, i) bounds it: a piece costs at least the sum of
   * its two parts, and D_{m-1}[j] + cost(j, hi) >= D_m[hi] */
  double base = s->prev[lo];
  if (hi >= s->cur_lo && hi < s->i && s->cur[hi] > base)
    base = s->cur[hi];
  double low = cf - err;
  double lb = base + (low > 0 ? low : 0.0); /* costs are >= 0 */
  double slack = 1e-13 * fabs(s->best);
  if (lb > s->best + slack)
    return 1;
  return lb >= s->best + slack && lo > s->bestj;
}

static void search(search_st *s, int lo, int hi, int hint)
{
  if (prunable(s, lo, hi))
    return;
  if (hi - lo < LEAF) {
    scan(s, lo, hi);
    return;
  }
  int mid = lo + (hi - lo) / 2;
  if (hint > mid) {
    search(s, mid + 1, hi, hint);
    search(s, lo, mid, hint);
  } else {
    search(s, lo, mid, hint);
    search(s, mid + 1, hi, hint);
  }
}

ACTFIT__HOT static void *run_rows(void *arg)
{
  dp_job *jb = arg;
  int hint = jb->jmin;
  for (int i = jb->i0; i < jb->i1; i++) {
    search_st s = {jb->g, jb->prev, jb->cur, jb->i0, i, INFINITY, -1};
    int h = hint < jb->jmin ? jb->jmin : hint > i - 1 ? i - 1 : hint;
    scan(&s, h, h);
    search(&s, jb->jmin, i - 1, h);
    jb->cur[i] = s.best;
    jb->arg[i] = s.bestj;
    hint = s.bestj;
  }
  return NULL;
}

ACTFIT__HOT static void dense_rows(const actfit_grid *g, const double *prev, double *cur,
                                   int32_t *am, int jmin, int i0, int i1)
{
  for (int i = i0; i < i1; i++) {
    double best = INFINITY;
    int bj = -1;
    for (int j = jmin; j < i; j++) {
      double v = prev[j] + actfit__cost(g, j, i);
      if (v < best) {
        best = v;
        bj = j;
      }
    }
    cur[i] = best;
    am[i] = bj;
  }
}

static int ncores(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

static actfit_status dp_run(const actfit_grid *g, int k, int threads, int dense, int *cuts,
                            double *E)
{
  int n = g->n;
  if (k < 1 || n < k)
    return ACTFIT_EINVAL;
  size_t n1 = (size_t)n + 1;
  double *prev = malloc(n1 * sizeof *prev), *cur = malloc(n1 * sizeof *cur);
  int32_t *arg = malloc((size_t)k * n1 * sizeof *arg);
  if (!prev || !cur || !arg) {
    free(prev);
    free(cur);
    free(arg);
    return ACTFIT_ENOMEM;
  }
  for (int i = 0; i <= n; i++) {
    prev[i] = i ? actfit__cost(g, 0, i) : 0.0;
    arg[i] = 0;
  }
  if (threads <= 0)
    threads = ncores();
  for (int m = 2; m <= k; m++) {
    /* rows that can still lead to a full partition: m <= i <= n - (k - m) */
    int i0 = m, i1 = n - (k - m) + 1;
    if (m == k)
      i0 = n;
    int32_t *am = arg + (size_t)(m - 1) * n1;
    if (dense) {
      dense_rows(g, prev, cur, am, m - 1, i0, i1);
    } else {
      int rows = i1 - i0, t = threads;
      if (rows < 256 * t)
        t = 1;
      dp_job jobs[64];
      pthread_t tid[64];
      for (int q = 0; q < t; q++) {
        jobs[q] = (dp_job){g, prev, cur, am, m - 1, i0 + (int)((long)rows * q / t),
                           i0 + (int)((long)rows * (q + 1) / t)};
      }
      int started = 0;
      for (int q = 1; q < t; q++)
        if (pthread_create(&tid[q], NULL, run_rows, &jobs[q]) == 0)
          started = q;
        else
          break;
      run_rows(&jobs[0]);
      for (int q = 1; q <= started; q++)
        pthread_join(tid[q], NULL);
      for (int q = started + 1; q < t; q++)
        run_rows(&jobs[q]);
    }
    /* entries outside [i0, i1) are never read by a later layer's valid rows, but keep
     * them defined and monotone for the bound: +inf */
    for (int i = 0; i < i0; i++)
      cur[i] = INFINITY;
    for (int i = i1; i <= n; i++)
      cur[i] = INFINITY;
    double *t = prev;
    prev = cur;
    cur = t;
  }
  *E = prev[n];
  int i = n;
  for (int m = k; m >= 2; m--) {
    int j = arg[(size_t)(m - 1) * n1 + i];
    cuts[m - 2] = j;
    i = j;
  }
  free(prev);
  free(cur);
  free(arg);
  return ACTFIT_OK;
}

/* A node strictly inside a run of cells where f' is exactly constant (V = 0 and the same
 * mean, with weight) is never needed as a border: with the other borders fixed, the cost
 * of a border moving through such a run is concave in its position (each side's cost is
 * S2 + c^2 t - (S1 + c t)^2 / (W + t), t the weight it gains), so an end of the run does at
 * least as well.  Those nodes are dropped and the DP runs on the merged cells; borders map
 * back to the original nodes.  On wide domains (GELU's f' is exactly 0 below -38.6 and 1
 * above 8.7 in double) this removes most of the grid. */
static int interior_node(const actfit_grid *g, int c)
{
  return g->W[c - 1] > 0 && g->W[c] > 0 && g->V[c - 1] == 0 && g->V[c] == 0 &&
         g->mu[c - 1] == g->mu[c];
}

actfit_status actfit_dp_l2(const actfit_grid *g, int k, int threads, int *cuts, double *E)
{
  int n = g->n, kept = 1;
  if (k < 1 || n < k)
    return ACTFIT_EINVAL;
  for (int c = 1; c < n; c++)
    kept += !interior_node(g, c);
  kept++; /* node n */
  if (kept == n + 1 || kept - 1 < k)
    return dp_run(g, k, threads, 0, cuts, E);
  int *map = malloc(sizeof *map * (size_t)kept);
  double *buf = malloc(sizeof *buf * (size_t)kept * 8);
  if (!map || !buf) {
    free(map);
    free(buf);
    return ACTFIT_ENOMEM;
  }
  int m = 0;
  for (int c = 0; c <= n; c++)
    if (c == 0 || c == n || !interior_node(g, c))
      map[m++] = c;
  actfit_grid merged = *g; /* only n and the prefix sums are read by the DP */
  merged.n = kept - 1;
  for (int q = 0; q < 8; q++) {
    merged.p[q] = buf + (size_t)q * (size_t)kept;
    for (int i = 0; i < kept; i++)
      merged.p[q][i] = g->p[q][map[i]];
  }
  actfit_status st = dp_run(&merged, k, threads, 0, cuts, E);
  if (st == ACTFIT_OK)
    for (int i = 0; i < k - 1; i++)
      cuts[i] = map[cuts[i]];
  free(map);
  free(buf);
  return st;
}

actfit_status actfit_dp_l2_dense(const actfit_grid *g, int k, int *cuts, double *E)
{
  return dp_run(g, k, 1, 1, cuts, E);
}
