/* JSON tables with cJSON.  cJSON prints doubles with %1.15g when that round-trips within
 * DBL_EPSILON, which is not bit-exact, so every double is emitted as a raw %.17g token;
 * cJSON reads numbers with strtod, which rounds correctly, so values return bit-exactly.
 * Parsing validates every field and names the first bad one; table_check.c then checks the
 * table against the activation it names. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "actfit/table.h"
#include "elem_types.h"
#include "core/util.h"
#include "io/io_impl.h"

/* ---- writing ------------------------------------------------------------------------- */

static cJSON *num(double v)
{
  char buf[40];
  snprintf(buf, sizeof buf, "%.17g", v);
  return cJSON_CreateRaw(buf);
}

static cJSON *num_array(const double *v, int n)
{
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; a && i < n; i++)
    cJSON_AddItemToArray(a, num(v[i]));
  return a;
}

static const char *method_name(actfit_method m)
{
  return m == ACTFIT_METHOD_FEWBIT ? "fewbit" : m == ACTFIT_METHOD_INVACT ? "invact" : NULL;
}

static int finite_piece(const actfit_invact_piece *p)
{
  if (!isfinite(p->lo) || !isfinite(p->hi))
    return 0;
  for (int i = 0; i <= p->deg; i++)
    if (!isfinite(p->coef[i]))
      return 0;
  return 1;
}

static cJSON *piece_json(const actfit_invact_piece *p)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "lo", num(p->lo));
  cJSON_AddItemToObject(o, "hi", num(p->hi));
  cJSON_AddItemToObject(o, "coeffs", num_array(p->coef, p->deg + 1));
  return o;
}

static void add_act(cJSON *root, const actfit_table *t)
{
  cJSON *act = cJSON_AddObjectToObject(root, "activation");
  if (t->expr) {
    cJSON_AddStringToObject(act, "expr", t->expr);
  } else {
    cJSON_AddStringToObject(act, "name", t->act_name);
    cJSON *p = cJSON_AddObjectToObject(act, "params");
    for (int i = 0; i < t->nparams; i++)
      cJSON_AddItemToObject(p, t->param_names[i], num(t->params[i]));
  }
}

/* the fields every table starts with */
static cJSON *new_root(const actfit_table *t)
{
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "format", ACTFIT_TABLE_FORMAT);
  cJSON_AddNumberToObject(root, "version", ACTFIT_TABLE_VERSION);
  cJSON_AddStringToObject(root, "generator", "actfit " ACTFIT_VERSION_STRING);
  cJSON_AddStringToObject(root, "method", method_name(t->method));
  add_act(root, t);
  return root;
}

static char *finish(cJSON *root)
{
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (!text)
    return NULL;
  size_t n = strlen(text);
  char *withnl = realloc(text, n + 2);
  if (!withnl) {
    cJSON_free(text);
    return NULL;
  }
  withnl[n] = '\n';
  withnl[n + 1] = 0;
  return withnl;
}

static const char *const dtype_names[ACTFIT_DT_COUNT] = {"fp32", "fp16", "bf16"};

