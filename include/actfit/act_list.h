/* The one list of built-in activations.  Each row: the enum suffix (ACTFIT_A_<ID>), the name
 * (`actfit list`, tables, Python), how the CPU backend's fp32 forward loop is made, and
 * whether `actfit tables` publishes FewBit fits for it (those whose f' is not piecewise
 * constant).  Forward loops: ONE, gcc vectorises elem.h's scalar code; VEC, written out with
 * vector operations over a table of M(z) (cpu_table_fwd.h's <name>_vec); DIR, the same with
 * elem.h's direct path below |x| = <name>_D_TOP (<name>_d_vec) and <name>_vec beyond it; OWN,
 * a loop of its own in cpu_fwd.h.  The enum, the names, the dispatch tables and the list `actfit tables`
 * fits are made from it; src/act/builtin.c's descriptors must follow its order, which a
 * _Static_assert (count) and the act tests (names) check.  Adding an activation: a row here,
 * its formulas in builtin.c and kernels/elem.h. */
#ifndef ACTFIT_ACT_LIST_H
#define ACTFIT_ACT_LIST_H

#define ACTFIT_ACT_LIST(XX)            \
  XX(GELU,        gelu,        DIR, 1) \
  XX(GELU_TANH,   gelu_tanh,   DIR, 1) \
  XX(SILU,        silu,        DIR, 1) \
  XX(MISH,        mish,        DIR, 1) \
  XX(SOFTPLUS,    softplus,    OWN, 1) \
  XX(ELU,         elu,         ONE, 1) \
  XX(CELU,        celu,        ONE, 1) \
  XX(SELU,        selu,        ONE, 1) \
  XX(SIGMOID,     sigmoid,     VEC, 1) \
  XX(TANH,        tanh,        VEC, 1) \
  XX(LOGSIGMOID,  logsigmoid,  VEC, 1) \
  XX(SOFTSIGN,    softsign,    ONE, 1) \
  XX(TANHSHRINK,  tanhshrink,  ONE, 1) \
  XX(HARDSWISH,   hardswish,   ONE, 1) \
  XX(HARDSIGMOID, hardsigmoid, ONE, 0) \
  XX(HARDTANH,    hardtanh,    ONE, 0) \
  XX(RELU,        relu,        ONE, 0) \
  XX(RELU6,       relu6,       ONE, 0) \
  XX(LEAKY_RELU,  leaky_relu,  ONE, 0) \
  XX(HARDSHRINK,  hardshrink,  ONE, 0) \
  XX(SOFTSHRINK,  softshrink,  ONE, 0)

/* Built-in activation ids (ACTFIT_A_GELU, ...), in the list's order, and their count. */
enum {
#define ACTFIT__ACT_ENUM(id, name, fwd, fewbit) ACTFIT_A_##id,
  ACTFIT_ACT_LIST(ACTFIT__ACT_ENUM)
#undef ACTFIT__ACT_ENUM
  ACTFIT_A_COUNT
};

#endif
