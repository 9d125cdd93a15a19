// What the module was built with: CUDA or not, OpenMP threads, compiler.
#include <omp.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <string>

#include "common/check.h"
#include "common/cpu.h"
#include "common/registry.h"
#include "info/info.h"

namespace py = pybind11;

namespace pydisent {

// The Rips engine's own override (persistence/rips_engine.h uses the same name).
constexpr const char* PYDISENT_RIPS_ENV_NAME = "PYDISENT_RIPS_GENERIC";

#ifndef PYDISENT_WITH_CUDA
int cuda_device_count_impl() { return 0; }
std::string cuda_runtime_version_impl() { return ""; }
std::string cuda_device_name_impl(int) {
  throw ValueError("pydisent was built without CUDA: there is no CUDA device to name");
}
#endif

void register_info(py::module_& m) {
  m.def("has_cuda", []() {
#ifdef PYDISENT_WITH_CUDA
    return true;
#else
    return false;
#endif
  }, "True when the module was compiled with the CUDA kernels");
  m.def("cuda_device_count", &cuda_device_count_impl,
        "Number of usable CUDA devices (0 without a GPU, a driver, or CUDA support in this build)");
  m.def("cuda_runtime_version", &cuda_runtime_version_impl, "CUDA runtime version compiled in, or ''");
  m.def("cuda_device_name", &cuda_device_name_impl, py::arg("device") = 0);
  m.def("omp_max_threads", []() { return omp_get_max_threads(); },
        "OpenMP threads the CPU kernels use (OMP_NUM_THREADS)");
  m.def("set_omp_threads", [](int n) {
    PYDISENT_CHECK(n >= 1, "argument 'n' must be >= 1, got ", n);
    omp_set_num_threads(n);
  }, py::arg("n"));
  m.def("cpu_variants", []() {
    std::map<std::string, std::string> r;
    r["host"] = cpu::isa_name(cpu::host_isa());
    r["selected"] = cpu::isa_name(cpu::isa());
    r["rips"] = cpu::isa_name(cpu::isa(PYDISENT_RIPS_ENV_NAME));
    r["forced_generic"] = cpu::generic_forced() ? "PYDISENT_CPU_GENERIC" : "";
    return r;
  }, "CPU instruction-set levels (common/cpu.h): the best this CPU and build support ('host'), the one "
     "the kernels use ('selected'; 'generic' under PYDISENT_CPU_GENERIC=1) and the Rips engine's");
  m.def("compiler", []() {
#if defined(__clang__)
    return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    return std::string("gcc ") + __VERSION__;
#else
    return std::string("unknown");
#endif
  });
}

}  // namespace pydisent
