// H1 of the Rips filtration by persistent cohomology over Z/2, following ripser (Bauer 2021):
//
// * columns are the edges, in reverse filtration order (diameter descending, key ascending);
// * clearing: the minimum-spanning-forest edges are the pivots of the dim-0 reduction, so their
//   columns reduce to zero and are skipped;
// * apparent pairs: an edge e whose zero-persistence pivot cofacet t (the F-first cofacet of e
//   with diam(t) == diam(e)) has e as its F-last facet of the same diameter is paired with t
//   without any reduction; such edges are dropped from the columns, and during the reduction a
//   pivot that belongs to an apparent pair (f, t) is cancelled by adding the coboundary of f;
// * emergent pairs: a column whose unreduced pivot has its own diameter and is not yet claimed is
//   paired immediately, without building its coboundary;
// * otherwise the coboundary is enumerated implicitly (third vertex k, diameter from the distance
//   matrix) and the reduction adds the coboundaries of the columns recorded in the reduction
//   matrix V, as ripser does. Unlike ripser, coboundaries are not pushed entry by entry into a
//   heap: each is a lazy stream in filtration order (see Stream) and the working column is a heap
//   of streams, so only the entries up to the final pivot are ever produced.
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <limits>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "persistence/rips_engine.h"

namespace pydisent {
namespace rips {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Largest k >= floor, k not in {i, j}, with ri[k] <= d and rj[k] <= d; -1 if none.
// Portable version: a branch-free block test the compiler vectorises, then a scalar rescan of the
// block that has a hit.
int64_t top_common_neighbor_generic(const float* ri, const float* rj, int64_t n, float d, int64_t i, int64_t j,
                                    int64_t floor) {
  constexpr int64_t W = 32;
  const uint32_t ui = static_cast<uint32_t>(i), uj = static_cast<uint32_t>(j);
  int64_t k = n;
  while (k - W >= floor) {
    const int64_t base = k - W;
    int any = 0;
    for (int64_t q = 0; q < W; ++q) {
      const uint32_t v = static_cast<uint32_t>(base + q);
      any |= static_cast<int>(ri[base + q] <= d) & static_cast<int>(rj[base + q] <= d) & static_cast<int>(v != ui) &
             static_cast<int>(v != uj);
    }
    if (any) {
      for (int64_t q = k - 1; q >= base; --q)
        if (ri[q] <= d && rj[q] <= d && q != i && q != j) return q;
    }
    k = base;
  }
  for (int64_t q = k - 1; q >= floor; --q)
    if (ri[q] <= d && rj[q] <= d && q != i && q != j) return q;
  return -1;
}

#if defined(PYDISENT_X86_VARIANTS)
// Chosen once at load time by common/cpu.h (PYDISENT_CPU_GENERIC=1 or PYDISENT_RIPS_GENERIC=1 forces the
// portable kernels; the tests compare both, the results must be identical).
bool use_avx2() { return cpu::isa(PYDISENT_RIPS_ENV) >= cpu::Isa::Avx2; }

// AVX2: compare masks give the position of the highest hit directly (most edges find theirs in the
// first block, so locating it is most of the work). Same result as the generic version.
PYDISENT_TARGET_AVX2 int64_t top_common_neighbor_avx2(const float* ri, const float* rj, int64_t n,
                                                                  float d, int64_t i, int64_t j, int64_t floor) {
  const __m256 vd = _mm256_set1_ps(d);
  int64_t k = n;
  while (k - 16 >= floor) {
    const int64_t base = k - 16;
    const __m256 lo = _mm256_and_ps(_mm256_cmp_ps(_mm256_loadu_ps(ri + base), vd, _CMP_LE_OQ),
                                    _mm256_cmp_ps(_mm256_loadu_ps(rj + base), vd, _CMP_LE_OQ));
    const __m256 hi = _mm256_and_ps(_mm256_cmp_ps(_mm256_loadu_ps(ri + base + 8), vd, _CMP_LE_OQ),
                                    _mm256_cmp_ps(_mm256_loadu_ps(rj + base + 8), vd, _CMP_LE_OQ));
    uint32_t mask = static_cast<uint32_t>(_mm256_movemask_ps(lo)) | (static_cast<uint32_t>(_mm256_movemask_ps(hi)) << 8);
    if (i >= base && i < k) mask &= ~(1u << (i - base));
    if (j >= base && j < k) mask &= ~(1u << (j - base));
    if (mask) return base + 31 - __builtin_clz(mask);
    k = base;
  }
  for (int64_t q = k - 1; q >= floor; --q)
    if (ri[q] <= d && rj[q] <= d && q != i && q != j) return q;
  return -1;
}

using TopCommonFn = int64_t (*)(const float*, const float*, int64_t, float, int64_t, int64_t, int64_t);
const TopCommonFn top_common_neighbor = use_avx2() ? &top_common_neighbor_avx2 : &top_common_neighbor_generic;
#else
inline int64_t top_common_neighbor(const float* ri, const float* rj, int64_t n, float d, int64_t i, int64_t j,
                                   int64_t floor) {
  return top_common_neighbor_generic(ri, rj, n, d, i, j, floor);
}
#endif

// The facet f of triangle (a > b > c) that forms an apparent pair (f, t) with it: f is the F-last
// facet of t of diameter dt and t is the F-first cofacet of f of diameter dt; kNoKey if none.
inline key_t apparent_facet(const float* D, int64_t n, uint32_t a, uint32_t b, uint32_t c, float dt) {
  uint32_t x, y, z;
  last_facet(D, n, a, b, c, dt, x, y, z);
  // z itself qualifies, so the scan stops at z at the latest.
  const int64_t k = top_common_neighbor(D + int64_t(x) * n, D + int64_t(y) * n, n, dt, x, y, z);
  return k == int64_t(z) ? edge_key(x, y) : kNoKey;
}

// Diameters max(d, ri[k], rj[k]) of the block k in [base, base + len) (len <= 16) into tb, and the
// bit mask of those in [lo, cut].
uint32_t block_mask_generic(const float* ri, const float* rj, uint32_t base, uint32_t len, float d, float cut,
                            float lo, float* tb) {
  uint32_t mask = 0;
  for (uint32_t q = 0; q < len; ++q) {
    const float t = std::max(d, std::max(ri[base + q], rj[base + q]));
    tb[q] = t;
    mask |= static_cast<uint32_t>(t <= cut && t >= lo) << q;
  }
  return mask;
}

#if defined(PYDISENT_X86_VARIANTS)
PYDISENT_TARGET_AVX2 uint32_t block_mask_avx2(const float* ri, const float* rj, uint32_t base,
                                                         uint32_t len, float d, float cut, float lo, float* tb) {
  if (len != 16) return block_mask_generic(ri, rj, base, len, d, cut, lo, tb);
  const __m256 vd = _mm256_set1_ps(d), vc = _mm256_set1_ps(cut), vl = _mm256_set1_ps(lo);
  uint32_t mask = 0;
  for (uint32_t h = 0; h < 2; ++h) {
    const __m256 t = _mm256_max_ps(vd, _mm256_max_ps(_mm256_loadu_ps(ri + base + 8 * h), _mm256_loadu_ps(rj + base + 8 * h)));
    _mm256_storeu_ps(tb + 8 * h, t);
    const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(t, vc, _CMP_LE_OQ), _mm256_cmp_ps(t, vl, _CMP_GE_OQ));
    mask |= static_cast<uint32_t>(_mm256_movemask_ps(ok)) << (8 * h);
  }
  return mask;
}
using BlockMaskFn = uint32_t (*)(const float*, const float*, uint32_t, uint32_t, float, float, float, float*);
const BlockMaskFn block_mask = use_avx2() ? &block_mask_avx2 : &block_mask_generic;
#else
inline uint32_t block_mask(const float* ri, const float* rj, uint32_t base, uint32_t len, float d, float cut,
                           float lo, float* tb) {
  return block_mask_generic(ri, rj, base, len, d, cut, lo, tb);
}
#endif

// The first B cofacets of edge (i > j, diameter d) in filtration order that come strictly after
// (lo_d, lo_key) (or equal to it when `inclusive`), with diameter <= thr, into (bd, bk) sorted;
// returns how many were found (< B: the coboundary is exhausted).
uint32_t select_batch(const float* ri, const float* rj, uint32_t n, uint32_t i, uint32_t j, float d, float thr,
                      float lo_d, key_t lo_key, bool inclusive, uint32_t B, float* bd, key_t* bk) {
  uint32_t count = 0;
  const float floor_d = std::max(d, lo_d);  // no remaining entry has a smaller diameter
  bool done = false;
  // k descending: within one diameter, larger k = larger key = earlier in F.
  auto visit = [&](float t, key_t key) {
    if (t < lo_d || (t == lo_d && (key > lo_key || (key == lo_key && !inclusive)))) return;  // at/before the bound
    if (count == B) {
      if (!(t < bd[B - 1])) return;  // ties: the earlier k (larger key) is already in
      --count;
    }
    uint32_t q = count++;
    while (q > 0 && t < bd[q - 1]) {
      bd[q] = bd[q - 1];
      bk[q] = bk[q - 1];
      --q;
    }
    bd[q] = t;
    bk[q] = key;
    if (count == B && bd[B - 1] == floor_d) done = true;
  };
  // Blocks of up to 16 third vertices: block_mask gives their diameters and a bit per vertex that
  // passes the cheap diameter test; only those reach the exact (key-aware) test, highest k first.
  float tb[16];
  auto scan = [&](uint32_t lo, uint32_t hi, auto key_of) {  // k in [lo, hi), descending
    uint32_t k = hi;
    while (k > lo && !done) {
      const uint32_t base = (k - lo >= 16) ? k - 16 : lo;
      float cut = count == B ? bd[B - 1] : thr;
      uint32_t mask = block_mask(ri, rj, base, k - base, d, cut, lo_d, tb);
      while (mask && !done) {
        const uint32_t q = 31u - static_cast<uint32_t>(__builtin_clz(mask));
        mask &= ~(1u << q);
        const float t = tb[q];
        if (t > cut) continue;  // the cut may have tightened since the mask was taken
        visit(t, key_of(base + q));
        cut = count == B ? bd[B - 1] : thr;
      }
      k = base;
    }
  };
  scan(i + 1, n, [&](uint32_t k) { return tri_key(k, i, j); });
  scan(j + 1, i, [&](uint32_t k) { return tri_key(i, k, j); });
  scan(0, j, [&](uint32_t k) { return tri_key(i, j, k); });
  return count;
}

struct Entry {
  float diam;
  key_t key;
};

// Open addressing (linear probing) map from a triangle key to the column that owns it as pivot.
class PivotMap {
 public:
  void reset(size_t expected) {
    size_t cap = 16;
    while (cap < 2 * expected + 16) cap <<= 1;
    slots_.assign(cap, Slot{kNoKey, -1});  // keeps the allocation when it is large enough
    mask_ = cap - 1;
    size_ = 0;
  }
  int32_t find(key_t k) const {
    for (size_t s = hash(k);; s = (s + 1) & mask_) {
      const Slot& sl = slots_[s];
      if (sl.key == k) return sl.value;
      if (sl.key == kNoKey) return -1;
    }
  }
  void insert(key_t k, int32_t v) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    for (size_t s = hash(k);; s = (s + 1) & mask_) {
      Slot& sl = slots_[s];
      if (sl.key == kNoKey) {
        sl = Slot{k, v};
        ++size_;
        return;
      }
      if (sl.key == k) {
        sl.value = v;
        return;
      }
    }
  }

