/* The table object: its life (init/destroy, alloc/free), its FewBit storage and codes,
 * and the names of InvAct's exact forms.  The JSON codec is table_json.c, the checks against
 * the activation table_check.c, file reading and atomic writing file.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actfit/table.h"
#include "elem_types.h"

void actfit_table_init(actfit_table *t)
{
  memset(t, 0, sizeof *t);
  t->version = ACTFIT_TABLE_VERSION;
  t->E = t->E_dp = t->max_abs = t->kkt = NAN;
  t->time_dp = t->time_refine = -1.0;
}

void actfit_table_destroy(actfit_table *t)
{
  if (!t)
    return;
  free(t->expr);
  free(t->borders);
  free(t->levels);
  free(t->br);
  actfit_table_init(t);
}

actfit_status actfit_table_set_bits(actfit_table *t, int bits)
{
  if (bits < 1 || bits > ACTFIT_TABLE_MAX_BITS)
    return ACTFIT_EINVAL;
  size_t k = (size_t)1 << bits;
  double *b = calloc(k - 1 ? k - 1 : 1, sizeof *b), *l = calloc(k, sizeof *l);
  if (!b || !l) {
    free(b);
    free(l);
    return ACTFIT_ENOMEM;
  }
  free(t->borders);
  free(t->levels);
  t->borders = b;
  t->levels = l;
  t->bits = bits;
  return ACTFIT_OK;
}

int actfit_table_code(const actfit_table *t, double x)
{
  int nb = (1 << t->bits) - 1, c = 0;
  if (t->parity_even)
    x = fabs(x);
  /* borders are few (<= 255) and sorted: binary search on "number of borders <= x" */
  int lo = 0, hi = nb;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (t->borders[mid] <= x)
      lo = mid + 1;
    else
      hi = mid;
  }
  c = lo;
  return c;
}

actfit_status actfit_table_alloc(actfit_table **out)
{
  *out = malloc(sizeof **out);
  if (!*out)
    return ACTFIT_ENOMEM;
  actfit_table_init(*out);
  return ACTFIT_OK;
}

void actfit_table_free(actfit_table *t)
{
  if (!t)
    return;
  actfit_table_destroy(t);
  free(t);
}

int actfit_table_method(const actfit_table *t) { return t ? (int)t->method : 0; }

static const char *const exact_names[] = {
  "", "sigmoid", "tanh", "softplus", "elu", "celu", "selu", "softsign", "logsigmoid", "relu",
  "leaky_relu", "relu6", "hardtanh", "hardsigmoid", "hardswish", "shrink", NULL};

const char *actfit_table_exact_name(int exact)
{
  return exact > 0 && exact <= ACTFIT_EXACT_SHRINK ? exact_names[exact] : "";
}
