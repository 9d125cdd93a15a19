"""Score a :class:`~pydisent.report.runs.Subject` with the metric suite and collect what the report draws.

:func:`score` runs the metrics one by one (a progress bar per metric, one shared code cache as
``pydisent.metrics.evaluate`` uses), then the topological score of the decoder where there is one and the
topological metric is installed, and returns the results; Ctrl-C stops after the metric in progress and
returns what finished with ``status="interrupted"`` so the caller can still write a valid ``metrics.json``.

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

import inspect
import time

import numpy as np
import torch

from pydisent.report.progress import progress_bar

# downstream fits 4 x F cross-validated classifiers (minutes); prior_divergence needs the posterior;
# factored_components is distances + linearity again; the topological score is run separately (it needs a
# generator, not an encoder).
NOT_BY_DEFAULT = ("downstream", "prior_divergence", "factored_components")
TOPOLOGICAL = "topological_disentanglement"


def default_metrics() -> list[str]:
    from pydisent.metrics import METRICS

    return [m for m in METRICS if m not in NOT_BY_DEFAULT and m != TOPOLOGICAL and _needs_encoder(METRICS[m])]


def _needs_encoder(metric) -> bool:
    needs = getattr(metric, "needs", None)
    if needs is None:
        return True
    needs = (needs,) if isinstance(needs, str) else tuple(needs)
    return not needs or any(n in ("encoder", "representation", "codes", "posterior") for n in needs)


def resolve_metrics(spec) -> list[str]:
    """``None``/``"all"`` -> :func:`default_metrics`; a comma/space separated string or a list of names
    otherwise, checked against the registry (ValueError listing the valid names)."""
    from pydisent.metrics import METRICS

    if spec is None or spec == "all" or spec == ["all"]:
        return default_metrics() + ([TOPOLOGICAL] if topological_available() else [])
    names = spec.replace(",", " ").split() if isinstance(spec, str) else [n for s in spec for n in s.split(",") if n]
    valid = set(METRICS) | {TOPOLOGICAL}
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; valid: all, {', '.join(sorted(valid))}")
    return names


def _accepts(fn, arg: str) -> bool:
    params = inspect.signature(fn).parameters
    return arg in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def score(subject, dataset, metrics, *, seed: int = 0, device=None, fast: bool = False, options: dict | None = None,
          batch_size: int = 256, cache_codes: bool = True, topology: dict | None | bool = None,
          quiet: bool = False) -> dict:
    """``{"results", "seconds", "topology", "status"}`` for ``subject`` on ``dataset``.

    ``metrics``: registry names (``topological_disentanglement`` included runs the topological score);
    ``options``: per-metric keyword overrides; ``topology``: keyword arguments of the topological score
    (``False`` skips it).
    """
    from pydisent.data.source import as_source
    from pydisent.metrics import METRICS, Encoder

    options = dict(options or {})
    names = [n for n in metrics if n != TOPOLOGICAL]
    stray = set(options) - set(metrics)
    if stray:
        raise ValueError(f"argument '--set' names metrics that were not requested: {', '.join(sorted(stray))}")
    source = as_source(dataset)
    encoder = Encoder(subject.encode, device=device, batch_size=batch_size, cache_codes=cache_codes)
    results, seconds, status = {}, {}, "complete"
    bar = progress_bar(names, desc=f"{subject.label}: metrics", unit="metric", quiet=quiet)
    try:
        for name in bar:
            bar.set_postfix_str(name)
            t0 = time.perf_counter()
            kwargs = dict(options.get(name, {}))
            if fast and "fast" not in kwargs and _accepts(METRICS[name].evaluate, "fast"):
                kwargs["fast"] = True
            with torch.no_grad():
                results[name] = METRICS[name].evaluate(source, encoder, source.make_rng(seed), **kwargs)
            seconds[name] = time.perf_counter() - t0
    except KeyboardInterrupt:
        status = "interrupted"
    finally:
        bar.close()
    topo = None
    want_topo = TOPOLOGICAL in metrics and topology is not False
    if status == "complete" and want_topo:
        t0 = time.perf_counter()
        try:
            topo = topological(subject, dataset, seed=seed, device=device, quiet=quiet,
                               **({} if topology in (None, True, False) else dict(topology)),
                               **options.get(TOPOLOGICAL, {}))
        except KeyboardInterrupt:
            status = "interrupted"
        if topo is not None:
            results[TOPOLOGICAL] = topo["summary"]
            seconds[TOPOLOGICAL] = time.perf_counter() - t0
    return {"results": results, "seconds": seconds, "topology": topo, "status": status}


def topological_available() -> bool:
    import pydisent.metrics as pm

    return hasattr(pm, TOPOLOGICAL)


def topological(subject, dataset, *, seed: int = 0, device=None, quiet: bool = False, **kwargs) -> dict | None:
    """The topological score of Zhou et al. (2021) of ``subject.decode``: ``{"summary": {key: number},
    "arrays": {name: array}}``, or None when the subject has no decoder or pydisent has no topological metric."""
    import pydisent.metrics as pm

    if subject.decode is None or not topological_available():
        return None
    latent_dim = subject.latent_dim
    if latent_dim is None:
        raise ValueError(f"{subject.label}: the latent size is unknown, so the topological score cannot sample it")
    decode = subject.decode
    dev = torch.device(device) if device is not None else None

    @torch.no_grad()
    def generator(z):
        z = torch.as_tensor(z, dtype=torch.float32)
        if dev is not None:
            z = z.to(dev)
        return decode(z)

    fn = getattr(pm, TOPOLOGICAL)
    if _accepts(fn, "seed") and "seed" not in kwargs:
        kwargs["seed"] = seed
    if _accepts(fn, "progress") and "progress" not in kwargs:
        kwargs["progress"] = not quiet
    result = fn(generator, latent_dim, **kwargs)
    return topology_summary(result)


def _as_array(v):
    if isinstance(v, torch.Tensor):
        return v.detach().cpu().numpy()
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, (torch.Tensor, np.ndarray)) for x in v):
        try:
            return np.stack([_as_array(x) for x in v])
        except ValueError:
            return None
    if isinstance(v, np.ndarray):
        return v
    return None


def topology_summary(result) -> dict:
    """Numbers and arrays of a topological-score result object (or dict), by the names it uses."""
    items = result if isinstance(result, dict) else {k: getattr(result, k) for k in dir(result)
                                                      if not k.startswith("_") and not callable(getattr(result, k))}
    summary, arrays = {}, {}
    for k, v in items.items():
        if isinstance(v, (bool, np.bool_)):
            summary[k] = bool(v)
        elif isinstance(v, (int, float, np.integer, np.floating)):
            summary[k] = float(v) if isinstance(v, (float, np.floating)) else int(v)
        elif isinstance(v, torch.Tensor) and v.numel() == 1:
            summary[k] = float(v)
        else:
            a = _as_array(v)
            if a is not None and a.dtype != object:
                arrays[k] = a
            elif isinstance(v, (list, tuple)) and all(isinstance(x, (int, np.integer)) for x in v):
                arrays[k] = np.asarray(v)
            elif isinstance(v, (list, tuple)) and all(isinstance(x, (list, tuple)) for x in v):
                summary[k] = [[int(y) for y in x] for x in v]
    return {"summary": summary, "arrays": arrays}


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
