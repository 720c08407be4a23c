/* Per-element math shared by the CPU runtime, the fitter's error analysis and the CUDA
 * kernels: compiled by gcc as C11 and by nvcc as CUDA C++, so CPU tests exercise the GPU's
 * arithmetic.  Everything here is float (the storage and compute type of the kernels);
 * the double-precision reference of the forward lives in tools/elem_ref.h. */
#ifndef ACTFIT_ELEM_H
#define ACTFIT_ELEM_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__CUDACC__)
#define ACTFIT_HD __host__ __device__ __forceinline__
#else
#define ACTFIT_HD static inline
#endif

/* the fixed-length loops of the float forward are unrolled, so the loops over elements that
 * call it vectorise */
#if defined(__CUDACC__) || defined(__clang__)
#define ACTFIT_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define ACTFIT_UNROLL _Pragma("GCC unroll 16")
#else
#define ACTFIT_UNROLL
#endif

#include "elem_types.h"

/* ---- storage dtypes: round-to-nearest-even conversions, bit-exact with CUDA's
 * __float2half_rn / __float2bfloat16_rn ---------------------------------------------- */
ACTFIT_HD uint32_t actfit_f32_bits(float f)
{
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

ACTFIT_HD float actfit_bits_f32(uint32_t u)
{
  float f;
  memcpy(&f, &u, 4);
  return f;
}

ACTFIT_HD uint16_t actfit_f32_to_f16(float f)
{
  uint32_t x = actfit_f32_bits(f), sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u)
    return (uint16_t)(sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (ax >= 0x477ff000u) /* >= 65520 rounds to infinity */
    return (uint16_t)(sign | 0x7c00u);
  if (ax < 0x38800000u) { /* below 2^-14: a subnormal half, unit 2^-24 */
    uint32_t e = ax >> 23;
    if (e < 102)
      return (uint16_t)sign;
    uint32_t mant = (ax & 0x7fffffu) | 0x800000u, shift = 126 - e;
    uint32_t m = mant >> shift, rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (m & 1)))
      m++;
    return (uint16_t)(sign | m);
  }
  uint32_t base = (ax - 0x38000000u) >> 13, rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (base & 1)))
    base++;
  return (uint16_t)(sign | base);
}

ACTFIT_HD float actfit_f16_to_f32(uint16_t h)
{
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0) {
    float v = (float)m * 5.9604644775390625e-08f; /* 2^-24 */
    return sign ? -v : v;
  }
  if (e == 31)
    return actfit_bits_f32(sign | 0x7f800000u | (m << 13));
  return actfit_bits_f32(sign | ((e + 112) << 23) | (m << 13));
}

ACTFIT_HD uint16_t actfit_f32_to_bf16(float f)
{
  uint32_t x = actfit_f32_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}

ACTFIT_HD float actfit_bf16_to_f32(uint16_t b) { return actfit_bits_f32((uint32_t)b << 16); }

/* "Bit in y": the branch bit s rides in the last mantissa bit of the stored y.  y is rounded
 * to nearest; if that value's last bit differs from s it moves one ulp (same sign) towards
 * y, or towards zero on a tie.  The stored value is then used as y itself.  A NaN y is
 * stored as it is rounded, whatever s: a NaN stays a NaN of its sign (its gradient is NaN
 * on either branch), where moving its bits could make it an infinity or wrap it to zero. */
ACTFIT_HD uint32_t actfit_elem_pick(uint32_t p, int s, float y, float vm, float vp)
{
  if ((int)(p & 1u) == s || y != y)
    return p;
  if (vm != vm) /* p - 1 crossed to the other sign or is not a value */
    return p + 1;
  if (vp != vp)
    return p - 1;
  return fabsf(vp - y) < fabsf(vm - y) ? p + 1 : p - 1;
}

ACTFIT_HD float actfit_elem_store_f32(float y, int s)
{
  uint32_t p = actfit_f32_bits(y), mag = p & 0x7fffffffu;
  float vm = mag ? actfit_bits_f32(p - 1) : NAN, vp = mag < 0x7f7fffffu ? actfit_bits_f32(p + 1) : NAN;
  return actfit_bits_f32(actfit_elem_pick(p, s, y, vm, vp));
}

ACTFIT_HD uint16_t actfit_elem_store_f16(float y, int s)
{
  uint16_t p = actfit_f32_to_f16(y);
  uint32_t mag = p & 0x7fffu;
  float vm = mag ? actfit_f16_to_f32((uint16_t)(p - 1)) : NAN;
  float vp = mag < 0x7bffu ? actfit_f16_to_f32((uint16_t)(p + 1)) : NAN;
  return (uint16_t)actfit_elem_pick(p, s, y, vm, vp);
}

ACTFIT_HD uint16_t actfit_elem_store_bf16(float y, int s)
{
  uint16_t p = actfit_f32_to_bf16(y);
  uint32_t mag = p & 0x7fffu;
  float vm = mag ? actfit_bf16_to_f32((uint16_t)(p - 1)) : NAN;
  float vp = mag < 0x7f7fu ? actfit_bf16_to_f32((uint16_t)(p + 1)) : NAN;
  return (uint16_t)actfit_elem_pick(p, s, y, vm, vp);
}

/* ---- the forward y = f(x) in float ------------------------------------------------------
 * Float arithmetic only (explicit fmaf, no contraction: gcc runs without -ffp-contract, nvcc
 * with -fmad=false), in one fixed order, so the scalar loops, the vector loops (this code
 * compiled with AVX2 or AVX-512 flags and vectorised by gcc) and the GPU store the same bits.
 * Where one float would lose accuracy, values are carried as pairs hi + lo (float-float):
 * the float-pair forwards end in a single rounding of a value accurate to about 2^-27, so
 * their fp32 y is within 1 ulp of the exact value; GELU, GELU-tanh, SiLU and Mish take the
 * direct path near 0 and the lean path beyond it (within 2 ulp), and for fp16 and bf16
 * their 16-bit forms (within 1 ulp of the dtype).  tools/ulp_sweep checks all 2^32 fp32
 * inputs and all 2^16 of each 16-bit type against the contract (docs/arithmetic.md).
 * Branches are selects where gcc vectorises the scalar code (both sides computed); the
 * direct path's is a branch, and the CPU's vector loops for those four are written out
 * (src/runtime/cpu_table_fwd.h).  Constants: elem_coeffs.h,
 * written by tools/gen_elem.c. ------------------------------------------------------------- */
#include "elem_coeffs.h"

#define ACTFIT_GELU_ZTOP 0x1.dffffep3f /* the float below 15 */
#define ACTFIT_GELU_TANH_ZTOP 0x1.5ffffep3f /* the float below 11 */

typedef struct actfit_ff {
  float h, l;
} actfit_ff;

ACTFIT_HD actfit_ff actfit_ff_of(float h, float l)
{
  actfit_ff r;
  r.h = h;
  r.l = l;
  return r;
}

/* a + b exactly, for |a| >= |b| (or a = 0) */
ACTFIT_HD actfit_ff actfit_ff_fast(float a, float b)
{
  float s = a + b;
  return actfit_ff_of(s, b - (s - a));
}

/* a + b exactly, any order */
ACTFIT_HD actfit_ff actfit_ff_sum(float a, float b)
{
  float s = a + b, bb = s - a;
  return actfit_ff_of(s, (a - (s - bb)) + (b - bb));
}

/* a b exactly (barring underflow) */
ACTFIT_HD actfit_ff actfit_ff_prod(float a, float b)
{
  float p = a * b;
  return actfit_ff_of(p, fmaf(a, b, -p));
}

ACTFIT_HD actfit_ff actfit_ff_add(actfit_ff a, actfit_ff b)
{
  actfit_ff s = actfit_ff_sum(a.h, b.h);
  return actfit_ff_fast(s.h, s.l + (a.l + b.l));
}

ACTFIT_HD actfit_ff actfit_ff_mul(actfit_ff a, actfit_ff b)
{
  actfit_ff p = actfit_ff_prod(a.h, b.h);
  return actfit_ff_fast(p.h, fmaf(a.h, b.l, fmaf(a.l, b.h, p.l)));
}

