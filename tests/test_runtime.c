/* Runtime (CPU backend; the element math is the CUDA kernels'): bit layout, exact FewBit
 * backward, every committed table against the by-hand derivative, NaN/Inf, bad input. */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "actfit/act.h"
#include "actfit/invact.h"
#include "actfit/runtime.h"
#include "actfit/table.h"
#include "elem_ref.h"
#include "testutil.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static const actfit_dtype dts[3] = {ACTFIT_FP32, ACTFIT_FP16, ACTFIT_BF16};

static void put(actfit_dtype d, void *p, size_t i, float v)
{
  if (d == ACTFIT_FP32) ((float *)p)[i] = v;
  else if (d == ACTFIT_FP16) ((uint16_t *)p)[i] = actfit_f32_to_f16(v);
  else ((uint16_t *)p)[i] = actfit_f32_to_bf16(v);
}

static float get(actfit_dtype d, const void *p, size_t i)
{
  if (d == ACTFIT_FP32) return ((const float *)p)[i];
  if (d == ACTFIT_FP16) return actfit_f16_to_f32(((const uint16_t *)p)[i]);
  return actfit_bf16_to_f32(((const uint16_t *)p)[i]);
}

START_TEST(pack_unpack_round_trip_for_all_widths_and_awkward_sizes)
{
  const size_t ns[] = {0, 1, 31, 32, 33, 1000007};
  uint8_t *codes = malloc(1000007), *back = malloc(1000007);
  uint32_t *state = malloc(actfit_fewbit_state_bytes(8, 1000007));
  for (int b = 1; b <= 8; b++)
    for (size_t q = 0; q < 6; q++) {
      size_t n = ns[q];
      for (size_t i = 0; i < n; i++)
        codes[i] = (uint8_t)((uint32_t)(urand() * 256) & ((1u << b) - 1));
      size_t bytes = actfit_fewbit_state_bytes(b, n);
      ck_assert_uint_eq(bytes, ((n + 31) / 32) * (size_t)b * 4);
      actfit_rt_pack(codes, b, n, state);
      actfit_rt_unpack(state, b, n, back);
      ck_assert(n == 0 || memcmp(codes, back, n) == 0);
      /* padding bits of the last group are zero */
      if (n % 32)
        for (int j = 0; j < b; j++)
          ck_assert_uint_eq(state[(n / 32) * b + j] >> (n % 32), 0);
    }
  free(codes);
  free(back);
  free(state);
}
END_TEST

static void load(const char *path, actfit_table *t)
{
  char err[ACTFIT_ERRLEN];
  ck_assert_msg(actfit_table_load(path, t, err, sizeof err) == ACTFIT_OK, "%s", err);
}

START_TEST(fewbit_backward_is_grad_times_level_of_the_double_tables_code)
{
  actfit_table t;
  load(ACTFIT_SOURCE_DIR "/tables/fewbit/gelu-3bit.json", &t);
  actfit_rt_fewbit fb;
  ck_assert_int_eq(actfit_table_to_rt_fewbit(&t, &fb), ACTFIT_OK);
  const size_t n = 100003;
  for (int q = 0; q < 3; q++) {
    actfit_dtype d = dts[q];
    void *x = malloc(n * 4), *y = malloc(n * 4), *g = malloc(n * 4), *gi = malloc(n * 4);
    uint32_t *st = malloc(actfit_fewbit_state_bytes(3, n));
    uint8_t *codes = malloc(n), *want = malloc(n);
    for (size_t i = 0; i < n; i++) {
      /* include values exactly on the borders */
      float v = i % 97 == 0 ? (float)fb.borders[i % 7] : (float)(-12 + 24 * urand());
      put(d, x, i, v);
      put(d, g, i, (float)(-2 + 4 * urand()));
    }
    ck_assert_int_eq(actfit_fewbit_forward(&fb, d, x, y, st, n, NULL), ACTFIT_OK);
    ck_assert_int_eq(actfit_fewbit_backward(&fb, d, st, g, gi, n, NULL), ACTFIT_OK);
    actfit_rt_unpack(st, 3, n, codes);
    for (size_t i = 0; i < n; i++) {
      float xv = get(d, x, i);
      want[i] = (uint8_t)actfit_table_code(&t, (double)xv); /* the double table's code */
      ck_assert_int_eq(codes[i], want[i]);
      float exp_g = get(d, g, i) * (float)t.levels[want[i]];
      uint32_t a, b;
      float got = get(d, gi, i);
      float rounded = d == ACTFIT_FP32 ? exp_g
                      : d == ACTFIT_FP16 ? actfit_f16_to_f32(actfit_f32_to_f16(exp_g))
                                         : actfit_bf16_to_f32(actfit_f32_to_bf16(exp_g));
      memcpy(&a, &got, 4);
      memcpy(&b, &rounded, 4);
      ck_assert_uint_eq(a, b);
      /* y is the element math's f(x) rounded to the dtype */
      float fy = actfit_elem_fs(fb.act, fb.params, xv, d != ACTFIT_FP32), yr[1];
      put(d, yr, 0, fy);
      ck_assert(get(d, y, i) == get(d, yr, 0));
    }
    free(x); free(y); free(g); free(gi); free(st); free(codes); free(want);
  }
  actfit_table_destroy(&t);
}
END_TEST

/* Every committed table through the runtime, against the derivative computed by hand. */
START_TEST(every_committed_table_reproduces_its_derivative)
{
  const char *dirs[2] = {ACTFIT_SOURCE_DIR "/tables/fewbit", ACTFIT_SOURCE_DIR "/tables/invact"};
  int count = 0;
  for (int di = 0; di < 2; di++) {
    DIR *dir = opendir(dirs[di]);
    ck_assert_ptr_nonnull(dir);
    struct dirent *e;
    while ((e = readdir(dir))) {
      if (!strstr(e->d_name, ".json"))
        continue;
      char path[1024];
      snprintf(path, sizeof path, "%s/%s", dirs[di], e->d_name);
      actfit_table t;
      load(path, &t);
      actfit_act *act = NULL;
      char err[ACTFIT_ERRLEN];
      ck_assert_int_eq(actfit_table_act(&t, &act, err, sizeof err), ACTFIT_OK);
      const size_t n = 4099;
      for (int q = 0; q < 3; q++)
        for (int bit_in_y = 0; bit_in_y < (di ? 2 : 1); bit_in_y++) {
          actfit_dtype d = dts[q];
          void *x = malloc(n * 4), *y = malloc(n * 4), *g = malloc(n * 4), *gi = malloc(n * 4);
          void *st = malloc(actfit_fewbit_state_bytes(8, n) + 4);
          for (size_t i = 0; i < n; i++) {
            put(d, x, i, (float)(-10 + 20 * urand()));
            put(d, g, i, 1.0f);
          }
          if (di == 0) {
            actfit_rt_fewbit fb;
            ck_assert_int_eq(actfit_table_to_rt_fewbit(&t, &fb), ACTFIT_OK);
            ck_assert_int_eq(actfit_fewbit_forward(&fb, d, x, y, st, n, NULL), ACTFIT_OK);
            ck_assert_int_eq(actfit_fewbit_backward(&fb, d, st, g, gi, n, NULL), ACTFIT_OK);
            for (size_t i = 0; i < n; i++) {
              float want = (float)t.levels[actfit_table_code(&t, get(d, x, i))];
              float w2 = get(d, (put(d, y, 0, want), y), 0); /* rounded to the dtype */
              ck_assert_msg(get(d, gi, i) == w2, "%s", path);
            }
          } else {
            actfit_rt_invact ia;
            ck_assert_int_eq(actfit_table_to_rt_invact(&t, &ia), ACTFIT_OK);
            int fl = bit_in_y ? ACTFIT_BIT_IN_Y : 0;
            ck_assert_int_eq(actfit_invact_forward(&ia, d, fl, x, y, st, n, NULL), ACTFIT_OK);
            ck_assert_int_eq(actfit_invact_backward(&ia, d, fl, y, st, g, gi, n, NULL), ACTFIT_OK);
            /* the table's stated error for this dtype (plus rounding the result to it) */
            double stated = t.dt[q][t.bit ? bit_in_y : 0].max;
            double ulp = d == ACTFIT_FP32 ? 0x1p-23 : d == ACTFIT_FP16 ? 0x1p-10 : 0x1p-7;
            for (size_t i = 0; i < n; i++) {
              double xv = get(d, x, i), fp = actfit_act_df(act, xv);
              /* jumps of f' (hardswish at +-3 ...) make single points ambiguous: skip them */
              if (fabs(xv + 3) < 1e-2 || fabs(xv - 3) < 1e-2)
                continue;
              double tol = stated * 1.0001 + ulp * fabs(fp) + 1e-7;
              ck_assert_msg(fabs(get(d, gi, i) - fp) <= tol, "%s dtype %d x=%g: %g vs %g (stated %g)",
                            path, q, xv, get(d, gi, i), fp, stated);
            }
          }
          free(x); free(y); free(g); free(gi); free(st);
        }
      actfit_act_free(act);
      actfit_table_destroy(&t);
      count++;
    }
    closedir(dir);
  }
  ck_assert_int_ge(count, 100);
}
END_TEST

START_TEST(builtin_tables_equal_the_committed_json)
{
  actfit_table t;
  load(ACTFIT_SOURCE_DIR "/tables/fewbit/silu-4bit-gauss.json", &t);
  actfit_rt_fewbit fb;
  ck_assert_int_eq(actfit_table_to_rt_fewbit(&t, &fb), ACTFIT_OK);
  const actfit_rt_fewbit *b = actfit_rt_fewbit_builtin("silu", 4, "gauss:0,1");
  ck_assert_ptr_nonnull(b);
  ck_assert(memcmp(b, &fb, sizeof fb) == 0);
  actfit_table_destroy(&t);
  load(ACTFIT_SOURCE_DIR "/tables/invact/gelu.json", &t);
  actfit_rt_invact ia;
  ck_assert_int_eq(actfit_table_to_rt_invact(&t, &ia), ACTFIT_OK);
  const actfit_rt_invact *bi = actfit_rt_invact_builtin("gelu");
  ck_assert_ptr_nonnull(bi);
  ck_assert(memcmp(bi, &ia, sizeof ia) == 0);
  actfit_table_destroy(&t);
  ck_assert_ptr_null(actfit_rt_fewbit_builtin("gelu", 7, NULL));
  ck_assert_ptr_null(actfit_rt_invact_builtin("nope"));
}
END_TEST

START_TEST(nan_and_infinities_behave_as_documented)
{
  const actfit_rt_fewbit *fb = actfit_rt_fewbit_builtin("gelu", 2, NULL);
  const actfit_rt_invact *ia = actfit_rt_invact_builtin("gelu");
  ck_assert(fb && ia);
  float x[4] = {NAN, INFINITY, -INFINITY, 0.5f}, y[4], g[4] = {1, 1, 1, 1}, gi[4];
  uint32_t st[8];
  ck_assert_int_eq(actfit_fewbit_forward(fb, ACTFIT_FP32, x, y, st, 4, NULL), ACTFIT_OK);
  uint8_t c[4];
  actfit_rt_unpack(st, 2, 4, c);
  ck_assert(isnan(y[0]) && c[0] == 0);
  ck_assert(y[1] == INFINITY && c[1] == 3);
  ck_assert(y[2] == 0.0f && c[2] == 0);
  ck_assert_int_eq(actfit_invact_forward(ia, ACTFIT_FP32, 0, x, y, st, 4, NULL), ACTFIT_OK);
  ck_assert_int_eq(actfit_invact_backward(ia, ACTFIT_FP32, 0, y, st, g, gi, 4, NULL), ACTFIT_OK);
  ck_assert(isnan(gi[0]));      /* NaN y -> NaN gradient */
  ck_assert(gi[1] == 1.0f);     /* f'(+inf) = 1 */
  ck_assert(gi[2] == 0.0f);     /* f'(-inf) = 0 */
}
END_TEST

