/* AVX2 (+FMA, F16C) loops for all four passes of the CPU backend: eight floats (or four
 * doubles, for f in the forward) per instruction.  Compiled with -mavx2 -mfma -mf16c and
 * entered only when the CPU has them (actfit__avx2_usable).  Every stored bit equals what
 * the scalar element math of kernels/elem.h stores, NaN encodings included: the same
 * operations in the same order, lane by lane.  tests/test_runtime.c checks this for every
 * activation, width, dtype, bit placement and committed InvAct table.
 *
 * Layout: load/store helpers; FewBit backward; InvAct backward (fitted pieces); the double
 * math of the forward and the forward passes; InvAct backward (exact forms) and its entry. */
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "runtime/cpu_impl.h"
#include "runtime/cpu_plan.h"

/* F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports has no "f16c" */
int actfit__avx2_usable(void)
{
  unsigned a, b, c, d;
  __builtin_cpu_init();
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_F16C))
    return 0;
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* ---- eight elements of a dtype in and out, as elem.h converts them -------------------- */

static inline __attribute__((always_inline)) __m256 load8(actfit_dtype dt, const void *p, size_t i)
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

/* the fp16 or bf16 bits of eight floats (rounded to nearest even; NaN as elem.h encodes
 * it), one per 32-bit lane */
static inline __attribute__((always_inline)) __m256i bits16(actfit_dtype dt, __m256 v)
{
  __m256i x = _mm256_castps_si256(v);
  __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  if (dt == ACTFIT_FP16) {
    /* F16C rounds to nearest even like actfit_f32_to_f16; a NaN becomes sign | 0x7e00 */
    __m256i h = _mm256_cvtepu16_epi32(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m256i qn = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x8000)),
                                 _mm256_set1_epi32(0x7e00));
    return _mm256_blendv_epi8(h, qn, nan);
  }
  /* bf16: x + 0x7fff + ((x >> 16) & 1), top half; a NaN keeps its top half with the quiet bit */
  __m256i odd = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
  __m256i rn = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(0x7fff)), odd), 16);
  __m256i qn = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x40));
  return _mm256_blendv_epi8(rn, qn, nan);
}

/* floats from fp16 or bf16 bits held one per 32-bit lane */
static inline __attribute__((always_inline)) __m256 from16(actfit_dtype dt, __m256i b)
{
  if (dt == ACTFIT_FP16)
    return _mm256_cvtph_ps(pack16(b));
  return _mm256_castsi256_ps(_mm256_slli_epi32(b, 16));
}

static inline __attribute__((always_inline)) void store8(actfit_dtype dt, void *p, size_t i, __m256 v)
{
  if (dt == ACTFIT_FP32)
    _mm256_storeu_ps((float *)p + i, v);
  else
    _mm_storeu_si128((__m128i *)((uint16_t *)p + i), pack16(bits16(dt, v)));
}

/* y with the branch bit s (0 or 1 per lane) in its last bit: actfit_elem_store_* */
static inline __attribute__((always_inline)) void store8_bit(actfit_dtype dt, void *p, size_t i,
                                                             __m256 y, __m256i s)
{
  const __m256i one = _mm256_set1_epi32(1);
  __m256i pb, mag, lim;
  __m256 vm, vp;
  if (dt == ACTFIT_FP32) {
    pb = _mm256_castps_si256(y);
    mag = _mm256_and_si256(pb, _mm256_set1_epi32(0x7fffffff));
    lim = _mm256_set1_epi32(0x7f7fffff);
    vm = _mm256_castsi256_ps(_mm256_sub_epi32(pb, one));
    vp = _mm256_castsi256_ps(_mm256_add_epi32(pb, one));
  } else {
    pb = bits16(dt, y);
    mag = _mm256_and_si256(pb, _mm256_set1_epi32(0x7fff));
    lim = _mm256_set1_epi32(dt == ACTFIT_FP16 ? 0x7bff : 0x7f7f);
    vm = from16(dt, _mm256_and_si256(_mm256_sub_epi32(pb, one), _mm256_set1_epi32(0xffff)));
    vp = from16(dt, _mm256_add_epi32(pb, one));
  }
  const __m256 nanv = _mm256_set1_ps(NAN);
  vm = _mm256_blendv_ps(vm, nanv, _mm256_castsi256_ps(_mm256_cmpeq_epi32(mag, _mm256_setzero_si256())));
  vp = _mm256_blendv_ps(nanv, vp, _mm256_castsi256_ps(_mm256_cmpgt_epi32(lim, mag)));
  __m256 up = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(vp, y)),
                            _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(vm, y)), _CMP_LT_OQ);
  up = _mm256_blendv_ps(up, _mm256_castsi256_ps(_mm256_setzero_si256()), _mm256_cmp_ps(vp, vp, _CMP_UNORD_Q));
  up = _mm256_blendv_ps(up, _mm256_castsi256_ps(_mm256_set1_epi32(-1)), _mm256_cmp_ps(vm, vm, _CMP_UNORD_Q));
  __m256i moved = _mm256_blendv_epi8(_mm256_sub_epi32(pb, one), _mm256_add_epi32(pb, one), _mm256_castps_si256(up));
  __m256i keep = _mm256_cmpeq_epi32(_mm256_and_si256(pb, one), s);
  __m256i r = _mm256_blendv_epi8(moved, pb, keep);
  if (dt == ACTFIT_FP32)
    _mm256_storeu_si256((__m256i *)((float *)p + i), r);
  else
    _mm_storeu_si128((__m128i *)((uint16_t *)p + i), pack16(_mm256_and_si256(r, _mm256_set1_epi32(0xffff))));
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