/* a / b from one division: q = a.h (1 / b.h) is within 2 ulp, and the residual corrects it */
ACTFIT_HD actfit_ff actfit_ff_div(actfit_ff a, actfit_ff b)
{
  float inv = 1.0f / b.h, q = a.h * inv, r = fmaf(-q, b.h, a.h);
  r = fmaf(-q, b.l, r + a.l);
  return actfit_ff_fast(q, r * inv);
}

/* 2^k for integer-valued k in [-126, 127] */
ACTFIT_HD float actfit_pow2f(float k)
{
  return actfit_bits_f32((uint32_t)((int32_t)k + 127) << 23);
}

/* v 2^k, k integer-valued in [-252, 254]: two exact factors, so a subnormal result rounds once */
ACTFIT_HD float actfit_scalef(float v, float k)
{
  int32_t ki = (int32_t)k, k1 = ki / 2;
  return v * actfit_bits_f32((uint32_t)(k1 + 127) << 23) * actfit_bits_f32((uint32_t)(ki - k1 + 127) << 23);
}

/* e^(ah + al) = 2^n (1 + m) with n = round(ah / ln2), m = e^r - 1 as a pair (relative
 * error below 2^-27), r = ah + al - n ln2, |r| <= ln2/2 + 2^-8.  ah is clamped to
 * [-130, 90] (a NaN to -130: callers select x for NaN x); callers pass al = 0 where the
 * clamp can act.  The pair is not renormalised: |m.l| stays below 2^-5 |m.h|. */
ACTFIT_HD actfit_ff actfit_ff_expm1_raw(float ah, float al, float *n)
{
  const float P[] = {ACTFIT_F_EXPM1_P};
  ah = ah >= -130.0f ? (ah <= 90.0f ? ah : 90.0f) : -130.0f; /* NaN too: n stays an integer */
  float nf = fmaf(ah, ACTFIT_F_LOG2E, 0x1.8p23f) - 0x1.8p23f;
  float r1 = fmaf(-nf, ACTFIT_F_LN2_H, ah); /* exact */
  actfit_ff r = actfit_ff_sum(r1, fmaf(-nf, ACTFIT_F_LN2_L, al));
  actfit_ff q = actfit_ff_prod(r.h, r.h);
  float p = P[0];
  ACTFIT_UNROLL
  for (int i = 1; i < (int)(sizeof P / sizeof P[0]); i++)
    p = fmaf(p, r.h, P[i]);
  float t = (q.h * r.h) * p;
  float lo = fmaf(r.l, r.h, r.l) + fmaf(0.5f, q.l, t);
  actfit_ff m = actfit_ff_fast(r.h, 0.5f * q.h);
  *n = nf;
  return actfit_ff_of(m.h, m.l + lo);
}

/* the same, renormalised */
ACTFIT_HD actfit_ff actfit_ff_expm1_red(float ah, float al, float *n)
{
  actfit_ff m = actfit_ff_expm1_raw(ah, al, n);
  return actfit_ff_fast(m.h, m.l);
}

/* e^(ah + al) = 2^k (h + l), h + l in [0.7, 1.42]; k is returned */
ACTFIT_HD actfit_ff actfit_ff_exp(float ah, float al, float *k)
{
  actfit_ff m = actfit_ff_expm1_red(ah, al, k);
  actfit_ff e = actfit_ff_fast(1.0f, m.h);
  return actfit_ff_fast(e.h, e.l + m.l);
}

/* e^(ah + al) - 1, ah clamped to [-80, 80] (al = 0 where that can happen) */
ACTFIT_HD actfit_ff actfit_ff_expm1(float ah, float al)
{
  float n;
  ah = ah < -80.0f ? -80.0f : ah > 80.0f ? 80.0f : ah;
  actfit_ff m = actfit_ff_expm1_red(ah, al, &n);
  actfit_ff e = actfit_ff_fast(1.0f, m.h);
  e = actfit_ff_fast(e.h, e.l + m.l);
  float p = actfit_pow2f(n);
  actfit_ff d = actfit_ff_sum(p * e.h, -1.0f); /* |result| >= 0.29 here: little cancellation */
  actfit_ff big = actfit_ff_fast(d.h, fmaf(p, e.l, d.l));
  return n == 0.0f ? m : big;
}

/* Tables of M(z) = Q(z) e^(a(z)) (elem_coeffs.h), for an activation whose small factor is
 * Q(z) = e^(-a(z)) M(z) with M smooth: GELU's (a = z^2/2, M = Q e^(z^2/2)), GELU-tanh's
 * (a = u(z), M = sigmoid(u(z))), SiLU's (a = z, M = sigmoid(z)) and softplus's
 * (log1p(e^-z) = e^-z M(z), M = e^z log1p(e^-z)), and Mish's two (one for each sign of x).
 * Each is 4 + ACTFIT_F_M_DEG rows of 32 pieces; the pieces are those of z + 1 (GELU,
 * GELU-tanh: z in [0, 15)) or of z + 2 (the others: z in [0, 30)).  One copy for the host,
 * one in device memory; actfit_m_tab(which) is the one the code runs on can read. */
/* name_dev where device code runs, name_host elsewhere: the copy of a table the code can read */
#if defined(__CUDA_ARCH__)
#define ACTFIT_HOST_OR_DEV(name) name##_dev
#else
#define ACTFIT_HOST_OR_DEV(name) name##_host
#endif
enum {
  ACTFIT_M_GELU, ACTFIT_M_GELU_TANH, ACTFIT_M_SILU, ACTFIT_M_SOFTPLUS, ACTFIT_M_MISH_POS,
  ACTFIT_M_MISH_NEG, ACTFIT_M_COUNT
};
#define ACTFIT_M_ROWS (4 + ACTFIT_F_M_DEG)
#define ACTFIT_M_TABLES                                                                     \
  {ACTFIT_F_GELU_M}, {ACTFIT_F_GELU_TANH_M}, {ACTFIT_F_SILU_M}, {ACTFIT_F_SOFTPLUS_M},       \
  {ACTFIT_F_MISH_POS_M}, {ACTFIT_F_MISH_NEG_M}
static const float actfit_m_host[ACTFIT_M_COUNT][ACTFIT_M_ROWS][32] = {ACTFIT_M_TABLES};
#if defined(__CUDACC__)
static __device__ const float actfit_m_dev[ACTFIT_M_COUNT][ACTFIT_M_ROWS][32] = {ACTFIT_M_TABLES};
#endif
ACTFIT_HD const float (*actfit_m_tab(int which))[32] { return ACTFIT_HOST_OR_DEV(actfit_m)[which]; }

/* The 16-bit path's coefficients of the same tables (c_j, c0 .. c4) as one 32-byte record per
 * piece (elem_coeffs.h), piece j's record at (j + the bits 20-24 of off) & 31: one index
 * without a subtraction and two loads (16 + 8 bytes) on the GPU instead of six.  One copy
 * for the host, one in device memory, as the rows. */
#if defined(__cplusplus)
#define ACTFIT_ALIGN32 alignas(32)
#else
#define ACTFIT_ALIGN32 _Alignas(32)
#endif
ACTFIT_ALIGN32 static const float actfit_m16_host[ACTFIT_M_COUNT][32][8] = {ACTFIT_F_M16_REC};
#if defined(__CUDACC__)
ACTFIT_ALIGN32 static __device__ const float actfit_m16_dev[ACTFIT_M_COUNT][32][8] = {ACTFIT_F_M16_REC};
#endif
ACTFIT_HD const float (*actfit_m16_tab(int which))[8] { return ACTFIT_HOST_OR_DEV(actfit_m16)[which]; }

#define ACTFIT_M2_ZTOP 0x1.dffffep4f /* the float below 30: the top of the z + 2 tables */

/* The piece of zc in a table of M: j from the exponent and top 3 mantissa bits of zc + off
 * (off = 1 or 2), and s = zc - c_j */
