"""Training objectives by name (``OBJECTIVES``), one module per family; the protocol is in
:mod:`pydisent.models.objectives.base`."""

from pydisent.models.objectives.base import (
    BATCH_KINDS, OBJECTIVES, LossOutput, Objective, make_objective, make_objective_from_config,
    objective_class, register_objective,
)
from pydisent.models.objectives import vae  # noqa: F401  (registers its objectives)
from pydisent.models.objectives.vae import VAE, AnnealedVAE, BetaVAE

__all__ = [
    "BATCH_KINDS", "OBJECTIVES", "LossOutput", "Objective", "make_objective", "make_objective_from_config",
    "objective_class", "register_objective", "VAE", "BetaVAE", "AnnealedVAE",
]
