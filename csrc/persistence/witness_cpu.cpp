// Witness complexes and explicit-filtration persistence on the CPU (see witness.h for the rules).
#include <omp.h>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "common/check.h"
#include "persistence/witness.h"
#include "persistence/witness_internal.h"

namespace pydisent {
namespace witness {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Table memory per chunk of draws (U x N float64): the union of a chunk's landmarks is computed once.
constexpr int64_t kTableBudget = int64_t(256) << 20;
constexpr int64_t kBlock = 64;  // witnesses per block: a block's columns stay in L1

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
// AVX2 without FMA: a * b + c must not be contracted (the numbers must equal the reference's).
#define WITNESS_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define WITNESS_CLONES
#endif

#if defined(__GNUC__) && defined(__x86_64__)
// Four columns at once, eight witnesses per step with the accumulators in registers: the same
// operations per entry as table_column (subtract, multiply, add in coordinate order, no FMA), so the
// same bits; only the loads are shared.
__attribute__((target("avx2"))) void table_columns4_avx2(const double* XT, int64_t N, int64_t d, const double* const* y,
                                                        bool squared, double* const* rows) {
  int64_t w = 0;
  for (; w + 8 <= N; w += 8) {
    __m256d acc[4][2];
    for (int j = 0; j < 4; ++j) acc[j][0] = acc[j][1] = _mm256_setzero_pd();
    for (int64_t q = 0; q < d; ++q) {
      const __m256d x0 = _mm256_loadu_pd(XT + q * N + w), x1 = _mm256_loadu_pd(XT + q * N + w + 4);
      for (int j = 0; j < 4; ++j) {
        const __m256d yq = _mm256_set1_pd(y[j][q]);
        const __m256d t0 = _mm256_sub_pd(x0, yq), t1 = _mm256_sub_pd(x1, yq);
        acc[j][0] = _mm256_add_pd(acc[j][0], _mm256_mul_pd(t0, t0));
        acc[j][1] = _mm256_add_pd(acc[j][1], _mm256_mul_pd(t1, t1));
      }
    }
    for (int j = 0; j < 4; ++j) {
      if (!squared) acc[j][0] = _mm256_sqrt_pd(acc[j][0]), acc[j][1] = _mm256_sqrt_pd(acc[j][1]);
      _mm256_storeu_pd(rows[j] + w, acc[j][0]);
      _mm256_storeu_pd(rows[j] + w + 4, acc[j][1]);
    }
  }
  for (; w < N; ++w)
    for (int j = 0; j < 4; ++j) {
      double a = 0.0;
      for (int64_t q = 0; q < d; ++q) {
        const double t = XT[q * N + w] - y[j][q];
        const double s2 = t * t;
        a = a + s2;
      }
      rows[j][w] = squared ? a : std::sqrt(a);
    }
}
const bool kTableAvx2 = __builtin_cpu_supports("avx2");
#endif

// Column u of Tc (U x N): distances from every witness to landmark point y = X[uidx[u]], accumulated
// in float64 in coordinate order (the same operations as the numpy reference, so the same bits).
WITNESS_CLONES void table_column(const double* XT, int64_t N, int64_t d, const double* y, bool squared, double* row) {
  for (int64_t w = 0; w < N; ++w) row[w] = 0.0;
  for (int64_t q = 0; q < d; ++q) {
    const double yq = y[q];
    const double* xq = XT + q * N;
    for (int64_t w = 0; w < N; ++w) {
      const double t = xq[w] - yq;
      const double s = t * t;
      row[w] = row[w] + s;
    }
  }
  if (!squared)
    for (int64_t w = 0; w < N; ++w) row[w] = std::sqrt(row[w]);
}

// The smallest (strong) or three smallest (weak) entries of each witness of a block, as a multiset.
// Branch-free min/max so that the lanes (witnesses) vectorise.
WITNESS_CLONES void smallest_block(const double* const* cols, int64_t L, int64_t w0, int64_t nb, bool one,
                                   double* m0, double* m1, double* m2) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < nb; ++i) m0[i] = m1[i] = m2[i] = inf;
  if (one) {
    for (int64_t l = 0; l < L; ++l) {
      const double* col = cols[l] + w0;
      for (int64_t i = 0; i < nb; ++i) m0[i] = col[i] < m0[i] ? col[i] : m0[i];
    }
    return;
  }
  for (int64_t l = 0; l < L; ++l) {
    const double* col = cols[l] + w0;
    for (int64_t i = 0; i < nb; ++i) {
      const double v = col[i], a = m0[i], b = m1[i], c = m2[i];
      const double lo0 = v < a ? v : a, hi0 = v < a ? a : v;
      const double lo1 = hi0 < b ? hi0 : b, hi1 = hi0 < b ? b : hi0;
      m0[i] = lo0;
      m1[i] = lo1;
      m2[i] = hi1 < c ? hi1 : c;
    }
  }
}

