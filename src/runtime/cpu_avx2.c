/* AVX2 (+FMA, F16C) loops for all four passes of the CPU backend: eight floats per
 * instruction (f in the forward comes from cpu_fwd_avx2.c or cpu_fwd_avx512.c).  Compiled with -mavx2 -mfma -mf16c and
 * entered only when the CPU has them (actfit__avx2_usable).  Every stored bit equals what
 * the scalar element math of kernels/elem.h stores, NaN encodings included: the same
 * operations in the same order, lane by lane.  tests/test_runtime.c checks this for every
 * activation, width, dtype, bit placement and committed InvAct table.
 *
 * Layout: load/store helpers; FewBit backward; InvAct backward (fitted pieces); the forward
 * passes; InvAct backward (exact forms) and its entry. */
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "runtime/cpu_impl.h"
#include "runtime/cpu_lanes_avx2.h"
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

/* y with the branch bit s (0 or 1 per lane) in its last bit: actfit_elem_store_*.
 * The fp32 bit-in-y rule, the vector loops' form of actfit_elem_store_f32 (elem.h), which
 * this function and cpu_avx512.c's store_bit16 implement: for fp32, y is its own stored
 * value p, so the spacing to p - 1 is never larger than the one to p + 1, and the choice
 * "one unit towards y, towards zero on a tie" reduces to integer tests: keep p when its last
 * bit is s or p is a NaN (magnitude above 0x7f800000); else p + 1 for +-0; else p - 1.
 * Equal to the scalar function for all 2^32 patterns and both s (checked once by a
 * throwaway loop); tests/test_runtime.c compares the loops with it on a sample of every
 * class. */
static inline __attribute__((always_inline)) void store8_bit(actfit_dtype dt, void *p, size_t i,
                                                             __m256 y, __m256i s)
{
  const __m256i one = _mm256_set1_epi32(1);
  if (dt == ACTFIT_FP32) { /* the fp32 bit-in-y rule above */
    if (__builtin_expect(!_mm256_movemask_ps(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_EQ_UQ)), 1)) {
      /* no zero and no NaN (as nearly always): p less one where its last bit is not s */
      __m256i pb = _mm256_castps_si256(y);
      _mm256_storeu_si256((__m256i *)((float *)p + i),
                          _mm256_sub_epi32(pb, _mm256_and_si256(_mm256_xor_si256(pb, s), one)));
      return;
    }
    __m256i pb = _mm256_castps_si256(y), mag = _mm256_and_si256(pb, _mm256_set1_epi32(0x7fffffff));
    __m256i up = _mm256_cmpeq_epi32(mag, _mm256_setzero_si256());
    __m256i moved = _mm256_blendv_epi8(_mm256_sub_epi32(pb, one), _mm256_add_epi32(pb, one), up);
    __m256i keep = _mm256_or_si256(_mm256_cmpeq_epi32(_mm256_and_si256(pb, one), s),
                                   _mm256_cmpgt_epi32(mag, _mm256_set1_epi32(0x7f800000)));
    _mm256_storeu_si256((__m256i *)((float *)p + i), _mm256_blendv_epi8(moved, pb, keep));
    return;
  }
  /* 16-bit: p is y rounded, and may sit on either side of it */
  __m256i pb = bits16(dt, y), mag = _mm256_and_si256(pb, _mm256_set1_epi32(0x7fff));
  __m256i lim = _mm256_set1_epi32(dt == ACTFIT_FP16 ? 0x7bff : 0x7f7f);
  __m256 vm = from16(dt, _mm256_and_si256(_mm256_sub_epi32(pb, one), _mm256_set1_epi32(0xffff)));
  __m256 vp = from16(dt, _mm256_add_epi32(pb, one));
  const __m256 nanv = _mm256_set1_ps(NAN);
  vm = _mm256_blendv_ps(vm, nanv, _mm256_castsi256_ps(_mm256_cmpeq_epi32(mag, _mm256_setzero_si256())));
  vp = _mm256_blendv_ps(nanv, vp, _mm256_castsi256_ps(_mm256_cmpgt_epi32(lim, mag)));
  __m256 up = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(vp, y)),
                            _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(vm, y)), _CMP_LT_OQ);
  up = _mm256_blendv_ps(up, _mm256_castsi256_ps(_mm256_setzero_si256()), _mm256_cmp_ps(vp, vp, _CMP_UNORD_Q));
  up = _mm256_blendv_ps(up, _mm256_castsi256_ps(_mm256_set1_epi32(-1)), _mm256_cmp_ps(vm, vm, _CMP_UNORD_Q));
  __m256i moved = _mm256_blendv_epi8(_mm256_sub_epi32(pb, one), _mm256_add_epi32(pb, one), _mm256_castps_si256(up));
  /* a NaN (magnitude above the infinity's) is kept, whatever s */
  __m256i inf = _mm256_set1_epi32(dt == ACTFIT_FP16 ? 0x7c00 : 0x7f80);
  __m256i keep = _mm256_or_si256(_mm256_cmpeq_epi32(_mm256_and_si256(pb, one), s),
                                 _mm256_cmpgt_epi32(mag, inf));
  __m256i r = _mm256_blendv_epi8(moved, pb, keep);
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