static actfit_status invact_to_json(const actfit_table *t, char **out, char *err,
                                    size_t errlen)
{
  for (int b = 0; b < t->nbranch; b++) {
    const actfit_invact_branch *br = &t->br[b];
    for (int i = 0; i < br->np; i++)
      if (!finite_piece(&br->p[i])) {
        actfit__seterr(err, errlen, "refusing to write a non-finite coefficient");
        return ACTFIT_EINVAL;
      }
    for (int i = 0; i < br->nb; i++)
      if (!finite_piece(&br->b[i])) {
        actfit__seterr(err, errlen, "refusing to write a non-finite coefficient");
        return ACTFIT_EINVAL;
      }
  }
  cJSON *root = new_root(t);
  if (t->exact)
    cJSON_AddStringToObject(root, "exact", actfit_table_exact_name(t->exact));
  else
    cJSON_AddNullToObject(root, "exact");
  cJSON_AddBoolToObject(root, "bit", t->bit);
  if (t->bit) {
    cJSON_AddItemToObject(root, "T", num(t->T));
    cJSON_AddItemToObject(root, "y_min", num(t->y_min));
  }
  if (!t->exact) {
    cJSON_AddItemToObject(root, "target", num(t->target));
    cJSON *arr = cJSON_AddArrayToObject(root, "branches");
    for (int b = 0; b < t->nbranch; b++) {
      const actfit_invact_branch *br = &t->br[b];
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "side", br->side < 0 ? "left" : br->side > 0 ? "right" : "all");
      cJSON_AddStringToObject(o, "var", br->var == ACTFIT_INVACT_VAR_T ? "t" : "y");
      cJSON *ps = cJSON_AddArrayToObject(o, "pieces");
      for (int i = 0; i < br->np; i++)
        cJSON_AddItemToArray(ps, piece_json(&br->p[i]));
      cJSON_AddItemToObject(o, "asymptote_below", num(br->asym_lo));
      cJSON_AddItemToObject(o, "asymptote_above", num(br->asym_hi));
      if (br->nb) {
        cJSON *bo = cJSON_AddObjectToObject(o, "binades");
        cJSON_AddNumberToObject(bo, "top", br->binade_top);
        cJSON_AddItemToObject(bo, "asymptote", num(br->asym_zero));
        cJSON *bs = cJSON_AddArrayToObject(bo, "pieces");
        for (int i = 0; i < br->nb; i++)
          cJSON_AddItemToArray(bs, piece_json(&br->b[i]));
      }
      cJSON_AddItemToArray(arr, o);
    }
  }
  cJSON *ops = cJSON_AddObjectToObject(root, "ops");
  cJSON_AddNumberToObject(ops, "fma", t->ops_fma);
  cJSON_AddNumberToObject(ops, "sqrt", t->ops_sqrt);
  cJSON_AddNumberToObject(ops, "div", t->ops_div);
  cJSON_AddNumberToObject(ops, "log", t->ops_log);
  cJSON_AddNumberToObject(ops, "cmp", t->ops_cmp);
  cJSON *e = cJSON_AddObjectToObject(root, "errors");
  if (isfinite(t->err_exact_y))
    cJSON_AddItemToObject(e, "max_abs_exact_y", num(t->err_exact_y));
  if (t->measured[0])
    cJSON_AddStringToObject(e, "measured", t->measured);
  if (t->have_dtype_err) {
    cJSON *d = cJSON_AddObjectToObject(e, "dtypes");
    for (int k = 0; k < ACTFIT_DT_COUNT; k++) {
      cJSON *dk = cJSON_AddObjectToObject(d, dtype_names[k]);
      for (int v = 0; v < 2; v++) {
        cJSON *o = v ? cJSON_AddObjectToObject(dk, "bit_in_y") : dk;
        const actfit_invact_err *x = &t->dt[k][v];
        cJSON_AddItemToObject(o, "max", num(x->max));
        cJSON_AddItemToObject(o, "rms", num(x->rms));
        cJSON_AddItemToObject(o, "floor_max", num(x->floor_max));
        cJSON_AddItemToObject(o, "floor_rms", num(x->floor_rms));
      }
    }
  }
  *out = finish(root);
  return *out ? ACTFIT_OK : ACTFIT_ENOMEM;
}

