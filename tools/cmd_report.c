/* actfit report: one row per table with its errors, cost and the memory it saves. */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actfit/table.h"
#include "cli.h"

static void help(void)
{
  printf("usage: actfit report [DIR|TABLE.json ...] [--format md|json]\n\n"
         "One row per table: each TABLE.json given, and under each DIR the tables in it and\n"
         "in DIR/fewbit and DIR/invact (the set-up's out/ or the committed tables/).  Without\n"
         "arguments: ./tables, else the installed tables, else those of the source tree\n"
         "actfit was built from.  Columns:\n"
         "activation, method, bits, weight, E, max error, operations per element,\n"
         "saved-state bits per element, and the fraction of the saved activation memory of\n"
         "a Linear -> act -> Linear block it removes.  Accounting in bf16 (16 bits/element):\n"
         "standard keeps the block input, x and y (48 bits); FewBit keeps input, codes and y\n"
         "(32 + b); InvAct keeps input and y plus 1 bit or none (32 + s).\n");
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the *.json files directly in d, appended to paths */
static void add_dir(const char *d, char **paths, int *n)
{
  DIR *dd = opendir(d);
  if (!dd)
    return;
  struct dirent *e;
  while ((e = readdir(dd)) && *n < 4096) {
    size_t l = strlen(e->d_name);
    if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) {
      paths[*n] = malloc(strlen(d) + l + 2);
      if (paths[*n])
        sprintf(paths[(*n)++], "%s/%s", d, e->d_name);
    }
  }
  closedir(dd);
}

static void num(FILE *o, double v)
{
  if (isfinite(v))
    fprintf(o, "%.17g", v);
  else
    fprintf(o, "null");
}

int cmd_report(int argc, char **argv)
{
  static const struct option opts[] = {{"help", no_argument, 0, 'h'},
                                       {"format", required_argument, 0, 'f'},
                                       {0, 0, 0, 0}};
  int json = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "hf:", opts, NULL)) != -1) {
    switch (c) {
    case 'h': help(); return CLI_OK;
    case 'f':
      if (!strcmp(optarg, "md")) json = 0;
      else if (!strcmp(optarg, "json")) json = 1;
      else {
        cli_err("report", "--format must be md or json, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    default: return cli_usage_hint("report");
    }
  }
  const char *dir = optind + 1 == argc ? argv[optind] : NULL;
  int nargs = argc - optind;
  /* no DIR: ./tables, else the tables installed beside this program (<prefix>/bin/actfit ->
   * <prefix>/share/actfit/tables, wherever the prefix was moved), else those of the
   * configured prefix, else the source tree this was built from */
  char exe[4096], beside[4200] = "";
  ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (el > 0) {
    exe[el] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = 0;
      snprintf(beside, sizeof beside, "%s/../share/actfit/tables", exe);
    }
  }
  const char *tried[4] = {"tables", beside, ACTFIT_DATADIR "/tables", ACTFIT_SOURCE_TABLES};
  for (int i = 0; !dir && !nargs && i < 4; i++) {
    if (!*tried[i])
      continue;
    char probe[2048];
    snprintf(probe, sizeof probe, "%s/fewbit", tried[i]);
    DIR *dd = opendir(probe);
    if (!dd) {
      snprintf(probe, sizeof probe, "%s/invact", tried[i]);
      dd = opendir(probe);
    }
    if (dd) {
      closedir(dd);
      dir = tried[i];
    }
  }
  if (!dir && !nargs) {
    cli_err("report", "no tables in ./tables, %s, %s or %s; pass the directory: actfit report "
            "DIR", tried[1], tried[2], tried[3]);
    return CLI_FAIL;
  }
  static char *paths[4096];
  int n = 0;
  const char *subs[2] = {"fewbit", "invact"};
  for (int a = nargs ? optind : argc - 1; a < argc; a++) {
    const char *arg = nargs ? argv[a] : dir;
    struct stat sb;
    if (stat(arg, &sb) != 0) {
      cli_err("report", "cannot open '%s': %s", arg, strerror(errno));
      return CLI_FAIL;
    }
    if (!S_ISDIR(sb.st_mode)) { /* a table file */
      if (n < 4096 && (paths[n] = strdup(arg)))
        n++;
      continue;
    }
    int before = n;
    add_dir(arg, paths, &n);
    for (int s = 0; s < 2; s++) {
      char d[2048];
      snprintf(d, sizeof d, "%s/%s", arg, subs[s]);
      add_dir(d, paths, &n);
    }
    if (n == before) {
      cli_err("report", "no tables in '%s' (looked for %s/*.json, %s/fewbit/*.json and "
              "%s/invact/*.json)", arg, arg, arg, arg);
      return CLI_FAIL;
    }
  }
  qsort(paths, (size_t)n, sizeof *paths, cmp_str);
  int rc = CLI_OK;
  if (json)
    printf("[\n");
  else if (dir)
    printf("Tables under %s:\n\n", dir);
  if (!json)
    printf("| table | activation | method | bits | weight | E | max error | bf16 max | ops/elem | "
           "state bits | memory removed |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < n; i++) {
    actfit_table t;
    char err[ACTFIT_ERRLEN];
    if (actfit_table_load(paths[i], &t, err, sizeof err) != ACTFIT_OK) {
      cli_err("report", "%s", err);
      rc = CLI_USAGE;
      continue;
    }
    int fb = t.method == ACTFIT_METHOD_FEWBIT;
    const char *name = t.expr ? t.expr : t.act_name;
    int state = fb ? t.bits : t.bit;
    double removed = (48.0 - (32.0 + state)) / 48.0;
    double E = fb ? t.E : NAN, mx = fb ? t.max_abs : t.err_exact_y;
    double bf = !fb && t.have_dtype_err ? t.dt[ACTFIT_DT_BF16][0].max : NAN;
    int ops = fb ? 1 : t.ops_fma + t.ops_sqrt + t.ops_div + t.ops_log;
    if (json) {
      printf("  {\"table\": \"%s\", \"activation\": \"%s\", \"method\": \"%s\", \"bits\": %d, "
             "\"weight\": \"%s\", \"E\": ", paths[i], name, fb ? "fewbit" : "invact",
             fb ? t.bits : t.bit, fb ? t.weight : "");
      num(stdout, E);
      printf(", \"max_error\": ");
      num(stdout, mx);
      printf(", \"bf16_max\": ");
      num(stdout, bf);
      printf(", \"ops_per_element\": %d, \"state_bits\": %d, \"memory_removed\": ", ops, state);
      num(stdout, removed);
      printf("}%s\n", i + 1 < n ? "," : "");
    } else {
      printf("| %s | %s | %s | %d | %s | ", strrchr(paths[i], '/') + 1, name,
             fb ? "fewbit" : (t.exact ? "invact (exact)" : "invact"), fb ? t.bits : t.bit,
             fb ? t.weight : "-");
      if (isfinite(E)) printf("%.3e", E); else printf("-");
      printf(" | %.3e | ", mx);
      if (isfinite(bf)) printf("%.3e", bf); else printf("-");
      printf(" | %d | %d | %.1f%% |\n", ops, state, 100 * removed);
    }
    actfit_table_destroy(&t);
  }
  if (json)
    printf("]\n");
  for (int i = 0; i < n; i++)
    free(paths[i]);
  return rc;
}