/* ---- InvAct backward ------------------------------------------------------------------ */

/* rows r[0..7] become columns */
static inline __attribute__((always_inline)) void transpose8(__m256 r[8])
{
  __m256 t[8], u[8];
  for (int i = 0; i < 4; i++) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; i++) {
    u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; i++) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

static inline __m256i blendi(__m256i a, __m256i b, __m256i m) { return _mm256_blendv_epi8(a, b, m); }

/* the slot and the polynomial's variable for eight y of one branch (actfit_elem_branch) */
static inline __attribute__((always_inline)) void branch_slot(const plan_branch *b, __m256 y, __m256 t, __m256i *slot, __m256 *hv)
{
  __m256 v = b->var == ACTFIT_VAR_T ? t : y;
  __m256i k = _mm256_set1_epi32(b->base);
  for (int i = 0; i < b->np; i++) /* k += (hi_i < v) */
    k = _mm256_sub_epi32(k, _mm256_castps_si256(_mm256_cmp_ps(_mm256_set1_ps(b->hi[i]), v, _CMP_LT_OQ)));
  const int s_lo = b->base + b->np + b->nb, s_hi = s_lo + 1, s_zero = s_lo + 2;
  k = blendi(k, _mm256_set1_epi32(s_hi), _mm256_cmpeq_epi32(k, _mm256_set1_epi32(b->base + b->np)));
  k = blendi(k, _mm256_set1_epi32(s_lo), _mm256_castps_si256(_mm256_cmp_ps(v, _mm256_set1_ps(b->lo0), _CMP_LT_OQ)));
  if (b->nb > 0) {
    __m256 ay = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), y);
    __m256i eb = _mm256_srli_epi32(_mm256_castps_si256(ay), 23);
    __m256i e = blendi(_mm256_sub_epi32(eb, _mm256_set1_epi32(126)), _mm256_set1_epi32(-1000),
                       _mm256_cmpeq_epi32(eb, _mm256_setzero_si256()));
    __m256i i = _mm256_sub_epi32(_mm256_set1_epi32(b->top), e);
    __m256i inb = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_LT_OQ)),
                                   _mm256_cmpgt_epi32(i, _mm256_set1_epi32(-1)));
    __m256i bs = blendi(_mm256_add_epi32(i, _mm256_set1_epi32(b->base + b->np)), _mm256_set1_epi32(s_zero),
                        _mm256_cmpgt_epi32(i, _mm256_set1_epi32(b->nb - 1)));
    k = blendi(k, bs, inb);
    v = _mm256_blendv_ps(v, ay, _mm256_castsi256_ps(inb));
    k = blendi(k, _mm256_set1_epi32(s_zero), _mm256_castps_si256(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GE_OQ)));
  }
  *slot = k;
  *hv = v;
}

/* the branch bit s (0 or 1 per lane) of elements i0..i0+7: the last bit of the stored y
 * (y8 is it as float), or bits 8q.. of the group's state word w; 0 without a bit */
static inline __attribute__((always_inline)) __m256i
branch_bit8(actfit_dtype dt, const actfit_rt_invact *t, int bit_in_y, const void *yp, size_t i0,
            __m256 y8, __m256i w, int q)
{
  const __m256i one = _mm256_set1_epi32(1);
  if (!t->bit)
    return _mm256_setzero_si256();
  if (bit_in_y)
    return _mm256_and_si256(dt == ACTFIT_BF16 ? _mm256_srli_epi32(_mm256_castps_si256(y8), 16)
                            : dt == ACTFIT_FP16 ? _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)yp + i0)))
                                                : _mm256_castps_si256(y8),
                            one);
  __m256i sh = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(8 * q));
  return _mm256_and_si256(_mm256_srlv_epi32(w, sh), one);
}

