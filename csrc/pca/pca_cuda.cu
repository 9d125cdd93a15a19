// CUDA half of the batched PCA: one fused kernel, one warp per cloud (grid-stride over clouds).
//
// Per cloud the warp (1) computes the mean and the covariance in float64 (lanes over dimensions,
// then over the k(k+1)/2 covariance entries; the cloud's points stay in L1), (2) scales the matrix by a
// power of two into shared memory in the compute type (float for float32 input, double for float64),
// (3) runs parallel cyclic Jacobi: each sweep is np-1 rounds of np/2 disjoint rotations in round-robin
// ("tournament") order, lane j computing rotation j, then every lane applying J^T A J to its own 2x2
// blocks (no two lanes touch the same entry, so a round needs only __syncwarp()), and (4) ranks the
// diagonal to write the eigenvalues in descending order with their eigenvectors.
#include <cuda_runtime.h>

#include <cstdint>
#include <limits>

#include "common/cuda_check.h"
#include "common/dispatch.h"
#include "pca/pca.h"

namespace pydisent {
namespace {

constexpr int kWarp = 32;
constexpr unsigned kFull = 0xffffffffu;

template <typename C> struct JacobiTraits;
template <> struct JacobiTraits<float> {
  static constexpr int max_sweeps = 20;
  __device__ static float eps() { return 1.1920929e-07f; }
};
template <> struct JacobiTraits<double> {
  static constexpr int max_sweeps = 30;
  __device__ static double eps() { return 2.220446049250313e-16; }
};

__device__ inline double warp_sum(double v) {
  for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(kFull, v, o);
  return v;
}
__device__ inline double warp_max(double v) {
  for (int o = kWarp / 2; o > 0; o /= 2) v = fmax(v, __shfl_xor_sync(kFull, v, o));
  return v;
}
__device__ inline int warp_sum_int(int v) {
  for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(kFull, v, o);
  return v;
}

// Pair `i` of round `r` of the round-robin schedule over np (even) indices: every round pairs all
// indices, and the np-1 rounds of a sweep meet every pair exactly once.
__device__ inline void tournament_pair(int r, int i, int np, int& p, int& q) {
  const int mod = np - 1;
  if (i == 0) {
    p = r;
    q = np - 1;
  } else {
    p = (r + i) % mod;
    q = (r - i + mod) % mod;
  }
}

// Shared-memory layout of one warp's workspace; offsets in bytes, doubles first for alignment.
struct Layout {
  int np, ld;  // padded (even) size and row stride of the matrices
  size_t mu, a, v, cs, pairs, total;
  __host__ __device__ Layout(int k, bool vecs, size_t csize) {
    np = k + (k & 1);
    ld = np + 1;  // odd stride: column walks hit distinct banks
    size_t off = 0;
    mu = off;
    off += sizeof(double) * static_cast<size_t>(k);
    a = off;
    off += csize * static_cast<size_t>(np) * ld;
    v = off;
    if (vecs) off += csize * static_cast<size_t>(np) * ld;
    cs = off;
    off += csize * static_cast<size_t>(np);  // c[np/2], s[np/2]
    pairs = off;
    off += sizeof(int) * static_cast<size_t>(np);  // p[np/2], q[np/2]
    total = (off + 15) / 16 * 16;
  }
};

template <typename T, typename C>
__global__ void pca_jacobi_kernel(const T* __restrict__ x, const bool* __restrict__ mask, int64_t B, int64_t m,
                                  int k, bool unbiased, bool vecs, int warps_per_block, T* __restrict__ mean_out,
                                  T* __restrict__ evals_out, T* __restrict__ evecs_out,
                                  unsigned long long* __restrict__ status) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int lane = threadIdx.x % kWarp;
  const int warp = threadIdx.x / kWarp;
  const Layout L(k, vecs, sizeof(C));
  unsigned char* base = smem + static_cast<size_t>(warp) * L.total;
  double* mu = reinterpret_cast<double*>(base + L.mu);
  C* A = reinterpret_cast<C*>(base + L.a);
  C* V = reinterpret_cast<C*>(base + L.v);
  C* cs_c = reinterpret_cast<C*>(base + L.cs);
  C* cs_s = cs_c + L.np / 2;
  int* pp = reinterpret_cast<int*>(base + L.pairs);
  int* pq = pp + L.np / 2;
  const int np = L.np, ld = L.ld, h = np / 2;
  const C eps = JacobiTraits<C>::eps();

