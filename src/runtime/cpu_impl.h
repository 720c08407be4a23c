/* Private to the CPU backend: the AVX2 loops (src/runtime/cpu_avx2.c) and the AVX-512 one
 * (cpu_avx512.c), present when the build defines ACTFIT_HAVE_AVX2 (x86-64 with a compiler
 * that takes -mavx2 -mfma -mf16c and -mavx512f -mavx512bw -mavx512vl) and used only when
 * the CPU running the code has those extensions. */
#ifndef ACTFIT_CPU_IMPL_H
#define ACTFIT_CPU_IMPL_H
#include "actfit/runtime.h"
#include "elem.h"

/* A group's code words w[0 .. bits) to state, one 32-bit store each.  (A memcpy of the
 * array made gcc store the words to the stack one by one and read them back as one 64-bit
 * load, which store forwarding cannot serve: a stall of a dozen cycles per group, 0.2 ns
 * per element of an fp32 FewBit forward in cache.) */
static inline void put_words(uint32_t *restrict state, const uint32_t *restrict w, int bits)
{
  for (int j = 0; j < bits; j++)
    state[j] = w[j];
}

/* 1 when this CPU has AVX2, FMA and F16C */
int actfit__avx2_usable(void);

/* FewBit backward over the full 32-element groups [g0, g1) */
void actfit__avx2_fewbit_bwd(const actfit_rt_fewbit *t, actfit_dtype dt, const uint32_t *state,
                             const void *go, void *gi, size_t g0, size_t g1);

/* y = f(x) for n floats, n a multiple of 32 (elem.h's float forward, vectorised): one
 * function per built-in, from the AVX2 or the AVX-512 build of the same code; NULL for an
 * unknown act */
typedef void (*actfit__f32_fn)(const float *restrict pf, const float *restrict x,
                               float *restrict y, size_t n);
actfit__f32_fn actfit__avx2_f32(int act);
actfit__f32_fn actfit__avx512_f32(int act);
/* the same loops built with AVX512-VBMI2 as well (cpu_fwd_avx512v.c): the fp32 forwards
 * only, as actfit__avx512_f32, _f32s and _f32x */
actfit__f32_fn actfit__avx512v_f32(int act);
/* y = f(x) as actfit__f32_fn, and meanwhile src[0 .. sn) copied to dst by non-temporal
 * stores, spread over the arithmetic (src and dst 64-byte aligned, sn a multiple of 32;
 * cpu_fwd.h); AVX-512 only */
typedef void (*actfit__f32s_fn)(const float *restrict pf, const float *restrict x,
                                float *restrict y, size_t n, const float *restrict src,
                                float *restrict dst, size_t sn);
actfit__f32s_fn actfit__avx512_f32s(int act);
actfit__f32s_fn actfit__avx512v_f32s(int act);
/* the same, and meanwhile what the DIR rows' loop (cpu_fwd.h) adds beside y from x in its
 * registers, which would otherwise take a second loop over x: the InvAct branch bit
 * (s = x < T; out[k] the mask of group k, bit i for x[32 k + i]; NaN: 0), the bit in y
 * instead (each y stored by the fp32 bit-in-y rule, actfit_elem_store_f32), or FewBit
 * codes of 1 or 2 bits (out[bits k ..] group k's planes, of |x| where even); with src NULL,
 * the plain forward and that */
enum { ACTFIT__X_BIT, ACTFIT__X_BIT_IN_Y, ACTFIT__X_CODES1, ACTFIT__X_CODES2, ACTFIT__X_COUNT };
typedef struct actfit__fwd_extra {
  uint32_t *out;        /* the bit's or the codes' words from the call's first group */
  const float *borders; /* the codes: the 2^bits - 1 borders */
  float T;              /* the bit */
  int even;             /* the codes */
} actfit__fwd_extra;
typedef void (*actfit__f32x_fn)(const float *restrict pf, const float *restrict x,
                                float *restrict y, size_t n, const float *restrict src,
                                float *restrict dst, size_t sn, const actfit__fwd_extra *e);
/* the function for activation act and ACTFIT__X_* kind; NULL where there is none */
actfit__f32x_fn actfit__avx512_f32x(int act, int kind);
actfit__f32x_fn actfit__avx512v_f32x(int act, int kind);
/* the streaming and the fused forwards of the widest build this CPU runs (cpu_pass.c) */
actfit__f32s_fn actfit__cpu_f32s(int act);
actfit__f32x_fn actfit__cpu_f32x(int act, int kind);
/* y of a 16-bit pass before its rounding (elem.h's actfit_elem_f16), n a multiple of 32 */
actfit__f32_fn actfit__avx2_f16(int act);
actfit__f32_fn actfit__avx512_f16(int act);
/* the same shape for the InvAct backward's g(y) of an exact form (ACTFIT_EXACT_*) that
 * needs an exponential (softplus, logsigmoid): (params, y, g, n); NULL for the others */
