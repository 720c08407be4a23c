/* actfit fewbit: the optimal b-bit piecewise-constant fit of f'. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actfit/fewbit.h"
#include "cli.h"

static void help(void)
{
  printf(
    "usage: actfit fewbit ACT|--expr EXPR --bits B [--weight W] [--domain A,B]\n"
    "                     [--norm l2|linf] [--grid N] [--parity auto|off] [--threads T]\n"
    "                     [-o FILE.json] [--quiet]\n\n"
    "Optimal piecewise-constant q(x) with 2^B levels approximating f'(x): a global DP over\n"
    "N grid cells, then refinement off the grid to the exact stationary point.\n\n"
    "  --bits B        1..8\n"
    "  --weight W      uniform (default; domain -10,10), gauss:MU,SIGMA (domain MU+-8SIGMA),\n"
    "                  hist:FILE (text samples, one per line) or hist:f32:FILE\n"
    "                  (raw little-endian float32); the table records the absolute path\n"
    "  --domain A,B    overrides the weight's default domain\n"
    "  --norm          l2 (default): integral of (f'-q)^2 w; linf: max |f'-q| where w > 0\n"
    "  --grid N        DP cells (default 4096)\n"
    "  --parity        auto (default): fit |x| when f' is even, 2^B levels for 2^(B+1)-1\n"
    "                  intervals; off: never\n"
    "  --threads T     threads for the DP (default: all cores; the result does not\n"
    "                  depend on it)\n"
    "  -o FILE         write the table (JSON); '-' is standard output (the report then\n"
    "                  goes to stderr)\n"
    "  --quiet         print only the summary line\n");
}

int cmd_fewbit(int argc, char **argv)
{
  static const struct option opts[] = {
    {"help", no_argument, 0, 'h'},         {"expr", required_argument, 0, 'e'},
    {"bits", required_argument, 0, 'b'},   {"weight", required_argument, 0, 'w'},
    {"domain", required_argument, 0, 'd'}, {"norm", required_argument, 0, 'n'},
    {"grid", required_argument, 0, 'g'},   {"parity", required_argument, 0, 'p'},
    {"threads", required_argument, 0, 't'}, {"output", required_argument, 0, 'o'},
    {"quiet", no_argument, 0, 'q'},        {0, 0, 0, 0}};
  const char *expr = NULL, *wspec = "uniform", *out = NULL;
  int quiet = 0, c;
  long v;
  actfit_fewbit_params p;
  actfit_fewbit_params_init(&p);
  p.bits = 0;
  p.record_time = 1;
  optind = 1;
  while ((c = getopt_long(argc, argv, "he:b:w:d:n:g:p:t:o:q", opts, NULL)) != -1) {
    switch (c) {
    case 'h': help(); return CLI_OK;
    case 'e': expr = optarg; break;
    case 'b':
      if (cli_parse_long(optarg, &v) || v < 1 || v > 8) {
        cli_err("fewbit", "--bits must be an integer 1..8, got '%s'", optarg);
        return CLI_USAGE;
      }
      p.bits = (int)v;
      break;
    case 'w': wspec = optarg; break;
    case 'd':
      if (cli_parse_pair(optarg, &p.a, &p.b) || !isfinite(p.a) || !isfinite(p.b) ||
          !(p.a < p.b)) {
        cli_err("fewbit", "--domain needs A,B with finite A < B, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case 'n':
      if (!(p.norm = actfit_norm_find(optarg))) {
        cli_err("fewbit", "--norm must be l2 or linf, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case 'g':
      if (cli_parse_long(optarg, &v) || v < 1 || v > (1L << 24)) {
        cli_err("fewbit", "--grid must be an integer 1..16777216, got '%s'", optarg);
        return CLI_USAGE;
      }
      p.grid = (int)v;
      break;
    case 'p':
      if (!strcmp(optarg, "auto")) p.parity = -1;
      else if (!strcmp(optarg, "off")) p.parity = 0;
      else {
        cli_err("fewbit", "--parity must be auto or off, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case 't':
      if (cli_parse_long(optarg, &v) || v < 1 || v > 64) {
        cli_err("fewbit", "--threads must be 1..64, got '%s'", optarg);
        return CLI_USAGE;
      }
      p.threads = (int)v;
      break;
    case 'o': out = optarg; break;
    case 'q': quiet = 1; break;
    default: return cli_usage_hint("fewbit");
    }
  }
  const char *spec = optind < argc ? argv[optind++] : NULL;
  if (optind < argc) {
    cli_err("fewbit", "unexpected argument '%s'", argv[optind]);
    return CLI_USAGE;
  }
  if (!p.bits) {
    cli_err("fewbit", "--bits B is required (1..8)");
    return CLI_USAGE;
  }
  int orc = cli_output("fewbit", out);
  if (orc)
    return orc;
  actfit_act *act = cli_act("fewbit", spec, expr);
  if (!act)
    return CLI_USAGE;
  char err[ACTFIT_ERRLEN] = "";
  actfit_weight *w = NULL;
  actfit_status st = actfit_weight_alloc(wspec, &w, err, sizeof err);
  if (st != ACTFIT_OK) {
    cli_err("fewbit", "%s", err);
    actfit_act_free(act);
    return st == ACTFIT_EIO ? CLI_FAIL : CLI_USAGE;
  }
  double t0 = cli_now();
  if (cli_show_progress() && !quiet) {
    p.progress = cli_progress;
    p.user = &t0;
  }
  actfit_table t;
  st = actfit_fewbit_fit(act, w, &p, &t, err, sizeof err);
  if (st != ACTFIT_OK) {
    cli_err("fewbit", "%s", *err ? err : actfit_strerror(st));
    actfit_weight_free(w);
    actfit_act_free(act);
    return (st == ACTFIT_ENOMEM || st == ACTFIT_ENOCONV) ? CLI_FAIL : CLI_USAGE;
  }
  if (t.kkt > ACTFIT_FEWBIT_KKT_TOL)
    fprintf(stderr, "actfit fewbit: warning: the refinement did not converge (KKT residual "
            "%.2e > 1e-10); the table keeps the best borders found (E <= the grid DP's) and records "
            "it\n", t.kkt);
  int k = 1 << t.bits;
  char name[512];
  actfit_act_spec(act, name, sizeof name);
  if (!quiet) {
    printf("fewbit %s  bits %d  norm %s  weight %s  domain [%.17g, %.17g]  grid %d%s\n", name,
           t.bits, t.norm, t.weight, t.domain[0], t.domain[1], t.grid,
           t.parity_even ? "  parity even (codes from |x|)" : "");
    printf("%-5s %-25s %-25s\n", "code", "border (code starts here)", "level");
    for (int i = 0; i < k; i++) {
      if (i == 0)
        printf("%-5d %-25s %-25.17g\n", i, t.parity_even ? "0 (|x|)" : "-inf", t.levels[i]);
      else
        printf("%-5d %-25.17g %-25.17g\n", i, t.borders[i - 1], t.levels[i]);
    }
  }
  printf("E = %.10e (grid DP %.10e, refined/DP = %.12f)  max|f'-q| = %.6e  KKT residual = "
         "%.2e  time: DP %.3f s, refine %.3f s\n",
         t.E, t.E_dp, t.E_dp > 0 ? t.E / t.E_dp : 1.0, t.max_abs, t.kkt, t.time_dp,
         t.time_refine);
  if (!quiet)
    printf("measured: %s\n", t.measured);
  int rc = CLI_OK;
  if (out) {
    cli_stdout_restore();
    st = actfit_table_save(&t, out, err, sizeof err);
    if (st != ACTFIT_OK) {
      cli_err("fewbit", "%s", err);
      rc = CLI_FAIL;
    } else if (!quiet && strcmp(out, "-")) {
      printf("wrote %s\n", out);
    }
  }
  actfit_table_destroy(&t);
  actfit_weight_free(w);
  actfit_act_free(act);
  return rc;
}
