"""The one table of distance-metric names shared by every kernel family.

The compiled kernels (pairwise distances, paired distances, the Rips engine) speak one enum,
``csrc/common/metric.h``'s ``DistanceMetric``, bound as :class:`pydisent._C.DistanceMetric`. This module
maps the names users pass (and a few aliases) onto its members; each op keeps its own tuple of the
metrics it supports and its own error message, and hands the kernel :func:`code` of the name.
"""

from __future__ import annotations

from pydisent import _C

#: canonical name -> the C++ enum member (the enum's own names: one source of truth)
CODES: dict[str, _C.DistanceMetric] = dict(_C.DistanceMetric.__members__)
#: other names accepted where an op documents them (the Rips engine: scipy/ripser spellings)
ALIASES = {"l2": "euclidean", "l1": "manhattan", "cityblock": "manhattan"}


def canonical(name: str) -> str:
    """The canonical name of ``name`` (an alias resolved); ``KeyError`` if it is not a metric."""
    key = ALIASES.get(name, name)
    if key not in CODES:
        raise KeyError(name)
    return key


def code(name) -> _C.DistanceMetric:
    """The kernel code of a metric given by name (or alias), or already a code (returned as is)."""
    if isinstance(name, _C.DistanceMetric):
        return name
    return CODES[canonical(name)]


def name_of(metric) -> str:
    """Canonical name of a metric given as a name, an alias, an enum member or its integer value."""
    if isinstance(metric, str):
        return canonical(metric)
    value = int(metric)
    for key, member in CODES.items():
        if int(member) == value:
            return key
    raise KeyError(metric)
