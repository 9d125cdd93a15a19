// Batched rasterisers for the procedural ground-truth datasets (XYSquares, XYObject, dSprites).
//
// Both kernels fill a whole uint8 batch (n, H, W, C) that Python allocated with torch; every image
// is independent, so the CPU half parallelises over images (OpenMP) and the CUDA half over pixels.
// The float arithmetic of the sprite kernel matches pydisent/data/_render.py operation by operation
// (float64, no fused multiply-add) so the kernels are bit-exact with the torch reference.
#pragma once

#include <cstdint>

#include "common/tensor.h"

namespace pydisent {

// Sprite shapes understood by the sprite rasteriser (the dSprites order).
enum SpriteShape : int32_t { kSquare = 0, kEllipse = 1, kHeart = 2 };

// Number of float64 entries per image in the sprite parameter table:
// [cx, cy, cos, sin, inv_size] (centre in pixels; a pixel centre is at (col + 0.5, row + 0.5)).
constexpr int64_t kSpriteParams = 5;
// Number of float64 shape-geometry constants:
// [ellipse 1/rx^2, ellipse 1/ry^2, heart scale, heart y offset, bounding radius (sprite units)].
constexpr int64_t kSpriteGeometry = 5;

// Axis-aligned filled rectangles.
//   out:    uint8 (n, H, W, C), contiguous; overwritten (zero background).
//   rects:  int32 (n, R, 4) = [y0, x0, h, w], contiguous; clipped to the image.
//   colors: int32 (n, R, C) in [-1, 255], contiguous; -1 leaves that channel unchanged.
// Rectangles are drawn in order r = 0..R-1 (later ones overwrite earlier ones).
void render_rects_cpu(const TensorRef& out, const TensorRef& rects, const TensorRef& colors);
void render_rects_cuda(const TensorRef& out, const TensorRef& rects, const TensorRef& colors, std::uintptr_t stream);

// Binary sprites sampled at pixel centres (value 255 inside, 0 outside).
//   out:      uint8 (n, H, W, 1), contiguous; overwritten.
//   shapes:   int32 (n,) in {0, 1, 2} (square, ellipse, heart).
//   params:   float64 (n, 5), see kSpriteParams.
//   geometry: float64 (5,), see kSpriteGeometry.
void render_sprites_cpu(const TensorRef& out, const TensorRef& shapes, const TensorRef& params,
                        const TensorRef& geometry);
void render_sprites_cuda(const TensorRef& out, const TensorRef& shapes, const TensorRef& params,
                         const TensorRef& geometry, std::uintptr_t stream);

// uint8 (n, H, W, C) -> float32 (n, C, H, W) as x / 255, then (x - mean[c]) / std[c] when `normalize`
// (mean, std: float32 (C,) host tensors). Every step is one rounded float32 operation, as in torch.
void hwc_to_chw_float_cpu(const TensorRef& out, const TensorRef& in, const TensorRef& mean, const TensorRef& std,
                          bool normalize);

// Argument checks shared by both halves (device checks are done by the callers).
void check_rects_args(const TensorRef& out, const TensorRef& rects, const TensorRef& colors);
void check_sprites_args(const TensorRef& out, const TensorRef& shapes, const TensorRef& params,
                        const TensorRef& geometry);

// Per-pixel float64 arithmetic shared by the CPU and CUDA kernels. Every product and sum is rounded
// on its own (no fused multiply-add: nvcc contracts by default, hence the _rn intrinsics on the
// device; the CPU file turns contraction off), in the same order as the torch reference, so every
// backend makes the same inside/outside decision even for pixel centres on a shape's edge.
#if defined(__CUDACC__)
#define PYDISENT_HD __host__ __device__ __forceinline__
#else
#define PYDISENT_HD inline
#endif

#if defined(__CUDA_ARCH__)
PYDISENT_HD double rmul(double a, double b) { return __dmul_rn(a, b); }
PYDISENT_HD double radd(double a, double b) { return __dadd_rn(a, b); }
PYDISENT_HD double rsub(double a, double b) { return __dsub_rn(a, b); }
#else
PYDISENT_HD double rmul(double a, double b) { return a * b; }
PYDISENT_HD double radd(double a, double b) { return a + b; }
PYDISENT_HD double rsub(double a, double b) { return a - b; }
#endif

// Sprite-local coordinates (u, v) of the centre of pixel (row, col): the offset from the sprite
// centre rotated by -theta and divided by the sprite size; p = [cx, cy, cos, sin, inv_size].
PYDISENT_HD void sprite_local(int64_t row, int64_t col, const double* p, double* u, double* v) {
  double dx = rsub(static_cast<double>(col) + 0.5, p[0]);
  double dy = rsub(static_cast<double>(row) + 0.5, p[1]);
  *u = rmul(radd(rmul(p[2], dx), rmul(p[3], dy)), p[4]);
  *v = rmul(rsub(rmul(p[2], dy), rmul(p[3], dx)), p[4]);
}

// Is the sprite-local point (u, v) inside `shape`? g = the geometry constants (kSpriteGeometry).
PYDISENT_HD bool sprite_inside(int32_t shape, double u, double v, const double* g) {
  if (shape == kSquare) {
    double au = u < 0 ? -u : u;
    double av = v < 0 ? -v : v;
    return au <= 0.5 && av <= 0.5;
  }
  if (shape == kEllipse) {
    return radd(rmul(rmul(u, u), g[0]), rmul(rmul(v, v), g[1])) <= 1.0;
  }
  // heart: (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0 with x = u*k, y = c - v*k (lobes up: screen y points down)
  double x = rmul(u, g[2]);
  double y = rsub(g[3], rmul(v, g[2]));
  double xx = rmul(x, x);
  double t = rsub(radd(xx, rmul(y, y)), 1.0);
  double t3 = rmul(rmul(t, t), t);
  double q = rmul(rmul(rmul(xx, y), y), y);
  return rsub(t3, q) <= 0.0;
}

}  // namespace pydisent