ACTFIT_HD uint32_t actfit_m_piece(const float (*G)[32], float zc, float off, float *s)
{
  uint32_t j = ((actfit_f32_bits(zc + off) >> 20) - (actfit_f32_bits(off) >> 20)) & 31u;
  *s = zc - G[0][j];
  return j;
}

/* M's terms from s^2 on, over s^2: c2 + s (c3 + ...), the rows from 5 on, by Horner */
ACTFIT_HD float actfit_m_upper(const float (*G)[32], uint32_t j, float s)
{
  float p = G[ACTFIT_M_ROWS - 1][j];
  ACTFIT_UNROLL
  for (int r = ACTFIT_M_ROWS - 2; r >= 5; r--)
    p = fmaf(p, s, G[r][j]);
  return p;
}

/* M(z) from its piece j as c0 + c1 s + s^2 P(s), s = z - c_j, with c0 + c1 s in pairs (an
 * unnormalised pair); *jo is j */
ACTFIT_HD actfit_ff actfit_tab_m(const float (*G)[32], float zc, float off, uint32_t *jo)
{
  float s;
  uint32_t j = actfit_m_piece(G, zc, off, &s);
  float p = actfit_m_upper(G, j, s);
  actfit_ff c1s = actfit_ff_prod(G[3][j], s);
  float small = fmaf(fmaf(p, s, G[4][j]), s, G[2][j] + c1s.l);
  actfit_ff M = actfit_ff_fast(G[1][j], c1s.h);
  M.l += small;
  *jo = j;
  return M;
}

/* Q 2^-n = M e^(ah + al) 2^-n as an unnormalised pair (low part up to 2^-5 of the high),
 * from M and m = e^(ah + al) 2^-n - 1 (expm1_raw: ah is clamped to [-130, 90]) */
ACTFIT_HD actfit_ff actfit_m_exp(actfit_ff M, float ah, float al, float *n)
{
  actfit_ff m = actfit_ff_expm1_raw(ah, al, n);
  actfit_ff Mm = actfit_ff_prod(M.h, m.h);
  actfit_ff q = actfit_ff_fast(M.h, Mm.h);
  q.l += fmaf(M.h, m.l, fmaf(M.l, m.h + m.l, M.l + Mm.l)); /* neither low part is small */
  return q;
}

/* ---- the direct path (GELU, GELU-tanh, SiLU, Mish near zero) -------------------------
 * Each of the four is y = x g(x) with g smooth and positive (Phi, sigmoid(u), sigmoid,
 * tanh(softplus)).  Where most inputs lie, |x| below 15.5 h (h = 1/4: 3.875 for GELU and
 * GELU-tanh; h = 1/2: 7.75 for SiLU and Mish), g is read from 31 pieces of x itself, each of
 * width h centred on k h: no exponential, no sign cases.
 *   t = x + 1.5 2^(23 + log2 h) rounds x to the centre k h = t - 1.5 2^(23 + log2 h), and
 *     its low 5 bits are k & 31, the piece's column (elem_coeffs.h's ACTFIT_F_*_D);
 *   s = x - k h is exact (|s| <= h/2, and x within a factor 2 of k h for k != 0);
 *   g = c0 + c1 s + s^2 P(s), with c0 and c1 as float pairs and c1 s as an exact pair, so
 *     that the only float errors left are those of the terms from s^2 on (at most 1/8 of g)
 *     and g's fit (2^-26.2 at worst, elem_coeffs.h);
 *   y = x h + x l for the pair g = h + l, rounded once, with x's sign (g > 0; the sums
 *     would turn a -0 x into +0).
 * About half the lean path's arithmetic (tools/ulp_sweep: within 1 ulp).  Every backend runs
 * it for the same inputs (|x| < the bound, NaN not), so the bits agree. */
enum { ACTFIT_D_GELU, ACTFIT_D_GELU_TANH, ACTFIT_D_SILU, ACTFIT_D_MISH, ACTFIT_D_COUNT };
#define ACTFIT_D_TABLES {ACTFIT_F_GELU_D}, {ACTFIT_F_GELU_TANH_D}, {ACTFIT_F_SILU_D}, {ACTFIT_F_MISH_D}
static const float actfit_d_host[ACTFIT_D_COUNT][ACTFIT_F_D_ROWS][32] = {ACTFIT_D_TABLES};
#if defined(__CUDACC__)
static __device__ const float actfit_d_dev[ACTFIT_D_COUNT][ACTFIT_F_D_ROWS][32] = {ACTFIT_D_TABLES};
#endif
ACTFIT_HD const float (*actfit_d_tab(int which))[32] { return ACTFIT_HOST_OR_DEV(actfit_d)[which]; }

/* the bounds: |x| below these takes the direct path (15.5 h), and the sums that round x to
 * its piece's centre (1.5 2^(23 + log2 h)) */
#define ACTFIT_D_TOP4 3.875f
#define ACTFIT_D_TOP2 7.75f
#define ACTFIT_D_ROUND4 0x1.8p21f
#define ACTFIT_D_ROUND2 0x1.8p22f

/* Where the lean path gives y = x: from these x on (+inf too), x Q is below half an ulp of
 * x, and actfit_gelu(x) and actfit_gelu_tanh(x) return x itself (the last floats that do not
 * are 5.3475151 and 4.9941368; tests/test_runtime.c checks every float from each bound to
 * 16, and the lean path clamps z below 15).  The CPU's AVX-512 loops store x there without
 * the lean path (cpu_fwd.h's FWD_DIR): the same bits, and with a normal of deviation 3, a
 * sixth fewer lanes gathered. */
#define ACTFIT_GELU_XSAT 5.375f
#define ACTFIT_GELU_TANH_XSAT 5.0f
/* GELU's positive tail, x in [3.875, 5.375), takes the direct path too, from one piece of its
 * own: column 16, which no piece of x itself uses (k = -15 .. 15), reached by taking the
 * sum t = x + 1.5 2^21 no higher than 1.5 2^21 + 4 (the piece of 4; 3.875 rounds to the even
 * 16), so that s = x - 4 (exact).  g = Phi(x) is 1 - Q there with Q below 5.3e-5, so g's
 * polynomial needs a small absolute error, not a relative one, and degree 6 over
 * [-1/8, 11/8) has it: 0.20 ulp of y (tools/gen_elem.c's fit_tail); c0 is within 3.2e-5 of
 * g, so the inner roundings do not count (tools/ulp_sweep: 0.7004 ulp at worst, at
 * 4.1275301).  These inputs took the lean path until 2026-12-07, where the CPU's vector
 * loops packed and scattered them: 6% of a normal of deviation 3, of its 16% lean lanes
 * (docs/benchmarks.md). */
#define ACTFIT_GELU_DCAP 4.0f

/* y = x g(x) from direct table G of degree deg (a constant at every call), |x| < 15.5 h, on
 * the piece that t = x + round picked (GELU's positive tail: t no more than round + 4,
 * ACTFIT_GELU_DCAP):
 * v = c0lo + s (c1 + s (c2 + ...)) in float (c1's low part times s beside it), then
 * y = x c0 + x v, rounded once.  Three roundings reach y besides the last one (c1 + s P,
 * v, x v), each at most rho 2^-24 |y|, rho = |g - c0| / |g| on the piece: 0.28 at most for
 * SiLU and Mish (h = 1/2), up to 0.56 for GELU's and GELU-tanh's outer pieces (h = 1/4,
 * g falling steeply toward -3.875).  Within 2 ulp for every input (tools/ulp_sweep: GELU
 * 1.94 at x = -3.873, GELU-tanh 1.78, SiLU 1.19, Mish 1.21; docs/arithmetic.md), with six
 * instructions after the Horner chain where carrying c0 + c1 s as a pair took twelve
 * (docs/benchmarks.md: SiLU's fp32 forward about 7% faster on AMD Zen 4; 6 SASS
 * instructions per element fewer). */
