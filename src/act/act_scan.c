/* The GSL-free half of the structure analysis (see act_impl.h): the sample grid, the sign
 * scan of f', and parameter checks.  act.c refines each bracket with GSL's Brent solver;
 * the table loader (src/io/table_check.c) only needs the brackets and sign tests. */
#include <math.h>
#include <stdlib.h>

#include "act/act_impl.h"
#include "core/util.h"

double *actfit__act_sample_points(const double *kinks, int nkinks, int *np)
{
  int n = 0, cap = 2 * 8192 + 2 * 15488 + 4 * ACTFIT_ACT_MAX_KINKS + 8;
  double *xs = malloc(sizeof *xs * (size_t)cap);
  if (!xs)
    return NULL;
  for (int i = -16000; i < -512; i++)
    xs[n++] = i / 16.0;
  for (int i = -8192; i <= 8192; i++)
    xs[n++] = i / 256.0;
  for (int i = 513; i <= 16000; i++)
    xs[n++] = i / 16.0;
  for (int k = 0; k < nkinks && k < ACTFIT_ACT_MAX_KINKS; k++) {
    xs[n++] = nextafter(kinks[k], -INFINITY);
    xs[n++] = nextafter(kinks[k], INFINITY);
  }
  qsort(xs, (size_t)n, sizeof *xs, actfit__cmp_double);
  *np = n;
  return xs;
}

static int sgn(double v) { return v > 0 ? 1 : v < 0 ? -1 : 0; }

int actfit__act_sign_changes(actfit__eval_fn eval, const void *ctx, const double *xs, int n,
                             double *lo, double *hi, int *type, int max, int *first_dir)
{
  int count = 0, last = 0;
  double lastx = -INFINITY;
  *first_dir = 0;
  for (int i = 0; i < n; i++) {
    double o[3];
    eval(ctx, xs[i], o);
    int s = sgn(o[1]);
    if (s == 0)
      continue;
    if (!*first_dir)
      *first_dir = s;
    if (last && s != last) {
      if (count == max)
        return -1;
      lo[count] = lastx;
      hi[count] = xs[i];
      type[count++] = s;
    }
    last = s;
    lastx = xs[i];
  }
  return count;
}

actfit_status actfit__act_check_params(const actfit_act_type *t, const double *params,
                                       char *err, size_t errlen)
{
  /* the runtime holds parameters in float and computes beta x, x / alpha, ...: a parameter
   * beyond 1e6 in magnitude is no activation anyone trains with, and overflows there */
  for (int i = 0; i < t->nparams; i++)
    if (!(fabs(params[i]) <= 1e6)) {
      actfit__seterr(err, errlen, "parameter %s=%.17g is out of range for %s (|%s| <= 1e6)",
                     t->param_names[i], params[i], t->name, t->param_names[i]);
      return ACTFIT_EINVAL;
    }
  int bad = t->check ? t->check(params) : -1;
  if (bad >= 0) {
    actfit__seterr(err, errlen, "parameter %s=%.17g is out of range for %s",
                   t->param_names[bad], params[bad], t->name);
    return ACTFIT_EINVAL;
  }
  return ACTFIT_OK;
}

void actfit__builtin_eval(const void *ctx, double x, double out[3])
{
  const actfit__builtin_ctx *c = ctx;
  c->type->eval(c->params, x, out);
}
