// Vietoris-Rips H0/H1 engine (CPU). The stages are separate functions so the CUDA path can build
// the filtration on the GPU (distances, minimum spanning forest, columns with apparent pairs
// removed) and hand the same data to the same reduction code here.
//
//   points --distance_matrix--> D (n x n float32, symmetric, zero diagonal)
//   D or points --prim_*-------> minimum spanning forest (parent per vertex)    => H0 pairs
//   D + forest --collect_columns-> H1 columns: edges <= threshold that are neither tree edges
//                                  nor in an apparent pair, sorted in reverse filtration order
//   D + columns --reduce_h1------> H1 pairs (persistent cohomology, Z/2, ripser's algorithm)
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "persistence/rips_common.h"

// Hot loops have a generic and an AVX2 variant (common/cpu.h), chosen at the first call; never FMA:
// contracting a * b + c would change roundings, and results must not depend on the machine.
// PYDISENT_CPU_GENERIC=1 or PYDISENT_RIPS_GENERIC=1 forces the generic variants.
#include "common/cpu.h"
#define PYDISENT_RIPS_ENV "PYDISENT_RIPS_GENERIC"

namespace pydisent {
namespace rips {

// H0 pair: born at 0 in `birth_vertex` (the smallest vertex of the younger component), dies at
// the edge (u, v), u > v; essential classes have death = inf and u = v = -1.
struct Pair0 {
  float death;
  int32_t birth_vertex, u, v;
};

// H1 pair: born at edge (u > v), dies at triangle (a > b > c); essential: death = inf, a = b = c = -1.
struct Pair1 {
  float birth, death;
  int32_t u, v, a, b, c;
};

struct CloudResult {
  std::vector<Pair0> h0;
  std::vector<Pair1> h1;
};

// Minimum spanning forest of the edges with length <= threshold, unique because edges are ordered
// by the strict total order F; parent[root] = -1. Equals the negative edges of ripser's dim-0 pass.
struct Forest {
  std::vector<int32_t> parent;
  std::vector<float> length;  // length of the edge (v, parent[v]); unused for roots
  bool is_tree_edge(int64_t i, int64_t j) const { return parent[i] == j || parent[j] == i; }
};

// One H1 column: edge (i > j) with diameter `diam`; `zk` is the vertex of its zero-persistence
// pivot cofacet (the largest k with d(i,k) <= diam and d(j,k) <= diam), or -1.
struct Column {
  float diam;
  uint32_t i, j;
  int32_t zk;
};

// ---- geometry -------------------------------------------------------------------------------
// Full symmetric n x n float32 matrix of point distances (row-major into D).
template <typename T>
void distance_matrix(const T* points, int64_t n, int64_t dim, int metric, float* D, int threads);
// min_i max_j D[i][j]: beyond it the Rips complex is a cone, so it is a safe threshold for H1.
float enclosing_radius(const float* D, int64_t n);

// ---- H0 -------------------------------------------------------------------------------------
void prim_from_matrix(const float* D, int64_t n, float threshold, Forest& forest);
template <typename T>
void prim_from_points(const T* points, int64_t n, int64_t dim, int metric, float threshold, Forest& forest,
                      int threads);
// H0 diagram of a forest: finite pairs by increasing death (zero-length dropped), then one
// essential pair per component.
std::vector<Pair0> h0_pairs(const Forest& forest);

// ---- H1 -------------------------------------------------------------------------------------
// A column as (column_sort_key, column_value) of rips_common.h: the form the CUDA kernels emit.
struct ColumnCode {
  uint64_t key;
  uint64_t value;
};
// The columns of the H1 reduction (edges <= threshold, not in the forest, not in an apparent pair),
// unsorted; threshold must already include the enclosing-radius cap.
std::vector<ColumnCode> collect_columns(const float* D, int64_t n, float threshold, const Forest& forest,
                                        int threads);
// Ascending keys = reverse filtration order (diameter descending, then edge index ascending).
void sort_columns(std::vector<ColumnCode>& codes, int threads);
// Sorted codes -> columns of the reduction.
std::vector<Column> decode_columns(const ColumnCode* codes, size_t count, const float* D, int64_t n);
// Persistent cohomology reduction of the sorted columns; appends the H1 pairs in processing order.
void reduce_h1(const float* D, int64_t n, float threshold, const std::vector<Column>& columns,
               std::vector<Pair1>& out);

// ---- one cloud, many clouds -------------------------------------------------------------------
struct Settings {
  int maxdim = 1;
  // rounded to float32 as ripser does, and at most the largest float: infinite lengths are never edges
  float threshold = std::numeric_limits<float>::max();
};

template <typename T>
void rips_points(const T* points, int64_t n, int64_t dim, int metric, const Settings& s, CloudResult& out,
                 int threads);
// D: n x n, already validated (symmetric, zero diagonal, no NaN, no negative entry).
void rips_matrix(const float* D, int64_t n, const Settings& s, CloudResult& out, int threads);

}  // namespace rips
}  // namespace pydisent
