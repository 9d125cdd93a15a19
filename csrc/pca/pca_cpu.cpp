// CPU half of the batched PCA: OpenMP over clouds, float64 inside. Two eigensolvers:
// * k <= 16: cyclic Jacobi (round-robin pairs) on eight clouds at once, their matrices interleaved so
//   that each rotation is one SIMD operation across the clouds (pca_cpu_jacobi);
// * k > 16: per cloud, Householder tridiagonalisation and implicit symmetric QR with Wilkinson shifts
//   (Golub & Van Loan, 4th ed., sections 8.3.1-8.3.3), several clouds interleaved per thread.
// QR needs far fewer flops (about 3k against 30k per cloud at k = 10), but its rotations are chains of
// dependent scalar operations; for small k the SIMD-wide Jacobi is faster (measured 1.3-1.5x). Both are
// accurate in the norm sense: every eigenvalue is within a few eps * ||C||.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "common/check.h"
#include "common/cpu.h"
#include "common/dispatch.h"
#include "pca/pca.h"

namespace pydisent {
namespace {

constexpr int kMax = static_cast<int>(kPcaMaxDim);

// Reduces the symmetric n x n matrix `a` (row-major, both triangles filled; overwritten) to a
// tridiagonal T = Q^T A Q with diagonal d[0..n-1] and sub-diagonal e[0..n-2] (e[n-1] = 0). When `q`
// is given it receives Q (row-major n x n). Householder vector j is kept in row j right of the
// diagonal (the mirror of the column it annihilates, no longer needed), its scaling in beta[j].
PYDISENT_VARIANT_BODY void tridiagonalize_body(double* a, int n, double* d, double* e, double* q, double* beta) {
  alignas(64) double p[kMax], w[kMax];
  for (int j = 0; j + 2 < n; ++j) {
    const int lo = j + 1;  // the reflector acts on indices lo..n-1
    double* v = a + j * n;  // row j: v[lo..n-1] (row j equals column j by symmetry)
    double tail = 0.0;      // squared norm of x[1:], x = v[lo..]
    for (int i = lo + 1; i < n; ++i) tail += v[i] * v[i];
    const double x0 = v[lo];
    if (tail == 0.0) {  // column already tridiagonal: no reflection
      beta[j] = 0.0;
      e[j] = x0;
      continue;
    }
    const double norm = std::sqrt(x0 * x0 + tail);
    const double alpha = -std::copysign(norm, x0);  // H x = alpha e_1; v_0 = x0 - alpha has no cancellation
    v[lo] = x0 - alpha;
    const double b = 2.0 / (v[lo] * v[lo] + tail);
    beta[j] = b;
    e[j] = alpha;
    // Two-sided update of the trailing block S: S <- S - v w^T - w v^T, w = p - (b/2)(p.v) v, p = b S v.
    double pv = 0.0;
    for (int r = lo; r < n; ++r) {
      const double* ar = a + r * n;
      double s = 0.0;
#pragma omp simd reduction(+ : s)
      for (int c = lo; c < n; ++c) s += ar[c] * v[c];
      p[r] = b * s;
      pv += p[r] * v[r];
    }
    const double kk = 0.5 * b * pv;
    for (int r = lo; r < n; ++r) w[r] = p[r] - kk * v[r];
    for (int r = lo; r < n; ++r) {
      double* ar = a + r * n;
      const double vr = v[r], wr = w[r];
#pragma omp simd
      for (int c = lo; c < n; ++c) ar[c] -= vr * w[c] + wr * v[c];
    }
  }
  for (int i = 0; i < n; ++i) d[i] = a[i * n + i];
  if (n >= 2) e[n - 2] = a[(n - 1) * n + (n - 2)];
  e[n - 1] = 0.0;
  if (!q) return;
  // Q = H_0 H_1 ... H_{n-3}, accumulated backwards so each H_j touches only the block j+1.. of Q.
  for (int i = 0; i < n * n; ++i) q[i] = 0.0;
  for (int i = 0; i < n; ++i) q[i * n + i] = 1.0;
  for (int j = n - 3; j >= 0; --j) {
    if (beta[j] == 0.0) continue;
    const int lo = j + 1;
    const double* v = a + j * n;
    // Q_block <- Q_block - beta v (v^T Q_block), row by row so the inner loops are contiguous.
    for (int c = lo; c < n; ++c) w[c] = 0.0;
    for (int r = lo; r < n; ++r) {
      const double* qr = q + r * n;
      const double vr = v[r];
#pragma omp simd
      for (int c = lo; c < n; ++c) w[c] += vr * qr[c];
    }
    for (int r = lo; r < n; ++r) {
      double* qr = q + r * n;
      const double f = beta[j] * v[r];
#pragma omp simd
      for (int c = lo; c < n; ++c) qr[c] -= f * w[c];
    }
  }
}
PYDISENT_CPU_VARIANTS(void, tridiagonalize, (double* a, int n, double* d, double* e, double* q, double* beta), (a, n, d, e, q, beta))

// Implicit symmetric QR with Wilkinson shifts on a tridiagonal (d, e), one Givens rotation at a time
// (Golub & Van Loan, algorithm 8.3.2, bulge chasing). Each rotation is a chain of dependent sqrt,
// division and multiply latencies, so one cloud alone leaves the core mostly idle: the solver keeps
// the state of several clouds ("lanes") and advances them in turn, one rotation each, so that the
// independent chains overlap in the out-of-order core (about 3x the throughput of one lane).
struct QrLane {
  double* d = nullptr;  // diagonal, n
  double* e = nullptr;  // sub-diagonal, n (e[n-1] = 0)
  double* z = nullptr;  // n x n, the eigenvector estimates as rows; may be null
  int n = 0;
  int lo = 0, hi = 0, k = -1;  // current unreduced block and next rotation (k < 0: start a new step)
  int steps = 0;
  double x = 0.0, bulge = 0.0, floor_abs = 0.0;
  bool done = true, failed = false;

