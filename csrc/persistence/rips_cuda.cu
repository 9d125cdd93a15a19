// CUDA half of the Rips engine: the filtration of a whole batch is built on the GPU, one launch per
// stage for all clouds (cloud index from a binary search over offsets or from blockIdx), and the
// remaining H1 reduction runs on the CPU with the same code as the CPU engine (finish_batch).
//
//   1. distances     one thread per matrix entry (all clouds), double accumulation, rounded to
//                    float32: bit-identical to the CPU values (no FMA, same order);
//   2. H0            dense Prim, one block per cloud (block-wide F-argmin per step); from the points
//                    on the fly for H0-only point input (O(n) memory), else from the matrix;
//   3. threshold     enclosing radius per cloud (one block per cloud, one warp per row);
//   4. columns       one thread per edge: in the threshold, not a forest edge, not in an apparent
//                    pair (classify_edge, shared with the CPU emulation), as Ripser++ does;
//   5. CUB           per-cloud counts + exclusive scan, DeviceSelect::Flagged compaction,
//                    DeviceSegmentedRadixSort of the column keys (reverse filtration order);
//   6. host          copy back forests, matrices, thresholds and sorted columns; finish_batch.
//
// All device memory is the caller's workspace (a torch uint8 tensor), carved by Layout; its size
// comes from rips_cuda_workspace_bytes with the same Layout.
#include <cub/cub.cuh>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/cuda_check.h"
#include "common/dispatch.h"
#include "common/segments_cuda.h"
#include "persistence/rips_batch.h"
#include "persistence/rips_common.h"

