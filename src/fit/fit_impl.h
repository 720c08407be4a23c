/* Private to src/fit: weights as density functions and double-double helpers. */
#ifndef ACTFIT_FIT_IMPL_H
#define ACTFIT_FIT_IMPL_H
#include "actfit/fewbit.h"

enum { W_UNIFORM, W_GAUSS, W_HIST };

struct actfit_weight {
  int kind;
  double mu, sigma;
  double *samples; /* sorted, finite */
  size_t ns;
  char spec[256];
};

/* A density bound to a domain (and folded onto |x| when fold): what the fit sees.
 * For hist weights, the density is the samples' histogram on the cells of `nodes`. */
typedef struct actfit__wfun {
  const actfit_weight *w;
  double a, b;   /* the original domain */
  int fold;
  const double *nodes; /* hist only */
  int n;
  double *hist;  /* hist density per cell, n entries (owned) */
} actfit__wfun;

double actfit__wfun_eval(const actfit__wfun *f, double x);
/* Binds hist weights to the nodes (others ignore them). */
actfit_status actfit__wfun_bind(actfit__wfun *f, const double *nodes, int n);
/* Histograms: binds to n equal cells of [a, b] (*nodes, to free after destroy); others: no-op. */
actfit_status actfit__wfun_bind_uniform(actfit__wfun *f, int n, double **nodes);
void actfit__wfun_destroy(actfit__wfun *f);

/* Double-double: exact sum and product (Knuth two-sum; Dekker split, no FMA needed, so
 * results are the same on every x86-64). */
static inline void dd_two_sum(double a, double b, double *s, double *e)
{
  double x = a + b, z = x - a;
  *s = x;
  *e = (a - (x - z)) + (b - z);
}

static inline void dd_split(double a, double *hi, double *lo)
{
  double t = 134217729.0 * a; /* 2^27 + 1 */
  *hi = t - (t - a);
  *lo = a - *hi;
}

static inline void dd_two_prod(double a, double b, double *p, double *e)
{
  /* the exact error term: a fused multiply-add gives the same bits as Dekker's split, so
   * hot loops are cloned for FMA hardware (ACTFIT__HOT) and results do not change */
  *p = a * b;
  *e = __builtin_fma(a, b, -*p);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ACTFIT__HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define ACTFIT__HOT
#endif

/* (ah + al) += (bh + bl) */
static inline void dd_add(double *ah, double *al, double bh, double bl)
{
  double s, e;
  dd_two_sum(*ah, bh, &s, &e);
  e += *al + bl;
  dd_two_sum(s, e, ah, al);
}

#endif
