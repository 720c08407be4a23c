// CUDA backend of the runtime: one kernel per pass, grid-stride loops over groups of 32
// elements (one warp per group, 64-bit indexing), codes assembled with __ballot_sync into the
// shared bit-plane layout and read back with one broadcast load per plane.  Tables travel as
// __grid_constant__ kernel parameters (constant bank).  Per-element math: kernels/elem.h, the
// same source the CPU backend compiles.
#include <cuda_runtime.h>
#include <stdint.h>

#include "elem.h"
#include "runtime/runtime_impl.h"

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

template <int DT>
__global__ void fewbit_fwd(const __grid_constant__ actfit_rt_fewbit t, const void *x, void *y,
                           uint32_t *state, size_t n)
{
  warp_pos w = warp_start();
  size_t groups = (n + 31) / 32;
  for (size_t g = w.group; g < groups; g += w.stride) {
    size_t i = 32 * g + w.lane;
    unsigned c = 0;
    if (i < n) {
      float xv = ld<DT>(x, i);
      st<DT>(y, i, actfit_elem_f(t.act, t.params, xv));
      c = (unsigned)actfit_elem_code(&t, xv);
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
  warp_pos w = warp_start();
  size_t groups = (n + 31) / 32;
  for (size_t g = w.group; g < groups; g += w.stride) {
    size_t i = 32 * g + w.lane;
    unsigned c = 0;
    for (int j = 0; j < t.bits; j++) /* one broadcast load per plane */
      c |= ((state[g * (size_t)t.bits + j] >> w.lane) & 1u) << j;
    if (i < n)
      st<DT>(gi, i, ld<DT>(go, i) * t.levels[c]);
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
      float yv = actfit_elem_f(t.act, t.params, xv);
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

template <int DT>
__global__ void invact_bwd(const __grid_constant__ actfit_rt_invact t, int flags, const void *y,
                           const uint32_t *state, const void *go, void *gi, size_t n)
{
  warp_pos w = warp_start();
  size_t groups = (n + 31) / 32;
  int bit_in_y = flags & ACTFIT_BIT_IN_Y;
  for (size_t g = w.group; g < groups; g += w.stride) {
    size_t i = 32 * g + w.lane;
    uint32_t word = t.bit && !bit_in_y ? state[g] : 0u;
    if (i < n) {
      float yv = ld<DT>(y, i);
      int s = !t.bit ? 0 : bit_in_y ? last_bit<DT>(y, i) : (int)((word >> w.lane) & 1u);
      st<DT>(gi, i, ld<DT>(go, i) * actfit_elem_invact(&t, yv, s));
    }
  }
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

} // namespace

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
  ACTFIT__DISPATCH(dt, fewbit_fwd, *t, x, y, state, n);
  return launched();
}

extern "C" actfit_status actfit__cuda_fewbit_backward(const actfit_rt_fewbit *t,
                                                      actfit_dtype dt, const uint32_t *state,
                                                      const void *go, void *gi, size_t n,
                                                      void *stream)
{
  ACTFIT__DISPATCH(dt, fewbit_bwd, *t, state, go, gi, n);
  return launched();
}

extern "C" actfit_status actfit__cuda_invact_forward(const actfit_rt_invact *t, actfit_dtype dt,
                                                     int flags, const void *x, void *y,
                                                     uint32_t *state, size_t n, void *stream)
{
  ACTFIT__DISPATCH(dt, invact_fwd, *t, flags, x, y, state, n);
  return launched();
}

extern "C" actfit_status actfit__cuda_invact_backward(const actfit_rt_invact *t,
                                                      actfit_dtype dt, int flags, const void *y,
                                                      const uint32_t *state, const void *go,
                                                      void *gi, size_t n, void *stream)
{
  ACTFIT__DISPATCH(dt, invact_bwd, *t, flags, y, state, go, gi, n);
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
