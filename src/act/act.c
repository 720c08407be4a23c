/* Activation objects: "name:p=v" parsing, libmatheval expressions, and the numerical
 * structure analysis shared by both (sign changes of f' bracketed on a dense grid by
 * act_scan.c, refined with GSL's Brent solver, then polished by Newton on f'). */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <matheval.h>

#include "actfit/act.h"
#include "act/act_impl.h"
#include "core/util.h"

#define ACTFIT__NCOPY 4

struct actfit_act {
  const actfit_act_type *type; /* NULL for expressions */
  double params[ACTFIT_ACT_MAX_PARAMS];
  char *expr;
  /* libmatheval evaluators for f, f', f'': NCOPY independent copies, each behind its own
   * lock, so threads (the InvAct analysis, the fit) evaluate an expression in parallel */
  void *ev[ACTFIT__NCOPY][3];
  pthread_mutex_t lk[ACTFIT__NCOPY];
  actfit_act_structure st;
};

/* libmatheval stores variable values inside the tree, so one tree is evaluated by one thread
 * at a time; its parser has global state, so parsing and differentiating take this lock. */
static pthread_mutex_t expr_lock = PTHREAD_MUTEX_INITIALIZER;

/* a free copy of the evaluators (locked; blocks on this thread's usual one if all are busy) */
static _Thread_local int copy_hint;
static int grab(const actfit_act *a)
{
  pthread_mutex_t *lk = (pthread_mutex_t *)a->lk;
  for (int i = 0; i < ACTFIT__NCOPY; i++) {
    int c = (copy_hint + i) % ACTFIT__NCOPY;
    if (pthread_mutex_trylock(&lk[c]) == 0)
      return copy_hint = c;
  }
  pthread_mutex_lock(&lk[copy_hint]);
  return copy_hint;
}

static void drop(const actfit_act *a, int c) { pthread_mutex_unlock((pthread_mutex_t *)&a->lk[c]); }

void actfit_act_eval(const actfit_act *a, double x, double out[3])
{
  if (a->type) {
    a->type->eval(a->params, x, out);
    return;
  }
  int c = grab(a);
  void *const *ev = a->ev[c];
  for (int i = 0; i < 3; i++)
    out[i] = evaluator_evaluate_x(ev[i], x);
  for (int k = 0; k < a->st.nkinks && !(isfinite(out[1]) && isfinite(out[2])); k++)
    if (x == a->st.kinks[k]) { /* f' and f'' at a kink: the mean of the one-sided values */
      for (int i = 1; i < 3; i++)
        out[i] = 0.5 * (evaluator_evaluate_x(ev[i], nextafter(x, -INFINITY)) +
                        evaluator_evaluate_x(ev[i], nextafter(x, INFINITY)));
      if (a->st.kink_jump[k] || !isfinite(out[2]))
        out[2] = 0.0; /* a jump of f' (or of f''): no second derivative there */
    }
  drop(a, c);
}

void actfit_act_eval_n(const actfit_act *a, double x, int n, double *out)
{
  double o[3];
  if (a->type || n >= 3) {
    actfit_act_eval(a, x, o);
  } else {
    int c = grab(a);
    for (int i = 0; i < n; i++)
      o[i] = evaluator_evaluate_x(a->ev[c][i], x);
    drop(a, c);
    if (n == 2 && !isfinite(o[1]))
      actfit_act_eval(a, x, o); /* a kink: the full evaluation's one-sided mean */
  }
  for (int i = 0; i < n && i < 3; i++)
    out[i] = o[i];
}

/* one derivative of an expression: only its tree is evaluated (f'' is the largest); at a
 * kink, and for built-ins, the full evaluation */
static double eval_one(const actfit_act *a, double x, int k)
{
  double o[3];
  if (!a->type) {
    int c = grab(a);
    double v = evaluator_evaluate_x(a->ev[c][k], x);
    drop(a, c);
    if (isfinite(v) || k == 0)
      return v;
  }
  actfit_act_eval(a, x, o);
  return o[k];
}

