/* InvAct: reference inverse, fitted error on unseen points, exact forms, branch choice at T,
 * the storage floor at T, bad input, JSON round trip, determinism. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "actfit/invact.h"
#include "elem.h"
#include "testutil.h"

static actfit_act *mk(const char *spec)
{
  actfit_act *a = NULL;
  char err[ACTFIT_ERRLEN];
  actfit_status st = actfit_act_type_find(spec) || strchr(spec, ':')
                         ? actfit_act_alloc(spec, &a, err, sizeof err)
                         : actfit_act_alloc_expr(spec, &a, err, sizeof err);
  ck_assert_msg(st == ACTFIT_OK, "%s: %s", spec, err);
  return a;
}

static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static void fit(const char *spec, long npoints, int threads, actfit_table *t)
{
  actfit_act *a = mk(spec);
  actfit_invact_params p;
  actfit_invact_params_init(&p);
  p.npoints = npoints;
  p.threads = threads;
  char err[ACTFIT_ERRLEN] = "";
  ck_assert_msg(actfit_invact_fit(a, &p, t, err, sizeof err) == ACTFIT_OK, "%s: %s", spec, err);
  actfit_act_free(a);
}

START_TEST(reference_g_matches_fprime_at_random_x)
{
  const char *acts[] = {"gelu", "silu", "mish", "gelu_tanh", "x*tanh(log(1+exp(x)))"};
  for (int q = 0; q < 5; q++) {
    actfit_act *a = mk(acts[q]);
    double T = actfit_act_get_structure(a)->T;
    for (int i = 0; i < 2000; i++) {
      double x = -12 + 24 * urand(), o[3], g, xr;
      actfit_act_eval(a, x, o);
      ck_assert_int_eq(actfit_invact_reference(a, o[0], x < T ? -1 : 1, &g, &xr), ACTFIT_OK);
      /* y -> x is ill-conditioned by 1/f'(x): near T compare against that scale */
      double tol = fabs(x - T) > 0.05 ? 1e-13 * fmax(fabs(o[1]), 1e-2) : 1e-11;
      if (q == 4) /* log(1+exp(x)) in the expression itself loses 1e-12 relative */
        tol *= 1e3;
      if (fabs(o[1]) < 1e-12) /* deep tail: f' itself is below resolution of y */
        tol = 1e-13;
      ck_assert_msg(fabs(g - o[1]) <= tol, "%s x=%.17g: g %.17g f' %.17g", acts[q], x, g, o[1]);
    }
    actfit_act_free(a);
  }
}
END_TEST

START_TEST(fitted_error_meets_target_on_unseen_points)
{
  const char *acts[] = {"gelu", "silu", "mish"};
  for (int q = 0; q < 3; q++) {
    actfit_table t;
    fit(acts[q], 0, 0, &t);
    ck_assert(t.bit && t.nbranch == 2 && !t.exact);
    ck_assert(t.err_exact_y <= 1e-7);
    actfit_act *a = mk(acts[q]);
    double worst = 0;
    for (int i = 0; i < 200000; i++) {
      double r = urand(), x;
      if (i % 3 == 0)
        x = -30 + 60 * r;
      else if (i % 3 == 1)
        x = t.T + (r - 0.5) * 1e-3; /* near the minimum */
      else
        x = (r < 0.5 ? -1 : 1) * (30 + 970 * urand());
      double o[3];
      actfit_act_eval(a, x, o);
      worst = fmax(worst, fabs(actfit_invact_eval(&t, o[0], x < t.T) - o[1]));
    }
    ck_assert_msg(worst <= 1e-7, "%s: %g", acts[q], worst);
    actfit_act_free(a);
    actfit_table_destroy(&t);
  }
}
END_TEST

START_TEST(user_expressions_that_overflow_far_out_still_fit)
{
  /* exp(-x) overflows for x < -709: limits are taken where f and f' are finite */
  actfit_table e, b;
  fit("x/(1+exp(-x))", 0, 0, &e);
  fit("silu", 0, 0, &b);
  ck_assert(e.bit && e.err_exact_y <= 1e-7);
  ck_assert(fabs(e.T - b.T) < 1e-12);
  for (int i = 0; i < 1000; i++) {
    double y = e.y_min + 4 * urand();
    ck_assert(fabs(actfit_invact_eval(&e, y, i % 2) - actfit_invact_eval(&b, y, i % 2)) < 2e-7);
  }
  actfit_table_destroy(&e);
  actfit_table_destroy(&b);
}
END_TEST

