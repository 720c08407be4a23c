#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actfit/table.h"

#include "cli.h"

int cli_parse_double(const char *s, double *out)
{
  char *end;
  if (!s || !*s || isspace((unsigned char)*s))
    return -1;
  errno = 0;
  double v = strtod(s, &end);
  if (*end || errno == ERANGE)
    return -1;
  *out = v;
  return 0;
}

int cli_parse_long(const char *s, long *out)
{
  char *end;
  if (!s || !*s || isspace((unsigned char)*s))
    return -1;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (*end || errno == ERANGE)
    return -1;
  *out = v;
  return 0;
}

double cli_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_err(const char *sub, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "actfit %s: ", sub);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

actfit_act *cli_act(const char *sub, const char *spec, const char *expr)
{
  char err[ACTFIT_ERRLEN] = "";
  actfit_act *a = NULL;
  actfit_status s;
  if (spec && expr) {
    cli_err(sub, "give an activation name or --expr, not both");
    return NULL;
  }
  if (!spec && !expr) {
    cli_err(sub, "missing activation (a name from 'actfit list' or --expr EXPR)");
    return NULL;
  }
  s = spec ? actfit_act_alloc(spec, &a, err, sizeof err)
           : actfit_act_alloc_expr(expr, &a, err, sizeof err);
  if (s != ACTFIT_OK) {
    cli_err(sub, "%s", *err ? err : actfit_strerror(s));
    return NULL;
  }
  return a;
}

void cli_progress(double done, void *user)
{
  static int last = -1; /* redraw when the percentage changes, not for every block */
  double *t0 = user;
  int pct = (int)(done * 100);
  if (cli_now() - *t0 < 1.0 || pct == last)
    return;
  last = pct;
  int w = 30, f = (int)(done * w);
  fprintf(stderr, "\r[%.*s%*s] %3d%%", f, "##############################", w - f, "",
          (int)(done * 100));
  if (done >= 1.0)
    fputc('\n', stderr);
}

int cli_show_progress(void)
{
  const char *e = getenv("ACTFIT_PROGRESS");
  return isatty(STDERR_FILENO) || (e && !strcmp(e, "always"));
}

static int saved_stdout = -1;

int cli_output(const char *sub, const char *path)
{
  char err[ACTFIT_ERRLEN] = "";
  if (!path)
    return 0;
  actfit_status st = actfit_check_writable(path, err, sizeof err);
  if (st != ACTFIT_OK) {
    cli_err(sub, "%s", *err ? err : "cannot write the output");
    return st == ACTFIT_EINVAL ? CLI_USAGE : CLI_FAIL; /* a directory is a bad argument */
  }
  if (!strcmp(path, "-") && saved_stdout < 0) {
    fflush(stdout);
    saved_stdout = dup(STDOUT_FILENO);
    if (saved_stdout >= 0)
      dup2(STDERR_FILENO, STDOUT_FILENO);
  }
  return 0;
}

void cli_stdout_restore(void)
{
  if (saved_stdout < 0)
    return;
  fflush(stdout);
  dup2(saved_stdout, STDOUT_FILENO);
  close(saved_stdout);
  saved_stdout = -1;
}

int cli_parse_pair(const char *s, double *a, double *b)
{
  char buf[128];
  if (!s || strlen(s) >= sizeof buf)
    return -1;
  strcpy(buf, s);
  char *comma = strchr(buf, ',');
  if (!comma)
    return -1;
  *comma = 0;
  if (cli_parse_double(buf, a) || cli_parse_double(comma + 1, b))
    return -1;
  return 0;
}

char **cli_argv;
int cli_argc;

/* after getopt_long returned '?': the option it stopped at, in one line */
int cli_usage_hint(const char *sub)
{
  const char *bad = cli_argv && optind > 0 && optind <= cli_argc ? cli_argv[optind - 1] : "?";
  if (optopt && bad[0] == '-' && bad[1] != '-' && bad[1] != (char)optopt)
    cli_err(sub, "bad option '-%c' in '%s' (see 'actfit %s --help')", optopt, bad, sub);
  else if (optopt && bad[0] == '-' && bad[1] == (char)optopt && !bad[2])
    cli_err(sub, "option '-%c' is unknown or needs a value (see 'actfit %s --help')", optopt, sub);
  else
    cli_err(sub, "option '%s' is unknown or needs a value (see 'actfit %s --help')", bad, sub);
  return CLI_USAGE;
}