actfit_status actfit_table_to_json(const actfit_table *t, char **out, char *err,
                                   size_t errlen)
{
  *out = NULL;
  if (t->method == ACTFIT_METHOD_INVACT)
    return invact_to_json(t, out, err, errlen);
  if (t->method != ACTFIT_METHOD_FEWBIT) {
    actfit__seterr(err, errlen, "table method %d cannot be written", (int)t->method);
    return ACTFIT_EINVAL;
  }
  int k = 1 << t->bits;
  if (t->bits < 1 || t->bits > ACTFIT_TABLE_MAX_BITS || !t->borders || !t->levels) {
    actfit__seterr(err, errlen, "table has no valid bits/borders/levels");
    return ACTFIT_EINVAL;
  }
  for (int i = 0; i < k; i++)
    if (!isfinite(t->levels[i]) || (i < k - 1 && !isfinite(t->borders[i]))) {
      actfit__seterr(err, errlen, "refusing to write a non-finite border or level");
      return ACTFIT_EINVAL;
    }
  cJSON *root = new_root(t);
  cJSON *fit = cJSON_AddObjectToObject(root, "fit");
  cJSON_AddStringToObject(fit, "norm", t->norm);
  cJSON_AddStringToObject(fit, "weight", t->weight);
  cJSON_AddItemToObject(fit, "domain", num_array(t->domain, 2));
  cJSON_AddNumberToObject(fit, "grid", t->grid);
  cJSON_AddNumberToObject(root, "bits", t->bits);
  cJSON_AddStringToObject(root, "parity", t->parity_even ? "even" : "none");
  cJSON_AddItemToObject(root, "borders", num_array(t->borders, k - 1));
  cJSON_AddItemToObject(root, "levels", num_array(t->levels, k));
  cJSON *e = cJSON_AddObjectToObject(root, "errors");
  const struct { const char *name; double v; } errs[] = {
    {"E", t->E}, {"E_dp", t->E_dp}, {"max_abs", t->max_abs}, {"kkt_residual", t->kkt}};
  for (size_t i = 0; i < sizeof errs / sizeof *errs; i++)
    if (isfinite(errs[i].v))
      cJSON_AddItemToObject(e, errs[i].name, num(errs[i].v));
  if (t->measured[0])
    cJSON_AddStringToObject(e, "measured", t->measured);
  if (t->time_dp >= 0 || t->time_refine >= 0) {
    cJSON *tm = cJSON_AddObjectToObject(root, "seconds");
    cJSON_AddItemToObject(tm, "dp", num(t->time_dp));
    cJSON_AddItemToObject(tm, "refine", num(t->time_refine));
  }
  *out = finish(root);
  return *out ? ACTFIT_OK : ACTFIT_ENOMEM;
}

/* ---- reading ------------------------------------------------------------------------- */

#define FAIL(code, ...)                                                                     \
  do {                                                                                      \
    actfit__seterr(err, errlen, __VA_ARGS__);                                               \
    st = code;                                                                              \
    goto done;                                                                              \
  } while (0)

static int get_num(const cJSON *o, const char *name, double *v, int required,
                   char *err, size_t errlen)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
  if (!it) {
    if (required)
      actfit__seterr(err, errlen, "field '%s' is missing", name);
    return required ? -1 : 0;
  }
  if (!cJSON_IsNumber(it)) {
    actfit__seterr(err, errlen, "field '%s' must be a number", name);
    return -1;
  }
  if (!isfinite(it->valuedouble)) {
    actfit__seterr(err, errlen, "field '%s' is not finite", name);
    return -1;
  }
  *v = it->valuedouble;
  return 1;
}

static int get_int(const cJSON *o, const char *name, int *v, char *err, size_t errlen)
{
  double d;
  if (get_num(o, name, &d, 1, err, errlen) < 0)
    return -1;
  if (d != floor(d) || d < -1e9 || d > 1e9) {
    actfit__seterr(err, errlen, "field '%s' must be an integer", name);
    return -1;
  }
  *v = (int)d;
  return 0;
}

static const char *get_str(const cJSON *o, const char *name, char *err, size_t errlen)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
  if (!it) {
    actfit__seterr(err, errlen, "field '%s' is missing", name);
    return NULL;
  }
  if (!cJSON_IsString(it) || !it->valuestring) {
    actfit__seterr(err, errlen, "field '%s' must be a string", name);
    return NULL;
  }
  return it->valuestring;
}

/* The runtime holds tables in float: a number beyond float's range would be infinite there. */
static int float_range(double v) { return fabs(v) <= FLT_MAX; }