static inline __m256i blendi(__m256i a, __m256i b, __m256i m) { return _mm256_blendv_epi8(a, b, m); }

/* the slots and the polynomial's variables for a group's four vectors of y (and t) on one
 * branch (actfit_elem_branch): the count of piece ends below v runs over the four vectors at
 * once, one broadcast per piece end for four independent compares */
static inline __attribute__((always_inline)) void branch_slots(const plan_branch *b, const __m256 *y,
                                                               const __m256 *t, __m256i *slot,
                                                               __m256 *hv)
{
  __m256 v[4];
  __m256i k[4];
  for (int q = 0; q < 4; q++) {
    v[q] = b->var == ACTFIT_VAR_T ? t[q] : y[q];
    k[q] = _mm256_set1_epi32(b->base);
  }
  for (int i = 0; i < b->np; i++) { /* k += (hi_i < v) */
    __m256 h = _mm256_set1_ps(b->hi[i]);
    for (int q = 0; q < 4; q++)
      k[q] = _mm256_sub_epi32(k[q], _mm256_castps_si256(_mm256_cmp_ps(h, v[q], _CMP_LT_OQ)));
  }
  /* past the last piece: s_hi; below the first: s_lo = s_hi + 1, which a count of 0 reaches
   * by adding np + 1 (no piece end is below v there: plan_build checks hi_0 >= lo0).  In the
   * binades, i = top - e with e = eb - 126 from y's exponent bits eb; a zero or subnormal y
   * (eb = 0, elem.h's e = -1000) goes past the last binade, as does i > nb - 1: eb = 0 is the
   * one i above top + 125, so one compare with the smaller bound finds both (and i = top +
   * 126 >= 0 there: plan_build checks top >= -126) */
  const int s_zero = b->base + b->np + 2;
  const int zcut = b->nb > 0 && b->top + 125 < b->nb - 1 ? b->top + 125 : b->nb - 1; /* top: checked where nb > 0 */
  for (int q = 0; q < 4; q++) {
    k[q] = _mm256_add_epi32(k[q], _mm256_and_si256(_mm256_set1_epi32(b->np + 1),
                                                   _mm256_castps_si256(_mm256_cmp_ps(
                                                       v[q], _mm256_set1_ps(b->lo0), _CMP_LT_OQ))));
    if (b->nb > 0) {
      __m256 ay = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), y[q]);
      __m256i eb = _mm256_srli_epi32(_mm256_castps_si256(ay), 23);
      __m256i i = _mm256_sub_epi32(_mm256_set1_epi32(b->top + 126), eb);
      __m256i ge0 = _mm256_castps_si256(_mm256_cmp_ps(y[q], _mm256_setzero_ps(), _CMP_GE_OQ));
      __m256i inb = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(y[q], _mm256_setzero_ps(), _CMP_LT_OQ)),
                                     _mm256_cmpgt_epi32(i, _mm256_set1_epi32(-1)));
      /* asym_zero for y >= 0 and past the last binade; binade i's slot in between */
      __m256i bs = blendi(_mm256_add_epi32(i, _mm256_set1_epi32(b->bbase)), _mm256_set1_epi32(s_zero),
                          _mm256_or_si256(ge0, _mm256_cmpgt_epi32(i, _mm256_set1_epi32(zcut))));
      k[q] = blendi(k[q], bs, _mm256_or_si256(inb, ge0));
      v[q] = _mm256_blendv_ps(v[q], ay, _mm256_castsi256_ps(inb));
    }
    slot[q] = k[q];
    hv[q] = v[q];
  }
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