START_TEST(bad_arguments_return_status_codes)
{
  const actfit_rt_fewbit *fb = actfit_rt_fewbit_builtin("gelu", 2, NULL);
  const actfit_rt_invact *ia = actfit_rt_invact_builtin("silu");
  float x[4] = {0}, y[4];
  uint32_t st[4];
  ck_assert_int_eq(actfit_fewbit_forward(fb, (actfit_dtype)7, x, y, st, 4, NULL), ACTFIT_EDTYPE);
  ck_assert_int_eq(actfit_fewbit_forward(NULL, ACTFIT_FP32, x, y, st, 4, NULL), ACTFIT_EINVAL);
  ck_assert_int_eq(actfit_fewbit_forward(fb, ACTFIT_FP32, NULL, y, st, 4, NULL), ACTFIT_EINVAL);
  ck_assert_int_eq(actfit_fewbit_backward(fb, ACTFIT_FP32, NULL, x, y, 4, NULL), ACTFIT_EINVAL);
  ck_assert_int_eq(actfit_fewbit_forward(fb, ACTFIT_FP32, NULL, NULL, NULL, 0, NULL), ACTFIT_OK);
  actfit_rt_fewbit bad = *fb;
  bad.bits = 9;
  ck_assert_int_eq(actfit_fewbit_forward(&bad, ACTFIT_FP32, x, y, st, 4, NULL), ACTFIT_EINVAL);
  bad = *fb;
  bad.borders[1] = bad.borders[0];
  ck_assert_int_eq(actfit_rt_fewbit_check(&bad), ACTFIT_EINVAL);
  bad = *fb;
  bad.levels[0] = NAN;
  ck_assert_int_eq(actfit_rt_fewbit_check(&bad), ACTFIT_EINVAL);
  ck_assert_int_eq(actfit_invact_forward(ia, ACTFIT_FP32, 4, x, y, st, 4, NULL), ACTFIT_EINVAL);
  ck_assert_int_eq(actfit_invact_forward(ia, ACTFIT_FP32, 0, x, y, NULL, 4, NULL), ACTFIT_EINVAL);
  ck_assert_uint_eq(actfit_invact_state_bytes(ia, ACTFIT_BIT_IN_Y, 100), 0);
  ck_assert_uint_eq(actfit_invact_state_bytes(ia, 0, 100), 16);
  actfit_rt_invact e = *ia;
  e.act = -1; /* an expression */
  ck_assert_int_eq(actfit_invact_forward(&e, ACTFIT_FP32, 0, x, y, st, 4, NULL), ACTFIT_EUNKNOWN);
  if (!actfit_rt_have_cuda())
    ck_assert_int_eq(actfit_fewbit_forward(fb, ACTFIT_FP32, x, y, st, 4,
                                           ACTFIT_CUDA_DEFAULT_STREAM), ACTFIT_ENODEV);
}
END_TEST

/* a random bit pattern of the dtype: every class (zeros, subnormals, normals up to
 * overflow, infinities, NaNs with payloads), as float */
static float any_value(actfit_dtype d, uint32_t *raw)
{
  uint32_t u = (uint32_t)(urand() * 4294967296.0);
  if (d != ACTFIT_FP32) {
    u &= 0xffffu;
    *raw = u;
    return d == ACTFIT_FP16 ? actfit_f16_to_f32((uint16_t)u) : actfit_bf16_to_f32((uint16_t)u);
  }
  if (urand() < 0.7) { /* mostly moderate magnitudes, where products stay finite */
    float v = (float)((urand() - 0.5) * 8);
    memcpy(&u, &v, 4);
  }
  *raw = u;
  return actfit_bits_f32(u);
}

static uint32_t stored_bits(actfit_dtype d, float v)
{
  if (d == ACTFIT_FP16) return actfit_f32_to_f16(v);
  if (d == ACTFIT_BF16) return actfit_f32_to_bf16(v);
  return actfit_f32_bits(v);
}

/* what an InvAct forward stores for y = fy, branch bit s: fy rounded, or with the bit in y */
static uint32_t invact_stored(actfit_dtype d, float fy, int s, int bit_in_y)
{
  if (!bit_in_y)
    return stored_bits(d, fy);
  return d == ACTFIT_FP32 ? actfit_f32_bits(actfit_elem_store_f32(fy, s))
         : d == ACTFIT_FP16 ? actfit_elem_store_f16(fy, s) : actfit_elem_store_bf16(fy, s);
}

static uint32_t raw_at(actfit_dtype d, const void *p, size_t i)
{
  return d == ACTFIT_FP32 ? ((const uint32_t *)p)[i] : ((const uint16_t *)p)[i];
}

static void put_raw(actfit_dtype d, void *p, size_t i, uint32_t u)
{
  if (d == ACTFIT_FP32) ((uint32_t *)p)[i] = u;
  else ((uint16_t *)p)[i] = (uint16_t)u;
}

/* The bit-identity tests below run four times: with the best vector loops this CPU has
 * (with AVX512-VBMI2, cpu_fwd_avx512v.c's fp32 forwards), capped at AVX2, scalar only, and
 * capped at AVX-512 without VBMI2 (ACTFIT_SIMD), so every path is checked on one machine. */
static const char *simd_caps[4] = {NULL, "avx2", "scalar", "avx512"};
static void simd_cap(int i)
{
  if (simd_caps[i])
    setenv("ACTFIT_SIMD", simd_caps[i], 1);
  else
    unsetenv("ACTFIT_SIMD");
}

/* The CPU backend's vector loops (when the CPU has them) against elem.h's scalar math, which
 * is also the CUDA kernels' math: every stored bit must agree, NaN encodings included. */
START_TEST(fewbit_backward_bits_equal_the_element_math_for_every_width_and_dtype)
{
  simd_cap(_i);
  const size_t n = 32 * 41 + 13; /* full groups and a partial one */
  uint8_t *codes = malloc(n);
  uint32_t *st = malloc(actfit_fewbit_state_bytes(8, n));
  void *g = malloc(n * 4), *gi = malloc(n * 4);
  for (int b = 1; b <= 8; b++) {
    actfit_rt_fewbit t;
    memset(&t, 0, sizeof t);
    t.act = ACTFIT_A_GELU;
    t.bits = b;
    for (int k = 0; k < (1 << b) - 1; k++)
      t.borders[k] = (float)k;
    for (int k = 0; k < (1 << b); k++) { /* signs and magnitudes that overflow or vanish */
      static const float mags[5] = {0.75f, 1.5e-3f, 3e4f, 1e-30f, 1e30f};
      t.levels[k] = (k & 1 ? -1.0f : 1.0f) * mags[k % 5] * (1.0f + (float)k / 512);
    }
    ck_assert_int_eq(actfit_rt_fewbit_check(&t), ACTFIT_OK);
    for (size_t i = 0; i < n; i++)
      codes[i] = (uint8_t)((uint32_t)(urand() * 256) & ((1u << b) - 1));
    actfit_rt_pack(codes, b, n, st);
    for (int q = 0; q < 3; q++) {
      actfit_dtype d = dts[q];
      uint32_t raw;
      for (size_t i = 0; i < n; i++) {
        any_value(d, &raw);
        put_raw(d, g, i, raw);
      }
      ck_assert_int_eq(actfit_fewbit_backward(&t, d, st, g, gi, n, NULL), ACTFIT_OK);
      for (size_t i = 0; i < n; i++) {
        uint32_t want = stored_bits(d, get(d, g, i) * t.levels[codes[i]]);
        ck_assert_msg(raw_at(d, gi, i) == want, "bits %d dtype %d element %zu: %#x, want %#x",
                      b, q, i, raw_at(d, gi, i), want);
      }
    }
  }
  free(codes); free(st); free(g); free(gi);
}
END_TEST

/* the double reference's own exp and erfc (tools/elem_ref.h, what tools/ulp_sweep measures
 * the float forward against) against long double libm */
START_TEST(reference_exp_and_erfc_are_accurate_to_their_stated_bounds)
{
  double worst_exp = 0, worst_erfc = 0;
  for (int i = 0; i <= 400000; i++) {
    double x = -708 + 1417.0 * i / 400000 + 1e-3 * urand(); /* normal results */
    long double r = expl(x);
    double e = fabs((double)((actfit_elem_exp(x) - r) / r));
    worst_exp = e > worst_exp ? e : worst_exp;
    double a = -ACTFIT_ERFC_AMAX + 2 * ACTFIT_ERFC_AMAX * urand();
    long double q = erfcl(a);
    e = fabs((double)((actfit_elem_erfc(a) - q) / q));
    worst_erfc = e > worst_erfc ? e : worst_erfc;
  }
  ck_assert_msg(worst_exp < 4e-16, "exp: relative error %g", worst_exp);
  ck_assert_msg(worst_erfc < 2e-14, "erfc: relative error %g", worst_erfc);
  ck_assert(actfit_elem_exp(-800) == 0.0 && isinf(actfit_elem_exp(800)));
  ck_assert(actfit_elem_exp(0) == 1.0);
  /* subnormal results round once */
  ck_assert(fabs(actfit_elem_exp(-740) / (double)expl(-740.0L) - 1) < 1e-3);
}
END_TEST

/* x - tanh x in long double: the Taylor series near 0, where the difference cancels */
static long double tanhshrinkl(long double x)
{
  if (fabsl(x) > 0.5L)
    return x - tanhl(x);
  long double T[64] = {0}, sum = 0, xp = x * x * x;
  for (int k = 0; k + 1 < 64; k++) { /* T' = 1 - T^2 */
    long double acc = k == 0 ? 1.0L : 0.0L;
    for (int i = 0; i <= k; i++)
      acc -= T[i] * T[k - i];
    T[k + 1] = acc / (k + 1);
  }
  for (int k = 3; k < 64; k += 2, xp *= x * x)
    sum -= T[k] * xp;
  return sum;
}

/* the float grid's spacing at |r|: the gap above the float at or below |r| */
static long double spacing(long double r)
{
  float rf = (float)r, lo = fabsf(rf) > fabsl(r) ? nextafterf(fabsf(rf), 0) : fabsf(rf);
  return (long double)nextafterf(lo, INFINITY) - lo;
}

static long double ref_f(int act, long double x, long double a)
{
  switch (act) {
  case ACTFIT_A_GELU: return 0.5L * x * erfcl(-x / sqrtl(2.0L));
  case ACTFIT_A_SILU: return x / (1.0L + expl(-x));
  case ACTFIT_A_SIGMOID: return 1.0L / (1.0L + expl(-x));
  case ACTFIT_A_MISH: return x * tanhl(log1pl(expl(x)));
  case ACTFIT_A_ELU: return x > 0 ? x : a * expm1l(x);
  case ACTFIT_A_CELU: return x > 0 ? x : a * expm1l(x / a);
  case ACTFIT_A_SELU: return 1.0507009873554804934L * (x > 0 ? x : 1.6732632423543772848L * expm1l(x));
  case ACTFIT_A_TANH: return tanhl(x);
  case ACTFIT_A_TANHSHRINK: return tanhshrinkl(x);
  case ACTFIT_A_SOFTPLUS: return a * x > 20 ? x : log1pl(expl(a * x)) / a;
  case ACTFIT_A_LOGSIGMOID: return x < 0 ? x - log1pl(expl(x)) : -log1pl(expl(-x));
  default: {
    long double u = 2.0L * 0.79788456080286535588L * (x + 0.044715L * x * x * x);
    return x / (1.0L + expl(-u));
  }
  }
}

/* the forward's contract (docs/arithmetic.md): GELU, GELU-tanh, SiLU and Mish (the lean
 * forwards) within 2 ulp of the exact value, the other activations computed from float
 * pairs within 1 ulp (y is one of the two floats around r); tools/ulp_sweep proves both
 * over every float input */
static int lean_forward(int act)
{
  return actfit_elem_lean(act);
}

/* |y - r| in units of the float spacing at |r| (0 when y is r rounded) */
static long double ulps(float y, long double r)
{
  return y == (float)r ? 0.0L : fabsl(y - r) / spacing(r);
}

/* across the whole float range y keeps the contract, and most of the time it is r
 * correctly rounded */
START_TEST(forward_keeps_its_ulp_contract_for_the_transcendental_activations)
{
  const int acts[] = {ACTFIT_A_GELU, ACTFIT_A_SILU, ACTFIT_A_SIGMOID, ACTFIT_A_GELU_TANH,
                      ACTFIT_A_MISH, ACTFIT_A_ELU, ACTFIT_A_CELU, ACTFIT_A_SELU,
                      ACTFIT_A_TANH, ACTFIT_A_TANHSHRINK, ACTFIT_A_SOFTPLUS, ACTFIT_A_LOGSIGMOID};
  const float p[4] = {0.75f, 20.0f, 0, 0};
  for (size_t k = 0; k < sizeof acts / sizeof acts[0]; k++) {
    int rounded = 0, n = 150000;
    for (int i = 0; i < n; i++) {
      float x = i % 2 ? (float)(-30 + 60 * urand())
                      : (float)((urand() < 0.5 ? -1 : 1) * ldexp(1 + urand(), (int)(urand() * 140) - 100));
      float y = actfit_elem_f(acts[k], p, x);
      long double r = ref_f(acts[k], x, p[0]);
      float rf = (float)r;
      rounded += y == rf;
      long double e = ulps(y, r), bound = lean_forward(acts[k]) ? 2 : 1;
      ck_assert_msg(e < bound, "act %d x=%a: %a, exact %La (%Lg ulp, contract %Lg)", acts[k], x,
                    y, r, e, bound);
    }
    /* the lean ones: 96-99.5% here (SiLU the least); the float-pair ones above 99% */
    ck_assert_msg(rounded > (lean_forward(acts[k]) ? 0.95 : 0.99) * n,
                  "act %d: %d of %d correctly rounded", acts[k], rounded, n);
  }
}
END_TEST

