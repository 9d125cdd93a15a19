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

// A filtration built elsewhere (the GPU), copied to the host: per cloud the minimum spanning forest
// and, for H1, the distance matrix, the H1 threshold and the sorted column codes.
struct HostFiltration {
  std::vector<int64_t> offsets;      // B + 1 vertex offsets
  std::vector<int32_t> parent;       // per vertex, local indices (-1: root)
  std::vector<float> length;         // per vertex
  std::vector<int64_t> matrix_offsets;  // B + 1 (H1 only)
  std::vector<float> D;              // packed n x n matrices (H1 only)
  std::vector<float> threshold1;     // per cloud (H1 only)
  std::vector<int64_t> column_offsets;  // B + 1 (H1 only)
  std::vector<ColumnCode> codes;     // sorted by key within each cloud (H1 only)
};
// H0 pairs from the forests and the H1 reduction of the columns, one cloud per thread.
std::vector<CloudResult> finish_batch(const HostFiltration& f, int maxdim, int threads);

// The CUDA pipeline's data flow run on the CPU (tests only): per-edge classify_edge flags, stable
// compaction, per-cloud sort of the keys, then finish_batch, exactly as rips_batch_cuda does.
std::vector<CloudResult> rips_batch_emulated_gpu_flow(const BatchInput& in, int metric, const Settings& s,
                                                      int threads);

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