_Static_assert(REC * sizeof(float) == 64, "invact_bwd_groups: a record is 64 bytes");
static inline __attribute__((always_inline)) void
invact_bwd_groups(actfit_dtype dt, int D, const plan *pl, const actfit_rt_invact *t, int bit_in_y,
                  const void *yp, const uint32_t *state, const void *go, void *gi, size_t g0,
                  size_t g1)
{
  const __m256 ymh = _mm256_set1_ps(t->ymin_hi), yml = _mm256_set1_ps(t->ymin_lo);
  for (size_t g = g0; g < g1; g++) {
    __m256i w = _mm256_set1_epi32(t->bit && !bit_in_y ? (int)state[g] : 0);
    /* the group's four vectors side by side: independent chains for the Horner steps */
    __m256 yq[4], tq[4], hv[4], u[4], acc[4], f[4][REC]; /* f[q][0] = c, [1] = s, [2 + k] = coef[k] */
    __m256i sq[4], slot[4];
    for (int q = 0; q < 4; q++) {
      size_t i0 = 32 * g + 8 * (size_t)q;
      __m256 y = yq[q] = load8(dt, yp, i0);
      sq[q] = branch_bit8(dt, t, bit_in_y, yp, i0, y, w, q);
      __m256 d = _mm256_sub_ps(_mm256_sub_ps(y, ymh), yml);
      tq[q] = _mm256_sqrt_ps(_mm256_max_ps(d, _mm256_setzero_ps()));
    }
    branch_slots(&pl->br[0], yq, tq, slot, hv);
    if (pl->nbranch == 2) { /* s = 1: left branch (0), s = 0: right (1) */
      __m256i slot1[4];
      __m256 hv1[4];
      branch_slots(&pl->br[1], yq, tq, slot1, hv1);
      for (int q = 0; q < 4; q++) {
        __m256i right = _mm256_cmpeq_epi32(sq[q], _mm256_setzero_si256());
        slot[q] = blendi(slot[q], slot1[q], right);
        hv[q] = _mm256_blendv_ps(hv[q], hv1[q], _mm256_castsi256_ps(right));
      }
    }
    for (int q = 0; q < 4; q++) {
      /* the rows the polynomial reads, of 64-byte records */
      lane_rows((const char *)pl->rec, _mm256_slli_epi32(slot[q], 6), D + 3, f[q]);
      u[q] = _mm256_mul_ps(_mm256_sub_ps(hv[q], f[q][0]), f[q][1]);
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


/* ---- forward: y from elem.h's float math, vectorised by gcc (cpu_fwd.h) -------------- */

#define CHUNK 64 /* groups per call of f when it writes fp32 y directly (8 KiB of x) */

/* y = f(x) for a group's four vectors: from the table of every 16-bit x when there is one
 * (x16 the group's raw fp16 / bf16 elements), else computed */
static inline __attribute__((always_inline)) void f32_group(actfit__f32_fn f, const float *pf,
                                                             const __m256 *xs, __m256 *ys)
{
  _Alignas(32) float xb[32], yb[32];
  for (int q = 0; q < 4; q++)
    _mm256_store_ps(xb + 8 * q, xs[q]);
  f(pf, xb, yb, 32);
  for (int q = 0; q < 4; q++)
    ys[q] = _mm256_load_ps(yb + 8 * q);
}

/* The FewBit code of eight x (|x| for even parity): the number of borders <= x.  Up to 15
 * borders by compares (as cheap here as a search with permutes); beyond, a binary search
 * over the (strictly increasing, checked) borders, which counts the same: step k gathers
 * the border at c + 2^k - 1 and adds 2^k where it is <= x.  A NaN x compares false
 * throughout, code 0, as the count gives. */
static inline __attribute__((always_inline)) __m256i code8(int bits, const actfit_rt_fewbit *t, __m256 xa)
{
  __m256i c = _mm256_setzero_si256();
  if (bits <= 4) {
    for (int k = 0; k < (1 << bits) - 1; k++)
      c = _mm256_sub_epi32(c, _mm256_castps_si256(_mm256_cmp_ps(_mm256_set1_ps(t->borders[k]), xa, _CMP_LE_OQ)));
    return c;
  }
  for (int step = 1 << (bits - 1); step >= 1; step >>= 1) {
    __m256 b = _mm256_i32gather_ps(t->borders, _mm256_add_epi32(c, _mm256_set1_epi32(step - 1)), 4);
    __m256i le = _mm256_castps_si256(_mm256_cmp_ps(b, xa, _CMP_LE_OQ));
    c = _mm256_add_epi32(c, _mm256_and_si256(le, _mm256_set1_epi32(step)));
  }
  return c;
}

/* f NULL: the encoder (codes only; y is the framework's and is not touched) */
static inline __attribute__((always_inline)) void
fewbit_fwd_groups(actfit__f32_fn f, const int32_t *clut, actfit_dtype dt, int bits,
                  const actfit_rt_fewbit *t, const void *x, void *y, uint32_t *state, size_t g0,
                  size_t g1)
{
  const int direct = f && dt == ACTFIT_FP32; /* y = f(x) straight into y, a chunk at a time */
  for (size_t g = g0; g < g1; g++) {
    if (direct && (g - g0) % CHUNK == 0) {
      size_t m = g1 - g < CHUNK ? g1 - g : CHUNK;
      f(t->params, (const float *)x + 32 * g, (float *)y + 32 * g, 32 * m);
    }
    uint32_t w[ACTFIT_RT_MAX_BITS] = {0};
    if (f && clut && dt != ACTFIT_FP32) { /* y's bits and the code from one table */
      for (int q = 0; q < 4; q++) {
        size_t i0 = 32 * g + 8 * (size_t)q;
        __m256i e = _mm256_i32gather_epi32((const int *)clut, _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)x + i0))), 4);
        _mm_storeu_si128((__m128i *)((uint16_t *)y + i0), pack16(_mm256_and_si256(e, _mm256_set1_epi32(0xffff))));
        __m256i c = _mm256_srli_epi32(e, 16);
        for (int j = 0; j < bits; j++)
          w[j] |= (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(c, 31 - j))) << (8 * q);
      }
      put_words(state + g * (size_t)bits, w, bits);
      continue;
    }
    __m256 xs[4], ys[4] = {0}; /* (ys set where it is read: {0} for gcc's flow analysis) */
    for (int q = 0; q < 4; q++)
      xs[q] = load8(dt, x, 32 * g + 8 * (size_t)q);
    if (f && !direct)
      f32_group(f, t->params, xs, ys);
    for (int q = 0; q < 4; q++) {
      size_t i0 = 32 * g + 8 * (size_t)q;
      __m256 xv = xs[q];
      if (f && !direct)
        store8(dt, y, i0, ys[q]);
      __m256 xa = t->parity_even ? _mm256_andnot_ps(_mm256_set1_ps(-0.0f), xv) : xv;
      if (bits == 2 && !clut) { /* bit 1 border 1's compare, bit 0 one against border 2 where
                                 * it is set and border 0 where not (cpu_fwd.h's FWD_CODES) */
        __m256 hi = _mm256_cmp_ps(_mm256_set1_ps(t->borders[1]), xa, _CMP_LE_OQ);
        __m256 b = _mm256_blendv_ps(_mm256_set1_ps(t->borders[0]), _mm256_set1_ps(t->borders[2]), hi);
        w[0] |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(b, xa, _CMP_LE_OQ)) << (8 * q);
        w[1] |= (uint32_t)_mm256_movemask_ps(hi) << (8 * q);
      } else {
        __m256i c = clut ? _mm256_i32gather_epi32((const int *)clut, _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)x + i0))), 4)
                         : code8(bits, t, xa); /* code: number of borders <= x */
        for (int j = 0; j < bits; j++)
          w[j] |= (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(c, 31 - j))) << (8 * q);
      }
    }
    put_words(state + g * (size_t)bits, w, bits);
  }
}

