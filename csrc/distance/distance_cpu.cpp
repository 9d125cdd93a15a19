// Argument checks shared by the CPU and CUDA paths, and the CPU dispatch over instruction sets.
#include <omp.h>

#include <cmath>
#include <new>
#include <string>
#include <vector>

#include "common/check.h"
#include "common/cpu.h"
#include "distance/distance.h"

namespace pydisent {
namespace distance {

namespace {
std::string shape_str(const TensorRef& t) {
  std::string s = "(";
  for (size_t i = 0; i < t.shape.size(); ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]);
  return s + (t.shape.size() == 1 ? ",)" : ")");
}

void check_strides(const TensorRef& t, const char* name) {
  for (auto s : t.strides) PYDISENT_CHECK(s >= 0, "argument '", name, "' must have non-negative strides");
  PYDISENT_CHECK(t.numel() == 0 || t.ptr != 0, "argument '", name, "' has a null data pointer");
}

template <class T>
bool all_finite(const T* base, int64_t B, int64_t rows, int64_t d, int64_t s_b, int64_t s_i, int64_t s_k) {
  bool ok = true;
#pragma omp parallel for schedule(static) reduction(&& : ok)
  for (int64_t t = 0; t < B * rows; ++t) {
    const T* p = base + (t / rows) * s_b + (t % rows) * s_i;
    bool row_ok = true;
    for (int64_t k = 0; k < d; ++k) row_ok = row_ok && std::isfinite(p[k * s_k]);
    ok = ok && row_ok;
  }
  return ok;
}
}  // namespace

DistanceJob make_job(const TensorRef& x, const TensorRef& y, const TensorRef& out, Metric metric,
                     bool symmetric, bool condensed, bool on_cuda) {
  DistanceJob job;
  check_metric(metric,
               {Metric::Euclidean, Metric::SqEuclidean, Metric::Manhattan, Metric::Chebyshev, Metric::Cosine,
                Metric::Mse},
               "distance");
  job.metric = metric;
  check_rank(x, "x", 3);
  check_rank(y, "y", 3);
  check_float(x, "x");
  check_float(y, "y");
  PYDISENT_CHECK_TYPE(x.dtype == y.dtype, "arguments 'x' and 'y' must have the same dtype, got ",
                      dtype_name(x.dtype), " and ", dtype_name(y.dtype));
  PYDISENT_CHECK_TYPE(out.dtype == x.dtype, "argument 'out' must have the dtype of 'x' (", dtype_name(x.dtype),
                      "), got ", dtype_name(out.dtype));
  for (const auto* t : {&x, &y, &out}) {
    const char* nm = t == &x ? "x" : (t == &y ? "y" : "out");
    if (on_cuda) {
      check_cuda(*t, nm);
    } else {
      check_host(*t, nm);
    }
  }
  check_same_device(x, "x", y, "y");
  check_same_device(x, "x", out, "out");
  check_strides(x, "x");
  check_strides(y, "y");
  check_strides(out, "out");

  job.B = x.size(0);
  job.n = x.size(1);
  job.m = y.size(1);
  job.d = x.size(2);
  PYDISENT_CHECK(y.size(0) == job.B, "arguments 'x' and 'y' must have the same batch size, got ", shape_str(x),
                 " and ", shape_str(y));
  PYDISENT_CHECK(y.size(2) == job.d, "arguments 'x' and 'y' must have the same number of features (last dimension), got ",
                 shape_str(x), " and ", shape_str(y));
  PYDISENT_CHECK(job.d >= 1, "argument 'x' must have at least one feature (last dimension >= 1), got shape ",
                 shape_str(x));
  PYDISENT_CHECK(!condensed || symmetric, "argument 'condensed' needs self distances (symmetric=True)");
  if (symmetric) {
    PYDISENT_CHECK(x.ptr == y.ptr && x.shape == y.shape && x.strides == y.strides,
                   "argument 'y' must be the same view as 'x' for self distances (symmetric=True)");
  }
  if (condensed) {
    PYDISENT_CHECK(out.dim() == 2 && out.size(0) == job.B && out.size(1) == condensed_size(job.n),
                   "argument 'out' must have shape (", job.B, ", ", condensed_size(job.n), ") for condensed output, got ",
                   shape_str(out));
  } else {
    PYDISENT_CHECK(out.dim() == 3 && out.size(0) == job.B && out.size(1) == job.n && out.size(2) == job.m,
                   "argument 'out' must have shape (", job.B, ", ", job.n, ", ", job.m, "), got ", shape_str(out));
  }
  check_contiguous(out, "out");

  job.dtype = x.dtype;
  job.device = x.device;
  job.x = reinterpret_cast<const void*>(x.ptr);
  job.xs_b = x.stride(0);
  job.xs_i = x.stride(1);
  job.xs_k = x.stride(2);
  job.y = reinterpret_cast<const void*>(y.ptr);
  job.ys_b = y.stride(0);
  job.ys_i = y.stride(1);
  job.ys_k = y.stride(2);
  job.out = reinterpret_cast<void*>(out.ptr);
  job.symmetric = symmetric;
  job.condensed = condensed;
  return job;
}

std::vector<std::string> cpu_isas() {
  std::vector<std::string> isas;
#if defined(PYDISENT_DISTANCE_X86_ISAS)
  const cpu::Isa host = cpu::host_isa();
  if (host >= cpu::Isa::Avx512) isas.emplace_back("avx512");
  if (host >= cpu::Isa::Avx2) isas.emplace_back("avx2");
#endif
  isas.emplace_back("generic");
  return isas;
}

void run_cpu(const DistanceJob& job, const std::string& isa) {
  const auto isas = cpu_isas();
  std::string chosen = isa;
  if (isa == "auto") {  // the level cpu::isa() chooses, capped by the kernels this build has
    const std::string want = cpu::isa_name(cpu::isa());
    chosen = "generic";
    for (const auto& s : isas)
      if (s == want) chosen = want;
  }
  bool supported = false;
  for (const auto& s : isas) supported = supported || s == chosen;
  if (!supported) {
    std::string known;
    for (const auto& s : isas) known += (known.empty() ? "" : ", ") + s;
    throw ValueError(detail::concat("argument 'isa' must be 'auto' or one of this CPU's kernels (", known, "), got '",
                                    isa, "'"));
  }
  const int64_t out_elems = job.B * (job.condensed ? condensed_size(job.n) : job.n * job.m);
  advise_huge_pages(job.out, out_elems * (job.dtype == DType::Float64 ? 8 : 4));
  int rc = 0;
#if defined(PYDISENT_DISTANCE_X86_ISAS)
  if (chosen == "avx512") {
    rc = run_cpu_avx512(job);
  } else if (chosen == "avx2") {
    rc = run_cpu_avx2(job);
  } else {
    rc = run_cpu_generic(job);
  }
#else
  rc = run_cpu_generic(job);
#endif
  if (rc == 1) throw std::bad_alloc();
  PYDISENT_CHECK(rc == 0, "internal error in the distance kernel (code ", rc, ")");
}

void check_finite_cpu(const DistanceJob& job) {
  const bool f64 = job.dtype == DType::Float64;
  auto finite = [&](const void* p, int64_t rows, int64_t sb, int64_t si, int64_t sk) {
    return f64 ? all_finite(static_cast<const double*>(p), job.B, rows, job.d, sb, si, sk)
               : all_finite(static_cast<const float*>(p), job.B, rows, job.d, sb, si, sk);
  };
  PYDISENT_CHECK(finite(job.x, job.n, job.xs_b, job.xs_i, job.xs_k), "argument 'x' contains NaN or infinite values");
  if (!job.symmetric)
    PYDISENT_CHECK(finite(job.y, job.m, job.ys_b, job.ys_i, job.ys_k), "argument 'y' contains NaN or infinite values");
}

}  // namespace distance
}  // namespace pydisent
