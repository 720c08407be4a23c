/* FewBit: DP exactness, accurate segment costs, closed forms, refinement, parity, linf,
 * eval agreement, determinism, bad input. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

#include "actfit/fewbit.h"
#include "testutil.h"

static actfit_act *mk(const char *spec)
{
  actfit_act *a = NULL;
  char err[ACTFIT_ERRLEN];
  actfit_status st = strchr(spec, 'x') && !actfit_act_type_find(spec) && !strchr(spec, ':')
                         ? actfit_act_alloc_expr(spec, &a, err, sizeof err)
                         : actfit_act_alloc(spec, &a, err, sizeof err);
  ck_assert_msg(st == ACTFIT_OK, "%s: %s", spec, err);
  return a;
}

static actfit_weight *wt(const char *spec)
{
  actfit_weight *w = NULL;
  char err[ACTFIT_ERRLEN];
  ck_assert_msg(actfit_weight_alloc(spec, &w, err, sizeof err) == ACTFIT_OK, "%s", err);
  return w;
}

static actfit_grid *grid(const actfit_act *a, const actfit_weight *w, double lo, double hi,
                         int n)
{
  actfit_grid *g = NULL;
  char err[ACTFIT_ERRLEN];
  ck_assert_msg(actfit_grid_alloc(a, w, lo, hi, n, 0, &g, err, sizeof err) == ACTFIT_OK, "%s",
                err);
  return g;
}

static void fit(const char *act, const char *weight, int bits, double lo, double hi,
                actfit_table *t, const char *norm, int parity, int threads)
{
  actfit_act *a = mk(act);
  actfit_weight *w = wt(weight);
  actfit_fewbit_params p;
  actfit_fewbit_params_init(&p);
  p.bits = bits;
  p.a = lo;
  p.b = hi;
  p.parity = parity;
  p.threads = threads;
  p.norm = actfit_norm_find(norm);
  char err[ACTFIT_ERRLEN] = "";
  ck_assert_msg(actfit_fewbit_fit(a, w, &p, t, err, sizeof err) == ACTFIT_OK, "%s: %s", act,
                err);
  actfit_weight_free(w);
  actfit_act_free(a);
}

/* ---- DP --------------------------------------------------------------------------- */

static double brute(const actfit_grid *g, int k, int first, int m, int *cuts, int *best_cuts,
                    double acc, double best)
{
  /* choose cuts[m] > first ... */
  if (m == k - 1) {
    double v = acc + actfit_grid_cost(g, first, g->n);
    if (v < best) {
      memcpy(best_cuts, cuts, sizeof(int) * (size_t)(k - 1));
      return v;
    }
    return best;
  }
  for (int c = first + 1; c <= g->n - (k - 1 - m); c++) {
    cuts[m] = c;
    best = brute(g, k, c, m + 1, cuts, best_cuts,
                 acc + actfit_grid_cost(g, first, c), best);
  }
  return best;
}

START_TEST(dp_equals_brute_force_on_tiny_grids)
{
  const char *acts[] = {"gelu", "silu", "hardswish", "sigmoid"};
  actfit_weight *w = wt("uniform");
  for (size_t q = 0; q < 4; q++) {
    actfit_act *a = mk(acts[q]);
    actfit_grid *g = grid(a, w, -5, 4, 13);
    for (int k = 1; k <= 5; k++) {
      int cuts[8], bc[8], dc[8];
      double E;
      ck_assert_int_eq(actfit_dp_l2(g, k, 1, dc, &E), ACTFIT_OK);
      double B = brute(g, k, 0, 0, cuts, bc, 0.0, INFINITY);
      ck_assert_rel(E, B, 1e-14);
      for (int i = 0; i < k - 1; i++)
        ck_assert_int_eq(dc[i], bc[i]);
    }
    actfit_grid_free(g);
    actfit_act_free(a);
  }
  actfit_weight_free(w);
}
END_TEST

/* [-100, 100]: f' is exactly constant over most cells there (GELU's is 0 below -38.6 and
 * 1 above 8.7), which the pruned DP merges; relu and hardswish have such runs inside
 * [-8, 8] too */