void actfit__avx2_fewbit_fwd(const actfit_rt_fewbit *t, actfit_dtype dt, actfit__f32_fn f,
                             const int32_t *clut, const void *x, void *y,
                             uint32_t *state, size_t g0, size_t g1)
{
  /* the widths as constants, so the code and the state stores unroll */
#define FB_FWD(DT, LUT)                                                                     \
  switch (t->bits) {                                                                        \
  case 1: fewbit_fwd_groups(f, LUT, DT, 1, t, x, y, state, g0, g1); break;                  \
  case 2: fewbit_fwd_groups(f, LUT, DT, 2, t, x, y, state, g0, g1); break;                  \
  case 3: fewbit_fwd_groups(f, LUT, DT, 3, t, x, y, state, g0, g1); break;                  \
  case 4: fewbit_fwd_groups(f, LUT, DT, 4, t, x, y, state, g0, g1); break;                  \
  default: fewbit_fwd_groups(f, LUT, DT, t->bits, t, x, y, state, g0, g1); break;           \
  }
  if (dt == ACTFIT_FP32)
    FB_FWD(ACTFIT_FP32, NULL)
  else if (dt == ACTFIT_FP16)
    FB_FWD(ACTFIT_FP16, clut)
  else
    FB_FWD(ACTFIT_BF16, clut)
#undef FB_FWD
}