  const int64_t stride = static_cast<int64_t>(gridDim.x) * warps_per_block;
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * warps_per_block + warp; b < B; b += stride) {
    const T* xb = x + b * m * k;
    const bool* mb = mask ? mask + b * m : nullptr;

    // ---- mean (float64), lanes over dimensions ----
    int cnt = 0;
    if (mb) {
      for (int64_t r = lane; r < m; r += kWarp) cnt += mb[r] ? 1 : 0;
      cnt = warp_sum_int(cnt);
    } else {
      cnt = static_cast<int>(m);  // m < 2^31 is checked on the host
    }
    for (int i = lane; i < k; i += kWarp) {
      double s = 0.0;
      for (int64_t r = 0; r < m; ++r)
        if (!mb || mb[r]) s += static_cast<double>(xb[r * k + i]);
      mu[i] = cnt > 0 ? s / cnt : 0.0;
      mean_out[b * k + i] = static_cast<T>(mu[i]);
    }
    __syncwarp();

    // ---- covariance (float64), lanes over lower-triangle entries ----
    const int denom = unbiased ? cnt - 1 : cnt;
    const int ntri = k * (k + 1) / 2;
    // The matrix goes to shared memory pre-scaled by a power of two so that float C can hold it
    // whatever the data's scale: max |C_ij| <= max_i C_ii (Cauchy-Schwarz), so the diagonal, computed
    // first, fixes the scale.
    double amax = 0.0;
    for (int i = lane; i < k; i += kWarp) {
      double s = 0.0;
      if (denom > 0) {
        for (int64_t r = 0; r < m; ++r) {
          if (mb && !mb[r]) continue;
          const double di = static_cast<double>(xb[r * k + i]) - mu[i];
          s += di * di;
        }
        s /= denom;
      }
      amax = fmax(amax, s);
    }
    amax = warp_max(amax);
    if (!isfinite(amax) && lane == 0) atomicMin(&status[1], static_cast<unsigned long long>(b));
    int exponent = 0;
    if (amax > 0.0) frexp(amax, &exponent);
    const double to_scaled = ldexp(1.0, -exponent);  // exact power of two
    for (int t = lane; t < ntri; t += kWarp) {
      // t -> (i, j), j <= i: row i starts at i(i+1)/2
      int i = static_cast<int>((sqrt(8.0 * t + 1.0) - 1.0) * 0.5);
      while ((i + 1) * (i + 2) / 2 <= t) ++i;
      while (i * (i + 1) / 2 > t) --i;
      const int j = t - i * (i + 1) / 2;
      double s = 0.0;
      if (denom > 0) {
        for (int64_t r = 0; r < m; ++r) {
          if (mb && !mb[r]) continue;
          const T* row = xb + r * k;
          s += (static_cast<double>(row[i]) - mu[i]) * (static_cast<double>(row[j]) - mu[j]);
        }
        s /= denom;
      }
      const C v = static_cast<C>(s * to_scaled);
      A[i * ld + j] = v;
      A[j * ld + i] = v;
    }
    if (k < np) {  // the padding index never rotates: its row and column stay zero
      for (int t = lane; t < np; t += kWarp) {
        A[k * ld + t] = C(0);
        A[t * ld + k] = C(0);
      }
    }
    if (vecs) {
      for (int t = lane; t < np * np; t += kWarp) {
        const int i = t / np, j = t % np;
        V[i * ld + j] = i == j ? C(1) : C(0);
      }
    }
    __syncwarp();

    // ---- parallel cyclic Jacobi ----
    bool converged = false;
    for (int sweep = 0; sweep <= JacobiTraits<C>::max_sweeps; ++sweep) {
      double off = 0.0, tot = 0.0;
      for (int t = lane; t < np * np; t += kWarp) {
        const int i = t / np, j = t % np;
        const double v = static_cast<double>(A[i * ld + j]);
        tot += v * v;
        if (i != j) off += v * v;
      }
      off = warp_sum(off);
      tot = warp_sum(tot);
      // Converged when the off-diagonal mass is at the rounding level that rotations in precision C
      // leave behind (about np * eps * ||A||); what remains moves eigenvalues by less than that. All
      // lanes see the same reduced values, so the branch is uniform across the warp.
      const double tol = static_cast<double>(eps) * np;
      if (off <= tol * tol * tot) {
        converged = true;
        break;
      }
      if (sweep == JacobiTraits<C>::max_sweeps) break;  // tested once more after the last sweep
      for (int round = 0; round < np - 1; ++round) {
        if (lane < h) {
          int p, q;
          tournament_pair(round, lane, np, p, q);
          const C apq = A[p * ld + q];
          C c = C(1), s = C(0);
          if (apq != C(0)) {
            const C app = A[p * ld + p], aqq = A[q * ld + q];
            const C theta = (aqq - app) / (C(2) * apq);
            const C t = (theta >= C(0) ? C(1) : C(-1)) / (fabs(theta) + sqrt(theta * theta + C(1)));
            c = C(1) / sqrt(t * t + C(1));
            s = t * c;
          }
          pp[lane] = p;
          pq[lane] = q;
          cs_c[lane] = c;
          cs_s[lane] = s;
        }
        __syncwarp();
        // A <- J^T A J, one 2x2 block (rows of pair I, columns of pair J) per item.
        for (int t = lane; t < h * h; t += kWarp) {
          const int I = t / h, J = t % h;
          const int pi = pp[I], qi = pq[I], pj = pp[J], qj = pq[J];
          const C ci = cs_c[I], si = cs_s[I], cj = cs_c[J], sj = cs_s[J];
          const C b00 = A[pi * ld + pj], b01 = A[pi * ld + qj];
          const C b10 = A[qi * ld + pj], b11 = A[qi * ld + qj];
          const C m00 = b00 * cj - b01 * sj, m01 = b00 * sj + b01 * cj;
          const C m10 = b10 * cj - b11 * sj, m11 = b10 * sj + b11 * cj;
          A[pi * ld + pj] = ci * m00 - si * m10;
          A[qi * ld + qj] = si * m01 + ci * m11;
          if (I == J) {  // the rotation annihilates this pair's off-diagonal entry exactly
            A[pi * ld + qj] = C(0);
            A[qi * ld + pj] = C(0);
          } else {
            A[pi * ld + qj] = ci * m01 - si * m11;
            A[qi * ld + pj] = si * m00 + ci * m10;
          }
        }
        if (vecs) {  // V <- V J
          for (int t = lane; t < np * h; t += kWarp) {
            const int r = t / h, J = t % h;
            const int pj = pp[J], qj = pq[J];
            const C cj = cs_c[J], sj = cs_s[J];
            const C vp = V[r * ld + pj], vq = V[r * ld + qj];
            V[r * ld + pj] = cj * vp - sj * vq;
            V[r * ld + qj] = sj * vp + cj * vq;
          }
        }
        __syncwarp();
      }
    }

    // As the CPU kernel raises for an unconverged cloud, record the first one (the host raises after the
    // launch; the results of that cloud are written all the same).
    if (!converged && lane == 0) atomicMin(&status[0], static_cast<unsigned long long>(b));

    // ---- descending order by ranking; eigenvalues scaled back in float64 ----
    const double from_scaled = ldexp(1.0, exponent);
    for (int i = lane; i < k; i += kWarp) {
      const C di = A[i * ld + i];
      int rank = 0;
      for (int j = 0; j < k; ++j) {
        const C dj = A[j * ld + j];
        rank += (dj > di || (dj == di && j < i)) ? 1 : 0;
      }
      evals_out[b * k + rank] = static_cast<T>(static_cast<double>(di) * from_scaled);
      if (vecs) {
        int arg = 0;
        C best = C(-1);
        for (int r = 0; r < k; ++r) {  // judged on the values as written (rounded to T), as on the CPU
          const C v = fabs(static_cast<C>(static_cast<T>(V[r * ld + i])));
          if (v > best) {
            best = v;
            arg = r;
          }
        }
        const C sign = V[arg * ld + i] < C(0) ? C(-1) : C(1);
        T* out = evecs_out + b * k * k;
        for (int r = 0; r < k; ++r) out[r * k + rank] = static_cast<T>(sign * V[r * ld + i]);
      }
    }
    __syncwarp();  // the next cloud overwrites this warp's shared memory
  }
}

