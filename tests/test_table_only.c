/* The table library alone (libactfit_table: cJSON, no GSL or libmatheval): fitted JSON
 * tables load, pass the same checks as in the fitting library, convert, and run through the
 * runtime bit for bit like the tables compiled in from them; malformed ones and expression
 * tables (which need libmatheval to check) are refused with a message.  Plain C (no Check),
 * so that it runs in a runtime-only build. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, unlink: also when built alone (tests/install) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actfit/runtime.h"
#include "plaintest.h"
#include "actfit/table.h"

#define N 4099 /* not a multiple of 32 or of any vector width */

static void inputs(float *x)
{
  for (int i = 0; i < N; i++)
    x[i] = -8.0f + 16.0f * (float)i / (N - 1) + (i % 7 == 0 ? 1e-3f * (float)i : 0.0f);
}

/* a loaded InvAct table runs exactly as the compiled-in one made from the same JSON */
static void invact_matches_builtin(const char *act)
{
  char path[512], err[ACTFIT_ERRLEN] = "";
  snprintf(path, sizeof path, "%s/tables/invact/%s.json", ACTFIT_SOURCE_DIR, act);
  actfit_table t;
  actfit_status st = actfit_table_load(path, &t, err, sizeof err);
  CHECK(st == ACTFIT_OK, "load %s: %s (%s)", path, actfit_strerror(st), err);
  if (st != ACTFIT_OK)
    return;
  actfit_rt_invact rt;
  CHECK(actfit_table_to_rt_invact(&t, &rt) == ACTFIT_OK, "%s: to_rt", act);
  CHECK(actfit_rt_invact_check(&rt) == ACTFIT_OK, "%s: rt check", act);
  const actfit_rt_invact *bi = actfit_rt_invact_builtin(act);
  CHECK(bi != NULL, "no built-in invact %s", act);
  static float x[N], y1[N], y2[N], g[N], gi1[N], gi2[N];
  static uint32_t s1[N / 32 + 1], s2[N / 32 + 1];
  inputs(x);
  for (int i = 0; i < N; i++)
    g[i] = 1.0f + (float)(i % 5) * 0.25f;
  st = actfit_invact_forward(&rt, ACTFIT_FP32, 0, x, y1, s1, N, NULL);
  CHECK(st == ACTFIT_OK, "%s forward: %s", act, actfit_strerror(st));
  st = actfit_invact_backward(&rt, ACTFIT_FP32, 0, y1, s1, g, gi1, N, NULL);
  CHECK(st == ACTFIT_OK, "%s backward: %s", act, actfit_strerror(st));
  if (bi) {
    actfit_invact_forward(bi, ACTFIT_FP32, 0, x, y2, s2, N, NULL);
    actfit_invact_backward(bi, ACTFIT_FP32, 0, y2, s2, g, gi2, N, NULL);
    CHECK(!memcmp(y1, y2, sizeof y1) && !memcmp(s1, s2, actfit_invact_state_bytes(bi, 0, N)),
          "%s: loaded forward differs from the built-in", act);
    CHECK(!memcmp(gi1, gi2, sizeof gi1), "%s: loaded backward differs from the built-in", act);
  }
  /* and against f'(x) itself, from the built-in descriptor (in this library too): within
   * the table's own measured fp32 error, plus the rounding of the product */
  const actfit_act_type *ty = actfit_act_type_find(act);
  double worst = 0, bound = t.have_dtype_err ? t.dt[ACTFIT_DT_FP32][0].max : NAN;
  CHECK(ty && isfinite(bound), "%s: no descriptor or no measured fp32 error", act);
  for (int i = 0; ty && i < N; i++) {
    double o[3];
    ty->eval(ty->defaults, x[i], o);
    double e = fabs((double)gi1[i] / g[i] - o[1]) - 0x1p-23 * fabs(o[1]);
    worst = fmax(worst, e);
  }
  CHECK(worst <= bound, "%s: gradient error %.3g above the table's %.3g", act, worst, bound);
  actfit_table_destroy(&t);
}

