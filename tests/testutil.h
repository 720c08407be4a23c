/* Shared helpers for the Check suites: relative-tolerance assertions (GSL gsl_test_rel). */
#ifndef ACTFIT_TESTUTIL_H
#define ACTFIT_TESTUTIL_H
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* |got - want| <= rel * |want| (or <= rel when want == 0) */
#define ck_assert_rel(got, want, rel)                                                       \
  do {                                                                                      \
    double g_ = (got), w_ = (want), r_ = (rel);                                             \
    double d_ = fabs(g_ - w_), s_ = w_ != 0 ? fabs(w_) : 1.0;                               \
    ck_assert_msg(d_ <= r_ * s_, "%s = %.17g, want %.17g (rel err %.3g > %.3g)", #got, g_,   \
                  w_, d_ / s_, r_);                                                         \
  } while (0)

#define TEST_MAIN(make_suite)                                                               \
  int main(void)                                                                            \
  {                                                                                         \
    SRunner *sr = srunner_create(make_suite());                                            \
    srunner_run_all(sr, CK_NORMAL);                                                         \
    int nf = srunner_ntests_failed(sr);                                                     \
    srunner_free(sr);                                                                       \
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;                                                \
  }

#endif