ACTFIT_HD float actfit_direct_t(const float (*G)[32], int deg, float round, float t, float x)
{
  float s = x - (t - round);
  uint32_t j = actfit_f32_bits(t) & 31u;
  float p = G[deg + 2][j];
  for (int r = deg + 1; r >= 4; r--) /* deg is a constant where this is inlined: unrolled */
    p = fmaf(p, s, G[r][j]); /* c2 + s (c3 + ...) */
  p = fmaf(p, s, G[2][j]);  /* c1 + s (c2 + ...) */
  float v = fmaf(p, s, fmaf(G[3][j], s, G[1][j]));
  return copysignf(fmaf(x, G[0][j], x * v), x); /* g > 0: y has x's sign, -0 too */
}

/* the piece of x itself */
ACTFIT_HD float actfit_direct(const float (*G)[32], int deg, float round, float x)
{
  return actfit_direct_t(G, deg, round, x + round, x);
}

/* ---- the lean forwards (GELU, GELU-tanh, SiLU, Mish) ----------------------------------
 * The same Q(z) = e^(-a(z)) M(z) as above, in single floats where the 2-ulp contract allows:
 * M(z) by Horner from its piece, e^(ah + al) = 2^n (1 + m) with m in float, w = x M (1 + m)
 * rounded once, then y = 2^n w (x < 0) or x - 2^n w (x >= 0), rounded once more.  Only the
 * rounding errors that would reach y are carried, as a float each: M's last Horner step
 * (with c0's low part), the reduced argument's and m's, and x M's product error; and the
 * exponent's argument a stays a pair where it is not exact (GELU's z^2/2, GELU-tanh's
 * u(z)): e^-a's relative error is a's absolute error, and a reaches 112.  Within 2 ulp of
 * the exact value for every float x (1.54 at worst, tools/ulp_sweep, before the direct path
 * took |x| below its bound; 1.33 beyond it), with about two thirds of the float-pair
 * forward's instructions. */

/* M(z) from its piece j (as actfit_tab_m): c0 + s (c1 + s P(s)) in float, c0 with its low
 * part, the last step's rounding error kept in *lo (c0 - h is exact: |s (c1 + s P)| is
 * below c0 / 2) */
ACTFIT_HD float actfit_tab_m1(const float (*G)[32], float zc, float off, float *lo)
{
  float s;
  uint32_t j = actfit_m_piece(G, zc, off, &s);
  float p = fmaf(actfit_m_upper(G, j, s), s, G[3][j]);
  float h = fmaf(p, s, G[1][j]);
  *lo = fmaf(p, s, G[1][j] - h) + G[2][j];
  return h;
}

/* 2^(n + 64) from t = ah log2(e) + 1.5 2^23, the sum that rounds n = round(ah / ln2) = t -
 * 1.5 2^23: t's low bits are n (two's complement), shifted into the exponent field, which
 * makes a normal float for -190 <= n <= 63, so -131 <= ah <= 43.  The lean and 16-bit
 * forwards scale by 2^n as 2^(n + 64) 2^-64: w 2^(n + 64) is exact for their w (large n
 * only with |x| large), so w 2^n is rounded once, as actfit_scalef's two factors round it,
 * without the integer n. */
ACTFIT_HD float actfit_pow2_64(float t)
{
  return actfit_bits_f32((actfit_f32_bits(t) << 23) + (191u << 23));
}

/* e^(ah + al) = 2^n (1 + mh + ml): n = round(ah / ln2) (*p64 = 2^(n + 64), actfit_pow2_64),
 * r + rl = ah + al - n ln2 (r1 exact, the sum's error kept), mh = r + r^2 (1/2 + r P(r))
 * with its last rounding error and rl (1 + mh) in ml; -130 <= ah <= 0 */
ACTFIT_HD float actfit_expm1_lean(float ah, float al, float *p64, float *ml)
{
  const float P[] = {ACTFIT_F_EXPM1_P};
  float t = fmaf(ah, ACTFIT_F_LOG2E, 0x1.8p23f), nf = t - 0x1.8p23f;
  *p64 = actfit_pow2_64(t);
  float r1 = fmaf(-nf, ACTFIT_F_LN2_H, ah), r2 = fmaf(-nf, ACTFIT_F_LN2_L, al);
  float r = r1 + r2, rl = r2 - (r - r1);
  float p = P[1]; /* 1/9! is below float's reach here */
  ACTFIT_UNROLL
  for (int i = 2; i < (int)(sizeof P / sizeof P[0]); i++)
    p = fmaf(p, r, P[i]);
  float c = fmaf(r, p, 0.5f), q = r * r, mh = fmaf(q, c, r);
  *ml = fmaf(q, c, r - mh) + fmaf(rl, mh, rl);
  return mh;
}

/* y from Q(z) = e^(ah + al) (Mh + Ml), -130 <= ah <= 0: x Q 2^-n = w = a + t rounded once,
 * with a + al = x Mh exactly and t = a m + (al + x Ml); then y = 2^n w (x < 0) or
 * x - 2^n w (x >= 0, where Q <= 1/2), one more rounding (2^n as 2^(n + 64) 2^-64,
 * actfit_pow2_64).  w takes xc = zt with x's sign, zt being |x| clamped to the activation's
 * top by the caller, where the callers' clamps of z put Q so low that 2^n w rounds to -0
 * (x < 0) and x - 2^n w to x (x >= 0, +inf too); a NaN x gives x.  y takes x's sign: the
 * sums of signed zeros above would not keep it where x or y is zero.  Tiny and subnormal x
 * take the direct path. */
ACTFIT_HD float actfit_lean_y(float x, float zt, float Mh, float Ml, float ah, float al)
{
  float p64, ml, m = actfit_expm1_lean(ah, al, &p64, &ml);
  float xc = copysignf(zt, x);
  float a = xc * Mh, t = fmaf(a, m, fmaf(a, ml, fmaf(xc, Ml, fmaf(xc, Mh, -a))));
  float w = a + t, yn = w * p64 * 0x1p-64f, yp = fmaf(-w, p64 * 0x1p-64f, x);
  return x != x ? x : copysignf(x < 0.0f ? yn : yp, x); /* y has x's sign, zeros too */
}

/* GELU, y = x Phi(x) with Phi the normal CDF, on the lean path.  With z = |x| (clamped
 * below 15) and Q(z) = Phi(-z):
 *   Q(z) = e^(-z^2/2) M(z) = 2^n (1 + m) M(z),
 * M from its piece j (the exponent and top 3 mantissa bits of z + 1) as c0 + s (c1 + s P(s))
 * (actfit_tab_m1), e^(-z^2/2) from -z^2/2 as an exact pair (actfit_expm1_lean), then
 * y = x Q (x < 0) or x - x Q (x >= 0) (actfit_lean_y); from z = 15 on that gives -0 or x.
 * The direct path takes -3.875 < x < 5.375 (ACTFIT_GELU_DCAP), the lean path the rest.
 * src/runtime/cpu_table_fwd.h repeats these steps lane by lane for AVX2 and AVX-512 (the
 * table lookups as gathers or permutes); keep the two in step. */
ACTFIT_HD float actfit_gelu(float x)
{
  if (x > -ACTFIT_D_TOP4 && x < ACTFIT_GELU_XSAT) /* the positive tail in the piece of 4 */
    return actfit_direct_t(actfit_d_tab(ACTFIT_D_GELU), ACTFIT_F_GELU_D_DEG, ACTFIT_D_ROUND4,
                           fminf(x + ACTFIT_D_ROUND4, ACTFIT_D_ROUND4 + ACTFIT_GELU_DCAP), x);
  float z = fabsf(x), zc = z < ACTFIT_GELU_ZTOP ? z : ACTFIT_GELU_ZTOP; /* NaN too */
  float Ml, M = actfit_tab_m1(actfit_m_tab(ACTFIT_M_GELU), zc, 1.0f, &Ml);
  actfit_ff zz = actfit_ff_prod(zc, zc); /* e^(-z^2/2) */
  return actfit_lean_y(x, zc, M, Ml, -0.5f * zz.h, -0.5f * zz.l);
}

