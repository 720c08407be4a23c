/* actfit apply: the runtime's real forward + backward on float32 x from stdin, grad_out = 1;
 * writes the reconstructed derivative as float32 on stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actfit/runtime.h"
#include "elem.h" /* the dtype conversions */
#include "actfit/table.h"
#include "cli.h"

static void help(void)
{
  printf("usage: actfit apply TABLE.json --dtype fp32|fp16|bf16 [--backend cpu|cuda]\n"
         "                    [--bit-in-y] < x.f32 > dydx.f32\n\n"
         "Reads little-endian float32 x, casts it to the dtype, runs the runtime's forward\n"
         "and backward (grad_out = 1) and writes the reconstructed f'(x) as float32.\n"
         "--bit-in-y keeps InvAct's branch bit in the last mantissa bit of y.\n"
         "For a table fitted from an expression, y = f(x) comes from the fitting library\n"
         "(in double, rounded once to float) and the runtime's encoder writes the state.\n");
}

static size_t dt_size(actfit_dtype d) { return d == ACTFIT_FP32 ? 4 : 2; }

static void to_dtype(actfit_dtype d, const float *x, void *out, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (d == ACTFIT_FP32)
      ((float *)out)[i] = x[i];
    else if (d == ACTFIT_FP16)
      ((uint16_t *)out)[i] = actfit_f32_to_f16(x[i]);
    else
      ((uint16_t *)out)[i] = actfit_f32_to_bf16(x[i]);
  }
}

static void from_dtype(actfit_dtype d, const void *in, float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = d == ACTFIT_FP32   ? ((const float *)in)[i]
           : d == ACTFIT_FP16 ? actfit_f16_to_f32(((const uint16_t *)in)[i])
                              : actfit_bf16_to_f32(((const uint16_t *)in)[i]);
}

