// Pairwise distances: shared definitions of the CPU and CUDA halves.
//
// A DistanceJob is the validated, plain-data description of one call: x (B, n, d) and y (B, m, d)
// read through arbitrary non-negative element strides, written into a contiguous output that is
// either dense (B, n, m) or, for self distances, condensed (B, n*(n-1)/2) in scipy's pdist order.
// make_job() does every check (the second line of defence after the Python boundary) and throws
// ValueError/TypeError naming the argument; the kernels themselves never throw.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/tensor.h"

#include "common/cpu.h"
#include "common/metric.h"

// The AVX2 and AVX-512 kernels are whole files compiled under common/cpu.h's target pragmas (GCC on
// x86-64); other compilers and architectures get the portable kernel alone.
#if defined(PYDISENT_X86_VARIANTS) && defined(__GNUC__) && !defined(__clang__) && !defined(__INTEL_COMPILER)
#define PYDISENT_DISTANCE_X86_ISAS 1
#endif

namespace pydisent {
namespace distance {

// The shared metric vocabulary of common/metric.h (every metric it has is supported here).
using Metric = DistanceMetric;

struct DistanceJob {
  Metric metric = Metric::Euclidean;
  DType dtype = DType::Float32;
  int device = -1;
  int64_t B = 0, n = 0, m = 0, d = 0;
  const void* x = nullptr;
  int64_t xs_b = 0, xs_i = 0, xs_k = 0;  // element strides of x
  const void* y = nullptr;
  int64_t ys_b = 0, ys_i = 0, ys_k = 0;
  void* out = nullptr;  // contiguous: (B, n, m) or condensed (B, n*(n-1)/2)
  // symmetric: y is x (self distances). Only the upper triangle is computed; the output is mirrored,
  // so it is exactly symmetric with an exactly zero diagonal.
  bool symmetric = false;
  bool condensed = false;
};

// Validates the TensorRefs (rank 3, float32/float64, one dtype, one device of the expected kind,
// matching batch and feature sizes, output shape, contiguous output, non-negative strides) and
// returns the job. `on_cuda` selects which device kind the tensors must live on.
DistanceJob make_job(const TensorRef& x, const TensorRef& y, const TensorRef& out, Metric metric,
                     bool symmetric, bool condensed, bool on_cuda);

#if defined(__CUDACC__)
#define PYDISENT_HOST_DEVICE __host__ __device__
#else
#define PYDISENT_HOST_DEVICE
#endif

// Number of condensed entries per batch item.
PYDISENT_HOST_DEVICE inline int64_t condensed_size(int64_t n) { return n < 2 ? 0 : n * (n - 1) / 2; }

// ---- CPU ----------------------------------------------------------------------------------------
// One kernel per instruction set, each compiled in its own translation unit with its own target
// flags (no -march=native: the build must run on any x86-64). Each returns 0 on success or a
// nonzero code (1: out of memory) and never throws.
int run_cpu_generic(const DistanceJob& job);
#if defined(PYDISENT_DISTANCE_X86_ISAS)
int run_cpu_avx2(const DistanceJob& job);
int run_cpu_avx512(const DistanceJob& job);
#endif

// The instruction sets this build has kernels for and this CPU supports, best first ("generic" last).
std::vector<std::string> cpu_isas();
// Runs the job on the CPU with `isa` ("auto" = cpu::isa(): the best supported, or generic when
// PYDISENT_CPU_GENERIC=1); throws on an unsupported isa.
void run_cpu(const DistanceJob& job, const std::string& isa);
// Checks that every entry of x (and y, unless symmetric) is finite; throws ValueError naming it.
void check_finite_cpu(const DistanceJob& job);

// ---- CUDA ---------------------------------------------------------------------------------------
// `norms` is a float64 workspace of at least B*(n+m) elements (used by cosine only), allocated by
// Python on the same device. `stream` is the caller's current CUDA stream.
void run_cuda(const DistanceJob& job, double* norms, std::uintptr_t stream);

}  // namespace distance
}  // namespace pydisent