namespace pydisent {
namespace rips {

namespace {

constexpr int kBlock = 256;
constexpr float kInfF = std::numeric_limits<float>::infinity();

struct Offsets {
  const int64_t* vertex;  // B + 1
  const int64_t* matrix;  // B + 1
  const int64_t* edge;    // B + 1
  int64_t B;
};


__device__ __forceinline__ int64_t global_thread() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_stride() { return int64_t(gridDim.x) * blockDim.x; }

// ---- 1. distances ----------------------------------------------------------------------------------

template <typename T>
__global__ void points_distance_kernel(const T* __restrict__ pts, int64_t dim, int metric, Offsets off, float* D,
                                       int64_t total) {
  for (int64_t g = global_thread(); g < total; g += grid_stride()) {
    const int64_t b = find_segment(off.matrix, off.B, g);
    const int64_t n = off.vertex[b + 1] - off.vertex[b];
    const int64_t local = g - off.matrix[b];
    const int64_t i = local / n, j = local - (local / n) * n;
    const T* base = pts + off.vertex[b] * dim;
    D[g] = (i == j) ? 0.0f : point_distance(base + i * dim, base + j * dim, dim, metric);
  }
}

// Distance-matrix input: the upper triangle (row < column) is used, as on the CPU and in ripser.py.
template <typename T>
__global__ void matrix_prepare_kernel(const T* __restrict__ M, Offsets off, float* D, int64_t total) {
  for (int64_t g = global_thread(); g < total; g += grid_stride()) {
    const int64_t b = find_segment(off.matrix, off.B, g);
    const int64_t n = off.vertex[b + 1] - off.vertex[b];
    const int64_t local = g - off.matrix[b];
    const int64_t i = local / n, j = local - (local / n) * n;
    const int64_t lo = i < j ? i : j, hi = i < j ? j : i;
    D[g] = (i == j) ? 0.0f : static_cast<float>(M[off.matrix[b] + lo * n + hi]) + 0.0f;
  }
}

// ---- block reductions --------------------------------------------------------------------------------

struct Best {
  float d;
  key_t key;
  int64_t v;     // -1: none
  int64_t free;  // smallest vertex not in the tree, -1: none
};

__device__ __forceinline__ Best better(const Best& a, const Best& b) {
  Best r;
  if (a.v < 0)
    r = b;
  else if (b.v < 0)
    r = a;
  else
    r = f_before(b.d, b.key, a.d, a.key) ? b : a;
  r.free = (a.free < 0) ? b.free : (b.free < 0 ? a.free : (a.free < b.free ? a.free : b.free));
  return r;
}

// Warp-wide reduction of Best; the result is valid in lane 0 (lanes past the warp end read their own
// value: harmless for a min).
__device__ __forceinline__ Best warp_best(Best x) {
  for (int s = 16; s > 0; s >>= 1) {
    Best o;
    o.d = __shfl_down_sync(0xffffffffu, x.d, s);
    o.key = __shfl_down_sync(0xffffffffu, x.key, s);
    o.v = __shfl_down_sync(0xffffffffu, x.v, s);
    o.free = __shfl_down_sync(0xffffffffu, x.free, s);
    x = better(x, o);
  }
  return x;
}

// Block-wide reduction of Best; the result is valid in thread 0. Uses `sh` (32 entries).
__device__ Best block_best(Best x, Best* sh) {
  const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
  x = warp_best(x);
  if (lane == 0) sh[warp] = x;
  __syncthreads();
  const unsigned warps = (blockDim.x + 31u) / 32u;
  if (warp == 0) x = warp_best(lane < warps ? sh[lane] : Best{kInfF, 0, -1, -1});
  return x;
}

// ---- 2. H0: dense Prim, one block per cloud ---------------------------------------------------------------

// kPoints: distances from the points on the fly (H0-only point input), else from the matrix D.
template <typename T, bool kPoints>
__global__ void prim_kernel(const T* __restrict__ pts, int64_t dim, int metric, const float* __restrict__ D,
                            Offsets off, float thr, float* bd, key_t* bk, int32_t* bp, uint8_t* done, int32_t* parent,
                            float* length) {
  __shared__ Best sh[32];
  __shared__ int64_t s_cur;
  for (int64_t b = blockIdx.x; b < off.B; b += gridDim.x) {
    const int64_t v0 = off.vertex[b], n = off.vertex[b + 1] - v0;
    if (n == 0) continue;  // the same for every thread of the block
    float* bdb = bd + v0;
    key_t* bkb = bk + v0;
    int32_t* bpb = bp + v0;
    uint8_t* db = done + v0;
    int32_t* pb = parent + v0;
    float* lb = length + v0;
    const T* xb = kPoints ? pts + v0 * dim : nullptr;
    const float* Db = kPoints ? nullptr : D + off.matrix[b];
    for (int64_t v = threadIdx.x; v < n; v += blockDim.x) {
      bdb[v] = kInfF;
      bkb[v] = 0;
      bpb[v] = -1;
      db[v] = v == 0 ? 1 : 0;  // the tree starts at vertex 0
      pb[v] = -1;
      lb[v] = 0.0f;
    }
    if (threadIdx.x == 0) s_cur = 0;
    __syncthreads();
    for (int64_t added = 1; added < n; ++added) {
      const int64_t cur = s_cur;
      Best mine{kInfF, 0, -1, -1};
      // Each vertex is owned by one thread (same stride every step): no races on its bests.
      for (int64_t v = threadIdx.x; v < n; v += blockDim.x) {
        if (db[v]) continue;
        if (mine.free < 0) mine.free = v;  // ascending visits: the first is this thread's smallest
        const float d = kPoints ? point_distance(xb + cur * dim, xb + v * dim, dim, metric) : Db[cur * n + v];
        if (d <= thr && d <= bdb[v]) {
          const key_t k = undirected_edge_key(uint64_t(cur), uint64_t(v));
          if (d < bdb[v] || k > bkb[v]) {
            bdb[v] = d;
            bkb[v] = k;
            bpb[v] = static_cast<int32_t>(cur);
          }
        }
        if (bdb[v] <= thr && (mine.v < 0 || f_before(bdb[v], bkb[v], mine.d, mine.key))) {
          mine.d = bdb[v];
          mine.key = bkb[v];
          mine.v = v;
        }
      }
      const Best all = block_best(mine, sh);
      if (threadIdx.x == 0) {
        const int64_t w = all.v >= 0 ? all.v : all.free;  // nothing within the threshold: a new root
        if (all.v >= 0) {
          pb[w] = bpb[w];
          lb[w] = bdb[w];
        }
        db[w] = 1;
        s_cur = w;
      }
      __syncthreads();  // s_cur, done[] and the shared scratch are consistent for the next step
    }
    __syncthreads();
  }
}

// ---- 3. H1 threshold: min(threshold, enclosing radius) per cloud ------------------------------------------

__global__ void threshold_kernel(const float* __restrict__ D, Offsets off, float thr, float* t1) {
  __shared__ float sh[32];
  const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int64_t b = blockIdx.x; b < off.B; b += gridDim.x) {
    const int64_t n = off.vertex[b + 1] - off.vertex[b];
    const float* Db = D + off.matrix[b];
    float radius = kInfF;
    for (int64_t i = warp; i < n; i += warps) {  // one warp per row: coalesced
      float m = 0.0f;
      for (int64_t j = lane; j < n; j += 32) m = fmaxf(m, Db[i * n + j]);
      for (int s = 16; s > 0; s >>= 1) m = fmaxf(m, __shfl_down_sync(0xffffffffu, m, s));
      radius = fminf(radius, m);  // lane 0 holds the row maximum; other lanes are ignored below
    }
    if (lane == 0) sh[warp] = radius;
    __syncthreads();
    if (threadIdx.x == 0) {
      float r = kInfF;
      for (unsigned w = 0; w < warps; ++w) r = fminf(r, sh[w]);
      t1[b] = n > 0 ? fminf(thr, r) : thr;
    }
    __syncthreads();
  }
}

// ---- 4. columns: one thread per edge ------------------------------------------------------------------

__global__ void columns_kernel(const float* __restrict__ D, Offsets off, const float* __restrict__ t1,
                               const int32_t* __restrict__ parent, int64_t total, uint8_t* flags, uint64_t* keys,
                               uint64_t* values) {
  for (int64_t g = global_thread(); g < total; g += grid_stride()) {
    const int64_t b = find_segment(off.edge, off.B, g);
    const int64_t n = off.vertex[b + 1] - off.vertex[b];
    const uint32_t e = static_cast<uint32_t>(g - off.edge[b]);
    uint64_t key = 0, value = 0;
    const bool column = n >= 3 && classify_edge(D + off.matrix[b], n, e, t1[b], parent + off.vertex[b], key, value);
    flags[g] = column ? 1 : 0;
    keys[g] = key;
    values[g] = value;
  }
}

// Columns per cloud (one block per cloud); counts has B + 1 entries, the last one zero, so an
// exclusive scan of it gives the B + 1 segment offsets.
__global__ void count_kernel(const uint8_t* __restrict__ flags, Offsets off, int64_t* counts) {
  __shared__ int64_t sh[32];
  const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int64_t b = blockIdx.x; b <= off.B; b += gridDim.x) {
    int64_t c = 0;
    if (b < off.B)
      for (int64_t g = off.edge[b] + threadIdx.x; g < off.edge[b + 1]; g += blockDim.x) c += flags[g];
    for (int s = 16; s > 0; s >>= 1) c += __shfl_down_sync(0xffffffffu, c, s);
    if (lane == 0) sh[warp] = c;
    __syncthreads();
    if (threadIdx.x == 0) {
      int64_t t = 0;
      for (unsigned w = 0; w < warps; ++w) t += sh[w];
      counts[b] = t;
    }
    __syncthreads();
  }
}

__global__ void narrow_offsets_kernel(const int64_t* in, int* out, int64_t count) {
  for (int64_t g = global_thread(); g < count; g += grid_stride()) out[g] = static_cast<int>(in[g]);
}

unsigned grid_for(int64_t total) {  // grid-stride kernels: enough blocks, capped
  const int64_t blocks = (total + kBlock - 1) / kBlock;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, int64_t(1) << 20)));
}
unsigned grid_per_cloud(int64_t B) { return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(B, 65535))); }

