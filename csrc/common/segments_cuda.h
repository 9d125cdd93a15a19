// Device helpers for the batched CUDA kernels that flatten many variable-length segments (one per cloud or
// landmark draw) into one index space: a thread with global index g finds its segment by binary search over
// the exclusive offsets.
#pragma once

#include <cstdint>

namespace pydisent {

// The segment b with off[b] <= g < off[b + 1] for off of length B + 1 (empty segments are skipped naturally).
__device__ inline int64_t find_segment(const int64_t* off, int64_t B, int64_t g) {
  int64_t lo = 0, hi = B;  // invariant: off[lo] <= g < off[hi]
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (off[mid] <= g)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

}  // namespace pydisent