// The window of each witness of a block, positions ascending: weak, value - alpha <= lim; strong,
// value < lim. Few entries qualify, so the test runs on whole vectors and only hits are visited.
void window_block_generic(const double* const* cols, int64_t L, int64_t w0, int64_t nb, double alpha,
                          const double* lim, bool strong, std::vector<LV>* win) {
  for (int64_t l = 0; l < L; ++l) {
    const double* col = cols[l] + w0;
    const int32_t ll = static_cast<int32_t>(l);
    for (int64_t i = 0; i < nb; ++i)
      if (strong ? col[i] < lim[i] : col[i] - alpha <= lim[i]) win[i].push_back(LV{col[i], ll});
  }
}

#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target("avx2"))) void window_block_avx2(const double* const* cols, int64_t L, int64_t w0, int64_t nb,
                                                        double alpha, const double* lim, bool strong,
                                                        std::vector<LV>* win) {
  if (nb != kBlock) return window_block_generic(cols, L, w0, nb, alpha, lim, strong, win);
  const __m256d va = _mm256_set1_pd(alpha);
  __m256d vl[kBlock / 4];
  for (int64_t q = 0; q < kBlock / 4; ++q) vl[q] = _mm256_loadu_pd(lim + 4 * q);
  for (int64_t l = 0; l < L; ++l) {
    const double* col = cols[l] + w0;
    uint64_t mask = 0;
    for (int64_t q = 0; q < kBlock / 4; ++q) {
      const __m256d v = _mm256_loadu_pd(col + 4 * q);
      // the same operations as the scalar test: (v - alpha) <= lim, or v < lim
      const __m256d hit = strong ? _mm256_cmp_pd(v, vl[q], _CMP_LT_OQ)
                                 : _mm256_cmp_pd(_mm256_sub_pd(v, va), vl[q], _CMP_LE_OQ);
      mask |= static_cast<uint64_t>(_mm256_movemask_pd(hit)) << (4 * q);
    }
    while (mask) {
      const int i = __builtin_ctzll(mask);
      mask &= mask - 1;
      win[i].push_back(LV{col[i], static_cast<int32_t>(l)});
    }
  }
}

using WindowFn = void (*)(const double* const*, int64_t, int64_t, int64_t, double, const double*, bool,
                          std::vector<LV>*);
const WindowFn window_block = __builtin_cpu_supports("avx2") ? &window_block_avx2 : &window_block_generic;
#else
inline void window_block(const double* const* cols, int64_t L, int64_t w0, int64_t nb, double alpha, const double* lim,
                         bool strong, std::vector<LV>* win) {
  window_block_generic(cols, L, w0, nb, alpha, lim, strong, win);
}
#endif

}  // namespace

// ---- tables -----------------------------------------------------------------------------------------