// ---- workspace layout ---------------------------------------------------------------------------------------

struct Sizes {
  int64_t B = 0, vertices = 0, matrix = 0, edges = 0, max_n = 0;
  bool need_matrix = false, h1 = false;
};

Sizes sizes_of(const BatchInput& in, int maxdim) {
  Sizes z;
  z.B = static_cast<int64_t>(in.offsets.size()) - 1;
  for (int64_t b = 0; b < z.B; ++b) {
    const int64_t n = in.offsets[b + 1] - in.offsets[b];
    z.vertices += n;
    z.matrix += n * n;
    z.edges += n * (n - 1) / 2;
    z.max_n = std::max(z.max_n, n);
  }
  z.h1 = maxdim >= 1;
  z.need_matrix = z.h1 || in.distances;
  return z;
}

// Byte offsets of every device buffer inside the workspace (256-byte aligned). With base ==
// nullptr it only measures; the CUB temporary sizes are queried the same way in both passes.
struct Layout {
  char* base = nullptr;
  size_t used = 0;
  template <typename U>
  U* take(int64_t count) {
    used = (used + 255) & ~size_t(255);
    U* p = base ? reinterpret_cast<U*>(base + used) : nullptr;
    used += sizeof(U) * static_cast<size_t>(std::max<int64_t>(count, 0));
    return p;
  }
};

