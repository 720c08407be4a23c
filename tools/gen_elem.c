/* gen_elem: writes kernels/elem_coeffs.h, the constants of the element math.
 *
 * The runtime's float forward (kernels/elem.h): Taylor coefficients of e^r - 1, ln 2 and the
 * other constants as float pairs hi + lo, the series of x - tanh x, and GELU's scaled tail
 *
 *   M(z) = Q(z) e^(z^2/2),  Q(z) = Phi(-z),  z in [0, 15),
 *
 * in 32 pieces (the exponent and top 3 mantissa bits of z + 1: widths 1/8 on [0, 1), 1/4,
 * 1/2, 1 on [7, 15)), each a polynomial of degree M_DEG in s = z - c (c the piece's middle)
 * fitted by weighted least squares (GSL) at Chebyshev nodes, its relative error with the
 * coefficients as stored (c0 and c1 as float pairs) printed in the header; GELU-tanh's
 * M(z) = sigmoid(u(z)) on the same pieces; and on the pieces of z + 2 (z in [0, 30): widths
 * 1/4 on [0, 2), 1/2, 1, 2 on [14, 30)) SiLU's M(z) = sigmoid(z) and softplus's
 * M(z) = e^z log1p(e^-z).
 *
 * The double-precision reference (tools/elem_ref.h, for the tests and tools/ulp_sweep):
 *
 *   erfc(a) = t exp(-a^2 + P(t)),  t = 2 / (2 + a),  a in [0, 10.8] (t in [5/32, 1])
 *
 * P(t) = log(erfc(a) / t) + a^2 is smooth in t; its Chebyshev series on [5/32, 1]
 * (gsl_cheb_init, the function sampled in long double) is truncated at degree 22.
 * exp uses 1/k!, k = 0..13, and expm1 1/k!, k = 1..14, rounded to double; x - tanh x
 * uses the Taylor series of tanh (from T' = 1 - T^2 in long double) for |x| < 1/4; log1p
 * on [0, 1] the series of 2 atanh(s).  Usage: gen_elem [OUT] (default stdout). */
#include <gsl/gsl_chebyshev.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ORDER 22
#define TLO 0.15625
#define TANH_TERMS 12   /* x - tanh x for |x| < TANH_SMALL: the terms x^3 .. x^25 */
#define TANH_SMALL 0.25
#define LOG1P_TERMS 17  /* s^1 .. s^33: truncation below 2e-18 for s <= 1/3 (u <= 1) */

static double p_of_t(double t, void *unused)
{
  (void)unused;
  long double a = 2.0L / t - 2.0L;
  return (double)(logl(erfcl(a) / (long double)t) + a * a);
}


/* ---- the float forward (elem.h): constants as float, or as pairs hi + lo ------------- */
#define M_DEG 5       /* GELU: M(z) = Q(z) e^(z^2/2), a polynomial of this degree per piece */
#define M_PIECES 32
#define M_NODES 64

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static void pair(FILE *f, const char *name, long double v)
{
  float h = (float)v, l = (float)(v - (long double)h);
  fprintf(f, "#define %s_H %af\n#define %s_L %af\n", name, (double)h, name, (double)l);
}

static void list(FILE *f, const char *name, const double *v, int n)
{
  fprintf(f, "#define %s", name);
  for (int i = 0; i < n; i++)
    fprintf(f, "%s \\\n  %af", i ? "," : "", (double)(float)v[i]);
  fprintf(f, "\n");
}

static long double gelu_m(long double z)
{
  return 0.5L * erfcl(z / sqrtl(2.0L)) * expl(0.5L * z * z);
}

/* GELU-tanh: y = x sigmoid(u(x)), u(x) = C (x + B x^3) with the double constants */
#define GT_C ((long double)(2.0 * 0.79788456080286535588))
#define GT_B ((long double)0.044715)

/* GELU-tanh's M(z) = Q(z) e^(u(z)) = sigmoid(u(z)), Q(z) = sigmoid(-u(z)) */
static long double gelu_tanh_m(long double z)
{
  return 1.0L / (1.0L + expl(-GT_C * (z + GT_B * z * z * z)));
}

/* SiLU's M(z) = Q(z) e^z = sigmoid(z), Q(z) = sigmoid(-z) */
static long double silu_m(long double z)
{
  return 1.0L / (1.0L + expl(-z));
}

/* softplus's M(z) = e^z log1p(e^-z) */
static long double softplus_m(long double z)
{
  long double w = expl(-z);
  return log1pl(w) / w;
}

