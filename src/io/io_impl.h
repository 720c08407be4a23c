/* Private to src/io (and the expression hook in src/act/table_act.c). */
#ifndef ACTFIT_IO_IMPL_H
#define ACTFIT_IO_IMPL_H
#include <stddef.h>
#include "actfit/table.h"
#include "act/act_impl.h"

void actfit__sha256_hex(const void *data, size_t len, char out[65]);

/* The table against the activation it names (table_check.c); EFORMAT (or ENOMEM, ENODEV)
 * with err naming the field. */
actfit_status actfit__table_check_act(const actfit_table *t, char *err, size_t errlen);

/* An expression's f, f', f'' and kinks, for table_check.c.  Two definitions, chosen at link
 * time as nocuda.c is: src/act/table_act.c (libactfit: libmatheval) and
 * src/io/table_noexpr.c (libactfit_table: refuses, ENODEV). */
typedef struct actfit__expr_fn {
  actfit__eval_fn eval;
  void *ctx;
  int nkinks;
  double kinks[ACTFIT_ACT_MAX_KINKS];
} actfit__expr_fn;
actfit_status actfit__table_expr_open(const char *expr, actfit__expr_fn *fn, char *err,
                                      size_t errlen);
void actfit__table_expr_close(actfit__expr_fn *fn);

#endif