/* f NULL: the encoder (y is the framework's: read, and re-stored only with the bit in y) */
static inline __attribute__((always_inline)) void
invact_fwd_groups(actfit__f32_fn f, const uint32_t *slut, actfit_dtype dt,
                  const actfit_rt_invact *t, int bit_in_y, const void *x, void *y, uint32_t *state,
                  size_t g0, size_t g1)
{
  if (f && slut && dt != ACTFIT_FP32) { /* the stored bits by table */
    const __m256 T = _mm256_set1_ps(t->T);
    for (size_t g = g0; g < g1; g++) {
      uint32_t w = 0;
      for (int q = 0; q < 4; q++) {
        size_t i0 = 32 * g + 8 * (size_t)q;
        __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)x + i0)));
        __m256i b = _mm256_i32gather_epi32((const int *)slut, h, 4);
        _mm_storeu_si128((__m128i *)((uint16_t *)y + i0), pack16(b));
        if (t->bit && !bit_in_y)
          w |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(from16(dt, h), T, _CMP_LT_OQ)) << (8 * q);
      }
      if (t->bit && !bit_in_y)
        state[g] = w;
    }
    return;
  }
  const __m256 T = _mm256_set1_ps(t->T);
  const int direct = f && dt == ACTFIT_FP32; /* y straight into y; the bit, if any, then moved in */
  for (size_t g = g0; g < g1; g++) {
    if (direct && (g - g0) % CHUNK == 0) {
      size_t m = g1 - g < CHUNK ? g1 - g : CHUNK;
      f(t->params, (const float *)x + 32 * g, (float *)y + 32 * g, 32 * m);
    }
    uint32_t w = 0;
    __m256 xs[4], ys[4];
    for (int q = 0; q < 4; q++) {
      xs[q] = load8(dt, x, 32 * g + 8 * (size_t)q);
      ys[q] = (!f || direct) && bit_in_y ? load8(dt, y, 32 * g + 8 * (size_t)q) : _mm256_setzero_ps();
    }
    if (f && !direct)
      f32_group(f, t->params, xs, ys);
    for (int q = 0; q < 4; q++) {
      size_t i0 = 32 * g + 8 * (size_t)q;
      __m256 xv = xs[q], yv = ys[q];
      unsigned s8 = t->bit ? (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(xv, T, _CMP_LT_OQ)) : 0u;
      w |= (uint32_t)s8 << (8 * q);
      if (!(bit_in_y && t->bit)) {
        if (f && !direct)
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

void actfit__avx2_invact_fwd(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                             actfit__f32_fn f, const uint32_t *slut,
                             const void *x, void *y, uint32_t *state, size_t g0, size_t g1)
{
  int biy = (flags & ACTFIT_BIT_IN_Y) != 0;
  if (dt == ACTFIT_FP32)
    invact_fwd_groups(f, NULL, ACTFIT_FP32, t, biy, x, y, state, g0, g1);
  else if (dt == ACTFIT_FP16)
    invact_fwd_groups(f, slut, ACTFIT_FP16, t, biy, x, y, state, g0, g1);
  else
    invact_fwd_groups(f, slut, ACTFIT_BF16, t, biy, x, y, state, g0, g1);
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
    /* s with y >= 0 (x <= -3) gives 0 whatever r is: those lanes compute with y = 0, since
     * their stored y is the smallest subnormal (y = 0 with the bit in y), and 24 y would
     * then take a slow subnormal multiply on every such element */
    __m256 zs = _mm256_and_ps(sm, _mm256_cmp_ps(y, zero, _CMP_GE_OQ));
    __m256 yr = _mm256_andnot_ps(zs, y);
    __m256 r = _mm256_mul_ps(_mm256_sqrt_ps(_mm256_max_ps(_mm256_add_ps(_mm256_set1_ps(9.0f), _mm256_mul_ps(_mm256_set1_ps(24.0f), yr)), zero)),
                             _mm256_set1_ps(1.0f / 6.0f));
    r = _mm256_blendv_ps(r, _mm256_xor_ps(r, _mm256_set1_ps(-0.0f)), sm);
    r = _mm256_blendv_ps(r, zero, zs);
    return _mm256_blendv_ps(r, one, _mm256_andnot_ps(sm, _mm256_cmp_ps(y, _mm256_set1_ps(3.0f), _CMP_GT_OQ)));
  }
  case ACTFIT_EXACT_SHRINK: return _mm256_and_ps(one, _mm256_cmp_ps(y, zero, _CMP_NEQ_OQ));
  default: return zero; /* softplus and logsigmoid: exp_exact_bwd */
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
      __m256 g8 = exact8(ex, t->params, y, branch_bit8(dt, t, bit_in_y, yp, i0, y, w, q));
      g8 = _mm256_blendv_ps(g8, y, _mm256_cmp_ps(y, y, _CMP_UNORD_Q)); /* NaN y: y */
      store8(dt, gi, i0, _mm256_mul_ps(load8(dt, go, i0), g8));
    }
  }
}