START_TEST(exact_forms_are_exact)
{
  const char *acts[] = {"sigmoid", "tanh", "softplus", "softplus:beta=2,threshold=10", "elu",
                        "elu:alpha=0.3", "celu:alpha=2", "selu", "softsign", "logsigmoid",
                        "relu", "leaky_relu", "relu6", "hardtanh", "hardsigmoid", "hardswish",
                        "hardshrink", "softshrink"};
  for (size_t q = 0; q < sizeof acts / sizeof *acts; q++) {
    actfit_table t;
    fit(acts[q], 0, 0, &t);
    ck_assert_msg(t.exact, "%s is not exact", acts[q]);
    actfit_act *a = mk(acts[q]);
    for (int i = 0; i < 20000; i++) {
      double x = -15 + 30 * urand(), o[3];
      actfit_act_eval(a, x, o);
      double g = actfit_invact_eval(&t, o[0], t.bit ? x < t.T : 0);
      /* softplus switches to y = x at its threshold, where f' = sigma(20) = 1 - 2e-9 */
      double tol = strncmp(acts[q], "softplus", 8) ? 1e-14 : 3e-9;
      ck_assert_msg(fabs(g - o[1]) <= tol + 4 * DBL_EPSILON * fabs(o[1]),
                    "%s x=%.17g: g %.17g f' %.17g", acts[q], x, g, o[1]);
    }
    actfit_act_free(a);
    actfit_table_destroy(&t);
  }
}
END_TEST

START_TEST(branch_choice_at_T_and_one_ulp_either_side)
{
  actfit_table t;
  fit("gelu", 0, 0, &t);
  actfit_act *a = mk("gelu");
  double xs[3] = {nextafter(t.T, -INFINITY), t.T, nextafter(t.T, INFINITY)};
  int want_s[3] = {1, 0, 0};
  for (int i = 0; i < 3; i++) {
    int s = xs[i] < t.T;
    ck_assert_int_eq(s, want_s[i]);
    double o[3];
    actfit_act_eval(a, xs[i], o);
    ck_assert(fabs(actfit_invact_eval(&t, o[0], s) - o[1]) <= 1e-7);
  }
  /* 1e-3 away the branches have opposite signs, and the bit picks the right one */
  double o[3];
  actfit_act_eval(a, t.T - 1e-3, o);
  ck_assert(o[1] < 0 && actfit_invact_eval(&t, o[0], 1) < 0 && actfit_invact_eval(&t, o[0], 0) > 0);
  ck_assert(fabs(actfit_invact_eval(&t, o[0], 1) - o[1]) <= 1e-7);
  /* rounding can store y below y_min: clamped to t = 0, finite, ~f'(T) = 0 */
  for (int s = 0; s < 2; s++) {
    double g = actfit_invact_eval(&t, t.y_min - 1e-9, s);
    ck_assert(isfinite(g) && fabs(g) <= 1e-7);
  }
  actfit_act_free(a);
  actfit_table_destroy(&t);
}
END_TEST

static double ulp_at(double y, int dt)
{
  int e;
  frexp(y, &e); /* |y| in [2^(e-1), 2^e) */
  int mant = dt == ACTFIT_DT_FP32 ? 24 : dt == ACTFIT_DT_FP16 ? 11 : 8;
  return ldexp(1.0, e - mant);
}