/* the direct path's worst over all 2^32 floats (tools/ulp_sweep, docs/arithmetic.md) lies on
 * a negative piece, where g falls steeply and its three inner roundings weigh most: every
 * float of that piece stays below 2 ulp, and no further off than measured there */
START_TEST(direct_path_keeps_its_measured_worst_over_every_float_of_its_worst_piece)
{
  const struct { int act; float lo, hi, worst_x; double worst; } w[] = {
    {ACTFIT_A_GELU, -3.875f, -3.625f, -3.8730657f, 1.9395},
    {ACTFIT_A_GELU_TANH, -3.625f, -3.375f, -3.6179729f, 1.7843},
    {ACTFIT_A_SILU, -3.25f, -2.75f, -3.2490435f, 1.1926},
    {ACTFIT_A_MISH, -4.25f, -3.75f, -4.2444711f, 1.2052}};
  const float p[4] = {0};
  for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) {
    long double worst = 0;
    float at = 0;
    for (float x = w[k].lo; x < w[k].hi; x = nextafterf(x, INFINITY)) {
      long double e = ulps(actfit_elem_f(w[k].act, p, x), ref_f(w[k].act, x, 0));
      if (e > worst)
        worst = e, at = x;
    }
    ck_assert_msg(worst < 2 && worst < w[k].worst + 1e-3 && at == w[k].worst_x,
                  "act %d: %Lg ulp at x = %.8g, measured %g at %.8g", w[k].act, worst, at,
                  w[k].worst, w[k].worst_x);
  }
}
END_TEST

/* The forward passes (AVX-512 or AVX2 vectorisations of elem.h's float forward where the
 * CPU has them, scalar otherwise; every activation) store exactly elem.h's y, codes and
 * branch bits */
START_TEST(forward_bits_equal_the_element_math_for_every_dtype)
{
  simd_cap(_i);
  const size_t n = 32 * 41 + 13;
  const int nact = ACTFIT_A_COUNT; /* every built-in */
  void *x = malloc(n * 4), *y = malloc(n * 4);
  uint32_t *st = malloc(actfit_fewbit_state_bytes(8, n));
  uint8_t *codes = malloc(n);
  for (int act = 0; act < nact; act++)
    for (int q = 0; q < 3; q++) {
      actfit_dtype d = dts[q];
      uint32_t raw;
      for (size_t i = 0; i < n; i++) {
        float v = i % 3 ? (float)(-12 + 24 * urand()) : any_value(d, &raw);
        if (i % 5 == 1) /* the kinks and branch points: -3, -1, 0, 1, 3, 6, 20 */
          v = (float)((int[]){-3, -1, 0, 1, 3, 6, 20}[i % 7]) * (i % 2 ? 1.0f : -1.0f);
        put(d, x, i, v);
      }
      /* the edges of the bit-in-y store: largest finite, zeros, smallest subnormals, inf */
      static const uint32_t edge[3][8] = {
        {0x7f7fffffu, 0xff7fffffu, 0, 0x80000000u, 1, 0x80000001u, 0x7f800000u, 0x7f7ffffeu},
        {0x7bffu, 0xfbffu, 0, 0x8000u, 1, 0x8001u, 0x7c00u, 0x7bfeu},
        {0x7f7fu, 0xff7fu, 0, 0x8000u, 1, 0x8001u, 0x7f80u, 0x7f7eu}};
      for (int i = 0; i < 8; i++)
        put_raw(d, x, 40 + (size_t)i, edge[q][i]);
      for (int b = 1; b <= 8; b++) { /* every width: the AVX-512 search reads borders 3 ways */
        actfit_rt_fewbit t;
        memset(&t, 0, sizeof t);
        t.act = act;
        t.params[0] = 0.75f; /* alpha, lambda, ... */
        t.params[1] = act == ACTFIT_A_HARDTANH ? 1.5f : 20.0f;
        t.bits = b;
        t.parity_even = b == 2;
        for (int j = 0; j < (1 << b) - 1; j++)
          t.borders[j] = (float)(-6 + 12.0 * (j + 1) / (1 << b)) + (b == 2 ? 6.0f : 0.0f);
        for (int j = 0; j < (1 << b) - 1 && 64 + 3 * j + 2 < (int)n; j++) /* on and next to each */
          for (int e = 0; e < 3; e++)
            put(d, x, 64 + 3 * (size_t)j + (size_t)e, e == 1 ? t.borders[j] : nextafterf(t.borders[j], e ? INFINITY : -INFINITY));
        ck_assert_int_eq(actfit_fewbit_forward(&t, d, x, y, st, n, NULL), ACTFIT_OK);
        actfit_rt_unpack(st, b, n, codes);
        for (size_t i = 0; i < n; i++) {
          float xv = get(d, x, i);
          ck_assert_msg(raw_at(d, y, i) == stored_bits(d, actfit_elem_fs(t.act, t.params, xv, d != ACTFIT_FP32)),
                        "act %d dtype %d x=%a", act, q, xv);
          ck_assert_int_eq(codes[i], actfit_elem_code(&t, xv));
        }
      }
      actfit_rt_invact ia;
      memset(&ia, 0, sizeof ia);
      ia.act = act;
      ia.params[0] = 0.75f;
      ia.params[1] = 20.0f;
      ia.exact = ACTFIT_EXACT_SIGMOID; /* any valid table: only act, bit and T matter here */
      ia.bit = 1;
      ia.T = -0.75f;
      for (int fl = 0; fl <= 1; fl++) {
        ck_assert_int_eq(actfit_invact_forward(&ia, d, fl, x, y, st, n, NULL), ACTFIT_OK);
        for (size_t i = 0; i < n; i++) {
          float xv = get(d, x, i), fy = actfit_elem_fs(ia.act, ia.params, xv, d != ACTFIT_FP32);
          int s = xv < ia.T;
          uint32_t want = invact_stored(d, fy, s, fl);
          ck_assert_msg(raw_at(d, y, i) == want, "act %d dtype %d flags %d x=%a", act, q, fl, xv);
          if (!fl)
            ck_assert_uint_eq((st[i / 32] >> (i % 32)) & 1u, (unsigned)s);
        }
      }
    }
  free(x); free(y); free(st); free(codes);
}
END_TEST

/* a table for the forward of act alone (the passes' y; the backward part, here sigmoid's
 * exact form, is any valid one) */
static actfit_rt_invact forward_only(int act)
{
  actfit_rt_invact ia;
  memset(&ia, 0, sizeof ia);
  ia.act = act;
  ia.exact = ACTFIT_EXACT_SIGMOID;
  return ia;
}

/* Activations that are x times a positive gate near 0, or odd (GELU, GELU-tanh, SiLU, Mish,
 * tanh, Tanhshrink), give +0 for +0, -0 for -0, and a value of x's sign (a zero too, where
 * it underflows) for tiny x, in every dtype and on every path */
START_TEST(zeros_and_tiny_inputs_keep_their_sign)
{
  simd_cap(_i);
  const int acts[] = {ACTFIT_A_GELU, ACTFIT_A_GELU_TANH, ACTFIT_A_SILU, ACTFIT_A_MISH,
                      ACTFIT_A_TANH, ACTFIT_A_TANHSHRINK};
  const float v[] = {0.0f, -0.0f, 0x1p-149f, -0x1p-149f, 0x1p-140f, -0x1p-140f, 0x1p-126f,
                     -0x1p-126f, 0x1p-60f, -0x1p-60f, 0x1p-24f, -0x1p-24f};
  const size_t nv = sizeof v / sizeof v[0], n = 64;
  float x[64], y[64];
  uint32_t st[2];
  for (int q = 0; q <= 2; q++) {
    actfit_dtype d = (actfit_dtype)q;
    for (size_t i = 0; i < n; i++)
      put(d, x, i, v[i % nv]);
    for (size_t k = 0; k < sizeof acts / sizeof acts[0]; k++) {
      actfit_rt_invact ia = forward_only(acts[k]);
      ck_assert_int_eq(actfit_invact_forward(&ia, d, 0, x, y, st, n, NULL), ACTFIT_OK);
      for (size_t i = 0; i < n; i++) {
        float xv = get(d, x, i), yv = get(d, y, i);
        ck_assert_msg(!signbit(xv) == !signbit(yv) && (xv != 0.0f || yv == 0.0f),
                      "act %d dtype %d x=%a: y %a", acts[k], q, xv, yv);
      }
    }
  }
}
END_TEST

/* the fp16 / bf16 value next to the one with bits b, toward +inf (up) or -inf */
static float next16(actfit_dtype d, uint16_t b, int up)
{
  uint16_t nb;
  if ((b & 0x7fffu) == 0) /* +-0: the smallest subnormal of the direction's sign */
    nb = up ? 0x0001u : 0x8001u;
  else if (!(b & 0x8000u) == !!up) /* away from zero */
    nb = (uint16_t)(b + 1);
  else
    nb = (uint16_t)(b - 1);
  return get(d, &nb, 0);
}

/* The 16-bit passes of the lean activations take elem.h's 16-bit path: for every one of the
 * 65,536 fp16 and bf16 inputs, the pass stores y within 1 ulp of the dtype of the exact
 * value (one of the two dtype values around it), and the correctly rounded one for nearly
 * all; the pass (vector loops and, at this size, the 16-bit tables) stores the scalar
 * path's bits */
START_TEST(sixteen_bit_forward_is_within_one_dtype_ulp_for_every_input)
{
  simd_cap(_i);
  const int acts[] = {ACTFIT_A_GELU, ACTFIT_A_GELU_TANH, ACTFIT_A_SILU, ACTFIT_A_MISH};
  const size_t n = 1u << 18; /* large enough for the tables: each 16-bit pattern four times */
  uint16_t *x = malloc(n * 2), *y = malloc(n * 2);
  uint32_t *st = malloc(n);
  for (size_t i = 0; i < n; i++)
    x[i] = (uint16_t)(i * 40503u); /* every pattern, scattered */
  for (int q = 1; q <= 2; q++) {
    actfit_dtype d = (actfit_dtype)q;
    for (size_t k = 0; k < sizeof acts / sizeof acts[0]; k++) {
      actfit_rt_invact ia = forward_only(acts[k]);
      ck_assert_int_eq(actfit_invact_forward(&ia, d, 0, x, y, st, n, NULL), ACTFIT_OK);
      int rounded = 0, finite = 0;
      for (size_t i = 0; i < 65536; i++) {
        float xv = get(d, x, i), yv = get(d, y, i);
        float want = actfit_elem_f16(acts[k], ia.params, xv);
        ck_assert_msg(y[i] == (d == ACTFIT_FP16 ? actfit_f32_to_f16(want) : actfit_f32_to_bf16(want)),
                      "act %d dtype %d x=%a: the pass and the scalar path differ", acts[k], q, xv);
        if (!isfinite(xv))
          continue;
        long double r = ref_f(acts[k], xv, 0);
        float dn = next16(d, y[i], 0), up = next16(d, y[i], 1);
        finite++;
        /* within one dtype ulp: y is one of the two dtype values around r */
        ck_assert_msg(dn < r && r < up, "act %d dtype %d x=%a: y %a, exact %La", acts[k], q, xv,
                      yv, r);
        long double e = fabsl(yv - r);
        rounded += e <= r - dn && e <= up - r;
      }
      /* measured (tools/ulp_sweep): all but 0.2% correctly rounded */
      ck_assert_msg(rounded > 0.99 * finite, "act %d dtype %d: %d of %d correctly rounded",
                    acts[k], q, rounded, finite);
    }
  }
  free(x); free(y); free(st);
}
END_TEST

/* The vector loops written out lane by lane (cpu_table_fwd.h: GELU, GELU-tanh, SiLU, softplus
 * with beta 1 and with another beta, logsigmoid) store the scalar code's bits on and next to
 * every piece end of their tables of M (z + 1 = 2^e (1 + i/8) and z + 2 = 2^e 2 (1 + i/8)),
 * at the ends of their ranges (2^-60, 10.8, 11, 15, 30, 109, 120, 128, 130, softplus's
 * threshold), for zeros, subnormals, infinities, NaNs (signalling ones kept as they are)
 * and across [-16, 16] and [-140, 140]; and y keeps its contract there (2 ulp for the lean
 * forwards, 1 for the others) */
/* f(x) as x goes to +-inf, for the activations with a table of M */
static float lim_inf(int act, float x)
{
  switch (act) {
  case ACTFIT_A_SOFTPLUS: return x > 0 ? x : 0.0f;
  case ACTFIT_A_LOGSIGMOID: return x > 0 ? -0.0f : x;
  case ACTFIT_A_SIGMOID: return x > 0 ? 1.0f : 0.0f;
  case ACTFIT_A_TANH: return x > 0 ? 1.0f : -1.0f;
  default: return x > 0 ? x : -0.0f; /* x times a gate from 0 to 1 */
  }
}

