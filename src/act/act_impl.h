/* Private to libactfit and libactfit_table: the parts of the activation analysis that need
 * neither GSL nor libmatheval (src/act/act_scan.c), so that the table loader, which has
 * only cJSON, checks a table against its activation exactly as the fitting library does. */
#ifndef ACTFIT_ACT_IMPL_H
#define ACTFIT_ACT_IMPL_H
#include <stddef.h>
#include "actfit/act.h"

/* f, f', f'' of some activation at x (a built-in's descriptor or an expression). */
typedef void (*actfit__eval_fn)(const void *ctx, double x, double out[3]);

/* The grid the structure is found on: step 1/256 on [-32, 32], step 1/16 out to +-1e3 (an
 * oscillation there shows up as sign changes, not as skipped extrema), plus kinks +- one
 * ulp.  Sorted; malloc'ed (NULL when out of memory). */
double *actfit__act_sample_points(const double *kinks, int nkinks, int *np);

/* Where f' changes strict sign on the grid xs[0..n-1] (zeros skipped): the brackets
 * [lo[i], hi[i]] and type[i] = +1 for a minimum (- to +), -1 for a maximum.  *first_dir is
 * the sign of f' at the first sample where it is not 0.  Returns the count, or -1 when
 * there are more than max. */
int actfit__act_sign_changes(actfit__eval_fn eval, const void *ctx, const double *xs, int n,
                             double *lo, double *hi, int *type, int max, int *first_dir);

/* A built-in's parameters: |p| <= 1e6 (the runtime holds them in float) and the
 * descriptor's own check.  EINVAL with one line naming the parameter otherwise. */
actfit_status actfit__act_check_params(const actfit_act_type *t, const double *params,
                                       char *err, size_t errlen);

/* The descriptor's eval as an actfit__eval_fn: ctx is the parameter array's owner below. */
typedef struct actfit__builtin_ctx {
  const actfit_act_type *type;
  const double *params;
} actfit__builtin_ctx;
void actfit__builtin_eval(const void *ctx, double x, double out[3]);

#endif
