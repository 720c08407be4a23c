/* The CPU backend's threads (cpu_pass.h): large passes run on every usable core, or on the
 * host's thread team (actfit_cpu_set_parallel), split on group boundaries, so every
 * element's result is independent of the split. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "runtime/cpu_pass.h"

/* elements below which one thread does it all: with threads of the runtime's own (starting
 * them costs tens of microseconds), or on a lent team (whose threads are running already:
 * torch's operators split from 32,768 elements on) */
#define PAR_MIN (1u << 18)
#define PAR_MIN_TEAM (1u << 15)
#define MAX_THREADS 16

/* The threads of one call take chunks of groups from a shared counter until none is left,
 * so a core that is slower (busy with something else, or an efficiency core) does less of
 * the work instead of holding up the call: about four chunks per thread, of 64 to 2048
 * groups (2,048 to 65,536 elements). */
#define CHUNK_MIN 64
#define CHUNK_MAX 2048

typedef struct work {
  const actfit__pass *p;
  size_t groups, chunk;
  _Atomic size_t next;
} work;

static _Atomic(actfit_parallel_fn) host_parallel;

void actfit_cpu_set_parallel(actfit_parallel_fn fn) { atomic_store(&host_parallel, fn); }

static void *worker(void *arg)
{
  work *w = arg;
  for (;;) {
    size_t g0 = atomic_fetch_add_explicit(&w->next, w->chunk, memory_order_relaxed);
    if (g0 >= w->groups)
      return NULL;
    actfit__pass part = *w->p;
    part.g0 = g0;
    part.g1 = w->groups - g0 < w->chunk ? w->groups : g0 + w->chunk;
    actfit__cpu_run_pass(&part);
  }
}

static void team_body(void *arg) { worker(arg); }

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

void actfit__cpu_run_parallel(actfit__pass *p)
{
  size_t groups = (p->n + 31) / 32;
  int nc = usable_cpus();
  actfit_parallel_fn team = atomic_load(&host_parallel);
  /* a lent team has the size its host gave it (one thread on one CPU): T only sizes the
   * chunks there */
  int T = nc < 1 ? 1 : nc > MAX_THREADS ? MAX_THREADS : nc;
  p->nt = actfit__cpu_nt(p);
  if (p->n < (team ? PAR_MIN_TEAM : PAR_MIN) || (!team && T < 2)) {
    p->g0 = 0;
    p->g1 = groups;
    actfit__cpu_run_pass(p);
    return;
  }
  size_t chunk = groups / (4 * (size_t)T);
  work w = {p, groups, chunk < CHUNK_MIN ? CHUNK_MIN : chunk > CHUNK_MAX ? CHUNK_MAX : chunk, 0};
  if (team) { /* every member takes chunks; one that arrives late finds none left */
    team(team_body, &w, 0, 0);
    return;
  }
  pthread_t tid[MAX_THREADS];
  int started = 0;
  while (started < T - 1 && pthread_create(&tid[started], NULL, worker, &w) == 0)
    started++;
  worker(&w); /* this thread works too, and alone if no thread could start */
  for (int q = 0; q < started; q++)
    pthread_join(tid[q], NULL);
}

