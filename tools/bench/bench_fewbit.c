/* FewBit benchmark (not a test): full fit times for the smooth built-ins, and the pruned
 * exact DP against the dense O(k N^2) DP as published, measured in the same run with the
 * same E checked.  Medians of repeated runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#include <gsl/gsl_errno.h>

#include "actfit/fewbit.h"


static const char *smooth[] = {"gelu", "gelu_tanh", "silu", "mish", "softplus", "elu",
                               "celu", "selu", "sigmoid", "tanh", "logsigmoid", "softsign",
                               "tanhshrink", "hardswish", NULL};

int main(int argc, char **argv)
{
  gsl_set_error_handler_off();
  int reps = argc > 1 ? atoi(argv[1]) : 3;
  int big = argc > 2 ? atoi(argv[2]) : 65536;
  char err[ACTFIT_ERRLEN];
  actfit_weight *w;
  actfit_weight_alloc("uniform", &w, err, sizeof err);

  printf("# full fit (grid + DP + refinement), N = 4096, uniform [-10, 10], median of %d\n",
         reps);
  printf("%-12s %10s %10s %10s %10s\n", "activation", "b=1 ms", "b=2 ms", "b=3 ms", "b=4 ms");
  double total = 0;
  for (int a = 0; smooth[a]; a++) {
    actfit_act *act;
    actfit_act_alloc(smooth[a], &act, err, sizeof err);
    printf("%-12s", smooth[a]);
    for (int b = 1; b <= 4; b++) {
      double t[32];
      for (int r = 0; r < reps; r++) {
        actfit_fewbit_params p;
        actfit_fewbit_params_init(&p);
        p.bits = b;
        actfit_table tb;
        double t0 = bench_now();
        actfit_fewbit_fit(act, w, &p, &tb, err, sizeof err);
        t[r] = bench_now() - t0;
        actfit_table_destroy(&tb);
      }
      double m = bench_median(t, reps);
      total += m;
      printf(" %10.2f", 1e3 * m);
    }
    printf("\n");
    actfit_act_free(act);
  }
  printf("whole smooth built-in set, b = 1..4: %.2f s\n\n", total);

  printf("# DP only, GELU, uniform [-10, 10], k = 16: pruned exact DP vs dense k N^2 DP\n");
  printf("%8s %12s %12s %9s %s\n", "N", "pruned ms", "dense ms", "ratio", "same E");
  actfit_act *g;
  actfit_act_alloc("gelu", &g, err, sizeof err);
  for (int n = 1024; n <= big; n *= 2) {
    actfit_grid *gr;
    actfit_grid_alloc(g, w, -10, 10, n, 0, &gr, err, sizeof err);
    int cuts[16], cd[16];
    double E = 0, Ed = 0, t[32];
    for (int r = 0; r < reps; r++) {
      double t0 = bench_now();
      actfit_dp_l2(gr, 16, 0, cuts, &E);
      t[r] = bench_now() - t0;
    }
    double tp = bench_median(t, reps), td = NAN;
    if (n <= 8192) {
      double t0 = bench_now();
      actfit_dp_l2_dense(gr, 16, cd, &Ed);
      td = bench_now() - t0;
    }
    printf("%8d %12.2f %12.2f %9.1f %s\n", n, 1e3 * tp, 1e3 * td, td / tp,
           n <= 8192 ? (E == Ed && !memcmp(cuts, cd, sizeof cuts - sizeof(int)) ? "yes" : "NO")
                     : "-");
    actfit_grid_free(gr);
  }

  /* the published tables' setting: uniform on [-100, 100], where f' is exactly constant
   * over most cells (merged by the DP) */
  printf("\n# GELU, uniform [-100, 100], N = 4096, 4 bits (k = 16): pruned DP with constant "
         "runs merged vs dense DP, and the whole fit; median of %d\n", reps);
  printf("%12s %12s %9s %8s %14s\n", "pruned ms", "dense ms", "ratio", "same E", "full fit ms");
  {
    actfit_grid *gr;
    actfit_grid_alloc(g, w, -100, 100, 4096, 0, &gr, err, sizeof err);
    int cuts[16], cd[16];
    double E = 0, Ed = 0, t[32], tf[32];
    for (int r = 0; r < reps; r++) {
      double t0 = bench_now();
      actfit_dp_l2(gr, 16, 0, cuts, &E);
      t[r] = bench_now() - t0;
      actfit_fewbit_params p;
      actfit_fewbit_params_init(&p);
      p.bits = 4;
      p.a = -100;
      p.b = 100;
      actfit_table tb;
      t0 = bench_now();
      actfit_fewbit_fit(g, w, &p, &tb, err, sizeof err);
      tf[r] = bench_now() - t0;
      actfit_table_destroy(&tb);
    }
    double t0 = bench_now();
    actfit_dp_l2_dense(gr, 16, cd, &Ed);
    double td = bench_now() - t0, tp = bench_median(t, reps);
    printf("%12.2f %12.2f %9.1f %8s %14.2f\n", 1e3 * tp, 1e3 * td, td / tp,
           E == Ed && !memcmp(cuts, cd, sizeof cuts - sizeof(int)) ? "yes" : "NO",
           1e3 * bench_median(tf, reps));
    actfit_grid_free(gr);
  }
  actfit_act_free(g);
  actfit_weight_free(w);
  return 0;
}
