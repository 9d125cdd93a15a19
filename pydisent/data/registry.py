"""Datasets by name: ``make_dataset("xysquares", grid_spacing=4)``.

Dataset classes register themselves with :func:`register_dataset` where they are defined, so
:data:`DATASETS` is built from the classes (there is no second, hand-kept list); aliases may carry
preset keyword arguments (``"mpi3d_toy"`` is ``MPI3D(variant="toy")``).
"""

from __future__ import annotations

DATASETS: dict[str, type] = {}
ALIASES: dict[str, tuple[str, dict]] = {}


def register_dataset(name: str, aliases: dict[str, dict] | tuple[str, ...] = ()):
    """Class decorator: register ``cls`` as ``name`` (lower case), plus ``aliases`` (a tuple of
    names, or a mapping alias -> preset keyword arguments)."""

    def deco(cls):
        key = name.lower()
        if key in DATASETS and DATASETS[key] is not cls:
            raise ValueError(f"dataset name {key!r} is already registered to {DATASETS[key].__name__}")
        DATASETS[key] = cls
        cls.name = key
        items = aliases.items() if isinstance(aliases, dict) else ((a, {}) for a in aliases)
        for alias, preset in items:
            ALIASES[alias.lower()] = (key, dict(preset))
        return cls

    return deco


def dataset_names(include_aliases: bool = False) -> list[str]:
    names = sorted(DATASETS)
    return names + sorted(ALIASES) if include_aliases else names


def make_dataset(name: str, **kwargs):
    """The dataset registered as ``name`` (or an alias), constructed with ``kwargs``."""
    if not isinstance(name, str):
        raise TypeError(f"argument 'name' must be a string, got {type(name).__name__}")
    key = name.lower().replace("-", "_")
    if key in DATASETS:
        return DATASETS[key](**kwargs)
    if key in ALIASES:
        target, preset = ALIASES[key]
        return DATASETS[target](**{**preset, **kwargs})
    raise ValueError(f"unknown dataset {name!r}; known: {dataset_names()} (aliases: {sorted(ALIASES)})")