START_TEST(table_forwards_vector_loops_store_the_scalar_bits_at_every_piece_end)
{
  simd_cap(_i);
  const size_t n = 32 * 500;
  float *x = malloc(n * 4), *y = malloc(n * 4);
  uint32_t *st = malloc(n);
  size_t m = 0;
  float ends[140];
  int ne = 0;
  /* z + off = 2^e off (1 + i/8): z = 0 .. 15 and 0 .. 30; tanh's pieces (of 2z + 2) end
   * where the first set does */
  for (int j = 0; j <= 32; j++) {
    ends[ne++] = (float)(ldexp(1.0 + (j % 8) / 8.0, j / 8) - 1.0);
    ends[ne++] = (float)(ldexp(2.0 + (j % 8) / 4.0, j / 8) - 2.0);
  }
  const float lim[] = {0x1p-60f, 0x1p-126f, 0x1p-12f, 0.25f, 0.5f, 9.01f, 10.8f, 11.0f, 15.0f, 20.0f,
                       26.666666f, 30.0f, 87.3f, 103.9f, 109.0f, 120.0f, 128.0f, 130.0f,
                       ACTFIT_GELU_XSAT, ACTFIT_GELU_TANH_XSAT};
  for (size_t k = 0; k < sizeof lim / sizeof lim[0]; k++)
    ends[ne++] = lim[k];
  /* the direct path's pieces end at odd multiples of h/2 (h = 1/4 and 1/2), and it ends at
   * 15.5 h (3.875, 7.75): every lane on one side of an end and its neighbours on the other */
  for (int k = 0; k <= 15; k++) {
    ends[ne++] = (k + 0.5f) * 0.25f;
    if (k % 2 == 0 || k == 15)
      ends[ne++] = (k + 0.5f) * 0.5f;
  }
  for (int k = 0; k < ne; k++)
    for (int sg = -1; sg <= 1; sg += 2) {
      float v = sg * ends[k];
      for (int u = 0; u < 4; u++) /* four floats below, on, one above */
        v = nextafterf(v, -INFINITY);
      for (int u = 0; u < 6; u++, v = nextafterf(v, INFINITY))
        x[m++] = v;
    }
  const float special[] = {0.0f, -0.0f, 0x1p-149f, -0x1p-149f, INFINITY, -INFINITY, NAN, -NAN,
                           0x1.fffffep127f, -0x1.fffffep127f, 14.5f, -14.5f, 13.18f, -13.18f};
  for (size_t k = 0; k < sizeof special / sizeof special[0]; k++)
    x[m++] = special[k];
  const uint32_t snan[] = {0x7f800001u, 0xffa00000u, 0x7fbfffffu}; /* signalling: kept as they are */
  for (size_t k = 0; k < sizeof snan / sizeof snan[0]; k++)
    x[m++] = actfit_bits_f32(snan[k]);
  while (m < n)
    x[m] = (float)(m % 2 ? -16 + 32 * urand() : -140 + 280 * urand()), m++;
  /* softplus with an infinite threshold: x where beta x overflows (+inf gives +inf) */
  const struct { int act; float beta, thr; } cases[] = {
    {ACTFIT_A_GELU, 0, 20}, {ACTFIT_A_GELU_TANH, 0, 20}, {ACTFIT_A_SILU, 0, 20},
    {ACTFIT_A_SOFTPLUS, 1.0f, 20}, {ACTFIT_A_SOFTPLUS, 0.75f, 20},
    {ACTFIT_A_SOFTPLUS, 1.0f, INFINITY}, {ACTFIT_A_SOFTPLUS, 2.0f, INFINITY},
    {ACTFIT_A_LOGSIGMOID, 0, 20}, {ACTFIT_A_TANH, 0, 0}, {ACTFIT_A_MISH, 0, 0},
    {ACTFIT_A_SIGMOID, 0, 0}};
  for (size_t a = 0; a < sizeof cases / sizeof cases[0]; a++) {
    actfit_rt_invact ia = forward_only(cases[a].act);
    ia.params[0] = cases[a].beta;
    ia.params[1] = cases[a].thr;
    ck_assert_int_eq(actfit_invact_forward(&ia, ACTFIT_FP32, 0, x, y, st, n, NULL), ACTFIT_OK);
    for (size_t i = 0; i < n; i++) {
      float want = actfit_elem_f(ia.act, ia.params, x[i]);
      if (isinf(x[i])) /* the limit, with its sign: softplus(+inf) is +inf, Mish(-inf) -0 */
        ck_assert_msg(actfit_f32_bits(y[i]) == actfit_f32_bits(lim_inf(ia.act, x[i])),
                      "act %d (beta %g, threshold %g) at %a: %a", ia.act, ia.params[0],
                      ia.params[1], x[i], y[i]);
      ck_assert_msg(actfit_f32_bits(y[i]) == actfit_f32_bits(want), "act %d x=%a: %a, scalar %a",
                    ia.act, x[i], y[i], want);
      if (isfinite(x[i])) {
        long double r = ref_f(ia.act, x[i], ia.params[0]);
        ck_assert_msg(ulps(y[i], r) < (lean_forward(ia.act) ? 2 : 1), "act %d x=%a: %a, exact %La",
                      ia.act, x[i], y[i], r);
      }
    }
  }
  free(x); free(y); free(st);
}
END_TEST

/* GELU's positive tail [3.875, 5.375) is one piece of the direct path (elem.h's
 * ACTFIT_GELU_DCAP, column 16, the piece of 4): every float of it, and 64
 * beyond each end, stores elem.h's bits from the forward pass on every backend, and every
 * float of it is within the worst that tools/ulp_sweep measured there (0.7004 ulp at
 * 4.1275301: the fit's 0.20 and y's rounding), far inside the 2-ulp contract */
START_TEST(gelu_positive_tail_piece_stores_the_scalar_bits_within_its_measured_worst)
{
  simd_cap(_i);
  float lo = ACTFIT_D_TOP4, hi = ACTFIT_GELU_XSAT;
  for (int k = 0; k < 64; k++)
    lo = nextafterf(lo, 0.0f), hi = nextafterf(hi, INFINITY);
  size_t n = (size_t)(actfit_f32_bits(hi) - actfit_f32_bits(lo));
  float *x = malloc(n * 4), *y = malloc(n * 4);
  uint32_t *st = malloc(n);
  ck_assert(x && y && st);
  for (size_t i = 0; i < n; i++)
    x[i] = actfit_bits_f32(actfit_f32_bits(lo) + (uint32_t)i);
  actfit_rt_invact ia = forward_only(ACTFIT_A_GELU);
  ck_assert_int_eq(actfit_invact_forward(&ia, ACTFIT_FP32, 0, x, y, st, n, NULL), ACTFIT_OK);
  long double worst = 0;
  float at = 0;
  for (size_t i = 0; i < n; i++) {
    float want = actfit_elem_f(ACTFIT_A_GELU, ia.params, x[i]);
    ck_assert_msg(actfit_f32_bits(y[i]) == actfit_f32_bits(want), "x=%a: %a, scalar %a", x[i], y[i],
                  want);
    if (_i == 0 && x[i] >= ACTFIT_D_TOP4 && x[i] < ACTFIT_GELU_XSAT) {
      long double e = ulps(y[i], ref_f(ACTFIT_A_GELU, x[i], 0));
      if (e > worst)
        worst = e, at = x[i];
    }
  }
  if (_i == 0)
    ck_assert_msg(worst < 0.7004 + 1e-3 && at == 4.1275301f,
                  "%Lg ulp at x = %.8g, measured 0.7004 at 4.1275301", worst, at);
  free(x); free(y); free(st);
}
END_TEST

/* From elem.h's ACTFIT_*_XSAT on, GELU's and GELU-tanh's lean path gives x itself (which the
 * AVX-512 loops store there without it): every float from the bound to 16 (the lean path
 * clamps z below 15; beyond, Q is smaller still), and the bound is within 1/32 of the last
 * float that does not */
START_TEST(lean_path_gives_x_itself_from_the_saturation_bound_on)
{
  const struct { int act; float sat; } cases[] = {{ACTFIT_A_GELU, ACTFIT_GELU_XSAT},
                                                  {ACTFIT_A_GELU_TANH, ACTFIT_GELU_TANH_XSAT}};
  const float pf[2] = {0, 0};
  for (size_t a = 0; a < sizeof cases / sizeof cases[0]; a++) {
    size_t below = 0;
    for (float x = cases[a].sat - 1.0f / 32; x < cases[a].sat; x = nextafterf(x, INFINITY))
      below += actfit_elem_f(cases[a].act, pf, x) != x;
    ck_assert_msg(below > 0, "act %d: y = x already below %g - 1/32", cases[a].act, cases[a].sat);
    for (float x = cases[a].sat; x < 16.0f; x = nextafterf(x, INFINITY))
      ck_assert_msg(actfit_f32_bits(actfit_elem_f(cases[a].act, pf, x)) == actfit_f32_bits(x),
                    "act %d x=%a: %a", cases[a].act, x, actfit_elem_f(cases[a].act, pf, x));
  }
}
END_TEST

/* the elements a large 16-bit test checks: the first and the last 65,536 (each holds every
 * 16-bit pattern once, and each end is another thread's share of the pass) */
static size_t next_checked(size_t i, size_t n)
{
  return i + 1 == 65536 && n > 2 * 65536 ? n - 65536 : i + 1;
}

/* Large fp16 / bf16 forward passes read y (and FewBit's codes) from tables over every 16-bit
 * x (built once per activation, parameters or table, and dtype): every 16-bit pattern,
 * several times over, stores exactly what elem.h computes, for FewBit (forward and encoder,
 * codes of x and of |x|) and for InvAct with the bit in y (which
 * moves y towards f's unrounded value, so the table must hold the float result) */
START_TEST(large_16_bit_forward_passes_store_the_element_math_for_every_input)
{
  simd_cap(_i);
  const size_t n = (1u << 18) + 4 * 65536 + 37; /* past the table's threshold */
  uint16_t *x = malloc(n * 2), *y = malloc(n * 2);
  uint32_t *st = malloc(actfit_fewbit_state_bytes(3, n));
  uint8_t *codes = malloc(n);
  const int acts[] = {ACTFIT_A_GELU, ACTFIT_A_SILU, ACTFIT_A_SOFTPLUS, ACTFIT_A_HARDSWISH};
  for (size_t i = 0; i < n; i++)
    x[i] = (uint16_t)(i * 40503u);
  for (int q = 1; q < 3; q++)
    for (size_t k = 0; k < sizeof acts / sizeof acts[0]; k++) {
      actfit_dtype d = dts[q];
      actfit_rt_fewbit t;
      memset(&t, 0, sizeof t);
      t.act = acts[k];
      t.params[0] = 0.75f;
      t.params[1] = 20.0f;
      t.bits = 3;
      t.parity_even = k % 2; /* codes of |x| */
      for (int j = 0; j < 7; j++)
        t.borders[j] = t.parity_even ? 0.25f * (float)(j + 1) : (float)(j - 3);
      ck_assert_int_eq(actfit_fewbit_forward(&t, d, x, y, st, n, NULL), ACTFIT_OK);
      actfit_rt_unpack(st, 3, n, codes);
      for (size_t i = 0; i < n; i = next_checked(i, n)) {
        float xv = get(d, x, i);
        ck_assert_msg(raw_at(d, y, i) == stored_bits(d, actfit_elem_fs(t.act, t.params, xv, d != ACTFIT_FP32)),
                      "act %d dtype %d x=%a", t.act, q, xv);
        ck_assert_int_eq(codes[i], actfit_elem_code(&t, xv));
      }
      memset(st, 0, actfit_fewbit_state_bytes(3, n));
      ck_assert_int_eq(actfit_fewbit_encode(&t, d, x, st, n, NULL), ACTFIT_OK);
      actfit_rt_unpack(st, 3, n, codes);
      for (size_t i = 0; i < n; i = next_checked(i, n))
        ck_assert_int_eq(codes[i], actfit_elem_code(&t, get(d, x, i)));
      actfit_rt_invact ia;
      memset(&ia, 0, sizeof ia);
      ia.act = acts[k];
      memcpy(ia.params, t.params, sizeof ia.params);
      ia.exact = ACTFIT_EXACT_SIGMOID;
      ia.bit = 1;
      ia.T = -0.75f;
      for (int fl = 0; fl <= 1; fl++) {
        ck_assert_int_eq(actfit_invact_forward(&ia, d, fl, x, y, st, n, NULL), ACTFIT_OK);
        for (size_t i = 0; i < n; i = next_checked(i, n)) {
          float xv = get(d, x, i), fy = actfit_elem_fs(ia.act, ia.params, xv, d != ACTFIT_FP32);
          int sb = xv < ia.T;
          uint32_t want = invact_stored(d, fy, sb, fl);
          ck_assert_msg(raw_at(d, y, i) == want, "act %d dtype %d flags %d x=%a", ia.act, q, fl, xv);
          if (!fl)
            ck_assert_uint_eq((st[i / 32] >> (i % 32)) & 1u, (unsigned)sb);
        }
      }
    }
  free(x); free(y); free(st); free(codes);
}
END_TEST