/* GELU-tanh, y = x sigmoid(u(x)), u(x) = C (x + B x^3), the same way as GELU: with z = |x|
 * and Q(z) = sigmoid(-u(z)) = e^(-u(z)) M(z), M(z) = sigmoid(u(z)) from the same 32 pieces
 * (its own table), and u(z) = z (C + C B z^2) as a pair from the exact z^2.  z is clamped
 * to ACTFIT_GELU_TANH_ZTOP (u < 112.6; from z = 10.8 on, x Q is below half the smallest
 * subnormal, so y is -0 or x).  cpu_table_fwd.h repeats the steps. */
ACTFIT_HD float actfit_gelu_tanh(float x)
{
  if (fabsf(x) < ACTFIT_D_TOP4)
    return actfit_direct(actfit_d_tab(ACTFIT_D_GELU_TANH), ACTFIT_F_GELU_TANH_D_DEG, ACTFIT_D_ROUND4, x);
  float z = fabsf(x), zc = z < ACTFIT_GELU_TANH_ZTOP ? z : ACTFIT_GELU_TANH_ZTOP; /* NaN too */
  float Ml, M = actfit_tab_m1(actfit_m_tab(ACTFIT_M_GELU_TANH), zc, 1.0f, &Ml);
  actfit_ff zz = actfit_ff_prod(zc, zc);
  actfit_ff cbz = actfit_ff_prod(ACTFIT_F_GELU_TANH_CB_H, zz.h); /* C B z^2 */
  cbz.l = fmaf(ACTFIT_F_GELU_TANH_CB_H, zz.l, fmaf(ACTFIT_F_GELU_TANH_CB_L, zz.h, cbz.l));
  actfit_ff v = actfit_ff_sum(ACTFIT_F_GELU_TANH_C_H, cbz.h); /* C + C B z^2 */
  v.l += ACTFIT_F_GELU_TANH_C_L + cbz.l;
  actfit_ff u = actfit_ff_prod(zc, v.h);
  u.l = fmaf(zc, v.l, u.l);
  return actfit_lean_y(x, zc, M, Ml, -u.h, -u.l);
}

/* SiLU, y = x sigmoid(x), the same way: Q(z) = sigmoid(-z) = e^-z M(z), M = sigmoid(z) from the
 * z + 2 table (z clamped below 30, where M is 1 to 1e-13), e^-z from z itself up to 120;
 * from z = 120 on -0 or x (x Q is below half the smallest subnormal from z = 109 on), on the
 * lean path; |x| < 7.75 by the direct path.  cpu_table_fwd.h repeats the steps. */
ACTFIT_HD float actfit_silu(float x)
{
  if (fabsf(x) < ACTFIT_D_TOP2)
    return actfit_direct(actfit_d_tab(ACTFIT_D_SILU), ACTFIT_F_SILU_D_DEG, ACTFIT_D_ROUND2, x);
  float z = fabsf(x), zc = z < ACTFIT_M2_ZTOP ? z : ACTFIT_M2_ZTOP; /* NaN too */
  float Ml, M = actfit_tab_m1(actfit_m_tab(ACTFIT_M_SILU), zc, 2.0f, &Ml);
  float zt = z < 120.0f ? z : 120.0f;
  return actfit_lean_y(x, zt, M, Ml, -zt, 0.0f);
}

/* tanh(a), a >= 0, as a pair: -m / (2 + m), m = e^(-2a) - 1 */
ACTFIT_HD actfit_ff actfit_ff_tanh_pos(float a)
{
  actfit_ff m = actfit_ff_expm1(-2.0f * (a < 20.0f ? a : 20.0f), 0.0f);
  actfit_ff den = actfit_ff_fast(2.0f, m.h);
  den.l += m.l;
  return actfit_ff_div(actfit_ff_of(-m.h, -m.l), den);
}

/* 1 + p (q.h + q.l), rounded once, for a power of two p with |p q| <= 1 */
ACTFIT_HD float actfit_one_plus(actfit_ff q, float p)
{
  actfit_ff t = actfit_ff_fast(1.0f, q.h * p);
  return t.h + fmaf(q.l, p, t.l);
}

/* sigmoid from SiLU's table: with z = |x|, Q = sigmoid(-z) = e^-z M(z) (z clamped below 30
 * for M, up to 120 for e^-z), y = Q for x < 0 and 1 - Q for x >= 0, each rounded once from
 * the pair (Q below 2^-126 rounds twice: to 24 bits, then into the subnormals).
 * cpu_table_fwd.h repeats the steps. */
ACTFIT_HD float actfit_sigmoid(float x)
{
  float z = fabsf(x), zc = z < ACTFIT_M2_ZTOP ? z : ACTFIT_M2_ZTOP, n; /* NaN too */
  uint32_t j;
  actfit_ff M = actfit_tab_m(actfit_m_tab(ACTFIT_M_SILU), zc, 2.0f, &j);
  actfit_ff q = actfit_m_exp(M, -(z < 120.0f ? z : 120.0f), 0.0f, &n);
  float yn = actfit_scalef(q.h + q.l, n);
  float yp = actfit_one_plus(q, actfit_scalef(-1.0f, n)); /* 1 - Q */
  return x < 0.0f ? yn : yp;
}

/* tanh, from SiLU's table: with z = |x| and w = 2z clamped below 30,
 *   tanh z = 1 - 2 sigmoid(-w) = 1 - 2 e^-w M(w),  M = sigmoid
 * (tanh is 1 from z = 9.01 on); z < 1/4: z - z^3 (1/3 + z^2 R(z^2)), where 1 - 2 e^-w M(w)
 * would lose bits; z < 2^-12: z.  The sign is x's (-0 too).  cpu_table_fwd.h repeats the
 * steps. */
ACTFIT_HD float actfit_tanh_abs(float z)
{
  const float R[] = {ACTFIT_F_TANH_R};
  float w = 2.0f * z, wc = w < ACTFIT_M2_ZTOP ? w : ACTFIT_M2_ZTOP, n; /* NaN too */
  uint32_t j;
  actfit_ff M = actfit_tab_m(actfit_m_tab(ACTFIT_M_SILU), wc, 2.0f, &j);
  actfit_ff q = actfit_m_exp(M, -wc, 0.0f, &n);
  float yb = actfit_one_plus(q, actfit_scalef(-2.0f, n)); /* 1 - 2 e^-w M */
  float zs = z < 0.25f ? z : 0.25f, ws = zs * zs, rw = R[0];
  ACTFIT_UNROLL
  for (int i = 1; i < (int)(sizeof R / sizeof R[0]); i++)
    rw = fmaf(rw, ws, R[i]);
  float ys = fmaf(-(zs * ws), fmaf(ws, rw, ACTFIT_F_THIRD_H), zs);
  float y = z < 0.25f ? ys : yb;
  return z < 0x1p-12f ? z : y;
}

ACTFIT_HD float actfit_tanh(float x)
{
  float y = copysignf(actfit_tanh_abs(fabsf(x)), x);
  return isnan(x) ? x : y;
}

ACTFIT_HD float actfit_tanhshrink(float x)
{
  const float R[] = {ACTFIT_F_TANHSHRINK_R};
  float a = fabsf(x);
  /* |x| < 1/2: x^3 (1/3 + w R(w)) */
  float xs = a < 0.5f ? x : 0.5f, w = xs * xs, rw = R[0];
  ACTFIT_UNROLL
  for (int i = 1; i < (int)(sizeof R / sizeof R[0]); i++)
    rw = fmaf(rw, w, R[i]);
  int tiny = a < 0x1p-20f; /* x^3 in pairs stays normal: scaled by 2^120 */
  float xw = tiny ? xs * 0x1p40f : xs;
  actfit_ff x2 = actfit_ff_prod(xw, xw);
  actfit_ff x3 = actfit_ff_prod(x2.h, xw);
  x3.l = fmaf(x2.l, xw, x3.l);
  actfit_ff h = actfit_ff_mul(x3, actfit_ff_of(ACTFIT_F_THIRD_H, ACTFIT_F_THIRD_L));
  float y1 = h.h + fmaf(x3.h * w, rw, h.l);
  y1 = copysignf(tiny ? actfit_scalef(y1, -120.0f) : y1, x); /* odd: x^3 underflowing to 0 keeps x's sign */
  /* beyond: a - tanh(a), signed */
  actfit_ff t = actfit_ff_tanh_pos(a);
  actfit_ff r = actfit_ff_sum(a, -t.h);
  float y2 = r.h + (r.l - t.l);
  y2 = x < 0.0f ? -y2 : y2;
  return a < 0.5f ? y1 : isinf(x) ? x : y2;
}