static void fewbit_matches_builtin(void)
{
  char path[512], err[ACTFIT_ERRLEN] = "";
  snprintf(path, sizeof path, "%s/tables/fewbit/gelu-2bit.json", ACTFIT_SOURCE_DIR);
  actfit_table *t = NULL;
  CHECK(actfit_table_alloc(&t) == ACTFIT_OK, "alloc");
  actfit_status st = actfit_table_load(path, t, err, sizeof err);
  CHECK(st == ACTFIT_OK, "load %s: %s", path, err);
  CHECK(actfit_table_method(t) == ACTFIT_METHOD_FEWBIT, "method");
  CHECK(!strcmp(t->weight, "uniform") && t->bits == 2 && !strcmp(t->act_name, "gelu"),
        "fit settings kept: weight '%s' bits %d act '%s'", t->weight, t->bits, t->act_name);
  actfit_rt_fewbit rt;
  CHECK(actfit_table_to_rt_fewbit(t, &rt) == ACTFIT_OK, "to_rt fewbit");
  const actfit_rt_fewbit *bi = actfit_rt_fewbit_builtin("gelu", 2, "uniform");
  CHECK(bi != NULL, "no built-in fewbit gelu 2");
  static float x[N], y1[N], y2[N], g[N], gi1[N], gi2[N];
  static uint32_t s1[2 * (N / 32 + 1)], s2[2 * (N / 32 + 1)];
  inputs(x);
  for (int i = 0; i < N; i++)
    g[i] = 0.5f + (float)(i % 3);
  CHECK(actfit_fewbit_forward(&rt, ACTFIT_FP32, x, y1, s1, N, NULL) == ACTFIT_OK, "fwd");
  CHECK(actfit_fewbit_backward(&rt, ACTFIT_FP32, s1, g, gi1, N, NULL) == ACTFIT_OK, "bwd");
  if (bi) {
    actfit_fewbit_forward(bi, ACTFIT_FP32, x, y2, s2, N, NULL);
    actfit_fewbit_backward(bi, ACTFIT_FP32, s2, g, gi2, N, NULL);
    CHECK(!memcmp(y1, y2, sizeof y1) && !memcmp(s1, s2, actfit_fewbit_state_bytes(2, N)) &&
          !memcmp(gi1, gi2, sizeof gi1), "fewbit: loaded table differs from the built-in");
  }
  /* JSON round trip, bit-exact, through a file */
  char tmp[] = "/tmp/actfit-table-only-XXXXXX";
  int fd = mkstemp(tmp);
  CHECK(fd >= 0, "mkstemp");
  close(fd);
  CHECK(actfit_table_save(t, tmp, err, sizeof err) == ACTFIT_OK, "save: %s", err);
  actfit_table u;
  CHECK(actfit_table_load(tmp, &u, err, sizeof err) == ACTFIT_OK, "reload: %s", err);
  CHECK(u.bits == t->bits && !memcmp(u.borders, t->borders, 3 * sizeof(double)) &&
        !memcmp(u.levels, t->levels, 4 * sizeof(double)) && !memcmp(&u.E, &t->E, sizeof u.E),
        "round trip is not bit-exact");
  actfit_table_destroy(&u);
  unlink(tmp);
  actfit_table_free(t);
}

static void refuses(const char *what, const char *text, actfit_status want, const char *msg)
{
  actfit_table t;
  char err[ACTFIT_ERRLEN] = "";
  actfit_status st = actfit_table_from_json(text, &t, err, sizeof err);
  CHECK(st == want, "%s: status %s, want %s (%s)", what, actfit_status_name(st),
        actfit_status_name(want), err);
  CHECK(strstr(err, msg) != NULL, "%s: message '%s' lacks '%s'", what, err, msg);
}