void Tables::build(const Batch& in, int64_t cloud, const std::vector<int64_t>& complexes, int threads) {
  const int64_t r0 = in.cloud_offsets[cloud];
  N = in.cloud_offsets[cloud + 1] - r0;
  const int64_t d = in.dim;
  const double* X = in.points + r0 * d;
  // union of the chunk's landmarks
  colmap.assign(static_cast<size_t>(N), -1);
  uidx.clear();
  for (int64_t k : complexes) {
    const int64_t* lm = in.landmarks + k * in.L;
    for (int64_t l = 0; l < in.L; ++l)
      if (colmap[lm[l]] < 0) {
        colmap[lm[l]] = static_cast<int32_t>(uidx.size());
        uidx.push_back(lm[l]);
      }
  }
  const int64_t U = static_cast<int64_t>(uidx.size());
  XT.resize(static_cast<size_t>(N * d));
  for (int64_t w = 0; w < N; ++w)
    for (int64_t q = 0; q < d; ++q) XT[q * N + w] = X[w * d + q];
  Tc.resize(static_cast<size_t>(U * N));
  colmax.resize(static_cast<size_t>(U));
  const int nt = std::max(1, std::min<int>(threads, static_cast<int>((U + 3) / 4)));
  const int64_t blocks = (U + 3) / 4;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
  for (int64_t ub = 0; ub < blocks; ++ub) {
    const int64_t u0 = 4 * ub, nu = std::min<int64_t>(4, U - u0);
#if defined(__GNUC__) && defined(__x86_64__)
    if (kTableAvx2 && nu == 4) {
      const double* y[4];
      double* rows[4];
      for (int j = 0; j < 4; ++j) y[j] = X + uidx[u0 + j] * d, rows[j] = Tc.data() + (u0 + j) * N;
      table_columns4_avx2(XT.data(), N, d, y, in.squared, rows);
    } else
#endif
    {
      for (int64_t u = u0; u < u0 + nu; ++u) table_column(XT.data(), N, d, X + uidx[u] * d, in.squared, Tc.data() + u * N);
    }
    for (int64_t u = u0; u < u0 + nu; ++u) {
      const double* row = Tc.data() + u * N;
      double m = 0;
      for (int64_t w = 0; w < N; ++w) m = std::max(m, row[w]);
      colmax[u] = m;
    }
  }
}

// Chunks of complexes of one cloud whose union of landmarks fits the table budget, in input order.
std::vector<std::vector<int64_t>> chunk_complexes(const Batch& in, int64_t cloud, const std::vector<int64_t>& ks) {
  const int64_t N = in.cloud_offsets[cloud + 1] - in.cloud_offsets[cloud];
  const int64_t max_cols = std::max<int64_t>(in.L, kTableBudget / (8 * std::max<int64_t>(N, 1)));
  std::vector<std::vector<int64_t>> chunks;
  std::vector<char> seen(static_cast<size_t>(N), 0);
  std::vector<int64_t> touched;
  int64_t cols = 0;
  for (int64_t k : ks) {
    const int64_t* lm = in.landmarks + k * in.L;
    int64_t fresh = 0;
    for (int64_t l = 0; l < in.L; ++l) fresh += !seen[lm[l]];  // counts duplicates within a draw: an upper bound
    if (!chunks.empty() && !chunks.back().empty() && cols + fresh > max_cols) {
      for (int64_t t : touched) seen[t] = 0;
      touched.clear();
      cols = 0;
      chunks.emplace_back();
    }
    if (chunks.empty()) chunks.emplace_back();
    for (int64_t l = 0; l < in.L; ++l)
      if (!seen[lm[l]]) {
        seen[lm[l]] = 1;
        touched.push_back(lm[l]);
        ++cols;
      }
    chunks.back().push_back(k);
  }
  return chunks;
}

double complex_alpha(const Batch& in, const Tables& tb, int64_t k) {
  if (in.alpha) return in.alpha[k];
  double m = 0;
  const int64_t* lm = in.landmarks + k * in.L;
  for (int64_t l = 0; l < in.L; ++l) m = std::max(m, tb.colmax[tb.colmap[lm[l]]]);
  return in.relative * m;
}

// ---- candidates: per witness, then the minimum over witnesses ---------------------------------------

void Candidates::reset(int64_t L_) {
  L = L_;
  vmin.assign(static_cast<size_t>(L), kInf);
  const int64_t ne = L * (L - 1) / 2;
  if (static_cast<int64_t>(emin.size()) != ne) {
    emin.assign(static_cast<size_t>(ne), kInf);
  } else {
    for (int64_t e : etouched) emin[e] = kInf;  // keeps the big array allocated between complexes
  }
  etouched.clear();
  tri.clear();
}

