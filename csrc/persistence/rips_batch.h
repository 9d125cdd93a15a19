// A batch of clouds as the bindings hand it over: one packed buffer plus vertex offsets.
//
// Points: cloud b is the (n_b, dim) row-major block starting at row offsets[b]
//         (n_b = offsets[b + 1] - offsets[b]); a (B, n, d) tensor is the special case offsets = k * n.
// Distances: cloud b is the n_b x n_b row-major matrix that follows the matrices of clouds < b.
#pragma once

#include <cstdint>
#include <vector>

#include "common/tensor.h"
#include "persistence/rips_engine.h"

namespace pydisent {
namespace rips {

struct BatchInput {
  const void* data = nullptr;  // host or device pointer, float32 or float64
  DType dtype = DType::Float32;
  bool distances = false;
  int64_t dim = 0;               // coordinates per point (points input)
  std::vector<int64_t> offsets;  // B + 1 vertex offsets
};

std::vector<CloudResult> rips_batch_cpu(const BatchInput& in, int metric, const Settings& s, int threads);

#ifdef PYDISENT_WITH_CUDA
// The filtration is built on the GPU (one launch per stage for the whole batch) and the remaining
// H1 reduction runs here on the CPU; `workspace` is a device buffer of at least
// rips_cuda_workspace_bytes(...) bytes allocated by Python.
int64_t rips_cuda_workspace_bytes(const BatchInput& in, int maxdim);
std::vector<CloudResult> rips_batch_cuda(const BatchInput& in, int metric, const Settings& s, void* workspace,
                                         int64_t workspace_bytes, int device, uintptr_t stream, int threads);
#endif

}  // namespace rips
}  // namespace pydisent
