// The CPU distance kernel, written once and compiled once per instruction set.
//
// Included by distance_cpu_<isa>.cpp AFTER all its #includes and (for AVX2/AVX-512) after its
// `#pragma GCC target`. The including file defines:
//   PD_VBYTES  vector width in bytes (16, 32 or 64)
//   PD_ROWS    rows of x per micro-tile
//   PD_NVEC    vectors of y columns per micro-tile
//   PD_RUN_FN  name of the exported entry point, int PD_RUN_FN(const DistanceJob&)
// Everything except PD_RUN_FN lives in an anonymous namespace and no standard-library template is
// instantiated here: code compiled for AVX-512 must never be merged by the linker with the portable
// copy of the "same" inline function (that would run AVX-512 instructions on CPUs without them).
//
// Algorithm (GEMM-like, but with the metric's own inner operation instead of a multiply-add):
//   * the output is cut into kTile x kTile tiles; OpenMP threads take tiles dynamically, across all
//     batch items (for self distances with d > kFullMaxD only the tiles on or above the diagonal,
//     mirrored on store);
//   * per tile, the feature axis is walked in chunks of KC; each chunk of the x rows and y rows is
//     packed into panels ([k][R] and [k][NR]) so the micro-kernel reads both contiguously, whatever
//     the input strides (non-contiguous inputs need no copy);
//   * the micro-kernel keeps an R x NR block of outputs in vector registers: for each k it broadcasts
//     R values of x, loads NR values of y and updates R*NR/W accumulators. It is vectorised across y
//     rows, not across features, so it is as efficient for d = 3 as for d = 4096;
//   * each chunk's partial results are added (or max-ed) into a float64 tile accumulator (or, when
//     all features fit one chunk, kept in the input type: the chunk sum is then the final sum).
//
// Accuracy: distances are computed from differences (never the ||x||^2 + ||y||^2 - 2 x.y expansion),
// so near-duplicate points lose nothing to cancellation. A float32 chunk sums at most KC = 128
// non-negative terms, so its relative error is at most about 130 u = 7.8e-6 (u = 2^-24), and the
// chunks are summed in float64: the float32 squared-euclidean result is within 1e-5 relative of the
// exact value for any d, the euclidean within half that.

