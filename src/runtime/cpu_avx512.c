/* AVX-512 loops for the CPU backend: the InvAct backward on fitted tables (compute-bound,
 * it gains most from sixteen lanes), the FewBit backward (its 16-bit conversions were
 * compute-bound on eight lanes), the FewBit code search, and the InvAct fp32 forward's
 * branch bit and bit-in-y store.  In the backward the coefficients of each Horner step
 * come from two-table permutes (vpermt2ps, 32 slots each) instead of the record transposes
 * of cpu_avx2.c.  Compiled with -mavx512f -mavx512bw -mavx512vl and entered only when the
 * CPU has them.  Every stored bit equals elem.h's scalar result (tests/test_runtime.c). */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "runtime/cpu_bit16.h"
#include "runtime/cpu_impl.h"
#include "runtime/cpu_plan.h"

int actfit__avx512_usable(void)
{
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}

int actfit__avx512vbmi2_usable(void)
{
  __builtin_cpu_init();
  return actfit__avx512_usable() && __builtin_cpu_supports("avx512vbmi2");
}

#define CHUNKS ((SLOTS + 31) / 32)

/* the plan's records by field: lev[f][slot] = rec[slot][f], zero beyond the last slot */
typedef struct levels {
  _Alignas(64) float lev[REC][CHUNKS * 32];
} levels;

/* A branch's pieces on a uniform grid in v (the fitter splits intervals in halves, so piece
 * ends fall on multiples of the narrowest width w): the cell floor((v - lo0) / w) names the
 * piece directly, and two compares with the neighbouring ends correct a cell that rounding
 * put one off.  The result is the scalar search's, the first piece with v <= hi. */
typedef struct grid {
  int on; /* 0: the branch keeps the search */
  float lo0, inv, ncell_m1;
  _Alignas(64) int32_t piece[32]; /* cell -> piece */
  _Alignas(64) float hi[32];      /* hi[i], +inf beyond the last piece */
  _Alignas(64) float hi_m1[32];   /* hi[i - 1], -inf for i = 0 */
} grid;

/* A branch's pieces on a uniform grid (the fitter splits intervals in halves): the narrowest
 * piece's width *w, every end within 1e-3 of a cell from a grid point, at most 32 cells;
 * cell[c] = the piece holding cell c's middle.  Returns the number of cells, 0 where the
 * ends are not on such a grid.  grid_build and merged_build share it. */
static int branch_cells(const plan_branch *b, float *w_out, int32_t cell[32])
{
  if (b->np < 1)
    return 0;
  float w = INFINITY, prev = b->lo0;
  for (int i = 0; i < b->np; i++) {
    w = b->hi[i] - prev < w ? b->hi[i] - prev : w;
    prev = b->hi[i];
  }
  double ncell = ((double)b->hi[b->np - 1] - b->lo0) / w;
  if (!(w > 0) || !(ncell < 32.5))
    return 0;
  for (int i = 0; i < b->np; i++) { /* every end on the grid (to 1e-3 of a cell) */
    double c = ((double)b->hi[i] - b->lo0) / w;
    if (fabs(c - nearbyint(c)) > 1e-3)
      return 0;
  }
  int n = (int)nearbyint(ncell);
  for (int c = 0; c < n; c++) {
    float mid = (float)(b->lo0 + (c + 0.5) * (double)w);
    int k = 0;
    while (k < b->np - 1 && b->hi[k] < mid)
      k++;
    cell[c] = k;
  }
  *w_out = w;
  return n;
}

static void grid_build(grid *g, const plan_branch *b)
{
  memset(g, 0, sizeof *g);
  float w;
  int n = b->np < 2 ? 0 : branch_cells(b, &w, g->piece);
  if (n < 1)
    return;
  for (int i = 0; i < 32; i++) {
    g->hi[i] = i < b->np ? b->hi[i] : INFINITY;
    g->hi_m1[i] = i == 0 ? -INFINITY : i - 1 < b->np ? b->hi[i - 1] : INFINITY;
  }
  g->lo0 = b->lo0;
  g->inv = 1.0f / w;
  g->ncell_m1 = (float)(n - 1);
  g->on = 1;
}

/* Both branches' slots in one pass (the common case), instead of branch_slot16 per branch
 * and a blend.  Each branch's pieces lie on a uniform grid of cells (as grid above); the
 * cells of both branches share one 32-entry table, branch 1's after branch 0's and a guard
 * cell, and a lane picks its branch's scale, offset and last cell by s.  The cell is
 * computed a little low (by D_BIAS of a cell: more than the 1e-3 by which an end may miss
 * the grid, plus the rounding), so the piece it names is the right one or the one before,
 * and one compare with that piece's end corrects it; the guard cell (branch 1's first
 * piece) takes what falls below branch 1's first cell.  Past the last piece the count lands
 * on asym_hi (cpu_plan.h's order).
 * The binade branch's slot is one lookup by z = (the bits of y >> 23) - K, saturated at 0
 * and at nb + 1: for y < 0, z = nb - i with i actfit_elem_branch's binade, so 1..nb are the
 * binades, 0 is asym_zero (|y| below the binades, and y >= 0, whose sign bit is clear), and
 * nb + 1 leaves the piece (|y| above them).  The slot is the scalar search's for every y and
 * s: tests/test_runtime.c, and an exhaustive comparison over all 2^32 y of the four fitted
 * tables (docs/benchmarks.md). */
#define D_BIAS 0x1p-7f
typedef struct merged {
  int on, lo_cmp, bb; /* lo_cmp: a lane may lie below its branch's lo0; bb: the binade branch, -1 none */
  int var[2], nb, k;
  float inv[2], add[2], cmax[2], lo0[2];
  int32_t s_lo[2];
  _Alignas(64) int32_t cell[32];  /* cell -> the slot of its piece */
  _Alignas(64) float hi[32];      /* slot -> its piece's hi */
  _Alignas(64) int32_t bslot[32]; /* z -> slot */
} merged;

