"""The distance-learning metrics (flatness, ground_truth_correlation, linearity, factored_components): pydisent's
batched implementation against disent's (``disent==0.8.0``, when importable) or, without disent, a
straightforward per-traversal loop that follows disent's algorithm.

Setting as in the disent timings of the specs: XYObject (64x64x3, factor sizes 25/25/5/24), a fixed
random linear projection to Z = 10 of the image sampled on a 4-pixel grid as the representation (a
near-free encoder, so the metric machinery is what is timed; the same function for both sides), paper defaults
``repeats=1024`` (``--quick``: 16, a smoke run).
Each row runs the whole metric once (sampling, rendering, encoding, scoring); the harness takes the
median of its repeats, and ``--warmup 0 --repeats 1`` keeps the disent rows to a single run. The
environment variable ``PYDISENT_BENCH_METRICS=flatness,linearity`` restricts the suite to some metrics.

disent 0.8.0 imports ``torchvision`` and ``lightning`` at module level for parts that these metrics
do not use; when those are missing the benchmark installs inert stand-ins for them in
``sys.modules`` (in this process only) so that ``disent.metrics`` imports. Its own ``XYObjectData``
and ``DisentDataset`` are used, with a ``uint8 HWC -> float CHW / 255`` transform (what its
``ToImgTensorF32`` does). The check compares the keys both report: the two draw different random
samples, so they agree to sampling precision, not exactly.
"""

from __future__ import annotations

import importlib
import os

import numpy as np
import torch

from benchmarks.harness import Case
from pydisent.metrics import evaluate
from tests._references.disent import stub_torchvision_and_lightning

METRICS = ("flatness", "linearity", "ground_truth_correlation", "factored_components")


# -- disent (optional peer) ------------------------------------------------------------------------




def load_disent():
    """``(metrics module, XYObjectData, DisentDataset)`` of the installed disent, or None."""
    try:
        importlib.import_module("disent")
    except ImportError:
        return None
    stub_torchvision_and_lightning()
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            metrics = importlib.import_module("disent.metrics")
            from disent.dataset import DisentDataset
            from disent.dataset.data import XYObjectData
    except Exception as e:  # pragma: no cover - depends on the environment
        print(f"# disent is installed but its metrics do not import here: {type(e).__name__}: {e}")
        return None
    return metrics, XYObjectData, DisentDataset


def _disent_call(metrics_mod, name, dataset, rep, repeats):
    fn = {"flatness": metrics_mod.metric_flatness, "linearity": metrics_mod.metric_linearity,
          "ground_truth_correlation": metrics_mod.metric_distances,
          "factored_components": metrics_mod.metric_factored_components}[name]
    np.random.seed(0)
    torch.manual_seed(0)
    return {k: float(v) for k, v in fn(dataset, rep, repeats=repeats).items()}


# -- the straightforward loop (peer without disent) ------------------------------------------------