 private:
  struct Slot {
    key_t key;
    int32_t value;
  };
  size_t hash(key_t k) const { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> 20) & mask_; }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    reset(old.size());
    for (const Slot& s : old)
      if (s.key != kNoKey) insert(s.key, s.value);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
};

// The coboundary of one edge (i > j, diameter d), produced lazily in filtration order F: each refill
// selects the next `batch` cofacets (diameter max(d, D[i][k], D[j][k]), key by k) in one pass over
// the rows, so a coboundary of which only the first few entries are ever looked at (the common
// case in the reduction) costs one O(n) scan instead of n heap pushes.
struct Stream {
  uint32_t i = 0, j = 0;
  float d = 0;
  float lo_d = 0;        // entries already emitted (or skipped) are F-before-or-equal (lo_d, lo_key)...
  key_t lo_key = kNoKey;
  bool lo_inclusive = true;  // ... except (lo_d, lo_key) itself when the bound is inclusive
  bool exhausted = false;    // no entries beyond the buffer
  uint32_t batch = 4;
  uint32_t pos = 0;
  std::vector<Entry> buf;  // upcoming entries, F-sorted
  bool alive() const { return pos < buf.size(); }
  const Entry& head() const { return buf[pos]; }
};

class Reducer {
 public:
  // One reducer per thread is reused across clouds so its buffers (pivot map, stream pool, V) keep
  // their capacity: for clouds of ~100 points allocation would otherwise dominate.
  void reset(const float* D, int64_t n, float threshold) {
    D_ = D;
    n_ = n;
    thr_ = threshold;
    used_ = 0;
  }

