"""Persistent homology of many point clouds: Vietoris-Rips H0/H1 diagrams (:func:`vietoris_rips`)."""

from pydisent.topology.diagrams import Diagrams
from pydisent.topology.rips import vietoris_rips

__all__ = ["Diagrams", "vietoris_rips"]