// Weak relaxed complex, one witness: d[0..2] / p[0..2] its three smallest entries and positions
// (p = -1 when L < 3), win the (position, value) pairs with value - alpha <= d[2].
void weak_witness(Candidates& c, const double d[3], const int32_t p[3], const LV* win, int64_t nwin, double alpha) {
  const double d0 = d[0], d1 = d[1], d2 = d[2];
  const int32_t p0 = p[0], p1 = p[1], p2 = p[2];
  auto rel = [](double dmax, double m) { return dmax > m ? dmax - m : 0.0; };
  // W0 \ {p0}: value - alpha <= d0; W1 \ {p0, p1}: value - alpha <= d1 (both subsets of win, in order)
  LV w0[kMaxWindowInline], w1[kMaxWindowInline];
  std::vector<LV> w0v, w1v;
  int64_t n0 = 0, n1 = 0;
  for (int64_t i = 0; i < nwin; ++i) {
    const LV x = win[i];
    if (x.l == p0) continue;
    if (x.v - alpha <= d0) {
      if (n0 < kMaxWindowInline) w0[n0] = x; else { if (n0 == kMaxWindowInline) w0v.assign(w0, w0 + n0); w0v.push_back(x); }
      ++n0;
    }
    if (x.l != p1 && x.v - alpha <= d1) {
      if (n1 < kMaxWindowInline) w1[n1] = x; else { if (n1 == kMaxWindowInline) w1v.assign(w1, w1 + n1); w1v.push_back(x); }
      ++n1;
    }
  }
  const LV* W0 = n0 > kMaxWindowInline ? w0v.data() : w0;
  const LV* W1 = n1 > kMaxWindowInline ? w1v.data() : w1;
  // vertices: {p0} at 0 (a prefix); any other witnessed vertex is relaxed against d0
  c.vertex(p0, 0.0);
  for (int64_t i = 0; i < n0; ++i) c.vertex(W0[i].l, rel(W0[i].v, d0));
  if (p1 < 0) return;
  // edges: {p0, p1} at 0; {p0, x} (p1 not in) against d1; {x, y} (p0 not in) against d0
  c.edge(p0, p1, 0.0);
  for (int64_t i = 0; i < n1; ++i) c.edge(p0, W1[i].l, rel(W1[i].v, d1));
  for (int64_t i = 0; i < n0; ++i)
    for (int64_t j = i + 1; j < n0; ++j) c.edge(W0[i].l, W0[j].l, rel(std::max(W0[i].v, W0[j].v), d0));
  if (p2 < 0) return;
  // triangles: {p0, p1, p2} at 0; {p0, p1, x} against d2; {p0, x, y} (p1 not in) against d1;
  // {x, y, z} (p0 not in) against d0
  c.triangle(p0, p1, p2, 0.0);
  for (int64_t i = 0; i < nwin; ++i) {
    const LV x = win[i];
    if (x.l == p0 || x.l == p1 || x.l == p2) continue;
    c.triangle(p0, p1, x.l, rel(x.v, d2));  // win holds exactly value - alpha <= d2
  }
  for (int64_t i = 0; i < n1; ++i)
    for (int64_t j = i + 1; j < n1; ++j) {
      const double dm = std::max(W1[i].v, W1[j].v);
      if (dm - alpha <= d1) c.triangle(p0, W1[i].l, W1[j].l, rel(dm, d1));
    }
  for (int64_t i = 0; i < n0; ++i)
    for (int64_t j = i + 1; j < n0; ++j)
      for (int64_t q = j + 1; q < n0; ++q)
        c.triangle(W0[i].l, W0[j].l, W0[q].l, rel(std::max(W0[i].v, std::max(W0[j].v, W0[q].v)), d0));
}

// Strong complex, one witness: every subset (size <= 3) of its window at max value - d0.
void strong_witness(Candidates& c, double d0, const LV* win, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double vi = win[i].v - d0;
    c.vertex(win[i].l, vi);
    for (int64_t j = i + 1; j < n; ++j) {
      const double vij = std::max(win[i].v, win[j].v) - d0;
      c.edge(win[i].l, win[j].l, vij);
      for (int64_t q = j + 1; q < n; ++q)
        c.triangle(win[i].l, win[j].l, win[q].l, std::max(std::max(win[i].v, win[j].v), win[q].v) - d0);
    }
  }
}

