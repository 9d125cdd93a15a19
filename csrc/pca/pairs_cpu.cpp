// CPU half of the paired row distances: OpenMP over pairs, one fixed-order reduction per pair.
#include <omp.h>

#include <atomic>
#include <cmath>
#include <cstdint>

#include "common/check.h"
#include "common/cpu.h"
#include "pca/pca.h"

namespace pydisent {
namespace {

constexpr int kLanes = 16;  // independent partial sums: vectorisable, and a fixed summation order

// Sum over k of |a_k - b_k| (p = 1) or (a_k - b_k)^2 (p = 2), differences in the input type (as the
// torch expression would round them), their magnitudes/squares accumulated in float64. The order
// depends only on D, never on where the rows sit.
template <typename T, int P>
inline double row_sum(const T* a, const T* b, int64_t D) {
  double acc[kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= D; k += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) {
      const double d = static_cast<double>(static_cast<T>(a[k + l] - b[k + l]));
      acc[l] += P == 1 ? std::fabs(d) : d * d;
    }
  }
  for (int l = 0; k < D; ++k, ++l) {
    const double d = static_cast<double>(static_cast<T>(a[k] - b[k]));
    acc[l] += P == 1 ? std::fabs(d) : d * d;
  }
  // fixed pairwise tree over the lanes
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) acc[l] += acc[l + w];
  return acc[0];
}

template <typename T, int P>
PYDISENT_CLONES void pairs_loop(const T* x, int64_t D, const int64_t* ia, const int64_t* ib, int64_t begin,
                                      int64_t end, double* out) {
  for (int64_t p = begin; p < end; ++p) out[p] = row_sum<T, P>(x + ia[p] * D, x + ib[p] * D, D);
}

template <typename T>
void run(const PairArgs& a) {
  const int64_t n = a.x.size(0), D = a.x.size(1), P = a.ia.size(0);
  const T* x = a.x.data<T>();
  const int64_t* ia = a.ia.data<int64_t>();
  const int64_t* ib = a.ib.data<int64_t>();
  double* out = a.out.data<double>();
  std::atomic<int64_t> bad{-1};
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < P; ++p)
    if (ia[p] < 0 || ia[p] >= n || ib[p] < 0 || ib[p] >= n) bad.store(p);
  PYDISENT_CHECK(bad.load() < 0, "paired_distance: index out of range [0, ", n, ") at pair ", bad.load());
  const bool l1 = a.metric == PairMetric::Manhattan;
#pragma omp parallel
  {
    const int64_t nt = omp_get_num_threads(), tid = omp_get_thread_num();
    const int64_t begin = P * tid / nt, end = P * (tid + 1) / nt;
    if (l1)
      pairs_loop<T, 1>(x, D, ia, ib, begin, end, out);
    else
      pairs_loop<T, 2>(x, D, ia, ib, begin, end, out);
  }
  if (a.metric == PairMetric::Euclidean) {
    for (int64_t p = 0; p < P; ++p) out[p] = std::sqrt(out[p]);
  } else if (a.metric == PairMetric::Mse) {
    const double inv = D > 0 ? 1.0 / static_cast<double>(D) : 0.0;
    for (int64_t p = 0; p < P; ++p) out[p] *= inv;
  }
}

}  // namespace

void paired_distance_cpu(const PairArgs& a) {
  pairs_validate(a, /*cuda=*/false);
  if (a.ia.size(0) == 0) return;
  if (a.x.dtype == DType::Float32)
    run<float>(a);
  else
    run<double>(a);
}

}  // namespace pydisent
