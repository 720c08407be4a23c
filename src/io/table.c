/* JSON tables with cJSON.  cJSON prints doubles with %1.15g when that round-trips within
 * DBL_EPSILON, which is not bit-exact, so every double is emitted as a raw %.17g token;
 * cJSON reads numbers with strtod, which rounds correctly, so values return bit-exactly. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "actfit/table.h"
#include "core/util.h"

void actfit_table_init(actfit_table *t)
{
  memset(t, 0, sizeof *t);
  t->version = ACTFIT_TABLE_VERSION;
  t->E = t->E_dp = t->max_abs = t->kkt = NAN;
  t->time_dp = t->time_refine = -1.0;
}

void actfit_table_destroy(actfit_table *t)
{
  if (!t)
    return;
  free(t->expr);
  free(t->borders);
  free(t->levels);
  actfit_table_init(t);
}

actfit_status actfit_table_set_bits(actfit_table *t, int bits)
{
  if (bits < 1 || bits > ACTFIT_TABLE_MAX_BITS)
    return ACTFIT_EINVAL;
  size_t k = (size_t)1 << bits;
  double *b = calloc(k - 1 ? k - 1 : 1, sizeof *b), *l = calloc(k, sizeof *l);
  if (!b || !l) {
    free(b);
    free(l);
    return ACTFIT_ENOMEM;
  }
  free(t->borders);
  free(t->levels);
  t->borders = b;
  t->levels = l;
  t->bits = bits;
  return ACTFIT_OK;
}

actfit_status actfit_table_set_act(actfit_table *t, const actfit_act *act)
{
  free(t->expr);
  t->expr = NULL;
  t->act_name[0] = 0;
  t->nparams = 0;
  if (actfit_act_expr(act)) {
    if (!(t->expr = strdup(actfit_act_expr(act))))
      return ACTFIT_ENOMEM;
    return ACTFIT_OK;
  }
  snprintf(t->act_name, sizeof t->act_name, "%s", actfit_act_name(act));
  t->nparams = actfit_act_nparams(act);
  for (int i = 0; i < t->nparams; i++) {
    snprintf(t->param_names[i], sizeof t->param_names[i], "%s", actfit_act_param_name(act, i));
    t->params[i] = actfit_act_param(act, i);
  }
  return ACTFIT_OK;
}

actfit_status actfit_table_act(const actfit_table *t, actfit_act **out, char *err,
                               size_t errlen)
{
  if (t->expr)
    return actfit_act_alloc_expr(t->expr, out, err, errlen);
  char spec[512];
  int n = snprintf(spec, sizeof spec, "%s", t->act_name);
  for (int i = 0; i < t->nparams && n > 0 && (size_t)n < sizeof spec; i++)
    n += snprintf(spec + n, sizeof spec - (size_t)n, "%c%s=%.17g", i ? ',' : ':',
                  t->param_names[i], t->params[i]);
  return actfit_act_alloc(spec, out, err, errlen);
}

int actfit_table_code(const actfit_table *t, double x)
{
  int nb = (1 << t->bits) - 1, c = 0;
  if (t->parity_even)
    x = fabs(x);
  /* borders are few (<= 255) and sorted: binary search on "number of borders <= x" */
  int lo = 0, hi = nb;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (t->borders[mid] <= x)
      lo = mid + 1;
    else
      hi = mid;
  }
  c = lo;
  return c;
}

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

actfit_status actfit_table_to_json(const actfit_table *t, char **out, char *err,
                                   size_t errlen)
{
  *out = NULL;
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
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "format", ACTFIT_TABLE_FORMAT);
  cJSON_AddNumberToObject(root, "version", ACTFIT_TABLE_VERSION);
  cJSON_AddStringToObject(root, "generator", "actfit " ACTFIT_VERSION_STRING);
  cJSON_AddStringToObject(root, "method", method_name(t->method));
  cJSON *act = cJSON_AddObjectToObject(root, "activation");
  if (t->expr) {
    cJSON_AddStringToObject(act, "expr", t->expr);
  } else {
    cJSON_AddStringToObject(act, "name", t->act_name);
    cJSON *p = cJSON_AddObjectToObject(act, "params");
    for (int i = 0; i < t->nparams; i++)
      cJSON_AddItemToObject(p, t->param_names[i], num(t->params[i]));
  }
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
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (!text)
    return ACTFIT_ENOMEM;
  size_t n = strlen(text);
  char *withnl = realloc(text, n + 2);
  if (!withnl) {
    cJSON_free(text);
    return ACTFIT_ENOMEM;
  }
  withnl[n] = '\n';
  withnl[n + 1] = 0;
  *out = withnl;
  return ACTFIT_OK;
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

actfit_status actfit_table_from_json(const char *text, actfit_table *t, char *err,
                                     size_t errlen)
{
  actfit_status st = ACTFIT_EFORMAT;
  actfit_table_init(t);
  cJSON *root = cJSON_Parse(text);
  const char *s;
  if (!root) {
    const char *where = cJSON_GetErrorPtr();
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
  else
    FAIL(ACTFIT_EFORMAT, "field 'method' is '%s'; known: fewbit", s);

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
  st = ACTFIT_OK;
done:
  cJSON_Delete(root);
  if (st != ACTFIT_OK)
    actfit_table_destroy(t);
  return st;
}

/* ---- files -------------------------------------------------------------------------- */

actfit_status actfit_read_file(const char *path, char **out, size_t *len, char *err,
                               size_t errlen)
{
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    actfit__seterr(err, errlen, "cannot open '%s': %s", path, strerror(errno));
    return ACTFIT_EIO;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t r = fread(buf + n, 1, cap - n - 1, f);
    n += r;
    if (n < cap - 1)
      break;
    char *nb = realloc(buf, cap * 2);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  int bad = ferror(f);
  fclose(f);
  if (!buf)
    return ACTFIT_ENOMEM;
  if (bad) {
    free(buf);
    actfit__seterr(err, errlen, "cannot read '%s'", path);
    return ACTFIT_EIO;
  }
  buf[n] = 0;
  *out = buf;
  if (len)
    *len = n;
  return ACTFIT_OK;
}

actfit_status actfit_write_file(const char *path, const void *data, size_t len, char *err,
                                size_t errlen)
{
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (!tmp)
    return ACTFIT_ENOMEM;
  snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    actfit__seterr(err, errlen, "cannot write '%s': %s", path, strerror(errno));
    free(tmp);
    return ACTFIT_EIO;
  }
  FILE *f = fdopen(fd, "wb");
  int ok = f && fwrite(data, 1, len, f) == len;
  if (f)
    ok = (fclose(f) == 0) && ok;
  else
    close(fd);
  if (ok) {
    /* mkstemp makes 0600; tables are ordinary files */
    chmod(tmp, 0644);
    ok = rename(tmp, path) == 0;
  }
  if (!ok) {
    actfit__seterr(err, errlen, "cannot write '%s': %s", path, strerror(errno));
    unlink(tmp);
    free(tmp);
    return ACTFIT_EIO;
  }
  free(tmp);
  return ACTFIT_OK;
}

actfit_status actfit_table_load(const char *path, actfit_table *t, char *err, size_t errlen)
{
  char *text;
  actfit_table_init(t);
  actfit_status st = actfit_read_file(path, &text, NULL, err, errlen);
  if (st != ACTFIT_OK)
    return st;
  char inner[ACTFIT_ERRLEN] = "";
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