// All witnesses of complex k; tb holds the chunk's table.
void complex_candidates(const Batch& in, const Tables& tb, int64_t k, double alpha, Candidates& c, WindowWork& ww) {
  const int64_t L = in.L, N = tb.N;
  c.reset(L);
  const int64_t* lm = in.landmarks + k * L;
  ww.cols.resize(static_cast<size_t>(L));
  for (int64_t l = 0; l < L; ++l) ww.cols[l] = tb.Tc.data() + int64_t(tb.colmap[lm[l]]) * N;
  for (int64_t w0 = 0; w0 < N; w0 += kBlock) {
    const int64_t nb = std::min(kBlock, N - w0);
    alignas(64) double m0[kBlock], m1[kBlock], m2[kBlock], lim[kBlock];
    smallest_block(ww.cols.data(), L, w0, nb, in.strong, m0, m1, m2);
    for (int64_t i = 0; i < nb; ++i) {
      ww.win[i].clear();
      // gudhi's strong bound is a float; the weak window is every entry with value - alpha <= d2
      lim[i] = in.strong ? static_cast<double>(static_cast<float>(m0[i] + alpha)) : m2[i];
    }
    window_block(ww.cols.data(), L, w0, nb, alpha, lim, in.strong, ww.win);
    for (int64_t i = 0; i < nb; ++i) {
      auto& win = ww.win[i];
      if (in.strong) {
        strong_witness(c, m0[i], win.data(), static_cast<int64_t>(win.size()));
      } else {
        // the window holds every entry <= d2, so its first three by (value, position) are the
        // witness's three nearest landmarks (ties: the earlier position first)
        const int64_t n = static_cast<int64_t>(win.size());
        for (int64_t a = 1; a < n; ++a) {
          const LV x = win[a];
          int64_t b = a;
          while (b > 0 && (x.v < win[b - 1].v)) {  // positions arrive ascending: stable by value
            win[b] = win[b - 1];
            --b;
          }
          win[b] = x;
        }
        const double d[3] = {m0[i], m1[i], m2[i]};
        const int32_t p[3] = {n > 0 ? win[0].l : -1, n > 1 ? win[1].l : -1, n > 2 ? win[2].l : -1};
        weak_witness(c, d, p, win.data(), n, alpha);
      }
    }
  }
}

// ---- faces: the filtration ----------------------------------------------------------------------------

void assemble(Candidates& c, bool strong, Filtration& f) {
  const int64_t L = c.L;
  f.v.clear(); f.fv.clear(); f.e.clear(); f.fe.clear(); f.t.clear(); f.ft.clear();
  for (int64_t l = 0; l < L; ++l)
    if (c.vmin[l] < kInf) {
      f.v.push_back(static_cast<int32_t>(l));
      f.fv.push_back(c.vmin[l]);
    }
  // edges: weak ones need both vertices and take the larger value; absent ones become inf in emin
  std::sort(c.etouched.begin(), c.etouched.end());
  for (int64_t e : c.etouched) {
    int32_t a, b;
    edge_vertices(e, a, b);
    double v = c.emin[e];
    if (!strong) {
      if (!(c.vmin[a] < kInf) || !(c.vmin[b] < kInf)) {
        c.emin[e] = kInf;
        continue;
      }
      v = std::max(v, std::max(c.vmin[a], c.vmin[b]));
      c.emin[e] = v;
    }
    f.e.push_back(a);
    f.e.push_back(b);
    f.fe.push_back(v);
  }
  c.tri.items(c.titems);
  for (const auto& it : c.titems) {
    const int32_t a = tri_a(it.first), b = tri_b(it.first), cc = tri_c(it.first);
    double v = it.second;
    if (!strong) {
      const double eab = c.emin[edge_id(a, b)], eac = c.emin[edge_id(a, cc)], ebc = c.emin[edge_id(b, cc)];
      if (!(eab < kInf) || !(eac < kInf) || !(ebc < kInf)) continue;
      v = std::max(v, std::max(eab, std::max(eac, ebc)));
    }
    f.t.push_back(a);
    f.t.push_back(b);
    f.t.push_back(cc);
    f.ft.push_back(v);
  }
}

// ---- persistence ----------------------------------------------------------------------------------------

