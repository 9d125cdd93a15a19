// H0 of the Rips filtration: the minimum spanning forest by dense Prim (O(n^2) time, O(n) memory,
// no edge list), with edges compared in the strict total order F (length, then edge key
// descending). Under a strict order the forest is unique, so it is exactly the set of negative
// edges of ripser's union-find pass over the sorted edges, which the H1 clearing relies on.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "persistence/rips_engine.h"
#include "persistence/rips_geometry.h"

namespace pydisent {
namespace rips {

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();

inline key_t undirected_key(int64_t a, int64_t b) {
  return undirected_edge_key(static_cast<uint64_t>(a), static_cast<uint64_t>(b));
}
}  // namespace

void prim_from_matrix(const float* D, int64_t n, float threshold, Forest& forest) {
  forest.parent.assign(static_cast<size_t>(n), -1);
  forest.length.assign(static_cast<size_t>(n), 0.0f);
  if (n <= 1) return;
  std::vector<float> bd(static_cast<size_t>(n), kInf);
  std::vector<key_t> bk(static_cast<size_t>(n), 0);
  std::vector<int32_t> bp(static_cast<size_t>(n), -1);
  std::vector<uint8_t> done(static_cast<size_t>(n), 0);
  int64_t cur = 0;
  done[0] = 1;
  for (int64_t added = 1; added < n; ++added) {
    const float* row = D + cur * n;
    // Relax the edges to `cur` (branch-free on the common path: a tie needs the key comparison).
    for (int64_t v = 0; v < n; ++v) {
      const float d = row[v];
      if (done[v] || !(d <= threshold) || d > bd[v]) continue;
      const key_t k = undirected_key(cur, v);
      if (d < bd[v] || k > bk[v]) {
        bd[v] = d;
        bk[v] = k;
        bp[v] = static_cast<int32_t>(cur);
      }
    }
    int64_t best = -1, first_free = -1;
    for (int64_t v = 0; v < n; ++v) {
      if (done[v]) continue;
      if (first_free < 0) first_free = v;
      if (bd[v] <= threshold && (best < 0 || f_before(bd[v], bk[v], bd[best], bk[best]))) best = v;
    }
    if (best >= 0) {
      cur = best;
      forest.parent[cur] = bp[cur];
      forest.length[cur] = bd[cur];
    } else {
      cur = first_free;  // nothing within the threshold: a new component (root)
    }
    done[cur] = 1;
  }
}

// Parallel Prim with ONE barrier per step: each thread owns a fixed block of vertices, kept
// compacted in thread-private arrays (coordinates as SoA, best distance/key/parent). Per step every
// thread relaxes its block against the newest tree vertex and posts its local F-minimum in a slot
// (double-buffered by step parity, so a fast thread never overwrites slots a slow one still reads);
// after the barrier all threads pick the same global winner and its owner removes it.
template <typename T>
void prim_from_points(const T* points, int64_t n, int64_t dim, int metric, float threshold, Forest& forest,
                      int threads) {
  forest.parent.assign(static_cast<size_t>(n), -1);
  forest.length.assign(static_cast<size_t>(n), 0.0f);
  if (n <= 1) return;
  // Prim needs one barrier per step; on an oversubscribed machine each barrier can cost a scheduler
  // time slice, so threads only pay off when a step itself is heavy (~1M coordinate differences).
  const int nt = (n >= 1024 && n * dim >= (int64_t(1) << 20)) ? std::max(1, threads) : 1;
  struct alignas(64) Slot {
    float d;
    key_t key;
    int32_t vertex;      // local F-minimum (-1: none within the threshold)
    int32_t first_free;  // smallest vertex not in the tree (-1: none left)
  };
  std::vector<Slot> slots(static_cast<size_t>(2 * nt));

#pragma omp parallel num_threads(nt)
  {
    const int tid = omp_get_thread_num();
    const int nth = omp_get_num_threads();
    const int64_t begin = n * tid / nth, end = n * (tid + 1) / nth;
    const int64_t cap = std::max<int64_t>(end - begin, 1);
    std::vector<double> soa(static_cast<size_t>(cap * dim)), acc(static_cast<size_t>(cap));
    std::vector<int32_t> vid(static_cast<size_t>(cap)), bp(static_cast<size_t>(cap), -1);
    std::vector<float> bd(static_cast<size_t>(cap), kInf), dist(static_cast<size_t>(cap));
    std::vector<key_t> bk(static_cast<size_t>(cap), 0);
    std::vector<double> x(static_cast<size_t>(std::max<int64_t>(dim, 1)));
    int64_t m = end - begin;
    for (int64_t p = 0; p < m; ++p) {
      vid[p] = static_cast<int32_t>(begin + p);
      for (int64_t q = 0; q < dim; ++q) soa[q * cap + p] = static_cast<double>(points[(begin + p) * dim + q]);
    }
    auto remove_position = [&](int64_t pos) {
      const int64_t last = m - 1;
      if (pos != last) {
        for (int64_t q = 0; q < dim; ++q) soa[q * cap + pos] = soa[q * cap + last];
        vid[pos] = vid[last];
        bd[pos] = bd[last];
        bk[pos] = bk[last];
        bp[pos] = bp[last];
      }
      --m;
    };
    auto load_point = [&](int64_t v) {
      for (int64_t q = 0; q < dim; ++q) x[q] = static_cast<double>(points[v * dim + q]);
    };
    int64_t cur = 0;  // the tree starts at vertex 0
    load_point(0);
    if (begin == 0 && m > 0) remove_position(0);  // vertex 0 sits at position 0 of block 0

    for (int64_t added = 1; added < n; ++added) {
      soa_distances(soa.data(), cap, dim, x.data(), 0, m, metric, acc.data(), dist.data());
      int64_t best = -1, first_free = -1;
      for (int64_t p = 0; p < m; ++p) {
        const float d = dist[p];
        if (d <= threshold && d <= bd[p]) {
          const key_t k = undirected_key(cur, vid[p]);
          if (d < bd[p] || k > bk[p]) {
            bd[p] = d;
            bk[p] = k;
            bp[p] = static_cast<int32_t>(cur);
          }
        }
        if (first_free < 0 || vid[p] < vid[first_free]) first_free = p;
        if (bd[p] <= threshold && (best < 0 || f_before(bd[p], bk[p], bd[best], bk[best]))) best = p;
      }
      Slot* row = slots.data() + (added & 1) * nth;
      row[tid] = Slot{best >= 0 ? bd[best] : kInf, best >= 0 ? bk[best] : 0, best >= 0 ? vid[best] : -1,
                      first_free >= 0 ? vid[first_free] : -1};
#pragma omp barrier
      int win = -1, free_win = -1;
      for (int t = 0; t < nth; ++t) {
        const Slot& sl = row[t];
        if (sl.vertex >= 0 && (win < 0 || f_before(sl.d, sl.key, row[win].d, row[win].key))) win = t;
        if (sl.first_free >= 0 && (free_win < 0 || sl.first_free < row[free_win].first_free)) free_win = t;
      }
      const int owner = win >= 0 ? win : free_win;
      cur = win >= 0 ? row[win].vertex : row[free_win].first_free;
      if (owner == tid) {
        const int64_t pos = win >= 0 ? best : first_free;
        if (win >= 0) {
          forest.parent[cur] = bp[pos];
          forest.length[cur] = bd[pos];
        }
        remove_position(pos);
      }
      load_point(cur);
    }
  }
}
template void prim_from_points<float>(const float*, int64_t, int64_t, int, float, Forest&, int);
template void prim_from_points<double>(const double*, int64_t, int64_t, int, float, Forest&, int);

std::vector<Pair0> h0_pairs(const Forest& forest) {
  const int64_t n = static_cast<int64_t>(forest.parent.size());
  struct Edge {
    float len;
    key_t key;
  };
  std::vector<Edge> edges;
  edges.reserve(static_cast<size_t>(n));
  for (int64_t v = 0; v < n; ++v)
    if (forest.parent[v] >= 0) edges.push_back({forest.length[v], undirected_key(v, forest.parent[v])});
  std::sort(edges.begin(), edges.end(),
            [](const Edge& a, const Edge& b) { return f_before(a.len, a.key, b.len, b.key); });

  // Union-find where each root remembers the smallest vertex of its component. All vertices are
  // born at 0, so the elder rule is decided by that smallest vertex: the component whose smallest
  // vertex is larger dies, and that vertex is reported as the birth vertex.
  std::vector<int32_t> up(static_cast<size_t>(n)), low(static_cast<size_t>(n));
  std::iota(up.begin(), up.end(), 0);
  std::iota(low.begin(), low.end(), 0);
  auto find = [&](int32_t v) {
    while (up[v] != v) {
      up[v] = up[up[v]];
      v = up[v];
    }
    return v;
  };
  std::vector<Pair0> out;
  out.reserve(edges.size() + 1);
  for (const Edge& e : edges) {
    const int32_t u = static_cast<int32_t>(edge_hi(e.key)), v = static_cast<int32_t>(edge_lo(e.key));
    int32_t ru = find(u), rv = find(v);
    if (low[ru] > low[rv]) std::swap(ru, rv);  // ru survives
    if (e.len > 0.0f) out.push_back({e.len, low[rv], u, v});
    up[rv] = ru;
  }
  std::vector<int32_t> roots;
  for (int32_t v = 0; v < n; ++v)
    if (find(v) == v) roots.push_back(low[v]);
  std::sort(roots.begin(), roots.end());
  for (int32_t r : roots) out.push_back({std::numeric_limits<float>::infinity(), r, -1, -1});
  return out;
}

}  // namespace rips
}  // namespace pydisent
