// Replay of a fitted gradient-boosted tree ensemble (scikit-learn's HistGradientBoostingClassifier) on
// binned rows: the raw scores of every row and, given the class of every row, the reference DCI
// importance of every feature (GradientBoostingClassifier's definition: the decrease, over each split,
// of the squared error of the log-loss gradients each tree was fit to, summed per feature).
//
// CPU only, by design: the trees are scikit-learn objects fitted on the CPU; the numpy replay in
// pydisent/metrics/_estimators.py is the reference this kernel is tested against.
#include <omp.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/check.h"
#include "common/registry.h"
#include "common/tensor.h"

namespace py = pybind11;

namespace pydisent {
namespace {

// The node table of every tree of every stage, concatenated (tree t = stage * K + k spans
// [offsets[t], offsets[t + 1])); child indices are global.
struct Forest {
  const int32_t* feature;
  const uint8_t* threshold;     // go left when the row's bin <= threshold
  const uint8_t* missing_left;  // where the missing-value bin goes
  const int32_t* left;
  const int32_t* right;
  const uint8_t* is_leaf;
  const double* value;
  const int64_t* offsets;
  int64_t num_trees = 0, num_nodes = 0;
};

void check_host_vector(const TensorRef& t, const char* name, DType dtype, int64_t size) {
  check_rank(t, name, 1);
  check_dtype(t, name, dtype);
  check_contiguous(t, name);
  check_host(t, name);
  PYDISENT_CHECK(t.size(0) == size, "argument '", name, "' must have ", size, " entries, got ", t.size(0));
}

// Every split's children lie after it inside its own tree, and every feature index is in range: a
// walk from a root then always ends at a leaf of that tree, in at most tree-size steps.
void check_forest(const Forest& f, int64_t num_features) {
  PYDISENT_CHECK(f.offsets[0] == 0 && f.offsets[f.num_trees] == f.num_nodes,
                 "argument 'offsets' must start at 0 and end at the number of nodes");
  for (int64_t t = 0; t < f.num_trees; ++t) {
    const int64_t lo = f.offsets[t], hi = f.offsets[t + 1];
    PYDISENT_CHECK(lo < hi, "argument 'offsets': tree ", t, " has no nodes");
    for (int64_t v = lo; v < hi; ++v) {
      if (f.is_leaf[v]) continue;
      PYDISENT_CHECK(f.feature[v] >= 0 && f.feature[v] < num_features, "node ", v, " splits on feature ",
                     f.feature[v], ", outside 0..", num_features - 1);
      PYDISENT_CHECK(f.left[v] > v && f.left[v] < hi && f.right[v] > v && f.right[v] < hi, "node ", v,
                     " has children outside its tree (or before it): ", f.left[v], ", ", f.right[v]);
    }
  }
}

// Stage-by-stage replay. With `targets`, the stage's residuals y_k - p_k (softmax of the raw scores
// before the stage; sigmoid for one tree per stage) are accumulated in the leaf each row reaches (count,
// sum, sum of squares), summed up the trees at the end, and the importance computed from those sums.
void replay(const uint8_t* xb, int64_t n, int64_t F, const Forest& f, int64_t K, const double* baseline,
            int missing_bin, const int64_t* targets, double* raw, double* importance) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < K; ++k) raw[i * K + k] = baseline[k];
  const int64_t stages = f.num_trees / K;
  std::vector<double> resid(targets ? static_cast<size_t>(n * K) : 0);
  std::vector<double> sums(targets ? static_cast<size_t>(3 * f.num_nodes) : 0, 0.0);  // count, s1, s2
  for (int64_t s = 0; s < stages; ++s) {
    if (targets) {
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < n; ++i) {
        const double* r = raw + i * K;
        double* g = resid.data() + i * K;
        if (K == 1) {
          g[0] = (targets[i] == 1 ? 1.0 : 0.0) - 1.0 / (1.0 + std::exp(-r[0]));
        } else {
          double mx = r[0];
          for (int64_t k = 1; k < K; ++k) mx = std::max(mx, r[k]);
          double tot = 0.0;
          for (int64_t k = 0; k < K; ++k) tot += (g[k] = std::exp(r[k] - mx));
          for (int64_t k = 0; k < K; ++k) g[k] = (targets[i] == k ? 1.0 : 0.0) - g[k] / tot;
        }
      }
    }
    // The K trees of a stage are independent (residuals fixed at the stage's start; tree k writes
    // column k of raw and its own nodes' sums): one tree per thread.
#pragma omp parallel for schedule(dynamic, 1) if (K > 1)
    for (int64_t k = 0; k < K; ++k) {
      const int64_t root = f.offsets[s * K + k];
      for (int64_t i = 0; i < n; ++i) {
        const uint8_t* row = xb + i * F;
        const double g = targets ? resid[i * K + k] : 0.0;
        int64_t v = root;
        while (!f.is_leaf[v]) {
          const int b = row[f.feature[v]];
          const bool go_left = b == missing_bin ? f.missing_left[v] != 0 : b <= f.threshold[v];
          v = go_left ? f.left[v] : f.right[v];
        }
        if (targets) {  // leaves only; split nodes get their children's totals at the end
          sums[3 * v] += 1.0;
          sums[3 * v + 1] += g;
          sums[3 * v + 2] += g * g;
        }
        raw[i * K + k] += f.value[v];
      }
    }
  }
  if (!targets) return;
  // Children come after their parent (check_forest), so one backward sweep sums every subtree.
  for (int64_t v = f.num_nodes - 1; v >= 0; --v) {
    if (f.is_leaf[v]) continue;
    for (int c = 0; c < 3; ++c) sums[3 * v + c] = sums[3 * f.left[v] + c] + sums[3 * f.right[v] + c];
  }
  for (int64_t j = 0; j < F; ++j) importance[j] = 0.0;
  auto sse = [&](int64_t v) {
    const double c = sums[3 * v], s1 = sums[3 * v + 1];
    return sums[3 * v + 2] - (c > 0.0 ? s1 * s1 / c : 0.0);
  };
  for (int64_t v = 0; v < f.num_nodes; ++v) {
    if (f.is_leaf[v]) continue;
    const double dec = sse(v) - sse(f.left[v]) - sse(f.right[v]);
    importance[f.feature[v]] += std::max(dec, 0.0);
  }
}