actfit__f32_fn actfit__avx2_exact(int exact);
actfit__f32_fn actfit__avx512_exact(int exact);

/* Forward passes over the full 32-element groups [g0, g1), f computing y (NULL: the
 * encoders, FewBit with y == NULL (codes only), InvAct with y read and re-stored only with
 * the bit).  For fp16 / bf16, tables over every 16-bit x replace the arithmetic when not
 * NULL: slut (InvAct) the stored y bits, with or without the bit in y; clut (FewBit) the
 * codes (the encoder) or the stored y | code << 16 (the forward). */
void actfit__avx2_fewbit_fwd(const actfit_rt_fewbit *t, actfit_dtype dt, actfit__f32_fn f,
                             const int32_t *clut, const void *x, void *y,
                             uint32_t *state, size_t g0, size_t g1);
/* the same for fp32 on AVX-512 (x and y as floats); nt: y to memory by non-temporal stores
 * (cpu_pass.c's actfit__cpu_nt: y 64-byte aligned; the caller fences) */
void actfit__avx512_fewbit_fwd_f32(const actfit_rt_fewbit *t, actfit__f32_fn f, int nt,
                                   const float *x, float *y, uint32_t *state, size_t g0,
                                   size_t g1);
void actfit__avx512_invact_fwd_f32(const actfit_rt_invact *t, int flags, actfit__f32_fn f, int nt,
                                   const float *x, float *y, uint32_t *state, size_t g0, size_t g1);
void actfit__avx2_invact_fwd(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                             actfit__f32_fn f, const uint32_t *slut,
                             const void *x, void *y, uint32_t *state, size_t g0, size_t g1);

/* InvAct backward over the full 32-element groups [g0, g1); 0 when the table has no AVX2
 * plan (then nothing was written).  gfn: actfit__*_exact(t->exact), the vectorised g of
 * softplus and logsigmoid (NULL for the other tables) */
int actfit__avx2_invact_bwd(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                            actfit__f32_fn gfn, const void *y, const uint32_t *state,
                            const void *go, void *gi, size_t g0, size_t g1);

/* InvAct backward for fp16 / bf16 over the full groups [g0, g1) with g read from lut
 * ([s * 65536 + y], the 16-bit y's bits) */
void actfit__avx2_invact_bwd_lut(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                                 const float *lut, const void *y, const uint32_t *state,
                                 const void *go, void *gi, size_t g0, size_t g1);

/* AVX-512 (F, BW, VL): 1 when this CPU has them; the InvAct backward on fitted tables over
 * the full groups [g0, g1), 0 when the table has no plan (then nothing was written) */
int actfit__avx512_usable(void);
/* 1 when this CPU has AVX512-VBMI2 too (cpu_fwd_avx512v.c's loops) */
int actfit__avx512vbmi2_usable(void);
/* the InvAct backward for fp16 / bf16 from the table of g, as actfit__avx2_invact_bwd_lut */
void actfit__avx512_invact_bwd_lut(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                                   const float *lut, const void *y, const uint32_t *state,
                                   const void *go, void *gi, size_t g0, size_t g1);
/* the FewBit forward (with_y) or encoder of fp16 / bf16 x over the full groups [g0, g1)
 * from the table of every 16-bit x (ACTFIT__LUT_Y_CODES or ACTFIT__LUT_CODES) */
void actfit__avx512_fewbit_fwd_lut16(int bits, int with_y, const int32_t *clut, const void *x,
                                     void *y, uint32_t *state, size_t g0, size_t g1);
/* the InvAct forward of fp16 / bf16 x over the full groups [g0, g1) from the table of the
 * stored y bits (ACTFIT__LUT_STORED_BIT with the bit in y, else ACTFIT__LUT_STORED) */
void actfit__avx512_invact_fwd_lut16(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                                     const uint32_t *slut, const void *x, void *y,
                                     uint32_t *state, size_t g0, size_t g1);
/* the FewBit backward over the full groups [g0, g1), sixteen elements at a time; with nt
 * (fp32, gi 64-byte aligned) gi by non-temporal stores, as the InvAct backward's below */
void actfit__avx512_fewbit_bwd(const actfit_rt_fewbit *t, actfit_dtype dt, const uint32_t *state,
                               const void *go, int nt, void *gi, size_t g0, size_t g1);
int actfit__avx512_invact_bwd(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                              const void *y, const uint32_t *state, const void *go, int nt,
                              void *gi, size_t g0, size_t g1);
#endif
