/* The float forwards of kernels/elem.h that read a table of M(z) (GELU, GELU-tanh, SiLU,
 * softplus, logsigmoid, sigmoid, tanh, Mish) lane by lane, for the vector loops of
 * cpu_fwd.h: the same operations in the same order, so every lane stores the scalar code's
 * bits (tests/test_runtime.c
 * compares them).  It is written out rather than left to gcc's vectoriser because M(z)
 * comes from a 32-entry table per coefficient: gcc turns those reads into one scalar load
 * per lane, while AVX-512 reads them with one permute per coefficient (and AVX2 reads each
 * lane's coefficients as one record, eight records to a transpose).
 *
 * The includer defines the vector type and its operations:
 *   VF, VM         the float vector and the mask type compares give
 *   V1(c)          c in every lane
 *   V_ADD, V_SUB, V_MUL, V_FMA(a, b, c) = a b + c, V_FMS = a b - c, V_FNMA = c - a b (each
 *                  rounded once), V_NEG (flips the sign bit)
 *   V_ABS, V_MIN(a, b) = a < b ? a : b, V_MAX(a, b) = a > b ? a : b (b for a NaN a)
 *   V_LT, V_GE, V_GT, V_EQ (ordered compares, false for NaN), V_NAN(a) (a is a NaN),
 *   V_OR, V_AND (of masks), V_DIV (rounded once),
 *   V_SEL(m, a, b) = m ? a : b
 *   V_LUT(row, j)  row[j] per lane, row a const float[32], j the index vector
 *   V_LUT2(ra, rb, j, m) rb[j] in the lanes of m, ra[j] in the others (needed without
 *                  V_RECORDS)
 *   VI, V_INDEX(zc, off) the piece index of zc (elem.h's j, the bits of zc + off)
 *   V_CENTER(zc, off) (optional) the piece's middle c_j, the table's row 0, from the same bits
 *   V_RECORDS(t, t2, m, j, f) (optional, with V_CENTER) rows 1 .. ACTFIT_M_ROWS - 1 of
 *                  table t at j (of table t2 >= 0 in the lanes of m) into f[0 ..], in place
 *                  of V_LUT and V_LUT2
 *   V_SCALEF(v, k) actfit_scalef(v, k) lane by lane
 *   V_POW2_64(t)   (optional) actfit_pow2_64(t) lane by lane, for the lean and 16-bit 2^n
 *   V_INDEX5(t)    the low 5 bits of t's pattern as V_LUT's index (the direct path's column)
 *   V_PMIN(a, b)   min(a, b) lane by lane for positive floats a and b (as integers)
 *   V_DRECORDS(t, j, n, d) (optional) rows 0 .. n - 1 of direct table t at j into d[0 ..]
 *                  (n <= V_DRECORD_ROWS, a constant), in place of V_LUT
 *   V_DLUT(row, j) (optional) V_LUT for the direct paths' rows (fp32 and 16-bit), which
 *                  read every lane's rows: the same values, read another way
 * and, for cpu_fwd.h's loops, V_OUT_IDX(m, base, dst) (the offsets base + i of the lanes not
 * in m, packed at dst with VL stored; returns their count), V_ALL(m) (every lane of m set),
 * V_GATHER(p, ix) (p[ix[i]] lane by
 * lane) and V_SCATTER(p, ix, v) (p[ix[i]] = v lane by lane, in lane order).
 *   V_COPYSIGN(a, b) a with b's sign bit
 * Constants are those of elem.h (elem_coeffs.h). */

/* every function here is inlined into the loop that calls it: gcc otherwise keeps some of
 * them (m1_vec2 on AVX2) as calls, with their vector results through memory */
#define TF_INLINE static inline __attribute__((always_inline))
#ifndef V_DLUT
#define V_DLUT V_LUT
#endif

/* (h, l) = a b exactly */
#define GV_PROD(h, l, a, b)                                                                  \
  do {                                                                                      \
    VF a_ = (a), b_ = (b);                                                                  \
    h = V_MUL(a_, b_);                                                                      \
    l = V_FMS(a_, b_, h);                                                                   \
  } while (0)