/* Mish, x tanh(softplus(x)), with u = e^-z: x >= 0, z = x: 1 - tanh(softplus(z)) =
 * e^(-2z) M(z), M = 2 / (1 + 2u + 2u^2); x < 0, z = -x: tanh(softplus(-z)) = e^-z M(z),
 * M = (2 + u) / (2 + 2u + u^2) */
static long double mish_pos_m(long double z)
{
  long double u = expl(-z);
  return 2.0L / (1.0L + 2.0L * u + 2.0L * u * u);
}

static long double mish_neg_m(long double z)
{
  long double u = expl(-z);
  return (2.0L + u) / (2.0L + 2.0L * u + u * u);
}

/* piece j of M: z + off in [2^e off (1 + i/8), 2^e off (1 + (i+1)/8)), e = j / 8, i = j % 8 */
static void m_piece(int j, double off, double *a, double *b)
{
  *a = ldexp(off * (1.0 + (j % 8) / 8.0), j / 8) - off;
  *b = ldexp(off * (1.0 + (j % 8 + 1) / 8.0), j / 8) - off;
}

/* M, piece by piece (pieces of z + off, off = 1 or 2): row 0 the middles c, rows 1-4 c0 and
 * c1 as pairs (hi, lo, hi, lo), rows 5.. c2 .. c_M_DEG.  The fit covers the piece widened by
 * 2^-20 on each side (the index comes from z + off rounded to float, which can land in the
 * next piece).  Weighted least squares (weight 1 / M^2: relative error) at Chebyshev nodes,
 * monomial basis. */
static int fit_m(long double (*mf)(long double), double off, float tab[][M_PIECES], double *worst)
{
  gsl_matrix *X = gsl_matrix_alloc(M_NODES, M_DEG + 1), *cov = gsl_matrix_alloc(M_DEG + 1, M_DEG + 1);
  gsl_vector *y = gsl_vector_alloc(M_NODES), *w = gsl_vector_alloc(M_NODES), *c = gsl_vector_alloc(M_DEG + 1);
  gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(M_NODES, M_DEG + 1);
  int ok = X && cov && y && w && c && ws;
  *worst = 0;
  for (int j = 0; ok && j < M_PIECES; j++) {
    double a, b, chisq;
    m_piece(j, off, &a, &b);
    float mid = (float)(0.5 * (a + b));
    double lo = a - 0x1p-20, hi = b + 0x1p-20;
    for (int i = 0; i < M_NODES; i++) {
      double z = 0.5 * (lo + hi) + 0.5 * (hi - lo) * cos(M_PI * (i + 0.5) / M_NODES), s = z - mid, p = 1;
      long double m = mf(z);
      for (int k = 0; k <= M_DEG; k++, p *= s)
        gsl_matrix_set(X, i, k, p);
      gsl_vector_set(y, i, (double)m);
      gsl_vector_set(w, i, (double)(1.0L / (m * m)));
    }
    ok = gsl_multifit_wlinear(X, w, y, c, cov, &chisq, ws) == GSL_SUCCESS;
    long double c0 = gsl_vector_get(c, 0), c1 = gsl_vector_get(c, 1);
    tab[0][j] = mid;
    tab[1][j] = (float)c0;
    tab[2][j] = (float)(c0 - tab[1][j]);
    tab[3][j] = (float)c1;
    tab[4][j] = (float)(c1 - tab[3][j]);
    for (int k = 2; k <= M_DEG; k++)
      tab[3 + k][j] = (float)gsl_vector_get(c, k);
    for (int i = 0; ok && i <= 4000; i++) { /* the stored coefficients, densely, exactly */
      double z = lo + (hi - lo) * i / 4000.0;
      long double s = (long double)z - mid, v = 0;
      for (int k = M_DEG; k >= 2; k--)
        v = v * s + tab[3 + k][j];
      v = v * s + ((long double)tab[3][j] + tab[4][j]);
      v = v * s + ((long double)tab[1][j] + tab[2][j]);
      double e = (double)fabsl(v / mf(z) - 1.0L);
      *worst = e > *worst ? e : *worst;
    }
  }
  gsl_multifit_linear_free(ws);
  gsl_matrix_free(X); gsl_matrix_free(cov);
  gsl_vector_free(y); gsl_vector_free(w); gsl_vector_free(c);
  return ok;
}

