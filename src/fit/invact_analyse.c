/* InvAct error analysis: the error for exact y over the real line (double), and per storage
 * dtype the max and RMS of g_fit(round(y)) - f'(x) with the kernels' float arithmetic
 * (kernels/elem.h), next to the floor: the exact g applied to the same rounded y.  Points:
 * npoints uniform on [-10, 10] (RMS) plus points clustered around T (max).  Sums are kept
 * per fixed block of points and added in block order, so results do not depend on the
 * number of threads. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "fit/invact_impl.h"

#define BLOCK 4096
#define NCLUSTER 100000

typedef struct {
  const actfit_table *t;
  const actfit_act *act;
  const actfit_rt_invact *rt;
  const float *lut[2][2]; /* [fp16, bf16][s]: exact g for every 16-bit pattern */
  long n;                 /* uniform points */
  long nblocks;
  double *acc;            /* per block: [dtype][variant][max, sum2, fmax, fsum2] */
  int next_thread, nthreads;
  long blocks_done;
  void (*progress)(double, void *);
  void *user;
} job;

#define NACC (ACTFIT_DT_COUNT * 2 * 4)

/* exact g for a stored y on branch s, by Newton from x, falling back to Brent */
static double floor_g(const job *jb, double y, double x, int s)
{
  const actfit_table *t = jb->t;
  if (t->exact)
    return actfit_invact_eval(t, y, s);
  if (t->bit && y <= t->y_min)
    return actfit_act_df(jb->act, t->T);
  double xn = x;
  for (int it = 0; it < 6; it++) {
    double o[2];
    actfit_act_eval_n(jb->act, xn, 2, o);
    double r = o[0] - y;
    if (r == 0)
      return o[1];
    if (!(fabs(o[1]) > 1e-3))
      break;
    double x2 = xn - r / o[1];
    if (t->bit && ((s && x2 > t->T) || (!s && x2 < t->T)))
      break;
    if (fabs(x2 - xn) <= 1e-15 * fabs(xn) + 1e-300) {
      return actfit_act_df(jb->act, x2);
    }
    xn = x2;
  }
  double g;
  if (actfit_invact_reference(jb->act, y, t->bit ? (s ? -1 : 1) : 0, &g, NULL) == ACTFIT_OK)
    return g;
  /* beyond the branch's range: its limit */
  double lim = actfit_act_df(jb->act, (t->bit ? (s ? -1 : 1) : (y > 0 ? 1 : -1)) * 1e3);
  return lim;
}

static void point(const job *jb, double x, double *acc)
{
  const actfit_table *t = jb->t;
  double o[2];
  actfit_act_eval_n(jb->act, x, 2, o);
  int s = t->bit ? x < t->T : 0;
  float yf = (float)o[0];
  for (int k = 0; k < ACTFIT_DT_COUNT; k++)
    for (int v = 0; v < 2; v++) {
      float yr;
      uint16_t pat = 0;
      if (k == ACTFIT_DT_FP32) {
        yr = v ? actfit_elem_store_f32(yf, s) : yf;
      } else if (k == ACTFIT_DT_FP16) {
        pat = v ? actfit_elem_store_f16(yf, s) : actfit_f32_to_f16(yf);
        yr = actfit_f16_to_f32(pat);
      } else {
        pat = v ? actfit_elem_store_bf16(yf, s) : actfit_f32_to_bf16(yf);
        yr = actfit_bf16_to_f32(pat);
      }
      double gfit = actfit_elem_invact(jb->rt, yr, s);
      double gfl = k == ACTFIT_DT_FP32 ? floor_g(jb, yr, x, s)
                                       : jb->lut[k - 1][s][pat];
      double e1 = fabs(gfit - o[1]), e2 = fabs(gfl - o[1]);
      double *a = acc + (k * 2 + v) * 4;
      a[0] = fmax(a[0], e1);
      a[1] += e1 * e1;
      a[2] = fmax(a[2], e2);
      a[3] += e2 * e2;
    }
}

static void *worker(void *arg)
{
  job *jb = arg;
  int me = __atomic_fetch_add(&jb->next_thread, 1, __ATOMIC_RELAXED);
  for (long b = me; b < jb->nblocks; b += jb->nthreads) {
    double *acc = jb->acc + b * NACC;
    long i0 = b * BLOCK, i1 = i0 + BLOCK;
    for (long i = i0; i < i1; i++) {
      double x;
      if (i < jb->n) {
        x = -10 + 20 * (i + 0.5) / (double)jb->n;
      } else if (i < jb->n + NCLUSTER && jb->t->bit) {
        long j = i - jb->n;
        x = jb->t->T + (j % 2 ? 1 : -1) * pow(10.0, -8 + 8.0 * (j / 2) / (NCLUSTER / 2));
      } else {
        continue;
      }
      double tmp[NACC];
      memset(tmp, 0, sizeof tmp);
      point(jb, x, tmp);
      for (int q = 0; q < NACC; q += 2) {
        acc[q] = fmax(acc[q], tmp[q]);
        if (i < jb->n)
          acc[q + 1] += tmp[q + 1]; /* RMS over the uniform points only */
      }
    }
    long done = __atomic_add_fetch(&jb->blocks_done, 1, __ATOMIC_RELAXED);
    if (me == 0 && jb->progress)
      jb->progress((double)done / (double)jb->nblocks, jb->user);
  }
  return NULL;
}

