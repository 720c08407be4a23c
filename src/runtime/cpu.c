/* CPU backend of the runtime: per-element math from kernels/elem.h (the GPU's arithmetic),
 * groups of 32 elements so codes pack into the shared bit-plane layout, and both cores for
 * large n (threads split on group boundaries; every element's result is independent of the
 * split). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cpu_impl.h"
#include "runtime/runtime_impl.h"

#define PAR_MIN (1u << 18) /* elements below which one thread does it all */
#define MAX_THREADS 16

size_t actfit_fewbit_state_bytes(int bits, size_t n)
{
  if (bits < 1 || bits > ACTFIT_RT_MAX_BITS)
    return 0;
  return ((n + 31) / 32) * (size_t)bits * 4;
}

size_t actfit_invact_state_bytes(const actfit_rt_invact *t, int flags, size_t n)
{
  if (!t || !t->bit || (flags & ACTFIT_BIT_IN_Y))
    return 0;
  return ((n + 31) / 32) * 4;
}

static int finite_f(float v) { return v == v && v - v == 0.0f; }

actfit_status actfit_rt_fewbit_check(const actfit_rt_fewbit *t)
{
  if (!t)
    return ACTFIT_EINVAL;
  /* act = -1: an expression (encode and backward only) */
  if (t->bits < 1 || t->bits > ACTFIT_RT_MAX_BITS || t->act < -1 || t->act >= ACTFIT_A_COUNT)
    return ACTFIT_EINVAL;
  int nb = (1 << t->bits) - 1;
  for (int i = 0; i < nb; i++)
    if (!finite_f(t->borders[i]) || (i && !(t->borders[i] > t->borders[i - 1])))
      return ACTFIT_EINVAL;
  for (int i = 0; i <= nb; i++)
    if (!finite_f(t->levels[i]))
      return ACTFIT_EINVAL;
  return ACTFIT_OK;
}

actfit_status actfit_rt_invact_check(const actfit_rt_invact *t)
{
  if (!t)
    return ACTFIT_EINVAL;
  if (t->act < -1 || t->act >= ACTFIT_A_COUNT || t->exact < 0 ||
      t->exact > ACTFIT_EXACT_SHRINK)
    return ACTFIT_EINVAL;
  if (t->exact)
    return ACTFIT_OK;
  if (t->nbranch != (t->bit ? 2 : 1))
    return ACTFIT_EINVAL;
  for (int b = 0; b < t->nbranch; b++) {
    const actfit_rt_branch *br = &t->br[b];
    if (br->np < 1 || br->np > ACTFIT_RT_MAX_TPIECES || br->nb < 0 ||
        br->nb > ACTFIT_RT_MAX_BINADES)
      return ACTFIT_EINVAL;
    for (int i = 0; i < br->np + br->nb; i++) {
      const actfit_rt_piece *p = i < br->np ? &br->p[i] : &br->b[i - br->np];
      if (p->deg < 0 || p->deg > ACTFIT_RT_MAX_DEG)
        return ACTFIT_EINVAL;
    }
  }
  return ACTFIT_OK;
}

void actfit_rt_pack(const uint8_t *codes, int planes, size_t n, uint32_t *state)
{
  size_t groups = (n + 31) / 32;
  for (size_t g = 0; g < groups; g++) {
    uint32_t w[ACTFIT_RT_MAX_BITS] = {0};
    size_t m = n - 32 * g < 32 ? n - 32 * g : 32;
    for (size_t i = 0; i < m; i++)
      for (int j = 0; j < planes; j++)
        w[j] |= (uint32_t)((codes[32 * g + i] >> j) & 1u) << i;
    memcpy(state + g * (size_t)planes, w, sizeof(uint32_t) * (size_t)planes);
  }
}

void actfit_rt_unpack(const uint32_t *state, int planes, size_t n, uint8_t *codes)
{
  for (size_t i = 0; i < n; i++) {
    const uint32_t *w = state + (i / 32) * (size_t)planes;
    unsigned c = 0;
    for (int j = 0; j < planes; j++)
      c |= ((w[j] >> (i % 32)) & 1u) << j;
    codes[i] = (uint8_t)c;
  }
}

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