/* Reads an array of exactly n finite numbers. */
static int get_array(const cJSON *o, const char *name, double *v, int n, char *err,
                     size_t errlen)
{
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name);
  if (!a) {
    actfit__seterr(err, errlen, "field '%s' is missing", name);
    return -1;
  }
  if (!cJSON_IsArray(a)) {
    actfit__seterr(err, errlen, "field '%s' must be an array", name);
    return -1;
  }
  int len = cJSON_GetArraySize(a);
  if (len != n) {
    actfit__seterr(err, errlen, "field '%s' has %d entries, expected %d", name, len, n);
    return -1;
  }
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, a)
  {
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) {
      actfit__seterr(err, errlen, "field '%s'[%d] must be a finite number", name, i);
      return -1;
    }
    v[i++] = it->valuedouble;
  }
  return 0;
}

static int parse_piece(const cJSON *o, actfit_invact_piece *p, const char *where, char *err,
                       size_t errlen)
{
  char inner[ACTFIT_ERRLEN];
  if (!cJSON_IsObject(o)) {
    actfit__seterr(err, errlen, "%s must be an object", where);
    return -1;
  }
  if (get_num(o, "lo", &p->lo, 1, inner, sizeof inner) < 0 ||
      get_num(o, "hi", &p->hi, 1, inner, sizeof inner) < 0) {
    actfit__seterr(err, errlen, "%s: %s", where, inner);
    return -1;
  }
  if (!(p->lo < p->hi)) {
    actfit__seterr(err, errlen, "%s: needs lo < hi", where);
    return -1;
  }
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "coeffs");
  int n = cJSON_IsArray(c) ? cJSON_GetArraySize(c) : -1;
  if (n < 1 || n > ACTFIT_INVACT_MAX_DEG + 1) {
    actfit__seterr(err, errlen, "%s: field 'coeffs' must be an array of 1..%d numbers", where,
                   ACTFIT_INVACT_MAX_DEG + 1);
    return -1;
  }
  p->deg = n - 1;
  if (get_array(o, "coeffs", p->coef, n, inner, sizeof inner)) {
    actfit__seterr(err, errlen, "%s: %s", where, inner);
    return -1;
  }
  for (int i = 0; i < n; i++)
    if (!float_range(p->coef[i])) {
      actfit__seterr(err, errlen, "%s: coeffs[%d] = %.17g is beyond float's range", where, i,
                     p->coef[i]);
      return -1;
    }
  if (!float_range(p->lo) || !float_range(p->hi)) {
    actfit__seterr(err, errlen, "%s: lo and hi must be within float's range", where);
    return -1;
  }
  return 0;
}

static int get_bool(const cJSON *o, const char *name, int *v, char *err, size_t errlen)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
  if (!cJSON_IsBool(it)) {
    actfit__seterr(err, errlen, "field '%s' must be true or false", name);
    return -1;
  }
  *v = cJSON_IsTrue(it);
  return 0;
}

