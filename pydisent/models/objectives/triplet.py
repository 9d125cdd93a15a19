"""Triplet VAEs of Michlo et al. (msc-research, "Data Overlap: A Prerequisite For Disentanglement",
arXiv 2202.13341), as disent defines them.

Every observation of the triplet ``(a, p, n)`` goes through the VAE; reconstruction and KL are
averaged over the three (disent's multi-observation rule), and a triplet term on the posterior
means ``mu_a, mu_p, mu_n`` is added unscaled by the reduction:

    triplet(dp, dn) = scale * mean( relu(||dp||_p - ||dn||_p + margin) ),   dp = mu_a - mu_p, dn = mu_a - mu_n

* ``tvae``: ``L = rec + beta KL + triplet(mu_a - mu_p, mu_a - mu_n)``, triplets from a
  ground-truth distance sampler (``batch_kind = "triplets"``,
  :meth:`pydisent.data.FactorSpace.sample_triplets`, ordered by the range-normalised Manhattan
  factor distance so that ``d(a, p) <= d(a, n)``).
* ``ada_tvae`` (disent ``AdaNegTripletVae``, supervised): the dimensions "shared" between ``a`` and
  ``n`` (Ada thresholding of ``|mu_a - mu_n|``, ``delta < min + ratio (max - min)``) have their
  negative difference scaled by ``s``: ``dn = where(shared_an, s (mu_a - mu_n), mu_a - mu_n)``.
  ``s`` (``share_scale``) falls linearly from ``share_scale_start = 1.0`` to ``share_scale_end =
  0.5`` over ``share_scale_steps`` (msc-research's ``adanegtvae_up_ratio`` schedule over the whole
  run: ``pydisent.train`` sets it to the run length when not given; ``0`` uses the attribute
  ``share_scale`` as given, e.g. by a trainer schedule).
* ``ada_tvae_d`` (disent ``DataOverlapTripletVae``, unsupervised, single observations): ``num_triplets``
  index triples drawn with replacement from the minibatch, positive and negative swapped where
  the *data* distance ``d(x_a, x_p) > d(x_a, x_n)`` (``overlap_distance``: per-element mean of the
  squared error, disent's default reconstruction loss ``mse``; or ``"mae"``, ``"bce"``), then the
  Ada-TVAE term on those posteriors.

Defaults: the thesis' runs (research/part02 submit scripts): disent's per-element-mean
``reduction="mean"`` with ``likelihood="mse"``, ``beta = 0.01``, ``triplet_margin = 10``,
``triplet_scale = 1``, ``triplet_p = 1``, ``thresh_ratio = 0.5``; Adam lr 1e-3, batch 256, latent 25,
86,400 steps ("longmed"). ``num_triplets = 1024`` (disent's dataclass).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from pydisent.models.objectives.base import LossOutput, Objective, register_objective
from pydisent.models.objectives.weak import shared_mask

TRIPLET_TRAINING = {"optimizer": "adam", "lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                    "batch_size": 256, "latent_dim": 25, "steps": 86_400}
OVERLAP_DISTANCES = ("mse", "mae", "bce")


def dist_triplet_loss(pos_delta: torch.Tensor, neg_delta: torch.Tensor, margin: float = 10.0, p: float = 1.0,
                      scale: float = 1.0) -> torch.Tensor:
    """``scale * mean(relu(||pos_delta||_p - ||neg_delta||_p + margin))`` over the batch."""
    dp = torch.linalg.vector_norm(pos_delta, ord=p, dim=-1)
    dn = torch.linalg.vector_norm(neg_delta, ord=p, dim=-1)
    return scale * F.relu(dp - dn + margin).mean()


def ada_triplet_loss(a: torch.Tensor, p: torch.Tensor, n: torch.Tensor, share_scale: float, ratio: float = 0.5,
                     margin: float = 10.0, norm_p: float = 1.0, scale: float = 1.0):
    """Ada-TVAE's triplet term and the a-n shared mask (``|a - n|`` thresholded)."""
    mask = shared_mask((a - n).abs(), ratio)
    neg = torch.where(mask, share_scale * (a - n), a - n)
    return dist_triplet_loss(a - p, neg, margin, norm_p, scale), mask


def overlap_distance(xa: torch.Tensor, xb: torch.Tensor, kind: str = "mse") -> torch.Tensor:
    """Per-pair data distance, the mean over elements: ``(B,)``."""
    if kind == "mse":
        d = (xa - xb) ** 2
    elif kind == "mae":
        d = (xa - xb).abs()
    elif kind == "bce":  # xb as the target of xa's intensities
        d = F.binary_cross_entropy(xa.clamp(1e-6, 1 - 1e-6), xb, reduction="none")
    else:
        raise ValueError(f"argument 'overlap_distance' must be one of {OVERLAP_DISTANCES}, got {kind!r}")
    return d.reshape(len(xa), -1).mean(1)


def mine_triplets(x: torch.Tensor, num: int, generator: torch.Generator | None = None, kind: str = "mse"):
    """``num`` index triples ``(a, p, n)`` drawn with replacement from the batch ``x``, ``p`` and ``n``
    swapped where ``d(x_a, x_p) > d(x_a, x_n)`` (so that ``d(a, p) <= d(a, n)``)."""
    B = len(x)
    idx = torch.randint(B, (3, int(num)), generator=generator, device=x.device)
    a, p, n = idx
    with torch.no_grad():
        swap = overlap_distance(x[a], x[p], kind) > overlap_distance(x[a], x[n], kind)
    return a, torch.where(swap, n, p), torch.where(swap, p, n)