START_TEST(pruned_dp_equals_dense_dp)
{
  const char *acts[] = {"gelu", "silu", "mish", "hardswish", "relu", "tanh", "elu"};
  const char *ws[] = {"uniform", "gauss:0,1"};
  const double dom[2] = {8, 100};
  for (size_t q = 0; q < sizeof acts / sizeof *acts; q++)
    for (int wi = 0; wi < 4; wi++) {
      actfit_act *a = mk(acts[q]);
      actfit_weight *w = wt(ws[wi % 2]);
      actfit_grid *g = grid(a, w, -dom[wi / 2], dom[wi / 2], 700);
      for (int k = 2; k <= 16; k *= 2) {
        int c1[16], c2[16];
        double E1, E2;
        ck_assert_int_eq(actfit_dp_l2(g, k, 2, c1, &E1), ACTFIT_OK);
        ck_assert_int_eq(actfit_dp_l2_dense(g, k, c2, &E2), ACTFIT_OK);
        ck_assert_msg(E1 == E2, "%s %s [-%g, %g] k=%d: pruned %.17g dense %.17g", acts[q],
                      ws[wi % 2], dom[wi / 2], dom[wi / 2], k, E1, E2);
        ck_assert(memcmp(c1, c2, sizeof(int) * (size_t)(k - 1)) == 0);
      }
      actfit_grid_free(g);
      actfit_weight_free(w);
      actfit_act_free(a);
    }
}
END_TEST

/* ---- segment costs ---------------------------------------------------------------- */

typedef struct {
  const actfit_act *a;
  double l;
  int what;
} qctx;

/* f' in long double for the three reference activations, so that (f' - l)^2 keeps its
 * digits where f' is within 1e-6 of l */
static long double df_ld(const char *name, double xd)
{
  long double x = xd;
  long double e = expl(-fabsl(x)), s = x >= 0 ? 1 / (1 + e) : e / (1 + e);
  long double sc = x >= 0 ? e / (1 + e) : 1 / (1 + e);
  if (!strcmp(name, "gelu"))
    return 0.5L * erfcl(-x / sqrtl(2.0L)) +
           x * expl(-0.5L * x * x) / sqrtl(2.0L * 3.14159265358979323846264338327950288L);
  if (!strcmp(name, "silu"))
    return s * (1 + x * sc);
  return s * sc;
}

static double qf(double x, void *p)
{
  const qctx *c = p;
  if (c->what == 0)
    return 1.0;
  long double d = df_ld(actfit_act_name(c->a), x);
  return c->what == 1 ? (double)d : (double)((d - c->l) * (d - c->l));
}

static double quad(const actfit_act *a, double u, double v, double l, int what)
{
  gsl_integration_workspace *ws = gsl_integration_workspace_alloc(2000);
  qctx c = {a, l, what};
  gsl_function F = {qf, &c};
  /* unit-width pieces, each to 1e-14 relative */
  double sum = 0, err = 0;
  int m = (int)ceil(4 * (v - u));
  for (int i = 0; i < m; i++) {
    double x0 = u + (v - u) * i / m, x1 = i == m - 1 ? v : u + (v - u) * (i + 1) / m, r, e;
    /* GSL_EROUND just says 1e-13 is below what roundoff allows: the total estimate decides */
    int st = gsl_integration_qag(&F, x0, x1, 0, 1e-13, 2000, GSL_INTEG_GAUSS61, ws, &r, &e);
    ck_assert_msg(st == 0 || st == GSL_EROUND || st == GSL_EMAXITER, "qag status %d", st);
    sum += r;
    err += e;
  }
  ck_assert_msg(err <= 1e-11 * fabs(sum) + 1e-300, "reference quadrature error %g of %g", err,
                sum);
  gsl_integration_workspace_free(ws);
  return sum;
}

