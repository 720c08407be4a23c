/* Tables -> the float structs of kernels/elem.h that the runtime and kernels use. */
#include <math.h>
#include <string.h>

#include "actfit/table.h"
#include "elem.h"

/* the ACTFIT_A_* id of a table's activation, by name from the one list (-1: an expression) */
static int act_id(const actfit_table *t)
{
#define NAME_ROW(id, name, fwd, fewbit) #name,
  static const char *const names[ACTFIT_A_COUNT] = {ACTFIT_ACT_LIST(NAME_ROW)};
#undef NAME_ROW
  for (int i = 0; !t->expr && i < ACTFIT_A_COUNT; i++)
    if (!strcmp(names[i], t->act_name))
      return i;
  return -1;
}

/* Borders round up to float: for every float x, x >= border (double) exactly when
 * x >= the rounded border, so codes equal the double table's. */
actfit_status actfit_table_to_rt_fewbit(const actfit_table *t, actfit_rt_fewbit *rt)
{
  memset(rt, 0, sizeof *rt);
  if (t->method != ACTFIT_METHOD_FEWBIT || t->bits < 1 || t->bits > ACTFIT_RT_MAX_BITS)
    return ACTFIT_EINVAL;
  rt->act = act_id(t); /* -1 for an expression: the runtime encodes, the framework computes y */
  for (int i = 0; i < t->nparams && i < 4; i++)
    rt->params[i] = (float)t->params[i];
  rt->bits = t->bits;
  rt->parity_even = t->parity_even;
  int k = 1 << t->bits;
  for (int i = 0; i < k - 1; i++) {
    float b = (float)t->borders[i];
    if ((double)b < t->borders[i])
      b = nextafterf(b, INFINITY);
    rt->borders[i] = b;
  }
  for (int i = 0; i < k; i++)
    rt->levels[i] = (float)t->levels[i];
  return ACTFIT_OK;
}

actfit_status actfit_table_to_rt_invact(const actfit_table *t, actfit_rt_invact *rt)
{
  memset(rt, 0, sizeof *rt);
  if (t->method != ACTFIT_METHOD_INVACT)
    return ACTFIT_EINVAL;
  rt->act = act_id(t);
  for (int i = 0; i < t->nparams && i < 4; i++)
    rt->params[i] = (float)t->params[i];
  rt->exact = t->exact;
  rt->bit = t->bit;
  rt->T = (float)t->T;
  rt->ymin_hi = (float)t->y_min;
  rt->ymin_lo = (float)(t->y_min - (double)rt->ymin_hi);
  rt->nbranch = t->nbranch;
  for (int b = 0; b < t->nbranch; b++) {
    const actfit_invact_branch *s = &t->br[b];
    actfit_rt_branch *d = &rt->br[b];
    if (s->np > ACTFIT_RT_MAX_TPIECES || s->nb > ACTFIT_RT_MAX_BINADES)
      return ACTFIT_EINVAL;
    d->var = s->var == ACTFIT_INVACT_VAR_T ? ACTFIT_VAR_T : ACTFIT_VAR_Y;
    d->np = s->np;
    d->nb = s->nb;
    d->binade_top = s->binade_top;
    d->asym_lo = (float)s->asym_lo;
    d->asym_hi = (float)s->asym_hi;
    d->asym_zero = (float)s->asym_zero;
    for (int k = 0; k < 2; k++) {
      int n = k ? s->nb : s->np;
      for (int i = 0; i < n; i++) {
        const actfit_invact_piece *sp = k ? &s->b[i] : &s->p[i];
        actfit_rt_piece *dp = k ? &d->b[i] : &d->p[i];
        dp->lo = (float)sp->lo;
        dp->hi = (float)sp->hi;
        dp->c = (float)(0.5 * (sp->lo + sp->hi));
        dp->s = (float)(2.0 / (sp->hi - sp->lo));
        dp->deg = sp->deg;
        for (int j = 0; j <= sp->deg; j++)
          dp->coef[j] = (float)sp->coef[j];
      }
    }
    /* the float ends of the covered range must not cut into it */
    if (d->np) {
      d->p[0].lo = nextafterf(d->p[0].lo, -INFINITY);
      d->p[d->np - 1].hi = nextafterf(d->p[d->np - 1].hi, INFINITY);
    }
  }
  return ACTFIT_OK;
}