/* (h, l) = a + b exactly, |a| >= |b| */
#define GV_FAST(h, l, a, b)                                                                 \
  do {                                                                                      \
    VF a_ = (a), b_ = (b);                                                                  \
    h = V_ADD(a_, b_);                                                                      \
    l = V_SUB(b_, V_SUB(h, a_));                                                            \
  } while (0)

/* (h, l) = a + b exactly, any order (actfit_ff_sum) */
#define GV_SUM(h, l, a, b)                                                                  \
  do {                                                                                      \
    VF a_ = (a), b_ = (b), bb_;                                                             \
    h = V_ADD(a_, b_);                                                                      \
    bb_ = V_SUB(h, a_);                                                                     \
    l = V_ADD(V_SUB(a_, V_SUB(h, bb_)), V_SUB(b_, bb_));                                    \
  } while (0)

/* The piece of zc in table t (ACTFIT_M_*, pieces of z + off), or in table t2 >= 0 (on the
 * same pieces) in the lanes of m: s = zc - c_j, and rows 1 .. ACTFIT_M_ROWS - 1 of its
 * coefficients in f[0 ..] (a caller that reads fewer pays for no more: the lookups are pure
 * and the compiler drops the unused ones); returns j */
TF_INLINE VI m_piece(int t, int t2, VM m, VF zc, float off, VF *s, VF f[ACTFIT_M_ROWS - 1])
{
  VI j = V_INDEX(zc, off);
#ifdef V_RECORDS
  V_RECORDS(t, t2, m, j, f);
#else
  const float (*G)[32] = actfit_m_host[t], (*G2)[32] = actfit_m_host[t2 < 0 ? t : t2];
  for (int r = 1; r < ACTFIT_M_ROWS; r++)
    f[r - 1] = t2 >= 0 ? V_LUT2(G[r], G2[r], j, m) : V_LUT(G[r], j);
#endif
#ifdef V_CENTER
  *s = V_SUB(zc, V_CENTER(zc, off)); /* row 0 without a lookup */
#else
  *s = V_SUB(zc, V_LUT(actfit_m_host[t][0], j)); /* the same in table t2 */
#endif
  return j;
}
#define M_LUT(r) f[(r) - 1]

/* M(z) from table t (actfit_tab_m): (mh, ml), and the index */
TF_INLINE VI m_vec(int t, VF zc, float off, VF *mh_, VF *ml_)
{
  VF s, f[ACTFIT_M_ROWS - 1];
  VI j = m_piece(t, -1, V_LT(zc, zc), zc, off, &s, f);
  /* M(z) = c0 + c1 s + s^2 p(s) */
  VF p = M_LUT(ACTFIT_M_ROWS - 1);
  for (int r = ACTFIT_M_ROWS - 2; r >= 5; r--)
    p = V_FMA(p, s, M_LUT(r));
  VF c1h, c1l, mh, ml;
  GV_PROD(c1h, c1l, M_LUT(3), s);
  VF small = V_FMA(V_FMA(p, s, M_LUT(4)), s, V_ADD(M_LUT(2), c1l));
  GV_FAST(mh, ml, M_LUT(1), c1h);
  *mh_ = mh;
  *ml_ = V_ADD(ml, small);
  return j;
}


/* Q 2^-n = M e^(ah + al) 2^-n (actfit_m_exp), ah >= -130 (expm1_raw's clamp does nothing) */
TF_INLINE void m_exp_vec(VF mh, VF ml, VF ah, VF al, VF *qh_, VF *ql_, VF *n_)
{
  const float P[] = {ACTFIT_F_EXPM1_P};
  /* e^a = 2^n (1 + e) */
  VF n = V_SUB(V_FMA(ah, V1(ACTFIT_F_LOG2E), V1(0x1.8p23f)), V1(0x1.8p23f));
  VF r1 = V_FNMA(n, V1(ACTFIT_F_LN2_H), ah);
  VF r2 = V_FNMA(n, V1(ACTFIT_F_LN2_L), al);
  VF rh = V_ADD(r1, r2), rb = V_SUB(rh, r1);
  VF rl = V_ADD(V_SUB(r1, V_SUB(rh, rb)), V_SUB(r2, rb));
  VF qh, ql, eh, el;
  GV_PROD(qh, ql, rh, rh);
  VF pe = V1(P[0]);
  for (int i = 1; i < (int)(sizeof P / sizeof P[0]); i++)
    pe = V_FMA(pe, rh, V1(P[i]));
  VF t = V_MUL(V_MUL(qh, rh), pe);
  VF lo = V_ADD(V_FMA(rl, rh, rl), V_FMA(V1(0.5f), ql, t));
  GV_FAST(eh, el, rh, V_MUL(V1(0.5f), qh));
  el = V_ADD(el, lo);
  /* Q 2^-n = M (1 + e) */
  VF mmh, mml, Qh, Ql;
  GV_PROD(mmh, mml, mh, eh);
  GV_FAST(Qh, Ql, mh, mmh);
  *ql_ = V_ADD(Ql, V_FMA(mh, el, V_FMA(ml, V_ADD(eh, el), V_ADD(ml, mml))));
  *qh_ = Qh;
  *n_ = n;
}

