// Bindings of the distance kernel family: _C.distance_cpu, _C.distance_cuda, _C.distance_cpu_isas.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "common/check.h"
#include "common/registry.h"
#include "common/tensor.h"
#include "distance/distance.h"

namespace py = pybind11;

namespace pydisent {

#ifndef PYDISENT_WITH_CUDA
namespace distance {
void run_cuda(const DistanceJob&, double*, std::uintptr_t) {
  throw CudaError("pydisent was built without CUDA: the CUDA distance kernel is not available "
                  "(rebuild with nvcc on PATH, or use backend='cpu'/'torch')");
}
}  // namespace distance
#endif

void register_distance(py::module_& m) {
  m.def(
      "distance_cpu",
      [](const TensorRef& x, const TensorRef& y, const TensorRef& out, DistanceMetric metric, bool symmetric,
         bool condensed, const std::string& isa, bool check_finite) {
        const auto job = distance::make_job(x, y, out, metric, symmetric, condensed, /*on_cuda=*/false);
        if (check_finite) distance::check_finite_cpu(job);
        distance::run_cpu(job, isa);
      },
      py::arg("x"), py::arg("y"), py::arg("out"), py::arg("metric"), py::arg("symmetric") = false,
      py::arg("condensed") = false, py::arg("isa") = "auto", py::arg("check_finite") = true,
      py::call_guard<py::gil_scoped_release>(),
      "Pairwise distances on the CPU: x (B, n, d), y (B, m, d) -> out (B, n, m), or for symmetric=True "
      "(y is x) optionally condensed (B, n*(n-1)/2). Every tensor is a TensorRef allocated by Python.");

  m.def(
      "distance_cuda",
      [](const TensorRef& x, const TensorRef& y, const TensorRef& out, const TensorRef& norms,
         DistanceMetric metric, bool symmetric, bool condensed, std::uintptr_t stream) {
#ifndef PYDISENT_WITH_CUDA
        distance::run_cuda(distance::DistanceJob{}, nullptr, stream);
#else
        const auto job = distance::make_job(x, y, out, metric, symmetric, condensed, /*on_cuda=*/true);
        check_rank(norms, "norms", 1);
        check_dtype(norms, "norms", DType::Float64);
        check_cuda(norms, "norms");
        check_same_device(x, "x", norms, "norms");
        check_contiguous(norms, "norms");
        if (job.metric == distance::Metric::Cosine)
          PYDISENT_CHECK(norms.size(0) >= job.B * (job.n + job.m), "argument 'norms' must hold at least B*(n+m) = ",
                         job.B * (job.n + job.m), " elements for cosine, got ", norms.size(0));
        PYDISENT_CHECK(norms.size(0) == 0 || norms.ptr != 0, "argument 'norms' has a null data pointer");
        distance::run_cuda(job, reinterpret_cast<double*>(norms.ptr), stream);
#endif
      },
      py::arg("x"), py::arg("y"), py::arg("out"), py::arg("norms"), py::arg("metric"), py::arg("symmetric") = false,
      py::arg("condensed") = false, py::arg("stream") = 0, py::call_guard<py::gil_scoped_release>(),
      "Pairwise distances on a CUDA device (same layout as distance_cpu); `norms` is a float64 workspace of "
      "B*(n+m) elements (cosine only; may be empty otherwise) and `stream` the current CUDA stream. "
      "Asynchronous on that stream; the inputs are not checked for NaN/inf here (Python does that).");

  m.def("distance_cpu_isas", &distance::cpu_isas,
        "Instruction sets of the CPU distance kernels usable on this machine, best first");
}

}  // namespace pydisent
