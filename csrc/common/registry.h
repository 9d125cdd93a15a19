// Each kernel family defines one register_<family>(module) in its own folder; module.cpp calls them.
#pragma once

#include <pybind11/pybind11.h>

namespace pydisent {
void register_info(pybind11::module_& m);
void register_distance(pybind11::module_& m);
void register_persistence(pybind11::module_& m);
void register_pca(pybind11::module_& m);
void register_paired(pybind11::module_& m);
void register_render(pybind11::module_& m);
void register_trees(pybind11::module_& m);
void register_rank(pybind11::module_& m);
void register_witness(pybind11::module_& m);
}  // namespace pydisent
