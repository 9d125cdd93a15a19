"""``pydisent metrics``, ``pydisent datasets`` and ``pydisent objectives``: what can be named on the command line."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("metrics", help="list the metric names, what each needs and its summary")
    p.set_defaults(func=run_metrics)
    p = sub.add_parser("datasets", help="list the dataset names")
    p.set_defaults(func=run_datasets)
    add_objectives_parser(sub)


def run_metrics(args) -> int:
    from pydisent.metrics import METRICS

    width = max((len(n) for n in METRICS), default=0)
    needs = max((len(m.needs) for m in METRICS.values()), default=0)
    for name, m in METRICS.items():
        flags = "" if m.default else "  (not by default)"
        print(f"{name:<{width}}  {m.needs:<{needs}}  {m.summary}{flags}")
    return 0


def run_datasets(args) -> int:
    from pydisent.data import DATASETS

    width = max(len(n) for n in DATASETS)
    for name, cls in sorted(DATASETS.items()):
        doc = (cls.__doc__ or "").strip().splitlines()
        print(f"{name:<{width}}  {doc[0] if doc else cls.__name__}")
    return 0


def add_objectives_parser(sub) -> None:
    p = sub.add_parser("objectives", help="list the training objectives, datasets and every training option")
    p.set_defaults(func=run_objectives)


def _signature_options(cls, skip=("self", "transform", "backend", "device", "rng")) -> str:
    import inspect

    try:
        params = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):
        return ""
    return "  ".join(f"{p.name}={p.default!r}" if p.default is not inspect.Parameter.empty else p.name
                     for p in params if p.name not in skip and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))


def run_objectives(args) -> int:
    import inspect

    from pydisent.data import DATASETS
    from pydisent.models import ARCHITECTURES
    from pydisent.models.objectives import OBJECTIVES
    from pydisent.train.loop import OPTIMIZERS, PRECISIONS
    from pydisent.train.schedules import SCHEDULES

    print("objectives (pydisent train --objective NAME; hyperparameters: --set NAME=VALUE):")
    width = max(len(n) for n in OBJECTIVES)
    for name, cls in sorted(OBJECTIVES.items()):
        doc = (cls.__doc__ or "").strip().splitlines()
        print(f"  {name:<{width}}  [{cls.batch_kind}] {doc[0] if doc else cls.__name__}")
        hp = {**cls.defaults, **cls.common_defaults}
        print(f"  {'':<{width}}    " + "  ".join(f"{k}={v!r}" for k, v in hp.items()))
        if cls.sampler_defaults:
            print(f"  {'':<{width}}    sampler: " + "  ".join(f"{k}={v!r}" for k, v in cls.sampler_defaults.items()))
    print("\ndatasets (--dataset NAME; options: --set dataset.OPTION=VALUE):")
    width = max(len(n) for n in DATASETS)
    for name, cls in sorted(DATASETS.items()):
        print(f"  {name:<{width}}  {_signature_options(cls)}")
    print("\nmodel (--set model.OPTION=VALUE): latent_dim (default 10), architecture "
          f"({', '.join(sorted(ARCHITECTURES))}; default by observation shape), mlp: hidden, tied")
    print(f"optimizer (--set optimizer.OPTION=VALUE): optimizer ({', '.join(OPTIMIZERS)}), lr, betas, eps, "
          "weight_decay (defaults: the objective's training_defaults)")
    print("sampler (--set sampler.OPTION=VALUE): pairs: k (-1: random 1..F-1), dlib_quirk, force_different; "
          "triplets: mode, swap_chance")
    print("schedules (--schedule NAME=KIND(ARGS); NAME a float hyperparameter or lr):")
    for kind, cls in SCHEDULES.items():
        params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
        args_ = ", ".join(p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}" for p in params)
        print(f"  {kind}({args_})")
    print(f"train: --steps, --batch-size, --device, --seed, --precision ({', '.join(PRECISIONS)}), --compile, "
          "--grad-clip, --log-every, --checkpoint-every, --keep-checkpoints, --tensorboard, --quiet, --out, --resume")
    return 0