struct Buffers {
  int64_t *voff, *moff, *eoff;
  float* D;
  float *bd, *length, *t1;
  key_t* bk;
  int32_t *bp, *parent;
  uint8_t* done;
  // H1
  uint8_t* flags;
  uint64_t *keys, *values, *keys_sel, *values_sel, *keys_sorted, *values_sorted;
  int64_t *counts, *col_off, *num_selected;
  int* col_off32;
  void* cub_temp;
  size_t cub_bytes;
};

Buffers carve(Layout& L, const Sizes& z, cudaStream_t stream) {
  Buffers w{};
  w.voff = L.take<int64_t>(z.B + 1);
  w.moff = L.take<int64_t>(z.B + 1);
  w.eoff = L.take<int64_t>(z.B + 1);
  w.D = L.take<float>(z.need_matrix ? z.matrix : 0);
  w.bd = L.take<float>(z.vertices);
  w.bk = L.take<key_t>(z.vertices);
  w.bp = L.take<int32_t>(z.vertices);
  w.done = L.take<uint8_t>(z.vertices);
  w.parent = L.take<int32_t>(z.vertices);
  w.length = L.take<float>(z.vertices);
  w.t1 = L.take<float>(z.B);
  w.cub_bytes = 0;
  if (!z.h1) return w;
  const int64_t E = z.edges;
  w.flags = L.take<uint8_t>(E);
  w.keys = L.take<uint64_t>(E);
  w.values = L.take<uint64_t>(E);
  w.keys_sel = L.take<uint64_t>(E);
  w.values_sel = L.take<uint64_t>(E);
  w.keys_sorted = L.take<uint64_t>(E);
  w.values_sorted = L.take<uint64_t>(E);
  w.counts = L.take<int64_t>(z.B + 1);
  w.col_off = L.take<int64_t>(z.B + 1);
  w.num_selected = L.take<int64_t>(1);
  w.col_off32 = L.take<int>(z.B + 1);
  // CUB temporary storage: the largest of the three algorithms (sort sized for the worst case).
  size_t scan_bytes = 0, select_bytes = 0, sort_bytes = 0;
  PYDISENT_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes, w.counts, w.col_off, z.B + 1, stream));
  PYDISENT_CUDA_CHECK(cub::DeviceSelect::Flagged(nullptr, select_bytes, w.keys, w.flags, w.keys_sel,
                                                 w.num_selected, E, stream));
  const int sort_items = static_cast<int>(std::min<int64_t>(E, INT_MAX));
  PYDISENT_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(
      nullptr, sort_bytes, w.keys_sel, w.keys_sorted, w.values_sel, w.values_sorted, sort_items,
      static_cast<int>(z.B), w.col_off32, w.col_off32 + 1, 0, 64, stream));
  w.cub_bytes = std::max(scan_bytes, std::max(select_bytes, sort_bytes));
  w.cub_temp = L.take<char>(static_cast<int64_t>(w.cub_bytes));
  return w;
}