static float *make_lut(const job *jb, int bf16, int s, double ylo, double yhi)
{
  float *l = malloc(sizeof(float) * 65536);
  if (!l)
    return NULL;
  for (uint32_t p = 0; p < 65536; p++) {
    float y = bf16 ? actfit_bf16_to_f32((uint16_t)p) : actfit_f16_to_f32((uint16_t)p);
    if (!isfinite(y) || y < ylo || y > yhi) {
      l[p] = NAN;
      continue;
    }
    double xg = 0;
    if (jb->t->bit && !jb->t->exact)
      xg = s ? jb->t->T - 1 : jb->t->T + 1;
    /* float resolution of g is far below the 16-bit dtypes' own error */
    l[p] = (float)floor_g(jb, y, xg, s);
  }
  return l;
}

actfit_status actfit_invact_analyse(actfit_table *t, const actfit_act *act, long npoints,
                                    int threads, char *err, size_t errlen)
{
  t->err_exact_y = actfit__invact_err_real_line(t, act);
  return actfit__invact_analyse_dtypes(t, act, npoints, NULL, NULL, threads, err, errlen);
}

actfit_status actfit__invact_analyse_dtypes(actfit_table *t, const actfit_act *act, long npoints,
                                            void (*progress)(double, void *), void *user,
                                            int threads, char *err, size_t errlen)
{
  snprintf(t->measured, sizeof t->measured,
           "exact y: max over 440001 x in [-1e3, 1e3] (dense on [-40, 40], clustered at T); "
           "dtypes: %ld uniform x in [-10, 10] (RMS) + %d near T (max), float kernels",
           npoints, t->bit ? NCLUSTER : 0);
  if (npoints <= 0) {
    t->have_dtype_err = 0;
    return ACTFIT_OK;
  }
  actfit_rt_invact rt;
  if (actfit_table_to_rt_invact(t, &rt) != ACTFIT_OK) {
    actfit__seterr(err, errlen, "table has more pieces than the kernels hold");
    return ACTFIT_EINVAL;
  }
  job jb;
  memset(&jb, 0, sizeof jb);
  jb.t = t;
  jb.act = act;
  jb.rt = &rt;
  jb.n = npoints;
  jb.nblocks = (npoints + (t->bit ? NCLUSTER : 0) + BLOCK - 1) / BLOCK;
  jb.progress = progress;
  jb.user = user;
  jb.acc = calloc((size_t)jb.nblocks * NACC, sizeof(double));
  /* range of y on [-10, 10] (+ the minimum), for the 16-bit look-up tables */
  double ylo = INFINITY, yhi = -INFINITY;
  for (int i = 0; i <= 20000; i++) {
    double y = actfit_act_f(act, -10 + 20.0 * i / 20000);
    ylo = fmin(ylo, y);
    yhi = fmax(yhi, y);
  }
  if (t->bit)
    ylo = fmin(ylo, t->y_min);
  ylo -= 0.01 * (fabs(ylo) + 1);
  yhi += 0.01 * (fabs(yhi) + 1);
  actfit_status st = jb.acc ? ACTFIT_OK : ACTFIT_ENOMEM;
  for (int k = 0; k < 2 && st == ACTFIT_OK; k++)
    for (int s = 0; s < 2 && st == ACTFIT_OK; s++)
      if (!(jb.lut[k][s] = make_lut(&jb, k, s, ylo, yhi)))
        st = ACTFIT_ENOMEM;
  if (st == ACTFIT_OK) {
    if (threads <= 0) {
      long nc = sysconf(_SC_NPROCESSORS_ONLN);
      threads = nc < 1 ? 1 : nc > 64 ? 64 : (int)nc;
    }
    jb.nthreads = threads;
    pthread_t tid[64];
    int started = 0;
    for (int i = 1; i < threads; i++) {
      if (pthread_create(&tid[i], NULL, worker, &jb))
        break;
      started = i;
    }
    jb.nthreads = started + 1; /* threads that failed to start leave their blocks to us */
    worker(&jb);
    for (int i = 1; i <= started; i++)
      pthread_join(tid[i], NULL);
    if (progress) /* another thread may have finished the last block */
      progress(1.0, user);
    double tot[NACC] = {0};
    for (long b = 0; b < jb.nblocks; b++)
      for (int q = 0; q < NACC; q += 2) {
        tot[q] = fmax(tot[q], jb.acc[b * NACC + q]);
        tot[q + 1] += jb.acc[b * NACC + q + 1];
      }
    for (int k = 0; k < ACTFIT_DT_COUNT; k++)
      for (int v = 0; v < 2; v++) {
        double *a = tot + (k * 2 + v) * 4;
        t->dt[k][v].max = a[0];
        t->dt[k][v].rms = sqrt(a[1] / (double)npoints);
        t->dt[k][v].floor_max = a[2];
        t->dt[k][v].floor_rms = sqrt(a[3] / (double)npoints);
      }
    t->have_dtype_err = 1;
  }
  for (int k = 0; k < 2; k++)
    for (int s = 0; s < 2; s++)
      free((void *)jb.lut[k][s]);
  free(jb.acc);
  return st;
}
