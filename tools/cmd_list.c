/* actfit list: every built-in activation with its parameters and structure. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>

#include "cli.h"

static void help(void)
{
  printf("usage: actfit list\n\n"
         "Lists the built-in activations (PyTorch definitions and defaults) with their\n"
         "structure: points where f' is not smooth (* marks a jump of f'), whether f' is\n"
         "even, the monotone branches of f and the minimum T with f(T).\n");
}

int cmd_list(int argc, char **argv)
{
  static const struct option opts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'h') {
      help();
      return CLI_OK;
    }
    return cli_usage_hint("list");
  }
  if (optind < argc) {
    cli_err("list", "unexpected argument '%s'", argv[optind]);
    return CLI_USAGE;
  }
  printf("%-12s %-28s %-16s %-5s %-9s %s\n", "name", "params", "kinks of f'", "even",
         "branches", "minimum T, f(T)");
  int count = 0;
  for (const actfit_act_type *t = actfit_act_types; t->name; t++) {
    actfit_act *a = NULL;
    if (actfit_act_alloc(t->name, &a, NULL, 0) != ACTFIT_OK) {
      cli_err("list", "cannot build %s", t->name);
      return CLI_FAIL;
    }
    const actfit_act_structure *st = actfit_act_get_structure(a);
    char params[64] = "-", kinks[64] = "-", *p = params;
    for (int i = 0; i < t->nparams; i++)
      p += snprintf(p, sizeof params - (size_t)(p - params), "%s%s=%g", i ? "," : "",
                    t->param_names[i], t->defaults[i]);
    p = kinks;
    for (int i = 0; i < st->nkinks; i++)
      p += snprintf(p, sizeof kinks - (size_t)(p - kinks), "%s%g%s", i ? "," : "",
                    st->kinks[i], st->kink_jump[i] ? "*" : "");
    char branches[32] = "";
    p = branches;
    for (int i = 0; i < st->nbranches; i++)
      p += snprintf(p, sizeof branches - (size_t)(p - branches), "%s",
                    st->branches[i].dir > 0 ? "/" : st->branches[i].dir < 0 ? "\\" : "-");
    printf("%-12s %-28s %-16s %-5s %-9s", t->name, params, kinks,
           st->deriv_even ? "yes" : "no", branches);
    if (st->has_min)
      printf(" %.17g, %.17g", st->T, st->fT);
    else
      printf(" -");
    printf("\n");
    actfit_act_free(a);
    count++;
  }
  printf("%d activations\n", count);
  return CLI_OK;
}