/* ---- the direct path: g(x) = f(x) / x on pieces of x itself ------------------------------
 * 31 pieces of width h centred on k h, k = -15 .. 15 (|x| below 15.5 h), piece k in column
 * k & 31 (the low bits of x + 1.5 2^(23 + log2 h), the sum that rounds x / h); each a
 * polynomial of degree deg in s = x - k h, fitted by weighted least squares (relative error)
 * at Chebyshev nodes on the closed piece.  Rows: c0 hi, c0 lo, c1 hi, c1 lo, c2 .. c_deg,
 * zeros up to D_ROWS; column 16 is no piece (zeros), but for GELU's positive tail (fit_tail). */
#define D_ROWS 10
#define D_NODES 64

static long double gelu_g(long double x) { return 0.5L * erfcl(-x / sqrtl(2.0L)); }
static long double gelu_tanh_g(long double x) { return 1.0L / (1.0L + expl(-GT_C * (x + GT_B * x * x * x))); }
static long double silu_g(long double x) { return 1.0L / (1.0L + expl(-x)); }
static long double mish_g(long double x) { return tanhl(log1pl(expl(x))); }

/* a direct piece into column j: c0 and c1 as float pairs, c2 .. c_deg (cq[2 ..]) as floats */
static void put_piece(float tab[][M_PIECES], int j, long double c0, long double c1, const double *cq,
                      int deg)
{
  tab[0][j] = (float)c0;
  tab[1][j] = (float)(c0 - tab[0][j]);
  tab[2][j] = (float)c1;
  tab[3][j] = (float)(c1 - tab[2][j]);
  for (int q = 2; q <= deg; q++)
    tab[2 + q][j] = (float)cq[q];
}

/* g of column j's piece at s, from the coefficients as stored, exactly (long double) */
static long double piece_g(float tab[][M_PIECES], int j, int deg, long double s)
{
  long double v = 0;
  for (int q = deg; q >= 2; q--)
    v = v * s + tab[2 + q][j];
  v = v * s + ((long double)tab[2][j] + tab[3][j]);
  return v * s + ((long double)tab[0][j] + tab[1][j]);
}

/* g(0) and g'(0) for the piece at 0, taken exactly (see fit_direct) */
static int fit_direct(long double (*g)(long double), long double g0, long double g1, double h, int deg,
                      float tab[][M_PIECES], double *worst, double *slope)
{
  gsl_matrix *X = gsl_matrix_alloc(D_NODES, deg + 1), *cov = gsl_matrix_alloc(deg + 1, deg + 1);
  gsl_vector *y = gsl_vector_alloc(D_NODES), *w = gsl_vector_alloc(D_NODES), *c = gsl_vector_alloc(deg + 1);
  gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(D_NODES, deg + 1);
  int ok = X && cov && y && w && c && ws && deg + 3 <= D_ROWS;
  memset(tab, 0, sizeof(float) * D_ROWS * M_PIECES);
  *worst = 0;
  *slope = 0;
  for (int k = -15; ok && k <= 15; k++) {
    double mid = k * h, chisq;
    int j = k & 31;
    /* k = 0: c0 and c1 are g(0) and g'(0) themselves, and the fit is of (g - c0 - c1 s) / s^2
     * (weighted by s^4 / g^2): near 0, y = x (c0 + c1 x) + O(x^3) is then rounded once from
     * its exact leading terms, as a correctly rounded y is (else an error of 2^-30 in c0 would
     * put y on the wrong side of a midpoint there, 0.501 ulp where torch's x / 2 has 0.5) */
    int k0 = k == 0, o = k0 ? 2 : 0;
    for (int i = 0; i < D_NODES; i++) {
      double s = 0.5 * h * cos(M_PI * (i + 0.5) / D_NODES), p = 1;
      long double m = g((long double)mid + s), r = k0 ? (m - g0 - g1 * s) / ((long double)s * s) : m;
      for (int q = o; q <= deg; q++, p *= s)
        gsl_matrix_set(X, i, q - o, p);
      gsl_vector_set(y, i, (double)r);
      gsl_vector_set(w, i, (double)(k0 ? (long double)s * s * s * s / (m * m) : 1.0L / (m * m)));
    }
    size_t np = (size_t)(deg + 1 - o);
    gsl_matrix_view Xv = gsl_matrix_submatrix(X, 0, 0, D_NODES, np), Cv = gsl_matrix_submatrix(cov, 0, 0, np, np);
    gsl_vector_view cv = gsl_vector_subvector(c, 0, np);
    gsl_multifit_linear_workspace *wk = k0 ? gsl_multifit_linear_alloc(D_NODES, np) : ws;
    ok = wk && gsl_multifit_wlinear(&Xv.matrix, w, y, &cv.vector, &Cv.matrix, &chisq, wk) == GSL_SUCCESS;
    if (k0 && wk)
      gsl_multifit_linear_free(wk);
    if (!ok)
      break;
    long double c0 = k0 ? g0 : gsl_vector_get(c, 0), c1 = k0 ? g1 : gsl_vector_get(c, 1);
    double cq[16];
    for (int q = 2; q <= deg; q++)
      cq[q] = gsl_vector_get(c, (size_t)(q - o));
    put_piece(tab, j, c0, c1, cq, deg);
    double sl = (double)fabsl(c1 * 0.5L * h / c0);
    *slope = sl > *slope ? sl : *slope;
    for (int i = 0; ok && i <= 4000; i++) { /* the stored coefficients, densely, exactly */
      long double s = -0.5L * h + (long double)h * i / 4000.0L, v = piece_g(tab, j, deg, s);
      double e = (double)fabsl(v / g((long double)mid + s) - 1.0L);
      *worst = e > *worst ? e : *worst;
    }
  }
  gsl_multifit_linear_free(ws);
  gsl_matrix_free(X); gsl_matrix_free(cov);
  gsl_vector_free(y); gsl_vector_free(w); gsl_vector_free(c);
  return ok;
}

