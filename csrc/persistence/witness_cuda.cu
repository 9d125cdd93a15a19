// CUDA half of the witness engine: for a chunk of draws, one launch per stage for all of them (see
// witness_flow.h for the stages and the per-thread code they share with the CPU emulation), then the
// faces and the reduction on the CPU (finish_from_minima), as the Rips CUDA engine does. Draws with a
// window too large for one thread's registers go to the CPU engine (same numbers).
//
// Device memory is allocated per chunk with cudaMallocAsync on the caller's stream (the candidate count
// is only known after the count stage).
#include <cub/cub.cuh>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/cuda_check.h"
#include "common/segments_cuda.h"
#include "persistence/witness.h"
#include "persistence/witness_flow.h"
#include "persistence/witness_internal.h"

namespace pydisent {
namespace witness {

namespace {

constexpr int kThreads = 256;
// Table entries (float64) per chunk of draws, and candidates per chunk the sort may take.
constexpr int64_t kTableBudget = int64_t(1) << 27;  // 1 GiB
constexpr int64_t kMaxCandidates = int64_t(1) << 30;

__device__ __forceinline__ int64_t global_thread() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_stride() { return int64_t(gridDim.x) * blockDim.x; }


unsigned grid_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, 65535 * 8)));
}

// Per chunk draw j: rows of its cloud start at row0[j], N = nw[j] witnesses; its table at toff[j]
// (L x N, landmark-major), its witnesses at woff[j] in the (draw, witness) numbering.
struct ChunkDev {
  const int64_t* row0;
  const int64_t* nw;
  const int64_t* toff;  // Kc + 1
  const int64_t* woff;  // Kc + 1
  const int64_t* lm;    // Kc x L, local indices
  int64_t Kc, L;
};

// 1. table: one thread per (draw, landmark, witness); the draw's largest entry by atomicMax on the bits
// (non-negative doubles order like their bit patterns).
__global__ void table_kernel(const double* __restrict__ X, int64_t d, bool squared, ChunkDev c, double* T,
                             unsigned long long* maxbits) {
  const int64_t total = c.toff[c.Kc];
  for (int64_t g = global_thread(); g < total; g += grid_stride()) {
    const int64_t j = find_segment(c.toff, c.Kc, g);
    const int64_t N = c.nw[j], local = g - c.toff[j];
    const int64_t l = local / N, w = local - l * N;
    const double* base = X + c.row0[j] * d;
    const double t = flow::table_entry(base + w * d, base + c.lm[j * c.L + l] * d, d, squared);
    T[g] = t;
    atomicMax(maxbits + j, static_cast<unsigned long long>(__double_as_longlong(t)));
  }
}

__global__ void alpha_kernel(const unsigned long long* maxbits, const double* given, double relative, int64_t Kc,
                             double* alpha) {
  for (int64_t j = global_thread(); j < Kc; j += grid_stride())
    alpha[j] = given ? given[j] : relative * __longlong_as_double(static_cast<long long>(maxbits[j]));
}

// 2. / 4. one thread per (draw, witness): its candidate count, then its candidates.
__global__ void count_kernel(const double* T, ChunkDev c, const double* alpha, bool strong, int64_t* counts,
                             int* overflow) {
  const int64_t total = c.woff[c.Kc];
  for (int64_t g = global_thread(); g < total; g += grid_stride()) {
    const int64_t j = find_segment(c.woff, c.Kc, g);
    const int64_t N = c.nw[j], w = g - c.woff[j];
    const int64_t n =
        flow::witness_emit(T + c.toff[j] + w, N, static_cast<int>(c.L), alpha[j], strong, nullptr, nullptr);
    if (n == flow::kOverflow) overflow[j] = 1;
    counts[g] = n == flow::kOverflow ? 0 : n;
  }
}

__global__ void emit_kernel(const double* T, ChunkDev c, const double* alpha, bool strong, const int64_t* counts,
                            const int64_t* coff, uint64_t* keys, double* vals) {
  const int64_t total = c.woff[c.Kc];
  for (int64_t g = global_thread(); g < total; g += grid_stride()) {
    if (counts[g] == 0) continue;
    const int64_t j = find_segment(c.woff, c.Kc, g);
    const int64_t N = c.nw[j], w = g - c.woff[j];
    flow::witness_emit(T + c.toff[j] + w, N, static_cast<int>(c.L), alpha[j], strong, keys + coff[g], vals + coff[g]);
  }
}

