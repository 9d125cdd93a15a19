"""Score a :class:`~pydisent.report.runs.Subject` with the metric suite and collect what the report draws.

:func:`score` runs the metrics one by one as ``pydisent.metrics.evaluate`` does (one view per need, one shared
code cache), with a progress bar over the metrics; generator metrics (the topological score) score the decoder.
Ctrl-C stops after the metric in progress and returns what finished with ``status="interrupted"`` so the caller
can still write a valid ``metrics.json``.

:func:`diagnostics` computes the figures' data (all small arrays, written to ``diagnostics.npz``):

* ``traversals`` ``(Z, K, H, W, C)`` uint8: one row per latent dimension, the decoded images as that dimension
  sweeps from its 2nd to its 98th percentile over encoded samples, the others held at one sample's code;
* ``recon_inputs`` / ``recon_outputs`` ``(n, H, W, C)`` uint8: observations next to ``decode(encode(x))``;
* per active factor ``f``: ``dist_ground/<f>``, ``dist_data/<f>``, ``dist_latent/<f>`` ``(s_f, s_f)``: the mean
  over ``repeats`` factor traversals of ``|i - j|``, the per-element MSE between the observations at values i and
  j, and the L1 distance between their codes (the matrices msc-research draws side by side per factor);
* ``linearity/<key>`` ``(F_active,)``: the per-factor linear ratio, axis ratio and axis alignment of
  :func:`pydisent.metrics._linearity.linearity_per_factor` on the same traversals.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from pydisent.report.progress import progress_bar

TOPOLOGICAL = "topological_disentanglement"
GEOMETRY = "geometry_score"
# generative-model scores the registry keeps out of its default set (expensive) that "all" adds where the
# subject provides what they need: the whole suite of the report
EXTRA_IN_ALL = ((TOPOLOGICAL, "generator"), (GEOMETRY, "samples"))


def metric_subject(subject):
    """The metrics' subject (:func:`pydisent.metrics.as_subject`) of a report subject: its model object when it
    has one (a trained objective meets the protocol itself), else its encode/decode callables."""
    import pydisent.metrics as pm

    if subject.target is not None:
        return pm.as_subject(subject.target)
    if subject.decode is None or subject.latent_dim is None:
        return pm.as_subject(subject.encode)  # a plain callable (a (mu, logvar) output serves the posterior too)
    return pm.Subject(encode=subject.encode, generate=subject.decode, latent_dim=subject.latent_dim,
                      name=subject.label)


def resolve_metrics(spec, subject=None) -> list[str]:
    """``None`` -> the registry's default set for what ``subject`` provides
    (:func:`pydisent.metrics.default_metrics`); ``"all"`` -> that plus the expensive generative-model scores the
    subject allows (the topological score, the Geometry Score, at their own defaults); names otherwise (comma or
    space separated, deprecated aliases mapped), checked against the registry (ValueError listing the valid
    names)."""
    import pydisent.metrics as pm
    from pydisent.metrics._registry import resolve

    everything = spec == "all" or (isinstance(spec, (list, tuple)) and list(spec) == ["all"])
    if spec is None or everything:
        subj = metric_subject(subject) if subject is not None else None
        names = pm.default_metrics(subj)
        if everything and subj is not None:
            names += [n for n, need in EXTRA_IN_ALL if n in pm.METRICS and n not in names and subj.meets(need)]
        return names
    names = spec.replace(",", " ").split() if isinstance(spec, str) else [n for s in spec for n in s.split(",") if n]
    valid = set(pm.METRICS) | set(pm.ALIASES)
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; valid: all, {', '.join(sorted(pm.METRICS))}")
    return [resolve(n) for n in names]


def split_result(result: dict) -> tuple[dict, dict]:
    """A metric's result as (scalar keys for ``metrics.json``, array-valued keys for ``diagnostics.npz``)."""
    scalars, arrays = {}, {}
    for k, v in result.items():
        if isinstance(v, torch.Tensor):
            v = v.detach().cpu().numpy() if v.numel() != 1 else v.item()
        if isinstance(v, np.ndarray) and v.ndim == 0:
            v = v.item()
        if isinstance(v, (np.ndarray, list, tuple)) and not isinstance(v, str):
            a = np.asarray(v)
            if a.dtype != object:
                arrays[k] = a
                continue
        if isinstance(v, np.generic):
            v = v.item()
        if v is None or isinstance(v, (bool, int, float, str)):
            scalars[k] = v
        elif isinstance(v, dict):
            s2, a2 = split_result(v)
            scalars.update({f"{k}.{kk}": vv for kk, vv in s2.items()})
            arrays.update({f"{k}.{kk}": vv for kk, vv in a2.items()})
    return scalars, arrays


