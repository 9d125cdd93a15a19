"""Models: representations to score and the objectives that train them.

* Baselines give every metric a meaningful floor without training anything: a random linear
  projection of the pixels (a Johnson-Lindenstrauss embedding: informative, entangled) and the
  principal components of the pixels (the best linear code in the L2 sense, usually entangled).
* :mod:`~pydisent.models.base`: the encoder/decoder protocol and :class:`Model`;
  :mod:`~pydisent.models.architectures` (``ARCHITECTURES``: disentanglement_lib conv64, Burgess,
  MLP); :mod:`~pydisent.models.likelihoods` (``LIKELIHOODS``); :mod:`~pydisent.models.priors`
  (``PRIORS``); :mod:`~pydisent.models.objectives` (``OBJECTIVES``, ``make_objective``).
"""

from pydisent.models.architectures import (
    ARCHITECTURES,
    build_model,
    default_architecture,
)
from pydisent.models.base import Generator, Model, Posterior, Representation
from pydisent.models.baselines import (
    BASELINES,
    PCACode,
    RandomProjection,
    make_baseline,
)
from pydisent.models.likelihoods import (
    LIKELIHOODS,
    beta_mean_to_sum,
    beta_sum_to_mean,
    make_likelihood,
)
from pydisent.models.loading import load_representation
from pydisent.models.objectives import (
    OBJECTIVES,
    LossOutput,
    Objective,
    evaluate_loss,
    iwae_bound,
    make_objective,
    make_objective_from_config,
    objective_class,
)
from pydisent.models.priors import PRIORS, make_prior

__all__ = [
    "ARCHITECTURES",
    "BASELINES",
    "LIKELIHOODS",
    "OBJECTIVES",
    "PRIORS",
    "Generator",
    "LossOutput",
    "Model",
    "Objective",
    "PCACode",
    "Posterior",
    "RandomProjection",
    "Representation",
    "beta_mean_to_sum",
    "beta_sum_to_mean",
    "build_model",
    "default_architecture",
    "evaluate_loss",
    "iwae_bound",
    "load_representation",
    "make_baseline",
    "make_likelihood",
    "make_objective",
    "make_objective_from_config",
    "make_prior",
    "objective_class",
]
