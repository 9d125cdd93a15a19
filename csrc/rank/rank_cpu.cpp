// Average-tie ranks of the rows of a float64 matrix (scipy.stats.rankdata(method="average") per row).
// CPU only: on a GPU the torch path (a device sort) is already fast; on the CPU torch's sort plus the
// tie bookkeeping cost more than the distances the metrics rank, so each row is radix-sorted here.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "common/check.h"
#include "common/registry.h"
#include "common/tensor.h"

namespace py = pybind11;

namespace pydisent {
namespace {

// Order-preserving map of a double to an unsigned key (-0.0 and +0.0 map to one key: they are equal).
inline uint64_t sort_key(double v) {
  v += 0.0;  // -0.0 + 0.0 == +0.0
  uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  return (u >> 63) ? ~u : (u | (uint64_t{1} << 63));
}

// LSD radix sort of (key, index) by key, 8 bits per pass; passes where every key has the same digit
// are skipped (distances share their sign and most of their exponent bits).
void radix_sort(std::vector<uint64_t>& key, std::vector<int64_t>& idx, std::vector<uint64_t>& key_tmp,
                std::vector<int64_t>& idx_tmp) {
  const size_t n = key.size();
  for (int shift = 0; shift < 64; shift += 8) {
    size_t count[257] = {};
    for (size_t i = 0; i < n; ++i) ++count[((key[i] >> shift) & 0xff) + 1];
    bool trivial = false;
    for (int b = 1; b <= 256; ++b)
      if (count[b] == n) trivial = true;
    if (trivial) continue;
    for (int b = 1; b <= 256; ++b) count[b] += count[b - 1];
    for (size_t i = 0; i < n; ++i) {
      const size_t to = count[(key[i] >> shift) & 0xff]++;
      key_tmp[to] = key[i];
      idx_tmp[to] = idx[i];
    }
    key.swap(key_tmp);
    idx.swap(idx_tmp);
  }
}

void rank_rows(const TensorRef& x, const TensorRef& out) {
  check_rank(x, "x", 2);
  check_dtype(x, "x", DType::Float64);
  check_contiguous(x, "x");
  check_host(x, "x");
  check_rank(out, "out", 2);
  check_dtype(out, "out", DType::Float64);
  check_contiguous(out, "out");
  check_host(out, "out");
  PYDISENT_CHECK(out.size(0) == x.size(0) && out.size(1) == x.size(1), "argument 'out' must have the shape of 'x'");
  const int64_t R = x.size(0), n = x.size(1);
  const double* xp = x.data<double>();
  double* op = out.data<double>();
  bool finite = true;
#pragma omp parallel for schedule(static) reduction(&& : finite)
  for (int64_t i = 0; i < R * n; ++i) finite = finite && (xp[i] - xp[i] == 0.0);
  PYDISENT_CHECK(finite, "argument 'x' contains NaN or infinite values");
#pragma omp parallel
  {
    std::vector<uint64_t> key(static_cast<size_t>(n)), key_tmp(static_cast<size_t>(n));
    std::vector<int64_t> idx(static_cast<size_t>(n)), idx_tmp(static_cast<size_t>(n));
#pragma omp for schedule(dynamic, 1)
    for (int64_t r = 0; r < R; ++r) {
      const double* row = xp + r * n;
      for (int64_t i = 0; i < n; ++i) {
        key[i] = sort_key(row[i]);
        idx[i] = i;
      }
      radix_sort(key, idx, key_tmp, idx_tmp);
      double* dst = op + r * n;
      for (int64_t first = 0; first < n;) {
        int64_t last = first;
        while (last + 1 < n && key[last + 1] == key[first]) ++last;
        const double rank = 0.5 * static_cast<double>(first + last) + 1.0;
        for (int64_t j = first; j <= last; ++j) dst[idx[j]] = rank;
        first = last + 1;
      }
    }
  }
}

}  // namespace

void register_rank(py::module_& m) {
  m.def("rank_average_cpu", &rank_rows, py::arg("x"), py::arg("out"), py::call_guard<py::gil_scoped_release>(),
        "out[r] = average-tie 1-based ranks of x[r] for x (R, n) float64 (scipy.stats.rankdata per row)");
}

}  // namespace pydisent