/* M(z) in float (actfit_tab_m1), from table t, or t2 in the lanes of m */
TF_INLINE VF m1_vec2(int t, int t2, VM m, VF zc, float off, VF *lo)
{
  VF s, f[ACTFIT_M_ROWS - 1];
  m_piece(t, t2, m, zc, off, &s, f);
  VF p = M_LUT(ACTFIT_M_ROWS - 1);
  for (int r = ACTFIT_M_ROWS - 2; r >= 5; r--)
    p = V_FMA(p, s, M_LUT(r));
  p = V_FMA(p, s, M_LUT(3));
  VF c0 = M_LUT(1), h = V_FMA(p, s, c0);
  *lo = V_ADD(V_FMA(p, s, V_SUB(c0, h)), M_LUT(2));
  return h;
}

TF_INLINE VF m1_vec(int t, VF zc, float off, VF *lo)
{
  return m1_vec2(t, -1, V_LT(zc, zc), zc, off, lo);
}

/* yn = 2^n w and yp = x - 2^n w, n = tn - 1.5 2^23: as elem.h (actfit_pow2_64) where the
 * includer defines V_POW2_64(tn), 2^(n + 64) from tn's bits (AVX2: two integer operations
 * where its two-factor V_SCALEF takes eight); by V_SCALEF otherwise (AVX-512's vscalefps is
 * one instruction).  Both round w 2^n once: the same bits. */
#ifdef V_POW2_64
#define SCALE_BY_2N(yn, yp, w, n, tn, x)                                                     \
  do {                                                                                      \
    VF p64_ = V_POW2_64(tn);                                                                \
    yn = V_MUL(V_MUL(w, p64_), V1(0x1p-64f));                                               \
    yp = V_FNMA(w, V_MUL(p64_, V1(0x1p-64f)), x);                                           \
  } while (0)
#else
#define SCALE_BY_2N(yn, yp, w, n, tn, x)                                                     \
  do {                                                                                      \
    yn = V_SCALEF(w, n);                                                                    \
    yp = V_FNMA(w, V_SCALEF(V1(1.0f), n), x);                                               \
  } while (0)
#endif

/* y from Q = e^(ah + al) (M + Ml) (actfit_lean_y, actfit_expm1_lean), ah >= -130.  xc
 * differs from elem.h in form, not in bits: x clamped (elem.h: the caller's zt with x's
 * sign). */
TF_INLINE VF lean_y_vec(VF x, float top, VF M, VF Ml, VF ah, VF al)
{
  const float P[] = {ACTFIT_F_EXPM1_P};
  VF tn = V_FMA(ah, V1(ACTFIT_F_LOG2E), V1(0x1.8p23f)), n = V_SUB(tn, V1(0x1.8p23f));
  VF r1 = V_FNMA(n, V1(ACTFIT_F_LN2_H), ah), r2 = V_FNMA(n, V1(ACTFIT_F_LN2_L), al);
  VF r = V_ADD(r1, r2), rl = V_SUB(r2, V_SUB(r, r1));
  VF p = V1(P[1]);
  for (int i = 2; i < (int)(sizeof P / sizeof P[0]); i++)
    p = V_FMA(p, r, V1(P[i]));
  VF c = V_FMA(r, p, V1(0.5f)), q = V_MUL(r, r), mh = V_FMA(q, c, r);
  VF ml = V_ADD(V_FMA(q, c, V_SUB(r, mh)), V_FMA(rl, mh, rl));
  VF xc = V_MAX(V_MIN(x, V1(top)), V1(-top));
  VF a = V_MUL(xc, M), t = V_FMA(a, mh, V_FMA(a, ml, V_FMA(xc, Ml, V_FMS(xc, M, a))));
  VF w = V_ADD(a, t), yn, yp;
  SCALE_BY_2N(yn, yp, w, n, tn, x);
  return V_SEL(V_NAN(x), x, V_COPYSIGN(V_SEL(V_LT(x, V1(0.0f)), yn, yp), x));
}

