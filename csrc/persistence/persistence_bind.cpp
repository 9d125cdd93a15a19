// Bindings of the persistence kernel family: Vietoris-Rips H0/H1 of a packed batch of clouds.
//
// Inputs arrive as a TensorRef (allocated by Python with torch) plus the vertex offsets of the
// clouds. Diagrams have data-dependent sizes, so the results come back as packed numpy arrays built
// from host vectors (pairs of all clouds concatenated, with per-cloud offsets) that Python splits.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common/check.h"
#include "common/metric.h"
#include "common/registry.h"
#include "common/tensor.h"
#include "persistence/rips_batch.h"

namespace py = pybind11;

namespace pydisent {

namespace {

rips::BatchInput make_input(const TensorRef& data, const std::vector<int64_t>& offsets, int64_t dim,
                            bool distances) {
  check_float(data, "points_or_distances");
  check_contiguous(data, "points_or_distances");
  PYDISENT_CHECK(!offsets.empty() && offsets.front() == 0, "internal: offsets must start at 0");
  for (size_t b = 1; b < offsets.size(); ++b)
    PYDISENT_CHECK(offsets[b] >= offsets[b - 1], "internal: offsets must be non-decreasing");
  int64_t expect = 0;
  for (size_t b = 1; b < offsets.size(); ++b) {
    const int64_t n = offsets[b] - offsets[b - 1];
    expect += distances ? n * n : n * dim;
  }
  PYDISENT_CHECK(data.numel() == expect, "internal: packed buffer has ", data.numel(), " elements, offsets say ",
                 expect);
  PYDISENT_CHECK(dim >= 0, "internal: negative dimension");
  rips::BatchInput in;
  in.data = reinterpret_cast<const void*>(data.ptr);
  in.dtype = data.dtype;
  in.distances = distances;
  in.dim = dim;
  in.offsets = offsets;
  return in;
}

rips::Settings make_settings(int maxdim, double threshold) {
  PYDISENT_CHECK(maxdim >= 0, "argument 'maxdim' must be >= 0, got ", maxdim);
  if (maxdim > 1)
    PYDISENT_NOT_IMPLEMENTED("argument 'maxdim' = ", maxdim,
                             ": only H0 and H1 are implemented (maxdim 0 or 1)");
  PYDISENT_CHECK(!std::isnan(threshold) && threshold >= 0, "argument 'threshold' must be >= 0, got ", threshold);
  rips::Settings s;
  s.maxdim = maxdim;
  // rounded to float32 as ripser does; infinite lengths are never edges, so inf becomes the largest float
  s.threshold = std::min(static_cast<float>(threshold), std::numeric_limits<float>::max());
  return s;
}

void check_sizes(const rips::BatchInput& in, int maxdim) {
  for (size_t b = 1; b < in.offsets.size(); ++b) {
    const int64_t n = in.offsets[b] - in.offsets[b - 1];
    PYDISENT_CHECK(n < (int64_t(1) << 31), "argument 'points_or_distances': cloud ", b - 1, " has ", n,
                   " points, at most 2^31 - 1 are supported");
    if (maxdim >= 1)
      PYDISENT_CHECK(n <= rips::kMaxPointsH1, "argument 'points_or_distances': cloud ", b - 1, " has ", n,
                     " points; H1 supports at most ", rips::kMaxPointsH1);
  }
}

void check_rips_metric(DistanceMetric metric) {
  check_metric(metric, {DistanceMetric::Euclidean, DistanceMetric::Manhattan, DistanceMetric::Chebyshev}, "rips");
}

// The checked input and settings of every entry point (checks in this order: input, settings, sizes, metric).
struct Prepared {
  rips::BatchInput in;
  rips::Settings s;
};

Prepared prepare(const TensorRef& data, const std::vector<int64_t>& offsets, int64_t dim, bool distances,
                 DistanceMetric metric, int maxdim, double threshold) {
  Prepared p{make_input(data, offsets, dim, distances), make_settings(maxdim, threshold)};  // in this order
  check_sizes(p.in, maxdim);
  check_rips_metric(metric);
  return p;
}

// Packed numpy results: dgm0 (K0, 2) float64, off0 (B + 1), gen0 (K0, 3) int64 when asked; the same
// for H1 with (K1, 5) generators [u, v, a, b, c].
py::dict pack(const std::vector<rips::CloudResult>& res, bool generators) {
  const size_t B = res.size();
  py::array_t<int64_t> off0(static_cast<py::ssize_t>(B + 1)), off1(static_cast<py::ssize_t>(B + 1));
  auto o0 = off0.mutable_unchecked<1>();
  auto o1 = off1.mutable_unchecked<1>();
  o0(0) = 0;
  o1(0) = 0;
  for (size_t b = 0; b < B; ++b) {
    o0(b + 1) = o0(b) + static_cast<int64_t>(res[b].h0.size());
    o1(b + 1) = o1(b) + static_cast<int64_t>(res[b].h1.size());
  }
  const py::ssize_t K0 = o0(B), K1 = o1(B);
  py::array_t<double> d0({K0, py::ssize_t(2)}), d1({K1, py::ssize_t(2)});
  auto a0 = d0.mutable_unchecked<2>();
  auto a1 = d1.mutable_unchecked<2>();
  py::ssize_t r0 = 0, r1 = 0;
  for (const auto& c : res) {
    for (const auto& p : c.h0) {
      a0(r0, 0) = 0.0;
      a0(r0, 1) = static_cast<double>(p.death);
      ++r0;
    }
    for (const auto& p : c.h1) {
      a1(r1, 0) = static_cast<double>(p.birth);
      a1(r1, 1) = static_cast<double>(p.death);
      ++r1;
    }
  }
  py::dict out;
  out["dgm0"] = d0;
  out["off0"] = off0;
  out["dgm1"] = d1;
  out["off1"] = off1;
  if (generators) {
    py::array_t<int64_t> g0({K0, py::ssize_t(3)}), g1({K1, py::ssize_t(5)});
    auto q0 = g0.mutable_unchecked<2>();
    auto q1 = g1.mutable_unchecked<2>();
    r0 = r1 = 0;
    for (const auto& c : res) {
      for (const auto& p : c.h0) {
        q0(r0, 0) = p.birth_vertex;
        q0(r0, 1) = p.u;
        q0(r0, 2) = p.v;
        ++r0;
      }
      for (const auto& p : c.h1) {
        q1(r1, 0) = p.u;
        q1(r1, 1) = p.v;
        q1(r1, 2) = p.a;
        q1(r1, 3) = p.b;
        q1(r1, 4) = p.c;
        ++r1;
      }
    }
    out["gen0"] = g0;
    out["gen1"] = g1;
  }
  return out;
}

py::dict rips_cpu(const TensorRef& data, const std::vector<int64_t>& offsets, int64_t dim, bool distances,
                  DistanceMetric metric, int maxdim, double threshold, bool generators, int threads) {
  check_host(data, "points_or_distances");
  const Prepared p = prepare(data, offsets, dim, distances, metric, maxdim, threshold);
  PYDISENT_CHECK(threads >= 1, "argument 'threads' must be >= 1, got ", threads);
  std::vector<rips::CloudResult> res;
  {
    py::gil_scoped_release nogil;
    res = rips::rips_batch_cpu(p.in, static_cast<int>(metric), p.s, threads);
  }
  return pack(res, generators);
}

py::dict rips_emulated_gpu_flow(const TensorRef& data, const std::vector<int64_t>& offsets, int64_t dim,
                                bool distances, DistanceMetric metric, int maxdim, double threshold,
                                bool generators, int threads) {
  check_host(data, "points_or_distances");
  const Prepared p = prepare(data, offsets, dim, distances, metric, maxdim, threshold);
  std::vector<rips::CloudResult> res;
  {
    py::gil_scoped_release nogil;
    res = rips::rips_batch_emulated_gpu_flow(p.in, static_cast<int>(metric), p.s, std::max(1, threads));
  }
  return pack(res, generators);
}

#ifdef PYDISENT_WITH_CUDA
int64_t rips_cuda_workspace(const TensorRef& data, const std::vector<int64_t>& offsets, int64_t dim,
                            bool distances, int maxdim) {
  rips::BatchInput in = make_input(data, offsets, dim, distances);
  check_sizes(in, maxdim);
  return rips::rips_cuda_workspace_bytes(in, maxdim);
}

py::dict rips_cuda(const TensorRef& data, const std::vector<int64_t>& offsets, int64_t dim, bool distances,
                   DistanceMetric metric, int maxdim, double threshold, bool generators, const TensorRef& workspace,
                   std::uintptr_t stream, int threads) {
  check_cuda(data, "points_or_distances");
  check_cuda(workspace, "workspace");
  check_same_device(data, "points_or_distances", workspace, "workspace");
  check_contiguous(workspace, "workspace");
  const Prepared p = prepare(data, offsets, dim, distances, metric, maxdim, threshold);
  PYDISENT_CHECK(threads >= 1, "argument 'threads' must be >= 1, got ", threads);
  const int64_t need = rips::rips_cuda_workspace_bytes(p.in, maxdim);
  const int64_t have = workspace.numel();
  PYDISENT_CHECK(workspace.dtype == DType::UInt8 && have >= need, "argument 'workspace' must be a uint8 tensor of at least ",
                 need, " bytes");
  std::vector<rips::CloudResult> res;
  {
    py::gil_scoped_release nogil;
    res = rips::rips_batch_cuda(p.in, static_cast<int>(metric), p.s, reinterpret_cast<void*>(workspace.ptr), have, data.device, stream,
                                threads);
  }
  return pack(res, generators);
}
#else
int64_t rips_cuda_workspace(const TensorRef&, const std::vector<int64_t>&, int64_t, bool, int) {
  throw CudaError("rips_cuda_workspace: pydisent was built without CUDA (use backend='cpu')");
}
py::dict rips_cuda(const TensorRef&, const std::vector<int64_t>&, int64_t, bool, DistanceMetric, int, double, bool,
                   const TensorRef&, std::uintptr_t, int) {
  throw CudaError("rips_cuda: pydisent was built without CUDA (use backend='cpu')");
}
#endif

}  // namespace

void register_persistence(py::module_& m) {
  m.def("rips_cpu", &rips_cpu, py::arg("data"), py::arg("offsets"), py::arg("dim"), py::arg("distances"),
        py::arg("metric"), py::arg("maxdim"), py::arg("threshold"), py::arg("generators"), py::arg("threads"),
        "Vietoris-Rips H0/H1 of a packed batch of clouds (points or distance matrices) on the CPU.\n"
        "Returns a dict of packed numpy arrays: dgm0, off0, dgm1, off1 (and gen0, gen1).");
  m.def("_rips_emulated_gpu_flow", &rips_emulated_gpu_flow, py::arg("data"), py::arg("offsets"), py::arg("dim"),
        py::arg("distances"), py::arg("metric"), py::arg("maxdim"), py::arg("threshold"), py::arg("generators"),
        py::arg("threads"),
        "Tests only: the CUDA pipeline's data flow (per-edge column codes, compaction, per-cloud key sort, "
        "host reduction) run on the CPU. Same arguments and result as rips_cpu.");
  m.def("rips_cuda_workspace", &rips_cuda_workspace, py::arg("data"), py::arg("offsets"), py::arg("dim"),
        py::arg("distances"), py::arg("maxdim"), "Bytes of device workspace rips_cuda needs for this batch.");
  m.def("rips_cuda", &rips_cuda, py::arg("data"), py::arg("offsets"), py::arg("dim"), py::arg("distances"),
        py::arg("metric"), py::arg("maxdim"), py::arg("threshold"), py::arg("generators"), py::arg("workspace"),
        py::arg("stream"), py::arg("threads"),
        "Vietoris-Rips H0/H1 with the filtration built on the GPU and the H1 reduction on the CPU.");
}

}  // namespace pydisent
