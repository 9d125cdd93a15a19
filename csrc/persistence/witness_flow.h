// The per-witness work of the GPU witness pipeline, shared by the CUDA kernels and their CPU emulation
// (witness_flow_cpu.cpp, which the tests run against the CPU engine: the GPU itself is only compiled
// on machines without one).
//
//   stage 1  table      one thread per (draw, landmark, witness): t = sqrt(sum_q (x_q - y_q)^2), float64,
//                       coordinate order, no FMA (the CPU engine's bits); the draw's max for relative alpha
//   stage 2  count      one thread per (draw, witness): witness_emit without output -> its candidate count
//   stage 3  scan       offsets of every witness's candidates (per draw: a segment)
//   stage 4  emit       one thread per (draw, witness): witness_emit writing (simplex key, value)
//   stage 5  sort       per-draw segmented radix sort of the keys
//   stage 6  minimum    the head of every run of equal keys keeps the run's minimum (segmented minimum
//                       over witnesses per simplex), compacted
//   host                faces (weak: facets present, largest facet value) and the reduction, as on the CPU
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#if defined(__CUDACC__)
#define WF_HD __host__ __device__ __forceinline__
#else
#define WF_HD inline
#endif

namespace pydisent {
namespace witness {
namespace flow {

// Window entries one GPU thread keeps; a draw in which some witness has more is computed by the CPU
// engine instead (same numbers), so the choice only affects speed.
constexpr int kCap = 48;
constexpr int64_t kOverflow = -1;

// Simplex keys: dimension in the top bits, then the vertices (20 bits each), largest first, so that
// sorted keys list vertices, then edges, then triangles.
WF_HD uint64_t vkey(uint32_t a) { return uint64_t(a); }
WF_HD uint64_t ekey(uint32_t a, uint32_t b) {
  const uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
  return (uint64_t(1) << 60) | (hi << 20) | lo;
}
WF_HD uint64_t tkey(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t t;
  if (a > b) t = a, a = b, b = t;
  if (b > c) t = b, b = c, c = t;
  if (a > b) t = a, a = b, b = t;
  return (uint64_t(2) << 60) | (uint64_t(c) << 40) | (uint64_t(b) << 20) | uint64_t(a);
}
WF_HD int key_dim(uint64_t k) { return static_cast<int>(k >> 60); }
WF_HD uint32_t key_v(uint64_t k, int i) { return static_cast<uint32_t>((k >> (20 * i)) & 0xFFFFF); }

WF_HD double dsub(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dsub_rn(a, b);
#else
  return a - b;
#endif
}
WF_HD double dadd(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
WF_HD double dmax(double a, double b) { return a < b ? b : a; }
// gudhi's relaxation value of a simplex whose farthest landmark is at dmax and nearest outside one at m
WF_HD double rel(double dmax_, double m) { return dmax_ > m ? dsub(dmax_, m) : 0.0; }

// Distance from witness x to landmark point y (the CPU engine's table_column, one entry).
WF_HD double table_entry(const double* x, const double* y, int64_t d, bool squared) {
  double acc = 0.0;
  for (int64_t q = 0; q < d; ++q) {
#if defined(__CUDA_ARCH__)
    const double t = __dsub_rn(x[q], y[q]);
    acc = __dadd_rn(acc, __dmul_rn(t, t));
#else
    const double t = x[q] - y[q];
    const double s = t * t;
    acc = acc + s;
#endif
  }
  return squared ? acc : sqrt(acc);
}

struct Sink {
  uint64_t* keys;
  double* vals;
  int64_t n;
  WF_HD void put(uint64_t k, double v) {
    if (keys) keys[n] = k, vals[n] = v;
    ++n;
  }
};

// All candidate simplices of one witness whose row is row[l * stride], l < L: the same set and values as
// weak_witness / strong_witness of the CPU engine. Writes them when keys != nullptr; returns their number,
// or kOverflow when a window exceeds kCap.
WF_HD int64_t witness_emit(const double* row, int64_t stride, int L, double alpha, bool strong, uint64_t* keys,
                           double* vals) {
  const double inf = std::numeric_limits<double>::infinity();
  double m0 = inf, m1 = inf, m2 = inf;
  int p0 = -1, p1 = -1, p2 = -1;
  for (int l = 0; l < L; ++l) {  // three smallest; ties keep the earlier position
    const double v = row[int64_t(l) * stride];
    if (v < m2) {
      if (v < m1) {
        m2 = m1, p2 = p1;
        if (v < m0) {
          m1 = m0, p1 = p0;
          m0 = v, p0 = l;
        } else {
          m1 = v, p1 = l;
        }
      } else {
        m2 = v, p2 = l;
      }
    }
  }
  Sink s{keys, vals, 0};
  if (strong) {
    const double lim = static_cast<double>(static_cast<float>(dadd(m0, alpha)));  // gudhi's float bound
    double wv[kCap];
    uint32_t wl[kCap];
    int n = 0;
    for (int l = 0; l < L; ++l) {
      const double v = row[int64_t(l) * stride];
      if (v < lim) {
        if (n == kCap) return kOverflow;
        wv[n] = v, wl[n] = uint32_t(l), ++n;
      }
    }
    for (int i = 0; i < n; ++i) {
      s.put(vkey(wl[i]), dsub(wv[i], m0));
      for (int j = i + 1; j < n; ++j) {
        const double vij = dmax(wv[i], wv[j]);
        s.put(ekey(wl[i], wl[j]), dsub(vij, m0));
        for (int q = j + 1; q < n; ++q) s.put(tkey(wl[i], wl[j], wl[q]), dsub(dmax(vij, wv[q]), m0));
      }
    }
    return s.n;
  }
  // W0 \ {p0} (value - alpha <= d0) and W1 \ {p0, p1} (value - alpha <= d1), positions ascending
  double v0[kCap], v1[kCap];
  uint32_t l0[kCap], l1[kCap];
  int n0 = 0, n1 = 0;
  for (int l = 0; l < L; ++l) {
    if (l == p0) continue;
    const double v = row[int64_t(l) * stride];
    const double va = dsub(v, alpha);
    if (va <= m0) {
      if (n0 == kCap) return kOverflow;
      v0[n0] = v, l0[n0] = uint32_t(l), ++n0;
    }
    if (l != p1 && va <= m1) {
      if (n1 == kCap) return kOverflow;
      v1[n1] = v, l1[n1] = uint32_t(l), ++n1;
    }
  }
  s.put(vkey(uint32_t(p0)), 0.0);
  for (int i = 0; i < n0; ++i) s.put(vkey(l0[i]), rel(v0[i], m0));
  if (p1 < 0) return s.n;
  s.put(ekey(uint32_t(p0), uint32_t(p1)), 0.0);
  for (int i = 0; i < n1; ++i) s.put(ekey(uint32_t(p0), l1[i]), rel(v1[i], m1));
  for (int i = 0; i < n0; ++i)
    for (int j = i + 1; j < n0; ++j) s.put(ekey(l0[i], l0[j]), rel(dmax(v0[i], v0[j]), m0));
  if (p2 < 0) return s.n;
  s.put(tkey(uint32_t(p0), uint32_t(p1), uint32_t(p2)), 0.0);
  for (int l = 0; l < L; ++l) {
    if (l == p0 || l == p1 || l == p2) continue;
    const double v = row[int64_t(l) * stride];
    if (dsub(v, alpha) <= m2) s.put(tkey(uint32_t(p0), uint32_t(p1), uint32_t(l)), rel(v, m2));
  }
  for (int i = 0; i < n1; ++i)
    for (int j = i + 1; j < n1; ++j) {
      const double dm = dmax(v1[i], v1[j]);
      if (dsub(dm, alpha) <= m1) s.put(tkey(uint32_t(p0), l1[i], l1[j]), rel(dm, m1));
    }
  for (int i = 0; i < n0; ++i)
    for (int j = i + 1; j < n0; ++j)
      for (int q = j + 1; q < n0; ++q)
        s.put(tkey(l0[i], l0[j], l0[q]), rel(dmax(dmax(v0[i], v0[j]), v0[q]), m0));
  return s.n;
}

}  // namespace flow
}  // namespace witness
}  // namespace pydisent
