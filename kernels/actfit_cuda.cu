/* CUDA backend of the runtime: one kernel per pass, grid-stride loops over groups of 32
 * elements (one warp per group, 64-bit indexing), codes assembled with __ballot_sync into the
 * shared bit-plane layout and read back with one broadcast load per plane.  Tables travel as
 * __grid_constant__ kernel parameters (constant bank).  Per-element math: kernels/elem.h, the
 * same source the CPU backend compiles. */
#include <cuda_runtime.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elem.h"
#include "actfit_cuda.h"

namespace {

template <int DT> __device__ __forceinline__ float ld(const void *p, size_t i)
{
  if (DT == ACTFIT_FP16)
    return actfit_f16_to_f32(static_cast<const uint16_t *>(p)[i]);
  if (DT == ACTFIT_BF16)
    return actfit_bf16_to_f32(static_cast<const uint16_t *>(p)[i]);
  return static_cast<const float *>(p)[i];
}

template <int DT> __device__ __forceinline__ void st(void *p, size_t i, float v)
{
  if (DT == ACTFIT_FP16)
    static_cast<uint16_t *>(p)[i] = actfit_f32_to_f16(v);
  else if (DT == ACTFIT_BF16)
    static_cast<uint16_t *>(p)[i] = actfit_f32_to_bf16(v);
  else
    static_cast<float *>(p)[i] = v;
}

template <int DT> __device__ __forceinline__ void st_bit(void *p, size_t i, float v, int s)
{
  if (DT == ACTFIT_FP16)
    static_cast<uint16_t *>(p)[i] = actfit_elem_store_f16(v, s);
  else if (DT == ACTFIT_BF16)
    static_cast<uint16_t *>(p)[i] = actfit_elem_store_bf16(v, s);
  else
    static_cast<float *>(p)[i] = actfit_elem_store_f32(v, s);
}

template <int DT> __device__ __forceinline__ int last_bit(const void *p, size_t i)
{
  if (DT == ACTFIT_FP32)
    return (int)(actfit_f32_bits(static_cast<const float *>(p)[i]) & 1u);
  return static_cast<const uint16_t *>(p)[i] & 1;
}

/* the 16-bit pattern of element i (fp16/bf16 arrays) */
__device__ __forceinline__ uint32_t raw16(const void *p, size_t i)
{
  return static_cast<const uint16_t *>(p)[i];
}

/* ---- the 16-bit InvAct backward of a fitted table, from a table of g -------------------
 * A 16-bit y is one of 65536 patterns, so g_s(y) of a fitted table (its sqrt, piece scan and
 * Horner steps, a few hundred instructions with lane-divergent coefficient loads) is
 * computed once per table, dtype and device for all 2^17 (s, y) pairs by actfit_elem_invact
 * itself (invact_g_build) and read back with one load: index s << 16 | y's pattern, as the
 * CPU backend's 16-bit table (src/runtime/cpu_lut.c), so the bits are those of the per-element
 * evaluation.  512 KiB per table: L2-resident, and a layer's y values touch a few KiB of it. */
template <int DT> __global__ void invact_g_build(const __grid_constant__ actfit_rt_invact t, float *g)
{
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < 2u * 65536u;
       i += gridDim.x * blockDim.x) {
    uint16_t h = (uint16_t)(i & 0xffffu);
    float yv = DT == ACTFIT_FP16 ? actfit_f16_to_f32(h) : actfit_bf16_to_f32(h);
    g[i] = actfit_elem_invact(&t, yv, (int)(i >> 16));
  }
}

/* g_s(y) of one element: from the table (LUT: 16-bit dtypes, fitted tables) by y's pattern
 * h, or computed from y */
template <bool LUT>
__device__ __forceinline__ float invact_g(const actfit_rt_invact &t, const float *lut, float yv,
                                          uint32_t h, int s)
{
  if (LUT)
    return __ldg(lut + ((uint32_t)s << 16 | h));
  return actfit_elem_invact(&t, yv, s);
}

struct warp_pos {
  size_t group, stride;
  unsigned lane;
};

