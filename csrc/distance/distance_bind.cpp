// Bindings of the distance kernel family (filled in by its issue).
#include <pybind11/pybind11.h>

#include "common/registry.h"

namespace pydisent {
void register_distance(pybind11::module_& m) {}
}  // namespace pydisent
