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

/* The streaming forwards (AVX-512, where the includer defines V_STREAM and FWDS_TABLE):
 * y = f(x) for n floats as FWD_NAME(A), and meanwhile src[0 .. sn) copied to dst by
 * non-temporal stores (src and dst 64-byte aligned, sn a multiple of 32): the VEC and DIR
 * loops store 32 floats of it per 32 they compute, so the stores to memory are spread over
 * the arithmetic (cpu_avx512.c streams a buffer filled by the previous call this way); the
 * others compute, then copy.  With src NULL they are the plain loops. */
#ifdef V_STREAM
#define FWD_STREAM_STEP(src, dst, sn, i)                                                    \
  do {                                                                                      \
    if ((src) && (i) < (sn)) {                                                              \
      V_STREAM((dst) + (i), V_LOAD((src) + (i)));                                           \
      V_STREAM((dst) + (i) + VL, V_LOAD((src) + (i) + VL));                                 \
    }                                                                                       \
  } while (0)
#define FWD_STREAM_REST(src, dst, sn, from)                                                 \
  do {                                                                                      \
    if (src)                                                                                \
      for (size_t r_ = (from); r_ < (sn); r_ += VL)                                         \
        V_STREAM((dst) + r_, V_LOAD((src) + r_));                                           \
  } while (0)
#define FWD_S_DEF(A, CALL)                                                                  \
  static void FWD_NAME(A##_s)(const float *restrict pf, const float *restrict x,            \
                              float *restrict y, size_t n, const float *restrict src,       \
                              float *restrict dst, size_t sn)                               \
  {                                                                                         \
    (void)pf;                                                                               \
    CALL;                                                                                   \
  }
/* what a DIR row's loop adds beside y (actfit__f32x_fn): the branch bit, a step of the loop
 * being 2 VL = 32 floats, one group, whose masks x < T make its state word */
#define FWD_STATE(w, xa, xc, T)                                                             \
  (*(w) = (uint32_t)V_LT(xa, V1(T)) | (uint32_t)V_LT(xc, V1(T)) << 16)
/* the bit in y instead: y of each lane by the fp32 bit-in-y rule
 * (cpu_bit16.h) with s = x < T, the lean lanes' too, before it is stored */
#define FWD_BIT(BIY, v, x, T)                                                               \
  ((BIY) ? _mm512_castsi512_ps(store_bit16(v, V_LT(x, V1(T)))) : (v))
#define FWD_BITM(BIY, v, x, T, valid)                                                       \
  ((BIY) ? _mm512_castsi512_ps(store_bit16m(v, V_LT(x, V1(T)), valid)) : (v))
/* and FewBit codes of CB = 1 or 2 bits (cb: the 2^CB - 1 borders, strictly increasing;
 * |x| where even), as cpu_avx512.c's own loop computes them, the number of borders <= x in
 * binary: bit 1 is border 1's mask, and bit 0, the parity of the three masks, is one
 * compare against border 2 where bit 1 is set and border 0 where not (a NaN: 0 and 0);
 * group words at w */
#define FWD_CODES(CB, cb, even, xa, xc, w)                                                  \
  do {                                                                                      \
    VF ua_ = (even) ? V_ABS(xa) : (xa), uc_ = (even) ? V_ABS(xc) : (xc);                    \
    if ((CB) == 1)                                                                          \
      (w)[0] = (uint32_t)V_GE(ua_, V1((cb)[0])) | (uint32_t)V_GE(uc_, V1((cb)[0])) << 16;  \
    else {                                                                                  \
      VF b0_ = V1((cb)[0]), b2_ = V1((cb)[2]);                                              \
      VM ha_ = V_GE(ua_, V1((cb)[1])), hc_ = V_GE(uc_, V1((cb)[1]));                        \
      (w)[0] = (uint32_t)V_GE(ua_, V_SEL(ha_, b2_, b0_)) |                                  \
               (uint32_t)V_GE(uc_, V_SEL(hc_, b2_, b0_)) << 16;                             \
      (w)[1] = (uint32_t)ha_ | (uint32_t)hc_ << 16;                                         \
    }                                                                                       \
  } while (0)
/* a DIR row's four actfit__f32x_fn, one per ACTFIT__X_* kind, with the body BODY: the loop
 * with the kind's arguments, constants where it is inlined */
