/* Activation library: values, derivatives, tails, structure, parameters, expressions. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "actfit/act.h"
#include "actfit/runtime.h"
#include "testutil.h"

static actfit_act *mk(const char *spec)
{
  actfit_act *a = NULL;
  char err[ACTFIT_ERRLEN];
  ck_assert_msg(actfit_act_alloc(spec, &a, err, sizeof err) == ACTFIT_OK, "%s: %s", spec, err);
  return a;
}

START_TEST(gelu_derivative_at_one_matches_closed_form)
{
  actfit_act *a = mk("gelu");
  ck_assert_rel(actfit_act_df(a, 1.0), 1.0833154705876864, 2e-16);
  ck_assert_rel(actfit_act_f(a, 1.0), 0.84134474606854293, 2e-16);
  actfit_act_free(a);
}
END_TEST

START_TEST(known_values_of_builtins)
{
  struct { const char *spec; double x, f, df; } v[] = {
    {"sigmoid", 0, 0.5, 0.25},          {"tanh", 0, 0, 1},
    {"silu", 0, 0, 0.5},                {"softplus", 0, 0.69314718055994531, 0.5},
    {"mish", 0, 0, 0.6},                {"elu", -1, -0.63212055882855767, 0.36787944117144233},
    {"elu:alpha=0.5", -1, -0.31606027941427883, 0.18393972058572117},
    {"relu", 2, 2, 1},                  {"relu6", 7, 6, 0},
    {"leaky_relu", -2, -0.02, 0.01},    {"hardswish", 1, 2.0 / 3.0, 5.0 / 6.0},
    {"hardsigmoid", 0, 0.5, 1.0 / 6.0}, {"hardtanh", 3, 1, 0},
    {"softsign", 1, 0.5, 0.25},         {"logsigmoid", 0, -0.69314718055994531, 0.5},
    {"hardshrink", 0.4, 0, 0},          {"softshrink", 1, 0.5, 1},
    {"celu:alpha=2", -2, -1.2642411176571153, 0.36787944117144233},
    {"selu", 1, 1.0507009873554805, 1.0507009873554805},
    {"softplus:beta=2,threshold=10", 6, 6, 1},
    {"tanhshrink", 1, 0.23840584404423515, 0.58002565838597386},
  };
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
    actfit_act *a = mk(v[i].spec);
    double o[3];
    actfit_act_eval(a, v[i].x, o);
    ck_assert_msg(fabs(o[0] - v[i].f) <= 4e-16 * fmax(1, fabs(v[i].f)), "%s f(%g) = %.17g",
                  v[i].spec, v[i].x, o[0]);
    ck_assert_msg(fabs(o[1] - v[i].df) <= 4e-16 * fmax(1, fabs(v[i].df)), "%s f'(%g) = %.17g",
                  v[i].spec, v[i].x, o[1]);
    actfit_act_free(a);
  }
}
END_TEST

/* 8th-order central difference of component c (0: f -> f', 1: f' -> f'') */
static double fd8(const actfit_act *a, double x, int c, double h)
{
  static const double w[4] = {4.0 / 5, -1.0 / 5, 4.0 / 105, -1.0 / 280};
  double s = 0, p[3], m[3];
  for (int k = 1; k <= 4; k++) {
    actfit_act_eval(a, x + k * h, p);
    actfit_act_eval(a, x - k * h, m);
    s += w[k - 1] * (p[c] - m[c]);
  }
  return s / h;
}

START_TEST(derivatives_match_finite_differences)
{
  for (const actfit_act_type *t = actfit_act_types; t->name; t++) {
    actfit_act *a = mk(t->name);
    const actfit_act_structure *st = actfit_act_get_structure(a);
    for (double x = -7.3; x < 7.3; x += 0.173) {
      int near = 0;
      for (int k = 0; k < st->nkinks; k++)
        near |= fabs(x - st->kinks[k]) < 0.02;
      if (near)
        continue;
      double o[3];
      actfit_act_eval(a, x, o);
      double d1 = fd8(a, x, 0, 1e-3), d2 = fd8(a, x, 1, 1e-3);
      ck_assert_msg(fabs(d1 - o[1]) <= 1e-9 * fmax(1, fabs(o[1])), "%s f'(%g) = %.17g, fd %.17g",
                    t->name, x, o[1], d1);
      ck_assert_msg(fabs(d2 - o[2]) <= 1e-8 * fmax(1, fabs(o[2])),
                    "%s f''(%g) = %.17g, fd %.17g", t->name, x, o[2], d2);
    }
    actfit_act_free(a);
  }
}
END_TEST

