/* The CUDA entry points of a build without nvcc: every call reports ENODEV. */
#include "actfit_cuda.h"

int actfit__cuda_available(void) { return 0; }

actfit_status actfit__cuda_fewbit_forward(const actfit_rt_fewbit *t, actfit_dtype dt,
                                          const void *x, void *y, uint32_t *state, size_t n,
                                          void *stream)
{
  (void)t; (void)dt; (void)x; (void)y; (void)state; (void)n; (void)stream;
  return ACTFIT_ENODEV;
}

actfit_status actfit__cuda_fewbit_backward(const actfit_rt_fewbit *t, actfit_dtype dt,
                                           const uint32_t *state, const void *go, void *gi,
                                           size_t n, void *stream)
{
  (void)t; (void)dt; (void)state; (void)go; (void)gi; (void)n; (void)stream;
  return ACTFIT_ENODEV;
}

actfit_status actfit__cuda_invact_forward(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                                          const void *x, void *y, uint32_t *state, size_t n,
                                          void *stream)
{
  (void)t; (void)dt; (void)flags; (void)x; (void)y; (void)state; (void)n; (void)stream;
  return ACTFIT_ENODEV;
}

actfit_status actfit__cuda_invact_backward(const actfit_rt_invact *t, actfit_dtype dt,
                                           int flags, const void *y, const uint32_t *state,
                                           const void *go, void *gi, size_t n, void *stream)
{
  (void)t; (void)dt; (void)flags; (void)y; (void)state; (void)go; (void)gi; (void)n;
  (void)stream;
  return ACTFIT_ENODEV;
}

actfit_status actfit__cuda_fewbit_encode(const actfit_rt_fewbit *t, actfit_dtype dt,
                                         const void *x, uint32_t *state, size_t n, void *stream)
{
  (void)t; (void)dt; (void)x; (void)state; (void)n; (void)stream;
  return ACTFIT_ENODEV;
}

actfit_status actfit__cuda_invact_encode(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                                         const void *x, void *y, uint32_t *state, size_t n,
                                         void *stream)
{
  (void)t; (void)dt; (void)flags; (void)x; (void)y; (void)state; (void)n; (void)stream;
  return ACTFIT_ENODEV;
}

actfit_status actfit_rt_device_alloc(size_t bytes, void **ptr)
{
  (void)bytes;
  *ptr = NULL;
  return ACTFIT_ENODEV;
}

void actfit_rt_device_free(void *ptr) { (void)ptr; }

actfit_status actfit_rt_memcpy(void *dst, const void *src, size_t bytes, int kind)
{
  (void)dst; (void)src; (void)bytes; (void)kind;
  return ACTFIT_ENODEV;
}

actfit_status actfit_rt_synchronize(void) { return ACTFIT_ENODEV; }
