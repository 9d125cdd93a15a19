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
#include <cstring>

#include "common/metric.h"

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
// H1 needs the dense matrix and numbers edges (i, j) by i (i - 1) / 2 + j in 32 bits.
constexpr int64_t kMaxPointsH1 = 92681;
constexpr key_t kNoKey = ~key_t(0);

// The engine's metrics, as codes of the shared vocabulary (common/metric.h): the CPU and CUDA
// stages compare an int against these.
constexpr int kEuclidean = static_cast<int>(DistanceMetric::Euclidean);
constexpr int kManhattan = static_cast<int>(DistanceMetric::Manhattan);
constexpr int kChebyshev = static_cast<int>(DistanceMetric::Chebyshev);

// Edge {i, j}, i > j.
PD_HD key_t edge_key(uint64_t i, uint64_t j) { return (i << kVertexBits) | j; }
PD_HD uint32_t edge_hi(key_t k) { return static_cast<uint32_t>(k >> kVertexBits); }
PD_HD uint32_t edge_lo(key_t k) { return static_cast<uint32_t>(k & kVertexMask); }

// Edge {a, b} in any order.
PD_HD key_t undirected_edge_key(uint64_t a, uint64_t b) { return a > b ? edge_key(a, b) : edge_key(b, a); }

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

// Combinatorial index of edge i > j (colexicographic rank), < 2^32 for n <= kMaxPointsH1.
PD_HD uint32_t edge_index(uint32_t i, uint32_t j) {
  return static_cast<uint32_t>(uint64_t(i) * (i - 1) / 2 + j);
}
PD_HD void edge_from_index(uint32_t e, uint32_t& i, uint32_t& j) {
  // i = floor((1 + sqrt(1 + 8e)) / 2), corrected for rounding
  uint64_t a = static_cast<uint64_t>((1.0 + sqrt(1.0 + 8.0 * double(e))) * 0.5);
  while (a * (a - 1) / 2 > e) --a;
  while ((a + 1) * a / 2 <= e) ++a;
  i = static_cast<uint32_t>(a);
  j = static_cast<uint32_t>(e - a * (a - 1) / 2);
}

PD_HD uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}

// H1 columns travel as (sort key, value) pairs, on the CPU and from the GPU: ascending keys are the
// reverse filtration order (diameter descending: the bits of a non-negative float increase with it;
// then edge index ascending); the value carries the zero-persistence cofacet vertex zk (or -1).
PD_HD uint64_t column_sort_key(float d, uint32_t e) {
  return (uint64_t(~float_bits(d + 0.0f)) << 32) | e;  // + 0.0f: -0 sorts as +0
}
PD_HD uint64_t column_value(int32_t zk, uint32_t e) { return (uint64_t(static_cast<uint32_t>(zk)) << 32) | e; }
PD_HD int32_t column_value_zk(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v >> 32)); }
PD_HD uint32_t column_value_edge(uint64_t v) { return static_cast<uint32_t>(v & 0xFFFFFFFFu); }

// The F-last facet of triangle (a > b > c) among those with the triangle's diameter dt (facets by
// increasing key are {b, c}, {a, c}, {a, b}; the first of diameter dt is the F-last one), as
// (x > y) with the remaining vertex z. D is the n x n matrix of the cloud.
PD_HD void last_facet(const float* D, int64_t n, uint32_t a, uint32_t b, uint32_t c, float dt, uint32_t& x,
                      uint32_t& y, uint32_t& z) {
  if (D[int64_t(b) * n + c] == dt) {
    x = b, y = c, z = a;
  } else if (D[int64_t(a) * n + c] == dt) {
    x = a, y = c, z = b;
  } else {
    x = a, y = b, z = c;
  }
}

// Largest k, k not in {i, j}, with ri[k] <= d and rj[k] <= d; -1 if none: the third vertex of the
// zero-persistence pivot cofacet of edge (i, j) of diameter d. (The CPU uses a vectorised version of
// the same scan, top_common_neighbor in rips_h1.cpp.)
PD_HD int64_t top_common_neighbor_scalar(const float* ri, const float* rj, int64_t n, float d, int64_t i,
                                         int64_t j) {
  for (int64_t k = n - 1; k >= 0; --k)
    if (ri[k] <= d && rj[k] <= d && k != i && k != j) return k;
  return -1;
}

// The per-edge work of the GPU column kernel (and of its CPU emulation): edge number e of a cloud
// of n points (D its matrix, parent its minimum spanning forest, t1 its H1 threshold) is an H1
// column when it is within t1, not a forest edge and not the F-last facet of its zero-persistence
// pivot cofacet (an apparent pair). Then its (sort key, value) code is returned.
PD_HD bool classify_edge(const float* D, int64_t n, uint32_t e, float t1, const int32_t* parent, uint64_t& key,
                         uint64_t& value) {
  uint32_t i, j;
  edge_from_index(e, i, j);
  const float d = D[int64_t(i) * n + j];
  if (!(d <= t1) || parent[i] == int32_t(j) || parent[j] == int32_t(i)) return false;
  const int64_t k = top_common_neighbor_scalar(D + int64_t(i) * n, D + int64_t(j) * n, n, d, i, j);
  if (k >= 0) {
    const key_t t = tri_key_of_edge(i, j, uint64_t(k));
    uint32_t x, y, z;
    last_facet(D, n, tri_a(t), tri_b(t), tri_c(t), d, x, y, z);
    if (x == i && y == j) return false;
  }
  key = column_sort_key(d, e);
  value = column_value(int32_t(k), e);
  return true;
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
#if defined(__CUDA_ARCH__)
      acc = __dadd_rn(acc, __dmul_rn(t, t));  // never fused into an FMA: same rounding as the CPU
#else
      acc += t * t;
#endif
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
