/* libFuzzer harness: the table loader (JSON text), conversion to the runtime's structs and
 * a few elements of every forward and backward pass in every dtype.  Built by CMake with
 * -DACTFIT_FUZZ=ON (clang); seeded from tables/ and tests/data/ (.ci/fuzz.sh). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actfit/runtime.h"
#include "actfit/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = malloc(size + 1), err[ACTFIT_ERRLEN];
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = 0;
  actfit_table t;
  if (actfit_table_from_json(text, &t, err, sizeof err) == ACTFIT_OK) {
    enum { N = 37 };
    float xs[N], ys[N], go[N], gi[N];
    uint32_t state[2 * 8];
    for (int i = 0; i < N; i++) {
      xs[i] = (float)(i - 18) * 0.7f;
      go[i] = 1.0f;
    }
    xs[0] = 1.0f / 0.0f;
    xs[1] = -xs[0];
    xs[2] = xs[0] - xs[0];
    /* NaN payloads: signalling and quiet, last bit 0 and 1, both signs */
    static const uint32_t nan_bits[6] = {0x7f800001u, 0x7f800002u, 0x7fc00001u, 0xffffffffu,
                                         0xffc00000u, 0xff800001u};
    for (int i = 0; i < 6; i++)
      memcpy(&xs[3 + i], &nan_bits[i], 4);
    if (t.method == ACTFIT_METHOD_FEWBIT) {
      actfit_rt_fewbit fb;
      if (actfit_table_to_rt_fewbit(&t, &fb) == ACTFIT_OK &&
          actfit_rt_fewbit_check(&fb) == ACTFIT_OK)
        for (int d = 0; d < 3; d++) {
          if (fb.act >= 0)
            actfit_fewbit_forward(&fb, (actfit_dtype)d, xs, ys, state, N, NULL);
          actfit_fewbit_encode(&fb, (actfit_dtype)d, xs, state, N, NULL);
          actfit_fewbit_backward(&fb, (actfit_dtype)d, state, go, gi, N, NULL);
        }
    } else {
      actfit_rt_invact ia;
      if (actfit_table_to_rt_invact(&t, &ia) == ACTFIT_OK &&
          actfit_rt_invact_check(&ia) == ACTFIT_OK)
        for (int d = 0; d < 3; d++)
          for (int fl = 0; fl <= ACTFIT_BIT_IN_Y; fl++) {
            if (ia.act >= 0) {
              if (actfit_invact_forward(&ia, (actfit_dtype)d, fl, xs, ys, state, N, NULL) ==
                      ACTFIT_OK && d == ACTFIT_FP32)
                for (int i = 2; i < 9; i++) /* a NaN x gives a NaN y, bit in y or not */
                  if (ys[i] == ys[i])
                    abort();
            } else
              memcpy(ys, xs, sizeof ys);
            actfit_invact_encode(&ia, (actfit_dtype)d, fl, xs, ys, state, N, NULL);
            actfit_invact_backward(&ia, (actfit_dtype)d, fl, ys, state, go, gi, N, NULL);
          }
    }
    char *json = NULL;
    if (actfit_table_to_json(&t, &json, err, sizeof err) == ACTFIT_OK) {
      actfit_table back;
      /* what the library writes, it reads back */
      if (actfit_table_from_json(json, &back, err, sizeof err) != ACTFIT_OK)
        abort();
      actfit_table_destroy(&back);
    }
    free(json);
    actfit_table_destroy(&t);
  }
  free(text);
  return 0;
}