/* ---- passes over groups [g0, g1) ------------------------------------------------------ */

typedef struct pass {
  int kind; /* 0 fewbit fwd, 1 fewbit bwd, 2 invact fwd, 3 invact bwd */
  const actfit_rt_fewbit *fb;
  const actfit_rt_invact *ia;
  actfit_dtype dt;
  int flags;
  const void *x, *go;
  void *y, *gi;
  uint32_t *state;
  const uint32_t *cstate;
  size_t n, g0, g1;
  int given_y; /* kinds 0 and 2: encode (y is the framework's, not computed) */
  const float *lut; /* kind 3 (InvAct backward), fp16 / bf16, or NULL: g for every 16-bit y
                     * and branch bit */
  const uint32_t *slut; /* kind 2, fp16 / bf16, or NULL: the stored y bits of every 16-bit x */
  const int32_t *clut;  /* kind 0, fp16 / bf16, or NULL: the code of every 16-bit x, or (not
                         * encoding) the stored y | code << 16 */
} pass;

#if defined(ACTFIT_HAVE_AVX2)
/* 1 with AVX2 (+FMA, F16C), 3 with AVX-512 (F, BW, VL) as well.  The environment variable
 * ACTFIT_SIMD=scalar or =avx2 caps this (read at every call), so that tests and benchmarks
 * run every path on one machine. */
static int simd(void)
{
  static int known = -1;
  int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (v < 0) {
    v = actfit__avx2_usable() ? 1 + 2 * actfit__avx512_usable() : 0;
    __atomic_store_n(&known, v, __ATOMIC_RELAXED);
  }
  const char *cap = getenv("ACTFIT_SIMD");
  if (cap && !strcmp(cap, "scalar"))
    return 0;
  if (cap && !strcmp(cap, "avx2"))
    return v & 1;
  return v;
}

static int avx2(void) { return simd() & 1; }
static int avx512(void) { return (simd() & 2) != 0; }

/* the full groups of [g0, g1) go to a vector loop; the rest (a partial last group, or
 * everything without AVX2) to the scalar loop */
static size_t full_end(const pass *p) { return p->g1 < p->n / 32 ? p->g1 : p->n / 32; }

/* the vectorised f for act: the AVX-512 build where the CPU has it, else the AVX2 one */
static actfit__f32_fn f32_fn(int act)
{
  return avx512() ? actfit__avx512_f32(act) : actfit__avx2_f32(act);
}

/* the vectorised g(y) of an exact form with an exponential, from the same build as f32_fn */
static actfit__f32_fn exact_fn(int exact)
{
  return avx512() ? actfit__avx512_exact(exact) : actfit__avx2_exact(exact);
}

/* fp16 and bf16 values are one of 65536, so large 16-bit passes of the vector loops read
 * from tables over all of them instead of computing, built once with the same arithmetic
 * (so the bits do not change) and kept for the life of the process, at most LUT_MAX:
 *   kind 0, y = f(x) as float for every x (256 KiB; the bit-in-y store needs the float);
 *   kind 1, InvAct with the bit in y: the stored bits for every x, s = (x < T) (256 KiB);
 *   kind 2, InvAct backward: g_s(y) as float, [s * 65536 + y] (512 KiB);
 *   kind 3, FewBit encoder: the code of every x (256 KiB);
 *   kind 4, FewBit forward: the stored y bits | code << 16 for every x (256 KiB);
 *   kind 5, InvAct forward without the bit in y: the stored y bits (256 KiB). */
#define LUT_MIN (1u << 18) /* elements from which a pass uses the tables */
#define LUT_MAX 48