START_TEST(floor_at_T_is_sqrt_of_curvature_times_ulp)
{
  const char *acts[] = {"gelu", "silu"};
  for (int q = 0; q < 2; q++) {
    actfit_table t;
    fit(acts[q], 200000, 0, &t);
    actfit_act *a = mk(acts[q]);
    double f2 = actfit_act_d2f(a, t.T);
    for (int k = 0; k < ACTFIT_DT_COUNT; k++) {
      double want = sqrt(f2 * ulp_at(t.y_min, k));
      double got = t.dt[k][0].floor_max;
      ck_assert_msg(got >= 0.2 * want && got <= 2.5 * want, "%s dtype %d: floor %g, sqrt(f'' ulp) %g",
                    acts[q], k, got, want);
      /* the fit is within 10% (max) and 25% (RMS) of the floor */
      for (int v = 0; v < 2; v++) {
        const actfit_invact_err *e = &t.dt[k][v];
        ck_assert_msg(e->max <= 1.10 * e->floor_max, "%s dt %d v %d: max %g floor %g", acts[q],
                      k, v, e->max, e->floor_max);
        ck_assert_msg(e->rms <= 1.25 * e->floor_rms, "%s dt %d v %d: rms %g floor %g", acts[q],
                      k, v, e->rms, e->floor_rms);
      }
    }
    actfit_act_free(a);
    actfit_table_destroy(&t);
  }
}
END_TEST

START_TEST(bad_input_is_rejected_with_a_clear_message)
{
  struct { const char *act; double target; actfit_status st; const char *msg; } c[] = {
    {"x^4-x^2", 1e-7, ACTFIT_ESTRUCT, "2 interior minima"},
    {"-x*x", 1e-7, ACTFIT_ESTRUCT, "1 maxima"},
    {"gelu", 1e-15, ACTFIT_EINVAL, "below what double can certify"},
    /* an isolated zero of f' in a branch: refused up front, saying why */
    {"tanhshrink", 1e-7, ACTFIT_ESTRUCT, "f'(0) = 0 inside a monotone branch"},
    {"gelu", 1e300, ACTFIT_EINVAL, "above 1e-2"},
  };
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    actfit_act *a = mk(c[i].act);
    actfit_invact_params p;
    actfit_invact_params_init(&p);
    p.target = c[i].target;
    p.npoints = 0;
    actfit_table t;
    char err[ACTFIT_ERRLEN] = "";
    ck_assert_int_eq(actfit_invact_fit(a, &p, &t, err, sizeof err), c[i].st);
    ck_assert_msg(strstr(err, c[i].msg), "%s: '%s'", c[i].act, err);
    ck_assert_ptr_null(t.br);
    actfit_act_free(a);
  }
}
END_TEST

START_TEST(json_round_trip_and_thread_independence)
{
  actfit_table a, b, u;
  fit("silu", 100000, 1, &a);
  fit("silu", 100000, 2, &b);
  char *ta, *tb, err[ACTFIT_ERRLEN] = "";
  ck_assert_int_eq(actfit_table_to_json(&a, &ta, err, sizeof err), ACTFIT_OK);
  ck_assert_int_eq(actfit_table_to_json(&b, &tb, err, sizeof err), ACTFIT_OK);
  ck_assert_str_eq(ta, tb);
  ck_assert_msg(actfit_table_from_json(ta, &u, err, sizeof err) == ACTFIT_OK, "%s", err);
  char *tu;
  ck_assert_int_eq(actfit_table_to_json(&u, &tu, err, sizeof err), ACTFIT_OK);
  ck_assert_str_eq(ta, tu);
  for (int i = 0; i < 1000; i++) {
    double y = a.y_min + 3 * urand();
    ck_assert(actfit_invact_eval(&a, y, i % 2) == actfit_invact_eval(&u, y, i % 2));
  }
  free(ta);
  free(tb);
  free(tu);
  actfit_table_destroy(&a);
  actfit_table_destroy(&b);
  actfit_table_destroy(&u);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("invact");
  TCase *tc = tcase_create("invact");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, reference_g_matches_fprime_at_random_x);
  tcase_add_test(tc, fitted_error_meets_target_on_unseen_points);
  tcase_add_test(tc, exact_forms_are_exact);
  tcase_add_test(tc, user_expressions_that_overflow_far_out_still_fit);
  tcase_add_test(tc, branch_choice_at_T_and_one_ulp_either_side);
  tcase_add_test(tc, floor_at_T_is_sqrt_of_curvature_times_ulp);
  tcase_add_test(tc, bad_input_is_rejected_with_a_clear_message);
  tcase_add_test(tc, json_round_trip_and_thread_independence);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(suite)
