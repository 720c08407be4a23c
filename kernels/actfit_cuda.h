/* Private to the runtime: the CUDA backend's entry points, defined by kernels/actfit_cuda.cu
 * (or src/runtime/nocuda.c without CUDA) and called by src/runtime/cpu.c. */
#ifndef ACTFIT_CUDA_BACKEND_H
#define ACTFIT_CUDA_BACKEND_H
#include "actfit/runtime.h"
#include "elem.h"

#ifdef __cplusplus
extern "C" {
#endif
int actfit__cuda_available(void);
actfit_status actfit__cuda_fewbit_forward(const actfit_rt_fewbit *t, actfit_dtype dt,
                                          const void *x, void *y, uint32_t *state, size_t n,
                                          void *stream);
actfit_status actfit__cuda_fewbit_backward(const actfit_rt_fewbit *t, actfit_dtype dt,
                                           const uint32_t *state, const void *go, void *gi,
                                           size_t n, void *stream);
actfit_status actfit__cuda_invact_forward(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                                          const void *x, void *y, uint32_t *state, size_t n,
                                          void *stream);
actfit_status actfit__cuda_invact_backward(const actfit_rt_invact *t, actfit_dtype dt,
                                           int flags, const void *y, const uint32_t *state,
                                           const void *go, void *gi, size_t n, void *stream);
/* the encoders: state from x (and, InvAct with the bit in y, y re-stored in place) */
actfit_status actfit__cuda_fewbit_encode(const actfit_rt_fewbit *t, actfit_dtype dt,
                                         const void *x, uint32_t *state, size_t n, void *stream);
actfit_status actfit__cuda_invact_encode(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                                         const void *x, void *y, uint32_t *state, size_t n,
                                         void *stream);
#ifdef __cplusplus
}
#endif
#endif