typedef struct lut_key { /* zeroed, then the fields its kind uses */
  int kind, act;
  actfit_dtype dt;
  float params[4], T;
  actfit_rt_invact table;
  actfit_rt_fewbit fb;
} lut_key;
typedef struct lut_entry {
  lut_key key;
  void *data;
} lut_entry;
static lut_entry *luts[LUT_MAX];
static int nluts;
static pthread_mutex_t lut_mu = PTHREAD_MUTEX_INITIALIZER;

static float from16(actfit_dtype dt, uint32_t h)
{
  return dt == ACTFIT_FP16 ? actfit_f16_to_f32((uint16_t)h) : actfit_bf16_to_f32((uint16_t)h);
}

static const void *lut_find(const lut_key *k)
{
  const void *r = NULL;
  pthread_mutex_lock(&lut_mu);
  for (int i = 0; i < nluts && !r; i++)
    if (!memcmp(&luts[i]->key, k, sizeof *k))
      r = luts[i]->data;
  pthread_mutex_unlock(&lut_mu);
  return r;
}

/* keeps e (built outside the lock) unless the same table arrived meanwhile or the cache is
 * full; returns the table to use, or NULL */
static const void *lut_keep(lut_entry *e)
{
  const void *r = NULL;
  pthread_mutex_lock(&lut_mu);
  for (int i = 0; i < nluts && !r; i++)
    if (!memcmp(&luts[i]->key, &e->key, sizeof e->key))
      r = luts[i]->data;
  if (!r && nluts < LUT_MAX) {
    luts[nluts++] = e;
    r = e->data;
    e = NULL;
  }
  pthread_mutex_unlock(&lut_mu);
  if (e) {
    free(e->data);
    free(e);
  }
  return r;
}

static const void *lut_get(lut_key *k)
{
  const void *r = lut_find(k);
  if (r)
    return r;
  lut_entry *e = malloc(sizeof *e);
  const float *y = NULL;
  if (k->kind == 1 || k->kind == 4 || k->kind == 5) { /* from the float y */
    lut_key ky;
    memset(&ky, 0, sizeof ky);
    ky.act = k->kind == 4 ? k->fb.act : k->act;
    ky.dt = k->dt;
    memcpy(ky.params, k->kind == 4 ? k->fb.params : k->params, sizeof ky.params);
    y = f32_fn(ky.act) ? lut_get(&ky) : NULL;
  }
  size_t n = k->kind == 2 ? 2 * 65536 : 65536;
  void *data = e && (y || k->kind == 0 || k->kind == 2 || k->kind == 3) ? malloc(n * 4) : NULL;
  if (!data) {
    free(e);
    return NULL;
  }
  e->key = *k;
  e->data = data;
  if (k->kind == 0) {
    float x[32];
    for (uint32_t h0 = 0; h0 < 65536; h0 += 32) {
      for (uint32_t i = 0; i < 32; i++)
        x[i] = from16(k->dt, h0 + i);
      f32_fn(k->act)(k->params, x, (float *)data + h0, 32);
    }
  } else if (k->kind == 1 || k->kind == 5) {
    for (uint32_t h = 0; h < 65536; h++) {
      int sb = from16(k->dt, h) < k->T;
      if (k->kind == 5) {
        ((uint32_t *)data)[h] = k->dt == ACTFIT_FP16 ? actfit_f32_to_f16(y[h]) : actfit_f32_to_bf16(y[h]);
        continue;
      }
      ((uint32_t *)data)[h] = k->dt == ACTFIT_FP16 ? actfit_elem_store_f16(y[h], sb)
                                                   : actfit_elem_store_bf16(y[h], sb);
    }
  } else if (k->kind == 2) {
    for (uint32_t i = 0; i < 2 * 65536; i++)
      ((float *)data)[i] = actfit_elem_invact(&k->table, from16(k->dt, i & 0xffffu), (int)(i >> 16));
  } else {
    for (uint32_t h = 0; h < 65536; h++) {
      int32_t c = actfit_elem_code(&k->fb, from16(k->dt, h));
      if (k->kind == 4)
        c = (int32_t)((uint32_t)c << 16 | (k->dt == ACTFIT_FP16 ? actfit_f32_to_f16(y[h]) : actfit_f32_to_bf16(y[h])));
      ((int32_t *)data)[h] = c;
    }
  }
  return lut_keep(e);
}