// Per-draw candidate segments: seg[j] = coff[woff[j]] (int for CUB's segmented sort).
__global__ void segments_kernel(const int64_t* coff, const int64_t* woff, int64_t Kc, int* seg) {
  for (int64_t j = global_thread(); j <= Kc; j += grid_stride()) seg[j] = static_cast<int>(coff[woff[j]]);
}

// 6. the head of every run of equal keys within a draw keeps the run's minimum.
__global__ void heads_kernel(const uint64_t* keys, const double* vals, const int* seg, int64_t Kc, int64_t total,
                             int64_t* flags, double* runmin) {
  for (int64_t i = global_thread(); i < total; i += grid_stride()) {
    int64_t lo = 0, hi = Kc;  // draw of i: seg[lo] <= i < seg[lo + 1]
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (seg[mid] <= i)
        lo = mid;
      else
        hi = mid;
    }
    const int64_t end = seg[lo + 1];
    const bool head = i == seg[lo] || keys[i] != keys[i - 1];
    flags[i] = head ? 1 : 0;
    if (head) {
      double m = vals[i];
      for (int64_t q = i + 1; q < end && keys[q] == keys[i]; ++q) m = vals[q] < m ? vals[q] : m;
      runmin[i] = m;
    }
  }
}

__global__ void compact_kernel(const uint64_t* keys, const double* runmin, const int64_t* flags, const int64_t* pos,
                               int64_t total, uint64_t* ukeys, double* uvals) {
  for (int64_t i = global_thread(); i < total; i += grid_stride())
    if (flags[i]) ukeys[pos[i]] = keys[i], uvals[pos[i]] = runmin[i];
}

__global__ void unique_segments_kernel(const int64_t* pos, const int* seg, int64_t Kc, int64_t* useg) {
  for (int64_t j = global_thread(); j <= Kc; j += grid_stride()) useg[j] = pos[seg[j]];
}

// Device buffers of one chunk, freed on the stream when the chunk is done.
class Arena {
 public:
  explicit Arena(cudaStream_t s) : s_(s) {}
  ~Arena() {
    for (void* p : ptrs_) cudaFreeAsync(p, s_);
  }
  template <typename T>
  T* take(int64_t n) {
    void* p = nullptr;
    PYDISENT_CUDA_CHECK(cudaMallocAsync(&p, static_cast<size_t>(std::max<int64_t>(n, 1)) * sizeof(T), s_));
    ptrs_.push_back(p);
    return static_cast<T*>(p);
  }

 private:
  cudaStream_t s_;
  std::vector<void*> ptrs_;
};

template <typename T>
void to_device(T* dst, const std::vector<T>& src, cudaStream_t s) {
  if (!src.empty())
    PYDISENT_CUDA_CHECK(cudaMemcpyAsync(dst, src.data(), src.size() * sizeof(T), cudaMemcpyHostToDevice, s));
}
template <typename T>
void to_host(std::vector<T>& dst, const T* src, int64_t n, cudaStream_t s) {
  dst.resize(static_cast<size_t>(n));
  if (n > 0) PYDISENT_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src, n * sizeof(T), cudaMemcpyDeviceToHost, s));
}