int cmd_apply(int argc, char **argv)
{
  static const struct option opts[] = {{"help", no_argument, 0, 'h'},
                                       {"dtype", required_argument, 0, 'd'},
                                       {"backend", required_argument, 0, 'b'},
                                       {"bit-in-y", no_argument, 0, 'y'},
                                       {0, 0, 0, 0}};
  int c, cuda = 0, flags = 0, have_dt = 0;
  actfit_dtype dt = ACTFIT_FP32;
  optind = 1;
  while ((c = getopt_long(argc, argv, "hd:b:y", opts, NULL)) != -1) {
    switch (c) {
    case 'h': help(); return CLI_OK;
    case 'd':
      have_dt = 1;
      if (!strcmp(optarg, "fp32")) dt = ACTFIT_FP32;
      else if (!strcmp(optarg, "fp16")) dt = ACTFIT_FP16;
      else if (!strcmp(optarg, "bf16")) dt = ACTFIT_BF16;
      else {
        cli_err("apply", "--dtype must be fp32, fp16 or bf16, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case 'b':
      if (!strcmp(optarg, "cpu")) cuda = 0;
      else if (!strcmp(optarg, "cuda")) cuda = 1;
      else {
        cli_err("apply", "--backend must be cpu or cuda, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case 'y': flags |= ACTFIT_BIT_IN_Y; break;
    default: return cli_usage_hint("apply");
    }
  }
  if (optind != argc - 1 || !have_dt) {
    cli_err("apply", "need TABLE.json and --dtype");
    return CLI_USAGE;
  }
  if (cuda && !actfit_rt_have_cuda()) {
    cli_err("apply", "--backend cuda: %s", actfit_strerror(ACTFIT_ENODEV));
    return CLI_FAIL;
  }
  char err[ACTFIT_ERRLEN];
  actfit_table t;
  actfit_status st = actfit_table_load(argv[optind], &t, err, sizeof err);
  if (st != ACTFIT_OK) {
    cli_err("apply", "%s", err);
    return st == ACTFIT_EIO ? CLI_FAIL : CLI_USAGE;
  }
  actfit_rt_fewbit fb;
  actfit_rt_invact ia;
  actfit_act *expr = NULL; /* an expression's f, which the runtime does not have */
  int fewbit = t.method == ACTFIT_METHOD_FEWBIT;
  st = fewbit ? actfit_table_to_rt_fewbit(&t, &fb) : actfit_table_to_rt_invact(&t, &ia);
  int need_expr = st == ACTFIT_OK && (fewbit ? fb.act : ia.act) < 0;
  if (need_expr)
    st = actfit_table_act(&t, &expr, err, sizeof err);
  actfit_table_destroy(&t);
  if (st == ACTFIT_OK && (flags & ACTFIT_BIT_IN_Y) && (fewbit || !ia.bit)) {
    cli_err("apply", "%s: --bit-in-y applies to InvAct tables that keep a branch bit, and "
            "this %s", argv[optind], fewbit ? "is a FewBit table" : "exact form keeps none");
    actfit_act_free(expr);
    return CLI_USAGE;
  }
  if (st != ACTFIT_OK) {
    cli_err("apply", "%s: the runtime cannot use this table (%s)", argv[optind],
            need_expr ? err : actfit_strerror(st));
    return CLI_USAGE;
  }
  /* read all of stdin; a read error (a directory, a closed descriptor, an I/O error part
   * way) is an error, never a short result */
  size_t cap = 1 << 20, len = 0;
  unsigned char *in = malloc(cap);
  size_t r;
  errno = 0;
  while (in && (r = fread(in + len, 1, cap - len, stdin)) > 0) {
    len += r;
    if (len == cap) {
      unsigned char *nb = realloc(in, cap * 2);
      if (!nb) { free(in); in = NULL; break; }
      in = nb;
      cap *= 2;
    }
  }
  if (!in) {
    cli_err("apply", "out of memory");
    actfit_act_free(expr);
    return CLI_FAIL;
  }
  if (ferror(stdin)) {
    cli_err("apply", "cannot read standard input: %s", errno ? strerror(errno) : "read error");
    free(in);
    actfit_act_free(expr);
    return CLI_FAIL;
  }

  if (len % 4) {
    cli_err("apply", "stdin holds %zu bytes, not a whole number of float32", len);
    free(in);
    actfit_act_free(expr);
    return CLI_USAGE;
  }
  size_t n = len / 4, es = dt_size(dt);
  float *x = (float *)in, *out = malloc(n * 4 + 4);
  size_t sb = fewbit ? actfit_fewbit_state_bytes(fb.bits, n) : actfit_invact_state_bytes(&ia, flags, n);
  void *hx = malloc(n * es + 4), *hy = malloc(n * es + 4), *hg = malloc(n * es + 4),
       *hs = malloc(sb + 4), *hgi = malloc(n * es + 4);
  int rc = CLI_OK;
  if (!out || !hx || !hy || !hg || !hs || !hgi) {
    cli_err("apply", "out of memory");
    rc = CLI_FAIL;
    goto done;
  }
  to_dtype(dt, x, hx, n);
  if (expr) { /* y = f(x) of the dtype's x, in double, rounded once to float, then to dt */
    from_dtype(dt, hx, out, n);
    for (size_t i = 0; i < n; i++)
      out[i] = (float)actfit_act_f(expr, out[i]);
    to_dtype(dt, out, hy, n);
  }
  float one = 1.0f;
  for (size_t i = 0; i < n; i++)
    to_dtype(dt, &one, (char *)hg + i * es, 1);
  void *dx = hx, *dy = hy, *ds = hs, *dg = hg, *dgi = hgi, *stream = NULL;
  if (cuda) {
    stream = ACTFIT_CUDA_DEFAULT_STREAM;
    if (actfit_rt_device_alloc(n * es, &dx) || actfit_rt_device_alloc(n * es, &dy) ||
        actfit_rt_device_alloc(sb, &ds) || actfit_rt_device_alloc(n * es, &dg) ||
        actfit_rt_device_alloc(n * es, &dgi) || actfit_rt_memcpy(dx, hx, n * es, 0) ||
        actfit_rt_memcpy(dg, hg, n * es, 0) || (expr && actfit_rt_memcpy(dy, hy, n * es, 0))) {
      cli_err("apply", "device memory: %s", actfit_strerror(ACTFIT_EDEVICE));
      rc = CLI_FAIL;
      goto done;
    }
  }
  if (expr)
    st = fewbit ? actfit_fewbit_encode(&fb, dt, dx, ds, n, stream)
                : actfit_invact_encode(&ia, dt, flags, dx, dy, ds, n, stream);
  else
    st = fewbit ? actfit_fewbit_forward(&fb, dt, dx, dy, ds, n, stream)
                : actfit_invact_forward(&ia, dt, flags, dx, dy, ds, n, stream);
  if (st == ACTFIT_OK)
    st = fewbit ? actfit_fewbit_backward(&fb, dt, ds, dg, dgi, n, stream)
                : actfit_invact_backward(&ia, dt, flags, dy, ds, dg, dgi, n, stream);
  if (st == ACTFIT_OK && cuda)
    st = actfit_rt_memcpy(hgi, dgi, n * es, 1);
  if (st != ACTFIT_OK) {
    cli_err("apply", "runtime: %s", actfit_strerror(st));
    rc = CLI_FAIL;
    goto done;
  }
  from_dtype(dt, hgi, out, n);
  if (fwrite(out, 4, n, stdout) != n || fflush(stdout)) {
    cli_err("apply", "cannot write the output");
    rc = CLI_FAIL;
  }
done:
  if (cuda) {
    actfit_rt_device_free(dx == hx ? NULL : dx);
    actfit_rt_device_free(dy == hy ? NULL : dy);
    actfit_rt_device_free(ds == hs ? NULL : ds);
    actfit_rt_device_free(dg == hg ? NULL : dg);
    actfit_rt_device_free(dgi == hgi ? NULL : dgi);
  }
  actfit_act_free(expr);
  free(in); free(out); free(hx); free(hy); free(hg); free(hs); free(hgi);
  return rc;
}