double actfit_act_f(const actfit_act *a, double x) { return eval_one(a, x, 0); }
double actfit_act_df(const actfit_act *a, double x) { return eval_one(a, x, 1); }
double actfit_act_d2f(const actfit_act *a, double x) { return eval_one(a, x, 2); }

const actfit_act_structure *actfit_act_get_structure(const actfit_act *a) { return &a->st; }
const char *actfit_act_name(const actfit_act *a) { return a->type ? a->type->name : "expr"; }
const char *actfit_act_expr(const actfit_act *a) { return a->expr; }
int actfit_act_nparams(const actfit_act *a) { return a->type ? a->type->nparams : 0; }

const char *actfit_act_param_name(const actfit_act *a, int i)
{
  return (a->type && i >= 0 && i < a->type->nparams) ? a->type->param_names[i] : NULL;
}

double actfit_act_param(const actfit_act *a, int i)
{
  return (a->type && i >= 0 && i < a->type->nparams) ? a->params[i] : NAN;
}

actfit_status actfit_act_spec(const actfit_act *a, char *buf, size_t n)
{
  size_t used = 0;
  int w;
  if (!a->type) {
    w = snprintf(buf, n, "%s", a->expr);
    return (w < 0 || (size_t)w >= n) ? ACTFIT_EINVAL : ACTFIT_OK;
  }
  w = snprintf(buf, n, "%s", a->type->name);
  if (w < 0 || (size_t)w >= n)
    return ACTFIT_EINVAL;
  used = (size_t)w;
  for (int i = 0; i < a->type->nparams; i++) {
    w = snprintf(buf + used, n - used, "%c%s=%.17g", i ? ',' : ':', a->type->param_names[i],
                 a->params[i]);
    if (w < 0 || (size_t)w >= n - used)
      return ACTFIT_EINVAL;
    used += (size_t)w;
  }
  return ACTFIT_OK;
}

void actfit_act_free(actfit_act *a)
{
  if (!a)
    return;
  for (int c = 0; c < ACTFIT__NCOPY; c++) {
    for (int i = 0; i < 3; i++)
      if (a->ev[c][i])
        evaluator_destroy(a->ev[c][i]);
    if (a->expr)
      pthread_mutex_destroy(&a->lk[c]);
  }
  free(a->expr);
  free(a);
}

/* ---- structure ---------------------------------------------------------------------- */

typedef struct {
  const actfit_act *a;
} root_ctx;

static double df_fn(double x, void *p) { return actfit_act_df(((root_ctx *)p)->a, x); }

/* Root of f' in [lo, hi] where f' changes sign: Brent to a bracket of a few ulp, then up
 * to three Newton steps on f' that are kept only while they shrink |f'|. */
static double refine_root(const actfit_act *a, double lo, double hi)
{
  root_ctx ctx = {a};
  gsl_function F = {df_fn, &ctx};
  gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
  double r = 0.5 * (lo + hi);
  if (s && gsl_root_fsolver_set(s, &F, lo, hi) == GSL_SUCCESS) {
    for (int it = 0; it < 200; it++) {
      if (gsl_root_fsolver_iterate(s) != GSL_SUCCESS)
        break;
      r = gsl_root_fsolver_root(s);
      double l = gsl_root_fsolver_x_lower(s), h = gsl_root_fsolver_x_upper(s);
      if (gsl_root_test_interval(l, h, 0.0, 4 * 2.2e-16) == GSL_SUCCESS)
        break;
    }
  }
  gsl_root_fsolver_free(s);
  for (int it = 0; it < 3; it++) {
    double o[3];
    actfit_act_eval(a, r, o);
    if (o[1] == 0.0 || o[2] == 0.0 || !isfinite(o[2]))
      break;
    double rn = r - o[1] / o[2];
    if (!(rn >= lo && rn <= hi) || fabs(actfit_act_df(a, rn)) >= fabs(o[1]))
      break;
    r = rn;
  }
  return r;
}

