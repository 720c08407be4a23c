/* Activations: f, f', f'' in double and their structure (kinks, parity, monotone branches,
 * minimum).  Built-ins follow PyTorch's definitions and default parameters exactly; user
 * expressions are parsed with libmatheval and differentiated symbolically.
 * libactfit turns GSL's abort handler off (gsl_set_error_handler_off) when it is used:
 * the library reports every failure as an actfit_status. */
#ifndef ACTFIT_ACT_H
#define ACTFIT_ACT_H

#include <stddef.h>
#include "actfit/act_list.h"
#include "actfit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ACTFIT_ACT_MAX_PARAMS   4
#define ACTFIT_ACT_MAX_KINKS    8
#define ACTFIT_ACT_MAX_BRANCHES 8
/* Size of the caller's buffer for one-line error details (every *_alloc that parses). */
#define ACTFIT_ERRLEN 256

typedef void (*actfit_act_eval_fn)(const double *params, double x, double out[3]);

/* A built-in activation.  `kinks` writes the points where f' is not smooth (sorted) and, per
 * point, whether f' jumps there; it returns how many.  `check` validates parameters (may be
 * NULL) and returns the index of the offending parameter or -1. */
typedef struct actfit_act_type {
  const char *name;
  const char *summary;
  int nparams;
  const char *param_names[ACTFIT_ACT_MAX_PARAMS];
  double defaults[ACTFIT_ACT_MAX_PARAMS];
  actfit_act_eval_fn eval;
  int (*kinks)(const double *params, double *at, int *jump);
  int (*check)(const double *params);
} actfit_act_type;

/* All built-ins, in a const array ending with a {0} sentinel (name == NULL). */
ACTFIT_API extern const actfit_act_type actfit_act_types[];
ACTFIT_API const actfit_act_type *actfit_act_type_find(const char *name);

typedef enum actfit_mono {
  ACTFIT_MONO_DEC = -1,
  ACTFIT_MONO_FLAT = 0,
  ACTFIT_MONO_INC = 1
} actfit_mono;

/* A maximal interval on which f is monotone (endpoints may be +-INFINITY). */
typedef struct actfit_branch {
  double lo, hi;
  actfit_mono dir;
} actfit_branch;

/* Structure, found numerically on [-1e3, 1e3] (sign changes of f' refined by Brent and
 * Newton) for every activation, so built-ins and expressions are treated alike. */
typedef struct actfit_act_structure {
  int nkinks;
  double kinks[ACTFIT_ACT_MAX_KINKS];
  int kink_jump[ACTFIT_ACT_MAX_KINKS]; /* 1: f' jumps; 0: f' continuous, f'' jumps */
  int deriv_even;                      /* f'(-x) == f'(x) to 1e-13 relative */
  int nbranches;
  actfit_branch branches[ACTFIT_ACT_MAX_BRANCHES];
  int has_min;                         /* exactly one interior minimum and no maximum */
  double T, fT;                        /* the minimum point and f(T), if has_min */
} actfit_act_structure;

typedef struct actfit_act actfit_act;

/* Parse "name" or "name:p=v,q=w" (e.g. "elu:alpha=0.5").  On failure returns EUNKNOWN,
 * EPARSE or EINVAL and, if err != NULL, one line naming the problem.  Free with
 * actfit_act_free(). */
ACTFIT_API actfit_status actfit_act_alloc(const char *spec, actfit_act **out, char *err,
                                          size_t errlen);
/* A user expression in x (libmatheval syntax: exp, log, erf, tanh, sqrt, abs, ^ ...). */
ACTFIT_API actfit_status actfit_act_alloc_expr(const char *expr, actfit_act **out, char *err,
                                               size_t errlen);
ACTFIT_API void actfit_act_free(actfit_act *act); /* NULL is a no-op */

/* out = {f(x), f'(x), f''(x)}.  Thread-safe. */
ACTFIT_API void actfit_act_eval(const actfit_act *act, double x, double out[3]);
/* out[0..n-1]: f and its first n - 1 derivatives (1 <= n <= 3); for expressions only
 * those trees are evaluated, which is what makes n < 3 cheaper. */
ACTFIT_API void actfit_act_eval_n(const actfit_act *act, double x, int n, double *out);
ACTFIT_API double actfit_act_f(const actfit_act *act, double x);
ACTFIT_API double actfit_act_df(const actfit_act *act, double x);
ACTFIT_API double actfit_act_d2f(const actfit_act *act, double x);

ACTFIT_API const actfit_act_structure *actfit_act_get_structure(const actfit_act *act);
/* Built-in name, or "expr" for user expressions. */
ACTFIT_API const char *actfit_act_name(const actfit_act *act);
/* The user expression as given, or NULL for built-ins. */
ACTFIT_API const char *actfit_act_expr(const actfit_act *act);
ACTFIT_API int actfit_act_nparams(const actfit_act *act);
ACTFIT_API const char *actfit_act_param_name(const actfit_act *act, int i);
ACTFIT_API double actfit_act_param(const actfit_act *act, int i);
/* Canonical spec ("elu:alpha=0.5", all parameters, %.17g) into buf; EINVAL if too small. */
ACTFIT_API actfit_status actfit_act_spec(const actfit_act *act, char *buf, size_t n);

/* Checks that f, f', f'' are finite at n points spread over [a, b] (and at its ends);
 * EDOMAIN with the first offending x in err otherwise. */
ACTFIT_API actfit_status actfit_act_check_domain(const actfit_act *act, double a, double b,
                                                 char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