static void merged_build(merged *m, const plan *pl)
{
  memset(m, 0, sizeof *m);
  m->bb = -1;
  int off = 0;
  for (int b = 0; b < pl->nbranch; b++) {
    const plan_branch *q = &pl->br[b];
    int32_t pc[32];
    float w;
    int n = q->base + q->np + 3 > 32 ? 0 : branch_cells(q, &w, pc);
    if (n < 1)
      return;
    if (b == 1) /* the guard cell */
      m->cell[off++] = q->base;
    if (off + n > 32)
      return;
    for (int c = 0; c < n; c++)
      m->cell[off + c] = q->base + pc[c];
    for (int i = 0; i < q->np; i++)
      m->hi[q->base + i] = q->hi[i];
    m->inv[b] = 1.0f / w;
    m->add[b] = (float)(off - (double)q->lo0 * m->inv[b] - D_BIAS);
    m->cmax[b] = (float)(off + n - 1);
    m->lo0[b] = q->lo0;
    m->var[b] = q->var;
    m->s_lo[b] = q->base + q->np + 1;
    /* t >= 0: below lo0 only where lo0 > 0 (and anywhere for v = y) */
    if (q->var != ACTFIT_VAR_T || q->lo0 > 0)
      m->lo_cmp = 1;
    if (q->nb > 0) {
      /* (K within 16 bits, and at least 256: y >= 0 saturates to 0) */
      if (m->bb >= 0 || q->nb + 2 > 32 || q->top + 126 < q->nb || 256 + q->top + 126 - q->nb > 0xffff)
        return;
      m->bb = b;
      m->nb = q->nb;
      m->k = 256 + q->top + 126 - q->nb;
      m->bslot[0] = q->base + q->np + 2;
      for (int z = 1; z <= q->nb; z++)
        m->bslot[z] = q->bbase + q->nb - z;
    }
    off += n;
  }
  if (pl->nbranch == 1) { /* branch 1's constants are branch 0's */
    m->inv[1] = m->inv[0], m->add[1] = m->add[0], m->cmax[1] = m->cmax[0];
    m->lo0[1] = m->lo0[0], m->var[1] = m->var[0], m->s_lo[1] = m->s_lo[0];
  }
  m->on = 1;
}

/* the slot and the polynomial's variable of sixteen y; r1: the lanes on branch 1 */
static inline __attribute__((always_inline)) void merged_slot16(const merged *m, __mmask16 r1, __m512 y,
                                                                __m512 t, __m512i *slot, __m512 *hv)
{
#define PICK(f) _mm512_mask_blend_ps(r1, _mm512_set1_ps(m->f[0]), _mm512_set1_ps(m->f[1]))
  __m512 v = m->var[0] == m->var[1] ? (m->var[0] == ACTFIT_VAR_T ? t : y)
                                    : _mm512_mask_blend_ps(r1, m->var[0] == ACTFIT_VAR_T ? t : y,
                                                           m->var[1] == ACTFIT_VAR_T ? t : y);
  __m512 c = _mm512_min_ps(_mm512_fmadd_ps(v, PICK(inv), PICK(add)), PICK(cmax)); /* NaN -> cmax */
  __m512i k = _mm512_permutex2var_epi32(_mm512_load_si512(m->cell), _mm512_cvttps_epi32(c),
                                        _mm512_load_si512(m->cell + 16));
  __m512 e = _mm512_permutex2var_ps(_mm512_load_ps(m->hi), k, _mm512_load_ps(m->hi + 16));
  k = _mm512_mask_add_epi32(k, _mm512_cmp_ps_mask(e, v, _CMP_LT_OQ), k, _mm512_set1_epi32(1));
  if (m->lo_cmp)
    k = _mm512_mask_mov_epi32(k, _mm512_cmp_ps_mask(v, PICK(lo0), _CMP_LT_OQ),
                              _mm512_mask_blend_epi32(r1, _mm512_set1_epi32(m->s_lo[0]),
                                                      _mm512_set1_epi32(m->s_lo[1])));
#undef PICK
  if (m->bb >= 0) { /* (the bits >> 23 fit in 16 bits: a 16-bit saturating subtraction) */
    __m512i z = _mm512_subs_epu16(_mm512_srli_epi32(_mm512_castps_si512(y), 23), _mm512_set1_epi32(m->k));
    z = _mm512_min_epu32(z, _mm512_set1_epi32(m->nb + 1));
    __mmask16 in = _mm512_mask_cmpneq_epi32_mask(m->bb == 1 ? r1 : (__mmask16)~r1, z,
                                                 _mm512_set1_epi32(m->nb + 1));
    k = _mm512_mask_mov_epi32(k, in, _mm512_permutex2var_epi32(_mm512_load_si512(m->bslot), z,
                                                               _mm512_load_si512(m->bslot + 16)));
    v = _mm512_castsi512_ps(_mm512_mask_and_epi32(_mm512_castps_si512(v), in, _mm512_castps_si512(y),
                                                  _mm512_set1_epi32(0x7fffffff)));
  }
  /* +-inf to +-FLT_MAX, so that the constants' u = (v - 0) * 0 is 0 (NaN stays NaN) */
  v = _mm512_min_ps(_mm512_set1_ps(3.40282347e38f), v);
  if (m->lo_cmp)
    v = _mm512_max_ps(_mm512_set1_ps(-3.40282347e38f), v);
  *slot = k;
  *hv = v;
}

static inline __attribute__((always_inline)) __m512 load16(actfit_dtype dt, const void *p, size_t i)
{
  if (dt == ACTFIT_FP32)
    return _mm512_loadu_ps((const float *)p + i);
  __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i));
  if (dt == ACTFIT_FP16)
    return _mm512_cvtph_ps(h);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* rounded to the dtype as actfit_f32_to_f16 / actfit_f32_to_bf16 do, NaNs included; nt: fp32
 * by a non-temporal store (cpu_pass.c's actfit__cpu_nt: p 64-byte aligned) */
static inline __attribute__((always_inline)) void store16(actfit_dtype dt, int nt, void *p,
                                                          size_t i, __m512 v)
{
  if (dt == ACTFIT_FP32) {
    if (nt)
      _mm512_stream_ps((float *)p + i, v);
    else
      _mm512_storeu_ps((float *)p + i, v);
    return;
  }
  __m512i x = _mm512_castps_si512(v), r;
  __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  if (dt == ACTFIT_FP16) {
    __m512i h = _mm512_cvtepu16_epi32(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m512i qn = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(0x8000)),
                                 _mm512_set1_epi32(0x7e00));
    r = _mm512_mask_mov_epi32(h, nan, qn);
  } else {
    __m512i odd = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
    __m512i rn = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(x, _mm512_set1_epi32(0x7fff)), odd), 16);
    __m512i qn = _mm512_or_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(0x40));
    r = _mm512_mask_mov_epi32(rn, nan, qn);
  }
  _mm256_storeu_si256((__m256i *)((uint16_t *)p + i), _mm512_cvtepi32_epi16(r));
}