static char *slurp(const char *rel)
{
  char path[512], err[ACTFIT_ERRLEN];
  snprintf(path, sizeof path, "%s/%s", ACTFIT_SOURCE_DIR, rel);
  char *text = NULL;
  actfit_status st = actfit_read_file(path, &text, NULL, err, sizeof err);
  CHECK(st == ACTFIT_OK, "read %s: %s", path, err);
  return text;
}

static char *replace(const char *s, const char *from, const char *to)
{
  const char *at = strstr(s, from);
  if (!at)
    return NULL;
  size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
  char *r = malloc(n);
  snprintf(r, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
  return r;
}

/* every malformed table of the Check suite (tests/data/bad), with the same message */
static void malformed_tables(void)
{
  FILE *f = fopen(ACTFIT_SOURCE_DIR "/tests/data/bad/expected.txt", "r");
  CHECK(f != NULL, "no tests/data/bad/expected.txt");
  char line[512];
  int n = 0;
  while (f && fgets(line, sizeof line, f)) {
    char *tab = strchr(line, '\t');
    if (!tab)
      continue;
    *tab = 0;
    char *msg = tab + 1;
    msg[strcspn(msg, "\n")] = 0;
    char path[1024], err[ACTFIT_ERRLEN] = "";
    snprintf(path, sizeof path, "%s/tests/data/bad/%s", ACTFIT_SOURCE_DIR, line);
    actfit_table t;
    actfit_status st = actfit_table_load(path, &t, err, sizeof err);
    CHECK(st != ACTFIT_OK, "%s was accepted", line);
    CHECK(strstr(err, msg) != NULL, "%s: message '%s' lacks '%s'", line, err, msg);
    n++;
  }
  if (f)
    fclose(f);
  CHECK(n >= 40, "only %d malformed tables", n);
}

static void refusals(void)
{
  char *gelu = slurp("tables/invact/gelu.json");
  if (!gelu)
    return;
  /* T moved off the minimum: the scan check finds it, as the fitting library does */
  char *bad = replace(gelu, "\"T\":\t-0.75", "\"T\":\t-0.70");
  CHECK(bad != NULL, "gelu.json has no T = -0.75");
  if (bad)
    refuses("T off the minimum", bad, ACTFIT_EFORMAT, "but the minimum of gelu lies between");
  free(bad);
  free(gelu);
  char *fb = slurp("tables/fewbit/gelu-2bit.json");
  if (!fb)
    return;
  bad = replace(fb, "\"name\":\t\"gelu\"", "\"expr\": \"x*tanh(x)\"");
  CHECK(bad != NULL, "gelu-2bit.json has no name gelu");
  if (bad)
    refuses("expression", bad, ACTFIT_ENODEV, "needs the fitting library libactfit");
  free(bad);
  bad = replace(fb, "\"name\":\t\"gelu\"", "\"name\": \"gelux\"");
  if (bad)
    refuses("unknown", bad, ACTFIT_EUNKNOWN, "unknown activation 'gelux'");
  free(bad);
  free(fb);
}

/* the point of the library: nothing of the fitter is mapped into this process */
static void no_fitting_libraries(void)
{
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f)
    return;
  char line[1024];
  int gsl = 0, matheval = 0, cjson = 0;
  while (fgets(line, sizeof line, f)) {
    gsl += strstr(line, "libgsl") != NULL;
    matheval += strstr(line, "libmatheval") != NULL;
    cjson += strstr(line, "libcjson") != NULL;
  }
  fclose(f);
  CHECK(!gsl && !matheval, "GSL (%d) or libmatheval (%d) is loaded", gsl, matheval);
  CHECK(cjson, "libcjson is not loaded");
}

int main(void)
{
  no_fitting_libraries();
  invact_matches_builtin("gelu");
  invact_matches_builtin("silu");
  invact_matches_builtin("sigmoid");
  fewbit_matches_builtin();
  refusals();
  malformed_tables();
  printf("test_table_only: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
