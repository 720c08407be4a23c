/* Runtime benchmark (not a test): forward and backward throughput as bytes of minimal
 * traffic per second, for each dtype and b, against memcpy (CPU) or a device-to-device copy
 * (GPU) run just before each timed pass.  Medians of repeated runs.  On the CPU the memcpy
 * runs on as many threads as the passes do (every CPU the process may use, at most 16, each
 * copying a slice), so that the ratio compares like with like: one thread of memcpy reaches
 * a fraction of a machine's bandwidth, and against it a pass on all cores looks faster than
 * it is.
 *   bench_runtime [cpu|gpu] [log2 n] [reps] [activation (default gelu)] */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#include "actfit/runtime.h"
#include "elem.h" /* the dtype conversions */


static int gpu, reps;
static void *stream;

/* memcpy on the threads the CPU backend would use (cpu_threads.c's count) */
typedef struct slice {
  char *dst;
  const char *src;
  size_t bytes;
} slice;

static void *copy_slice(void *arg)
{
  slice *s = arg;
  memcpy(s->dst, s->src, s->bytes);
  return NULL;
}

static int copy_threads(void)
{
  cpu_set_t set;
  int nc = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  return nc < 1 ? 1 : nc > 16 ? 16 : nc;
}

static void par_memcpy(void *dst, const void *src, size_t bytes)
{
  int T = copy_threads();
  slice sl[16];
  pthread_t tid[16];
  size_t per = (bytes / (size_t)T + 63) & ~(size_t)63;
  int started = 0;
  for (int k = 0; k < T; k++) {
    size_t a = per * (size_t)k < bytes ? per * (size_t)k : bytes;
    size_t b = per * (size_t)(k + 1) < bytes ? per * (size_t)(k + 1) : bytes;
    sl[k] = (slice){(char *)dst + a, (const char *)src + a, b - a};
  }
  for (int k = 1; k < T; k++)
    if (pthread_create(&tid[started + 1], NULL, copy_slice, &sl[k]) == 0)
      started++;
    else
      copy_slice(&sl[k]);
  copy_slice(&sl[0]);
  for (int k = 1; k <= started; k++)
    pthread_join(tid[k], NULL);
}


/* Runs expr reps times, each run right after a copy of the same bytes (copy), into tp[]
 * and tc[]: the baseline then sees the same state of the machine as the pass it is set
 * against (on a shared machine memcpy's speed moves by 2x from one minute to the next). */
#define TIME(copy, expr, tp, tc)                                                            \
  do {                                                                                      \
    for (int r_ = 0; r_ < reps; r_++) {                                                     \
      double t0_ = bench_now();                                                             \
      copy;                                                                                 \
      if (gpu)                                                                              \
        actfit_rt_synchronize();                                                            \
      double t1_ = bench_now();                                                             \
      expr;                                                                                 \
      if (gpu)                                                                              \
        actfit_rt_synchronize();                                                            \
      (tc)[r_] = t1_ - t0_;                                                                 \
      (tp)[r_] = bench_now() - t1_;                                                         \
    }                                                                                       \
  } while (0)

/* one line: the pass's GB/s (median time), the copy's (median), and the median over the
 * pairs of the pass's rate over the copy's */
static void report(const char *dtype, const char *name, double traffic, double copy_traffic,
                   double *tp, double *tc)
{
  double ratio[64];
  for (int r = 0; r < reps; r++)
    ratio[r] = traffic / tp[r] / (copy_traffic / tc[r]);
  double rm = bench_median(ratio, reps);
  double gbs = traffic / bench_median(tp, reps) / 1e9;
  double copy_gbs = copy_traffic / bench_median(tc, reps) / 1e9;
  printf("%-6s %-22s %10.2f %10.2f %8.3f\n", dtype, name, gbs, copy_gbs, rm);
}

/* the CPU time the hypervisor gave to others ("steal") and the total so far, from
 * /proc/stat's first line, in ticks; 0 where there is none (not Linux) */
static int cpu_ticks(unsigned long long *steal, unsigned long long *total)
{
  FILE *f = fopen("/proc/stat", "r");
  unsigned long long v[8] = {0};
  int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                     &v[3], &v[4], &v[5], &v[6], &v[7]) : 0;
  if (f)
    fclose(f);
  *steal = v[7];
  *total = 0;
  for (int i = 0; i < 8; i++)
    *total += v[i];
  return n == 8;
}

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
  printf("# %s, n = 2^%d, %d runs; GB/s of minimal traffic (median), and the median ratio "
         "to %s of the same bytes run just before each pass\n", gpu ? "GPU" : "CPU", lg, reps,
         gpu ? "a device copy" : "memcpy");
  if (!gpu)
    printf("# memcpy on %d threads, as the passes\n", copy_threads());
  printf("%-6s %-22s %10s %10s %8s\n", "dtype", "pass", "GB/s", "copy GB/s", "ratio");
  unsigned long long st0, tt0, st1, tt1;
  int have_ticks = !gpu && cpu_ticks(&st0, &tt0);
  double tp[64], tc[64];
  char name[64];
  for (int d = 0; d < 3; d++) {
    size_t es = d == 0 ? 4 : 2;
    x = xd[d];
    g = gd[d];
    /* the copy baseline: read n*es, write n*es */
    double ct = 2.0 * n * es;
#define COPY (gpu ? (void)actfit_rt_memcpy(gi, x, n * es, 2) : par_memcpy(gi, x, n * es))
    for (int bits = 1; bits <= 4; bits++) {
      const actfit_rt_fewbit *t = actfit_rt_fewbit_builtin(act, bits, NULL);
      double sb = (double)actfit_fewbit_state_bytes(bits, n);
      TIME(COPY, actfit_fewbit_forward(t, (actfit_dtype)d, x, y, st, n, stream), tp, tc);
      snprintf(name, sizeof name, "fewbit %s %db fwd", act, bits);
      report(dn[d], name, 2.0 * n * es + sb, ct, tp, tc);
      TIME(COPY, actfit_fewbit_backward(t, (actfit_dtype)d, st, g, gi, n, stream), tp, tc);
      snprintf(name, sizeof name, "fewbit %s %db bwd", act, bits);
      report(dn[d], name, 2.0 * n * es + sb, ct, tp, tc);
    }
    const actfit_rt_invact *ia = actfit_rt_invact_builtin(act);
    for (int fl = 0; fl <= 1; fl++) {
      double sb = (double)actfit_invact_state_bytes(ia, fl, n);
      TIME(COPY, actfit_invact_forward(ia, (actfit_dtype)d, fl, x, y, st, n, stream), tp, tc);
      snprintf(name, sizeof name, "invact %s fwd%s", act, fl ? " bit-y" : "");
      report(dn[d], name, 2.0 * n * es + sb, ct, tp, tc);
      TIME(COPY, actfit_invact_backward(ia, (actfit_dtype)d, fl, y, st, g, gi, n, stream), tp,
           tc);
      snprintf(name, sizeof name, "invact %s bwd%s", act, fl ? " bit-y" : "");
      report(dn[d], name, 3.0 * n * es + sb, ct, tp, tc);
    }
#undef COPY
  }
  /* on a virtual machine, compute-bound passes slow down while the host runs others, and
   * memcpy much less: their ratios drop with this share */
  if (have_ticks && cpu_ticks(&st1, &tt1) && tt1 > tt0)
    printf("# steal: %.0f%% of this machine's CPU time went to other guests during the run\n",
           100.0 * (double)(st1 - st0) / (double)(tt1 - tt0));
  return 0;
}
