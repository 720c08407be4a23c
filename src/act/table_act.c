/* Tables and activation objects (libactfit): recording a fit's activation in a table,
 * building the activation a table names, and the loader's expression hook (io_impl.h), which
 * evaluates an expression's table against the expression with libmatheval. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actfit/table.h"
#include "io/io_impl.h"

actfit_status actfit_table_set_act(actfit_table *t, const actfit_act *act)
{
  free(t->expr);
  t->expr = NULL;
  t->act_name[0] = 0;
  t->nparams = 0;
  if (actfit_act_expr(act)) {
    if (!(t->expr = strdup(actfit_act_expr(act))))
      return ACTFIT_ENOMEM;
    return ACTFIT_OK;
  }
  snprintf(t->act_name, sizeof t->act_name, "%s", actfit_act_name(act));
  t->nparams = actfit_act_nparams(act);
  for (int i = 0; i < t->nparams; i++) {
    snprintf(t->param_names[i], sizeof t->param_names[i], "%s", actfit_act_param_name(act, i));
    t->params[i] = actfit_act_param(act, i);
  }
  return ACTFIT_OK;
}

actfit_status actfit_table_act(const actfit_table *t, actfit_act **out, char *err,
                               size_t errlen)
{
  if (t->expr)
    return actfit_act_alloc_expr(t->expr, out, err, errlen);
  char spec[512];
  int n = snprintf(spec, sizeof spec, "%s", t->act_name);
  for (int i = 0; i < t->nparams && n > 0 && (size_t)n < sizeof spec; i++)
    n += snprintf(spec + n, sizeof spec - (size_t)n, "%c%s=%.17g", i ? ',' : ':',
                  t->param_names[i], t->params[i]);
  return actfit_act_alloc(spec, out, err, errlen);
}


static void expr_eval(const void *ctx, double x, double out[3]) { actfit_act_eval(ctx, x, out); }

actfit_status actfit__table_expr_open(const char *expr, actfit__expr_fn *fn, char *err,
                                      size_t errlen)
{
  actfit_act *a = NULL;
  memset(fn, 0, sizeof *fn);
  actfit_status st = actfit_act_alloc_expr(expr, &a, err, errlen);
  if (st != ACTFIT_OK)
    return st;
  const actfit_act_structure *s = actfit_act_get_structure(a);
  fn->eval = expr_eval;
  fn->ctx = a;
  fn->nkinks = s->nkinks;
  memcpy(fn->kinks, s->kinks, sizeof fn->kinks);
  return ACTFIT_OK;
}

void actfit__table_expr_close(actfit__expr_fn *fn)
{
  actfit_act_free(fn->ctx);
  fn->ctx = NULL;
}