def loop_metric(name, dataset, rep, repeats, seed=0, num_samples=64, global_subset_size=32):
    """disent's algorithm as a plain per-traversal loop on pydisent's dataset: per traversal render and
    encode, torch norms, ``torch.linalg.eig``, and ``scipy.stats`` correlations at the end."""
    import scipy.stats

    rng = np.random.default_rng(seed)
    fs = dataset.factor_space
    active = [f for f, s in enumerate(fs.sizes) if s > 1]
    out = {}
    want_flat = name == "flatness"
    want_lin = name in ("linearity", "factored_components")
    want_dist = name in ("ground_truth_correlation", "factored_components")

    def triplet_dists(z, x, ground):
        idx = torch.as_tensor(rng.integers(0, len(z), size=(3, num_samples)))
        a, p, n = idx
        d = {"ground": (ground(a, p), ground(a, n))}
        for lp, ordp in (("l1", 1), ("l2", 2)):
            d[lp] = (torch.norm(z[a] - z[p], p=ordp, dim=-1).numpy(), torch.norm(z[a] - z[n], p=ordp, dim=-1).numpy())
        d["data"] = (((x[a] - x[p]) ** 2).flatten(1).mean(1).numpy(), ((x[a] - x[n]) ** 2).flatten(1).mean(1).numpy())
        return d

    def scores(parts):
        d = {k: (np.concatenate([q[k][0] for q in parts]), np.concatenate([q[k][1] for q in parts])) for k in parts[0]}
        res = {}
        for frag, sa, sb in (("ground_data", "ground", "data"), ("ground_latent.l1", "ground", "l1"),
                             ("latent_data.l1", "l1", "data"), ("ground_latent.l2", "ground", "l2"),
                             ("latent_data.l2", "l2", "data")):
            (ap0, an0), (ap1, an1) = d[sa], d[sb]
            same = ((ap0 < an0) & (ap1 < an1)) | ((ap0 == an0) & (ap1 == an1)) | ((ap0 > an0) & (ap1 > an1))
            u, v = np.concatenate([ap0, an0]), np.concatenate([ap1, an1])
            res[f"rsame_{frag}"] = float(same.mean())
            res[f"rcorr_{frag}"] = float(scipy.stats.spearmanr(u, v)[0])
            res[f"lcorr_{frag}"] = float(scipy.stats.pearsonr(u, v)[0])
        return res

    def ratio(v):
        v = torch.sort(v, descending=True).values
        return float((v[0] / v.sum() - 1 / len(v)) / (1 - 1 / len(v)))

    per_factor = {}
    flat = {1: [], 2: []}
    for f in active:
        s = int(fs.sizes[f])
        dist_parts, lin = [], {"axis": [], "linear": [], "align": [], "vars": []}
        fl = {1: ([], []), 2: ([], [])}
        for _ in range(repeats):
            factors = fs.traversals(f, fs.sample_factors(1, rng))[0]
            x = dataset.observations(factors)
            with torch.no_grad():
                z = rep(x)
            if want_dist:
                dist_parts.append(triplet_dists(z, x, lambda a, b: (a - b).abs().numpy().astype(float)))
            if want_lin:
                var = torch.var(z, dim=0)
                zc = z - z.mean(0)
                ev = torch.linalg.eig(zc.T @ zc / (len(z) - 1)).eigenvalues.real.abs()
                ar, lr = ratio(var), ratio(ev)
                lin["axis"].append(ar)
                lin["linear"].append(lr)
                lin["align"].append(ar / (lr + 1e-20))
                lin["vars"].append(var)
            if want_flat:
                for p in (1, 2):
                    steps = torch.norm(torch.roll(z, -1, 0) - z, p=p, dim=-1)
                    fl[p][0].append(torch.cdist(z, z, p=p).max().item())
                    fl[p][1].append(torch.topk(steps, s - 1, largest=False).values.mean().item())
        if want_dist:
            for k, v in scores(dist_parts).items():
                per_factor.setdefault(f"distances.{k}.factor", []).append(v)
        if want_lin:
            per_factor.setdefault("linearity.axis_ratio.var", []).append(np.mean(lin["axis"]))
            per_factor.setdefault("linearity.linear_ratio.var", []).append(np.mean(lin["linear"]))
            per_factor.setdefault("linearity.axis_alignment.var", []).append(np.mean(lin["align"]))
            per_factor.setdefault("linearity.axis_ratio_ave.var", []).append(ratio(torch.stack(lin["vars"]).mean(0)))
        if want_flat:
            for p in (1, 2):
                flat[p].append((np.mean(fl[p][0]), (s - 1) * np.mean(fl[p][1])))
    for k, v in per_factor.items():
        out[k] = float(np.exp(np.mean(np.log(np.asarray(v, dtype=np.float64)))))
    if want_dist:
        parts = []
        for _ in range(repeats):
            factors = fs.sample_factors(global_subset_size, rng)
            x = dataset.observations(factors)
            with torch.no_grad():
                z = rep(x)
            ft = torch.as_tensor(factors, dtype=torch.float32)
            parts.append(triplet_dists(z, x, lambda a, b, ft=ft: torch.norm(ft[a] - ft[b], p=1, dim=-1).numpy()))
        out.update({f"distances.{k}.global": v for k, v in scores(parts).items()})
    if want_flat:
        (w1, l1), (w2, l2) = (np.array(flat[1]).T, np.array(flat[2]).T)
        out.update({"flatness.ave_flatness": float(np.mean(w2 / l1)),
                    "flatness.ave_flatness_l1": float(np.mean(w1 / l1)),
                    "flatness.ave_flatness_l2": float(np.mean(w2 / l2)), "flatness.ave_width_l1": float(np.mean(w1)),
                    "flatness.ave_width_l2": float(np.mean(w2)), "flatness.ave_length_l1": float(np.mean(l1)),
                    "flatness.ave_length_l2": float(np.mean(l2))})
    return dict(sorted(out.items()))


