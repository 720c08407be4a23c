/* The float forward (kernels/elem.h) vectorised for AVX2 + FMA: eight lanes (cpu_fwd.h) */
#define FWD_NAME(a) f32_avx2_##a
#define FWD_TABLE actfit__avx2_f32
#include "runtime/cpu_fwd.h"
