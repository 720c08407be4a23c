/* Test-only instantiations for tools/sass_count.py (never linked into the library): each
 * kernel does one pass's work for one element per thread, with the activation and the dtype
 * compile-time constants, so that its SASS is that pass's per-element instructions plus a
 * fixed few for the index.  The library's kernels (included below, for the same ld/st and
 * elem.h calls) dispatch on the table's activation at run time and loop over groups, which
 * hides the per-element cost in a disassembly. */
#include "actfit_cuda.cu"

namespace {

__device__ __forceinline__ size_t probe_index()
{
  return (size_t)blockIdx.x * blockDim.x + threadIdx.x;
}

template <int ACT, int DT>
__device__ __forceinline__ void probe_fwd(const float *params, const void *x, void *y)
{
  size_t i = probe_index();
  st<DT>(y, i, actfit_elem_fs(ACT, params, ld<DT>(x, i), DT != ACTFIT_FP32));
}

/* InvAct's backward of a fitted table (GELU's, SiLU's, ...), the branch bit in a state word.
 * fp32: the piece evaluator, its loops (the piece scan and Horner) counted once; fp16/bf16:
 * the g table the library's kernels read instead (invact_g), one load by y's pattern */
template <int DT>
__device__ __forceinline__ void probe_invact_bwd(const actfit_rt_invact *t, const void *y,
                                                 const uint32_t *state, const void *go,
                                                 void *gi, const float *lut)
{
  size_t i = probe_index();
  int s = (int)((state[i / 32] >> (i % 32)) & 1u);
  float g = DT == ACTFIT_FP32 ? actfit_elem_invact_fitted(t, ld<DT>(y, i), s)
                              : invact_g<true>(*t, lut, 0.0f, raw16(y, i), s);
  st<DT>(gi, i, ld<DT>(go, i) * g);
}

/* FewBit's backward at 3 bits: the code from three planes, one level, one multiply */
template <int DT>
__device__ __forceinline__ void probe_fewbit_bwd(const actfit_rt_fewbit *t,
                                                 const uint32_t *state, const void *go,
                                                 void *gi)
{
  size_t i = probe_index();
  unsigned c = 0;
  for (int j = 0; j < 3; j++)
    c |= ((state[(i / 32) * 3 + j] >> (i % 32)) & 1u) << j;
  st<DT>(gi, i, ld<DT>(go, i) * t->levels[c]);
}

/* the baseline: load and store, the part every pass pays and a copy is memory-bound with */
template <int DT> __device__ __forceinline__ void probe_copy(const void *x, void *y)
{
  size_t i = probe_index();
  st<DT>(y, i, ld<DT>(x, i));
}

} // namespace

extern "C" __global__ void probe_copy_fp32(const void *x, void *y) { probe_copy<ACTFIT_FP32>(x, y); }
extern "C" __global__ void probe_copy_bf16(const void *x, void *y) { probe_copy<ACTFIT_BF16>(x, y); }

#define PROBE_FWD(name, ACT)                                                                \
  extern "C" __global__ void probe_##name##_fwd_fp32(const __grid_constant__ actfit_rt_invact t, \
                                                     const void *x, void *y)                \
  {                                                                                         \
    probe_fwd<ACT, ACTFIT_FP32>(t.params, x, y);                                            \
  }                                                                                         \
  extern "C" __global__ void probe_##name##_fwd_bf16(const __grid_constant__ actfit_rt_invact t, \
                                                     const void *x, void *y)                \
  {                                                                                         \
    probe_fwd<ACT, ACTFIT_BF16>(t.params, x, y);                                            \
  }
PROBE_FWD(gelu, ACTFIT_A_GELU)
PROBE_FWD(gelu_tanh, ACTFIT_A_GELU_TANH)
PROBE_FWD(silu, ACTFIT_A_SILU)
PROBE_FWD(mish, ACTFIT_A_MISH)

#define PROBE_BWD(DTN, DT)                                                                  \
  extern "C" __global__ void probe_invact_bwd_##DTN(const __grid_constant__ actfit_rt_invact t, \
                                                    const void *y, const uint32_t *state,   \
                                                    const void *go, void *gi,               \
                                                    const float *lut)                       \
  {                                                                                         \
    probe_invact_bwd<DT>(&t, y, state, go, gi, lut);                                        \
  }                                                                                         \
  extern "C" __global__ void probe_fewbit_bwd_##DTN(const __grid_constant__ actfit_rt_fewbit t, \
                                                    const uint32_t *state, const void *go,  \
                                                    void *gi)                               \
  {                                                                                         \
    probe_fewbit_bwd<DT>(&t, state, go, gi);                                                \
  }
PROBE_BWD(fp32, ACTFIT_FP32)
PROBE_BWD(bf16, ACTFIT_BF16)
