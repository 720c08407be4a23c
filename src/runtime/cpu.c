/* CPU backend of the runtime, its API: the sizes, the table checks, packing, and each pass's
 * argument checks and choice of 16-bit tables, then the pass (cpu_pass.h) on the CPU's
 * threads or the CUDA backend's on a stream.  The loops are cpu_pass.c, the threads
 * cpu_threads.c, the tables cpu_lut.c. */
#include <stdint.h>
#include <string.h>

#include "runtime/cpu_pass.h"
#include "actfit_cuda.h"

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

/* ---- the passes ------------------------------------------------------------------------ */

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
  actfit__pass p = {.kind = ACTFIT__PASS_FEWBIT_FWD, .fb = t, .dt = dt, .x = x, .y = y,
                    .state = (uint32_t *)state, .n = n};
#if defined(ACTFIT_HAVE_AVX2)
  if (actfit__cpu_simd() & 1)
    p.clut = actfit__lut_codes(ACTFIT__LUT_Y_CODES, t, dt, n);
#endif
  actfit__cpu_run_parallel(&p);
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
  actfit__pass p = {.kind = ACTFIT__PASS_FEWBIT_FWD, .fb = t, .dt = dt, .x = x,
                    .state = (uint32_t *)state, .n = n, .given_y = 1};
#if defined(ACTFIT_HAVE_AVX2)
  if (actfit__cpu_simd() & 1)
    p.clut = actfit__lut_codes(ACTFIT__LUT_CODES, t, dt, n);
#endif
  actfit__cpu_run_parallel(&p);
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
  actfit__pass p = {.kind = ACTFIT__PASS_FEWBIT_BWD, .fb = t, .dt = dt, .go = grad_out,
                    .gi = grad_in, .cstate = (const uint32_t *)state, .n = n};
  actfit__cpu_run_parallel(&p);
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
  actfit__pass p = {.kind = ACTFIT__PASS_INVACT_FWD, .ia = t, .dt = dt, .flags = flags, .x = x,
                    .y = y, .state = (uint32_t *)state, .n = n};
#if defined(ACTFIT_HAVE_AVX2)
  if (actfit__cpu_simd() & 1) {
    p.slut = t->bit && (flags & ACTFIT_BIT_IN_Y)
                 ? actfit__lut_fwd(ACTFIT__LUT_STORED_BIT, t->act, t->params, dt, t->T, n)
                 : actfit__lut_fwd(ACTFIT__LUT_STORED, t->act, t->params, dt, 0.0f, n);
  }
#endif
  actfit__cpu_run_parallel(&p);
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
  actfit__pass p = {.kind = ACTFIT__PASS_INVACT_FWD, .ia = t, .dt = dt, .flags = flags, .x = x,
                    .y = y, .state = (uint32_t *)state, .n = n, .given_y = 1};
  actfit__cpu_run_parallel(&p);
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
  actfit__pass p = {.kind = ACTFIT__PASS_INVACT_BWD, .ia = t, .dt = dt, .flags = flags,
                    .go = grad_out, .y = (void *)y, .gi = grad_in,
                    .cstate = (const uint32_t *)state, .n = n};
#if defined(ACTFIT_HAVE_AVX2)
  if (actfit__cpu_simd() & 1)
    p.lut = actfit__lut_bwd(t, dt, n);
#endif
  actfit__cpu_run_parallel(&p);
  return ACTFIT_OK;
}

int actfit_rt_have_cuda(void) { return actfit__cuda_available(); }

size_t actfit_rt_fewbit_sizeof(void) { return sizeof(actfit_rt_fewbit); }
size_t actfit_rt_invact_sizeof(void) { return sizeof(actfit_rt_invact); }