TF_INLINE VF gelu_vec(VF x)
{
  VF z = V_ABS(x), zc = V_MIN(z, V1(ACTFIT_GELU_ZTOP)), zzh, zzl;
  VF Ml, M = m1_vec(ACTFIT_M_GELU, zc, 1.0f, &Ml);
  GV_PROD(zzh, zzl, zc, zc); /* e^(-z^2/2) */
  return lean_y_vec(x, ACTFIT_GELU_ZTOP, M, Ml, V_MUL(V1(-0.5f), zzh), V_MUL(V1(-0.5f), zzl));
}

TF_INLINE VF gelu_tanh_vec(VF x)
{
  VF z = V_ABS(x), zc = V_MIN(z, V1(ACTFIT_GELU_TANH_ZTOP)), zzh, zzl, ch, cl, vh, vl;
  VF uh, ul;
  VF Ml, M = m1_vec(ACTFIT_M_GELU_TANH, zc, 1.0f, &Ml);
  GV_PROD(zzh, zzl, zc, zc);
  GV_PROD(ch, cl, V1(ACTFIT_F_GELU_TANH_CB_H), zzh); /* C B z^2 */
  cl = V_FMA(V1(ACTFIT_F_GELU_TANH_CB_H), zzl, V_FMA(V1(ACTFIT_F_GELU_TANH_CB_L), zzh, cl));
  GV_SUM(vh, vl, V1(ACTFIT_F_GELU_TANH_C_H), ch); /* C + C B z^2 */
  vl = V_ADD(vl, V_ADD(V1(ACTFIT_F_GELU_TANH_C_L), cl));
  GV_PROD(uh, ul, zc, vh);
  ul = V_FMA(zc, vl, ul);
  return lean_y_vec(x, ACTFIT_GELU_TANH_ZTOP, M, Ml, V_NEG(uh), V_NEG(ul));
}

TF_INLINE VF silu_vec(VF x)
{
  VF z = V_ABS(x), zc = V_MIN(z, V1(ACTFIT_M2_ZTOP));
  VF Ml, M = m1_vec(ACTFIT_M_SILU, zc, 2.0f, &Ml);
  return lean_y_vec(x, 120.0f, M, Ml, V_NEG(V_MIN(z, V1(120.0f))), V1(0.0f));
}

TF_INLINE VF mish_vec(VF x)
{
  VM neg = V_LT(x, V1(0.0f));
  VF z = V_ABS(x), zc = V_MIN(z, V1(ACTFIT_M2_ZTOP));
  VF Ml, M = m1_vec2(ACTFIT_M_MISH_POS, ACTFIT_M_MISH_NEG, neg, zc, 2.0f, &Ml);
  VF a = V_SEL(neg, V_MIN(z, V1(120.0f)), V_ADD(zc, zc));
  return lean_y_vec(x, 120.0f, M, Ml, V_NEG(a), V1(0.0f));
}

/* ---- the direct path (elem.h's actfit_direct), |x| < 15.5 h ---- */

/* y = x g(x) from direct table t of degree deg (a constant), round = 1.5 2^(23 + log2 h);
 * cap > 0 (GELU's ACTFIT_GELU_DCAP): the sum x + round no higher than round + cap, elem.h's
 * actfit_direct_t (V_PMIN: fminf of two positive floats as one integer min of their bits,
 * off the float unit's latency, which the lookups wait for: AVX2, BERT-like inputs, in
 * cache, 1.02 of the time of the loop before the tail piece, where a float min before the
 * sum took 1.08-1.10).  A lane whose sum is not positive (x below -round) is a lean lane,
 * and its index, whatever it is, stays within the table (5 bits) */
