/* actfit gen: generated headers for the kernels from tables. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actfit/gen.h"
#include "cli.h"

static void help(void)
{
  printf("usage: actfit gen TABLE.json... -o DIR\n\n"
         "Writes DIR/<dir>_<name>.h for each table (data for the runtime and the CUDA\n"
         "kernels: hex-float constants, banner with the table's sha256, no dates) and\n"
         "DIR/index.h listing them for actfit_rt_fewbit_builtin / actfit_rt_invact_builtin.\n");
}

int cli_gen(int ntables, char **paths, const char *dir, const char *args)
{
  char err[ACTFIT_ERRLEN];
  actfit_table *tabs = calloc((size_t)ntables, sizeof *tabs);
  char (*stems)[256] = calloc((size_t)ntables, sizeof *stems);
  const actfit_table **tp = calloc((size_t)ntables, sizeof *tp);
  const char **sp = calloc((size_t)ntables, sizeof *sp);
  int rc = CLI_OK, loaded = 0;
  if (!tabs || !stems || !tp || !sp) {
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
    char *hdr = NULL, path[1024];
    if (st != ACTFIT_OK)
      cli_err("gen", "%s: %s", paths[i], err);
    else if (actfit_gen_stem(paths[i], stems[i], sizeof stems[i]) != ACTFIT_OK)
      cli_err("gen", "%s: cannot make a C identifier from the file name", paths[i]), st = ACTFIT_EINVAL;
    else if ((st = actfit_gen_header(&tabs[i], text, len, paths[i], paths[i], &hdr, err,
                                     sizeof err)) != ACTFIT_OK)
      cli_err("gen", "%s", err);
    else {
      snprintf(path, sizeof path, "%s/%s.h", dir, stems[i]);
      if ((st = actfit_write_file(path, hdr, strlen(hdr), err, sizeof err)) != ACTFIT_OK)
        cli_err("gen", "%s", err);
    }
    free(hdr);
    free(text);
    if (st != ACTFIT_OK)
      rc = st == ACTFIT_EIO ? CLI_FAIL : CLI_USAGE;
    tp[i] = &tabs[i];
    sp[i] = stems[i];
  }
  if (rc == CLI_OK) {
    char *idx, path[1024];
    if (actfit_gen_index(tp, sp, ntables, args, &idx) != ACTFIT_OK) {
      cli_err("gen", "out of memory");
      rc = CLI_FAIL;
    } else {
      snprintf(path, sizeof path, "%s/index.h", dir);
      if (actfit_write_file(path, idx, strlen(idx), err, sizeof err) != ACTFIT_OK) {
        cli_err("gen", "%s", err);
        rc = CLI_FAIL;
      }
      free(idx);
    }
  }
done:
  for (int i = 0; i < loaded; i++)
    actfit_table_destroy(&tabs[i]);
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
