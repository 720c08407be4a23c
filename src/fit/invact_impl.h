/* Private to src/fit: InvAct helpers shared by the fit and the analysis. */
#ifndef ACTFIT_INVACT_IMPL_H
#define ACTFIT_INVACT_IMPL_H
#include "actfit/invact.h"
#include "elem.h"

double actfit__invact_err_real_line(const actfit_table *t, const actfit_act *act);
/* The per-dtype part of actfit_invact_analyse (t->err_exact_y is left as it is). */
actfit_status actfit__invact_analyse_dtypes(actfit_table *t, const actfit_act *act, long npoints,
                                            void (*progress)(double, void *), void *user,
                                            int threads, char *err, size_t errlen);
#endif