  void run(const std::vector<Column>& cols, std::vector<Pair1>& out) {
    pivots_.reset(cols.size());
    v_begin_.assign(cols.size() + 1, 0);
    v_keys_.clear();
    for (size_t c = 0; c < cols.size(); ++c) {
      reduce_column(cols, c, out);
      v_begin_[c + 1] = v_keys_.size();
    }
  }

 private:
  void reduce_column(const std::vector<Column>& cols, size_t c, std::vector<Pair1>& out) {
    const Column& col = cols[c];
    const float d = col.diam;
    if (col.zk >= 0) {
      // Emergent pair: the unreduced pivot has diameter d and nobody owns it.
      const key_t t = tri_key_of_edge(col.i, col.j, static_cast<uint32_t>(col.zk));
      if (pivots_.find(t) < 0 && apparent_facet(D_, n_, tri_a(t), tri_b(t), tri_c(t), d) == kNoKey) {
        pivots_.insert(t, static_cast<int32_t>(c));
        return;
      }
    }
    used_ = 0;
    heap_.clear();
    red_.clear();
    add_stream(col.i, col.j, d, nullptr);
    Entry pivot = get_pivot();
    while (true) {
      if (pivot.key == kNoKey) {
        out.push_back({d, kInf, int32_t(col.i), int32_t(col.j), -1, -1, -1});
        return;
      }
      const int32_t owner = pivots_.find(pivot.key);
      if (owner >= 0) {
        // Add the owner's reduced coboundary: its edge and its V entries. The sum has no entry
        // before the pivot, so every summand may start at the pivot.
        const Column& o = cols[owner];
        add_stream(o.i, o.j, o.diam, &pivot);
        red_.push_back(edge_key(o.i, o.j));
        for (size_t q = v_begin_[owner]; q < v_begin_[owner + 1]; ++q) {
          const key_t e = v_keys_[q];
          const uint32_t a = edge_hi(e), b = edge_lo(e);
          add_stream(a, b, D_[int64_t(a) * n_ + b], &pivot);
          red_.push_back(e);
        }
      } else {
        const key_t f = apparent_facet(D_, n_, tri_a(pivot.key), tri_b(pivot.key), tri_c(pivot.key), pivot.diam);
        if (f != kNoKey) {
          add_stream(edge_hi(f), edge_lo(f), pivot.diam, &pivot);  // its first cofacet is the pivot
          red_.push_back(f);
        } else {
          if (pivot.diam > d)
            out.push_back({d, pivot.diam, int32_t(col.i), int32_t(col.j), int32_t(tri_a(pivot.key)),
                           int32_t(tri_b(pivot.key)), int32_t(tri_c(pivot.key))});
          pivots_.insert(pivot.key, static_cast<int32_t>(c));
          store_reduction();
          return;
        }
      }
      pivot = get_pivot();
    }
  }