template <typename T>
void launch_distances(const BatchInput& in, const Offsets& off, const Buffers& w, const Sizes& z, int metric,
                      cudaStream_t stream) {
  if (z.matrix == 0) return;
  if (in.distances)
    matrix_prepare_kernel<T><<<grid_for(z.matrix), kBlock, 0, stream>>>(static_cast<const T*>(in.data), off, w.D,
                                                                          z.matrix);
  else
    points_distance_kernel<T><<<grid_for(z.matrix), kBlock, 0, stream>>>(static_cast<const T*>(in.data), in.dim,
                                                                           metric, off, w.D, z.matrix);
  PYDISENT_CUDA_CHECK_LAUNCH();
}

template <typename T>
void launch_prim(const BatchInput& in, const Offsets& off, const Buffers& w, const Sizes& z, int metric, float thr,
                 cudaStream_t stream) {
  // One block per cloud, sized to the largest cloud (a multiple of 32, 32..512 threads).
  const unsigned threads = static_cast<unsigned>(std::min<int64_t>(512, std::max<int64_t>(32, (z.max_n + 31) / 32 * 32)));
  if (z.need_matrix)
    prim_kernel<T, false><<<grid_per_cloud(z.B), threads, 0, stream>>>(nullptr, 0, metric, w.D, off, thr, w.bd, w.bk,
                                                                       w.bp, w.done, w.parent, w.length);
  else
    prim_kernel<T, true><<<grid_per_cloud(z.B), threads, 0, stream>>>(static_cast<const T*>(in.data), in.dim, metric,
                                                                      nullptr, off, thr, w.bd, w.bk, w.bp, w.done,
                                                                      w.parent, w.length);
  PYDISENT_CUDA_CHECK_LAUNCH();
}

template <typename U>
void copy_to_host(std::vector<U>& dst, const U* src, int64_t count, cudaStream_t stream) {
  dst.resize(static_cast<size_t>(count));
  if (count > 0)
    PYDISENT_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src, sizeof(U) * static_cast<size_t>(count),
                                        cudaMemcpyDeviceToHost, stream));
}

}  // namespace

int64_t rips_cuda_workspace_bytes(const BatchInput& in, int maxdim) {
  const Sizes z = sizes_of(in, maxdim);
  if (z.B == 0) return 0;
  Layout L;
  carve(L, z, nullptr);
  return static_cast<int64_t>(L.used + 256);
}