class _TripletBase(Objective):
    training_defaults = TRIPLET_TRAINING
    common_defaults = {**Objective.common_defaults, "likelihood": "mse", "reduction": "mean"}
    defaults = {"beta": 0.01, "triplet_margin": 10.0, "triplet_scale": 1.0, "triplet_p": 1.0}

    def validate(self):
        if self.triplet_p < 1:
            raise ValueError(f"hyperparameter 'triplet_p' must be >= 1, got {self.triplet_p}")

    def vae_terms(self, xs: tuple[torch.Tensor, ...], g):
        x = torch.cat(xs) if len(xs) > 1 else xs[0]
        q = self.encode_posterior(x)
        z = q.sample(g)
        rec = self.reconstruction(self.decode_params(z), x)  # mean over the observations of the tuple
        kl = self.kl_mean(q, z)
        return q, rec, kl


@register_objective
class TVAE(_TripletBase):
    """TVAE: ``L = rec + beta KL + triplet(mu_a - mu_p, mu_a - mu_n)`` on ground-truth triplets."""

    name = "tvae"
    batch_kind = "triplets"
    sampler_defaults = {"mode": "manhattan_scaled"}

    def triplet_term(self, mu_a, mu_p, mu_n, step):
        t = dist_triplet_loss(mu_a - mu_p, mu_a - mu_n, self.triplet_margin, self.triplet_p, self.triplet_scale)
        return t, {"triplet": t}

    def loss(self, batch, step: int = 0, generator=None) -> LossOutput:
        xs = self.split_batch(batch, 3)
        g = self.step_generator(generator, xs[0].device)
        q, rec, kl = self.vae_terms(xs, g)
        mu_a, mu_p, mu_n = q.mean.chunk(3)
        trip, terms = self.triplet_term(mu_a, mu_p, mu_n, step)
        total = rec + self.beta * kl + trip
        return LossOutput(total, {"loss": total.detach(), "recon": rec.detach(), "kl": kl.detach(),
                                  **{k: v.detach() for k, v in terms.items()}})


class _AdaShare:
    def share_scale_at(self, step: int) -> float:
        """``start + (end - start) min(1, step / share_scale_steps)``; the attribute ``share_scale`` when steps = 0."""
        n = self.hparams["share_scale_steps"]
        if n == 0:
            return float(self.share_scale)
        t = min(1.0, max(int(step), 0) / n)
        return self.share_scale_start + (self.share_scale_end - self.share_scale_start) * t

    def ada_term(self, mu_a, mu_p, mu_n, step):
        s = self.share_scale_at(step)
        plain = dist_triplet_loss(mu_a - mu_p, mu_a - mu_n, self.triplet_margin, self.triplet_p, self.triplet_scale)
        t, mask = ada_triplet_loss(mu_a, mu_p, mu_n, s, self.thresh_ratio, self.triplet_margin, self.triplet_p,
                                   self.triplet_scale)
        return t, {"ada_triplet": t, "triplet": plain, "share_scale": mu_a.new_tensor(s),
                   "an_shared": mask.sum(1).float().mean()}


_ADA_DEFAULTS = {"thresh_ratio": 0.5, "share_scale": 0.95, "share_scale_start": 1.0, "share_scale_end": 0.5,
                 "share_scale_steps": 86_400}


@register_objective
class AdaTVAE(_AdaShare, TVAE):
    """Ada-TVAE (supervised): the a-n shared dimensions scaled by ``s`` (1.0 -> 0.5)."""

    name = "ada_tvae"
    defaults = {**_TripletBase.defaults, **_ADA_DEFAULTS}

    def triplet_term(self, mu_a, mu_p, mu_n, step):
        return self.ada_term(mu_a, mu_p, mu_n, step)


@register_objective
class AdaTVAEData(_AdaShare, _TripletBase):
    """Ada-TVAE-D (unsupervised): Ada-TVAE on triplets mined in the batch by the data distance."""

    name = "ada_tvae_d"
    batch_kind = "single"
    defaults = {**_TripletBase.defaults, **_ADA_DEFAULTS, "num_triplets": 1024, "overlap_distance": "mse"}

    def validate(self):
        super().validate()
        if self.hparams["overlap_distance"] not in OVERLAP_DISTANCES:
            raise ValueError(f"hyperparameter 'overlap_distance' must be one of {OVERLAP_DISTANCES}, "
                             f"got {self.hparams['overlap_distance']!r}")
        if self.hparams["num_triplets"] < 1:
            raise ValueError(f"hyperparameter 'num_triplets' must be >= 1, got {self.hparams['num_triplets']}")

    def loss(self, batch, step: int = 0, generator=None) -> LossOutput:
        (x,) = self.split_batch(batch, 1)
        g = self.step_generator(generator, x.device)
        q, rec, kl = self.vae_terms((x,), g)
        a, p, n = mine_triplets(x, self.hparams["num_triplets"], g, self.hparams["overlap_distance"])
        trip, terms = self.ada_term(q.mean[a], q.mean[p], q.mean[n], step)
        total = rec + self.beta * kl + trip
        return LossOutput(total, {"loss": total.detach(), "recon": rec.detach(), "kl": kl.detach(),
                                  **{k: v.detach() for k, v in terms.items()}})