/* softplus with beta = 1 of a = (ah, al): max(a, 0) + log1p(e^-|a|) = 2^k (h + l), k = 0 for
 * a > 0.  With z = |a| = zh + zl:
 *   log1p(e^-z) = e^-z M(z) = 2^n (h + l),  M(z) = e^z log1p(e^-z)
 * from the z + 2 table (zh clamped below 30, where M is 1 to 5e-14; zl moves M by c1 zl).
 * a <= 0: that pair, k = n (it underflows from z = 104 on; the exponent is clamped at 130);
 * a > 0: a + 2^n (h + l) as a pair.  cpu_table_fwd.h repeats the steps. */
ACTFIT_HD actfit_ff actfit_ff_softplus1(float ah, float al, float *ko)
{
  int pos = ah > 0.0f;
  float z = fabsf(ah), zc = z < ACTFIT_M2_ZTOP ? z : ACTFIT_M2_ZTOP; /* NaN too */
  float zl = z < 128.0f ? (pos ? al : -al) : 0.0f;
  const float (*G)[32] = actfit_m_tab(ACTFIT_M_SOFTPLUS);
  uint32_t j;
  actfit_ff M = actfit_tab_m(G, zc, 2.0f, &j);
  M.l = fmaf(G[3][j], zl, M.l);
  float n;
  actfit_ff q = actfit_m_exp(M, -z, -zl, &n);
  float pw = actfit_scalef(1.0f, n);
  actfit_ff y = actfit_ff_sum(ah, q.h * pw);
  y.l += fmaf(q.l, pw, al);
  *ko = pos ? 0.0f : n;
  return pos ? y : q;
}

ACTFIT_HD float actfit_softplus(float x, float beta, float thr)
{
  actfit_ff a = actfit_ff_prod(beta, x);
  a.l = a.h < -128.0f ? 0.0f : a.l;
  int lin = a.h > thr || (a.h == thr && a.l > 0.0f) || a.h == INFINITY; /* beta x overflows: x */
  float k;
  actfit_ff y = actfit_ff_softplus1(lin ? 0.0f : a.h, lin ? 0.0f : a.l, &k);
  float q = y.h / beta, r = fmaf(-q, beta, y.h) + y.l;
  float v = actfit_scalef(q + r / beta, k);
  return lin ? x : v;
}

ACTFIT_HD float actfit_logsigmoid(float x)
{
  float k;
  actfit_ff y = actfit_ff_softplus1(-x, 0.0f, &k);
  return isinf(x) ? (x > 0.0f ? -0.0f : x) : -actfit_scalef(y.h + y.l, k);
}

/* Mish, y = x tanh(softplus(x)), the same way as SiLU, with a table for each sign (z = |x|,
 * clamped below 30 for M):
 *   x >= 0: y = x (1 - Q), Q = e^(-2z) M+(z);  x < 0: y = x Q, Q = e^-z M-(z)
 * (elem_coeffs.h has M+ and M-); e^-z from z itself up to 120 (then y is -0 or x), on the
 * lean path; |x| < 7.75 by the direct path.  cpu_table_fwd.h repeats the steps. */
ACTFIT_HD float actfit_mish(float x)
{
  if (fabsf(x) < ACTFIT_D_TOP2)
    return actfit_direct(actfit_d_tab(ACTFIT_D_MISH), ACTFIT_F_MISH_D_DEG, ACTFIT_D_ROUND2, x);
  int neg = x < 0.0f;
  float z = fabsf(x), zc = z < ACTFIT_M2_ZTOP ? z : ACTFIT_M2_ZTOP; /* NaN too */
  float Ml, M = actfit_tab_m1(actfit_m_tab(neg ? ACTFIT_M_MISH_NEG : ACTFIT_M_MISH_POS), zc, 2.0f, &Ml);
  float zt = z < 120.0f ? z : 120.0f, a = neg ? zt : zc + zc;
  return actfit_lean_y(x, zt, M, Ml, -a, 0.0f);
}

/* c e^(a) - 1 scaled: c (e^a - 1) for a pair c, rounded once */
ACTFIT_HD float actfit_cexpm1(actfit_ff c, float ah, float al)
{
  actfit_ff m = actfit_ff_expm1(ah, al);
  return fmaf(c.h, m.h, fmaf(c.l, m.h, c.h * m.l));
}

/* ---- the 16-bit forwards (GELU, GELU-tanh, SiLU, Mish) --------------------------------
 * An fp16 or bf16 y needs its float value good to far less than the fp32 contract's 2^-23:
 * y within 1 ulp of the dtype (2^-10 or 2^-7 relative), and correctly rounded wherever the
 * exact value is not within about 2^-18 of a rounding midpoint.  So for these dtypes the
 * four lean activations take a shorter path: the same pieces of M(z) cut after s^4 (2^-18.6
 * relative at worst, Mish's M+; 2^-19.9 for GELU's), e^-a with the Taylor series to r^6/6!
 * (2^-23), and no carried rounding errors: about half the lean fp32
 * path's arithmetic, which is what a 16-bit GPU pass can afford.  Every backend computes y
 * of a 16-bit pass this way (the CPU's 16-bit tables too), so the bits still agree;
 * tools/ulp_sweep checks all 65,536 inputs of each dtype. */

/* M(z) from its piece (as actfit_tab_m1) cut after s^4: c0 + s (c1 + s (c2 + s (c3 + s c4))),
 * from table which's records (zc in the table's range: the index is not masked against it) */
ACTFIT_HD float actfit_tab_m16(int which, float zc, float off)
{
  const float *c = actfit_m16_tab(which)[(actfit_f32_bits(zc + off) >> 20) & 31u];
  float s = zc - c[0];
  float p = fmaf(c[5], s, c[4]);
  p = fmaf(p, s, c[3]);
  p = fmaf(p, s, c[2]);
  return fmaf(p, s, c[1]);
}

/* y from Q = e^(ah + al) M, -130 <= ah <= 0, as actfit_lean_y without the carried
 * errors: w = xc (M + M m), xc = zt with x's sign (the caller's zt is |x| clamped to the
 * activation's top), then y = 2^n w (x negative, -0 too: w has its sign) or x - 2^n w, 2^n
 * as 2^(n + 64) 2^-64 (actfit_pow2_64).  A NaN x gives x.  add_al is a constant: 0 where al
 * is. */
ACTFIT_HD float actfit_y16(float x, float zt, float M, float ah, float al, int add_al)
{
  const float P[] = {ACTFIT_F_EXPM1_P};
  float t = fmaf(ah, ACTFIT_F_LOG2E, 0x1.8p23f), n = t - 0x1.8p23f, p64 = actfit_pow2_64(t);
  float r = fmaf(-n, ACTFIT_F_LN2_H, ah);
  r = fmaf(-n, ACTFIT_F_LN2_L, r);
  r = add_al ? r + al : r; /* al is 0 for all but GELU: r + 0 would only turn a -0 r into +0 */
  float p = fmaf(fmaf(P[3], r, P[4]), r, P[5]); /* 1/6! .. 1/4! */
  p = fmaf(p, r, P[6]);
  float m = fmaf(r * r, fmaf(r, p, 0.5f), r);
  float w = copysignf(zt, x) * fmaf(M, m, M);
  float yn = w * p64 * 0x1p-64f, yp = fmaf(-w, p64 * 0x1p-64f, x);
  return x != x ? x : signbit(x) ? yn : yp;
}

