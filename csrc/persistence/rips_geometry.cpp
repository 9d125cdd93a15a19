// Point distances for the Rips engine: the dense matrix for H1 and the per-step distance rows of
// Prim's algorithm for H0. Coordinates are transposed to double "structure of arrays" so the inner
// loop runs over points (vectorised for any dimension); each distance is still accumulated in
// coordinate order, so the value is the same as point_distance() in rips_common.h bit for bit.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "persistence/rips_engine.h"
#include "persistence/rips_geometry.h"

namespace pydisent {
namespace rips {

template <typename T>
void to_soa(const T* points, int64_t n, int64_t dim, std::vector<double>& soa) {
  soa.resize(static_cast<size_t>(n * dim));
  for (int64_t v = 0; v < n; ++v)
    for (int64_t q = 0; q < dim; ++q) soa[static_cast<size_t>(q * n + v)] = static_cast<double>(points[v * dim + q]);
}
template void to_soa<float>(const float*, int64_t, int64_t, std::vector<double>&);
template void to_soa<double>(const double*, int64_t, int64_t, std::vector<double>&);

PYDISENT_VARIANT_BODY void soa_distances_body(const double* soa, int64_t stride, int64_t dim, const double* x, int64_t begin, int64_t end,
                   int metric, double* acc, float* out) {
  for (int64_t v = begin; v < end; ++v) acc[v] = 0.0;
  if (metric == kEuclidean) {
    for (int64_t q = 0; q < dim; ++q) {
      const double c = x[q];
      const double* col = soa + q * stride;
      for (int64_t v = begin; v < end; ++v) {
        double t = col[v] - c;
        acc[v] += t * t;
      }
    }
    for (int64_t v = begin; v < end; ++v) out[v] = static_cast<float>(std::sqrt(acc[v]));
  } else if (metric == kManhattan) {
    for (int64_t q = 0; q < dim; ++q) {
      const double c = x[q];
      const double* col = soa + q * stride;
      for (int64_t v = begin; v < end; ++v) acc[v] += std::fabs(col[v] - c);
    }
    for (int64_t v = begin; v < end; ++v) out[v] = static_cast<float>(acc[v]);
  } else {
    for (int64_t q = 0; q < dim; ++q) {
      const double c = x[q];
      const double* col = soa + q * stride;
      for (int64_t v = begin; v < end; ++v) {
        double t = std::fabs(col[v] - c);
        acc[v] = t > acc[v] ? t : acc[v];
      }
    }
    for (int64_t v = begin; v < end; ++v) out[v] = static_cast<float>(acc[v]);
  }
}
PYDISENT_CPU_VARIANTS_NO_FMA(PYDISENT_RIPS_ENV, void, soa_distances,
                             (const double* soa, int64_t stride, int64_t dim, const double* x, int64_t begin,
                              int64_t end, int metric, double* acc, float* out),
                             (soa, stride, dim, x, begin, end, metric, acc, out))

template <typename T>
void distance_matrix(const T* points, int64_t n, int64_t dim, int metric, float* D, int threads) {
  if (n == 0) return;
  std::vector<double> soa;
  to_soa(points, n, dim, soa);
  constexpr int64_t kBlock = 64;
  // A parallel region costs microseconds on an idle machine but a scheduler time slice when the
  // cores are oversubscribed: only matrices that take several milliseconds on one thread.
  const int nt = (n * n * std::max<int64_t>(dim, 1) >= (int64_t(1) << 24)) ? std::max(1, threads) : 1;
#pragma omp parallel num_threads(nt)
  {
    std::vector<double> acc(static_cast<size_t>(n));
    std::vector<double> x(static_cast<size_t>(dim));
    // Lower triangle row by row (row i: columns j < i), then mirrored: exact symmetry by construction.
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t q = 0; q < dim; ++q) x[q] = soa[q * n + i];
      soa_distances(soa.data(), n, dim, x.data(), 0, i, metric, acc.data(), D + i * n);
      D[i * n + i] = 0.0f;
    }
#pragma omp for schedule(dynamic, 1)
    for (int64_t bi = 0; bi < n; bi += kBlock) {
      for (int64_t bj = bi; bj < n; bj += kBlock) {
        // block of the upper triangle: rows [bi, bi+B), columns [bj, bj+B) with column > row
        const int64_t ie = std::min(n, bi + kBlock), je = std::min(n, bj + kBlock);
        for (int64_t i = bi; i < ie; ++i)
          for (int64_t j = std::max(bj, i + 1); j < je; ++j) D[i * n + j] = D[j * n + i];
      }
    }
  }
}
template void distance_matrix<float>(const float*, int64_t, int64_t, int, float*, int);
template void distance_matrix<double>(const double*, int64_t, int64_t, int, float*, int);

float enclosing_radius(const float* D, int64_t n) {
  float r = std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    const float* row = D + i * n;
    float m = 0.0f;
    for (int64_t j = 0; j < n; ++j) m = row[j] > m ? row[j] : m;
    r = std::min(r, m);
  }
  return n > 0 ? r : 0.0f;
}

}  // namespace rips
}  // namespace pydisent
