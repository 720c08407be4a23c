/* The forward in double precision: the reference for tools/ulp_sweep.c and the runtime tests
 * (the runtime computes f in float, kernels/elem.h).  exp, erfc, expm1, tanh and log1p from
 * basic operations with the constants of kernels/elem_coeffs.h; f(x) as double is accurate to
 * about 1e-14 relative, so it measures the float result's error in ulp to 1e-6 ulp. */
#ifndef ACTFIT_ELEM_REF_H
#define ACTFIT_ELEM_REF_H

#include "elem.h"

/* ---- exp and erfc in double from basic operations only (no fma, no libm), so that the
 * CPU, its AVX2 loops (src/runtime/cpu_avx2.c repeats these steps lane by lane) and the GPU
 * (built with -fmad=false) compute the same bits.  Constants: kernels/elem_coeffs.h,
 * written by tools/gen_elem.c. ------------------------------------------------------------ */

#define ACTFIT_LOG2E 0x1.71547652b82fep+0
#define ACTFIT_LN2_HI 0x1.62e42fee00000p-1 /* 32 bits: k * LN2_HI is exact for |k| < 2^21 */
#define ACTFIT_LN2_LO 0x1.a39ef35793c76p-33
#define ACTFIT_ROUND_MAGIC 0x1.8p+52     /* x + M - M rounds x to an integer (|x| < 2^51) */

static inline uint64_t actfit_f64_bits(double d)
{
  uint64_t u;
  memcpy(&u, &d, 8);
  return u;
}

static inline double actfit_bits_f64(uint64_t u)
{
  double d;
  memcpy(&d, &u, 8);
  return d;
}

/* exp(x) for x not NaN: x = k ln2 + r, |r| <= ln2/2, Taylor to r^13 (truncation 2e-16),
 * times 2^k as two exact powers of two (so subnormal results round once).  Relative error
 * below 4e-16; exp(x < -746) = 0, exp(x > 710) = inf. */
static inline double actfit_elem_exp(double x)
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
static inline double actfit_elem_erfc(double a)
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
static inline double actfit_elem_expm1(double x)
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
static inline double actfit_elem_tanh(double x)
{
  double a = fabs(x);
  if (a > 20.0)
    return x > 0 ? 1.0 : -1.0;
  double m = actfit_elem_expm1(-2.0 * a), t = -m / (2.0 + m);
  return x < 0 ? -t : t;
}

/* x - tanh(x): the series x^3 r(x^2) below |x| = 1/4 (no cancellation), else the
 * difference (at most ~6 bits of cancellation at 1/4) */
static inline double actfit_elem_tanhshrink(double x)
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
static inline double actfit_elem_mish(double x)
{
  if (x > 20.0)
    return x;
  double e = actfit_elem_exp(x), n = e * (e + 2.0);
  return x * (n / (n + 2.0));
}

/* log1p(u) for 0 <= u <= 1: 2 atanh(s) = 2 (s + s^3/3 + ...), s = u / (2 + u) <= 1/3
 * (truncation 2e-18).  Relative error below 1e-15. */
static inline double actfit_elem_log1p(double u)
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
static inline double actfit_elem_sigmoid(double x)
{
  if (x >= 0)
    return 1.0 / (1.0 + actfit_elem_exp(-x));
  double e = actfit_elem_exp(x);
  return e / (1.0 + e);
}

static inline double actfit_elem_softplus1(double x)
{
  return x > 0 ? x + actfit_elem_log1p(actfit_elem_exp(-x)) : actfit_elem_log1p(actfit_elem_exp(x));
}

static inline double actfit_ref_f(int act, const float *pf, float xf)
{
  double x = xf, y, p0 = pf[0], p1 = pf[1];
  if (x != x)
    return x;
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
  return y;
}


#endif
