/* actfit plot: figures through a pipe to gnuplot, from the templates in plots/ (compiled in).
 * The data go to a temporary file; the figure is written to a temporary name and renamed. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actfit/fewbit.h"
#include "actfit/invact.h"
#include "cli.h"
#include "elem.h"
#include "plot_templates.h"

static void help(void)
{
  printf("usage: actfit plot TABLE.json... -o FILE.png|.svg|.pdf [--range A,B] [--size W,H]\n"
         "                  [--data FILE]\n\n"
         "FewBit tables (same activation): f'(x) with each table's q(x), and f' - q below\n"
         "with the weight's density shaded.  One InvAct table: g_left and g_right against y,\n"
         "and |g(round(y)) - f'(x)| against x per dtype with the storage floor.\n"
         "-o - writes PNG to standard output.  --data FILE writes the columns gnuplot reads\n"
         "(and FILE.err, the error columns).  Needs gnuplot (gnuplot-nox).\n");
}

static int have_gnuplot(void)
{
  const char *path = getenv("PATH");
  if (!path)
    return 0;
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  char *save = NULL;
  for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    char f[4200];
    snprintf(f, sizeof f, "%s/gnuplot", *d ? d : ".");
    if (access(f, X_OK) == 0)
      return 1;
  }
  return 0;
}

/* replaces @TERM@ in the template */
static char *fill(const char *tpl, const char *term)
{
  const char *at = strstr(tpl, "@TERM@");
  size_t n = strlen(tpl) + strlen(term) + 1;
  char *s = malloc(n);
  if (!s)
    return NULL;
  if (!at) {
    strcpy(s, tpl);
    return s;
  }
  snprintf(s, n, "%.*s%s%s", (int)(at - tpl), tpl, term, at + 6);
  return s;
}

static int copy_file(const char *from, const char *to)
{
  char *text;
  size_t len;
  char err[ACTFIT_ERRLEN];
  if (actfit_read_file(from, &text, &len, err, sizeof err) != ACTFIT_OK)
    return -1;
  int rc = actfit_write_file(to, text, len, err, sizeof err) == ACTFIT_OK ? 0 : -1;
  free(text);
  return rc;
}

/* the same built-in with the same parameters, or the same expression */
static int same_act(const actfit_table *a, const actfit_table *b)
{
  if (!a->expr != !b->expr)
    return 0;
  if (a->expr)
    return !strcmp(a->expr, b->expr);
  if (strcmp(a->act_name, b->act_name) || a->nparams != b->nparams)
    return 0;
  for (int i = 0; i < a->nparams; i++)
    if (a->params[i] != b->params[i])
      return 0;
  return 1;
}