/* the spacing of the float grid at |v| (v finite and positive, below the float range's end) */
static long double fspacing(long double v)
{
  float lo = (float)v;
  if ((long double)lo > v)
    lo = nextafterf(lo, 0.0f);
  return (long double)nextafterf(lo, INFINITY) - lo;
}

/* GELU's positive tail: one more piece in the free column 16, x in [lo, hi) = [3.875, 5.375)
 * (elem.h's ACTFIT_D_TOP4 to ACTFIT_GELU_XSAT), reached by the index of min(x, cap), cap = 4:
 * s = x - 4 in [-1/8, 11/8).  g = Phi(x) is 1 - Q with Q below 5.3e-5 there, so the
 * polynomial of degree deg in s needs an absolute error of g small beside y's ulp over x,
 * not a relative one: weighted least squares at Chebyshev nodes with the weight
 * (x / ulp(y))^2, the error of y in ulp.  *worst: that error with the coefficients as
 * stored, densely (the rounding of y itself comes on top). */
static int fit_tail(long double (*g)(long double), double lo, double hi, double cap, int deg,
                    float tab[][M_PIECES], int col, double *worst)
{
  gsl_matrix *X = gsl_matrix_alloc(D_NODES, deg + 1), *cov = gsl_matrix_alloc(deg + 1, deg + 1);
  gsl_vector *y = gsl_vector_alloc(D_NODES), *w = gsl_vector_alloc(D_NODES), *c = gsl_vector_alloc(deg + 1);
  gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(D_NODES, deg + 1);
  int ok = X && cov && y && w && c && ws && deg + 3 <= D_ROWS;
  double chisq;
  for (int i = 0; ok && i < D_NODES; i++) {
    double x = 0.5 * (lo + hi) + 0.5 * (hi - lo) * cos(M_PI * (i + 0.5) / D_NODES), s = x - cap, p = 1;
    long double m = g(x), e = x / fspacing(x * m);
    for (int q = 0; q <= deg; q++, p *= s)
      gsl_matrix_set(X, i, q, p);
    gsl_vector_set(y, i, (double)m);
    gsl_vector_set(w, i, (double)(e * e));
  }
  ok = ok && gsl_multifit_wlinear(X, w, y, c, cov, &chisq, ws) == GSL_SUCCESS;
  *worst = 0;
  if (ok) {
    double cq[16];
    for (int q = 2; q <= deg; q++)
      cq[q] = gsl_vector_get(c, (size_t)q);
    put_piece(tab, col, gsl_vector_get(c, 0), gsl_vector_get(c, 1), cq, deg);
    for (int i = 0; i < 20000; i++) { /* the stored coefficients, densely, exactly, on [lo, hi) */
      long double x = lo + (hi - lo) * i / 20000.0L, v = piece_g(tab, col, deg, x - cap);
      long double yx = x * g(x);
      double e = (double)(fabsl(x * v - yx) / fspacing(yx));
      *worst = e > *worst ? e : *worst;
    }
  }
  gsl_multifit_linear_free(ws);
  gsl_matrix_free(X); gsl_matrix_free(cov);
  gsl_vector_free(y); gsl_vector_free(w); gsl_vector_free(c);
  return ok;
}

