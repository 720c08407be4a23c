/* Private to src/fit: InvAct helpers of invact_eval.c, shared by the fit (invact.c) and the
 * analysis (invact_analyse.c), which call them and not each other. */
#ifndef ACTFIT_INVACT_IMPL_H
#define ACTFIT_INVACT_IMPL_H
#include "actfit/invact.h"
#include "elem.h"

double actfit__invact_err_real_line(const actfit_table *t, const actfit_act *act);
/* x on f's branch [lo, hi] (increasing when inc) with f(x) = y */
actfit_status actfit__invact_invert(const actfit_act *act, double lo, double hi, int inc, double y,
                                    double *x);
/* the x range of branch side (-1 left, 1 right, 0 all) and whether f increases on it */
void actfit__invact_branch_range(const actfit_act *act, int side, double *lo, double *hi, int *inc);
/* a piece's polynomial at v (Horner in u = (v - c) s) */
double actfit__invact_horner(const actfit_invact_piece *p, double v);
/* The per-dtype part of actfit_invact_analyse (t->err_exact_y is left as it is). */
actfit_status actfit__invact_analyse_dtypes(actfit_table *t, const actfit_act *act, long npoints,
                                            void (*progress)(double, void *), void *user,
                                            int threads, char *err, size_t errlen);
#endif
