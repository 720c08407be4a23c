/* ulp_sweep: the accuracy of the runtime's float forward (kernels/elem.h, the same bits on
 * every backend) against the double-precision reference (tools/elem_ref.h, about 1e-14
 * relative), over every float input.
 *
 *   ulp_sweep [--step K] [--threads N] [NAME ...]     (default: every built-in, K = 1)
 *
 * fp32: every one of the 2^32 bit patterns but NaNs (every K-th with --step), the error of y
 * in ulp (|y - r| over the float spacing at |r|), the worst and where, how many are 1 ulp
 * or more off, and the share that is correctly rounded.  fp16 / bf16: every one of the 2^16
 * inputs; y is the 16-bit path's float result (actfit_elem_f16) rounded once to the dtype,
 * and the count is how often that differs from the exact value rounded to the dtype (a line
 * follows if any y is more than 1 ulp of the dtype off).  Default parameters (PyTorch's).
 * Exits 1 if any activation breaks its contract: fp32 within 2 ulp for the lean forwards
 * (GELU, GELU-tanh, SiLU, Mish), within 1 ulp for the others; 16-bit within 1 ulp.  For those
 * four, a second line gives the worst over the direct path's inputs alone (|x| below its
 * bound; GELU's -3.875 < x < 5.375, its positive tail included), which keeps the same 2-ulp
 * contract (elem.h's actfit_direct: up to 1.94), and for GELU a third line the worst over
 * that tail alone (its own piece, elem.h's ACTFIT_GELU_DCAP). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actfit/act.h"
#include "elem_ref.h"

typedef struct sweep {
  int act;
  float p[4];
  uint64_t step;
  int nthreads, next;
  pthread_mutex_t mu;
  double worst, dworst, tworst; /* over the direct path's inputs alone, and its tail's */
  float worst_x, dworst_x, tworst_x, dtop, dpos; /* direct path: -dtop < x < dpos */
  uint64_t n, rounded, bad;
} sweep;

/* the bound below which |x| takes the direct path (elem.h), 0 for the activations without */
static float direct_top(int act)
{
  switch (act) {
  case ACTFIT_A_GELU:
  case ACTFIT_A_GELU_TANH: return ACTFIT_D_TOP4;
  case ACTFIT_A_SILU:
  case ACTFIT_A_MISH: return ACTFIT_D_TOP2;
  default: return 0.0f;
  }
}

/* the direct path's end for x > 0: its bound, but GELU's, whose positive tail is a piece of
 * the direct path up to where y = x (elem.h's ACTFIT_GELU_DCAP) */
static float direct_pos(int act)
{
  return act == ACTFIT_A_GELU ? ACTFIT_GELU_XSAT : direct_top(act);
}

/* the spacing of the float grid at |r| (r finite, below the float range's end) */
static double spacing(double r)
{
  float lo = (float)fabs(r);
  if ((double)lo > fabs(r))
    lo = nextafterf(lo, 0.0f);
  return (double)nextafterf(lo, INFINITY) - (double)lo;
}

static void *worker(void *arg)
{
  sweep *s = arg;
  pthread_mutex_lock(&s->mu);
  int me = s->next++;
  pthread_mutex_unlock(&s->mu);
  double worst = 0, dworst = 0, tworst = 0;
  float wx = 0, dwx = 0, twx = 0;
  uint64_t n = 0, rounded = 0, bad = 0;
  for (uint64_t u = (uint64_t)me * s->step; u < (1ull << 32); u += (uint64_t)s->nthreads * s->step) {
    float x = actfit_bits_f32((uint32_t)u);
    if (x != x)
      continue;
    float y = actfit_elem_f(s->act, s->p, x);
    double r = actfit_ref_f(s->act, s->p, x);
    float rf = (float)r;
    n++;
    if (y == rf || (y != y && r != r)) {
      rounded++;
      continue;
    }
    double e;
    if (isinf(rf) || r != r)
      e = isinf(rf) && fabsf(y) == 0x1.fffffep127f && (y > 0) == (r > 0) ? 0.5 : INFINITY;
    else
      e = fabs((double)y - r) / spacing(r);
    if (e >= 1.0)
      bad++;
    if (e > worst || (e == worst && fabsf(x) < fabsf(wx))) {
      worst = e;
      wx = x;
    }
    if (x > -s->dtop && x < s->dpos && (e > dworst || (e == dworst && fabsf(x) < fabsf(dwx)))) {
      dworst = e;
      dwx = x;
    }
    if (x >= s->dtop && x < s->dpos && (e > tworst || (e == tworst && x < twx))) {
      tworst = e;
      twx = x;
    }
  }
  pthread_mutex_lock(&s->mu);
  if (worst > s->worst) {
    s->worst = worst;
    s->worst_x = wx;
  }
  if (dworst > s->dworst) {
    s->dworst = dworst;
    s->dworst_x = dwx;
  }
  if (tworst > s->tworst) {
    s->tworst = tworst;
    s->tworst_x = twx;
  }
  s->n += n;
  s->rounded += rounded;
  s->bad += bad;
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* fp16 or bf16 (bf = 1): inputs where the pass's y (elem.h's 16-bit forward, rounded to the
 * dtype) differs from r rounded, and (*far) where it is not even one of the two dtype values
 * around r (more than 1 ulp of the dtype off) */
