/* AVX2 (+FMA, F16C) loops for the CPU backend's backward passes, eight elements per
 * instruction.  Compiled with -mavx2 -mfma -mf16c and entered only when the CPU has them
 * (actfit__avx2_usable).  Every result is bit-identical to the scalar element math of
 * kernels/elem.h, NaN encodings included: the same float operations in the same order, one
 * lane at a time.  tests/test_runtime.c checks this against elem.h for every width, dtype
 * and built-in table. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "runtime/cpu_impl.h"

int actfit__avx2_usable(void)
{
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
}

/* ---- eight elements of a dtype in and out, as elem.h converts them -------------------- */

static inline __m256 load8(actfit_dtype dt, const void *p, size_t i)
{
  if (dt == ACTFIT_FP32)
    return _mm256_loadu_ps((const float *)p + i);
  __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)p + i));
  if (dt == ACTFIT_FP16)
    return _mm256_cvtph_ps(h); /* exact, subnormals and NaN payloads included */
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* 32-bit lanes holding 16-bit values (< 2^16) packed in order */
static inline __m128i pack16(__m256i v)
{
  return _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

static inline void store8(actfit_dtype dt, void *p, size_t i, __m256 v)
{
  if (dt == ACTFIT_FP32) {
    _mm256_storeu_ps((float *)p + i, v);
    return;
  }
  __m256i x = _mm256_castps_si256(v), r;
  __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  if (dt == ACTFIT_FP16) {
    /* F16C rounds to nearest even like actfit_f32_to_f16; a NaN becomes sign | 0x7e00 */
    __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256i qn = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x8000)),
                                 _mm256_set1_epi32(0x7e00));
    __m128i nan16 = _mm_packs_epi32(_mm256_castsi256_si128(nan), _mm256_extracti128_si256(nan, 1));
    _mm_storeu_si128((__m128i *)((uint16_t *)p + i), _mm_blendv_epi8(h, pack16(qn), nan16));
    return;
  }
  /* bf16: x + 0x7fff + ((x >> 16) & 1), top half; a NaN keeps its top half with the quiet bit */
  __m256i odd = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
  __m256i rn = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(0x7fff)), odd), 16);
  __m256i qn = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x40));
  r = _mm256_blendv_epi8(rn, qn, nan);
  _mm_storeu_si128((__m128i *)((uint16_t *)p + i), pack16(r));
}

/* ---- FewBit backward ------------------------------------------------------------------ */

/* levels[c] for eight codes: one permute for up to 8 levels, two and a blend for 16, a
 * gather beyond */
static inline __attribute__((always_inline)) __m256 level8(int bits, __m256i c, __m256 t0,
                                                             __m256 t1, const float *levels)
{
  if (bits <= 3)
    return _mm256_permutevar8x32_ps(t0, c);
  if (bits == 4) {
    __m256 lo = _mm256_permutevar8x32_ps(t0, c), hi = _mm256_permutevar8x32_ps(t1, c);
    return _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(c, 28)));
  }
  return _mm256_i32gather_ps(levels, c, 4);
}

static inline __attribute__((always_inline)) void
fewbit_bwd_groups(int bits, actfit_dtype dt, const actfit_rt_fewbit *t, const uint32_t *state,
                  const void *go, void *gi, size_t g0, size_t g1)
{
  float tab[16] = {0};
  memcpy(tab, t->levels, sizeof(float) * (size_t)((1 << bits) < 16 ? (1 << bits) : 16));
  const __m256 t0 = _mm256_loadu_ps(tab), t1 = _mm256_loadu_ps(tab + 8);
  const __m256i one = _mm256_set1_epi32(1), lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (size_t g = g0; g < g1; g++) {
    const uint32_t *w = state + g * (size_t)bits;
    __m256i wj[ACTFIT_RT_MAX_BITS];
    for (int j = 0; j < bits; j++)
      wj[j] = _mm256_set1_epi32((int)w[j]);
    for (int q = 0; q < 4; q++) {
      __m256i sh = _mm256_add_epi32(lane, _mm256_set1_epi32(8 * q)), c = _mm256_setzero_si256();
      for (int j = 0; j < bits; j++)
        c = _mm256_or_si256(c, _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(wj[j], sh), one), j));
      size_t i = 32 * g + 8 * (size_t)q;
      store8(dt, gi, i, _mm256_mul_ps(load8(dt, go, i), level8(bits, c, t0, t1, t->levels)));
    }
  }
}

#define BWD(B)                                                                              \
  case B:                                                                                   \
    if (dt == ACTFIT_FP32)                                                                  \
      fewbit_bwd_groups(B, ACTFIT_FP32, t, state, go, gi, g0, g1);                          \
    else if (dt == ACTFIT_FP16)                                                             \
      fewbit_bwd_groups(B, ACTFIT_FP16, t, state, go, gi, g0, g1);                          \
    else                                                                                    \
      fewbit_bwd_groups(B, ACTFIT_BF16, t, state, go, gi, g0, g1);                          \
    break;

void actfit__avx2_fewbit_bwd(const actfit_rt_fewbit *t, actfit_dtype dt, const uint32_t *state,
                             const void *go, void *gi, size_t g0, size_t g1)
{
  switch (t->bits) {
    BWD(1) BWD(2) BWD(3) BWD(4) BWD(5) BWD(6) BWD(7) BWD(8)
  default: break;
  }
}
#undef BWD
