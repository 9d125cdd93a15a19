// Paired row distances (the Python face is pydisent/ops/paired.py): the distances of sampled pairs of
// rows of one matrix, float rows (paired_distance) and uint8 images (paired_image_mse).
//
// This header is plain C++ so the .cu half can include it.
#pragma once

#include <cstdint>

#include "common/metric.h"
#include "common/tensor.h"

namespace pydisent {

// Distances of sampled pairs of rows (the metrics' triplet distances): out[p] = d(x[ia[p]], x[ib[p]])
// for x (n, D) float32/float64 contiguous, ia/ib (P,) int64, out (P,) float64. Every pair is reduced
// by the same code path in the same order, so a pair measured twice ((a, b) and (b, a), or two copies
// of one row) gives bit-identical results: ties stay ties, which rank statistics depend on.
// Metrics: manhattan, euclidean, sqeuclidean and mse of the shared vocabulary (common/metric.h).

struct PairArgs {
  TensorRef x, ia, ib, out;
  DistanceMetric metric = DistanceMetric::Euclidean;
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
