/* actfit tables: fit the built-in set, write tables/ and regenerate kernels/generated/.
 * Byte-reproducible: no times in the files, fits independent of thread and job counts. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actfit/fewbit.h"
#include "actfit/invact.h"
#include "cli.h"

int cli_gen(int ntables, char **paths, const char *dir, const char *args);

/* FewBit: built-ins whose f' is not piecewise constant (those are exact with a few levels) */
#define FEWBIT_ROW_1(name) #name,
#define FEWBIT_ROW_0(name)
#define FEWBIT_ROW(id, name, fwd, fewbit) FEWBIT_ROW_##fewbit(name)
static const char *const fewbit_acts[] = {ACTFIT_ACT_LIST(FEWBIT_ROW) NULL};
#undef FEWBIT_ROW
#undef FEWBIT_ROW_0
#undef FEWBIT_ROW_1
static const char *const weights[] = {"uniform", "gauss:0,1", NULL};

typedef struct {
  int invact;
  const char *act, *weight;
  int bits;
  char path[1200];
  char err[ACTFIT_ERRLEN];
  int status; /* 0 ok, 1 skipped (InvAct not applicable), 2 failed */
} tjob;

typedef struct {
  tjob *jobs;
  int n, next, done, threads_per_job;
  long npoints;
  pthread_mutex_t lock;
  int tty;
  double t0;
} queue;

static void run_job(tjob *j, const queue *q)
{
  actfit_act *a = NULL;
  actfit_table t;
  actfit_status st = actfit_act_alloc(j->act, &a, j->err, sizeof j->err);
  if (st == ACTFIT_OK && !j->invact) {
    actfit_weight *w = NULL;
    st = actfit_weight_alloc(j->weight, &w, j->err, sizeof j->err);
    if (st == ACTFIT_OK) {
      actfit_fewbit_params p;
      actfit_fewbit_params_init(&p);
      p.bits = j->bits;
      p.threads = q->threads_per_job;
      st = actfit_fewbit_fit(a, w, &p, &t, j->err, sizeof j->err);
    }
    actfit_weight_free(w);
  } else if (st == ACTFIT_OK) {
    actfit_invact_params p;
    actfit_invact_params_init(&p);
    p.threads = q->threads_per_job;
    p.npoints = q->npoints;
    st = actfit_invact_fit(a, &p, &t, j->err, sizeof j->err);
    if (st == ACTFIT_ETARGET || st == ACTFIT_ESTRUCT) {
      j->status = 1; /* not applicable: noted, no table */
      actfit_act_free(a);
      return;
    }
  }
  if (st == ACTFIT_OK) {
    st = actfit_table_save(&t, j->path, j->err, sizeof j->err);
    actfit_table_destroy(&t);
  }
  actfit_act_free(a);
  j->status = st == ACTFIT_OK ? 0 : 2;
}

static void *worker(void *arg)
{
  queue *q = arg;
  for (;;) {
    pthread_mutex_lock(&q->lock);
    int i = q->next < q->n ? q->next++ : -1;
    pthread_mutex_unlock(&q->lock);
    if (i < 0)
      return NULL;
    run_job(&q->jobs[i], q);
    pthread_mutex_lock(&q->lock);
    q->done++;
    if (q->tty) {
      int w = 30, f = q->done * w / q->n;
      fprintf(stderr, "\r[%.*s%*s] %d/%d tables  %.1f s", f, "##############################",
              w - f, "", q->done, q->n, cli_now() - q->t0);
      if (q->done == q->n)
        fputc('\n', stderr);
    }
    pthread_mutex_unlock(&q->lock);
  }
}

static int mkdir_p(const char *dir)
{
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      if (mkdir(tmp, 0755) && errno != EEXIST)
        return -1;
      *p = '/';
    }
  return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

static void help(void)
{
  printf("usage: actfit tables [--out DIR] [--gen DIR] [--jobs N] [--points N]\n\n"
         "Fits the built-in set and regenerates the kernel headers:\n"
         "  FewBit b = 1..4 for every built-in whose f' is not piecewise constant, with the\n"
         "  uniform weight (DIR/fewbit/ACT-Bbit.json) and gauss:0,1 (ACT-Bbit-gauss.json);\n"
         "  InvAct for every activation it applies to (DIR/invact/ACT.json);\n"
         "  then `actfit gen` of all of them into --gen (default kernels/generated).\n"
         "  --out DIR     tables directory (default tables)\n"
         "  --jobs N      tables fitted at once (default: cores); output does not depend on it\n"
         "  --points N    points of each InvAct dtype analysis (default 1e7)\n");
}