#define FWD_X_FN(A, K, BODY)                                                                \
  static void FWD_NAME(A##_x##K)(const float *restrict pf, const float *restrict x,         \
                                 float *restrict y, size_t n, const float *restrict src,    \
                                 float *restrict dst, size_t sn, const actfit__fwd_extra *e) \
  {                                                                                         \
    (void)pf;                                                                               \
    BODY;                                                                                   \
  }
#define FWD_X_ONE(A, K, ...) FWD_X_FN(A, K, FWD_NAME(A##_body)(x, y, n, src, dst, sn, __VA_ARGS__))
/* the codes' kinds: a loop for even and one for odd derivatives, so that even is a constant
 * in each (gcc otherwise reloads it and branches in every step; GELU's FewBit 2 forward
 * took 0.95 of the time this way, in cache) */
#define FWD_X_CODES(A, K, CB)                                                               \
  FWD_X_FN(A, K,                                                                            \
           if (e->even) FWD_NAME(A##_body)(x, y, n, src, dst, sn, NULL, 0, 0.0f, e->out, CB, \
                                           e->borders, 1);                                  \
           else FWD_NAME(A##_body)(x, y, n, src, dst, sn, NULL, 0, 0.0f, e->out, CB,         \
                                   e->borders, 0))
#define FWD_X_DEF(A)                                                                        \
  FWD_X_ONE(A, 0, e->out, 0, e->T, NULL, 0, NULL, 0)                                        \
  FWD_X_ONE(A, 1, NULL, 1, e->T, NULL, 0, NULL, 0)                                          \
  FWD_X_CODES(A, 2, 1)                                                                      \
  FWD_X_CODES(A, 3, 2)
#else
#define FWD_CODES(CB, cb, even, xa, xc, w) ((void)(w))
#define FWD_X_DEF(A)
#define FWD_STATE(w, xa, xc, T) ((void)(w), (void)(T))
#define FWD_BIT(BIY, v, x, T) ((void)(BIY), (void)(T), (v))
#define FWD_BITM(BIY, v, x, T, valid) ((void)(BIY), (void)(T), (v))
#define FWD_STREAM_STEP(src, dst, sn, i) ((void)(src), (void)(dst), (void)(sn))
#define FWD_STREAM_REST(src, dst, sn, from) ((void)(src), (void)(dst), (void)(sn))
#define FWD_S_DEF(A, CALL)
#endif

/* a VEC or DIR row's two entry points from its loop A##_body: the plain forward and the
 * streaming one */