START_TEST(smooth_builtins_are_accurate_to_a_few_ulp)
{
  /* references in long double (64-bit mantissa) */
  actfit_act *g = mk("gelu"), *s = mk("silu"), *th = mk("tanh"), *sg = mk("sigmoid");
  for (double x = -30; x <= 30; x += 0.0371) {
    long double X = x;
    long double Phi = 0.5L * erfcl(-X / sqrtl(2.0L));
    long double phi = expl(-0.5L * X * X) / sqrtl(2.0L * 3.14159265358979323846264338327950288L);
    long double sig = 1.0L / (1.0L + expl(-X));
    long double ref[4][2] = {{X * Phi, Phi + X * phi},
                             {X * sig, sig * (1 + X * (1 - sig))},
                             {tanhl(X), 1.0L / (coshl(X) * coshl(X))},
                             {sig, expl(-fabsl(X)) / ((1 + expl(-fabsl(X))) * (1 + expl(-fabsl(X))))}};
    const actfit_act *acts[4] = {g, s, th, sg};
    for (int k = 0; k < 4; k++) {
      double o[3];
      actfit_act_eval(acts[k], x, o);
      for (int c = 0; c < 2; c++) {
        double r = (double)ref[k][c];
        if (fabs(r) < 1e-300)
          continue;
        /* f' of gelu and silu has a root (their minimum T): there the error is measured
         * against the size of the terms that cancel, |sigma| or |Phi| ~ 0.1 */
        double scale = (c == 1 && k < 2) ? fmax(fabs(r), 0.1) : fabs(r);
        double ulps = fabs(o[c] - r) / (DBL_EPSILON * scale);
        double lim = 8;
        ck_assert_msg(ulps <= lim, "act %d comp %d at x=%g: %.17g vs %.17g (%.1f ulp)", k, c,
                      x, o[c], r, ulps);
      }
    }
  }
  actfit_act_free(g);
  actfit_act_free(s);
  actfit_act_free(th);
  actfit_act_free(sg);
}
END_TEST

START_TEST(tails_are_finite)
{
  for (const actfit_act_type *t = actfit_act_types; t->name; t++) {
    actfit_act *a = mk(t->name);
    double xs[] = {-1e3, -700, -40, 40, 700, 1e3};
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
      double o[3];
      actfit_act_eval(a, xs[i], o);
      for (int c = 0; c < 3; c++)
        ck_assert_msg(isfinite(o[c]), "%s: component %d at %g is %g", t->name, c, xs[i], o[c]);
    }
    actfit_act_free(a);
  }
}
END_TEST

START_TEST(structure_of_gelu_tanh_hardswish_relu)
{
  actfit_act *g = mk("gelu");
  const actfit_act_structure *st = actfit_act_get_structure(g);
  ck_assert(st->has_min);
  ck_assert_rel(st->T, -0.75179152469356, 1e-13);
  ck_assert(fabs(actfit_act_df(g, st->T)) < 1e-16);
  ck_assert_int_eq(st->nbranches, 2);
  ck_assert_int_eq(st->branches[0].dir, ACTFIT_MONO_DEC);
  ck_assert(!st->deriv_even);
  actfit_act_free(g);

  actfit_act *t = mk("tanh");
  st = actfit_act_get_structure(t);
  ck_assert(st->deriv_even);
  ck_assert(!st->has_min);
  ck_assert_int_eq(st->nbranches, 1);
  actfit_act_free(t);

  actfit_act *h = mk("hardswish");
  st = actfit_act_get_structure(h);
  ck_assert_int_eq(st->nkinks, 2);
  ck_assert(st->kinks[0] == -3.0 && st->kinks[1] == 3.0 && st->kink_jump[0]);
  ck_assert(st->has_min && st->T == -1.5);
  actfit_act_free(h);

  actfit_act *r = mk("relu");
  st = actfit_act_get_structure(r);
  ck_assert_int_eq(st->nbranches, 1);
  ck_assert(!st->has_min);
  actfit_act_free(r);

  actfit_act *ht = mk("hardtanh:min_val=-1,max_val=2");
  ck_assert(!actfit_act_get_structure(ht)->deriv_even);
  actfit_act_free(ht);
}
END_TEST