std::vector<CloudResult> rips_batch_cuda(const BatchInput& in, int metric, const Settings& s, void* workspace,
                                         int64_t workspace_bytes, int device, uintptr_t stream_handle, int threads) {
  const Sizes z = sizes_of(in, s.maxdim);
  if (z.B == 0) return {};
  DeviceGuard guard(device);
  cudaStream_t stream = as_stream(stream_handle);
  Layout L;
  L.base = static_cast<char*>(workspace);
  const Buffers w = carve(L, z, stream);
  PYDISENT_CHECK(static_cast<int64_t>(L.used) <= workspace_bytes, "argument 'workspace' is too small: ", L.used,
                 " bytes needed, got ", workspace_bytes);
  const float thr = s.threshold;

  // Offsets (host -> device).
  std::vector<int64_t> moff(static_cast<size_t>(z.B) + 1, 0), eoff(static_cast<size_t>(z.B) + 1, 0);
  for (int64_t b = 0; b < z.B; ++b) {
    const int64_t n = in.offsets[b + 1] - in.offsets[b];
    moff[b + 1] = moff[b] + n * n;
    eoff[b + 1] = eoff[b] + n * (n - 1) / 2;
  }
  const size_t obytes = sizeof(int64_t) * static_cast<size_t>(z.B + 1);
  PYDISENT_CUDA_CHECK(cudaMemcpyAsync(w.voff, in.offsets.data(), obytes, cudaMemcpyHostToDevice, stream));
  PYDISENT_CUDA_CHECK(cudaMemcpyAsync(w.moff, moff.data(), obytes, cudaMemcpyHostToDevice, stream));
  PYDISENT_CUDA_CHECK(cudaMemcpyAsync(w.eoff, eoff.data(), obytes, cudaMemcpyHostToDevice, stream));
  const Offsets off{w.voff, w.moff, w.eoff, z.B};

  // 1-2: distances and forests.
  PYDISENT_DISPATCH_FLOATING_TYPES(in.dtype, "rips_cuda", [&] {
    if (z.need_matrix) launch_distances<scalar_t>(in, off, w, z, metric, stream);
    launch_prim<scalar_t>(in, off, w, z, metric, thr, stream);
  });

  HostFiltration f;
  f.offsets = in.offsets;
  copy_to_host(f.parent, w.parent, z.vertices, stream);
  copy_to_host(f.length, w.length, z.vertices, stream);
  if (z.h1) {
    // 3-4: thresholds and columns.
    threshold_kernel<<<grid_per_cloud(z.B), kBlock, 0, stream>>>(w.D, off, thr, w.t1);
    PYDISENT_CUDA_CHECK_LAUNCH();
    if (z.edges > 0) {
      columns_kernel<<<grid_for(z.edges), kBlock, 0, stream>>>(w.D, off, w.t1, w.parent, z.edges, w.flags, w.keys,
                                                               w.values);
      PYDISENT_CUDA_CHECK_LAUNCH();
    }
    // 5: counts -> offsets, compaction, segmented sort.
    count_kernel<<<grid_per_cloud(z.B + 1), kBlock, 0, stream>>>(w.flags, off, w.counts);
    PYDISENT_CUDA_CHECK_LAUNCH();
    size_t bytes = w.cub_bytes;
    PYDISENT_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(w.cub_temp, bytes, w.counts, w.col_off, z.B + 1, stream));
    int64_t selected = 0;
    if (z.edges > 0) {
      bytes = w.cub_bytes;
      PYDISENT_CUDA_CHECK(cub::DeviceSelect::Flagged(w.cub_temp, bytes, w.keys, w.flags, w.keys_sel, w.num_selected,
                                                     z.edges, stream));
      bytes = w.cub_bytes;
      PYDISENT_CUDA_CHECK(cub::DeviceSelect::Flagged(w.cub_temp, bytes, w.values, w.flags, w.values_sel,
                                                     w.num_selected, z.edges, stream));
      PYDISENT_CUDA_CHECK(
          cudaMemcpyAsync(&selected, w.num_selected, sizeof(int64_t), cudaMemcpyDeviceToHost, stream));
      PYDISENT_CUDA_CHECK(cudaStreamSynchronize(stream));
    }
    PYDISENT_CHECK(selected <= INT_MAX, "argument 'points_or_distances': ", selected,
                   " H1 columns exceed the CUDA sort's limit (2^31 - 1); use backend='cpu'");
    const uint64_t* sorted_keys = w.keys_sel;
    const uint64_t* sorted_values = w.values_sel;
    if (selected > 0) {
      narrow_offsets_kernel<<<grid_for(z.B + 1), kBlock, 0, stream>>>(w.col_off, w.col_off32, z.B + 1);
      PYDISENT_CUDA_CHECK_LAUNCH();
      bytes = w.cub_bytes;
      PYDISENT_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(
          w.cub_temp, bytes, w.keys_sel, w.keys_sorted, w.values_sel, w.values_sorted, static_cast<int>(selected),
          static_cast<int>(z.B), w.col_off32, w.col_off32 + 1, 0, 64, stream));
      sorted_keys = w.keys_sorted;
      sorted_values = w.values_sorted;
    }
    // 6: copy back.
    std::vector<uint64_t> keys, values;
    copy_to_host(keys, sorted_keys, selected, stream);
    copy_to_host(values, sorted_values, selected, stream);
    copy_to_host(f.column_offsets, w.col_off, z.B + 1, stream);
    copy_to_host(f.threshold1, w.t1, z.B, stream);
    copy_to_host(f.D, w.D, z.matrix, stream);
    PYDISENT_CUDA_CHECK(cudaStreamSynchronize(stream));
    f.matrix_offsets = moff;
    f.codes.resize(static_cast<size_t>(selected));
    for (int64_t q = 0; q < selected; ++q) f.codes[q] = ColumnCode{keys[q], values[q]};
  } else {
    PYDISENT_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  return finish_batch(f, s.maxdim, threads);
}

}  // namespace rips
}  // namespace pydisent