template <typename T>
void launch(const PcaArgs& a, unsigned long long* status, cudaStream_t stream) {
  const int64_t B = a.x.size(0), m = a.x.size(1);
  const int k = static_cast<int>(a.x.size(2));
  const Layout L(k, a.has_evecs, sizeof(T));
  int device = 0;
  PYDISENT_CUDA_CHECK(cudaGetDevice(&device));
  int optin = 0;
  PYDISENT_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  PYDISENT_CHECK(L.total <= static_cast<size_t>(optin), "batched_pca: k=", k, " needs ", L.total,
                 " bytes of shared memory per cloud, the device allows ", optin, " (use backend='torch')");
  constexpr size_t kDefaultSmem = 48 * 1024;
  int wpb = static_cast<int>(std::max<size_t>(1, std::min<size_t>(8, kDefaultSmem / L.total)));
  const size_t smem = L.total * static_cast<size_t>(wpb);
  auto kernel = pca_jacobi_kernel<T, T>;
  if (smem > kDefaultSmem)
    PYDISENT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  const int64_t blocks64 = (B + wpb - 1) / wpb;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(blocks64, int64_t{1} << 20));
  const T* x = a.x.data<T>();
  const bool* mask = a.has_mask ? reinterpret_cast<const bool*>(a.mask.ptr) : nullptr;
  T* evecs = a.has_evecs ? a.evecs.data<T>() : nullptr;
  kernel<<<blocks, wpb * kWarp, smem, stream>>>(x, mask, B, m, k, a.unbiased, a.has_evecs, wpb, a.mean.data<T>(),
                                                 a.evals.data<T>(), evecs, status);
  PYDISENT_CUDA_CHECK_LAUNCH();
}

}  // namespace

void pca_cuda(const PcaArgs& a, const TensorRef& status, std::uintptr_t stream) {
  pca_validate(a, /*cuda=*/true);
  check_rank(status, "status", 1);
  check_dtype(status, "status", DType::Int64);
  check_contiguous(status, "status");
  check_same_device(a.x, "x", status, "status");
  PYDISENT_CHECK(status.size(0) == 2, "argument 'status' must have 2 entries, got ", status.size(0));
  auto* st = reinterpret_cast<unsigned long long*>(status.ptr);
  PYDISENT_CHECK(a.x.size(1) < (int64_t{1} << 31), "argument 'x' has too many points per cloud for the CUDA kernel");
  if (a.x.size(0) == 0) return;
  DeviceGuard guard(a.x.device);
  PYDISENT_DISPATCH_FLOATING_TYPES(a.x.dtype, "pca_cuda", [&] { launch<scalar_t>(a, st, as_stream(stream)); });
}

}  // namespace pydisent
