"""``pydisent train``: train an objective on a dataset into a run folder (``pydisent objectives`` lists names).

    pydisent train --objective beta_vae --dataset xysquares --set beta=4 --set dataset.grid_spacing=4 \\
        --schedule "beta=linear(0, 4, 10000)" --steps 20000 --out runs/bvae
    pydisent train --resume runs/bvae --steps 40000          # continue (exactly) from the newest checkpoint

``--set KEY=VALUE`` (repeatable; VALUE is a Python literal, else a string): ``KEY`` a hyperparameter of
the objective (``beta``, ``likelihood``, ...), or ``dataset.OPTION`` (the dataset's keyword arguments),
``model.latent_dim`` / ``model.architecture`` / ``model.OPTION`` (architecture options), ``optimizer.lr``
/ ``optimizer.betas`` / ``optimizer.optimizer`` ..., ``sampler.OPTION`` (pairs: ``k``, ``dlib_quirk``,
``force_different``; triplets: ``mode``, ``swap_chance``).
"""

from __future__ import annotations

import ast
import sys

NAMESPACES = ("dataset", "model", "optimizer", "sampler")


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train an objective on a dataset into a run folder",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("--objective", default=None, help="objective name (pydisent objectives)")
    p.add_argument("--dataset", default=None, help="dataset name (pydisent datasets)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="hyperparameter, dataset.X, model.X, optimizer.X or sampler.X")
    p.add_argument("--schedule", action="append", default=[], metavar="NAME=SCHEDULE",
                   help="e.g. 'beta=linear(0, 4, 10000)', 'lr=cosine(1e-3, 1e-5, 20000)'; kinds: constant, "
                        "linear, cosine, cyclic, step")
    p.add_argument("--out", default=None, help="run folder (config.json, log.jsonl, checkpoints/)")
    p.add_argument("--resume", default=None, metavar="DIR_OR_CHECKPOINT",
                   help="continue a run from its newest checkpoint (or from the given checkpoint file)")
    p.add_argument("--steps", type=int, default=None, help="total optimisation steps (default: the objective's)")
    p.add_argument("--batch-size", type=int, default=None, help="per process (default: the objective's, 64)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16"))
    p.add_argument("--compile", action="store_true", help="torch.compile the encoder and decoder")
    p.add_argument("--grad-clip", type=float, default=None)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--checkpoint-every", type=int, default=1000)
    p.add_argument("--keep-checkpoints", type=int, default=3)
    p.add_argument("--tensorboard", dest="tensorboard", action="store_true", default=None,
                   help="require TensorBoard logging (default: when installed)")
    p.add_argument("--no-tensorboard", dest="tensorboard", action="store_false")
    p.add_argument("--data-shards", type=int, default=None,
                   help="data shards drawn by this process (a 1-process run with W shards and batch W*b sees the "
                        "data of a W-rank torchrun run with batch b)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def split_settings(items, objective_name: str | None) -> dict:
    """``--set`` items -> ``{"hparams": {...}, "dataset": {...}, "model": {...}, "optimizer": {...},
    "sampler": {...}}``; an unknown hyperparameter is reported with the valid names."""
    out = {"hparams": {}, **{ns: {} for ns in NAMESPACES}}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"argument '--set': expected KEY=VALUE, got {item!r}")
        ns, dot, opt = key.partition(".")
        if dot:
            if ns not in NAMESPACES or not opt:
                raise ValueError(f"argument '--set': unknown namespace in {key!r}; use a hyperparameter name or "
                                 f"one of {[n + '.X' for n in NAMESPACES]}")
            out[ns][opt] = _literal(value.strip())
        else:
            out["hparams"][key] = _literal(value.strip())
    if objective_name is not None and out["hparams"]:
        from pydisent.models.objectives import objective_class

        cls = objective_class(objective_name)
        known = {**cls.common_defaults, **cls.defaults}
        unknown = sorted(set(out["hparams"]) - set(known))
        if unknown:
            raise ValueError(f"argument '--set': objective {objective_name!r} has no hyperparameter(s) {unknown}; "
                             f"known: {sorted(known)} (and {[n + '.X' for n in NAMESPACES]})")
        for k, v in list(out["hparams"].items()):
            if isinstance(known[k], float) and isinstance(v, int) and not isinstance(v, bool):
                out["hparams"][k] = float(v)
    return out


def parse_schedules(items) -> dict:
    from pydisent.train.schedules import parse_schedule

    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"argument '--schedule': expected NAME=SCHEDULE, got {item!r}")
        out[name.strip()] = parse_schedule(text)
    return out


def run(args) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt as e:
        from pydisent.train import TrainingInterrupted

        if isinstance(e, TrainingInterrupted):
            print(f"pydisent train: {e}; resume with: pydisent train --resume {e.checkpoint}", file=sys.stderr)
            return 130 if e.signum == 2 else 143
        raise
    except FloatingPointError as e:
        print(f"pydisent train: {e}", file=sys.stderr)
        return 3
    except (ValueError, TypeError, FileNotFoundError, ImportError) as e:
        print(f"pydisent train: error: {e}", file=sys.stderr)
        return 2


def _run(args) -> int:
    import pydisent.train as T

    if args.resume is None:
        if args.objective is None or args.dataset is None:
            raise ValueError("arguments '--objective' and '--dataset' are required (or '--resume DIR')")
        from pydisent.models.objectives import objective_class

        objective_class(args.objective)  # unknown name -> the valid ones
    s = split_settings(args.set, args.objective)
    schedules = parse_schedules(args.schedule)
    if args.resume is not None:
        if any(s.values()) or schedules:
            raise ValueError("arguments '--set'/'--schedule' cannot change a resumed run (its checkpoint holds "
                             "the config); only '--steps' may extend it")
        run = T.train(args.objective, args.dataset, steps=args.steps, device=args.device, out=args.out,
                      resume=args.resume, quiet=args.quiet, tensorboard=args.tensorboard)
    else:
        model = dict(s["model"])
        latent_dim = model.pop("latent_dim", None)
        architecture = model.pop("architecture", None)
        run = T.train(args.objective, args.dataset, steps=args.steps, batch_size=args.batch_size,
                      device=args.device, seed=args.seed, out=args.out, hparams=s["hparams"], latent_dim=latent_dim,
                      architecture=architecture, arch_options=model, dataset_options=s["dataset"],
                      optimizer=s["optimizer"] or None, schedules=schedules, sampler=s["sampler"] or None,
                      log_every=args.log_every, checkpoint_every=args.checkpoint_every or None,
                      keep_checkpoints=args.keep_checkpoints, precision=args.precision, compile=args.compile,
                      grad_clip=args.grad_clip, quiet=args.quiet, tensorboard=args.tensorboard,
                      data_shards=args.data_shards)
    import os

    if os.environ.get("RANK", "0") != "0":  # torchrun: rank 0 reports
        return 0
    last = run.records[-1] if run.records else {}
    terms = ", ".join(f"{k} {v:.4g}" for k, v in last.items()
                      if k not in ("step", "time", "lr", "data_wait", "steps_per_s") and isinstance(v, float))
    wait = run.summary.get("data_wait_fraction")
    print(f"pydisent train: {run.config['objective']} on {run.config['dataset']}: {run.step} steps "
          f"({terms}); data wait {100 * (wait or 0):.1f}% of the time"
          + (f"; run folder {run.out}" if run.out else ""))
    return 0
