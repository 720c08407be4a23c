/* actfit status codes: one X-macro generates the enum, actfit_strerror() and
 * actfit_status_name(), so the three can never drift apart (libuv UV_ERRNO_MAP). */
#ifndef ACTFIT_STATUS_H
#define ACTFIT_STATUS_H

#include "actfit/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ACTFIT_STATUS_MAP(XX)                                                   \
  XX(OK,          0, "success")                                                 \
  XX(EINVAL,      1, "invalid argument")                                        \
  XX(ENOMEM,      2, "out of memory")                                           \
  XX(EUNKNOWN,    3, "unknown name")                                            \
  XX(EPARSE,      4, "parse error")                                             \
  XX(EDOMAIN,     5, "function is not finite on the domain")                   \
  XX(EFORMAT,     6, "malformed table")                                         \
  XX(EVERSION,    7, "unsupported table version")                               \
  XX(EIO,         8, "input/output error")                                      \
  XX(ENOCONV,     9, "iteration did not converge")                             \
  XX(ESTRUCT,    10, "activation lacks the structure this method needs")       \
  XX(EDTYPE,     11, "unsupported dtype")                                       \
  XX(ENODEV,     12, "backend not available in this build or on this machine") \
  XX(EDEVICE,    13, "device error")                                            \
  XX(ETARGET,    14, "accuracy target cannot be met")

typedef enum actfit_status {
#define ACTFIT__XX(name, val, msg) ACTFIT_##name = val,
  ACTFIT_STATUS_MAP(ACTFIT__XX)
#undef ACTFIT__XX
  ACTFIT_STATUS_COUNT_
} actfit_status;

/* Static strings; never NULL (unknown codes give "unknown status"). */
ACTFIT_API const char *actfit_strerror(int status);
ACTFIT_API const char *actfit_status_name(int status);

/* "MAJOR.MINOR.PATCH", static string. */
ACTFIT_API const char *actfit_version(void);

#ifdef __cplusplus
}
#endif
#endif