START_TEST(segment_cost_matches_direct_quadrature_on_long_flat_stretches)
{
  gsl_set_error_handler_off();
  const char *acts[] = {"gelu", "silu", "sigmoid"};
  actfit_weight *w = wt("uniform");
  const int n = 4096;
  for (int q = 0; q < 3; q++) {
    actfit_act *a = mk(acts[q]);
    actfit_grid *g = grid(a, w, -100, 100, n);
    /* cell 2253 is x = 5.03: on [5, 100] GELU's f' is 1 to within 1.5e-6, so S2 and
     * S1^2/S0 agree to 12 digits.  (Far deeper in a tail, where f' varies by < 1e-9, no
     * method that sees f' in double can hold 1e-9: f' itself carries 1e-16 absolute.) */
    int seg[][2] = {{0, n}, {2253, n}, {2253, 3000}, {0, 1900}, {1900, 2200}, {2100, 2101},
                    {1000, 3500}, {2300, n}, {0, 1500}, {2253, 2254}};
    for (size_t s = 0; s < sizeof seg / sizeof *seg; s++) {
      double u = g->x[seg[s][0]], v = g->x[seg[s][1]];
      double W = quad(a, u, v, 0, 0) / 200.0, M = quad(a, u, v, 0, 1) / 200.0;
      double want = quad(a, u, v, M / W, 2) / 200.0;
      double got = actfit_grid_cost(g, seg[s][0], seg[s][1]);
      if (want < 1e-280)
        ck_assert_msg(got < 1e-280, "%s [%g, %g]: cost %g, direct %g", acts[q], u, v, got, want);
      else
        ck_assert_msg(fabs(got - want) <= 1e-9 * want, "%s [%g, %g]: cost %.17g, direct %.17g",
                      acts[q], u, v, got, want);
    }
    actfit_grid_free(g);
    actfit_act_free(a);
  }
  actfit_weight_free(w);
}
END_TEST

/* ---- fits --------------------------------------------------------------------------- */

START_TEST(linear_derivative_gives_equal_pieces_and_closed_form_error)
{
  for (int bits = 1; bits <= 4; bits++) {
    int k = 1 << bits;
    actfit_table t;
    fit("x^2/2", "uniform", bits, 0, 1, &t, "l2", -1, 0);
    ck_assert_rel(t.E, 1.0 / (12.0 * k * k), 1e-12);
    for (int i = 0; i < k - 1; i++)
      ck_assert(fabs(t.borders[i] - (i + 1.0) / k) < 1e-12);
    for (int i = 0; i < k; i++)
      ck_assert(fabs(t.levels[i] - (i + 0.5) / k) < 1e-12);
    ck_assert(t.kkt < 1e-12);
    ck_assert_rel(t.max_abs, 0.5 / k, 1e-9);
    actfit_table_destroy(&t);
    fit("x^2/2", "uniform", bits, 0, 1, &t, "linf", -1, 0);
    ck_assert_rel(t.E, 0.5 / k, 1e-12);
    for (int i = 0; i < k - 1; i++)
      ck_assert(fabs(t.borders[i] - (i + 1.0) / k) < 1e-12);
    actfit_table_destroy(&t);
  }
}
END_TEST

START_TEST(refinement_never_raises_E_and_reaches_stationarity)
{
  const char *acts[] = {"gelu", "silu", "mish", "softplus", "elu", "selu", "hardswish",
                        "gelu_tanh", "logsigmoid", "celu:alpha=0.5"};
  for (size_t q = 0; q < sizeof acts / sizeof *acts; q++)
    for (int bits = 1; bits <= 4; bits++) {
      actfit_table t;
      fit(acts[q], "uniform", bits, NAN, NAN, &t, "l2", -1, 0);
      ck_assert_msg(t.E <= t.E_dp, "%s %d: E %.17g > E_dp %.17g", acts[q], bits, t.E, t.E_dp);
      ck_assert_msg(t.kkt < 1e-10, "%s %d bits: KKT residual %g", acts[q], bits, t.kkt);
      actfit_table_destroy(&t);
    }
}
END_TEST