def score(subject, dataset, metrics, *, seed: int = 0, device=None, fast: bool = False, options: dict | None = None,
          batch_size: int = 256, cache_codes: bool = True, quiet: bool = False) -> dict:
    """``{"results", "arrays", "seconds", "status"}`` for ``subject`` on ``dataset``.

    The loop of :func:`pydisent.metrics.evaluate` (one view per need, shared across metrics, so each dataset
    item is encoded once; a fresh ``source.make_rng(seed)`` per metric; ``fast`` for the metrics registered with
    a fast variant) with a progress bar over the metrics. Array-valued keys (the topological score's matrices
    and histograms) go to ``arrays`` as ``{metric: {key: array}}``. Ctrl-C stops after the metric in progress:
    ``status`` is then ``"interrupted"`` and the results hold the metrics that finished.
    """
    import pydisent.metrics as pm
    from pydisent.data.source import as_source

    options = dict(options or {})
    stray = set(options) - set(metrics)
    if stray:
        raise ValueError(f"argument '--set' names metrics that were not requested: {', '.join(sorted(stray))}")
    subj = metric_subject(subject)
    for name in metrics:
        need = pm.METRICS[name].needs
        if not subj.meets(need):
            raise ValueError(f"metric {name!r} needs {subj.missing(need)}; {subject.label} provides "
                             f"{', '.join(sorted(subj.provides)) or 'nothing'}")
    source = as_source(dataset)
    views: dict = {}

    def view(need):
        if need not in views:
            if need in ("encoder", "posterior"):
                views[need] = views.get("encoder") or views.get("posterior") or pm.Encoder(
                    subj.encode, device=device, batch_size=batch_size, cache_codes=cache_codes,
                    posterior_fn=subj.posterior)
            elif need == "generator":
                views[need] = pm.Generator(subj, device=device, batch_size=batch_size)
            else:
                views[need] = pm.Sampler(subj, device=device, batch_size=batch_size)
        return views[need]

    results, arrays, seconds, status = {}, {}, {}, "complete"
    bar = progress_bar(list(metrics), desc=f"{subject.label}: metrics", unit="metric", quiet=quiet)
    try:
        for name in bar:
            bar.set_postfix_str(name)
            metric = pm.METRICS[name]
            t0 = time.perf_counter()
            kwargs = dict(options.get(name, {}))
            if fast and metric.fast and "fast" not in kwargs:
                kwargs["fast"] = True
            if name == TOPOLOGICAL:  # the array form: its result object holds what the report draws
                results[name], arr = topological(subj, dataset, seed=seed, device=device, quiet=quiet, **kwargs)
            else:
                with torch.no_grad():
                    out = metric.evaluate(source, view(metric.needs), source.make_rng(seed), **kwargs)
                results[name], arr = split_result(out)
            if arr:
                arrays[name] = arr
            seconds[name] = time.perf_counter() - t0
    except KeyboardInterrupt:
        status = "interrupted"
    finally:
        bar.close()
    return {"results": results, "arrays": arrays, "seconds": seconds, "status": status}


def pool_embedder(size: int = 8):
    """``x (n, C, H, W) -> (n, C * H/size * W/size)``: average pooling over ``size x size`` pixel blocks, a cheap
    fixed embedding of generated images for the topological score on a CPU (the reference's random VGG16,
    ``embedder="random_vgg16"``, costs about a GFLOP per 64 x 64 image)."""

    def embed(x):
        x = torch.as_tensor(x)
        return torch.nn.functional.avg_pool2d(x.float(), size).flatten(1)

    embed.__qualname__ = f"pool_embedder({size})"
    return embed


def topological(subj, dataset, *, seed: int = 0, device=None, supervised: bool = False, quiet: bool = True,
                **options):
    """The topological score of Zhou et al. (2021) of ``subj``'s generator through the array form
    (:func:`pydisent.metrics.topological_disentanglement`): the registered keys (``unsupervised_score``, ...;
    ``supervised_*`` too with ``supervised=True``) and the arrays the report draws: ``wrlt`` (nz, values,
    i_max), ``distances`` (the co-clustered matrix), ``latent_values``, ``row_order`` / ``col_order`` (rows
    and columns grouped by the chosen biclusters)."""
    import inspect

    import pydisent.metrics as pm

    generate, latent_dim = subj.generate, subj.latent_dim
    # a progress bar over the generated points (the model side of the score: num_values submanifolds of
    # num_points points per latent dimension); the witness complexes follow in one engine call
    defaults = {k: p.default for k, p in inspect.signature(pm.topological_disentanglement).parameters.items()}
    total = latent_dim * int(options.get("num_values", defaults.get("num_values", 10))) * int(
        options.get("num_points", defaults.get("num_points", 1000)))
    bar = progress_bar(desc="topological score: generating", unit="pt", total=total, quiet=quiet)

    @torch.no_grad()
    def generator(z):
        out = generate(z)
        bar.update(len(z))
        return out

    scalars, arrays = {}, {}
    for variant in ("unsupervised", "supervised") if supervised else ("unsupervised",):
        res = pm.topological_disentanglement(generator, latent_dim, dataset=dataset if variant == "supervised"
                                             else None, seed=seed, device=device, **options)
        scalars.update({f"{variant}_{k}": v for k, v in res.as_dict().items()})
        prefix = "" if variant == "unsupervised" else "supervised_"
        groups = res.biclusters.get(res.n_clusters, [])
        rows = [int(i) for r, _ in groups for i in np.asarray(r).tolist()]
        cols = [int(i) for _, c in groups for i in np.asarray(c).tolist()]
        arrays.update({f"{prefix}wrlt": np.asarray(res.wrlt), f"{prefix}distances": np.asarray(res.distances),
                       f"{prefix}latent_values": np.asarray(res.latent_values)})
        if sorted(rows) == list(range(res.distances.shape[0])):
            arrays[f"{prefix}row_order"] = np.asarray(rows)
        if sorted(cols) == list(range(res.distances.shape[1])):
            arrays[f"{prefix}col_order"] = np.asarray(cols)
    bar.close()
    return scalars, arrays