static actfit_status parse_invact(const cJSON *root, actfit_table *t, char *err, size_t errlen)
{
  const cJSON *ex = cJSON_GetObjectItemCaseSensitive(root, "exact");
  if (ex && cJSON_IsString(ex)) {
    for (int i = 1; i <= ACTFIT_EXACT_SHRINK; i++)
      if (!strcmp(actfit_table_exact_name(i), ex->valuestring))
        t->exact = i;
    if (!t->exact) {
      actfit__seterr(err, errlen, "field 'exact' is '%s': no such exact form", ex->valuestring);
      return ACTFIT_EFORMAT;
    }
  } else if (ex && !cJSON_IsNull(ex)) {
    actfit__seterr(err, errlen, "field 'exact' must be a string or null");
    return ACTFIT_EFORMAT;
  }
  if (get_bool(root, "bit", &t->bit, err, errlen))
    return ACTFIT_EFORMAT;
  if (t->bit && (get_num(root, "T", &t->T, 1, err, errlen) < 0 ||
                 get_num(root, "y_min", &t->y_min, 1, err, errlen) < 0))
    return ACTFIT_EFORMAT;
  const cJSON *ops = cJSON_GetObjectItemCaseSensitive(root, "ops");
  if (cJSON_IsObject(ops)) {
    int *dst[5] = {&t->ops_fma, &t->ops_sqrt, &t->ops_div, &t->ops_log, &t->ops_cmp};
    const char *names[5] = {"fma", "sqrt", "div", "log", "cmp"};
    for (int i = 0; i < 5; i++)
      if (get_int(ops, names[i], dst[i], err, errlen))
        return ACTFIT_EFORMAT;
  }
  t->err_exact_y = NAN;
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "errors");
  if (cJSON_IsObject(e)) {
    if (get_num(e, "max_abs_exact_y", &t->err_exact_y, 0, err, errlen) < 0)
      return ACTFIT_EFORMAT;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "measured");
    if (cJSON_IsString(m))
      snprintf(t->measured, sizeof t->measured, "%s", m->valuestring);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "dtypes");
    if (cJSON_IsObject(d)) {
      for (int k = 0; k < ACTFIT_DT_COUNT; k++) {
        const cJSON *dk = cJSON_GetObjectItemCaseSensitive(d, dtype_names[k]);
        if (!cJSON_IsObject(dk)) {
          actfit__seterr(err, errlen, "field 'errors.dtypes.%s' is missing", dtype_names[k]);
          return ACTFIT_EFORMAT;
        }
        for (int v = 0; v < 2; v++) {
          const cJSON *o = v ? cJSON_GetObjectItemCaseSensitive(dk, "bit_in_y") : dk;
          actfit_invact_err *x = &t->dt[k][v];
          if (!cJSON_IsObject(o) || get_num(o, "max", &x->max, 1, err, errlen) < 0 ||
              get_num(o, "rms", &x->rms, 1, err, errlen) < 0 ||
              get_num(o, "floor_max", &x->floor_max, 1, err, errlen) < 0 ||
              get_num(o, "floor_rms", &x->floor_rms, 1, err, errlen) < 0) {
            actfit__seterr(err, errlen, "field 'errors.dtypes.%s' is malformed", dtype_names[k]);
            return ACTFIT_EFORMAT;
          }
        }
      }
      t->have_dtype_err = 1;
    }
  }
  if (t->exact)
    return ACTFIT_OK;
  if (get_num(root, "target", &t->target, 1, err, errlen) < 0)
    return ACTFIT_EFORMAT;
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "branches");
  int nb = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
  if (nb != (t->bit ? 2 : 1)) {
    actfit__seterr(err, errlen, "field 'branches' must be an array of %d branch%s",
                   t->bit ? 2 : 1, t->bit ? "es" : "");
    return ACTFIT_EFORMAT;
  }
  if (!(t->br = calloc((size_t)nb, sizeof *t->br)))
    return ACTFIT_ENOMEM;
  t->nbranch = nb;
  for (int b = 0; b < nb; b++) {
    const cJSON *o = cJSON_GetArrayItem(arr, b);
    actfit_invact_branch *br = &t->br[b];
    char where[96];
    const char *want = nb == 1 ? "all" : b == 0 ? "left" : "right";
    const char *side = cJSON_IsObject(o) ? get_str(o, "side", err, errlen) : NULL;
    if (!side || strcmp(side, want)) {
      actfit__seterr(err, errlen, "field 'branches'[%d].side must be '%s'", b, want);
      return ACTFIT_EFORMAT;
    }
    br->side = nb == 1 ? 0 : b == 0 ? -1 : 1;
    const char *var = get_str(o, "var", err, errlen);
    if (!var || (strcmp(var, "t") && strcmp(var, "y"))) {
      actfit__seterr(err, errlen, "field 'branches'[%d].var must be 't' or 'y'", b);
      return ACTFIT_EFORMAT;
    }
    br->var = var[0] == 't' ? ACTFIT_INVACT_VAR_T : ACTFIT_INVACT_VAR_Y;
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(o, "pieces");
    int np = cJSON_IsArray(ps) ? cJSON_GetArraySize(ps) : -1;
    if (np < 1 || np > ACTFIT_INVACT_MAX_PIECES) {
      actfit__seterr(err, errlen, "field 'branches'[%d].pieces must hold 1..%d pieces", b,
                     ACTFIT_INVACT_MAX_PIECES);
      return ACTFIT_EFORMAT;
    }
    br->np = np;
    for (int i = 0; i < np; i++) {
      snprintf(where, sizeof where, "field 'branches'[%d].pieces[%d]", b, i);
      if (parse_piece(cJSON_GetArrayItem(ps, i), &br->p[i], where, err, errlen))
        return ACTFIT_EFORMAT;
      if (i && !(br->p[i].lo >= br->p[i - 1].hi)) {
        actfit__seterr(err, errlen, "%s: pieces must be sorted and disjoint", where);
        return ACTFIT_EFORMAT;
      }
    }
    if (get_num(o, "asymptote_below", &br->asym_lo, 1, err, errlen) < 0 ||
        get_num(o, "asymptote_above", &br->asym_hi, 1, err, errlen) < 0)
      return ACTFIT_EFORMAT;
    if (!float_range(br->asym_lo) || !float_range(br->asym_hi)) {
      actfit__seterr(err, errlen, "field 'branches'[%d]: the asymptotes must be within "
                     "float's range", b);
      return ACTFIT_EFORMAT;
    }
    const cJSON *bo = cJSON_GetObjectItemCaseSensitive(o, "binades");
    if (bo) {
      const cJSON *bs = cJSON_GetObjectItemCaseSensitive(bo, "pieces");
      int n = cJSON_IsArray(bs) ? cJSON_GetArraySize(bs) : -1;
      if (n < 1 || n > ACTFIT_INVACT_MAX_BINADES ||
          get_int(bo, "top", &br->binade_top, err, errlen) ||
          get_num(bo, "asymptote", &br->asym_zero, 1, err, errlen) < 0 ||
          br->binade_top < -120 || br->binade_top > 120) {
        actfit__seterr(err, errlen, "field 'branches'[%d].binades is malformed", b);
        return ACTFIT_EFORMAT;
      }
      br->nb = n;
      for (int i = 0; i < n; i++) {
        snprintf(where, sizeof where, "field 'branches'[%d].binades.pieces[%d]", b, i);
        if (parse_piece(cJSON_GetArrayItem(bs, i), &br->b[i], where, err, errlen))
          return ACTFIT_EFORMAT;
      }
    }
  }
  return ACTFIT_OK;
}