static void check_eval(const actfit_table *t, const char *weight, double tol)
{
  actfit_act *a = NULL;
  char err[ACTFIT_ERRLEN];
  ck_assert_int_eq(actfit_table_act(t, &a, err, sizeof err), ACTFIT_OK);
  actfit_weight *w = wt(weight);
  actfit_fewbit_report r;
  ck_assert_msg(actfit_fewbit_eval(t, a, w, NAN, NAN, &r, err, sizeof err) == ACTFIT_OK, "%s",
                err);
  ck_assert_msg(fabs(r.E - t->E) <= tol * t->E, "eval E %.17g, fit E %.17g", r.E, t->E);
  ck_assert_msg(fabs(r.max_abs - t->max_abs) <= 1e-6 * t->max_abs, "eval max %.17g, fit %.17g",
                r.max_abs, t->max_abs);
  double s = 0;
  for (int i = 0; i < (1 << t->bits); i++)
    s += r.piece_E[i];
  if (!strcmp(t->norm, "l2"))
    ck_assert_rel(s, r.E, 1e-12);
  free(r.piece_E);
  actfit_weight_free(w);
  actfit_act_free(a);
}

START_TEST(parity_fits_absolute_value_with_twice_the_intervals)
{
  const char *acts[] = {"tanh", "sigmoid", "softsign"};
  for (int q = 0; q < 3; q++)
    for (int bits = 1; bits <= 3; bits++) {
      actfit_table te, to;
      fit(acts[q], "uniform", bits, NAN, NAN, &te, "l2", -1, 0);
      fit(acts[q], "uniform", bits, NAN, NAN, &to, "l2", 0, 0);
      ck_assert(te.parity_even && !to.parity_even);
      ck_assert(te.borders[0] > 0);
      /* 2^(b+1) - 1 intervals beat 2^b */
      ck_assert_msg(te.E < to.E, "%s %d: even %g, off %g", acts[q], bits, te.E, to.E);
      check_eval(&te, "uniform", 1e-8);
      check_eval(&to, "uniform", 1e-8);
      ck_assert(te.kkt < 1e-10);
      actfit_table_destroy(&te);
      actfit_table_destroy(&to);
    }
  /* gauss weight off-centre: folding must still count both sides */
  actfit_table t;
  fit("tanh", "gauss:0.5,1", 2, NAN, NAN, &t, "l2", -1, 0);
  ck_assert(t.parity_even);
  check_eval(&t, "gauss:0.5,1", 1e-8);
  actfit_table_destroy(&t);
}
END_TEST

START_TEST(eval_confirms_fit_for_weights_and_norms)
{
  const char *acts[] = {"gelu", "silu", "hardswish", "elu"};
  for (int q = 0; q < 4; q++) {
    actfit_table t;
    fit(acts[q], "gauss:0,1", 3, NAN, NAN, &t, "l2", -1, 0);
    check_eval(&t, "gauss:0,1", 1e-8);
    actfit_table_destroy(&t);
    fit(acts[q], "uniform", 2, -100, 100, &t, "l2", -1, 0);
    check_eval(&t, "uniform", 1e-8);
    actfit_table_destroy(&t);
    fit(acts[q], "uniform", 3, NAN, NAN, &t, "linf", -1, 0);
    ck_assert(t.E <= t.E_dp);
    check_eval(&t, "uniform", 1e-9);
    actfit_table_destroy(&t);
  }
}
END_TEST

START_TEST(fits_are_identical_for_any_thread_count)
{
  const char *acts[] = {"gelu", "relu", "hardswish"};
  for (int q = 0; q < 3; q++) {
    actfit_table a, b;
    fit(acts[q], "uniform", 4, -20, 20, &a, "l2", -1, 1);
    fit(acts[q], "uniform", 4, -20, 20, &b, "l2", -1, 2);
    ck_assert(memcmp(a.borders, b.borders, sizeof(double) * 15) == 0);
    ck_assert(memcmp(a.levels, b.levels, sizeof(double) * 16) == 0);
    ck_assert(memcmp(&a.E, &b.E, sizeof a.E) == 0);
    actfit_table_destroy(&a);
    actfit_table_destroy(&b);
  }
}
END_TEST

static void write_file(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fwrite(data, 1, n, f), n);
  fclose(f);
}