static void drows(FILE *f, float tab[][M_PIECES])
{
  for (int r = 0; r < D_ROWS; r++) {
    fprintf(f, "%s \\\n  {", r ? "," : "");
    for (int j = 0; j < M_PIECES; j++)
      fprintf(f, "%s%af", j ? (j % 4 ? ", " : ", \\\n   ") : "", (double)tab[r][j]);
    fprintf(f, "}");
  }
  fprintf(f, "\n");
}

/* the four direct tables (elem.h's order: GELU, GELU-tanh, SiLU, Mish) */
static int write_direct(FILE *f)
{
  static const struct {
    const char *name, *what;
    long double (*g)(long double);
    long double g0, g1; /* g(0), g'(0) */
    double h;
    int deg;
    double tail_hi, tail_cap; /* GELU's positive tail (fit_tail) up to tail_hi, or none */
  } D[] = {
    {"GELU", "Phi(x)", gelu_g, 0.5L, 0.39894228040143267793994605993438L, 0.25, 6, 5.375, 4.0},
    {"GELU_TANH", "sigmoid(u(x)), u(x) = C (x + B x^3)", gelu_tanh_g, 0.5L, GT_C / 4, 0.25, 6, 0, 0},
    {"SILU", "sigmoid(x)", silu_g, 0.5L, 0.25L, 0.5, 5, 0, 0},
    {"MISH", "tanh(softplus(x))", mish_g, 0.6L, 0.32L, 0.5, 6, 0, 0},
  };
  static float tab[D_ROWS][M_PIECES], t16[4][6][M_PIECES];
  fprintf(f, "/* The direct path (elem.h's actfit_direct): g(x) = f(x) / x for |x| below 15.5 h, on 31\n"
             " * pieces of width h centred on k h (k = -15 .. 15, column k & 31), polynomials in\n"
             " * s = x - k h fitted by weighted least squares (relative error, the coefficients as\n"
             " * stored: c0 and c1 as float pairs).  Rows: c0 hi, c0 lo, c1 hi, c1 lo, c2 .. c_deg. */\n"
             "#define ACTFIT_F_D_ROWS %d\n", D_ROWS);
  for (int i = 0; i < 4; i++) {
    double worst, slope;
    if (!fit_direct(D[i].g, D[i].g0, D[i].g1, D[i].h, D[i].deg, tab, &worst, &slope))
      return 0;
    fprintf(f, "/* %s: g = %s, h = %g, degree %d, fitted to %.2g relative (|c1 s| <= %.2f c0) */\n",
            D[i].name, D[i].what, D[i].h, D[i].deg, worst, slope);
    if (D[i].tail_hi > 0) {
      int col = (int)lrint(D[i].tail_cap / D[i].h) & 31;
      if (col != 16 || !fit_tail(D[i].g, 15.5 * D[i].h, D[i].tail_hi, D[i].tail_cap, D[i].deg, tab, col, &worst))
        return 0;
      fprintf(f, "/* and in column %d the positive tail x in [%g, %g) (elem.h's actfit_gelu: the index of\n"
                 " * min(x, %g), s = x - %g), fitted to %.2f ulp of y (weighted by x / ulp(y)) */\n",
              col, 15.5 * D[i].h, D[i].tail_hi, D[i].tail_cap, D[i].tail_cap, worst);
    }
    fprintf(f, "#define ACTFIT_F_%s_D_DEG %d\n#define ACTFIT_F_%s_D_H %af\n#define ACTFIT_F_%s_D",
            D[i].name, D[i].deg, D[i].name, D[i].h, D[i].name);
    drows(f, tab);
  }
  /* the 16-bit path's: degree 5 in float, c0 and c1 without their low parts */
  for (int i = 0; i < 4; i++) {
    double worst, slope;
    if (!fit_direct(D[i].g, D[i].g0, D[i].g1, D[i].h, 5, tab, &worst, &slope))
      return 0;
    fprintf(f, "/* the 16-bit path's %s: degree 5, fitted to %.2g relative (with c0, c1 as pairs) */\n",
            D[i].name, worst);
    for (int r = 0; r < 6; r++)
      for (int j = 0; j < M_PIECES; j++)
        t16[i][r][j] = tab[r < 2 ? 2 * r : r + 2][j];
  }
  fprintf(f, "/* the 16-bit direct path (elem.h's actfit_direct16): for each table, 32 records {c0, c1,\n"
             " * c2, c3, c4, c5, 0, 0}, piece k's at k & 31 */\n"
             "#define ACTFIT_F_D16_REC");
  for (int i = 0; i < 4; i++) {
    fprintf(f, "%s \\\n  {", i ? "," : "");
    for (int j = 0; j < M_PIECES; j++) {
      fprintf(f, "%s{", j ? ", \\\n   " : "");
      for (int k = 0; k < 8; k++)
        fprintf(f, "%s%af", k ? ", " : "", k < 6 ? (double)t16[i][k][j] : 0.0);
      fprintf(f, "}");
    }
    fprintf(f, "}");
  }
  fprintf(f, "\n");
  return 1;
}