static void act_eval3(const void *ctx, double x, double out[3])
{
  actfit_act_eval(ctx, x, out);
}

static actfit_status analyse(actfit_act *a)
{
  actfit_act_structure *st = &a->st;
  int n;
  double *xs = actfit__act_sample_points(st->kinks, st->nkinks, &n);
  if (!xs)
    return ACTFIT_ENOMEM;

  /* parity of f' */
  st->deriv_even = 1;
  for (int i = 0; i < n && st->deriv_even; i++) {
    double x = xs[i];
    if (x <= 0)
      continue;
    double d1 = actfit_act_df(a, x), d2 = actfit_act_df(a, -x);
    if (!(fabs(d1 - d2) <= 1e-13 * fmax(fabs(d1), fabs(d2))))
      st->deriv_even = 0;
  }

  /* monotone branches: split where f' changes strict sign, each root refined */
  double crit[ACTFIT_ACT_MAX_BRANCHES], chi[ACTFIT_ACT_MAX_BRANCHES];
  int ctype[ACTFIT_ACT_MAX_BRANCHES], first_dir;
  int ncrit = actfit__act_sign_changes(act_eval3, a, xs, n, crit, chi, ctype,
                                       ACTFIT_ACT_MAX_BRANCHES - 1, &first_dir);
  free(xs);
  if (ncrit < 0)
    return ACTFIT_ESTRUCT;
  for (int i = 0; i < ncrit; i++)
    crit[i] = refine_root(a, crit[i], chi[i]);

  st->nbranches = ncrit + 1;
  double lo = -INFINITY;
  int dir = first_dir;
  for (int i = 0; i <= ncrit; i++) {
    double hi = i < ncrit ? crit[i] : INFINITY;
    st->branches[i].lo = lo;
    st->branches[i].hi = hi;
    st->branches[i].dir = (actfit_mono)dir;
    lo = hi;
    dir = -dir;
  }
  st->has_min = 0;
  if (ncrit == 1 && ctype[0] == 1) {
    st->has_min = 1;
    st->T = crit[0];
    st->fT = actfit_act_f(a, crit[0]);
  }
  return ACTFIT_OK;
}

/* ---- construction ------------------------------------------------------------------- */

static actfit_act *act_new(void)
{
  return calloc(1, sizeof(actfit_act));
}

