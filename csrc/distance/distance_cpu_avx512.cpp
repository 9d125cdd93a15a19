// CPU distance kernel for AVX-512F (64-byte vectors, 32 registers), chosen at run time when the CPU has it.
#include <omp.h>

#include <cstdint>
#include <cstdlib>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "distance/distance.h"

#if defined(PYDISENT_DISTANCE_X86_ISAS)
PYDISENT_BEGIN_TARGET_AVX512
#define PD_VBYTES 64
#ifndef PD_ROWS
#define PD_ROWS 8
#endif
#ifndef PD_NVEC
#define PD_NVEC 2
#endif
#define PD_RUN_FN run_cpu_avx512
#include "distance/distance_kernel.inl"
PYDISENT_END_TARGET
#endif