/* Large fp16 / bf16 InvAct backward passes read g from a table of every 16-bit y and branch
 * bit (built once per table and dtype): every 16-bit y, both bit placements, fitted and
 * exact tables, stores exactly what elem.h computes */
START_TEST(large_16_bit_invact_backward_passes_store_the_element_math_for_every_y)
{
  simd_cap(_i);
  const size_t n = (1u << 18) + 2 * 65536 + 37;
  uint16_t *y = malloc(n * 2), *g = malloc(n * 2), *gi = malloc(n * 2);
  uint32_t *st = malloc(n / 8 + 8);
  const char *names[] = {"gelu", "silu", "tanh", "softplus"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.json", ACTFIT_SOURCE_DIR "/tables/invact", names[k]);
    actfit_table tab;
    load(path, &tab);
    actfit_rt_invact ia;
    ck_assert_int_eq(actfit_table_to_rt_invact(&tab, &ia), ACTFIT_OK);
    actfit_table_destroy(&tab);
    for (int q = 1; q < 3; q++)
      for (int fl = 0; fl <= 1; fl++) {
        actfit_dtype d = dts[q];
        uint32_t raw;
        for (size_t i = 0; i < n; i++) {
          y[i] = (uint16_t)(i * 40503u);
          g[i] = (uint16_t)(i % 7 ? (any_value(d, &raw), raw) : (d == ACTFIT_FP16 ? 0x3c00 : 0x3f80));
        }
        for (size_t i = 0; i < n / 32 + 1; i++)
          st[i] = (uint32_t)(urand() * 4294967296.0);
        ck_assert_int_eq(actfit_invact_backward(&ia, d, fl, y, st, g, gi, n, NULL), ACTFIT_OK);
        for (size_t i = 0; i < n; i = next_checked(i, n)) {
          int s = !ia.bit ? 0 : fl ? (int)(y[i] & 1u) : (int)((st[i / 32] >> (i % 32)) & 1u);
          float wf = get(d, g, i) * actfit_elem_invact(&ia, get(d, y, i), s);
          if (wf != wf) {
            ck_assert(get(d, gi, i) != get(d, gi, i));
            continue;
          }
          ck_assert_msg(gi[i] == stored_bits(d, wf), "%s dtype %d flags %d y=%#x", names[k], q, fl, y[i]);
        }
      }
  }
  free(y); free(g); free(gi); free(st);
}
END_TEST

/* 16-bit passes below the size that builds a table (cpu_pass.h's ACTFIT__LUT_MIN) compute
 * the first time and read the table the second time they are asked (it is built then), and
 * store the same bits each time: InvAct forward (both bit placements) and backward, FewBit
 * forward and encoder, fp16 and bf16 */
START_TEST(small_16_bit_passes_store_the_same_bits_before_and_after_their_table_is_built)
{
  const size_t n = (1u << 14) + 7 * 32 + 5;
  const actfit_dtype d = _i ? ACTFIT_BF16 : ACTFIT_FP16;
  uint16_t *x = malloc(n * 2), *g = malloc(n * 2), *y[3], *gi[3], *yb[3], *yf[3];
  uint8_t *st[3], *fs[3], *fe[3];
  const actfit_rt_invact *ia = actfit_rt_invact_builtin("silu");
  const actfit_rt_fewbit *fb = actfit_rt_fewbit_builtin("gelu", 2, NULL);
  for (size_t i = 0; i < n; i++) {
    x[i] = (uint16_t)(i * 40503u); /* every class */
    put(d, g, i, (float)(0.5 + urand()));
  }
  for (int k = 0; k < 3; k++) {
    y[k] = malloc(n * 2), gi[k] = malloc(n * 2), yb[k] = malloc(n * 2), yf[k] = malloc(n * 2);
    st[k] = malloc(actfit_invact_state_bytes(ia, 0, n));
    fs[k] = malloc(actfit_fewbit_state_bytes(2, n));
    fe[k] = malloc(actfit_fewbit_state_bytes(2, n));
    ck_assert_int_eq(actfit_invact_forward(ia, d, 0, x, y[k], st[k], n, NULL), ACTFIT_OK);
    ck_assert_int_eq(actfit_invact_forward(ia, d, ACTFIT_BIT_IN_Y, x, yb[k], NULL, n, NULL), ACTFIT_OK);
    ck_assert_int_eq(actfit_invact_backward(ia, d, 0, y[0], st[0], g, gi[k], n, NULL), ACTFIT_OK);
    ck_assert_int_eq(actfit_fewbit_forward(fb, d, x, yf[k], fs[k], n, NULL), ACTFIT_OK);
    ck_assert_int_eq(actfit_fewbit_encode(fb, d, x, fe[k], n, NULL), ACTFIT_OK);
  }
  for (size_t i = 0; i < n; i++) { /* the first call's bits are elem.h's */
    float xv = get(d, x, i);
    ck_assert_uint_eq(raw_at(d, yf[0], i), stored_bits(d, actfit_elem_fs(fb->act, fb->params, xv, 1)));
    ck_assert_uint_eq(raw_at(d, y[0], i), stored_bits(d, actfit_elem_fs(ia->act, ia->params, xv, 1)));
    float wf = get(d, g, i) * actfit_elem_invact(ia, get(d, y[0], i), (int)((((uint32_t *)st[0])[i / 32] >> (i % 32)) & 1u));
    if (wf == wf)
      ck_assert_uint_eq(raw_at(d, gi[0], i), stored_bits(d, wf));
  }
  for (int k = 1; k < 3; k++) {
    ck_assert_mem_eq(y[k], y[0], n * 2);
    ck_assert_mem_eq(yb[k], yb[0], n * 2);
    ck_assert_mem_eq(yf[k], yf[0], n * 2);
    ck_assert_mem_eq(st[k], st[0], actfit_invact_state_bytes(ia, 0, n));
    ck_assert_mem_eq(fs[k], fs[0], actfit_fewbit_state_bytes(2, n));
    ck_assert_mem_eq(fe[k], fe[0], actfit_fewbit_state_bytes(2, n));
    for (size_t i = 0; i < n; i++)
      if (get(d, gi[0], i) == get(d, gi[0], i))
        ck_assert_uint_eq(raw_at(d, gi[k], i), raw_at(d, gi[0], i));
  }
  for (int k = 0; k < 3; k++) {
    free(y[k]); free(gi[k]); free(yb[k]); free(yf[k]); free(st[k]); free(fs[k]); free(fe[k]);
  }
  free(x); free(g);
}
END_TEST

/* cpu_lut.c keeps at most 48 tables: once full, a pass that needs another computes per
 * element (elem.h's bits) and does not build a table it could not keep (every such pass
 * would build it again) */
size_t actfit__lut_builds(void); /* src/runtime/cpu_pass.h */

START_TEST(a_full_table_cache_builds_no_table_it_cannot_keep)
{
  const size_t n = 1u << 16;
  uint16_t *y = malloc(n * 2), *g = malloc(n * 2), *gi = malloc(n * 2);
  uint32_t *st = calloc(n / 32, 4);
  for (size_t i = 0; i < n; i++) {
    y[i] = (uint16_t)i; /* every bf16 pattern */
    put(ACTFIT_BF16, g, i, 1.0f);
  }
  actfit_rt_invact t = *actfit_rt_invact_builtin("gelu");
  size_t b0 = actfit__lut_builds();
  ck_assert_int_eq(actfit_invact_backward(&t, ACTFIT_BF16, 0, y, st, g, gi, n, NULL), ACTFIT_OK);
  if (actfit__lut_builds() == b0) { /* no tables in this build (no AVX2) */
    free(y); free(g); free(gi); free(st);
    return;
  }
  for (int k = 1; k <= 60; k++) { /* 60 tables that differ in one constant */
    t.br[1].asym_hi = actfit_rt_invact_builtin("gelu")->br[1].asym_hi + (float)k * 0x1p-20f;
    ck_assert_int_eq(actfit_invact_backward(&t, ACTFIT_BF16, 0, y, st, g, gi, n, NULL), ACTFIT_OK);
  }
  ck_assert_uint_le(actfit__lut_builds() - b0, 48);
  size_t b1 = actfit__lut_builds();
  for (int k = 0; k < 3; k++)
    ck_assert_int_eq(actfit_invact_backward(&t, ACTFIT_BF16, 0, y, st, g, gi, n, NULL), ACTFIT_OK);
  ck_assert_uint_eq(actfit__lut_builds(), b1);
  for (size_t i = 0; i < n; i++) {
    float wf = actfit_elem_invact(&t, get(ACTFIT_BF16, y, i), 0);
    if (wf == wf)
      ck_assert_uint_eq(raw_at(ACTFIT_BF16, gi, i), stored_bits(ACTFIT_BF16, wf));
  }
  free(y); free(g); free(gi); free(st);
}
END_TEST

/* InvAct backward for every committed table, both bit placements and every dtype: realistic
 * y (from the forward), y of every class and y around y_min, against elem.h bit for bit.
 * The first NEAR groups hold y of x in [-3, 3] only, with one tiny y in every other one:
 * the AVX-512 loop reads the deep binades' slots only for groups that need them. */
START_TEST(invact_backward_bits_equal_the_element_math_for_every_table)
{
  simd_cap(_i);
  DIR *dir = opendir(ACTFIT_SOURCE_DIR "/tables/invact");
  ck_assert_ptr_nonnull(dir);
  const size_t n = 32 * 71 + 19; /* more than one 64-group chunk; odd, so the AVX-512 loop also
                                   * runs its one-group tail */
  void *x = malloc(n * 4), *y = malloc(n * 4), *g = malloc(n * 4), *gi = malloc(n * 4);
  uint32_t *st = malloc(n / 8 + 8);
  struct dirent *e;
  int count = 0;
  while ((e = readdir(dir))) {
    if (!strstr(e->d_name, ".json"))
      continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ACTFIT_SOURCE_DIR "/tables/invact", e->d_name);
    actfit_table tab;
    load(path, &tab);
    actfit_rt_invact ia;
    ck_assert_int_eq(actfit_table_to_rt_invact(&tab, &ia), ACTFIT_OK);
    actfit_table_destroy(&tab);
    for (int q = 0; q < 3; q++)
      for (int fl = 0; fl <= 1; fl++) {
        actfit_dtype d = dts[q];
        uint32_t raw;
        const size_t near = 32 * 8;
        for (size_t i = 0; i < n; i++) {
          put(d, x, i, (float)(i < near ? -3 + 6 * urand() : -12 + 24 * urand()));
          any_value(d, &raw);
          put_raw(d, g, i, raw);
        }
        ck_assert_int_eq(actfit_invact_forward(&ia, d, fl, x, y, st, n, NULL), ACTFIT_OK);
        for (size_t i = 32 + 7; i < near; i += 64) /* a tiny y, bit kept */
          put_raw(d, y, i, (raw_at(d, y, i) & 1u) | (d == ACTFIT_FP32 ? 0xb3d6bf94u : d == ACTFIT_FP16 ? 0x8011u : 0xb3d6u));
        for (size_t i = near; i < n; i += 3) { /* then other y: any class, or near y_min */
          float v = i % 2 ? any_value(d, &raw)
                          : ia.ymin_hi * (float)(1 + 1e-3 * (urand() - 0.5));
          put(d, y, i, v);
        }
        for (size_t i = near + 1; i < n && ia.exact == ACTFIT_EXACT_NONE; i += 3) {
          /* y on and next to the pieces' ends, where the piece index changes */
          const actfit_rt_branch *b = &ia.br[ia.nbranch == 2 ? (int)(urand() * 2) : 0];
          float h = b->p[(int)(urand() * b->np)].hi;
          float v = b->var == ACTFIT_VAR_T ? (ia.ymin_hi + h * h) + ia.ymin_lo : h;
          int steps = (int)(urand() * 7) - 3;
          for (; steps > 0; steps--)
            v = nextafterf(v, INFINITY);
          for (; steps < 0; steps++)
            v = nextafterf(v, -INFINITY);
          put(d, y, i, v);
        }
        for (size_t i = 0; i < n / 32 + 1; i++)
          st[i] = (uint32_t)(urand() * 4294967296.0);
        ck_assert_int_eq(actfit_invact_backward(&ia, d, fl, y, st, g, gi, n, NULL), ACTFIT_OK);
        for (size_t i = 0; i < n; i++) {
          int s = !ia.bit ? 0 : fl ? (int)(raw_at(d, y, i) & 1u) : (int)((st[i / 32] >> (i % 32)) & 1u);
          float wf = get(d, g, i) * actfit_elem_invact(&ia, get(d, y, i), s);
          uint32_t want = stored_bits(d, wf);
          if (wf != wf) { /* NaN times NaN: which payload wins is not specified */
            ck_assert(get(d, gi, i) != get(d, gi, i));
            continue;
          }
          ck_assert_msg(raw_at(d, gi, i) == want, "%s dtype %d flags %d y=%a: %#x, want %#x",
                        e->d_name, q, fl, get(d, y, i), raw_at(d, gi, i), want);
        }
      }
    count++;
  }
  closedir(dir);
  ck_assert_int_ge(count, 20);
  free(x); free(y); free(g); free(gi); free(st);
}
END_TEST

