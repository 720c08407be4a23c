/* actfit: one command, subcommands from a dispatch table (FFTW tools/fftw-wisdom.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "cli.h"

int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_fewbit(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_invact(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_tables(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_report(int argc, char **argv);

const cli_command cli_commands[] = {
  {"list", cmd_list, "list the built-in activations and their structure"},
  {"show", cmd_show, "structure of one activation and f, f', f'' at given points"},
  {"fewbit", cmd_fewbit, "optimal b-bit piecewise-constant fit of f' (writes a table)"},
  {"invact", cmd_invact, "fit f'(f^-1(y)) so the backward keeps only y (and a bit)"},
  {"gen", cmd_gen, "generated headers for the kernels from tables"},
  {"tables", cmd_tables, "fit the built-in set into tables/ and regenerate the headers"},
  {"apply", cmd_apply, "run the runtime's forward and backward on float32 x from stdin"},
  {"plot", cmd_plot, "figures of tables through gnuplot"},
  {"report", cmd_report, "one row per table: errors, cost, memory saved"},
  {"eval", cmd_eval, "independent error report of a table"},
  {0}};

static void usage(FILE *out)
{
  fprintf(out, "usage: actfit [--version] [--help] COMMAND [ARGS]\n\n"
               "Fit memory-saving replacements of activation derivatives.\n\ncommands:\n");
  for (const cli_command *c = cli_commands; c->name; c++)
    fprintf(out, "  %-8s %s\n", c->name, c->summary);
  fprintf(out, "\n'actfit COMMAND --help' describes each command.\n");
}

/* What went to standard output must have been written: a full disk or a closed pipe is
 * an I/O failure (exit 1), reported once, for every subcommand and for --help. */
static int finish(const char *cmd, int rc)
{
  errno = 0;
  if (fflush(stdout) == 0 && !ferror(stdout))
    return rc;
  if (rc == CLI_OK) {
    fprintf(stderr, "actfit%s%s: cannot write standard output: %s\n", cmd ? " " : "",
            cmd ? cmd : "", errno ? strerror(errno) : "write error");
    rc = CLI_FAIL;
  }
  return rc;
}

int main(int argc, char **argv)
{
  gsl_set_error_handler_off();
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(stdout);
    return finish(NULL, CLI_OK);
  }
  if (!strcmp(argv[1], "--version")) {
    printf("actfit %s\n", actfit_version());
    return finish(NULL, CLI_OK);
  }
  for (const cli_command *c = cli_commands; c->name; c++)
    if (!strcmp(argv[1], c->name)) {
      opterr = 0; /* getopt's own two-line messages: cli_usage_hint says it in one */
      cli_argv = argv + 1;
      cli_argc = argc - 1;
      return finish(c->name, c->fn(argc - 1, argv + 1));
    }
  fprintf(stderr, "actfit: unknown command '%s' (see 'actfit --help')\n", argv[1]);
  return CLI_USAGE;
}
