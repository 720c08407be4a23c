/* Weights for the FewBit objective: uniform, normal density, and histograms of real
 * pre-activation samples: hist:FILE (text, one value per line) or hist:f32:FILE (raw
 * little-endian float32).  The format is named, never guessed; the spec a table records
 * holds the file's absolute path, so the table evaluates from any directory. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actfit/table.h"
#include "core/util.h"
#include "fit/fit_impl.h"

#define INV_SQRT_2PI 0.39894228040143267794

/* a NUL byte, which no text sample file holds */
static int has_nul(const char *buf, size_t n) { return memchr(buf, 0, n) != NULL; }

static actfit_status load_hist(actfit_weight *w, const char *path, int raw, char *err,
                               size_t errlen)
{
  char *buf;
  size_t n;
  actfit_status st = actfit_read_file(path, &buf, &n, err, errlen);
  if (st != ACTFIT_OK)
    return st;
  size_t cap = 1024, ns = 0;
  double *s = malloc(cap * sizeof *s);
  if (!s) {
    free(buf);
    return ACTFIT_ENOMEM;
  }
  if (!raw && has_nul(buf, n)) {
    actfit__seterr(err, errlen, "hist '%s': binary data in a text sample file (use hist:f32:FILE "
                   "for raw float32)", path);
    st = ACTFIT_EPARSE;
  } else if (!raw) {
    char *p = buf, *end;
    size_t line = 1;
    for (;;) {
      while (*p && isspace((unsigned char)*p)) {
        if (*p == '\n')
          line++;
        p++;
      }
      if (!*p)
        break;
      errno = 0;
      double v = strtod(p, &end);
      if (end == p || (*end && !isspace((unsigned char)*end))) {
        actfit__seterr(err, errlen, "hist '%s': line %zu is not a number (text samples, one "
                       "per line; hist:f32:FILE reads raw float32)", path, line);
        st = ACTFIT_EPARSE;
        break;
      }
      if (!isfinite(v)) {
        actfit__seterr(err, errlen, "hist '%s': line %zu is not finite", path, line);
        st = ACTFIT_EINVAL;
        break;
      }
      if (ns == cap) {
        double *t = realloc(s, 2 * cap * sizeof *s);
        if (!t) { st = ACTFIT_ENOMEM; break; }
        s = t;
        cap *= 2;
      }
      s[ns++] = v;
      p = end;
    }
  } else {
    if (n % 4) {
      actfit__seterr(err, errlen, "hist '%s': %zu bytes is not a whole number of float32",
                     path, n);
      st = ACTFIT_EINVAL;
    } else {
      ns = n / 4;
      double *t = realloc(s, (ns ? ns : 1) * sizeof *s);
      if (!t)
        st = ACTFIT_ENOMEM;
      else
        s = t;
      for (size_t i = 0; st == ACTFIT_OK && i < ns; i++) {
        const unsigned char *b = (const unsigned char *)buf + 4 * i;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[3] << 24;
        float f;
        memcpy(&f, &u, 4);
        if (!isfinite(f)) {
          actfit__seterr(err, errlen, "hist '%s': sample %zu is not finite", path, i);
          st = ACTFIT_EINVAL;
        }
        s[i] = f;
      }
    }
  }
  free(buf);
  if (st == ACTFIT_OK && ns < 2) {
    actfit__seterr(err, errlen, "hist '%s': needs at least 2 samples, found %zu", path, ns);
    st = ACTFIT_EINVAL;
  }
  if (st == ACTFIT_OK) {
    qsort(s, ns, sizeof *s, actfit__cmp_double);
    if (!(s[0] < s[ns - 1])) {
      actfit__seterr(err, errlen, "hist '%s': all samples are equal", path);
      st = ACTFIT_EINVAL;
    }
  }
  if (st != ACTFIT_OK) {
    free(s);
    return st;
  }
  w->samples = s;
  w->ns = ns;
  return ACTFIT_OK;
}

actfit_status actfit_weight_alloc(const char *spec, actfit_weight **out, char *err,
                                  size_t errlen)
{
  *out = NULL;
  actfit_weight *w = calloc(1, sizeof *w);
  if (!w)
    return ACTFIT_ENOMEM;
  if (!spec)
    spec = "uniform";
  snprintf(w->spec, sizeof w->spec, "%s", spec);
  actfit_status st = ACTFIT_OK;
  if (strcmp(spec, "uniform") == 0) {
    w->kind = W_UNIFORM;
  } else if (strncmp(spec, "gauss:", 6) == 0) {
    w->kind = W_GAUSS;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", spec + 6);
    char *comma = strchr(buf, ',');
    if (!comma) {
      actfit__seterr(err, errlen, "weight '%s': expected gauss:MU,SIGMA", spec);
      st = ACTFIT_EPARSE;
    } else {
      *comma = 0;
      if (actfit__parse_double(buf, &w->mu) || actfit__parse_double(comma + 1, &w->sigma) ||
          !isfinite(w->mu) || !isfinite(w->sigma)) {
        actfit__seterr(err, errlen, "weight '%s': MU and SIGMA must be finite numbers", spec);
        st = ACTFIT_EPARSE;
      } else if (!(w->sigma > 0)) {
        actfit__seterr(err, errlen, "weight '%s': SIGMA must be > 0", spec);
        st = ACTFIT_EINVAL;
      }
    }
  } else if (strncmp(spec, "hist:", 5) == 0) {
    w->kind = W_HIST;
    int raw = strncmp(spec + 5, "f32:", 4) == 0;
    const char *path = spec + 5 + (raw ? 4 : 0);
    st = load_hist(w, path, raw, err, errlen);
    char *abs = st == ACTFIT_OK ? realpath(path, NULL) : NULL;
    if (abs) {
      if (snprintf(w->spec, sizeof w->spec, "hist:%s%s", raw ? "f32:" : "", abs) >=
          (int)sizeof w->spec) {
        actfit__seterr(err, errlen, "hist '%s': the absolute path is too long", path);
        st = ACTFIT_EINVAL;
      }
      free(abs);
    }
  } else {
    actfit__seterr(err, errlen, "unknown weight '%s' (uniform, gauss:MU,SIGMA, hist:FILE, "
                   "hist:f32:FILE)", spec);
    st = ACTFIT_EUNKNOWN;
  }
  if (st != ACTFIT_OK) {
    actfit_weight_free(w);
    return st;
  }
  *out = w;
  return ACTFIT_OK;
}

