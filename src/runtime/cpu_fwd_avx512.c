/* The float forward (kernels/elem.h) vectorised for AVX-512: sixteen lanes (cpu_fwd.h) */
#include <immintrin.h>
#include <stdint.h>

#include "runtime/cpu_bit16.h"

#ifdef ACTFIT_FWD_VBMI2 /* cpu_fwd_avx512v.c: the fp32 forwards only */
#define FWD_NAME(a) f32_avx512v_##a
#define FWD_TABLE actfit__avx512v_f32
#define FWDS_TABLE actfit__avx512v_f32s
#define FWDX_TABLE actfit__avx512v_f32x
#define FWD_F32_ONLY 1
#else
#define FWD_NAME(a) f32_avx512_##a
#define EXACT_TABLE actfit__avx512_exact
#define FWD_TABLE actfit__avx512_f32
#define FWDS_TABLE actfit__avx512_f32s
#define FWDX_TABLE actfit__avx512_f32x
#endif
#define V_STREAM _mm512_stream_ps
#define FWD_SAT 1 /* cpu_fwd.h's FWD_DIR: y = x from a row's SAT on */
#define FWD16_TABLE actfit__avx512_f16
#define VL 16
#define VF __m512
#define VM __mmask16
#define VI __m512i
#define V_LOAD _mm512_loadu_ps
#define V_STORE _mm512_storeu_ps
#define V1 _mm512_set1_ps
#define V_ADD _mm512_add_ps
#define V_SUB _mm512_sub_ps
#define V_MUL _mm512_mul_ps
#define V_FMA _mm512_fmadd_ps
#define V_FMS _mm512_fmsub_ps
#define V_FNMA _mm512_fnmadd_ps
#define V_NEG(a) _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN)))
#define V_ABS _mm512_abs_ps
#define V_MIN _mm512_min_ps
#define V_MAX _mm512_max_ps
#define V_DIV _mm512_div_ps
#define V_LT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define V_GE(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ)
#define V_GT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ)
#define V_EQ(a, b) _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ)
#define V_OR(a, b) ((__mmask16)((a) | (b)))
#define V_AND(a, b) ((__mmask16)((a) & (b)))
#define V_NAN(a) _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q)
#define V_SEL(m, a, b) _mm512_mask_blend_ps(m, b, a)
/* the permute reads the index's low 5 bits */
#define V_LUT(row, j) _mm512_permutex2var_ps(_mm512_loadu_ps(row), j, _mm512_loadu_ps((row) + 16))
/* The direct paths' rows the same way, but with the row's first half loaded afresh for each
 * permute.  A two-table permute overwrites one of its sources; gcc keeps the tables' halves
 * in registers across the loop and copies one before each permute (vmovaps zmm, zmm: nine
 * per sixteen lanes in GELU's fp32 forward), and those copies take the vector ports the
 * permutes and FMAs need.  A load takes a load port instead; the asm is volatile so that gcc
 * does not hoist it back out of the loop.  Intel Xeon VM, in cache (2^15, one thread), x ~
 * N(0, 3^2): the fp32 forwards take 0.93-0.99 of the time (GELU, GELU-tanh, SiLU, Mish),
 * 0.88-0.96 with N(0, 1); the bf16 forwards 0.97-1.00.  Past the cache, near memory speed,
 * 0.90-1.06.  The lean path's M tables keep V_LUT: there the loads gained nothing
 * (docs/benchmarks.md). */
static inline __attribute__((always_inline)) __m512 v_row(const float *p)
{
  __m512 r;
  __asm__ volatile("vmovups %1, %0" : "=v"(r) : "m"(*(const float(*)[16])p));
  return r;
}
#define V_DLUT(row, j) _mm512_permutex2var_ps(v_row(row), j, _mm512_loadu_ps((row) + 16))
#define V_LUT2(ra, rb, j, m) _mm512_mask_blend_ps(m, V_LUT(ra, j), V_LUT(rb, j))
/* min(a, b) of positive floats: the same order as their patterns' */
#define V_PMIN(a, b) _mm512_castsi512_ps(_mm512_min_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define V_INDEX5(t) _mm512_castps_si512(t)
/* the offsets base + i of the lanes i not in mask m, packed at dst (16 stored): their count */
static inline int v_out_idx(__mmask16 m, int base, int32_t *dst)
{
  __mmask16 out = (__mmask16)~m;
  __m512i ids = _mm512_add_epi32(_mm512_set1_epi32(base),
                                 _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  _mm512_storeu_si512(dst, _mm512_maskz_compress_epi32(out, ids));
  return __builtin_popcount(out);
}
#define V_OUT_IDX v_out_idx
/* the lanes of v not in mask m packed at dst (16 stored) */
#define V_OUT_X(m, v, dst) _mm512_storeu_ps(dst, _mm512_maskz_compress_ps((__mmask16)~(m), v))
#define V_ALL(m) ((m) == (__mmask16)0xffff)
#ifdef ACTFIT_FWD_VBMI2
/* the offsets base + i of the lanes i of a step (vectors a, c) not in masks a and c, as
 * 16-bit values packed at dst (32 stored) by one compress: their count */
static inline int v_out_idx16(__mmask16 a, __mmask16 c, int base, uint16_t *dst)
{
  __mmask32 out = (__mmask32)(uint16_t)~a | (__mmask32)(uint16_t)~c << 16;
  __m512i ids = _mm512_add_epi16(
      _mm512_set1_epi16((short)base),
      _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13,
                       12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
  _mm512_storeu_si512(dst, _mm512_maskz_compress_epi16(out, ids));
  return __builtin_popcount((unsigned)out);
}
#define V_OUT_IDX16 v_out_idx16
/* sixteen 16-bit offsets at i16 widened into i32, and p's floats there into xl */
#define V_GATHER16(i16, i32, xl, p)                                                         \
  do {                                                                                      \
    __m512i o_ = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(i16)));         \
    _mm512_storeu_si512(i32, o_);                                                           \
    _mm512_storeu_ps(xl, _mm512_i32gather_ps(o_, p, 4));                                    \
  } while (0)
#endif
#define V_GATHER(p, ix) _mm512_i32gather_ps(_mm512_loadu_si512(ix), p, 4)
#define V_SCATTER(p, ix, v) _mm512_i32scatter_ps(p, _mm512_loadu_si512(ix), v, 4)
#define V_INDEX(zc, off)                                                                    \
  _mm512_sub_epi32(_mm512_srli_epi32(_mm512_castps_si512(V_ADD(zc, V1(off))), 20),         \
                   _mm512_set1_epi32((int)(actfit_f32_bits(off) >> 20)))
/* the middle of zc's piece (cpu_fwd_avx2.c's V_CENTER): the bits of zc + off cut after the
 * top 3 mantissa bits with a 1 appended, (b & 0xfff00000) | 0x00080000 in one ternary
 * logic op, minus off; exact, and the table's row 0, so one permute fewer */
#define V_CENTER(zc, off)                                                                   \
  V_SUB(_mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(V_ADD(zc, V1(off))), \
                                                      _mm512_set1_epi32((int)0xfff00000u),  \
                                                      _mm512_set1_epi32(0x00080000), 0xea)), \
        V1(off))
/* v 2^k rounded once, as actfit_scalef for cpu_table_fwd.h's v and k (its first factor is
 * exact) */
#define V_SCALEF _mm512_scalef_ps
#define V_COPYSIGN(a, b)                                                                    \
  _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b), \
                                                _mm512_set1_epi32(INT32_MIN), 0xd8))

#include "runtime/cpu_fwd.h"