static inline __attribute__((always_inline)) void
invact_bwd_groups(actfit_dtype dt, int D, const plan *pl, const actfit_rt_invact *t, int bit_in_y,
                  const void *yp, const uint32_t *state, const void *go, void *gi, size_t g0,
                  size_t g1)
{
  const __m256 ymh = _mm256_set1_ps(t->ymin_hi), yml = _mm256_set1_ps(t->ymin_lo);
  for (size_t g = g0; g < g1; g++) {
    __m256i w = _mm256_set1_epi32(t->bit && !bit_in_y ? (int)state[g] : 0);
    /* the group's four vectors side by side: independent chains for the Horner steps */
    __m256 yq[4], u[4], acc[4], f[4][REC]; /* f[q][0] = c, [1] = s, [2 + k] = coef[k] */
    for (int q = 0; q < 4; q++) {
      size_t i0 = 32 * g + 8 * (size_t)q;
      __m256 y = yq[q] = load8(dt, yp, i0);
      __m256i s = branch_bit8(dt, t, bit_in_y, yp, i0, y, w, q);
      __m256 d = _mm256_sub_ps(_mm256_sub_ps(y, ymh), yml);
      __m256 tt = _mm256_sqrt_ps(_mm256_max_ps(d, _mm256_setzero_ps()));
      __m256i slot;
      __m256 hv;
      branch_slot(&pl->br[0], y, tt, &slot, &hv);
      if (pl->nbranch == 2) { /* s = 1: left branch (0), s = 0: right (1) */
        __m256i slot1;
        __m256 hv1;
        branch_slot(&pl->br[1], y, tt, &slot1, &hv1);
        __m256i right = _mm256_cmpeq_epi32(s, _mm256_setzero_si256());
        slot = blendi(slot, slot1, right);
        hv = _mm256_blendv_ps(hv, hv1, _mm256_castsi256_ps(right));
      }
      int id[8];
      _mm256_storeu_si256((__m256i *)id, slot);
      for (int i = 0; i < 8; i++)
        f[q][i] = _mm256_load_ps(pl->rec[id[i]]);
      transpose8(f[q]);
      if (D + 3 > 8) {
        for (int i = 0; i < 8; i++)
          f[q][8 + i] = _mm256_load_ps(pl->rec[id[i]] + 8);
        transpose8(f[q] + 8);
      }
      u[q] = _mm256_mul_ps(_mm256_sub_ps(hv, f[q][0]), f[q][1]);
      u[q] = _mm256_and_ps(u[q], _mm256_cmp_ps(u[q], u[q], _CMP_ORD_Q)); /* constants: inf * 0 -> 0 */
      acc[q] = f[q][2];
    }
    for (int k = 1; k <= D; k++)
      for (int q = 0; q < 4; q++)
        acc[q] = _mm256_fmadd_ps(acc[q], u[q], f[q][2 + k]);
    for (int q = 0; q < 4; q++) {
      size_t i0 = 32 * g + 8 * (size_t)q;
      __m256 a = _mm256_blendv_ps(acc[q], yq[q], _mm256_cmp_ps(yq[q], yq[q], _CMP_UNORD_Q)); /* NaN y: y */
      store8(dt, gi, i0, _mm256_mul_ps(load8(dt, go, i0), a));
    }
  }
}


/* ---- forward: f in double, in batches of NB vectors of four lanes (independent chains, so
 * the long Clenshaw and Horner recurrences overlap), the steps of elem.h's actfit_elem_exp,
 * actfit_elem_erfc and actfit_elem_f in the same order ---------------------------------- */
#define NB 4
#define EACH for (int j_ = 0; j_ < NB; j_++)
#define V(a) a[j_]
typedef __m256d vb[NB];

static inline __attribute__((always_inline)) void exp_n(vb x)
{
  static const double c[15] = {ACTFIT_INV_FACTORIAL}; /* 1/14! .. 1/0! */
  const __m256d magic = _mm256_set1_pd(ACTFIT_ROUND_MAGIC);
  const __m256i low = _mm256_set1_epi64x(0xffffffffll);
  vb kb, r, p;
  EACH {
    V(x) = _mm256_max_pd(_mm256_min_pd(V(x), _mm256_set1_pd(710.0)), _mm256_set1_pd(-746.0));
    V(kb) = _mm256_add_pd(_mm256_mul_pd(V(x), _mm256_set1_pd(ACTFIT_LOG2E)), magic);
    __m256d kd = _mm256_sub_pd(V(kb), magic);
    V(r) = _mm256_sub_pd(_mm256_sub_pd(V(x), _mm256_mul_pd(kd, _mm256_set1_pd(ACTFIT_LN2_HI))),
                         _mm256_mul_pd(kd, _mm256_set1_pd(ACTFIT_LN2_LO)));
    V(p) = _mm256_set1_pd(c[1]);
  }
  for (int i = 2; i < 15; i++)
    EACH V(p) = _mm256_add_pd(_mm256_mul_pd(V(p), V(r)), _mm256_set1_pd(c[i]));
  EACH { /* k in the low dword of each lane; k1 = floor(k / 2), k2 = k - k1 */
    __m256i k = _mm256_castpd_si256(V(kb));
    __m256i k1 = _mm256_sub_epi32(_mm256_srai_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(2048)), 1),
                                  _mm256_set1_epi32(1024));
    __m256i k2 = _mm256_sub_epi32(k, k1);
    __m256i e1 = _mm256_slli_epi64(_mm256_and_si256(_mm256_add_epi32(k1, _mm256_set1_epi32(1023)), low), 52);
    __m256i e2 = _mm256_slli_epi64(_mm256_and_si256(_mm256_add_epi32(k2, _mm256_set1_epi32(1023)), low), 52);
    V(x) = _mm256_mul_pd(_mm256_mul_pd(V(p), _mm256_castsi256_pd(e1)), _mm256_castsi256_pd(e2));
  }
}

/* a := erfc(a) */
static inline __attribute__((always_inline)) void erfc_n(vb a)
{
  static const double c[] = {ACTFIT_ERFC_CHEB};
  const int n = (int)(sizeof c / sizeof c[0]) - 1;
  vb z, t, s2, b1, b2, e;
  EACH {
    V(z) = _mm256_andnot_pd(_mm256_set1_pd(-0.0), V(a));
    V(t) = _mm256_div_pd(_mm256_set1_pd(2.0), _mm256_add_pd(_mm256_set1_pd(2.0), V(z)));
    V(s2) = _mm256_mul_pd(_mm256_set1_pd(2.0),
                          _mm256_sub_pd(_mm256_mul_pd(V(t), _mm256_set1_pd(2.0 / (1.0 - ACTFIT_ERFC_TLO))),
                                        _mm256_set1_pd((1.0 + ACTFIT_ERFC_TLO) / (1.0 - ACTFIT_ERFC_TLO))));
    V(b1) = _mm256_setzero_pd();
    V(b2) = _mm256_setzero_pd();
  }
  for (int k = 0; k < n; k++)
    EACH {
      __m256d b = _mm256_add_pd(_mm256_sub_pd(_mm256_mul_pd(V(s2), V(b1)), V(b2)), _mm256_set1_pd(c[k]));
      V(b2) = V(b1);
      V(b1) = b;
    }
  EACH {
    __m256d pv = _mm256_add_pd(_mm256_sub_pd(_mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(0.5), V(s2)), V(b1)), V(b2)),
                               _mm256_set1_pd(c[n]));
    V(e) = _mm256_sub_pd(pv, _mm256_mul_pd(V(z), V(z)));
  }
  exp_n(e);
  EACH {
    __m256d v = _mm256_mul_pd(V(t), V(e));
    V(a) = _mm256_blendv_pd(v, _mm256_sub_pd(_mm256_set1_pd(2.0), v),
                            _mm256_cmp_pd(V(a), _mm256_setzero_pd(), _CMP_LT_OQ));
  }
}