/* A table the vector loops cannot flatten (a piece of degree 15: records hold 13) takes the
 * scalar loop and still gives elem.h's bits, which equal the unpadded table's: leading zero
 * coefficients change nothing in Horner */
START_TEST(invact_backward_of_a_table_without_a_vector_plan_matches_the_element_math)
{
  simd_cap(_i);
  actfit_rt_invact ia = *actfit_rt_invact_builtin("gelu");
  actfit_rt_piece *pc = &ia.br[1].p[0];
  int pad = 15 - pc->deg;
  memmove(pc->coef + pad, pc->coef, sizeof(float) * (size_t)(pc->deg + 1));
  for (int k = 0; k < pad; k++)
    pc->coef[k] = 0.0f;
  pc->deg = 15;
  ck_assert_int_eq(actfit_rt_invact_check(&ia), ACTFIT_OK);
  const actfit_rt_invact *orig = actfit_rt_invact_builtin("gelu");
  const size_t n = 32 * 64 + 5;
  float *x = malloc(n * 4), *y = malloc(n * 4), *g = malloc(n * 4), *gi = malloc(n * 4),
        *gi0 = malloc(n * 4);
  uint32_t *st = malloc(n / 8 + 8);
  for (size_t i = 0; i < n; i++) {
    x[i] = (float)(-8 + 16 * urand());
    g[i] = (float)(-2 + 4 * urand());
  }
  ck_assert_int_eq(actfit_invact_forward(&ia, ACTFIT_FP32, 0, x, y, st, n, NULL), ACTFIT_OK);
  ck_assert_int_eq(actfit_invact_backward(&ia, ACTFIT_FP32, 0, y, st, g, gi, n, NULL), ACTFIT_OK);
  ck_assert_int_eq(actfit_invact_backward(orig, ACTFIT_FP32, 0, y, st, g, gi0, n, NULL), ACTFIT_OK);
  for (size_t i = 0; i < n; i++) {
    int s = (int)((st[i / 32] >> (i % 32)) & 1u);
    ck_assert_uint_eq(actfit_f32_bits(gi[i]), actfit_f32_bits(g[i] * actfit_elem_invact(&ia, y[i], s)));
    ck_assert_uint_eq(actfit_f32_bits(gi[i]), actfit_f32_bits(gi0[i]));
  }
  free(x); free(y); free(g); free(gi); free(gi0); free(st);
}
END_TEST

/* The fp32 InvAct backward's vector loops (AVX-512, AVX2) give elem.h's bits for y of every
 * class (every 16411th pattern,
 * and those around +-0, the smallest normal, 1, the largest finite, inf and NaN), s = 0 and
 * s = 1, for the fitted tables (whose piece ends lie on a grid: the AVX-512 loop's merged
 * search; 40-45 slots, two of its blocks), for GELU's with one end moved off the grid (its
 * per-branch search), for a SiLU fit to 3e-8 (`actfit invact silu --target 3e-8
 * --max-degree 6`: 49 slots, three blocks, the loop whose block count is a variable), and
 * for GELU's with its binades moved down into the subnormals (the AVX2 loop's bound for the
 * last binade is then top + 125, not nb - 1), with its first piece's start moved up,
 * inside the piece (below it: asym_lo) and past the ends of four (no vector plan), and for
 * SiLU's with one piece padded to degree 6 by a leading zero (nine rows: the AVX2 loop
 * gathers the last one alone) */
START_TEST(invact_backward_stores_the_element_math_for_y_of_every_class_on_and_off_the_grid)
{
  simd_cap(_i);
  const uint32_t edge[] = {0x00000000u, 0x00800000u, 0x3f800000u, 0x7f7fffffu, 0x7f800000u,
                           0x7f800001u, 0x7fc00000u, 0x7fffffffu};
  const int ne = (int)(sizeof edge / sizeof edge[0]);
  const size_t m = 0x100000000ull / 16411 + 1;
  size_t n = m + (size_t)ne * 2 * 9;
  n += 32 - n % 32;
  float *y = malloc(n * 4), *g = malloc(n * 4), *gi = malloc(n * 4);
  uint32_t *st = malloc(n / 8);
  size_t k = 0;
  for (size_t i = 0; i < m; i++)
    put_raw(ACTFIT_FP32, y, k++, (uint32_t)(i * 16411));
  for (int e = 0; e < ne; e++)
    for (int sign = 0; sign < 2; sign++)
      for (int dd = -4; dd <= 4; dd++)
        put_raw(ACTFIT_FP32, y, k++, (edge[e] + (uint32_t)dd) ^ (sign ? 0x80000000u : 0u));
  for (; k < n; k++)
    y[k] = 0.5f;
  for (size_t i = 0; i < n; i++)
    g[i] = (float)(0.5 + urand());
  actfit_rt_invact off = *actfit_rt_invact_builtin("gelu");
  float w = off.br[1].p[3].hi - off.br[1].p[3].lo;
  off.br[1].p[3].hi += 0.37f * w; /* a third of a cell off the grid */
  off.br[1].p[4].lo = off.br[1].p[3].hi;
  ck_assert_int_eq(actfit_rt_invact_check(&off), ACTFIT_OK);
  actfit_table tab;
  load(ACTFIT_SOURCE_DIR "/tests/data/silu-invact-49-slots.json", &tab);
  actfit_rt_invact s49;
  ck_assert_int_eq(actfit_table_to_rt_invact(&tab, &s49), ACTFIT_OK);
  actfit_table_destroy(&tab);
  int slots = 0;
  for (int b = 0; b < s49.nbranch; b++)
    slots += s49.br[b].np + 3 + s49.br[b].nb;
  ck_assert_int_eq(slots, 49);
  actfit_rt_invact deep = *actfit_rt_invact_builtin("gelu");
  ck_assert_int_gt(deep.br[0].nb, 3);
  deep.br[0].binade_top = deep.br[0].nb - 129; /* the last three binades below 2^-126 */
  ck_assert_int_eq(actfit_rt_invact_check(&deep), ACTFIT_OK);
  actfit_rt_invact lo = *actfit_rt_invact_builtin("gelu"), past = lo;
  lo.br[1].p[0].lo = 0.5f * lo.br[1].p[0].hi;
  past.br[1].p[0].lo = past.br[1].p[3].hi; /* past four ends: a count of them lands on other slots */
  actfit_rt_invact d6 = *actfit_rt_invact_builtin("silu");
  actfit_rt_piece *pd = &d6.br[1].p[2];
  ck_assert_int_eq(pd->deg, 5);
  memmove(pd->coef + 1, pd->coef, sizeof(float) * 6);
  pd->coef[0] = 0.0f;
  pd->deg = 6;
  const actfit_rt_invact *tabs[] = {actfit_rt_invact_builtin("gelu"), actfit_rt_invact_builtin("gelu_tanh"),
                                    actfit_rt_invact_builtin("silu"), actfit_rt_invact_builtin("mish"), &off,
                                    &s49, &deep, &lo, &past, &d6};
  for (int q = 0; q < 10; q++)
    for (int s = 0; s < 2; s++) {
      memset(st, s ? 0xff : 0, n / 8);
      ck_assert_int_eq(actfit_invact_backward(tabs[q], ACTFIT_FP32, 0, y, st, g, gi, n, NULL), ACTFIT_OK);
      for (size_t i = 0; i < n; i++) {
        float want = g[i] * actfit_elem_invact(tabs[q], y[i], s);
        if (want != want) {
          ck_assert_msg(gi[i] != gi[i], "table %d s=%d y=%a: %a, want NaN", q, s, y[i], gi[i]);
          continue;
        }
        ck_assert_msg(actfit_f32_bits(gi[i]) == actfit_f32_bits(want), "table %d s=%d y=%a: %a, want %a",
                      q, s, y[i], gi[i], want);
      }
    }
  free(y); free(g); free(gi); free(st);
}
END_TEST

/* Thread teams lent through actfit_cpu_set_parallel: members on threads of their own (as
 * libgomp's GOMP_parallel), members one after another on the calling thread, and a team of
 * one.  Every large pass goes through the team and stores the bits of the runtime's own
 * threads. */
static atomic_int team_calls;
static int team_size, team_threads;

typedef struct member {
  void (*body)(void *);
  void *arg;
} member;

static void *member_run(void *a)
{
  member *m = a;
  m->body(m->arg);
  return NULL;
}

static void team(void (*body)(void *), void *arg, unsigned n, unsigned flags)
{
  ck_assert_uint_eq(n, 0);
  ck_assert_uint_eq(flags, 0);
  atomic_fetch_add(&team_calls, 1);
  pthread_t tid[8];
  member m = {body, arg};
  int started = 0;
  for (int i = 1; i < team_size; i++) {
    if (team_threads && pthread_create(&tid[started], NULL, member_run, &m) == 0)
      started++;
    else if (!team_threads)
      body(arg);
  }
  body(arg);
  for (int i = 0; i < started; i++)
    pthread_join(tid[i], NULL);
}

START_TEST(cpu_passes_run_on_a_lent_thread_team_with_the_same_bits)
{
  const int sizes[3] = {4, 3, 1}, threads[3] = {1, 0, 0};
  team_size = sizes[_i];
  team_threads = threads[_i];
  /* (a team splits from 2^15 elements on, the runtime's own threads from 2^18) */
  const size_t n = _i == 1 ? (1u << 15) + 37 : (1u << 20) + 37;
  float *x = malloc(n * 4), *g = malloc(n * 4), *y[2], *gi[2];
  uint8_t *st[2], *fst[2];
  const actfit_rt_invact *ia = actfit_rt_invact_builtin("gelu");
  const actfit_rt_fewbit *fb = actfit_rt_fewbit_builtin("silu", 3, NULL);
  ck_assert_ptr_nonnull(fb);
  for (size_t i = 0; i < n; i++) {
    x[i] = (float)(-8 + 16 * urand());
    g[i] = (float)(-2 + 4 * urand());
  }
  for (int k = 0; k < 2; k++) { /* k = 0: the runtime's threads, 1: the team */
    atomic_store(&team_calls, 0);
    actfit_cpu_set_parallel(k ? team : NULL);
    y[k] = malloc(n * 4), gi[k] = malloc(n * 4);
    st[k] = malloc(actfit_invact_state_bytes(ia, 0, n));
    fst[k] = malloc(actfit_fewbit_state_bytes(3, n));
    ck_assert_int_eq(actfit_invact_forward(ia, ACTFIT_FP32, 0, x, y[k], st[k], n, NULL), ACTFIT_OK);
    ck_assert_int_eq(actfit_invact_backward(ia, ACTFIT_FP32, 0, y[k], st[k], g, gi[k], n, NULL), ACTFIT_OK);
    ck_assert_int_eq(actfit_fewbit_encode(fb, ACTFIT_FP32, x, fst[k], n, NULL), ACTFIT_OK);
    ck_assert_int_eq(atomic_load(&team_calls), k ? 3 : 0);
  }
  actfit_cpu_set_parallel(NULL);
  ck_assert_mem_eq(y[0], y[1], n * 4);
  ck_assert_mem_eq(gi[0], gi[1], n * 4);
  ck_assert_mem_eq(st[0], st[1], actfit_invact_state_bytes(ia, 0, n));
  ck_assert_mem_eq(fst[0], fst[1], actfit_fewbit_state_bytes(3, n));
  for (int k = 0; k < 2; k++) {
    free(y[k]); free(gi[k]); free(st[k]); free(fst[k]);
  }
  free(x); free(g);
}
END_TEST

/* src/runtime/cpu_pass.h and cpu_impl.h: weak, as builds without vector loops (or without
 * VBMI2's) have no such symbols */
int actfit__cpu_simd(void) __attribute__((weak));
void actfit__avx512v_f32(void) __attribute__((weak));

/* ACTFIT_SIMD caps the levels the CPU backend picks from, as the bit-identity tests' turns
 * assume: "avx512" leaves AVX-512 without VBMI2's build, "avx2" AVX2, "scalar" nothing; and a
 * CPU with VBMI2 gets that build where the library has it */
