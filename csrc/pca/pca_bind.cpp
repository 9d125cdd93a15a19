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

#ifndef PYDISENT_WITH_CUDA
void pca_cuda(const PcaArgs&, const TensorRef&, std::uintptr_t) {
  PYDISENT_NOT_IMPLEMENTED("pca_cuda: pydisent was built without CUDA (rebuild with nvcc, or use backend='cpu')");
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
         const std::optional<TensorRef>& evecs, bool unbiased, const TensorRef& status, std::uintptr_t stream) {
        pca_cuda(make_args(x, mask, mean, evals, evecs, unbiased), status, stream);
      },
      py::arg("x"), py::arg("mask"), py::arg("mean"), py::arg("eigenvalues"), py::arg("eigenvectors"),
      py::arg("unbiased"), py::arg("status"), py::arg("stream"), py::call_guard<py::gil_scoped_release>(),
      "Batched PCA on a CUDA device (one fused covariance + Jacobi kernel); same contract as pca_cpu. "
      "status: (2,) int64 on the device, filled with B: lowered to the first unconverged cloud (entry 0) "
      "and the first cloud with a non-finite covariance (entry 1); asynchronous on `stream`.");
  m.attr("PCA_MAX_DIM") = kPcaMaxDim;
}

}  // namespace pydisent
