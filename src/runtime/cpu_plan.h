/* Private to the CPU backend's vector loops (cpu_avx2.c, cpu_avx512.c): an InvAct table
 * flattened so that lanes on different pieces fetch their coefficients by index. */
#ifndef ACTFIT_CPU_PLAN_H
#define ACTFIT_CPU_PLAN_H
#include <string.h>

#include "actfit/runtime.h"

/* Every polynomial of the table in one numbered list ("slots"), so that eight lanes on eight
 * different pieces load their coefficients: each slot is one 64-byte record {c, s, coef...},
 * and eight records (one per lane) are transposed into eight vectors of one field each.
 * Per branch its pieces, then the constants asym_hi, asym_lo and asym_zero (asym_hi first:
 * a count of the piece ends below v that passes the last one lands on it); after both
 * branches, the binades of each (branch 0's, then branch 1's).  The binades come last
 * because the deep ones are rare in practice (|y| far below the activation's scale), so the
 * AVX-512 loop finds the common slots in its first 32 and skips the rest when no lane
 * needs them.
 * Coefficients are right-aligned to the highest degree D with zeros in front: Horner over
 * the zeros gives +0 exactly, and then the piece's own steps, so the value is the scalar
 * Horner's.  (Not so for a leading coefficient of -0.0, whose sign the zeros would lose, or
 * for D > 13, which does not fit a record: such tables take the scalar loop.)  Constants use
 * u = 0. */
#define SLOTS (2 * (ACTFIT_RT_MAX_TPIECES + ACTFIT_RT_MAX_BINADES + 3))
#define REC 16 /* floats per record: c, s, coef[0..D] with D <= 13 */

typedef struct plan_branch {
  int var, np, nb, top;
  int base;  /* the first piece's slot; the constants follow the pieces */
  int bbase; /* the first binade's slot */
  float lo0, hi[ACTFIT_RT_MAX_TPIECES];
} plan_branch;

typedef struct plan {
  _Alignas(64) float rec[SLOTS][REC];
  int D, nbranch, nslots;
  plan_branch br[2];
} plan;

static inline int neg_zero(float v) { return v == 0.0f && (actfit_f32_bits(v) >> 31); }

static inline int plan_piece(plan *pl, int slot, const actfit_rt_piece *p)
{
  if (neg_zero(p->coef[0]))
    return 0;
  pl->rec[slot][0] = p->c;
  pl->rec[slot][1] = p->s;
  for (int k = 0; k <= p->deg; k++)
    pl->rec[slot][2 + pl->D - p->deg + k] = p->coef[k];
  return 1;
}

static inline int plan_const(plan *pl, int slot, float v)
{
  pl->rec[slot][2 + pl->D] = v;
  return !neg_zero(v);
}

static inline int plan_build(plan *pl, const actfit_rt_invact *t)
{
  if (t->exact != ACTFIT_EXACT_NONE || t->nbranch < 1 || t->nbranch > 2)
    return 0;
  memset(pl, 0, sizeof *pl);
  pl->nbranch = t->nbranch;
  for (int b = 0; b < t->nbranch; b++)
    for (int i = 0; i < t->br[b].np + t->br[b].nb; i++) {
      const actfit_rt_piece *p = i < t->br[b].np ? &t->br[b].p[i] : &t->br[b].b[i - t->br[b].np];
      if (p->deg > pl->D)
        pl->D = p->deg;
    }
  if (pl->D + 3 > REC)
    return 0;
  int slot = 0;
  for (int b = 0; b < t->nbranch; b++) {
    const actfit_rt_branch *br = &t->br[b];
    plan_branch *q = &pl->br[b];
    /* cpu_avx2.c's loop finds asym_lo by a count of 0 piece ends below v (so piece 0's end
     * is not below its start), and a zero or subnormal y past the last binade with i = top +
     * 126 >= 0 (top >= -126; and top <= 900, far from overflow: a float's binades lie within
     * 2^+-150) */
    if (!(br->p[0].hi >= br->p[0].lo) ||
        (br->nb > 0 && (br->binade_top < -126 || br->binade_top > 900)))
      return 0;
    *q = (plan_branch){br->var, br->np, br->nb, br->binade_top, slot, 0, br->p[0].lo, {0}};
    for (int i = 0; i < br->np; i++) {
      /* a count of the his below v finds the first piece with v <= hi only if they rise */
      if (i > 0 && !(br->p[i].hi >= br->p[i - 1].hi))
        return 0;
      q->hi[i] = br->p[i].hi;
      if (!plan_piece(pl, slot++, &br->p[i]))
        return 0;
    }
    if (!plan_const(pl, slot++, br->asym_hi) || !plan_const(pl, slot++, br->asym_lo) ||
        !plan_const(pl, slot++, br->asym_zero))
      return 0;
  }
  for (int b = 0; b < t->nbranch; b++) {
    pl->br[b].bbase = slot;
    for (int i = 0; i < t->br[b].nb; i++)
      if (!plan_piece(pl, slot++, &t->br[b].b[i]))
        return 0;
  }
  pl->nslots = slot;
  return 1;
}

/* CALL(T, D) with the dtype T and the degree D as constants for the common degrees 4..7
 * (the Horner loop unrolls and unused fields drop out), D as a variable otherwise */
#define PLAN_DT(CALL, dt, D)                                                                \
  if ((dt) == ACTFIT_FP32)                                                                  \
    CALL(ACTFIT_FP32, D)                                                                    \
  else if ((dt) == ACTFIT_FP16)                                                             \
    CALL(ACTFIT_FP16, D)                                                                    \
  else                                                                                      \
    CALL(ACTFIT_BF16, D)
#define PLAN_DISPATCH(CALL, dt, D)                                                          \
  switch (D) {                                                                              \
  case 4: PLAN_DT(CALL, dt, 4) break;                                                       \
  case 5: PLAN_DT(CALL, dt, 5) break;                                                       \
  case 6: PLAN_DT(CALL, dt, 6) break;                                                       \
  case 7: PLAN_DT(CALL, dt, 7) break;                                                       \
  default: PLAN_DT(CALL, dt, D) break;                                                      \
  }
#endif