/* the table of f over every fp16 / bf16 x (kind 0), or the stored bits with the bit in y
 * (kind 1) or without (kind 5); NULL for fp32 or when none can be had */
static const void *lut_fwd(int kind, int act, const float *params, actfit_dtype dt, float T)
{
  if (dt == ACTFIT_FP32 || !f32_fn(act))
    return NULL;
  lut_key k;
  memset(&k, 0, sizeof k);
  k.kind = kind;
  k.act = act;
  k.dt = dt;
  memcpy(k.params, params, sizeof k.params);
  k.T = kind == 1 ? T : 0.0f;
  return lut_get(&k);
}

/* FewBit: the codes (kind 3) or the stored y and codes (kind 4) of every fp16 / bf16 x */
static const int32_t *lut_codes(int kind, const actfit_rt_fewbit *t, actfit_dtype dt)
{
  if (dt == ACTFIT_FP32)
    return NULL;
  lut_key k;
  memset(&k, 0, sizeof k);
  k.kind = kind;
  k.dt = dt;
  k.fb = *t;
  return lut_get(&k);
}

static const float *lut_bwd(const actfit_rt_invact *t, actfit_dtype dt)
{
  if (dt == ACTFIT_FP32)
    return NULL;
  lut_key k;
  memset(&k, 0, sizeof k);
  k.kind = 2;
  k.dt = dt;
  k.table = *t;
  return lut_get(&k);
}
#endif

