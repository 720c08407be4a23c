/* Generated headers: the committed kernels/generated/ is what `actfit gen` makes from the
 * committed tables/ (FFTW-style codelets): data only, constants as hex-float literals with a
 * decimal comment, a provenance banner with the source table's sha256, no dates. */
#ifndef ACTFIT_GEN_H
#define ACTFIT_GEN_H

#include "actfit/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Identifier stem for a table file: "tables/fewbit/gelu-3bit.json" -> "fewbit_gelu_3bit".
 * Writes into buf (NUL-terminated); EINVAL if it does not fit. */
ACTFIT_API actfit_status actfit_gen_stem(const char *path, char *buf, size_t n);

/* The header for one table.  text: the table file's bytes (hashed); path: as given on the
 * command line; args: the gen command's arguments.  *out is malloc'ed. */
ACTFIT_API actfit_status actfit_gen_header(const actfit_table *t, const char *text, size_t len,
                                           const char *path, const char *args, char **out,
                                           char *err, size_t errlen);

/* index.h: includes every header and lists the tables for actfit_rt_*_builtin().
 * stems[i] and tables[i] describe table i. */
ACTFIT_API actfit_status actfit_gen_index(const actfit_table *const *tables,
                                          const char *const *stems, int n, const char *args,
                                          char **out);

#ifdef __cplusplus
}
#endif
#endif
