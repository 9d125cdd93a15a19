// Internals of the witness engine shared by its CPU and CUDA halves (not part of the bindings).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "persistence/witness.h"

namespace pydisent {
namespace witness {

// An entry of a witness's row: value t(w, l) at landmark position l.
struct LV {
  double v;
  int32_t l;
};
constexpr int64_t kMaxWindowInline = 64;

// Edge {a < b} numbered colexicographically, triangles {a < b < c} as 21-bit fields (c highest).
inline int64_t edge_id(int64_t a, int64_t b) {
  if (a > b) std::swap(a, b);
  return b * (b - 1) / 2 + a;
}
inline void edge_vertices(int64_t e, int32_t& a, int32_t& b) {
  int64_t x = static_cast<int64_t>((1.0 + std::sqrt(1.0 + 8.0 * static_cast<double>(e))) * 0.5);
  while (x * (x - 1) / 2 > e) --x;
  while ((x + 1) * x / 2 <= e) ++x;
  b = static_cast<int32_t>(x);
  a = static_cast<int32_t>(e - x * (x - 1) / 2);
}
inline uint64_t tri_key(uint64_t a, uint64_t b, uint64_t c) { return (c << 42) | (b << 21) | a; }
inline int32_t tri_a(uint64_t k) { return static_cast<int32_t>(k & 0x1FFFFF); }
inline int32_t tri_b(uint64_t k) { return static_cast<int32_t>((k >> 21) & 0x1FFFFF); }
inline int32_t tri_c(uint64_t k) { return static_cast<int32_t>(k >> 42); }
inline uint64_t sorted_tri_key(int32_t a, int32_t b, int32_t c) {
  if (a > b) std::swap(a, b);
  if (b > c) std::swap(b, c);
  if (a > b) std::swap(a, b);
  return tri_key(uint64_t(a), uint64_t(b), uint64_t(c));
}

// Open-addressing map key -> minimum value, cleared in time proportional to what it holds.
class MinMap {
 public:
  void clear() {
    for (uint32_t s : used_) keys_[s] = kEmpty;
    used_.clear();
  }
  void update(uint64_t key, double v) {
    if (2 * (used_.size() + 1) > keys_.size()) grow();
    size_t s = hash(key);
    while (true) {
      if (keys_[s] == key) {
        if (v < vals_[s]) vals_[s] = v;
        return;
      }
      if (keys_[s] == kEmpty) {
        keys_[s] = key;
        vals_[s] = v;
        used_.push_back(static_cast<uint32_t>(s));
        return;
      }
      s = (s + 1) & mask_;
    }
  }
  size_t size() const { return used_.size(); }
  // (key, value) pairs in insertion order
  void items(std::vector<std::pair<uint64_t, double>>& out) const {
    out.clear();
    out.reserve(used_.size());
    for (uint32_t s : used_) out.emplace_back(keys_[s], vals_[s]);
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  size_t hash(uint64_t k) const { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> 17) & mask_; }
  void grow() {
    std::vector<std::pair<uint64_t, double>> old;
    items(old);
    const size_t cap = keys_.empty() ? 1024 : 2 * keys_.size();
    keys_.assign(cap, kEmpty);
    vals_.assign(cap, 0.0);
    mask_ = cap - 1;
    used_.clear();
    for (const auto& kv : old) update(kv.first, kv.second);
  }
  std::vector<uint64_t> keys_;
  std::vector<double> vals_;
  std::vector<uint32_t> used_;
  size_t mask_ = 0;
};

// The minimum over witnesses per simplex, before faces are checked.
struct Candidates {
  int64_t L = 0;
  std::vector<double> vmin;      // per vertex (inf: not witnessed)
  std::vector<double> emin;      // per edge id (inf: not witnessed)
  std::vector<int64_t> etouched; // edge ids with a finite entry
  MinMap tri;
  std::vector<std::pair<uint64_t, double>> titems;

  void reset(int64_t L);
  void vertex(int32_t l, double v) {
    if (v < vmin[l]) vmin[l] = v;
  }
  void edge(int32_t a, int32_t b, double v) {
    const int64_t e = edge_id(a, b);
    double& m = emin[e];
    if (m == std::numeric_limits<double>::infinity()) etouched.push_back(e);
    if (v < m) m = v;
  }
  void triangle(int32_t a, int32_t b, int32_t c, double v) { tri.update(sorted_tri_key(a, b, c), v); }
};

// The table of one chunk of complexes of one cloud: Tc[u * N + w] = t(witness w, landmark point uidx[u]).
struct Tables {
  int64_t N = 0;
  std::vector<int32_t> colmap;  // point index -> column (-1: not a landmark of the chunk)
  std::vector<int64_t> uidx;
  std::vector<double> XT, Tc, colmax;
  void build(const Batch& in, int64_t cloud, const std::vector<int64_t>& complexes, int threads);
};

struct WindowWork {
  std::vector<const double*> cols;
  std::vector<LV> win[64];
};

std::vector<std::vector<int64_t>> chunk_complexes(const Batch& in, int64_t cloud, const std::vector<int64_t>& ks);
double complex_alpha(const Batch& in, const Tables& tb, int64_t k);
void weak_witness(Candidates& c, const double d[3], const int32_t p[3], const LV* win, int64_t nwin, double alpha);
void strong_witness(Candidates& c, double d0, const LV* win, int64_t n);
void complex_candidates(const Batch& in, const Tables& tb, int64_t k, double alpha, Candidates& c, WindowWork& ww);
// Faces: weak simplices need all facets and take the largest facet value (fills f from c).
void assemble(Candidates& c, bool strong, Filtration& f);
// gudhi's persistence_dim_max=False (see Batch::dim_max).
void top_dimension_rule(const Batch& in, const Filtration& f, Diagram& d);

// ---- the GPU pipeline's host half (witness_flow_cpu.cpp) -------------------------------------------------
// Per draw of a chunk: the sorted unique simplex keys (witness_flow.h encoding) with their minimum
// over witnesses, as copied back from the device.
struct MinimaHost {
  std::vector<int64_t> off;       // chunk draws + 1
  std::vector<uint64_t> keys;
  std::vector<double> vals;
  std::vector<char> overflow;     // per chunk draw: a window was too large for a GPU thread
  std::vector<int64_t> complex;   // chunk draw -> index of the draw in the batch
};
void candidates_from_minima(const uint64_t* keys, const double* vals, int64_t n, int64_t L, Candidates& c);
void finish_from_minima(const Batch& in, const MinimaHost& m, int maxdim, bool filtration, int threads,
                        std::vector<Diagram>* diagrams, std::vector<Filtration>* filtrations);
// Overflowed draws ks with the CPU engine from host_points (the batch's points copied to the host).
void finish_overflow(const Batch& in, const std::vector<int64_t>& ks, int maxdim, bool filtration, int threads,
                     const double* host_points, std::vector<Diagram>* diagrams, std::vector<Filtration>* filtrations,
                     std::vector<double>& alphas);

}  // namespace witness
}  // namespace pydisent
