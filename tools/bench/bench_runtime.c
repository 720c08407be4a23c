/* Runtime benchmark (not a test): forward and backward throughput as bytes of minimal
 * traffic per second, for each dtype and b, against memcpy (CPU) or a device-to-device copy
 * (GPU) measured in the same run.  Medians of repeated runs.
 *   bench_runtime [cpu|gpu] [log2 n] [reps] [activation (default gelu)] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#include "actfit/runtime.h"


static int gpu, reps;
static void *stream;


#define TIME(expr)                                                                          \
  ({                                                                                        \
    double ts_[64];                                                                         \
    for (int r_ = 0; r_ < reps; r_++) {                                                     \
      double t0_ = bench_now();                                                                   \
      expr;                                                                                 \
      if (gpu)                                                                              \
        actfit_rt_synchronize();                                                            \
      ts_[r_] = bench_now() - t0_;                                                                \
    }                                                                                       \
    bench_median(ts_, reps);                                                                         \
  })

static void *buf(size_t b)
{
  void *p = NULL;
  if (gpu) {
    if (actfit_rt_device_alloc(b, &p) != ACTFIT_OK)
      p = NULL;
  } else {
    p = malloc(b);
    if (p)
      memset(p, 0, b);
  }
  if (!p) {
    fprintf(stderr, "bench_runtime: cannot allocate %zu bytes\n", b);
    exit(1);
  }
  return p;
}

int main(int argc, char **argv)
{
  gpu = argc > 1 && !strcmp(argv[1], "gpu");
  int lg = argc > 2 ? atoi(argv[2]) : (gpu ? 28 : 24);
  reps = argc > 3 ? atoi(argv[3]) : 7;
  const char *act = argc > 4 ? argv[4] : "gelu";
  if (!actfit_rt_fewbit_builtin(act, 1, NULL) || !actfit_rt_invact_builtin(act)) {
    fprintf(stderr, "bench_runtime: no built-in FewBit and InvAct tables for '%s'\n", act);
    return 2;
  }
  if (reps < 1 || reps > 64)
    reps = 7;
  if (gpu && !actfit_rt_have_cuda()) {
    fprintf(stderr, "bench_runtime: no CUDA device\n");
    return 77;
  }
  stream = gpu ? ACTFIT_CUDA_DEFAULT_STREAM : NULL;
  size_t n = (size_t)1 << lg;
  void *x = buf(n * 4), *y = buf(n * 4), *g = buf(n * 4), *gi = buf(n * 4), *st = buf(n + 64);
  /* realistic inputs for each dtype: x spread over [-8, 8], grad_out = 1 (on the GPU, x = 0) */
  void *xd[3] = {x, gpu ? x : buf(n * 2), gpu ? x : buf(n * 2)};
  void *gd[3] = {g, gpu ? g : buf(n * 2), gpu ? g : buf(n * 2)};
  if (!gpu)
    for (size_t i = 0; i < n; i++) {
      float v = (float)((double)(i * 2654435761u % 1000003) / 1000003.0 * 16 - 8);
      ((float *)xd[0])[i] = v;
      ((uint16_t *)xd[1])[i] = actfit_f32_to_f16(v);
      ((uint16_t *)xd[2])[i] = actfit_f32_to_bf16(v);
      ((float *)gd[0])[i] = 1.0f;
      ((uint16_t *)gd[1])[i] = 0x3c00;
      ((uint16_t *)gd[2])[i] = 0x3f80;
    }
  const char *dn[3] = {"fp32", "fp16", "bf16"};
  printf("# %s, n = 2^%d, median of %d; GB/s of minimal traffic, ratio to %s of the same "
         "bytes in this run\n", gpu ? "GPU" : "CPU", lg, reps, gpu ? "a device copy" : "memcpy");
  printf("%-6s %-22s %10s %10s %8s\n", "dtype", "pass", "GB/s", "copy GB/s", "ratio");
  for (int d = 0; d < 3; d++) {
    size_t es = d == 0 ? 4 : 2;
    x = xd[d];
    g = gd[d];
    /* the copy baseline: read n*es, write n*es */
    double tc = TIME(gpu ? (void)actfit_rt_memcpy(y, x, n * es, 2) : (void)memcpy(y, x, n * es));
    double copy_gbs = 2.0 * n * es / tc / 1e9;
    for (int bits = 1; bits <= 4; bits++) {
      const actfit_rt_fewbit *t = actfit_rt_fewbit_builtin(act, bits, NULL);
      double sb = (double)actfit_fewbit_state_bytes(bits, n);
      double tf = TIME(actfit_fewbit_forward(t, (actfit_dtype)d, x, y, st, n, stream));
      double tb = TIME(actfit_fewbit_backward(t, (actfit_dtype)d, st, g, gi, n, stream));
      double bf = (2.0 * n * es + sb) / tf / 1e9, bb = (2.0 * n * es + sb) / tb / 1e9;
      char name[64];
      snprintf(name, sizeof name, "fewbit %s %db fwd", act, bits);
      printf("%-6s %-22s %10.2f %10.2f %8.3f\n", dn[d], name, bf, copy_gbs, bf / copy_gbs);
      snprintf(name, sizeof name, "fewbit %s %db bwd", act, bits);
      printf("%-6s %-22s %10.2f %10.2f %8.3f\n", dn[d], name, bb, copy_gbs, bb / copy_gbs);
    }
    const actfit_rt_invact *ia = actfit_rt_invact_builtin(act);
    for (int fl = 0; fl <= 1; fl++) {
      double sb = (double)actfit_invact_state_bytes(ia, fl, n);
      double tf = TIME(actfit_invact_forward(ia, (actfit_dtype)d, fl, x, y, st, n, stream));
      double tb = TIME(actfit_invact_backward(ia, (actfit_dtype)d, fl, y, st, g, gi, n, stream));
      double bf = (2.0 * n * es + sb) / tf / 1e9, bb = (3.0 * n * es + sb) / tb / 1e9;
      char name[64];
      snprintf(name, sizeof name, "invact %s fwd%s", act, fl ? " bit-y" : "");
      printf("%-6s %-22s %10.2f %10.2f %8.3f\n", dn[d], name, bf, copy_gbs, bf / copy_gbs);
      snprintf(name, sizeof name, "invact %s bwd%s", act, fl ? " bit-y" : "");
      printf("%-6s %-22s %10.2f %10.2f %8.3f\n", dn[d], name, bb, copy_gbs, bb / copy_gbs);
    }
  }
  return 0;
}
