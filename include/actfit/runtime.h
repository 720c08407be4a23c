/* actfit runtime: forward and backward passes that keep a few bits (FewBit) or y and one
 * bit (InvAct) instead of x.  Needs only libc (+ the CUDA runtime when built with CUDA):
 * no GSL, cJSON or fitting code.
 *
 * Bit layout (both backends): elements are taken in groups of 32; group g owns `planes`
 * consecutive 32-bit little-endian words, word j holding bit j of the code of element
 * 32g + i in its bit i.  FewBit: planes = bits; InvAct: planes = 1 (the branch bit s),
 * or none with ACTFIT_BIT_IN_Y.  Padding bits of the last group are zero.  State written by
 * one backend is read by the other.
 *
 * NaN and infinities: f(+-inf) is its limit; NaN x gives NaN y.  FewBit codes compare x with
 * the borders, so NaN gets code 0 and +-inf the outermost codes.  InvAct's backward turns a
 * NaN y into a NaN gradient (when grad_out is a NaN as well, which of the two NaNs comes
 * out is not specified).
 *
 * Arithmetic: everything is float.  The forward computes f(x) with elem.h's float
 * arithmetic, in float pairs where one float would lose accuracy (docs/arithmetic.md), and
 * rounds once to float (fp32 y within 1 ulp), then to the dtype; the backward works in float.
 * The CPU's scalar loops, its AVX2 and AVX-512 loops and the CUDA kernels perform the same
 * operations in the same order and therefore store the same bits. */
#ifndef ACTFIT_RUNTIME_H
#define ACTFIT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include "actfit/status.h"
#include "elem_types.h" /* the table structs; no element math */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum actfit_dtype {
  ACTFIT_FP32 = 0, /* float */
  ACTFIT_FP16 = 1, /* IEEE binary16, as uint16_t bits */
  ACTFIT_BF16 = 2  /* bfloat16, as uint16_t bits */
} actfit_dtype;

/* InvAct flag: keep s in the lowest mantissa bit of y (no separate state). */
#define ACTFIT_BIT_IN_Y 1

/* `stream`: NULL runs on the CPU; otherwise a cudaStream_t (ACTFIT_CUDA_DEFAULT_STREAM for
 * CUDA's default stream), and every pointer must be device memory. */
#define ACTFIT_CUDA_DEFAULT_STREAM ((void *)-1)

/* Bytes of saved state for n elements. */
ACTFIT_API size_t actfit_fewbit_state_bytes(int bits, size_t n);
ACTFIT_API size_t actfit_invact_state_bytes(const actfit_rt_invact *t, int flags, size_t n);

/* Validate a table (bits, sorted borders, known activation, finite numbers). */
ACTFIT_API actfit_status actfit_rt_fewbit_check(const actfit_rt_fewbit *t);
ACTFIT_API actfit_status actfit_rt_invact_check(const actfit_rt_invact *t);

/* y = f(x) and state = codes of x. */
ACTFIT_API actfit_status actfit_fewbit_forward(const actfit_rt_fewbit *t, actfit_dtype dt,
                                               const void *x, void *y, void *state, size_t n,
                                               void *stream);
/* grad_in = grad_out * levels[code] (computed in float, rounded to dt). */
ACTFIT_API actfit_status actfit_fewbit_backward(const actfit_rt_fewbit *t, actfit_dtype dt,
                                                const void *state, const void *grad_out,
                                                void *grad_in, size_t n, void *stream);
/* y = f(x) (with s in its last bit under ACTFIT_BIT_IN_Y) and state = s. */
ACTFIT_API actfit_status actfit_invact_forward(const actfit_rt_invact *t, actfit_dtype dt,
                                               int flags, const void *x, void *y,
                                               void *state, size_t n, void *stream);
/* grad_in = grad_out * g_s(y). */
ACTFIT_API actfit_status actfit_invact_backward(const actfit_rt_invact *t, actfit_dtype dt,
                                                int flags, const void *y, const void *state,
                                                const void *grad_out, void *grad_in, size_t n,
                                                void *stream);