__device__ __forceinline__ warp_pos warp_start()
{
  warp_pos w;
  size_t warps_per_block = blockDim.x / 32;
  w.group = (size_t)blockIdx.x * warps_per_block + threadIdx.x / 32;
  w.stride = (size_t)gridDim.x * warps_per_block;
  w.lane = threadIdx.x % 32;
  return w;
}

/* the borders in shared memory (actfit_code_of): lanes search different ones, which the
 * constant bank would serialise; every thread of the block calls it before its loop */
__device__ __forceinline__ void borders_to_shared(const actfit_rt_fewbit &t, float *bd)
{
  for (int k = threadIdx.x; k < (1 << t.bits) - 1; k += blockDim.x)
    bd[k] = t.borders[k];
  __syncthreads();
}

template <int DT>
__global__ void fewbit_fwd(const __grid_constant__ actfit_rt_fewbit t, const void *x, void *y,
                           uint32_t *state, size_t n)
{
  __shared__ float bd[(1 << ACTFIT_RT_MAX_BITS) - 1];
  borders_to_shared(t, bd);
  warp_pos w = warp_start();
  size_t groups = (n + 31) / 32;
  for (size_t g = w.group; g < groups; g += w.stride) {
    size_t i = 32 * g + w.lane;
    unsigned c = 0;
    if (i < n) {
      float xv = ld<DT>(x, i);
      st<DT>(y, i, actfit_elem_fs(t.act, t.params, xv, DT != ACTFIT_FP32));
      c = (unsigned)actfit_code_of(bd, t.bits, t.parity_even, xv);
    }
    for (int j = 0; j < t.bits; j++) {
      unsigned word = __ballot_sync(0xffffffffu, (c >> j) & 1u);
      if (w.lane == (unsigned)j)
        state[g * (size_t)t.bits + j] = word;
    }
  }
}

template <int DT>
__global__ void fewbit_bwd(const __grid_constant__ actfit_rt_fewbit t, const uint32_t *state,
                           const void *go, void *gi, size_t n)
{
  /* levels in shared memory: lanes index them with different codes, which the constant
   * bank would serialise */
  __shared__ float lv[1 << ACTFIT_RT_MAX_BITS];
  for (int k = threadIdx.x; k < (1 << t.bits); k += blockDim.x)
    lv[k] = t.levels[k];
  __syncthreads();
  warp_pos w = warp_start();
  size_t groups = (n + 31) / 32;
  for (size_t g = w.group; g < groups; g += w.stride) {
    size_t i = 32 * g + w.lane;
    unsigned c = 0;
    for (int j = 0; j < t.bits; j++) /* one broadcast load per plane */
      c |= ((state[g * (size_t)t.bits + j] >> w.lane) & 1u) << j;
    if (i < n)
      st<DT>(gi, i, ld<DT>(go, i) * lv[c]);
  }
}

template <int DT>
__global__ void invact_fwd(const __grid_constant__ actfit_rt_invact t, int flags, const void *x,
                           void *y, uint32_t *state, size_t n)
{
  warp_pos w = warp_start();
  size_t groups = (n + 31) / 32;
  int bit_in_y = (flags & ACTFIT_BIT_IN_Y) && t.bit, keep = t.bit && !(flags & ACTFIT_BIT_IN_Y);
  for (size_t g = w.group; g < groups; g += w.stride) {
    size_t i = 32 * g + w.lane;
    int s = 0;
    if (i < n) {
      float xv = ld<DT>(x, i);
      float yv = actfit_elem_fs(t.act, t.params, xv, DT != ACTFIT_FP32);
      s = t.bit && xv < t.T;
      if (bit_in_y)
        st_bit<DT>(y, i, yv, s);
      else
        st<DT>(y, i, yv);
    }
    unsigned word = __ballot_sync(0xffffffffu, s);
    if (keep && w.lane == 0)
      state[g] = word;
  }
}

