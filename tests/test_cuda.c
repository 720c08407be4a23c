/* GPU suite (label "gpu"): CUDA against the CPU reference on random inputs of awkward sizes,
 * fresh per run.  Plain C (no Check) so that it builds from the repository with CUDA alone;
 * exits 77 (skipped) without a usable device. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actfit/runtime.h"
#include "plaintest.h"
#include "elem.h" /* the dtype conversions */

static uint64_t rng;
static double urand(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static void *dev(size_t bytes)
{
  void *p = NULL;
  if (actfit_rt_device_alloc(bytes, &p) != ACTFIT_OK) {
    fprintf(stderr, "device allocation failed\n");
    exit(1);
  }
  return p;
}

static void up(void *d, const void *h, size_t b) { actfit_rt_memcpy(d, h, b, 0); }
static void down(void *h, const void *d, size_t b) { actfit_rt_memcpy(h, d, b, 1); }

static void fill(actfit_dtype dt, void *p, size_t n, double lo, double hi)
{
  for (size_t i = 0; i < n; i++) {
    float v = (float)(lo + (hi - lo) * urand());
    if (i % 1009 == 7)
      v = (i % 3) ? INFINITY : -INFINITY;
    if (dt == ACTFIT_FP32) ((float *)p)[i] = v;
    else if (dt == ACTFIT_FP16) ((uint16_t *)p)[i] = actfit_f32_to_f16(v);
    else ((uint16_t *)p)[i] = actfit_f32_to_bf16(v);
  }
}

/* y: every forward computes f in double from elem.h's own exp, expm1, log1p, tanh and erfc
 * (basic operations only, -fmad=false on the GPU), so the bits must agree; the count and
 * whether any differs by more than one unit in the last place say how badly they do not */
static size_t y_mismatch(actfit_dtype dt, const void *a, const void *b, size_t n, int *far)
{
  size_t m = 0;
  *far = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t ua, ub;
    if (dt == ACTFIT_FP32) {
      uint32_t x, y;
      memcpy(&x, (const char *)a + 4 * i, 4);
      memcpy(&y, (const char *)b + 4 * i, 4);
      ua = x; ub = y;
    } else {
      ua = ((const uint16_t *)a)[i];
      ub = ((const uint16_t *)b)[i];
    }
    if (ua != ub) {
      m++;
      if (llabs(ua - ub) > 1)
        *far = 1;
    }
  }
  return m;
}

/* The 16-bit backward of each fitted table at every y pattern on both branches (the CUDA
 * backend reads g from a table over exactly these 2^17 pairs): the CPU's bits, NaN for NaN
 * (x86 keeps a NaN operand's payload, the GPU gives its canonical NaN) */
static void every_16bit_y(void)
{
  const char *acts[] = {"gelu", "gelu_tanh", "silu", "mish"};
  size_t n = 2 * 65536, sb = n / 8;
  uint16_t *hy = malloc(n * 2), *hg = malloc(n * 2), *hgi = malloc(n * 2), *hgi2 = malloc(n * 2);
  uint32_t *hs = malloc(sb);
  void *dy = dev(n * 2), *dg = dev(n * 2), *dgi = dev(n * 2), *ds = dev(sb);
  for (int dti = 1; dti < 3; dti++) {
    actfit_dtype dt = (actfit_dtype)dti;
    for (size_t i = 0; i < n; i++)
      hy[i] = (uint16_t)(i & 0xffffu);
    fill(dt, hg, n, -3, 3);
    for (size_t w = 0; w < sb / 4; w++)
      hs[w] = w < sb / 8 ? 0u : 0xffffffffu; /* s = 0 for the first 65536, 1 after */
    up(dy, hy, n * 2);
    up(dg, hg, n * 2);
    up(ds, hs, sb);
    for (size_t a = 0; a < sizeof acts / sizeof *acts; a++) {
      const actfit_rt_invact *t = actfit_rt_invact_builtin(acts[a]);
      CHECK(t != NULL && t->bit, "no built-in InvAct table with a bit: %s", acts[a]);
      if (!t || !t->bit)
        continue;
      CHECK(actfit_invact_backward(t, dt, 0, hy, hs, hg, hgi, n, NULL) == ACTFIT_OK, "bwd");
      CHECK(actfit_invact_backward(t, dt, 0, dy, ds, dg, dgi, n, ACTFIT_CUDA_DEFAULT_STREAM) ==
                ACTFIT_OK, "cuda bwd");
      actfit_rt_synchronize();
      down(hgi2, dgi, n * 2);
      size_t m = 0, first = n;
      uint16_t inf = dt == ACTFIT_FP16 ? 0x7c00u : 0x7f80u; /* a NaN is a NaN: payloads differ */
      for (size_t i = 0; i < n; i++)
        if (hgi[i] != hgi2[i] && !((hgi[i] & 0x7fffu) > inf && (hgi2[i] & 0x7fffu) > inf) &&
            m++ == 0)
          first = i;
      CHECK(m == 0, "invact %s dt %d: %zu of the 2^17 (s, y) grads differ, first s %zu y 0x%04zx",
            acts[a], dti, m, first >> 16, first & 0xffffu);
    }
  }
  free(hy), free(hg), free(hgi), free(hgi2), free(hs);
  actfit_rt_device_free(dy), actfit_rt_device_free(dg), actfit_rt_device_free(dgi);
  actfit_rt_device_free(ds);
}