/* x := sigmoid(x) */
static inline __attribute__((always_inline)) void sigmoid_n(vb x)
{
  vb e;
  EACH V(e) = _mm256_xor_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), V(x)), _mm256_set1_pd(-0.0));
  exp_n(e);
  EACH {
    __m256d one = _mm256_set1_pd(1.0), den = _mm256_add_pd(one, V(e));
    V(x) = _mm256_blendv_pd(_mm256_div_pd(V(e), den), _mm256_div_pd(one, den),
                            _mm256_cmp_pd(V(x), _mm256_setzero_pd(), _CMP_GE_OQ));
  }
}

/* x := x * sigmoid(u), with f(+-inf) = +inf or 0 */
static inline __attribute__((always_inline)) void xsig_n(vb x, vb u)
{
  sigmoid_n(u);
  EACH {
    __m256d y = _mm256_mul_pd(V(x), V(u));
    __m256d inf = _mm256_cmp_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), V(x)), _mm256_set1_pd(INFINITY), _CMP_EQ_OQ);
    __m256d lim = _mm256_and_pd(V(x), _mm256_cmp_pd(V(x), _mm256_setzero_pd(), _CMP_GT_OQ));
    V(x) = _mm256_blendv_pd(y, lim, inf);
  }
}

/* x := expm1(x): x q(x) below ln2/2, exp(x) - 1 beyond */
static inline __attribute__((always_inline)) void expm1_n(vb x)
{
  static const double c[15] = {ACTFIT_INV_FACTORIAL}; /* 1/14! .. 1/0! */
  vb e, q;
  EACH {
    V(e) = V(x);
    V(q) = _mm256_set1_pd(c[0]);
  }
  exp_n(e);
  for (int i = 1; i < 14; i++)
    EACH V(q) = _mm256_add_pd(_mm256_mul_pd(V(q), V(x)), _mm256_set1_pd(c[i]));
  EACH {
    __m256d big = _mm256_cmp_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), V(x)), _mm256_set1_pd(0.34657359027997264), _CMP_GE_OQ);
    V(x) = _mm256_blendv_pd(_mm256_mul_pd(V(x), V(q)), _mm256_sub_pd(V(e), _mm256_set1_pd(1.0)), big);
  }
}

/* x := tanh(x) */
static inline __attribute__((always_inline)) void tanh_n(vb x)
{
  vb m;
  EACH V(m) = _mm256_mul_pd(_mm256_set1_pd(-2.0), _mm256_andnot_pd(_mm256_set1_pd(-0.0), V(x)));
  expm1_n(m);
  EACH {
    __m256d t = _mm256_div_pd(_mm256_xor_pd(V(m), _mm256_set1_pd(-0.0)), _mm256_add_pd(_mm256_set1_pd(2.0), V(m)));
    __m256d neg = _mm256_cmp_pd(V(x), _mm256_setzero_pd(), _CMP_LT_OQ);
    t = _mm256_blendv_pd(t, _mm256_xor_pd(t, _mm256_set1_pd(-0.0)), neg);
    __m256d one = _mm256_blendv_pd(_mm256_set1_pd(-1.0), _mm256_set1_pd(1.0), _mm256_cmp_pd(V(x), _mm256_setzero_pd(), _CMP_GT_OQ));
    V(x) = _mm256_blendv_pd(t, one, _mm256_cmp_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), V(x)), _mm256_set1_pd(20.0), _CMP_GT_OQ));
  }
}

/* x := softplus1(x) = x > 0 ? x + log1p(e^-x) : log1p(e^x), log1p as 2 atanh(u / (2 + u)) */
static inline __attribute__((always_inline)) void softplus1_n(vb x)
{
  static const double c[] = {ACTFIT_LOG1P_ATANH};
  vb u, sv, s2, r;
  EACH V(u) = _mm256_xor_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), V(x)), _mm256_set1_pd(-0.0));
  exp_n(u);
  EACH {
    V(sv) = _mm256_div_pd(V(u), _mm256_add_pd(_mm256_set1_pd(2.0), V(u)));
    V(s2) = _mm256_mul_pd(V(sv), V(sv));
    V(r) = _mm256_set1_pd(c[0]);
  }
  for (int i = 1; i < (int)(sizeof c / sizeof c[0]); i++)
    EACH V(r) = _mm256_add_pd(_mm256_mul_pd(V(r), V(s2)), _mm256_set1_pd(c[i]));
  EACH {
    __m256d l = _mm256_mul_pd(V(sv), V(r));
    V(x) = _mm256_blendv_pd(l, _mm256_add_pd(V(x), l), _mm256_cmp_pd(V(x), _mm256_setzero_pd(), _CMP_GT_OQ));
  }
}

