// Bindings of the pca kernel family: pca_cpu and pca_cuda (the latter raises in builds without CUDA).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "common/check.h"
#include "common/registry.h"
#include "pca/pca.h"

namespace py = pybind11;

namespace pydisent {

namespace {
// The points argument of both kernels: float, contiguous, of the given rank, on the kernel's device.
void check_points(const TensorRef& x, int64_t rank, bool cuda) {
  check_rank(x, "x", rank);
  check_float(x, "x");
  check_contiguous(x, "x");
  if (cuda)
    check_cuda(x, "x");
  else
    check_host(x, "x");
}

// The pair arguments of both paired kernels: index_a/index_b (P,) int64 and out (P,) float64,
// contiguous, on x's device.
void check_pair_indices(const TensorRef& x, const TensorRef& ia, const TensorRef& ib, const TensorRef& out) {
  for (const auto* t : {&ia, &ib}) {
    const char* name = t == &ia ? "index_a" : "index_b";
    check_rank(*t, name, 1);
    check_dtype(*t, name, DType::Int64);
    check_contiguous(*t, name);
    check_same_device(x, "x", *t, name);
  }
  PYDISENT_CHECK(ia.size(0) == ib.size(0), "arguments 'index_a' and 'index_b' must have the same length, got ",
                 ia.size(0), " and ", ib.size(0));
  check_rank(out, "out", 1);
  check_dtype(out, "out", DType::Float64);
  check_contiguous(out, "out");
  check_same_device(x, "x", out, "out");
  PYDISENT_CHECK(out.size(0) == ia.size(0), "argument 'out' must have ", ia.size(0), " entries, got ", out.size(0));
}
}  // namespace

void pca_validate(const PcaArgs& a, bool cuda) {
  check_points(a.x, 3, cuda);
  const int64_t B = a.x.size(0), m = a.x.size(1), k = a.x.size(2);
  PYDISENT_CHECK(k >= 1 && k <= kPcaMaxDim, "argument 'x' must have 1 to ", kPcaMaxDim,
                 " dimensions per point (last axis), got ", k);
  auto same = [&](const TensorRef& t, const char* name, std::initializer_list<int64_t> shape) {
    PYDISENT_CHECK(t.shape == std::vector<int64_t>(shape), "argument '", name, "' has the wrong shape for x of shape (",
                   B, ", ", m, ", ", k, ")");
    check_dtype(t, name, a.x.dtype);
    check_contiguous(t, name);
    check_same_device(a.x, "x", t, name);
  };
  same(a.mean, "mean", {B, k});
  same(a.evals, "eigenvalues", {B, k});
  if (a.has_evecs) same(a.evecs, "eigenvectors", {B, k, k});
  if (a.has_mask) {
    check_rank(a.mask, "mask", 2);
    check_dtype(a.mask, "mask", DType::Bool);
    PYDISENT_CHECK(a.mask.size(0) == B && a.mask.size(1) == m, "argument 'mask' must have shape (", B, ", ", m,
                   ") to match x, got (", a.mask.size(0), ", ", a.mask.size(1), ")");
    check_contiguous(a.mask, "mask");
    check_same_device(a.x, "x", a.mask, "mask");
  }
  // Index arithmetic below uses int64 and the CUDA grid covers B with a grid-stride loop; guard the
  // sizes whose products must fit.
  PYDISENT_CHECK(m <= (int64_t{1} << 40) / k, "argument 'x' has too many points per cloud (", m, ")");
}

void pairs_validate(const PairArgs& a, bool cuda) {
  check_points(a.x, 2, cuda);
  check_pair_indices(a.x, a.ia, a.ib, a.out);
}

void image_pairs_validate(const ImagePairArgs& a) {
  check_rank(a.x, "x", 2);
  check_dtype(a.x, "x", DType::UInt8);
  check_contiguous(a.x, "x");
  check_host(a.x, "x");
  check_pair_indices(a.x, a.ia, a.ib, a.out);
  check_rank(a.weights, "weights", 1);
  check_dtype(a.weights, "weights", DType::Float64);
  check_contiguous(a.weights, "weights");
  check_same_device(a.x, "x", a.weights, "weights");
  const int64_t C = a.weights.size(0), D = a.x.size(1);
  PYDISENT_CHECK(C >= 1 && D % C == 0, "argument 'weights' must have one entry per channel, dividing the ", D,
                 " values per image; got ", C);
}

#ifndef PYDISENT_WITH_CUDA
void pca_cuda(const PcaArgs&, std::uintptr_t) {
  PYDISENT_NOT_IMPLEMENTED("pca_cuda: pydisent was built without CUDA (rebuild with nvcc, or use backend='cpu')");
}
void paired_distance_cuda(const PairArgs&, std::uintptr_t) {
  PYDISENT_NOT_IMPLEMENTED("paired_distance_cuda: pydisent was built without CUDA (use backend='cpu')");
}
#endif

namespace {
PcaArgs make_args(const TensorRef& x, const std::optional<TensorRef>& mask, const TensorRef& mean,
                  const TensorRef& evals, const std::optional<TensorRef>& evecs, bool unbiased) {
  PcaArgs a;
  a.x = x;
  a.has_mask = mask.has_value();
  if (mask) a.mask = *mask;
  a.mean = mean;
  a.evals = evals;
  a.has_evecs = evecs.has_value();
  if (evecs) a.evecs = *evecs;
  a.unbiased = unbiased;
  return a;
}
}  // namespace

void register_pca(py::module_& m) {
  m.def(
      "pca_cpu",
      [](const TensorRef& x, const std::optional<TensorRef>& mask, const TensorRef& mean, const TensorRef& evals,
         const std::optional<TensorRef>& evecs, bool unbiased) {
        pca_cpu(make_args(x, mask, mean, evals, evecs, unbiased));
      },
      py::arg("x"), py::arg("mask"), py::arg("mean"), py::arg("eigenvalues"), py::arg("eigenvectors"),
      py::arg("unbiased"), py::call_guard<py::gil_scoped_release>(),
      "Batched PCA on the CPU: x (B, m, k) -> mean (B, k), eigenvalues (B, k) descending, eigenvectors "
      "(B, k, k) (columns) or None. Outputs are preallocated by the caller.");
  m.def(
      "pca_cuda",
      [](const TensorRef& x, const std::optional<TensorRef>& mask, const TensorRef& mean, const TensorRef& evals,
         const std::optional<TensorRef>& evecs, bool unbiased, std::uintptr_t stream) {
        pca_cuda(make_args(x, mask, mean, evals, evecs, unbiased), stream);
      },
      py::arg("x"), py::arg("mask"), py::arg("mean"), py::arg("eigenvalues"), py::arg("eigenvectors"),
      py::arg("unbiased"), py::arg("stream"), py::call_guard<py::gil_scoped_release>(),
      "Batched PCA on a CUDA device (one fused covariance + Jacobi kernel); same contract as pca_cpu.");
  m.attr("PCA_MAX_DIM") = kPcaMaxDim;

  auto pair_args = [](const TensorRef& x, const TensorRef& ia, const TensorRef& ib, const TensorRef& out,
                      int metric) {
    PYDISENT_CHECK(metric >= 0 && metric <= 3, "argument 'metric' must be 0 (manhattan), 1 (euclidean), "
                   "2 (sqeuclidean) or 3 (mse), got ", metric);
    PairArgs a;
    a.x = x;
    a.ia = ia;
    a.ib = ib;
    a.out = out;
    a.metric = static_cast<PairMetric>(metric);
    return a;
  };
  m.def(
      "paired_distance_cpu",
      [pair_args](const TensorRef& x, const TensorRef& ia, const TensorRef& ib, const TensorRef& out, int metric) {
        paired_distance_cpu(pair_args(x, ia, ib, out, metric));
      },
      py::arg("x"), py::arg("index_a"), py::arg("index_b"), py::arg("out"), py::arg("metric"),
      py::call_guard<py::gil_scoped_release>(),
      "out[p] = d(x[index_a[p]], x[index_b[p]]) (float64) for x (n, D); metric 0..3 = manhattan, euclidean, "
      "sqeuclidean, mse");
  m.def(
      "paired_distance_cuda",
      [pair_args](const TensorRef& x, const TensorRef& ia, const TensorRef& ib, const TensorRef& out, int metric,
                  std::uintptr_t stream) { paired_distance_cuda(pair_args(x, ia, ib, out, metric), stream); },
      py::arg("x"), py::arg("index_a"), py::arg("index_b"), py::arg("out"), py::arg("metric"), py::arg("stream"),
      py::call_guard<py::gil_scoped_release>(), "CUDA version of paired_distance_cpu");
  m.def(
      "paired_image_mse_cpu",
      [](const TensorRef& x, const TensorRef& ia, const TensorRef& ib, const TensorRef& weights, const TensorRef& out) {
        ImagePairArgs a;
        a.x = x;
        a.ia = ia;
        a.ib = ib;
        a.weights = weights;
        a.out = out;
        paired_image_mse_cpu(a);
      },
      py::arg("x"), py::arg("index_a"), py::arg("index_b"), py::arg("weights"), py::arg("out"),
      py::call_guard<py::gil_scoped_release>(),
      "out[p] = sum_c weights[c] * sum_{k % C == c} (x[a,k] - x[b,k])^2 / D for uint8 x (n, D), exact integer sums");
}

}  // namespace pydisent
