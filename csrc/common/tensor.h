// A non-owning view of a tensor that Python allocated with torch.
//
// Python passes a TensorRef (pointer, dtype, device, shape, strides in elements) built by
// pydisent._dispatch.ref(); kernels read it through the typed, strided View below. Nothing here
// owns memory: the torch tensor on the Python side keeps it alive for the duration of the call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/check.h"

namespace pydisent {

enum class DType : int { Float32 = 0, Float64 = 1, Int32 = 2, Int64 = 3, UInt8 = 4, Bool = 5 };

inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::UInt8: return "uint8";
    case DType::Bool: return "bool";
  }
  return "unknown";
}

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::UInt8; };

struct TensorRef {
  std::uintptr_t ptr = 0;
  DType dtype = DType::Float32;
  int device = -1;  // -1: host memory; >= 0: CUDA device index
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  // in elements, as torch reports them

  int64_t dim() const { return static_cast<int64_t>(shape.size()); }
  int64_t size(int64_t i) const { return shape.at(static_cast<size_t>(i < 0 ? i + dim() : i)); }
  int64_t stride(int64_t i) const { return strides.at(static_cast<size_t>(i < 0 ? i + dim() : i)); }
  int64_t numel() const {
    int64_t n = 1;
    for (auto s : shape) n *= s;
    return n;
  }
  bool is_cuda() const { return device >= 0; }
  bool is_contiguous() const {
    if (numel() == 0) return true;  // as torch: an empty tensor is contiguous whatever its strides
    int64_t expect = 1;
    for (int64_t i = dim() - 1; i >= 0; --i) {
      if (shape[i] != 1 && strides[i] != expect) return false;
      expect *= shape[i];
    }
    return true;
  }
  template <typename T> T* data() const {
    PYDISENT_CHECK_TYPE(dtype == dtype_of<T>::value, "internal: tensor has dtype ", dtype_name(dtype),
                        ", kernel expected ", dtype_name(dtype_of<T>::value));
    return reinterpret_cast<T*>(ptr);
  }
};

// Argument checks used at the C++ boundary (Python checked already; this is the second line).
inline void check_rank(const TensorRef& t, const char* name, int64_t rank) {
  PYDISENT_CHECK(t.dim() == rank, "argument '", name, "' must have ", rank, " dimensions, got ", t.dim());
}
inline void check_dtype(const TensorRef& t, const char* name, DType d) {
  PYDISENT_CHECK_TYPE(t.dtype == d, "argument '", name, "' must have dtype ", dtype_name(d), ", got ",
                      dtype_name(t.dtype));
}
inline void check_float(const TensorRef& t, const char* name) {
  PYDISENT_CHECK_TYPE(t.dtype == DType::Float32 || t.dtype == DType::Float64, "argument '", name,
                      "' must be float32 or float64, got ", dtype_name(t.dtype));
}
inline void check_host(const TensorRef& t, const char* name) {
  PYDISENT_CHECK(!t.is_cuda(), "argument '", name, "' must be a CPU tensor for the C++ CPU kernel");
}
inline void check_cuda(const TensorRef& t, const char* name) {
  PYDISENT_CHECK(t.is_cuda(), "argument '", name, "' must be a CUDA tensor for the CUDA kernel");
}
inline void check_contiguous(const TensorRef& t, const char* name) {
  PYDISENT_CHECK(t.is_contiguous(), "argument '", name, "' must be contiguous");
}
inline void check_same_device(const TensorRef& a, const char* an, const TensorRef& b, const char* bn) {
  PYDISENT_CHECK(a.device == b.device, "arguments '", an, "' and '", bn, "' must be on the same device");
}

}  // namespace pydisent