// The device stages for the draws `ks`; returns their minima (overflowed draws flagged) and alphas.
MinimaHost run_chunk(const Batch& in, const std::vector<int64_t>& ks, cudaStream_t s, std::vector<double>& alphas) {
  const int64_t Kc = static_cast<int64_t>(ks.size()), L = in.L;
  std::vector<int64_t> row0(Kc), nw(Kc), toff(Kc + 1, 0), woff(Kc + 1, 0), lm(Kc * L);
  std::vector<double> given;
  for (int64_t j = 0; j < Kc; ++j) {
    const int64_t k = ks[j], c = in.cloud_of[k];
    row0[j] = in.cloud_offsets[c];
    nw[j] = in.cloud_offsets[c + 1] - in.cloud_offsets[c];
    toff[j + 1] = toff[j] + L * nw[j];
    woff[j + 1] = woff[j] + nw[j];
    std::copy(in.landmarks + k * L, in.landmarks + (k + 1) * L, lm.begin() + j * L);
    if (in.alpha) given.push_back(in.alpha[k]);
  }
  Arena a(s);
  int64_t* d_row0 = a.take<int64_t>(Kc);
  int64_t* d_nw = a.take<int64_t>(Kc);
  int64_t* d_toff = a.take<int64_t>(Kc + 1);
  int64_t* d_woff = a.take<int64_t>(Kc + 1);
  int64_t* d_lm = a.take<int64_t>(Kc * L);
  to_device(d_row0, row0, s);
  to_device(d_nw, nw, s);
  to_device(d_toff, toff, s);
  to_device(d_woff, woff, s);
  to_device(d_lm, lm, s);
  const ChunkDev c{d_row0, d_nw, d_toff, d_woff, d_lm, Kc, L};
  const int64_t nT = toff[Kc], nW = woff[Kc];

  double* T = a.take<double>(nT);
  unsigned long long* maxbits = a.take<unsigned long long>(Kc);
  double* alpha = a.take<double>(Kc);
  double* d_given = nullptr;
  if (in.alpha) {
    d_given = a.take<double>(Kc);
    to_device(d_given, given, s);
  }
  PYDISENT_CUDA_CHECK(cudaMemsetAsync(maxbits, 0, Kc * sizeof(unsigned long long), s));
  table_kernel<<<grid_for(nT), kThreads, 0, s>>>(in.points, in.dim, in.squared, c, T, maxbits);
  PYDISENT_CUDA_CHECK_LAUNCH();
  alpha_kernel<<<grid_for(Kc), kThreads, 0, s>>>(maxbits, d_given, in.relative, Kc, alpha);
  PYDISENT_CUDA_CHECK_LAUNCH();

  int64_t* counts = a.take<int64_t>(nW + 1);
  int64_t* coff = a.take<int64_t>(nW + 1);
  int* overflow = a.take<int>(Kc);
  PYDISENT_CUDA_CHECK(cudaMemsetAsync(overflow, 0, Kc * sizeof(int), s));
  PYDISENT_CUDA_CHECK(cudaMemsetAsync(counts + nW, 0, sizeof(int64_t), s));
  count_kernel<<<grid_for(nW), kThreads, 0, s>>>(T, c, alpha, in.strong, counts, overflow);
  PYDISENT_CUDA_CHECK_LAUNCH();
  size_t bytes = 0;
  PYDISENT_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, bytes, counts, coff, nW + 1, s));
  char* temp = a.take<char>(static_cast<int64_t>(bytes));
  PYDISENT_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(temp, bytes, counts, coff, nW + 1, s));

  MinimaHost m;
  int64_t total = 0;
  std::vector<int> over;
  to_host(over, overflow, Kc, s);
  PYDISENT_CUDA_CHECK(cudaMemcpyAsync(&total, coff + nW, sizeof(int64_t), cudaMemcpyDeviceToHost, s));
  to_host(alphas, alpha, Kc, s);
  PYDISENT_CUDA_CHECK(cudaStreamSynchronize(s));
  m.complex = ks;
  m.overflow.assign(static_cast<size_t>(Kc), 0);
  for (int64_t j = 0; j < Kc; ++j) m.overflow[j] = over[j] != 0;
  if (total > std::min<int64_t>(kMaxCandidates, INT_MAX)) {
    // too many candidates for one sort: the CPU engine takes the whole chunk
    std::fill(m.overflow.begin(), m.overflow.end(), 1);
    m.off.assign(static_cast<size_t>(Kc + 1), 0);
    return m;
  }

  uint64_t* keys = a.take<uint64_t>(total);
  double* vals = a.take<double>(total);
  uint64_t* keys2 = a.take<uint64_t>(total);
  double* vals2 = a.take<double>(total);
  int* seg = a.take<int>(Kc + 1);
  emit_kernel<<<grid_for(nW), kThreads, 0, s>>>(T, c, alpha, in.strong, counts, coff, keys, vals);
  PYDISENT_CUDA_CHECK_LAUNCH();
  segments_kernel<<<grid_for(Kc + 1), kThreads, 0, s>>>(coff, d_woff, Kc, seg);
  PYDISENT_CUDA_CHECK_LAUNCH();
  int64_t* flags = a.take<int64_t>(total + 1);
  int64_t* pos = a.take<int64_t>(total + 1);
  double* runmin = a.take<double>(total);
  uint64_t* ukeys = a.take<uint64_t>(total);
  double* uvals = a.take<double>(total);
  int64_t* useg = a.take<int64_t>(Kc + 1);
  PYDISENT_CUDA_CHECK(cudaMemsetAsync(flags + total, 0, sizeof(int64_t), s));
  if (total > 0) {
    size_t sort_bytes = 0;
    PYDISENT_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(nullptr, sort_bytes, keys, keys2, vals, vals2,
                                                                 static_cast<int>(total), static_cast<int>(Kc), seg,
                                                                 seg + 1, 0, 62, s));
    char* sort_temp = a.take<char>(static_cast<int64_t>(sort_bytes));
    PYDISENT_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(sort_temp, sort_bytes, keys, keys2, vals, vals2,
                                                                 static_cast<int>(total), static_cast<int>(Kc), seg,
                                                                 seg + 1, 0, 62, s));
    heads_kernel<<<grid_for(total), kThreads, 0, s>>>(keys2, vals2, seg, Kc, total, flags, runmin);
    PYDISENT_CUDA_CHECK_LAUNCH();
  }
  size_t scan2 = 0;
  PYDISENT_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, scan2, flags, pos, total + 1, s));
  char* temp2 = a.take<char>(static_cast<int64_t>(scan2));
  PYDISENT_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(temp2, scan2, flags, pos, total + 1, s));
  if (total > 0) {
    compact_kernel<<<grid_for(total), kThreads, 0, s>>>(keys2, runmin, flags, pos, total, ukeys, uvals);
    PYDISENT_CUDA_CHECK_LAUNCH();
  }
  unique_segments_kernel<<<grid_for(Kc + 1), kThreads, 0, s>>>(pos, seg, Kc, useg);
  PYDISENT_CUDA_CHECK_LAUNCH();
  to_host(m.off, useg, Kc + 1, s);
  PYDISENT_CUDA_CHECK(cudaStreamSynchronize(s));
  const int64_t nu = m.off[Kc];
  to_host(m.keys, ukeys, nu, s);
  to_host(m.vals, uvals, nu, s);
  PYDISENT_CUDA_CHECK(cudaStreamSynchronize(s));
  return m;
}

