/* The AVX-512 float forwards built again for CPUs with AVX512-VBMI2 (cpu_fwd_avx512.c with
 * ACTFIT_FWD_VBMI2): GELU's and GELU-tanh's loops note the offsets of a 32-float step's
 * lean lanes with one 16-bit compress and gather those lanes' x after the block (cpu_fwd.h's
 * FWD_W16), where the plain build compresses each vector's x and offsets, four compresses
 * per step on the port its permutes use.  Every other loop is the plain build's.  Chosen at
 * run time (cpu_pass.c); the same bits. */
#define ACTFIT_FWD_VBMI2 1
#include "cpu_fwd_avx512.c"