  void start(double* d_, double* e_, double* z_, int n_) {
    d = d_;
    e = e_;
    z = z_;
    n = n_;
    double anorm = 0.0;
    for (int i = 0; i < n; ++i) anorm = std::max(anorm, std::fabs(d[i]) + std::fabs(e[i]));
    // Absolute floor: dropping an off-diagonal below eps*1e-3*||T|| moves eigenvalues by less than
    // that, and it ends the iteration on blocks whose diagonal is exactly zero (rank-deficient clouds).
    floor_abs = std::numeric_limits<double>::epsilon() * 1e-3 * anorm;
    hi = n - 1;
    k = -1;
    steps = 0;
    done = false;
    failed = false;
  }

  bool negligible(int i) const {
    const double ae = std::fabs(e[i]);
    return ae <= std::numeric_limits<double>::epsilon() * (std::fabs(d[i]) + std::fabs(d[i + 1])) ||
           ae <= floor_abs;
  }

  // Deflates negligible off-diagonals and sets up the next QR step; false when all have converged
  // (or after 30 n steps, which only non-finite input reaches: `failed`).
  bool begin_step() {
    // Converged eigenvalues at the bottom are dropped, then the unreduced block ending at hi is found;
    // off-diagonals below it are looked at once the iteration gets there.
    while (hi > 0 && negligible(hi - 1)) e[--hi] = 0.0;
    if (hi == 0 || ++steps > 30 * n) {
      failed = hi != 0;
      done = true;
      return false;
    }
    lo = hi - 1;
    while (lo > 0 && !negligible(lo - 1)) --lo;
    if (lo > 0) e[lo - 1] = 0.0;
    const double dd = 0.5 * (d[hi - 1] - d[hi]);
    const double eh = e[hi - 1];
    // The matrix is scaled to max |entry| < 1 (see prepare()), so plain sqrt(x^2 + y^2) cannot
    // overflow; std::hypot's care would cost more than the rotation. The denominator is never 0 on
    // an unreduced block (eh != 0).
    const double mu = d[hi] - eh * eh / (dd + std::copysign(std::sqrt(dd * dd + eh * eh), dd));
    x = d[lo] - mu;
    bulge = e[lo];
    k = lo;
    return true;
  }

