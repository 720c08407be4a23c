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

/* ---- the hot loops: the library's 16-byte loops (invact_fwd_vec, invact_bwd_vec,
 * fewbit_bwd_vec) reduced to one pass each, so that a loop body is VEC elements' work (4 fp32
 * or 8 fp16/bf16) with its constants, table bases and indexing shared, as in the library;
 * tools/sass_count.py divides the outer loop's body by VEC */
namespace {

__device__ __forceinline__ size_t vprobe_stride()
{
  return (size_t)gridDim.x * blockDim.x;
}

/* the forward of ACT, or with ACT < 0 the copy (unpack, pack) every pass of the dtype pays */
template <int ACT, int DT>
__device__ __forceinline__ void vprobe_fwd(const float *params, const void *x, void *y, size_t nv)
{
  constexpr int VEC = vec_traits<DT>::VEC;
  const uint4 *x4 = static_cast<const uint4 *>(x);
  uint4 *y4 = static_cast<uint4 *>(y);
  for (size_t v = probe_index(); v < nv; v += vprobe_stride()) {
    uint4 r = x4[v];
    float out[VEC];
#pragma unroll
    for (int k = 0; k < VEC; k++)
      out[k] = ACT < 0 ? unpack<DT>(r, k)
                       : actfit_elem_fs(ACT, params, unpack<DT>(r, k), DT != ACTFIT_FP32);
    y4[v] = pack<DT>(out);
  }
}

/* invact_bwd_vec with the branch bit in a state word: fp32 computes g, fp16/bf16 read it
 * from the g table (invact_g) */
template <int DT>
__device__ __forceinline__ void vprobe_invact_bwd(const actfit_rt_invact &t, const void *y,
                                                  const uint32_t *state, const void *go,
                                                  void *gi, const float *lut, size_t nv)
{
  constexpr int VEC = vec_traits<DT>::VEC;
  constexpr bool LUT = DT != ACTFIT_FP32;
  const uint4 *y4 = static_cast<const uint4 *>(y), *g4 = static_cast<const uint4 *>(go);
  uint4 *o4 = static_cast<uint4 *>(gi);
  for (size_t v = probe_index(); v < nv; v += vprobe_stride()) {
    size_t e = v * VEC;
    unsigned b0 = (unsigned)(e % 32);
    uint32_t word = state[e / 32];
    uint4 ry = y4[v], rg = g4[v];
    float out[VEC];
#pragma unroll
    for (int k = 0; k < VEC; k++) {
      int s = (int)((word >> (b0 + k)) & 1u);
      out[k] = unpack<DT>(rg, k) *
               (LUT ? invact_g<true>(t, lut, 0.0f, unpack_raw16(ry, k), s)
                    : actfit_elem_invact_fitted(&t, unpack<DT>(ry, k), s));
    }
    o4[v] = pack<DT>(out);
  }
}

/* fewbit_bwd_vec at 3 bits: the levels in shared memory, the code from three plane words */
template <int DT>
__device__ __forceinline__ void vprobe_fewbit_bwd(const actfit_rt_fewbit &t, const uint32_t *state,
                                                  const void *go, void *gi, size_t nv)
{
  constexpr int VEC = vec_traits<DT>::VEC;
  __shared__ float lv[8];
  if (threadIdx.x < 8)
    lv[threadIdx.x] = t.levels[threadIdx.x];
  __syncthreads();
  const uint4 *g4 = static_cast<const uint4 *>(go);
  uint4 *o4 = static_cast<uint4 *>(gi);
  for (size_t v = probe_index(); v < nv; v += vprobe_stride()) {
    size_t e = v * VEC, g = e / 32;
    unsigned b0 = (unsigned)(e % 32);
    uint32_t w0 = state[g * 3], w1 = state[g * 3 + 1], w2 = state[g * 3 + 2];
    uint4 r = g4[v];
    float out[VEC];
#pragma unroll
    for (int k = 0; k < VEC; k++) {
      unsigned c = ((w0 >> (b0 + k)) & 1u) | ((w1 >> (b0 + k)) & 1u) << 1 |
                   ((w2 >> (b0 + k)) & 1u) << 2;
      out[k] = unpack<DT>(r, k) * lv[c];
    }
    o4[v] = pack<DT>(out);
  }
}

} // namespace

#define VPROBES(DTN, DT)                                                                    \
  extern "C" __global__ void vprobe_copy_##DTN(const void *x, void *y, size_t nv)           \
  {                                                                                         \
    vprobe_fwd<-1, DT>(nullptr, x, y, nv);                                                  \
  }                                                                                         \
  extern "C" __global__ void vprobe_gelu_fwd_##DTN(const __grid_constant__ actfit_rt_invact t, \
                                                   const void *x, void *y, size_t nv)       \
  {                                                                                         \
    vprobe_fwd<ACTFIT_A_GELU, DT>(t.params, x, y, nv);                                      \
  }                                                                                         \
  extern "C" __global__ void vprobe_gelu_tanh_fwd_##DTN(                                    \
      const __grid_constant__ actfit_rt_invact t, const void *x, void *y, size_t nv)        \
  {                                                                                         \
    vprobe_fwd<ACTFIT_A_GELU_TANH, DT>(t.params, x, y, nv);                                 \
  }                                                                                         \
  extern "C" __global__ void vprobe_silu_fwd_##DTN(const __grid_constant__ actfit_rt_invact t, \
                                                   const void *x, void *y, size_t nv)       \
  {                                                                                         \
    vprobe_fwd<ACTFIT_A_SILU, DT>(t.params, x, y, nv);                                      \
  }                                                                                         \
  extern "C" __global__ void vprobe_mish_fwd_##DTN(const __grid_constant__ actfit_rt_invact t, \
                                                   const void *x, void *y, size_t nv)       \
  {                                                                                         \
    vprobe_fwd<ACTFIT_A_MISH, DT>(t.params, x, y, nv);                                      \
  }                                                                                         \
  extern "C" __global__ void vprobe_invact_bwd_##DTN(const __grid_constant__ actfit_rt_invact t, \
                                                     const void *y, const uint32_t *state,  \
                                                     const void *go, void *gi,              \
                                                     const float *lut, size_t nv)           \
  {                                                                                         \
    vprobe_invact_bwd<DT>(t, y, state, go, gi, lut, nv);                                    \
  }                                                                                         \
  extern "C" __global__ void vprobe_fewbit_bwd_##DTN(const __grid_constant__ actfit_rt_fewbit t, \
                                                     const uint32_t *state, const void *go, \
                                                     void *gi, size_t nv)                   \
  {                                                                                         \
    vprobe_fewbit_bwd<DT>(t, state, go, gi, nv);                                            \
  }
VPROBES(fp32, ACTFIT_FP32)
VPROBES(bf16, ACTFIT_BF16)
