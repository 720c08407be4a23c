/* Built-in activations with PyTorch's definitions and defaults (torch.nn.functional).
 * Stable forms: erfc for GELU's left tail, log1p/expm1 for softplus/ELU, sech^2 from
 * exp(-2|x|) instead of 1 - tanh^2, a Taylor series for x - tanh(x) near 0. */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include "actfit/act.h"

#define SQRT1_2   0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794
#define SQRT_2_PI 0.79788456080286535588 /* sqrt(2/pi) */

/* sigma(x) and 1 - sigma(x) = sigma(-x), both without cancellation. */
static void sigm(double x, double *s, double *sc)
{
  if (x >= 0) {
    double e = exp(-x);
    *s = 1.0 / (1.0 + e);
    *sc = e / (1.0 + e);
  } else {
    double e = exp(x);
    *s = e / (1.0 + e);
    *sc = 1.0 / (1.0 + e);
  }
}

/* log(1 + e^x) */
static double softplus1(double x)
{
  return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* sech^2(x) = 1 - tanh^2(x), from u = exp(-2|x|). */
static double sech2(double x)
{
  double u = exp(-2.0 * fabs(x));
  return 4.0 * u / ((1.0 + u) * (1.0 + u));
}

/* exact product a*b = p + e (Dekker; no FMA needed) */
static void two_prod(double a, double b, double *p, double *e)
{
  double t = 134217729.0 * a, ah = t - (t - a), al = a - ah;
  t = 134217729.0 * b;
  double bh = t - (t - b), bl = b - bh;
  *p = a * b;
  *e = ((ah * bh - *p) + ah * bl + al * bh) + al * bl;
}

/* Phi(x) and phi(x) with the rounding of x/sqrt(2) and x^2 compensated to first order:
 * erfc'(z)/erfc(z) ~ -2z and the error of x^2 is amplified by x^2/2 in exp, so both would
 * lose ~log2(x^2) bits in the tails otherwise. */
#define SQRT1_2_LO (-4.8336466567264567e-17) /* 1/sqrt(2) - SQRT1_2 */
static void gauss_parts(double x, double *Phi, double *phi)
{
  double z, ze;
  two_prod(-x, SQRT1_2, &z, &ze);
  ze += -x * SQRT1_2_LO;
  double ec = erfc(z);
  /* erfc(z + ze) = erfc(z) (1 - (2/sqrt(pi)) e^(-z^2) ze / erfc(z)) to first order */
  double dz = ec > 0 ? -1.1283791670955126 * exp(-z * z) * ze / ec : 0.0;
  *Phi = 0.5 * ec * (1.0 + dz);
  double s, se;
  two_prod(x, x, &s, &se);
  *phi = INV_SQRT_2PI * exp(-0.5 * s) * (1.0 - 0.5 * se);
}

static void ev_gelu(const double *p, double x, double o[3])
{
  (void)p;
  double Phi, phi;
  gauss_parts(x, &Phi, &phi);
  o[0] = x * Phi;
  o[1] = Phi + x * phi;
  o[2] = phi * (2.0 - x * x);
}

/* 0.5 x (1 + tanh u) = x sigma(2u), u = sqrt(2/pi)(x + 0.044715 x^3). */
static void ev_gelu_tanh(const double *p, double x, double o[3])
{
  (void)p;
  const double c = 0.044715;
  double u = SQRT_2_PI * (x + c * x * x * x);
  double du = SQRT_2_PI * (1.0 + 3.0 * c * x * x);
  double d2u = SQRT_2_PI * 6.0 * c * x;
  double s, sc;
  sigm(2.0 * u, &s, &sc);
  double ss = s * sc;                      /* sigma' at 2u */
  double s1 = 2.0 * du * ss;               /* d/dx sigma(2u) */
  double s2 = 2.0 * d2u * ss + 4.0 * du * du * ss * (sc - s);
  o[0] = x * s;
  o[1] = s + x * s1;
  o[2] = 2.0 * s1 + x * s2;
}

static void ev_silu(const double *p, double x, double o[3])
{
  (void)p;
  double s, sc;
  sigm(x, &s, &sc);
  o[0] = x * s;
  o[1] = s * (1.0 + x * sc);
  o[2] = s * sc * (2.0 + x * (sc - s));
}

static void ev_mish(const double *p, double x, double o[3])
{
  (void)p;
  double sp = softplus1(x);
  double t = tanh(sp);
  double u = exp(-2.0 * sp);
  double sh2 = 4.0 * u / ((1.0 + u) * (1.0 + u)); /* 1 - t^2 */
  double s, sc;
  sigm(x, &s, &sc);
  o[0] = x * t;
  o[1] = t + x * sh2 * s;
  o[2] = sh2 * s * (2.0 + x * (sc - 2.0 * t * s));
}

static void ev_softplus(const double *p, double x, double o[3])
{
  double beta = p[0], thr = p[1];
  double bx = beta * x;
  if (bx > thr) {
    o[0] = x; o[1] = 1.0; o[2] = 0.0;
    return;
  }
  double s, sc;
  sigm(bx, &s, &sc);
  o[0] = softplus1(bx) / beta;
  o[1] = s;
  o[2] = beta * s * sc;
}

static void ev_elu(const double *p, double x, double o[3])
{
  double a = p[0];
  if (x > 0) { o[0] = x; o[1] = 1.0; o[2] = 0.0; return; }
  double e = exp(x);
  o[0] = a * expm1(x); o[1] = a * e; o[2] = a * e;
}

static void ev_celu(const double *p, double x, double o[3])
{
  double a = p[0];
  if (x > 0) { o[0] = x; o[1] = 1.0; o[2] = 0.0; return; }
  double e = exp(x / a);
  o[0] = a * expm1(x / a); o[1] = e; o[2] = e / a;
}

#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
static void ev_selu(const double *p, double x, double o[3])
{
  (void)p;
  if (x > 0) { o[0] = SELU_SCALE * x; o[1] = SELU_SCALE; o[2] = 0.0; return; }
  double e = exp(x);
  o[0] = SELU_SCALE * SELU_ALPHA * expm1(x);
  o[1] = SELU_SCALE * SELU_ALPHA * e;
  o[2] = o[1];
}

static void ev_sigmoid(const double *p, double x, double o[3])
{
  (void)p;
  double s, sc;
  sigm(x, &s, &sc);
  o[0] = s;
  o[1] = s * sc;
  o[2] = s * sc * (sc - s);
}

static void ev_tanh(const double *p, double x, double o[3])
{
  (void)p;
  double t = tanh(x), h = sech2(x);
  o[0] = t; o[1] = h; o[2] = -2.0 * t * h;
}

static void ev_logsigmoid(const double *p, double x, double o[3])
{
  (void)p;
  double s, sc;
  sigm(x, &s, &sc);
  o[0] = -softplus1(-x);
  o[1] = sc;
  o[2] = -s * sc;
}

static void ev_softsign(const double *p, double x, double o[3])
{
  (void)p;
  double d = 1.0 + fabs(x);
  o[0] = x / d;
  o[1] = 1.0 / (d * d);
  o[2] = (x > 0 ? -2.0 : x < 0 ? 2.0 : 0.0) / (d * d * d);
}

/* x - tanh(x) = sum_n c_n x^(2n+1), n >= 1; 20 terms reach 1e-19 relative for |x| < 0.5. */
static const double tanhshrink_c[] = {
  0.33333333333333331, -0.13333333333333333, 0.053968253968253971, -0.021869488536155203,
  0.0088632355299021973, -0.0035921280365724811, 0.0014558343870513183,
  -0.00059002744094558595, 0.00023912911424355248, -9.6915379569294509e-05,
  3.9278323883316833e-05, -1.5918905069328964e-05, 6.4516892156554306e-06,
  -2.6147711512907546e-06, 1.0597268320104654e-06, -4.2949110782738057e-07,
  1.7406618963571648e-07, -7.0546369464009681e-08, 2.859136662305254e-08,
  -1.1587644432798853e-08};

static void ev_tanhshrink(const double *p, double x, double o[3])
{
  (void)p;
  double t = tanh(x), h = sech2(x);
  if (fabs(x) < 0.5) {
    double x2 = x * x, acc = 0.0;
    for (int i = (int)(sizeof tanhshrink_c / sizeof *tanhshrink_c) - 1; i >= 0; i--)
      acc = acc * x2 + tanhshrink_c[i];
    o[0] = acc * x2 * x;
  } else {
    o[0] = x - t;
  }
  o[1] = t * t;
  o[2] = 2.0 * t * h;
}

/* PyTorch's hardswish backward: 0 for x < -3, x/3 + 1/2 for -3 <= x <= 3, 1 above. */
static void ev_hardswish(const double *p, double x, double o[3])
{
  (void)p;
  if (x < -3.0) { o[0] = 0.0; o[1] = 0.0; o[2] = 0.0; }
  else if (x <= 3.0) { o[0] = x * (x + 3.0) / 6.0; o[1] = x / 3.0 + 0.5; o[2] = 1.0 / 3.0; }
  else { o[0] = x; o[1] = 1.0; o[2] = 0.0; }
}

static void ev_hardsigmoid(const double *p, double x, double o[3])
{
  (void)p;
  if (x <= -3.0) { o[0] = 0.0; o[1] = 0.0; }
  else if (x >= 3.0) { o[0] = 1.0; o[1] = 0.0; }
  else { o[0] = x / 6.0 + 0.5; o[1] = 1.0 / 6.0; }
  o[2] = 0.0;
}

static void ev_hardtanh(const double *p, double x, double o[3])
{
  double lo = p[0], hi = p[1];
  if (x <= lo) { o[0] = lo; o[1] = 0.0; }
  else if (x >= hi) { o[0] = hi; o[1] = 0.0; }
  else { o[0] = x; o[1] = 1.0; }
  o[2] = 0.0;
}

static void ev_relu(const double *p, double x, double o[3])
{
  (void)p;
  o[0] = x > 0 ? x : 0.0; o[1] = x > 0 ? 1.0 : 0.0; o[2] = 0.0;
}

static void ev_relu6(const double *p, double x, double o[3])
{
  (void)p;
  if (x <= 0) { o[0] = 0.0; o[1] = 0.0; }
  else if (x >= 6.0) { o[0] = 6.0; o[1] = 0.0; }
  else { o[0] = x; o[1] = 1.0; }
  o[2] = 0.0;
}

static void ev_leaky_relu(const double *p, double x, double o[3])
{
  o[0] = x > 0 ? x : p[0] * x; o[1] = x > 0 ? 1.0 : p[0]; o[2] = 0.0;
}

static void ev_hardshrink(const double *p, double x, double o[3])
{
  int out = x > p[0] || x < -p[0];
  o[0] = out ? x : 0.0; o[1] = out ? 1.0 : 0.0; o[2] = 0.0;
}

static void ev_softshrink(const double *p, double x, double o[3])
{
  double l = p[0];
  if (x > l) { o[0] = x - l; o[1] = 1.0; }
  else if (x < -l) { o[0] = x + l; o[1] = 1.0; }
  else { o[0] = 0.0; o[1] = 0.0; }
  o[2] = 0.0;
}

/* kink lists */
static int k_none(const double *p, double *at, int *j) { (void)p; (void)at; (void)j; return 0; }
static int k_zero_jump(const double *p, double *at, int *j)
{ (void)p; at[0] = 0.0; j[0] = 1; return 1; }
static int k_elu(const double *p, double *at, int *j)
{ at[0] = 0.0; j[0] = p[0] != 1.0; return 1; }
static int k_celu(const double *p, double *at, int *j)
{ (void)p; at[0] = 0.0; j[0] = 0; return 1; }
static int k_softplus(const double *p, double *at, int *j)
{ at[0] = p[1] / p[0]; j[0] = 1; return 1; }
static int k_pm3(const double *p, double *at, int *j)
{ (void)p; at[0] = -3.0; at[1] = 3.0; j[0] = j[1] = 1; return 2; }
static int k_hardtanh(const double *p, double *at, int *j)
{ at[0] = p[0]; at[1] = p[1]; j[0] = j[1] = 1; return 2; }
static int k_relu6(const double *p, double *at, int *j)
{ (void)p; at[0] = 0.0; at[1] = 6.0; j[0] = j[1] = 1; return 2; }
static int k_leaky(const double *p, double *at, int *j)
{ at[0] = 0.0; j[0] = p[0] != 1.0; return 1; }
static int k_shrink(const double *p, double *at, int *j)
{
  if (p[0] == 0.0) { at[0] = 0.0; j[0] = 0; return 1; }
  at[0] = -p[0]; at[1] = p[0]; j[0] = j[1] = 1; return 2;
}

/* parameter checks: index of the bad parameter or -1 */
static int c_nonzero(const double *p) { return p[0] != 0.0 ? -1 : 0; }
static int c_softplus(const double *p) { return p[0] > 0.0 ? -1 : 0; }
static int c_hardtanh(const double *p) { return p[0] < p[1] ? -1 : 1; }
static int c_nonneg(const double *p) { return p[0] >= 0.0 ? -1 : 0; }

/* in the order of include/actfit/act_list.h (the count is checked below, the names by
 * tests/test_act.c) */
const actfit_act_type actfit_act_types[] = {
  {"gelu", "x * Phi(x), exact (erf) form", 0, {0}, {0}, ev_gelu, k_none, NULL},
  {"gelu_tanh", "GELU, tanh approximation (approximate='tanh')", 0, {0}, {0}, ev_gelu_tanh,
   k_none, NULL},
  {"silu", "x * sigmoid(x) (swish)", 0, {0}, {0}, ev_silu, k_none, NULL},
  {"mish", "x * tanh(softplus(x))", 0, {0}, {0}, ev_mish, k_none, NULL},
  {"softplus", "log(1 + exp(beta x)) / beta; x where beta x > threshold", 2,
   {"beta", "threshold"}, {1.0, 20.0}, ev_softplus, k_softplus, c_softplus},
  {"elu", "x > 0 ? x : alpha (exp(x) - 1)", 1, {"alpha"}, {1.0}, ev_elu, k_elu, NULL},
  {"celu", "max(0,x) + min(0, alpha (exp(x/alpha) - 1))", 1, {"alpha"}, {1.0}, ev_celu,
   k_celu, c_nonzero},
  {"selu", "scale * elu(x, alpha), fixed alpha and scale", 0, {0}, {0}, ev_selu, k_zero_jump,
   NULL},
  {"sigmoid", "1 / (1 + exp(-x))", 0, {0}, {0}, ev_sigmoid, k_none, NULL},
  {"tanh", "tanh(x)", 0, {0}, {0}, ev_tanh, k_none, NULL},
  {"logsigmoid", "log(sigmoid(x))", 0, {0}, {0}, ev_logsigmoid, k_none, NULL},
  {"softsign", "x / (1 + |x|)", 0, {0}, {0}, ev_softsign, k_celu, NULL},
  {"tanhshrink", "x - tanh(x)", 0, {0}, {0}, ev_tanhshrink, k_none, NULL},
  {"hardswish", "x * relu6(x + 3) / 6", 0, {0}, {0}, ev_hardswish, k_pm3, NULL},
  {"hardsigmoid", "relu6(x + 3) / 6", 0, {0}, {0}, ev_hardsigmoid, k_pm3, NULL},
  {"hardtanh", "clamp(x, min_val, max_val)", 2, {"min_val", "max_val"}, {-1.0, 1.0},
   ev_hardtanh, k_hardtanh, c_hardtanh},
  {"relu", "max(0, x)", 0, {0}, {0}, ev_relu, k_zero_jump, NULL},
  {"relu6", "min(max(0, x), 6)", 0, {0}, {0}, ev_relu6, k_relu6, NULL},
  {"leaky_relu", "x > 0 ? x : negative_slope x", 1, {"negative_slope"}, {0.01},
   ev_leaky_relu, k_leaky, NULL},
  {"hardshrink", "|x| > lambd ? x : 0", 1, {"lambd"}, {0.5}, ev_hardshrink, k_shrink,
   c_nonneg},
  {"softshrink", "x - lambd, x + lambd or 0", 1, {"lambd"}, {0.5}, ev_softshrink, k_shrink,
   c_nonneg},
  {0}};
_Static_assert(sizeof actfit_act_types / sizeof *actfit_act_types == ACTFIT_A_COUNT + 1,
               "actfit_act_types must hold one row per ACTFIT_ACT_LIST entry, in its order");

const actfit_act_type *actfit_act_type_find(const char *name)
{
  for (const actfit_act_type *t = actfit_act_types; name && t->name; t++)
    if (strcmp(t->name, name) == 0)
      return t;
  return NULL;
}