actfit_status actfit_act_alloc(const char *spec, actfit_act **out, char *err, size_t errlen)
{
  *out = NULL;
  gsl_set_error_handler_off();
  if (!spec || !*spec) {
    actfit__seterr(err, errlen, "empty activation name");
    return ACTFIT_EINVAL;
  }
  const char *colon = strchr(spec, ':');
  size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
  char name[64];
  if (nlen >= sizeof name) {
    actfit__seterr(err, errlen, "unknown activation '%.40s...'", spec);
    return ACTFIT_EUNKNOWN;
  }
  memcpy(name, spec, nlen);
  name[nlen] = 0;
  const actfit_act_type *t = actfit_act_type_find(name);
  if (!t) {
    actfit__seterr(err, errlen, "unknown activation '%s' (see 'actfit list')", name);
    return ACTFIT_EUNKNOWN;
  }
  actfit_act *a = act_new();
  if (!a)
    return ACTFIT_ENOMEM;
  a->type = t;
  for (int i = 0; i < t->nparams; i++)
    a->params[i] = t->defaults[i];

  if (colon && colon[1]) {
    char buf[512];
    if (strlen(colon + 1) >= sizeof buf) {
      actfit__seterr(err, errlen, "parameter list of '%s' too long", name);
      actfit_act_free(a);
      return ACTFIT_EPARSE;
    }
    strcpy(buf, colon + 1);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      char *eq = strchr(tok, '=');
      if (!eq) {
        actfit__seterr(err, errlen, "parameter '%s' of %s needs the form name=value", tok,
                       name);
        actfit_act_free(a);
        return ACTFIT_EPARSE;
      }
      *eq = 0;
      int idx = -1;
      for (int i = 0; i < t->nparams; i++)
        if (strcmp(t->param_names[i], tok) == 0)
          idx = i;
      if (idx < 0) {
        actfit__seterr(err, errlen, "%s has no parameter '%s'%s", name, tok,
                       t->nparams ? "" : " (it takes none)");
        actfit_act_free(a);
        return ACTFIT_EUNKNOWN;
      }
      double v;
      if (actfit__parse_double(eq + 1, &v) != 0 || !isfinite(v)) {
        actfit__seterr(err, errlen, "parameter %s of %s: '%s' is not a finite number", tok,
                       name, eq + 1);
        actfit_act_free(a);
        return ACTFIT_EPARSE;
      }
      a->params[idx] = v;
    }
  } else if (colon) {
    actfit__seterr(err, errlen, "empty parameter list after '%s:'", name);
    actfit_act_free(a);
    return ACTFIT_EPARSE;
  }
  actfit_status ps = actfit__act_check_params(t, a->params, err, errlen);
  if (ps != ACTFIT_OK) {
    actfit_act_free(a);
    return ps;
  }
  a->st.nkinks = t->kinks(a->params, a->st.kinks, a->st.kink_jump);
  actfit_status s = analyse(a);
  if (s != ACTFIT_OK) {
    actfit_act_free(a);
    return s;
  }
  *out = a;
  return ACTFIT_OK;
}

/* Messages quote at most the first 40 characters of an expression, so the reason after
 * the quote always fits the caller's buffer. */
#define EXPR_Q "'%.40s%s'"
#define EXPR_A(e) (e), strlen(e) > 40 ? "..." : ""

/* libmatheval parses, simplifies and differentiates recursively, and f'' of a long
 * product grows as its cube: a long (x+x+...+x, 30,000 terms) or deep expression overflows
 * its stack.  Expressions are bounded before libmatheval sees them.  Within those bounds f''
 * can still be large (x*x*...*x*tanh(x) with 56 factors: 247,000 characters written out,
 * 49 s to analyse, since every evaluation walks it), so f'' is bounded too, by its length
 * written out: the activations people write stay under 3,000 (Mish 314, GELU's tanh form
 * 862), and 8,192 takes at most a few seconds. */
#define EXPR_MAX_LEN 256
#define EXPR_MAX_OPS 64
#define EXPR_MAX_DEPTH 16
#define EXPR_MAX_D2 8192

static actfit_status check_size(const char *expr, char *err, size_t errlen)
{
  size_t len = strlen(expr);
  int ops = 0, depth = 0, deepest = 0;
  if (len > EXPR_MAX_LEN) {
    actfit__seterr(err, errlen, "expression of %zu characters: longer than the limit of %d",
                   len, EXPR_MAX_LEN);
    return ACTFIT_EPARSE;
  }
  for (const char *c = expr; *c; c++) {
    ops += *c && strchr("+-*/^", *c) != NULL;
    depth += *c == '(' ? 1 : *c == ')' ? -1 : 0;
    deepest = depth > deepest ? depth : deepest;
  }
  if (ops > EXPR_MAX_OPS || deepest > EXPR_MAX_DEPTH) {
    actfit__seterr(err, errlen, "expression " EXPR_Q ": %d operators and %d nested parentheses; "
                   "the limits are %d and %d", EXPR_A(expr), ops, deepest, EXPR_MAX_OPS,
                   EXPR_MAX_DEPTH);
    return ACTFIT_EPARSE;
  }
  return ACTFIT_OK;
}

