/* Private to src/fit: InvAct helpers shared by the fit and the analysis. */
#ifndef ACTFIT_INVACT_IMPL_H
#define ACTFIT_INVACT_IMPL_H
#include "actfit/invact.h"
#include "elem.h"

double actfit__invact_branch_eval(const actfit_invact_branch *b, double y, double t);
#endif
