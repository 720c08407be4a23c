/* A training-code stand-in that links the installed runtime alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <actfit/runtime.h>

int main(void)
{
  const actfit_rt_fewbit *t = actfit_rt_fewbit_builtin("gelu", 3, NULL);
  const actfit_rt_invact *ia = actfit_rt_invact_builtin("silu");
  if (!t || !ia) {
    fprintf(stderr, "consumer: built-in tables missing\n");
    return 1;
  }
  float x[100], y[100], g[100], gi[100];
  unsigned st[64];
  for (int i = 0; i < 100; i++) {
    x[i] = -5 + 0.1f * i;
    g[i] = 1;
  }
  if (actfit_fewbit_forward(t, ACTFIT_FP32, x, y, st, 100, NULL) ||
      actfit_fewbit_backward(t, ACTFIT_FP32, st, g, gi, 100, NULL)) {
    fprintf(stderr, "consumer: fewbit failed\n");
    return 1;
  }
  if (actfit_invact_forward(ia, ACTFIT_FP32, 0, x, y, st, 100, NULL) ||
      actfit_invact_backward(ia, ACTFIT_FP32, 0, y, st, g, gi, 100, NULL)) {
    fprintf(stderr, "consumer: invact failed\n");
    return 1;
  }
  /* silu'(0) = 0.5 */
  if (fabsf(gi[50] - 0.5f) > 1e-5f) {
    fprintf(stderr, "consumer: silu'(0) = %g\n", gi[50]);
    return 1;
  }
  printf("consumer ok (%s)\n", actfit_strerror(ACTFIT_OK));
  return 0;
}