  // Z/2: keep the edges that occur an odd number of times.
  void store_reduction() {
    std::sort(red_.begin(), red_.end());
    size_t q = 0;
    while (q < red_.size()) {
      size_t r = q + 1;
      while (r < red_.size() && red_[r] == red_[q]) ++r;
      if ((r - q) & 1) v_keys_.push_back(red_[q]);
      q = r;
    }
  }

  // ---- streams ----
  void add_stream(uint32_t i, uint32_t j, float d, const Entry* from) {
    if (used_ == streams_.size()) streams_.emplace_back();
    const int32_t id = static_cast<int32_t>(used_++);
    Stream& s = streams_[id];
    s.i = i;
    s.j = j;
    s.d = d;
    s.exhausted = false;
    s.batch = 4;
    s.buf.clear();
    s.pos = 0;
    if (from) {
      s.lo_d = from->diam;
      s.lo_key = from->key;
      s.lo_inclusive = true;
    } else {
      s.lo_d = d;
      s.lo_key = kNoKey;  // nothing of diameter d is F-before-or-equal key ~0
      s.lo_inclusive = false;
    }
    refill(s);
    if (s.alive()) heap_push(id);
  }

  bool advance(Stream& s) {
    ++s.pos;
    if (s.pos == s.buf.size() && !s.exhausted) refill(s);
    return s.alive();
  }