/* libmatheval's scanner drops (and echoes to stdout) characters it does not know, so
 * 'x!' would mean x: every character is checked here first. */
static actfit_status check_chars(const char *expr, char *err, size_t errlen)
{
  for (const char *c = expr; *c; c++) {
    unsigned char u = (unsigned char)*c;
    /* a '.' only inside a number (a digit follows it): a lone one is echoed too */
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
        (u && strchr(" \t_+-*/^()", u)) || (u == '.' && c[1] >= '0' && c[1] <= '9'))
      continue;
    actfit__seterr(err, errlen, "expression " EXPR_Q ": unexpected character '%c' at position "
                   "%d (allowed: x, numbers, + - * / ^ ( ), and functions such as exp, log, erf, "
                   "tanh, sqrt, abs)", EXPR_A(expr), u >= 32 && u < 127 ? u : '?', (int)(c - expr) + 1);
    return ACTFIT_EPARSE;
  }
  return ACTFIT_OK;
}

/* Kinks of an expression: isolated points of the sample grid where f' or f'' is not finite
 * while f is, and both are finite a step to either side (abs(x), x*step(x), ...). */
static actfit_status find_kinks(actfit_act *a, char *err, size_t errlen)
{
  actfit_act_structure *st = &a->st;
  for (int i = -8192 * 4; i <= 8192 * 4; i++) {
    double x = i / 1024.0, o[3], l[3], r[3];
    actfit_act_eval(a, x, o);
    if (!isfinite(o[0]) || (isfinite(o[1]) && isfinite(o[2])))
      continue;
    actfit_act_eval(a, x - 1.0 / 1024, l);
    actfit_act_eval(a, x + 1.0 / 1024, r);
    if (!(isfinite(l[1]) && isfinite(l[2]) && isfinite(r[1]) && isfinite(r[2])))
      continue;
    if (st->nkinks == ACTFIT_ACT_MAX_KINKS) {
      actfit__seterr(err, errlen, "expression " EXPR_Q ": more than %d kinks", EXPR_A(a->expr),
                     ACTFIT_ACT_MAX_KINKS);
      return ACTFIT_ESTRUCT;
    }
    double dl = actfit_act_df(a, nextafter(x, -INFINITY));
    double dr = actfit_act_df(a, nextafter(x, INFINITY));
    st->kink_jump[st->nkinks] = !(fabs(dl - dr) <= 1e-9 * (1 + fabs(dl) + fabs(dr)));
    st->kinks[st->nkinks++] = x;
  }
  return ACTFIT_OK;
}

/* libmatheval's symbolic derivatives are checked against central differences at a few
 * irregular points (its asinh derivative, for one, is asin's). */
static actfit_status check_derivatives(const actfit_act *a, char *err, size_t errlen)
{
  static const double xs[] = {-4.3125, -2.21875, -1.09375, -0.453125, 0.359375, 0.828125,
                              1.6875, 3.90625};
  static const char *const name[3] = {"f", "f'", "f''"};
  for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
    double x = xs[i], h = 1e-4 * fmax(1.0, fabs(x)), o[3], p[3], m[3];
    actfit_act_eval(a, x, o);
    actfit_act_eval(a, x + h, p);
    actfit_act_eval(a, x - h, m);
    int ok = 1;
    for (int k = 0; k < 3; k++)
      ok = ok && isfinite(o[k]) && isfinite(p[k]) && isfinite(m[k]);
    if (!ok)
      continue;
    for (int k = 1; k < 3; k++) {
      double fd = (p[k - 1] - m[k - 1]) / (2 * h);
      /* truncation h^2 f'''/6, rounding eps |f| / h: both far below this */
      double tol = 1e-5 * (1 + fabs(o[k]) + fabs(p[k - 1]) + fabs(m[k - 1]));
      if (!(fabs(fd - o[k]) <= tol)) {
        actfit__seterr(err, errlen, "expression " EXPR_Q ": libmatheval's %s(%g) = %.6g disagrees "
                       "with finite differences (%.6g); write the function another way "
                       "(asinh(x) as log(x+sqrt(x^2+1)), for example)", EXPR_A(a->expr), name[k], x,
                       o[k], fd);
        return ACTFIT_EDOMAIN;
      }
    }
  }
  return ACTFIT_OK;
}