START_TEST(simd_caps_leave_only_the_levels_below_them)
{
  if (!actfit__cpu_simd)
    return; /* no vector loops in this build */
  unsetenv("ACTFIT_SIMD");
  int v = actfit__cpu_simd();
  ck_assert_msg(v == 0 || v == 1 || v == 3 || v == 7, "level %d", v);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (v == 3 && actfit__avx512v_f32)
    ck_assert_msg(!__builtin_cpu_supports("avx512vbmi2"), "VBMI2 present but not picked");
#endif
  ck_assert_msg(v != 7 || actfit__avx512v_f32, "level 7 in a build without VBMI2's loops");
  setenv("ACTFIT_SIMD", "avx512", 1);
  ck_assert_int_eq(actfit__cpu_simd(), v & 3);
  setenv("ACTFIT_SIMD", "avx2", 1);
  ck_assert_int_eq(actfit__cpu_simd(), v & 1);
  setenv("ACTFIT_SIMD", "scalar", 1);
  ck_assert_int_eq(actfit__cpu_simd(), 0);
  unsetenv("ACTFIT_SIMD");
}
END_TEST

size_t actfit__nt_passes(void); /* src/runtime/cpu_pass.h */

/* Passes over more data than the cache (here: any, by actfit_cpu_set_nontemporal(1)) write
 * their fp32 output by non-temporal stores on the AVX-512 loops (the forwards' y through a
 * buffer): every pass, in every dtype and loop, stores the bits it stores without them,
 * with the lean path's lanes (|x| up to 8) in most groups, a partial last group, outputs
 * that are 64-byte aligned (streamed) and outputs that are not (plain stores). */
START_TEST(passes_past_the_cache_store_the_same_bits_by_non_temporal_stores)
{
  simd_cap(_i);
  const size_t n = 32 * 1500 + 13; /* buffers of 2,048 elements, a partial last one and group */
  const actfit_rt_invact *ia = actfit_rt_invact_builtin("gelu");
  const actfit_rt_fewbit *fb = actfit_rt_fewbit_builtin("silu", 3, NULL);
  ck_assert_ptr_nonnull(fb);
  const size_t ss = actfit_invact_state_bytes(ia, 0, n), fs = actfit_fewbit_state_bytes(3, n);
  const size_t bytes = (n * 4 + 64 + 63) / 64 * 64; /* aligned_alloc: a multiple of 64 */
  unsigned char *x = aligned_alloc(64, bytes), *g = aligned_alloc(64, bytes);
  for (int q = 0; q < 3; q++) {
    actfit_dtype d = dts[q];
    size_t es = d == ACTFIT_FP32 ? 4 : 2;
    for (size_t i = 0; i < n; i++) {
      put(d, x, i, (float)(-8 + 16 * urand()));
      put(d, g, i, (float)(-2 + 4 * urand()));
    }
    for (int off = 0; off < 2; off++) { /* output 64-byte aligned, or 4 bytes past that */
      unsigned char *out[2][5], *st[2][3];
      size_t nt0 = actfit__nt_passes();
      for (int k = 0; k < 2; k++) { /* k = 0: plain stores, 1: non-temporal ones */
        actfit_cpu_set_nontemporal(k ? 1 : SIZE_MAX);
        for (int j = 0; j < 5; j++)
          out[k][j] = aligned_alloc(64, bytes);
        st[k][0] = malloc(ss), st[k][1] = malloc(ss), st[k][2] = malloc(fs);
        void *y0 = out[k][0] + 4 * off, *y1 = out[k][1] + 4 * off, *y2 = out[k][2] + 4 * off;
        ck_assert_int_eq(actfit_invact_forward(ia, d, 0, x, y0, st[k][0], n, NULL), ACTFIT_OK);
        ck_assert_int_eq(actfit_invact_forward(ia, d, ACTFIT_BIT_IN_Y, x, y1, st[k][1], n, NULL),
                         ACTFIT_OK);
        ck_assert_int_eq(actfit_fewbit_forward(fb, d, x, y2, st[k][2], n, NULL), ACTFIT_OK);
        ck_assert_int_eq(actfit_invact_backward(ia, d, 0, y0, st[k][0], g, out[k][3] + 4 * off, n,
                                                NULL), ACTFIT_OK);
        ck_assert_int_eq(actfit_fewbit_backward(fb, d, st[k][2], g, out[k][4] + 4 * off, n, NULL),
                         ACTFIT_OK);
      }
      /* the FewBit forward of one activation of each other loop kind (act_list.h: VEC,
       * ONE, OWN; the DIR rows' above), whose streaming forwards differ */
      const char *other[] = {"sigmoid", "elu", "softplus"};
      for (int a = 0; a < 3; a++) {
        const actfit_rt_fewbit *fo = actfit_rt_fewbit_builtin(other[a], 3, NULL);
        ck_assert_ptr_nonnull(fo);
        unsigned char *yo[2], *so[2];
        for (int k = 0; k < 2; k++) {
          actfit_cpu_set_nontemporal(k ? 1 : SIZE_MAX);
          yo[k] = aligned_alloc(64, bytes), so[k] = malloc(fs);
          ck_assert_int_eq(actfit_fewbit_forward(fo, d, x, yo[k] + 4 * off, so[k], n, NULL),
                           ACTFIT_OK);
        }
        ck_assert_msg(!memcmp(yo[0] + 4 * off, yo[1] + 4 * off, n * es),
                      "dtype %d offset %d: %s's y differs with non-temporal stores", q, off,
                      other[a]);
        ck_assert_mem_eq(so[0], so[1], fs);
        for (int k = 0; k < 2; k++)
          free(yo[k]), free(so[k]);
      }
      actfit_cpu_set_nontemporal(0);
      for (int j = 0; j < 5; j++)
        ck_assert_msg(!memcmp(out[0][j] + 4 * off, out[1][j] + 4 * off, n * es),
                      "dtype %d offset %d output %d differs with non-temporal stores", q, off, j);
      ck_assert_mem_eq(st[0][0], st[1][0], ss);
      ck_assert_mem_eq(st[0][2], st[1][2], fs);
      /* streamed: in fp32, the three forwards, both backwards and the three other
       * forwards, when aligned, on the AVX-512 loops (not capped below them, and the CPU
       * has them: x86-64 builds with gcc or clang have the loops) */
      int avx512 = 0;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
      avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl");
#endif
      const int below = _i == 1 || _i == 2; /* capped at AVX2 or scalar */
      size_t want = off || below || d != ACTFIT_FP32 ? 0 : 8;
      if (avx512 || below)
        ck_assert_uint_eq(actfit__nt_passes() - nt0, want);
      for (int k = 0; k < 2; k++) {
        for (int j = 0; j < 5; j++)
          free(out[k][j]);
        free(st[k][0]); free(st[k][1]); free(st[k][2]);
      }
    }
  }
  free(x); free(g);
}
END_TEST

/* The bit-in-y encoder stores elem.h's choice for y of every class, in every loop, with
 * s = 0 and s = 1 (x on either side of T): for fp16 / bf16 every pattern; for fp32 every
 * 4099th one and those around +-0, the smallest normal, 1, the largest finite, inf, the first
 * NaN, the quiet NaN and the last one */
START_TEST(bit_in_y_encoder_stores_the_element_math_for_y_of_every_class)
{
  simd_cap(_i);
  const actfit_rt_invact *t = actfit_rt_invact_builtin("gelu");
  const uint32_t edge[] = {0x00000000u, 0x00800000u, 0x3f800000u, 0x7f7fffffu, 0x7f800000u,
                           0x7f800001u, 0x7fc00000u, 0x7fffffffu};
  const int ne = (int)(sizeof edge / sizeof edge[0]);
  for (int q = 0; q < 3; q++) {
    actfit_dtype d = dts[q];
    int wide = d == ACTFIT_FP32;
    size_t m = wide ? 0x100000000ull / 4099 + 1 : 0x10000, n = 2 * (m + (size_t)ne * 2 * 9) + 5;
    uint32_t *raw = malloc(n * 4);
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
      raw[k++] = (uint32_t)(wide ? i * 4099 : i);
    for (int e = 0; wide && e < ne; e++)
      for (int sign = 0; sign < 2; sign++)
        for (int dd = -4; dd <= 4; dd++)
          raw[k++] = (edge[e] + (uint32_t)dd) ^ (sign ? 0x80000000u : 0u);
    size_t half = k;
    memcpy(raw + half, raw, half * 4);
    k = 2 * half;
    while (k < n)
      raw[k++] = 0x7f800001u;
    void *x = malloc(n * 4), *y = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
      put(d, x, i, i < half ? 1.0f : -1.0f); /* s = 0, then s = 1 */
      put_raw(d, y, i, raw[i]);
    }
    float *y0 = malloc(n * 4);
    for (size_t i = 0; i < n; i++)
      y0[i] = get(d, y, i);
    ck_assert_int_eq(actfit_invact_encode(t, d, ACTFIT_BIT_IN_Y, x, y, NULL, n, NULL), ACTFIT_OK);
    for (size_t i = 0; i < n; i++) {
      int s = get(d, x, i) < t->T;
      uint32_t want = invact_stored(d, y0[i], s, 1);
      ck_assert_msg(raw_at(d, y, i) == want, "dtype %d y %#x s %d: %#x, want %#x", q, raw[i], s,
                    raw_at(d, y, i), want);
    }
    free(raw); free(x); free(y); free(y0);
  }
}
END_TEST

/* The encoders write, from x and the framework's y, what the forward passes write from x:
 * the same FewBit codes, the same InvAct bit words, and (bit in y) a y within one unit of
 * the given one whose last bit is s; backward from either state agrees. */
START_TEST(encoders_write_the_state_the_forward_writes)
{
  actfit_dtype d = dts[_i];
  const size_t n = 10007;
  void *x = malloc(n * 4), *y = malloc(n * 4), *y2 = malloc(n * 4);
  uint32_t *s1 = malloc(actfit_fewbit_state_bytes(8, n)), *s2 = malloc(actfit_fewbit_state_bytes(8, n));
  for (size_t i = 0; i < n; i++)
    put(d, x, i, (float)(12.0 * urand() - 6.0));
  put(d, x, 0, NAN);
  put(d, x, 1, INFINITY);
  put(d, x, 2, -INFINITY);
  for (int b = 1; b <= 4; b++) {
    const actfit_rt_fewbit *t = actfit_rt_fewbit_builtin("gelu", b, NULL);
    ck_assert_ptr_nonnull(t);
    size_t sb = actfit_fewbit_state_bytes(b, n);
    ck_assert_int_eq(actfit_fewbit_forward(t, d, x, y, s1, n, NULL), ACTFIT_OK);
    memset(s2, 0xa5, sb);
    ck_assert_int_eq(actfit_fewbit_encode(t, d, x, s2, n, NULL), ACTFIT_OK);
    ck_assert_int_eq(memcmp(s1, s2, sb), 0);
    setenv("ACTFIT_SIMD", "scalar", 1); /* the scalar loop writes the same codes */
    memset(s2, 0xa5, sb);
    ck_assert_int_eq(actfit_fewbit_encode(t, d, x, s2, n, NULL), ACTFIT_OK);
    unsetenv("ACTFIT_SIMD");
    ck_assert_int_eq(memcmp(s1, s2, sb), 0);
  }
  const char *acts[] = {"gelu", "silu", "hardswish", "sigmoid"};
  size_t es = d == ACTFIT_FP32 ? 4 : 2;
  for (int a = 0; a < 4; a++) {
    const actfit_rt_invact *t = actfit_rt_invact_builtin(acts[a]);
    ck_assert_ptr_nonnull(t);
    size_t sb = actfit_invact_state_bytes(t, 0, n);
    ck_assert_int_eq(actfit_invact_forward(t, d, 0, x, y, s1, n, NULL), ACTFIT_OK);
    memset(s2, 0xa5, sb);
    ck_assert_int_eq(actfit_invact_encode(t, d, 0, x, y, s2, n, NULL), ACTFIT_OK);
    ck_assert(sb == 0 || memcmp(s1, s2, sb) == 0);
    /* the bit kept apart needs no y at all, on the vector and the scalar loops alike
     * (n = 10007 leaves a partial group for the scalar loop) */
    for (int simd = 0; simd < 2; simd++) {
      if (simd)
        setenv("ACTFIT_SIMD", "scalar", 1);
      memset(s2, 0xa5, sb);
      ck_assert_int_eq(actfit_invact_encode(t, d, 0, x, NULL, s2, n, NULL), ACTFIT_OK);
      ck_assert(sb == 0 || memcmp(s1, s2, sb) == 0);
      unsetenv("ACTFIT_SIMD");
    }
    if (!t->bit)
      continue;
    /* bit in y: the given y moves by at most one unit, and its last bit is s; the vector
     * and scalar loops store the same bits */
    memcpy(y2, y, n * es);
    ck_assert_int_eq(actfit_invact_encode(t, d, ACTFIT_BIT_IN_Y, x, y2, NULL, n, NULL), ACTFIT_OK);
    void *y3 = malloc(n * 4);
    memcpy(y3, y, n * es);
    setenv("ACTFIT_SIMD", "scalar", 1);
    ck_assert_int_eq(actfit_invact_encode(t, d, ACTFIT_BIT_IN_Y, x, y3, NULL, n, NULL), ACTFIT_OK);
    unsetenv("ACTFIT_SIMD");
    ck_assert_int_eq(memcmp(y2, y3, n * es), 0);
    free(y3);
    for (size_t i = 0; i < n; i++) {
      uint32_t u1 = d == ACTFIT_FP32 ? ((uint32_t *)y)[i] : ((uint16_t *)y)[i];
      uint32_t u2 = d == ACTFIT_FP32 ? ((uint32_t *)y2)[i] : ((uint16_t *)y2)[i];
      int s = get(d, x, i) < t->T;
      if (get(d, y, i) != get(d, y, i))
        continue;
      ck_assert_msg((int)(u2 & 1u) == s, "%s element %zu: last bit %u, s %d", acts[a], i, u2 & 1u, s);
      ck_assert_msg(u1 == u2 || u1 + 1 == u2 || u1 == u2 + 1, "%s element %zu moved more than a unit", acts[a], i);
    }
  }
  /* an expression's table (act = -1): the forward refuses it, the encoder takes it */
  actfit_rt_fewbit e = *actfit_rt_fewbit_builtin("gelu", 2, NULL);
  e.act = -1;
  ck_assert_int_eq(actfit_fewbit_forward(&e, d, x, y, s1, n, NULL), ACTFIT_EUNKNOWN);
  ck_assert_int_eq(actfit_fewbit_encode(&e, d, x, s2, n, NULL), ACTFIT_OK);
  ck_assert_int_eq(actfit_fewbit_encode(&e, d, NULL, s2, n, NULL), ACTFIT_EINVAL);
  ck_assert_int_eq(actfit_fewbit_encode(&e, (actfit_dtype)7, x, s2, n, NULL), ACTFIT_EDTYPE);
  ck_assert_int_eq(actfit_invact_encode(actfit_rt_invact_builtin("gelu"), d, 0, x, y, NULL, n, NULL),
                   ACTFIT_EINVAL);
  free(x); free(y); free(y2); free(s1); free(s2);
}
END_TEST