START_TEST(histogram_weights_from_float32_and_text)
{
  char dir[] = "/tmp/actfit-hist-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char raw[256], txt[256], nan_[256], empty[256];
  snprintf(raw, sizeof raw, "%s/x.f32", dir);
  snprintf(txt, sizeof txt, "%s/x.txt", dir);
  snprintf(nan_, sizeof nan_, "%s/nan.txt", dir);
  snprintf(empty, sizeof empty, "%s/empty.f32", dir);
  enum { N = 20000 };
  static float xs[N];
  FILE *f = fopen(txt, "w");
  uint32_t s = 12345;
  for (int i = 0; i < N; i++) {
    /* sum of 4 uniforms: a bell shape on [-2, 2] */
    double v = 0;
    for (int j = 0; j < 4; j++) {
      s = s * 1664525u + 1013904223u;
      v += (s >> 8) / 16777216.0 - 0.5;
    }
    xs[i] = (float)v;
    fprintf(f, "%.17g\n", (double)xs[i]);
  }
  fclose(f);
  write_file(raw, xs, sizeof xs);
  write_file(nan_, "1.0\n2.0\nnan\n", 12);
  write_file(empty, "", 0);
  char spec[300];
  actfit_table t1, t2;
  snprintf(spec, sizeof spec, "hist:f32:%s", raw);
  fit("gelu", spec, 3, NAN, NAN, &t1, "l2", -1, 0);
  ck_assert_str_eq(t1.weight, spec); /* the absolute path, as given here */
  check_eval(&t1, spec, 1e-8);
  snprintf(spec, sizeof spec, "hist:%s", txt);
  fit("gelu", spec, 3, NAN, NAN, &t2, "l2", -1, 0);
  ck_assert(t1.domain[0] == t2.domain[0] && t1.domain[1] == t2.domain[1]);
  ck_assert(memcmp(t1.levels, t2.levels, 8 * sizeof(double)) == 0);
  ck_assert(t1.E <= t1.E_dp);
  actfit_table_destroy(&t1);
  actfit_table_destroy(&t2);
  /* 1000 samples leave grid cells empty: a border beside an empty cell is optimal when
   * moving into the populated side does not lower E (an inequality), and the refinement's
   * residual says so (it reported 3e-3, "not converged", for every such fit) */
  write_file(raw, xs, 1000 * sizeof *xs);
  snprintf(spec, sizeof spec, "hist:f32:%s", raw);
  for (int b = 1; b <= 4; b++) {
    fit("gelu", spec, b, NAN, NAN, &t1, "l2", -1, 0);
    ck_assert_msg(t1.kkt <= ACTFIT_FEWBIT_KKT_TOL, "%d bits: KKT residual %g", b, t1.kkt);
    ck_assert(t1.E <= t1.E_dp);
    check_eval(&t1, spec, 1e-8);
    actfit_table_destroy(&t1);
  }

  actfit_weight *w = NULL;
  char err[ACTFIT_ERRLEN] = "";
  snprintf(spec, sizeof spec, "hist:%s", nan_);
  ck_assert_int_eq(actfit_weight_alloc(spec, &w, err, sizeof err), ACTFIT_EINVAL);
  ck_assert(strstr(err, "line 3 is not finite"));
  snprintf(spec, sizeof spec, "hist:%s", empty);
  ck_assert_int_eq(actfit_weight_alloc(spec, &w, err, sizeof err), ACTFIT_EINVAL);
  ck_assert(strstr(err, "at least 2 samples"));
  ck_assert_int_eq(actfit_weight_alloc("hist:/nonexistent", &w, err, sizeof err), ACTFIT_EIO);
  /* the format is named, never guessed: raw float32 read as text, and a text file whose
   * header line happens to be a multiple of 4 bytes, are errors naming the line */
  snprintf(spec, sizeof spec, "hist:%s", raw);
  ck_assert_int_eq(actfit_weight_alloc(spec, &w, err, sizeof err), ACTFIT_EPARSE);
  ck_assert_msg(strstr(err, "hist:f32:FILE"), "%s", err);
  write_file(nan_, "x_v\n1.0\n2.0\n", 12);
  snprintf(spec, sizeof spec, "hist:%s", nan_);
  ck_assert_int_eq(actfit_weight_alloc(spec, &w, err, sizeof err), ACTFIT_EPARSE);
  ck_assert_msg(strstr(err, "line 1 is not a number"), "%s", err);
  snprintf(spec, sizeof spec, "hist:f32:%s", nan_); /* 12 bytes of text as float32: 3 values */
  ck_assert_int_eq(actfit_weight_alloc(spec, &w, err, sizeof err), ACTFIT_OK);
  actfit_weight_free(w);
  w = NULL;
  /* a relative path is recorded absolute */
  char cwd[1024];
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  ck_assert_int_eq(chdir(dir), 0);
  snprintf(spec, sizeof spec, "hist:%s", strrchr(txt, '/') + 1);
  ck_assert_int_eq(actfit_weight_alloc(spec, &w, err, sizeof err), ACTFIT_OK);
  ck_assert_int_eq(chdir(cwd), 0);
  ck_assert_msg(actfit_weight_spec(w)[5] == '/' && strstr(actfit_weight_spec(w), strrchr(txt, '/')),
                "%s", actfit_weight_spec(w));
  actfit_weight_free(w);
  w = NULL;
  ck_assert_ptr_null(w);
  unlink(raw); unlink(txt); unlink(nan_); unlink(empty);
  rmdir(dir);
}
END_TEST

