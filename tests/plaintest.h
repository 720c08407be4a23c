/* The assertion of the plain-C suites (test_cuda.c, test_table_only.c), which build where
 * Check is absent: CHECK counts passes and prints each failure with its line; main returns
 * failed != 0. */
#ifndef ACTFIT_PLAINTEST_H
#define ACTFIT_PLAINTEST_H
#include <stdio.h>

static int passed, failed;
#define CHECK(cond, ...)                                                                    \
  do {                                                                                      \
    if (cond)                                                                               \
      passed++;                                                                             \
    else {                                                                                  \
      failed++;                                                                             \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                  \
      fprintf(stderr, __VA_ARGS__);                                                         \
      fputc('\n', stderr);                                                                  \
    }                                                                                       \
  } while (0)

#endif