  // Rotation in the plane (k, k+1) that zeroes the bulge (the shifted first column when k == lo).
  void rotate() {
    const double r = std::sqrt(x * x + bulge * bulge);
    double c = 1.0, s = 0.0;
    if (r != 0.0) {
      const double inv = 1.0 / r;
      c = x * inv;
      s = bulge * inv;
    }
    if (k > lo) e[k - 1] = r;
    const double a = d[k], b = e[k], dn = d[k + 1];
    const double cc = c * c, ss = s * s, cs = c * s;
    d[k] = cc * a + 2.0 * cs * b + ss * dn;
    d[k + 1] = ss * a - 2.0 * cs * b + cc * dn;
    e[k] = cs * (dn - a) + (cc - ss) * b;
    if (k + 1 < hi) {
      bulge = s * e[k + 1];
      e[k + 1] *= c;
      x = e[k];
    }
    if (z) {  // z holds the vectors as rows: the two it mixes are contiguous
      double* zk = z + k * n;
      double* zk1 = zk + n;
#pragma omp simd
      for (int r = 0; r < n; ++r) {
        const double u = zk[r], v = zk1[r];
        zk[r] = c * u + s * v;
        zk1[r] = c * v - s * u;
      }
    }
    if (++k == hi) k = -1;
  }
};

// Rows of a cloud are centred into a transposed float64 buffer a chunk at a time, so each
// covariance entry is a contiguous dot product (vectorised through `omp simd`, register accumulators)
// instead of a scattered update of the whole k x k matrix per point.
constexpr int kChunk = 64;

// Lower triangle of the Gram matrix of the rows of xt (n rows of length cnt, stride kChunk), added to a.
PYDISENT_VARIANT_BODY void gram_lower_add_body(const double* xt, int n, int cnt, double* a) {
  for (int i = 0; i < n; ++i) {
    const double* xi = xt + i * kChunk;
    for (int j = 0; j <= i; ++j) {
      const double* xj = xt + j * kChunk;
      double s = 0.0;
#pragma omp simd reduction(+ : s)
      for (int r = 0; r < cnt; ++r) s += xi[r] * xj[r];
      a[i * n + j] += s;
    }
  }
}
PYDISENT_CPU_VARIANTS(void, gram_lower_add, (const double* xt, int n, int cnt, double* a), (xt, n, cnt, a))

template <typename T>
void covariance(const T* x, const bool* mask, int64_t m, int n, const double* mu, double* a) {
  alignas(64) double xt[kMax * kChunk];
  for (int64_t r0 = 0; r0 < m; r0 += kChunk) {
    const int64_t r1 = std::min<int64_t>(m, r0 + kChunk);
    int cnt = 0;
    for (int64_t r = r0; r < r1; ++r) {
      if (mask && !mask[r]) continue;
      const T* row = x + r * n;
      for (int i = 0; i < n; ++i) xt[i * kChunk + cnt] = static_cast<double>(row[i]) - mu[i];
      ++cnt;
    }
    if (cnt > 0) gram_lower_add(xt, n, cnt, a);
  }
}

enum Status : int { kOk = 0, kNotFinite = 1, kNoConvergence = 2 };

// Per-cloud scratch of one lane (float64, sized for k = n).
struct CloudWork {
  std::vector<double> a, z;
  double mu[kMax], d[kMax], e[kMax], beta[kMax];
  int exponent = 0;
  explicit CloudWork(int n) : a(static_cast<size_t>(n) * n), z(static_cast<size_t>(n) * n) {}
};

// Mean, covariance (both triangles) and power-of-two scaling of one cloud; writes the mean.
template <typename T>
int prepare_covariance(const T* x, const bool* mask, int64_t m, int n, bool unbiased, CloudWork& w, T* mean_out) {
  double* a = w.a.data();
  double* mu = w.mu;
  for (int i = 0; i < n; ++i) mu[i] = 0.0;
  int64_t count = 0;
  for (int64_t r = 0; r < m; ++r) {
    if (mask && !mask[r]) continue;
    ++count;
    const T* row = x + r * n;
    for (int i = 0; i < n; ++i) mu[i] += static_cast<double>(row[i]);
  }
  if (count > 0)
    for (int i = 0; i < n; ++i) mu[i] /= static_cast<double>(count);
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(mu[i])) return kNotFinite;  // catches NaN/inf in any selected point
    mean_out[i] = static_cast<T>(mu[i]);
  }
  for (int i = 0; i < n * n; ++i) a[i] = 0.0;
  const int64_t denom = unbiased ? count - 1 : count;
  if (denom > 0) {
    covariance(x, mask, m, n, mu, a);
    const double scale = 1.0 / static_cast<double>(denom);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j <= i; ++j) {
        a[i * n + j] *= scale;
        a[j * n + i] = a[i * n + j];
      }
  }
  double amax = 0.0;
  for (int i = 0; i < n * n; ++i) {
    if (!std::isfinite(a[i])) return kNotFinite;  // overflow of huge float64 values
    amax = std::max(amax, std::fabs(a[i]));
  }
  // Exact power-of-two scaling to max |entry| in [0.5, 1): keeps squares in the solver far from
  // overflow and underflow whatever the data's scale; eigenvalues are scaled back in finish().
  w.exponent = 0;
  if (amax > 0.0) {
    std::frexp(amax, &w.exponent);
    const double f = std::ldexp(1.0, -w.exponent);  // a power of two: the products are exact
    for (int i = 0; i < n * n; ++i) a[i] *= f;
  }
  return kOk;
}

