/* libFuzzer harness: user expressions (the --expr path): construction with its checks, the
 * structure analysis, and evaluation at a few points.  Built with -DACTFIT_FUZZ=ON (clang);
 * seeded from tests/fuzz/expr-seeds (.ci/fuzz.sh). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actfit/act.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 256)
    return 0;
  char text[257], err[ACTFIT_ERRLEN];
  memcpy(text, data, size);
  text[size] = 0;
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
  return 0;
}
