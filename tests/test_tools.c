/* tables / gen / plot / report / apply as a user runs them. */
#include <stdarg.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actfit/act.h"
#include "actfit/table.h"
#include "elem.h"
#include "testutil.h"

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char tmp[64];

static void setup(void)
{
  snprintf(tmp, sizeof tmp, "/tmp/actfit-tools-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void) { sh("rm -rf %s", tmp); }

START_TEST(tables_regeneration_is_byte_identical_for_1_and_2_jobs)
{
  ck_assert_int_eq(sh("cd %s && mkdir a b && cd a && %s tables --jobs 1 --points 20000 "
                      ">/dev/null 2>&1", tmp, ACTFIT_CLI), 0);
  ck_assert_int_eq(sh("cd %s/b && %s tables --jobs 2 --points 20000 >/dev/null 2>&1", tmp,
                      ACTFIT_CLI), 0);
  ck_assert_int_eq(sh("diff -r %s/a %s/b >/dev/null", tmp, tmp), 0);
  /* the FewBit tables do not depend on the analysis size: identical to the committed ones */
  ck_assert_int_eq(sh("diff -r %s/a/tables/fewbit " ACTFIT_SOURCE_DIR "/tables/fewbit", tmp), 0);
  ck_assert_int_eq(sh("test $(ls %s/a/tables/fewbit | wc -l) -eq 112", tmp), 0);
  ck_assert_int_eq(sh("grep -L 'DO NOT EDIT' %s/a/kernels/generated/*.h | wc -l | grep -qx 0",
                      tmp), 0);
  ck_assert_int_ne(sh("grep -rqE '20[0-9]{2}-[0-9]{2}-[0-9]{2}' %s/a", tmp), 0); /* no dates */
}
END_TEST

START_TEST(gen_reproduces_the_committed_headers)
{
  ck_assert_int_eq(sh("cd " ACTFIT_SOURCE_DIR " && %s gen tables/fewbit/gelu-3bit.json "
                      "tables/invact/silu.json -o %s >/dev/null", ACTFIT_CLI, tmp), 0);
  ck_assert_int_eq(sh("cmp %s/fewbit_gelu_3bit.h " ACTFIT_SOURCE_DIR
                      "/kernels/generated/fewbit_gelu_3bit.h", tmp), 0);
  ck_assert_int_eq(sh("cmp %s/invact_silu.h " ACTFIT_SOURCE_DIR
                      "/kernels/generated/invact_silu.h", tmp), 0);
  ck_assert_int_eq(sh("grep -q 'sha256 '$(sha256sum " ACTFIT_SOURCE_DIR
                      "/tables/fewbit/gelu-3bit.json | cut -c1-64) %s/fewbit_gelu_3bit.h", tmp), 0);
  ck_assert_int_eq(sh("%s gen /nonexistent.json -o %s 2>/dev/null", ACTFIT_CLI, tmp), 1);
}
END_TEST

START_TEST(gen_keeps_the_builtin_set_whole_and_writes_all_or_nothing)
{
  /* into the committed directory with two tables: refused, nothing touched */
  ck_assert_int_eq(sh("cd " ACTFIT_SOURCE_DIR " && sha256sum kernels/generated/* > %s/before && "
                      "%s gen tables/fewbit/gelu-3bit.json tables/invact/gelu.json "
                      "-o kernels/generated 2> %s/err; test $? -eq 2 && "
                      "sha256sum kernels/generated/* | cmp -s - %s/before",
                      tmp, ACTFIT_CLI, tmp, tmp), 0);
  ck_assert_int_eq(sh("grep -q \"run 'actfit tables'\" %s/err && test $(wc -l < %s/err) -eq 1",
                      tmp, tmp), 0);
  /* one bad table: no header at all, and the directory is not even made */
  ck_assert_int_eq(sh("%s gen " ACTFIT_SOURCE_DIR "/tables/fewbit/gelu-3bit.json "
                      ACTFIT_TEST_DATA "/bad/nan-level.json -o %s/bad 2>/dev/null; "
                      "test $? -eq 2 && ! test -e %s/bad", ACTFIT_CLI, tmp, tmp), 0);
  /* a new nested directory is created; an expression's table gets a header that compiles
   * against the runtime (act = -1, for the encoders) and no index entry */
  ck_assert_int_eq(sh("cd %s && %s fewbit --expr 'x/(1+exp(-x))' --bits 2 --quiet -o expr.json "
                      ">/dev/null && %s gen expr.json " ACTFIT_SOURCE_DIR "/tables/fewbit/gelu-3bit.json "
                      "-o new/deeper >/dev/null && test -f new/deeper/index.h && "
                      "grep -q '  -1, {' new/deeper/expr.h && "
                      "! grep -q '\"\"' new/deeper/index.h && "
                      "printf '#include \"index.h\"\\n#include \"actfit/runtime.h\"\\n"
                      "int main(void){float x[32]={0};unsigned s[2];"
                      "return actfit_fewbit_encode(&actfit_gen_expr,ACTFIT_FP32,x,s,32,0);}\\n' "
                      "> use.c && cc -fsyntax-only -Wall -Werror -I new/deeper "
                      "-I " ACTFIT_SOURCE_DIR "/include -I " ACTFIT_SOURCE_DIR "/kernels use.c",
                      tmp, ACTFIT_CLI, ACTFIT_CLI), 0);
}
END_TEST

/* the columns behind the FewBit figure: each table its own q, error and weight density, so
 * tables with different weights each show theirs */
START_TEST(plot_data_has_each_tables_weight_and_the_key_names_it)
{
  ck_assert_int_eq(sh("cd " ACTFIT_SOURCE_DIR " && %s plot tables/fewbit/gelu-2bit.json "
                      "tables/fewbit/gelu-2bit-gauss.json -o %s/p.png --data %s/p.dat",
                      ACTFIT_CLI, tmp, tmp), 0);
  ck_assert_int_eq(sh("head -1 %s/p.dat | grep -qx \"# x f'(x) q_1 err_1 weight_1 q_2 err_2 weight_2\"",
                      tmp), 0);
  /* x = 0 (row 1001 of 2001 on [-10, 10]): uniform 1/20, gauss 1/sqrt(2 pi) */
  ck_assert_int_eq(sh("awk 'NR == 1002 { exit !($5 == 0.05 && $8 > 0.398 && $8 < 0.3990) }' "
                      "%s/p.dat", tmp), 0);
  /* tables of one expression plot together; of different activations they do not */
  ck_assert_int_eq(sh("cd %s && %s fewbit --expr 'x/(1+exp(-x))' --bits 1 --quiet -o a.json "
                      ">/dev/null && %s fewbit --expr 'x/(1+exp(-x))' --bits 2 --quiet -o b.json "
                      ">/dev/null && %s plot a.json b.json -o e.png && test -s e.png",
                      tmp, ACTFIT_CLI, ACTFIT_CLI, ACTFIT_CLI), 0);
  ck_assert_int_eq(sh("cd %s && %s plot a.json " ACTFIT_SOURCE_DIR "/tables/fewbit/silu-2bit.json "
                      "-o f.png 2>/dev/null", tmp, ACTFIT_CLI), 2);
}
END_TEST

static uint32_t be32(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

START_TEST(plot_writes_a_png_of_the_requested_size)
{
  ck_assert_int_eq(sh("%s plot " ACTFIT_SOURCE_DIR "/tables/fewbit/gelu-2bit.json "
                      ACTFIT_SOURCE_DIR "/tables/fewbit/gelu-3bit.json -o %s/f.png --size 640,480 "
                      "--data %s/f.dat", ACTFIT_CLI, tmp, tmp), 0);
  char path[128];
  snprintf(path, sizeof path, "%s/f.png", tmp);
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  unsigned char h[24];
  ck_assert_int_eq(fread(h, 1, 24, f), 24);
  fclose(f);
  ck_assert(!memcmp(h, "\x89PNG\r\n\x1a\n", 8) && !memcmp(h + 12, "IHDR", 4));
  ck_assert_uint_eq(be32(h + 16), 640);
  ck_assert_uint_eq(be32(h + 20), 480);
  ck_assert_int_eq(sh("test $(grep -vc '^#' %s/f.dat) -eq 2001", tmp), 0);
  ck_assert_int_eq(sh("%s plot " ACTFIT_SOURCE_DIR "/tables/invact/gelu.json -o %s/i.svg "
                      ">/dev/null", ACTFIT_CLI, tmp), 0);
  ck_assert_int_eq(sh("grep -q '<svg' %s/i.svg", tmp), 0);
}
END_TEST

START_TEST(plot_without_gnuplot_names_the_package_and_writes_nothing)
{
  ck_assert_int_eq(sh("PATH=/nonexistent %s plot " ACTFIT_SOURCE_DIR
                      "/tables/fewbit/gelu-2bit.json -o %s/x.png 2>%s/err", ACTFIT_CLI, tmp, tmp),
                   1);
  ck_assert_int_eq(sh("grep -q gnuplot-nox %s/err && test $(wc -l < %s/err) -eq 1", tmp, tmp), 0);
  ck_assert_int_ne(sh("test -e %s/x.png", tmp), 0);
  ck_assert_int_eq(sh("%s plot " ACTFIT_SOURCE_DIR "/tables/fewbit/gelu-2bit.json -o "
                      "/nonexistent/dir/x.png 2>/dev/null", ACTFIT_CLI), 1);
  ck_assert_int_eq(sh("%s plot " ACTFIT_SOURCE_DIR "/tables/fewbit/gelu-2bit.json -o x.bmp "
                      "2>/dev/null", ACTFIT_CLI), 2);
}
END_TEST

START_TEST(report_lists_every_committed_table_with_its_values)
{
  /* without a directory, from anywhere: the tables of the tree it was built from */
  ck_assert_int_eq(sh("cd %s && %s report | grep -c '\\.json |' | grep -qx 132", tmp, ACTFIT_CLI), 0);
  ck_assert_int_eq(sh("cd " ACTFIT_SOURCE_DIR " && %s report --format json > %s/r.json",
                      ACTFIT_CLI, tmp), 0);
  char path[128], *text, err[ACTFIT_ERRLEN];
  snprintf(path, sizeof path, "%s/r.json", tmp);
  ck_assert_int_eq(actfit_read_file(path, &text, NULL, err, sizeof err), ACTFIT_OK);
  cJSON *root = cJSON_Parse(text);
  free(text);
  ck_assert(cJSON_IsArray(root));
  int n = cJSON_GetArraySize(root);
  ck_assert_int_eq(sh("test $(ls " ACTFIT_SOURCE_DIR "/tables/*/*.json | wc -l) -eq %d", n), 0);
  const cJSON *row;
  cJSON_ArrayForEach(row, root)
  {
    const char *tp = cJSON_GetObjectItem(row, "table")->valuestring;
    char full[1024];
    snprintf(full, sizeof full, "%s/%s", ACTFIT_SOURCE_DIR, tp);
    actfit_table t;
    ck_assert_int_eq(actfit_table_load(full, &t, err, sizeof err), ACTFIT_OK);
    const cJSON *E = cJSON_GetObjectItem(row, "E"), *mx = cJSON_GetObjectItem(row, "max_error");
    if (t.method == ACTFIT_METHOD_FEWBIT) {
      ck_assert(E->valuedouble == t.E && mx->valuedouble == t.max_abs);
      ck_assert_int_eq(cJSON_GetObjectItem(row, "state_bits")->valueint, t.bits);
      ck_assert(cJSON_GetObjectItem(row, "memory_removed")->valuedouble == (16.0 - t.bits) / 48);
    } else {
      ck_assert(cJSON_IsNull(E) && mx->valuedouble == t.err_exact_y);
    }
    actfit_table_destroy(&t);
  }
  cJSON_Delete(root);
  ck_assert_int_eq(sh("%s report /nonexistent 2>/dev/null", ACTFIT_CLI), 1);
}
END_TEST

START_TEST(apply_reproduces_table_derivatives_and_rejects_bad_input)
{
  /* x values, some on borders */
  char xin[128];
  snprintf(xin, sizeof xin, "%s/x.f32", tmp);
  actfit_table t;
  char err[ACTFIT_ERRLEN];
  ck_assert_int_eq(actfit_table_load(ACTFIT_SOURCE_DIR "/tables/fewbit/silu-3bit.json", &t, err,
                                     sizeof err), ACTFIT_OK);
  float xs[1000];
  for (int i = 0; i < 1000; i++)
    xs[i] = i < 7 ? (float)t.borders[i] : -9.0f + 18.0f * (float)i / 1000;
  FILE *f = fopen(xin, "wb");
  ck_assert_int_eq(fwrite(xs, 4, 1000, f), 1000);
  fclose(f);
  ck_assert_int_eq(sh("%s apply " ACTFIT_SOURCE_DIR "/tables/fewbit/silu-3bit.json --dtype fp32 "
                      "< %s > %s/d.f32", ACTFIT_CLI, xin, tmp), 0);
  char dpath[128];
  snprintf(dpath, sizeof dpath, "%s/d.f32", tmp);
  float d[1000];
  f = fopen(dpath, "rb");
  ck_assert_int_eq(fread(d, 4, 1000, f), 1000);
  fclose(f);
  for (int i = 0; i < 1000; i++) /* by hand: the level of the code, exactly */
    ck_assert(d[i] == (float)t.levels[actfit_table_code(&t, xs[i])]);
  actfit_table_destroy(&t);
  /* InvAct within the stated error */
  ck_assert_int_eq(actfit_table_load(ACTFIT_SOURCE_DIR "/tables/invact/mish.json", &t, err,
                                     sizeof err), ACTFIT_OK);
  ck_assert_int_eq(sh("%s apply " ACTFIT_SOURCE_DIR "/tables/invact/mish.json --dtype bf16 "
                      "--bit-in-y < %s > %s/d.f32", ACTFIT_CLI, xin, tmp), 0);
  f = fopen(dpath, "rb");
  ck_assert_int_eq(fread(d, 4, 1000, f), 1000);
  fclose(f);
  actfit_act *a = NULL;
  ck_assert_int_eq(actfit_table_act(&t, &a, err, sizeof err), ACTFIT_OK);
  for (int i = 0; i < 1000; i++) {
    float xb = actfit_bf16_to_f32(actfit_f32_to_bf16(xs[i]));
    double fp = actfit_act_df(a, xb);
    ck_assert_msg(fabs(d[i] - fp) <= t.dt[ACTFIT_DT_BF16][1].max * 1.0001 + fabs(fp) * 0x1p-7,
                  "x=%g: %g vs %g", xb, d[i], fp);
  }
  actfit_act_free(a);
  actfit_table_destroy(&t);
  /* bad input: 3 bytes, a bad dtype, a malformed table */
  ck_assert_int_eq(sh("printf abc | %s apply " ACTFIT_SOURCE_DIR "/tables/invact/gelu.json "
                      "--dtype fp32 >/dev/null 2>%s/e", ACTFIT_CLI, tmp), 2);
  ck_assert_int_eq(sh("grep -q 'not a whole number of float32' %s/e", tmp), 0);
  ck_assert_int_eq(sh("%s apply " ACTFIT_SOURCE_DIR "/tables/invact/gelu.json --dtype fp8 "
                      "</dev/null 2>/dev/null", ACTFIT_CLI), 2);
  ck_assert_int_eq(sh("%s apply " ACTFIT_TEST_DATA "/bad/bits-nine.json --dtype fp32 "
                      "</dev/null 2>/dev/null", ACTFIT_CLI), 2);
  /* an unreadable standard input is an error with errno's words, not an empty result */
  ck_assert_int_eq(sh("%s apply " ACTFIT_SOURCE_DIR "/tables/invact/gelu.json --dtype fp32 "
                      "< %s > %s/o 2>%s/e", ACTFIT_CLI, tmp, tmp, tmp), 1);
  ck_assert_int_eq(sh("grep -q 'cannot read standard input: Is a directory' %s/e", tmp), 0);
  ck_assert_int_eq(sh("%s apply " ACTFIT_SOURCE_DIR "/tables/invact/gelu.json --dtype fp32 "
                      "<&- 2>%s/e", ACTFIT_CLI, tmp), 1);
  ck_assert_int_eq(sh("grep -q 'cannot read standard input: Bad file descriptor' %s/e", tmp), 0);
  /* an expression's table: y from the fitting library, the state from the encoder */
  ck_assert_int_eq(sh("cd %s && %s fewbit --expr 'x/(1+exp(-x))' --bits 2 --quiet -o e.json "
                      ">/dev/null && printf '\\000\\000\\200\\077' | %s apply e.json "
                      "--dtype bf16 | od -An -tf4 > v && %s fewbit silu --bits 2 --quiet -o s.json "
                      ">/dev/null && printf '\\000\\000\\200\\077' | %s apply s.json "
                      "--dtype bf16 | od -An -tf4 | cmp -s - v",
                      tmp, ACTFIT_CLI, ACTFIT_CLI, ACTFIT_CLI, ACTFIT_CLI), 0);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("tools");
  TCase *tc = tcase_create("tools");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 900);
  tcase_add_test(tc, tables_regeneration_is_byte_identical_for_1_and_2_jobs);
  tcase_add_test(tc, gen_reproduces_the_committed_headers);
  tcase_add_test(tc, gen_keeps_the_builtin_set_whole_and_writes_all_or_nothing);
  tcase_add_test(tc, plot_writes_a_png_of_the_requested_size);
  tcase_add_test(tc, plot_data_has_each_tables_weight_and_the_key_names_it);
  tcase_add_test(tc, plot_without_gnuplot_names_the_package_and_writes_nothing);
  tcase_add_test(tc, report_lists_every_committed_table_with_its_values);
  tcase_add_test(tc, apply_reproduces_table_derivatives_and_rejects_bad_input);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(suite)
