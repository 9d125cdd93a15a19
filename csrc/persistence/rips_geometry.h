// Internal helpers of the CPU distance code (rips_geometry.cpp), shared with Prim's algorithm.
#pragma once

#include <cstdint>
#include <vector>

namespace pydisent {
namespace rips {

// soa[q * n + v] = points[v * dim + q] as double.
template <typename T>
void to_soa(const T* points, int64_t n, int64_t dim, std::vector<double>& soa);

// out[v] = float32 distance from x (dim doubles) to the point v of `soa` (column stride `stride`),
// for v in [begin, end); acc is scratch of the same indexing.
void soa_distances(const double* soa, int64_t stride, int64_t dim, const double* x, int64_t begin, int64_t end,
                   int metric, double* acc, float* out);

}  // namespace rips
}  // namespace pydisent