int cmd_plot(int argc, char **argv)
{
  static const struct option opts[] = {
    {"help", no_argument, 0, 'h'},       {"output", required_argument, 0, 'o'},
    {"range", required_argument, 0, 'r'}, {"size", required_argument, 0, 's'},
    {"data", required_argument, 0, 'D'},  {0, 0, 0, 0}};
  const char *out = NULL, *data_out = NULL;
  double xmin = NAN, xmax = NAN, W = 1000, H = 800;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "ho:r:s:D:", opts, NULL)) != -1) {
    switch (c) {
    case 'h': help(); return CLI_OK;
    case 'o': out = optarg; break;
    case 'r':
      if (cli_parse_pair(optarg, &xmin, &xmax) || !(xmin < xmax) || !isfinite(xmin) ||
          !isfinite(xmax)) {
        cli_err("plot", "--range needs A,B with finite A < B, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case 's':
      if (cli_parse_pair(optarg, &W, &H) || !(W >= 100 && W <= 10000 && H >= 100 && H <= 10000)) {
        cli_err("plot", "--size needs W,H in 100..10000 pixels, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case 'D': data_out = optarg; break;
    default: return cli_usage_hint("plot");
    }
  }
  int nt = argc - optind;
  if (nt < 1 || !out) {
    cli_err("plot", "need TABLE.json... and -o FILE");
    return CLI_USAGE;
  }
  int orc = cli_output("plot", out);
  if (orc)
    return orc;
  cli_stdout_restore(); /* plot prints nothing but the figure */
  const char *ext = !strcmp(out, "-") ? ".png" : strrchr(out, '.');
  char term[256];
  if (ext && !strcmp(ext, ".png"))
    snprintf(term, sizeof term, "pngcairo size %d,%d font \",11\"", (int)W, (int)H);
  else if (ext && !strcmp(ext, ".svg"))
    snprintf(term, sizeof term, "svg size %d,%d font \",11\"", (int)W, (int)H);
  else if (ext && !strcmp(ext, ".pdf"))
    snprintf(term, sizeof term, "pdfcairo size %g,%g font \",9\"", W / 100, H / 100);
  else {
    cli_err("plot", "output '%s' must end in .png, .svg or .pdf", out);
    return CLI_USAGE;
  }
  if (!have_gnuplot()) {
    cli_err("plot", "gnuplot not found on PATH; install the Debian package gnuplot-nox");
    return CLI_FAIL;
  }
  char err[ACTFIT_ERRLEN];
  actfit_table *t = calloc((size_t)nt, sizeof *t);
  int loaded = 0, rc = CLI_USAGE;
  actfit_act *act = NULL;
  char dpath[] = "/tmp/actfit-plot-XXXXXX";
  int dir_made = 0;
  char f1[64], f2[64], tmpout[4200];
  f1[0] = f2[0] = tmpout[0] = 0;
  if (!t) {
    cli_err("plot", "out of memory");
    return CLI_FAIL;
  }
  for (int i = 0; i < nt; i++) {
    if (actfit_table_load(argv[optind + i], &t[i], err, sizeof err) != ACTFIT_OK) {
      cli_err("plot", "%s", err);
      goto done;
    }
    loaded++;
  }
  int invact = t[0].method == ACTFIT_METHOD_INVACT;
  for (int i = 1; i < nt; i++)
    if (t[i].method != t[0].method || !same_act(&t[i], &t[0])) {
      cli_err("plot", "%s: plot tables of one method and one activation (the same built-in "
              "with the same parameters, or the same expression) together", argv[optind + i]);
      goto done;
    }
  if (invact && nt != 1) {
    cli_err("plot", "InvAct: plot one table at a time");
    goto done;
  }
  if (actfit_table_act(&t[0], &act, err, sizeof err) != ACTFIT_OK) {
    cli_err("plot", "%s", err);
    goto done;
  }
  if (!mkdtemp(dpath)) {
    cli_err("plot", "cannot make a temporary directory: %s", strerror(errno));
    rc = CLI_FAIL;
    goto done;
  }
  dir_made = 1;
  snprintf(f1, sizeof f1, "%s/a.dat", dpath);
  snprintf(f2, sizeof f2, "%s/b.dat", dpath);
  FILE *d1 = fopen(f1, "w"), *d2 = invact ? fopen(f2, "w") : NULL;
  if (!d1 || (invact && !d2)) {
    cli_err("plot", "cannot write temporary data");
    rc = CLI_FAIL;
    if (d1) fclose(d1);
    goto done;
  }
  const int npts = 2000;
  if (!invact) {
    if (isnan(xmin)) {
      xmin = t[0].domain[0];
      xmax = t[0].domain[1];
      if (xmax - xmin > 20) { /* a readable window around the action */
        xmin = fmax(xmin, -8);
        xmax = fmin(xmax, 8);
      }
    }

    /* each table's weight density (zero if the weight cannot be read, e.g. a histogram
     * file that moved) */
    static double xs[2001], wd[16][2001];
    for (int k = 0; k <= npts; k++)
      xs[k] = xmin + (xmax - xmin) * k / npts;
    for (int i = 0; i < nt && i < 16; i++) {
      actfit_weight *w = NULL;
      if (actfit_weight_alloc(t[i].weight, &w, err, sizeof err) != ACTFIT_OK ||
          actfit_weight_density(w, t[i].domain[0], t[i].domain[1],
                                t[i].grid > 0 ? t[i].grid : 4096, xs, npts + 1, wd[i]) != ACTFIT_OK)
        memset(wd[i], 0, sizeof wd[i]);
      actfit_weight_free(w);
    }
    fprintf(d1, "# x f'(x)");
    for (int i = 0; i < nt; i++)
      fprintf(d1, " q_%d err_%d weight_%d", i + 1, i + 1, i + 1);
    fprintf(d1, "\n");
    for (int k = 0; k <= npts; k++) {
      double x = xs[k], d = actfit_act_df(act, x);
      fprintf(d1, "%.9g %.9g", x, d);
      for (int i = 0; i < nt; i++) {
        double q = t[i].levels[actfit_table_code(&t[i], x)];
        fprintf(d1, " %.9g %.9g %.9g", q, d - q, wd[i < 16 ? i : 15][k]);
      }
      fprintf(d1, "\n");
    }
  } else {
    if (isnan(xmin)) {
      xmin = -6;
      xmax = 4;
    }
    fprintf(d1, "# y g_left_fit g_right_fit g_left_exact g_right_exact\n");
    for (int k = 0; k <= npts; k++) {
      double x = xmin + (xmax - xmin) * k / npts, o[3];
      actfit_act_eval(act, x, o);
      int s = t[0].bit ? x < t[0].T : 0;
      double g = actfit_invact_eval(&t[0], o[0], s);
      if (s)
        fprintf(d1, "%.9g %.9g NaN %.9g NaN\n", o[0], g, o[1]);
      else
        fprintf(d1, "%.9g NaN %.9g NaN %.9g\n", o[0], g, o[1]);
    }
    /* error per dtype: max over 64 points per bin, with the float kernels */
    actfit_rt_invact rt;
    if (actfit_table_to_rt_invact(&t[0], &rt) != ACTFIT_OK) {
      cli_err("plot", "the runtime cannot use this table");
      fclose(d1);
      fclose(d2);
      goto done;
    }
    fprintf(d2, "# x fp32_fit fp32_floor fp16_fit fp16_floor bf16_fit bf16_floor\n");
    const int bins = 600, sub = 64;
    for (int b = 0; b < bins; b++) {
      double e[6] = {0};
      for (int k = 0; k < sub; k++) {
        double x = xmin + (xmax - xmin) * (b * sub + k + 0.5) / (bins * sub), o[3];
        actfit_act_eval(act, x, o);
        int s = t[0].bit ? x < t[0].T : 0;
        float yf = (float)o[0];
        float yr[3] = {yf, actfit_f16_to_f32(actfit_f32_to_f16(yf)),
                       actfit_bf16_to_f32(actfit_f32_to_bf16(yf))};
        for (int q = 0; q < 3; q++) {
          double gf = actfit_elem_invact(&rt, yr[q], s), ge = o[1];
          if (!t[0].exact) {
            if (t[0].bit && yr[q] <= t[0].y_min)
              ge = 0;
            else if (actfit_invact_reference(act, yr[q], t[0].bit ? (s ? -1 : 1) : 0, &ge,
                                             NULL) != ACTFIT_OK)
              ge = o[1];
          } else {
            ge = actfit_invact_eval(&t[0], yr[q], s);
          }
          e[2 * q] = fmax(e[2 * q], fabs(gf - o[1]));
          e[2 * q + 1] = fmax(e[2 * q + 1], fabs(ge - o[1]));
        }
      }
      fprintf(d2, "%.9g", xmin + (xmax - xmin) * (b + 0.5) / bins);
      for (int q = 0; q < 6; q++)
        fprintf(d2, " %.6g", fmax(e[q], 1e-12));
      fprintf(d2, "\n");
    }
  }
  int bad = fclose(d1) != 0;
  if (d2)
    bad |= fclose(d2) != 0;
  if (bad) {
    cli_err("plot", "cannot write temporary data");
    rc = CLI_FAIL;
    goto done;
  }
  if (data_out) {
    if (copy_file(f1, data_out) || (invact && (snprintf(tmpout, sizeof tmpout, "%s.err", data_out), copy_file(f2, tmpout)))) {
      cli_err("plot", "cannot write '%s'", data_out);
      rc = CLI_FAIL;
      goto done;
    }
  }
  snprintf(tmpout, sizeof tmpout, "%s/out%s", dpath, ext);
  char *script = fill(invact ? actfit_plot_invact : actfit_plot_fewbit, term);
  FILE *gp = popen("gnuplot 2>&1", "w");
  if (!script || !gp) {
    cli_err("plot", "cannot start gnuplot");
    free(script);
    if (gp)
      pclose(gp);
    rc = CLI_FAIL;
    goto done;
  }
  char name[512];
  actfit_act_spec(act, name, sizeof name);
  fprintf(gp, "outfile = '%s'\nact = '%s'\nxmin = %.17g\nxmax = %.17g\n", tmpout, name, xmin,
          xmax);
  if (invact) {
    fprintf(gp, "gfile = '%s'\nefile = '%s'\n", f1, f2);
  } else {
    /* the key: bits, weight (hist: the file's name) and E of each table; the density of each
     * distinct non-uniform weight is shaded once, uniform ones are named in the key */
    fprintf(gp, "datafile = '%s'\nntables = %d\narray titles[%d]\narray shade[%d]\n"
            "array wnames[%d]\n", f1, nt, nt, nt, nt);
    char wnote[512] = "";
    int anyshade = 0;
    for (int i = 0; i < nt; i++) {
      const char *wn = t[i].weight, *slash = strrchr(wn, '/');
      char wshort[300];
      if (!strncmp(wn, "hist:", 5) && slash)
        snprintf(wshort, sizeof wshort, "hist %s", slash + 1);
      else
        snprintf(wshort, sizeof wshort, "%s", wn);
      for (char *q = wshort; *q; q++) /* nothing gnuplot would read as markup or quotes */
        if (*q == '"' || *q == '\\' || *q == '\'' || *q == '_' || *q == '^' || *q == '@')
          *q = ' ';
      int first = 1;
      for (int j = 0; j < i; j++)
        first &= strcmp(t[j].weight, wn) != 0;
      int uniform = !strcmp(wn, "uniform");
      if (uniform && first && !*wnote)
        snprintf(wnote, sizeof wnote, "uniform weight: flat on [%g, %g]", t[i].domain[0],
                 t[i].domain[1]);
      fprintf(gp, "titles[%d] = \"%d-bit, %s, E = %.3g\"\nshade[%d] = %d\nwnames[%d] = \"%s\"\n",
              i + 1, t[i].bits, wshort, t[i].E, i + 1, first && !uniform, i + 1, wshort);
      anyshade |= first && !uniform;
    }
    fprintf(gp, "wnote = \"%s\"\nanyshade = %d\n", wnote, anyshade);
  }
  fputs(script, gp);
  free(script);
  int st = pclose(gp);
  struct stat sb;
  if (st != 0 || stat(tmpout, &sb) != 0 || sb.st_size == 0) {
    cli_err("plot", "gnuplot failed (status %d)", st);
    rc = CLI_FAIL;
    goto done;
  }
  if (copy_file(tmpout, out)) {
    cli_err("plot", "cannot write '%s': %s", out, strerror(errno));
    rc = CLI_FAIL;
    goto done;
  }
  rc = CLI_OK;
done:
  if (dir_made) {
    unlink(f1);
    unlink(f2);
    snprintf(tmpout, sizeof tmpout, "%s/out%s", dpath, ext ? ext : "");
    unlink(tmpout);
    rmdir(dpath);
  }
  actfit_act_free(act);
  for (int i = 0; i < loaded; i++)
    actfit_table_destroy(&t[i]);
  free(t);
  return rc;
}
