// Bindings of the persistence kernel family (filled in by its issue).
#include <pybind11/pybind11.h>

#include "common/registry.h"

namespace pydisent {
void register_persistence(pybind11::module_& m) {}
}  // namespace pydisent
