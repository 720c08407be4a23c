/* Helpers shared by the actfit subcommands: exit codes, error lines, activation arguments. */
#ifndef ACTFIT_CLI_H
#define ACTFIT_CLI_H
#include <stdio.h>
#include "actfit/act.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

typedef struct cli_command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
} cli_command;

extern const cli_command cli_commands[];

/* "actfit SUB: message" on stderr, one line. */
void cli_err(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Builds the activation from a positional spec or --expr; exactly one must be given.
 * Prints the error and returns NULL on failure. */
actfit_act *cli_act(const char *sub, const char *spec, const char *expr);

/* Whole-string numbers (no leading or trailing space, no junk, in range): 0 on success, -1
 * otherwise.  The CLI's own: tools/ includes no private header of src/. */
int cli_parse_double(const char *s, double *out);
int cli_parse_long(const char *s, long *out);
/* Monotonic seconds. */
double cli_now(void);

/* Parses "A,B" into two finite doubles with A < B. */
int cli_parse_pair(const char *s, double *a, double *b);

/* argv of the running subcommand (set by main), for messages about options */
extern char **cli_argv;
extern int cli_argc;
/* getopt's own messages are off (opterr = 0): this prints the one line naming the unknown
 * option or the missing value, with the "see --help" hint, and returns CLI_USAGE. */
int cli_usage_hint(const char *sub);

/* -o PATH: checks it can be written before the work starts (one error line, 0 or exit
 * code); with "-" (standard output) the human report goes to stderr until
 * cli_stdout_restore, so standard output carries only the data. */
int cli_output(const char *sub, const char *path);
void cli_stdout_restore(void);

/* A progress bar on stderr for work that has run a second or more; user points at the
 * start time (cli_now()).  Callers install it only when stderr is a terminal. */
void cli_progress(double done, void *user);
/* Whether to draw progress: stderr is a terminal, or ACTFIT_PROGRESS=always (logs). */
int cli_show_progress(void);

struct actfit_table;
/* Prints an InvAct table's pieces, operation counts and error table. */
void cli_print_invact(const struct actfit_table *t);

#endif
