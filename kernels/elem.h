/* Per-element math shared by the CPU runtime, the fitter's error analysis and the CUDA
 * kernels: compiled by gcc as C11 and by nvcc as CUDA C++, so CPU tests exercise the GPU's
 * arithmetic.  Everything here is float (the storage and compute type of the kernels). */
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

#define ACTFIT_RT_MAX_BITS 8
#define ACTFIT_RT_MAX_DEG 16
#define ACTFIT_RT_MAX_TPIECES 32
#define ACTFIT_RT_MAX_BINADES 48

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
 * y, or towards zero on a tie.  The stored value is then used as y itself. */
ACTFIT_HD uint32_t actfit_elem_pick(uint32_t p, int s, float y, float vm, float vp)
{
  if ((int)(p & 1u) == s)
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

/* Built-in activation ids for the forward pass (order of actfit_act_types). */
enum {
  ACTFIT_A_GELU, ACTFIT_A_GELU_TANH, ACTFIT_A_SILU, ACTFIT_A_MISH, ACTFIT_A_SOFTPLUS,
  ACTFIT_A_ELU, ACTFIT_A_CELU, ACTFIT_A_SELU, ACTFIT_A_SIGMOID, ACTFIT_A_TANH,
  ACTFIT_A_LOGSIGMOID, ACTFIT_A_SOFTSIGN, ACTFIT_A_TANHSHRINK, ACTFIT_A_HARDSWISH,
  ACTFIT_A_HARDSIGMOID, ACTFIT_A_HARDTANH, ACTFIT_A_RELU, ACTFIT_A_RELU6,
  ACTFIT_A_LEAKY_RELU, ACTFIT_A_HARDSHRINK, ACTFIT_A_SOFTSHRINK, ACTFIT_A_COUNT
};

/* FewBit: code(x) = number of borders <= x (|x| for even parity); backward uses
 * levels[code].  Borders and levels are the table's doubles rounded to float. */
typedef struct actfit_rt_fewbit {
  int act;          /* ACTFIT_A_* */
  float params[4];
  int bits;
  int parity_even;
  float borders[(1 << ACTFIT_RT_MAX_BITS) - 1];
  float levels[1 << ACTFIT_RT_MAX_BITS];
} actfit_rt_fewbit;

/* InvAct piece: polynomial in u = (v - c) * s, Horner from coef[0] (highest degree). */
typedef struct actfit_rt_piece {
  float lo, hi;     /* interval of v */
  float c, s;
  int deg;
  float coef[ACTFIT_RT_MAX_DEG + 1];
} actfit_rt_piece;

enum { ACTFIT_VAR_T = 0, ACTFIT_VAR_Y = 1 };

/* One monotone branch: pieces in v (t = sqrt(y - y_min), or y), sorted; below the first
 * piece asym_lo applies, above the last asym_hi.  Optionally, for y < 0 with
 * |y| < 2^binade_top, one piece per binade of |y| (v = |y|), found from y's exponent:
 * binade i covers [2^(binade_top-1-i), 2^(binade_top-i)); below the last, asym_zero. */
typedef struct actfit_rt_branch {
  int var;
  int np;
  actfit_rt_piece p[ACTFIT_RT_MAX_TPIECES];
  float asym_lo, asym_hi;
  int nb;
  int binade_top;
  float asym_zero;
  actfit_rt_piece b[ACTFIT_RT_MAX_BINADES];
} actfit_rt_branch;

/* Exact forms of g(y) = f'(f^-1(y)) */
enum {
  ACTFIT_EXACT_NONE = 0, ACTFIT_EXACT_SIGMOID, ACTFIT_EXACT_TANH, ACTFIT_EXACT_SOFTPLUS,
  ACTFIT_EXACT_ELU, ACTFIT_EXACT_CELU, ACTFIT_EXACT_SELU, ACTFIT_EXACT_SOFTSIGN,
  ACTFIT_EXACT_LOGSIGMOID, ACTFIT_EXACT_RELU, ACTFIT_EXACT_LEAKY_RELU, ACTFIT_EXACT_RELU6,
  ACTFIT_EXACT_HARDTANH, ACTFIT_EXACT_HARDSIGMOID, ACTFIT_EXACT_HARDSWISH,
  ACTFIT_EXACT_SHRINK
};

typedef struct actfit_rt_invact {
  int act;          /* ACTFIT_A_* for the forward; -1 for expressions (no forward) */
  float params[4];
  int exact;        /* ACTFIT_EXACT_* or NONE */
  int bit;          /* a branch bit s = (x < T) is kept */
  float T;
  float ymin_hi, ymin_lo; /* y_min = hi + lo */
  int nbranch;      /* 1 (monotone) or 2 (left = 0, right = 1) */
  actfit_rt_branch br[2];
} actfit_rt_invact;

/* ---- exp and erfc in double from basic operations only (no fma, no libm), so that the
 * CPU, its AVX2 loops (src/runtime/cpu_avx2.c repeats these steps lane by lane) and the GPU
 * (built with -fmad=false) compute the same bits.  Constants: kernels/elem_coeffs.h,
 * written by tools/gen_elem.c. ------------------------------------------------------------ */
#include "elem_coeffs.h"

#define ACTFIT_LOG2E 0x1.71547652b82fep+0
#define ACTFIT_LN2_HI 0x1.62e42fee00000p-1 /* 32 bits: k * LN2_HI is exact for |k| < 2^21 */
#define ACTFIT_LN2_LO 0x1.a39ef35793c76p-33
#define ACTFIT_ROUND_MAGIC 0x1.8p+52     /* x + M - M rounds x to an integer (|x| < 2^51) */

ACTFIT_HD uint64_t actfit_f64_bits(double d)
{
  uint64_t u;
  memcpy(&u, &d, 8);
  return u;
}

ACTFIT_HD double actfit_bits_f64(uint64_t u)
{
  double d;
  memcpy(&d, &u, 8);
  return d;
}

/* exp(x) for x not NaN: x = k ln2 + r, |r| <= ln2/2, Taylor to r^13 (truncation 2e-16),
 * times 2^k as two exact powers of two (so subnormal results round once).  Relative error
 * below 4e-16; exp(x < -746) = 0, exp(x > 710) = inf. */
ACTFIT_HD double actfit_elem_exp(double x)
{
  const double c[15] = {ACTFIT_INV_FACTORIAL}; /* 1/14! .. 1/0! */
  x = x < -746.0 ? -746.0 : x > 710.0 ? 710.0 : x;
  double kb = x * ACTFIT_LOG2E + ACTFIT_ROUND_MAGIC, kd = kb - ACTFIT_ROUND_MAGIC;
  double r = (x - kd * ACTFIT_LN2_HI) - kd * ACTFIT_LN2_LO, p = c[1];
  for (int i = 2; i < 15; i++)
    p = p * r + c[i];
  /* k from the low word of kb; k1 = floor(k / 2) and k2 = k - k1 are both normal exponents */
  int32_t k = (int32_t)(uint32_t)actfit_f64_bits(kb), k1 = (k + 2048) / 2 - 1024, k2 = k - k1;
  return p * actfit_bits_f64((uint64_t)(k1 + 1023) << 52) * actfit_bits_f64((uint64_t)(k2 + 1023) << 52);
}

/* erfc(a) for a in [-AMAX, AMAX]: t exp(-|a|^2 + P(t)), t = 2 / (2 + |a|), P a Chebyshev
 * series in t (Clenshaw); 2 - that for a < 0.  Relative error below 2e-14 (most of it is
 * the rounding of a^2 at large |a|). */
ACTFIT_HD double actfit_elem_erfc(double a)
{
  const double c[] = {ACTFIT_ERFC_CHEB};
  const int n = (int)(sizeof c / sizeof c[0]) - 1;
  double z = fabs(a), t = 2.0 / (2.0 + z);
  double s2 = 2.0 * ((t * (2.0 / (1.0 - ACTFIT_ERFC_TLO))) - ((1.0 + ACTFIT_ERFC_TLO) / (1.0 - ACTFIT_ERFC_TLO)));
  double b1 = 0.0, b2 = 0.0;
  for (int k = 0; k < n; k++) {
    double b = (s2 * b1 - b2) + c[k];
    b2 = b1;
    b1 = b;
  }
  double pv = (0.5 * s2 * b1 - b2) + c[n];
  double e = t * actfit_elem_exp(pv - z * z);
  return a < 0 ? 2.0 - e : e;
}

/* expm1(x) for x not NaN: x q(x) with Taylor q for |x| < ln2/2 (truncation 3e-19),
 * exp(x) - 1 beyond (at most ~3.4 ulp of cancellation there).  Relative error below 1e-15. */
ACTFIT_HD double actfit_elem_expm1(double x)
{
  const double c[15] = {ACTFIT_INV_FACTORIAL}; /* 1/14! .. 1/0! */
  if (fabs(x) >= 0.34657359027997264) /* ln2 / 2 */
    return actfit_elem_exp(x) - 1.0;
  double q = c[0];
  for (int i = 1; i < 14; i++)
    q = q * x + c[i];
  return x * q;
}

/* tanh(x) = -m / (2 + m) with m = expm1(-2|x|), the sign of x; +-1 beyond |x| = 20 */
ACTFIT_HD double actfit_elem_tanh(double x)
{
  double a = fabs(x);
  if (a > 20.0)
    return x > 0 ? 1.0 : -1.0;
  double m = actfit_elem_expm1(-2.0 * a), t = -m / (2.0 + m);
  return x < 0 ? -t : t;
}

/* x - tanh(x): the series x^3 r(x^2) below |x| = 1/4 (no cancellation), else the
 * difference (at most ~6 bits of cancellation at 1/4) */
ACTFIT_HD double actfit_elem_tanhshrink(double x)
{
  const double c[] = {ACTFIT_TANHSHRINK_SERIES};
  if (!(fabs(x) < ACTFIT_TANHSHRINK_SMALL))
    return x - actfit_elem_tanh(x);
  double x2 = x * x, r = c[0];
  for (int i = 1; i < (int)(sizeof c / sizeof c[0]); i++)
    r = r * x2 + c[i];
  return x * x2 * r;
}

/* mish(x) = x tanh(log1p(e^x)) = x n / (n + 2), n = e^x (e^x + 2): no logarithm, no
 * cancellation; x beyond 20 gives x (the factor is 1 - 2e-18) */
ACTFIT_HD double actfit_elem_mish(double x)
{
  if (x > 20.0)
    return x;
  double e = actfit_elem_exp(x), n = e * (e + 2.0);
  return x * (n / (n + 2.0));
}

/* log1p(u) for 0 <= u <= 1: 2 atanh(s) = 2 (s + s^3/3 + ...), s = u / (2 + u) <= 1/3
 * (truncation 2e-18).  Relative error below 1e-15. */
ACTFIT_HD double actfit_elem_log1p(double u)
{
  const double c[] = {ACTFIT_LOG1P_ATANH};
  double s = u / (2.0 + u), s2 = s * s, r = c[0];
  for (int i = 1; i < (int)(sizeof c / sizeof c[0]); i++)
    r = r * s2 + c[i];
  return s * r;
}

/* Forward y = f(x) for the built-ins (PyTorch definitions), computed in double from the
 * functions above and rounded once to float: every backend gets the same bits, and the
 * tests find them correctly rounded.  f(+-inf) is the limit. */
ACTFIT_HD double actfit_elem_sigmoid(double x)
{
  if (x >= 0)
    return 1.0 / (1.0 + actfit_elem_exp(-x));
  double e = actfit_elem_exp(x);
  return e / (1.0 + e);
}

ACTFIT_HD double actfit_elem_softplus1(double x)
{
  return x > 0 ? x + actfit_elem_log1p(actfit_elem_exp(-x)) : actfit_elem_log1p(actfit_elem_exp(x));
}

ACTFIT_HD float actfit_elem_f(int act, const float *pf, float xf)
{
  double x = xf, y, p0 = pf[0], p1 = pf[1];
  if (x != x)
    return xf;
  switch (act) {
  case ACTFIT_A_GELU: {
    /* beyond AMAX: erfc(-a) = 2 to double precision, or |y| < 1e-48 (-0 as float) */
    double a = -x * 0.70710678118654752440;
    y = a > ACTFIT_ERFC_AMAX ? -0.0 : a < -ACTFIT_ERFC_AMAX ? x : 0.5 * x * actfit_elem_erfc(a);
    break;
  }
  case ACTFIT_A_GELU_TANH:
    y = isinf(x) ? (x > 0 ? x : 0.0)
                 : x * actfit_elem_sigmoid(2.0 * 0.79788456080286535588 * (x + 0.044715 * x * x * x));
    break;
  case ACTFIT_A_SILU: y = isinf(x) ? (x > 0 ? x : 0.0) : x * actfit_elem_sigmoid(x); break;
  case ACTFIT_A_MISH: y = isinf(x) ? (x > 0 ? x : 0.0) : actfit_elem_mish(x); break;
  case ACTFIT_A_SOFTPLUS: y = p0 * x > p1 ? x : actfit_elem_softplus1(p0 * x) / p0; break;
  case ACTFIT_A_ELU: y = x > 0 ? x : p0 * actfit_elem_expm1(x); break;
  case ACTFIT_A_CELU: y = x > 0 ? x : p0 * actfit_elem_expm1(x / p0); break;
  case ACTFIT_A_SELU:
    y = 1.0507009873554804934 * (x > 0 ? x : 1.6732632423543772848 * actfit_elem_expm1(x));
    break;
  case ACTFIT_A_SIGMOID: y = actfit_elem_sigmoid(x); break;
  case ACTFIT_A_TANH: y = actfit_elem_tanh(x); break;
  case ACTFIT_A_LOGSIGMOID: y = -actfit_elem_softplus1(-x); break;
  case ACTFIT_A_SOFTSIGN: y = isinf(x) ? (x > 0 ? 1.0 : -1.0) : x / (1.0 + fabs(x)); break;
  case ACTFIT_A_TANHSHRINK: y = isinf(x) ? x : actfit_elem_tanhshrink(x); break;
  case ACTFIT_A_HARDSWISH: y = x < -3 ? 0.0 : x > 3 ? x : x * (x + 3) / 6; break;
  case ACTFIT_A_HARDSIGMOID: y = x <= -3 ? 0.0 : x >= 3 ? 1.0 : x / 6 + 0.5; break;
  case ACTFIT_A_HARDTANH: y = x < p0 ? p0 : x > p1 ? p1 : x; break;
  case ACTFIT_A_RELU: y = x > 0 ? x : 0.0; break;
  case ACTFIT_A_RELU6: y = x < 0 ? 0.0 : x > 6 ? 6.0 : x; break;
  case ACTFIT_A_LEAKY_RELU: y = x > 0 ? x : p0 * x; break;
  case ACTFIT_A_HARDSHRINK: y = (x > p0 || x < -p0) ? x : 0.0; break;
  case ACTFIT_A_SOFTSHRINK: y = x > p0 ? x - p0 : x < -p0 ? x + p0 : 0.0; break;
  default: y = NAN; break;
  }
  return (float)y;
}

/* code(x): number of borders <= x (|x| for even parity); NaN gives 0. */
ACTFIT_HD int actfit_elem_code(const actfit_rt_fewbit *t, float x)
{
  if (t->parity_even)
    x = fabsf(x);
  int lo = 0, hi = (1 << t->bits) - 1;
  while (lo < hi) {
    int mid = (lo + hi) >> 1;
    if (t->borders[mid] <= x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
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

/* g(y) for the exact forms; s is the branch bit (hardswish only). */
ACTFIT_HD float actfit_elem_exact(const actfit_rt_invact *t, float y, int s)
{
  const float *p = t->params;
  switch (t->exact) {
  case ACTFIT_EXACT_SIGMOID: return y * (1.0f - y);
  case ACTFIT_EXACT_TANH: return (1.0f - y) * (1.0f + y);
  case ACTFIT_EXACT_SOFTPLUS: /* 1 - e^(-beta y), in double */
    return p[0] * y > p[1] ? 1.0f : (float)-actfit_elem_expm1(-(double)p[0] * (double)y);
  case ACTFIT_EXACT_ELU: return y > 0 ? 1.0f : y + p[0];
  case ACTFIT_EXACT_CELU: return y > 0 ? 1.0f : y / p[0] + 1.0f;
  case ACTFIT_EXACT_SELU:
    return y > 0 ? 1.0507009873554805f : y + 1.0507009873554805f * 1.6732632423543772f;
  case ACTFIT_EXACT_SOFTSIGN: {
    float a = 1.0f - fabsf(y);
    return a * a;
  }
  case ACTFIT_EXACT_LOGSIGMOID: return (float)-actfit_elem_expm1((double)y); /* 1 - e^y */
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
ACTFIT_HD float actfit_elem_invact(const actfit_rt_invact *t, float y, int s)
{
  if (y != y) /* NaN in, NaN out */
    return y;
  if (t->exact != ACTFIT_EXACT_NONE)
    return actfit_elem_exact(t, y, s);
  /* rounding can put a stored y below y_min: clamp, so nothing becomes NaN */
  float d = (y - t->ymin_hi) - t->ymin_lo;
  float tt = sqrtf(d > 0.0f ? d : 0.0f);
  const actfit_rt_branch *b = &t->br[t->nbranch == 2 ? (s ? 0 : 1) : 0];
  return actfit_elem_branch(b, y, tt);
}

#endif