START_TEST(weight_densities_are_normalised_on_their_domain)
{
  actfit_weight *g = wt("gauss:1,2"), *u = wt("uniform");
  double xs[3] = {1.0, -30.0, 5.0}, d[3];
  ck_assert_int_eq(actfit_weight_density(g, -15, 17, 100, xs, 3, d), ACTFIT_OK);
  ck_assert_rel(d[0], 0.19947114020071635, 1e-15); /* 1/(2 sqrt(2 pi)) */
  ck_assert(d[1] == 0.0);                           /* outside the domain */
  ck_assert_int_eq(actfit_weight_density(u, -10, 10, 100, xs, 3, d), ACTFIT_OK);
  ck_assert(d[0] == 0.05 && d[1] == 0.0 && d[2] == 0.05);
  ck_assert_int_eq(actfit_weight_density(u, 1, 1, 100, xs, 3, d), ACTFIT_EINVAL);
  /* a histogram's density integrates to 1 over its bins */
  char path[] = "/tmp/actfit-dens-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  FILE *f = fdopen(fd, "w");
  for (int i = 0; i < 1000; i++)
    fprintf(f, "%g\n", -2.0 + 4.0 * (i % 97) / 97.0);
  fclose(f);
  char spec[64];
  snprintf(spec, sizeof spec, "hist:%s", path);
  actfit_weight *h = wt(spec);
  double hx[400], hd[400], sum = 0;
  for (int i = 0; i < 400; i++)
    hx[i] = -2.0 + 4.0 * (i + 0.5) / 400;
  ck_assert_int_eq(actfit_weight_density(h, -2, 2, 40, hx, 400, hd), ACTFIT_OK);
  for (int i = 0; i < 400; i++)
    sum += hd[i] * 4.0 / 400;
  ck_assert_rel(sum, 1.0, 1e-12);
  unlink(path);
  actfit_weight_free(h);
  actfit_weight_free(g);
  actfit_weight_free(u);
}
END_TEST

