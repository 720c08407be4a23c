/* Private to the CPU backend, its seams: cpu.c (the API, its checks and the choice of
 * tables) builds a pass over 32-element groups; cpu_threads.c splits it over the cores;
 * cpu_pass.c runs the scalar loops and hands full groups to the vector loops (cpu_impl.h);
 * cpu_lut.c keeps the tables over every 16-bit value that large fp16 / bf16 passes read. */
#ifndef ACTFIT_CPU_PASS_H
#define ACTFIT_CPU_PASS_H
#include <stddef.h>
#include <stdint.h>
#include "runtime/cpu_impl.h"

typedef enum actfit__pass_kind {
  ACTFIT__PASS_FEWBIT_FWD, /* y = f(x) and codes; with given_y, the encoder (codes only) */
  ACTFIT__PASS_FEWBIT_BWD,
  ACTFIT__PASS_INVACT_FWD, /* y = f(x) and s; with given_y, the encoder (s, bit into y) */
  ACTFIT__PASS_INVACT_BWD
} actfit__pass_kind;

typedef struct actfit__pass {
  actfit__pass_kind kind;
  const actfit_rt_fewbit *fb; /* FewBit kinds */
  const actfit_rt_invact *ia; /* InvAct kinds */
  actfit_dtype dt;
  int flags;
  const void *x, *go;
  void *y, *gi;
  uint32_t *state;        /* forward kinds: written */
  const uint32_t *cstate; /* backward kinds: read */
  size_t n, g0, g1;       /* n elements; this part's groups [g0, g1) */
  int given_y;            /* forward kinds: encode (y is the framework's, not computed) */
  const float *lut;       /* InvAct backward, fp16 / bf16, or NULL: g for every 16-bit y and
                           * branch bit (ACTFIT__LUT_G) */
  const uint32_t *slut;   /* InvAct forward, fp16 / bf16, or NULL: the stored y bits of every
                           * 16-bit x (ACTFIT__LUT_STORED or ACTFIT__LUT_STORED_BIT) */
  const int32_t *clut;    /* FewBit forward, fp16 / bf16, or NULL: the code of every 16-bit x
                           * (ACTFIT__LUT_CODES), or the stored y | code << 16
                           * (ACTFIT__LUT_Y_CODES) */
  int nt;                 /* the output (gi, or y of an fp32 forward) goes to memory by
                           * non-temporal stores (actfit__cpu_nt) */
} actfit__pass;

/* runs p over its groups [g0, g1) (cpu_pass.c) */
void actfit__cpu_run_pass(const actfit__pass *p);
/* whether pass p (all its n elements) writes its output by non-temporal stores
 * (cpu_pass.c): an fp32 pass on the AVX-512 loops, not an encoder, whose bytes read and
 * written exceed the threshold of actfit_cpu_set_nontemporal, its output 64-byte aligned */
int actfit__cpu_nt(const actfit__pass *p);
/* runs p over all its groups, on several threads when n is large (cpu_threads.c) */
void actfit__cpu_run_parallel(actfit__pass *p);

/* how many passes this process has run with non-temporal stores (actfit__cpu_nt): for the
 * tests */
size_t actfit__nt_passes(void);
/* how many 16-bit tables (cpu_lut.c; none without AVX2) this process has built, kept or not: for the tests */
size_t actfit__lut_builds(void);

#if defined(ACTFIT_HAVE_AVX2)
/* 1 with AVX2 (+FMA, F16C), 3 with AVX-512 (F, BW, VL) as well, 7 with AVX512-VBMI2 too
 * (where the build has cpu_fwd_avx512v.c); ACTFIT_SIMD=scalar, =avx2 or =avx512 caps it
 * (read at every call), so tests and benchmarks run every path here */
int actfit__cpu_simd(void);
/* the vectorised f of act from the widest build this CPU runs, or NULL */
actfit__f32_fn actfit__cpu_f32(int act);
/* the same for a pass of dtype dt: for fp16 and bf16, y before its rounding by the 16-bit
 * path (elem.h's actfit_elem_f16) */
actfit__f32_fn actfit__cpu_fwd(int act, actfit_dtype dt);

/* The 16-bit tables (cpu_lut.c), each over all 65536 fp16 or bf16 values, built once with
 * the loops' own arithmetic (so no bit changes) and kept for the life of the process.  A
 * pass of n elements builds one from n = ACTFIT__LUT_MIN on (building costs about what a
 * pass of 65536 elements does, so a training loop that calls it again gains from the
 * second call); from ACTFIT__LUT_USE on (below it, looking up costs more than it saves) it
 * uses one already built, or builds it if a pass asked for it before.  Each takes the
 * pass's n. */
#define ACTFIT__LUT_MIN (1u << 16)
#define ACTFIT__LUT_USE (1u << 13)
typedef enum actfit__lut_kind {
  ACTFIT__LUT_Y,          /* y = f(x) as float (256 KiB; the bit-in-y store needs the float) */
  ACTFIT__LUT_STORED_BIT, /* InvAct with the bit in y: the stored bits, s = (x < T) (256 KiB) */
  ACTFIT__LUT_G,          /* InvAct backward: g_s(y) as float, [s * 65536 + y] (512 KiB) */
  ACTFIT__LUT_CODES,      /* FewBit encoder: the code of every x (256 KiB) */
  ACTFIT__LUT_Y_CODES,    /* FewBit forward: the stored y bits | code << 16 (256 KiB) */
  ACTFIT__LUT_STORED      /* InvAct forward without the bit in y: the stored y bits (256 KiB) */
} actfit__lut_kind;
/* ACTFIT__LUT_Y, _STORED_BIT or _STORED of act; NULL for fp32 or when none can be had */
const void *actfit__lut_fwd(actfit__lut_kind kind, int act, const float *params,
                            actfit_dtype dt, float T, size_t n);
/* ACTFIT__LUT_CODES or _Y_CODES of a FewBit table; NULL for fp32 or when none */
const int32_t *actfit__lut_codes(actfit__lut_kind kind, const actfit_rt_fewbit *t,
                                 actfit_dtype dt, size_t n);
/* ACTFIT__LUT_G of an InvAct table; NULL for fp32 or when none */
const float *actfit__lut_bwd(const actfit_rt_invact *t, actfit_dtype dt, size_t n);
#endif
#endif