START_TEST(parameters_parse_and_bad_ones_are_named)
{
  actfit_act *a = mk("softplus:beta=2,threshold=10");
  ck_assert(actfit_act_param(a, 0) == 2.0 && actfit_act_param(a, 1) == 10.0);
  char spec[128];
  ck_assert_int_eq(actfit_act_spec(a, spec, sizeof spec), ACTFIT_OK);
  ck_assert_str_eq(spec, "softplus:beta=2,threshold=10");
  actfit_act_free(a);

  struct { const char *spec; actfit_status st; const char *msg; } bad[] = {
    {"nope", ACTFIT_EUNKNOWN, "unknown activation 'nope'"},
    {"elu:beta=1", ACTFIT_EUNKNOWN, "no parameter 'beta'"},
    {"elu:alpha=abc", ACTFIT_EPARSE, "'abc' is not a finite number"},
    {"elu:alpha", ACTFIT_EPARSE, "name=value"},
    {"elu:", ACTFIT_EPARSE, "empty parameter list"},
    {"celu:alpha=0", ACTFIT_EINVAL, "alpha=0 is out of range"},
    {"softplus:beta=-1", ACTFIT_EINVAL, "beta=-1 is out of range"},
    {"hardtanh:min_val=2", ACTFIT_EINVAL, "out of range"},
    {"elu:alpha=inf", ACTFIT_EPARSE, "not a finite number"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char err[ACTFIT_ERRLEN] = "";
    actfit_act *b = (actfit_act *)1;
    ck_assert_int_eq(actfit_act_alloc(bad[i].spec, &b, err, sizeof err), bad[i].st);
    ck_assert_ptr_null(b);
    ck_assert_msg(strstr(err, bad[i].msg), "%s: '%s' lacks '%s'", bad[i].spec, err, bad[i].msg);
  }
}
END_TEST

START_TEST(expressions_match_builtins_and_errors_are_clear)
{
  actfit_act *e = NULL, *s = mk("silu"), *m = mk("mish");
  char err[ACTFIT_ERRLEN] = "";
  ck_assert_int_eq(actfit_act_alloc_expr("x/(1+exp(-x))", &e, err, sizeof err), ACTFIT_OK);
  for (double x = -5; x <= 5; x += 0.25) {
    ck_assert(fabs(actfit_act_df(e, x) - actfit_act_df(s, x)) < 1e-14);
    ck_assert(fabs(actfit_act_d2f(e, x) - actfit_act_d2f(s, x)) < 1e-13);
  }
  ck_assert(actfit_act_get_structure(e)->has_min);
  ck_assert_rel(actfit_act_get_structure(e)->T, actfit_act_get_structure(s)->T, 1e-14);
  ck_assert_str_eq(actfit_act_name(e), "expr");
  actfit_act_free(e);
  ck_assert_int_eq(actfit_act_alloc_expr("x*tanh(log(1+exp(x)))", &e, err, sizeof err),
                   ACTFIT_OK);
  ck_assert(fabs(actfit_act_df(e, 0.7) - actfit_act_df(m, 0.7)) < 1e-14);
  actfit_act_free(e);

  struct { const char *x; const char *msg; } bad[] = {
    {"x+y", "variable 'y'"}, {"x+*", "cannot parse"}, {"", "empty"}, {"sin(", "cannot parse"}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    err[0] = 0;
    ck_assert_int_eq(actfit_act_alloc_expr(bad[i].x, &e, err, sizeof err), ACTFIT_EPARSE);
    ck_assert_ptr_null(e);
    ck_assert_msg(strstr(err, bad[i].msg), "'%s': %s", bad[i].x, err);
  }
  ck_assert_int_eq(actfit_act_alloc_expr("log(x)", &e, err, sizeof err), ACTFIT_OK);
  ck_assert_int_eq(actfit_act_check_domain(e, -1, 1, err, sizeof err), ACTFIT_EDOMAIN);
  ck_assert(strstr(err, "not finite"));
  actfit_act_free(e);
  actfit_act_free(s);
  actfit_act_free(m);
}
END_TEST

START_TEST(expressions_mean_what_they_say_or_are_refused)
{
  char err[ACTFIT_ERRLEN];
  actfit_act *a = NULL;
  /* characters libmatheval would drop (and echo to stdout) are refused, with the position */
  ck_assert_int_eq(actfit_act_alloc_expr("x!", &a, err, sizeof err), ACTFIT_EPARSE);
  ck_assert_msg(strstr(err, "unexpected character '!' at position 2"), "%s", err);
  ck_assert_int_eq(actfit_act_alloc_expr("exp(x)?", &a, err, sizeof err), ACTFIT_EPARSE);
  ck_assert_int_eq(actfit_act_alloc_expr("x,2", &a, err, sizeof err), ACTFIT_EPARSE);
  ck_assert_int_eq(actfit_act_alloc_expr("x.", &a, err, sizeof err), ACTFIT_EPARSE);
  ck_assert_int_eq(actfit_act_alloc_expr("x*.5+1.25", &a, err, sizeof err), ACTFIT_OK);
  actfit_act_free(a);
  a = NULL;
  ck_assert_ptr_null(a);
  /* a wrong symbolic derivative (libmatheval's asinh) is caught; the log form works */
  ck_assert_int_eq(actfit_act_alloc_expr("asinh(x)", &a, err, sizeof err), ACTFIT_EDOMAIN);
  ck_assert_msg(strstr(err, "disagrees with finite differences"), "%s", err);
  ck_assert_int_eq(actfit_act_alloc_expr("log(x+sqrt(x^2+1))", &a, err, sizeof err), ACTFIT_OK);
  ck_assert_double_eq_tol(actfit_act_df(a, 0.5), 1 / sqrt(1.25), 1e-15);
  actfit_act_free(a);
  /* more monotone branches than supported: refused, not cut short */
  ck_assert_int_eq(actfit_act_alloc_expr("sin(x)", &a, err, sizeof err), ACTFIT_ESTRUCT);
  ck_assert_msg(strstr(err, "changes sign more than"), "%s", err);
  /* extrema beyond |x| = 32 are found: one dip of f' below 0 near x = 49.5 (the sampling
   * there used to step by ~1.5 and saw none) */
  ck_assert_int_eq(actfit_act_alloc_expr("x+0.5*sin(4*x)*exp(-(x-50)^2)", &a, err, sizeof err),
                   ACTFIT_OK);
  ck_assert_int_eq(actfit_act_get_structure(a)->nbranches, 3);
  ck_assert_double_eq_tol(actfit_act_get_structure(a)->branches[1].lo, 49.363407681560467, 1e-9);
  actfit_act_free(a);
  /* kinks: isolated non-finite f'' is a kink, as for the built-ins */
  ck_assert_int_eq(actfit_act_alloc_expr("abs(x)", &a, err, sizeof err), ACTFIT_OK);
  const actfit_act_structure *st = actfit_act_get_structure(a);
  ck_assert_int_eq(st->nkinks, 1);
  ck_assert(st->kinks[0] == 0.0 && st->kink_jump[0] == 1);
  ck_assert(isfinite(actfit_act_df(a, 0.0)) && isfinite(actfit_act_d2f(a, 0.0)));
  ck_assert_int_eq(actfit_act_check_domain(a, -3, 3, err, sizeof err), ACTFIT_OK);
  actfit_act_free(a);
  ck_assert_int_eq(actfit_act_alloc_expr("x*step(x)", &a, err, sizeof err), ACTFIT_OK);
  ck_assert_int_eq(actfit_act_get_structure(a)->nkinks, 1);
  actfit_act_free(a);
  /* domains that double precision cannot grid */
  a = mk("gelu");
  ck_assert_int_eq(actfit_act_check_domain(a, -1e308, 1e308, err, sizeof err), ACTFIT_EINVAL);
  ck_assert_msg(strstr(err, "overflows"), "%s", err);
  ck_assert_int_eq(actfit_act_check_domain(a, -8e-300, 8e-300, err, sizeof err), ACTFIT_EINVAL);
  ck_assert_msg(strstr(err, "too narrow"), "%s", err);
  actfit_act_free(a);
}
END_TEST

/* Long and deep expressions are refused with one clear error before libmatheval (whose
 * recursive simplifier overflowed the stack on x+x+...+x with 30,000 terms), and the
 * reason fits the message buffer whatever the expression's length. */
START_TEST(long_and_deep_expressions_are_refused_with_the_reason)
{
  char err[ACTFIT_ERRLEN];
  actfit_act *a = NULL;
  size_t n = 400000;
  char *e = malloc(n + 1);
  for (size_t i = 0; i < n; i++)
    e[i] = i % 2 ? '+' : 'x';
  e[n - 1] = 'x';
  e[n] = 0;
  ck_assert_int_eq(actfit_act_alloc_expr(e, &a, err, sizeof err), ACTFIT_EPARSE);
  ck_assert_ptr_null(a);
  ck_assert_msg(strstr(err, "longer than the limit of 256"), "%s", err);
  /* 65 operators in 250 characters: too many; 64: fine */
  strcpy(e, "x");
  for (int i = 0; i < 65; i++)
    strcat(e, "+x");
  ck_assert_int_eq(actfit_act_alloc_expr(e, &a, err, sizeof err), ACTFIT_EPARSE);
  ck_assert_msg(strstr(err, "65 operators") && strstr(err, "limits are 64 and 16"), "%s", err);
  ck_assert_msg(strstr(err, "...'"), "the expression is quoted short: %s", err);
  e[strlen(e) - 2] = 0;
  ck_assert_int_eq(actfit_act_alloc_expr(e, &a, err, sizeof err), ACTFIT_OK);
  actfit_act_free(a);
  /* 17 nested calls: too deep; 16: fine */
  for (int depth = 16; depth <= 17; depth++) {
    e[0] = 0;
    for (int i = 0; i < depth; i++)
      strcat(e, depth == 16 ? "(" : "tanh("); /* 16 tanh: f'' too long (the next test) */
    strcat(e, "x");
    for (int i = 0; i < depth; i++)
      strcat(e, ")");
    ck_assert_int_eq(actfit_act_alloc_expr(e, &a, err, sizeof err),
                     depth == 16 ? ACTFIT_OK : ACTFIT_EPARSE);
    if (depth == 17)
      ck_assert_msg(strstr(err, "17 nested parentheses"), "%s", err);
    actfit_act_free(a);
    a = NULL;
  }
  free(e);
}
END_TEST

/* Within those bounds f'' can still be huge: x*x*...*x*tanh(x) with 56 factors (119
 * characters, 56 operators) has an f'' of 246,947 characters, and analysing it took 49 s.
 * It is refused before any evaluation, with the size of f'' and the limit; the realistic
 * forms (GELU's tanh form, Mish) pass, and so does the same product with 14 factors. */
START_TEST(expressions_whose_second_derivative_is_huge_are_refused_at_once)
{
  char err[ACTFIT_ERRLEN], e[256] = "";
  actfit_act *a = NULL;
  for (int i = 0; i < 56; i++)
    strcat(e, "x*");
  strcat(e, "tanh(x)");
  ck_assert_int_eq(actfit_act_alloc_expr(e, &a, err, sizeof err), ACTFIT_EPARSE);
  ck_assert_ptr_null(a);
  ck_assert_msg(strstr(err, "f'' has ") && strstr(err, "characters written out") &&
                    strstr(err, "limit of 8192"), "%s", err);
  const char *ok[] = {"x*0.5*(1+tanh(0.7978845608*(x+0.044715*x^3)))", "x*tanh(log(1+exp(x)))",
                      "x*x*x*x*x*x*x*x*x*x*x*x*x*x*tanh(x)"};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    ck_assert_msg(actfit_act_alloc_expr(ok[i], &a, err, sizeof err) == ACTFIT_OK, "%s: %s", ok[i], err);
    actfit_act_free(a);
    a = NULL;
  }
}
END_TEST

