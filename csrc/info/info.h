#pragma once
#include <string>

namespace pydisent {
// Defined in info_cuda.cu when built with CUDA; the CPU-only build answers from info.cpp.
int cuda_device_count_impl();
std::string cuda_runtime_version_impl();
std::string cuda_device_name_impl(int device);
}  // namespace pydisent
