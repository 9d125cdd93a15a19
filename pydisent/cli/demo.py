"""``pydisent demo``: train a beta-VAE and a plain VAE, score both with every metric, write the reports.

The README's main job, on a fresh machine with nothing to download: two small models on a procedural
dataset, the whole metric suite (the topological score included), a report per run and a comparison page::

    python -m pydisent demo                     # about DEMO_MINUTES minutes on two CPU cores
    python -m pydisent demo --device cuda --out demo/
    python -m pydisent demo --quick             # seconds: tiny settings (the test suite runs this)

Ctrl-C leaves every run folder valid: training writes its last checkpoint, scoring writes the metrics that
finished.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pydisent.cli._common import UserError, add_output_flags, log, print_json, seed_int

# One square on an 8 x 8 grid of 1-pixel steps: its x and y positions are the two factors, and neighbouring
# positions overlap in 7 of 8 columns (rows), the overlap msc-research shows a VAE needs to learn the factors'
# distances. It shows disentanglement within minutes on a CPU (beta = 4: MIG about 0.2, DCI disentanglement
# about 0.7 after 2000 steps); the 64 x 64 images keep every metric and figure of the report meaningful.
DEMO_DATASET = ("xysquares", {"num_squares": 1, "rgb": False, "grid_spacing": 1, "grid_size": 8})
# --quick: the same square on a 4 x 4 grid (the classifier-based metrics fit a few trees, not thousands)
QUICK_DATASET = ("xysquares", {"num_squares": 1, "rgb": False, "grid_spacing": 1, "grid_size": 4})
# (label, objective, its parameters): the beta-VAE of Higgins et al. and the plain VAE it is compared with.
DEMO_MODELS = (("beta_vae", "beta_vae", {"beta": 4.0}), ("vae", "vae", {}))
DEMO_TRAIN = {"steps": 2000, "batch_size": 64, "log_every": 50}
QUICK_TRAIN = {"steps": 10, "batch_size": 8, "log_every": 2}
# a small MLP (a 64 x 64 image is 4096 inputs; the dlib conv net trains ~20x slower on a CPU) at Adam 1e-3 (the
# study's 1e-4 needs tens of thousands of steps), 6 latent dimensions for 2 factors
DEMO_MODEL = {"latent_dim": 6, "architecture": "mlp", "arch_options": {"hidden": [256, 128]},
              "optimizer": {"lr": 1e-3}}
# every metric at reduced sample sizes (the demo's point is the report, not paper-sized estimates)
DEMO_OPTIONS: dict = {
    "beta_vae": {"num_train": 2000, "num_eval": 1000}, "factor_vae": {"num_train": 2000, "num_eval": 1000},
    "flatness": {"repeats": 256}, "ground_truth_correlation": {"repeats": 256}, "linearity": {"repeats": 256},
}
QUICK_OPTIONS: dict = {
    "beta_vae": {"num_train": 100, "num_eval": 50, "batch_size": 8},
    "factor_vae": {"num_train": 100, "num_eval": 50, "num_variance_estimate": 500, "batch_size": 8},
    "mig": {"num_train": 400}, "dci": {"num_train": 200, "num_test": 100},
    "modularity_explicitness": {"num_train": 300, "num_test": 150}, "sap": {"num_train": 300, "num_test": 150},
    "irs": {"num_train": 400}, "unsupervised": {"num_train": 400}, "sparsity": {"num_points": 400},
    "prior_divergence": {"num_points": 256},
    "flatness": {"repeats": 4}, "ground_truth_correlation": {"repeats": 4}, "linearity": {"repeats": 4},
}
# Zhou et al.'s score at reduced sizes (the paper: 1000 points, 10 values, L0 = 100, 100 draws, a random VGG16
# embedding) on 8 x 8 average-pooled images: the report's histograms and matrix in seconds on a CPU
DEMO_TOPOLOGY: dict = {"num_points": 500, "num_values": 8, "L0": 64, "n": 50, "embedder": "pool8"}
QUICK_TOPOLOGY: dict = {"num_points": 64, "num_values": 3, "L0": 16, "n": 4, "i_max": 20, "embedder": "pool8"}
# the Geometry Score of the model's samples against the dataset (code defaults: 5000 each, 1000 draws)
DEMO_GEOMETRY: dict = {"num_real": 2000, "num_fake": 2000, "n": 200, "embedder": "pool8"}
QUICK_GEOMETRY: dict = {"num_real": 128, "num_fake": 128, "n": 8, "L0": 16, "i_max": 20, "embedder": "pool8"}
QUICK_DIAGNOSTICS = {"repeats": 4, "steps": 5, "num_recon": 4}


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="train a beta-VAE and a VAE, score them, write the reports",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default=None, help="cpu (default) or cuda")
    p.add_argument("--out", default="pydisent-demo", metavar="DIR", help="output folder (default ./pydisent-demo)")
    p.add_argument("--quick", action="store_true", help="tiny settings: a smoke run in seconds")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--steps", type=int, default=None, help=f"training steps per model (default {DEMO_TRAIN['steps']})")
    add_output_flags(p, json_help="print a JSON summary (folders, headline numbers, seconds) on stdout")
    p.set_defaults(func=run)


def training_available() -> bool:
    try:
        import pydisent

        return callable(getattr(pydisent, "train", None))
    except ImportError:
        return False


def train_run(label: str, objective: str, params: dict, dataset: tuple, folder: Path, *, steps: int,
              batch_size: int, log_every: int, device, seed: int, quiet: bool) -> Path:
    """Train ``objective`` into the run folder ``folder`` (the stand-in writes a baseline there until
    ``pydisent.train`` exists)."""
    if training_available():
        import pydisent

        pydisent.train(objective, dataset[0], dataset_options=dict(dataset[1]), hparams=dict(params), steps=steps,
                       batch_size=batch_size, log_every=log_every, device=device or "cpu", seed=seed,
                       out=str(folder), quiet=quiet, **DEMO_MODEL)
        return folder
    return _standin_run(label, objective, params, dataset, folder, seed=seed)


_STANDIN_BASELINE = {"beta_vae": "pca", "vae": "random_projection"}


def _standin_run(label, objective, params, dataset, folder: Path, *, seed: int) -> Path:
    import torch

    import pydisent
    from pydisent._io import atomic_open, write_json
    from pydisent.data import make_dataset
    from pydisent.report._standin import from_baseline

    baseline = _STANDIN_BASELINE.get(objective, "pca")
    model = from_baseline(baseline, make_dataset(dataset[0], **dataset[1]), 10, seed)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_open(folder / "model.pt", "wb") as f:
        torch.save(model.checkpoint(baseline=baseline), f)
    write_json(folder / "config.json", {
        "objective": f"standin:{baseline}", "requested_objective": objective, "objective_kwargs": params,
        "dataset": {"name": dataset[0], "kwargs": dataset[1]}, "seed": seed, "steps": 0,
        "pydisent": pydisent.__version__,
        "note": "stand-in: pydisent.train is not available in this build, so a baseline stands in for the model"})
    return folder


def run(args) -> int:
    from pydisent._io import check_output_path
    from pydisent.cli.evaluate import _check_device
    from pydisent.report import compare_text, open_run, render_compare, resolve_dataset
    from pydisent.report.pipeline import evaluate_subject
    from pydisent.report.scoring import GEOMETRY, TOPOLOGICAL, pool_embedder, resolve_metrics

    _check_device(args.device)
    train_cfg = dict(QUICK_TRAIN if args.quick else DEMO_TRAIN)
    if args.steps is not None:
        if args.steps < 1:
            raise UserError(f"argument '--steps' must be a positive integer, got {args.steps}")
        train_cfg["steps"] = args.steps
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"argument '--out': {str(out)!r} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    check_output_path(out / "compare.html", name="--out")
    topo = dict(QUICK_TOPOLOGY if args.quick else DEMO_TOPOLOGY)
    geo = dict(QUICK_GEOMETRY if args.quick else DEMO_GEOMETRY)
    topo["embedder"] = geo["embedder"] = pool_embedder(8)
    options = {**(QUICK_OPTIONS if args.quick else DEMO_OPTIONS), TOPOLOGICAL: topo, GEOMETRY: geo}
    t_start = time.perf_counter()
    entries, summary = [], {"folders": {}, "results": {}, "seconds": {}, "standin": not training_available()}
    if summary["standin"]:
        log(args, "pydisent.train is not available in this build: baselines stand in for the models")
    for label, objective, params in DEMO_MODELS:
        folder = out / label
        t0 = time.perf_counter()
        log(args, f"training {label} ({objective}, {train_cfg['steps']} steps) into {folder}")
        dataset = QUICK_DATASET if args.quick else DEMO_DATASET
        train_run(label, objective, params, dataset, folder, device=args.device, seed=args.seed,
                  quiet=args.quiet, **train_cfg)
        t_train = time.perf_counter() - t0
        sub = open_run(folder, device=args.device)
        sub.label = label
        dataset, info = resolve_dataset(sub, None, None)
        metrics = resolve_metrics("all", sub)
        log(args, f"scoring {label} ({len(metrics)} metrics)")
        doc = evaluate_subject(sub, dataset, info, metrics, seed=args.seed, device=args.device, fast=True,
                               options={k: v for k, v in options.items() if k in metrics and v},
                               diagnostics=QUICK_DIAGNOSTICS if args.quick else None, quiet=args.quiet,
                               settings={"demo": True, "quick": args.quick, "train": train_cfg})
        entries.append({"label": label, "doc": doc, "link": f"{label}/report.html"})
        summary["folders"][label] = str(folder)
        summary["results"][label] = doc["results"]
        summary["seconds"][label] = {"train": t_train, "score": sum(doc["seconds"].values())}
    compare = render_compare(entries, out / "compare.html")
    summary["compare"] = str(compare)
    summary["total_seconds"] = time.perf_counter() - t_start
    if args.json_out:
        print_json(summary)
        return 0
    print(compare_text(entries))
    for label in summary["folders"]:
        print(f"report: {out / label / 'report.html'}")
    print(f"comparison: {compare}")
    print(f"total: {summary['total_seconds']:.0f} s")
    return 0