actfit_status actfit_act_alloc_expr(const char *expr, actfit_act **out, char *err,
                                    size_t errlen)
{
  *out = NULL;
  gsl_set_error_handler_off();
  if (!expr || !*expr) {
    actfit__seterr(err, errlen, "empty expression");
    return ACTFIT_EPARSE;
  }
  actfit_status cst = check_size(expr, err, errlen);
  if (cst == ACTFIT_OK)
    cst = check_chars(expr, err, errlen);
  if (cst != ACTFIT_OK)
    return cst;
  actfit_act *a = act_new();
  if (!a || !(a->expr = strdup(expr))) {
    free(a);
    return ACTFIT_ENOMEM;
  }
  actfit_status st = ACTFIT_OK;
  for (int c = 0; c < ACTFIT__NCOPY; c++)
    pthread_mutex_init(&a->lk[c], NULL);
  pthread_mutex_lock(&expr_lock);
  char *copy = strdup(expr);
  a->ev[0][0] = copy ? evaluator_create(copy) : NULL;
  if (!a->ev[0][0]) {
    actfit__seterr(err, errlen, "cannot parse expression " EXPR_Q, EXPR_A(expr));
    st = ACTFIT_EPARSE;
  } else {
    char **names;
    int count;
    evaluator_get_variables(a->ev[0][0], &names, &count);
    for (int i = 0; i < count; i++)
      if (strcmp(names[i], "x") != 0) {
        actfit__seterr(err, errlen, "expression " EXPR_Q " uses variable '%s'; only x is "
                       "allowed", EXPR_A(expr), names[i]);
        st = ACTFIT_EPARSE;
        break;
      }
  }
  for (int c = 0; c < ACTFIT__NCOPY && st == ACTFIT_OK; c++) {
    void **ev = a->ev[c];
    if (c > 0 && !(ev[0] = evaluator_create(copy)))
      st = ACTFIT_ENOMEM;
    if (st == ACTFIT_OK) {
      ev[1] = evaluator_derivative_x(ev[0]);
      ev[2] = ev[1] ? evaluator_derivative_x(ev[1]) : NULL;
    }
    if (st == ACTFIT_OK && (!ev[1] || !ev[2])) {
      actfit__seterr(err, errlen, "cannot differentiate expression " EXPR_Q, EXPR_A(expr));
      st = ACTFIT_EPARSE;
    }
    size_t d2 = st == ACTFIT_OK && c == 0 ? strlen(evaluator_get_string(ev[2])) : 0;
    if (d2 > EXPR_MAX_D2) {
      actfit__seterr(err, errlen, "expression " EXPR_Q ": f'' has %zu characters written out, "
                     "more than the limit of %d; write it with fewer repeated factors",
                     EXPR_A(expr), d2, EXPR_MAX_D2);
      st = ACTFIT_EPARSE;
    }
  }
  free(copy);
  pthread_mutex_unlock(&expr_lock);
  if (st == ACTFIT_OK)
    st = find_kinks(a, err, errlen);
  if (st == ACTFIT_OK)
    st = check_derivatives(a, err, errlen);
  if (st == ACTFIT_OK && (st = analyse(a)) == ACTFIT_ESTRUCT)
    actfit__seterr(err, errlen, "expression " EXPR_Q ": f' changes sign more than %d times on "
                   "[-1000, 1000]; actfit handles at most %d monotone branches", EXPR_A(expr),
                   ACTFIT_ACT_MAX_BRANCHES - 1, ACTFIT_ACT_MAX_BRANCHES);
  if (st != ACTFIT_OK) {
    actfit_act_free(a);
    return st;
  }
  *out = a;
  return ACTFIT_OK;
}