/* A pole of f' between the domain check's samples is found (1/(x-0.3) was fitted into a
 * table with E = 5.6e9), and bounded expressions pass. */
START_TEST(poles_between_samples_are_found_and_bounded_functions_pass)
{
  char err[ACTFIT_ERRLEN];
  const struct { const char *e; const char *at; } pole[] = {
    {"1/(x-0.3)", "x = 0.3"}, {"1/(x-0.25)", "x = 0.25"}, {"log(abs(x-0.3))", "x = 0.3"},
    {"x+0.001/(x+3.14159)", "x = -3.14159"}};
  for (size_t i = 0; i < sizeof pole / sizeof *pole; i++) {
    actfit_act *a = NULL;
    ck_assert_int_eq(actfit_act_alloc_expr(pole[i].e, &a, err, sizeof err), ACTFIT_OK);
    ck_assert_int_eq(actfit_act_check_domain(a, -10, 10, err, sizeof err), ACTFIT_EDOMAIN);
    ck_assert_msg(strstr(err, "unbounded") && strstr(err, pole[i].at), "%s: %s", pole[i].e, err);
    ck_assert_int_eq(actfit_act_check_domain(a, 1, 5, err, sizeof err), ACTFIT_OK);
    actfit_act_free(a);
  }
  const char *fine[] = {"x/(1+exp(-x))", "abs(x)", "x*step(x)", "1/(1+x^2)", "100*tanh(x/100)",
                        "x*tanh(log(1+exp(x)))", "exp(-x^2)*50"};
  for (size_t i = 0; i < sizeof fine / sizeof *fine; i++) {
    actfit_act *a = NULL;
    ck_assert_int_eq(actfit_act_alloc_expr(fine[i], &a, err, sizeof err), ACTFIT_OK);
    ck_assert_msg(actfit_act_check_domain(a, -10, 10, err, sizeof err) == ACTFIT_OK, "%s: %s",
                  fine[i], err);
    actfit_act_free(a);
  }
}
END_TEST