template <typename T>
int prepare(const T* x, const bool* mask, int64_t m, int n, bool unbiased, bool want_vectors, CloudWork& w,
            T* mean_out) {
  const int st = prepare_covariance(x, mask, m, n, unbiased, w, mean_out);
  if (st != kOk) return st;
  double* a = w.a.data();
  tridiagonalize(a, n, w.d, w.e, want_vectors ? w.z.data() : nullptr, w.beta);
  if (want_vectors) {  // the QR rotations mix columns of Q: keep them as rows (Q^T) for contiguous access
    double* z = w.z.data();
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) std::swap(z[i * n + j], z[j * n + i]);
  }
  return kOk;
}

// Sorts the converged eigenpairs (descending) and writes them out.
template <typename T>
void finish(const CloudWork& w, int n, T* evals_out, T* evecs_out) {
  // Descending insertion sort of the indices (n <= 64; stable, so equal eigenvalues keep their order,
  // and no allocation, unlike std::stable_sort).
  int order[kMax];
  for (int i = 0; i < n; ++i) {
    int j = i;
    while (j > 0 && w.d[order[j - 1]] < w.d[i]) {
      order[j] = order[j - 1];
      --j;
    }
    order[j] = i;
  }
  const double f = std::ldexp(1.0, w.exponent);
  for (int j = 0; j < n; ++j) evals_out[j] = static_cast<T>(w.d[order[j]] * f);
  if (!evecs_out) return;
  for (int j = 0; j < n; ++j) {
    const double* v = w.z.data() + order[j] * n;  // eigenvector of eigenvalue j (a row of z)
    // Sign convention: the largest-magnitude component is positive (the first one on ties). Judged on
    // the values as written (rounded to T): two components of nearly equal magnitude can swap order, or
    // tie, in float32, and the convention must hold for the output the caller sees.
    int arg = 0;
    double best = -1.0;
    for (int i = 0; i < n; ++i) {
      const double mag = std::fabs(static_cast<double>(static_cast<T>(v[i])));
      if (mag > best) {
        best = mag;
        arg = i;
      }
    }
    const double sign = v[arg] < 0.0 ? -1.0 : 1.0;
    for (int i = 0; i < n; ++i) evecs_out[i * n + j] = static_cast<T>(sign * v[i]);
  }
}

// Small clouds (k <= kJacobiMaxDim): cyclic Jacobi on kJacobiWidth clouds at once, their matrices
// interleaved entry by entry (A[(i * n + j) * W + lane]) so that every rotation is one SIMD operation
// across the clouds. The QR path below is cheaper per cloud in flops, but each rotation is a chain of
// dependent scalar operations; here the same arithmetic runs 4-8 clouds wide with no dependency
// between lanes. Jacobi is also at least as accurate: each eigenvalue within a few eps * ||C||.
constexpr int kJacobiMaxDim = 16;
constexpr int kJacobiWidth = 8;
constexpr int kJacobiMaxSweeps = 60;

