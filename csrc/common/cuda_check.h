// CUDA helpers for .cu files: every runtime call goes through PYDISENT_CUDA_CHECK.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "common/check.h"

#define PYDISENT_CUDA_CHECK(expr)                                                            \
  do {                                                                                       \
    cudaError_t _pd_err = (expr);                                                            \
    if (_pd_err != cudaSuccess) {                                                            \
      throw ::pydisent::CudaError(::pydisent::detail::concat(#expr, " failed: ",             \
                                                             cudaGetErrorString(_pd_err))); \
    }                                                                                        \
  } while (0)

// After a kernel launch: catches bad launch configurations at once (asynchronous faults surface at
// the next synchronising call, which is also checked).
#define PYDISENT_CUDA_CHECK_LAUNCH() PYDISENT_CUDA_CHECK(cudaGetLastError())

namespace pydisent {

inline cudaStream_t as_stream(std::uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

// Makes `device` current for the lifetime of the guard and restores the previous device after.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    PYDISENT_CUDA_CHECK(cudaGetDevice(&prev_));
    if (device != prev_) PYDISENT_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceGuard() { cudaSetDevice(prev_); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int prev_ = 0;
};

inline unsigned int ceil_div(int64_t a, int64_t b) { return static_cast<unsigned int>((a + b - 1) / b); }

}  // namespace pydisent