# -- cases ----------------------------------------------------------------------------------------

def _make_check(tol):
    def check(outputs):
        items = list(outputs.items())
        base_name, base = items[0]
        for name, other in items[1:]:
            worst, worst_key = 0.0, None
            for k in set(base) & set(other):
                a, b = base[k], other[k]
                scale = max(abs(b), 1.0) if ("width" in k or "length" in k) else 1.0
                err = abs(a - b) / scale
                if not np.isfinite(err) or err > worst:
                    worst, worst_key = (err if np.isfinite(err) else np.inf), k
            if worst > tol:
                raise AssertionError(f"{name} vs {base_name}: {worst_key} differs by {worst:.3g} "
                                     f"(> {tol}, sampling tolerance)")
            print(f"  {name} vs {base_name}: {len(set(base) & set(other))} keys agree within {worst:.3g}")
    return check


def cases(args):
    from pydisent.data import XYObject

    cuda = args.device.startswith("cuda")
    device = torch.device("cuda" if cuda else "cpu")
    sync = torch.cuda.synchronize if cuda else None
    repeats = 16 if args.quick else 1024
    dataset = XYObject()
    gen = torch.Generator().manual_seed(0)
    C, H, Wpx = dataset.observation_shape
    # The near-free encoder (as in the metrics suite): a fixed random projection of the image sampled on a
    # 4-pixel grid (3 x 16 x 16 values). A projection of all 12,288 pixels costs ~7 us per image on this
    # class of CPU, as much as everything else pydisent does per image, and the same on both sides.
    W = torch.randn(10, C * ((H + 3) // 4) * ((Wpx + 3) // 4), generator=gen) / 30
    Wd = W.to(device)

    def rep(x):
        x = torch.as_tensor(x)[:, :, ::4, ::4]
        return torch.nn.functional.linear(x.to(Wd.device).reshape(len(x), -1), Wd)

    def rep_cpu(x):  # what disent and the loop call (they hand over CPU batches)
        return rep(x).cpu()

    disent = load_disent()
    if disent is not None:
        metrics_mod, XYObjectData, DisentDataset = disent
        ddata = DisentDataset(XYObjectData(), transform=lambda o: torch.from_numpy(np.asarray(o)).permute(2, 0, 1)
                              .to(torch.float32).div(255))
    chosen = [m for m in os.environ.get("PYDISENT_BENCH_METRICS", ",".join(METRICS)).split(",") if m]
    unknown = sorted(set(chosen) - set(METRICS))
    if unknown:
        raise ValueError(f"PYDISENT_BENCH_METRICS names unknown metrics {unknown}; choose from {METRICS}")
    # One-time costs (imports, thread pools, the first touch of memory a VM has handed back to its host) are
    # paid here, untimed, by both sides (a short run of every chosen metric); otherwise they land on
    # whichever row runs first (the disent rows run once each: --warmup 0 --repeats 1).
    for name in chosen:
        evaluate(rep, dataset, name, seed=0, device=device, options={name: {"repeats": 16}})
        if disent is not None:
            _disent_call(metrics_mod, name, ddata, rep_cpu, 16)
    for name in chosen:
        impls = {"pydisent": (lambda n=name: evaluate(rep, dataset, n, seed=0, device=device,
                                                      options={n: {"repeats": repeats}})[n])}
        if disent is not None:
            impls["disent 0.8.0"] = lambda n=name: _disent_call(metrics_mod, n, ddata, rep_cpu, repeats)
        else:
            impls["loop"] = lambda n=name: loop_metric(n, dataset, rep_cpu, repeats)
        yield Case(name=f"{name} XYObject z=10 repeats={repeats}", impls=impls, sync=sync,
                   check=_make_check(0.25 if repeats < 128 else 0.05),
                   extra={"metric": name, "repeats": repeats, "dataset": "XYObject", "z": 10})
