/* Private to src/fit: InvAct helpers shared by the fit and the analysis. */
#ifndef ACTFIT_INVACT_IMPL_H
#define ACTFIT_INVACT_IMPL_H
#include "actfit/invact.h"
#include "elem.h"

double actfit__invact_branch_eval(const actfit_invact_branch *b, double y, double t);
/* Table -> the float struct the kernels use. */
actfit_status actfit__rt_invact_from_table(const actfit_table *t, actfit_rt_invact *rt);
#endif
