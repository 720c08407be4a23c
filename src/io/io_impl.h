/* Private to src/io. */
#ifndef ACTFIT_IO_IMPL_H
#define ACTFIT_IO_IMPL_H
#include <stddef.h>
void actfit__sha256_hex(const void *data, size_t len, char out[65]);
#endif
