/* actfit show: structure of one activation and f, f', f'' at points, 17 digits. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static void help(void)
{
  printf("usage: actfit show ACT|--expr EXPR [--x X]...\n\n"
         "ACT is a built-in name with optional parameters (elu:alpha=0.5,\n"
         "softplus:beta=2,threshold=10); EXPR is a formula in x (libmatheval syntax).\n"
         "Prints the structure and, for each --x, f, f' and f'' to 17 significant digits.\n");
}

int cmd_show(int argc, char **argv)
{
  static const struct option opts[] = {{"help", no_argument, 0, 'h'},
                                       {"expr", required_argument, 0, 'e'},
                                       {"x", required_argument, 0, 'x'},
                                       {0, 0, 0, 0}};
  const char *expr = NULL;
  double xs[256];
  int nx = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "he:x:", opts, NULL)) != -1) {
    switch (c) {
    case 'h': help(); return CLI_OK;
    case 'e': expr = optarg; break;
    case 'x':
      if (nx == 256) {
        cli_err("show", "at most 256 --x points");
        return CLI_USAGE;
      }
      if (cli_parse_double(optarg, &xs[nx]) || !isfinite(xs[nx])) {
        cli_err("show", "--x: '%s' is not a finite number", optarg);
        return CLI_USAGE;
      }
      nx++;
      break;
    default: return cli_usage_hint("show");
    }
  }
  const char *spec = optind < argc ? argv[optind++] : NULL;
  if (optind < argc) {
    cli_err("show", "unexpected argument '%s'", argv[optind]);
    return CLI_USAGE;
  }
  actfit_act *a = cli_act("show", spec, expr);
  if (!a)
    return CLI_USAGE;
  for (int i = 0; i < nx; i++) {
    double o[3];
    actfit_act_eval(a, xs[i], o);
    if (!isfinite(o[0]) || !isfinite(o[1]) || !isfinite(o[2])) {
      cli_err("show", "f, f' or f'' is not finite at x = %.17g", xs[i]);
      actfit_act_free(a);
      return CLI_USAGE;
    }
  }
  const actfit_act_structure *st = actfit_act_get_structure(a);
  char spec_buf[1024];
  actfit_act_spec(a, spec_buf, sizeof spec_buf);
  printf("activation  %s%s\n", actfit_act_expr(a) ? "expr " : "", spec_buf);
  printf("kinks of f'");
  if (!st->nkinks)
    printf("  none");
  for (int i = 0; i < st->nkinks; i++)
    printf("  %.17g (%s)", st->kinks[i], st->kink_jump[i] ? "f' jumps" : "f'' jumps");
  printf("\nf' even     %s\n", st->deriv_even ? "yes" : "no");
  printf("branches   ");
  for (int i = 0; i < st->nbranches; i++)
    printf(" (%.17g, %.17g) %s", st->branches[i].lo, st->branches[i].hi,
           st->branches[i].dir > 0 ? "increasing" : st->branches[i].dir < 0 ? "decreasing"
                                                                           : "flat");
  printf("\n");
  if (st->has_min)
    printf("minimum     T = %.17g  f(T) = %.17g\n", st->T, st->fT);
  else
    printf("minimum     none\n");
  if (nx)
    printf("%-24s %-24s %-24s %-24s\n", "x", "f(x)", "f'(x)", "f''(x)");
  for (int i = 0; i < nx; i++) {
    double o[3];
    actfit_act_eval(a, xs[i], o);
    printf("%-24.17g %-24.17g %-24.17g %-24.17g\n", xs[i], o[0], o[1], o[2]);
  }
  actfit_act_free(a);
  return CLI_OK;
}