#define EXACTS(X)                                                                           \
  X(ACTFIT_EXACT_SIGMOID) X(ACTFIT_EXACT_TANH) X(ACTFIT_EXACT_ELU) X(ACTFIT_EXACT_CELU)       \
  X(ACTFIT_EXACT_SELU) X(ACTFIT_EXACT_SOFTSIGN) X(ACTFIT_EXACT_RELU)                         \
  X(ACTFIT_EXACT_LEAKY_RELU) X(ACTFIT_EXACT_RELU6) X(ACTFIT_EXACT_HARDTANH)                  \
  X(ACTFIT_EXACT_HARDSIGMOID) X(ACTFIT_EXACT_HARDSWISH) X(ACTFIT_EXACT_SHRINK)

/* softplus and logsigmoid (no branch bit): g from gfn, elem.h's float math vectorised by gcc
 * (cpu_fwd.h), a chunk of groups at a time; y as float first where it is 16-bit */
static void exp_exact_bwd(actfit__f32_fn gfn, actfit_dtype dt, const actfit_rt_invact *t,
                          const void *yp, const void *go, void *gi, size_t g0, size_t g1)
{
  _Alignas(32) float yb[32 * CHUNK], gb[32 * CHUNK];
  for (size_t g = g0; g < g1; g += CHUNK) {
    size_t m = 32 * (g1 - g < CHUNK ? g1 - g : CHUNK), i0 = 32 * g;
    const float *yf = (const float *)yp + i0;
    if (dt != ACTFIT_FP32) {
      for (size_t i = 0; i < m; i += 8)
        _mm256_store_ps(yb + i, load8(dt, yp, i0 + i));
      yf = yb;
    }
    gfn(t->params, yf, gb, m);
    for (size_t i = 0; i < m; i += 8) {
      __m256 y = _mm256_loadu_ps(yf + i);
      __m256 g8 = _mm256_blendv_ps(_mm256_load_ps(gb + i), y, _mm256_cmp_ps(y, y, _CMP_UNORD_Q)); /* NaN y: y */
      store8(dt, gi, i0 + i, _mm256_mul_ps(load8(dt, go, i0 + i), g8));
    }
  }
}

