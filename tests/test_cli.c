/* The actfit command line as a user runs it: output, exit codes, one-line errors. */
#include <stdlib.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* Runs `actfit ARGS`, captures stdout+stderr (or stderr alone), returns the exit code. */
static int run(const char *args, char *out, size_t n, int only_stderr)
{
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s %s %s", ACTFIT_CLI, args,
           only_stderr ? "2>&1 >/dev/null" : "2>&1");
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  size_t len = fread(out, 1, n - 1, p);
  out[len] = 0;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int lines(const char *s)
{
  int n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

START_TEST(list_shows_all_21_activations)
{
  static char out[1 << 16];
  ck_assert_int_eq(run("list", out, sizeof out, 0), 0);
  ck_assert(strstr(out, "21 activations"));
  const char *names[] = {"gelu", "gelu_tanh", "silu", "mish", "softplus", "elu", "celu",
                         "selu", "sigmoid", "tanh", "logsigmoid", "softsign", "tanhshrink",
                         "hardswish", "hardsigmoid", "hardtanh", "relu", "relu6",
                         "leaky_relu", "hardshrink", "softshrink"};
  for (int i = 0; i < 21; i++) {
    char pat[32];
    snprintf(pat, sizeof pat, "\n%s ", names[i]);
    ck_assert_msg(strstr(out, pat), "list lacks %s", names[i]);
  }
}
END_TEST

START_TEST(show_prints_gelu_derivative_to_17_digits)
{
  static char out[1 << 14];
  ck_assert_int_eq(run("show gelu --x 1", out, sizeof out, 0), 0);
  ck_assert_msg(strstr(out, "1.0833154705876864"), "%s", out);
  ck_assert(strstr(out, "T = -0.7517915246935"));
}
END_TEST

START_TEST(show_expression_agrees_with_builtin)
{
  static char a[1 << 14], b[1 << 14];
  ck_assert_int_eq(run("show --expr 'x/(1+exp(-x))' --x 0.5", a, sizeof a, 0), 0);
  ck_assert_int_eq(run("show silu --x 0.5", b, sizeof b, 0), 0);
  double fa, da, fb, db;
  const char *pa = strstr(a, "\n0.5 "), *pb = strstr(b, "\n0.5 ");
  ck_assert(pa && pb);
  ck_assert_int_eq(sscanf(pa, " 0.5 %lf %lf", &fa, &da), 2);
  ck_assert_int_eq(sscanf(pb, " 0.5 %lf %lf", &fb, &db), 2);
  ck_assert(fabs(fa - fb) < 1e-14 && fabs(da - db) < 1e-14);
}
END_TEST

START_TEST(bad_input_gives_one_line_and_exit_2)
{
  struct { const char *args; const char *msg; int code; } c[] = {
    {"show --expr 'x+y'", "variable 'y'", 2},
    {"show --expr 'x+*'", "cannot parse", 2},
    {"show nope", "unknown activation 'nope'", 2},
    {"show elu:beta=2", "no parameter 'beta'", 2},
    {"show gelu --x abc", "not a finite number", 2},
    {"show", "missing activation", 2},
    {"frobnicate", "unknown command", 2},
    {"fewbit gelu", "--bits B is required", 2},
    {"fewbit gelu --bits 9", "--bits must be an integer 1..8", 2},
    {"fewbit gelu --bits 2 --domain 3,1", "--domain", 2},
    {"fewbit gelu --bits 4 --grid 8", "cannot hold 16 levels", 2},
    {"fewbit gelu --bits 2 --weight gauss:0,0", "SIGMA must be > 0", 2},
    {"fewbit gelu --bits 2 --weight hist:/nonexistent", "cannot open", 1},
    {"fewbit --expr 'log(x)' --bits 2 --domain -1,1", "not finite", 2},
    {"fewbit gelu --bits 2 --norm l3", "--norm must be l2 or linf", 2},
    {"fewbit gelu --bits 2 --bogus", "actfit fewbit: option '--bogus' is unknown", 2},
    {"invact gelu -o", "actfit invact: option '-o' is unknown or needs a value", 2},
    {"plot -Z", "actfit plot: option '-Z'", 2},
    {"fewbit gelu --bits 1 -o /nonexistent/dir/t.json", "cannot write", 1},
    {"eval /nonexistent.json", "cannot open", 1},
    {"invact --expr 'exp(x)'", "does not level off", 2},
    {"show --expr 'x!'", "unexpected character '!'", 2},
    {"show --expr 'x,2'", "unexpected character ','", 2},
    {"apply " ACTFIT_SOURCE_DIR "/tables/fewbit/gelu-2bit.json --dtype fp32 --bit-in-y", "--bit-in-y applies", 2},
    {"eval " ACTFIT_SOURCE_DIR "/tables/invact/gelu.json --weight uniform", "apply to FewBit tables", 2},
    {"eval " ACTFIT_TEST_DATA "/bad/borders-unsorted.json", "strictly ascending", 2},
    /* found in the second adversarial round (issue 22) */
    {"fewbit gelu --bits ' 2'", "--bits must be an integer 1..8, got ' 2'", 2},
    {"eval " ACTFIT_SOURCE_DIR "/tables/fewbit/gelu-2bit.json --points ' 5'", "--points", 2},
    {"invact gelu --target 1e300", "target 1e+300 is above 1e-2", 2},
    {"fewbit gelu --bits 1 -o /tmp/", "it names a directory", 2},
    {"fewbit gelu --bits 1 -o /tmp", "it is a directory", 2},
    {"fewbit --expr '1/(x-0.3)' --bits 2", "f' is unbounded near x = 0.3", 2},
    {"fewbit --expr 'log(abs(x-0.3))' --bits 2", "f' is unbounded near x = 0.3", 2},
    {"fewbit elu:alpha=1e39 --bits 2", "out of range for elu", 2},
    {"eval /dev/zero", "not a regular file (a device)", 1},
    {"invact tanhshrink", "f'(0) = 0 inside a monotone branch: g(y) = f'(f^-1(y)) has a cusp", 2},
    {"report /nonexistent", "cannot open '/nonexistent'", 1},
    {"apply " ACTFIT_TEST_DATA "/bad/invact-exact-sigmoid-on-gelu.json --dtype fp32",
     "which is not the derivative of gelu", 2},
  };
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    char err[4096];
    int code = run(c[i].args, err, sizeof err, 1);
    ck_assert_msg(code == c[i].code, "'%s' exited %d, want %d", c[i].args, code, c[i].code);
    ck_assert_msg(strstr(err, c[i].msg), "'%s': stderr '%s' lacks '%s'", c[i].args, err,
                  c[i].msg);
    /* one line, getopt's complaints included */
    ck_assert_msg(lines(err) == 1, "'%s': %d lines: %s", c[i].args, lines(err), err);
  }
}
END_TEST