/* The 16-bit direct path: for |x| below the same bounds, y = x g(x) with g of degree 5 on
 * the same pieces, in float from one 32-byte record (elem_coeffs.h's ACTFIT_F_D16_REC: c0 ..
 * c5, two loads on the GPU), y rounded once to float: 2^-21.7 relative at worst (GELU-tanh's
 * fit), against the 16-bit lean path's 2^-18.6, in a third of its instructions. */
ACTFIT_ALIGN32 static const float actfit_d16_host[ACTFIT_D_COUNT][32][8] = {ACTFIT_F_D16_REC};
#if defined(__CUDACC__)
ACTFIT_ALIGN32 static __device__ const float actfit_d16_dev[ACTFIT_D_COUNT][32][8] = {ACTFIT_F_D16_REC};
#endif
ACTFIT_HD const float (*actfit_d16_tab(int which))[8] { return ACTFIT_HOST_OR_DEV(actfit_d16)[which]; }

/* y = x g(x) from 16-bit direct table which, |x| < 15.5 h (x + round rounds x to k h) */
ACTFIT_HD float actfit_direct16(int which, float round, float x)
{
  float t = x + round, s = x - (t - round);
  const float *c = actfit_d16_tab(which)[actfit_f32_bits(t) & 31u];
  float p = fmaf(c[5], s, c[4]);
  p = fmaf(p, s, c[3]);
  p = fmaf(p, s, c[2]);
  p = fmaf(p, s, c[1]);
  return x * fmaf(p, s, c[0]); /* g > 0: y has x's sign, -0 too */
}

ACTFIT_HD float actfit_gelu16(float x)
{
  if (fabsf(x) < ACTFIT_D_TOP4)
    return actfit_direct16(ACTFIT_D_GELU, ACTFIT_D_ROUND4, x);
  float z = fabsf(x), zc = z < ACTFIT_GELU_ZTOP ? z : ACTFIT_GELU_ZTOP; /* NaN too */
  float M = actfit_tab_m16(ACTFIT_M_GELU, zc, 1.0f);
  float zz = zc * zc; /* e^(-z^2/2) with z^2 as a pair: a reaches 112 */
  return actfit_y16(x, zc, M, -0.5f * zz, -0.5f * fmaf(zc, zc, -zz), 1);
}

ACTFIT_HD float actfit_gelu_tanh16(float x)
{
  if (fabsf(x) < ACTFIT_D_TOP4)
    return actfit_direct16(ACTFIT_D_GELU_TANH, ACTFIT_D_ROUND4, x);
  float z = fabsf(x), zc = z < ACTFIT_GELU_TANH_ZTOP ? z : ACTFIT_GELU_TANH_ZTOP; /* NaN too */
  float M = actfit_tab_m16(ACTFIT_M_GELU_TANH, zc, 1.0f);
  /* u = z (C + C B z^2) in float: its error, up to 2^-22 u, moves e^-u by as much */
  float u = zc * fmaf(ACTFIT_F_GELU_TANH_CB_H, zc * zc, ACTFIT_F_GELU_TANH_C_H);
  return actfit_y16(x, zc, M, -u, 0.0f, 0);
}

ACTFIT_HD float actfit_silu16(float x)
{
  if (fabsf(x) < ACTFIT_D_TOP2)
    return actfit_direct16(ACTFIT_D_SILU, ACTFIT_D_ROUND2, x);
  float z = fabsf(x), zc = z < ACTFIT_M2_ZTOP ? z : ACTFIT_M2_ZTOP; /* NaN too */
  float M = actfit_tab_m16(ACTFIT_M_SILU, zc, 2.0f);
  float a = z < 120.0f ? z : 120.0f;
  return actfit_y16(x, a, M, -a, 0.0f, 0);
}

ACTFIT_HD float actfit_mish16(float x)
{
  if (fabsf(x) < ACTFIT_D_TOP2)
    return actfit_direct16(ACTFIT_D_MISH, ACTFIT_D_ROUND2, x);
  int neg = x < 0.0f;
  float z = fabsf(x), zc = z < ACTFIT_M2_ZTOP ? z : ACTFIT_M2_ZTOP; /* NaN too */
  float M = actfit_tab_m16(neg ? ACTFIT_M_MISH_NEG : ACTFIT_M_MISH_POS, zc, 2.0f);
  float zt = z < 120.0f ? z : 120.0f, a = neg ? zt : zc + zc;
  return actfit_y16(x, zt, M, -a, 0.0f, 0);
}

/* Forward y = f(x) for the built-ins (PyTorch definitions); NaN gives x, f(+-inf) the limit */
ACTFIT_HD float actfit_elem_f(int act, const float *pf, float x)
{
  float y, p0 = pf[0], p1 = pf[1];
  switch (act) {
  case ACTFIT_A_GELU: y = actfit_gelu(x); break;
  case ACTFIT_A_GELU_TANH: y = actfit_gelu_tanh(x); break;
  case ACTFIT_A_SILU: y = actfit_silu(x); break;
  case ACTFIT_A_MISH: y = actfit_mish(x); break;
  case ACTFIT_A_SOFTPLUS: y = actfit_softplus(x, p0, p1); break;
  case ACTFIT_A_ELU: {
    float v = actfit_cexpm1(actfit_ff_of(p0, 0.0f), x, 0.0f);
    y = x > 0.0f ? x : v;
    break;
  }
  case ACTFIT_A_CELU: {
    float q = x / p0, ql = fmaf(-q, p0, x) / p0;
    ql = q < -64.0f ? 0.0f : ql;
    float v = actfit_cexpm1(actfit_ff_of(p0, 0.0f), q, ql);
    y = x > 0.0f || fabsf(x) < 0x1p-60f ? x : v; /* tiny x: x (1 + x / 2 alpha) is x */
    break;
  }
  case ACTFIT_A_SELU: {
    float v = actfit_cexpm1(actfit_ff_of(ACTFIT_F_SELU_LA_H, ACTFIT_F_SELU_LA_L), x, 0.0f);
    float xs = x < 0x1p-100f ? x * 0x1p24f : x; /* lambda_lo x stays normal */
    float l = fmaf(ACTFIT_F_SELU_L_H, xs, ACTFIT_F_SELU_L_L * xs);
    l = x < 0x1p-100f ? l * 0x1p-24f : l;
    y = x > 0.0f ? l : v;
    break;
  }
  case ACTFIT_A_SIGMOID: y = actfit_sigmoid(x); break;
  case ACTFIT_A_TANH: y = actfit_tanh(x); break;
  case ACTFIT_A_LOGSIGMOID: y = actfit_logsigmoid(x); break;
  case ACTFIT_A_SOFTSIGN: {
    actfit_ff q = actfit_ff_div(actfit_ff_of(x, 0.0f), actfit_ff_sum(1.0f, fabsf(x)));
    y = isinf(x) ? (x > 0.0f ? 1.0f : -1.0f) : q.h;
    break;
  }
  case ACTFIT_A_TANHSHRINK: y = actfit_tanhshrink(x); break;
  case ACTFIT_A_HARDSWISH: { /* x (x + 3) / 6, rounded once */
    actfit_ff s = actfit_ff_sum(x, 3.0f), p = actfit_ff_prod(x, s.h);
    p.l = fmaf(x, s.l, p.l);
    float q = p.h / 6.0f, r = fmaf(-q, 6.0f, p.h) + p.l;
    float v = q + r / 6.0f;
    y = x < -3.0f ? 0.0f : x > 3.0f ? x : v;
    break;
  }
  case ACTFIT_A_HARDSIGMOID: { /* x / 6 + 1/2, rounded once */
    float q = x / 6.0f, ql = fmaf(-q, 6.0f, x) / 6.0f;
    actfit_ff a = actfit_ff_sum(q, 0.5f);
    float v = a.h + (a.l + ql);
    y = x <= -3.0f ? 0.0f : x >= 3.0f ? 1.0f : v;
    break;
  }
  case ACTFIT_A_HARDTANH: y = x < p0 ? p0 : x > p1 ? p1 : x; break;
  case ACTFIT_A_RELU: y = x > 0.0f ? x : 0.0f; break;
  case ACTFIT_A_RELU6: y = x < 0.0f ? 0.0f : x > 6.0f ? 6.0f : x; break;
  case ACTFIT_A_LEAKY_RELU: y = x > 0.0f ? x : p0 * x; break;
  case ACTFIT_A_HARDSHRINK: y = (x > p0 || x < -p0) ? x : 0.0f; break;
  case ACTFIT_A_SOFTSHRINK: y = x > p0 ? x - p0 : x < -p0 ? x + p0 : 0.0f; break;
  default: y = NAN; break;
  }
  return x != x ? x : y;
}

