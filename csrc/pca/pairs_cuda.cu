// CUDA half of the paired row distances: one warp per pair (grid-stride), lanes stride over the row,
// float64 partial sums reduced by a fixed shuffle tree, so every pair is summed in the same order.
#include <cuda_runtime.h>

#include <cstdint>

#include "common/cuda_check.h"
#include "pca/pca.h"

namespace pydisent {
namespace {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;

template <typename T>
__global__ void paired_kernel(const T* __restrict__ x, int64_t n, int64_t D, const int64_t* __restrict__ ia,
                              const int64_t* __restrict__ ib, int64_t P, int metric, double* __restrict__ out,
                              int* __restrict__ bad) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warp = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t p = warp; p < P; p += stride) {
    const int64_t i = ia[p], j = ib[p];
    if (i < 0 || i >= n || j < 0 || j >= n) {  // uniform across the warp
      if (lane == 0) atomicExch(bad, 1);
      if (lane == 0) out[p] = 0.0;
      continue;
    }
    const T* a = x + i * D;
    const T* b = x + j * D;
    double acc = 0.0;
    for (int64_t k = lane; k < D; k += kWarp) {
      const double d = static_cast<double>(static_cast<T>(a[k] - b[k]));
      acc += metric == 0 ? fabs(d) : d * d;
    }
    for (int o = kWarp / 2; o > 0; o /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    if (lane == 0) {
      if (metric == 1) acc = sqrt(acc);
      if (metric == 3) acc = D > 0 ? acc / static_cast<double>(D) : 0.0;
      out[p] = acc;
    }
  }
}

template <typename T>
void launch(const PairArgs& a, cudaStream_t stream) {
  const int64_t P = a.ia.size(0);
  // A device flag for out-of-range indices: checked after the launch (one small synchronising copy).
  int* bad = nullptr;
  PYDISENT_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&bad), sizeof(int), stream));
  struct Free {
    int* p;
    cudaStream_t s;
    ~Free() { cudaFreeAsync(p, s); }
  } guard{bad, stream};
  PYDISENT_CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof(int), stream));
  const int64_t blocks64 = (P + kWarpsPerBlock - 1) / kWarpsPerBlock;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(blocks64, int64_t{1} << 20));
  paired_kernel<T><<<blocks, kWarpsPerBlock * kWarp, 0, stream>>>(
      a.x.data<T>(), a.x.size(0), a.x.size(1), a.ia.data<int64_t>(), a.ib.data<int64_t>(), P,
      static_cast<int>(a.metric), a.out.data<double>(), bad);
  PYDISENT_CUDA_CHECK_LAUNCH();
  int host_bad = 0;
  PYDISENT_CUDA_CHECK(cudaMemcpyAsync(&host_bad, bad, sizeof(int), cudaMemcpyDeviceToHost, stream));
  PYDISENT_CUDA_CHECK(cudaStreamSynchronize(stream));
  PYDISENT_CHECK(host_bad == 0, "paired_distance: an index is out of range [0, ", a.x.size(0), ")");
}

}  // namespace

void paired_distance_cuda(const PairArgs& a, std::uintptr_t stream) {
  pairs_validate(a, /*cuda=*/true);
  if (a.ia.size(0) == 0) return;
  DeviceGuard guard(a.x.device);
  if (a.x.dtype == DType::Float32)
    launch<float>(a, as_stream(stream));
  else
    launch<double>(a, as_stream(stream));
}

}  // namespace pydisent
