/* Tables: JSON round trip bit-exact, malformed corpus rejected with the field named,
 * atomic saving. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actfit/table.h"
#include "testutil.h"

static void fill(actfit_table *t, int bits, const double *vals, int nvals)
{
  actfit_table_init(t);
  ck_assert_int_eq(actfit_table_set_bits(t, bits), ACTFIT_OK);
  t->method = ACTFIT_METHOD_FEWBIT;
  snprintf(t->act_name, sizeof t->act_name, "elu");
  t->nparams = 1;
  snprintf(t->param_names[0], sizeof t->param_names[0], "alpha");
  t->params[0] = 0.1;
  snprintf(t->norm, sizeof t->norm, "l2");
  snprintf(t->weight, sizeof t->weight, "gauss:0,1");
  t->domain[0] = -8;
  t->domain[1] = 8;
  t->grid = 4096;
  int k = 1 << bits;
  for (int i = 0; i < k - 1; i++)
    t->borders[i] = (i + 1.0 / 3.0) * (6.0 / k) - 3.0;
  for (int i = 0; i < k; i++)
    t->levels[i] = vals[(i + 3) % nvals];
  t->E = vals[0];
  t->kkt = 5e-324;
}

START_TEST(json_round_trip_is_bit_exact)
{
  /* values that %.15g would not reproduce, subnormals, extremes, negative zero (levels and
   * borders stay within float's range, which the loader requires; E takes DBL_MAX) */
  const double vals[] = {0.1, 1.0 / 3.0, -2.0 / 7.0, 5e-324, 2.2250738585072014e-308,
                         3.4028234663852886e38, -0.0, 0.30000000000000004, 1e-300,
                         3.141592653589793, -2.718281828459045, 123456789.123456789};
  for (int bits = 1; bits <= 8; bits++) {
    actfit_table t, u;
    fill(&t, bits, vals, (int)(sizeof vals / sizeof *vals));
    t.E = 1.7976931348623157e308;
    char *text, err[ACTFIT_ERRLEN] = "";
    ck_assert_int_eq(actfit_table_to_json(&t, &text, err, sizeof err), ACTFIT_OK);
    ck_assert_msg(actfit_table_from_json(text, &u, err, sizeof err) == ACTFIT_OK, "%s", err);
    int k = 1 << bits;
    ck_assert(memcmp(t.levels, u.levels, sizeof(double) * (size_t)k) == 0);
    ck_assert(memcmp(t.borders, u.borders, sizeof(double) * (size_t)(k - 1)) == 0);
    ck_assert(memcmp(&t.E, &u.E, sizeof t.E) == 0);
    ck_assert(memcmp(&t.kkt, &u.kkt, sizeof t.kkt) == 0);
    ck_assert(u.params[0] == 0.1 && !strcmp(u.act_name, "elu") && u.grid == 4096);
    ck_assert_str_eq(u.weight, "gauss:0,1");
    /* and the second serialisation is byte-identical to the first */
    char *text2;
    ck_assert_int_eq(actfit_table_to_json(&u, &text2, err, sizeof err), ACTFIT_OK);
    ck_assert_str_eq(text, text2);
    free(text);
    free(text2);
    actfit_table_destroy(&t);
    actfit_table_destroy(&u);
  }
}
END_TEST

START_TEST(writing_refuses_non_finite_numbers)
{
  const double vals[] = {0.5};
  actfit_table t;
  fill(&t, 2, vals, 1);
  t.levels[1] = NAN;
  char *text = NULL, err[ACTFIT_ERRLEN] = "";
  ck_assert_int_eq(actfit_table_to_json(&t, &text, err, sizeof err), ACTFIT_EINVAL);
  ck_assert_ptr_null(text);
  ck_assert(strstr(err, "non-finite"));
  actfit_table_destroy(&t);
}
END_TEST

START_TEST(malformed_tables_are_rejected_naming_the_problem)
{
  FILE *f = fopen(ACTFIT_TEST_DATA "/bad/expected.txt", "r");
  ck_assert_ptr_nonnull(f);
  char line[512];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    char *tab = strchr(line, '\t');
    ck_assert_ptr_nonnull(tab);
    *tab = 0;
    char *msg = tab + 1;
    msg[strcspn(msg, "\n")] = 0;
    char path[1024], err[ACTFIT_ERRLEN] = "";
    snprintf(path, sizeof path, "%s/bad/%s", ACTFIT_TEST_DATA, line);
    actfit_table t;
    actfit_status st = actfit_table_load(path, &t, err, sizeof err);
    ck_assert_msg(st != ACTFIT_OK, "%s was accepted", line);
    ck_assert_msg(strstr(err, msg), "%s: message '%s' lacks '%s'", line, err, msg);
    ck_assert_msg(strstr(err, line), "%s: message '%s' does not name the file", line, err);
    ck_assert_ptr_null(t.borders);
    n++;
  }
  fclose(f);
  ck_assert_int_ge(n, 25);
}
END_TEST