START_TEST(bad_input_is_rejected_with_a_clear_message)
{
  actfit_act *a = mk("gelu"), *lg = mk("log(x)");
  actfit_weight *u = wt("uniform"), *w = NULL;
  actfit_fewbit_params p;
  actfit_table t;
  char err[ACTFIT_ERRLEN];
  struct { int bits; double lo, hi; int grid; actfit_act *act; actfit_status st; const char *msg; } c[] = {
    {0, NAN, NAN, 0, a, ACTFIT_EINVAL, "bits must be 1..8"},
    {9, NAN, NAN, 0, a, ACTFIT_EINVAL, "bits must be 1..8"},
    {2, 1, 1, 0, a, ACTFIT_EINVAL, "A < B"},
    {2, 3, 1, 0, a, ACTFIT_EINVAL, "A < B"},
    {4, NAN, NAN, 8, a, ACTFIT_EINVAL, "cannot hold 16 levels"},
    {2, -1, 1, 0, lg, ACTFIT_EDOMAIN, "not finite"},
  };
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    actfit_fewbit_params_init(&p);
    p.bits = c[i].bits;
    p.a = c[i].lo;
    p.b = c[i].hi;
    p.grid = c[i].grid;
    err[0] = 0;
    ck_assert_int_eq(actfit_fewbit_fit(c[i].act, u, &p, &t, err, sizeof err), c[i].st);
    ck_assert_msg(strstr(err, c[i].msg), "case %zu: '%s'", i, err);
    ck_assert_ptr_null(t.levels);
  }
  const char *bad_w[][2] = {{"gauss:0,0", "SIGMA must be > 0"}, {"gauss:0,-1", "SIGMA"},
                            {"gauss:0", "gauss:MU,SIGMA"}, {"gauss:a,1", "finite"},
                            {"triangle", "unknown weight"}};
  for (int i = 0; i < 5; i++) {
    err[0] = 0;
    ck_assert(actfit_weight_alloc(bad_w[i][0], &w, err, sizeof err) != ACTFIT_OK);
    ck_assert_msg(strstr(err, bad_w[i][1]), "%s: '%s'", bad_w[i][0], err);
  }
  actfit_weight_free(u);
  actfit_act_free(a);
  actfit_act_free(lg);
}
END_TEST

/* The acceptance matrix: E at or below a 65536-cell reference DP, KKT < 1e-10, eval agrees. */
START_TEST(fits_beat_a_fine_reference_dp)
{
  const char *acts[] = {"gelu", "silu", "mish", "tanh", "sigmoid", "softplus", "elu"};
  const char *ws[] = {"uniform", "gauss:0,1"};
  int a_i = _i / 2, w_i = _i % 2;
  for (int bits = 1; bits <= 4; bits++) {
    double lo = w_i == 0 ? -100 : NAN, hi = w_i == 0 ? 100 : NAN;
    actfit_table t;
    fit(acts[a_i], ws[w_i], bits, lo, hi, &t, "l2", -1, 0);
    /* reference: the plain DP on a 16x finer grid, same folding */
    actfit_act *a = mk(acts[a_i]);
    actfit_weight *w = wt(ws[w_i]);
    actfit_grid *g = NULL;
    char err[ACTFIT_ERRLEN];
    ck_assert_int_eq(actfit_grid_alloc(a, w, t.domain[0], t.domain[1], 65536, t.parity_even,
                                       &g, err, sizeof err), ACTFIT_OK);
    int cuts[16];
    double Eref;
    ck_assert_int_eq(actfit_dp_l2(g, 1 << bits, 0, cuts, &Eref), ACTFIT_OK);
    ck_assert_msg(t.E <= Eref * (1 + 1e-9), "%s %s %d bits: E %.17g above reference %.17g",
                  acts[a_i], ws[w_i], bits, t.E, Eref);
    ck_assert_msg(t.kkt < 1e-10, "%s %d: KKT %g", acts[a_i], bits, t.kkt);
    check_eval(&t, ws[w_i], 1e-8);
    actfit_grid_free(g);
    actfit_weight_free(w);
    actfit_act_free(a);
    actfit_table_destroy(&t);
  }
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("fewbit");
  TCase *tc = tcase_create("fewbit");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, dp_equals_brute_force_on_tiny_grids);
  tcase_add_test(tc, pruned_dp_equals_dense_dp);
  tcase_add_test(tc, segment_cost_matches_direct_quadrature_on_long_flat_stretches);
  tcase_add_test(tc, linear_derivative_gives_equal_pieces_and_closed_form_error);
  tcase_add_test(tc, refinement_never_raises_E_and_reaches_stationarity);
  tcase_add_test(tc, parity_fits_absolute_value_with_twice_the_intervals);
  tcase_add_test(tc, eval_confirms_fit_for_weights_and_norms);
  tcase_add_test(tc, fits_are_identical_for_any_thread_count);
  tcase_add_test(tc, histogram_weights_from_float32_and_text);
  tcase_add_test(tc, weight_densities_are_normalised_on_their_domain);
  tcase_add_test(tc, bad_input_is_rejected_with_a_clear_message);
  tcase_add_loop_test(tc, fits_beat_a_fine_reference_dp, 0, 14);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(suite)