int cmd_tables(int argc, char **argv)
{
  static const struct option opts[] = {
    {"help", no_argument, 0, 'h'},      {"out", required_argument, 0, 'o'},
    {"gen", required_argument, 0, 'g'}, {"jobs", required_argument, 0, 'j'},
    {"points", required_argument, 0, 'n'}, {0, 0, 0, 0}};
  const char *out = "tables", *gen = "kernels/generated";
  long jobs = sysconf(_SC_NPROCESSORS_ONLN), npoints = 10000000, v;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "ho:g:j:n:", opts, NULL)) != -1) {
    switch (c) {
    case 'h': help(); return CLI_OK;
    case 'o': out = optarg; break;
    case 'g': gen = optarg; break;
    case 'j':
      if (cli_parse_long(optarg, &v) || v < 1 || v > 64) {
        cli_err("tables", "--jobs must be 1..64, got '%s'", optarg);
        return CLI_USAGE;
      }
      jobs = v;
      break;
    case 'n':
      if (cli_parse_long(optarg, &v) || v < 0 || v > 1000000000L) {
        cli_err("tables", "--points must be 0..1e9, got '%s'", optarg);
        return CLI_USAGE;
      }
      npoints = v;
      break;
    default: return cli_usage_hint("tables");
    }
  }
  if (optind < argc) {
    cli_err("tables", "unexpected argument '%s'", argv[optind]);
    return CLI_USAGE;
  }
  char d1[1024], d2[1024];
  snprintf(d1, sizeof d1, "%s/fewbit", out);
  snprintf(d2, sizeof d2, "%s/invact", out);
  if (mkdir_p(d1) || mkdir_p(d2) || mkdir_p(gen)) {
    cli_err("tables", "cannot create '%s' or '%s': %s", out, gen, strerror(errno));
    return CLI_FAIL;
  }
  tjob list[512];
  int n = 0;
  for (int a = 0; fewbit_acts[a]; a++)
    for (int w = 0; weights[w]; w++)
      for (int b = 1; b <= 4; b++) {
        tjob *j = &list[n++];
        memset(j, 0, sizeof *j);
        j->act = fewbit_acts[a];
        j->weight = weights[w];
        j->bits = b;
        snprintf(j->path, sizeof j->path, "%s/%s-%dbit%s.json", d1, j->act, b,
                 w ? "-gauss" : "");
      }
  for (const actfit_act_type *t = actfit_act_types; t->name; t++) {
    tjob *j = &list[n++];
    memset(j, 0, sizeof *j);
    j->invact = 1;
    j->act = t->name;
    snprintf(j->path, sizeof j->path, "%s/%s.json", d2, t->name);
  }
  queue q = {list, n, 0, 0, jobs > 1 ? 1 : 0, npoints, PTHREAD_MUTEX_INITIALIZER,
             cli_show_progress(), cli_now()};
  /* InvAct analyses are the long ones: give them the threads when fitting one at a time */
  pthread_t tid[64];
  int started = 0;
  for (int i = 1; i < jobs; i++) {
    if (pthread_create(&tid[i], NULL, worker, &q))
      break;
    started = i;
  }
  worker(&q);
  for (int i = 1; i <= started; i++)
    pthread_join(tid[i], NULL);
  int failed = 0, m = 0;
  char *paths[512];
  for (int i = 0; i < n; i++) {
    if (list[i].status == 2) {
      cli_err("tables", "%s: %s", list[i].path, list[i].err);
      failed = 1;
    } else if (list[i].status == 1) {
      printf("skipped InvAct %s: %s\n", list[i].act, list[i].err);
    } else {
      paths[m++] = list[i].path;
    }
  }
  if (failed)
    return CLI_FAIL;
  printf("wrote %d tables under %s/ in %.1f s\n", m, out, cli_now() - q.t0);
  char args[64];
  snprintf(args, sizeof args, "(%d tables of 'actfit tables')", m);
  int rc = cli_gen(m, paths, gen, args);
  if (rc == CLI_OK)
    printf("regenerated %d headers + index.h in %s/\n", m, gen);
  return rc;
}
