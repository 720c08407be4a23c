/* The float forward (kernels/elem.h) vectorised for AVX2 + FMA: eight lanes (cpu_fwd.h) */
#include <immintrin.h>

#include "runtime/cpu_impl.h"
#include "runtime/cpu_lanes_avx2.h"

#define FWD_NAME(a) f32_avx2_##a
#define EXACT_TABLE actfit__avx2_exact
#define FWD_TABLE actfit__avx2_f32
#define FWD16_TABLE actfit__avx2_f16
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
/* min(a, b) of positive floats: the same order as their patterns' */
#define V_PMIN(a, b) _mm256_castsi256_ps(_mm256_min_epi32(_mm256_castps_si256(a), _mm256_castps_si256(b)))
#define V_INDEX5(t) _mm256_and_si256(_mm256_castps_si256(t), _mm256_set1_epi32(31))
/* the offsets base + i of the lanes i not in mask m, packed at dst (8 stored): their count;
 * the packing is a permute from a table of the 256 masks (out_perm) */
static _Alignas(32) int32_t out_perm[256][8];
__attribute__((constructor)) static void out_perm_init(void)
{
  for (int m = 0; m < 256; m++) {
    int k = 0;
    for (int i = 0; i < 8; i++)
      if (m >> i & 1)
        out_perm[m][k++] = i;
    while (k < 8)
      out_perm[m][k++] = 0;
  }
}
static inline int v_out_idx(__m256 m, int base, int32_t *dst)
{
  int out = ~_mm256_movemask_ps(m) & 0xff;
  __m256i ids = _mm256_add_epi32(_mm256_set1_epi32(base), _mm256_load_si256((const __m256i *)out_perm[out]));
  _mm256_storeu_si256((__m256i *)dst, ids);
  return __builtin_popcount((unsigned)out);
}
#define V_OUT_IDX v_out_idx
/* v's lanes not in m packed at dst (8 stored): the same table's permute */
static inline void v_out_x(__m256 m, __m256 v, float *dst)
{
  int out = ~_mm256_movemask_ps(m) & 0xff;
  _mm256_storeu_ps(dst, _mm256_permutevar8x32_ps(v, _mm256_load_si256((const __m256i *)out_perm[out])));
}
#define V_OUT_X v_out_x
#define V_ALL(m) (_mm256_movemask_ps(m) == 0xff)
#define V_GATHER(p, ix) _mm256_i32gather_ps(p, _mm256_loadu_si256((const __m256i *)(ix)), 4)
#define V_SCATTER(p, ix, v)                                                                 \
  do {                                                                                      \
    _Alignas(32) float v_[8];                                                               \
    _mm256_store_ps(v_, v);                                                                 \
    for (int q_ = 0; q_ < 8; q_++)                                                          \
      (p)[(ix)[q_]] = v_[q_];                                                               \
  } while (0)
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

/* The M tables as records: m_rec[32 t + j] holds rows 1-8 of table t's piece j, so that a
 * lane's eight coefficients are one load.  Eight lanes' records then become eight rows with a
 * transpose: 16 loads and 16 shuffles in place of eight gathers of eight loads each. */
_Static_assert(ACTFIT_M_ROWS == 9, "a record is rows 1-8 of a piece");
static _Alignas(32) float m_rec[ACTFIT_M_COUNT * 32][8];

__attribute__((constructor)) static void m_rec_init(void)
{
  for (int t = 0; t < ACTFIT_M_COUNT; t++)
    for (int j = 0; j < 32; j++)
      for (int r = 1; r < ACTFIT_M_ROWS; r++)
        m_rec[32 * t + j][r - 1] = actfit_m_host[t][r][j];
}

static inline __attribute__((always_inline)) void
v_records(int t, int t2, __m256 m, __m256i j, __m256 *f)
{
  __m256i k = _mm256_add_epi32(j, _mm256_set1_epi32(32 * t));
  if (t2 >= 0)
    k = _mm256_add_epi32(k, _mm256_and_si256(_mm256_castps_si256(m),
                                             _mm256_set1_epi32(32 * (t2 - t))));
  lane_rows((const char *)m_rec, _mm256_slli_epi32(k, 5), 8, f); /* 32-byte records */
}
#define V_RECORDS v_records

/* The direct tables the same way: d_rec[32 t + j] holds rows 0-9 of direct table t's piece
 * j (and zeros), so that a lane's coefficients are three 16-byte loads where a row at a time
 * would be a gather each (ten per eight lanes).  A record is one 64-byte line: with 48-byte
 * records (the rows and two zeros), half of them straddled two lines, and the fp32
 * forwards took 1.03-1.08 of this time in cache with N(0, 1) (Intel Xeon VM). */
_Static_assert(ACTFIT_F_D_ROWS <= 12, "a direct record is rows 0-11 of a piece");
#define V_DRECORD_ROWS 12
static _Alignas(64) float d_rec[ACTFIT_D_COUNT * 32][16];

__attribute__((constructor)) static void d_rec_init(void)
{
  for (int t = 0; t < ACTFIT_D_COUNT; t++)
    for (int j = 0; j < 32; j++)
      for (int r = 0; r < ACTFIT_F_D_ROWS; r++)
        d_rec[32 * t + j][r] = actfit_d_host[t][r][j];
}

static inline __attribute__((always_inline)) void v_drecords(int t, __m256i j, int n, __m256 *d)
{
  __m256i k = _mm256_add_epi32(j, _mm256_set1_epi32(32 * t));
  lane_rows((const char *)d_rec, _mm256_slli_epi32(k, 6), n, d); /* 64-byte records */
}
#define V_DRECORDS v_drecords

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
/* actfit_pow2_64: t's bits shifted into the exponent field, plus 191 there */
#define V_POW2_64(t)                                                                        \
  _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(_mm256_castps_si256(t), 23),        \
                                       _mm256_set1_epi32(191 << 23)))
#define V_COPYSIGN(a, b)                                                                    \
  _mm256_or_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a), _mm256_and_ps(_mm256_set1_ps(-0.0f), b))

#include "runtime/cpu_fwd.h"
