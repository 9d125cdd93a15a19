// Float/double dispatch: the role AT_DISPATCH_FLOATING_TYPES plays in aten, for every kernel family
// (the CUDA launch tails and the CPU entry points alike).
//
//   PYDISENT_DISPATCH_FLOATING_TYPES(a.x.dtype, "pca_cuda", [&] { launch<scalar_t>(a, stream); });
//
// calls the lambda with `scalar_t` = float for DType::Float32 and double for DType::Float64, and
// throws TypeError naming the kernel for any other dtype (the argument checks reject those first).
// Plain C++ (no pybind11, no CUDA runtime): .cu and .cpp files both use it.
#pragma once

#include <utility>

#include "common/check.h"
#include "common/tensor.h"

namespace pydisent {

template <class Fn>
decltype(auto) dispatch_floating_types(DType dtype, const char* kernel, Fn&& fn) {
  switch (dtype) {
    case DType::Float32: return std::forward<Fn>(fn)(float{});
    case DType::Float64: return std::forward<Fn>(fn)(double{});
    default: break;
  }
  throw TypeError(detail::concat(kernel, ": expected float32 or float64 data, got ", dtype_name(dtype)));
}

}  // namespace pydisent

// The body is a nullary lambda that refers to scalar_t (as in aten).
#define PYDISENT_DISPATCH_FLOATING_TYPES(DTYPE, NAME, ...)                                \
  ::pydisent::dispatch_floating_types((DTYPE), (NAME), [&](auto _pd_scalar_tag) {         \
    using scalar_t = decltype(_pd_scalar_tag);                                            \
    return (__VA_ARGS__)();                                                               \
  })
