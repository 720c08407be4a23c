/* The CPU backend's loops (cpu_pass.h): per-element math from kernels/elem.h (the GPU's
 * arithmetic), over 32-element groups so that codes pack into the shared bit-plane layout.
 * Full groups go to the AVX2 / AVX-512 loops where the CPU has them; the scalar loops take
 * the rest (a partial last group, or everything without AVX2). */
#include <stdatomic.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cpu_pass.h"
#if defined(ACTFIT_HAVE_AVX2)
#include <immintrin.h> /* _mm_sfence */
#endif

/* ---- dtype load/store ---------------------------------------------------------------- */

static inline float load(actfit_dtype dt, const void *p, size_t i)
{
  switch (dt) {
  case ACTFIT_FP16: return actfit_f16_to_f32(((const uint16_t *)p)[i]);
  case ACTFIT_BF16: return actfit_bf16_to_f32(((const uint16_t *)p)[i]);
  default: return ((const float *)p)[i];
  }
}

static inline void store(actfit_dtype dt, void *p, size_t i, float v)
{
  switch (dt) {
  case ACTFIT_FP16: ((uint16_t *)p)[i] = actfit_f32_to_f16(v); break;
  case ACTFIT_BF16: ((uint16_t *)p)[i] = actfit_f32_to_bf16(v); break;
  default: ((float *)p)[i] = v; break;
  }
}

/* y with s in its last bit, as the dtype's bits */
static inline void store_bit(actfit_dtype dt, void *p, size_t i, float v, int s)
{
  switch (dt) {
  case ACTFIT_FP16: ((uint16_t *)p)[i] = actfit_elem_store_f16(v, s); break;
  case ACTFIT_BF16: ((uint16_t *)p)[i] = actfit_elem_store_bf16(v, s); break;
  default: ((float *)p)[i] = actfit_elem_store_f32(v, s); break;
  }
}

/* ---- the vector loops this CPU runs ----------------------------------------------------- */

#if defined(ACTFIT_HAVE_AVX2)
int actfit__cpu_simd(void)
{
  static int known = -1;
  int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (v < 0) {
    v = actfit__avx2_usable() ? 1 + 2 * actfit__avx512_usable() : 0;
#if defined(ACTFIT_HAVE_VBMI2)
    if (v == 3)
      v += 4 * actfit__avx512vbmi2_usable();
#endif
    __atomic_store_n(&known, v, __ATOMIC_RELAXED);
  }
  const char *cap = getenv("ACTFIT_SIMD");
  if (cap && !strcmp(cap, "scalar"))
    return 0;
  if (cap && !strcmp(cap, "avx2"))
    return v & 1;
  if (cap && !strcmp(cap, "avx512"))
    return v & 3;
  return v;
}

static int avx2(void) { return actfit__cpu_simd() & 1; }
static int avx512(void) { return (actfit__cpu_simd() & 2) != 0; }
#if defined(ACTFIT_HAVE_VBMI2)
static int vbmi2(void) { return (actfit__cpu_simd() & 4) != 0; }
#endif

/* the full groups of [g0, g1) go to a vector loop; the rest (a partial last group, or
 * everything without AVX2) to the scalar loop */
static size_t full_end(const actfit__pass *p) { return p->g1 < p->n / 32 ? p->g1 : p->n / 32; }

actfit__f32_fn actfit__cpu_f32(int act)
{
#if defined(ACTFIT_HAVE_VBMI2)
  if (vbmi2())
    return actfit__avx512v_f32(act);
#endif
  return avx512() ? actfit__avx512_f32(act) : actfit__avx2_f32(act);
}

/* (called from the AVX-512 loops, cpu_avx512.c) */
actfit__f32s_fn actfit__cpu_f32s(int act)
{
#if defined(ACTFIT_HAVE_VBMI2)
  if (vbmi2())
    return actfit__avx512v_f32s(act);
#endif
  return actfit__avx512_f32s(act);
}

