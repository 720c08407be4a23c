/* One-call fitting and error measurement for bindings (the PyTorch package calls these
 * through ctypes): the same library calls the CLI's fewbit and invact subcommands make,
 * with their defaults, on heap tables. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actfit/fewbit.h"
#include "actfit/invact.h"
#include "actfit/table.h"
#include "core/util.h"

static actfit_status act_of(const char *spec, actfit_act **act, char *err, size_t errlen)
{
  if (!spec)
    return ACTFIT_EINVAL;
  if (!strncmp(spec, "expr:", 5))
    return actfit_act_alloc_expr(spec + 5, act, err, errlen);
  return actfit_act_alloc(spec, act, err, errlen);
}

actfit_status actfit_table_fit(const char *spec, const char *method, int bits,
                               const char *weight, actfit_table **out, char *err,
                               size_t errlen)
{
  actfit_act *act = NULL;
  actfit_weight *w = NULL;
  *out = NULL;
  if (err && errlen)
    *err = '\0';
  int fewbit = method && !strcmp(method, "fewbit");
  if (!fewbit && !(method && !strcmp(method, "invact"))) {
    actfit__seterr(err, errlen, "unknown method '%s' (fewbit, invact)", method ? method : "");
    return ACTFIT_EUNKNOWN;
  }
  actfit_status st = act_of(spec, &act, err, errlen);
  if (st == ACTFIT_OK && fewbit)
    st = actfit_weight_alloc(weight ? weight : "uniform", &w, err, errlen);
  if (st == ACTFIT_OK)
    st = actfit_table_alloc(out);
  if (st == ACTFIT_OK && fewbit) {
    actfit_fewbit_params p;
    actfit_fewbit_params_init(&p);
    p.bits = bits;
    st = actfit_fewbit_fit(act, w, &p, *out, err, errlen);
  } else if (st == ACTFIT_OK) {
    actfit_invact_params p;
    actfit_invact_params_init(&p);
    p.npoints = 0; /* the error for exact y is measured; the per-dtype table is skipped */
    st = actfit_invact_fit(act, &p, *out, err, errlen);
  }
  if (st != ACTFIT_OK) {
    if (err && errlen && !*err)
      actfit__seterr(err, errlen, "%s", actfit_strerror(st));
    actfit_table_free(*out);
    *out = NULL;
  }
  actfit_weight_free(w);
  actfit_act_free(act);
  return st;
}

actfit_status actfit_table_fewbit_error(const actfit_table *t, const char *weight, double *E,
                                        char *err, size_t errlen)
{
  actfit_act *act = NULL;
  actfit_weight *w = NULL;
  *E = NAN;
  if (!t || t->method != ACTFIT_METHOD_FEWBIT) {
    actfit__seterr(err, errlen, "not a FewBit table");
    return ACTFIT_EINVAL;
  }
  actfit_status st = actfit_table_act(t, &act, err, errlen);
  if (st == ACTFIT_OK)
    st = actfit_weight_alloc(weight ? weight : t->weight, &w, err, errlen);
  if (st == ACTFIT_OK) {
    double a, b;
    actfit_weight_default_domain(w, &a, &b);
    actfit_fewbit_report rep;
    memset(&rep, 0, sizeof rep);
    st = actfit_fewbit_eval(t, act, w, a, b, &rep, err, errlen);
    if (st == ACTFIT_OK)
      *E = rep.E;
    free(rep.piece_E);
  }
  actfit_weight_free(w);
  actfit_act_free(act);
  return st;
}