// Rotates every pair (p, q) once per sweep until, in every lane, the off-diagonal mass is below
// (eps/64)^2 of the matrix's squared Frobenius norm (then every eigenvalue has converged to working
// precision). Pairs are taken in round-robin order (Brent & Luk): each round holds up to n/2 disjoint
// pairs, whose angles are independent (their sqrt/divide chains overlap) and whose rotations commute. Returns false if some
// lane has not converged after kJacobiMaxSweeps sweeps.
PYDISENT_VARIANT_BODY bool jacobi_group_body(double* A, double* V, int n) {
  constexpr int W = kJacobiWidth;
  constexpr int kMaxPairs = kJacobiMaxDim / 2;
  const double tol = std::numeric_limits<double>::epsilon();
  alignas(64) double c[kMaxPairs][W], s[kMaxPairs][W], tk[kMaxPairs][W], frob[W], off[W];
  int ring[kJacobiMaxDim + 1], P[kMaxPairs], Q[kMaxPairs];
  const int m = n + (n & 1);  // odd n: one player (index n) sits out each round
  for (int sweep = 0; sweep <= kJacobiMaxSweeps; ++sweep) {
#pragma omp simd
    for (int l = 0; l < W; ++l) frob[l] = off[l] = 0.0;
    for (int p = 0; p < n; ++p)
      for (int q = 0; q <= p; ++q) {  // the lower triangle holds the matrix (see below)
        const double* a = A + (p * n + q) * W;
#pragma omp simd
        for (int l = 0; l < W; ++l) {
          const double a2 = p != q ? 2.0 * a[l] * a[l] : a[l] * a[l];
          frob[l] += a2;
          off[l] += p != q ? a2 : 0.0;
        }
      }
    bool done = true;
    for (int l = 0; l < W; ++l) done = done && off[l] <= tol * tol * frob[l];
    if (done) return true;
    if (sweep == kJacobiMaxSweeps) return false;
    for (int i = 0; i < m; ++i) ring[i] = i;
    for (int round = 0; round + 1 < m; ++round) {
      int pairs = 0;
      for (int i = 0; i < m / 2; ++i) {
        const int a = ring[i], b = ring[m - 1 - i];
        if (a >= n || b >= n) continue;
        const int p = std::min(a, b), q = std::max(a, b);
        // A pair already negligible in every lane (|apq| <= tol * sqrt(|app aqq|), or 0) is skipped:
        // the later sweeps are mostly such pairs. The stopping test above is unchanged.
        const double* app = A + (p * n + p) * W;
        const double* aqq = A + (q * n + q) * W;
        const double* apq = A + (q * n + p) * W;
        bool needed = false;
        for (int l = 0; l < W; ++l)
          needed = needed || (apq[l] != 0.0 && apq[l] * apq[l] > tol * tol * std::fabs(app[l] * aqq[l]));
        if (!needed) continue;
        P[pairs] = p;
        Q[pairs] = q;
        ++pairs;
      }
      for (int k = 0; k < pairs; ++k) {
        const double* app = A + (P[k] * n + P[k]) * W;
        const double* aqq = A + (Q[k] * n + Q[k]) * W;
        const double* apq = A + (Q[k] * n + P[k]) * W;
#pragma omp simd
        for (int l = 0; l < W; ++l) {
          // tan of the rotation angle that zeroes apq (the smaller root: |angle| <= pi/4); a zero apq
          // gives the identity, a tiny one (theta^2 overflowing) a tangent of 0.
          const double x = apq[l];
          const double theta = (aqq[l] - app[l]) / (2.0 * (x != 0.0 ? x : 1.0));
          const double t = x != 0.0 ? std::copysign(1.0, theta) / (std::fabs(theta) + std::sqrt(theta * theta + 1.0))
                                    : 0.0;
          tk[k][l] = t;
          c[k][l] = 1.0 / std::sqrt(t * t + 1.0);
          s[k][l] = t * c[k][l];
        }
      }
      // A <- J^T A J, one pair at a time: the rotations of a round act on disjoint index pairs, so they
      // commute and each pair's 2x2 block is untouched by the others (its angle, computed above, is
      // exact). The classical symmetric update (diagonal through t, apq to 0, rows/columns p and q),
      // on the lower triangle only: entry (i, j) lives at [max(i, j)][min(i, j)].
      for (int k = 0; k < pairs; ++k) {
        const int p = P[k], q = Q[k];
        double* app = A + (p * n + p) * W;
        double* aqq = A + (q * n + q) * W;
        double* apq = A + (q * n + p) * W;
#pragma omp simd
        for (int l = 0; l < W; ++l) {
          const double x = apq[l];
          app[l] -= tk[k][l] * x;
          aqq[l] += tk[k][l] * x;
          apq[l] = 0.0;
        }
        for (int r = 0; r < n; ++r) {
          if (r == p || r == q) continue;
          double* arp = A + (r > p ? r * n + p : p * n + r) * W;
          double* arq = A + (r > q ? r * n + q : q * n + r) * W;
#pragma omp simd
          for (int l = 0; l < W; ++l) {
            const double u = arp[l], v = arq[l];
            arp[l] = c[k][l] * u - s[k][l] * v;
            arq[l] = s[k][l] * u + c[k][l] * v;
          }
        }
      }
      if (V)
        for (int k = 0; k < pairs; ++k)
          for (int r = 0; r < n; ++r) {
            double* vrp = V + (r * n + P[k]) * W;
            double* vrq = V + (r * n + Q[k]) * W;
#pragma omp simd
            for (int l = 0; l < W; ++l) {
              const double u = vrp[l], v = vrq[l];
              vrp[l] = c[k][l] * u - s[k][l] * v;
              vrq[l] = s[k][l] * u + c[k][l] * v;
            }
          }
      // next round: player ring[0] stays, the others rotate one seat
      const int last = ring[m - 1];
      for (int i = m - 1; i > 1; --i) ring[i] = ring[i - 1];
      ring[1] = last;
    }
  }
  return false;
}
PYDISENT_CPU_VARIANTS(bool, jacobi_group, (double* A, double* V, int n), (A, V, n))

