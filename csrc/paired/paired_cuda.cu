// CUDA half of the paired row distances: one warp per pair (grid-stride), lanes stride over the row,
// float64 partial sums reduced by a fixed shuffle tree, so every pair is summed in the same order.
// Asynchronous on the caller's stream: no host round trip.
#include <cuda_runtime.h>
#include <math_constants.h>

#include <algorithm>

#include <cstdint>

#include "common/cuda_check.h"
#include "common/dispatch.h"
#include "paired/paired.h"

namespace pydisent {
namespace {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;

// Indices are in range: Python checked them (ops/paired.py) before the launch, so the kernel does not
// report back (no flag to allocate, copy and synchronise on per call). It still never reads outside x:
// a pair with an out-of-range index (only reachable by calling _C directly) gets NaN.
template <typename T>
__global__ void paired_kernel(const T* __restrict__ x, int64_t n, int64_t D, const int64_t* __restrict__ ia,
                              const int64_t* __restrict__ ib, int64_t P, DistanceMetric metric,
                              double* __restrict__ out) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warp = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  const bool l1 = metric == DistanceMetric::Manhattan;
  for (int64_t p = warp; p < P; p += stride) {
    const int64_t i = ia[p], j = ib[p];
    if (i < 0 || i >= n || j < 0 || j >= n) {  // uniform across the warp
      if (lane == 0) out[p] = CUDART_NAN;
      continue;
    }
    const T* a = x + i * D;
    const T* b = x + j * D;
    double acc = 0.0;
    for (int64_t k = lane; k < D; k += kWarp) {
      const double d = static_cast<double>(static_cast<T>(a[k] - b[k]));
      acc += l1 ? fabs(d) : d * d;
    }
    for (int o = kWarp / 2; o > 0; o /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    if (lane == 0) {
      if (metric == DistanceMetric::Euclidean) acc = sqrt(acc);
      if (metric == DistanceMetric::Mse) acc = D > 0 ? acc / static_cast<double>(D) : 0.0;
      out[p] = acc;
    }
  }
}

template <typename T>
void launch(const PairArgs& a, cudaStream_t stream) {
  const int64_t P = a.ia.size(0);
  const int64_t blocks64 = (P + kWarpsPerBlock - 1) / kWarpsPerBlock;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(blocks64, int64_t{1} << 20));
  paired_kernel<T><<<blocks, kWarpsPerBlock * kWarp, 0, stream>>>(
      a.x.data<T>(), a.x.size(0), a.x.size(1), a.ia.data<int64_t>(), a.ib.data<int64_t>(), P, a.metric,
      a.out.data<double>());
  PYDISENT_CUDA_CHECK_LAUNCH();
}

}  // namespace

void paired_distance_cuda(const PairArgs& a, std::uintptr_t stream) {
  pairs_validate(a, /*cuda=*/true);
  if (a.ia.size(0) == 0) return;
  DeviceGuard guard(a.x.device);
  PYDISENT_DISPATCH_FLOATING_TYPES(a.x.dtype, "paired_distance_cuda", [&] { launch<scalar_t>(a, as_stream(stream)); });
}

}  // namespace pydisent
