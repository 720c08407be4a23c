/* The float forward (kernels/elem.h) vectorised for AVX2 + FMA: eight lanes (cpu_fwd.h) */
#include <immintrin.h>

#define FWD_NAME(a) f32_avx2_##a
#define EXACT_TABLE actfit__avx2_exact
#define FWD_TABLE actfit__avx2_f32
#define VL 8
#define VF __m256
#define VM __m256
#define VI __m256i
#define V_LOAD _mm256_loadu_ps
#define V_STORE _mm256_storeu_ps
#define V1 _mm256_set1_ps
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_FMA _mm256_fmadd_ps
#define V_FMS _mm256_fmsub_ps
#define V_FNMA _mm256_fnmadd_ps
#define V_NEG(a) _mm256_xor_ps(a, _mm256_set1_ps(-0.0f))
#define V_ABS(a) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a)
#define V_MIN _mm256_min_ps
#define V_MAX _mm256_max_ps
#define V_DIV _mm256_div_ps
#define V_LT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define V_GE(a, b) _mm256_cmp_ps(a, b, _CMP_GE_OQ)
#define V_GT(a, b) _mm256_cmp_ps(a, b, _CMP_GT_OQ)
#define V_EQ(a, b) _mm256_cmp_ps(a, b, _CMP_EQ_OQ)
#define V_OR _mm256_or_ps
#define V_AND _mm256_and_ps
#define V_NAN(a) _mm256_cmp_ps(a, a, _CMP_UNORD_Q)
#define V_SEL(m, a, b) _mm256_blendv_ps(b, a, m)
#define V_LUT(row, j) _mm256_i32gather_ps(row, j, 4)
#define V_INDEX(zc, off)                                                                    \
  _mm256_and_si256(_mm256_sub_epi32(_mm256_srli_epi32(_mm256_castps_si256(V_ADD(zc, V1(off))), 20), \
                                    _mm256_set1_epi32((int)(actfit_f32_bits(off) >> 20))),    \
                   _mm256_set1_epi32(31))

/* the middle of zc's piece, 2^e off (1 + i/8 + 1/16) - off: the bits of zc + off with the
 * mantissa cut after its top 3 bits and a 1 appended (exact, and the table's row 0: one
 * gather fewer) */
#define V_CENTER(zc, off)                                                                   \
  V_SUB(_mm256_castsi256_ps(_mm256_or_si256(                                                \
            _mm256_and_si256(_mm256_castps_si256(V_ADD(zc, V1(off))),                       \
                             _mm256_set1_epi32((int)0xfff00000u)),                          \
            _mm256_set1_epi32(0x00080000))),                                                \
        V1(off))

/* actfit_scalef: v 2^k1 2^k2, k1 = k / 2 truncated */
static inline __m256 v_scalef(__m256 v, __m256 k)
{
  __m256i ki = _mm256_cvttps_epi32(k);
  __m256i k1 = _mm256_srai_epi32(_mm256_add_epi32(ki, _mm256_srli_epi32(ki, 31)), 1);
  __m256i k2 = _mm256_sub_epi32(ki, k1), b = _mm256_set1_epi32(127);
  __m256 a1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, b), 23));
  __m256 a2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, b), 23));
  return _mm256_mul_ps(_mm256_mul_ps(v, a1), a2);
}
#define V_SCALEF v_scalef

#include "runtime/cpu_fwd.h"
