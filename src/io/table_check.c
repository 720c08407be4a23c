/* A parsed table against the activation it names, as the fits make it: a built-in's
 * parameters pass its own checks, an exact form is the activation's, and InvAct's T and
 * y_min are its minimum (or it has none and the table no bit).  The minimum is checked
 * without a root finder: f' changes sign from - to + exactly once on the analysis grid
 * (act_scan.c, the grid the fitting library finds it on), and within 1e-9 (1 + |T|) of T,
 * so libactfit_table (cJSON alone) checks exactly what libactfit checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actfit/table.h"
#include "act/act_impl.h"
#include "core/util.h"
#include "io/io_impl.h"

static int exact_fits(int exact, const char *act)
{
  const char *e = actfit_table_exact_name(exact);
  return !strcmp(e, act) ||
         (!strcmp(e, "shrink") && (!strcmp(act, "hardshrink") || !strcmp(act, "softshrink")));
}

static actfit_status check_min(const actfit_table *t, const char *name, actfit__eval_fn eval,
                               const void *ctx, const double *kinks, int nkinks, char *err,
                               size_t errlen)
{
  int n, type[ACTFIT_ACT_MAX_BRANCHES], first;
  double lo[ACTFIT_ACT_MAX_BRANCHES], hi[ACTFIT_ACT_MAX_BRANCHES];
  double *xs = actfit__act_sample_points(kinks, nkinks, &n);
  if (!xs)
    return ACTFIT_ENOMEM;
  int nc = actfit__act_sign_changes(eval, ctx, xs, n, lo, hi, type,
                                    ACTFIT_ACT_MAX_BRANCHES - 1, &first);
  free(xs);
  int has_min = nc == 1 && type[0] == 1;
  if (t->bit && !has_min) {
    actfit__seterr(err, errlen, "field 'bit' is true, but %s has no minimum to split at", name);
    return ACTFIT_EFORMAT;
  }
  if (!t->bit && has_min) {
    actfit__seterr(err, errlen, "field 'bit' is false, but %s has a minimum (between %.9g and "
                   "%.9g): its inverse needs the branch bit", name, lo[0], hi[0]);
    return ACTFIT_EFORMAT;
  }
  if (!t->bit)
    return ACTFIT_OK;
  /* f' < 0 just left of T and > 0 just right: the minimum is within d of T */
  double d = 1e-9 * (1 + fabs(t->T)), l[3], r[3], m[3];
  eval(ctx, t->T - d, l);
  eval(ctx, t->T + d, r);
  if (!(l[1] < 0 && r[1] > 0)) {
    actfit__seterr(err, errlen, "field 'T' is %.17g, but the minimum of %s lies between %.17g "
                   "and %.17g", t->T, name, lo[0], hi[0]);
    return ACTFIT_EFORMAT;
  }
  eval(ctx, t->T, m);
  if (!(fabs(t->y_min - m[0]) <= 1e-9 * (1 + fabs(m[0])))) {
    actfit__seterr(err, errlen, "field 'y_min' is %.17g, but the minimum of %s is %.17g",
                   t->y_min, name, m[0]);
    return ACTFIT_EFORMAT;
  }
  return ACTFIT_OK;
}

actfit_status actfit__table_check_act(const actfit_table *t, char *err, size_t errlen)
{
  char inner[ACTFIT_ERRLEN] = "";
  if (t->expr) {
    if (t->method == ACTFIT_METHOD_INVACT && t->exact) {
      actfit__seterr(err, errlen, "field 'exact' is '%s', which is not the derivative of the "
                     "expression", actfit_table_exact_name(t->exact));
      return ACTFIT_EFORMAT;
    }
    actfit__expr_fn fn;
    actfit_status st = actfit__table_expr_open(t->expr, &fn, inner, sizeof inner);
    if (st != ACTFIT_OK) {
      actfit__seterr(err, errlen, "field 'activation': %s", inner);
      return st == ACTFIT_ENOMEM || st == ACTFIT_ENODEV ? st : ACTFIT_EFORMAT;
    }
    if (t->method == ACTFIT_METHOD_INVACT)
      st = check_min(t, "the expression", fn.eval, fn.ctx, fn.kinks, fn.nkinks, err, errlen);
    actfit__table_expr_close(&fn);
    return st;
  }
  const actfit_act_type *ty = actfit_act_type_find(t->act_name);
  if (!ty) {
    actfit__seterr(err, errlen, "field 'activation.name': unknown activation '%s'",
                   t->act_name);
    return ACTFIT_EUNKNOWN;
  }
  if (actfit__act_check_params(ty, t->params, inner, sizeof inner) != ACTFIT_OK) {
    actfit__seterr(err, errlen, "field 'activation': %s", inner);
    return ACTFIT_EFORMAT;
  }
  if (t->method != ACTFIT_METHOD_INVACT)
    return ACTFIT_OK;
  if (t->exact && !exact_fits(t->exact, t->act_name)) {
    actfit__seterr(err, errlen, "field 'exact' is '%s', which is not the derivative of %s",
                   actfit_table_exact_name(t->exact), t->act_name);
    return ACTFIT_EFORMAT;
  }
  double kinks[ACTFIT_ACT_MAX_KINKS];
  int jump[ACTFIT_ACT_MAX_KINKS];
  int nk = ty->kinks(t->params, kinks, jump);
  actfit__builtin_ctx ctx = {ty, t->params};
  return check_min(t, t->act_name, actfit__builtin_eval, &ctx, kinks, nk, err, errlen);
}