namespace {

struct UnionFind {
  std::vector<int32_t> parent;
  void reset(int64_t n) {
    parent.resize(static_cast<size_t>(n));
    std::iota(parent.begin(), parent.end(), 0);
  }
  int32_t find(int32_t x) {
    while (parent[x] != x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  }
};

struct Keyed {
  double v;
  uint64_t key;
  int32_t idx;
};

// order[r] = the r-th simplex by (value, key): the simplexwise refinement of the filtration.
template <typename KeyFn>
void sort_order(const double* values, int64_t n, KeyFn key, std::vector<Keyed>& buf, std::vector<int32_t>& order) {
  buf.resize(static_cast<size_t>(n));
  for (int64_t x = 0; x < n; ++x) buf[x] = Keyed{values[x], key(x), static_cast<int32_t>(x)};
  std::sort(buf.begin(), buf.end(),
            [](const Keyed& a, const Keyed& b) { return a.v < b.v || (a.v == b.v && a.key < b.key); });
  order.resize(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) order[r] = buf[r].idx;
}

struct PersistenceWork {
  std::vector<Keyed> keyed;
  std::vector<int32_t> eorder, torder, eslot_of_id, ccount, cof, owner, colstart, collen, pool, work, tmp;
  std::vector<double> vbirth;
  std::vector<int32_t> vrank;
  std::vector<char> mst;
  UnionFind uf;
};

// Z/2 sum of two sorted columns into out.
void add_columns(const int32_t* a, int64_t na, const int32_t* b, int64_t nb, std::vector<int32_t>& out) {
  out.clear();
  int64_t i = 0, j = 0;
  while (i < na && j < nb) {
    if (a[i] < b[j]) out.push_back(a[i++]);
    else if (b[j] < a[i]) out.push_back(b[j++]);
    else ++i, ++j;
  }
  while (i < na) out.push_back(a[i++]);
  while (j < nb) out.push_back(b[j++]);
}

}  // namespace

Diagram filtration_persistence(const Filtration& f, int64_t L, int maxdim) {
  static thread_local PersistenceWork pw;
  Diagram out;
  const int64_t nv = static_cast<int64_t>(f.v.size()), ne = static_cast<int64_t>(f.fe.size()),
                nt = static_cast<int64_t>(f.ft.size());
  // vertex order (value, id): the elder of two components is the one born first in it
  pw.vbirth.assign(static_cast<size_t>(L), kInf);
  pw.vrank.assign(static_cast<size_t>(L), -1);
  {
    std::vector<int32_t> vo(static_cast<size_t>(nv));
    std::iota(vo.begin(), vo.end(), 0);
    std::sort(vo.begin(), vo.end(), [&](int32_t x, int32_t y) {
      return f.fv[x] < f.fv[y] || (f.fv[x] == f.fv[y] && f.v[x] < f.v[y]);
    });
    for (int64_t r = 0; r < nv; ++r) {
      pw.vbirth[f.v[vo[r]]] = f.fv[vo[r]];
      pw.vrank[f.v[vo[r]]] = static_cast<int32_t>(r);
    }
  }
  // edges in filtration order (value, then a < b lexicographic)
  sort_order(f.fe.data(), ne, [&](int64_t x) { return static_cast<uint64_t>(edge_id(f.e[2 * x], f.e[2 * x + 1])); },
             pw.keyed, pw.eorder);
  // H0: union-find, the younger component (later born) dies
  pw.uf.reset(L);
  pw.mst.assign(static_cast<size_t>(ne), 0);
  for (int64_t r = 0; r < ne; ++r) {
    const int32_t x = pw.eorder[r];
    int32_t ra = pw.uf.find(f.e[2 * x]), rb = pw.uf.find(f.e[2 * x + 1]);
    if (ra == rb) continue;
    pw.mst[r] = 1;
    if (pw.vrank[ra] > pw.vrank[rb]) std::swap(ra, rb);  // ra elder (its root is its oldest vertex)
    const double birth = pw.vbirth[rb], death = f.fe[x];
    if (death > birth) out.h0.push_back({birth, death});
    pw.uf.parent[rb] = ra;
  }
  for (int64_t i = 0; i < nv; ++i) {
    const int32_t v = f.v[i];
    if (pw.uf.find(v) == v) out.h0.push_back({f.fv[i], kInf});
  }
  std::sort(out.h0.begin(), out.h0.end(), [](const Bar& a, const Bar& b) {
    return a.death < b.death || (a.death == b.death && a.birth < b.birth);
  });
  if (maxdim < 1) return out;

  // triangles in filtration order (value, then key); cofacet lists per edge slot, ascending
  sort_order(f.ft.data(), nt, [&](int64_t x) { return tri_key(f.t[3 * x], f.t[3 * x + 1], f.t[3 * x + 2]); },
             pw.keyed, pw.torder);
  const int64_t nid = L * (L - 1) / 2;
  pw.eslot_of_id.resize(static_cast<size_t>(std::max<int64_t>(nid, 1)));
  for (int64_t r = 0; r < ne; ++r) {
    const int32_t x = pw.eorder[r];
    pw.eslot_of_id[edge_id(f.e[2 * x], f.e[2 * x + 1])] = static_cast<int32_t>(r);
  }
  pw.ccount.assign(static_cast<size_t>(ne + 1), 0);
  auto slots_of = [&](int32_t x, int32_t s[3]) {
    const int32_t a = f.t[3 * x], b = f.t[3 * x + 1], c = f.t[3 * x + 2];
    s[0] = pw.eslot_of_id[edge_id(a, b)];
    s[1] = pw.eslot_of_id[edge_id(a, c)];
    s[2] = pw.eslot_of_id[edge_id(b, c)];
  };
  for (int64_t r = 0; r < nt; ++r) {
    int32_t s[3];
    slots_of(pw.torder[r], s);
    for (int q = 0; q < 3; ++q) ++pw.ccount[s[q] + 1];
  }
  for (int64_t r = 0; r < ne; ++r) pw.ccount[r + 1] += pw.ccount[r];
  pw.cof.resize(static_cast<size_t>(3 * nt));
  {
    std::vector<int32_t> fill(pw.ccount.begin(), pw.ccount.end() - 1);
    for (int64_t r = 0; r < nt; ++r) {
      int32_t s[3];
      slots_of(pw.torder[r], s);
      for (int q = 0; q < 3; ++q) pw.cof[fill[s[q]]++] = static_cast<int32_t>(r);
    }
  }
  // cohomology: edge columns in reverse filtration order; forest edges are cleared (their columns
  // reduce to zero, paired in dimension 0); a column whose pivot (first cofacet) is unclaimed is
  // reduced as it is (emergent or apparent pairs cost nothing); otherwise add the owner's column
  pw.owner.assign(static_cast<size_t>(nt), -1);
  pw.colstart.assign(static_cast<size_t>(ne), 0);
  pw.collen.assign(static_cast<size_t>(ne), 0);
  pw.pool.clear();
  std::vector<char> in_pool(static_cast<size_t>(ne), 0);
  for (int64_t r = ne - 1; r >= 0; --r) {
    if (pw.mst[r]) continue;
    const double birth = f.fe[pw.eorder[r]];
    const int32_t* col = pw.cof.data() + pw.ccount[r];
    int64_t len = pw.ccount[r + 1] - pw.ccount[r];
    bool copied = false;
    while (len > 0) {
      const int32_t piv = col[0];
      const int32_t o = pw.owner[piv];
      if (o < 0) break;
      const int32_t* oc = in_pool[o] ? pw.pool.data() + pw.colstart[o] : pw.cof.data() + pw.ccount[o];
      add_columns(col, len, oc, pw.collen[o], pw.tmp);
      pw.work.swap(pw.tmp);
      col = pw.work.data();
      len = static_cast<int64_t>(pw.work.size());
      copied = true;
    }
    if (len == 0) {
      out.h1.push_back({birth, kInf});
      continue;
    }
    const int32_t piv = col[0];
    pw.owner[piv] = static_cast<int32_t>(r);
    pw.collen[r] = static_cast<int32_t>(len);
    if (copied) {
      in_pool[r] = 1;
      pw.colstart[r] = static_cast<int32_t>(pw.pool.size());
      pw.pool.insert(pw.pool.end(), col, col + len);
    }
    const double death = f.ft[pw.torder[piv]];
    if (death > birth) out.h1.push_back({birth, death});
  }
  std::sort(out.h1.begin(), out.h1.end(), [](const Bar& a, const Bar& b) {
    return a.birth < b.birth || (a.birth == b.birth && a.death < b.death);
  });
  return out;
}

// ---- batch drivers --------------------------------------------------------------------------------------

void filtrations_persistence(const std::vector<Filtration>& fs, int64_t L, int maxdim, bool dim_max, int threads,
                             std::vector<Diagram>& out) {
  const int64_t K = static_cast<int64_t>(fs.size());
  out.resize(fs.size());
  Batch rule;
  rule.dim_max = dim_max;
  const int nt = std::max(1, std::min<int>(threads, static_cast<int>(std::max<int64_t>(K, 1))));
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
  for (int64_t k = 0; k < K; ++k) {
    out[k] = filtration_persistence(fs[k], L, maxdim);
    top_dimension_rule(rule, fs[k], out[k]);
  }
}

void top_dimension_rule(const Batch& in, const Filtration& f, Diagram& d) {
  if (in.dim_max) return;
  if (f.ft.empty()) d.h1.clear();
  if (f.fe.empty()) d.h0.clear();
}

namespace {

// Runs fn(k, tables, alpha) for every complex, cloud by cloud and chunk by chunk, complexes in parallel.
template <typename Fn>
void for_each_complex(const Batch& in, int threads, std::vector<double>& alphas, Fn&& fn) {
  const int64_t C = static_cast<int64_t>(in.cloud_offsets.size()) - 1;
  alphas.assign(static_cast<size_t>(in.num_complexes), 0.0);
  std::vector<std::vector<int64_t>> by_cloud(static_cast<size_t>(std::max<int64_t>(C, 0)));
  for (int64_t k = 0; k < in.num_complexes; ++k) by_cloud[in.cloud_of[k]].push_back(k);
  Tables tb;
  for (int64_t c = 0; c < C; ++c) {
    if (by_cloud[c].empty()) continue;
    for (const auto& chunk : chunk_complexes(in, c, by_cloud[c])) {
      tb.build(in, c, chunk, threads);
      const int64_t n = static_cast<int64_t>(chunk.size());
      const int nt = std::max(1, std::min<int>(threads, static_cast<int>(n)));
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k = chunk[i];
        const double a = complex_alpha(in, tb, k);
        alphas[k] = a;
        fn(k, tb, a);
      }
    }
  }
}

}  // namespace