  // Select the next s.batch entries strictly F-after the bound (or equal to it when inclusive).
  void refill(Stream& s) {
    const uint32_t B = s.batch;
    if (s.batch < 1024) s.batch *= 4;
    sel_d_.resize(B);
    sel_k_.resize(B);
    const float* ri = D_ + int64_t(s.i) * n_;
    const float* rj = D_ + int64_t(s.j) * n_;
    const uint32_t count = select_batch(ri, rj, uint32_t(n_), s.i, s.j, s.d, thr_, s.lo_d, s.lo_key,
                                        s.lo_inclusive, B, sel_d_.data(), sel_k_.data());
    s.buf.resize(count);
    for (uint32_t q = 0; q < count; ++q) s.buf[q] = Entry{sel_d_[q], sel_k_[q]};
    s.pos = 0;
    s.exhausted = count < B;
    if (count > 0) {
      s.lo_d = sel_d_[count - 1];
      s.lo_key = sel_k_[count - 1];
      s.lo_inclusive = false;
    }
  }

  // Min-heap of live streams by their head (F order).
  bool later(int32_t a, int32_t b) const {
    const Entry& x = streams_[a].head();
    const Entry& y = streams_[b].head();
    return x.diam > y.diam || (x.diam == y.diam && x.key < y.key);
  }
  void heap_push(int32_t id) {
    heap_.push_back(id);
    std::push_heap(heap_.begin(), heap_.end(), [this](int32_t a, int32_t b) { return later(a, b); });
  }
  int32_t heap_pop() {
    std::pop_heap(heap_.begin(), heap_.end(), [this](int32_t a, int32_t b) { return later(a, b); });
    const int32_t id = heap_.back();
    heap_.pop_back();
    return id;
  }

  // The F-first entry of the working coboundary (sum over Z/2 of the streams); equal heads cancel.
  Entry get_pivot() {
    while (!heap_.empty()) {
      const int32_t a = heap_pop();
      if (!heap_.empty() && streams_[heap_.front()].head().key == streams_[a].head().key) {
        const int32_t b = heap_pop();
        if (advance(streams_[a])) heap_push(a);
        if (advance(streams_[b])) heap_push(b);
        continue;
      }
      heap_push(a);
      return streams_[a].head();
    }
    return Entry{kInf, kNoKey};
  }

  const float* D_ = nullptr;
  int64_t n_ = 0;
  float thr_ = 0;
  PivotMap pivots_;
  std::vector<size_t> v_begin_;
  std::vector<key_t> v_keys_;
  std::vector<Stream> streams_;  // pool, reused across columns
  size_t used_ = 0;
  std::vector<int32_t> heap_;
  std::vector<key_t> red_;
  std::vector<float> sel_d_;
  std::vector<key_t> sel_k_;
};