static inline __m256d sel(__m256d mask, __m256d a, __m256d b) { return _mm256_blendv_pd(b, a, mask); }
static inline __m256d lt(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
static inline __m256d gt(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
static inline __m256d isinf4(__m256d x)
{
  return _mm256_cmp_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), x), _mm256_set1_pd(INFINITY), _CMP_EQ_OQ);
}
#define C(v) _mm256_set1_pd(v)

/* x := f(x), every case the steps of actfit_elem_f (all 21 built-ins) */
static inline __attribute__((always_inline)) void f_n(int act, const float *pf, vb x)
{
  vb u;
  const __m256d p0 = C(pf[0]), p1 = C(pf[1]), zero = _mm256_setzero_pd();
  switch (act) {
  case ACTFIT_A_GELU:
    EACH V(u) = _mm256_mul_pd(_mm256_xor_pd(V(x), C(-0.0)), C(0.70710678118654752440));
    erfc_n(u);
    EACH {
      __m256d a = _mm256_mul_pd(_mm256_xor_pd(V(x), C(-0.0)), C(0.70710678118654752440));
      __m256d y = _mm256_mul_pd(_mm256_mul_pd(C(0.5), V(x)), V(u));
      y = sel(lt(a, C(-ACTFIT_ERFC_AMAX)), V(x), y);
      V(x) = sel(gt(a, C(ACTFIT_ERFC_AMAX)), C(-0.0), y);
    }
    break;
  case ACTFIT_A_GELU_TANH:
    EACH {
      __m256d c3 = _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(C(0.044715), V(x)), V(x)), V(x));
      V(u) = _mm256_mul_pd(C(2.0 * 0.79788456080286535588), _mm256_add_pd(V(x), c3));
    }
    xsig_n(x, u);
    break;
  case ACTFIT_A_SILU:
    EACH V(u) = V(x);
    xsig_n(x, u);
    break;
  case ACTFIT_A_SIGMOID: sigmoid_n(x); break;
  case ACTFIT_A_MISH:
    EACH V(u) = V(x);
    exp_n(u);
    EACH {
      __m256d n = _mm256_mul_pd(V(u), _mm256_add_pd(V(u), C(2.0)));
      __m256d y = _mm256_mul_pd(V(x), _mm256_div_pd(n, _mm256_add_pd(n, C(2.0))));
      y = sel(gt(V(x), C(20.0)), V(x), y);
      V(x) = sel(isinf4(V(x)), sel(gt(V(x), zero), V(x), zero), y);
    }
    break;
  case ACTFIT_A_ELU:
  case ACTFIT_A_SELU:
    EACH V(u) = V(x);
    expm1_n(u);
    EACH {
      if (act == ACTFIT_A_ELU)
        V(x) = sel(gt(V(x), zero), V(x), _mm256_mul_pd(p0, V(u)));
      else
        V(x) = _mm256_mul_pd(C(1.0507009873554804934),
                             sel(gt(V(x), zero), V(x), _mm256_mul_pd(C(1.6732632423543772848), V(u))));
    }
    break;
  case ACTFIT_A_CELU:
    EACH V(u) = _mm256_div_pd(V(x), p0);
    expm1_n(u);
    EACH V(x) = sel(gt(V(x), zero), V(x), _mm256_mul_pd(p0, V(u)));
    break;
  case ACTFIT_A_TANH: tanh_n(x); break;
  case ACTFIT_A_SOFTPLUS:
    EACH V(u) = _mm256_mul_pd(p0, V(x));
    softplus1_n(u);
    EACH V(x) = sel(gt(_mm256_mul_pd(p0, V(x)), p1), V(x), _mm256_div_pd(V(u), p0));
    break;
  case ACTFIT_A_LOGSIGMOID:
    EACH V(u) = _mm256_xor_pd(V(x), C(-0.0));
    softplus1_n(u);
    EACH V(x) = _mm256_xor_pd(V(u), C(-0.0));
    break;
  case ACTFIT_A_TANHSHRINK: {
    static const double c[] = {ACTFIT_TANHSHRINK_SERIES};
    vb r;
    EACH {
      V(u) = V(x);
      V(r) = C(c[0]);
    }
    tanh_n(u);
    for (int i = 1; i < (int)(sizeof c / sizeof c[0]); i++)
      EACH V(r) = _mm256_add_pd(_mm256_mul_pd(V(r), _mm256_mul_pd(V(x), V(x))), C(c[i]));
    EACH {
      __m256d x2 = _mm256_mul_pd(V(x), V(x));
      __m256d small = lt(_mm256_andnot_pd(C(-0.0), V(x)), C(ACTFIT_TANHSHRINK_SMALL));
      __m256d y = sel(small, _mm256_mul_pd(_mm256_mul_pd(V(x), x2), V(r)), _mm256_sub_pd(V(x), V(u)));
      V(x) = sel(isinf4(V(x)), V(x), y);
    }
    break;
  }
  default: /* the piecewise ones */
    EACH {
      __m256d v = V(x), y;
      switch (act) {
      case ACTFIT_A_SOFTSIGN:
        y = _mm256_div_pd(v, _mm256_add_pd(C(1.0), _mm256_andnot_pd(C(-0.0), v)));
        y = sel(isinf4(v), sel(gt(v, zero), C(1.0), C(-1.0)), y);
        break;
      case ACTFIT_A_HARDSWISH:
        y = sel(lt(v, C(-3.0)), zero, sel(gt(v, C(3.0)), v, _mm256_div_pd(_mm256_mul_pd(v, _mm256_add_pd(v, C(3.0))), C(6.0))));
        break;
      case ACTFIT_A_HARDSIGMOID:
        y = sel(_mm256_cmp_pd(v, C(-3.0), _CMP_LE_OQ), zero,
                sel(_mm256_cmp_pd(v, C(3.0), _CMP_GE_OQ), C(1.0), _mm256_add_pd(_mm256_div_pd(v, C(6.0)), C(0.5))));
        break;
      case ACTFIT_A_HARDTANH: y = sel(lt(v, p0), p0, sel(gt(v, p1), p1, v)); break;
      case ACTFIT_A_RELU: y = sel(gt(v, zero), v, zero); break;
      case ACTFIT_A_RELU6: y = sel(lt(v, zero), zero, sel(gt(v, C(6.0)), C(6.0), v)); break;
      case ACTFIT_A_LEAKY_RELU: y = sel(gt(v, zero), v, _mm256_mul_pd(p0, v)); break;
      case ACTFIT_A_HARDSHRINK:
        y = sel(_mm256_or_pd(gt(v, p0), lt(v, _mm256_xor_pd(p0, C(-0.0)))), v, zero);
        break;
      default: /* ACTFIT_A_SOFTSHRINK */
        y = sel(gt(v, p0), _mm256_sub_pd(v, p0),
                sel(lt(v, _mm256_xor_pd(p0, C(-0.0))), _mm256_add_pd(v, p0), zero));
        break;
      }
      V(x) = y;
    }
    break;
  }
}
#undef C

