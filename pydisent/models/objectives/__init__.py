"""Training objectives by name (``OBJECTIVES``), one module per family; the protocol is in
:mod:`pydisent.models.objectives.base`.

| family | module | names |
|---|---|---|
| autoencoders | ``autoencoder`` | ``ae``, ``denoising_ae``, ``sparse_ae``, ``tied_ae`` |
| VAE | ``vae`` | ``vae``, ``beta_vae``, ``annealed_vae`` |
| total correlation | ``tc`` | ``beta_tcvae`` |
| discriminator | ``factor`` | ``factor_vae`` |
| covariance matching | ``dip`` | ``dip_vae_i``, ``dip_vae_ii`` |
| weak supervision (pairs) | ``weak`` | ``ada_gvae``, ``ada_ml_vae`` |
| triplets | ``triplet`` | ``tvae``, ``ada_tvae``, ``ada_tvae_d`` |
| structured priors | ``decomposition`` | ``decomposition_vae`` (+ ``iwae_bound``) |
"""

from pydisent.models.objectives.autoencoder import AE, DenoisingAE, SparseAE, TiedAE
from pydisent.models.objectives.base import (
    BATCH_KINDS,
    OBJECTIVES,
    LossOutput,
    Objective,
    evaluate_loss,
    make_objective,
    make_objective_from_config,
    objective_class,
    register_objective,
)
from pydisent.models.objectives.decomposition import DecompositionVAE, iwae_bound
from pydisent.models.objectives.dip import DIPVAEI, DIPVAEII
from pydisent.models.objectives.factor import FactorVAE
from pydisent.models.objectives.tc import BetaTCVAE
from pydisent.models.objectives.triplet import TVAE, AdaTVAE, AdaTVAEData
from pydisent.models.objectives.vae import VAE, AnnealedVAE, BetaVAE
from pydisent.models.objectives.weak import AdaGVAE, AdaMLVAE

__all__ = [
    "AE",
    "BATCH_KINDS",
    "DIPVAEI",
    "DIPVAEII",
    "OBJECTIVES",
    "TVAE",
    "VAE",
    "AdaGVAE",
    "AdaMLVAE",
    "AdaTVAE",
    "AdaTVAEData",
    "AnnealedVAE",
    "BetaTCVAE",
    "BetaVAE",
    "DecompositionVAE",
    "DenoisingAE",
    "FactorVAE",
    "LossOutput",
    "Objective",
    "SparseAE",
    "TiedAE",
    "iwae_bound", "evaluate_loss",
    "make_objective",
    "make_objective_from_config",
    "objective_class",
    "register_objective",
]
