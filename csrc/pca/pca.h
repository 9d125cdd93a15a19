// Batched PCA of small point clouds: per cloud the mean, the covariance eigenvalues (descending) and,
// optionally, the eigenvectors.
//
// Input x is (B, m, k): B clouds of m points in k dimensions (k <= kPcaMaxDim). An optional bool mask
// (B, m) selects the points of each cloud (ragged clouds). The covariance of cloud b is
//   C_b = 1/(n_b - 1) * sum_i (x_bi - mu_b)(x_bi - mu_b)^T   (unbiased)   or   1/n_b * ... (biased),
// n_b = number of selected points. Clouds with n_b <= 1 (unbiased) or n_b == 0 (biased) have C_b = 0:
// zero eigenvalues and identity eigenvectors; an empty cloud has mean 0.
//
// Outputs (allocated by Python, same dtype as x): mean (B, k), eigenvalues (B, k) in descending order,
// eigenvectors (B, k, k) or none, with eigenvector j in column j (as torch.linalg.eigh) and its sign
// fixed so that its largest-magnitude component is positive.
//
// This header is plain C++ so the .cu half can include it.
#pragma once

#include <cstdint>

#include "common/tensor.h"

namespace pydisent {

// Largest supported dimension k: the CUDA kernel keeps a k x k matrix per cloud in shared memory.
constexpr int64_t kPcaMaxDim = 64;

struct PcaArgs {
  TensorRef x;        // (B, m, k) float32/float64, contiguous
  bool has_mask = false;
  TensorRef mask;     // (B, m) bool, contiguous
  TensorRef mean;     // (B, k)
  TensorRef evals;    // (B, k)
  bool has_evecs = false;
  TensorRef evecs;    // (B, k, k)
  bool unbiased = true;
};

// Shape/dtype/device checks shared by both halves; `cuda` says which device the kernel needs.
void pca_validate(const PcaArgs& a, bool cuda);

void pca_cpu(const PcaArgs& a);
// `status` (2,) int64 on x's device, filled with B by the caller: the kernel lowers entry 0 to the first
// cloud whose Jacobi iteration did not converge and entry 1 to the first whose covariance is not
// finite; the caller reads it after the launch and raises as pca_cpu does.
void pca_cuda(const PcaArgs& a, const TensorRef& status, std::uintptr_t stream);

}  // namespace pydisent