/* y = f(x) for 4 * NB floats (NB / 2 vectors of eight); NaN x gives x */
static inline __attribute__((always_inline)) void f8_n(int act, const float *pf, const __m256 *x, __m256 *y)
{
  vb d;
  for (int h = 0; h < NB / 2; h++) {
    d[2 * h] = _mm256_cvtps_pd(_mm256_castps256_ps128(x[h]));
    d[2 * h + 1] = _mm256_cvtps_pd(_mm256_extractf128_ps(x[h], 1));
  }
  f_n(act, pf, d);
  for (int h = 0; h < NB / 2; h++) {
    __m256 v = _mm256_set_m128(_mm256_cvtpd_ps(d[2 * h + 1]), _mm256_cvtpd_ps(d[2 * h]));
    y[h] = _mm256_blendv_ps(v, x[h], _mm256_cmp_ps(x[h], x[h], _CMP_UNORD_Q));
  }
}

/* act < 0: the encoder (codes only; y is the framework's and is not touched) */
static inline __attribute__((always_inline)) void
fewbit_fwd_groups(int act, actfit_dtype dt, const actfit_rt_fewbit *t, const void *x, void *y,
                  uint32_t *state, size_t g0, size_t g1)
{
  const int nb = (1 << t->bits) - 1;
  for (size_t g = g0; g < g1; g++) {
    uint32_t w[ACTFIT_RT_MAX_BITS] = {0};
    __m256 xs[4], ys[4];
    for (int q = 0; q < 4; q++)
      xs[q] = load8(dt, x, 32 * g + 8 * (size_t)q);
    for (int q = 0; act >= 0 && q < 4; q += NB / 2)
      f8_n(act, t->params, xs + q, ys + q);
    for (int q = 0; q < 4; q++) {
      size_t i0 = 32 * g + 8 * (size_t)q;
      __m256 xv = xs[q];
      if (act >= 0)
        store8(dt, y, i0, ys[q]);
      __m256 xa = t->parity_even ? _mm256_andnot_ps(_mm256_set1_ps(-0.0f), xv) : xv;
      __m256i c = _mm256_setzero_si256(); /* code: number of borders <= x */
      for (int k = 0; k < nb; k++)
        c = _mm256_sub_epi32(c, _mm256_castps_si256(_mm256_cmp_ps(_mm256_set1_ps(t->borders[k]), xa, _CMP_LE_OQ)));
      for (int j = 0; j < t->bits; j++)
        w[j] |= (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(c, 31 - j))) << (8 * q);
    }
    memcpy(state + g * (size_t)t->bits, w, sizeof(uint32_t) * (size_t)t->bits);
  }
}

/* one loop per activation (f inlined; the dtype is a run-time argument, the loop being
 * compute-bound) */
#define ACTS(X)                                                                             \
  X(ACTFIT_A_GELU) X(ACTFIT_A_GELU_TANH) X(ACTFIT_A_SILU) X(ACTFIT_A_MISH) X(ACTFIT_A_ELU)  \
  X(ACTFIT_A_CELU) X(ACTFIT_A_SELU) X(ACTFIT_A_SIGMOID) X(ACTFIT_A_TANH)                    \
  X(ACTFIT_A_SOFTSIGN) X(ACTFIT_A_TANHSHRINK) X(ACTFIT_A_HARDSWISH) X(ACTFIT_A_HARDSIGMOID) \
  X(ACTFIT_A_HARDTANH) X(ACTFIT_A_RELU) X(ACTFIT_A_RELU6) X(ACTFIT_A_LEAKY_RELU)            \
  X(ACTFIT_A_HARDSHRINK) X(ACTFIT_A_SOFTSHRINK) X(ACTFIT_A_SOFTPLUS) X(ACTFIT_A_LOGSIGMOID)

