/* actfit report: one row per table with its errors, cost and the memory it saves. */
#include <dirent.h>
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
  printf("usage: actfit report [DIR] [--format md|json]\n\n"
         "One row per table under DIR (DIR/fewbit and DIR/invact; default ./tables, else the\n"
         "installed tables, else those of the source tree actfit was built from):\n"
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
  const char *dir = optind < argc ? argv[optind++] : NULL;
  if (optind < argc) {
    cli_err("report", "unexpected argument '%s'", argv[optind]);
    return CLI_USAGE;
  }
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
  for (int i = 0; !dir && i < 4; i++) {
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
  if (!dir) {
    cli_err("report", "no tables in ./tables, %s, %s or %s; pass the directory: actfit report "
            "DIR", tried[1], tried[2], tried[3]);
    return CLI_FAIL;
  }
  char *paths[4096];
  int n = 0;
  const char *subs[2] = {"fewbit", "invact"};
  for (int s = 0; s < 2; s++) {
    char d[2048];
    snprintf(d, sizeof d, "%s/%s", dir, subs[s]);
    DIR *dd = opendir(d);
    if (!dd)
      continue;
    struct dirent *e;
    while ((e = readdir(dd)) && n < 4096) {
      size_t l = strlen(e->d_name);
      if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) {
        paths[n] = malloc(strlen(d) + l + 2);
        if (paths[n])
          sprintf(paths[n++], "%s/%s", d, e->d_name);
      }
    }
    closedir(dd);
  }
  if (!n) {
    cli_err("report", "no tables under '%s' (expected %s/fewbit/*.json, %s/invact/*.json)", dir,
            dir, dir);
    return CLI_FAIL;
  }
  qsort(paths, (size_t)n, sizeof *paths, cmp_str);
  int rc = CLI_OK;
  if (json)
    printf("[\n");
  else
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
