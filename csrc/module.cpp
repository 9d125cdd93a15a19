// The pydisent._C extension module: tensor views, error translation, and one register call per
// kernel family. It never links libtorch; Python allocates every buffer and passes TensorRefs.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "common/check.h"
#include "common/cpu.h"
#include "common/metric.h"
#include "common/registry.h"
#include "common/tensor.h"

namespace py = pybind11;

PYBIND11_MODULE(_C, m) {
  m.doc() = "pydisent compiled kernels (C++/OpenMP and, when built with nvcc, CUDA)";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const pydisent::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const pydisent::NotImplementedError& e) {
      PyErr_SetString(PyExc_NotImplementedError, e.what());
    } catch (const pydisent::CudaError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
    // ValueError derives from std::invalid_argument, which pybind11 maps to ValueError itself.
  });

  py::enum_<pydisent::DType>(m, "DType")
      .value("float32", pydisent::DType::Float32)
      .value("float64", pydisent::DType::Float64)
      .value("int32", pydisent::DType::Int32)
      .value("int64", pydisent::DType::Int64)
      .value("uint8", pydisent::DType::UInt8)
      .value("bool", pydisent::DType::Bool);

  // The one metric vocabulary of every kernel family (common/metric.h); pydisent/_distance_metric.py
  // maps names and aliases onto it.
  py::enum_<pydisent::DistanceMetric>(m, "DistanceMetric")
      .value("euclidean", pydisent::DistanceMetric::Euclidean)
      .value("sqeuclidean", pydisent::DistanceMetric::SqEuclidean)
      .value("manhattan", pydisent::DistanceMetric::Manhattan)
      .value("chebyshev", pydisent::DistanceMetric::Chebyshev)
      .value("cosine", pydisent::DistanceMetric::Cosine)
      .value("mse", pydisent::DistanceMetric::Mse);

  // dynamic_attr: Python sets ref._owner = tensor so a temporary tensor outlives the kernel call.
  py::class_<pydisent::TensorRef>(m, "TensorRef", py::dynamic_attr(),
                                  "Non-owning view of a torch tensor: pointer, dtype, device, shape, strides")
      .def(py::init([](std::uintptr_t ptr, pydisent::DType dtype, int device, std::vector<int64_t> shape,
                       std::vector<int64_t> strides) {
             PYDISENT_CHECK(shape.size() == strides.size(), "TensorRef: shape and strides differ in length");
             for (auto s : shape) PYDISENT_CHECK(s >= 0, "TensorRef: negative size");
             pydisent::TensorRef t;
             t.ptr = ptr;
             t.dtype = dtype;
             t.device = device;
             t.shape = std::move(shape);
             t.strides = std::move(strides);
             return t;
           }),
           py::arg("ptr"), py::arg("dtype"), py::arg("device"), py::arg("shape"), py::arg("strides"))
      .def_readonly("ptr", &pydisent::TensorRef::ptr)
      .def_readonly("dtype", &pydisent::TensorRef::dtype)
      .def_readonly("device", &pydisent::TensorRef::device)
      .def_readonly("shape", &pydisent::TensorRef::shape)
      .def_readonly("strides", &pydisent::TensorRef::strides);

  pydisent::register_info(m);
  pydisent::register_distance(m);
  pydisent::register_persistence(m);
  pydisent::register_pca(m);
  pydisent::register_paired(m);
  pydisent::register_render(m);
  pydisent::register_trees(m);
  pydisent::register_rank(m);
  pydisent::register_witness(m);
}