template <int DT, bool LUT = false>
__global__ void invact_bwd(const __grid_constant__ actfit_rt_invact t, int flags, const void *y,
                           const uint32_t *state, const void *go, void *gi, size_t n,
                           const float *lut)
{
  warp_pos w = warp_start();
  size_t groups = (n + 31) / 32;
  int bit_in_y = flags & ACTFIT_BIT_IN_Y;
  for (size_t g = w.group; g < groups; g += w.stride) {
    size_t i = 32 * g + w.lane;
    uint32_t word = t.bit && !bit_in_y ? state[g] : 0u;
    if (i < n) {
      float yv = LUT ? 0.0f : ld<DT>(y, i);
      uint32_t h = LUT ? raw16(y, i) : 0u;
      int s = !t.bit ? 0 : bit_in_y ? last_bit<DT>(y, i) : (int)((word >> w.lane) & 1u);
      st<DT>(gi, i, ld<DT>(go, i) * invact_g<LUT>(t, lut, yv, h, s));
    }
  }
}

/* Encoders (the framework computed y): FewBit codes of x; InvAct s = (x < T) as a state
 * word, or y re-stored in place with s in its last bit. */
template <int DT>
__global__ void fewbit_enc(const __grid_constant__ actfit_rt_fewbit t, const void *x,
                           uint32_t *state, size_t n)
{
  __shared__ float bd[(1 << ACTFIT_RT_MAX_BITS) - 1];
  borders_to_shared(t, bd);
  warp_pos w = warp_start();
  size_t groups = (n + 31) / 32;
  for (size_t g = w.group; g < groups; g += w.stride) {
    size_t i = 32 * g + w.lane;
    unsigned c = i < n ? (unsigned)actfit_code_of(bd, t.bits, t.parity_even, ld<DT>(x, i)) : 0u;
    for (int j = 0; j < t.bits; j++) {
      unsigned word = __ballot_sync(0xffffffffu, (c >> j) & 1u);
      if (w.lane == (unsigned)j)
        state[g * (size_t)t.bits + j] = word;
    }
  }
}

template <int DT>
__global__ void invact_enc(const __grid_constant__ actfit_rt_invact t, int flags, const void *x,
                           void *y, uint32_t *state, size_t n)
{
  warp_pos w = warp_start();
  size_t groups = (n + 31) / 32;
  int bit_in_y = flags & ACTFIT_BIT_IN_Y;
  for (size_t g = w.group; g < groups; g += w.stride) {
    size_t i = 32 * g + w.lane;
    int s = i < n && ld<DT>(x, i) < t.T;
    if (i < n && bit_in_y)
      st_bit<DT>(y, i, ld<DT>(y, i), s);
    unsigned word = __ballot_sync(0xffffffffu, s);
    if (!bit_in_y && w.lane == 0)
      state[g] = word;
  }
}

/* ---- 16-byte vector versions of the backward passes: each thread takes 16 bytes of every
 * array (4 fp32 or 8 fp16/bf16 elements), all in one group of 32, whose plane words it reads
 * with one broadcast load each.  Used when the arrays are 16-byte aligned; the last n % VEC
 * elements go through the scalar path of the same kernel. */
template <int DT> struct vec_traits {
  static constexpr int VEC = DT == ACTFIT_FP32 ? 4 : 8;
};

template <int DT> __device__ __forceinline__ float unpack(const uint4 &r, int k)
{
  uint32_t w = k < (DT == ACTFIT_FP32 ? 1 : 2) ? r.x
               : k < (DT == ACTFIT_FP32 ? 2 : 4) ? r.y
               : k < (DT == ACTFIT_FP32 ? 3 : 6) ? r.z : r.w;
  if (DT == ACTFIT_FP32)
    return __uint_as_float(w);
  uint16_t h = (uint16_t)((k & 1) ? (w >> 16) : (w & 0xffffu));
  return DT == ACTFIT_FP16 ? actfit_f16_to_f32(h) : actfit_bf16_to_f32(h);
}

/* the 16-bit pattern of element k of a 16-byte vector of fp16/bf16 */
__device__ __forceinline__ uint32_t unpack_raw16(const uint4 &r, int k)
{
  uint32_t w = k < 2 ? r.x : k < 4 ? r.y : k < 6 ? r.z : r.w;
  return (k & 1) ? (w >> 16) : (w & 0xffffu);
}