TF_INLINE VF direct_vec(int t, int deg, float round, float cap, VF x)
{
  VF tr = V_ADD(x, V1(round));
  if (cap > 0.0f)
    tr = V_PMIN(tr, V1(round + cap));
  VF s = V_SUB(x, V_SUB(tr, V1(round)));
  VI j = V_INDEX5(tr);
#ifdef V_DRECORDS /* the rows of each lane's piece from its record */
  VF d[V_DRECORD_ROWS];
  V_DRECORDS(t, j, deg + 3, d);
#define D_LUT(r) d[r]
#else
  const float (*G)[32] = actfit_d_host[t];
#define D_LUT(r) V_DLUT(G[r], j)
#endif
  VF p = D_LUT(deg + 2);
  for (int r = deg + 1; r >= 4; r--)
    p = V_FMA(p, s, D_LUT(r));
  p = V_FMA(p, s, D_LUT(2));
  VF v = V_FMA(p, s, V_FMA(D_LUT(3), s, D_LUT(1))), c0 = D_LUT(0);
#undef D_LUT
  return V_COPYSIGN(V_FMA(x, c0, V_MUL(x, v)), x);
}

/* name##_D_CAP: above 0 where the direct path also takes x from TOP up to SAT, on the piece
 * of CAP (GELU's positive tail, elem.h's ACTFIT_GELU_DCAP; cpu_fwd.h's FWD_DIN) */
#define gelu_D_CAP ACTFIT_GELU_DCAP
#define gelu_tanh_D_CAP 0.0f
#define silu_D_CAP 0.0f
#define mish_D_CAP 0.0f
TF_INLINE VF gelu_d_vec(VF x)
{
  return direct_vec(ACTFIT_D_GELU, ACTFIT_F_GELU_D_DEG, ACTFIT_D_ROUND4, gelu_D_CAP, x);
}
TF_INLINE VF gelu_tanh_d_vec(VF x)
{
  return direct_vec(ACTFIT_D_GELU_TANH, ACTFIT_F_GELU_TANH_D_DEG, ACTFIT_D_ROUND4, gelu_tanh_D_CAP,
                    x);
}
TF_INLINE VF silu_d_vec(VF x)
{
  return direct_vec(ACTFIT_D_SILU, ACTFIT_F_SILU_D_DEG, ACTFIT_D_ROUND2, silu_D_CAP, x);
}
TF_INLINE VF mish_d_vec(VF x)
{
  return direct_vec(ACTFIT_D_MISH, ACTFIT_F_MISH_D_DEG, ACTFIT_D_ROUND2, mish_D_CAP, x);
}
/* name##_D_TOP: the bound below which |x| takes the direct path (act_list.h's DIR rows) */
#define gelu_D_TOP ACTFIT_D_TOP4
#define gelu_tanh_D_TOP ACTFIT_D_TOP4
#define silu_D_TOP ACTFIT_D_TOP2
#define mish_D_TOP ACTFIT_D_TOP2
/* name##_D_SAT: from there on y = x (elem.h's ACTFIT_*_XSAT); 0 where the loop need not look */
#define gelu_D_SAT ACTFIT_GELU_XSAT
#define gelu_tanh_D_SAT ACTFIT_GELU_TANH_XSAT
#define silu_D_SAT 0.0f
#define mish_D_SAT 0.0f
/* name##_D_PACK: 1 where lanes beyond TOP are common enough (a sixth of a normal of deviation
 * 3 beyond 3.875) for cpu_fwd.h's three lean loops to pay; beyond 7.75 (1%) the one loop
 * ran faster (Mish 7%, SiLU 1%, AMD Zen 4 in cache) */
#define gelu_D_PACK 1
#define gelu_tanh_D_PACK 1
#define silu_D_PACK 0
#define mish_D_PACK 0
/* name##_D_BIY: 1 where the bit in y is put by the loop that computes y (cpu_fwd.h's
 * FWD_DIR with BIY, the ACTFIT__X_BIT_IN_Y entry of FWDX_TABLE): SiLU and Mish, 0.91-0.97 of
 * the time on AMD Zen 4; GELU and GELU-tanh, whose loop has more rows live, ran 1.00-1.08
 * that way and kept the second loop.  GELU, with its positive tail on the direct path
 * (d149fa5), Intel Xeon VM: past the cache, two threads, 0.96-0.98 of the second loop's time
 * with N(0, 3^2) and 0.94 with BERT-like inputs (one thread 1.02); in cache 0.92-0.97 */
