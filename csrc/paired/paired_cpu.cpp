// CPU half of the paired row distances: OpenMP over pairs, one fixed-order reduction per pair.
#include <omp.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <algorithm>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "common/check.h"
#include "common/cpu.h"
#include "common/dispatch.h"
#include "paired/paired.h"

namespace pydisent {
namespace {

constexpr int kLanes = 16;  // independent partial sums: vectorisable, and a fixed summation order

// Sum over k of |a_k - b_k| (p = 1) or (a_k - b_k)^2 (p = 2), differences in the input type (as the
// torch expression would round them), their magnitudes/squares accumulated in float64. The order
// depends only on D, never on where the rows sit.
template <typename T, int P>
inline double row_sum(const T* a, const T* b, int64_t D) {
  double acc[kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= D; k += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) {
      const double d = static_cast<double>(static_cast<T>(a[k + l] - b[k + l]));
      acc[l] += P == 1 ? std::fabs(d) : d * d;
    }
  }
  for (int l = 0; k < D; ++k, ++l) {
    const double d = static_cast<double>(static_cast<T>(a[k] - b[k]));
    acc[l] += P == 1 ? std::fabs(d) : d * d;
  }
  // fixed pairwise tree over the lanes
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) acc[l] += acc[l + w];
  return acc[0];
}

// One body, compiled per instruction-set level (common/cpu.h); the generic, AVX2 and AVX-512 copies
// sum in the same order, but AVX-512 may contract d * d + acc into an FMA (see the variant test).
template <typename T, int P>
PYDISENT_VARIANT_BODY void pairs_loop_body(const T* x, int64_t D, const int64_t* ia, const int64_t* ib,
                                           int64_t begin, int64_t end, double* out) {
  for (int64_t p = begin; p < end; ++p) out[p] = row_sum<T, P>(x + ia[p] * D, x + ib[p] * D, D);
}
template <typename T, int P>
void pairs_loop_generic(const T* x, int64_t D, const int64_t* ia, const int64_t* ib, int64_t begin, int64_t end,
                        double* out) {
  pairs_loop_body<T, P>(x, D, ia, ib, begin, end, out);
}
template <typename T, int P>
PYDISENT_TARGET_AVX2 void pairs_loop_avx2(const T* x, int64_t D, const int64_t* ia, const int64_t* ib,
                                          int64_t begin, int64_t end, double* out) {
  pairs_loop_body<T, P>(x, D, ia, ib, begin, end, out);
}
template <typename T, int P>
PYDISENT_TARGET_AVX512 void pairs_loop_avx512(const T* x, int64_t D, const int64_t* ia, const int64_t* ib,
                                              int64_t begin, int64_t end, double* out) {
  pairs_loop_body<T, P>(x, D, ia, ib, begin, end, out);
}
template <typename T, int P>
void pairs_loop(const T* x, int64_t D, const int64_t* ia, const int64_t* ib, int64_t begin, int64_t end,
                double* out) {
  static const auto fn =
      cpu::pick(cpu::isa(), &pairs_loop_generic<T, P>, &pairs_loop_avx2<T, P>, &pairs_loop_avx512<T, P>);
  fn(x, D, ia, ib, begin, end, out);
}

// Every index in [0, n): checked in one parallel pass before any row is read.
void check_indices_in_range(const int64_t* ia, const int64_t* ib, int64_t P, int64_t n, const char* kernel) {
  std::atomic<int64_t> bad{-1};
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < P; ++p)
    if (ia[p] < 0 || ia[p] >= n || ib[p] < 0 || ib[p] >= n) bad.store(p);
  PYDISENT_CHECK(bad.load() < 0, kernel, ": index out of range [0, ", n, ") at pair ", bad.load());
}

template <typename T>
void run(const PairArgs& a) {
  const int64_t n = a.x.size(0), D = a.x.size(1), P = a.ia.size(0);
  const T* x = a.x.data<T>();
  const int64_t* ia = a.ia.data<int64_t>();
  const int64_t* ib = a.ib.data<int64_t>();
  double* out = a.out.data<double>();
  check_indices_in_range(ia, ib, P, n, "paired_distance");
  const bool l1 = a.metric == DistanceMetric::Manhattan;
#pragma omp parallel
  {
    const int64_t nt = omp_get_num_threads(), tid = omp_get_thread_num();
    const int64_t begin = P * tid / nt, end = P * (tid + 1) / nt;
    if (l1)
      pairs_loop<T, 1>(x, D, ia, ib, begin, end, out);
    else
      pairs_loop<T, 2>(x, D, ia, ib, begin, end, out);
  }
  if (a.metric == DistanceMetric::Euclidean) {
    for (int64_t p = 0; p < P; ++p) out[p] = std::sqrt(out[p]);
  } else if (a.metric == DistanceMetric::Mse) {
    const double inv = D > 0 ? 1.0 / static_cast<double>(D) : 0.0;
    for (int64_t p = 0; p < P; ++p) out[p] *= inv;
  }
}