// Lower triangle of sum_r X[r] X[r]^T for every lane: X is (rows, n, W) interleaved; one register of W
// accumulators per entry, streamed over the rows.
PYDISENT_VARIANT_BODY void gram_lanes_add_body(const double* X, int rows, int n, double* A) {
  constexpr int W = kJacobiWidth;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) {
      alignas(64) double acc[W] = {};
      for (int r = 0; r < rows; ++r) {
        const double* xi = X + (r * n + i) * W;
        const double* xj = X + (r * n + j) * W;
#pragma omp simd
        for (int l = 0; l < W; ++l) acc[l] += xi[l] * xj[l];
      }
      double* a = A + (i * n + j) * W;
#pragma omp simd
      for (int l = 0; l < W; ++l) a[l] += acc[l];
    }
}
PYDISENT_CPU_VARIANTS(void, gram_lanes_add, (const double* X, int rows, int n, double* A), (X, rows, n, A))

// Means (written out), covariances and power-of-two scalings of the clouds b0 .. b0 + lanes - 1, the
// covariances interleaved lane by lane into A (n, n, W), as prepare_covariance computes them one by one.
// status[l]: kOk, kNotFinite, or -1 for a lane past the batch; every lane not kOk holds the zero matrix.
template <typename T>
void group_covariance(const T* x, const bool* mask, int64_t m, int n, bool unbiased, int64_t b0, int lanes, T* mean,
                      double* A, double* X, int* exponent, int* status) {
  constexpr int W = kJacobiWidth;
  constexpr int kRows = 32;  // rows of X per pass (X holds kRows * n * W doubles)
  double mu[W][kJacobiMaxDim];
  int64_t count[W];
  for (int l = 0; l < W; ++l) {
    status[l] = l < lanes ? kOk : -1;
    exponent[l] = 0;
    count[l] = 0;
    for (int i = 0; i < n; ++i) mu[l][i] = 0.0;
    if (l >= lanes) continue;
    const int64_t b = b0 + l;
    const T* xb = x + b * m * n;
    const bool* mb = mask ? mask + b * m : nullptr;
    for (int64_t r = 0; r < m; ++r) {
      if (mb && !mb[r]) continue;
      ++count[l];
      for (int i = 0; i < n; ++i) mu[l][i] += static_cast<double>(xb[r * n + i]);
    }
    if (count[l] > 0)
      for (int i = 0; i < n; ++i) mu[l][i] /= static_cast<double>(count[l]);
    for (int i = 0; i < n; ++i) {
      if (!std::isfinite(mu[l][i])) status[l] = kNotFinite;  // NaN/inf in a selected point
      mean[b * n + i] = static_cast<T>(mu[l][i]);
    }
  }
  std::fill(A, A + static_cast<size_t>(n) * n * W, 0.0);
  for (int64_t r0 = 0; r0 < m; r0 += kRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kRows, m - r0));
    for (int rr = 0; rr < rows; ++rr)
      for (int l = 0; l < W; ++l) {
        double* xr = X + static_cast<size_t>(rr) * n * W + l;
        const int64_t b = b0 + l, r = r0 + rr;
        const bool use = status[l] == kOk && !(mask && !mask[b * m + r]);
        if (use) {
          const T* row = x + (b * m + r) * n;
          for (int i = 0; i < n; ++i) xr[i * W] = static_cast<double>(row[i]) - mu[l][i];
        } else {
          for (int i = 0; i < n; ++i) xr[i * W] = 0.0;
        }
      }
    gram_lanes_add(X, rows, n, A);
  }
  for (int l = 0; l < W; ++l) {
    const int64_t denom = unbiased ? count[l] - 1 : count[l];
    const double scale = status[l] == kOk && denom > 0 ? 1.0 / static_cast<double>(denom) : 0.0;
    double amax = 0.0;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j <= i; ++j) {
        double& lower = A[static_cast<size_t>(i * n + j) * W + l];
        lower *= scale;
        A[static_cast<size_t>(j * n + i) * W + l] = lower;
        if (!std::isfinite(lower) && status[l] == kOk) status[l] = kNotFinite;  // overflow of huge values
        amax = std::max(amax, std::fabs(lower));
      }
    if (status[l] != kOk) {
      for (int i = 0; i < n * n; ++i) A[static_cast<size_t>(i) * W + l] = 0.0;
      continue;
    }
    // exact power-of-two scaling to max |entry| in [0.5, 1), undone in finish()
    if (amax > 0.0) {
      std::frexp(amax, &exponent[l]);
      const double f = std::ldexp(1.0, -exponent[l]);
      for (int i = 0; i < n * n; ++i) A[static_cast<size_t>(i) * W + l] *= f;
    }
  }
}