#define FWD_ENTRIES(A)                                                                      \
  static void FWD_NAME(A)(const float *restrict pf, const float *restrict x, float *restrict y, \
                          size_t n)                                                         \
  {                                                                                         \
    (void)pf;                                                                               \
    FWD_NAME(A##_body)(x, y, n, NULL, NULL, 0, NULL, 0, 0.0f, NULL, 0, NULL, 0);                                 \
  }                                                                                         \
  FWD_S_DEF(A, FWD_NAME(A##_body)(x, y, n, src, dst, sn, NULL, 0, 0.0f, NULL, 0, NULL, 0))

#define FWD_ONE(A)                                                                          \
  static void FWD_NAME(A)(const float *restrict pf, const float *restrict x, float *restrict y, \
                          size_t n)                                                         \
  {                                                                                         \
    for (size_t i = 0; i < (n & ~(size_t)31); i++)                                          \
      y[i] = actfit_elem_f(A, pf, x[i]);                                                    \
  }                                                                                         \
  FWD_S_DEF(A, FWD_NAME(A)(pf, x, y, n); FWD_STREAM_REST(src, dst, sn, 0))
/* the act_list.h rows whose loop is ONE */
#define FWD_KIND_ONE(id, name) FWD_ONE(ACTFIT_A_##id)
#define FWD_KIND_VEC(id, name)
#define FWD_KIND_DIR(id, name)
#define FWD_KIND_OWN(id, name)
#define FWD_ROW(id, name, fwd, fewbit) FWD_KIND_##fwd(id, name)
ACTFIT_ACT_LIST(FWD_ROW)
#undef FWD_ROW
#undef FWD_KIND_ONE
#undef FWD_KIND_VEC
#undef FWD_KIND_DIR
#undef FWD_ONE

/* The activations with a table of M(z): written out with the includer's vector operations
 * (cpu_table_fwd.h) */
#include "runtime/cpu_table_fwd.h"
/* VEC rows: two vectors at a time (two independent chains) */
#define FWD_VEC(A, VEC)                                                                     \
  static inline __attribute__((always_inline)) void FWD_NAME(A##_body)(                     \
      const float *restrict x, float *restrict y, size_t n, const float *restrict src,      \
      float *restrict dst, size_t sn, uint32_t *restrict st, int BIY, float T,              \
      uint32_t *restrict cw, int CB, const float *restrict cb, int even)                    \
  {                                                                                         \
    (void)st, (void)BIY, (void)T, (void)cw, (void)CB, (void)cb, (void)even;                 \
    for (size_t i = 0; i < (n & ~(size_t)31); i += 2 * VL) {                                \
      VF a_ = VEC(V_LOAD(x + i)), b_ = VEC(V_LOAD(x + i + VL));                            \
      V_STORE(y + i, a_);                                                                   \
      V_STORE(y + i + VL, b_);                                                              \
      FWD_STREAM_STEP(src, dst, sn, i);                                                     \
    }                                                                                       \
    FWD_STREAM_REST(src, dst, sn, n & ~(size_t)31);                                         \
  }                                                                                         \
  FWD_ENTRIES(A)

/* DIR rows (a direct path below |x| = TOP, elem.h's actfit_direct; GELU's up to SAT for
 * x > 0, FWD_DIN): every lane takes it, two vectors at a time, and the lanes beyond it (and
 * NaNs) are noted by their offsets in the block (V_OUT_IDX, where a pair has any); after
 * each block those lanes alone are gathered, computed again on the lean path (VEC) and
 * scattered back over the direct result, which is elem.h's choice lane by lane.  The lanes
 * that need the lean path are rare where activations live (the 0.6% of a pretrained BERT's
 * pre-GELU values beyond 3.875; 10-20% of a normal with deviation 3), so each pays for both
 * paths only there.  Where SAT is above 0 and the includer defines FWD_SAT 1 (AVX-512), the
 * lanes at or above it store x itself and are not noted: the lean path's y there (elem.h's
 * ACTFIT_*_XSAT).  (AVX2, with half the registers, ran 7-13% slower with it.) */
#ifndef FWD_SAT
#define FWD_SAT 0
#endif
/* The lanes of x that take the direct path: |x| < TOP, or where CAP is above 0 (GELU,
 * elem.h's ACTFIT_GELU_DCAP) -TOP < x < SAT, and with FWD_SAT the lanes from SAT on as well
 * (they store x): one compare then, where |x| < TOP or x >= SAT took three operations.  A
 * NaN takes the lean path. */
#define FWD_DIN(CAP, TOP, SAT, x)                                                           \
  ((CAP) > 0.0f                                                                             \
       ? (FWD_SAT ? V_GT(x, V1(-(TOP))) : V_AND(V_GT(x, V1(-(TOP))), V_LT(x, V1(SAT))))     \
       : V_LT(V_ABS(x), V1(TOP)))
#define FWD_BLOCK 1024
/* The lean lanes' x, in rows whose PACK is 1 (cpu_table_fwd.h's name##_D_PACK), where the
 * includer defines V_OUT_X(m, v, dst) (v's lanes not in m packed at dst, VL stored: a
 * compress on AVX-512, a permute from V_OUT_IDX's table on AVX2): the loop packs them into
 * xl as it notes their offsets, the lean path reads them in order into xl, and a loop of its
 * own scatters them.  With the gather, the lean path and the scatter in one loop, each
 * gather waited behind the previous scatter: on AMD Zen 4, in cache, one thread, GELU's fp32
 * forwards take 0.91-0.93 of the time this way (0.93-0.95 with the gather kept in a loop of
 * its own; on the Intel Xeon VM that loop, one compress per vector fewer, took 0.98-1.01 of
 * the packed loops' time in cache and 1.00-1.05 past the cache with BERT-like inputs,
 * docs/benchmarks.md).  AVX2 had kept the one loop after a trial on AMD Zen 4 (2-4%
 * slower, docs/benchmarks.md); with the permute, on the Intel Xeon VM with x ~ N(0, 3^2),
 * the three loops take 0.82-0.83 of its time past the cache and 0.81-0.83 in cache. */
/* With AVX512-VBMI2 (cpu_fwd_avx512v.c, where the includer defines V_OUT_IDX16 and
 * V_GATHER16) the PACK rows note a step's lean lanes by one 16-bit compress of their
 * offsets, and their x is gathered after the block, in a loop of its own: a compress takes
 * two micro-ops on the shuffle port, which the direct path's permutes keep busy, and each
 * step with a lean lane took about 3.4 ns beyond the 1.0 ns per lean lane (Intel Xeon VM).
 * There, with x ~ N(0, 3^2), GELU's fp32 forwards take 0.94-0.98 of the time in cache and
 * 0.94-0.96 past it, GELU-tanh's 0.95-0.98 past it; BERT-like inputs 0.99-1.01
 * (docs/benchmarks.md). */
#ifdef V_OUT_IDX16
_Static_assert(FWD_BLOCK + 2 * VL <= 65536, "a block's offsets fit in 16 bits");
#define FWD_W16(p) (p)
#define FWD_IDX16_DECL(a) uint16_t a[FWD_BLOCK + 2 * VL]
/* the cnt offsets at i16 widened into i32 and their x from xb into xl, a full last vector
 * (the last lane again) */
#define FWD_GATHER16(i16, i32, xl, xb, cnt)                                                 \
  do {                                                                                      \
    for (int k_ = (cnt); k_ < (cnt) + VL; k_++)                                             \
      (i16)[k_] = (i16)[(cnt) - 1];                                                         \
    for (int k_ = 0; k_ < (cnt); k_ += VL)                                                  \
      V_GATHER16((i16) + k_, (i32) + k_, (xl) + k_, xb);                                    \
  } while (0)
#else
#define FWD_W16(p) 0
#define FWD_IDX16_DECL(a) ((void)0)
#define V_OUT_IDX16(a, c, i, dst) 0
#define FWD_GATHER16(i16, i32, xl, xb, cnt) ((void)0)
#endif
#ifdef V_OUT_X
#define FWD_PACK(p) (p)
#define FWD_OUT_X(m, v, dst) V_OUT_X(m, v, dst)
#else
#define FWD_PACK(p) 0
#define FWD_OUT_X(m, v, dst) ((void)(dst))
#endif
/* x is fetched this many floats (4 KiB) ahead, every line of it: out of cache, AVX-512,
 * against one line in two 1 KiB ahead, 0.94-0.96 of the time for GELU (0.93-0.95 SiLU), and
 * no change from 4 to 16 KiB (docs/benchmarks.md) */
#define FWD_PF 1024
#define FWD_DIR(A, VEC, DVEC, TOP, SAT, PACK, CAP)                                          \
  static inline __attribute__((always_inline)) void FWD_NAME(A##_body)(                     \
      const float *restrict x, float *restrict y, size_t n, const float *restrict src,      \
      float *restrict dst, size_t sn, uint32_t *restrict st, int BIY, float T,              \
      uint32_t *restrict cw, int CB, const float *restrict cb, int even)                    \
  {                                                                                         \
    size_t nn = n & ~(size_t)31;                                                            \
    (void)cb, (void)even;                                                                   \
    int32_t idx[FWD_BLOCK + VL];                                                            \
    FWD_IDX16_DECL(idx16);                                                                  \
    _Alignas(64) float xl[FWD_BLOCK + VL];                                                  \
    for (size_t b = 0; b < nn; b += FWD_BLOCK) {                                            \
      int e = (int)(nn - b < FWD_BLOCK ? nn - b : FWD_BLOCK), cnt = 0;                      \
      const float *xb = x + b;                                                              \
      float *yb = y + b;                                                                    \
      for (int i = 0; i < e; i += 2 * VL) {                                                 \
        for (int l_ = 0; l_ < 2 * VL; l_ += 16) /* each 64-byte line of the step's 2 VL */  \
          __builtin_prefetch(xb + i + FWD_PF + l_, 0, 3);                                   \
        VF xa_ = V_LOAD(xb + i), xc_ = V_LOAD(xb + i + VL);                                 \
        VM da_ = FWD_DIN(CAP, TOP, SAT, xa_), dc_ = FWD_DIN(CAP, TOP, SAT, xc_);            \
        if ((SAT) > 0.0f && FWD_SAT) { /* constants: y = x from SAT on, no lean path */     \
          VM sa_ = V_GE(xa_, V1(SAT)), sc_ = V_GE(xc_, V1(SAT));                            \
          if (!((CAP) > 0.0f)) { /* (with a CAP da_ has them already) */                   \
            da_ = V_OR(da_, sa_);                                                           \
            dc_ = V_OR(dc_, sc_);                                                           \
          }                                                                                 \
          V_STORE(yb + i, FWD_BITM(BIY, V_SEL(sa_, xa_, DVEC(xa_)), xa_, T, da_));          \
          V_STORE(yb + i + VL, FWD_BITM(BIY, V_SEL(sc_, xc_, DVEC(xc_)), xc_, T, dc_));     \
        } else {                                                                            \
          V_STORE(yb + i, FWD_BITM(BIY, DVEC(xa_), xa_, T, da_));                           \
          V_STORE(yb + i + VL, FWD_BITM(BIY, DVEC(xc_), xc_, T, dc_));                      \
        }                                                                                   \
        FWD_STREAM_STEP(src, dst, sn, b + (size_t)i);                                       \
        if (st) /* (a constant where inlined) */                                            \
          FWD_STATE(st + (b + (size_t)i) / 32, xa_, xc_, T);                                \
        if (CB) /* likewise */                                                              \
          FWD_CODES(CB, cb, even, xa_, xc_, cw + (b + (size_t)i) / 32 * (size_t)CB);        \
        if (__builtin_expect(!(V_ALL(da_) && V_ALL(dc_)), 0)) {                             \
          if (FWD_W16(PACK))                                                                \
            cnt += V_OUT_IDX16(da_, dc_, i, idx16 + cnt);                                   \
          else {                                                                            \
            if (FWD_PACK(PACK))                                                             \
              FWD_OUT_X(da_, xa_, xl + cnt);                                                \
            cnt += V_OUT_IDX(da_, i, idx + cnt);                                            \
            if (FWD_PACK(PACK))                                                             \
              FWD_OUT_X(dc_, xc_, xl + cnt);                                                \
            cnt += V_OUT_IDX(dc_, i + VL, idx + cnt);                                       \
          }                                                                                 \
        }                                                                                   \
      }                                                                                     \
      if (cnt) {                                                                            \
        if (FWD_W16(PACK))                                                                  \
          FWD_GATHER16(idx16, idx, xl, xb, cnt);                                            \
        else                                                                                \
          for (int k = cnt; k < cnt + VL; k++) /* a full last vector: the last lane again */ \
            idx[k] = idx[cnt - 1];                                                          \
        if (FWD_PACK(PACK)) {                                                               \
          if (!FWD_W16(PACK))                                                               \
            for (int k = cnt; k < cnt + VL; k++)                                            \
              xl[k] = xl[cnt - 1];                                                          \
          for (int k = 0; k < cnt; k += VL) {                                               \
            VF xk_ = V_LOAD(xl + k);                                                        \
            V_STORE(xl + k, FWD_BIT(BIY, VEC(xk_), xk_, T));                                \
          }                                                                                 \
          for (int k = 0; k < cnt; k += VL)                                                 \
            V_SCATTER(yb, idx + k, V_LOAD(xl + k));                                         \
        } else                                                                              \
          for (int k = 0; k < cnt; k += VL) {                                               \
            VF xk_ = V_GATHER(xb, idx + k);                                                 \
            V_SCATTER(yb, idx + k, FWD_BIT(BIY, VEC(xk_), xk_, T));                         \
          }                                                                                 \
      }                                                                                     \
    }                                                                                       \
    FWD_STREAM_REST(src, dst, sn, nn);                                                      \
  }                                                                                         \
  FWD_ENTRIES(A)                                                                            \
  FWD_X_DEF(A)

/* the rows whose loop is VEC or DIR: name##_vec (and name##_d_vec, name##_D_TOP) from
 * cpu_table_fwd.h */
#define FWD_KIND_ONE(id, name)
#define FWD_KIND_VEC(id, name) FWD_VEC(ACTFIT_A_##id, name##_vec)
#define FWD_KIND_DIR(id, name)                                                              \
  FWD_DIR(ACTFIT_A_##id, name##_vec, name##_d_vec, name##_D_TOP, name##_D_SAT, name##_D_PACK,   \
          name##_D_CAP)
#define FWD_ROW(id, name, fwd, fewbit) FWD_KIND_##fwd(id, name)
ACTFIT_ACT_LIST(FWD_ROW)
#undef FWD_ROW
#undef FWD_KIND_ONE
#undef FWD_KIND_VEC
#undef FWD_KIND_DIR
#undef FWD_KIND_OWN
#undef FWD_VEC
#undef FWD_DIR
#undef FWD_ENTRIES

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
FWD_S_DEF(ACTFIT_A_SOFTPLUS, FWD_NAME(ACTFIT_A_SOFTPLUS)(pf, x, y, n);
          FWD_STREAM_REST(src, dst, sn, 0))

#ifndef FWD_F32_ONLY /* (cpu_fwd_avx512v.c builds the fp32 forwards alone) */
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

/* The 16-bit forwards of the four lean activations (elem.h's actfit_elem_f16) */
#define FWD16(NAME, VEC)                                                                    \
  static void FWD_NAME(NAME)(const float *restrict pf, const float *restrict x, float *restrict y, \
                             size_t n)                                                      \
  {                                                                                         \
    (void)pf;                                                                               \
    for (size_t i = 0; i < (n & ~(size_t)31); i += VL)                                      \
      V_STORE(y + i, VEC(V_LOAD(x + i)));                                                   \
  }
FWD16(F16_GELU, gelu16_vec)
FWD16(F16_GELU_TANH, gelu_tanh16_vec)
FWD16(F16_SILU, silu16_vec)
FWD16(F16_MISH, mish16_vec)
#undef FWD16

/* y of a 16-bit pass before rounding to the dtype: the 16-bit path where there is one, else
 * the fp32 forward */
actfit__f32_fn FWD16_TABLE(int act)
{
  switch (act) {
  case ACTFIT_A_GELU: return FWD_NAME(F16_GELU);
  case ACTFIT_A_GELU_TANH: return FWD_NAME(F16_GELU_TANH);
  case ACTFIT_A_SILU: return FWD_NAME(F16_SILU);
  case ACTFIT_A_MISH: return FWD_NAME(F16_MISH);
  default: return FWD_TABLE(act);
  }
}
#endif

#ifdef V_STREAM
/* the streaming function for activation act (ACTFIT_A_*), NULL for any other */
actfit__f32s_fn FWDS_TABLE(int act)
{
  static const actfit__f32s_fn fn[ACTFIT_A_COUNT] = {
#define FWD_ROW(id, name, fwd, fewbit) [ACTFIT_A_##id] = FWD_NAME(ACTFIT_A_##id##_s),
    ACTFIT_ACT_LIST(FWD_ROW)
#undef FWD_ROW
  };
  return act >= 0 && act < ACTFIT_A_COUNT ? fn[act] : NULL;
}
#endif

#ifdef V_STREAM
/* the DIR rows' actfit__f32x_fn, by ACTFIT__X_* kind: the bit in y only where the row's
 * name##_D_BIY is 1 (cpu_table_fwd.h); the codes in that loop took 0.88-0.99 of the time of a
 * second loop over x on AMD Zen 4, in cache and past it; NULL for the other activations */
actfit__f32x_fn FWDX_TABLE(int act, int kind)
{
  static const actfit__f32x_fn fn[ACTFIT_A_COUNT][ACTFIT__X_COUNT] = {
#define FWD_KIND_ONE(id, name)
#define FWD_KIND_VEC(id, name)
#define FWD_KIND_OWN(id, name)
#define FWD_KIND_DIR(id, name)                                                              \
  [ACTFIT_A_##id] = {FWD_NAME(ACTFIT_A_##id##_x0),                                          \
                     name##_D_BIY ? FWD_NAME(ACTFIT_A_##id##_x1) : NULL,                    \
                     FWD_NAME(ACTFIT_A_##id##_x2), FWD_NAME(ACTFIT_A_##id##_x3)},
#define FWD_ROW(id, name, fwd, fewbit) FWD_KIND_##fwd(id, name)
    ACTFIT_ACT_LIST(FWD_ROW)
#undef FWD_ROW
#undef FWD_KIND_ONE
#undef FWD_KIND_VEC
#undef FWD_KIND_OWN
#undef FWD_KIND_DIR
  };
  return act >= 0 && act < ACTFIT_A_COUNT && kind >= 0 && kind < ACTFIT__X_COUNT ? fn[act][kind]
                                                                                 : NULL;
}
#endif

/* the function for activation act (ACTFIT_A_*), NULL for any other */
actfit__f32_fn FWD_TABLE(int act)
{
  static const actfit__f32_fn fn[ACTFIT_A_COUNT] = {
#define FWD_ROW(id, name, fwd, fewbit) [ACTFIT_A_##id] = FWD_NAME(ACTFIT_A_##id),
    ACTFIT_ACT_LIST(FWD_ROW)
#undef FWD_ROW
  };
  return act >= 0 && act < ACTFIT_A_COUNT ? fn[act] : NULL;
}