#define gelu_D_BIY 1
#define gelu_tanh_D_BIY 0
#define silu_D_BIY 1
#define mish_D_BIY 1

/* ---- the 16-bit forwards (elem.h's actfit_*16) ---- */

/* M(z) cut after s^4 (actfit_tab_m16), from table t, or t2 in the lanes of m: the same
 * coefficients from the rows (elem.h reads them from its 32-byte records) */
TF_INLINE VF m16_vec2(int t, int t2, VM m, VF zc, float off)
{
  VF s, f[ACTFIT_M_ROWS - 1];
  m_piece(t, t2, m, zc, off, &s, f);
  VF p = V_FMA(M_LUT(7), s, M_LUT(6));
  p = V_FMA(p, s, M_LUT(5));
  p = V_FMA(p, s, M_LUT(3));
  return V_FMA(p, s, M_LUT(1));
}

/* actfit_y16, lane by lane where it pays: these loops only fill the 16-bit tables.  Two
 * steps differ in form, not in bits: xc by clamping x (elem.h: zt with x's sign) and the sign
 * by a select and a copysign (elem.h: x's sign bit picks, yn and yp already carry it); 2^n w
 * as lean_y_vec.  test_runtime compares every 16-bit input with the scalar code on each ISA. */
TF_INLINE VF y16_vec(VF x, float top, VF M, VF ah, VF al)
{
  const float P[] = {ACTFIT_F_EXPM1_P};
  VF tn = V_FMA(ah, V1(ACTFIT_F_LOG2E), V1(0x1.8p23f)), n = V_SUB(tn, V1(0x1.8p23f));
  VF r = V_FNMA(n, V1(ACTFIT_F_LN2_H), ah);
  r = V_ADD(V_FNMA(n, V1(ACTFIT_F_LN2_L), r), al);
  VF p = V_FMA(V_FMA(V1(P[3]), r, V1(P[4])), r, V1(P[5]));
  p = V_FMA(p, r, V1(P[6]));
  VF m = V_FMA(V_MUL(r, r), V_FMA(r, p, V1(0.5f)), r);
  VF xc = V_MAX(V_MIN(x, V1(top)), V1(-top));
  VF w = V_MUL(xc, V_FMA(M, m, M)), yn, yp;
  SCALE_BY_2N(yn, yp, w, n, tn, x);
  return V_SEL(V_NAN(x), x, V_COPYSIGN(V_SEL(V_LT(x, V1(0.0f)), yn, yp), x));
}

TF_INLINE VF gelu16_lean_vec(VF x)
{
  VF z = V_ABS(x), zc = V_MIN(z, V1(ACTFIT_GELU_ZTOP));
  VF M = m16_vec2(ACTFIT_M_GELU, -1, V_LT(zc, zc), zc, 1.0f), zz = V_MUL(zc, zc);
  return y16_vec(x, ACTFIT_GELU_ZTOP, M, V_MUL(V1(-0.5f), zz), V_MUL(V1(-0.5f), V_FMS(zc, zc, zz)));
}

TF_INLINE VF gelu_tanh16_lean_vec(VF x)
{
  VF z = V_ABS(x), zc = V_MIN(z, V1(ACTFIT_GELU_TANH_ZTOP));
  VF M = m16_vec2(ACTFIT_M_GELU_TANH, -1, V_LT(zc, zc), zc, 1.0f);
  VF u = V_MUL(zc, V_FMA(V1(ACTFIT_F_GELU_TANH_CB_H), V_MUL(zc, zc), V1(ACTFIT_F_GELU_TANH_C_H)));
  return y16_vec(x, ACTFIT_GELU_TANH_ZTOP, M, V_NEG(u), V1(0.0f));
}

TF_INLINE VF silu16_lean_vec(VF x)
{
  VF z = V_ABS(x), zc = V_MIN(z, V1(ACTFIT_M2_ZTOP));
  VF M = m16_vec2(ACTFIT_M_SILU, -1, V_LT(zc, zc), zc, 2.0f);
  return y16_vec(x, 120.0f, M, V_NEG(V_MIN(z, V1(120.0f))), V1(0.0f));
}