template <typename T>
void pca_cpu_jacobi(const PcaArgs& args, const T* x, const bool* mask, T* mean, T* evals, T* evecs,
                    const std::function<void(int, int64_t)>& report) {
  constexpr int W = kJacobiWidth;
  const int64_t B = args.x.size(0), m = args.x.size(1);
  const int n = static_cast<int>(args.x.size(2));
  const int64_t groups = (B + W - 1) / W;
#pragma omp parallel
  {
    std::vector<CloudWork> work(W, CloudWork(n));
    // A, V and X in one buffer, each 64-byte aligned: every lane vector is then one cache line
    const size_t nn = static_cast<size_t>(n) * n * W, nx = static_cast<size_t>(32) * n * W;
    std::vector<double> buffer(2 * nn + nx + 8);
    double* const A = buffer.data() + (8 - (reinterpret_cast<uintptr_t>(buffer.data()) / 8) % 8) % 8;
    double* const V = A + nn;
    double* const X = V + nn;
    int exponent[W], status[W];
#pragma omp for schedule(static)
    for (int64_t g = 0; g < groups; ++g) {
      const int lanes = static_cast<int>(std::min<int64_t>(W, B - g * W));
      group_covariance<T>(x, mask, m, n, args.unbiased, g * W, lanes, mean, A, X, exponent, status);
      for (int l = 0; l < lanes; ++l)
        if (status[l] != kOk) report(status[l], g * W + l);
      if (evecs) {
        std::fill(V, V + nn, 0.0);
        for (int i = 0; i < n; ++i)
          for (int l = 0; l < W; ++l) V[static_cast<size_t>(i * n + i) * W + l] = 1.0;
      }
      const bool converged = jacobi_group(A, evecs ? V : nullptr, n);
      for (int l = 0; l < lanes; ++l) {
        const int64_t b = g * W + l;
        if (status[l] != kOk) continue;
        if (!converged) report(kNoConvergence, b);
        CloudWork& w = work[l];
        w.exponent = exponent[l];
        for (int i = 0; i < n; ++i) w.d[i] = A[static_cast<size_t>(i * n + i) * W + l];
        if (evecs)  // finish() reads eigenvector j as row j of z; V holds it as column j
          for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) w.z[static_cast<size_t>(j) * n + i] = V[static_cast<size_t>(i * n + j) * W + l];
        finish<T>(w, n, evals + b * n, evecs ? evecs + b * n * n : nullptr);
      }
    }
  }
}

