// The one vocabulary of distance metrics shared by every kernel family (distances, paired distances,
// the Rips engine) and by Python: module.cpp binds this enum as _C.DistanceMetric, and
// pydisent/_distance_metric.py maps user-facing names (and aliases such as "l2") onto its members.
// A kernel supports a subset and says so with check_metric(); the codes are stable (they cross the
// pybind11 boundary and the CUDA kernels compare against them).
//
// Plain C++ (no pybind11): .cu files include it.
#pragma once

#include <initializer_list>
#include <string>

#include "common/check.h"

namespace pydisent {

enum class DistanceMetric : int {
  Euclidean = 0,    // sqrt(sum (a - b)^2)
  SqEuclidean = 1,  // sum (a - b)^2
  Manhattan = 2,    // sum |a - b|
  Chebyshev = 3,    // max |a - b|
  Cosine = 4,       // 1 - a.b / (|a| |b|)
  Mse = 5,          // sum (a - b)^2 / d
};

inline const char* metric_name(DistanceMetric m) {
  switch (m) {
    case DistanceMetric::Euclidean: return "euclidean";
    case DistanceMetric::SqEuclidean: return "sqeuclidean";
    case DistanceMetric::Manhattan: return "manhattan";
    case DistanceMetric::Chebyshev: return "chebyshev";
    case DistanceMetric::Cosine: return "cosine";
    case DistanceMetric::Mse: return "mse";
  }
  return "unknown";
}

// Second line of defence (Python maps names and rejects unsupported ones first): throws ValueError
// naming the kernel's metrics when `m` is not one of `supported`.
inline void check_metric(DistanceMetric m, std::initializer_list<DistanceMetric> supported, const char* kernel) {
  for (auto s : supported)
    if (s == m) return;
  std::string known;
  for (auto s : supported) known += std::string(known.empty() ? "" : ", ") + metric_name(s);
  throw ValueError(detail::concat("argument 'metric' of ", kernel, " must be one of ", known, "; got code ",
                                  static_cast<int>(m)));
}

}  // namespace pydisent
