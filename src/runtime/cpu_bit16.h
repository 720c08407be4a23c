/* Private to the AVX-512 translation units (cpu_avx512.c and cpu_fwd_avx512.c, both built
 * with the AVX-512 flags): the fp32 bit-in-y rule for sixteen lanes, used by the InvAct
 * forward's own loops and by the DIR rows' loop that computes y (cpu_fwd.h). */
#ifndef ACTFIT_CPU_BIT16_H
#define ACTFIT_CPU_BIT16_H
#include <immintrin.h>

/* y with the branch bit (mask s) in its last bit: actfit_elem_store_f32 lane by lane, by the
 * fp32 bit-in-y rule (cpu_avx2.c, store8_bit), right in the lanes of `valid` (store_bit16:
 * all of them).  The DIR loop passes the lanes that the lean path does not overwrite: the
 * others' direct-path values, zeros among them, would take the slow branch for nothing. */
static inline __attribute__((always_inline)) __m512i store_bit16m(__m512 y, __mmask16 s,
                                                                  __mmask16 valid)
{
  const __m512i one = _mm512_set1_epi32(1);
  /* no lane a zero or a NaN (one compare: equal to 0 or unordered), as nearly always: the
   * rule is y's pattern less one where its last bit is not s */
  if (__builtin_expect(!_mm512_mask_cmp_ps_mask(valid, y, _mm512_setzero_ps(), _CMP_EQ_UQ), 1))
    return _mm512_mask_sub_epi32(_mm512_castps_si512(y),
                                 _mm512_test_epi32_mask(_mm512_castps_si512(y), one) ^ s,
                                 _mm512_castps_si512(y), one);
  __m512i p = _mm512_castps_si512(y), mag = _mm512_and_si512(p, _mm512_set1_epi32(0x7fffffff));
  __mmask16 keep = (__mmask16)~(_mm512_test_epi32_mask(p, one) ^ s) |
                  _mm512_cmpgt_epi32_mask(mag, _mm512_set1_epi32(0x7f800000));
  __mmask16 up = _mm512_cmpeq_epi32_mask(mag, _mm512_setzero_si512());
  __m512i moved = _mm512_mask_blend_epi32(up, _mm512_sub_epi32(p, one), _mm512_add_epi32(p, one));
  return _mm512_mask_blend_epi32(keep, moved, p);
}

static inline __attribute__((always_inline)) __m512i store_bit16(__m512 y, __mmask16 s)
{
  return store_bit16m(y, s, 0xffff);
}
#endif