int actfit__avx2_fewbit_fwd(const actfit_rt_fewbit *t, actfit_dtype dt, const void *x, void *y,
                            uint32_t *state, size_t g0, size_t g1)
{
  switch (y ? t->act : -1) {
  case -1: fewbit_fwd_groups(-1, dt, t, x, NULL, state, g0, g1); return 1; /* encode */
#define CASE(A)                                                                             \
  case A: fewbit_fwd_groups(A, dt, t, x, y, state, g0, g1); return 1;
    ACTS(CASE)
#undef CASE
  default: return 0;
  }
}

/* act < 0: the encoder (y is the framework's: read, and re-stored only with the bit in y) */
static inline __attribute__((always_inline)) void
invact_fwd_groups(int act, actfit_dtype dt, const actfit_rt_invact *t, int bit_in_y,
                  const void *x, void *y, uint32_t *state, size_t g0, size_t g1)
{
  const __m256 T = _mm256_set1_ps(t->T);
  for (size_t g = g0; g < g1; g++) {
    uint32_t w = 0;
    __m256 xs[4], ys[4];
    for (int q = 0; q < 4; q++) {
      xs[q] = load8(dt, x, 32 * g + 8 * (size_t)q);
      ys[q] = act < 0 && bit_in_y ? load8(dt, y, 32 * g + 8 * (size_t)q) : _mm256_setzero_ps();
    }
    for (int q = 0; act >= 0 && q < 4; q += NB / 2)
      f8_n(act, t->params, xs + q, ys + q);
    for (int q = 0; q < 4; q++) {
      size_t i0 = 32 * g + 8 * (size_t)q;
      __m256 xv = xs[q], yv = ys[q];
      unsigned s8 = t->bit ? (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(xv, T, _CMP_LT_OQ)) : 0u;
      w |= (uint32_t)s8 << (8 * q);
      if (!(bit_in_y && t->bit)) {
        if (act >= 0)
          store8(dt, y, i0, yv);
        continue;
      }
      __m256i sv = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)s8), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
                                    _mm256_set1_epi32(1));
      store8_bit(dt, y, i0, yv, sv);
    }
    if (t->bit && !bit_in_y)
      state[g] = w;
  }
}

int actfit__avx2_invact_fwd(const actfit_rt_invact *t, actfit_dtype dt, int flags, int given_y,
                            const void *x, void *y, uint32_t *state, size_t g0, size_t g1)
{
  int biy = (flags & ACTFIT_BIT_IN_Y) != 0;
  switch (given_y ? -1 : t->act) {
  case -1: invact_fwd_groups(-1, dt, t, biy, x, y, state, g0, g1); return 1; /* encode */
#define CASE(A)                                                                             \
  case A: invact_fwd_groups(A, dt, t, biy, x, y, state, g0, g1); return 1;
    ACTS(CASE)
#undef CASE
  default: return 0;
  }
}

/* g for softplus and logsigmoid, 1 - e^(-beta y) and 1 - e^y, in double (actfit_elem_exact) */
static inline __attribute__((always_inline)) __m256 exp_exact8(int ex, const float *p, __m256 y)
{
  vb a;
  a[0] = _mm256_cvtps_pd(_mm256_castps256_ps128(y));
  a[1] = _mm256_cvtps_pd(_mm256_extractf128_ps(y, 1));
  a[2] = a[3] = _mm256_setzero_pd();
  if (ex == ACTFIT_EXACT_SOFTPLUS)
    for (int h = 0; h < 2; h++)
      a[h] = _mm256_mul_pd(_mm256_set1_pd(-(double)p[0]), a[h]);
  expm1_n(a);
  __m256 g = _mm256_xor_ps(_mm256_set_m128(_mm256_cvtpd_ps(a[1]), _mm256_cvtpd_ps(a[0])), _mm256_set1_ps(-0.0f));
  if (ex == ACTFIT_EXACT_SOFTPLUS)
    g = _mm256_blendv_ps(g, _mm256_set1_ps(1.0f),
                         _mm256_cmp_ps(_mm256_mul_ps(_mm256_set1_ps(p[0]), y), _mm256_set1_ps(p[1]), _CMP_GT_OQ));
  return g;
}