/* The first 32 slots are read by one two-table permute per field; the slots past them in
 * blocks of 16, each by a one-table permute that writes only the lanes whose slots lie in
 * its block (merge masking), over the first's result: one instruction per field and block,
 * where a second 32-slot permute and a blend took two.  The four fitted tables have 40-45
 * slots, so the groups with a lane on a deep binade (slot 32 on; GELU's |y| < 2^-20, x below
 * about -5: most groups of 32 for x ~ N(0, 3^2)) read one block more: GELU's backward took
 * 0.91-0.94 of the time on the Intel Xeon VM (docs/benchmarks.md). */
/* the blocks to read for n slots; BLOCKS: the most */
#define BLOCKS_OF(n) (1 + ((n) > 32 ? ((n) - 32 + 15) / 16 : 0))
#define BLOCKS BLOCKS_OF(SLOTS)
static inline int blocks_of(int nslots) { return BLOCKS_OF(nslots); }

/* sixteen slots, with the lanes in each 16-slot block past the first 32 */
typedef struct slots16 {
  __m512i id;
  __mmask16 in[BLOCKS];
} slots16;

/* CH: how many blocks to read (a constant where the callers can make it one) */
static inline __attribute__((always_inline)) slots16 slots_of(int CH, __m512i id)
{
  slots16 r = {id, {0}};
  for (int c = 1; c < CH; c++) /* block c: slots 16 (c + 1) .. 16 (c + 1) + 15 */
    r.in[c] = _mm512_cmpeq_epi32_mask(_mm512_srli_epi32(id, 4), _mm512_set1_epi32(c + 1));
  return r;
}

/* field f of sixteen slots: the first 32 by a two-table permute, then block by block (a
 * one-table permute reads an index's low 4 bits: the slot within its block) */
static inline __attribute__((always_inline)) __m512 field(int CH, const levels *L, int f, const slots16 *s)
{
  const float *t = L->lev[f];
  __m512 r = _mm512_permutex2var_ps(_mm512_load_ps(t), s->id, _mm512_load_ps(t + 16));
  for (int c = 1; c < CH; c++)
    r = _mm512_mask_permutexvar_ps(r, s->in[c], s->id, _mm512_load_ps(t + 16 * (c + 1)));
  return r;
}

/* the slot and the polynomial's variable for sixteen y of one branch (actfit_elem_branch) */
static inline __attribute__((always_inline)) void branch_slot16(const plan_branch *b, const grid *gr,
                                                                __m512 y, __m512 t, __m512i *slot,
                                                                __m512 *hv)
{
  const __m512i one = _mm512_set1_epi32(1);
  __m512 v = b->var == ACTFIT_VAR_T ? t : y;
  __m512i k;
  if (gr->on) { /* the piece from the cell, then the first with v <= hi */
    __m512 c = _mm512_mul_ps(_mm512_sub_ps(v, _mm512_set1_ps(gr->lo0)), _mm512_set1_ps(gr->inv));
    c = _mm512_min_ps(_mm512_max_ps(c, _mm512_setzero_ps()), _mm512_set1_ps(gr->ncell_m1));
    __m512i p = _mm512_permutex2var_epi32(_mm512_load_si512(gr->piece), _mm512_cvttps_epi32(c),
                                          _mm512_load_si512(gr->piece + 16));
    __m512 e = _mm512_permutex2var_ps(_mm512_load_ps(gr->hi), p, _mm512_load_ps(gr->hi + 16));
    p = _mm512_mask_add_epi32(p, _mm512_cmp_ps_mask(e, v, _CMP_LT_OQ), p, one);
    e = _mm512_permutex2var_ps(_mm512_load_ps(gr->hi_m1), p, _mm512_load_ps(gr->hi_m1 + 16));
    p = _mm512_mask_sub_epi32(p, _mm512_cmp_ps_mask(v, e, _CMP_LE_OQ), p, one);
    k = _mm512_add_epi32(p, _mm512_set1_epi32(b->base));
  } else {
    k = _mm512_set1_epi32(b->base);
    for (int i = 0; i < b->np; i++) /* k += (hi_i < v) */
      k = _mm512_mask_add_epi32(k, _mm512_cmp_ps_mask(_mm512_set1_ps(b->hi[i]), v, _CMP_LT_OQ), k, one);
  }
  const int s_hi = b->base + b->np, s_lo = s_hi + 1, s_zero = s_hi + 2; /* past the last piece: s_hi */
  k = _mm512_mask_mov_epi32(k, _mm512_cmp_ps_mask(v, _mm512_set1_ps(b->lo0), _CMP_LT_OQ), _mm512_set1_epi32(s_lo));
  if (b->nb > 0) {
    __m512 ay = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(y), _mm512_set1_epi32(0x7fffffff)));
    __m512i eb = _mm512_srli_epi32(_mm512_castps_si512(ay), 23);
    __m512i e = _mm512_mask_mov_epi32(_mm512_sub_epi32(eb, _mm512_set1_epi32(126)),
                                      _mm512_cmpeq_epi32_mask(eb, _mm512_setzero_si512()), _mm512_set1_epi32(-1000));
    __m512i i = _mm512_sub_epi32(_mm512_set1_epi32(b->top), e);
    __mmask16 inb = _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_LT_OQ) &
                    _mm512_cmpgt_epi32_mask(i, _mm512_set1_epi32(-1));
    __m512i bs = _mm512_mask_mov_epi32(_mm512_add_epi32(i, _mm512_set1_epi32(b->bbase)),
                                       _mm512_cmpgt_epi32_mask(i, _mm512_set1_epi32(b->nb - 1)), _mm512_set1_epi32(s_zero));
    k = _mm512_mask_mov_epi32(k, inb, bs);
    v = _mm512_mask_mov_ps(v, inb, ay);
    k = _mm512_mask_mov_epi32(k, _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_GE_OQ), _mm512_set1_epi32(s_zero));
  }
  *slot = k;
  *hv = v;
}