TF_INLINE VF mish16_lean_vec(VF x)
{
  VM neg = V_LT(x, V1(0.0f));
  VF z = V_ABS(x), zc = V_MIN(z, V1(ACTFIT_M2_ZTOP));
  VF M = m16_vec2(ACTFIT_M_MISH_POS, ACTFIT_M_MISH_NEG, neg, zc, 2.0f);
  VF a = V_SEL(neg, V_MIN(z, V1(120.0f)), V_ADD(zc, zc));
  return y16_vec(x, 120.0f, M, V_NEG(a), V1(0.0f));
}

/* the 16-bit direct path (elem.h's actfit_direct16): its records' c0 .. c5 as rows, for
 * V_LUT */
static _Alignas(64) float actfit_d16_rows[ACTFIT_D_COUNT][6][32];
__attribute__((constructor)) static void d16_rows_init(void)
{
  for (int t = 0; t < ACTFIT_D_COUNT; t++)
    for (int r = 0; r < 6; r++)
      for (int j = 0; j < 32; j++)
        actfit_d16_rows[t][r][j] = actfit_d16_host[t][j][r];
}

TF_INLINE VF direct16_vec(int t, float round, VF x)
{
  const float (*G)[32] = actfit_d16_rows[t];
  VF tr = V_ADD(x, V1(round)), s = V_SUB(x, V_SUB(tr, V1(round)));
  VI j = V_INDEX5(tr);
  VF p = V_FMA(V_DLUT(G[5], j), s, V_DLUT(G[4], j));
  p = V_FMA(p, s, V_DLUT(G[3], j));
  p = V_FMA(p, s, V_DLUT(G[2], j));
  p = V_FMA(p, s, V_DLUT(G[1], j));
  return V_MUL(x, V_FMA(p, s, V_DLUT(G[0], j)));
}