actfit__f32x_fn actfit__cpu_f32x(int act, int kind)
{
#if defined(ACTFIT_HAVE_VBMI2)
  if (vbmi2())
    return actfit__avx512v_f32x(act, kind);
#endif
  return actfit__avx512_f32x(act, kind);
}

actfit__f32_fn actfit__cpu_fwd(int act, actfit_dtype dt)
{
  if (dt == ACTFIT_FP32)
    return actfit__cpu_f32(act);
  return avx512() ? actfit__avx512_f16(act) : actfit__avx2_f16(act);
}

/* ---- outputs past the cache ------------------------------------------------------------
 * A pass over more data than the last-level cache holds cannot leave its output there for
 * the next operator (the output's start is evicted before its end is written), and plain
 * stores read each line before writing it: 12 bytes of traffic per fp32 element of a
 * forward instead of 8.  On AVX-512 such a pass writes its fp32 output by non-temporal
 * stores, as memcpy does for large copies: gi from the backwards' loops, y from two 8 KiB
 * buffers the vector forward fills and streams in turn (cpu_avx512.c, cpu_fwd.h).  The bits
 * are the same. */
static _Atomic size_t nt_min; /* 0: the default */
static _Atomic size_t nt_passes;

size_t actfit__nt_passes(void) { return atomic_load(&nt_passes); }

/* the last-level cache, capped at 64 MiB: a virtual machine reports its host's whole cache
 * (480 MiB on the machine of docs/benchmarks.md, where a copy falls to memory speed
 * between 64 and 128 MiB of traffic), and other processes share it anyway; 32 MiB when
 * unknown */
static size_t nt_default(void)
{
#ifdef _SC_LEVEL3_CACHE_SIZE
  long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
#else
  long llc = 0;
#endif
  size_t cap = (size_t)64 << 20;
  return llc <= 0 ? (size_t)32 << 20 : (size_t)llc < cap ? (size_t)llc : cap;
}

void actfit_cpu_set_nontemporal(size_t min_bytes)
{
  atomic_store_explicit(&nt_min, min_bytes, memory_order_relaxed);
}

int actfit__cpu_nt(const actfit__pass *p)
{
  size_t min = atomic_load_explicit(&nt_min, memory_order_relaxed);
  if (min == 0)
    min = nt_default();
  int fwd = p->kind == ACTFIT__PASS_FEWBIT_FWD || p->kind == ACTFIT__PASS_INVACT_FWD;
  if (p->dt != ACTFIT_FP32 || (fwd && p->given_y))
    return 0; /* (16-bit outputs measured no faster: half a line per vector) */
  const void *out = fwd ? p->y : p->gi;
  size_t arrays = p->kind == ACTFIT__PASS_INVACT_BWD ? 3 : 2; /* of 4-byte elements */
  if (!out || ((uintptr_t)out & 63) != 0 || !avx512() || p->n <= min / (4 * arrays))
    return 0;
  atomic_fetch_add_explicit(&nt_passes, 1, memory_order_relaxed);
  return 1;
}

/* the vectorised g(y) of an exact form with an exponential, from the same build as f */
static actfit__f32_fn exact_fn(int exact)
{
  return avx512() ? actfit__avx512_exact(exact) : actfit__avx2_exact(exact);
}
#else
void actfit_cpu_set_nontemporal(size_t min_bytes) { (void)min_bytes; }
int actfit__cpu_nt(const actfit__pass *p)
{
  (void)p;
  return 0;
}
size_t actfit__nt_passes(void) { return 0; }
#endif

/* ---- passes over groups [g0, g1) ------------------------------------------------------ */