int actfit__avx2_invact_bwd(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                            actfit__f32_fn gfn, const void *y, const uint32_t *state,
                            const void *go, void *gi, size_t g0, size_t g1)
{
  int biy = (flags & ACTFIT_BIT_IN_Y) != 0;
  switch (t->exact) {
  case ACTFIT_EXACT_SOFTPLUS:
  case ACTFIT_EXACT_LOGSIGMOID:
    if (!gfn || t->bit)
      return 0;
    exp_exact_bwd(gfn, dt, t, y, go, gi, g0, g1);
    return 1;
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

/* g from the table of every 16-bit y and branch bit (cpu_lut.c's ACTFIT__LUT_G) */
static inline __attribute__((always_inline)) void
lut_bwd_groups(actfit_dtype dt, const actfit_rt_invact *t, int bit_in_y, const float *lut,
               const void *yp, const uint32_t *state, const void *go, void *gi, size_t g0,
               size_t g1)
{
  const __m256i one = _mm256_set1_epi32(1), lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (size_t g = g0; g < g1; g++) {
    __m256i w = _mm256_set1_epi32(t->bit && !bit_in_y ? (int)state[g] : 0);
    for (int q = 0; q < 4; q++) {
      size_t i0 = 32 * g + 8 * (size_t)q;
      __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)yp + i0)));
      __m256i s = !t->bit ? _mm256_setzero_si256()
                  : bit_in_y ? _mm256_and_si256(h, one)
                             : _mm256_and_si256(_mm256_srlv_epi32(w, _mm256_add_epi32(lane, _mm256_set1_epi32(8 * q))), one);
      __m256 a = _mm256_i32gather_ps(lut, _mm256_or_si256(h, _mm256_slli_epi32(s, 16)), 4);
      store8(dt, gi, i0, _mm256_mul_ps(load8(dt, go, i0), a));
    }
  }
}

void actfit__avx2_invact_bwd_lut(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                                 const float *lut, const void *y, const uint32_t *state,
                                 const void *go, void *gi, size_t g0, size_t g1)
{
  int biy = (flags & ACTFIT_BIT_IN_Y) != 0;
  if (dt == ACTFIT_FP16)
    lut_bwd_groups(ACTFIT_FP16, t, biy, lut, y, state, go, gi, g0, g1);
  else
    lut_bwd_groups(ACTFIT_BF16, t, biy, lut, y, state, go, gi, g0, g1);
}
