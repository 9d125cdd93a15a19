// Portable CPU distance kernel (baseline instruction set; 16-byte vectors: SSE2 on x86-64, NEON on Arm).
#include <omp.h>

#include <cstdint>
#include <cstdlib>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "distance/distance.h"

#define PD_VBYTES 16
#ifndef PD_ROWS
#define PD_ROWS 4
#endif
#ifndef PD_NVEC
#define PD_NVEC 2
#endif
#define PD_RUN_FN run_cpu_generic
#include "distance/distance_kernel.inl"
