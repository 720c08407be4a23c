/* actfit gen: generated headers for the kernels from tables. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actfit/gen.h"
#include "cli.h"

static void help(void)
{
  printf("usage: actfit gen TABLE.json... -o DIR\n\n"
         "Writes DIR/<dir>_<name>.h for each table (data for the runtime and the CUDA\n"
         "kernels: hex-float constants, banner with the table's sha256, no dates) and\n"
         "DIR/index.h listing them for actfit_rt_fewbit_builtin / actfit_rt_invact_builtin.\n"
         "DIR is created.  Nothing is written if any table is bad, and a DIR whose index.h\n"
         "lists other tables (kernels/generated/, the built-in set) is refused: run\n"
         "'actfit tables' to regenerate that.  A table fitted from an expression gets a\n"
         "header (act = -1) for actfit_*_encode and the backward passes, and no index entry.\n");
}

/* mkdir -p */
static int make_dir(const char *dir)
{
  char p[1024];
  if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
    return -1;
  for (char *q = p + 1; *q; q++)
    if (*q == '/') {
      *q = 0;
      if (mkdir(p, 0777) != 0 && errno != EEXIST)
        return -1;
      *q = '/';
    }
  return mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* The headers an existing DIR/index.h includes that the new set lacks: writing the new
 * index would drop them from the runtime's built-in lookups.  Returns how many, and the
 * first in *first. */
static int dropped(const char *dir, char **stems, int n, char *first, size_t flen)
{
  char path[1100], *text, err[ACTFIT_ERRLEN];
  snprintf(path, sizeof path, "%s/index.h", dir);
  if (access(path, F_OK) != 0 || actfit_read_file(path, &text, NULL, err, sizeof err) != ACTFIT_OK)
    return 0;
  int count = 0;
  for (char *q = text; (q = strstr(q, "#include \"")) != NULL;) {
    q += 10;
    char *e = strstr(q, ".h\"");
    if (!e)
      break;
    int found = (e - q == 4 && !strncmp(q, "elem", 4));
    for (int i = 0; i < n && !found; i++)
      found = strlen(stems[i]) == (size_t)(e - q) && !strncmp(stems[i], q, (size_t)(e - q));
    if (!found && count++ == 0)
      snprintf(first, flen, "%.*s", (int)(e - q), q);
    q = e;
  }
  free(text);
  return count;
}

/* All or nothing: every table is read and its header made in memory first; a bad table
 * writes nothing.  A directory whose index.h lists tables outside the new set is refused,
 * since the new index would drop them (kernels/generated/ holds the whole built-in set:
 * `actfit tables` regenerates it). */
int cli_gen(int ntables, char **paths, const char *dir, const char *args)
{
  char err[ACTFIT_ERRLEN];
  actfit_table *tabs = calloc((size_t)ntables, sizeof *tabs);
  char (*stems)[256] = calloc((size_t)ntables, sizeof *stems);
  const actfit_table **tp = calloc((size_t)ntables, sizeof *tp);
  const char **sp = calloc((size_t)ntables, sizeof *sp);
  char **hdrs = calloc((size_t)ntables, sizeof *hdrs);
  int rc = CLI_OK, loaded = 0;
  if (!tabs || !stems || !tp || !sp || !hdrs) {
    cli_err("gen", "out of memory");
    rc = CLI_FAIL;
    goto done;
  }
  for (int i = 0; i < ntables && rc == CLI_OK; i++) {
    char *text;
    size_t len;
    if (actfit_read_file(paths[i], &text, &len, err, sizeof err) != ACTFIT_OK) {
      cli_err("gen", "%s", err);
      rc = CLI_FAIL;
      break;
    }
    actfit_status st = actfit_table_from_json(text, &tabs[i], err, sizeof err);
    if (st == ACTFIT_OK)
      loaded = i + 1;
    if (st != ACTFIT_OK)
      cli_err("gen", "%s: %s", paths[i], err);
    else if (actfit_gen_stem(paths[i], stems[i], sizeof stems[i]) != ACTFIT_OK)
      cli_err("gen", "%s: cannot make a C identifier from the file name", paths[i]), st = ACTFIT_EINVAL;
    else if ((st = actfit_gen_header(&tabs[i], text, len, paths[i], paths[i], &hdrs[i], err,
                                     sizeof err)) != ACTFIT_OK)
      cli_err("gen", "%s", err);
    for (int j = 0; j < i && st == ACTFIT_OK; j++)
      if (!strcmp(stems[j], stems[i])) {
        cli_err("gen", "%s and %s would both write %s.h", paths[j], paths[i], stems[i]);
        st = ACTFIT_EINVAL;
      }
    free(text);
    if (st != ACTFIT_OK)
      rc = st == ACTFIT_EIO ? CLI_FAIL : CLI_USAGE;
    tp[i] = &tabs[i];
    sp[i] = stems[i];
  }
  if (rc == CLI_OK) {
    char first[256] = "";
    int nd = dropped(dir, (char **)sp, ntables, first, sizeof first);
    if (nd) {
      cli_err("gen", "%s/index.h lists %d table(s) not given here (%s.h, ...): the new index "
              "would drop them from the runtime; run 'actfit tables' to regenerate the whole "
              "set, or gen into another directory", dir, nd, first);
      rc = CLI_USAGE;
    } else if (make_dir(dir) != 0) {
      cli_err("gen", "cannot create directory '%s': %s", dir, strerror(errno));
      rc = CLI_FAIL;
    }
  }
  char *idx = NULL, path[1024];
  if (rc == CLI_OK && actfit_gen_index(tp, sp, ntables, args, &idx) != ACTFIT_OK) {
    cli_err("gen", "out of memory");
    rc = CLI_FAIL;
  }
  for (int i = 0; i < ntables && rc == CLI_OK; i++) {
    snprintf(path, sizeof path, "%s/%s.h", dir, stems[i]);
    if (actfit_write_file(path, hdrs[i], strlen(hdrs[i]), err, sizeof err) != ACTFIT_OK) {
      cli_err("gen", "%s", err);
      rc = CLI_FAIL;
    }
  }
  if (rc == CLI_OK) {
    snprintf(path, sizeof path, "%s/index.h", dir);
    if (actfit_write_file(path, idx, strlen(idx), err, sizeof err) != ACTFIT_OK) {
      cli_err("gen", "%s", err);
      rc = CLI_FAIL;
    }
  }
  free(idx);
done:
  for (int i = 0; i < loaded; i++)
    actfit_table_destroy(&tabs[i]);
  for (int i = 0; hdrs && i < ntables; i++)
    free(hdrs[i]);
  free(hdrs);
  free(tabs);
  free(stems);
  free(tp);
  free(sp);
  return rc;
}

int cmd_gen(int argc, char **argv)
{
  static const struct option opts[] = {{"help", no_argument, 0, 'h'},
                                       {"output", required_argument, 0, 'o'},
                                       {0, 0, 0, 0}};
  const char *dir = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
    switch (c) {
    case 'h': help(); return CLI_OK;
    case 'o': dir = optarg; break;
    default: return cli_usage_hint("gen");
    }
  }
  if (!dir || optind >= argc) {
    cli_err("gen", "need TABLE.json... and -o DIR");
    return CLI_USAGE;
  }
  /* the banner records the tables as given, not the output directory, so regenerating
   * elsewhere gives the same bytes */
  char args[4096] = "";
  size_t used = 0;
  for (int i = optind; i < argc; i++) {
    int w = snprintf(args + used, sizeof args - used, "%s%s", i > optind ? " " : "", argv[i]);
    if (w < 0 || (size_t)w >= sizeof args - used) {
      snprintf(args, sizeof args, "(%d tables)", argc - optind);
      break;
    }
    used += (size_t)w;
  }
  return cli_gen(argc - optind, argv + optind, dir, args);
}
