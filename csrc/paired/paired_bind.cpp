// Bindings of the paired kernel family: paired_distance_cpu/_cuda and paired_image_mse_cpu, and the
// argument checks both halves share (the CUDA one raises in builds without CUDA).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "common/check.h"
#include "common/metric.h"
#include "common/registry.h"
#include "paired/paired.h"

namespace py = pybind11;

namespace pydisent {

namespace {
// The pair arguments of every paired kernel: index_a/index_b (P,) int64 and out (P,) float64,
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

void pairs_validate(const PairArgs& a, bool cuda) {
  check_rank(a.x, "x", 2);
  check_float(a.x, "x");
  check_contiguous(a.x, "x");
  if (cuda)
    check_cuda(a.x, "x");
  else
    check_host(a.x, "x");
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
void paired_distance_cuda(const PairArgs&, std::uintptr_t) {
  PYDISENT_NOT_IMPLEMENTED("paired_distance_cuda: pydisent was built without CUDA (use backend='cpu')");
}
#endif

void register_paired(py::module_& m) {
  auto pair_args = [](const TensorRef& x, const TensorRef& ia, const TensorRef& ib, const TensorRef& out,
                      DistanceMetric metric) {
    check_metric(metric,
                 {DistanceMetric::Manhattan, DistanceMetric::Euclidean, DistanceMetric::SqEuclidean, DistanceMetric::Mse},
                 "paired_distance");
    PairArgs a;
    a.x = x;
    a.ia = ia;
    a.ib = ib;
    a.out = out;
    a.metric = metric;
    return a;
  };
  m.def(
      "paired_distance_cpu",
      [pair_args](const TensorRef& x, const TensorRef& ia, const TensorRef& ib, const TensorRef& out, DistanceMetric metric) {
        paired_distance_cpu(pair_args(x, ia, ib, out, metric));
      },
      py::arg("x"), py::arg("index_a"), py::arg("index_b"), py::arg("out"), py::arg("metric"),
      py::call_guard<py::gil_scoped_release>(),
      "out[p] = d(x[index_a[p]], x[index_b[p]]) (float64) for x (n, D); metric: manhattan, euclidean, "
      "sqeuclidean or mse (a DistanceMetric)");
  m.def(
      "paired_distance_cuda",
      [pair_args](const TensorRef& x, const TensorRef& ia, const TensorRef& ib, const TensorRef& out, DistanceMetric metric,
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
