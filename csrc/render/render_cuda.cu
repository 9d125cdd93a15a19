// CUDA half of the render family: one thread per output element (grid-stride loops), so no two
// threads ever write the same byte. Value ranges (colours, shape ids) are checked at the Python
// boundary; the kernels still clamp/guard them so a bad value can never index out of bounds.
#include <algorithm>

#include "common/cuda_check.h"
#include "render/render.h"

namespace pydisent {

namespace {

constexpr int kThreads = 256;

unsigned int grid_for(int64_t work) {
  // grid-stride loops cover any remainder; cap the grid so huge batches do not overflow gridDim.x
  return static_cast<unsigned int>(std::max<int64_t>(1, std::min<int64_t>(ceil_div(work, kThreads), 65535 * 8)));
}

__global__ void rects_kernel(uint8_t* __restrict__ out, const int32_t* __restrict__ rects,
                             const int32_t* __restrict__ colors, int64_t n, int64_t H, int64_t W, int64_t C,
                             int64_t R) {
  const int64_t total = n * H * W * C;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t k = e % C;
    const int64_t x = (e / C) % W;
    const int64_t y = (e / (C * W)) % H;
    const int64_t i = e / (C * W * H);
    int32_t value = 0;
    for (int64_t r = 0; r < R; ++r) {
      const int32_t* q = rects + (i * R + r) * 4;
      const int64_t y0 = q[0], x0 = q[1];
      if (y >= y0 && y < y0 + q[2] && x >= x0 && x < x0 + q[3]) {
        const int32_t c = colors[(i * R + r) * C + k];
        if (c >= 0) value = c > 255 ? 255 : c;
      }
    }
    out[e] = static_cast<uint8_t>(value);
  }
}

__global__ void sprites_kernel(uint8_t* __restrict__ out, const int32_t* __restrict__ shapes,
                               const double* __restrict__ params, const double* __restrict__ geometry, int64_t n,
                               int64_t H, int64_t W) {
  const int64_t total = n * H * W;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t col = e % W;
    const int64_t row = (e / W) % H;
    const int64_t i = e / (W * H);
    const int32_t shape = shapes[i];
    bool inside = false;
    if (shape >= 0 && shape <= 2) {
      double u, v;
      sprite_local(row, col, params + i * kSpriteParams, &u, &v);
      inside = sprite_inside(shape, u, v, geometry);
    }
    out[e] = inside ? 255 : 0;
  }
}

}  // namespace

void render_rects_cuda(const TensorRef& out, const TensorRef& rects, const TensorRef& colors, std::uintptr_t stream) {
  check_rects_args(out, rects, colors);
  check_cuda(out, "out");
  const int64_t n = out.size(0), H = out.size(1), W = out.size(2), C = out.size(3), R = rects.size(1);
  const int64_t total = n * H * W * C;
  if (total == 0) return;
  DeviceGuard guard(out.device);
  rects_kernel<<<grid_for(total), kThreads, 0, as_stream(stream)>>>(out.data<uint8_t>(), rects.data<int32_t>(),
                                                                    colors.data<int32_t>(), n, H, W, C, R);
  PYDISENT_CUDA_CHECK_LAUNCH();
}

void render_sprites_cuda(const TensorRef& out, const TensorRef& shapes, const TensorRef& params,
                         const TensorRef& geometry, std::uintptr_t stream) {
  check_sprites_args(out, shapes, params, geometry);
  check_cuda(out, "out");
  check_same_device(out, "out", geometry, "geometry");
  const int64_t n = out.size(0), H = out.size(1), W = out.size(2);
  const int64_t total = n * H * W;
  if (total == 0) return;
  DeviceGuard guard(out.device);
  sprites_kernel<<<grid_for(total), kThreads, 0, as_stream(stream)>>>(
      out.data<uint8_t>(), shapes.data<int32_t>(), params.data<double>(), geometry.data<double>(), n, H, W);
  PYDISENT_CUDA_CHECK_LAUNCH();
}

}  // namespace pydisent
