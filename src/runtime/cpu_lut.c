/* The CPU backend's 16-bit tables (cpu_pass.h): fp16 and bf16 values are one of 65536, so
 * 16-bit passes of the vector loops read from tables over all of them instead of
 * computing: a pass from ACTFIT__LUT_MIN elements builds its table, a smaller one (from
 * ACTFIT__LUT_USE) uses it where built, and builds it the second time it asks.  At most
 * LUT_MAX are kept, in a cache shared by all threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cpu_pass.h"

static atomic_size_t builds; /* tables built, kept or not (actfit__lut_builds) */

size_t actfit__lut_builds(void) { return atomic_load(&builds); }

#if defined(ACTFIT_HAVE_AVX2)
#define LUT_MAX 48

typedef struct lut_key { /* zeroed, then the fields its kind uses */
  actfit__lut_kind kind;
  int act;
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

/* The keys that small passes asked for and found no table (their hashes, the last SEEN):
 * the second such pass builds it, so that a training loop of small passes has its tables
 * from its second step on.  A collision only builds a table early. */
#define SEEN 16
static uint64_t seen[SEEN];
static unsigned seen_next;

static uint64_t key_hash(const lut_key *k)
{
  uint64_t h = 0x9e3779b97f4a7c15u, w;
  const unsigned char *b = (const unsigned char *)k;
  for (size_t i = 0; i + 8 <= sizeof *k; i += 8) {
    memcpy(&w, b + i, 8);
    h = (h ^ w) * 0x100000001b3u;
    h ^= h >> 29;
  }
  return h | 1u; /* 0: an empty slot */
}

/* the cached table of k, or NULL; *full: no room for another; *again: k was seen before
 * (then forgotten) */
static const void *lut_find(const lut_key *k, int *full, int *again)
{
  const void *r = NULL;
  pthread_mutex_lock(&lut_mu);
  for (int i = 0; i < nluts && !r; i++)
    if (!memcmp(&luts[i]->key, k, sizeof *k))
      r = luts[i]->data;
  *full = nluts >= LUT_MAX;
  if (!r && !*full && again) {
    uint64_t h = key_hash(k);
    *again = 0;
    for (int i = 0; i < SEEN && !*again; i++)
      if (seen[i] == h)
        seen[i] = 0, *again = 1;
    if (!*again)
      seen[seen_next++ % SEEN] = h;
  }
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

/* the table of k: the cached one, else (where build, or for the second pass that asks, and
 * while the cache has room: a table it could not keep would be built again by every pass)
 * a new one */
static const void *lut_get(lut_key *k, int build)
{
  int full, again = 0;
  const void *r = lut_find(k, &full, build ? NULL : &again);
  if (r || full || !(build || again))
    return r;
  lut_entry *e = malloc(sizeof *e);
  const float *y = NULL;
  if (k->kind == ACTFIT__LUT_STORED_BIT || k->kind == ACTFIT__LUT_Y_CODES ||
      k->kind == ACTFIT__LUT_STORED) { /* from the float y */
    lut_key ky;
    memset(&ky, 0, sizeof ky);
    ky.kind = ACTFIT__LUT_Y;
    ky.act = k->kind == ACTFIT__LUT_Y_CODES ? k->fb.act : k->act;
    ky.dt = k->dt;
    memcpy(ky.params, k->kind == ACTFIT__LUT_Y_CODES ? k->fb.params : k->params, sizeof ky.params);
    y = actfit__cpu_f32(ky.act) ? lut_get(&ky, 1) : NULL;
  }
  size_t n = k->kind == ACTFIT__LUT_G ? 2 * 65536 : 65536;
  void *data = e && (y || k->kind == ACTFIT__LUT_Y || k->kind == ACTFIT__LUT_G ||
                     k->kind == ACTFIT__LUT_CODES) ? malloc(n * 4) : NULL;
  if (!data) {
    free(e);
    return NULL;
  }
  e->key = *k;
  e->data = data;
  atomic_fetch_add_explicit(&builds, 1, memory_order_relaxed);
  if (k->kind == ACTFIT__LUT_Y) {
    float x[32];
    for (uint32_t h0 = 0; h0 < 65536; h0 += 32) {
      for (uint32_t i = 0; i < 32; i++)
        x[i] = from16(k->dt, h0 + i);
      actfit__cpu_fwd(k->act, k->dt)(k->params, x, (float *)data + h0, 32);
    }
  } else if (k->kind == ACTFIT__LUT_STORED_BIT || k->kind == ACTFIT__LUT_STORED) {
    for (uint32_t h = 0; h < 65536; h++) {
      int sb = from16(k->dt, h) < k->T;
      if (k->kind == ACTFIT__LUT_STORED) {
        ((uint32_t *)data)[h] = k->dt == ACTFIT_FP16 ? actfit_f32_to_f16(y[h]) : actfit_f32_to_bf16(y[h]);
        continue;
      }
      ((uint32_t *)data)[h] = k->dt == ACTFIT_FP16 ? actfit_elem_store_f16(y[h], sb)
                                                   : actfit_elem_store_bf16(y[h], sb);
    }
  } else if (k->kind == ACTFIT__LUT_G) {
    for (uint32_t i = 0; i < 2 * 65536; i++)
      ((float *)data)[i] = actfit_elem_invact(&k->table, from16(k->dt, i & 0xffffu), (int)(i >> 16));
  } else {
    for (uint32_t h = 0; h < 65536; h++) {
      int32_t c = actfit_elem_code(&k->fb, from16(k->dt, h));
      if (k->kind == ACTFIT__LUT_Y_CODES)
        c = (int32_t)((uint32_t)c << 16 | (k->dt == ACTFIT_FP16 ? actfit_f32_to_f16(y[h]) : actfit_f32_to_bf16(y[h])));
      ((int32_t *)data)[h] = c;
    }
  }
  return lut_keep(e);
}

const void *actfit__lut_fwd(actfit__lut_kind kind, int act, const float *params,
                            actfit_dtype dt, float T, size_t n)
{
  if (dt == ACTFIT_FP32 || n < ACTFIT__LUT_USE || !actfit__cpu_f32(act))
    return NULL;
  lut_key k;
  memset(&k, 0, sizeof k);
  k.kind = kind;
  k.act = act;
  k.dt = dt;
  memcpy(k.params, params, sizeof k.params);
  k.T = kind == ACTFIT__LUT_STORED_BIT ? T : 0.0f;
  return lut_get(&k, n >= ACTFIT__LUT_MIN);
}

/* the table of a FewBit (fb) or InvAct (ia) runtime table; NULL for fp32 */
static const void *lut_of_table(actfit__lut_kind kind, actfit_dtype dt,
                                const actfit_rt_fewbit *fb, const actfit_rt_invact *ia, size_t n)
{
  if (dt == ACTFIT_FP32 || n < ACTFIT__LUT_USE)
    return NULL;
  lut_key k;
  memset(&k, 0, sizeof k);
  k.kind = kind;
  k.dt = dt;
  if (fb)
    k.fb = *fb;
  if (ia)
    k.table = *ia;
  return lut_get(&k, n >= ACTFIT__LUT_MIN);
}

const int32_t *actfit__lut_codes(actfit__lut_kind kind, const actfit_rt_fewbit *t,
                                 actfit_dtype dt, size_t n)
{
  return lut_of_table(kind, dt, t, NULL, n);
}

const float *actfit__lut_bwd(const actfit_rt_invact *t, actfit_dtype dt, size_t n)
{
  return lut_of_table(ACTFIT__LUT_G, dt, NULL, t, n);
}
#endif