/* Standard output that cannot be written (a full disk: /dev/full) is an I/O failure, exit 1
 * with one line naming it, for every subcommand and for --help and --version; they exited 0
 * having written nothing. */
START_TEST(a_full_standard_output_exits_1_for_every_subcommand)
{
  static const char *const cmds[] = {
    "list", "list --help", "--help", "--version", "show gelu --x 1",
    "eval " ACTFIT_SOURCE_DIR "/tables/fewbit/gelu-2bit.json",
    "report " ACTFIT_SOURCE_DIR "/tables",
    "invact --help", "gen --help", "tables --help", "apply --help", "plot --help"};
  for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
    char cmd[1024], out[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1 >/dev/full", ACTFIT_CLI, cmds[i]);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t len = fread(out, 1, sizeof out - 1, p);
    out[len] = 0;
    int st = pclose(p);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "'%s' > /dev/full: exit %d", cmds[i],
                  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    ck_assert_msg(lines(out) == 1 && strstr(out, "standard output") &&
                  strstr(out, "No space left"), "'%s' > /dev/full said: %s", cmds[i], out);
  }
}
END_TEST

/* A legal name of 250 characters is written (its temporary name was 264 bytes, and the
 * message cut before the reason); one whose directory is missing says why. */
START_TEST(long_output_names_are_written_and_their_errors_keep_the_reason)
{
  char dir[] = "/tmp/actfit-long-XXXXXX", args[1024], out[4096];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char name[251];
  memset(name, 'n', 245);
  strcpy(name + 245, ".json");
  snprintf(args, sizeof args, "fewbit gelu --bits 1 --quiet -o %s/%s", dir, name);
  ck_assert_int_eq(run(args, out, sizeof out, 1), 0);
  snprintf(args, sizeof args, "%s/%s", dir, name);
  ck_assert_int_eq(access(args, R_OK), 0);
  unlink(args);
  snprintf(args, sizeof args, "fewbit gelu --bits 1 --quiet -o %s/missing/%s", dir, name);
  ck_assert_int_eq(run(args, out, sizeof out, 1), 1);
  ck_assert_msg(strstr(out, "its directory does not exist"), "%s", out);
  rmdir(dir);
}
END_TEST

