// CPU half of the render family: OpenMP over images, one image written by one thread.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
// The sprite arithmetic must round every operation on its own (see render.h).
#pragma GCC optimize("fp-contract=off")
#endif

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/check.h"
#include "common/cpu.h"
#include "render/render.h"

namespace pydisent {

namespace {
// Batches below this many output bytes are drawn by one thread: a DataLoader batch (256 images,
// ~3 MB) takes well under a millisecond, less than waking a thread team costs on a busy machine.
constexpr int64_t kParallelBytes = int64_t(8) << 20;
// Longest rectangle row span (bytes) drawn through the masked-pattern path; wider ones take the plain loop.
constexpr int64_t kMaskedRowBytes = 1024;

}  // namespace

void check_rects_args(const TensorRef& out, const TensorRef& rects, const TensorRef& colors) {
  check_rank(out, "out", 4);
  check_rank(rects, "rects", 3);
  check_rank(colors, "colors", 3);
  check_dtype(out, "out", DType::UInt8);
  check_dtype(rects, "rects", DType::Int32);
  check_dtype(colors, "colors", DType::Int32);
  check_contiguous(out, "out");
  check_contiguous(rects, "rects");
  check_contiguous(colors, "colors");
  check_same_device(out, "out", rects, "rects");
  check_same_device(out, "out", colors, "colors");
  const int64_t n = out.size(0), C = out.size(3);
  PYDISENT_CHECK(rects.size(0) == n, "argument 'rects' must have ", n, " rows (one per image), got ", rects.size(0));
  PYDISENT_CHECK(rects.size(2) == 4, "argument 'rects' must have shape (n, R, 4) = [y0, x0, h, w], got last size ",
                 rects.size(2));
  PYDISENT_CHECK(colors.size(0) == n && colors.size(1) == rects.size(1) && colors.size(2) == C,
                 "argument 'colors' must have shape (", n, ", ", rects.size(1), ", ", C, "), got (", colors.size(0),
                 ", ", colors.size(1), ", ", colors.size(2), ")");
  PYDISENT_CHECK(out.size(1) < (int64_t(1) << 30) && out.size(2) < (int64_t(1) << 30),
                 "argument 'out' is too large for 32-bit rectangle coordinates");
}

void check_sprites_args(const TensorRef& out, const TensorRef& shapes, const TensorRef& params,
                        const TensorRef& geometry) {
  check_rank(out, "out", 4);
  check_rank(shapes, "shapes", 1);
  check_rank(params, "params", 2);
  check_rank(geometry, "geometry", 1);
  check_dtype(out, "out", DType::UInt8);
  check_dtype(shapes, "shapes", DType::Int32);
  check_dtype(params, "params", DType::Float64);
  check_dtype(geometry, "geometry", DType::Float64);
  check_contiguous(out, "out");
  check_contiguous(shapes, "shapes");
  check_contiguous(params, "params");
  check_contiguous(geometry, "geometry");
  check_same_device(out, "out", shapes, "shapes");
  check_same_device(out, "out", params, "params");
  const int64_t n = out.size(0);
  PYDISENT_CHECK(out.size(3) == 1, "argument 'out' must have one channel, got ", out.size(3));
  PYDISENT_CHECK(shapes.size(0) == n, "argument 'shapes' must have ", n, " entries, got ", shapes.size(0));
  PYDISENT_CHECK(params.size(0) == n && params.size(1) == kSpriteParams, "argument 'params' must have shape (", n,
                 ", ", kSpriteParams, "), got (", params.size(0), ", ", params.size(1), ")");
  PYDISENT_CHECK(geometry.size(0) == kSpriteGeometry, "argument 'geometry' must have ", kSpriteGeometry,
                 " entries, got ", geometry.size(0));
}

void render_rects_cpu(const TensorRef& out, const TensorRef& rects, const TensorRef& colors) {
  check_rects_args(out, rects, colors);
  check_host(out, "out");
  const int64_t n = out.size(0), H = out.size(1), W = out.size(2), C = out.size(3), R = rects.size(1);
  uint8_t* o = out.data<uint8_t>();
  const int32_t* rc = rects.data<int32_t>();
  const int32_t* col = colors.data<int32_t>();
  // Validate every colour before writing anything (a bad value must not leave half a batch drawn).
  const int64_t ncol = n * R * C;
  int64_t bad = -1;
  for (int64_t i = 0; i < ncol && bad < 0; ++i)
    if (col[i] < -1 || col[i] > 255) bad = i;
  PYDISENT_CHECK(bad < 0, "argument 'colors' must hold values in [-1, 255] (-1 = keep the channel), got ",
                 bad >= 0 ? col[bad] : 0);
  const int64_t image = H * W * C;
  advise_huge_pages(o, n * image);
#pragma omp parallel for schedule(static) if (n * image >= kParallelBytes)
  for (int64_t i = 0; i < n; ++i) {
    uint8_t* img = o + i * image;
    std::memset(img, 0, static_cast<size_t>(image));
    for (int64_t r = 0; r < R; ++r) {
      const int32_t* q = rc + (i * R + r) * 4;
      const int32_t* c = col + (i * R + r) * C;
      // clip [y0, y0+h) x [x0, x0+w) to the image (int64: no overflow for any int32 input)
      const int64_t y0 = std::max<int64_t>(q[0], 0), x0 = std::max<int64_t>(q[1], 0);
      const int64_t y1 = std::min<int64_t>(int64_t(q[0]) + q[2], H), x1 = std::min<int64_t>(int64_t(q[1]) + q[3], W);
      if (y0 >= y1 || x0 >= x1) continue;
      bool all = true;
      for (int64_t k = 0; k < C; ++k) all = all && c[k] >= 0;
      if (C == 1 || (all && C <= 4)) {
        uint8_t px[4] = {0, 0, 0, 0};
        for (int64_t k = 0; k < C; ++k) px[k] = static_cast<uint8_t>(c[k]);
        for (int64_t y = y0; y < y1; ++y) {
          uint8_t* row = img + (y * W + x0) * C;
          if (C == 1) {
            if (c[0] >= 0) std::memset(row, px[0], static_cast<size_t>(x1 - x0));
          } else {
            for (int64_t x = 0; x < x1 - x0; ++x)
              for (int64_t k = 0; k < C; ++k) row[x * C + k] = px[k];
          }
        }
      } else if ((x1 - x0) * C <= kMaskedRowBytes) {
        // Some channels kept (XYSquares: each square writes its own channel): a byte mask and value
        // pattern for one row span, then a branch-free, vectorisable (row & keep) | value per row.
        alignas(64) uint8_t keep[kMaskedRowBytes], val[kMaskedRowBytes];
        const int64_t span = (x1 - x0) * C;
        for (int64_t j = 0; j < span; ++j) {
          const int32_t v = c[j % C];
          keep[j] = v >= 0 ? 0x00 : 0xFF;
          val[j] = v >= 0 ? static_cast<uint8_t>(v) : 0x00;
        }
        for (int64_t y = y0; y < y1; ++y) {
          uint8_t* row = img + (y * W + x0) * C;
#pragma omp simd
          for (int64_t j = 0; j < span; ++j) row[j] = static_cast<uint8_t>((row[j] & keep[j]) | val[j]);
        }
      } else {
        for (int64_t y = y0; y < y1; ++y) {
          uint8_t* row = img + (y * W + x0) * C;
          for (int64_t x = 0; x < x1 - x0; ++x)
            for (int64_t k = 0; k < C; ++k)
              if (c[k] >= 0) row[x * C + k] = static_cast<uint8_t>(c[k]);
        }
      }
    }
  }
}

namespace {
// v clamped to [0, hi] as an index (v may be huge or negative: never cast an out-of-range double).
int64_t clamp_index(double v, int64_t hi) {
  if (!(v > 0.0)) return 0;
  if (v >= static_cast<double>(hi)) return hi;
  return static_cast<int64_t>(v);
}
}  // namespace

void render_sprites_cpu(const TensorRef& out, const TensorRef& shapes, const TensorRef& params,
                        const TensorRef& geometry) {
  check_sprites_args(out, shapes, params, geometry);
  check_host(out, "out");
  check_host(geometry, "geometry");
  const int64_t n = out.size(0), H = out.size(1), W = out.size(2);
  uint8_t* o = out.data<uint8_t>();
  const int32_t* sh = shapes.data<int32_t>();
  const double* pr = params.data<double>();
  const double* g = geometry.data<double>();
  for (int64_t i = 0; i < n; ++i) {
    PYDISENT_CHECK(sh[i] >= 0 && sh[i] <= 2, "argument 'shapes' must hold 0 (square), 1 (ellipse) or 2 (heart), got ",
                   sh[i], " at ", i);
    for (int64_t k = 0; k < kSpriteParams; ++k)
      PYDISENT_CHECK(std::isfinite(pr[i * kSpriteParams + k]), "argument 'params' contains a non-finite value at row ",
                     i);
    PYDISENT_CHECK(pr[i * kSpriteParams + 4] > 0, "argument 'params' must have a positive inverse size (column 4), got ",
                   pr[i * kSpriteParams + 4], " at row ", i);
  }
  PYDISENT_CHECK(std::isfinite(g[4]) && g[4] > 0, "argument 'geometry' must end with a positive bounding radius");
  advise_huge_pages(o, n * H * W);
#pragma omp parallel for schedule(static) if (n * H * W >= kParallelBytes)
  for (int64_t i = 0; i < n; ++i) {
    uint8_t* img = o + i * H * W;
    std::memset(img, 0, static_cast<size_t>(H * W));
    const double* p = pr + i * kSpriteParams;
    // Only pixels within the sprite's bounding circle can be inside (radius g[4] sprite units,
    // plus a pixel of slack); the test itself decides every pixel in that window.
    const double radius = g[4] / p[4] + 1.0;
    const int64_t r0 = clamp_index(std::floor(p[1] - radius), H);
    const int64_t r1 = clamp_index(std::ceil(p[1] + radius) + 1.0, H);
    const int64_t c0 = clamp_index(std::floor(p[0] - radius), W);
    const int64_t c1 = clamp_index(std::ceil(p[0] + radius) + 1.0, W);
    for (int64_t row = r0; row < r1; ++row) {
      for (int64_t col = c0; col < c1; ++col) {
        double u, v;
        sprite_local(row, col, p, &u, &v);
        if (sprite_inside(sh[i], u, v, g)) img[row * W + col] = 255;
      }
    }
  }
}

namespace {
// x / 255 in float32, computed (vectorised; IEEE division, so the same values as the table and torch)
// rather than looked up: the plain [0, 1] conversion is the common case.
PYDISENT_VARIANT_BODY void convert_plane_body(const uint8_t* s, float* d, int64_t count) {
#pragma omp simd
  for (int64_t p = 0; p < count; ++p) d[p] = static_cast<float>(s[p]) / 255.0f;
}
PYDISENT_CPU_VARIANTS(void, convert_plane, (const uint8_t* s, float* d, int64_t count), (s, d, count))

PYDISENT_VARIANT_BODY void convert_rgb_body(const uint8_t* s, float* d, int64_t HW) {
  float* d0 = d;
  float* d1 = d + HW;
  float* d2 = d + 2 * HW;
#pragma omp simd
  for (int64_t p = 0; p < HW; ++p) {
    d0[p] = static_cast<float>(s[3 * p]) / 255.0f;
    d1[p] = static_cast<float>(s[3 * p + 1]) / 255.0f;
    d2[p] = static_cast<float>(s[3 * p + 2]) / 255.0f;
  }
}
PYDISENT_CPU_VARIANTS(void, convert_rgb, (const uint8_t* s, float* d, int64_t HW), (s, d, HW))
}  // namespace

void hwc_to_chw_float_cpu(const TensorRef& out, const TensorRef& in, const TensorRef& mean, const TensorRef& std,
                          bool normalize) {
  check_rank(out, "out", 4);
  check_rank(in, "batch", 4);
  check_dtype(out, "out", DType::Float32);
  check_dtype(in, "batch", DType::UInt8);
  check_contiguous(out, "out");
  check_contiguous(in, "batch");
  check_host(out, "out");
  check_host(in, "batch");
  const int64_t n = in.size(0), H = in.size(1), W = in.size(2), C = in.size(3);
  PYDISENT_CHECK(out.size(0) == n && out.size(1) == C && out.size(2) == H && out.size(3) == W,
                 "argument 'out' must have shape (", n, ", ", C, ", ", H, ", ", W, ")");
  const float* m = nullptr;
  const float* sd = nullptr;
  if (normalize) {
    check_dtype(mean, "mean", DType::Float32);
    check_dtype(std, "std", DType::Float32);
    check_host(mean, "mean");
    check_host(std, "std");
    PYDISENT_CHECK(mean.numel() == C && std.numel() == C, "arguments 'mean' and 'std' must have ", C, " entries");
    m = mean.data<float>();
    sd = std.data<float>();
  }
  // A table of the 256 possible results per channel, each computed with the same rounded float32
  // operations as torch (x / 255, then (x - mean) / std): a lookup per pixel, no division. The plain
  // conversion of one or three channels computes x / 255 directly (vectorised) and needs no table.
  const bool direct = !normalize && (C == 1 || C == 3);
  std::vector<float> lut(direct ? 0 : static_cast<size_t>(256 * C));
  for (int64_t c = 0; c < (direct ? 0 : C); ++c)
    for (int v = 0; v < 256; ++v) {
      float x = static_cast<float>(v) / 255.0f;
      if (normalize) x = (x - m[c]) / sd[c];
      lut[static_cast<size_t>(c * 256 + v)] = x;
    }
  const uint8_t* src = in.data<uint8_t>();
  float* dst = out.data<float>();
  const float* tab = lut.data();
  const int64_t HW = H * W;
  advise_huge_pages(dst, n * HW * C * static_cast<int64_t>(sizeof(float)));
#pragma omp parallel for schedule(static) if (n * HW * C * 4 >= kParallelBytes)
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* s = src + i * HW * C;
    float* d = dst + i * HW * C;
    if (direct) {
      if (C == 1)
        convert_plane(s, d, HW);
      else
        convert_rgb(s, d, HW);
    } else if (C == 1) {
      for (int64_t p = 0; p < HW; ++p) d[p] = tab[s[p]];
    } else if (C == 3) {
      float* d0 = d;
      float* d1 = d + HW;
      float* d2 = d + 2 * HW;
      for (int64_t p = 0; p < HW; ++p) {
        d0[p] = tab[s[3 * p]];
        d1[p] = tab[256 + s[3 * p + 1]];
        d2[p] = tab[512 + s[3 * p + 2]];
      }
    } else {
      for (int64_t c = 0; c < C; ++c)
        for (int64_t p = 0; p < HW; ++p) d[c * HW + p] = tab[c * 256 + s[p * C + c]];
    }
  }
}

}  // namespace pydisent
