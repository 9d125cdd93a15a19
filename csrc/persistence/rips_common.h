// Vietoris-Rips persistence: definitions shared by the CPU engine and the CUDA kernels.
//
// Conventions (the same as ripser, so diagrams and representatives agree with it):
// * filtration values are float32; a simplex's diameter is the largest float32 edge length in it;
// * the simplexwise refinement F orders simplices of one dimension by (diameter ascending, then
//   combinatorial index DESCENDING); the combinatorial index of {v_k > ... > v_0} is
//   sum_i binom(v_i, i + 1), i.e. colexicographic rank;
// * the complex holds the simplices with diameter <= threshold (inclusive).
//
// Instead of combinatorial indices we use packed keys: the vertices, largest first, in 21-bit
// fields. A packed key orders simplices exactly like the colexicographic rank (largest vertex first,
// then the next one, ...), so comparing keys is comparing combinatorial indices; it needs no binomial
// table and decodes with shifts. It limits clouds to 2^21 points for H1 (the dense matrix of such a
// cloud would not fit anyway).
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define PD_HD __host__ __device__ __forceinline__
#else
#define PD_HD inline
#endif

namespace pydisent {
namespace rips {

using key_t = uint64_t;
constexpr int kVertexBits = 21;
constexpr uint64_t kVertexMask = (uint64_t(1) << kVertexBits) - 1;
constexpr int64_t kMaxPointsH1 = int64_t(1) << kVertexBits;
constexpr key_t kNoKey = ~key_t(0);

enum Metric : int { kEuclidean = 0, kManhattan = 1, kChebyshev = 2 };

// Edge {i, j}, i > j.
PD_HD key_t edge_key(uint64_t i, uint64_t j) { return (i << kVertexBits) | j; }
PD_HD uint32_t edge_hi(key_t k) { return static_cast<uint32_t>(k >> kVertexBits); }
PD_HD uint32_t edge_lo(key_t k) { return static_cast<uint32_t>(k & kVertexMask); }

// Triangle {a, b, c}, a > b > c.
PD_HD key_t tri_key(uint64_t a, uint64_t b, uint64_t c) {
  return (a << (2 * kVertexBits)) | (b << kVertexBits) | c;
}
PD_HD uint32_t tri_a(key_t k) { return static_cast<uint32_t>(k >> (2 * kVertexBits)); }
PD_HD uint32_t tri_b(key_t k) { return static_cast<uint32_t>((k >> kVertexBits) & kVertexMask); }
PD_HD uint32_t tri_c(key_t k) { return static_cast<uint32_t>(k & kVertexMask); }

// Triangle {i, j, k} for the edge i > j and a third vertex k (k != i, j).
PD_HD key_t tri_key_of_edge(uint64_t i, uint64_t j, uint64_t k) {
  return k > i ? tri_key(k, i, j) : (k > j ? tri_key(i, k, j) : tri_key(i, j, k));
}

// True when simplex (da, ka) comes before (db, kb) in F (same dimension).
PD_HD bool f_before(float da, key_t ka, float db, key_t kb) {
  return da < db || (da == db && ka > kb);
}

// Distance between two points, accumulated in double in coordinate order and rounded to float32
// once, like ripser.py (float64 distances cast to float32). (a - b)^2 and |a - b| are symmetric in
// IEEE arithmetic, so d(x, y) == d(y, x) bit for bit.
template <typename T>
PD_HD float point_distance(const T* x, const T* y, int64_t dim, int metric) {
  double acc = 0.0;
  if (metric == kEuclidean) {
    for (int64_t q = 0; q < dim; ++q) {
      double t = static_cast<double>(x[q]) - static_cast<double>(y[q]);
      acc += t * t;
    }
    return static_cast<float>(sqrt(acc));
  }
  if (metric == kManhattan) {
    for (int64_t q = 0; q < dim; ++q) acc += fabs(static_cast<double>(x[q]) - static_cast<double>(y[q]));
    return static_cast<float>(acc);
  }
  for (int64_t q = 0; q < dim; ++q) {
    double t = fabs(static_cast<double>(x[q]) - static_cast<double>(y[q]));
    acc = t > acc ? t : acc;
  }
  return static_cast<float>(acc);
}

}  // namespace rips
}  // namespace pydisent
