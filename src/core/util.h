/* Shared internals of libactfit (not installed). */
#ifndef ACTFIT_CORE_UTIL_H
#define ACTFIT_CORE_UTIL_H
#include <stddef.h>

#if defined(__GNUC__)
#define ACTFIT__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ACTFIT__PRINTF(a, b)
#endif

/* snprintf into err if err != NULL && len > 0. */
void actfit__seterr(char *err, size_t len, const char *fmt, ...) ACTFIT__PRINTF(3, 4);
/* Whole-string strtod: 0 on success, -1 on junk, empty or range error. */
int actfit__parse_double(const char *s, double *out);
int actfit__parse_long(const char *s, long *out);
int actfit__cmp_double(const void *a, const void *b);
/* Monotonic seconds. */
double actfit__now(void);

#endif