/* g = go * (the polynomial at the slots) for NH halves of groups from group g on (NH = 2:
 * one group, 4: two, whose Horner chains then overlap), reading CH blocks */
static inline __attribute__((always_inline)) void
horner16(actfit_dtype dt, int D, int CH, int NH, int FIX, const levels *L, const __m512 *y,
         const __m512i *slot, const __m512 *hv, const void *go, int nt, void *gi, size_t g)
{
  __m512 u[4], acc[4];
  slots16 sl[4];
  for (int h = 0; h < NH; h++) {
    sl[h] = slots_of(CH, slot[h]);
    u[h] = _mm512_mul_ps(_mm512_sub_ps(hv[h], field(CH, L, 0, &sl[h])), field(CH, L, 1, &sl[h]));
    if (FIX) /* inf * 0 -> 0 (merged_slot16 clamps v instead) */
      u[h] = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(u[h], u[h], _CMP_ORD_Q), u[h]);
    acc[h] = field(CH, L, 2, &sl[h]);
  }
  for (int k = 1; k <= D; k++)
    for (int h = 0; h < NH; h++)
      acc[h] = _mm512_fmadd_ps(acc[h], u[h], field(CH, L, 2 + k, &sl[h]));
  for (int h = 0; h < NH; h++) {
    size_t i0 = 32 * g + 16 * (size_t)h;
    /* NaN in, NaN out: merged_slot16's v carries a NaN y into u and Horner (D >= 1) */
    __m512 a = FIX || D == 0 ? _mm512_mask_mov_ps(acc[h], _mm512_cmp_ps_mask(y[h], y[h], _CMP_UNORD_Q), y[h])
                             : acc[h];
    store16(dt, nt, gi, i0, _mm512_mul_ps(load16(dt, go, i0), a));
  }
}

/* NG groups from group g (NG = 1 or 2): slots, then Horner; bit_in_y only where t->bit;
 * MG: the merged slot search (merged_slot16) instead of one search per branch */
static inline __attribute__((always_inline)) void
step16(actfit_dtype dt, int D, int CH, int NG, int MG, const plan *pl, const levels *L,
       const grid *gr, const merged *mg, const actfit_rt_invact *t, int bit_in_y,
       const void *yp, const uint32_t *state, const void *go, int nt, void *gi, size_t g)
{
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512 ymh = _mm512_set1_ps(t->ymin_hi), yml = _mm512_set1_ps(t->ymin_lo);
  __m512 y[4], hv[4];
  __m512i slot[4];
  __mmask16 deep = 0;
  for (int h = 0; h < 2 * NG; h++) {
    size_t i0 = 32 * g + 16 * (size_t)h;
    y[h] = load16(dt, yp, i0);
    __m512 d = _mm512_sub_ps(_mm512_sub_ps(y[h], ymh), yml);
    if (MG) {
      /* r1: the lanes with s = 0, on branch 1 (none with one branch) */
      __mmask16 r1;
      if (pl->nbranch < 2)
        r1 = 0;
      else if (!t->bit)
        r1 = 0xffff;
      else if (!bit_in_y)
        r1 = (__mmask16)~(state[g + (size_t)h / 2] >> (16 * (h % 2)));
      else if (dt == ACTFIT_FP32)
        r1 = _mm512_testn_epi32_mask(_mm512_castps_si512(y[h]), one);
      else if (dt == ACTFIT_BF16)
        r1 = _mm512_testn_epi32_mask(_mm512_castps_si512(y[h]), _mm512_set1_epi32(1 << 16));
      else
        r1 = _mm256_testn_epi16_mask(_mm256_loadu_si256((const __m256i *)((const uint16_t *)yp + i0)),
                                     _mm256_set1_epi16(1));
      /* max(0, d) keeps a NaN d */
      merged_slot16(mg, r1, y[h], _mm512_sqrt_ps(_mm512_max_ps(_mm512_setzero_ps(), d)), &slot[h], &hv[h]);
    } else {
      __m512i s; /* the branch bit, 0 or 1 per lane */
      if (!t->bit)
        s = _mm512_setzero_si512();
      else if (bit_in_y)
        s = _mm512_and_si512(dt == ACTFIT_BF16 ? _mm512_srli_epi32(_mm512_castps_si512(y[h]), 16)
                             : dt == ACTFIT_FP16 ? _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)((const uint16_t *)yp + i0)))
                                                 : _mm512_castps_si512(y[h]),
                             one);
      else
        s = _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32((int)state[g + (size_t)h / 2]),
                                               _mm512_add_epi32(lane, _mm512_set1_epi32(16 * (h % 2)))),
                             one);
      __m512 tt = _mm512_sqrt_ps(_mm512_max_ps(d, _mm512_setzero_ps()));
      branch_slot16(&pl->br[0], &gr[0], y[h], tt, &slot[h], &hv[h]);
      if (pl->nbranch == 2) { /* s = 1: left branch (0), s = 0: right (1) */
        __m512i slot1;
        __m512 hv1;
        branch_slot16(&pl->br[1], &gr[1], y[h], tt, &slot1, &hv1);
        __mmask16 right = _mm512_cmpeq_epi32_mask(s, _mm512_setzero_si512());
        slot[h] = _mm512_mask_mov_epi32(slot[h], right, slot1);
        hv[h] = _mm512_mask_mov_ps(hv[h], right, hv1);
      }
    }
    if (CH > 1)
      deep |= _mm512_cmpge_epi32_mask(slot[h], _mm512_set1_epi32(32));
  }
  /* the slots past the first 32 (the deep binades): their blocks only for groups that have
   * a lane there */
  if (CH > 1 && deep)
    horner16(dt, D, CH, 2 * NG, !MG, L, y, slot, hv, go, nt, gi, g);
  else
    horner16(dt, D, 1, 2 * NG, !MG, L, y, slot, hv, go, nt, gi, g);
}