namespace pydisent {
namespace distance {
namespace {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float vfloat __attribute__((vector_size(PD_VBYTES)));
typedef double vdouble __attribute__((vector_size(PD_VBYTES)));
typedef int32_t vint32 __attribute__((vector_size(PD_VBYTES)));
typedef int64_t vint64 __attribute__((vector_size(PD_VBYTES)));

#ifndef PD_TILE
#define PD_TILE 128
#endif
constexpr int64_t kTile = PD_TILE;  // output tile edge (rows and columns); a multiple of R and NR

template <class T> struct Simd;
template <> struct Simd<float> {
  using V = vfloat;
  using I = vint32;
  static constexpr int W = PD_VBYTES / 4;
  static constexpr int64_t KC = 128;  // see the accuracy note above
  static V abs(V a) { return (V)((I)a & (I{} + INT32_MAX)); }
};
template <> struct Simd<double> {
  using V = vdouble;
  using I = vint64;
  static constexpr int W = PD_VBYTES / 8;
  static constexpr int64_t KC = 256;
  static V abs(V a) { return (V)((I)a & (I{} + INT64_MAX)); }
};

// The per-feature operation of each metric family, and how two partial results combine.
struct StepSq {  // euclidean, sqeuclidean, mse
  static constexpr bool kMax = false;
  template <class T, class V> static V step(V acc, V x, V y) {
    V t = x - y;
    return acc + t * t;
  }
};
struct StepAbs {  // manhattan
  static constexpr bool kMax = false;
  template <class T, class V> static V step(V acc, V x, V y) { return acc + Simd<T>::abs(x - y); }
};
struct StepMax {  // chebyshev
  static constexpr bool kMax = true;
  template <class T, class V> static V step(V acc, V x, V y) {
    V a = Simd<T>::abs(x - y);
    return acc > a ? acc : a;
  }
};
struct StepDot {  // cosine
  static constexpr bool kMax = false;
  template <class T, class V> static V step(V acc, V x, V y) { return acc + x * y; }
};

// Square roots of a vector of doubles. Written with the instruction set's own intrinsic because
// __builtin_sqrt keeps errno semantics (-fmath-errno) and so is never vectorised by the compiler.
inline vdouble vsqrt(vdouble v) {
#if defined(__x86_64__) && PD_VBYTES == 64
  return (vdouble)_mm512_sqrt_pd((__m512d)v);
#elif defined(__x86_64__) && PD_VBYTES == 32
  return (vdouble)_mm256_sqrt_pd((__m256d)v);
#elif defined(__x86_64__) && PD_VBYTES == 16
  return (vdouble)_mm_sqrt_pd((__m128d)v);
#else
  for (int i = 0; i < PD_VBYTES / 8; ++i) v[i] = __builtin_sqrt(v[i]);
  return v;
#endif
}

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

// Packs rows [0, rows) of a strided (rows, k) matrix, features [k0, k0 + kc), into panels of P rows:
// dst[(p / P) * kc * P + k * P + p % P]; rows in [rows, rows_padded) are zero.
template <class T>
void pack(const T* base, int64_t s_i, int64_t s_k, int64_t rows, int64_t rows_padded, int64_t k0, int64_t kc,
          int P, T* dst) {
  for (int64_t p0 = 0; p0 < rows_padded; p0 += P) {
    T* blk = dst + p0 * kc;
    for (int r = 0; r < P; ++r) {
      const int64_t i = p0 + r;
      if (i < rows) {
        const T* src = base + i * s_i + k0 * s_k;
        if (s_k == 1) {
          for (int64_t k = 0; k < kc; ++k) blk[k * P + r] = src[k];
        } else {
          for (int64_t k = 0; k < kc; ++k) blk[k * P + r] = src[k * s_k];
        }
      } else {
        for (int64_t k = 0; k < kc; ++k) blk[k * P + r] = T(0);
      }
    }
  }
}

// R x (NV * W) outputs over kc features: xp is a [kc][R] panel, yp a [kc][NV*W] panel.
template <class T, class Step, int R, int NV>
inline void micro(const T* __restrict xp, const T* __restrict yp, int64_t kc, T* __restrict part) {
  using V = typename Simd<T>::V;
  constexpr int W = Simd<T>::W;
  constexpr int NR = NV * W;
  V acc[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[r][v] = V{};
  for (int64_t k = 0; k < kc; ++k) {
    V yv[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) __builtin_memcpy(&yv[v], yp + k * NR + v * W, sizeof(V));
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const V xb = xp[k * R + r] - V{};  // a broadcast (x - 0 folds to x; 0 + x would not, for x = -0)
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[r][v] = Step::template step<T, V>(acc[r][v], xb, yv[v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) __builtin_memcpy(part + r * NR + v * W, &acc[r][v], sizeof(V));
}

// 1 / |row| of each row (float64), 0 for a zero row, for cosine.
template <class T>
void inverse_norms(const T* base, int64_t B, int64_t rows, int64_t d, int64_t s_b, int64_t s_i, int64_t s_k,
                   double* out) {
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < B * rows; ++t) {
    const T* p = base + (t / rows) * s_b + (t % rows) * s_i;
    double s = 0.0;
    for (int64_t k = 0; k < d; ++k) {
      const double v = p[k * s_k];
      s += v * v;
    }
    out[t] = s > 0.0 ? 1.0 / __builtin_sqrt(s) : 0.0;
  }
}

// Square roots of a row of the tile accumulator (ncp is a multiple of every vector width).
inline void sqrt_row(double* a, int64_t ncp) {
  constexpr int WD = PD_VBYTES / 8;
  for (int64_t jj = 0; jj < ncp; jj += WD) {
    vdouble v;
    __builtin_memcpy(&v, a + jj, sizeof(v));
    v = vsqrt(v);
    __builtin_memcpy(a + jj, &v, sizeof(v));
  }
}
inline void sqrt_row(float* a, int64_t ncp) {
  constexpr int WF = PD_VBYTES / 4;
  for (int64_t jj = 0; jj < ncp; jj += WF) {  // float32 sqrt of the float32 sum: correctly rounded too
    vfloat v;
    __builtin_memcpy(&v, a + jj, sizeof(v));
#if defined(__x86_64__) && PD_VBYTES == 64
    v = (vfloat)_mm512_sqrt_ps((__m512)v);
#elif defined(__x86_64__) && PD_VBYTES == 32
    v = (vfloat)_mm256_sqrt_ps((__m256)v);
#elif defined(__x86_64__) && PD_VBYTES == 16
    v = (vfloat)_mm_sqrt_ps((__m128)v);
#else
    for (int i = 0; i < WF; ++i) v[i] = __builtin_sqrtf(v[i]);
#endif
    __builtin_memcpy(a + jj, &v, sizeof(v));
  }
}

// Turns the accumulated tile (A = float64, or the input type when all features fit one chunk)
// into distances, in place. Columns [nc, ncp) hold finite values of padded points and are
// transformed along (never stored).
template <class A>
void finish_tile(const DistanceJob& job, A* acc, int64_t b, int64_t i0, int64_t j0, int64_t mc, int64_t nc,
                 int64_t ncp, const double* xn, const double* yn) {
  switch (job.metric) {
    case Metric::Euclidean:
      for (int64_t ii = 0; ii < mc; ++ii) sqrt_row(acc + ii * kTile, ncp);
      break;
    case Metric::Mse: {
      const A dd = static_cast<A>(job.d);  // exact: d < 2^24
      for (int64_t ii = 0; ii < mc; ++ii)
        for (int64_t jj = 0; jj < ncp; ++jj) acc[ii * kTile + jj] /= dd;
      break;
    }
    case Metric::Cosine:
      // 1 - x.y / (|x| |y|), clamped to [0, 2], from inverse norms (0 for a zero vector, whose
      // cosine similarity is so taken as 0: distance 1 to any other vector, 0 to another zero vector).
      for (int64_t ii = 0; ii < mc; ++ii) {
        const double ix = xn[b * job.n + i0 + ii];
        const double* iy = yn + b * job.m + j0;
        A* a = acc + ii * kTile;
        if (ix == 0.0) {
          for (int64_t jj = 0; jj < nc; ++jj) a[jj] = iy[jj] == 0.0 ? A(0) : A(1);
          continue;
        }
        for (int64_t jj = 0; jj < nc; ++jj) {
          double c = static_cast<double>(a[jj]) * (ix * iy[jj]);  // ix * iy first: symmetric in i, j
          c = c > 1.0 ? 1.0 : (c < -1.0 ? -1.0 : c);
          a[jj] = static_cast<A>(1.0 - c);
        }
      }
      break;
    default:  // sqeuclidean, manhattan, chebyshev: the accumulated value is the distance
      break;
  }
}

// How the tiles of a call are laid out and stored.
enum class Layout {
  Cross,      // every tile, stored as computed
  Upper,      // self distances: tiles on or above the diagonal, stored with their mirror image
  Full,       // self distances with few features: every tile, stored as computed (see run_typed)
  Condensed,  // self distances, condensed: tiles on or above the diagonal, upper triangle only
};

template <class T, class A>
void store_tile(const DistanceJob& job, Layout layout, const A* acc, int64_t b, int64_t I, int64_t J, int64_t mc,
                int64_t nc) {
  T* out = static_cast<T*>(job.out);
  const int64_t n = job.n, m = job.m;
  const int64_t i0 = I * kTile, j0 = J * kTile;
  const bool diag = I == J;
  if (layout == Layout::Cross || layout == Layout::Full) {
    T* o = out + b * n * m;
    for (int64_t ii = 0; ii < mc; ++ii) {
      T* row = o + (i0 + ii) * m + j0;
      const A* a = acc + ii * kTile;
      for (int64_t jj = 0; jj < nc; ++jj) row[jj] = static_cast<T>(a[jj]);
      if (layout == Layout::Full && diag) row[ii] = T(0);
    }
    return;
  }
  if (layout == Layout::Condensed) {
    T* o = out + b * condensed_size(n);
    for (int64_t ii = 0; ii < mc; ++ii) {
      const int64_t i = i0 + ii;
      // scipy's pdist index of (i, j), j > i: n*i - i*(i+1)/2 + (j - i - 1)
      T* row = o + (n * i - i * (i + 1) / 2 - i - 1) + j0;
      const A* a = acc + ii * kTile;
      for (int64_t jj = diag ? ii + 1 : 0; jj < nc; ++jj) row[jj] = static_cast<T>(a[jj]);
    }
    return;
  }
  T* o = out + b * n * n;
  for (int64_t ii = 0; ii < mc; ++ii) {  // upper triangle, row by row
    T* row = o + (i0 + ii) * n + j0;
    const A* a = acc + ii * kTile;
    for (int64_t jj = diag ? ii + 1 : 0; jj < nc; ++jj) row[jj] = static_cast<T>(a[jj]);
    if (diag) row[ii] = T(0);
  }
  // Its mirror image: bands of kBand output rows, so the tile is read row by row and each of the
  // kBand output rows is written sequentially.
  constexpr int64_t kBand = 16;
  for (int64_t jb = 0; jb < nc; jb += kBand) {
    const int64_t je = min64(jb + kBand, nc);
    for (int64_t ii = 0; ii < mc; ++ii) {
      const A* a = acc + ii * kTile;
      for (int64_t jj = diag ? (ii + 1 > jb ? ii + 1 : jb) : jb; jj < je; ++jj)
        o[(j0 + jj) * n + i0 + ii] = static_cast<T>(a[jj]);
    }
  }
}

// Owns one aligned allocation (std::aligned_alloc/free are plain C functions: safe in this file).
struct Scratch {
  void* p = nullptr;
  explicit Scratch(size_t bytes) { p = bytes ? std::aligned_alloc(64, round_up((int64_t)bytes, 64)) : nullptr; }
  ~Scratch() { std::free(p); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

// Feature counts up to which self distances compute every tile (both triangles) instead of the
// upper triangle and its mirror image: with few features the strided mirror stores cost more than
// the second half of the arithmetic. Both triangles come out bit-identical all the same: (i, j)
// and (j, i) go through the same instructions with the operands swapped, and every step is
// symmetric in them ((a-b)^2 = (b-a)^2, |a-b| = |b-a|, a*b = b*a exactly in IEEE arithmetic).
constexpr int64_t kFullMaxD = 32;

// A: the tile accumulator type (float64; or T itself when d fits one chunk, where the chunk sum is
// already the final sum and float64 would only add conversions).
template <class T, class Step, class A>
int run_tiles(const DistanceJob& job, const double* xn, const double* yn) {
  constexpr int R = PD_ROWS;
  constexpr int NR = PD_NVEC * Simd<T>::W;
  constexpr int64_t KC = Simd<T>::KC;
  static_assert(kTile % R == 0 && kTile % NR == 0, "tile must hold whole micro-tiles");

  const T* X = static_cast<const T*>(job.x);
  const T* Y = static_cast<const T*>(job.y);
  const int64_t B = job.B, n = job.n, m = job.m, d = job.d;
  const Layout layout = !job.symmetric ? Layout::Cross
                        : job.condensed ? Layout::Condensed
                        : (d <= kFullMaxD ? Layout::Full : Layout::Upper);
  const bool triangle = layout == Layout::Upper || layout == Layout::Condensed;

  const int64_t nbi = (n + kTile - 1) / kTile, nbj = (m + kTile - 1) / kTile;
  const int64_t per_batch = triangle ? nbi * (nbi + 1) / 2 : nbi * nbj;
  const int64_t tasks = B * per_batch;
  const int nthreads = static_cast<int>(min64(omp_get_max_threads(), tasks));

  // Per-thread scratch: two packed panels, one micro-tile and the tile accumulator.
  const int64_t kc_max = min64(KC, d);
  const size_t pack_elems = static_cast<size_t>(round_up(kTile * kc_max, 64));  // keeps 64-byte alignment
  const size_t part_elems = static_cast<size_t>(round_up(R * NR, 64));
  const size_t per_thread =
      2 * pack_elems * sizeof(T) + part_elems * sizeof(T) + static_cast<size_t>(kTile * kTile) * sizeof(A);
  Scratch scratch(per_thread * nthreads);
  if (!scratch.p) return 1;

#pragma omp parallel num_threads(nthreads)
  {
    char* mine = static_cast<char*>(scratch.p) + per_thread * omp_get_thread_num();
    T* xpack = reinterpret_cast<T*>(mine);
    T* ypack = xpack + pack_elems;
    T* part = ypack + pack_elems;
    A* acc = reinterpret_cast<A*>(part + part_elems);

#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t b = t / per_batch;
      int64_t I, J;
      if (triangle) {  // the rem-th tile on or above the diagonal, row by row
        int64_t rem = t % per_batch;
        I = 0;
        while (rem >= nbi - I) {
          rem -= nbi - I;
          ++I;
        }
        J = I + rem;
      } else {
        I = (t % per_batch) / nbj;
        J = (t % per_batch) % nbj;
      }
      const int64_t i0 = I * kTile, j0 = J * kTile;
      const int64_t mc = min64(kTile, n - i0), nc = min64(kTile, m - j0);
      const int64_t mcp = round_up(mc, R), ncp = round_up(nc, NR);
      const T* xb = X + b * job.xs_b + i0 * job.xs_i;
      const T* yb = Y + b * job.ys_b + j0 * job.ys_i;

      for (int64_t k0 = 0; k0 < d; k0 += KC) {
        const int64_t kc = min64(KC, d - k0);
        const bool first = k0 == 0;
        pack<T>(xb, job.xs_i, job.xs_k, mc, mcp, k0, kc, R, xpack);
        pack<T>(yb, job.ys_i, job.ys_k, nc, ncp, k0, kc, NR, ypack);
        for (int64_t jp = 0; jp < ncp; jp += NR) {
          const T* yp = ypack + jp * kc;
          for (int64_t ip = 0; ip < mcp; ip += R) {
            micro<T, Step, R, PD_NVEC>(xpack + ip * kc, yp, kc, part);
            A* a = acc + ip * kTile + jp;
            for (int r = 0; r < R; ++r) {
              A* ar = a + r * kTile;
              const T* pr = part + r * NR;
              if (first) {
                for (int c = 0; c < NR; ++c) ar[c] = static_cast<A>(pr[c]);
              } else if (Step::kMax) {
                for (int c = 0; c < NR; ++c) {
                  const A v = static_cast<A>(pr[c]);
                  ar[c] = ar[c] > v ? ar[c] : v;
                }
              } else {
                for (int c = 0; c < NR; ++c) ar[c] += static_cast<A>(pr[c]);
              }
            }
          }
        }
      }
      finish_tile<A>(job, acc, b, i0, j0, mc, nc, ncp, xn, yn);
      store_tile<T, A>(job, layout, acc, b, I, J, mc, nc);
    }
  }
  return 0;
}

template <class T, class Step>
int run_typed(const DistanceJob& job) {
  const T* X = static_cast<const T*>(job.x);
  const T* Y = static_cast<const T*>(job.y);
  const int64_t B = job.B, n = job.n, m = job.m, d = job.d;
  if (B == 0 || n == 0 || m == 0) return 0;

  // Cosine needs the (inverse) row norms; they are computed once per call, in float64.
  const double* xn = nullptr;
  const double* yn = nullptr;
  Scratch norms(job.metric == Metric::Cosine ? sizeof(double) * (B * n + (job.symmetric ? 0 : B * m)) : 0);
  if (job.metric == Metric::Cosine) {
    if (!norms.p) return 1;
    double* nb = static_cast<double*>(norms.p);
    inverse_norms<T>(X, B, n, d, job.xs_b, job.xs_i, job.xs_k, nb);
    if (!job.symmetric) inverse_norms<T>(Y, B, m, d, job.ys_b, job.ys_i, job.ys_k, nb + B * n);
    xn = nb;
    yn = job.symmetric ? nb : nb + B * n;
  }
  if (d <= Simd<T>::KC) return run_tiles<T, Step, T>(job, xn, yn);
  return run_tiles<T, Step, double>(job, xn, yn);
}

template <class T>
int run_metric(const DistanceJob& job) {
  switch (job.metric) {
    case Metric::Euclidean:
    case Metric::SqEuclidean:
    case Metric::Mse:
      return run_typed<T, StepSq>(job);
    case Metric::Manhattan:
      return run_typed<T, StepAbs>(job);
    case Metric::Chebyshev:
      return run_typed<T, StepMax>(job);
    case Metric::Cosine:
      return run_typed<T, StepDot>(job);
  }
  return 2;
}

#pragma GCC diagnostic pop

}  // namespace

int PD_RUN_FN(const DistanceJob& job) {
  return job.dtype == DType::Float64 ? run_metric<double>(job) : run_metric<float>(job);
}

}  // namespace distance
}  // namespace pydisent