actfit_status actfit_table_from_json(const char *text, actfit_table *t, char *err,
                                     size_t errlen)
{
  actfit_status st = ACTFIT_EFORMAT;
  actfit_table_init(t);
  /* the whole text is the document: anything but white space after it is an error */
  cJSON *root = cJSON_ParseWithOpts(text, NULL, 1);
  const char *s;
  if (!root) {
    const char *where = cJSON_GetErrorPtr();
    cJSON *whole = cJSON_Parse(text); /* succeeds on a valid document followed by more */
    if (whole) {
      cJSON_Delete(whole);
      FAIL(ACTFIT_EPARSE, "not valid JSON: text after the document (near '%.20s')",
           where ? where : "?");
    }
    FAIL(ACTFIT_EPARSE, "not valid JSON (near '%.20s')", where ? where : "?");
  }
  if (!cJSON_IsObject(root))
    FAIL(ACTFIT_EFORMAT, "top level must be a JSON object");
  if (!(s = get_str(root, "format", err, errlen)))
    goto done;
  if (strcmp(s, ACTFIT_TABLE_FORMAT) != 0)
    FAIL(ACTFIT_EFORMAT, "field 'format' is '%s', expected '%s'", s, ACTFIT_TABLE_FORMAT);
  if (get_int(root, "version", &t->version, err, errlen))
    goto done;
  if (t->version != ACTFIT_TABLE_VERSION)
    FAIL(ACTFIT_EVERSION, "field 'version' is %d; this actfit reads version %d", t->version,
         ACTFIT_TABLE_VERSION);
  if (!(s = get_str(root, "method", err, errlen)))
    goto done;
  if (strcmp(s, "fewbit") == 0)
    t->method = ACTFIT_METHOD_FEWBIT;
  else if (strcmp(s, "invact") == 0)
    t->method = ACTFIT_METHOD_INVACT;
  else
    FAIL(ACTFIT_EFORMAT, "field 'method' is '%s'; known: fewbit, invact", s);

  const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "activation");
  if (!cJSON_IsObject(act))
    FAIL(ACTFIT_EFORMAT, "field 'activation' must be an object");
  if (cJSON_GetObjectItemCaseSensitive(act, "expr")) {
    if (!(s = get_str(act, "expr", err, errlen)))
      goto done;
    if (!(t->expr = strdup(s)))
      FAIL(ACTFIT_ENOMEM, "out of memory");
  } else {
    if (!(s = get_str(act, "name", err, errlen)))
      FAIL(ACTFIT_EFORMAT, "field 'activation' needs 'name' or 'expr'");
    const actfit_act_type *ty = actfit_act_type_find(s);
    if (!ty)
      FAIL(ACTFIT_EUNKNOWN, "field 'activation.name': unknown activation '%s'", s);
    snprintf(t->act_name, sizeof t->act_name, "%s", s);
    t->nparams = ty->nparams;
    for (int i = 0; i < ty->nparams; i++) {
      snprintf(t->param_names[i], sizeof t->param_names[i], "%s", ty->param_names[i]);
      t->params[i] = ty->defaults[i];
    }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(act, "params");
    if (p && !cJSON_IsObject(p))
      FAIL(ACTFIT_EFORMAT, "field 'activation.params' must be an object");
    const cJSON *it;
    cJSON_ArrayForEach(it, p)
    {
      int idx = -1;
      for (int i = 0; i < ty->nparams; i++)
        if (strcmp(ty->param_names[i], it->string) == 0)
          idx = i;
      if (idx < 0)
        FAIL(ACTFIT_EFORMAT, "field 'activation.params': %s has no parameter '%s'", s,
             it->string);
      if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        FAIL(ACTFIT_EFORMAT, "field 'activation.params.%s' must be a finite number",
             it->string);
      t->params[idx] = it->valuedouble;
    }
  }

  if (t->method == ACTFIT_METHOD_INVACT) {
    st = parse_invact(root, t, err, errlen);
    if (st == ACTFIT_OK)
      st = actfit__table_check_act(t, err, errlen);
    goto done;
  }

  const cJSON *fit = cJSON_GetObjectItemCaseSensitive(root, "fit");
  if (!cJSON_IsObject(fit))
    FAIL(ACTFIT_EFORMAT, "field 'fit' must be an object");
  if (!(s = get_str(fit, "norm", err, errlen)))
    goto done;
  if (strcmp(s, "l2") && strcmp(s, "linf"))
    FAIL(ACTFIT_EFORMAT, "field 'fit.norm' is '%s'; known: l2, linf", s);
  snprintf(t->norm, sizeof t->norm, "%s", s);
  if (!(s = get_str(fit, "weight", err, errlen)))
    goto done;
  snprintf(t->weight, sizeof t->weight, "%s", s);
  if (get_array(fit, "domain", t->domain, 2, err, errlen))
    goto done;
  if (!(t->domain[0] < t->domain[1]))
    FAIL(ACTFIT_EFORMAT, "field 'fit.domain' must have A < B");
  if (get_int(fit, "grid", &t->grid, err, errlen))
    goto done;
  if (t->grid < 2)
    FAIL(ACTFIT_EFORMAT, "field 'fit.grid' is %d; must be at least 2", t->grid);

  int bits;
  if (get_int(root, "bits", &bits, err, errlen))
    goto done;
  if (bits < 1 || bits > ACTFIT_TABLE_MAX_BITS)
    FAIL(ACTFIT_EFORMAT, "field 'bits' is %d; must be 1..%d", bits, ACTFIT_TABLE_MAX_BITS);
  if ((st = actfit_table_set_bits(t, bits)) != ACTFIT_OK)
    FAIL(st, "out of memory");
  st = ACTFIT_EFORMAT;
  if (!(s = get_str(root, "parity", err, errlen)))
    goto done;
  if (strcmp(s, "even") == 0)
    t->parity_even = 1;
  else if (strcmp(s, "none") != 0)
    FAIL(ACTFIT_EFORMAT, "field 'parity' is '%s'; known: none, even", s);
  int k = 1 << bits;
  if (get_array(root, "borders", t->borders, k - 1, err, errlen) ||
      get_array(root, "levels", t->levels, k, err, errlen))
    goto done;
  for (int i = 0; i < k; i++)
    if (!float_range(t->levels[i]) || (i < k - 1 && !float_range(t->borders[i])))
      FAIL(ACTFIT_EFORMAT, "field '%s'[%d] is beyond float's range",
           float_range(t->levels[i]) ? "borders" : "levels", i);
  for (int i = 1; i < k - 1; i++)
    if (!(t->borders[i] > t->borders[i - 1]))
      FAIL(ACTFIT_EFORMAT, "field 'borders' must be strictly ascending (borders[%d] = %.17g "
                           "after %.17g)", i, t->borders[i], t->borders[i - 1]);
  if (t->parity_even && t->borders[0] <= 0)
    FAIL(ACTFIT_EFORMAT, "field 'borders': parity 'even' needs borders > 0");

  const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "errors");
  if (e && !cJSON_IsObject(e))
    FAIL(ACTFIT_EFORMAT, "field 'errors' must be an object");
  if (e) {
    if (get_num(e, "E", &t->E, 0, err, errlen) < 0 ||
        get_num(e, "E_dp", &t->E_dp, 0, err, errlen) < 0 ||
        get_num(e, "max_abs", &t->max_abs, 0, err, errlen) < 0 ||
        get_num(e, "kkt_residual", &t->kkt, 0, err, errlen) < 0)
      FAIL(ACTFIT_EFORMAT, "field 'errors': %s", "malformed");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "measured");
    if (m && cJSON_IsString(m))
      snprintf(t->measured, sizeof t->measured, "%s", m->valuestring);
  }
  const cJSON *tm = cJSON_GetObjectItemCaseSensitive(root, "seconds");
  if (tm) {
    if (get_num(tm, "dp", &t->time_dp, 0, err, errlen) < 0 ||
        get_num(tm, "refine", &t->time_refine, 0, err, errlen) < 0)
      goto done;
  }
  st = actfit__table_check_act(t, err, errlen);