/* y = f(x) for a 16-bit pass: the four lean activations by the 16-bit path, every other
 * one as actfit_elem_f */
ACTFIT_HD float actfit_elem_f16(int act, const float *pf, float x)
{
  switch (act) {
  case ACTFIT_A_GELU: return actfit_gelu16(x);
  case ACTFIT_A_GELU_TANH: return actfit_gelu_tanh16(x);
  case ACTFIT_A_SILU: return actfit_silu16(x);
  case ACTFIT_A_MISH: return actfit_mish16(x);
  default: return actfit_elem_f(act, pf, x);
  }
}

/* the forward of a pass: sixteen is nonzero for fp16 and bf16 */
ACTFIT_HD float actfit_elem_fs(int act, const float *pf, float x, int sixteen)
{
  return sixteen ? actfit_elem_f16(act, pf, x) : actfit_elem_f(act, pf, x);
}

/* the activations whose fp32 forward takes the lean path (2 ulp; the others 1 ulp) */
ACTFIT_HD int actfit_elem_lean(int act)
{
  return act == ACTFIT_A_GELU || act == ACTFIT_A_GELU_TANH || act == ACTFIT_A_SILU ||
         act == ACTFIT_A_MISH;
}

/* code(x): number of the 2^bits - 1 sorted borders b <= x (|x| for even parity); NaN gives
 * 0.  b is the table's borders, or a copy of them (the CUDA kernels keep one in shared
 * memory: lanes searching different borders would serialise on the constant bank). */
ACTFIT_HD int actfit_code_of(const float *b, int bits, int parity_even, float x)
{
  if (parity_even)
    x = fabsf(x);
  int lo = 0, hi = (1 << bits) - 1;
  while (lo < hi) {
    int mid = (lo + hi) >> 1;
    if (b[mid] <= x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

ACTFIT_HD int actfit_elem_code(const actfit_rt_fewbit *t, float x)
{
  return actfit_code_of(t->borders, t->bits, t->parity_even, x);
}

ACTFIT_HD float actfit_elem_horner(const actfit_rt_piece *p, float v)
{
  float u = (v - p->c) * p->s, acc = p->coef[0];
  for (int i = 1; i <= p->deg; i++)
    acc = fmaf(acc, u, p->coef[i]);
  return acc;
}

ACTFIT_HD float actfit_elem_branch(const actfit_rt_branch *b, float y, float t)
{
  if (b->nb > 0 && y < 0.0f) {
    float ay = -y;
    /* the binary exponent e with ay in [2^(e-1), 2^e), read from the bits (frexpf without a
     * call); zero and subnormals land far below every binade */
    uint32_t eb = (actfit_f32_bits(ay) >> 23) & 0xffu;
    int e = eb ? (int)eb - 126 : -1000;
    int i = b->binade_top - e;
    if (i >= 0) {
      if (i >= b->nb)
        return b->asym_zero;
      return actfit_elem_horner(&b->b[i], ay);
    }
  } else if (b->nb > 0 && y >= 0.0f) {
    return b->asym_zero;
  }
  float v = b->var == ACTFIT_VAR_T ? t : y;
  if (v < b->p[0].lo)
    return b->asym_lo;
  for (int i = 0; i < b->np; i++)
    if (v <= b->p[i].hi)
      return actfit_elem_horner(&b->p[i], v);
  return b->asym_hi;
}

/* softplus's g(y) = 1 - e^(-beta y) (p = {beta, threshold}) and logsigmoid's 1 - e^y: the
 * exact forms with an exponential, apart so that the CPU's vector loops can compile them
 * (cpu_fwd.h) */
ACTFIT_HD float actfit_exact_softplus(const float *p, float y)
{
  actfit_ff a = actfit_ff_prod(-p[0], y), m = actfit_ff_expm1(a.h, a.l);
  return p[0] * y > p[1] ? 1.0f : -(m.h + m.l);
}

ACTFIT_HD float actfit_exact_logsigmoid(float y)
{
  actfit_ff m = actfit_ff_expm1(y, 0.0f);
  return -(m.h + m.l);
}

/* g(y) for the exact forms; s is the branch bit (hardswish only). */
ACTFIT_HD float actfit_elem_exact(const actfit_rt_invact *t, float y, int s)
{
  const float *p = t->params;
  switch (t->exact) {
  case ACTFIT_EXACT_SIGMOID: return y * (1.0f - y);
  case ACTFIT_EXACT_TANH: return (1.0f - y) * (1.0f + y);
  case ACTFIT_EXACT_SOFTPLUS: return actfit_exact_softplus(p, y);
  case ACTFIT_EXACT_ELU: return y > 0 ? 1.0f : y + p[0];
  case ACTFIT_EXACT_CELU: return y > 0 ? 1.0f : y / p[0] + 1.0f;
  case ACTFIT_EXACT_SELU:
    return y > 0 ? 1.0507009873554805f : y + 1.0507009873554805f * 1.6732632423543772f;
  case ACTFIT_EXACT_SOFTSIGN: {
    float a = 1.0f - fabsf(y);
    return a * a;
  }
  case ACTFIT_EXACT_LOGSIGMOID: return actfit_exact_logsigmoid(y);
  case ACTFIT_EXACT_RELU: return y > 0 ? 1.0f : 0.0f;
  case ACTFIT_EXACT_LEAKY_RELU: return y > 0 ? 1.0f : p[0];
  case ACTFIT_EXACT_RELU6: return (y > 0 && y < 6.0f) ? 1.0f : 0.0f;
  case ACTFIT_EXACT_HARDTANH: return (y > p[0] && y < p[1]) ? 1.0f : 0.0f;
  case ACTFIT_EXACT_HARDSIGMOID: return (y > 0 && y < 1.0f) ? 1.0f / 6.0f : 0.0f;
  case ACTFIT_EXACT_HARDSWISH: {
    /* y = x (x + 3) / 6 on [-3, 3]: |f'| = sqrt(9 + 24 y) / 6; x > 3 gives y > 3 */
    if (!s && y > 3.0f)
      return 1.0f;
    if (s && y >= 0.0f) /* x <= -3: y = 0, f' = 0 */
      return 0.0f;
    float r = sqrtf(fmaxf(9.0f + 24.0f * y, 0.0f)) * (1.0f / 6.0f);
    return s ? -r : r;
  }
  case ACTFIT_EXACT_SHRINK: return y != 0.0f ? 1.0f : 0.0f;
  default: return 0.0f;
  }
}

/* g_s(y): the InvAct backward factor for one element. */
/* g(y) of a fitted table (exact == ACTFIT_EXACT_NONE), y not NaN */
ACTFIT_HD float actfit_elem_invact_fitted(const actfit_rt_invact *t, float y, int s)
{
  /* rounding can put a stored y below y_min: clamp, so nothing becomes NaN */
  float d = (y - t->ymin_hi) - t->ymin_lo;
  float tt = sqrtf(d > 0.0f ? d : 0.0f);
  const actfit_rt_branch *b = &t->br[t->nbranch == 2 ? (s ? 0 : 1) : 0];
  return actfit_elem_branch(b, y, tt);
}

ACTFIT_HD float actfit_elem_invact(const actfit_rt_invact *t, float y, int s)
{
  if (y != y) /* NaN in, NaN out */
    return y;
  if (t->exact != ACTFIT_EXACT_NONE)
    return actfit_elem_exact(t, y, s);
  return actfit_elem_invact_fitted(t, y, s);
}

#endif