START_TEST(good_table_loads_and_codes_count_borders)
{
  actfit_table t;
  char err[ACTFIT_ERRLEN] = "";
  ck_assert_msg(actfit_table_load(ACTFIT_TEST_DATA "/good-gelu-2bit.json", &t, err,
                                  sizeof err) == ACTFIT_OK, "%s", err);
  ck_assert_int_eq(t.bits, 2);
  ck_assert_int_eq(actfit_table_code(&t, -100), 0);
  ck_assert_int_eq(actfit_table_code(&t, t.borders[0]), 1); /* a border belongs to the right */
  ck_assert_int_eq(actfit_table_code(&t, nextafter(t.borders[0], -1e9)), 0);
  ck_assert_int_eq(actfit_table_code(&t, 100), 3);
  actfit_act *a = NULL;
  ck_assert_int_eq(actfit_table_act(&t, &a, err, sizeof err), ACTFIT_OK);
  ck_assert_str_eq(actfit_act_name(a), "gelu");
  actfit_act_free(a);
  t.parity_even = 1;
  t.borders[0] = 0.5; t.borders[1] = 1; t.borders[2] = 2;
  ck_assert_int_eq(actfit_table_code(&t, -1.5), 2);
  ck_assert_int_eq(actfit_table_code(&t, 1.5), 2);
  actfit_table_destroy(&t);
}
END_TEST

/* Files are read whole only when they are regular: a FIFO (which blocked forever), a device
 * (/dev/zero read until memory ran out, then an empty message) and a directory are refused
 * at once, each with a message naming it. */
START_TEST(reading_refuses_fifos_devices_and_directories_without_blocking)
{
  char fifo[] = "/tmp/actfit-test-fifo-XXXXXX", err[ACTFIT_ERRLEN];
  ck_assert_ptr_nonnull(mkdtemp(fifo));
  char path[128];
  snprintf(path, sizeof path, "%s/f", fifo);
  ck_assert_int_eq(mkfifo(path, 0600), 0);
  const char *cases[][2] = {{path, "FIFO"}, {"/dev/zero", "device"}, {"/tmp", "directory"}};
  for (int i = 0; i < 3; i++) {
    char *text = (char *)1;
    size_t len = 7;
    err[0] = 0;
    ck_assert_int_eq(actfit_read_file(cases[i][0], &text, &len, err, sizeof err), ACTFIT_EIO);
    ck_assert_ptr_null(text);
    ck_assert_msg(strstr(err, cases[i][0]) && strstr(err, cases[i][1]) &&
                  strstr(err, "not a regular file"), "%s", err);
    actfit_table t;
    ck_assert_int_eq(actfit_table_load(cases[i][0], &t, err, sizeof err), ACTFIT_EIO);
  }
  unlink(path);
  rmdir(fifo);
}
END_TEST

START_TEST(missing_file_and_unwritable_path_fail_cleanly)
{
  actfit_table t;
  char err[ACTFIT_ERRLEN] = "";
  ck_assert_int_eq(actfit_table_load("/nonexistent/x.json", &t, err, sizeof err), ACTFIT_EIO);
  ck_assert(strstr(err, "/nonexistent/x.json"));
  const double vals[] = {0.25};
  fill(&t, 1, vals, 1);
  ck_assert_int_eq(actfit_table_save(&t, "/nonexistent/dir/t.json", err, sizeof err),
                   ACTFIT_EIO);
  ck_assert(strstr(err, "cannot write"));
  /* a save over an existing file replaces it whole, leaving no temporary behind */
  char dir[] = "/tmp/actfit-test-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/t.json", dir);
  ck_assert_int_eq(actfit_table_save(&t, path, err, sizeof err), ACTFIT_OK);
  ck_assert_int_eq(actfit_table_save(&t, path, err, sizeof err), ACTFIT_OK);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", dir);
  ck_assert_int_eq(system(cmd), 0);
  unlink(path);
  rmdir(dir);
  actfit_table_destroy(&t);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("table");
  TCase *tc = tcase_create("table");
  tcase_add_test(tc, json_round_trip_is_bit_exact);
  tcase_add_test(tc, writing_refuses_non_finite_numbers);
  tcase_add_test(tc, malformed_tables_are_rejected_naming_the_problem);
  tcase_add_test(tc, good_table_loads_and_codes_count_borders);
  tcase_add_test(tc, missing_file_and_unwritable_path_fail_cleanly);
  tcase_add_test(tc, reading_refuses_fifos_devices_and_directories_without_blocking);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(suite)