/* fp32 y and grad_out are fetched this many floats (4 KiB) ahead, every line: 3-10% on this
 * VM, where a core runs about ten cache-line misses at a time, with one line of four 1 KiB
 * ahead; every line 4 KiB ahead took 0.97 (GELU) and 0.89 (SiLU) of that time
 * (docs/benchmarks.md) */
#define BWD_PF 1024
/* groups [g0, g1): one at a time with the merged search (two at a time, four Horner chains
 * in flight, kept more coefficient rows and chains live than the 32 registers hold: on AMD
 * Zen 4 one at a time took 0.80 (GELU) and 0.89-0.99 (SiLU) of the time in cache, 0.92
 * and 0.95 past it); two at a time with the per-branch search */
static inline __attribute__((always_inline)) void
groups16(actfit_dtype dt, int D, int CH, const plan *pl, const levels *L, const grid *gr,
         const merged *mg, const actfit_rt_invact *t, int bit_in_y, const void *yp,
         const uint32_t *state, const void *go, int nt, void *gi, size_t g0, size_t g1)
{
  int biy = t->bit && bit_in_y;
  size_t g = g0;
  if (mg->on) {
    for (; g < g1; g++) {
      if (dt == ACTFIT_FP32 && (g - g0) % 2 == 0) {
        for (int l = 0; l < 64; l += 16) { /* every line of this group's and the next's */
          __builtin_prefetch((const float *)yp + 32 * g + BWD_PF + l, 0, 3);
          __builtin_prefetch((const float *)go + 32 * g + BWD_PF + l, 0, 3);
        }
      }
      step16(dt, D, CH, 1, 1, pl, L, gr, mg, t, biy, yp, state, go, nt, gi, g);
    }
    return;
  }
  for (; g + 1 < g1; g += 2)
    step16(dt, D, CH, 2, 0, pl, L, gr, mg, t, biy, yp, state, go, nt, gi, g);
  for (; g < g1; g++)
    step16(dt, D, CH, 1, 0, pl, L, gr, mg, t, biy, yp, state, go, nt, gi, g);
}

int actfit__avx512_invact_bwd(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                              const void *y, const uint32_t *state, const void *go, int nt,
                              void *gi, size_t g0, size_t g1)
{
  plan pl;
  levels L;
  if (!plan_build(&pl, t))
    return 0;
  memset(L.lev, 0, sizeof L.lev);
  for (int f = 0; f < REC; f++)
    for (int i = 0; i < pl.nslots; i++)
      L.lev[f][i] = pl.rec[i][f];
  int blocks = blocks_of(pl.nslots);
  grid gr[2];
  for (int b = 0; b < 2; b++)
    grid_build(&gr[b], &pl.br[b]);
  if (pl.nbranch < 2)
    gr[1].on = 0;
  merged mg;
  merged_build(&mg, &pl);
  int biy = (flags & ACTFIT_BIT_IN_Y) != 0;
  /* the block count as a constant up to 48 slots (the four fitted tables have 40-45).
   * Beyond, the count and the degree are variables: a SiLU fit to 3e-8 (49 slots) takes 1.04
   * times as long as when 33-64 slots read two 32-slot chunks as constants.  A third
   * constant case, inlined here or called from here, changed how the compiler allocated
   * the registers of the loops above, and SiLU's and Mish's backwards ran 4-8% slower
   * (Intel Xeon VM). */
#define CALL(T, D) groups16(T, D, CH, &pl, &L, gr, &mg, t, biy, y, state, go, nt, gi, g0, g1);
  if (blocks == 1) {
    const int CH = 1;
    PLAN_DISPATCH(CALL, dt, pl.D)
  } else if (blocks == 2) {
    const int CH = 2;
    PLAN_DISPATCH(CALL, dt, pl.D)
  } else {
    const int CH = blocks;
    PLAN_DT(CALL, dt, pl.D)
  }
#undef CALL
  return 1;
}

/* ---- FewBit backward: sixteen codes at a time from the planes' bits as masks --------- */

static inline __attribute__((always_inline)) void
fewbit_bwd_groups16(int bits, actfit_dtype dt, const actfit_rt_fewbit *t, const uint32_t *state,
                    const void *go, int nt, void *gi, size_t g0, size_t g1)
{
  _Alignas(64) float tab[32] = {0};
  memcpy(tab, t->levels, sizeof(float) * (size_t)((1 << bits) < 32 ? (1 << bits) : 32));
  const __m512 t0 = _mm512_load_ps(tab), t1 = _mm512_load_ps(tab + 16);
  for (size_t g = g0; g < g1; g++) {
    const uint32_t *w = state + g * (size_t)bits;
    for (int h = 0; h < 2; h++) {
      __m512i c = _mm512_setzero_si512();
      for (int j = 0; j < bits; j++) /* bit i of plane j is bit j of lane i's code */
        c = _mm512_mask_or_epi32(c, (__mmask16)(w[j] >> (16 * h)), c, _mm512_set1_epi32(1 << j));
      __m512 lev = bits <= 4   ? _mm512_permutexvar_ps(c, t0)
                   : bits == 5 ? _mm512_permutex2var_ps(t0, c, t1)
                               : _mm512_i32gather_ps(c, t->levels, 4);
      size_t i = 32 * g + 16 * (size_t)h;
      store16(dt, nt, gi, i, _mm512_mul_ps(load16(dt, go, i), lev));
    }
  }
}

void actfit__avx512_fewbit_bwd(const actfit_rt_fewbit *t, actfit_dtype dt, const uint32_t *state,
                               const void *go, int nt, void *gi, size_t g0, size_t g1)
{
  /* the widths and the dtype as constants, so the plane loop unrolls */
#define BWD(B)                                                                              \
  case B:                                                                                   \
    if (dt == ACTFIT_FP32)                                                                  \
      fewbit_bwd_groups16(B, ACTFIT_FP32, t, state, go, nt, gi, g0, g1);                    \
    else if (dt == ACTFIT_FP16)                                                             \
      fewbit_bwd_groups16(B, ACTFIT_FP16, t, state, go, nt, gi, g0, g1);                    \
    else                                                                                    \
      fewbit_bwd_groups16(B, ACTFIT_BF16, t, state, go, nt, gi, g0, g1);                    \
    break;
  switch (t->bits) {
    BWD(1) BWD(2) BWD(3) BWD(4) BWD(5) BWD(6) BWD(7) BWD(8)
  }
#undef BWD
}