// Chunks of draws (in order) whose tables fit the budget.
std::vector<std::vector<int64_t>> device_chunks(const Batch& in) {
  std::vector<std::vector<int64_t>> out;
  int64_t used = 0;
  for (int64_t k = 0; k < in.num_complexes; ++k) {
    const int64_t c = in.cloud_of[k];
    const int64_t need = in.L * (in.cloud_offsets[c + 1] - in.cloud_offsets[c]);
    if (out.empty() || (used + need > kTableBudget && !out.back().empty())) {
      out.emplace_back();
      used = 0;
    }
    out.back().push_back(k);
    used += need;
  }
  return out;
}

void run_all(const Batch& in, int maxdim, bool filtration, int device, uintptr_t stream, int threads,
             std::vector<double>& alphas, std::vector<Diagram>* diagrams, std::vector<Filtration>* filtrations) {
  DeviceGuard guard(device);
  const cudaStream_t s = as_stream(stream);
  const int64_t K = in.num_complexes;
  alphas.assign(static_cast<size_t>(K), 0.0);
  if (filtration)
    filtrations->assign(static_cast<size_t>(K), Filtration{});
  else
    diagrams->assign(static_cast<size_t>(K), Diagram{});
  std::vector<int64_t> over;
  for (const auto& ks : device_chunks(in)) {
    std::vector<double> a;
    const MinimaHost m = run_chunk(in, ks, s, a);
    for (size_t j = 0; j < ks.size(); ++j) {
      alphas[ks[j]] = a[j];
      if (m.overflow[j]) over.push_back(ks[j]);
    }
    finish_from_minima(in, m, maxdim, filtration, threads, diagrams, filtrations);
  }
  if (!over.empty()) {
    const int64_t rows = in.cloud_offsets.back();
    std::vector<double> host(static_cast<size_t>(rows * in.dim));
    if (!host.empty())
      PYDISENT_CUDA_CHECK(
          cudaMemcpyAsync(host.data(), in.points, host.size() * sizeof(double), cudaMemcpyDeviceToHost, s));
    PYDISENT_CUDA_CHECK(cudaStreamSynchronize(s));
    finish_overflow(in, over, maxdim, filtration, threads, host.data(), diagrams, filtrations, alphas);
  }
}

}  // namespace

std::vector<Diagram> witness_diagrams_cuda(const Batch& in, int maxdim, int device, uintptr_t stream, int threads,
                                           std::vector<double>& alphas) {
  std::vector<Diagram> d;
  run_all(in, maxdim, false, device, stream, threads, alphas, &d, nullptr);
  return d;
}

std::vector<Filtration> witness_filtrations_cuda(const Batch& in, int device, uintptr_t stream, int threads,
                                                 std::vector<double>& alphas) {
  std::vector<Filtration> f;
  run_all(in, 1, true, device, stream, threads, alphas, nullptr, &f);
  return f;
}

}  // namespace witness
}  // namespace pydisent
