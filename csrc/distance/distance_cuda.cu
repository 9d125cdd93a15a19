// CUDA pairwise-distance kernels.
//
// One launch covers the whole batch. Each 256-thread block computes 64 x 64 output tiles (grid-stride
// over batch items, row tiles and column tiles, so any size fits the grid limits); each thread keeps
// a 4 x 4 block of outputs in registers. The feature axis is streamed through shared memory in
// stages of 16 features: both 64-row operand tiles are stored feature-major, so in the inner loop a
// thread reads 4 x values (broadcast within the warp) and 4 y values (consecutive, conflict-free) and
// updates its 16 outputs.
//
// Accuracy matches the CPU kernel: distances come from differences (never |x|^2 + |y|^2 - 2 x.y),
// float32 partial sums cover at most 128 features and are added in float64, float64 inputs are
// accumulated in float64.
//
// Self distances (symmetric): only tiles on or above the diagonal are computed; each tile is written
// directly and, through a shared-memory transpose, to its mirror image (coalesced both ways), so the
// result is exactly symmetric with a zero diagonal.
#include <cuda_runtime.h>

#include <cstdint>

#include "common/check.h"
#include "common/cuda_check.h"
#include "common/dispatch.h"
#include "distance/distance.h"

namespace pydisent {
namespace distance {
namespace {

constexpr int kTile = 64;         // output tile edge
constexpr int kThreadsPerDim = 16;
constexpr int kThreads = kThreadsPerDim * kThreadsPerDim;
constexpr int kPer = kTile / kThreadsPerDim;  // outputs per thread along each axis (4)
constexpr int kStage = 16;        // features per shared-memory stage
constexpr int kLd = kTile + 1;    // padded leading dimension of the shared tiles

template <class T> struct Flush;  // stages between float64 flushes of the partial sums
template <> struct Flush<float> { static constexpr int kStages = 128 / kStage; };
template <> struct Flush<double> { static constexpr int kStages = 256 / kStage; };

__device__ inline float dabs(float v) { return fabsf(v); }
__device__ inline double dabs(double v) { return fabs(v); }

struct StepSq {
  static constexpr bool kMax = false;
  template <class T> __device__ static T step(T acc, T a, T b) {
    const T t = a - b;
    return acc + t * t;
  }
};
struct StepAbs {
  static constexpr bool kMax = false;
  template <class T> __device__ static T step(T acc, T a, T b) { return acc + dabs(a - b); }
};
struct StepMax {
  static constexpr bool kMax = true;
  template <class T> __device__ static T step(T acc, T a, T b) {
    const T v = dabs(a - b);
    return acc > v ? acc : v;
  }
};
struct StepDot {
  static constexpr bool kMax = false;
  template <class T> __device__ static T step(T acc, T a, T b) { return acc + a * b; }
};

template <class T>
struct Params {
  const T* x;
  const T* y;
  T* out;
  const double* xn;  // squared row norms (cosine only)
  const double* yn;
  int64_t B, n, m, d;
  int64_t xs_b, xs_i, xs_k, ys_b, ys_i, ys_k;
  int metric;
  bool symmetric, condensed;
};

// s[kk][row] = rows' feature k0 + kk, zero outside the matrix (zeros add nothing to any metric).
template <class T>
__device__ inline void load_stage(T (*s)[kLd], const T* base, int64_t s_i, int64_t s_k, int64_t rows_left,
                                  int64_t k0, int64_t d) {
  for (int e = threadIdx.x; e < kTile * kStage; e += kThreads) {
    const int row = e / kStage, kk = e % kStage;
    T v = T(0);
    if (row < rows_left && k0 + kk < d) v = base[row * s_i + (k0 + kk) * s_k];
    s[kk][row] = v;
  }
}

__device__ inline double finish(int metric, double v, int64_t d, double nx, double ny) {
  switch (static_cast<Metric>(metric)) {
    case Metric::Euclidean:
      return sqrt(v);
    case Metric::Mse:
      return v / static_cast<double>(d);
    case Metric::Cosine: {
      // 1 - x.y / (|x| |y|) in [0, 2]; a zero vector is 0 from another zero vector, 1 from the rest.
      if (nx == 0.0 || ny == 0.0) return (nx == 0.0 && ny == 0.0) ? 0.0 : 1.0;
      double c = v / (sqrt(nx) * sqrt(ny));
      c = c > 1.0 ? 1.0 : (c < -1.0 ? -1.0 : c);
      return 1.0 - c;
    }
    default:
      return v;
  }
}

template <class T, class Step>
__global__ void __launch_bounds__(kThreads) tile_kernel(const Params<T> p) {
  // The operand tiles and the transpose buffer of the mirrored store are never live together.
  constexpr int kOperandBytes = 2 * kStage * kLd * static_cast<int>(sizeof(T));
  constexpr int kTransposeBytes = kTile * kLd * static_cast<int>(sizeof(T));
  constexpr int kBytes = kOperandBytes > kTransposeBytes ? kOperandBytes : kTransposeBytes;
  __shared__ __align__(16) unsigned char smem[kBytes];
  T(*sx)[kLd] = reinterpret_cast<T(*)[kLd]>(smem);
  T(*sy)[kLd] = reinterpret_cast<T(*)[kLd]>(smem + kStage * kLd * sizeof(T));
  T(*st)[kLd] = reinterpret_cast<T(*)[kLd]>(smem);

  const int tx = threadIdx.x % kThreadsPerDim, ty = threadIdx.x / kThreadsPerDim;
  const int64_t tiles_i = (p.n + kTile - 1) / kTile, tiles_j = (p.m + kTile - 1) / kTile;
  const int64_t n = p.n, m = p.m;

  for (int64_t b = blockIdx.z; b < p.B; b += gridDim.z) {
    for (int64_t I = blockIdx.y; I < tiles_i; I += gridDim.y) {
      for (int64_t J = blockIdx.x; J < tiles_j; J += gridDim.x) {
        if (p.symmetric && J < I) continue;  // uniform across the block
        const int64_t i0 = I * kTile, j0 = J * kTile;
        const T* xb = p.x + b * p.xs_b + i0 * p.xs_i;
        const T* yb = p.y + b * p.ys_b + j0 * p.ys_i;

        double outer[kPer][kPer];
        T inner[kPer][kPer];
#pragma unroll
        for (int q = 0; q < kPer; ++q)
#pragma unroll
          for (int r = 0; r < kPer; ++r) {
            outer[q][r] = 0.0;
            inner[q][r] = T(0);
          }

        int stage = 0;
        for (int64_t k0 = 0; k0 < p.d; k0 += kStage) {
          __syncthreads();  // everyone is done with the previous contents of shared memory
          load_stage(sx, xb, p.xs_i, p.xs_k, n - i0, k0, p.d);
          load_stage(sy, yb, p.ys_i, p.ys_k, m - j0, k0, p.d);
          __syncthreads();
#pragma unroll
          for (int kk = 0; kk < kStage; ++kk) {
            T a[kPer], c[kPer];
#pragma unroll
            for (int q = 0; q < kPer; ++q) {
              a[q] = sx[kk][ty + kThreadsPerDim * q];
              c[q] = sy[kk][tx + kThreadsPerDim * q];
            }
#pragma unroll
            for (int q = 0; q < kPer; ++q)
#pragma unroll
              for (int r = 0; r < kPer; ++r) inner[q][r] = Step::template step<T>(inner[q][r], a[q], c[r]);
          }
          if (++stage == Flush<T>::kStages || k0 + kStage >= p.d) {
#pragma unroll
            for (int q = 0; q < kPer; ++q)
#pragma unroll
              for (int r = 0; r < kPer; ++r) {
                const double v = static_cast<double>(inner[q][r]);
                outer[q][r] = Step::kMax ? (outer[q][r] > v ? outer[q][r] : v) : outer[q][r] + v;
                inner[q][r] = T(0);
              }
            stage = 0;
          }
        }

        const bool mirror = p.symmetric && !p.condensed;
        if (mirror) __syncthreads();  // the operand tiles become the transpose buffer
#pragma unroll
        for (int q = 0; q < kPer; ++q) {
          const int64_t i = i0 + ty + kThreadsPerDim * q;
#pragma unroll
          for (int r = 0; r < kPer; ++r) {
            const int64_t j = j0 + tx + kThreadsPerDim * r;
            T val = T(0);
            if (i < n && j < m) {
              const double nx = p.xn ? p.xn[b * n + i] : 0.0;
              const double ny = p.yn ? p.yn[b * m + j] : 0.0;
              val = static_cast<T>(finish(p.metric, outer[q][r], p.d, nx, ny));
              if (!p.symmetric) {
                p.out[(b * n + i) * m + j] = val;
              } else if (p.condensed) {
                if (j > i) p.out[b * condensed_size(n) + n * i - i * (i + 1) / 2 + (j - i - 1)] = val;
              } else if (j > i) {
                p.out[(b * n + i) * n + j] = val;
              } else if (j == i) {
                p.out[(b * n + i) * n + i] = T(0);
              }
            }
            if (mirror) st[ty + kThreadsPerDim * q][tx + kThreadsPerDim * r] = val;
          }
        }
        if (mirror) {
          __syncthreads();
          // out[j][i] = value(i, j) for i < j: consecutive threads take consecutive i (coalesced).
          for (int e = threadIdx.x; e < kTile * kTile; e += kThreads) {
            const int rj = e / kTile, ci = e % kTile;
            const int64_t i = i0 + ci, j = j0 + rj;
            if (j < n && i < j) p.out[(b * n + j) * n + i] = st[ci][rj];
          }
        }
      }
    }
  }
}

// Squared norm of every row (one warp per row, float64 accumulation).
template <class T>
__global__ void row_norms_kernel(const T* base, int64_t B, int64_t rows, int64_t d, int64_t s_b, int64_t s_i,
                                 int64_t s_k, double* out) {
  const int lane = threadIdx.x % 32;
  const int64_t warp = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int64_t nwarps = static_cast<int64_t>(gridDim.x) * blockDim.x / 32;
  for (int64_t t = warp; t < B * rows; t += nwarps) {  // uniform within a warp
    const T* p = base + (t / rows) * s_b + (t % rows) * s_i;
    double s = 0.0;
    for (int64_t k = lane; k < d; k += 32) {
      const double v = static_cast<double>(p[k * s_k]);
      s += v * v;
    }
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) out[t] = s;
  }
}

template <class T>
void launch_norms(const T* base, int64_t B, int64_t rows, int64_t d, int64_t s_b, int64_t s_i, int64_t s_k,
                  double* out, cudaStream_t stream) {
  const int64_t warps_per_block = 256 / 32;
  const int64_t blocks = (B * rows + warps_per_block - 1) / warps_per_block;
  const unsigned int grid = static_cast<unsigned int>(blocks < 4096 ? blocks : 4096);
  row_norms_kernel<T><<<grid, 256, 0, stream>>>(base, B, rows, d, s_b, s_i, s_k, out);
  PYDISENT_CUDA_CHECK_LAUNCH();
}

template <class T>
void launch(const DistanceJob& job, double* norms, cudaStream_t stream) {
  Params<T> p;
  p.x = static_cast<const T*>(job.x);
  p.y = static_cast<const T*>(job.y);
  p.out = static_cast<T*>(job.out);
  p.xn = nullptr;
  p.yn = nullptr;
  p.B = job.B;
  p.n = job.n;
  p.m = job.m;
  p.d = job.d;
  p.xs_b = job.xs_b;
  p.xs_i = job.xs_i;
  p.xs_k = job.xs_k;
  p.ys_b = job.ys_b;
  p.ys_i = job.ys_i;
  p.ys_k = job.ys_k;
  p.metric = static_cast<int>(job.metric);
  p.symmetric = job.symmetric;
  p.condensed = job.condensed;

  if (job.metric == Metric::Cosine) {
    PYDISENT_CHECK(norms != nullptr, "argument 'norms' is required for cosine");
    launch_norms<T>(p.x, job.B, job.n, job.d, job.xs_b, job.xs_i, job.xs_k, norms, stream);
    p.xn = norms;
    if (job.symmetric) {
      p.yn = norms;
    } else {
      launch_norms<T>(p.y, job.B, job.m, job.d, job.ys_b, job.ys_i, job.ys_k, norms + job.B * job.n, stream);
      p.yn = norms + job.B * job.n;
    }
  }

  const int64_t tiles_i = (job.n + kTile - 1) / kTile, tiles_j = (job.m + kTile - 1) / kTile;
  const int64_t cap = 65535;  // grid y and z limits; the kernel strides over whatever does not fit
  dim3 grid(static_cast<unsigned int>(tiles_j < cap ? tiles_j : cap),
            static_cast<unsigned int>(tiles_i < cap ? tiles_i : cap),
            static_cast<unsigned int>(job.B < cap ? job.B : cap));
  switch (job.metric) {
    case Metric::Euclidean:
    case Metric::SqEuclidean:
    case Metric::Mse:
      tile_kernel<T, StepSq><<<grid, kThreads, 0, stream>>>(p);
      break;
    case Metric::Manhattan:
      tile_kernel<T, StepAbs><<<grid, kThreads, 0, stream>>>(p);
      break;
    case Metric::Chebyshev:
      tile_kernel<T, StepMax><<<grid, kThreads, 0, stream>>>(p);
      break;
    case Metric::Cosine:
      tile_kernel<T, StepDot><<<grid, kThreads, 0, stream>>>(p);
      break;
  }
  PYDISENT_CUDA_CHECK_LAUNCH();
}

}  // namespace

void run_cuda(const DistanceJob& job, double* norms, std::uintptr_t stream) {
  PYDISENT_CHECK(job.device >= 0, "argument 'x' must be a CUDA tensor for the CUDA kernel");
  if (job.B == 0 || job.n == 0 || job.m == 0) return;
  DeviceGuard guard(job.device);
  PYDISENT_DISPATCH_FLOATING_TYPES(job.dtype, "distance_cuda", [&] { launch<scalar_t>(job, norms, as_stream(stream)); });
}

}  // namespace distance
}  // namespace pydisent
