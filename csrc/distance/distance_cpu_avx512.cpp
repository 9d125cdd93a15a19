// CPU distance kernel for AVX-512F (64-byte vectors, 32 registers), chosen at run time when the CPU has it.
#include <omp.h>

#include <cstdint>
#include <cstdlib>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "distance/distance.h"

#if defined(PYDISENT_DISTANCE_X86_ISAS)
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#define PD_VBYTES 64
#ifndef PD_ROWS
#define PD_ROWS 8
#endif
#ifndef PD_NVEC
#define PD_NVEC 2
#endif
#define PD_RUN_FN run_cpu_avx512
#include "distance/distance_kernel.inl"
#pragma GCC pop_options
#endif
