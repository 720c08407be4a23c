/* actfit invact: fit g_s(y) = f'(f_s^-1(y)) and report errors per storage dtype. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actfit/invact.h"
#include "cli.h"

static void help(void)
{
  printf(
    "usage: actfit invact ACT|--expr EXPR [--target E] [--max-degree D] [--max-pieces P]\n"
    "                     [--points N] [--threads T] [-o FILE.json] [--quiet]\n\n"
    "Keeps y = f(x) (and s = (x < T) when f has a minimum at T) instead of x: the backward\n"
    "computes f'(x) = g_s(y), from an exact form or a fitted piecewise polynomial in\n"
    "t = sqrt(y - y_min) (near T), per binade of |y| (tails where y -> 0), or in y.\n\n"
    "  --target E       max |g_fit(y) - f'(x)| for exact y over the real line (1e-7)\n"
    "  --max-degree D   polynomial degree limit (8); the lowest degree that meets E wins\n"
    "  --max-pieces P   pieces per branch in t or y (16)\n"
    "  --points N       uniform points on [-10, 10] for the dtype table (10000000; 0: skip)\n"
    "  --threads T      threads (default: all cores; results do not depend on it)\n"
    "  -o FILE          write the table (JSON); '-' is standard output (the report\n"
    "                   then goes to stderr)\n"
    "  --quiet          print the summary lines only\n");
}

void cli_print_invact(const actfit_table *t)
{
  static const char *dn[] = {"fp32", "fp16", "bf16"};
  if (t->exact) {
    printf("exact form  %s (no fit)%s\n", actfit_table_exact_name(t->exact),
           t->bit ? "  with branch bit" : "");
  } else {
    if (t->bit)
      printf("T = %.17g  y_min = %.17g  bit s = (x < T)\n", t->T, t->y_min);
    else
      printf("monotone: no bit\n");
    for (int b = 0; b < t->nbranch; b++) {
      const actfit_invact_branch *br = &t->br[b];
      printf("branch %-5s var %s:", br->side < 0 ? "left" : br->side > 0 ? "right" : "all",
             br->var == ACTFIT_INVACT_VAR_T ? "t" : "y");
      for (int i = 0; i < br->np; i++)
        printf(" [%.4g, %.4g] deg %d;", br->p[i].lo, br->p[i].hi, br->p[i].deg);
      if (br->nb)
        printf(" %d binades of |y| below 2^%d (deg <= %d), then %g;", br->nb, br->binade_top,
               br->b[0].deg, br->asym_zero);
      printf(" beyond: %g\n", br->var == ACTFIT_INVACT_VAR_T ? br->asym_hi : br->asym_hi);
    }
  }
  printf("ops/element  fma %d  sqrt %d  div %d  log/exp %d  cmp %d\n", t->ops_fma, t->ops_sqrt,
         t->ops_div, t->ops_log, t->ops_cmp);
  printf("max |g_fit(y) - f'(x)|, exact y, whole real line: %.3e\n", t->err_exact_y);
  if (t->have_dtype_err) {
    printf("%-6s %-9s %11s %11s %11s %11s %9s %9s\n", "dtype", "storage", "max", "floor max",
           "rms", "floor rms", "max/fl", "rms/fl");
    for (int k = 0; k < 3; k++)
      for (int v = 0; v < (t->bit ? 2 : 1); v++) {
        const actfit_invact_err *e = &t->dt[k][v];
        printf("%-6s %-9s %11.3e %11.3e %11.3e %11.3e %9.4f %9.4f\n", dn[k],
               v ? "bit-in-y" : t->bit ? "y + bit" : "y", e->max, e->floor_max, e->rms, e->floor_rms,
               e->floor_max > 0 ? e->max / e->floor_max : 1.0,
               e->floor_rms > 0 ? e->rms / e->floor_rms : 1.0);
      }
  }
  printf("measured: %s\n", t->measured);
}

int cmd_invact(int argc, char **argv)
{
  static const struct option opts[] = {
    {"help", no_argument, 0, 'h'},          {"expr", required_argument, 0, 'e'},
    {"target", required_argument, 0, 'T'},  {"max-degree", required_argument, 0, 'd'},
    {"max-pieces", required_argument, 0, 'p'}, {"points", required_argument, 0, 'n'},
    {"threads", required_argument, 0, 't'}, {"output", required_argument, 0, 'o'},
    {"quiet", no_argument, 0, 'q'},         {0, 0, 0, 0}};
  const char *expr = NULL, *out = NULL;
  int quiet = 0, c;
  long v;
  actfit_invact_params p;
  actfit_invact_params_init(&p);
  optind = 1;
  while ((c = getopt_long(argc, argv, "he:T:d:p:n:t:o:q", opts, NULL)) != -1) {
    switch (c) {
    case 'h': help(); return CLI_OK;
    case 'e': expr = optarg; break;
    case 'T':
      if (cli_parse_double(optarg, &p.target) || !(p.target > 0) || !isfinite(p.target)) {
        cli_err("invact", "--target must be a positive number, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case 'd':
      if (cli_parse_long(optarg, &v) || v < 1 || v > ACTFIT_INVACT_MAX_DEG) {
        cli_err("invact", "--max-degree must be 1..%d, got '%s'", ACTFIT_INVACT_MAX_DEG, optarg);
        return CLI_USAGE;
      }
      p.max_degree = (int)v;
      break;
    case 'p':
      if (cli_parse_long(optarg, &v) || v < 1 || v > ACTFIT_INVACT_MAX_PIECES) {
        cli_err("invact", "--max-pieces must be 1..%d, got '%s'", ACTFIT_INVACT_MAX_PIECES,
                optarg);
        return CLI_USAGE;
      }
      p.max_pieces = (int)v;
      break;
    case 'n':
      if (cli_parse_long(optarg, &v) || v < 0 || v > 1000000000L) {
        cli_err("invact", "--points must be 0..1e9, got '%s'", optarg);
        return CLI_USAGE;
      }
      p.npoints = v;
      break;
    case 't':
      if (cli_parse_long(optarg, &v) || v < 1 || v > 64) {
        cli_err("invact", "--threads must be 1..64, got '%s'", optarg);
        return CLI_USAGE;
      }
      p.threads = (int)v;
      break;
    case 'o': out = optarg; break;
    case 'q': quiet = 1; break;
    default: return cli_usage_hint("invact");
    }
  }
  const char *spec = optind < argc ? argv[optind++] : NULL;
  if (optind < argc) {
    cli_err("invact", "unexpected argument '%s'", argv[optind]);
    return CLI_USAGE;
  }
  int orc = cli_output("invact", out);
  if (orc)
    return orc;
  actfit_act *act = cli_act("invact", spec, expr);
  if (!act)
    return CLI_USAGE;
  char err[ACTFIT_ERRLEN] = "";
  actfit_table t;
  double t0 = cli_now();
  if (cli_show_progress() && !quiet) { /* the per-dtype analysis can take a while */
    p.progress = cli_progress;
    p.user = &t0;
  }
  actfit_status st = actfit_invact_fit(act, &p, &t, err, sizeof err);
  if (st != ACTFIT_OK) {
    cli_err("invact", "%s", *err ? err : actfit_strerror(st));
    actfit_act_free(act);
    return st == ACTFIT_ENOMEM ? CLI_FAIL : CLI_USAGE;
  }
  char name[512];
  actfit_act_spec(act, name, sizeof name);
  printf("invact %s  target %.3g\n", name, p.target);
  if (!quiet)
    cli_print_invact(&t);
  else
    printf("max |g_fit(y) - f'(x)| = %.3e  ops fma %d sqrt %d\n", t.err_exact_y, t.ops_fma,
           t.ops_sqrt);
  int rc = CLI_OK;
  if (out) {
    cli_stdout_restore();
    st = actfit_table_save(&t, out, err, sizeof err);
    if (st != ACTFIT_OK) {
      cli_err("invact", "%s", err);
      rc = CLI_FAIL;
    } else if (!quiet && strcmp(out, "-")) {
      printf("wrote %s\n", out);
    }
  }
  actfit_table_destroy(&t);
  actfit_act_free(act);
  return rc;
}
