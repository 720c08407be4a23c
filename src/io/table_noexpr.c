/* libactfit_table's expression hook (io_impl.h): without libmatheval an expression cannot be
 * evaluated, so its table cannot be checked against it and is refused. */
#include <string.h>

#include "core/util.h"
#include "io/io_impl.h"

actfit_status actfit__table_expr_open(const char *expr, actfit__expr_fn *fn, char *err,
                                      size_t errlen)
{
  (void)fn;
  actfit__seterr(err, errlen, "the table is of an expression ('%.40s%s'); checking it against "
                 "its expression needs the fitting library libactfit (libmatheval), and this is "
                 "libactfit_table", expr, strlen(expr) > 40 ? "..." : "");
  return ACTFIT_ENODEV;
}

void actfit__table_expr_close(actfit__expr_fn *fn) { (void)fn; }