/* ---- InvAct backward, fp16 / bf16, from the table of g (cpu_lut.c's ACTFIT__LUT_G) ---- */

static inline __attribute__((always_inline)) void
lut_bwd_groups16(actfit_dtype dt, const actfit_rt_invact *t, int bit_in_y, const float *lut,
                 const void *yp, const uint32_t *state, const void *go, void *gi, size_t g0,
                 size_t g1)
{
  const __m512i one = _mm512_set1_epi32(1), s_row = _mm512_set1_epi32(1 << 16);
  for (size_t g = g0; g < g1; g++) {
    uint32_t w = t->bit && !bit_in_y ? state[g] : 0u;
    for (int q = 0; q < 2; q++) {
      size_t i0 = 32 * g + 16 * (size_t)q;
      __m512i h = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)((const uint16_t *)yp + i0)));
      /* the row of branch s: [s * 65536 + y] */
      __m512i idx = !t->bit ? h
                    : bit_in_y ? _mm512_or_si512(h, _mm512_slli_epi32(_mm512_and_si512(h, one), 16))
                               : _mm512_mask_or_epi32(h, (__mmask16)(w >> (16 * q)), h, s_row);
      __m512 a = _mm512_i32gather_ps(idx, lut, 4);
      store16(dt, 0, gi, i0, _mm512_mul_ps(load16(dt, go, i0), a));
    }
  }
}

void actfit__avx512_invact_bwd_lut(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                                   const float *lut, const void *y, const uint32_t *state,
                                   const void *go, void *gi, size_t g0, size_t g1)
{
  int biy = (flags & ACTFIT_BIT_IN_Y) != 0;
  if (dt == ACTFIT_FP16)
    lut_bwd_groups16(ACTFIT_FP16, t, biy, lut, y, state, go, gi, g0, g1);
  else
    lut_bwd_groups16(ACTFIT_BF16, t, biy, lut, y, state, go, gi, g0, g1);
}

/* ---- FewBit forward and encoder, fp16 / bf16, from the table of every 16-bit x -------- */

/* with_y: the table holds the stored y | code << 16 (ACTFIT__LUT_Y_CODES), else the code
 * (ACTFIT__LUT_CODES, the encoder: y is not touched) */
static inline __attribute__((always_inline)) void
fewbit_fwd_lut16(int bits, int with_y, const int32_t *clut, const void *x, void *y,
                 uint32_t *state, size_t g0, size_t g1)
{
  for (size_t g = g0; g < g1; g++) {
    uint32_t w[ACTFIT_RT_MAX_BITS] = {0};
    for (int q = 0; q < 2; q++) {
      size_t i0 = 32 * g + 16 * (size_t)q;
      __m512i h = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)((const uint16_t *)x + i0)));
      __m512i e = _mm512_i32gather_epi32(h, clut, 4), c = e;
      if (with_y) {
        _mm256_storeu_si256((__m256i *)((uint16_t *)y + i0), _mm512_cvtepi32_epi16(e));
        c = _mm512_srli_epi32(e, 16);
      }
      for (int j = 0; j < bits; j++)
        w[j] |= (uint32_t)_mm512_test_epi32_mask(c, _mm512_set1_epi32(1 << j)) << (16 * q);
    }
    put_words(state + g * (size_t)bits, w, bits);
  }
}

void actfit__avx512_fewbit_fwd_lut16(int bits, int with_y, const int32_t *clut, const void *x,
                                     void *y, uint32_t *state, size_t g0, size_t g1)
{
#define FWD(B)                                                                              \
  case B:                                                                                   \
    if (with_y)                                                                             \
      fewbit_fwd_lut16(B, 1, clut, x, y, state, g0, g1);                                    \
    else                                                                                    \
      fewbit_fwd_lut16(B, 0, clut, x, y, state, g0, g1);                                    \
    break;
  switch (bits) {
    FWD(1) FWD(2) FWD(3) FWD(4) FWD(5) FWD(6) FWD(7) FWD(8)
  }
#undef FWD
}

/* ---- InvAct forward, fp16 / bf16, from the table of every 16-bit x ------------------- */

/* slut: the stored y bits of every x, with s in the last bit or without
 * (ACTFIT__LUT_STORED_BIT, ACTFIT__LUT_STORED); s = (x < T) is kept as a state word unless
 * it rides in y */
static inline __attribute__((always_inline)) void
invact_fwd_lut16(actfit_dtype dt, const actfit_rt_invact *t, int keep, const uint32_t *slut,
                 const void *x, void *y, uint32_t *state, size_t g0, size_t g1)
{
  const __m512 T = _mm512_set1_ps(t->T);
  for (size_t g = g0; g < g1; g++) {
    uint32_t w = 0;
    for (int q = 0; q < 2; q++) {
      size_t i0 = 32 * g + 16 * (size_t)q;
      __m256i raw = _mm256_loadu_si256((const __m256i *)((const uint16_t *)x + i0));
      __m512i h = _mm512_cvtepu16_epi32(raw);
      __m512i b = _mm512_i32gather_epi32(h, slut, 4);
      _mm256_storeu_si256((__m256i *)((uint16_t *)y + i0), _mm512_cvtepi32_epi16(b));
      if (keep) {
        __m512 xv = dt == ACTFIT_FP16 ? _mm512_cvtph_ps(raw)
                                      : _mm512_castsi512_ps(_mm512_slli_epi32(h, 16));
        w |= (uint32_t)_mm512_cmp_ps_mask(xv, T, _CMP_LT_OQ) << (16 * q);
      }
    }
    if (keep)
      state[g] = w;
  }
}

void actfit__avx512_invact_fwd_lut16(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                                     const uint32_t *slut, const void *x, void *y,
                                     uint32_t *state, size_t g0, size_t g1)
{
  int keep = t->bit && !(flags & ACTFIT_BIT_IN_Y);
  if (dt == ACTFIT_FP16)
    invact_fwd_lut16(ACTFIT_FP16, t, keep, slut, x, y, state, g0, g1);
  else
    invact_fwd_lut16(ACTFIT_BF16, t, keep, slut, x, y, state, g0, g1);
}