void gbt_replay_cpu(const TensorRef& xb, const TensorRef& feature, const TensorRef& threshold,
                    const TensorRef& missing_left, const TensorRef& left, const TensorRef& right,
                    const TensorRef& is_leaf, const TensorRef& value, const TensorRef& offsets,
                    const TensorRef& baseline, int missing_bin, std::optional<TensorRef> targets, const TensorRef& raw,
                    std::optional<TensorRef> importance) {
  check_rank(xb, "binned", 2);
  check_dtype(xb, "binned", DType::UInt8);
  check_contiguous(xb, "binned");
  check_host(xb, "binned");
  const int64_t n = xb.size(0), F = xb.size(1);
  check_rank(offsets, "offsets", 1);
  const int64_t T = offsets.size(0) - 1;
  PYDISENT_CHECK(T >= 0, "argument 'offsets' must have at least one entry");
  check_host_vector(offsets, "offsets", DType::Int64, T + 1);
  const int64_t M = feature.size(0);
  check_host_vector(feature, "feature", DType::Int32, M);
  check_host_vector(threshold, "threshold", DType::UInt8, M);
  check_host_vector(missing_left, "missing_left", DType::UInt8, M);
  check_host_vector(left, "left", DType::Int32, M);
  check_host_vector(right, "right", DType::Int32, M);
  check_host_vector(is_leaf, "is_leaf", DType::UInt8, M);
  check_host_vector(value, "value", DType::Float64, M);
  check_rank(baseline, "baseline", 1);
  const int64_t K = baseline.size(0);
  check_host_vector(baseline, "baseline", DType::Float64, K);
  PYDISENT_CHECK(K >= 1 && T % K == 0, "the number of trees (", T, ") must be a multiple of the trees per stage (",
                 K, ")");
  PYDISENT_CHECK(missing_bin >= 0 && missing_bin <= 255, "argument 'missing_bin' must be in 0..255, got ",
                 missing_bin);
  check_rank(raw, "raw", 2);
  check_dtype(raw, "raw", DType::Float64);
  check_contiguous(raw, "raw");
  check_host(raw, "raw");
  PYDISENT_CHECK(raw.size(0) == n && raw.size(1) == K, "argument 'raw' must have shape (", n, ", ", K, "), got (",
                 raw.size(0), ", ", raw.size(1), ")");
  PYDISENT_CHECK(targets.has_value() == importance.has_value(),
                 "arguments 'targets' and 'importance' must be given together");
  const int64_t* y = nullptr;
  double* imp = nullptr;
  if (targets) {
    check_host_vector(*targets, "targets", DType::Int64, n);
    check_host_vector(*importance, "importance", DType::Float64, F);
    y = targets->data<int64_t>();
    const int64_t classes = K == 1 ? 2 : K;
    for (int64_t i = 0; i < n; ++i)
      PYDISENT_CHECK(y[i] >= 0 && y[i] < classes, "argument 'targets' must hold class indices in 0..", classes - 1,
                     ", got ", y[i]);
    imp = importance->data<double>();
  }
  Forest f{feature.data<int32_t>(), threshold.data<uint8_t>(), missing_left.data<uint8_t>(), left.data<int32_t>(),
           right.data<int32_t>(), is_leaf.data<uint8_t>(), value.data<double>(), offsets.data<int64_t>(), T, M};
  check_forest(f, F);
  py::gil_scoped_release release;  // the metrics fit other factors in parallel threads
  replay(xb.data<uint8_t>(), n, F, f, K, baseline.data<double>(), missing_bin, y, raw.data<double>(), imp);
}

}  // namespace

void register_trees(py::module_& m) {
  m.def("gbt_replay_cpu", &gbt_replay_cpu, py::arg("binned"), py::arg("feature"), py::arg("threshold"),
        py::arg("missing_left"), py::arg("left"), py::arg("right"), py::arg("is_leaf"), py::arg("value"),
        py::arg("offsets"), py::arg("baseline"), py::arg("missing_bin"), py::arg("targets"), py::arg("raw"),
        py::arg("importance"),
        "Raw scores (and, with targets, the gradient-SSE importance) of a boosted tree ensemble on binned rows");
}

}  // namespace pydisent