/* report reads the set-up's out/ (tables directly in it), single files, and several
 * arguments (given a file, it looked for a fewbit folder inside it) */
START_TEST(report_reads_flat_directories_and_single_files)
{
  char dir[] = "/tmp/actfit-report-XXXXXX", cmd[1024];
  static char out[1 << 18];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(cmd, sizeof cmd, "cp " ACTFIT_SOURCE_DIR "/tables/fewbit/gelu-2bit.json "
           ACTFIT_SOURCE_DIR "/tables/invact/silu.json %s/", dir);
  ck_assert_int_eq(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "report %s", dir);
  ck_assert_int_eq(run(cmd, out, sizeof out, 0), 0);
  ck_assert_msg(strstr(out, "| gelu-2bit.json | gelu | fewbit | 2 |") &&
                strstr(out, "| silu.json | silu | invact"), "%s", out);
  snprintf(cmd, sizeof cmd, "report %s/gelu-2bit.json", dir);
  ck_assert_int_eq(run(cmd, out, sizeof out, 0), 0);
  ck_assert_msg(strstr(out, "| gelu-2bit.json |") && !strstr(out, "silu"), "%s", out);
  snprintf(cmd, sizeof cmd, "report %s/gelu-2bit.json " ACTFIT_SOURCE_DIR "/tables --format json",
           dir);
  ck_assert_int_eq(run(cmd, out, sizeof out, 0), 0);
  ck_assert_msg(strstr(out, "gelu-2bit.json") && strstr(out, "tables/invact/mish.json"), "%s",
                out);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(help_and_version_everywhere)
{
  static char out[1 << 14];
  const char *subs[] = {"list", "show", "fewbit", "eval", "invact", "gen", "tables", "apply",
                        "plot", "report"};
  for (int i = 0; i < 10; i++) {
    char args[64];
    snprintf(args, sizeof args, "%s --help", subs[i]);
    ck_assert_int_eq(run(args, out, sizeof out, 0), 0);
    ck_assert_msg(strstr(out, "usage: actfit"), "%s", args);
  }
  ck_assert_int_eq(run("--version", out, sizeof out, 0), 0);
  ck_assert(strstr(out, "actfit 0."));
}
END_TEST

/* sh -c CMD in dir; returns the exit code */
static int sh(const char *dir, const char *cmd)
{
  char full[8192];
  snprintf(full, sizeof full, "cd '%s' && A='%s' && %s", dir, ACTFIT_CLI, cmd);
  int st = system(full);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(output_paths_keep_modes_follow_links_and_never_replace_special_files)
{
  char dir[] = "/tmp/actfit-test-out-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  /* a read-only regular file is replaced atomically and keeps its mode */
  ck_assert_int_eq(sh(dir, "echo old > ro.json && chmod 444 ro.json && "
                          "$A fewbit gelu --bits 1 --quiet -o ro.json >/dev/null && "
                          "test \"$(stat -c %a ro.json)\" = 444 && grep -q actfit-table ro.json"), 0);
  /* a symlink is followed: the link stays, its target gets the table (dangling too) */
  ck_assert_int_eq(sh(dir, "ln -s ro.json link.json && ln -s new.json dangling.json && "
                          "$A fewbit gelu --bits 2 --quiet -o link.json >/dev/null && "
                          "$A fewbit gelu --bits 2 --quiet -o dangling.json >/dev/null && "
                          "test -L link.json && test -L dangling.json && "
                          "grep -q '\"bits\":.2' ro.json && grep -q '\"bits\":.2' new.json"), 0);
  /* a FIFO is written into, never replaced */
  ck_assert_int_eq(sh(dir, "mkfifo ff && (cat ff > got.json &) && "
                          "$A fewbit gelu --bits 1 --quiet -o ff >/dev/null && sleep 0.2 && "
                          "test -p ff && grep -q actfit-table got.json"), 0);
  /* -o - : standard output holds the table alone, the report goes to stderr */
  ck_assert_int_eq(sh(dir, "$A fewbit gelu --bits 1 -o - 2>report.txt >t.json && "
                          "head -c 1 t.json | grep -q '{' && grep -q 'E = ' report.txt && "
                          "! grep -q 'E = ' t.json && ! test -e ./-"), 0);
  ck_assert_int_eq(sh(dir, "$A invact sigmoid --quiet -o - 2>/dev/null | grep -q '\"exact\"'"), 0);
  /* a missing directory or a directory is refused before any fitting, in one line */
  static char out[4096];
  ck_assert_int_eq(run("invact gelu -o /nonexistent-dir/g.json", out, sizeof out, 0), 1);
  ck_assert_int_eq(lines(out), 1);
  ck_assert_msg(strstr(out, "'/nonexistent-dir/g.json': its directory does not exist"), "%s",
                out);
  ck_assert_int_eq(run("fewbit gelu --bits 2 -o /tmp", out, sizeof out, 0), 2);
  ck_assert_msg(strstr(out, "is a directory") && lines(out) == 1, "%s", out);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The README's examples are the program's: every "$ actfit ..." line in a code block runs
 * (in order, in a scratch directory that sees the repository's tables/), and each output
 * line the README shows under it must appear in the program's output, in order, with "..."
 * standing for any text.  Lines that cannot run verbatim (usage syntax with [ ] or { },
 * redirections, a CUDA backend) are skipped, and so is `actfit tables` (a minute of
 * fitting that test_tools covers). */
static void glob_of(const char *line, char *pat, size_t n)
{
  size_t k = 0;
  for (const char *c = line; *c && k + 3 < n; c++) {
    if (!strncmp(c, "...", 3)) {
      pat[k++] = '*';
      c += 2;
    } else if (*c == '*' || *c == '?' || *c == '[' || *c == '\\') {
      pat[k++] = '\\';
      pat[k++] = *c;
    } else {
      pat[k++] = *c;
    }
  }
  while (k > 0 && pat[k - 1] == ' ')
    k--;
  pat[k] = 0;
}

/* The README's and docs/cli.md's examples, in that order, in one directory */
START_TEST(readme_examples_print_what_the_readme_shows)
{
  static const char *const docs[] = {ACTFIT_SOURCE_DIR "/README.md",
                                     ACTFIT_SOURCE_DIR "/docs/cli.md"};
  char dir[] = "/tmp/actfit-readme-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char cmd[8192], line[4096], *out = malloc(1 << 20);
  snprintf(cmd, sizeof cmd, "ln -s " ACTFIT_SOURCE_DIR "/tables '%s/tables'", dir);
  ck_assert_int_eq(system(cmd), 0);
  int in_block = 0, have = 0, checked = 0, ran = 0;
  size_t pos = 0; /* where the next expected line is searched from */
  for (int d = 0; d < 2; d++) {
  FILE *f = fopen(docs[d], "r");
  ck_assert_ptr_nonnull(f);
  in_block = have = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (!strncmp(line, "```", 3)) {
      in_block = !in_block;
      have = 0;
      continue;
    }
    if (!in_block)
      continue;
    if (!strncmp(line, "$ actfit ", 9)) {
      char *args = line + 9, *hash = strstr(args, "  #");
      if (hash)
        *hash = 0;
      have = 0;
      if (strpbrk(args, "[]{}<>") || strstr(args, "cuda") || !strncmp(args, "tables", 6))
        continue;
      snprintf(cmd, sizeof cmd, "cd '%s' && %s %s 2>&1", dir, ACTFIT_CLI, args);
      FILE *p = popen(cmd, "r");
      ck_assert_ptr_nonnull(p);
      size_t len = fread(out, 1, (1 << 20) - 1, p);
      out[len] = 0;
      int st = pclose(p);
      ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: 'actfit %s' failed: %s",
                    docs[d], args, out);
      have = 1;
      ran++;
      pos = 0;
      continue;
    }
    if (!have || !strcmp(line, "...") || !*line)
      continue;
    /* the next program line at or after pos that matches */
    char pat[8192];
    glob_of(line, pat, sizeof pat);
    int found = 0;
    while (out[pos]) {
      size_t e = strcspn(out + pos, "\n");
      char got[4096];
      snprintf(got, sizeof got, "%.*s", (int)(e < sizeof got - 1 ? e : sizeof got - 1), out + pos);
      size_t gl = strlen(got);
      while (gl > 0 && got[gl - 1] == ' ')
        got[--gl] = 0;
      pos += e + (out[pos + e] == '\n');
      if (fnmatch(pat, got, 0) == 0) {
        found = 1;
        break;
      }
    }
    ck_assert_msg(found, "%s shows '%s', which the program did not print (in order)",
                  docs[d], line);
    checked++;
  }
  fclose(f);
  }
  free(out);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
  ck_assert_int_ge(ran, 6);
  ck_assert_int_ge(checked, 10);
}
END_TEST

/* long work shows a progress bar on stderr when it is a terminal (or ACTFIT_PROGRESS=always,
 * which lets a test see it without one), and nothing otherwise or with --quiet */
START_TEST(progress_shows_on_a_terminal_only)
{
  static char out[1 << 16];
  ck_assert_int_eq(run("invact gelu --points 6000000", out, sizeof out, 1), 0);
  ck_assert_msg(out[0] == 0, "stderr not a terminal, yet: %.200s", out);
  setenv("ACTFIT_PROGRESS", "always", 1);
  ck_assert_int_eq(run("invact gelu --points 6000000", out, sizeof out, 1), 0);
  ck_assert_msg(strstr(out, "] 100%") && strchr(out, '\r') && strlen(out) < 8000,
                "no progress bar, or one redrawn too often: %.200s", out);
  ck_assert_int_eq(run("fewbit gelu --bits 1 --quiet", out, sizeof out, 1), 0);
  ck_assert_msg(out[0] == 0, "--quiet, yet: %.200s", out);
  unsetenv("ACTFIT_PROGRESS");
}
END_TEST

START_TEST(fewbit_writes_a_table_that_eval_confirms)
{
  char dir[] = "/tmp/actfit-cli-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  static char out[1 << 14];
  char args[512];
  snprintf(args, sizeof args, "fewbit silu --bits 3 --weight gauss:0,1 -o %s/t.json", dir);
  ck_assert_int_eq(run(args, out, sizeof out, 0), 0);
  ck_assert(strstr(out, "KKT residual"));
  snprintf(args, sizeof args, "eval %s/t.json", dir);
  ck_assert_int_eq(run(args, out, sizeof out, 0), 0);
  const char *p = strstr(out, "relative difference ");
  ck_assert_ptr_nonnull(p);
  ck_assert(atof(p + 20) < 1e-8);
  /* --weight and --domain override the table's: a different E, no comparison line */
  snprintf(args, sizeof args, "eval %s/t.json --weight uniform --domain -4,4", dir);
  ck_assert_int_eq(run(args, out, sizeof out, 0), 0);
  ck_assert(strstr(out, "weight uniform") && !strstr(out, "relative difference"));
  snprintf(args, sizeof args, "eval %s/t.json --domain 4,-4", dir);
  ck_assert_int_eq(run(args, out, sizeof out, 0), 2);
  snprintf(args, sizeof args, "rm -rf %s", dir);
  ck_assert_int_eq(system(args), 0);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("cli");
  TCase *tc = tcase_create("cli");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, list_shows_all_21_activations);
  tcase_add_test(tc, show_prints_gelu_derivative_to_17_digits);
  tcase_add_test(tc, show_expression_agrees_with_builtin);
  tcase_add_test(tc, bad_input_gives_one_line_and_exit_2);
  tcase_add_test(tc, help_and_version_everywhere);
  tcase_add_test(tc, a_full_standard_output_exits_1_for_every_subcommand);
  tcase_add_test(tc, long_output_names_are_written_and_their_errors_keep_the_reason);
  tcase_add_test(tc, report_reads_flat_directories_and_single_files);
  tcase_add_test(tc, fewbit_writes_a_table_that_eval_confirms);
  tcase_add_test(tc, output_paths_keep_modes_follow_links_and_never_replace_special_files);
  tcase_add_test(tc, readme_examples_print_what_the_readme_shows);
  tcase_add_test(tc, progress_shows_on_a_terminal_only);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(suite)