/* ---- y of an fp32 forward past the cache ------------------------------------------------
 * Two 8 KiB buffers in L1 taken in turn: fs computes a chunk of y into one while it streams
 * the other, filled by the previous call and finished since (its bit or codes added), to
 * memory by non-temporal stores (actfit__f32s_fn, cpu_fwd.h); ybuf_flush stores the last. */
typedef struct ybuf {
  _Alignas(64) float buf[2][32 * 64];
  const float *pend; /* the chunk not yet stored: pend[0 .. pn) for y + py */
  size_t pn, py;
  unsigned turn;
} ybuf;

/* (not an initialiser, which would clear the buffers too) */
static inline void ybuf_start(ybuf *b)
{
  b->pend = NULL, b->pn = 0, b->py = 0, b->turn = 0;
}

/* the next buffer, for the m <= 64 groups from group g; the previous one stays in pend
 * (*pend, *pn, *py: what the caller streams out meanwhile) until this one is filled */
static inline __attribute__((always_inline)) float *ybuf_next(ybuf *b, size_t g, size_t m,
                                                              const float **pend, size_t *pn,
                                                              size_t *py)
{
  float *cur = b->buf[b->turn++ % 2];
  *pend = b->pend, *pn = b->pn, *py = b->py;
  b->pend = cur, b->pn = 32 * m, b->py = 32 * g;
  return cur;
}

/* y = f(x) for the m <= 64 groups from group g into the next buffer, which it returns */
static inline __attribute__((always_inline)) float *ybuf_fill(ybuf *b, actfit__f32s_fn fs,
                                                              const float *pf, const float *x,
                                                              float *y, size_t g, size_t m)
{
  const float *pend;
  size_t pn, py;
  float *cur = ybuf_next(b, g, m, &pend, &pn, &py);
  fs(pf, x + 32 * g, cur, 32 * m, pend, y + py, pn);
  return cur;
}

static inline __attribute__((always_inline)) void ybuf_flush(const ybuf *b, float *y)
{
  for (size_t k = 0; k < b->pn; k += 16)
    _mm512_stream_ps(y + b->py + k, _mm512_load_ps(b->pend + k));
}

/* y for groups [g0, g1) by a DIR row's fused forward fx (actfit__f32x_fn), 64 groups at a
 * time, through the two buffers (nt) or straight to y; e.out (the whole pass's, NULL for
 * none) advances `words` per group */
static void fwd_fused(actfit__f32x_fn fx, actfit__fwd_extra e, int words, const float *pf,
                      int nt, const float *x, float *y, size_t g0, size_t g1)
{
  uint32_t *out = e.out;
  ybuf yb;
  ybuf_start(&yb);
  for (size_t g = g0; g < g1; g += 64) {
    size_t m = g1 - g < 64 ? g1 - g : 64;
    e.out = out ? out + (size_t)words * g : NULL;
    if (!nt) {
      fx(pf, x + 32 * g, y + 32 * g, 32 * m, NULL, NULL, 0, &e);
      continue;
    }
    const float *pend;
    size_t pn, py;
    float *cur = ybuf_next(&yb, g, m, &pend, &pn, &py);
    fx(pf, x + 32 * g, cur, 32 * m, pend, y + py, pn, &e);
  }
  if (nt)
    ybuf_flush(&yb, y);
}

/* ---- FewBit forward, fp32: the code of sixteen x at a time --------------------------- */

/* the number of borders <= xa (the borders strictly increasing, checked): a binary search,
 * step k comparing the border at c + 2^k - 1 (from one permute of up to 16 borders, two of
 * up to 32, a gather beyond) and adding 2^k where it is <= xa.  That counts what the scalar
 * code counts; a NaN compares false throughout (code 0). */
static inline __attribute__((always_inline)) __m512i code16(int bits, const actfit_rt_fewbit *t,
                                                            __m512 xa, __m512 b0, __m512 b1)
{
  __m512i c = _mm512_setzero_si512();
  for (int step = 1 << (bits - 1); step >= 1; step >>= 1) {
    __m512i i = _mm512_add_epi32(c, _mm512_set1_epi32(step - 1));
    __m512 b = bits <= 4 ? _mm512_permutexvar_ps(i, b0)
               : bits == 5 ? _mm512_permutex2var_ps(b0, i, b1)
                           : _mm512_i32gather_ps(i, t->borders, 4);
    c = _mm512_mask_add_epi32(c, _mm512_cmp_ps_mask(b, xa, _CMP_LE_OQ), c, _mm512_set1_epi32(step));
  }
  return c;
}

