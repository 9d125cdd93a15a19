"""Models: representations to score and the objectives that train them.

* Baselines give every metric a meaningful floor without training anything: a random linear
  projection of the pixels (a Johnson-Lindenstrauss embedding: informative, entangled) and the
  principal components of the pixels (the best linear code in the L2 sense, usually entangled).
* :mod:`~pydisent.models.base`: the encoder/decoder protocol and :class:`Model`;
  :mod:`~pydisent.models.architectures` (``ARCHITECTURES``: disentanglement_lib conv64, Burgess,
  MLP); :mod:`~pydisent.models.likelihoods` (``LIKELIHOODS``); :mod:`~pydisent.models.priors`
  (``PRIORS``); :mod:`~pydisent.models.objectives` (``OBJECTIVES``, ``make_objective``).
"""

from pydisent.models.baselines import BASELINES, PCACode, RandomProjection, make_baseline
from pydisent.models.loading import load_representation
from pydisent.models.base import Generator, Model, Posterior, Representation
from pydisent.models.architectures import ARCHITECTURES, build_model, default_architecture
from pydisent.models.likelihoods import LIKELIHOODS, beta_mean_to_sum, beta_sum_to_mean, make_likelihood
from pydisent.models.priors import PRIORS, make_prior
from pydisent.models.objectives import (
    OBJECTIVES, LossOutput, Objective, make_objective, make_objective_from_config, objective_class,
)

__all__ = [
    "BASELINES", "PCACode", "RandomProjection", "make_baseline", "load_representation",
    "Generator", "Model", "Posterior", "Representation",
    "ARCHITECTURES", "build_model", "default_architecture",
    "LIKELIHOODS", "beta_mean_to_sum", "beta_sum_to_mean", "make_likelihood",
    "PRIORS", "make_prior",
    "OBJECTIVES", "LossOutput", "Objective", "make_objective", "make_objective_from_config", "objective_class",
]