static void fewbit_fwd(const pass *p)
{
  const actfit_rt_fewbit *t = p->fb;
  int planes = t->bits;
  size_t g0 = p->g0;
#if defined(ACTFIT_HAVE_AVX2)
  actfit__f32_fn f = p->given_y ? NULL : f32_fn(t->act);
  if (avx512() && p->dt == ACTFIT_FP32 && full_end(p) > g0 && (f || p->given_y)) {
    actfit__avx512_fewbit_fwd_f32(t, f, p->x, p->y, p->state, g0, full_end(p));
    g0 = full_end(p);
  } else if (avx2() && full_end(p) > g0 && (f || p->given_y)) {
    actfit__avx2_fewbit_fwd(t, p->dt, f, p->clut, p->x, p->y, p->state, g0, full_end(p));
    g0 = full_end(p);
  }
#endif
  for (size_t g = g0; g < p->g1; g++) {
    uint32_t w[ACTFIT_RT_MAX_BITS] = {0};
    size_t base = 32 * g, m = p->n - base < 32 ? p->n - base : 32;
    for (size_t i = 0; i < m; i++) {
      float x = load(p->dt, p->x, base + i);
      if (!p->given_y)
        store(p->dt, p->y, base + i, actfit_elem_f(t->act, t->params, x));
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
  static void NAME(const pass *p)                                                           \
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

typedef void (*pass_fn)(const pass *);
#define ROW(P) {fewbit_bwd_f32_##P, fewbit_bwd_f16_##P, fewbit_bwd_bf16_##P}
static const pass_fn fewbit_bwd_table[ACTFIT_RT_MAX_BITS][3] = {
  ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7), ROW(8)};
#undef ROW

/* one loop per (bits, dtype): the plane count is a constant the compiler unrolls */
static void fewbit_bwd(const pass *p)
{
  int d = p->dt == ACTFIT_FP16 ? 1 : p->dt == ACTFIT_BF16 ? 2 : 0;
  pass rest = *p;
#if defined(ACTFIT_HAVE_AVX2)
  if (avx2() && full_end(p) > p->g0) {
    actfit__avx2_fewbit_bwd(p->fb, p->dt, p->cstate, p->go, p->gi, p->g0, full_end(p));
    rest.g0 = full_end(p);
  }
#endif
  if (rest.g0 < rest.g1)
    fewbit_bwd_table[p->fb->bits - 1][d](&rest);
}

static void invact_fwd(const pass *p)
{
  const actfit_rt_invact *t = p->ia;
  int bit_in_y = p->flags & ACTFIT_BIT_IN_Y, keep = t->bit && !bit_in_y;
  size_t g0 = p->g0;
#if defined(ACTFIT_HAVE_AVX2)
  actfit__f32_fn f = p->given_y ? NULL : f32_fn(t->act);
  if (avx512() && p->dt == ACTFIT_FP32 && full_end(p) > g0 && (f || p->given_y)) {
    actfit__avx512_invact_fwd_f32(t, p->flags, f, p->x, p->y, p->state, g0, full_end(p));
    g0 = full_end(p);
  } else if (avx2() && full_end(p) > g0 && (f || p->given_y)) {
    actfit__avx2_invact_fwd(t, p->dt, p->flags, f, p->slut, p->x, p->y, p->state, g0,
                            full_end(p));
    g0 = full_end(p);
  }
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
      float y = actfit_elem_f(t->act, t->params, x);
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
  static void NAME(const pass *p)                                                           \
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

static void invact_bwd(const pass *p)
{
  pass rest = *p;
#if defined(ACTFIT_HAVE_AVX2)
  if (p->lut && avx2() && full_end(p) > p->g0) {
    actfit__avx2_invact_bwd_lut(p->ia, p->dt, p->flags, p->lut, p->y, p->cstate, p->go, p->gi,
                                p->g0, full_end(p));
    rest.g0 = full_end(p);
  } else if (avx512() && full_end(p) > p->g0 &&
      actfit__avx512_invact_bwd(p->ia, p->dt, p->flags, p->y, p->cstate, p->go, p->gi, p->g0,
                                full_end(p)))
    rest.g0 = full_end(p);
  else if (avx2() && full_end(p) > p->g0 &&
      actfit__avx2_invact_bwd(p->ia, p->dt, p->flags, exact_fn(p->ia->exact), p->y, p->cstate,
                              p->go, p->gi, p->g0, full_end(p)))
    rest.g0 = full_end(p);
#endif
  if (rest.g0 >= rest.g1)
    return;
  switch (p->dt) {
  case ACTFIT_FP16: invact_bwd_f16(&rest); break;
  case ACTFIT_BF16: invact_bwd_bf16(&rest); break;
  default: invact_bwd_f32(&rest); break;
  }
}

static void run_pass(const pass *p)
{
  switch (p->kind) {
  case 0: fewbit_fwd(p); break;
  case 1: fewbit_bwd(p); break;
  case 2: invact_fwd(p); break;
  default: invact_bwd(p); break;
  }
}

/* The threads of one call take chunks of CHUNK_GROUPS groups from a shared counter until
 * none is left, so a core that is slower (busy with something else, or an efficiency core)
 * does less of the work instead of holding up the call. */
#define CHUNK_GROUPS 2048 /* 65,536 elements */

typedef struct work {
  const pass *p;
  size_t groups;
  _Atomic size_t next;
} work;

static void *worker(void *arg)
{
  work *w = arg;
  for (;;) {
    size_t g0 = atomic_fetch_add_explicit(&w->next, CHUNK_GROUPS, memory_order_relaxed);
    if (g0 >= w->groups)
      return NULL;
    pass part = *w->p;
    part.g0 = g0;
    part.g1 = w->groups - g0 < CHUNK_GROUPS ? w->groups : g0 + CHUNK_GROUPS;
    run_pass(&part);
  }
}

/* the CPUs this process may run on (a container or taskset may allow fewer than are online) */
static int usable_cpus(void)
{
#ifdef CPU_COUNT
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return CPU_COUNT(&set);
#endif
  long nc = sysconf(_SC_NPROCESSORS_ONLN);
  return nc > 0 ? (int)nc : 1;
}

static void run_parallel(pass *p)
{
  size_t groups = (p->n + 31) / 32;
  int nc = usable_cpus();
  int T = p->n < PAR_MIN || nc < 2 ? 1 : nc > MAX_THREADS ? MAX_THREADS : nc;
  if (T == 1) {
    p->g0 = 0;
    p->g1 = groups;
    run_pass(p);
    return;
  }
  work w = {p, groups, 0};
  pthread_t tid[MAX_THREADS];
  int started = 0;
  while (started < T - 1 && pthread_create(&tid[started], NULL, worker, &w) == 0)
    started++;
  worker(&w); /* this thread works too, and alone if no thread could start */
  for (int q = 0; q < started; q++)
    pthread_join(tid[q], NULL);
}

/* The checks every pass makes, in one order: dtype, table, then (for n > 0) pointers.
 * A nonzero return or *done ends the call with that status. */
static actfit_status precheck(actfit_dtype dt, actfit_status table, size_t n, int ptrs_ok,
                              int *done)
{
  *done = 1;
  if (dt != ACTFIT_FP32 && dt != ACTFIT_FP16 && dt != ACTFIT_BF16)
    return ACTFIT_EDTYPE;
  if (table != ACTFIT_OK)
    return ACTFIT_EINVAL;
  if (n == 0)
    return ACTFIT_OK;
  if (!ptrs_ok)
    return ACTFIT_EINVAL;
  *done = 0;
  return ACTFIT_OK;
}

static actfit_status invact_table(const actfit_rt_invact *t, int flags)
{
  return actfit_rt_invact_check(t) == ACTFIT_OK && !(flags & ~ACTFIT_BIT_IN_Y) ? ACTFIT_OK
                                                                               : ACTFIT_EINVAL;
}

actfit_status actfit_fewbit_forward(const actfit_rt_fewbit *t, actfit_dtype dt, const void *x,
                                    void *y, void *state, size_t n, void *stream)
{
  int done;
  actfit_status st = precheck(dt, actfit_rt_fewbit_check(t), n, x && y && state, &done);
  if (done)
    return st;
  if (t->act < 0)
    return ACTFIT_EUNKNOWN; /* an expression: the framework computes y, then encodes */
  if (stream)
    return actfit__cuda_fewbit_forward(t, dt, x, y, (uint32_t *)state, n, stream);
  pass p = {0, t, NULL, dt, 0, x, NULL, y, NULL, (uint32_t *)state, NULL, n, 0, 0, 0, NULL, NULL, NULL};
#if defined(ACTFIT_HAVE_AVX2)
  if (n >= LUT_MIN && avx2())
    p.clut = lut_codes(4, t, dt);
#endif
  run_parallel(&p);
  return ACTFIT_OK;
}

actfit_status actfit_fewbit_encode(const actfit_rt_fewbit *t, actfit_dtype dt, const void *x,
                                   void *state, size_t n, void *stream)
{
  int done;
  actfit_status st = precheck(dt, actfit_rt_fewbit_check(t), n, x && state, &done);
  if (done)
    return st;
  if (stream)
    return actfit__cuda_fewbit_encode(t, dt, x, (uint32_t *)state, n, stream);
  pass p = {0, t, NULL, dt, 0, x, NULL, NULL, NULL, (uint32_t *)state, NULL, n, 0, 0, 1, NULL, NULL, NULL};
#if defined(ACTFIT_HAVE_AVX2)
  if (n >= LUT_MIN && avx2())
    p.clut = lut_codes(3, t, dt);
#endif
  run_parallel(&p);
  return ACTFIT_OK;
}

actfit_status actfit_fewbit_backward(const actfit_rt_fewbit *t, actfit_dtype dt,
                                     const void *state, const void *grad_out, void *grad_in,
                                     size_t n, void *stream)
{
  int done;
  actfit_status st = precheck(dt, actfit_rt_fewbit_check(t), n, state && grad_out && grad_in,
                              &done);
  if (done)
    return st;
  if (stream)
    return actfit__cuda_fewbit_backward(t, dt, (const uint32_t *)state, grad_out, grad_in, n,
                                        stream);
  pass p = {1, t, NULL, dt, 0, NULL, grad_out, NULL, grad_in, NULL, (const uint32_t *)state,
            n, 0, 0, 0, NULL, NULL, NULL};
  run_parallel(&p);
  return ACTFIT_OK;
}

actfit_status actfit_invact_forward(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                                    const void *x, void *y, void *state, size_t n,
                                    void *stream)
{
  int done, need_state = actfit_invact_state_bytes(t, flags, n) != 0;
  actfit_status st = precheck(dt, invact_table(t, flags), 1, 1, &done);
  if (st != ACTFIT_OK)
    return st;
  if (t->act < 0)
    return ACTFIT_EUNKNOWN; /* an expression: no forward without libmatheval */
  st = precheck(dt, ACTFIT_OK, n, x && y && (state || !need_state), &done);
  if (done)
    return st;
  if (stream)
    return actfit__cuda_invact_forward(t, dt, flags, x, y, (uint32_t *)state, n, stream);
  pass p = {2, NULL, t, dt, flags, x, NULL, y, NULL, (uint32_t *)state, NULL, n, 0, 0, 0, NULL, NULL, NULL};
#if defined(ACTFIT_HAVE_AVX2)
  if (n >= LUT_MIN && avx2()) {
    p.slut = t->bit && (flags & ACTFIT_BIT_IN_Y) ? lut_fwd(1, t->act, t->params, dt, t->T)
                                                 : lut_fwd(5, t->act, t->params, dt, 0.0f);
  }
#endif
  run_parallel(&p);
  return ACTFIT_OK;
}

actfit_status actfit_invact_encode(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                                   const void *x, void *y, void *state, size_t n, void *stream)
{
  int done, need_state = actfit_invact_state_bytes(t, flags, n) != 0;
  int need_y = t && t->bit && (flags & ACTFIT_BIT_IN_Y);
  actfit_status st = precheck(dt, invact_table(t, flags), n,
                              x && (y || !need_y) && (state || !need_state), &done);
  if (done || !t->bit) /* without the bit there is nothing to keep but y */
    return st;
  if (stream)
    return actfit__cuda_invact_encode(t, dt, flags, x, y, (uint32_t *)state, n, stream);
  pass p = {2, NULL, t, dt, flags, x, NULL, y, NULL, (uint32_t *)state, NULL, n, 0, 0, 1, NULL, NULL, NULL};
  run_parallel(&p);
  return ACTFIT_OK;
}

actfit_status actfit_invact_backward(const actfit_rt_invact *t, actfit_dtype dt, int flags,
                                     const void *y, const void *state, const void *grad_out,
                                     void *grad_in, size_t n, void *stream)
{
  int done, need_state = actfit_invact_state_bytes(t, flags, n) != 0;
  actfit_status st = precheck(dt, invact_table(t, flags), n,
                              y && grad_out && grad_in && (state || !need_state), &done);
  if (done)
    return st;
  if (stream)
    return actfit__cuda_invact_backward(t, dt, flags, y, (const uint32_t *)state, grad_out,
                                        grad_in, n, stream);
  pass p = {3, NULL, t, dt, flags, NULL, grad_out, (void *)y, grad_in, NULL,
            (const uint32_t *)state, n, 0, 0, 0, NULL, NULL, NULL};
#if defined(ACTFIT_HAVE_AVX2)
  if (n >= LUT_MIN && avx2())
    p.lut = lut_bwd(t, dt);
#endif
  run_parallel(&p);
  return ACTFIT_OK;
}

int actfit_rt_have_cuda(void) { return actfit__cuda_available(); }

size_t actfit_rt_fewbit_sizeof(void) { return sizeof(actfit_rt_fewbit); }
size_t actfit_rt_invact_sizeof(void) { return sizeof(actfit_rt_invact); }
