// CPU distance kernel for AVX2 + FMA (32-byte vectors), chosen at run time when the CPU has them.
#include <omp.h>

#include <cstdint>
#include <cstdlib>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "distance/distance.h"

#if defined(PYDISENT_DISTANCE_X86_ISAS)
PYDISENT_BEGIN_TARGET_AVX2_FMA
#define PD_VBYTES 32
#ifndef PD_ROWS
#define PD_ROWS 4
#endif
#ifndef PD_NVEC
#define PD_NVEC 2
#endif
#define PD_RUN_FN run_cpu_avx2
#include "distance/distance_kernel.inl"
PYDISENT_END_TARGET
#endif
