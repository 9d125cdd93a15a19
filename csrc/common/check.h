// Error reporting shared by every kernel family.
//
// Kernels never abort the interpreter: a failed check throws one of the exception types below, and
// module.cpp translates each into the matching Python exception (ValueError, TypeError, ...).
// This header is plain C++ (no pybind11, no torch) so .cu files can include it too.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace pydisent {

struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct NotImplementedError : std::logic_error {
  using std::logic_error::logic_error;
};
struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace pydisent

// PYDISENT_CHECK(cond, "argument 'x' must ...", value): throws ValueError with the pieces concatenated.
#define PYDISENT_CHECK(cond, ...)                                              \
  do {                                                                         \
    if (!(cond)) throw ::pydisent::ValueError(::pydisent::detail::concat(__VA_ARGS__)); \
  } while (0)

#define PYDISENT_CHECK_TYPE(cond, ...)                                         \
  do {                                                                         \
    if (!(cond)) throw ::pydisent::TypeError(::pydisent::detail::concat(__VA_ARGS__)); \
  } while (0)

#define PYDISENT_NOT_IMPLEMENTED(...) \
  throw ::pydisent::NotImplementedError(::pydisent::detail::concat(__VA_ARGS__))