done:
  cJSON_Delete(root);
  if (st != ACTFIT_OK)
    actfit_table_destroy(t);
  return st;
}

/* ---- files ---------------------------------------------------------------------------- */

actfit_status actfit_table_load(const char *path, actfit_table *t, char *err, size_t errlen)
{
  char *text;
  actfit_table_init(t);
  size_t len = 0;
  actfit_status st = actfit_read_file(path, &text, &len, err, errlen);
  if (st != ACTFIT_OK)
    return st;
  char inner[ACTFIT_ERRLEN] = "";
  if (strlen(text) != len) {
    actfit__seterr(err, errlen, "%s: not valid JSON: a NUL byte at offset %zu", path,
                   strlen(text));
    free(text);
    return ACTFIT_EPARSE;
  }
  st = actfit_table_from_json(text, t, inner, sizeof inner);
  free(text);
  if (st != ACTFIT_OK)
    actfit__seterr(err, errlen, "%s: %s", path, inner);
  return st;
}

actfit_status actfit_table_save(const actfit_table *t, const char *path, char *err,
                                size_t errlen)
{
  char *text;
  actfit_status st = actfit_table_to_json(t, &text, err, errlen);
  if (st != ACTFIT_OK)
    return st;
  st = actfit_write_file(path, text, strlen(text), err, errlen);
  free(text);
  return st;
}
