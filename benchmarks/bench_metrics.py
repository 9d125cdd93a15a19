"""The disentanglement metric suite, side by side with disent (and straightforward reference ports).

Dataset: XYObject (disent's default: 64x64 RGB square on a grid; factors x=25, y=25, scale=5, colour=24,
75,000 images). pydisent uses its own dataset, ``pydisent.data.XYObject`` (batched C++ rendering of uint8 images,
the default float32 CHW [0, 1] transform), through the same data path a user's evaluation takes; disent uses its
``XYObjectData`` through ``DisentDataset(transform=ToImgTensorF32())`` (image by image, as disent does). Both
produce the same images for the same factors (tests/data/test_procedural.py checks the definition).

Encoder: a near-free representation, a fixed random projection to 10 codes of the image sampled on a 4-pixel
grid (3 x 16 x 16 values; a projection of all 12,288 pixels would cost ~50 us per image on a busy core, more
than the metric work itself), the same matrix for every implementation.

Peers:
* ``disent`` (0.8.0, imported with stubs for torchvision/lightning, which its metric code does not use):
  MIG, FactorVAE, DCI, SAP, unsupervised, at disent's paper defaults (``metric.compute``);
* ``dlib-port``: a straightforward port of the disentanglement_lib algorithm (per-batch-of-16 sampling,
  per-vote/per-point loops, double-loop ``mutual_info_score``, one estimator fit after another) for the metrics
  disent lacks (BetaVAE, modularity/explicitness, IRS, downstream), and for every metric if disent is absent.

``PYDISENT_BENCH_DATASET=factors`` swaps the images for the factor vectors themselves (observation = factors
scaled to [0, 1), encoder = a fixed random 4 -> 10 map): sampling and encoding then cost nothing in either
library and the rows time the metric machinery alone (disent still builds observations one by one).

Rows: each metric at paper defaults (pydisent reference estimators), DCI and SAP with ``fast=True``, DCI's
estimator fits alone (the issue's "fits + 10%" target), and a final summary of the suite totals.
Full run (minutes; disent's FactorVAE and DCI take minutes each, so run them once):
``python -m benchmarks metrics --warmup 0 --repeats 1``; ``--quick`` uses disent's "fast" sample sizes;
``PYDISENT_BENCH_METRICS=mig,dci`` limits the run to some metrics (``dci_fits`` names the fits-only row).
On a busy machine set ``OMP_NUM_THREADS=1``: OpenMP threads spinning for descheduled peers slow every
implementation down by up to 10x.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import types
import warnings

import numpy as np
import torch

import pydisent.metrics as pm
from benchmarks.harness import Case
from pydisent.data import FactorSpace, GroundTruthDataset, XYObject
from tests._references import disentanglement_lib as dlib
from tests._references.disent import stub_torchvision_and_lightning

Z = 10
SIZES = (25, 25, 5, 24)
DATASET = os.environ.get("PYDISENT_BENCH_DATASET", "xyobject")


class FactorVectors(GroundTruthDataset):
    """The ``PYDISENT_BENCH_DATASET=factors`` dataset: the observation is the factor vector scaled to [0, 1)
    (float32 ``(n, 4)``), so sampling and encoding cost ~nothing and the rows time the metric machinery itself."""

    def __init__(self, device="cpu"):
        super().__init__(FactorSpace(SIZES, ("x", "y", "scale", "color")), transform=None)
        self.device = torch.device(device)
        self.scale = torch.tensor(SIZES, dtype=torch.float32, device=device)

    @property
    def raw_shape(self):
        return (len(SIZES),)

    def _render(self, factors):
        return torch.as_tensor(factors, device=self.device).to(torch.float32) / self.scale


def projection(device="cpu") -> torch.Tensor:
    g = torch.Generator().manual_seed(1234)
    inputs = len(SIZES) if DATASET == "factors" else 3 * 16 * 16
    return (torch.randn(inputs, Z, generator=g) / np.sqrt(inputs)).to(device)


def make_rep(w: torch.Tensor):
    if DATASET == "factors":
        def rep(x):  # a fixed random linear map of the factors, slightly bent
            return torch.tanh(torch.as_tensor(x).to(w.device, torch.float32) @ w * 3.0)

        return rep

    def rep(x):
        x = torch.as_tensor(x)[:, :, ::4, ::4]
        return x.reshape(x.shape[0], -1).to(w.device, torch.float32) @ w

    return rep


# -- disent ------------------------------------------------------------------------------------------------
def import_disent():
    """disent's metric functions and dataset classes, or None. Its package __init__ pulls in torchvision
    and lightning, which the metric code never uses: stub them (torchvision's to_tensor is implemented)."""
    if importlib.util.find_spec("disent") is None:
        return None
    stub_torchvision_and_lightning()
    spec = importlib.util.find_spec("disent")
    pkg = types.ModuleType("disent.metrics")
    pkg.__path__ = [os.path.join(os.path.dirname(spec.origin), "metrics")]
    sys.modules.setdefault("disent.metrics", pkg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from disent.dataset import DisentDataset
            from disent.dataset.data import GroundTruthData, XYObjectData
            from disent.dataset.transform import ToImgTensorF32
            from disent.metrics._dci import metric_dci
            from disent.metrics._factor_vae import metric_factor_vae
            from disent.metrics._mig import metric_mig
            from disent.metrics._sap import metric_sap
            from disent.metrics._unsupervised import metric_unsupervised
    except ImportError as e:  # a missing dependency of disent's (e.g. h5py): the reference ports stand in
        print(f"# disent is installed but does not import here ({type(e).__name__}: {e}); "
              "dlib-port is the peer for every metric")
        return None

    class FactorVectorData(GroundTruthData):
        """disent's side of the ``factors`` dataset: one observation at a time, as disent datasets work."""

        name = "factor_vectors"
        factor_names = ("x", "y", "scale", "color")

        @property
        def factor_sizes(self):
            return SIZES

        @property
        def img_shape(self):
            return (1, 1, len(SIZES))

        def _get_observation(self, idx):
            return (self.idx_to_pos(idx) / np.asarray(SIZES)).astype(np.float32)

    data = XYObjectData()
    dataset = (DisentDataset(FactorVectorData()) if DATASET == "factors"
               else DisentDataset(data, transform=ToImgTensorF32()))
    return {"dataset": dataset, "mig": metric_mig,
            "factor_vae": metric_factor_vae, "dci": metric_dci, "sap": metric_sap, "unsupervised": metric_unsupervised}


# -- straightforward disentanglement_lib ports (the peer where disent has no implementation) -------------
class DlibView:
    """disentanglement_lib's GroundTruthData protocol over the benchmark dataset (batch rendering)."""

    def __init__(self, ds: XYObject):
        self.ds = ds
        self.num_factors = len(SIZES)
        self.factors_num_values = list(SIZES)

    def sample_factors(self, num, rs):
        return np.stack([rs.randint(s, size=num) for s in SIZES], axis=1)

    def sample_observations_from_factors(self, f, rs):
        return self.ds.observations(f)

    def sample(self, num, rs):
        f = self.sample_factors(num, rs)
        return f, self.sample_observations_from_factors(f, rs)


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _numpy_rep(rep):
    return lambda obs: _np(rep(obs))


# -- cases -------------------------------------------------------------------------------------------------
DEFAULTS = {  # disentanglement_lib / disent paper defaults
    "mig": {"num_train": 10000}, "dci": {"num_train": 10000, "num_test": 5000},
    "sap": {"num_train": 10000, "num_test": 5000}, "unsupervised": {"num_train": 10000},
    "factor_vae": {"num_train": 10000, "num_eval": 5000, "num_variance_estimate": 10000},
    "beta_vae": {"num_train": 10000, "num_eval": 5000},
    "modularity_explicitness": {"num_train": 10000, "num_test": 5000},
    "irs": {"num_train": 10000}, "downstream": {"num_train": (10, 100, 1000, 10000), "num_test": 5000},
}
QUICK = {  # disent's compute_fast sizes; the others scaled alike
    "mig": {"num_train": 2000}, "dci": {"num_train": 1000, "num_test": 500},
    "sap": {"num_train": 2000, "num_test": 1000}, "unsupervised": {"num_train": 2000},
    "factor_vae": {"num_train": 700, "num_eval": 350, "num_variance_estimate": 1000},
    "beta_vae": {"num_train": 700, "num_eval": 350}, "modularity_explicitness": {"num_train": 2000, "num_test": 1000},
    "irs": {"num_train": 2000}, "downstream": {"num_train": (10, 100, 1000), "num_test": 1000},
}
DISENT_METRICS = ("mig", "factor_vae", "dci", "sap", "unsupervised")
TOLERANCE = {"mig": ("discrete_mig", "mig.discrete_score", 0.05), "sap": ("SAP_score", "sap.score", 0.05),
             "factor_vae": ("eval_accuracy", "factor_vae.eval_accuracy", 0.1),
             "dci": ("disentanglement", "dci.disentanglement", 0.1),
             "unsupervised": ("gaussian_total_correlation", "unsup.gauss_total_corr", 0.05)}


class _Totals:
    """Wall times of the last run of each implementation, for the suite summary."""

    def __init__(self):
        self.t: dict[tuple[str, str], float] = {}

    def wrap(self, metric: str, impl: str, fn):
        def run():
            t0 = time.perf_counter()
            out = fn()
            self.t[(metric, impl)] = time.perf_counter() - t0
            return out

        return run


def _check(metric):
    ours, theirs, tol = TOLERANCE.get(metric, (None, None, None))

    def check(outputs):
        a = outputs.get("pydisent") or outputs.get("pydisent fast=True")
        b = outputs.get("disent")
        if a is None or b is None or ours is None:
            return
        va, vb = a[ours], b[theirs]
        if abs(va - vb) > tol * max(1.0, abs(vb)):  # different samples (RNG streams): up to sampling noise
            raise AssertionError(f"{metric}: pydisent {ours}={va:.4f} vs disent {theirs}={vb:.4f} (tolerance {tol})")

    return check


def cases(args):
    device = "cuda" if str(args.device).startswith("cuda") else "cpu"
    sizes = QUICK if args.quick else DEFAULTS
    disent = import_disent()
    if DATASET not in ("xyobject", "factors"):
        raise ValueError(f"PYDISENT_BENCH_DATASET must be 'xyobject' or 'factors', got {DATASET!r}")
    ds = FactorVectors(device) if DATASET == "factors" else XYObject(device=device)
    w = projection(device)
    rep = make_rep(w)
    rep_cpu = make_rep(w.cpu())
    totals = _Totals()
    sync = torch.cuda.synchronize if device == "cuda" else None

    def ours(name, fast=False, **extra):
        # 256 observations (12 MB of float images) per render/encoder call: large enough to amortise the calls,
        # small enough for the allocator to reuse memory instead of faulting fresh pages for every chunk.
        return lambda: pm.evaluate(rep, ds, [name], seed=0, device=device, batch_size=256 if device == "cpu" else 4096,
                                   fast=fast,
                                   options={name: {**sizes[name], **extra}})[name]

    # One-time costs (imports, thread pools, the first touch of memory a VM has handed back to its host) are
    # paid here, untimed, by both sides; otherwise they land on whichever row runs first.
    pm.evaluate(rep, ds, ["mig"], seed=0, device=device, options={"mig": {"num_train": 1000}})
    if disent is not None:
        disent["mig"](disent["dataset"], rep_cpu, num_train=1000)

    only = [m.strip() for m in os.environ.get("PYDISENT_BENCH_METRICS", "").split(",") if m.strip()]
    for name in DISENT_METRICS + ("beta_vae", "modularity_explicitness", "irs", "downstream"):
        if only and name not in only:
            continue
        impls = {"pydisent": totals.wrap(name, "pydisent", ours(name))}
        if name in ("dci", "sap"):  # the metrics whose fast=True swaps the estimator
            impls["pydisent fast=True"] = totals.wrap(name, "fast", ours(name, fast=True))
        if disent is not None and name in DISENT_METRICS:
            metric = disent[name]
            fn = metric.compute_fast if args.quick else metric.compute  # disent's own fast / paper sizes
            impls["disent"] = totals.wrap(name, "peer", lambda fn=fn: fn(disent["dataset"], rep_cpu))
        else:
            port = getattr(dlib, f"{name}_pipeline", None)
            if port is not None:
                kw = dict(sizes[name])
                if name == "downstream":
                    kw = {"sizes": kw["num_train"], "num_test": kw["num_test"]}
                impls["dlib-port"] = totals.wrap(name, "peer", lambda port=port, kw=kw: port(
                    DlibView(ds), _numpy_rep(rep_cpu), np.random.RandomState(0), **kw))
        yield Case(name=f"{name} ({'quick' if args.quick else 'defaults'}, {DATASET})", impls=impls, sync=sync,
                   check=_check(name), extra={"metric": name, "sizes": str(sizes[name]), "dataset": DATASET}, repeats=1)

    if only and "dci_fits" not in only:
        _summary(totals)
        return
    # DCI's estimator fits alone (GradientBoostingClassifier per factor, in parallel threads, on codes sampled
    # beforehand): pydisent's whole DCI should cost at most these fits + 10 %.
    n_tr, n_te = sizes["dci"]["num_train"], sizes["dci"]["num_test"]
    f_tr = ds.factor_space.sample_factors(n_tr, 1)
    f_te = ds.factor_space.sample_factors(n_te, 2)
    x_tr, x_te = _np(rep(ds.observations(f_tr))), _np(rep(ds.observations(f_te)))

    def fits_only():
        from pydisent.metrics._dci import importance_matrix

        return importance_matrix(torch.from_numpy(x_tr), torch.from_numpy(f_tr), torch.from_numpy(x_te),
                                 torch.from_numpy(f_te))

    yield Case(name="dci: whole metric vs estimator fits only", repeats=1, sync=sync,
               impls={"pydisent dci": totals.wrap("dci_fits", "pydisent", ours("dci")),
                      "GBT fits only (parallel)": totals.wrap("dci_fits", "fits", fits_only)})

    _summary(totals)


def _summary(totals: _Totals) -> None:
    """Suite totals, printed (from the times measured above; nothing is rerun)."""
    fast_impl = {"dci": "fast", "sap": "fast"}
    have = [m for m in DISENT_METRICS if (m, "peer") in totals.t]
    if have:
        peer = sum(totals.t[(m, "peer")] for m in have)
        ref = sum(totals.t[(m, "pydisent")] for m in have)
        fast = sum(totals.t[(m, fast_impl.get(m, "pydisent"))] for m in have)
        print(f"# suite of disent's metrics {have}: peer (disent, or dlib-port without it) {peer:.1f} s, "
              f"pydisent {ref:.1f} s ({peer / ref:.1f}x), "
              f"pydisent fast=True {fast:.1f} s ({peer / fast:.1f}x)")
    if ("dci_fits", "fits") in totals.t:
        r = totals.t[("dci_fits", "pydisent")] / totals.t[("dci_fits", "fits")]
        print(f"# dci: whole metric / estimator fits = {r:.3f} (target <= 1.10)")
