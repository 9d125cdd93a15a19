// Bindings of the witness engine: witness complexes of a batch of landmark draws over packed clouds.
//
// Python passes float64 points (packed rows of all clouds + row offsets), int64 landmarks (K, L) with
// indices local to each complex's cloud, int64 cloud_of (K,), and either float64 alpha (K,) or a
// relative factor. Results come back as packed numpy arrays (diagrams or filtrations of all
// complexes concatenated, with per-complex offsets).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <vector>

#include "common/check.h"
#include "common/tensor.h"
#include "persistence/witness.h"

namespace py = pybind11;

namespace pydisent {

namespace {

witness::Batch make_batch(const TensorRef& points, const std::vector<int64_t>& cloud_offsets, const TensorRef& landmarks,
                          const TensorRef& cloud_of, const TensorRef* alpha, double relative, bool strong, bool squared,
                          bool dim_max, bool host) {
  check_dtype(points, "points", DType::Float64);
  check_rank(points, "points", 2);
  check_contiguous(points, "points");
  check_dtype(landmarks, "landmarks", DType::Int64);
  check_rank(landmarks, "landmarks", 2);
  check_contiguous(landmarks, "landmarks");
  check_dtype(cloud_of, "cloud_of", DType::Int64);
  check_rank(cloud_of, "cloud_of", 1);
  check_contiguous(cloud_of, "cloud_of");
  PYDISENT_CHECK(cloud_of.size(0) == landmarks.size(0), "internal: cloud_of has ", cloud_of.size(0),
                 " entries for ", landmarks.size(0), " complexes");
  PYDISENT_CHECK(!cloud_offsets.empty() && cloud_offsets.front() == 0 && cloud_offsets.back() == points.size(0),
                 "internal: cloud_offsets must run from 0 to the number of rows of 'points'");
  for (size_t c = 1; c < cloud_offsets.size(); ++c)
    PYDISENT_CHECK(cloud_offsets[c] > cloud_offsets[c - 1], "argument 'points': every cloud needs a point");
  const int64_t L = landmarks.size(1);
  PYDISENT_CHECK(landmarks.size(0) == 0 || L >= 1, "argument 'landmarks' must hold at least one landmark per draw");
  PYDISENT_CHECK(L <= witness::kMaxLandmarks, "argument 'landmarks': at most ", witness::kMaxLandmarks,
                 " landmarks per draw, got ", L);
  if (alpha) {
    check_dtype(*alpha, "max_alpha_square", DType::Float64);
    check_rank(*alpha, "max_alpha_square", 1);
    check_contiguous(*alpha, "max_alpha_square");
    PYDISENT_CHECK(alpha->size(0) == landmarks.size(0), "argument 'max_alpha_square' must hold one value per draw");
  } else {
    PYDISENT_CHECK(relative > 0 && std::isfinite(relative), "argument 'relative_alpha' must be > 0 and finite, got ",
                   relative);
  }
  witness::Batch b;
  b.points = reinterpret_cast<const double*>(points.ptr);
  b.dim = points.size(1);
  b.cloud_offsets = cloud_offsets;
  b.landmarks = reinterpret_cast<const int64_t*>(landmarks.ptr);
  b.num_complexes = landmarks.size(0);
  b.L = L;
  b.cloud_of = reinterpret_cast<const int64_t*>(cloud_of.ptr);
  b.alpha = alpha ? reinterpret_cast<const double*>(alpha->ptr) : nullptr;
  b.relative = alpha ? 0.0 : relative;
  b.strong = strong;
  b.squared = squared;
  b.dim_max = dim_max;
  if (host) {
    // second line of defence (Python checked): indices in range, truncations >= 0
    const int64_t C = static_cast<int64_t>(cloud_offsets.size()) - 1;
    for (int64_t k = 0; k < b.num_complexes; ++k) {
      const int64_t c = b.cloud_of[k];
      PYDISENT_CHECK(c >= 0 && c < C, "internal: cloud_of[", k, "] = ", c, " out of range");
      const int64_t n = cloud_offsets[c + 1] - cloud_offsets[c];
      for (int64_t l = 0; l < L; ++l) {
        const int64_t i = b.landmarks[k * L + l];
        PYDISENT_CHECK(i >= 0 && i < n, "argument 'landmarks' holds index ", i, ", out of range for ", n, " points");
      }
      if (b.alpha)
        PYDISENT_CHECK(b.alpha[k] >= 0, "argument 'max_alpha_square' must be >= 0 (or inf), got ", b.alpha[k]);
    }
  }
  return b;
}

py::dict pack_diagrams(const std::vector<witness::Diagram>& res, const std::vector<double>& alphas) {
  const size_t K = res.size();
  py::array_t<int64_t> off0(static_cast<py::ssize_t>(K + 1)), off1(static_cast<py::ssize_t>(K + 1));
  auto o0 = off0.mutable_unchecked<1>();
  auto o1 = off1.mutable_unchecked<1>();
  o0(0) = o1(0) = 0;
  for (size_t k = 0; k < K; ++k) {
    o0(k + 1) = o0(k) + static_cast<int64_t>(res[k].h0.size());
    o1(k + 1) = o1(k) + static_cast<int64_t>(res[k].h1.size());
  }
  py::array_t<double> d0({static_cast<py::ssize_t>(o0(K)), py::ssize_t(2)});
  py::array_t<double> d1({static_cast<py::ssize_t>(o1(K)), py::ssize_t(2)});
  double* p0 = d0.mutable_data();
  double* p1 = d1.mutable_data();
  for (const auto& r : res) {
    for (const auto& b : r.h0) *p0++ = b.birth, *p0++ = b.death;
    for (const auto& b : r.h1) *p1++ = b.birth, *p1++ = b.death;
  }
  py::array_t<double> al(static_cast<py::ssize_t>(K));
  std::copy(alphas.begin(), alphas.end(), al.mutable_data());
  py::dict out;
  out["dgm0"] = d0;
  out["off0"] = off0;
  out["dgm1"] = d1;
  out["off1"] = off1;
  out["alpha"] = al;
  return out;
}

py::dict pack_filtrations(const std::vector<witness::Filtration>& res, const std::vector<double>& alphas) {
  const size_t K = res.size();
  py::dict out;
  const char* names[3] = {"0", "1", "2"};
  for (int dim = 0; dim < 3; ++dim) {
    py::array_t<int64_t> off(static_cast<py::ssize_t>(K + 1));
    auto o = off.mutable_unchecked<1>();
    o(0) = 0;
    for (size_t k = 0; k < K; ++k) {
      const size_t n = dim == 0 ? res[k].fv.size() : dim == 1 ? res[k].fe.size() : res[k].ft.size();
      o(k + 1) = o(k) + static_cast<int64_t>(n);
    }
    py::array_t<int64_t> s({static_cast<py::ssize_t>(o(K)), py::ssize_t(dim + 1)});
    py::array_t<double> v(static_cast<py::ssize_t>(o(K)));
    int64_t* ps = s.mutable_data();
    double* pv = v.mutable_data();
    for (const auto& f : res) {
      const auto& si = dim == 0 ? f.v : dim == 1 ? f.e : f.t;
      const auto& vi = dim == 0 ? f.fv : dim == 1 ? f.fe : f.ft;
      for (int32_t x : si) *ps++ = x;
      for (double x : vi) *pv++ = x;
    }
    out[py::str(std::string("simplices") + names[dim])] = s;
    out[py::str(std::string("values") + names[dim])] = v;
    out[py::str(std::string("off") + names[dim])] = off;
  }
  py::array_t<double> al(static_cast<py::ssize_t>(K));
  std::copy(alphas.begin(), alphas.end(), al.mutable_data());
  out["alpha"] = al;
  return out;
}

py::dict witness_cpu(const TensorRef& points, const std::vector<int64_t>& cloud_offsets, const TensorRef& landmarks,
                     const TensorRef& cloud_of, py::object alpha, double relative, bool strong, bool squared,
                     bool dim_max, int maxdim, bool filtration, int threads) {
  check_host(points, "points");
  check_host(landmarks, "landmarks");
  PYDISENT_CHECK(threads >= 1, "argument 'threads' must be >= 1, got ", threads);
  PYDISENT_CHECK(maxdim == 0 || maxdim == 1, "argument 'maxdim' must be 0 or 1, got ", maxdim);
  TensorRef a;
  const bool has_alpha = !alpha.is_none();
  if (has_alpha) a = alpha.cast<TensorRef>();
  const witness::Batch b =
      make_batch(points, cloud_offsets, landmarks, cloud_of, has_alpha ? &a : nullptr, relative, strong, squared, dim_max, true);
  std::vector<double> alphas;
  if (filtration) {
    std::vector<witness::Filtration> res;
    {
      py::gil_scoped_release nogil;
      res = witness::witness_filtrations_cpu(b, threads, alphas);
    }
    return pack_filtrations(res, alphas);
  }
  std::vector<witness::Diagram> res;
  {
    py::gil_scoped_release nogil;
    res = witness::witness_diagrams_cpu(b, maxdim, threads, alphas);
  }
  return pack_diagrams(res, alphas);
}

py::dict witness_emulated_gpu_flow(const TensorRef& points, const std::vector<int64_t>& cloud_offsets,
                                   const TensorRef& landmarks, const TensorRef& cloud_of, py::object alpha,
                                   double relative, bool strong, bool squared, bool dim_max, int maxdim,
                                   bool filtration, int threads) {
  check_host(points, "points");
  check_host(landmarks, "landmarks");
  PYDISENT_CHECK(threads >= 1, "argument 'threads' must be >= 1, got ", threads);
  TensorRef a;
  const bool has_alpha = !alpha.is_none();
  if (has_alpha) a = alpha.cast<TensorRef>();
  const witness::Batch b = make_batch(points, cloud_offsets, landmarks, cloud_of, has_alpha ? &a : nullptr, relative,
                                      strong, squared, dim_max, true);
  std::vector<double> alphas;
  std::vector<witness::Diagram> d;
  std::vector<witness::Filtration> f;
  {
    py::gil_scoped_release nogil;
    witness::witness_emulated_gpu_flow(b, maxdim, filtration, threads, alphas, &d, &f);
  }
  return filtration ? pack_filtrations(f, alphas) : pack_diagrams(d, alphas);
}

// Persistence of explicit filtrations given by Python (checked there: faces present, values monotone,
// vertex ids in [0, L)): per complex (v, fv, e (n1 x 2), fe, t (n2 x 3), ft).
py::dict filtration_persistence_cpu(const std::vector<py::tuple>& complexes, int64_t L, int maxdim, bool dim_max,
                                    int threads) {
  PYDISENT_CHECK(threads >= 1, "argument 'threads' must be >= 1, got ", threads);
  PYDISENT_CHECK(maxdim == 0 || maxdim == 1, "argument 'maxdim' must be 0 or 1, got ", maxdim);
  PYDISENT_CHECK(L >= 0 && L <= witness::kMaxLandmarks, "argument 'filtrations': vertex ids must be below ",
                 witness::kMaxLandmarks);
  std::vector<witness::Filtration> fs(complexes.size());
  for (size_t k = 0; k < complexes.size(); ++k) {
    const py::tuple& c = complexes[k];
    PYDISENT_CHECK(c.size() == 6, "internal: a filtration is (v, fv, e, fe, t, ft)");
    auto ints = [&](int i, std::vector<int32_t>& out, size_t width) {
      auto a = py::array_t<int32_t, py::array::c_style | py::array::forcecast>::ensure(c[i]);
      PYDISENT_CHECK(a && a.size() % width == 0, "internal: bad simplex array");
      out.assign(a.data(), a.data() + a.size());
      for (int32_t x : out) PYDISENT_CHECK(x >= 0 && x < L, "internal: vertex id out of range");
    };
    auto reals = [&](int i, std::vector<double>& out, size_t n) {
      auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(c[i]);
      PYDISENT_CHECK(a && static_cast<size_t>(a.size()) == n, "internal: bad value array");
      out.assign(a.data(), a.data() + a.size());
    };
    ints(0, fs[k].v, 1);
    ints(2, fs[k].e, 2);
    ints(4, fs[k].t, 3);
    reals(1, fs[k].fv, fs[k].v.size());
    reals(3, fs[k].fe, fs[k].e.size() / 2);
    reals(5, fs[k].ft, fs[k].t.size() / 3);
  }
  std::vector<witness::Diagram> res(fs.size());
  {
    py::gil_scoped_release nogil;
    witness::filtrations_persistence(fs, L, maxdim, dim_max, threads, res);
  }
  return pack_diagrams(res, std::vector<double>(fs.size(), 0.0));
}

py::array_t<double> witness_table(const TensorRef& points, const TensorRef& landmarks, bool squared) {
  check_host(points, "points");
  check_host(landmarks, "landmarks");
  std::vector<int64_t> offsets = {0, points.size(0)};
  std::vector<int64_t> cloud(static_cast<size_t>(landmarks.size(0)), 0);
  TensorRef cref;
  cref.ptr = reinterpret_cast<std::uintptr_t>(cloud.data());
  cref.dtype = DType::Int64;
  cref.shape = {landmarks.size(0)};
  cref.strides = {1};
  const witness::Batch b = make_batch(points, offsets, landmarks, cref, nullptr, 1.0, false, squared, true, true);
  PYDISENT_CHECK(b.num_complexes == 1, "argument 'landmarks' must have shape (1, L) here");
  std::vector<double> t = witness::witness_table_cpu(b, 0);
  py::array_t<double> out({static_cast<py::ssize_t>(points.size(0)), static_cast<py::ssize_t>(b.L)});
  std::copy(t.begin(), t.end(), out.mutable_data());
  return out;
}

#ifdef PYDISENT_WITH_CUDA
py::dict witness_cuda(const TensorRef& points, const std::vector<int64_t>& cloud_offsets, const TensorRef& landmarks,
                      const TensorRef& cloud_of, py::object alpha, double relative, bool strong, bool squared,
                      bool dim_max, int maxdim, bool filtration, std::uintptr_t stream, int threads) {
  // only the points live on the GPU; the landmark indices (small) are read on the host too
  check_cuda(points, "points");
  check_host(landmarks, "landmarks");
  check_host(cloud_of, "cloud_of");
  PYDISENT_CHECK(threads >= 1, "argument 'threads' must be >= 1, got ", threads);
  PYDISENT_CHECK(maxdim == 0 || maxdim == 1, "argument 'maxdim' must be 0 or 1, got ", maxdim);
  TensorRef a;
  const bool has_alpha = !alpha.is_none();
  if (has_alpha) {
    a = alpha.cast<TensorRef>();
    check_host(a, "max_alpha_square");
  }
  const witness::Batch b =
      make_batch(points, cloud_offsets, landmarks, cloud_of, has_alpha ? &a : nullptr, relative, strong, squared, dim_max, true);
  std::vector<double> alphas;
  if (filtration) {
    std::vector<witness::Filtration> res;
    {
      py::gil_scoped_release nogil;
      res = witness::witness_filtrations_cuda(b, points.device, stream, threads, alphas);
    }
    return pack_filtrations(res, alphas);
  }
  std::vector<witness::Diagram> res;
  {
    py::gil_scoped_release nogil;
    res = witness::witness_diagrams_cuda(b, maxdim, points.device, stream, threads, alphas);
  }
  return pack_diagrams(res, alphas);
}
#else
py::dict witness_cuda(const TensorRef&, const std::vector<int64_t>&, const TensorRef&, const TensorRef&, py::object,
                      double, bool, bool, bool, int, bool, std::uintptr_t, int) {
  throw CudaError("witness_cuda: pydisent was built without CUDA (use backend='cpu')");
}
#endif

}  // namespace

void register_witness(py::module_& m) {
  m.def("witness_cpu", &witness_cpu, py::arg("points"), py::arg("cloud_offsets"), py::arg("landmarks"),
        py::arg("cloud_of"), py::arg("alpha"), py::arg("relative"), py::arg("strong"), py::arg("squared"),
        py::arg("dim_max"), py::arg("maxdim"), py::arg("filtration"), py::arg("threads"),
        "Witness complexes (weak relaxed or strong, dimension <= 2) of a batch of landmark draws on the CPU.\n"
        "alpha: float64 (K,) TensorRef or None (then relative * max table per draw). Returns packed numpy\n"
        "arrays: dgm0, off0, dgm1, off1, alpha; or with filtration=True simplices{0,1,2}, values{0,1,2},\n"
        "off{0,1,2}, alpha.");
  m.def("_witness_emulated_gpu_flow", &witness_emulated_gpu_flow, py::arg("points"), py::arg("cloud_offsets"),
        py::arg("landmarks"), py::arg("cloud_of"), py::arg("alpha"), py::arg("relative"), py::arg("strong"),
        py::arg("squared"), py::arg("dim_max"), py::arg("maxdim"), py::arg("filtration"), py::arg("threads"),
        "Tests only: the CUDA pipeline's data flow (per-witness emission, per-draw sort, run minima, host\n"
        "faces and reduction, CPU fallback for oversized windows) run on the CPU. Same result as witness_cpu.");
  m.def("filtration_persistence_cpu", &filtration_persistence_cpu, py::arg("complexes"), py::arg("L"),
        py::arg("maxdim"), py::arg("dim_max"), py::arg("threads"),
        "H0/H1 (Z/2) of explicit filtrations (v, fv, e, fe, t, ft) checked by Python, one per thread.");
  m.def("witness_table", &witness_table, py::arg("points"), py::arg("landmarks"), py::arg("squared"),
        "The witness-to-landmark table (N, L) float64 of one draw (landmarks (1, L)), as the engine computes it.");
  m.def("witness_cuda", &witness_cuda, py::arg("points"), py::arg("cloud_offsets"), py::arg("landmarks"),
        py::arg("cloud_of"), py::arg("alpha"), py::arg("relative"), py::arg("strong"), py::arg("squared"),
        py::arg("dim_max"), py::arg("maxdim"), py::arg("filtration"), py::arg("stream"), py::arg("threads"),
        "witness_cpu with the tables, windows and per-simplex minima on the GPU (the reduction on the CPU).");
}

}  // namespace pydisent