/* elem.h's choice lane by lane (these loops fill the 16-bit tables and small passes) */
#define D16_VEC(name, T, TOP, ROUND)                                                         \
  TF_INLINE VF name##_vec(VF x)                                                              \
  {                                                                                          \
    return V_SEL(V_LT(V_ABS(x), V1(TOP)), direct16_vec(T, ROUND, x), name##_lean_vec(x));    \
  }
D16_VEC(gelu16, ACTFIT_D_GELU, ACTFIT_D_TOP4, ACTFIT_D_ROUND4)
D16_VEC(gelu_tanh16, ACTFIT_D_GELU_TANH, ACTFIT_D_TOP4, ACTFIT_D_ROUND4)
D16_VEC(silu16, ACTFIT_D_SILU, ACTFIT_D_TOP2, ACTFIT_D_ROUND2)
D16_VEC(mish16, ACTFIT_D_MISH, ACTFIT_D_TOP2, ACTFIT_D_ROUND2)
#undef D16_VEC

/* 1 + p (qh + ql), rounded once (actfit_one_plus) */
TF_INLINE VF one_plus_vec(VF qh, VF ql, VF p)
{
  VF th, tl;
  GV_FAST(th, tl, V1(1.0f), V_MUL(qh, p));
  return V_ADD(th, V_FMA(ql, p, tl));
}

TF_INLINE VF sigmoid_vec(VF x)
{
  VF z = V_ABS(x), zc = V_MIN(z, V1(ACTFIT_M2_ZTOP)), mh, ml, qh, ql, n;
  m_vec(ACTFIT_M_SILU, zc, 2.0f, &mh, &ml);
  m_exp_vec(mh, ml, V_NEG(V_MIN(z, V1(120.0f))), V1(0.0f), &qh, &ql, &n);
  VF yn = V_SCALEF(V_ADD(qh, ql), n);
  VF yp = one_plus_vec(qh, ql, V_SCALEF(V1(-1.0f), n));
  return V_SEL(V_NAN(x), x, V_SEL(V_LT(x, V1(0.0f)), yn, yp));
}

TF_INLINE VF tanh_vec(VF x)
{
  const float R[] = {ACTFIT_F_TANH_R};
  VF z = V_ABS(x), wc = V_MIN(V_ADD(z, z), V1(ACTFIT_M2_ZTOP)), mh, ml, qh, ql, n;
  m_vec(ACTFIT_M_SILU, wc, 2.0f, &mh, &ml);
  m_exp_vec(mh, ml, V_NEG(wc), V1(0.0f), &qh, &ql, &n);
  VF yb = one_plus_vec(qh, ql, V_SCALEF(V1(-2.0f), n));
  VM small = V_LT(z, V1(0.25f));
  VF zs = V_SEL(small, z, V1(0.25f)), ws = V_MUL(zs, zs), rw = V1(R[0]);
  for (int i = 1; i < (int)(sizeof R / sizeof R[0]); i++)
    rw = V_FMA(rw, ws, V1(R[i]));
  VF ys = V_FNMA(V_MUL(zs, ws), V_FMA(ws, rw, V1(ACTFIT_F_THIRD_H)), zs);
  VF y = V_SEL(V_LT(z, V1(0x1p-12f)), z, V_SEL(small, ys, yb));
  return V_SEL(V_NAN(x), x, V_COPYSIGN(y, x));
}

/* actfit_ff_softplus1: (h, l) and k; with_al = 0 where al is 0 (beta = 1): zl's terms are
 * dropped, which leaves every result the same */
TF_INLINE void softplus1_vec(VF ah, VF al, int with_al, VF *h, VF *l, VF *k)
{
  const float (*G)[32] = actfit_m_host[ACTFIT_M_SOFTPLUS];
  VF z = V_ABS(ah), zc = V_MIN(z, V1(ACTFIT_M2_ZTOP)), mh, ml, zl = V1(0.0f), Qh, Ql, n, yh, yl;
  VI j = m_vec(ACTFIT_M_SOFTPLUS, zc, 2.0f, &mh, &ml);
  if (with_al) {
    zl = V_SEL(V_LT(z, V1(128.0f)), V_SEL(V_GT(ah, V1(0.0f)), al, V_NEG(al)), V1(0.0f));
    ml = V_FMA(V_LUT(G[3], j), zl, ml);
  }
  m_exp_vec(mh, ml, V_MAX(V_NEG(z), V1(-130.0f)), V_NEG(zl), &Qh, &Ql, &n);
  VF pw = V_SCALEF(V1(1.0f), n), b = V_MUL(Qh, pw);
  GV_SUM(yh, yl, ah, b);
  yl = V_ADD(yl, V_FMA(Ql, pw, al));
  VM pos = V_GT(ah, V1(0.0f));
  *h = V_SEL(pos, yh, Qh);
  *l = V_SEL(pos, yl, Ql);
  *k = V_SEL(pos, V1(0.0f), n);
}

/* actfit_softplus; beta1: beta is 1, where a = x and every division is by 1 */
TF_INLINE VF softplus_vec(VF x, float beta, float thr, int beta1)
{
  VF ah = x, al = V1(0.0f), h, l, k, v;
  if (!beta1) {
    GV_PROD(ah, al, V1(beta), x);
    al = V_SEL(V_LT(ah, V1(-128.0f)), V1(0.0f), al);
  }
  VM lin = V_OR(V_OR(V_GT(ah, V1(thr)), V_AND(V_EQ(ah, V1(thr)), V_GT(al, V1(0.0f)))),
                V_EQ(ah, V1(INFINITY)));
  softplus1_vec(V_SEL(lin, V1(0.0f), ah), V_SEL(lin, V1(0.0f), al), !beta1, &h, &l, &k);
  if (beta1)
    v = V_SCALEF(V_ADD(h, l), k);
  else {
    VF q = V_DIV(h, V1(beta)), r = V_ADD(V_FNMA(q, V1(beta), h), l);
    v = V_SCALEF(V_ADD(q, V_DIV(r, V1(beta))), k);
  }
  return V_SEL(V_NAN(x), x, V_SEL(lin, x, v));
}

TF_INLINE VF logsigmoid_vec(VF x)
{
  VF h, l, k;
  softplus1_vec(V_NEG(x), V1(0.0f), 0, &h, &l, &k);
  VF y = V_NEG(V_SCALEF(V_ADD(h, l), k));
  VF inf = V_SEL(V_GT(x, V1(0.0f)), V1(-0.0f), x);
  return V_SEL(V_NAN(x), x, V_SEL(V_EQ(V_ABS(x), V1(INFINITY)), inf, y));
}

#undef M_LUT
#undef TF_INLINE
#undef GV_PROD
#undef GV_SUM
#undef GV_FAST
#undef SCALE_BY_2N
