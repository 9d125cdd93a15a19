// Host half of the GPU witness pipeline (faces + reduction from the per-draw minima) and the CPU
// emulation of its device half (tests only: the stages of witness_cuda.cu run here with the same
// per-thread code, witness_flow.h, in the same data layout).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "persistence/witness.h"
#include "persistence/witness_flow.h"
#include "persistence/witness_internal.h"

namespace pydisent {
namespace witness {

// Candidates of one draw from its sorted unique (key, minimum) list.
void candidates_from_minima(const uint64_t* keys, const double* vals, int64_t n, int64_t L, Candidates& c) {
  c.reset(L);
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t k = keys[i];
    const int dim = flow::key_dim(k);
    if (dim == 0) {
      c.vertex(static_cast<int32_t>(flow::key_v(k, 0)), vals[i]);
    } else if (dim == 1) {
      c.edge(static_cast<int32_t>(flow::key_v(k, 0)), static_cast<int32_t>(flow::key_v(k, 1)), vals[i]);
    } else {
      c.triangle(static_cast<int32_t>(flow::key_v(k, 0)), static_cast<int32_t>(flow::key_v(k, 1)),
                 static_cast<int32_t>(flow::key_v(k, 2)), vals[i]);
    }
  }
}

void finish_from_minima(const Batch& in, const MinimaHost& m, int maxdim, bool filtration, int threads,
                        std::vector<Diagram>* diagrams, std::vector<Filtration>* filtrations) {
  const int64_t K = static_cast<int64_t>(m.off.size()) - 1;
  const int nt = std::max(1, std::min<int>(threads, static_cast<int>(std::max<int64_t>(K, 1))));
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
  for (int64_t k = 0; k < K; ++k) {
    if (m.overflow[k]) continue;
    static thread_local Candidates c;
    static thread_local Filtration f;
    candidates_from_minima(m.keys.data() + m.off[k], m.vals.data() + m.off[k], m.off[k + 1] - m.off[k], in.L, c);
    if (filtration) {
      assemble(c, in.strong, (*filtrations)[m.complex[k]]);
    } else {
      assemble(c, in.strong, f);
      Diagram& d = (*diagrams)[m.complex[k]];
      d = filtration_persistence(f, in.L, maxdim);
      top_dimension_rule(in, f, d);
    }
  }
}

// The draws a GPU thread could not hold (a window over flow::kCap), computed by the CPU engine.
void finish_overflow(const Batch& in, const std::vector<int64_t>& ks, int maxdim, bool filtration, int threads,
                     const double* host_points, std::vector<Diagram>* diagrams, std::vector<Filtration>* filtrations,
                     std::vector<double>& alphas) {
  if (ks.empty()) return;
  Batch sub = in;
  sub.points = host_points;
  std::vector<int64_t> lm(ks.size() * static_cast<size_t>(in.L)), cl(ks.size());
  std::vector<double> al(ks.size());
  for (size_t i = 0; i < ks.size(); ++i) {
    std::copy(in.landmarks + ks[i] * in.L, in.landmarks + (ks[i] + 1) * in.L, lm.begin() + i * in.L);
    cl[i] = in.cloud_of[ks[i]];
    al[i] = alphas[ks[i]];  // the GPU's own truncation (equal to the CPU's, which is recomputed anyway)
  }
  sub.landmarks = lm.data();
  sub.cloud_of = cl.data();
  sub.num_complexes = static_cast<int64_t>(ks.size());
  sub.alpha = al.data();
  sub.relative = 0;
  std::vector<double> a2;
  if (filtration) {
    auto r = witness_filtrations_cpu(sub, threads, a2);
    for (size_t i = 0; i < ks.size(); ++i) (*filtrations)[ks[i]] = std::move(r[i]);
  } else {
    auto r = witness_diagrams_cpu(sub, maxdim, threads, a2);
    for (size_t i = 0; i < ks.size(); ++i) (*diagrams)[ks[i]] = std::move(r[i]);
  }
}

namespace {

// The device stages on the host, in the device layout: T[k][l][w] per draw, counts per (draw, witness),
// one exclusive scan, the emission, per-draw sorts and the run-head minimum.
MinimaHost emulate_device(const Batch& in, std::vector<double>& alphas) {
  const int64_t K = in.num_complexes, L = in.L, d = in.dim;
  MinimaHost m;
  m.off.assign(static_cast<size_t>(K + 1), 0);
  m.overflow.assign(static_cast<size_t>(K), 0);
  m.complex.resize(static_cast<size_t>(K));
  std::iota(m.complex.begin(), m.complex.end(), 0);
  alphas.assign(static_cast<size_t>(K), 0.0);
  std::vector<int64_t> woff(static_cast<size_t>(K + 1), 0);  // (draw, witness) rows of each draw
  for (int64_t k = 0; k < K; ++k) {
    const int64_t c = in.cloud_of[k];
    woff[k + 1] = woff[k] + (in.cloud_offsets[c + 1] - in.cloud_offsets[c]);
  }
  std::vector<double> T;
  std::vector<int64_t> counts(static_cast<size_t>(woff[K])), coff(static_cast<size_t>(woff[K] + 1), 0);
  std::vector<uint64_t> keys;
  std::vector<double> vals;
  for (int64_t k = 0; k < K; ++k) {
    const int64_t c = in.cloud_of[k], r0 = in.cloud_offsets[c], N = in.cloud_offsets[c + 1] - r0;
    const double* X = in.points + r0 * d;
    const int64_t* lm = in.landmarks + k * L;
    T.resize(static_cast<size_t>(L * N));
    double mx = 0;
    for (int64_t l = 0; l < L; ++l)
      for (int64_t w = 0; w < N; ++w) {
        T[l * N + w] = flow::table_entry(X + w * d, X + lm[l] * d, d, in.squared);
        mx = std::max(mx, T[l * N + w]);
      }
    const double alpha = in.alpha ? in.alpha[k] : in.relative * mx;
    alphas[k] = alpha;
    for (int64_t w = 0; w < N; ++w) {
      const int64_t n = flow::witness_emit(T.data() + w, N, static_cast<int>(L), alpha, in.strong, nullptr, nullptr);
      if (n == flow::kOverflow) m.overflow[k] = 1;
      counts[woff[k] + w] = n == flow::kOverflow ? 0 : n;
    }
    for (int64_t w = 0; w < N; ++w) coff[woff[k] + w + 1] = coff[woff[k] + w] + counts[woff[k] + w];
    keys.resize(static_cast<size_t>(coff[woff[k] + N]));
    vals.resize(keys.size());
    for (int64_t w = 0; w < N; ++w)
      if (counts[woff[k] + w] > 0)
        flow::witness_emit(T.data() + w, N, static_cast<int>(L), alpha, in.strong, keys.data() + coff[woff[k] + w],
                           vals.data() + coff[woff[k] + w]);
  }
  // per-draw segments [coff[woff[k]], coff[woff[k + 1]]): sort by key, keep each run's minimum
  std::vector<int64_t> perm;
  for (int64_t k = 0; k < K; ++k) {
    const int64_t a = coff[woff[k]], b = coff[woff[k + 1]];
    perm.resize(static_cast<size_t>(b - a));
    std::iota(perm.begin(), perm.end(), a);
    std::stable_sort(perm.begin(), perm.end(), [&](int64_t x, int64_t y) { return keys[x] < keys[y]; });
    for (int64_t i = 0; i < b - a; ++i) {
      const int64_t p = perm[i];
      if (i == 0 || keys[p] != m.keys.back()) {
        m.keys.push_back(keys[p]);
        m.vals.push_back(vals[p]);
      } else if (vals[p] < m.vals.back()) {
        m.vals.back() = vals[p];
      }
    }
    m.off[k + 1] = static_cast<int64_t>(m.keys.size());
  }
  return m;
}

}  // namespace

void witness_emulated_gpu_flow(const Batch& in, int maxdim, bool filtration, int threads, std::vector<double>& alphas,
                               std::vector<Diagram>* diagrams, std::vector<Filtration>* filtrations) {
  if (filtration)
    filtrations->assign(static_cast<size_t>(in.num_complexes), Filtration{});
  else
    diagrams->assign(static_cast<size_t>(in.num_complexes), Diagram{});
  const MinimaHost m = emulate_device(in, alphas);
  finish_from_minima(in, m, maxdim, filtration, threads, diagrams, filtrations);
  std::vector<int64_t> over;
  for (int64_t k = 0; k < in.num_complexes; ++k)
    if (m.overflow[k]) over.push_back(k);
  finish_overflow(in, over, maxdim, filtration, threads, in.points, diagrams, filtrations, alphas);
}

}  // namespace witness
}  // namespace pydisent
