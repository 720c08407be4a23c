/* actfit eval: an independent error report of a table (adaptive quadrature, not the grid). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "actfit/fewbit.h"
#include "actfit/invact.h"
#include "cli.h"

static void help(void)
{
  printf("usage: actfit eval TABLE.json [--weight W] [--domain A,B] [--points N]\n\n"
         "Re-measures a table, including tables made elsewhere.\n"
         "FewBit: E by adaptive quadrature (QAGS) piece by piece, max |f' - q|, and each\n"
         "level's share of E; the weight and domain default to the table's.\n"
         "InvAct: the error for exact y over the real line and the per-dtype table against\n"
         "exact f' with the kernels' float arithmetic (N uniform points, default 1e7).\n");
}

int cmd_eval(int argc, char **argv)
{
  static const struct option opts[] = {{"help", no_argument, 0, 'h'},
                                       {"weight", required_argument, 0, 'w'},
                                       {"domain", required_argument, 0, 'd'},
                                       {"points", required_argument, 0, 'n'},
                                       {0, 0, 0, 0}};
  long npoints = 10000000;
  const char *wspec = NULL;
  double a = NAN, b = NAN;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "hw:d:n:", opts, NULL)) != -1) {
    switch (c) {
    case 'n': {
      if (cli_parse_long(optarg, &npoints) || npoints < 1 || npoints > 1000000000L) {
        cli_err("eval", "--points must be 1..1e9, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    }
    case 'h': help(); return CLI_OK;
    case 'w': wspec = optarg; break;
    case 'd':
      if (cli_parse_pair(optarg, &a, &b) || !isfinite(a) || !isfinite(b) || !(a < b)) {
        cli_err("eval", "--domain needs A,B with finite A < B, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    default: return cli_usage_hint("eval");
    }
  }
  if (optind != argc - 1) {
    cli_err("eval", "expected exactly one TABLE.json");
    return CLI_USAGE;
  }
  const char *path = argv[optind];
  char err[ACTFIT_ERRLEN] = "";
  actfit_table t;
  actfit_status st = actfit_table_load(path, &t, err, sizeof err);
  if (st != ACTFIT_OK) {
    cli_err("eval", "%s", err);
    return st == ACTFIT_EIO ? CLI_FAIL : CLI_USAGE;
  }
  actfit_act *act = NULL;
  actfit_weight *w = NULL;
  int rc = CLI_USAGE;
  if (actfit_table_act(&t, &act, err, sizeof err) != ACTFIT_OK) {
    cli_err("eval", "%s: %s", path, err);
    goto done;
  }
  if (t.method == ACTFIT_METHOD_INVACT && (wspec || !isnan(a))) {
    cli_err("eval", "%s: --weight and --domain apply to FewBit tables, not InvAct ones "
            "(whose error is measured over the real line)", path);
    goto done;
  }
  if (t.method == ACTFIT_METHOD_INVACT) {
    actfit_table before = t;
    st = actfit_invact_analyse(&t, act, npoints, 0, err, sizeof err);
    if (st != ACTFIT_OK) {
      cli_err("eval", "%s", err);
      goto done;
    }
    printf("table     %s (invact, re-measured)\n", path);
    cli_print_invact(&t);
    if (isfinite(before.err_exact_y))
      printf("table's exact-y error %.3e, re-measured %.3e\n", before.err_exact_y,
             t.err_exact_y);
    rc = CLI_OK;
    goto done;
  }
  if (actfit_weight_alloc(wspec ? wspec : t.weight, &w, err, sizeof err) != ACTFIT_OK) {
    cli_err("eval", "%s", err);
    goto done;
  }
  actfit_fewbit_report rep;
  st = actfit_fewbit_eval(&t, act, w, a, b, &rep, err, sizeof err);
  if (st != ACTFIT_OK && st != ACTFIT_ENOCONV) {
    cli_err("eval", "%s", err);
    goto done;
  }
  int k = 1 << t.bits;
  printf("table     %s (fewbit, %d bits, norm %s, weight %s)\n", path, t.bits, t.norm,
         wspec ? wspec : t.weight);
  printf("E         %.15e  (QAGS per piece, est. abs error %.1e)%s\n", rep.E, rep.abserr,
         st == ACTFIT_ENOCONV ? "  WARNING: tolerance not reached" : "");
  if (isfinite(t.E) && !wspec && isnan(a))
    printf("table E   %.15e  relative difference %.2e\n", t.E,
           fabs(rep.E - t.E) / fmax(fabs(t.E), 1e-300));
  printf("max|f'-q| %.15e at x = %.6g\n", rep.max_abs, rep.max_at);
  printf("%-5s %-24s %-12s\n", "code", "level", "share of E");
  for (int i = 0; i < k; i++)
    printf("%-5d %-24.17g %-12.4f\n", i, t.levels[i],
           rep.E > 0 && t.norm[1] == '2' ? rep.piece_E[i] / rep.E : 0.0);
  free(rep.piece_E);
  rc = CLI_OK;
done:
  actfit_weight_free(w);
  actfit_act_free(act);
  actfit_table_destroy(&t);
  return rc;
}
