/* AVX2: the addresses of eight lanes' records, for the loops that read a record per lane and
 * transpose (cpu_fwd_avx2.c's forwards, cpu_avx2.c's InvAct backward) */
#ifndef ACTFIT_CPU_LANES_AVX2_H
#define ACTFIT_CPU_LANES_AVX2_H
#include <immintrin.h>
#include <stdint.h>

/* r[i] = base + off[i], off in bytes: the offsets go through memory and each is read back
 * as one load, since gcc otherwise takes each out of the vector with an extract, a sign
 * extension and the record size's multiply (about 65 of the 246 instructions in each
 * 16-element step of GELU's forward) */
static inline __attribute__((always_inline)) void lane_addrs(const char *base, __m256i off,
                                                             const char **r)
{
  _Alignas(32) int32_t o[8];
  _mm256_store_si256((__m256i *)o, off);
  __asm__("" : "+m"(o)); /* o is read from memory */
  for (int i = 0; i < 8; i++)
    r[i] = base + o[i];
}

#endif