constexpr int kLanes = 4;

template <typename T>
void pca_cpu_typed(const PcaArgs& args) {
  const int64_t B = args.x.size(0), m = args.x.size(1);
  const int n = static_cast<int>(args.x.size(2));
  const T* x = args.x.data<T>();
  const bool* mask = args.has_mask ? reinterpret_cast<const bool*>(args.mask.ptr) : nullptr;
  T* mean = args.mean.data<T>();
  T* evals = args.evals.data<T>();
  T* evecs = args.has_evecs ? args.evecs.data<T>() : nullptr;
  const bool unbiased = args.unbiased;
  std::atomic<int> status{kOk};
  std::atomic<int64_t> bad_cloud{-1};
  auto report = [&](int st, int64_t b) {
    int expected = kOk;
    if (status.compare_exchange_strong(expected, st)) bad_cloud.store(b);
  };
  if (n <= kJacobiMaxDim) {
    pca_cpu_jacobi<T>(args, x, mask, mean, evals, evecs, report);
  } else {
#pragma omp parallel
  {
    // Static contiguous share of the clouds per thread; each thread keeps kLanes clouds in flight and
    // refills a lane with its next cloud as soon as the lane converges (no tail of idle lanes).
    const int64_t nt = omp_get_num_threads(), tid = omp_get_thread_num();
    const int64_t begin = B * tid / nt, end = B * (tid + 1) / nt;
    int64_t next = begin;
    std::vector<CloudWork> work(kLanes, CloudWork(n));
    QrLane lanes[kLanes];
    int64_t cloud[kLanes];
    auto load = [&](int l) {
      while (next < end) {
        const int64_t b = next++;
        const int st = prepare<T>(x + b * m * n, mask ? mask + b * m : nullptr, m, n, unbiased, evecs != nullptr,
                                  work[l], mean + b * n);
        if (st != kOk) {
          report(st, b);
          continue;
        }
        lanes[l].start(work[l].d, work[l].e, evecs ? work[l].z.data() : nullptr, n);
        cloud[l] = b;
        return;
      }
      cloud[l] = -1;
    };
    for (int l = 0; l < kLanes; ++l) load(l);
    for (bool any = true; any;) {
      any = false;
      for (int l = 0; l < kLanes; ++l) {
        if (cloud[l] < 0) continue;
        any = true;
        QrLane& q = lanes[l];
        if (q.k < 0 && !q.begin_step()) {
          const int64_t b = cloud[l];
          if (q.failed) report(kNoConvergence, b);
          finish<T>(work[l], n, evals + b * n, evecs ? evecs + b * n * n : nullptr);
          load(l);
          continue;
        }
        q.rotate();
      }
    }
  }
  }
  const int st = status.load();
  PYDISENT_CHECK(st != kNotFinite, "argument 'x' contains NaN or infinite values (or values whose covariance "
                 "overflows) in cloud ", bad_cloud.load());
  PYDISENT_CHECK(st != kNoConvergence, "batched_pca: the eigensolver did not converge for cloud ",
                 bad_cloud.load(), " (argument 'x' has extreme values?)");
}

}  // namespace

void pca_cpu(const PcaArgs& a) {
  pca_validate(a, /*cuda=*/false);
  if (a.x.size(0) == 0) return;
  PYDISENT_DISPATCH_FLOATING_TYPES(a.x.dtype, "pca_cpu", [&] { pca_cpu_typed<scalar_t>(a); });
}

}  // namespace pydisent
