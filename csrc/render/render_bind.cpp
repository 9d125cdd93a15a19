// Bindings of the render kernel family: batched rasterisers for the procedural datasets.
#include <pybind11/pybind11.h>

#include "common/registry.h"
#include "render/render.h"

namespace py = pybind11;

namespace pydisent {

#ifndef PYDISENT_WITH_CUDA
void render_rects_cuda(const TensorRef&, const TensorRef&, const TensorRef&, std::uintptr_t) {
  throw ValueError("render_rects_cuda: pydisent was built without CUDA (use backend='cpu' or 'torch')");
}
void render_sprites_cuda(const TensorRef&, const TensorRef&, const TensorRef&, const TensorRef&, std::uintptr_t) {
  throw ValueError("render_sprites_cuda: pydisent was built without CUDA (use backend='cpu' or 'torch')");
}
#endif

void register_render(py::module_& m) {
  auto gil = py::call_guard<py::gil_scoped_release>();
  m.def("render_rects_cpu", &render_rects_cpu, py::arg("out"), py::arg("rects"), py::arg("colors"), gil,
        "Fill out (uint8 n,H,W,C) with axis-aligned rectangles rects (int32 n,R,4 = y0,x0,h,w) of colours "
        "colors (int32 n,R,C; -1 keeps the channel), drawn in order on a zero background.");
  m.def("render_rects_cuda", &render_rects_cuda, py::arg("out"), py::arg("rects"), py::arg("colors"),
        py::arg("stream"), gil, "CUDA version of render_rects_cpu (asynchronous on `stream`).");
  m.def("render_sprites_cpu", &render_sprites_cpu, py::arg("out"), py::arg("shapes"), py::arg("params"),
        py::arg("geometry"), gil,
        "Fill out (uint8 n,H,W,1) with binary sprites (0 square, 1 ellipse, 2 heart) sampled at pixel centres; "
        "params float64 (n,5) = cx, cy, cos, sin, 1/size; geometry float64 (5,).");
  m.def("hwc_to_chw_float_cpu", &hwc_to_chw_float_cpu, py::arg("out"), py::arg("batch"), py::arg("mean"),
        py::arg("std"), py::arg("normalize"), gil,
        "uint8 (n,H,W,C) -> float32 (n,C,H,W) = x/255, then (x - mean)/std per channel when normalize.");
  m.def("render_sprites_cuda", &render_sprites_cuda, py::arg("out"), py::arg("shapes"), py::arg("params"),
        py::arg("geometry"), py::arg("stream"), gil, "CUDA version of render_sprites_cpu (asynchronous on `stream`).");
}

}  // namespace pydisent