/* actfit_act_types follows include/actfit/act_list.h row for row: the runtime's ids (and
 * its name list) and the fitting library's descriptors name the same activation */
START_TEST(descriptors_follow_the_one_list_of_activations)
{
  static const char *const names[] = {
#define NAME_ROW(id, name, fwd, fewbit) #name,
    ACTFIT_ACT_LIST(NAME_ROW)
#undef NAME_ROW
  };
  ck_assert_int_eq((int)(sizeof names / sizeof *names), ACTFIT_A_COUNT);
  for (int i = 0; i < ACTFIT_A_COUNT; i++) {
    ck_assert_str_eq(actfit_act_types[i].name, names[i]);
    ck_assert_str_eq(actfit_rt_act_name(i), names[i]);
  }
  ck_assert_ptr_null(actfit_act_types[ACTFIT_A_COUNT].name);
  ck_assert_ptr_null(actfit_rt_act_name(ACTFIT_A_COUNT));
  ck_assert_ptr_null(actfit_rt_act_name(-1));
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("act");
  TCase *tc = tcase_create("act");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, gelu_derivative_at_one_matches_closed_form);
  tcase_add_test(tc, known_values_of_builtins);
  tcase_add_test(tc, derivatives_match_finite_differences);
  tcase_add_test(tc, smooth_builtins_are_accurate_to_a_few_ulp);
  tcase_add_test(tc, tails_are_finite);
  tcase_add_test(tc, structure_of_gelu_tanh_hardswish_relu);
  tcase_add_test(tc, parameters_parse_and_bad_ones_are_named);
  tcase_add_test(tc, expressions_match_builtins_and_errors_are_clear);
  tcase_add_test(tc, expressions_mean_what_they_say_or_are_refused);
  tcase_add_test(tc, long_and_deep_expressions_are_refused_with_the_reason);
  tcase_add_test(tc, expressions_whose_second_derivative_is_huge_are_refused_at_once);
  tcase_add_test(tc, poles_between_samples_are_found_and_bounded_functions_pass);
  tcase_add_test(tc, descriptors_follow_the_one_list_of_activations);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(suite)