actfit_status actfit_act_check_domain(const actfit_act *a, double lo, double hi, char *err,
                                      size_t errlen)
{
  const int n = 4096;
  if (!isfinite(hi - lo)) {
    actfit__seterr(err, errlen, "domain [%g, %g] is too wide: B - A overflows", lo, hi);
    return ACTFIT_EINVAL;
  }
  if (!(hi - lo > 1e-280) || !(hi - lo > 0x1p-40 * fmax(fabs(lo), fabs(hi)))) {
    actfit__seterr(err, errlen, "domain [%g, %g] is too narrow to resolve in double "
                   "precision (a weight's SIGMA that small?)", lo, hi);
    return ACTFIT_EINVAL;
  }
  enum { TOP = 8 };
  double top_x[TOP], top_v[TOP], peak = 0;
  for (int i = 0; i < TOP; i++)
    top_x[i] = lo, top_v[i] = -1;
  for (int i = 0; i <= n; i++) {
    double x = lo + (hi - lo) * i / n;
    double o[3];
    actfit_act_eval(a, x, o);
    for (int k = 0; k < 3; k++)
      if (!isfinite(o[k])) {
        static const char *what[3] = {"f", "f'", "f''"};
        actfit__seterr(err, errlen, "%s(%.17g) = %g is not finite on [%g, %g]", what[k], x,
                       o[k], lo, hi);
        return ACTFIT_EDOMAIN;
      }
    double v = fabs(o[1]);
    peak = fmax(peak, v);
    for (int j = 0; j < TOP; j++) /* the TOP largest |f'| samples, largest first */
      if (v > top_v[j]) {
        memmove(top_v + j + 1, top_v + j, sizeof *top_v * (size_t)(TOP - 1 - j));
        memmove(top_x + j + 1, top_x + j, sizeof *top_x * (size_t)(TOP - 1 - j));
        top_v[j] = v, top_x[j] = x;
        break;
      }
  }
  if (!a->expr)
    return ACTFIT_OK; /* the built-ins' f' is bounded (parameters within 1e6) */
  /* A pole of f' between samples (1/(x-0.3), log(abs(x-0.3))) hides from the grid: around
   * each of the largest samples, a golden-section search for the largest |f'| runs into it,
   * where on a bounded f' it stops near the sampled peak. */
  const double h = (hi - lo) / n, gr = 0.6180339887498949;
  for (int j = 0; j < TOP && top_v[j] >= 0; j++) {
    double l = fmax(lo, top_x[j] - h), r = fmin(hi, top_x[j] + h), best = top_v[j], at = top_x[j];
    double c = r - gr * (r - l), d = l + gr * (r - l);
    double fc = fabs(actfit_act_df(a, c)), fd = fabs(actfit_act_df(a, d));
    for (int it = 0; it < 200 && r - l > 4 * DBL_EPSILON * fmax(1.0, fabs(l)); it++) {
      if (!(fc <= fd)) { /* also when fc is not finite */
        r = d, d = c, fd = fc;
        c = r - gr * (r - l);
        fc = fabs(actfit_act_df(a, c));
      } else {
        l = c, c = d, fc = fd;
        d = l + gr * (r - l);
        fd = fabs(actfit_act_df(a, d));
      }
      double m = !(fc <= fd) ? fc : fd;
      if (!(m <= best))
        best = m, at = !(fc <= fd) ? c : d;
    }
    if (!(best <= 1e6 * (1 + peak))) {
      actfit__seterr(err, errlen, "f' is unbounded near x = %.9g (|f'| reaches %.3g there; a "
                     "pole?) on [%g, %g]", at, best, lo, hi);
      return ACTFIT_EDOMAIN;
    }
  }
  return ACTFIT_OK;
}
