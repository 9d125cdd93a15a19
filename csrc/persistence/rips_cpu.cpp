// Drivers of the CPU Rips engine: one cloud (threads inside the cloud) and a packed batch of
// clouds (one cloud per thread), plus the C++-side input checks.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <vector>

#include "common/check.h"
#include "common/dispatch.h"
#include "persistence/rips_batch.h"
#include "persistence/rips_engine.h"

namespace pydisent {
namespace rips {

void rips_matrix(const float* D, int64_t n, const Settings& s, CloudResult& out, int threads) {
  out.h0.clear();
  out.h1.clear();
  if (n == 0) return;
  const float thr = s.threshold;
  Forest forest;
  prim_from_matrix(D, n, thr, forest);
  out.h0 = h0_pairs(forest);
  if (s.maxdim >= 1 && n >= 3) {
    const float t1 = std::min(thr, enclosing_radius(D, n));
    std::vector<ColumnCode> codes = collect_columns(D, n, t1, forest, threads);
    sort_columns(codes, threads);
    reduce_h1(D, n, t1, decode_columns(codes.data(), codes.size(), D, n), out.h1);
  }
}

template <typename T>
void rips_points(const T* points, int64_t n, int64_t dim, int metric, const Settings& s, CloudResult& out,
                 int threads) {
  out.h0.clear();
  out.h1.clear();
  if (n == 0) return;
  if (s.maxdim == 0 || n < 3) {
    Forest forest;
    prim_from_points(points, n, dim, metric, s.threshold, forest, threads);
    out.h0 = h0_pairs(forest);
    return;
  }
  std::vector<float> D(static_cast<size_t>(n * n));
  distance_matrix(points, n, dim, metric, D.data(), threads);
  rips_matrix(D.data(), n, s, out, threads);
}
template void rips_points<float>(const float*, int64_t, int64_t, int, const Settings&, CloudResult&, int);
template void rips_points<double>(const double*, int64_t, int64_t, int, const Settings&, CloudResult&, int);

// ---- checks ---------------------------------------------------------------------------------------

template <typename T>
void check_points(const T* p, int64_t count, int64_t cloud) {
  for (int64_t q = 0; q < count; ++q)
    PYDISENT_CHECK(std::isfinite(static_cast<double>(p[q])), "argument 'points_or_distances' (cloud ", cloud,
                   ") contains NaN or infinite coordinates");
}

// Square matrix checks; the upper triangle (row < column) is what is used, as in ripser.py, so the
// lower one must agree with it up to float rounding.
template <typename T>
void check_matrix(const T* M, int64_t n, int64_t cloud) {
  for (int64_t i = 0; i < n; ++i) {
    const double dii = static_cast<double>(M[i * n + i]);
    PYDISENT_CHECK(dii == 0.0, "argument 'points_or_distances' (cloud ", cloud,
                   ") must be a distance matrix with a zero diagonal, got D[", i, ", ", i, "] = ", dii);
    for (int64_t j = i + 1; j < n; ++j) {
      const double a = static_cast<double>(M[i * n + j]), b = static_cast<double>(M[j * n + i]);
      PYDISENT_CHECK(!std::isnan(a) && !std::isnan(b), "argument 'points_or_distances' (cloud ", cloud,
                     ") contains NaN distances");
      PYDISENT_CHECK(a >= 0.0 && b >= 0.0, "argument 'points_or_distances' (cloud ", cloud,
                     ") contains negative distances: D[", i, ", ", j, "] = ", (a < 0 ? a : b));
      const double tol = 1e-5 * std::max(std::fabs(a), std::fabs(b)) + 1e-30;
      PYDISENT_CHECK(a == b || std::fabs(a - b) <= tol, "argument 'points_or_distances' (cloud ", cloud,
                     ") must be a symmetric distance matrix: D[", i, ", ", j, "] = ", a, " but D[", j, ", ", i,
                     "] = ", b);
    }
  }
}

template <typename T>
void upper_to_float(const T* M, int64_t n, float* D) {
  for (int64_t i = 0; i < n; ++i) {
    D[i * n + i] = 0.0f;
    for (int64_t j = i + 1; j < n; ++j) D[i * n + j] = D[j * n + i] = static_cast<float>(M[i * n + j]) + 0.0f;
  }
}

// ---- batch ----------------------------------------------------------------------------------------

template <typename T>
static void run_batch(const BatchInput& in, const T* data, int metric, const Settings& s,
                      std::vector<CloudResult>& out, int threads) {
  const int64_t B = static_cast<int64_t>(in.offsets.size()) - 1;
  std::vector<int64_t> base(static_cast<size_t>(B) + 1, 0);  // element offset of each cloud
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = in.offsets[b + 1] - in.offsets[b];
    base[b + 1] = base[b] + (in.distances ? n * n : n * in.dim);
  }
  // Checks first (exceptions cannot leave an OpenMP region).
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = in.offsets[b + 1] - in.offsets[b];
    if (in.distances)
      check_matrix(data + base[b], n, b);
    else
      check_points(data + base[b], n * in.dim, b);
  }
  out.assign(static_cast<size_t>(B), CloudResult{});
  auto one = [&](int64_t b, int inner, std::vector<float>& scratch) {
    const int64_t n = in.offsets[b + 1] - in.offsets[b];
    const T* src = data + base[b];
    if (in.distances) {
      scratch.resize(static_cast<size_t>(n * n));
      upper_to_float(src, n, scratch.data());
      rips_matrix(scratch.data(), n, s, out[b], inner);
    } else {
      rips_points(src, n, in.dim, metric, s, out[b], inner);
    }
  };
  if (B == 0) return;
  if (B == 1 || threads <= 1 || B < threads) {
    // Few clouds: the threads work inside each cloud.
    std::vector<float> scratch;
    for (int64_t b = 0; b < B; ++b) one(b, threads, scratch);
    return;
  }
  std::exception_ptr error;
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> scratch;
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < B; ++b) {
      try {
        one(b, 1, scratch);
      } catch (...) {
#pragma omp critical(pydisent_rips_error)
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

std::vector<CloudResult> finish_batch(const HostFiltration& f, int maxdim, int threads) {
  const int64_t B = static_cast<int64_t>(f.offsets.size()) - 1;
  std::vector<CloudResult> out(static_cast<size_t>(std::max<int64_t>(B, 0)));
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1) num_threads(std::max(1, threads)) if (B > 1)
  for (int64_t b = 0; b < B; ++b) {
    try {
      const int64_t v0 = f.offsets[b], n = f.offsets[b + 1] - v0;
      Forest forest;
      forest.parent.assign(f.parent.begin() + v0, f.parent.begin() + v0 + n);
      forest.length.assign(f.length.begin() + v0, f.length.begin() + v0 + n);
      out[b].h0 = h0_pairs(forest);
      if (maxdim >= 1 && n >= 3) {
        const float* D = f.D.data() + f.matrix_offsets[b];
        const int64_t c0 = f.column_offsets[b], c1 = f.column_offsets[b + 1];
        reduce_h1(D, n, f.threshold1[b], decode_columns(f.codes.data() + c0, static_cast<size_t>(c1 - c0), D, n),
                  out[b].h1);
      }
    } catch (...) {
#pragma omp critical(pydisent_rips_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  return out;
}

template <typename T>
static std::vector<CloudResult> emulate(const BatchInput& in, const T* data, int metric, const Settings& s,
                                        int threads) {
  const int64_t B = static_cast<int64_t>(in.offsets.size()) - 1;
  HostFiltration f;
  f.offsets = in.offsets;
  f.matrix_offsets.assign(static_cast<size_t>(B) + 1, 0);
  std::vector<int64_t> edge_offsets(static_cast<size_t>(B) + 1, 0), src(static_cast<size_t>(B) + 1, 0);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = in.offsets[b + 1] - in.offsets[b];
    f.matrix_offsets[b + 1] = f.matrix_offsets[b] + n * n;
    edge_offsets[b + 1] = edge_offsets[b] + n * (n - 1) / 2;
    src[b + 1] = src[b] + (in.distances ? n * n : n * in.dim);
  }
  const float thr = s.threshold;
  // "kernels": matrices, forests, H1 thresholds, per-edge flags and codes
  f.D.resize(static_cast<size_t>(f.matrix_offsets[B]));
  f.parent.assign(static_cast<size_t>(in.offsets[B]), -1);
  f.length.assign(static_cast<size_t>(in.offsets[B]), 0.0f);
  f.threshold1.assign(static_cast<size_t>(B), thr);
  std::vector<uint8_t> flags(static_cast<size_t>(edge_offsets[B]), 0);
  std::vector<ColumnCode> all(static_cast<size_t>(edge_offsets[B]));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = in.offsets[b + 1] - in.offsets[b];
    float* D = f.D.data() + f.matrix_offsets[b];
    if (in.distances) {
      check_matrix(data + src[b], n, b);
      upper_to_float(data + src[b], n, D);
    } else {
      check_points(data + src[b], n * in.dim, b);
      distance_matrix(data + src[b], n, in.dim, metric, D, 1);
    }
    Forest forest;
    prim_from_matrix(D, n, thr, forest);
    std::copy(forest.parent.begin(), forest.parent.end(), f.parent.begin() + in.offsets[b]);
    std::copy(forest.length.begin(), forest.length.end(), f.length.begin() + in.offsets[b]);
    if (s.maxdim < 1 || n < 3) continue;
    f.threshold1[b] = std::min(thr, enclosing_radius(D, n));
    for (int64_t e = 0; e < n * (n - 1) / 2; ++e) {
      ColumnCode& c = all[edge_offsets[b] + e];
      flags[edge_offsets[b] + e] = classify_edge(D, n, uint32_t(e), f.threshold1[b],
                                                 f.parent.data() + in.offsets[b], c.key, c.value);
    }
  }
  // "CUB": per-cloud counts, exclusive scan, stable compaction, segmented sort by key
  f.column_offsets.assign(static_cast<size_t>(B) + 1, 0);
  for (int64_t b = 0; b < B; ++b) {
    int64_t count = 0;
    for (int64_t e = edge_offsets[b]; e < edge_offsets[b + 1]; ++e) count += flags[e];
    f.column_offsets[b + 1] = f.column_offsets[b] + count;
  }
  for (int64_t e = 0; e < edge_offsets[B]; ++e)
    if (flags[e]) f.codes.push_back(all[e]);
  for (int64_t b = 0; b < B; ++b)
    std::stable_sort(f.codes.begin() + f.column_offsets[b], f.codes.begin() + f.column_offsets[b + 1],
                     [](const ColumnCode& x, const ColumnCode& y) { return x.key < y.key; });
  return finish_batch(f, s.maxdim, threads);
}

std::vector<CloudResult> rips_batch_emulated_gpu_flow(const BatchInput& in, int metric, const Settings& s,
                                                      int threads) {
  return PYDISENT_DISPATCH_FLOATING_TYPES(in.dtype, "rips", [&] {
    return emulate(in, static_cast<const scalar_t*>(in.data), metric, s, threads);
  });
}

std::vector<CloudResult> rips_batch_cpu(const BatchInput& in, int metric, const Settings& s, int threads) {
  std::vector<CloudResult> out;
  PYDISENT_DISPATCH_FLOATING_TYPES(in.dtype, "rips", [&] {
    run_batch(in, static_cast<const scalar_t*>(in.data), metric, s, out, threads);
  });
  return out;
}

}  // namespace rips
}  // namespace pydisent
