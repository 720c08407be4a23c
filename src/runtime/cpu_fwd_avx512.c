/* The float forward (kernels/elem.h) vectorised for AVX-512: sixteen lanes (cpu_fwd.h) */
#define FWD_NAME(a) f32_avx512_##a
#define FWD_TABLE actfit__avx512_f32
#include "runtime/cpu_fwd.h"