int main(void)
{
  if (!actfit_rt_have_cuda()) {
    printf("test_cuda: no CUDA device (or built without CUDA): skipped\n");
    return 77;
  }
  rng = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() << 17 ^ 0x9E3779B97F4A7C15ull;
  printf("test_cuda: seed %llu\n", (unsigned long long)rng);
  size_t sizes[] = {1, 31, 33, 1000, 65537, (1u << 20) + 13};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
    if (k >= 3)
      sizes[k] += (size_t)(urand() * 64);
  const char *fb_acts[] = {"gelu", "gelu_tanh", "silu", "mish", "tanh", "tanhshrink", "sigmoid",
                           "softplus", "logsigmoid", "elu", "celu", "selu", "softsign",
                           "hardswish"};
  const char *ia_acts[] = {"gelu", "gelu_tanh", "silu", "mish", "sigmoid", "tanh", "softplus",
                           "logsigmoid", "elu", "celu", "selu", "softsign", "hardswish",
                           "hardsigmoid", "hardtanh", "relu", "relu6", "leaky_relu",
                           "hardshrink", "softshrink"};
  const int nfb = (int)(sizeof fb_acts / sizeof *fb_acts), nia = (int)(sizeof ia_acts / sizeof *ia_acts);
  size_t nmax = (1u << 20) + 200;
  void *hx = malloc(nmax * 4), *hy = malloc(nmax * 4), *hy2 = malloc(nmax * 4);
  void *hg = malloc(nmax * 4), *hgi = malloc(nmax * 4), *hgi2 = malloc(nmax * 4);
  void *hs = malloc(nmax + 64), *hs2 = malloc(nmax + 64);
  void *dx = dev(nmax * 4), *dy = dev(nmax * 4), *dg = dev(nmax * 4), *dgi = dev(nmax * 4);
  void *ds = dev(nmax + 64);
  for (int dti = 0; dti < 3; dti++) {
    actfit_dtype dt = (actfit_dtype)dti;
    size_t es = dt == ACTFIT_FP32 ? 4 : 2;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
      size_t n = sizes[k];
      fill(dt, hx, n, -12, 12);
      fill(dt, hg, n, -3, 3);
      up(dx, hx, n * es);
      up(dg, hg, n * es);
      for (int a = 0; a < nfb; a++)
        for (int bits = 1; bits <= 4; bits++) {
          const actfit_rt_fewbit *t = actfit_rt_fewbit_builtin(fb_acts[a], bits, NULL);
          CHECK(t != NULL, "no built-in FewBit table %s %d bits", fb_acts[a], bits);
          if (!t)
            continue;
          size_t sb = actfit_fewbit_state_bytes(bits, n);
          CHECK(actfit_fewbit_forward(t, dt, hx, hy, hs, n, NULL) == ACTFIT_OK, "cpu fwd");
          CHECK(actfit_fewbit_forward(t, dt, dx, dy, ds, n, ACTFIT_CUDA_DEFAULT_STREAM) ==
                    ACTFIT_OK, "cuda fwd");
          actfit_rt_synchronize();
          down(hy2, dy, n * es);
          down(hs2, ds, sb);
          CHECK(memcmp(hs, hs2, sb) == 0, "fewbit %s %d bits dt %d n %zu: state differs",
                fb_acts[a], bits, dti, n);
          int far;
          size_t m = y_mismatch(dt, hy, hy2, n, &far);
          CHECK(m == 0, "fewbit %s y: %zu mismatches%s", fb_acts[a], m, far ? " (some > 1 ulp)" : "");
          /* backward from the same state: bit-identical */
          CHECK(actfit_fewbit_backward(t, dt, hs, hg, hgi, n, NULL) == ACTFIT_OK, "cpu bwd");
          CHECK(actfit_fewbit_backward(t, dt, ds, dg, dgi, n, ACTFIT_CUDA_DEFAULT_STREAM) ==
                    ACTFIT_OK, "cuda bwd");
          actfit_rt_synchronize();
          down(hgi2, dgi, n * es);
          CHECK(memcmp(hgi, hgi2, n * es) == 0, "fewbit %s %d bits dt %d n %zu: grad differs",
                fb_acts[a], bits, dti, n);
          /* the encoder (state from x alone) writes the forward's state */
          CHECK(actfit_fewbit_encode(t, dt, dx, ds, n, ACTFIT_CUDA_DEFAULT_STREAM) == ACTFIT_OK,
                "cuda encode");
          actfit_rt_synchronize();
          down(hs2, ds, sb);
          CHECK(memcmp(hs, hs2, sb) == 0, "fewbit %s %d bits dt %d n %zu: encoded state differs",
                fb_acts[a], bits, dti, n);
        }
      for (int a = 0; a < nia; a++)
        for (int fl = 0; fl <= ACTFIT_BIT_IN_Y; fl++) {
          const actfit_rt_invact *t = actfit_rt_invact_builtin(ia_acts[a]);
          CHECK(t != NULL, "no built-in InvAct table %s", ia_acts[a]);
          if (!t)
            continue;
          size_t sb = actfit_invact_state_bytes(t, fl, n);
          CHECK(actfit_invact_forward(t, dt, fl, hx, hy, hs, n, NULL) == ACTFIT_OK, "cpu fwd");
          CHECK(actfit_invact_forward(t, dt, fl, dx, dy, ds, n, ACTFIT_CUDA_DEFAULT_STREAM) ==
                    ACTFIT_OK, "cuda fwd");
          actfit_rt_synchronize();
          down(hy2, dy, n * es);
          down(hs2, ds, sb);
          CHECK(sb == 0 || memcmp(hs, hs2, sb) == 0, "invact %s state differs", ia_acts[a]);
          int far;
          size_t m = y_mismatch(dt, hy, hy2, n, &far);
          CHECK(m == 0, "invact %s y: %zu mismatches%s", ia_acts[a], m, far ? " (some > 1 ulp)" : "");
          /* backward from the CPU's y and state: bit-identical */
          up(dy, hy, n * es);
          up(ds, hs, sb);
          CHECK(actfit_invact_backward(t, dt, fl, hy, hs, hg, hgi, n, NULL) == ACTFIT_OK, "bwd");
          CHECK(actfit_invact_backward(t, dt, fl, dy, ds, dg, dgi, n,
                                       ACTFIT_CUDA_DEFAULT_STREAM) == ACTFIT_OK, "cuda bwd");
          actfit_rt_synchronize();
          down(hgi2, dgi, n * es);
          CHECK(memcmp(hgi, hgi2, n * es) == 0, "invact %s flags %d dt %d n %zu: grad differs",
                ia_acts[a], fl, dti, n);
          if (dt != ACTFIT_FP32) { /* without the g tables: g per element, the same bits */
            setenv("ACTFIT_CUDA_TABLES", "0", 1);
            CHECK(actfit_invact_backward(t, dt, fl, dy, ds, dg, dgi, n,
                                         ACTFIT_CUDA_DEFAULT_STREAM) == ACTFIT_OK, "cuda bwd");
            unsetenv("ACTFIT_CUDA_TABLES");
            actfit_rt_synchronize();
            down(hgi2, dgi, n * es);
            CHECK(memcmp(hgi, hgi2, n * es) == 0,
                  "invact %s flags %d dt %d n %zu: grad without the g table differs", ia_acts[a],
                  fl, dti, n);
          }
          /* the encoder from x and the CPU's y: the CPU encoder's state and y */
          memcpy(hy2, hy, n * es);
          CHECK(actfit_invact_encode(t, dt, fl, hx, hy2, hs2, n, NULL) == ACTFIT_OK, "encode");
          up(dy, hy, n * es);
          CHECK(actfit_invact_encode(t, dt, fl, dx, dy, ds, n, ACTFIT_CUDA_DEFAULT_STREAM) ==
                    ACTFIT_OK, "cuda encode");
          actfit_rt_synchronize();
          down(hy, dy, n * es);
          down(hs, ds, sb);
          CHECK(memcmp(hy, hy2, n * es) == 0 && (sb == 0 || memcmp(hs, hs2, sb) == 0),
                "invact %s flags %d dt %d n %zu: encoders differ", ia_acts[a], fl, dti, n);
        }
    }
  }
  every_16bit_y();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