static void rows(FILE *f, float tab[][M_PIECES])
{
  for (int r = 0; r < 4 + M_DEG; r++) {
    fprintf(f, "%s \\\n  {", r ? "," : "");
    for (int j = 0; j < M_PIECES; j++)
      fprintf(f, "%s%af", j ? (j % 4 ? ", " : ", \\\n   ") : "", (double)tab[r][j]);
    fprintf(f, "}");
  }
  fprintf(f, "\n");
}

/* The 16-bit path's coefficients (elem.h's actfit_tab_m16: rows 0, 1, 3, 5, 6, 7, that is
 * c_j, c0 .. c4 with c0 and c1 without their low parts) as one 32-byte record per piece, a
 * table after another in elem.h's order (GELU, GELU-tanh, SiLU, softplus, Mish+, Mish-).
 * Piece j's record sits at (j + the bits 20-24 of off) & 31, so that the record index is bits
 * 20-24 of z + off alone: no subtraction (off = 1: 24 places on; off = 2: none). */
static void records(FILE *f, float all[][4 + M_DEG][M_PIECES], const double *off, int ntab)
{
  static const int pick[6] = {0, 1, 3, 5, 6, 7};
  fprintf(f, "/* the 16-bit path's M: for each table, 32 records {c_j, c0, c1, c2, c3, c4, 0, 0} (c0 and c1\n"
             " * the rows' high parts), piece j's at (j + the bits 20-24 of off) & 31 (off = 1: j + 24) */\n"
             "#define ACTFIT_F_M16_REC");
  for (int t = 0; t < ntab; t++) {
    float o = (float)off[t];
    uint32_t ob;
    memcpy(&ob, &o, 4);
    int rot = (int)((ob >> 20) & 31u);
    fprintf(f, "%s \\\n  {", t ? "," : "");
    for (int pos = 0; pos < M_PIECES; pos++) {
      int j = (pos - rot + M_PIECES) % M_PIECES;
      fprintf(f, "%s{", pos ? ", \\\n   " : "");
      for (int k = 0; k < 8; k++)
        fprintf(f, "%s%af", k ? ", " : "", k < 6 ? (double)all[t][pick[k]][j] : 0.0);
      fprintf(f, "}");
    }
    fprintf(f, "}");
  }
  fprintf(f, "\n");
}

