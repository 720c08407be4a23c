/* y = f(x) for n floats (n a multiple of 32), one function per built-in activation:
 * included by cpu_fwd_avx2.c and cpu_fwd_avx512.c, which compile elem.h's float forward with
 * their own flags.  gcc vectorises each loop (elem.h's branches are selects) with the same
 * operations in the same order as the scalar code, so every stored bit equals
 * actfit_elem_f's (tests/test_runtime.c).  GELU's, GELU-tanh's, SiLU's, softplus's,
 * logsigmoid's, sigmoid's, tanh's and Mish's loops are written with vector operations
 * instead (cpu_table_fwd.h).  Define FWD_NAME(a) (the function name for activation a),
 * FWD_TABLE and EXACT_TABLE (the lookups' names), VL (the lanes) and the operations
 * cpu_table_fwd.h lists before including. */
#include "runtime/cpu_impl.h"

#define FWD_ONE(A)                                                                          \
  static void FWD_NAME(A)(const float *restrict pf, const float *restrict x, float *restrict y, \
                          size_t n)                                                         \
  {                                                                                         \
    for (size_t i = 0; i < (n & ~(size_t)31); i++)                                          \
      y[i] = actfit_elem_f(A, pf, x[i]);                                                    \
  }
FWD_ONE(ACTFIT_A_ELU) FWD_ONE(ACTFIT_A_CELU) FWD_ONE(ACTFIT_A_SELU)
FWD_ONE(ACTFIT_A_SOFTSIGN) FWD_ONE(ACTFIT_A_TANHSHRINK)
FWD_ONE(ACTFIT_A_HARDSWISH) FWD_ONE(ACTFIT_A_HARDSIGMOID) FWD_ONE(ACTFIT_A_HARDTANH)
FWD_ONE(ACTFIT_A_RELU) FWD_ONE(ACTFIT_A_RELU6) FWD_ONE(ACTFIT_A_LEAKY_RELU)
FWD_ONE(ACTFIT_A_HARDSHRINK) FWD_ONE(ACTFIT_A_SOFTSHRINK)
#undef FWD_ONE

/* The activations with a table of M(z): written out with the includer's vector operations
 * (cpu_table_fwd.h) */
#include "runtime/cpu_table_fwd.h"
#define FWD_VEC(A, VEC)                                                                     \
  static void FWD_NAME(A)(const float *restrict pf, const float *restrict x, float *restrict y, \
                          size_t n)                                                         \
  {                                                                                         \
    (void)pf;                                                                               \
    for (size_t i = 0; i < (n & ~(size_t)31); i += VL)                                      \
      V_STORE(y + i, VEC(V_LOAD(x + i)));                                                   \
  }
FWD_VEC(ACTFIT_A_GELU, gelu_vec) FWD_VEC(ACTFIT_A_GELU_TANH, gelu_tanh_vec)
FWD_VEC(ACTFIT_A_SILU, silu_vec) FWD_VEC(ACTFIT_A_LOGSIGMOID, logsigmoid_vec)
FWD_VEC(ACTFIT_A_TANH, tanh_vec) FWD_VEC(ACTFIT_A_MISH, mish_vec)
FWD_VEC(ACTFIT_A_SIGMOID, sigmoid_vec)
#undef FWD_VEC

static void FWD_NAME(ACTFIT_A_SOFTPLUS)(const float *restrict pf, const float *restrict x,
                                        float *restrict y, size_t n)
{
  float beta = pf[0], thr = pf[1];
  if (beta == 1.0f)
    for (size_t i = 0; i < (n & ~(size_t)31); i += VL)
      V_STORE(y + i, softplus_vec(V_LOAD(x + i), 1.0f, thr, 1));
  else
    for (size_t i = 0; i < (n & ~(size_t)31); i += VL)
      V_STORE(y + i, softplus_vec(V_LOAD(x + i), beta, thr, 0));
}

/* The InvAct backward's g(y) for the exact forms with an exponential (softplus, logsigmoid),
 * vectorised the same way: y in, g out, n a multiple of 32; pf the table's params */
static void FWD_NAME(EXACT_SOFTPLUS)(const float *restrict pf, const float *restrict y,
                                     float *restrict g, size_t n)
{
  for (size_t i = 0; i < (n & ~(size_t)31); i++)
    g[i] = actfit_exact_softplus(pf, y[i]);
}

static void FWD_NAME(EXACT_LOGSIGMOID)(const float *restrict pf, const float *restrict y,
                                       float *restrict g, size_t n)
{
  (void)pf;
  for (size_t i = 0; i < (n & ~(size_t)31); i++)
    g[i] = actfit_exact_logsigmoid(y[i]);
}

actfit__f32_fn EXACT_TABLE(int exact)
{
  return exact == ACTFIT_EXACT_SOFTPLUS ? FWD_NAME(EXACT_SOFTPLUS)
         : exact == ACTFIT_EXACT_LOGSIGMOID ? FWD_NAME(EXACT_LOGSIGMOID) : NULL;
}

/* the function for activation act (ACTFIT_A_*), NULL for any other */
actfit__f32_fn FWD_TABLE(int act)
{
  static const actfit__f32_fn fn[ACTFIT_A_COUNT] = {
    [ACTFIT_A_GELU] = FWD_NAME(ACTFIT_A_GELU), [ACTFIT_A_GELU_TANH] = FWD_NAME(ACTFIT_A_GELU_TANH),
    [ACTFIT_A_SILU] = FWD_NAME(ACTFIT_A_SILU), [ACTFIT_A_MISH] = FWD_NAME(ACTFIT_A_MISH),
    [ACTFIT_A_SOFTPLUS] = FWD_NAME(ACTFIT_A_SOFTPLUS), [ACTFIT_A_ELU] = FWD_NAME(ACTFIT_A_ELU),
    [ACTFIT_A_CELU] = FWD_NAME(ACTFIT_A_CELU), [ACTFIT_A_SELU] = FWD_NAME(ACTFIT_A_SELU),
    [ACTFIT_A_SIGMOID] = FWD_NAME(ACTFIT_A_SIGMOID), [ACTFIT_A_TANH] = FWD_NAME(ACTFIT_A_TANH),
    [ACTFIT_A_LOGSIGMOID] = FWD_NAME(ACTFIT_A_LOGSIGMOID),
    [ACTFIT_A_SOFTSIGN] = FWD_NAME(ACTFIT_A_SOFTSIGN),
    [ACTFIT_A_TANHSHRINK] = FWD_NAME(ACTFIT_A_TANHSHRINK),
    [ACTFIT_A_HARDSWISH] = FWD_NAME(ACTFIT_A_HARDSWISH),
    [ACTFIT_A_HARDSIGMOID] = FWD_NAME(ACTFIT_A_HARDSIGMOID),
    [ACTFIT_A_HARDTANH] = FWD_NAME(ACTFIT_A_HARDTANH), [ACTFIT_A_RELU] = FWD_NAME(ACTFIT_A_RELU),
    [ACTFIT_A_RELU6] = FWD_NAME(ACTFIT_A_RELU6), [ACTFIT_A_LEAKY_RELU] = FWD_NAME(ACTFIT_A_LEAKY_RELU),
    [ACTFIT_A_HARDSHRINK] = FWD_NAME(ACTFIT_A_HARDSHRINK),
    [ACTFIT_A_SOFTSHRINK] = FWD_NAME(ACTFIT_A_SOFTSHRINK)};
  return act >= 0 && act < ACTFIT_A_COUNT ? fn[act] : NULL;
}
