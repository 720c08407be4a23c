/* libFuzzer harness: user expressions (the --expr path): construction with its checks, the
 * structure analysis, and evaluation at a few points.  Built with -DACTFIT_FUZZ=ON (clang);
 * seeded from tests/fuzz/expr-seeds (.ci/clang-fuzz.sh).  Inputs are taken as they are, up
 * to 64 KiB, or, when they start with 0xff, as a recipe for long and deep expressions:
 * 0xff K A 0 B 0 C gives A repeated 4K times, then B, then C repeated 4K times
 * ("x+" 0 "x" gives x+x+...+x; "exp(" 0 "x" 0 ")" nests exp 4K deep). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actfit/act.h"

static char *expand(const uint8_t *data, size_t size)
{
  size_t k = 4 * (size_t)data[1], part[3] = {0, 0, 0}, at[3] = {2, 2, 2};
  int p = 0;
  for (size_t i = 2; i < size && p < 3; i++) {
    if (data[i] == 0) {
      if (++p < 3)
        at[p] = i + 1;
      continue;
    }
    part[p]++;
  }
  char *t = malloc(k * (part[0] + part[2]) + part[1] + 1), *o = t;
  if (!t)
    return NULL;
  for (size_t r = 0; r < k; r++, o += part[0])
    memcpy(o, data + at[0], part[0]);
  memcpy(o, data + at[1], part[1]);
  o += part[1];
  for (size_t r = 0; r < k; r++, o += part[2])
    memcpy(o, data + at[2], part[2]);
  *o = 0;
  return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 65536)
    return 0;
  char *text, err[ACTFIT_ERRLEN];
  if (size >= 3 && data[0] == 0xff) {
    text = expand(data, size);
  } else {
    text = malloc(size + 1);
    if (text) {
      memcpy(text, data, size);
      text[size] = 0;
    }
  }
  if (!text)
    return 0;
  actfit_act *a = NULL;
  if (actfit_act_alloc_expr(text, &a, err, sizeof err) == ACTFIT_OK) {
    const actfit_act_structure *st = actfit_act_get_structure(a);
    if (st->nbranches < 1 || st->nbranches > ACTFIT_ACT_MAX_BRANCHES ||
        st->nkinks < 0 || st->nkinks > ACTFIT_ACT_MAX_KINKS)
      abort();
    double o[3];
    for (int i = -8; i <= 8; i++)
      actfit_act_eval(a, i * 1.37, o);
    actfit_act_check_domain(a, -10, 10, err, sizeof err);
    char spec[512];
    actfit_act_spec(a, spec, sizeof spec);
    actfit_act_free(a);
  }
  free(text);
  return 0;
}
