// Witness complexes (gudhi's weak relaxed WitnessComplex and StrongWitnessComplex, dimension <= 2)
// and the persistence (Z/2, H0 and H1) of their explicit filtrations, for a batch of landmark draws.
//
//   points (packed clouds) --table--> t(w, u): witness w to landmark point u, float64, for the
//                                      union of the landmarks of a chunk of draws (U x N, column-major)
//   per draw: gather its L columns --windows--> per witness the relaxation window and its three
//             nearest landmarks --candidates--> segmented minimum over witnesses per simplex
//             --faces--> the filtration (vertices, edges, triangles, each with its own value)
//             --H0 union-find + H1 cohomology (clearing, emergent pairs)--> diagrams
//
// Filtration rules (derived from gudhi's construction, see pydisent/topology/witness.py):
// * weak: sigma is witnessed by w with value max(0, dmax - m), where dmax = max_{l in sigma} t(w, l)
//   and m = min_{l not in sigma} t(w, l), when dmax - alpha <= m (computed in this order, in float64,
//   like gudhi); it enters when all its facets are in, at max(value, facet values);
// * strong: sigma enters at min_w (dmax - t0(w)) over the witnesses with t(w, l) < float(t0(w) + alpha)
//   for every l in sigma (t0(w) the witness's smallest entry; gudhi keeps that bound in a float).
// Self-contained on purpose: it shares nothing with the Rips engine's files.
#pragma once

#include <cstdint>
#include <vector>

namespace pydisent {
namespace witness {

// Landmarks per draw: edges live in direct arrays of L (L - 1) / 2 slots per thread (8 + 4 bytes each:
// 400 MB at this limit), and keys hold 20-bit vertex fields.
constexpr int64_t kMaxLandmarks = 8192;

struct Batch {
  const double* points = nullptr;      // packed rows of all clouds, dim coordinates each
  int64_t dim = 0;
  std::vector<int64_t> cloud_offsets;  // C + 1 row offsets
  const int64_t* landmarks = nullptr;  // K x L, indices local to the complex's cloud
  int64_t num_complexes = 0, L = 0;
  const int64_t* cloud_of = nullptr;   // K: the cloud of each complex
  const double* alpha = nullptr;       // K absolute truncations, or nullptr with relative > 0
  double relative = 0;                 // alpha_k = relative * max_{w, l} t(w, l) of draw k
  bool strong = false;
  bool squared = false;                // the table holds squared distances
  // gudhi's persistence(persistence_dim_max=False), what the reference calls, leaves out the homology
  // of the complex's top dimension: no H1 bars without triangles, no H0 bars without edges. false
  // reproduces that; true reports every H0/H1 bar.
  bool dim_max = false;
};

struct Bar {
  double birth, death;
};

struct Diagram {
  std::vector<Bar> h0, h1;
};

// One complex's filtration: vertices, edges (a < b), triangles (a < b < c) with their values.
struct Filtration {
  std::vector<int32_t> v, e, t;  // 1, 2, 3 entries per simplex
  std::vector<double> fv, fe, ft;
};

// Truncation actually used per complex (absolute or relative), filled by the calls below.
std::vector<Diagram> witness_diagrams_cpu(const Batch& in, int maxdim, int threads, std::vector<double>& alphas);
std::vector<Filtration> witness_filtrations_cpu(const Batch& in, int threads, std::vector<double>& alphas);
// The t(w, l) table of complex k (N x L, row-major), for tests.
std::vector<double> witness_table_cpu(const Batch& in, int64_t k);

// Persistence of one explicit filtration (faces must precede cofaces: f(face) <= f(coface), all faces
// present). Bars in canonical order: H0 by (death, birth), H1 by (birth, death); zero-length dropped.
Diagram filtration_persistence(const Filtration& f, int64_t L, int maxdim);
// Many of them, one per thread; dim_max as in Batch (false: gudhi's top-dimension rule).
void filtrations_persistence(const std::vector<Filtration>& fs, int64_t L, int maxdim, bool dim_max, int threads,
                             std::vector<Diagram>& out);

// Tests: the GPU pipeline's data flow run on the CPU (host points); fills diagrams or filtrations.
void witness_emulated_gpu_flow(const Batch& in, int maxdim, bool filtration, int threads, std::vector<double>& alphas,
                               std::vector<Diagram>* diagrams, std::vector<Filtration>* filtrations);

#ifdef PYDISENT_WITH_CUDA
// Tables, windows and the per-simplex minimum over witnesses on the GPU (one launch per stage for the
// whole batch); faces and the reduction on the CPU. `points` is a device pointer; landmarks, cloud_of,
// alpha and cloud_offsets are on the host.
std::vector<Diagram> witness_diagrams_cuda(const Batch& in, int maxdim, int device, uintptr_t stream, int threads,
                                           std::vector<double>& alphas);
std::vector<Filtration> witness_filtrations_cuda(const Batch& in, int device, uintptr_t stream, int threads,
                                                 std::vector<double>& alphas);
#endif

}  // namespace witness
}  // namespace pydisent
