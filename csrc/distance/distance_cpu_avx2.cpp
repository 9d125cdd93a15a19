// CPU distance kernel for AVX2 + FMA (32-byte vectors), chosen at run time when the CPU has them.
#include <omp.h>

#include <cstdint>
#include <cstdlib>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "distance/distance.h"

#if defined(PYDISENT_DISTANCE_X86_ISAS)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define PD_VBYTES 32
#ifndef PD_ROWS
#define PD_ROWS 4
#endif
#ifndef PD_NVEC
#define PD_NVEC 2
#endif
#define PD_RUN_FN run_cpu_avx2
#include "distance/distance_kernel.inl"
#pragma GCC pop_options
#endif