static int write_float_section(FILE *f)
{
  double v[32];
  fprintf(f, "\n/* ---- float forward ---- */\n"
             "/* e^r - 1 = r + r^2/2 + r^3 P(r), |r| <= ln2/2: P = 1/3! .. 1/9!, Horner order */\n");
  long double fact = 6.0L;
  for (int k = 3; k <= 9; k++, fact *= k)
    v[9 - k] = (double)(1.0L / fact);
  list(f, "ACTFIT_F_EXPM1_P", v, 7);
  { /* ln2 as hi + lo, hi with 16 significant bits: n hi is exact for |n| < 2^8 */
    float h = (float)logl(2.0L);
    uint32_t u;
    memcpy(&u, &h, 4);
    u &= 0xffff0000u;
    memcpy(&h, &u, 4);
    fprintf(f, "#define ACTFIT_F_LN2_H %af\n#define ACTFIT_F_LN2_L %af\n", (double)h,
            (double)(float)(logl(2.0L) - h));
  }
  fprintf(f, "#define ACTFIT_F_LOG2E %af\n", (double)(float)(1.0L / logl(2.0L)));
  float tab[4 + M_DEG][M_PIECES];
  static float all[6][4 + M_DEG][M_PIECES];
  const double off[6] = {1.0, 1.0, 2.0, 2.0, 2.0, 2.0};
  double worst;
  if (!fit_m(gelu_m, 1.0, tab, &worst))
    return 0;
  fprintf(f, "/* GELU: M(z) = Q(z) e^(z^2/2) for z in [0, 15), %d pieces j from the bits of z + 1\n"
             " * (exponent and top 3 mantissa bits), polynomials of degree %d in s = z - c_j, fitted\n"
             " * to %.2g relative (weighted least squares, the coefficients as stored).  Rows: c_j,\n"
             " * then c0 hi, c0 lo, c1 hi, c1 lo, then c2 .. c%d */\n"
             "#define ACTFIT_F_M_DEG %d\n#define ACTFIT_F_GELU_M",
          M_PIECES, M_DEG, worst, M_DEG, M_DEG);
  rows(f, tab);
  memcpy(all[0], tab, sizeof tab);
  if (!fit_m(gelu_tanh_m, 1.0, tab, &worst))
    return 0;
  fprintf(f, "/* GELU-tanh: M(z) = Q(z) e^(u(z)) = sigmoid(u(z)), Q(z) = sigmoid(-u(z)), u(z) = C (z + B z^3),\n"
             " * on the same pieces and degree, fitted to %.2g relative; rows as GELU's */\n"
             "#define ACTFIT_F_GELU_TANH_M",
          worst);
  rows(f, tab);
  memcpy(all[1], tab, sizeof tab);
  if (!fit_m(silu_m, 2.0, tab, &worst))
    return 0;
  fprintf(f, "/* SiLU: M(z) = Q(z) e^z = sigmoid(z), Q(z) = sigmoid(-z), for z in [0, 30), %d pieces j\n"
             " * from the bits of z + 2 (exponent and top 3 mantissa bits), degree %d, fitted to %.2g\n"
             " * relative; rows as GELU's */\n"
             "#define ACTFIT_F_SILU_M",
          M_PIECES, M_DEG, worst);
  rows(f, tab);
  memcpy(all[2], tab, sizeof tab);
  if (!fit_m(softplus_m, 2.0, tab, &worst))
    return 0;
  fprintf(f, "/* softplus: M(z) = e^z log1p(e^-z) on SiLU's pieces, fitted to %.2g relative */\n"
             "#define ACTFIT_F_SOFTPLUS_M",
          worst);
  rows(f, tab);
  memcpy(all[3], tab, sizeof tab);
  double worst2;
  if (!fit_m(mish_pos_m, 2.0, tab, &worst))
    return 0;
  float tab2[4 + M_DEG][M_PIECES];
  if (!fit_m(mish_neg_m, 2.0, tab2, &worst2))
    return 0;
  fprintf(f, "/* Mish on SiLU's pieces, with u = e^-z: x >= 0 (z = x), 1 - tanh(softplus(z)) = e^(-2z) M(z),\n"
             " * M = 2 / (1 + 2u + 2u^2), fitted to %.2g relative; x < 0 (z = -x), tanh(softplus(-z)) =\n"
             " * e^-z M(z), M = (2 + u) / (2 + 2u + u^2), fitted to %.2g; and Mish'(0) = tanh(ln 2) = 3/5 */\n"
             "#define ACTFIT_F_MISH_POS_M",
          worst, worst2);
  rows(f, tab);
  memcpy(all[4], tab, sizeof tab);
  fprintf(f, "#define ACTFIT_F_MISH_NEG_M");
  rows(f, tab2);
  memcpy(all[5], tab2, sizeof tab2);
  records(f, all, off, 6);
  if (!write_direct(f))
    return 0;
  /* x - tanh x = x^3 (1/3 + w R(w)), |x| < 1/2 */
  long double T[32] = {0};
  for (int k = 0; k + 1 < 32; k++) {
    long double acc = k == 0 ? 1.0L : 0.0L;
    for (int i = 0; i <= k; i++)
      acc -= T[i] * T[k - i];
    T[k + 1] = acc / (k + 1);
  }
  fprintf(f, "/* x - tanh x = x^3 (1/3 + w R(w)), w = x^2, |x| < 1/2: R Horner order */\n");
  for (int n = 2; n <= 11; n++)
    v[11 - n] = (double)-T[2 * n + 1];
  list(f, "ACTFIT_F_TANHSHRINK_R", v, 10);
  fprintf(f, "/* tanh x = x - x^3 (1/3 + w R(w)), |x| < 1/4: the same R to w^4 (the rest is below "
             "2^-31 of 1/3) */\n");
  list(f, "ACTFIT_F_TANH_R", v + 5, 5);
  pair(f, "ACTFIT_F_THIRD", 1.0L / 3);
  fprintf(f, "/* SELU lambda and lambda alpha; GELU-tanh's C = 2 sqrt(2/pi) and C B, B = 0.044715 (the\n"
             " * double constants), for u(z) = z (C + C B z^2) */\n");
  pair(f, "ACTFIT_F_SELU_L", (long double)1.0507009873554804934);
  pair(f, "ACTFIT_F_SELU_LA", (long double)1.0507009873554804934 * (long double)1.6732632423543772848);
  pair(f, "ACTFIT_F_GELU_TANH_C", GT_C);
  pair(f, "ACTFIT_F_GELU_TANH_CB", GT_C * GT_B);
  return 1;
}