template <int DT> __device__ __forceinline__ uint32_t enc(float v)
{
  if (DT == ACTFIT_FP32)
    return __float_as_uint(v);
  return DT == ACTFIT_FP16 ? actfit_f32_to_f16(v) : actfit_f32_to_bf16(v);
}

template <int DT> __device__ __forceinline__ uint4 pack(const float *v)
{
  uint4 r;
  if (DT == ACTFIT_FP32) {
    r.x = enc<DT>(v[0]); r.y = enc<DT>(v[1]); r.z = enc<DT>(v[2]); r.w = enc<DT>(v[3]);
  } else {
    r.x = enc<DT>(v[0]) | enc<DT>(v[1]) << 16;
    r.y = enc<DT>(v[2]) | enc<DT>(v[3]) << 16;
    r.z = enc<DT>(v[4]) | enc<DT>(v[5]) << 16;
    r.w = enc<DT>(v[6]) | enc<DT>(v[7]) << 16;
  }
  return r;
}

template <int DT>
__global__ void fewbit_bwd_vec(const __grid_constant__ actfit_rt_fewbit t, const uint32_t *state,
                               const void *go, void *gi, size_t n)
{
  constexpr int VEC = vec_traits<DT>::VEC;
  __shared__ float lv[1 << ACTFIT_RT_MAX_BITS];
  for (int k = threadIdx.x; k < (1 << t.bits); k += blockDim.x)
    lv[k] = t.levels[k];
  __syncthreads();
  size_t nv = n / VEC, stride = (size_t)gridDim.x * blockDim.x;
  const uint4 *g4 = static_cast<const uint4 *>(go);
  uint4 *o4 = static_cast<uint4 *>(gi);
  for (size_t v = (size_t)blockIdx.x * blockDim.x + threadIdx.x; v < nv; v += stride) {
    size_t e = v * VEC, g = e / 32;
    unsigned b0 = (unsigned)(e % 32);
    uint32_t w[ACTFIT_RT_MAX_BITS];
    for (int j = 0; j < t.bits; j++)
      w[j] = state[g * (size_t)t.bits + j];
    uint4 r = g4[v];
    float out[VEC];
#pragma unroll
    for (int k = 0; k < VEC; k++) {
      unsigned c = 0;
      for (int j = 0; j < t.bits; j++)
        c |= ((w[j] >> (b0 + k)) & 1u) << j;
      out[k] = unpack<DT>(r, k) * lv[c];
    }
    o4[v] = pack<DT>(out);
  }
  /* tail */
  size_t tail = nv * VEC, i = tail + (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (blockIdx.x == 0 && i < n) {
    unsigned c = 0;
    for (int j = 0; j < t.bits; j++)
      c |= ((state[(i / 32) * (size_t)t.bits + j] >> (i % 32)) & 1u) << j;
    st<DT>(gi, i, ld<DT>(go, i) * lv[c]);
  }
}

template <int DT, bool LUT = false>
__global__ void invact_bwd_vec(const __grid_constant__ actfit_rt_invact t, int flags,
                               const void *y, const uint32_t *state, const void *go, void *gi,
                               size_t n, const float *lut)
{
  constexpr int VEC = vec_traits<DT>::VEC;
  size_t nv = n / VEC, stride = (size_t)gridDim.x * blockDim.x;
  int bit_in_y = flags & ACTFIT_BIT_IN_Y;
  const uint4 *y4 = static_cast<const uint4 *>(y), *g4 = static_cast<const uint4 *>(go);
  uint4 *o4 = static_cast<uint4 *>(gi);
  for (size_t v = (size_t)blockIdx.x * blockDim.x + threadIdx.x; v < nv; v += stride) {
    size_t e = v * VEC;
    unsigned b0 = (unsigned)(e % 32);
    uint32_t word = t.bit && !bit_in_y ? state[e / 32] : 0u;
    uint4 ry = y4[v], rg = g4[v];
    float out[VEC];
#pragma unroll
    for (int k = 0; k < VEC; k++) {
      float yv = LUT ? 0.0f : unpack<DT>(ry, k);
      uint32_t h = LUT ? unpack_raw16(ry, k) : 0u;
      int s = !t.bit ? 0
              : bit_in_y ? (int)((LUT ? h : enc<DT>(yv)) & 1u)
                         : (int)((word >> (b0 + k)) & 1u);
      out[k] = unpack<DT>(rg, k) * invact_g<LUT>(t, lut, yv, h, s);
    }
    o4[v] = pack<DT>(out);
  }
  size_t tail = nv * VEC, i = tail + (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (blockIdx.x == 0 && i < n) {
    float yv = LUT ? 0.0f : ld<DT>(y, i);
    uint32_t h = LUT ? raw16(y, i) : 0u;
    int s = !t.bit ? 0 : bit_in_y ? last_bit<DT>(y, i) : (int)((state[i / 32] >> (i % 32)) & 1u);
    st<DT>(gi, i, ld<DT>(go, i) * invact_g<LUT>(t, lut, yv, h, s));
  }
}

/* Forward passes with 16-byte vectors: a thread takes VEC consecutive elements, so a group
 * of 32 spans 32/VEC lanes (8 for fp32, 4 for 16-bit types).  Each lane packs its VEC code
 * bits per plane, the lanes of a group OR them together with shuffles, and lane j of the
 * group writes plane j (and j + 4 for 16-bit types).  Every lane of a warp runs the same
 * number of iterations so the shuffles see the full warp. */
template <int DT>
__device__ __forceinline__ uint32_t group_or(uint32_t bits, unsigned lane)
{
  constexpr int VEC = vec_traits<DT>::VEC, LANES = 32 / VEC;
  uint32_t w = bits << (VEC * (lane % LANES));
#pragma unroll
  for (int off = 1; off < LANES; off <<= 1)
    w |= __shfl_xor_sync(0xffffffffu, w, off);
  return w;
}

template <int DT>
__device__ __forceinline__ void load_vec(const void *x, size_t e, size_t n, float *v)
{
  constexpr int VEC = vec_traits<DT>::VEC;
  if (e + VEC <= n) {
    uint4 r = static_cast<const uint4 *>(x)[e / VEC];
#pragma unroll
    for (int k = 0; k < VEC; k++)
      v[k] = unpack<DT>(r, k);
  } else {
    for (int k = 0; k < VEC; k++)
      v[k] = e + k < n ? ld<DT>(x, e + k) : 0.0f;
  }
}

/* stores VEC raw encodings (fp32 bits or 16-bit patterns) */
template <int DT>
__device__ __forceinline__ void store_raw(void *y, size_t e, size_t n, const uint32_t *r)
{
  constexpr int VEC = vec_traits<DT>::VEC;
  if (e + VEC <= n) {
    uint4 o;
    if (DT == ACTFIT_FP32) {
      o.x = r[0]; o.y = r[1]; o.z = r[2]; o.w = r[3];
    } else {
      o.x = r[0] | r[1] << 16; o.y = r[2] | r[3] << 16;
      o.z = r[4] | r[5] << 16; o.w = r[6] | r[7] << 16;
    }
    static_cast<uint4 *>(y)[e / VEC] = o;
  } else {
    for (int k = 0; k < VEC; k++)
      if (e + k < n) {
        if (DT == ACTFIT_FP32)
          static_cast<uint32_t *>(y)[e + k] = r[k];
        else
          static_cast<uint16_t *>(y)[e + k] = (uint16_t)r[k];
      }
  }
}

template <int DT>
__global__ void fewbit_fwd_vec(const __grid_constant__ actfit_rt_fewbit t, const void *x, void *y,
                               uint32_t *state, size_t n)
{
  __shared__ float bd[(1 << ACTFIT_RT_MAX_BITS) - 1];
  borders_to_shared(t, bd);
  constexpr int VEC = vec_traits<DT>::VEC, LANES = 32 / VEC;
  unsigned lane = threadIdx.x % 32;
  size_t per_warp = 32 * (size_t)VEC, warps = (size_t)gridDim.x * (blockDim.x / 32);
  size_t w0 = (size_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  for (size_t wb = w0 * per_warp; wb < n; wb += warps * per_warp) {
    size_t e = wb + (size_t)lane * VEC;
    float xv[VEC];
    uint32_t yr[VEC];
    unsigned c[VEC];
    load_vec<DT>(x, e, n, xv);
#pragma unroll
    for (int k = 0; k < VEC; k++) {
      yr[k] = enc<DT>(actfit_elem_fs(t.act, t.params, xv[k], DT != ACTFIT_FP32));
      c[k] = e + k < n ? (unsigned)actfit_code_of(bd, t.bits, t.parity_even, xv[k]) : 0u;
    }
    if (e < n)
      store_raw<DT>(y, e, n, yr);
    size_t g = e / 32;
    for (int j = 0; j < t.bits; j++) {
      uint32_t bits = 0;
#pragma unroll
      for (int k = 0; k < VEC; k++)
        bits |= ((c[k] >> j) & 1u) << k;
      uint32_t word = group_or<DT>(bits, lane);
      if ((int)(lane % LANES) == j % LANES && 32 * g < n)
        state[g * (size_t)t.bits + j] = word;
    }
  }
}

template <int DT>
__global__ void invact_fwd_vec(const __grid_constant__ actfit_rt_invact t, int flags,
                               const void *x, void *y, uint32_t *state, size_t n)
{
  constexpr int VEC = vec_traits<DT>::VEC, LANES = 32 / VEC;
  unsigned lane = threadIdx.x % 32;
  int bit_in_y = (flags & ACTFIT_BIT_IN_Y) && t.bit, keep = t.bit && !(flags & ACTFIT_BIT_IN_Y);
  size_t per_warp = 32 * (size_t)VEC, warps = (size_t)gridDim.x * (blockDim.x / 32);
  size_t w0 = (size_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  for (size_t wb = w0 * per_warp; wb < n; wb += warps * per_warp) {
    size_t e = wb + (size_t)lane * VEC;
    float xv[VEC];
    uint32_t yr[VEC], bits = 0;
    load_vec<DT>(x, e, n, xv);
#pragma unroll
    for (int k = 0; k < VEC; k++) {
      float yv = actfit_elem_fs(t.act, t.params, xv[k], DT != ACTFIT_FP32);
      int s = t.bit && e + k < n && xv[k] < t.T;
      bits |= (uint32_t)s << k;
      if (!bit_in_y)
        yr[k] = enc<DT>(yv);
      else /* the stored pattern carries s in its last bit */
        yr[k] = DT == ACTFIT_FP32 ? actfit_f32_bits(actfit_elem_store_f32(yv, s))
                : DT == ACTFIT_FP16 ? actfit_elem_store_f16(yv, s)
                                    : actfit_elem_store_bf16(yv, s);
    }
    if (e < n)
      store_raw<DT>(y, e, n, yr);
    uint32_t word = group_or<DT>(bits, lane);
    if (keep && lane % LANES == 0 && e < n)
      state[e / 32] = word;
  }
}

int aligned16(const void *a, const void *b, const void *c)
{
  return (((uintptr_t)a | (uintptr_t)b | (uintptr_t)c) & 15u) == 0;
}

cudaStream_t to_stream(void *s)
{
  return s == ACTFIT_CUDA_DEFAULT_STREAM ? (cudaStream_t)0 : (cudaStream_t)s;
}

int grid_for(size_t n)
{
  static int sms = 0;
  if (!sms) {
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess)
      sms = 80;
  }
  size_t groups = (n + 31) / 32, warps = 256 / 32;
  size_t want = (groups + warps - 1) / warps, cap = (size_t)sms * 16;
  return (int)(want < cap ? (want ? want : 1) : cap);
}

actfit_status launched()
{
  return cudaGetLastError() == cudaSuccess ? ACTFIT_OK : ACTFIT_EDEVICE;
}

/* The g tables of invact_g_build, one per (table, dtype, device), kept for the life of the
 * process (512 KiB each, at most G_MAX).  A table is built on the pass's own stream, which is
 * then synchronised once, so that a table is complete before any stream can find it.  Where
 * none can be had (the cache is full, the device is out of memory, the stream is being
 * captured into a CUDA graph, ACTFIT_CUDA_TABLES=0) the pass computes g per element: the
 * same bits, more time. */
#define G_MAX 32
struct g_entry {
  int dev;
  actfit_dtype dt;
  actfit_rt_invact t;
  float *g;
};
g_entry *g_cache[G_MAX];
int g_n;
pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

const float *g_build(const actfit_rt_invact *t, actfit_dtype dt, int dev, cudaStream_t st)
{
  cudaStreamCaptureStatus cs;
  if (cudaStreamIsCapturing(st, &cs) != cudaSuccess || cs != cudaStreamCaptureStatusNone)
    return NULL;
  g_entry *e = (g_entry *)malloc(sizeof *e);
  if (!e)
    return NULL;
  e->dev = dev;
  e->dt = dt;
  e->t = *t;
  e->g = NULL;
  if (cudaMalloc(&e->g, 2 * 65536 * sizeof(float)) != cudaSuccess) {
    free(e);
    return NULL;
  }
  if (dt == ACTFIT_FP16)
    invact_g_build<ACTFIT_FP16><<<128, 256, 0, st>>>(*t, e->g);
  else
    invact_g_build<ACTFIT_BF16><<<128, 256, 0, st>>>(*t, e->g);
  if (cudaGetLastError() != cudaSuccess || cudaStreamSynchronize(st) != cudaSuccess) {
    cudaFree(e->g);
    free(e);
    return NULL;
  }
  g_cache[g_n++] = e;
  return e->g;
}

/* the g table for a 16-bit backward of the fitted table t, or NULL (compute per element);
 * leaves no CUDA error behind where it gives NULL */
const float *g_table(const actfit_rt_invact *t, actfit_dtype dt, cudaStream_t st)
{
  const char *env = getenv("ACTFIT_CUDA_TABLES");
  int dev;
  if (dt == ACTFIT_FP32 || t->exact != ACTFIT_EXACT_NONE || (env && !strcmp(env, "0")) ||
      cudaGetDevice(&dev) != cudaSuccess)
    return NULL;
  const float *g = NULL;
  pthread_mutex_lock(&g_mu);
  for (int i = 0; i < g_n && !g; i++)
    if (g_cache[i]->dev == dev && g_cache[i]->dt == dt &&
        !memcmp(&g_cache[i]->t, t, sizeof *t))
      g = g_cache[i]->g;
  if (!g && g_n < G_MAX)
    g = g_build(t, dt, dev, st);
  pthread_mutex_unlock(&g_mu);
  if (!g)
    cudaGetLastError();
  return g;
}

} /* namespace */

extern "C" int actfit__cuda_available(void)
{
  static int cached = -1;
  if (cached < 0) {
    int n = 0;
    cached = cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
  }
  return cached;
}

#define ACTFIT__DISPATCH(dt, KERNEL, ...)                                                     \
  if (!actfit__cuda_available())                                                            \
    return ACTFIT_ENODEV;                                                                   \
  switch (dt) {                                                                             \
  case ACTFIT_FP16: KERNEL<ACTFIT_FP16><<<grid_for(n), 256, 0, to_stream(stream)>>>(__VA_ARGS__); break; \
  case ACTFIT_BF16: KERNEL<ACTFIT_BF16><<<grid_for(n), 256, 0, to_stream(stream)>>>(__VA_ARGS__); break; \
  default: KERNEL<ACTFIT_FP32><<<grid_for(n), 256, 0, to_stream(stream)>>>(__VA_ARGS__); break;         \
  }

extern "C" actfit_status actfit__cuda_fewbit_forward(const actfit_rt_fewbit *t, actfit_dtype dt,
                                                     const void *x, void *y, uint32_t *state,
                                                     size_t n, void *stream)
{
  if (aligned16(x, y, NULL)) {
    ACTFIT__DISPATCH(dt, fewbit_fwd_vec, *t, x, y, state, n);
  } else {
    ACTFIT__DISPATCH(dt, fewbit_fwd, *t, x, y, state, n);
  }
  return launched();
}

extern "C" actfit_status actfit__cuda_fewbit_backward(const actfit_rt_fewbit *t,
                                                      actfit_dtype dt, const uint32_t *state,
                                                      const void *go, void *gi, size_t n,
                                                      void *stream)
{
  if (aligned16(go, gi, NULL)) {
    ACTFIT__DISPATCH(dt, fewbit_bwd_vec, *t, state, go, gi, n);
  } else {
    ACTFIT__DISPATCH(dt, fewbit_bwd, *t, state, go, gi, n);
  }
  return launched();
}

extern "C" actfit_status actfit__cuda_invact_forward(const actfit_rt_invact *t, actfit_dtype dt,
                                                     int flags, const void *x, void *y,
                                                     uint32_t *state, size_t n, void *stream)
{
  if (aligned16(x, y, NULL)) {
    ACTFIT__DISPATCH(dt, invact_fwd_vec, *t, flags, x, y, state, n);
  } else {
    ACTFIT__DISPATCH(dt, invact_fwd, *t, flags, x, y, state, n);
  }
  return launched();
}

extern "C" actfit_status actfit__cuda_invact_backward(const actfit_rt_invact *t,
                                                      actfit_dtype dt, int flags, const void *y,
                                                      const uint32_t *state, const void *go,
                                                      void *gi, size_t n, void *stream)
{
  if (!actfit__cuda_available())
    return ACTFIT_ENODEV;
  cudaStream_t st = to_stream(stream);
  const float *g = g_table(t, dt, st);
  int vec = aligned16(y, go, gi), grid = grid_for(n);
  if (g && dt == ACTFIT_FP16 && vec)
    invact_bwd_vec<ACTFIT_FP16, true><<<grid, 256, 0, st>>>(*t, flags, y, state, go, gi, n, g);
  else if (g && dt == ACTFIT_FP16)
    invact_bwd<ACTFIT_FP16, true><<<grid, 256, 0, st>>>(*t, flags, y, state, go, gi, n, g);
  else if (g && vec)
    invact_bwd_vec<ACTFIT_BF16, true><<<grid, 256, 0, st>>>(*t, flags, y, state, go, gi, n, g);
  else if (g)
    invact_bwd<ACTFIT_BF16, true><<<grid, 256, 0, st>>>(*t, flags, y, state, go, gi, n, g);
  else if (vec) {
    ACTFIT__DISPATCH(dt, invact_bwd_vec, *t, flags, y, state, go, gi, n, NULL);
  } else {
    ACTFIT__DISPATCH(dt, invact_bwd, *t, flags, y, state, go, gi, n, NULL);
  }
  return launched();
}

extern "C" actfit_status actfit__cuda_fewbit_encode(const actfit_rt_fewbit *t, actfit_dtype dt,
                                                    const void *x, uint32_t *state, size_t n,
                                                    void *stream)
{
  ACTFIT__DISPATCH(dt, fewbit_enc, *t, x, state, n);
  return launched();
}

extern "C" actfit_status actfit__cuda_invact_encode(const actfit_rt_invact *t, actfit_dtype dt,
                                                    int flags, const void *x, void *y,
                                                    uint32_t *state, size_t n, void *stream)
{
  ACTFIT__DISPATCH(dt, invact_enc, *t, flags, x, y, state, n);
  return launched();
}

extern "C" actfit_status actfit_rt_device_alloc(size_t bytes, void **ptr)
{
  *ptr = NULL;
  if (!actfit__cuda_available())
    return ACTFIT_ENODEV;
  return cudaMalloc(ptr, bytes ? bytes : 1) == cudaSuccess ? ACTFIT_OK : ACTFIT_ENOMEM;
}

extern "C" void actfit_rt_device_free(void *ptr)
{
  if (ptr)
    cudaFree(ptr);
}

extern "C" actfit_status actfit_rt_memcpy(void *dst, const void *src, size_t bytes, int kind)
{
  cudaMemcpyKind k = kind == 0 ? cudaMemcpyHostToDevice
                     : kind == 1 ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice;
  if (!bytes)
    return ACTFIT_OK;
  return cudaMemcpy(dst, src, bytes, k) == cudaSuccess ? ACTFIT_OK : ACTFIT_EDEVICE;
}

extern "C" actfit_status actfit_rt_synchronize(void)
{
  return cudaDeviceSynchronize() == cudaSuccess ? ACTFIT_OK : ACTFIT_EDEVICE;
}
