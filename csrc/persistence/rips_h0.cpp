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
#include <atomic>
#include <thread>

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

// Prim from the points, O(n) memory. The vertices not yet in the tree are kept compacted
// (coordinates as SoA, best distance/key/parent; a vertex leaves by swap-with-last).
//
// Threads: a step (relax every remaining vertex against the newest tree vertex, then take the
// F-minimum) is cut into chunks that threads claim dynamically; the master thread works through
// the chunks itself and only waits for chunks another thread has actually claimed. So a thread
// that is not running (oversubscribed cores) never stalls a step, unlike a barrier per step, which
// costs a scheduler time slice per step in that case. Claims go through one atomic word holding
// (step, next chunk): a late compare-exchange from an older step always fails.
namespace {
inline void cpu_relax(unsigned& spins) {
  if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}
}  // namespace

template <typename T>
void prim_from_points(const T* points, int64_t n, int64_t dim, int metric, float threshold, Forest& forest,
                      int threads) {
  forest.parent.assign(static_cast<size_t>(n), -1);
  forest.length.assign(static_cast<size_t>(n), 0.0f);
  if (n <= 1) return;
  const int nt = (n >= 1024 && n * dim >= (int64_t(1) << 16)) ? std::max(1, threads) : 1;

  std::vector<double> soa;
  to_soa(points, n, dim, soa);
  std::vector<int32_t> vid(static_cast<size_t>(n)), bp(static_cast<size_t>(n), -1);
  std::iota(vid.begin(), vid.end(), 0);
  std::vector<float> bd(static_cast<size_t>(n), kInf), dist(static_cast<size_t>(n));
  std::vector<key_t> bk(static_cast<size_t>(n), 0);
  std::vector<double> acc(static_cast<size_t>(n)), x(static_cast<size_t>(std::max<int64_t>(dim, 1)));
  int64_t m = n, cur = 0;

  auto remove_position = [&](int64_t pos) {
    const int64_t last = m - 1;
    if (pos != last) {
      for (int64_t q = 0; q < dim; ++q) soa[q * n + pos] = soa[q * n + last];
      vid[pos] = vid[last];
      bd[pos] = bd[last];
      bk[pos] = bk[last];
      bp[pos] = bp[last];
    }
    --m;
  };
  auto take_coordinates = [&](int64_t pos) {
    for (int64_t q = 0; q < dim; ++q) x[q] = soa[q * n + pos];
  };
  take_coordinates(0);
  remove_position(0);

  struct ChunkBest {
    int64_t best, first_free;  // positions, -1: none
  };
  // Relax positions [begin, end) against `cur` and return their F-minimum and smallest vertex.
  auto relax = [&](int64_t begin, int64_t end) {
    soa_distances(soa.data(), n, dim, x.data(), begin, end, metric, acc.data(), dist.data());
    ChunkBest r{-1, -1};
    for (int64_t p = begin; p < end; ++p) {
      const float d = dist[p];
      if (d <= threshold && d <= bd[p]) {
        const key_t k = undirected_key(cur, vid[p]);
        if (d < bd[p] || k > bk[p]) {
          bd[p] = d;
          bk[p] = k;
          bp[p] = static_cast<int32_t>(cur);
        }
      }
      if (r.first_free < 0 || vid[p] < vid[r.first_free]) r.first_free = p;
      if (bd[p] <= threshold && (r.best < 0 || f_before(bd[p], bk[p], bd[r.best], bk[r.best]))) r.best = p;
    }
    return r;
  };
  auto combine = [&](ChunkBest a, const ChunkBest& b) {
    if (b.best >= 0 && (a.best < 0 || f_before(bd[b.best], bk[b.best], bd[a.best], bk[a.best]))) a.best = b.best;
    if (b.first_free >= 0 && (a.first_free < 0 || vid[b.first_free] < vid[a.first_free])) a.first_free = b.first_free;
    return a;
  };
  auto advance = [&](const ChunkBest& all) {  // the step's winner joins the tree
    const int64_t pos = all.best >= 0 ? all.best : all.first_free;
    cur = vid[pos];
    if (all.best >= 0) {
      forest.parent[cur] = bp[pos];
      forest.length[cur] = bd[pos];
    }
    take_coordinates(pos);
    remove_position(pos);
  };

  if (nt == 1) {
    for (int64_t added = 1; added < n; ++added) advance(relax(0, m));
    return;
  }

  // Thread t owns positions [m t / nt, m (t + 1) / nt) (cache-local: compaction moves only one
  // vertex per step), cut into kSub sub-chunks claimed through t's own atomic word
  // step (32 bits) | next sub-chunk (32 bits). A thread claims its own sub-chunks first, then steals
  // unclaimed ones of the others. A claim is a compare-exchange on the whole word, so it only
  // succeeds for the published step, and the master cannot leave a step before every claimed
  // sub-chunk is done.
  constexpr uint64_t kStop = 0xFFFFFFFFull;
  constexpr int64_t kSub = 4;
  struct alignas(64) Word {
    std::atomic<uint64_t> v{0};
  };
  std::vector<Word> words(static_cast<size_t>(nt));
  std::atomic<int64_t> done{0};
  std::vector<ChunkBest> results(static_cast<size_t>(nt * kSub));
  auto work_on = [&](int u, uint64_t step) {
    std::atomic<uint64_t>& w = words[u].v;
    uint64_t c = w.load(std::memory_order_acquire);
    while ((c >> 32) == step) {
      const int64_t k = static_cast<int64_t>(c & 0xFFFFFFFFull);
      if (k >= kSub) return;
      if (!w.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel)) continue;
      // m, cur and x belong to this step: the master waits for this sub-chunk.
      const int64_t lo = m * u / nt, hi = m * (u + 1) / nt;
      results[u * kSub + k] = relax(lo + (hi - lo) * k / kSub, lo + (hi - lo) * (k + 1) / kSub);
      done.fetch_add(1, std::memory_order_release);
      c = w.load(std::memory_order_acquire);
    }
  };
  auto work = [&](int me, uint64_t step) {
    for (int q = 0; q < nt; ++q) work_on((me + q) % nt, step);
  };

#pragma omp parallel num_threads(nt)
  {
    const int me = omp_get_thread_num();
    if (me == 0) {
      for (int64_t added = 1; added < n; ++added) {
        done.store(0, std::memory_order_relaxed);
        for (int u = 0; u < nt; ++u) words[u].v.store(uint64_t(added) << 32, std::memory_order_release);  // publish
        work(0, uint64_t(added));
        unsigned spins = 0;
        while (done.load(std::memory_order_acquire) < nt * kSub) cpu_relax(spins);
        ChunkBest all{-1, -1};
        for (int64_t k = 0; k < nt * kSub; ++k) all = combine(all, results[k]);
        advance(all);
      }
      for (int u = 0; u < nt; ++u) words[u].v.store(kStop << 32, std::memory_order_release);
    } else {
      uint64_t seen = 0;
      unsigned spins = 0;
      while (true) {
        const uint64_t step = words[me].v.load(std::memory_order_acquire) >> 32;
        if (step == kStop) break;
        if (step != seen && step != 0) {
          work(me, step);
          seen = step;
          spins = 0;
        } else {
          cpu_relax(spins);
        }
      }
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