// Sum of (a_k - b_k)^2 over uint8 rows, exact. Compilers widen this loop poorly (32-bit multiplies on
// 128-bit registers), so the x86 versions are written out: bytes widened to 16 bits, subtracted, and
// multiplied-and-pair-summed into 32-bit lanes (pmaddwd); each lane takes at most 2 * 255^2 per step
// and is flushed to 64 bits well before it could overflow.
uint64_t sq_diff_u8_scalar(const uint8_t* a, const uint8_t* b, int64_t D) {
  uint64_t total = 0;
  for (int64_t j = 0; j < D; ++j) {
    const int32_t d = static_cast<int32_t>(a[j]) - static_cast<int32_t>(b[j]);
    total += static_cast<uint64_t>(d * d);
  }
  return total;
}

#if defined(PYDISENT_X86_VARIANTS)
constexpr int64_t kFlushSteps = 8192;  // 8192 * 2 * 255^2 < 2^31

PYDISENT_TARGET_AVX2 uint64_t sq_diff_u8_avx2(const uint8_t* a, const uint8_t* b, int64_t D) {
  uint64_t total = 0;
  int64_t j = 0;
  while (D - j >= 16) {
    __m256i acc = _mm256_setzero_si256();
    const int64_t steps = std::min<int64_t>((D - j) / 16, kFlushSteps);
    for (int64_t s = 0; s < steps; ++s, j += 16) {
      const __m256i u = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + j)));
      const __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + j)));
      const __m256i d = _mm256_sub_epi16(u, v);
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(d, d));
    }
    alignas(32) int32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
    for (int32_t l : lanes) total += static_cast<uint64_t>(l);
  }
  return total + sq_diff_u8_scalar(a + j, b + j, D - j);
}

PYDISENT_TARGET_AVX512BW uint64_t sq_diff_u8_avx512(const uint8_t* a, const uint8_t* b, int64_t D) {
  uint64_t total = 0;
  int64_t j = 0;
  while (D - j >= 32) {
    __m512i acc = _mm512_setzero_si512();
    const int64_t steps = std::min<int64_t>((D - j) / 32, kFlushSteps);
    for (int64_t s = 0; s < steps; ++s, j += 32) {
      const __m512i u = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + j)));
      const __m512i v = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + j)));
      const __m512i d = _mm512_sub_epi16(u, v);
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(d, d));
    }
    alignas(64) int32_t lanes[16];
    _mm512_store_si512(reinterpret_cast<__m512i*>(lanes), acc);
    for (int32_t l : lanes) total += static_cast<uint64_t>(l);
  }
  return total + sq_diff_u8_scalar(a + j, b + j, D - j);
}
#endif

using SqDiffFn = uint64_t (*)(const uint8_t*, const uint8_t*, int64_t);

// Exact integer sums: every variant gives the same result.
SqDiffFn pick_sq_diff_u8() {
#if defined(PYDISENT_X86_VARIANTS)
  return cpu::pick<SqDiffFn>(cpu::isa(), sq_diff_u8_scalar, sq_diff_u8_avx2, sq_diff_u8_avx512);
#else
  return sq_diff_u8_scalar;
#endif
}

// The same per channel (channel of element k is k % C), for unequal weights.
void sq_diff_u8_channels(const uint8_t* a, const uint8_t* b, int64_t D, int64_t C, uint64_t* sums) {
  for (int64_t c = 0; c < C; ++c) sums[c] = 0;
  for (int64_t k = 0; k < D; k += C)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t d = static_cast<int64_t>(a[k + c]) - static_cast<int64_t>(b[k + c]);
      sums[c] += static_cast<uint64_t>(d * d);
    }
}

}  // namespace

void paired_image_mse_cpu(const ImagePairArgs& a) {
  image_pairs_validate(a);
  const int64_t n = a.x.size(0), D = a.x.size(1), P = a.ia.size(0), C = a.weights.size(0);
  if (P == 0) return;
  const uint8_t* x = a.x.data<uint8_t>();
  const int64_t* ia = a.ia.data<int64_t>();
  const int64_t* ib = a.ib.data<int64_t>();
  const double* w = a.weights.data<double>();
  double* out = a.out.data<double>();
  check_indices_in_range(ia, ib, P, n, "paired_image_mse");
  static const SqDiffFn sq_diff_u8 = pick_sq_diff_u8();
  bool equal = true;
  for (int64_t c = 1; c < C; ++c) equal = equal && w[c] == w[0];
  const double inv = D > 0 ? 1.0 / static_cast<double>(D) : 0.0;
#pragma omp parallel
  {
    std::vector<uint64_t> sums(static_cast<size_t>(C));
#pragma omp for schedule(static)
    for (int64_t p = 0; p < P; ++p) {
      const uint8_t* u = x + ia[p] * D;
      const uint8_t* v = x + ib[p] * D;
      double acc;
      if (equal) {
        acc = w[0] * static_cast<double>(sq_diff_u8(u, v, D));
      } else {
        sq_diff_u8_channels(u, v, D, C, sums.data());
        acc = 0.0;
        for (int64_t c = 0; c < C; ++c) acc += w[c] * static_cast<double>(sums[c]);
      }
      out[p] = acc * inv;
    }
  }
}

void paired_distance_cpu(const PairArgs& a) {
  pairs_validate(a, /*cuda=*/false);
  if (a.ia.size(0) == 0) return;
  PYDISENT_DISPATCH_FLOATING_TYPES(a.x.dtype, "paired_distance_cpu", [&] { run<scalar_t>(a); });
}

}  // namespace pydisent