/* g for the exact forms (actfit_elem_exact), s the branch bit (0 or 1 per lane) */
static inline __attribute__((always_inline)) __m256 exact8(int ex, const float *p, __m256 y, __m256i s)
{
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  const __m256 pos = _mm256_cmp_ps(y, zero, _CMP_GT_OQ);
  switch (ex) {
  case ACTFIT_EXACT_SIGMOID: return _mm256_mul_ps(y, _mm256_sub_ps(one, y));
  case ACTFIT_EXACT_TANH: return _mm256_mul_ps(_mm256_sub_ps(one, y), _mm256_add_ps(one, y));
  case ACTFIT_EXACT_ELU: return _mm256_blendv_ps(_mm256_add_ps(y, _mm256_set1_ps(p[0])), one, pos);
  case ACTFIT_EXACT_CELU:
    return _mm256_blendv_ps(_mm256_add_ps(_mm256_div_ps(y, _mm256_set1_ps(p[0])), one), one, pos);
  case ACTFIT_EXACT_SELU:
    return _mm256_blendv_ps(_mm256_add_ps(y, _mm256_set1_ps(1.0507009873554805f * 1.6732632423543772f)),
                            _mm256_set1_ps(1.0507009873554805f), pos);
  case ACTFIT_EXACT_SOFTSIGN: {
    __m256 a = _mm256_sub_ps(one, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), y));
    return _mm256_mul_ps(a, a);
  }
  case ACTFIT_EXACT_RELU: return _mm256_and_ps(one, pos);
  case ACTFIT_EXACT_LEAKY_RELU: return _mm256_blendv_ps(_mm256_set1_ps(p[0]), one, pos);
  case ACTFIT_EXACT_RELU6:
    return _mm256_and_ps(one, _mm256_and_ps(pos, _mm256_cmp_ps(y, _mm256_set1_ps(6.0f), _CMP_LT_OQ)));
  case ACTFIT_EXACT_HARDTANH:
    return _mm256_and_ps(one, _mm256_and_ps(_mm256_cmp_ps(y, _mm256_set1_ps(p[0]), _CMP_GT_OQ),
                                            _mm256_cmp_ps(y, _mm256_set1_ps(p[1]), _CMP_LT_OQ)));
  case ACTFIT_EXACT_HARDSIGMOID:
    return _mm256_and_ps(_mm256_set1_ps(1.0f / 6.0f),
                         _mm256_and_ps(pos, _mm256_cmp_ps(y, one, _CMP_LT_OQ)));
  case ACTFIT_EXACT_HARDSWISH: {
    __m256 sm = _mm256_castsi256_ps(_mm256_cmpeq_epi32(s, _mm256_set1_epi32(1)));
    __m256 r = _mm256_mul_ps(_mm256_sqrt_ps(_mm256_max_ps(_mm256_add_ps(_mm256_set1_ps(9.0f), _mm256_mul_ps(_mm256_set1_ps(24.0f), y)), zero)),
                             _mm256_set1_ps(1.0f / 6.0f));
    r = _mm256_blendv_ps(r, _mm256_xor_ps(r, _mm256_set1_ps(-0.0f)), sm);
    r = _mm256_blendv_ps(r, zero, _mm256_and_ps(sm, _mm256_cmp_ps(y, zero, _CMP_GE_OQ)));
    return _mm256_blendv_ps(r, one, _mm256_andnot_ps(sm, _mm256_cmp_ps(y, _mm256_set1_ps(3.0f), _CMP_GT_OQ)));
  }
  case ACTFIT_EXACT_SHRINK: return _mm256_and_ps(one, _mm256_cmp_ps(y, zero, _CMP_NEQ_OQ));
  default: return zero; /* softplus and logsigmoid: exp_exact8 */
  }
}

static inline __attribute__((always_inline)) void
exact_bwd_groups(int ex, actfit_dtype dt, const actfit_rt_invact *t, int bit_in_y, const void *yp,
                 const uint32_t *state, const void *go, void *gi, size_t g0, size_t g1)
{
  for (size_t g = g0; g < g1; g++) {
    __m256i w = _mm256_set1_epi32(t->bit && !bit_in_y ? (int)state[g] : 0);
    for (int q = 0; q < 4; q++) {
      size_t i0 = 32 * g + 8 * (size_t)q;
      __m256 y = load8(dt, yp, i0);
      __m256 g8 = ex == ACTFIT_EXACT_SOFTPLUS || ex == ACTFIT_EXACT_LOGSIGMOID
                      ? exp_exact8(ex, t->params, y)
                      : exact8(ex, t->params, y, branch_bit8(dt, t, bit_in_y, yp, i0, y, w, q));
      g8 = _mm256_blendv_ps(g8, y, _mm256_cmp_ps(y, y, _CMP_UNORD_Q)); /* NaN y: y */
      store8(dt, gi, i0, _mm256_mul_ps(load8(dt, go, i0), g8));
    }
  }
}

#define EXACTS(X)                                                                           \
  X(ACTFIT_EXACT_SIGMOID) X(ACTFIT_EXACT_TANH) X(ACTFIT_EXACT_ELU) X(ACTFIT_EXACT_CELU)       \
  X(ACTFIT_EXACT_SELU) X(ACTFIT_EXACT_SOFTSIGN) X(ACTFIT_EXACT_RELU)                         \
  X(ACTFIT_EXACT_LEAKY_RELU) X(ACTFIT_EXACT_RELU6) X(ACTFIT_EXACT_HARDTANH)                  \
  X(ACTFIT_EXACT_HARDSIGMOID) X(ACTFIT_EXACT_HARDSWISH) X(ACTFIT_EXACT_SHRINK)              \
  X(ACTFIT_EXACT_SOFTPLUS) X(ACTFIT_EXACT_LOGSIGMOID)

int actfit__avx2_invact_bwd(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                            const void *y, const uint32_t *state, const void *go, void *gi,
                            size_t g0, size_t g1)
{
  int biy = (flags & ACTFIT_BIT_IN_Y) != 0;
  switch (t->exact) {
#define CASE(E)                                                                             \
  case E: exact_bwd_groups(E, dt, t, biy, y, state, go, gi, g0, g1); return 1;
    EXACTS(CASE)
#undef CASE
  case ACTFIT_EXACT_NONE: break;
  default: return 0;
  }
  plan pl;
  if (!plan_build(&pl, t))
    return 0;
#define CALL(T, D) invact_bwd_groups(T, D, &pl, t, biy, y, state, go, gi, g0, g1);
  PLAN_DISPATCH(CALL, dt, pl.D)
#undef CALL
  return 1;
}