START_TEST(large_inputs_split_across_threads_match_elementwise)
{
  const actfit_rt_fewbit *fb = actfit_rt_fewbit_builtin("silu", 4, NULL);
  size_t n = (1u << 20) + 5;
  float *x = malloc(n * 4), *y = malloc(n * 4);
  uint32_t *st = malloc(actfit_fewbit_state_bytes(4, n));
  uint8_t *c = malloc(n);
  for (size_t i = 0; i < n; i++)
    x[i] = (float)(-8 + 16 * urand());
  ck_assert_int_eq(actfit_fewbit_forward(fb, ACTFIT_FP32, x, y, st, n, NULL), ACTFIT_OK);
  actfit_rt_unpack(st, 4, n, c);
  for (size_t i = 0; i < n; i += 7) {
    ck_assert_int_eq(c[i], actfit_elem_code(fb, x[i]));
    ck_assert(y[i] == actfit_elem_f(fb->act, fb->params, x[i]));
  }
  free(x); free(y); free(st); free(c);
}
END_TEST

/* A NaN stays a NaN of its sign under the bit-in-y store, for every payload class
 * (signalling and quiet, last bit 0 and 1, both signs), every dtype and every loop (scalar,
 * AVX2, AVX-512, and the 16-bit tables past LUT_MIN elements), in the forward (x NaN) and in
 * the encoder (y NaN with s = 0 and s = 1).  The bit used to move such a NaN by one unit:
 * bf16 0xffff wrapped to 0 and fp32 0x7f800001 became +inf. */
static int is_nan_raw(actfit_dtype d, uint32_t u)
{
  if (d == ACTFIT_FP32)
    return (u & 0x7fffffffu) > 0x7f800000u;
  return (u & 0x7fffu) > (d == ACTFIT_FP16 ? 0x7c00u : 0x7f80u);
}

START_TEST(bit_in_y_keeps_every_nan_a_nan_of_its_sign)
{
  simd_cap(_i);
  static const uint32_t nans[3][6] = {
    {0x7f800001u, 0x7f800002u, 0x7fbfffffu, 0x7fc00000u, 0x7fc00001u, 0x7fffffffu},
    {0x7c01u, 0x7c02u, 0x7dffu, 0x7e00u, 0x7e01u, 0x7fffu},
    {0x7f81u, 0x7f82u, 0x7fbfu, 0x7fc0u, 0x7fc1u, 0x7fffu}};
  const actfit_rt_invact *t = actfit_rt_invact_builtin("gelu");
  for (int q = 0; q < 3; q++) {
    actfit_dtype d = dts[q];
    uint32_t sign = d == ACTFIT_FP32 ? 0x80000000u : 0x8000u;
    for (size_t n = 61; n <= (1u << 18) + 64; n += (1u << 18) + 3 - 61) {
      void *x = malloc(n * 4), *y = malloc(n * 4);
      for (size_t i = 0; i < n; i++) /* forward: x is the NaN */
        put_raw(d, x, i, nans[q][i % 6] | (i / 6 % 2 ? sign : 0));
      ck_assert_int_eq(actfit_invact_forward(t, d, ACTFIT_BIT_IN_Y, x, y, NULL, n, NULL),
                       ACTFIT_OK);
      for (size_t i = 0; i < n; i++) {
        uint32_t in = raw_at(d, x, i), out = raw_at(d, y, i);
        ck_assert_msg(is_nan_raw(d, out) && (out & sign) == (in & sign),
                      "forward, path %d dtype %d n %zu: x %#x gave y %#x", _i, q, n, in, out);
      }
      for (size_t i = 0; i < n; i++) { /* encoder: y is the NaN, s from x */
        put(d, x, i, i % 2 ? -5.0f : 1.0f);
        put_raw(d, y, i, nans[q][i / 2 % 6] | (i / 12 % 2 ? sign : 0));
      }
      ck_assert_int_eq(actfit_invact_encode(t, d, ACTFIT_BIT_IN_Y, x, y, NULL, n, NULL),
                       ACTFIT_OK);
      for (size_t i = 0; i < n; i++) {
        uint32_t in = nans[q][i / 2 % 6] | (i / 12 % 2 ? sign : 0), out = raw_at(d, y, i);
        ck_assert_msg(is_nan_raw(d, out) && (out & sign) == (in & sign),
                      "encoder, path %d dtype %d n %zu s %d: y %#x became %#x", _i, q, n,
                      (int)(i % 2), in, out);
      }
      free(x);
      free(y);
    }
  }
}
END_TEST

/* ---- dtypes and status codes (kernels/elem.h, src/core/status.c) ---------------------- */

START_TEST(half_and_bfloat_conversions_round_to_nearest_even)
{
  /* exhaustive over all 16-bit patterns: decode, re-encode gives the same pattern */
  for (uint32_t p = 0; p < 65536; p++) {
    float h = actfit_f16_to_f32((uint16_t)p), b = actfit_bf16_to_f32((uint16_t)p);
    if (!isnan(h))
      ck_assert_int_eq(actfit_f32_to_f16(h), p);
    if (!isnan(b))
      ck_assert_int_eq(actfit_f32_to_bf16(b), p);
  }
  /* ties go to even */
  ck_assert_int_eq(actfit_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);
  ck_assert_int_eq(actfit_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);
  ck_assert_int_eq(actfit_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);
  ck_assert_int_eq(actfit_f32_to_f16(65520.0f), 0x7c00);
  ck_assert_int_eq(actfit_f32_to_f16(0x1p-25f), 0);          /* tie to even: 0 */
  ck_assert_int_eq(actfit_f32_to_f16(0x1.8p-25f), 1);        /* above the tie */
  /* bit in y: the last bit carries s and the value moves at most one ulp */
  for (int i = 0; i < 10000; i++) {
    float y = (float)(-1 + 4 * urand());
    for (int s = 0; s < 2; s++) {
      uint16_t p = actfit_elem_store_bf16(y, s);
      ck_assert_int_eq(p & 1, s);
      ck_assert(fabsf(actfit_bf16_to_f32(p) - y) <= 2 * fabsf(y) * 0x1p-8f + 1e-30f);
      float f = actfit_elem_store_f32(y, s);
      ck_assert_int_eq(actfit_f32_bits(f) & 1, s);
    }
  }
}
END_TEST

START_TEST(status_strings_cover_every_code)
{
  for (int s = 0; s < ACTFIT_STATUS_COUNT_; s++) {
    ck_assert_str_ne(actfit_strerror(s), "unknown status");
    ck_assert(!strncmp(actfit_status_name(s), "ACTFIT_", 7));
  }
  ck_assert_str_eq(actfit_strerror(9999), "unknown status");
  ck_assert_str_eq(actfit_status_name(ACTFIT_EPARSE), "ACTFIT_EPARSE");
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("runtime");
  TCase *tc = tcase_create("runtime");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, pack_unpack_round_trip_for_all_widths_and_awkward_sizes);
  tcase_add_test(tc, fewbit_backward_is_grad_times_level_of_the_double_tables_code);
  tcase_add_test(tc, every_committed_table_reproduces_its_derivative);
  tcase_add_test(tc, builtin_tables_equal_the_committed_json);
  tcase_add_test(tc, nan_and_infinities_behave_as_documented);
  tcase_add_test(tc, bad_arguments_return_status_codes);
  tcase_add_test(tc, large_inputs_split_across_threads_match_elementwise);
  tcase_add_loop_test(tc, encoders_write_the_state_the_forward_writes, 0, 3);
  tcase_add_loop_test(tc, bit_in_y_encoder_stores_the_element_math_for_y_of_every_class, 0, 4);
  tcase_add_loop_test(tc, bit_in_y_keeps_every_nan_a_nan_of_its_sign, 0, 4);
  tcase_add_loop_test(tc, fewbit_backward_bits_equal_the_element_math_for_every_width_and_dtype, 0, 4);
  tcase_add_test(tc, reference_exp_and_erfc_are_accurate_to_their_stated_bounds);
  tcase_add_test(tc, forward_keeps_its_ulp_contract_for_the_transcendental_activations);
  tcase_add_test(tc, direct_path_keeps_its_measured_worst_over_every_float_of_its_worst_piece);
  tcase_add_loop_test(tc, sixteen_bit_forward_is_within_one_dtype_ulp_for_every_input, 0, 4);
  tcase_add_loop_test(tc, zeros_and_tiny_inputs_keep_their_sign, 0, 4);
  tcase_add_loop_test(tc, large_16_bit_forward_passes_store_the_element_math_for_every_input, 0, 4);
  tcase_add_loop_test(tc, large_16_bit_invact_backward_passes_store_the_element_math_for_every_y, 0, 4);
  tcase_add_loop_test(tc, forward_bits_equal_the_element_math_for_every_dtype, 0, 4);
  tcase_add_loop_test(tc, table_forwards_vector_loops_store_the_scalar_bits_at_every_piece_end, 0, 4);
  tcase_add_test(tc, lean_path_gives_x_itself_from_the_saturation_bound_on);
  tcase_add_loop_test(tc, gelu_positive_tail_piece_stores_the_scalar_bits_within_its_measured_worst, 0, 4);
  tcase_add_loop_test(tc, invact_backward_bits_equal_the_element_math_for_every_table, 0, 4);
  tcase_add_loop_test(tc, invact_backward_of_a_table_without_a_vector_plan_matches_the_element_math, 0, 4);
  tcase_add_loop_test(tc, invact_backward_stores_the_element_math_for_y_of_every_class_on_and_off_the_grid, 0, 2);
  tcase_add_loop_test(tc, cpu_passes_run_on_a_lent_thread_team_with_the_same_bits, 0, 3);
  tcase_add_loop_test(tc, small_16_bit_passes_store_the_same_bits_before_and_after_their_table_is_built, 0, 2);
  tcase_add_test(tc, a_full_table_cache_builds_no_table_it_cannot_keep);
  tcase_add_test(tc, simd_caps_leave_only_the_levels_below_them);
  tcase_add_loop_test(tc, passes_past_the_cache_store_the_same_bits_by_non_temporal_stores, 0, 4);
  suite_add_tcase(s, tc);
  TCase *basics = tcase_create("dtypes and status codes");
  tcase_add_test(basics, half_and_bfloat_conversions_round_to_nearest_even);
  tcase_add_test(basics, status_strings_cover_every_code);
  suite_add_tcase(s, basics);
  return s;
}

TEST_MAIN(suite)
