/* AVX2: eight lanes' records, their addresses and their rows, for the loops that read a
 * record per lane (cpu_fwd_avx2.c's forwards, cpu_avx2.c's InvAct backward) */
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

/* Rows q .. q + n - 1 (n = 4, or 2 for the last two rows of a record; a constant where
 * inlined) of eight lanes' records (r the lanes' record addresses, q a multiple of 4, the
 * records 16-byte aligned) into out[0 .. n - 1]: per lane pair i, i + 4 one 256-bit vector
 * of the two records' floats q .. q + 3, then a 4 x 4 transpose in each 128-bit half.  Four
 * inserts and eight shuffles (four for two rows), where an 8 x 8 transpose of whole records
 * takes 24 shuffles. */
static inline __attribute__((always_inline)) void rows(const char *const *r, int q, int n,
                                                       __m256 *out)
{
  __m256 a[4];
  for (int i = 0; i < 4; i++)
    a[i] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_load_ps((const float *)r[i] + q)),
                                _mm_load_ps((const float *)r[i + 4] + q), 1);
  __m256 t0 = _mm256_unpacklo_ps(a[0], a[1]), t1 = _mm256_unpacklo_ps(a[2], a[3]);
  out[0] = _mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(1, 0, 1, 0));
  out[1] = _mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 2, 3, 2));
  if (n > 2) {
    __m256 t2 = _mm256_unpackhi_ps(a[0], a[1]), t3 = _mm256_unpackhi_ps(a[2], a[3]);
    out[2] = _mm256_shuffle_ps(t2, t3, _MM_SHUFFLE(1, 0, 1, 0));
    out[3] = _mm256_shuffle_ps(t2, t3, _MM_SHUFFLE(3, 2, 3, 2));
  }
}

/* Rows 0 .. n - 1 (n a constant where inlined) of eight lanes' records at byte offsets off
 * from base: four at a time by rows, and a last row alone by one gather, where rows would
 * spend four loads, four inserts and three shuffles on it (the direct path's degree-6
 * tables, nine rows: GELU's and GELU-tanh's AVX2 forwards 0.94-0.97 of the time past the
 * cache, Mish's 0.91-0.93, Intel Xeon VM, N(0, 1)) */
static inline __attribute__((always_inline)) void lane_rows(const char *base, __m256i off, int n,
                                                            __m256 *out)
{
  const char *r[8];
  lane_addrs(base, off, r);
  int q = 0;
  for (; q + 4 <= n; q += 4)
    rows(r, q, 4, out + q);
  if (n - q == 1)
    out[q] = _mm256_i32gather_ps((const float *)(base + 4 * q), off, 1);
  else if (n > q)
    rows(r, q, n - q <= 2 ? 2 : 4, out + q);
}

#endif