static void fewbit_fwd(const actfit__pass *p)
{
  const actfit_rt_fewbit *t = p->fb;
  int planes = t->bits;
  size_t g0 = p->g0;
#if defined(ACTFIT_HAVE_AVX2)
  actfit__f32_fn f = p->given_y ? NULL : actfit__cpu_fwd(t->act, p->dt);
  if (avx512() && p->dt == ACTFIT_FP32 && full_end(p) > g0 && (f || p->given_y)) {
    actfit__avx512_fewbit_fwd_f32(t, f, p->nt, p->x, p->y, p->state, g0, full_end(p));
    g0 = full_end(p);
  } else if (avx512() && p->clut && full_end(p) > g0) {
    actfit__avx512_fewbit_fwd_lut16(t->bits, !p->given_y, p->clut, p->x, p->y, p->state, g0,
                                    full_end(p));
    g0 = full_end(p);
  } else if (avx2() && full_end(p) > g0 && (f || p->given_y)) {
    actfit__avx2_fewbit_fwd(t, p->dt, f, p->clut, p->x, p->y, p->state, g0, full_end(p));
    g0 = full_end(p);
  }
  if (p->nt)
    _mm_sfence(); /* y's stores reach memory before the pass is done */
#endif
  for (size_t g = g0; g < p->g1; g++) {
    uint32_t w[ACTFIT_RT_MAX_BITS] = {0};
    size_t base = 32 * g, m = p->n - base < 32 ? p->n - base : 32;
    for (size_t i = 0; i < m; i++) {
      float x = load(p->dt, p->x, base + i);
      if (!p->given_y)
        store(p->dt, p->y, base + i, actfit_elem_fs(t->act, t->params, x, p->dt != ACTFIT_FP32));
      unsigned c = (unsigned)actfit_elem_code(t, x);
      for (int j = 0; j < planes; j++)
        w[j] |= ((c >> j) & 1u) << i;
    }
    memcpy(p->state + g * (size_t)planes, w, sizeof(uint32_t) * (size_t)planes);
  }
}

/* The backward passes are specialised per dtype (no per-element switch), so the compiler
 * can keep the loop tight; decode of a group's codes is separated from the multiply. */
#define FEWBIT_BWD(NAME, T, LOAD, STORE, PLANES)                                            \
  static void NAME(const actfit__pass *p)                                                           \
  {                                                                                         \
    const actfit_rt_fewbit *t = p->fb;                                                      \
    const T *go = p->go;                                                                    \
    T *gi = p->gi;                                                                          \
    for (size_t g = p->g0; g < p->g1; g++) {                                                \
      const uint32_t *w = p->cstate + g * (size_t)(PLANES);                                 \
      size_t base = 32 * g, m = p->n - base < 32 ? p->n - base : 32;                        \
      uint32_t wl[ACTFIT_RT_MAX_BITS];                                                      \
      for (int j = 0; j < (PLANES); j++)                                                    \
        wl[j] = w[j];                                                                       \
      for (size_t i = 0; i < m; i++) {                                                      \
        unsigned c = 0;                                                                     \
        for (int j = 0; j < (PLANES); j++)                                                  \
          c |= ((wl[j] >> i) & 1u) << j;                                                    \
        gi[base + i] = STORE(LOAD(go[base + i]) * t->levels[c]);                            \
      }                                                                                     \
    }                                                                                       \
  }

static inline float id_f(float v) { return v; }

/* fp16 through the compiler's _Float16 (IEEE round-to-nearest-even), the same values as
 * elem.h's conversions; NaN keeps elem.h's encoding */
#if defined(__FLT16_MAX__)
static inline float h2f(uint16_t h)
{
  _Float16 v;
  memcpy(&v, &h, 2);
  return (float)v;
}
static inline uint16_t f2h(float f)
{
  if (f != f)
    return actfit_f32_to_f16(f);
  _Float16 v = (_Float16)f;
  uint16_t h;
  memcpy(&h, &v, 2);
  return h;
}
#else
#define h2f actfit_f16_to_f32
#define f2h actfit_f32_to_f16
#endif