void actfit_weight_free(actfit_weight *w)
{
  if (!w)
    return;
  free(w->samples);
  free(w);
}

const char *actfit_weight_spec(const actfit_weight *w) { return w->spec; }

void actfit_weight_default_domain(const actfit_weight *w, double *a, double *b)
{
  switch (w->kind) {
  case W_GAUSS: *a = w->mu - 8 * w->sigma; *b = w->mu + 8 * w->sigma; break;
  case W_HIST: *a = w->samples[0]; *b = w->samples[w->ns - 1]; break;
  default: *a = -10.0; *b = 10.0; break;
  }
}

/* density of the unfolded weight at x inside [a, b] */
static double dens(const actfit__wfun *f, double x)
{
  if (x < f->a || x > f->b)
    return 0.0;
  switch (f->w->kind) {
  case W_GAUSS: {
    double z = (x - f->w->mu) / f->w->sigma;
    return INV_SQRT_2PI * exp(-0.5 * z * z) / f->w->sigma;
  }
  case W_HIST: return 0.0; /* handled on the bound cells */
  default: return 1.0 / (f->b - f->a);
  }
}

double actfit__wfun_eval(const actfit__wfun *f, double x)
{
  if (f->w->kind == W_HIST) {
    if (!f->hist || x < f->nodes[0] || x > f->nodes[f->n])
      return 0.0;
    int lo = 0, hi = f->n - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) / 2;
      if (f->nodes[mid] <= x)
        lo = mid;
      else
        hi = mid - 1;
    }
    return f->hist[lo];
  }
  if (f->fold)
    return x < 0 ? 0.0 : dens(f, x) + (x > 0 ? dens(f, -x) : 0.0);
  return dens(f, x);
}

actfit_status actfit__wfun_bind(actfit__wfun *f, const double *nodes, int n)
{
  f->nodes = nodes;
  f->n = n;
  if (f->w->kind != W_HIST)
    return ACTFIT_OK;
  free(f->hist);
  f->hist = calloc((size_t)n, sizeof *f->hist);
  if (!f->hist)
    return ACTFIT_ENOMEM;
  size_t total = 0;
  for (size_t i = 0; i < f->w->ns; i++) {
    double x = f->w->samples[i];
    if (x < f->a || x > f->b)
      continue;
    if (f->fold)
      x = fabs(x);
    if (x < nodes[0] || x > nodes[n])
      continue;
    int lo = 0, hi = n - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) / 2;
      if (nodes[mid] <= x)
        lo = mid;
      else
        hi = mid - 1;
    }
    f->hist[lo] += 1.0;
    total++;
  }
  if (!total)
    return ACTFIT_EINVAL;
  for (int c = 0; c < n; c++)
    f->hist[c] /= (double)total * (nodes[c + 1] - nodes[c]);
  return ACTFIT_OK;
}

actfit_status actfit__wfun_bind_uniform(actfit__wfun *f, int n, double **nodes)
{
  *nodes = NULL;
  if (f->w->kind != W_HIST)
    return ACTFIT_OK;
  double *x = malloc(sizeof *x * ((size_t)n + 1));
  if (!x)
    return ACTFIT_ENOMEM;
  for (int i = 0; i <= n; i++)
    x[i] = i == n ? f->b : f->a + (f->b - f->a) * i / n;
  actfit_status st = actfit__wfun_bind(f, x, n);
  if (st != ACTFIT_OK) {
    free(x);
    return st;
  }
  *nodes = x;
  return ACTFIT_OK;
}

void actfit__wfun_destroy(actfit__wfun *f)
{
  free(f->hist);
  f->hist = NULL;
}

actfit_status actfit_weight_density(const actfit_weight *w, double a, double b, int nbins,
                                    const double *xs, int nx, double *out)
{
  if (!(a < b) || nbins < 1)
    return ACTFIT_EINVAL;
  actfit__wfun wf = {w, a, b, 0, NULL, 0, NULL};
  double *nodes = NULL;
  actfit_status st = actfit__wfun_bind_uniform(&wf, nbins, &nodes);
  if (st != ACTFIT_OK)
    return st;
  for (int i = 0; i < nx; i++)
    out[i] = actfit__wfun_eval(&wf, xs[i]);
  actfit__wfun_destroy(&wf);
  free(nodes);
  return ACTFIT_OK;
}