/* Encoders for a forward the framework computed itself (an activation the runtime has no f
 * for, such as a table fitted from an expression, or a module the user wrote).  They write
 * the same state as the forward passes.
 * FewBit: state = codes of x (y is not needed).
 * InvAct: s = (x < T); state = s, or with ACTFIT_BIT_IN_Y y (in the dtype, read and written
 * in place) gets s in its last bit: kept when its last bit is s already, else moved one unit
 * towards zero (away from zero for +-0).  The encoder sees only the rounded y, so where the
 * forward moves one unit towards the unrounded y the two stores can differ by 2 units (bf16:
 * 16% of elements); both are within one unit of the rounded y.  A NaN y stays as it is.
 * Tables of expressions (act = -1) are accepted here, and refused (EUNKNOWN) by the forward
 * passes. */
ACTFIT_API actfit_status actfit_fewbit_encode(const actfit_rt_fewbit *t, actfit_dtype dt,
                                              const void *x, void *state, size_t n,
                                              void *stream);
ACTFIT_API actfit_status actfit_invact_encode(const actfit_rt_invact *t, actfit_dtype dt,
                                              int flags, const void *x, void *y, void *state,
                                              size_t n, void *stream);

/* How the CPU backend runs a large pass on several threads.  By default it starts threads of
 * its own for a pass of 2^18 elements or more, one per CPU the process may use.  A host that
 * has an OpenMP runtime (PyTorch does) can lend its thread team instead: fn runs
 * body(arg) once on each thread of a team of n (0: the team's default size) and returns
 * when all have, as libgomp's GOMP_parallel does, whose address fits here unchanged.  The
 * passes then run on the threads the host's own operators use (from 2^15 elements: the
 * team is running already), follow its thread count (torch.set_num_threads), and do not
 * compete for the cores with that team's threads while they spin idle after an operator.
 * NULL restores the runtime's own threads.  Every result
 * is independent of the threads either way. */
typedef void (*actfit_parallel_fn)(void (*body)(void *), void *arg, unsigned n, unsigned flags);
ACTFIT_API void actfit_cpu_set_parallel(actfit_parallel_fn fn);

/* When the CPU backend writes a pass's fp32 output (y of a forward, grad_in of a backward)
 * by non-temporal stores, straight to memory as memcpy does for large copies: on a CPU with
 * AVX-512, for a pass whose bytes read and written exceed min_bytes and whose output is
 * 64-byte aligned.  Such data is larger than the cache, so the output would not stay there
 * for the next operator, and plain stores read every line before writing it.  0 (the
 * default) means the last-level cache's size, at most 64 MiB; SIZE_MAX means never.  The
 * bits are the same either way; only the speed differs. */
ACTFIT_API void actfit_cpu_set_nontemporal(size_t min_bytes);

/* sizeof the table structs, for bindings that allocate them (Python's ctypes) */
ACTFIT_API size_t actfit_rt_fewbit_sizeof(void);
ACTFIT_API size_t actfit_rt_invact_sizeof(void);

/* Tables compiled in from kernels/generated/ (made by `actfit gen` from tables/).
 * weight: "uniform" or "gauss:0,1" (FewBit); NULL means "uniform".  NULL if absent. */
ACTFIT_API const actfit_rt_fewbit *actfit_rt_fewbit_builtin(const char *act, int bits,
                                                            const char *weight);
ACTFIT_API const actfit_rt_invact *actfit_rt_invact_builtin(const char *act);

/* The name of built-in activation id (ACTFIT_A_*: 0 .. ACTFIT_A_COUNT - 1, the order of
 * actfit/act_list.h), or NULL past the end, for bindings that list them. */
ACTFIT_API const char *actfit_rt_act_name(int id);

/* Whether the CUDA backend is compiled in and a device is usable. */
ACTFIT_API int actfit_rt_have_cuda(void);

/* Device memory helpers, so C callers need no CUDA headers (ENODEV without CUDA).
 * kind: 0 host->device, 1 device->host, 2 device->device. */
ACTFIT_API actfit_status actfit_rt_device_alloc(size_t bytes, void **ptr);
ACTFIT_API void actfit_rt_device_free(void *ptr);
ACTFIT_API actfit_status actfit_rt_memcpy(void *dst, const void *src, size_t bytes, int kind);
ACTFIT_API actfit_status actfit_rt_synchronize(void);

/* Pack / unpack codes in the documented layout (CPU). */
ACTFIT_API void actfit_rt_pack(const uint8_t *codes, int planes, size_t n, uint32_t *state);
ACTFIT_API void actfit_rt_unpack(const uint32_t *state, int planes, size_t n, uint8_t *codes);

#ifdef __cplusplus
}
#endif
#endif
