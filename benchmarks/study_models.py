"""A small-budget reproduction study of three claims about the models, with pydisent's trainer and metrics.

``python -m benchmarks.study_models [--steps 1500] [--seeds 0 1 2] [--device cpu] [--quick]``

Dataset: procedural XYSquares at half the original scale (32 x 32 x 3, squares of 4 px, an 8 x 8 grid per
square, three squares: six factors of 8 values), grid spacing 2 (squares overlap their shifted copies by
half) unless said otherwise; MLP encoder/decoder (256, 256), latent 10, Bernoulli likelihood, Adam lr 1e-3
(higher than disentanglement_lib's 1e-4: the budget is a few thousand steps, not 300,000), batch 64.

1. **beta and total correlation** (Higgins et al. 2017; Locatello et al. 2019 measure it as the
   Gaussian total correlation of the representation): beta-VAE with beta in {1, 4, 16}. Reported: the
   Gaussian TC of the posterior means (disentanglement_lib's ``unsupervised`` score) and of the aggregate
   posterior q(z) (covariance of the means plus the mean posterior variance: a Gaussian fit to q(z)).
   Claim: both fall as beta grows.
2. **weak supervision** (Locatello et al. 2020): Ada-GVAE on pairs that differ in ``k`` random factors
   against beta-VAE, the same beta (4), steps and batch size (a batch of 64 pairs for Ada-GVAE, so it sees
   twice the images). Claim: higher MIG.
3. **overlap** (Michlo et al., "Data Overlap: A Prerequisite For Disentanglement"): the beta-VAE (beta 4)
   on XYSquares with grid spacing 4 (no overlap), 2 and 1 (the squares of neighbouring positions share
   half and three quarters of their pixels). Claim: wider spacing (less overlap) lowers what the VAE
   learns: MIG and the ground-truth distance correlation (Spearman between factor and latent distances).

Every run is seeded (``seed``) and its numbers, the settings and the wall time go to
``benchmarks/results/study_models-<device>-<date>.json``; the summary prints mean and standard deviation over
the seeds and whether each claim's ordering holds in the means. The machine this was first run on is
shared with other jobs (wall times are noisy, numbers are not: they depend only on the seed).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import time
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).resolve().parent / "results"
BASE = {"square_size": 4, "image_size": 32, "grid_size": 8, "grid_spacing": 2}
COMMON = {"batch_size": 64, "latent_dim": 10, "architecture": "mlp", "arch_options": {"hidden": [256, 256]},
          "optimizer": {"lr": 1e-3}}
NUM_EVAL = 10_000


def gaussian_tc(cov: np.ndarray) -> float:
    """``0.5 (sum log diag C - log det C)``: the total correlation of a Gaussian with covariance C."""
    sign, logdet = np.linalg.slogdet(cov)
    return float(0.5 * (np.log(np.diag(cov)).sum() - logdet)) if sign > 0 else float("inf")


def evaluate_run(run, dataset_options: dict, seed: int, with_gtc: bool) -> dict:
    import pydisent.metrics as pm
    from pydisent.data import make_dataset

    ds = make_dataset("xysquares", **dataset_options)
    rng = np.random.default_rng(10_000 + seed)
    factors = ds.factor_space.sample_factors(NUM_EVAL, rng)
    rep = run.representation()
    mus, vars_ = [], []
    with torch.no_grad():
        for i in range(0, NUM_EVAL, 2000):
            mu, logvar = rep.posterior(ds.observations(factors[i:i + 2000]))
            mus.append(mu.double().numpy())
            vars_.append(logvar.double().exp().numpy())
    mu, var = np.concatenate(mus), np.concatenate(vars_)
    out = {"mig": float(pm.mig(mu, factors)["discrete_mig"])}
    cov_mu = np.cov(mu, rowvar=False)
    out["tc_means"] = gaussian_tc(cov_mu)
    out["tc_aggregate"] = gaussian_tc(cov_mu + np.diag(var.mean(0)))
    out["active_dims"] = int((var.mean(0) < 0.5).sum())  # posterior narrower than half the prior
    if with_gtc:
        s = pm.evaluate(rep, ds, ["ground_truth_correlation"], seed=seed, fast=True)["ground_truth_correlation"]
        out["ground_truth_correlation"] = float(s["distances.rcorr_ground_latent.l1.factor"])
    last = run.records[-1]
    out.update({"recon": float(last["recon"]), "loss": float(last["loss"])})
    return out


def one_run(objective: str, hparams: dict, dataset_options: dict, steps: int, seed: int, device: str,
            with_gtc: bool) -> dict:
    import pydisent.train as T

    t0 = time.perf_counter()
    run = T.train(objective, "xysquares", steps=steps, seed=seed, device=device, quiet=True, hparams=hparams,
                  dataset_options=dataset_options, log_every=max(1, steps // 10), checkpoint_every=None, **COMMON)
    t_train = time.perf_counter() - t0
    res = evaluate_run(run, dataset_options, seed, with_gtc)
    res.update({"objective": objective, "hparams": hparams, "dataset_options": dataset_options, "seed": seed,
                "steps": steps, "train_s": t_train, "eval_s": time.perf_counter() - t0 - t_train,
                "data_wait_fraction": run.summary.get("data_wait_fraction")})
    print(f"  {objective:<9} {json.dumps(hparams):<16} spacing {dataset_options['grid_spacing']} seed {seed}: "
          f"mig {res['mig']:.3f} tc_means {res['tc_means']:.3f} tc_aggregate {res['tc_aggregate']:.3f} "
          f"active {res['active_dims']}" + (f" gt_corr {res['ground_truth_correlation']:.3f}" if with_gtc else "")
          + f" ({t_train:.0f} s + {res['eval_s']:.0f} s)", flush=True)
    return res


def _one_run_star(job):
    torch.set_num_threads(1)
    return one_run(*job)


def _stats(rows, key):
    v = np.array([r[key] for r in rows], dtype=float)
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0, "values": v.tolist()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.study_models", description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--device", default="cpu")
    p.add_argument("--quick", action="store_true", help="20 steps, one seed (a smoke run; not saved)")
    p.add_argument("--no-save", action="store_true")
    p.add_argument("--jobs", type=int, default=1, help="runs in parallel processes (one thread each)")
    p.add_argument("--resume", default=None, metavar="JSON", help="take the runs already in this result file")
    args = p.parse_args(argv)
    steps, seeds = (20, [0]) if args.quick else (args.steps, args.seeds)
    t_start = time.perf_counter()
    # every distinct run once (the beta-4 runs at spacing 2 serve all three parts)
    specs = {}
    for s_ in seeds:
        for b in (1.0, 4.0, 16.0):
            specs[("beta_vae", b, 2, s_)] = b == 4.0
        specs[("ada_gvae", 4.0, 2, s_)] = False
        for sp in (4, 2, 1):
            specs[("beta_vae", 4.0, sp, s_)] = True
    print(f"# study_models: {steps} steps, seeds {seeds}, device {args.device}, {len(specs)} runs, {args.jobs} jobs")
    jobs = [(o, {"beta": b}, {**BASE, "grid_spacing": sp}, steps, s_, args.device, gtc)
            for (o, b, sp, s_), gtc in specs.items()]
    save = not (args.quick or args.no_save)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"study_models-{'cuda' if args.device.startswith('cuda') else 'cpu'}-{stamp}.json"
    settings = {"dataset": "xysquares", "dataset_options": BASE, **COMMON, "steps": steps, "seeds": seeds,
                "num_eval": NUM_EVAL}

    def write(payload):
        if save:
            from benchmarks.harness import machine_info
            from pydisent._io import write_json

            RESULTS.mkdir(parents=True, exist_ok=True)
            write_json(path, {"study": "models", "settings": settings, **payload, "machine": machine_info(args.device),
                              "shared_machine": True})

    cache = {}
    if args.resume:  # runs already done (same settings): a crashed or interrupted study continues
        prev = json.loads(Path(args.resume).read_text())
        if prev["settings"]["steps"] != steps:
            raise SystemExit(f"--resume: {args.resume} has {prev['settings']['steps']} steps, not {steps}")
        for r in prev["runs"]:
            key = (r["objective"], float(r["hparams"]["beta"]), r["dataset_options"]["grid_spacing"], r["seed"])
            if key in specs:
                cache[key] = r
    todo = [(k, j) for k, j in zip(specs, jobs) if k not in cache]
    print(f"# {len(todo)} runs to do ({len(cache)} from --resume)")

    def done():
        return [cache[k] for k in specs if k in cache]

    if args.jobs > 1 and todo:
        import concurrent.futures as cf
        import multiprocessing as mp

        with cf.ProcessPoolExecutor(args.jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(_one_run_star, j): k for k, j in todo}  # seed 0's runs first
            for f in cf.as_completed(futures):
                cache[futures[f]] = f.result()
                write({"complete": False, "runs": done()})
    else:
        for k, j in todo:
            cache[k] = one_run(*j)
            write({"complete": False, "runs": done()})
    results = done()

    def get(objective, b, spacing, seed):
        return cache[(objective, float(b), spacing, seed)]

    study = {"beta_tc": {b: [get("beta_vae", b, 2, s_) for s_ in seeds] for b in (1, 4, 16)},
             "weak": {"beta_vae": [get("beta_vae", 4, 2, s_) for s_ in seeds],
                      "ada_gvae": [get("ada_gvae", 4, 2, s_) for s_ in seeds]},
             "overlap": {sp: [get("beta_vae", 4, sp, s_) for s_ in seeds] for sp in (4, 2, 1)}}

    summary = {
        "beta_tc": {b: {k: _stats(r, k) for k in ("tc_means", "tc_aggregate", "mig", "active_dims")}
                    for b, r in study["beta_tc"].items()},
        "weak": {o: {k: _stats(r, k) for k in ("mig", "tc_means")} for o, r in study["weak"].items()},
        "overlap": {sp: {k: _stats(r, k) for k in ("mig", "ground_truth_correlation", "recon")}
                    for sp, r in study["overlap"].items()},
    }
    tc_m = [summary["beta_tc"][b]["tc_means"]["mean"] for b in (1, 4, 16)]
    tc_a = [summary["beta_tc"][b]["tc_aggregate"]["mean"] for b in (1, 4, 16)]
    mig_w = [summary["weak"][o]["mig"]["mean"] for o in ("beta_vae", "ada_gvae")]
    mig_o = [summary["overlap"][sp]["mig"]["mean"] for sp in (4, 2, 1)]
    gtc_o = [summary["overlap"][sp]["ground_truth_correlation"]["mean"] for sp in (4, 2, 1)]
    verdict = {
        "tc_means_falls_with_beta": bool(tc_m[0] > tc_m[1] > tc_m[2]),
        "tc_aggregate_falls_with_beta": bool(tc_a[0] > tc_a[1] > tc_a[2]),
        "ada_gvae_mig_above_beta_vae": bool(mig_w[1] > mig_w[0]),
        "mig_lower_with_wider_spacing": bool(mig_o[0] < mig_o[1] and mig_o[0] < mig_o[2]),
        "gt_correlation_lower_with_wider_spacing": bool(gtc_o[0] < gtc_o[1] and gtc_o[0] < gtc_o[2]),
        "mig_monotone_in_overlap": bool(mig_o[0] < mig_o[1] < mig_o[2]),
    }
    print("\n# summary (mean +- sd over seeds)")
    for b in (1, 4, 16):
        s = summary["beta_tc"][b]
        print(f"beta {b:>2}: tc_means {s['tc_means']['mean']:.3f} +- {s['tc_means']['sd']:.3f}  tc_aggregate "
              f"{s['tc_aggregate']['mean']:.3f} +- {s['tc_aggregate']['sd']:.3f}  mig {s['mig']['mean']:.3f}  "
              f"active {s['active_dims']['mean']:.1f}")
    for o in ("beta_vae", "ada_gvae"):
        s = summary["weak"][o]
        print(f"{o:<9}: mig {s['mig']['mean']:.3f} +- {s['mig']['sd']:.3f}")
    for sp in (4, 2, 1):
        s = summary["overlap"][sp]
        print(f"spacing {sp}: mig {s['mig']['mean']:.3f} +- {s['mig']['sd']:.3f}  gt_corr "
              f"{s['ground_truth_correlation']['mean']:.3f} +- {s['ground_truth_correlation']['sd']:.3f}  "
              f"recon {s['recon']['mean']:.1f}")
    for k, v in verdict.items():
        print(f"{k}: {'holds' if v else 'does NOT hold'} at this budget")
    total = time.perf_counter() - t_start
    print(f"# total {total / 60:.1f} min")
    write({"complete": True, "runs": results, "summary": summary, "verdict": verdict, "total_s": total})
    if save:
        print(f"# wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