int main(int argc, char **argv)
{
  gsl_set_error_handler_off();
  gsl_cheb_series *cs = gsl_cheb_alloc(ORDER);
  gsl_function F = {p_of_t, NULL};
  if (!cs || gsl_cheb_init(cs, &F, TLO, 1.0) != GSL_SUCCESS) {
    fprintf(stderr, "gen_elem: Chebyshev fit failed\n");
    return 1;
  }
  const double *c = gsl_cheb_coeffs(cs);
  FILE *f = argc > 1 ? fopen(argv[1], "w") : stdout;
  if (!f) {
    fprintf(stderr, "gen_elem: cannot write %s\n", argv[1]);
    return 1;
  }
  fprintf(f, "/* Generated by tools/gen_elem.c: DO NOT EDIT.  Constants of the element math: the\n"
             " * double reference's (tools/elem_ref.h) and the float forward's (elem.h). */\n"
             "#ifndef ACTFIT_ELEM_COEFFS_H\n#define ACTFIT_ELEM_COEFFS_H\n\n"
             "/* 1/k!, k = 14 down to 0 (Horner order): exp uses k <= 13, expm1 k >= 1 */\n"
             "#define ACTFIT_INV_FACTORIAL");
  long double fact = 1.0L;
  double inv[15];
  for (int k = 0; k <= 14; k++) {
    if (k)
      fact *= k;
    inv[k] = (double)(1.0L / fact);
  }
  for (int k = 14; k >= 0; k--)
    fprintf(f, "%s \\\n  %a", k == 14 ? "" : ",", inv[k]);
  /* tanh x = sum T_k x^k from T' = 1 - T^2: (k + 1) T_{k+1} = [k = 0] - sum_{i+j=k} T_i T_j */
  long double T[2 * TANH_TERMS + 4] = {0};
  for (int k = 0; k + 1 < 2 * TANH_TERMS + 4; k++) {
    long double acc = k == 0 ? 1.0L : 0.0L;
    for (int i = 0; i <= k; i++)
      acc -= T[i] * T[k - i];
    T[k + 1] = acc / (k + 1);
  }
  fprintf(f, "\n\n/* x - tanh x = x^3 r(x^2): coefficients of r, x^%d down to x^0 (for |x| < %g) */\n"
             "#define ACTFIT_TANHSHRINK_SMALL %a\n#define ACTFIT_TANHSHRINK_SERIES",
          2 * (TANH_TERMS - 1), TANH_SMALL, TANH_SMALL);
  for (int n = TANH_TERMS; n >= 1; n--)
    fprintf(f, "%s \\\n  %a", n == TANH_TERMS ? "" : ",", (double)-T[2 * n + 1]);
  fprintf(f, "\n\n/* log1p(u) = 2 atanh(s), s = u / (2 + u): 2 / (2k + 1), k = %d down to 0 */\n"
             "#define ACTFIT_LOG1P_ATANH", LOG1P_TERMS - 1);
  for (int k = LOG1P_TERMS - 1; k >= 0; k--)
    fprintf(f, "%s \\\n  %a", k == LOG1P_TERMS - 1 ? "" : ",", (double)(2.0L / (2 * k + 1)));
  fprintf(f, "\n\n/* Chebyshev coefficients of P on t in [%g, 1], degree %d down to 1, then c0/2 */\n"
             "#define ACTFIT_ERFC_TLO %a\n#define ACTFIT_ERFC_AMAX %a\n#define ACTFIT_ERFC_CHEB",
          TLO, ORDER, TLO, 2.0 / TLO - 2.0);
  for (int k = ORDER; k >= 1; k--)
    fprintf(f, "%s \\\n  %a", k == ORDER ? "" : ",", c[k]);
  fprintf(f, ", \\\n  %a\n", 0.5 * c[0]);
  if (!write_float_section(f)) {
    fprintf(stderr, "gen_elem: GELU fit failed\n");
    return 1;
  }
  fprintf(f, "\n#endif\n");
  gsl_cheb_free(cs);
  if ((f != stdout && fclose(f) != 0) || (f == stdout && fflush(f) != 0)) {
    fprintf(stderr, "gen_elem: write error\n");
    return 1;
  }
  return 0;
}