#define FEWBIT_BWD_ALL(P)                                                                   \
  FEWBIT_BWD(fewbit_bwd_f32_##P, float, id_f, id_f, P)                                      \
  FEWBIT_BWD(fewbit_bwd_f16_##P, uint16_t, h2f, f2h, P)                                 \
  FEWBIT_BWD(fewbit_bwd_bf16_##P, uint16_t, actfit_bf16_to_f32, actfit_f32_to_bf16, P)
FEWBIT_BWD_ALL(1)
FEWBIT_BWD_ALL(2)
FEWBIT_BWD_ALL(3)
FEWBIT_BWD_ALL(4)
FEWBIT_BWD_ALL(5)
FEWBIT_BWD_ALL(6)
FEWBIT_BWD_ALL(7)
FEWBIT_BWD_ALL(8)

typedef void (*pass_fn)(const actfit__pass *);
#define ROW(P) {fewbit_bwd_f32_##P, fewbit_bwd_f16_##P, fewbit_bwd_bf16_##P}
static const pass_fn fewbit_bwd_table[ACTFIT_RT_MAX_BITS][3] = {
  ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7), ROW(8)};
#undef ROW

/* one loop per (bits, dtype): the plane count is a constant the compiler unrolls */
static void fewbit_bwd(const actfit__pass *p)
{
  int d = p->dt == ACTFIT_FP16 ? 1 : p->dt == ACTFIT_BF16 ? 2 : 0;
  actfit__pass rest = *p;
#if defined(ACTFIT_HAVE_AVX2)
  if (avx512() && full_end(p) > p->g0) {
    actfit__avx512_fewbit_bwd(p->fb, p->dt, p->cstate, p->go, p->nt, p->gi, p->g0,
                              full_end(p));
    rest.g0 = full_end(p);
  } else if (avx2() && full_end(p) > p->g0) {
    actfit__avx2_fewbit_bwd(p->fb, p->dt, p->cstate, p->go, p->gi, p->g0, full_end(p));
    rest.g0 = full_end(p);
  }
  if (p->nt)
    _mm_sfence();
#endif
  if (rest.g0 < rest.g1)
    fewbit_bwd_table[p->fb->bits - 1][d](&rest);
}

static void invact_fwd(const actfit__pass *p)
{
  const actfit_rt_invact *t = p->ia;
  int bit_in_y = p->flags & ACTFIT_BIT_IN_Y, keep = t->bit && !bit_in_y;
  size_t g0 = p->g0;
#if defined(ACTFIT_HAVE_AVX2)
  actfit__f32_fn f = p->given_y ? NULL : actfit__cpu_fwd(t->act, p->dt);
  if (avx512() && p->dt == ACTFIT_FP32 && full_end(p) > g0 && (f || p->given_y)) {
    actfit__avx512_invact_fwd_f32(t, p->flags, f, p->nt, p->x, p->y, p->state, g0,
                                  full_end(p));
    g0 = full_end(p);
  } else if (avx512() && p->slut && !p->given_y && full_end(p) > g0) {
    actfit__avx512_invact_fwd_lut16(t, p->dt, p->flags, p->slut, p->x, p->y, p->state, g0,
                                    full_end(p));
    g0 = full_end(p);
  } else if (avx2() && full_end(p) > g0 && (f || p->given_y)) {
    actfit__avx2_invact_fwd(t, p->dt, p->flags, f, p->slut, p->x, p->y, p->state, g0,
                            full_end(p));
    g0 = full_end(p);
  }
  if (p->nt)
    _mm_sfence();
#endif
  for (size_t g = g0; g < p->g1; g++) {
    uint32_t w = 0;
    size_t base = 32 * g, m = p->n - base < 32 ? p->n - base : 32;
    for (size_t i = 0; i < m; i++) {
      float x = load(p->dt, p->x, base + i);
      int s = t->bit && x < t->T;
      if (p->given_y) { /* encode: y is read only to carry the bit (it may be NULL otherwise) */
        if (bit_in_y && t->bit)
          store_bit(p->dt, p->y, base + i, load(p->dt, p->y, base + i), s);
        w |= (uint32_t)s << i;
        continue;
      }
      float y = actfit_elem_fs(t->act, t->params, x, p->dt != ACTFIT_FP32);
      if (bit_in_y && t->bit)
        store_bit(p->dt, p->y, base + i, y, s);
      else
        store(p->dt, p->y, base + i, y);
      w |= (uint32_t)s << i;
    }
    if (keep)
      p->state[g] = w;
  }
}

#define INVACT_BWD(NAME, T, LOAD, STORE, LASTBIT)                                           \
  static void NAME(const actfit__pass *p)                                                           \
  {                                                                                         \
    const actfit_rt_invact *t = p->ia;                                                      \
    const int bit_in_y = p->flags & ACTFIT_BIT_IN_Y;                                        \
    const T *y = p->y, *go = p->go;                                                         \
    T *gi = p->gi;                                                                          \
    for (size_t g = p->g0; g < p->g1; g++) {                                                \
      uint32_t w = t->bit && !bit_in_y ? p->cstate[g] : 0;                                  \
      size_t base = 32 * g, m = p->n - base < 32 ? p->n - base : 32;                        \
      for (size_t i = 0; i < m; i++) {                                                      \
        T yb = y[base + i];                                                                 \
        int s = !t->bit ? 0 : bit_in_y ? (int)LASTBIT(yb) : (int)((w >> i) & 1u);           \
        gi[base + i] = STORE(LOAD(go[base + i]) * actfit_elem_invact(t, LOAD(yb), s));       \
      }                                                                                     \
    }                                                                                       \
  }

static inline uint32_t last_f32(float v) { return actfit_f32_bits(v) & 1u; }
static inline uint32_t last_u16(uint16_t v) { return v & 1u; }
/* (on x86-64 CPUs with AVX2 these scalar loops see only partial last groups: cpu_avx2.c
 * takes the rest) */
INVACT_BWD(invact_bwd_f32, float, id_f, id_f, last_f32)
INVACT_BWD(invact_bwd_f16, uint16_t, h2f, f2h, last_u16)
INVACT_BWD(invact_bwd_bf16, uint16_t, actfit_bf16_to_f32, actfit_f32_to_bf16, last_u16)

static void invact_bwd(const actfit__pass *p)
{
  actfit__pass rest = *p;
#if defined(ACTFIT_HAVE_AVX2)
  if (p->lut && avx512() && full_end(p) > p->g0) {
    actfit__avx512_invact_bwd_lut(p->ia, p->dt, p->flags, p->lut, p->y, p->cstate, p->go,
                                  p->gi, p->g0, full_end(p));
    rest.g0 = full_end(p);
  } else if (p->lut && avx2() && full_end(p) > p->g0) {
    actfit__avx2_invact_bwd_lut(p->ia, p->dt, p->flags, p->lut, p->y, p->cstate, p->go, p->gi,
                                p->g0, full_end(p));
    rest.g0 = full_end(p);
  } else if (avx512() && full_end(p) > p->g0 &&
      actfit__avx512_invact_bwd(p->ia, p->dt, p->flags, p->y, p->cstate, p->go, p->nt, p->gi,
                                p->g0, full_end(p)))
    rest.g0 = full_end(p);
  else if (avx2() && full_end(p) > p->g0 &&
      actfit__avx2_invact_bwd(p->ia, p->dt, p->flags, exact_fn(p->ia->exact), p->y, p->cstate,
                              p->go, p->gi, p->g0, full_end(p)))
    rest.g0 = full_end(p);
  if (p->nt)
    _mm_sfence(); /* gi's stores reach memory before the pass is done */
#endif
  if (rest.g0 >= rest.g1)
    return;
  switch (p->dt) {
  case ACTFIT_FP16: invact_bwd_f16(&rest); break;
  case ACTFIT_BF16: invact_bwd_bf16(&rest); break;
  default: invact_bwd_f32(&rest); break;
  }
}

void actfit__cpu_run_pass(const actfit__pass *p)
{
  switch (p->kind) {
  case ACTFIT__PASS_FEWBIT_FWD: fewbit_fwd(p); break;
  case ACTFIT__PASS_FEWBIT_BWD: fewbit_bwd(p); break;
  case ACTFIT__PASS_INVACT_FWD: invact_fwd(p); break;
  case ACTFIT__PASS_INVACT_BWD: invact_bwd(p); break;
  }
}