std::vector<Diagram> witness_diagrams_cpu(const Batch& in, int maxdim, int threads, std::vector<double>& alphas) {
  std::vector<Diagram> out(static_cast<size_t>(in.num_complexes));
  for_each_complex(in, threads, alphas, [&](int64_t k, const Tables& tb, double a) {
    static thread_local Candidates c;
    static thread_local WindowWork ww;
    static thread_local Filtration f;
    complex_candidates(in, tb, k, a, c, ww);
    assemble(c, in.strong, f);
    out[k] = filtration_persistence(f, in.L, maxdim);
    top_dimension_rule(in, f, out[k]);
  });
  return out;
}

std::vector<Filtration> witness_filtrations_cpu(const Batch& in, int threads, std::vector<double>& alphas) {
  std::vector<Filtration> out(static_cast<size_t>(in.num_complexes));
  for_each_complex(in, threads, alphas, [&](int64_t k, const Tables& tb, double a) {
    static thread_local Candidates c;
    static thread_local WindowWork ww;
    complex_candidates(in, tb, k, a, c, ww);
    assemble(c, in.strong, out[k]);
  });
  return out;
}

std::vector<double> witness_table_cpu(const Batch& in, int64_t k) {
  Tables tb;
  const int64_t c = in.cloud_of[k];
  tb.build(in, c, {k}, 1);
  const int64_t* lm = in.landmarks + k * in.L;
  std::vector<double> t(static_cast<size_t>(tb.N * in.L));
  for (int64_t w = 0; w < tb.N; ++w)
    for (int64_t l = 0; l < in.L; ++l) t[w * in.L + l] = tb.Tc[int64_t(tb.colmap[lm[l]]) * tb.N + w];
  return t;
}

}  // namespace witness
}  // namespace pydisent
