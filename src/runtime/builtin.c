/* Tables compiled into the runtime from kernels/generated/ (see `actfit gen`). */
#include <string.h>

#include "actfit/runtime.h"
#include "generated/index.h"

const actfit_rt_fewbit *actfit_rt_fewbit_builtin(const char *act, int bits, const char *weight)
{
  if (!act)
    return NULL;
  if (!weight)
    weight = "uniform";
  for (const actfit_gen_fewbit_entry *e = actfit_gen_fewbit_tables; e->act; e++)
    if (!strcmp(e->act, act) && e->bits == bits && !strcmp(e->weight, weight))
      return e->table;
  return NULL;
}

const actfit_rt_invact *actfit_rt_invact_builtin(const char *act)
{
  if (!act)
    return NULL;
  for (const actfit_gen_invact_entry *e = actfit_gen_invact_tables; e->act; e++)
    if (!strcmp(e->act, act))
      return e->table;
  return NULL;
}

const char *actfit_rt_act_name(int id)
{
#define NAME_ROW(aid, name, fwd, fewbit) #name,
  static const char *const names[ACTFIT_A_COUNT] = {ACTFIT_ACT_LIST(NAME_ROW)};
#undef NAME_ROW
  return id >= 0 && id < ACTFIT_A_COUNT ? names[id] : NULL;
}
