// CUDA half of info: device queries that tolerate a missing driver (the runtime is linked
// statically and only reaches the driver when asked).
#include <string>

#include "common/cuda_check.h"
#include "info/info.h"

namespace pydisent {

int cuda_device_count_impl() {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver"/"no device" error
    return 0;
  }
  return n;
}

std::string cuda_runtime_version_impl() {
  int v = CUDART_VERSION;
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

std::string cuda_device_name_impl(int device) {
  int n = cuda_device_count_impl();
  PYDISENT_CHECK(device >= 0 && device < n, "argument 'device' must be in [0, ", n, "), got ", device);
  cudaDeviceProp prop;
  PYDISENT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return std::string(prop.name);
}

}  // namespace pydisent