static inline __attribute__((always_inline)) void
fewbit_fwd16(int bits, const actfit_rt_fewbit *t, actfit__f32_fn f, int nt, const float *x,
             float *y, uint32_t *state, size_t g0, size_t g1)
{
  float b[32] = {0};
  for (int k = 0; k < 32 && k < (1 << bits) - 1; k++)
    b[k] = t->borders[k];
  const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
  const int even = t->parity_even;
  /* 1 and 2 bits: the codes from the loop that computes y where there is one (cpu_fwd.h's
   * DIR rows) */
  actfit__f32x_fn fx = f && bits <= 2 ? actfit__cpu_f32x(t->act, ACTFIT__X_CODES1 + bits - 1) : NULL;
  if (fx) {
    fwd_fused(fx, (actfit__fwd_extra){state, b, 0.0f, even}, bits, t->params, nt, x, y, g0, g1);
    return;
  }
  /* nt: y through the two buffers (ybuf) */
  actfit__f32s_fn fs = nt && f ? actfit__cpu_f32s(t->act) : NULL;
  ybuf yb;
  ybuf_start(&yb);
  for (size_t c = g0; c < g1; c += 64) { /* y = f(x) 64 groups at a time, then the codes */
    size_t m = g1 - c < 64 ? g1 - c : 64;
    if (fs)
      ybuf_fill(&yb, fs, t->params, x, y, c, m);
    else if (f)
      f(t->params, x + 32 * c, y + 32 * c, 32 * m);
    if (bits <= 2) { /* bit 1 is border 1's compare, bit 0 one against border 2 or 0 (as
                      * cpu_fwd.h's FWD_CODES) */
      const __m512 c0 = _mm512_set1_ps(b[0]), c1 = _mm512_set1_ps(b[1]), c2 = _mm512_set1_ps(b[2]);
      for (size_t g = c; g < c + m; g++) {
        uint32_t w[2] = {0, 0};
        for (int h = 0; h < 2; h++) {
          __m512 xv = _mm512_loadu_ps(x + 32 * g + 16 * (size_t)h);
          if (even)
            xv = _mm512_abs_ps(xv);
          if (bits == 1) {
            w[0] |= (uint32_t)_mm512_cmp_ps_mask(c0, xv, _CMP_LE_OQ) << (16 * h);
            continue;
          }
          __mmask16 m1 = _mm512_cmp_ps_mask(c1, xv, _CMP_LE_OQ);
          __mmask16 lo = _mm512_cmp_ps_mask(_mm512_mask_blend_ps(m1, c0, c2), xv, _CMP_LE_OQ);
          w[0] |= (uint32_t)lo << (16 * h);
          w[1] |= (uint32_t)m1 << (16 * h);
        }
        put_words(state + g * (size_t)bits, w, bits);
      }
      continue;
    }
    for (size_t g = c; g < c + m; g++) {
      uint32_t w[ACTFIT_RT_MAX_BITS];
      for (int j = 0; j < bits; j++)
        w[j] = 0;
      for (int h = 0; h < 2; h++) {
        __m512 xv = _mm512_loadu_ps(x + 32 * g + 16 * (size_t)h);
        if (even)
          xv = _mm512_abs_ps(xv);
        __m512i cd = code16(bits, t, xv, b0, b1);
        for (int j = 0; j < bits; j++)
          w[j] |= (uint32_t)_mm512_test_epi32_mask(cd, _mm512_set1_epi32(1 << j)) << (16 * h);
      }
      put_words(state + g * (size_t)bits, w, bits);
    }
  }
  if (fs)
    ybuf_flush(&yb, y);
}

void actfit__avx512_fewbit_fwd_f32(const actfit_rt_fewbit *t, actfit__f32_fn f, int nt,
                                   const float *x, float *y, uint32_t *state, size_t g0,
                                   size_t g1)
{
  switch (t->bits) { /* the width as a constant, so the search and the stores unroll */
  case 1: fewbit_fwd16(1, t, f, nt, x, y, state, g0, g1); break;
  case 2: fewbit_fwd16(2, t, f, nt, x, y, state, g0, g1); break;
  case 3: fewbit_fwd16(3, t, f, nt, x, y, state, g0, g1); break;
  case 4: fewbit_fwd16(4, t, f, nt, x, y, state, g0, g1); break;
  case 5: fewbit_fwd16(5, t, f, nt, x, y, state, g0, g1); break;
  case 6: fewbit_fwd16(6, t, f, nt, x, y, state, g0, g1); break;
  case 7: fewbit_fwd16(7, t, f, nt, x, y, state, g0, g1); break;
  default: fewbit_fwd16(8, t, f, nt, x, y, state, g0, g1); break;
  }
}

/* ---- InvAct forward, fp32 --------------------------------------------------------------- */

void actfit__avx512_invact_fwd_f32(const actfit_rt_invact *t, int flags, actfit__f32_fn f, int nt,
                                   const float *x, float *y, uint32_t *state, size_t g0, size_t g1)
{
  const int bit_in_y = (flags & ACTFIT_BIT_IN_Y) && t->bit, keep = t->bit && !(flags & ACTFIT_BIT_IN_Y);
  const __m512 T = _mm512_set1_ps(t->T);
  /* (a loop of its own: one loop picking buf or y per group measured 5-37% slower with the
   * bit in y) */
  actfit__f32s_fn fs = nt && f ? actfit__cpu_f32s(t->act) : NULL;
  /* the bit kept apart, or in y, by the loop that computes y where it can (a second loop
   * over x took 8% of the SiLU forward's time past the cache, AMD Zen 4; the bit in y only
   * where it pays, cpu_table_fwd.h's name##_D_BIY) */
  int kind = keep ? ACTFIT__X_BIT : bit_in_y ? ACTFIT__X_BIT_IN_Y : -1;
  actfit__f32x_fn fx = f && kind >= 0 ? actfit__cpu_f32x(t->act, kind) : NULL;
  if (fx) {
    fwd_fused(fx, (actfit__fwd_extra){keep ? state : NULL, NULL, t->T, 0}, keep, t->params, nt,
              x, y, g0, g1);
    return;
  }
  if (fs) { /* y through the two buffers (ybuf), 64 groups at a time, its bit added there */
    ybuf yb;
    ybuf_start(&yb);
    for (size_t g = g0; g < g1; g += 64) {
      size_t m = g1 - g < 64 ? g1 - g : 64;
      float *cur = ybuf_fill(&yb, fs, t->params, x, y, g, m);
      if (!t->bit)
        continue;
      for (size_t k = 0; k < m; k++) {
        __mmask16 s[2];
        for (int h = 0; h < 2; h++) {
          size_t i = 32 * k + 16 * (size_t)h;
          s[h] = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + 32 * g + i), T, _CMP_LT_OQ);
          if (bit_in_y)
            _mm512_store_si512((void *)(cur + i), store_bit16(_mm512_load_ps(cur + i), s[h]));
        }
        if (keep)
          state[g + k] = (uint32_t)s[0] | (uint32_t)s[1] << 16;
      }
    }
    ybuf_flush(&yb, y);
    return;
  }
  for (size_t g = g0; g < g1; g++) {
    if (f && (g - g0) % 64 == 0) /* y = f(x) a chunk of 64 groups (8 KiB) at a time */
      f(t->params, x + 32 * g, y + 32 * g, 32 * (g1 - g < 64 ? g1 - g : 64));
    if (!t->bit)
      continue;
    __mmask16 s[2];
    for (int h = 0; h < 2; h++)
      s[h] = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + 32 * g + 16 * (size_t)h), T, _CMP_LT_OQ);
    if (keep)
      state[g] = (uint32_t)s[0] | (uint32_t)s[1] << 16;
    if (bit_in_y)
      for (int h = 0; h < 2; h++) {
        float *yp = y + 32 * g + 16 * (size_t)h;
        _mm512_storeu_si512(yp, store_bit16(_mm512_loadu_ps(yp), s[h]));
      }
  }
}