def _to_uint8_hwc(x: torch.Tensor) -> np.ndarray:
    x = x.detach().float().cpu()
    if x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):
        x = x.permute(0, 2, 3, 1)
    elif x.ndim == 3:
        x = x[..., None]
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def diagnostics(subject, dataset, *, seed: int = 0, device=None, repeats: int = 32, steps: int = 9,
                num_recon: int = 8, quiet: bool = False) -> dict:
    """The figures' arrays (see the module docstring), seeded by ``seed``."""
    from pydisent.data.source import as_source
    from pydisent.metrics import Encoder
    from pydisent.metrics._linearity import linearity_per_factor

    source = as_source(dataset)
    rng = np.random.default_rng(seed)
    encoder = Encoder(subject.encode, device=device, batch_size=256)
    out: dict[str, np.ndarray] = {}
    sizes = np.asarray(source.factor_sizes)
    names = list(source.factor_space.names)
    active = [f for f in range(len(sizes)) if sizes[f] > 1]
    bar = progress_bar(active, desc=f"{subject.label}: figures", unit="factor", quiet=quiet)
    codes_per_factor = []
    with torch.no_grad():
        for f in bar:
            base = source.sample_factors(repeats, rng)
            trav = source.factor_space.traversals(f, base)  # (R, s, F)
            R, s = trav.shape[:2]
            obs = source.observations(trav.reshape(R * s, -1), rng)
            codes = encoder(obs).double().cpu().reshape(R, s, -1)
            obs = obs.float().cpu().reshape(R, s, -1)
            codes_per_factor.append(codes)
            idx = np.arange(s)
            out[f"dist_ground/{names[f]}"] = np.abs(idx[:, None] - idx[None, :]).astype(np.float64)
            out[f"dist_data/{names[f]}"] = (torch.cdist(obs, obs).double().square()
                                                / obs.shape[-1]).mean(0).numpy()
            out[f"dist_latent/{names[f]}"] = torch.cdist(codes, codes, p=1).mean(0).numpy()
    bar.close()
    if codes_per_factor:
        per, _ = linearity_per_factor([c.to(torch.float64) for c in codes_per_factor], backend="auto")
        for k, v in per.items():
            out[f"linearity/{k}"] = np.asarray(v, dtype=np.float64)
    out["factor_names"] = np.asarray([names[f] for f in active])
    if subject.latent_dim is None and codes_per_factor:
        subject.latent_dim = int(codes_per_factor[0].shape[-1])
    if subject.decode is not None:
        with torch.no_grad():
            factors = source.sample_factors(max(num_recon, 256), rng)
            x = source.observations(factors, rng)
            z = encoder(x)
            x_hat = subject.decode(z[:num_recon].to(device) if device else z[:num_recon])
            out["recon_inputs"] = _to_uint8_hwc(x[:num_recon])
            out["recon_outputs"] = _to_uint8_hwc(x_hat)
            zc = z.double().cpu()
            lo = torch.quantile(zc, 0.02, dim=0)
            hi = torch.quantile(zc, 0.98, dim=0)
            Z = zc.shape[1]
            t = torch.linspace(0, 1, steps, dtype=torch.float64)
            values = lo[:, None] + (hi - lo)[:, None] * t[None, :]  # (Z, K)
            grid = zc[0].repeat(Z * steps, 1).reshape(Z, steps, Z)
            grid[torch.arange(Z), :, torch.arange(Z)] = values
            zs = grid.reshape(Z * steps, Z).to(z.dtype)
            imgs = subject.decode(zs.to(device) if device else zs)
            imgs = _to_uint8_hwc(imgs)
            out["traversals"] = imgs.reshape(Z, steps, *imgs.shape[1:])
            out["traversal_values"] = values.numpy()
    return out
