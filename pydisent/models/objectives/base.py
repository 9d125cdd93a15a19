"""The objective protocol the trainer drives, and the one shared step every objective refines.

An :class:`Objective` is an ``nn.Module`` holding a :class:`~pydisent.models.base.Model` (encoder +
decoder), a likelihood, a prior and its hyperparameters. The trainer (``pydisent.train``) only
needs what is documented here:

* ``name``, ``defaults`` (the objective's hyperparameters and their defaults, one dict, the
  single place they live), ``training_defaults`` (optimiser, batch, steps of the paper/study),
  ``batch_kind`` in ``{"single", "pairs", "triplets"}`` and ``sampler_defaults`` (keyword
  arguments for :meth:`pydisent.data.FactorSpace.sample_pairs_differing` or
  :meth:`~pydisent.data.FactorSpace.sample_triplets`), ``schedulable`` (names of the float
  hyperparameters a schedule may set by ``setattr`` before each step).
* ``loss(batch, step, generator) -> LossOutput(total, terms)``: ``batch`` is a float tensor
  ``(B, *observation_shape)`` for ``"single"``, a pair ``(x0, x1)`` or a triplet ``(a, p, n)``
  of such tensors (or one tensor ``(B, 2 | 3, *observation_shape)``); ``generator`` a
  ``torch.Generator`` on the batch's device drawing every random number of the step (the
  objective's own seeded one when None). ``total`` is what to backpropagate, ``terms`` the named
  scalar components to log (detached).
* Optional auxiliary network (FactorVAE's discriminator): ``aux_parameters()`` (empty for most),
  ``aux_optimizer_defaults``, ``aux_loss(batch, step, generator) -> LossOutput | None``. The
  update order that lets no auxiliary gradient reach the model::

      opt = Adam(objective.main_parameters(), ...)        # never the aux parameters
      aux_opt = Adam(objective.aux_parameters(), **objective.aux_optimizer_defaults)
      out = objective.loss(batch, step, g); opt.zero_grad(); out.total.backward(); opt.step()
      aux = objective.aux_loss(batch, step, g)            # on detached codes of that batch
      if aux is not None: aux_opt.zero_grad(); aux.total.backward(); aux_opt.step()

  ``aux_loss`` reads only detached codes, so its gradient cannot reach the encoder whatever the
  order; ``loss`` runs the aux network with its parameters frozen, so it leaves no gradient there.
* ``representation()`` -> deterministic ``x -> posterior mean`` module (for
  :func:`pydisent.metrics.evaluate`; ``.posterior(x)`` gives ``(mean, logvar)``);
  ``generator()`` -> ``z -> mean observation`` with ``latent_dim`` and ``sample_prior(n, generator)``.
* ``dataset_hparams`` (class attribute, e.g. beta-TCVAE's ``("dataset_size",)``): hyperparameters
  the trainer fills from the dataset when the user gave none; ``architecture_options(architecture,
  options)`` what :func:`make_objective` forces on the model (the tied autoencoder: an MLP, tied).
* The metrics' subject protocol on the objective itself (``encode``, ``posterior``, ``generate``,
  ``latent_dim``, ``sample_prior``): ``pydisent.metrics.evaluate(objective, dataset, names)``.
* ``config()`` -> plain dict (JSON-safe) that :func:`make_objective_from_config` rebuilds the
  objective from; ``state_dict()`` holds the weights and the current hyperparameter values.

The shared step (:meth:`Objective.loss`): encode, sample ``z ~ q(z|x)`` (reparameterised),
decode, reconstruction ``E_x[-log p(x|z)]`` (summed over elements, averaged over the batch), then
``regularizer(...)``, the one method families override, returns the weighted extra terms.
``reduction="mean"`` (disent's convention) divides the reconstruction by the number of
observation elements ``D`` and the regulariser by the latent size ``Z``; see
:func:`pydisent.models.likelihoods.beta_mean_to_sum`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

from pydisent.models.base import Generator, Model, Posterior, Representation
from pydisent.models.likelihoods import make_likelihood
from pydisent.models.priors import make_prior

BATCH_KINDS = ("single", "pairs", "triplets")

# disentanglement_lib unsupervised_study_v1 (shared.gin): Adam 1e-4 (0.9, 0.999, 1e-8), batch 64,
# latent 10, 300k steps. Objectives whose paper differs override this dict.
DLIB_TRAINING = {"optimizer": "adam", "lr": 1e-4, "betas": (0.9, 0.999), "eps": 1e-8,
                 "batch_size": 64, "latent_dim": 10, "steps": 300_000}


@dataclass
class LossOutput:
    """``total``: the scalar to backpropagate; ``terms``: named scalar components (detached) to log."""

    total: torch.Tensor
    terms: dict[str, torch.Tensor] = field(default_factory=dict)


def _as_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"hyperparameter {name!r} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"hyperparameter {name!r} must be finite, got {value}")
    return value


class Objective(nn.Module):
    """Base class: the shared step; subclasses set the class attributes and ``regularizer``."""

    name: ClassVar[str] = "?"
    #: hyperparameters and defaults (floats are schedulable unless listed in ``fixed``)
    defaults: ClassVar[dict] = {}
    training_defaults: ClassVar[dict] = DLIB_TRAINING
    batch_kind: ClassVar[str] = "single"
    sampler_defaults: ClassVar[dict] = {}
    stochastic: ClassVar[bool] = True
    aux_optimizer_defaults: ClassVar[dict] = {}
    #: hyperparameters the trainer fills from the dataset when not given (beta-TCVAE's dataset_size)
    dataset_hparams: ClassVar[tuple[str, ...]] = ()
    #: hyperparameters every objective takes: the likelihood (``"auto"``: Bernoulli on logits for
    #: ``(C, H, W)`` images, unit-variance Gaussian otherwise), the reduction convention, the prior
    common_defaults: ClassVar[dict] = {"likelihood": "auto", "reduction": "sum", "prior": "gaussian"}

    def __init__(self, model: Model, **hparams):
        super().__init__()
        if not isinstance(model, Model):
            raise TypeError(f"argument 'model' must be a pydisent.models.Model (wrap your encoder and decoder "
                            f"with Model(encoder, decoder, latent_dim, observation_shape)), got {type(model).__name__}")
        if model.stochastic != self.stochastic:
            kind = "a stochastic (Gaussian posterior)" if self.stochastic else "a deterministic"
            raise ValueError(f"objective {self.name!r} needs {kind} model; build it with stochastic={self.stochastic}")
        allowed = {**self.common_defaults, **self.defaults}
        unknown = sorted(set(hparams) - set(allowed))
        if unknown:
            raise ValueError(f"objective {self.name!r}: unknown hyperparameter(s) {unknown}; known: {sorted(allowed)}")
        hp = {**allowed, **hparams}
        for k, v in hp.items():
            d = allowed[k]
            if isinstance(d, float):
                hp[k] = _as_float(v, k)
            elif isinstance(d, bool):
                if not isinstance(v, bool):
                    raise TypeError(f"hyperparameter {k!r} must be a bool, got {v!r}")
            elif isinstance(d, int):
                if isinstance(v, bool) or not isinstance(v, int):
                    raise TypeError(f"hyperparameter {k!r} must be an int, got {v!r}")
        if hp["reduction"] not in ("sum", "mean"):
            raise ValueError(f"hyperparameter 'reduction' must be 'sum' or 'mean', got {hp['reduction']!r}")
        self.hparams = hp
        self.model = model
        lik = hp["likelihood"]
        if lik == "auto":  # Bernoulli on logits for images (disentanglement_lib), unit Gaussian for vectors
            lik = "bernoulli" if len(model.observation_shape) == 3 else "gaussian"
        self.likelihood = make_likelihood(lik, model.observation_shape)
        self.prior = make_prior(hp["prior"], model.latent_dim)
        self.reduction = hp["reduction"]
        for k in self.schedulable:
            setattr(self, k, hp[k])
        self._generator: torch.Generator | None = None
        self.validate()

    # -- introspection -----------------------------------------------------------------------------
    @property
    def schedulable(self) -> tuple[str, ...]:
        """The float hyperparameters (set by name, ``setattr(objective, name, value)``)."""
        return tuple(k for k, v in {**self.common_defaults, **self.defaults}.items() if isinstance(v, float))

    @property
    def latent_dim(self) -> int:
        return self.model.latent_dim

    @property
    def observation_shape(self) -> tuple[int, ...]:
        return self.model.observation_shape

    @property
    def num_elements(self) -> int:
        return math.prod(self.model.observation_shape)

    def validate(self) -> None:
        """Check hyperparameter values (subclasses add their constraints)."""

    def get_extra_state(self):
        return {k: float(getattr(self, k)) for k in self.schedulable}

    def set_extra_state(self, state):
        for k, v in (state or {}).items():
            if k in self.schedulable:
                setattr(self, k, float(v))

    def config(self) -> dict:
        """``{"objective", "hparams", "model"}``, JSON-safe (a likelihood or prior given as an instance is
        written as its own ``config()``; learned values come back through ``load_state_dict``)."""
        def plain(v):
            if isinstance(v, nn.Module) and hasattr(v, "config"):
                return v.config()
            return list(v) if isinstance(v, tuple) else v

        hp = {k: plain(v) for k, v in self.hparams.items()}
        return {"objective": self.name, "hparams": hp, "model": self.model.config()}

    @classmethod
    def architecture_options(cls, architecture: str | None, options: dict) -> tuple[str | None, dict]:
        """The architecture and options :func:`build_model` gets (the tied autoencoder forces an MLP
        with ``tied=True``)."""
        return architecture, options

    # -- parameters --------------------------------------------------------------------------------
    def aux_parameters(self) -> list[nn.Parameter]:
        return []

    def main_parameters(self) -> list[nn.Parameter]:
        """Every trainable parameter except the auxiliary network's (for the main optimiser)."""
        aux = {id(p) for p in self.aux_parameters()}
        return [p for p in self.parameters() if id(p) not in aux and p.requires_grad]

    def aux_loss(self, batch, step: int = 0, generator: torch.Generator | None = None) -> LossOutput | None:
        return None

    # -- views -------------------------------------------------------------------------------------
    def representation(self) -> Representation:
        return Representation(self.model)

    def generator(self) -> Generator:
        return Generator(self.model, self.likelihood, self.prior)

    # the metrics' subject protocol on the objective itself: pm.evaluate(objective, dataset, ...)
    def encode(self, x):
        """The posterior mean (deterministic), under no_grad."""
        return self.representation().encode(x)

    def posterior(self, x):
        """``(mean, logvar)`` under no_grad."""
        return self.representation().posterior(x)

    def generate(self, z):
        """The mean observation of codes ``z``, under no_grad."""
        return self.generator().generate(z)

    def sample_prior(self, n: int, rng=None):
        """``n`` prior draws; ``rng`` a torch.Generator or a NumPy Generator / seed."""
        return self.generator().sample_prior(n, rng)

    # -- the shared step ---------------------------------------------------------------------------
    def default_generator(self, device) -> torch.Generator:
        device = torch.device(device)
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device).manual_seed(0)
        return self._generator

    def step_generator(self, generator: torch.Generator | None, device) -> torch.Generator:
        """``generator`` checked against the batch's device, or the objective's own seeded one."""
        if generator is None:
            return self.default_generator(device)
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"argument 'generator' must be a torch.Generator or None, got {type(generator).__name__}")
        if generator.device.type != torch.device(device).type:
            raise ValueError(f"argument 'generator' is on {generator.device}, the batch on {device}: "
                             f"build it with torch.Generator(device={str(device)!r})")
        return generator

    def split_batch(self, batch, n: int) -> tuple[torch.Tensor, ...]:
        """``n`` observation tensors from a tuple/list of ``n`` tensors or one ``(B, n, ...)`` tensor."""
        if n == 1:
            if isinstance(batch, (tuple, list)):
                if len(batch) != 1:
                    raise ValueError(f"argument 'batch': objective {self.name!r} takes single observations "
                                     f"(batch_kind 'single'), got a sequence of {len(batch)}")
                batch = batch[0]
            return (self.model.check_observations(batch, "batch"),)
        if isinstance(batch, torch.Tensor):
            if batch.ndim < 2 or batch.shape[1] != n:
                raise ValueError(f"argument 'batch': objective {self.name!r} takes {self.batch_kind} as a tuple of "
                                 f"{n} tensors or one tensor (B, {n}, ...), got shape {tuple(batch.shape)}")
            batch = batch.unbind(1)
        if not isinstance(batch, (tuple, list)) or len(batch) != n:
            raise ValueError(f"argument 'batch': objective {self.name!r} takes {self.batch_kind}: "
                             f"a tuple of {n} tensors")
        xs = tuple(self.model.check_observations(b, f"batch[{i}]") for i, b in enumerate(batch))
        if any(len(x) != len(xs[0]) for x in xs):
            raise ValueError(f"argument 'batch': the {n} tensors must have the same batch size, "
                             f"got {[len(x) for x in xs]}")
        return xs

    def reconstruction(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Batch mean of ``-log p(x|z)`` (summed over elements; divided by ``D`` under ``reduction='mean'``)."""
        rec = self.likelihood.nll(params, x).mean()
        return rec / self.num_elements if self.reduction == "mean" else rec

    def scale_reg(self, value: torch.Tensor) -> torch.Tensor:
        """A regulariser summed over latent dims, divided by ``Z`` under ``reduction='mean'``."""
        return value / self.latent_dim if self.reduction == "mean" else value

    # Losses are computed in float32 (at least): under bf16/fp16 autocast the networks' outputs are
    # half precision, and logsumexp over a batch or |KL - C| lose most of their digits there.
    def encode_posterior(self, x: torch.Tensor) -> Posterior:
        """``q(z|x)`` with float32 (or wider) parameters, for the losses."""
        q = self.model.encode(x)
        if q.mean.dtype in (torch.float16, torch.bfloat16):
            q = Posterior(q.mean.float(), q.logvar.float() if q.logvar is not None else None)
        return q

    def decode_params(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder output (likelihood parameters) in float32 (or wider)."""
        p = self.model.decode(z)
        return p.float() if p.dtype in (torch.float16, torch.bfloat16) else p

    def kl_per_sample(self, q: Posterior, z: torch.Tensor) -> torch.Tensor:
        """``KL(q(z|x) || p(z))`` per observation: closed form when the prior has one, else the
        single-sample Monte-Carlo ``log q(z|x) - log p(z)`` at the drawn ``z``."""
        kl = self.prior.kl(q)
        if kl is None:
            kl = q.log_prob(z).sum(-1) - self.prior.log_prob(z)
        return kl

    def kl_mean(self, q: Posterior, z: torch.Tensor) -> torch.Tensor:
        """Batch mean KL (divided by ``Z`` under ``reduction='mean'``)."""
        return self.scale_reg(self.kl_per_sample(q, z).mean())

    def loss(self, batch, step: int = 0, generator: torch.Generator | None = None) -> LossOutput:
        (x,) = self.split_batch(batch, 1)
        g = self.step_generator(generator, x.device)
        q = self.encode_posterior(x)
        z = q.sample(g)
        params = self.decode_params(z)
        rec = self.reconstruction(params, x)
        reg, terms = self.regularizer(x=x, q=q, z=z, params=params, step=step, generator=g)
        total = rec + reg
        return LossOutput(total, {"loss": total.detach(), "recon": rec.detach(),
                                  **{k: v.detach() for k, v in terms.items()}})

    def regularizer(self, *, x: torch.Tensor, q: Posterior, z: torch.Tensor, params: torch.Tensor,
                    step: int, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The weighted extra terms (a scalar) and the named components to log."""
        return x.new_zeros(()), {}


@torch.no_grad()
def evaluate_loss(objective: Objective, batches, step: int = 0,
                  generator: torch.Generator | None = None) -> dict[str, float]:
    """Every term of ``objective.loss`` averaged over **all** ``batches`` (an iterable of batches),
    each batch weighted by its size: the held-out loss (disentangling-vae returned the first batch's,
    its #70). The objective is put in eval mode for the pass and restored after."""
    was_training = objective.training
    objective.eval()
    sums: dict[str, float] = {}
    total = 0
    try:
        for batch in batches:
            first = batch if isinstance(batch, torch.Tensor) else batch[0]
            n = len(first)
            out = objective.loss(batch, step, generator)
            for k, v in out.terms.items():
                sums[k] = sums.get(k, 0.0) + float(v) * n
            total += n
    finally:
        objective.train(was_training)
    if total == 0:
        raise ValueError("argument 'batches' is empty")
    return {k: v / total for k, v in sums.items()}


def kl_normal(q: Posterior) -> torch.Tensor:
    """``KL(N(mu, diag var) || N(0, I))`` per dimension: ``0.5 (mu^2 + var - log var - 1)``, ``(B, Z)``."""
    return 0.5 * (q.mean**2 + q.logvar.exp() - q.logvar - 1.0)


# -- the registry ----------------------------------------------------------------------------------
OBJECTIVES: dict[str, type[Objective]] = {}


def register_objective(cls: type[Objective]) -> type[Objective]:
    if cls.batch_kind not in BATCH_KINDS:
        raise ValueError(f"objective {cls.name!r}: batch_kind must be one of {BATCH_KINDS}")
    if cls.name in OBJECTIVES and OBJECTIVES[cls.name] is not cls:
        raise ValueError(f"objective name {cls.name!r} registered twice")
    OBJECTIVES[cls.name] = cls
    return cls


def objective_class(name: str) -> type[Objective]:
    if not isinstance(name, str) or name not in OBJECTIVES:
        raise ValueError(f"argument 'objective': unknown {name!r}; known: {sorted(OBJECTIVES)}")
    return OBJECTIVES[name]


def make_objective(name: str, observation_shape=None, *, latent_dim: int | None = None,
                   architecture: str | None = None, arch_options: dict | None = None,
                   model: Model | None = None, **hparams) -> Objective:
    """An objective by name, on a model built from ``architecture`` (default by observation shape:
    ``conv64`` for 64 x 64 images, ``burgess`` for 32 x 32, ``mlp`` otherwise) or on ``model``.

    Args:
        name: a key of ``OBJECTIVES``.
        observation_shape: one observation's shape (ignored when ``model`` is given).
        latent_dim: code size (default: the objective's ``training_defaults['latent_dim']``, 10).
        architecture, arch_options: see :func:`pydisent.models.architectures.build_model`.
        model: a ready :class:`~pydisent.models.base.Model` (user modules).
        hparams: the objective's hyperparameters (``OBJECTIVES[name].defaults`` lists them).
    """
    from pydisent.models.architectures import build_model

    cls = objective_class(name)
    if model is None:
        if observation_shape is None:
            raise ValueError("argument 'observation_shape' is required when no 'model' is given")
        ld = cls.training_defaults.get("latent_dim", 10) if latent_dim is None else latent_dim
        architecture, options = cls.architecture_options(architecture, dict(arch_options or {}))
        model = build_model(observation_shape, ld, architecture, stochastic=cls.stochastic, **options)
    return cls(model, **hparams)


def make_objective_from_config(config: dict) -> Objective:
    """Rebuild an objective from :meth:`Objective.config` (weights then come from ``load_state_dict``)."""
    if not isinstance(config, dict) or "objective" not in config or "model" not in config:
        raise ValueError("argument 'config' must be a dict from Objective.config() with 'objective' and 'model'")
    m = config["model"]
    arch = m.get("architecture")
    if arch is None:
        raise ValueError("this objective was built on user modules: rebuild the Model yourself and pass "
                         "make_objective(name, model=..., **config['hparams'])")
    arch = dict(arch)
    name = arch.pop("name")
    return make_objective(config["objective"], m["observation_shape"], latent_dim=m["latent_dim"],
                          architecture=name, arch_options=arch, **config.get("hparams", {}))

