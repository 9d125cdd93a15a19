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
void pca_cuda(const PcaArgs& a, std::uintptr_t stream);

}  // namespace pydisent

namespace pydisent {

// Distances of sampled pairs of rows (the metrics' triplet distances): out[p] = d(x[ia[p]], x[ib[p]])
// for x (n, D) float32/float64 contiguous, ia/ib (P,) int64, out (P,) float64. Every pair is reduced
// by the same code path in the same order, so a pair measured twice ((a, b) and (b, a), or two copies
// of one row) gives bit-identical results: ties stay ties, which rank statistics depend on.
enum class PairMetric : int { Manhattan = 0, Euclidean = 1, SqEuclidean = 2, Mse = 3 };

struct PairArgs {
  TensorRef x, ia, ib, out;
  PairMetric metric = PairMetric::Euclidean;
};

void pairs_validate(const PairArgs& a, bool cuda);
void paired_distance_cpu(const PairArgs& a);
void paired_distance_cuda(const PairArgs& a, std::uintptr_t stream);

// Mean squared difference of sampled pairs of uint8 images, per-channel weighted: for x (n, D) uint8
// with channels interleaved (D = pixels * C, channel of element k = k % C) and weights (C,) float64,
// out[p] = sum_c weights[c] * S_c / D with S_c = sum over channel-c elements of (a_k - b_k)^2, an exact
// integer. With weights[c] = (1 / (255 std_c))^2 this is the MSE of the float images (x / 255 - mean_c) / std_c
// without rounding the images first. A pair measured twice gives bit-identical results.
struct ImagePairArgs {
  TensorRef x, ia, ib, weights, out;
};

void image_pairs_validate(const ImagePairArgs& a);
void paired_image_mse_cpu(const ImagePairArgs& a);

}  // namespace pydisent