template <typename It, typename Cmp>
void parallel_sort(It first, It last, Cmp cmp, int threads) {
  const int64_t n = last - first;
  int parts = std::max(1, threads);
  while (parts > 1 && n / parts < 65536) parts /= 2;
  if (parts <= 1) {
    std::sort(first, last, cmp);
    return;
  }
  std::vector<int64_t> bounds(static_cast<size_t>(parts) + 1);
  for (int p = 0; p <= parts; ++p) bounds[p] = n * p / parts;
#pragma omp parallel for num_threads(parts) schedule(static, 1)
  for (int p = 0; p < parts; ++p) std::sort(first + bounds[p], first + bounds[p + 1], cmp);
  for (int width = 1; width < parts; width *= 2) {
#pragma omp parallel for num_threads(parts) schedule(static, 1)
    for (int p = 0; p < parts; p += 2 * width) {
      if (p + width < parts) {
        const int hi = std::min(parts, p + 2 * width);
        std::inplace_merge(first + bounds[p], first + bounds[p + width], first + bounds[hi], cmp);
      }
    }
  }
}

}  // namespace

std::vector<ColumnCode> collect_columns(const float* D, int64_t n, float threshold, const Forest& forest,
                                        int threads) {
  const int nt = n >= 768 ? std::max(1, threads) : 1;  // below that the scan takes a few milliseconds at most
  std::vector<std::vector<ColumnCode>> parts(static_cast<size_t>(nt));
#pragma omp parallel num_threads(nt)
  {
    std::vector<ColumnCode>& local = parts[static_cast<size_t>(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 8)
    for (int64_t i = 1; i < n; ++i) {
      const float* ri = D + i * n;
      for (int64_t j = 0; j < i; ++j) {
        const float d = ri[j];
        if (!(d <= threshold) || forest.is_tree_edge(i, j)) continue;
        const int64_t k = top_common_neighbor(ri, D + j * n, n, d, i, j, 0);
        if (k >= 0) {
          // k is already the F-first cofacet of (i, j): apparent iff (i, j) is the F-last facet.
          const key_t t = tri_key_of_edge(uint64_t(i), uint64_t(j), uint64_t(k));
          uint32_t x, y, z;
          last_facet(D, n, tri_a(t), tri_b(t), tri_c(t), d, x, y, z);
          if (x == uint32_t(i) && y == uint32_t(j)) continue;
        }
        const uint32_t e = edge_index(uint32_t(i), uint32_t(j));
        local.push_back({column_sort_key(d, e), column_value(int32_t(k), e)});
      }
    }
  }
  size_t total = 0;
  for (auto& p : parts) total += p.size();
  std::vector<ColumnCode> codes;
  codes.reserve(total);
  for (auto& p : parts) codes.insert(codes.end(), p.begin(), p.end());
  return codes;
}

void sort_columns(std::vector<ColumnCode>& codes, int threads) {
  parallel_sort(
      codes.begin(), codes.end(), [](const ColumnCode& a, const ColumnCode& b) { return a.key < b.key; }, threads);
}

std::vector<Column> decode_columns(const ColumnCode* codes, size_t count, const float* D, int64_t n) {
  std::vector<Column> cols(count);
  for (size_t q = 0; q < count; ++q) {
    uint32_t i, j;
    edge_from_index(column_value_edge(codes[q].value), i, j);
    cols[q] = Column{D[int64_t(i) * n + j], i, j, column_value_zk(codes[q].value)};
  }
  return cols;
}

void reduce_h1(const float* D, int64_t n, float threshold, const std::vector<Column>& columns,
               std::vector<Pair1>& out) {
  static thread_local Reducer r;
  r.reset(D, n, threshold);
  r.run(columns, out);
  if (columns.size() > (size_t(1) << 16)) r = Reducer();  // do not hold a big cloud's buffers for ever
}

}  // namespace rips
}  // namespace pydisent
