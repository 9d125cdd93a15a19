"""Persistence diagrams of one point cloud, laid out like ``ripser.ripser(X)["dgms"]``."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

#: Columns of ``Diagrams.generators[0]``: the birth vertex and the death edge (u > v; -1, -1 for
#: the essential class).
H0_GENERATOR_COLUMNS = ("birth_vertex", "death_u", "death_v")
#: Columns of ``Diagrams.generators[1]``: the birth edge (u > v) and the death triangle
#: (a > b > c; -1, -1, -1 for an essential class).
H1_GENERATOR_COLUMNS = ("birth_u", "birth_v", "death_a", "death_b", "death_c")


class Diagrams:
    """Persistence diagrams ``[H0, H1]`` (up to ``maxdim``) of one cloud.

    ``dgms[k]`` is a float64 array of shape ``(m, 2)`` of (birth, death) pairs, with ``inf`` deaths
    for essential classes: the conventions of ``ripser.ripser`` (values are float32 filtration
    values, H0 has one infinite bar per connected component, zero-length bars are dropped).
    H0 pairs are sorted by increasing death (the infinite bars last); H1 pairs come in the order the
    reduction finds them (decreasing birth, as in ripser).

    ``generators`` (only with ``return_generators=True``) holds, per dimension, int64 arrays of the
    simplices that create and destroy each class, row for row with ``dgms``: H0 rows are
    ``(birth_vertex, death_u, death_v)`` and H1 rows ``(birth_u, birth_v, death_a, death_b, death_c)``,
    vertices in decreasing order and ``-1`` where the class never dies. The diameter of the birth
    (death) simplex is the birth (death) value of the bar.

    Indexing works like ripser's result: ``d[0]`` / ``d[1]`` are the diagrams, ``d["dgms"]`` the
    list, ``d["generators"]`` the generators; ``len(d)`` and iteration run over the diagrams.
    """

    __slots__ = ("dgms", "generators")

    def __init__(self, dgms: list[np.ndarray], generators: list[np.ndarray] | None = None):
        self.dgms = list(dgms)
        self.generators = None if generators is None else list(generators)

    @property
    def maxdim(self) -> int:
        return len(self.dgms) - 1

    def __getitem__(self, key):
        if isinstance(key, str):
            if key == "dgms":
                return self.dgms
            if key == "generators":
                return self.generators
            raise KeyError(key)
        return self.dgms[key]

    def __len__(self) -> int:
        return len(self.dgms)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.dgms)

    def __repr__(self) -> str:
        parts = []
        for k, d in enumerate(self.dgms):
            ess = int(np.isinf(d[:, 1]).sum()) if len(d) else 0
            parts.append(f"H{k}: {len(d)} pairs ({ess} essential)")
        gens = ", with generators" if self.generators is not None else ""
        return f"Diagrams({'; '.join(parts)}{gens})"


def empty_diagrams(maxdim: int, generators: bool) -> Diagrams:
    dgms = [np.zeros((0, 2), dtype=np.float64) for _ in range(maxdim + 1)]
    gens = None
    if generators:
        gens = [np.zeros((0, 3 if k == 0 else 5), dtype=np.int64) for k in range(maxdim + 1)]
    return Diagrams(dgms, gens)
