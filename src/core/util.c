#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/util.h"

void actfit__seterr(char *err, size_t len, const char *fmt, ...)
{
  if (!err || !len)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, len, fmt, ap);
  va_end(ap);
}

/* strtod and strtol skip leading white space: a number here is the whole string, so
 * --bits ' 2' is refused like --bits '2 ' */
int actfit__parse_double(const char *s, double *out)
{
  char *end;
  if (!s || !*s || isspace((unsigned char)*s))
    return -1;
  errno = 0;
  double v = strtod(s, &end);
  if (*end || end == s || errno == ERANGE)
    return -1;
  *out = v;
  return 0;
}

int actfit__parse_long(const char *s, long *out)
{
  char *end;
  if (!s || !*s)
    return -1;
  errno = 0;
  if (isspace((unsigned char)*s))
    return -1;
  long v = strtol(s, &end, 10);
  if (*end || end == s || errno == ERANGE)
    return -1;
  *out = v;
  return 0;
}

int actfit__cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double actfit__now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