static void sweep16(int act, const float *p, int bf, uint64_t *n, uint64_t *differ, uint64_t *far)
{
  *n = *differ = *far = 0;
  for (uint32_t h = 0; h < 65536; h++) {
    float x = bf ? actfit_bf16_to_f32((uint16_t)h) : actfit_f16_to_f32((uint16_t)h);
    if (x != x)
      continue;
    float y = actfit_elem_f16(act, p, x);
    double r = actfit_ref_f(act, p, x);
    /* the exact value rounded to the dtype: via float is exact enough unless r sits within
     * float rounding of a midpoint, where r decides */
    uint16_t got = bf ? actfit_f32_to_bf16(y) : actfit_f32_to_f16(y);
    float rf = (float)r;
    uint16_t want = bf ? actfit_f32_to_bf16(rf) : actfit_f32_to_f16(rf);
    if (got != want) { /* rf may itself have rounded across a midpoint: compare exactly */
      float a = bf ? actfit_bf16_to_f32(got) : actfit_f16_to_f32(got);
      float b = bf ? actfit_bf16_to_f32(want) : actfit_f16_to_f32(want);
      if (fabs((double)a - r) < fabs((double)b - r))
        want = got;
    }
    (*n)++;
    *differ += got != want;
    if (got != want && isfinite(r)) { /* got and want must be neighbours, r between them */
      float a = bf ? actfit_bf16_to_f32(got) : actfit_f16_to_f32(got);
      float b = bf ? actfit_bf16_to_f32(want) : actfit_f16_to_f32(want);
      int adjacent = (uint16_t)(got - want) == 1 || (uint16_t)(want - got) == 1 ||
                     ((got & 0x7fffu) == 0 && (want & 0x7fffu) <= 1) ||
                     ((want & 0x7fffu) == 0 && (got & 0x7fffu) <= 1);
      *far += !(adjacent && ((a <= r && r <= b) || (b <= r && r <= a)));
    }
  }
}

int main(int argc, char **argv)
{
  uint64_t step = 1;
  long nt = sysconf(_SC_NPROCESSORS_ONLN);
  int want[ACTFIT_A_COUNT] = {0}, any = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--step") && i + 1 < argc) {
      char *end;
      step = strtoull(argv[++i], &end, 10);
      if (*end || step < 1) {
        fprintf(stderr, "ulp_sweep: --step wants a positive integer, not '%s'\n", argv[i]);
        return 2;
      }
    } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      nt = atol(argv[++i]);
      if (nt < 1 || nt > 1024) {
        fprintf(stderr, "ulp_sweep: --threads wants 1..1024\n");
        return 2;
      }
    } else {
      int k = 0;
      while (k < ACTFIT_A_COUNT && strcmp(actfit_act_types[k].name, argv[i]))
        k++;
      if (k == ACTFIT_A_COUNT) {
        fprintf(stderr, "ulp_sweep: unknown activation '%s' (the built-ins: actfit list)\n", argv[i]);
        return 2;
      }
      want[k] = any = 1;
    }
  }
  printf("# float forward against the double reference: fp32 over %s inputs (NaNs excluded), fp16/bf16 over all 2^16\n",
         step == 1 ? "all 2^32" : "every K-th of the 2^32");
  printf("%-12s %12s %9s %15s %12s %11s %11s\n", "activation", "inputs", "worst ulp", "at x",
         ">= 1 ulp", "corr. rnd", "fp16/bf16 !=");
  int fail = 0;
  for (int k = 0; k < ACTFIT_A_COUNT; k++) {
    if (any && !want[k])
      continue;
    sweep s = {.act = k, .step = step, .nthreads = (int)nt, .dtop = direct_top(k), .dpos = direct_pos(k)};
    for (int j = 0; j < 4; j++)
      s.p[j] = (float)actfit_act_types[k].defaults[j];
    pthread_mutex_init(&s.mu, NULL);
    pthread_t th[1024];
    for (int j = 0; j < s.nthreads; j++)
      pthread_create(&th[j], NULL, worker, &s);
    for (int j = 0; j < s.nthreads; j++)
      pthread_join(th[j], NULL);
    uint64_t n16, d16, f16, nb, db, fb;
    sweep16(k, s.p, 0, &n16, &d16, &f16);
    sweep16(k, s.p, 1, &nb, &db, &fb);
    printf("%-12s %12llu %9.4f %15.8g %12llu %10.6f%% %5llu/%-5llu\n", actfit_act_types[k].name,
           (unsigned long long)s.n, s.worst, s.worst_x, (unsigned long long)s.bad,
           100.0 * (double)s.rounded / (double)s.n, (unsigned long long)d16, (unsigned long long)db);
    if (s.dtop > 0 && s.dpos > s.dtop) {
      printf("%-12s direct path (%g < x < %g): worst %.4f ulp at x = %.8g\n",
             actfit_act_types[k].name, -s.dtop, s.dpos, s.dworst, s.dworst_x);
      printf("%-12s its positive tail (%g <= x < %g): worst %.4f ulp at x = %.8g\n",
             actfit_act_types[k].name, s.dtop, s.dpos, s.tworst, s.tworst_x);
    } else if (s.dtop > 0)
      printf("%-12s direct path (|x| < %g): worst %.4f ulp at x = %.8g\n", actfit_act_types[k].name,
             s.dtop, s.dworst, s.dworst_x);
    if (f16 || fb)
      printf("%-12s fp16/bf16: %llu/%llu inputs more than 1 ulp of the dtype off\n",
             actfit_act_types[k].name, (unsigned long long)f16, (unsigned long long)fb);
    fflush(stdout);
    /* the contract (docs/arithmetic.md): fp32 within 2 ulp for the lean forwards (direct
     * path included), 1 for the float-pair ones; fp16 and bf16 within 1 ulp of the dtype */
    fail |= s.worst >= (actfit_elem_lean(k) ? 2.0 : 1.0) || f16 || fb;
  }
  return fail;
}
