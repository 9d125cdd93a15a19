"""``pydisent.train``: train an objective on a ground-truth dataset, into a run folder that resumes exactly.

One step (``s`` counts the optimisation steps done, from 0)::

    every scheduled hyperparameter h:  setattr(objective, h, schedule_h(s))   (``lr``: the optimiser's)
    batch  = source.next()                      # factors from the data generator, rendered in one call
    out    = objective.loss(batch, s, generator) # under autocast for bf16/fp16
    guard:   every term finite, else stop (NonFiniteLossError: step, term, checkpoint to resume from)
    backward, gradients averaged over ranks, optional clipping, optimiser step (GradScaler for fp16)
    aux    = objective.aux_loss(batch, s, generator) -> its own optimiser (FactorVAE's discriminator)

Seeds: ``seed`` (an int) derives three independent streams with ``numpy.random.SeedSequence``: the
model's initial weights (drawn under ``torch.random.fork_rng``, so the global RNG is left as it was), the
data (one NumPy ``Generator`` per data shard) and the step's noise (a ``torch.Generator`` on the training
device). ``rng`` / ``generator`` hand in the data and noise generators instead. Nothing reads a global
RNG, so two runs with the same seed on the same machine give the same numbers, and a run resumed from
a checkpoint gives the same losses as the run that was never interrupted (bit for bit on the CPU).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from pydisent.train import checkpoint as ck
from pydisent.train import distributed as dd
from pydisent.train.data import BatchSource, data_generator
from pydisent.train.log import LOG_NAME, JsonlLog, Progress, TensorBoard, read_log
from pydisent.train.schedules import as_schedule, make_schedule

CONFIG_NAME = "config.json"
SUMMARY_NAME = "summary.json"
RUN_FORMAT = "pydisent-run"
RUN_FORMAT_VERSION = 1
PRECISIONS = ("fp32", "bf16", "fp16")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or infinite: ``step``, ``term`` and ``checkpoint`` (the last good state)."""

    def __init__(self, step: int, term: str, value: float, checkpoint: str | None):
        self.step, self.term, self.value, self.checkpoint = step, term, value, checkpoint
        where = (f"resume from {checkpoint} (e.g. with a lower learning rate)" if checkpoint
                 else "no checkpoint was written")
        super().__init__(f"loss term {term!r} is {value} at step {step}; training stopped; {where}")


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT/SIGTERM during training: the last checkpoint was written (``step``, ``checkpoint``)."""

    def __init__(self, step: int, checkpoint: str | None, signum: int):
        self.step, self.checkpoint, self.signum = step, checkpoint, signum
        super().__init__(f"interrupted by {signal.Signals(signum).name} at step {step}; checkpoint {checkpoint}")


@dataclass
class Run:
    """What :func:`train` returns (and :func:`load_run` reads back)."""

    objective: torch.nn.Module
    config: dict
    step: int
    out: Path | None = None
    checkpoint: str | None = None
    status: str = "finished"
    records: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def model(self):
        return self.objective.model

    def representation(self):
        return self.objective.representation()

    def generator(self):
        return self.objective.generator()


# -- seeds ---------------------------------------------------------------------------------------
def _seed_int(seed, *key) -> int:
    return int(np.random.SeedSequence(int(seed), spawn_key=tuple(key)).generate_state(2, np.uint64)[0] >> 1)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"argument 'seed' must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"argument 'seed' must be >= 0, got {seed}")
    return int(seed)


# -- argument checks -----------------------------------------------------------------------------
def _pos_int(v, name, minimum=1, allow_none=False):
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"argument '{name}' must be an int, got {type(v).__name__}")
    if v < minimum:
        raise ValueError(f"argument '{name}' must be >= {minimum}, got {v}")
    return int(v)


def _device(device) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"argument 'device' must be a torch device such as 'cpu' or 'cuda', got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("argument 'device' is 'cuda' but CUDA is not available here")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"argument 'device' must be 'cpu' or 'cuda', got {device!r}")
    return dev


def _make_dataset(name: str, options: dict, device: torch.device):
    from pydisent.data import make_dataset
    from pydisent.data.registry import ALIASES, DATASETS

    key = name.lower().replace("-", "_")
    if key not in DATASETS and key not in ALIASES:
        raise ValueError(f"argument 'dataset': unknown {name!r}; known: {sorted(DATASETS)} "
                         f"(aliases: {sorted(ALIASES)})")
    opts = dict(options)
    cls = DATASETS[key] if key in DATASETS else DATASETS[ALIASES[key][0]]
    import inspect

    # render on the training device where the dataset can (procedural datasets draw on the GPU)
    if device.type == "cuda" and "device" in inspect.signature(cls.__init__).parameters:
        opts.setdefault("device", str(device))
    try:
        return make_dataset(name, **opts)
    except TypeError as e:
        raise ValueError(f"argument 'dataset_options' for {name!r}: {e}") from None


def _optimizer(name: str, params, opts: dict) -> torch.optim.Optimizer:
    opts = dict(opts)
    lr = float(opts.pop("lr"))
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, **opts)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, **opts)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, **opts)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, **opts)
    raise ValueError(f"argument 'optimizer': unknown {name!r}; known: {list(OPTIMIZERS)}")


def _optimizer_options(spec: dict) -> tuple[str, dict]:
    spec = dict(spec)
    name = spec.pop("optimizer", "adam")
    if name not in OPTIMIZERS:
        raise ValueError(f"argument 'optimizer': unknown {name!r}; known: {list(OPTIMIZERS)}")
    keep = {"adam": ("lr", "betas", "eps", "weight_decay"), "adamw": ("lr", "betas", "eps", "weight_decay"),
            "sgd": ("lr", "momentum", "weight_decay", "nesterov"), "rmsprop": ("lr", "alpha", "eps", "momentum",
                                                                             "weight_decay")}[name]
    unknown = sorted(set(spec) - set(keep) - {"batch_size", "latent_dim", "steps"})
    if unknown:
        raise ValueError(f"argument 'optimizer': unknown option(s) {unknown} for {name!r}; known: {list(keep)}")
    out = {k: (tuple(v) if isinstance(v, list) else v) for k, v in spec.items() if k in keep}
    return name, out


MEMORY_FORMATS = ("auto", "contiguous", "channels_last")
# hyperparameters that default to the run's length when the user leaves them unset
RUN_LENGTH_HPARAMS = ("share_scale_steps",)


def _use_channels_last(fmt: str, obj, obs_shape) -> bool:
    if fmt == "contiguous" or len(obs_shape) != 3:
        return False
    has_conv = any(isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)) for m in obj.modules())
    return has_conv if fmt == "auto" else True


def _key(name: str) -> str:
    return name.lower().replace("-", "_")


def _jsonable(d: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}


# -- signals -------------------------------------------------------------------------------------
class _StopFlag:
    """SIGINT/SIGTERM set a flag the loop reads after each step (a second SIGINT interrupts at once)."""

    def __init__(self, enabled: bool):
        self.signum: int | None = None
        self._old = {}
        self.enabled = enabled and threading.current_thread() is threading.main_thread()

    def _handler(self, signum, frame):
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum

    def __enter__(self):
        if self.enabled:
            for s in (signal.SIGINT, signal.SIGTERM):
                self._old[s] = signal.signal(s, self._handler)
        return self

    def __exit__(self, *exc):
        for s, h in self._old.items():
            signal.signal(s, h)
        return False


# -- the run -------------------------------------------------------------------------------------
def train(objective, dataset, *, steps: int | None = None, batch_size: int | None = None, device="cpu",
          seed: int = 0, out=None, hparams: dict | None = None, latent_dim: int | None = None,
          architecture: str | None = None, arch_options: dict | None = None, dataset_options: dict | None = None,
          optimizer: dict | None = None, schedules: dict | None = None, sampler: dict | None = None,
          rng: np.random.Generator | None = None, generator: torch.Generator | None = None,
          log_every: int = 50, checkpoint_every: int | None = 1000, keep_checkpoints: int | None = 3,
          precision: str = "fp32", compile: bool = False, grad_clip: float | None = None, quiet: bool = False,
          tensorboard: bool | None = None, resume=None, handle_signals: bool = True, data_shards: int | None = None,
          memory_format: str = "auto", prefetch: int = 2) -> Run:
    """Train ``objective`` on ``dataset``; write the run folder ``out`` (config, log, checkpoints).

    Args:
        objective: a name of ``pydisent.models.OBJECTIVES`` (``pydisent objectives`` lists them) or an
            ``Objective`` instance (its model included; a user model is trained as given).
        dataset: a name of ``pydisent.data.DATASETS`` or a ground-truth dataset instance.
        steps: optimisation steps in all (default: the objective's ``training_defaults['steps']``,
            disentanglement_lib's 300,000). On resume, the total to reach.
        batch_size: per process (default the objective's, 64); with ``W`` ranks the global batch is ``W x``.
        device: ``"cpu"``, ``"cuda"`` (``cuda:LOCAL_RANK`` under torchrun).
        seed: the one seed everything is derived from (see the module docstring).
        out: the run folder (created; ``None``: nothing written, no checkpoints).
        hparams: the objective's hyperparameters (``OBJECTIVES[name].defaults``), when given by name.
        latent_dim, architecture, arch_options: the model, when the objective is given by name.
        dataset_options: keyword arguments of the dataset, when given by name (``grid_spacing=4``).
        optimizer: ``{"optimizer": "adam", "lr": ..., "betas": ..., "eps": ..., "weight_decay": ...}``
            over the objective's ``training_defaults`` (Adam 1e-4, (0.9, 0.999), 1e-8).
        schedules: ``{name: schedule}``, ``name`` a schedulable hyperparameter of the objective or
            ``"lr"``; a schedule is a :class:`~pydisent.train.schedules.Schedule`, a string
            (``"linear(0, 4, 10000)"``) or a dict.
        sampler: options of the pair/triplet sampler over the objective's ``sampler_defaults``.
        rng, generator: a NumPy ``Generator`` for the data and a ``torch.Generator`` (on ``device``)
            for the step's noise, instead of the ones derived from ``seed``.
        log_every: steps per log record (terms averaged over them).
        checkpoint_every: steps between checkpoints (``None``: only the last); ``keep_checkpoints``
            newest are kept (``None``: all).
        precision: ``"fp32"``, ``"bf16"`` (autocast) or ``"fp16"`` (autocast + GradScaler, CUDA only).
        compile: ``torch.compile`` the encoder and decoder.
        memory_format: ``"auto"`` (channels-last for image observations and a model with 2-D
            convolutions: the same function, faster oneDNN/cuDNN kernels), ``"channels_last"`` or
            ``"contiguous"``.
        grad_clip: clip the global gradient norm of the main parameters (None: no clipping).
        quiet: no progress bar.
        tensorboard: write TensorBoard scalars to ``out/tensorboard`` (None: when installed).
        resume: ``True`` (the newest checkpoint of ``out``), a checkpoint file or a run folder; the
            checkpoint's config is used and ``steps`` may extend the run.
        handle_signals: on SIGINT/SIGTERM write a checkpoint and raise :class:`TrainingInterrupted`.
        prefetch: batches drawn and rendered ahead in a background thread on the CPU (0: none); the
            data and the results are the same either way.
        data_shards: data shards drawn by this process, each ``batch_size / data_shards`` rows from its own
            generator (default: 1; a one-process run with ``W`` shards and batch ``W * b`` sees the data of
            a ``W``-rank run with batch ``b``).

    Returns:
        a :class:`Run` (``objective``, ``config``, ``step``, ``out``, ``checkpoint``, ``records``).

    Raises:
        NonFiniteLossError: a loss term became NaN/inf (the message names the step, the term and the
            checkpoint to resume from).
        TrainingInterrupted: SIGINT/SIGTERM (after writing a checkpoint).
        CheckpointError: ``resume`` names a checkpoint of another version or objective.
    """
    from pydisent.models.objectives import Objective, make_objective, make_objective_from_config, objective_class

    t_start = time.perf_counter()
    dev = _device(device)
    ctx, dev = dd.setup(dev)
    sources: list = []  # what to close however the run ends
    try:
        # -- resume: the checkpoint's config is the run's ------------------------------------------
        state = None
        out_path = None if out is None else Path(out)
        if resume is not None and resume is not False:
            if resume is True:
                if out_path is None:
                    raise ValueError("argument 'resume'=True needs 'out' (the run folder to resume)")
                where = out_path
            else:
                where = Path(resume)
            want = objective if isinstance(objective, str) else getattr(objective, "name", None)
            state = ck.load_checkpoint(where, objective=want, map_location=dev)
            if out_path is None:
                out_path = Path(state["path"]).parent.parent
        if out_path is not None and ctx.is_main:
            from pydisent._io import check_output_path

            out_path.mkdir(parents=True, exist_ok=True)
            check_output_path(out_path / CONFIG_NAME, name="out")

        if state is not None:
            cfg = state["config"]
            if steps is not None:
                cfg["steps"] = _pos_int(steps, "steps")
            if isinstance(dataset, str) and _key(dataset) != _key(cfg["dataset"]):
                raise ck.CheckpointError(f"the checkpoint is of a run on dataset {cfg['dataset']!r}, not {dataset!r}")
        else:
            cfg = _new_config(objective, dataset, steps=steps, batch_size=batch_size, seed=seed, hparams=hparams,
                              latent_dim=latent_dim, architecture=architecture, arch_options=arch_options,
                              dataset_options=dataset_options, optimizer=optimizer, schedules=schedules,
                              sampler=sampler, log_every=log_every, checkpoint_every=checkpoint_every,
                              keep_checkpoints=keep_checkpoints, precision=precision, compile=compile,
                              grad_clip=grad_clip, device=dev, world_size=ctx.world_size, data_shards=data_shards,
                              handed_in=(rng is not None, generator is not None), memory_format=memory_format)
        seed_ = cfg["seed"]

        # -- the dataset ------------------------------------------------------------------------
        ds = _make_dataset(cfg["dataset"], cfg["dataset_options"], dev) if isinstance(dataset, (str, type(None))) \
            else dataset
        obs_shape = tuple(ds.observation_shape)

        # -- the objective (initial weights from the seed's first stream) --------------------------
        init_seed = None if seed_ is None else _seed_int(seed_, 0)
        if isinstance(objective, Objective):
            obj = objective.to(dev)
        elif state is not None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)  # weights come from the checkpoint
                obj = make_objective_from_config(cfg["objective_config"]).to(dev)
        else:
            b = cfg.pop("_build")
            cls0 = objective_class(cfg["objective"])
            for k in getattr(cls0, "dataset_hparams", ()):  # e.g. beta-TCVAE's N in log(N M)
                b["hparams"].setdefault(k, int(ds.factor_space.size))
            for k in RUN_LENGTH_HPARAMS:  # ramps over "the whole run" (msc-research's share scale 1.0 -> 0.5)
                if k in cls0.defaults:
                    b["hparams"].setdefault(k, int(cfg["steps"]))
            with torch.random.fork_rng(devices=[]):
                if init_seed is not None:
                    torch.manual_seed(init_seed)
                obj = make_objective(cfg["objective"], obs_shape, latent_dim=b["latent_dim"],
                                     architecture=b["architecture"], arch_options=b["arch_options"],
                                     **b["hparams"]).to(dev)
        if tuple(obj.observation_shape) != obs_shape:
            raise ValueError(f"argument 'objective': its model takes observations {tuple(obj.observation_shape)}, "
                             f"the dataset {cfg['dataset']!r} gives {obs_shape}")
        if state is None:
            oc = obj.config()
            cfg.update(objective_config=oc, hparams=oc.get("hparams"), model=oc.get("model"),
                       observation_shape=list(obs_shape), latent_dim=obj.latent_dim)
        cls = type(obj)
        channels_last = _use_channels_last(cfg.get("memory_format", "contiguous"), obj, obs_shape)
        if channels_last:
            # the same maths in NHWC order: oneDNN's convolutions skip their layout reorders (1.3x a step
            # of the conv64 VAE on the CPU); parameters keep their identity and state_dict values
            obj.to(memory_format=torch.channels_last)

        # -- optimisers -------------------------------------------------------------------------
        opt_name, opt_opts = _optimizer_options(cfg["optimizer"])
        opt = _optimizer(opt_name, obj.main_parameters(), opt_opts)
        aux_params = list(obj.aux_parameters())
        aux_opt = None
        if aux_params:
            a_name, a_opts = _optimizer_options({**cls.training_defaults, **{"optimizer": "adam"},
                                                 **dict(getattr(cls, "aux_optimizer_defaults", {}) or {})})
            aux_opt = _optimizer(a_name, aux_params, a_opts)
        prec = cfg["precision"]
        scaler = torch.amp.GradScaler("cuda") if prec == "fp16" else None
        amp_dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[prec]

        # -- data and noise ---------------------------------------------------------------------
        shards = cfg["data_shards"]
        if rng is not None:
            if not isinstance(rng, np.random.Generator):
                raise TypeError(f"argument 'rng' must be a numpy.random.Generator, got {type(rng).__name__}")
            rngs = [rng] if shards == 1 else list(rng.spawn(shards))
        else:
            if seed_ is None:
                raise ValueError("this run was started with handed-in generators: pass rng= and generator= to resume")
            first = ctx.rank * shards
            rngs = [data_generator(seed_, first + i) for i in range(shards)]
        source = BatchSource(ds, cls.batch_kind, cfg["batch_size"] // shards, rngs, dev, cfg["sampler"],
                             channels_last=channels_last)
        if generator is not None:
            if not isinstance(generator, torch.Generator):
                raise TypeError(f"argument 'generator' must be a torch.Generator, got {type(generator).__name__}")
            if generator.device.type != dev.type:
                raise ValueError(f"argument 'generator' is on {generator.device}, training runs on {dev}")
            gen = generator
        else:
            gen = torch.Generator(dev).manual_seed(_seed_int(seed_, 2, ctx.rank))

        scheds = {k: make_schedule(v) for k, v in cfg["schedules"].items()}

        # -- restore ----------------------------------------------------------------------------
        start = 0
        loop_state = {"data_wait_s": 0.0, "wall_s": 0.0}
        if state is not None:
            obj.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizers"]["main"])
            if aux_opt is not None:
                aux_opt.load_state_dict(state["optimizers"]["aux"])
            if scaler is not None and state.get("scaler") is not None:
                scaler.load_state_dict(state["scaler"])
            if len(state["rng"]) != ctx.world_size:
                raise ck.CheckpointError(f"the checkpoint was written by a run of {len(state['rng'])} process(es); "
                                         f"resume it with as many (this run has {ctx.world_size})")
            rank_rng = state["rng"][ctx.rank]
            gen.set_state(rank_rng["torch"].cpu())  # generator states are CPU byte tensors, whatever map_location
            source.load_state_dict(rank_rng["data"])
            start = int(state["step"])
            loop_state.update(state.get("loop", {}))
        elif ctx.enabled:
            dd.broadcast_parameters(obj, ctx)

        if cfg["compile"]:
            obj.model.encoder.compile()
            obj.model.decoder.compile()

        total_steps = cfg["steps"]
        if out_path is not None and ctx.is_main:
            from pydisent._io import write_json

            write_json(out_path / CONFIG_NAME, cfg, name="out")
        main = ctx.is_main and out_path is not None
        log = JsonlLog(out_path / LOG_NAME, resume_step=start if state is not None else None) if main else None
        if log is not None:
            sources.append(log)
        tb = None
        if main and tensorboard is not False:
            tb = TensorBoard(out_path / "tensorboard", required=tensorboard is True)
        bar = Progress(total_steps, start, quiet=quiet or not ctx.is_main, desc=f"train {cfg['objective']}")
        sources.append(bar)
        if tb is not None:
            sources.append(tb)

        def gather_rng_states(mine=None):
            mine = mine or {"torch": gen.get_state(), "data": source.state_dict()}
            if not ctx.enabled:
                return [mine]
            allst = [None] * ctx.world_size
            torch.distributed.all_gather_object(allst, mine)
            return allst

        def save(step_done: int, rng_state=None) -> str | None:
            states = gather_rng_states(rng_state)
            if not main:
                return None
            st = {"objective": cfg["objective"], "step": step_done, "config": cfg, "model": obj.state_dict(),
                  "optimizers": {"main": opt.state_dict(), **({"aux": aux_opt.state_dict()} if aux_opt else {})},
                  "scaler": scaler.state_dict() if scaler is not None else None, "rng": states,
                  "loop": {"data_wait_s": loop_state["data_wait_s"] + source.wait_s,
                           "wall_s": loop_state["wall_s"] + time.perf_counter() - t_start}}
            p = ck.save_checkpoint(ck.checkpoint_path(out_path, step_done), st)
            ck.prune_checkpoints(out_path, cfg["keep_checkpoints"])
            return str(p)

        records: list[dict] = []
        names: list[str] | None = None
        aux_names: list[str] | None = None  # the auxiliary network's terms, logged as aux/<name>
        acc = aux_acc = None
        n_acc = 0
        t_int, wait_int = time.perf_counter(), source.wait_s
        last_ckpt = state["path"] if state is not None else None
        step = start
        status = "finished"
        stop_any = False
        autocast = (torch.autocast(dev.type, dtype=amp_dtype) if amp_dtype is not None
                    else contextlib.nullcontext())
        main_params = obj.main_parameters()
        obj.train()
        if dev.type == "cpu":
            prefetch = _pos_int(prefetch, "prefetch", minimum=0)
            source.start_prefetch(prefetch)
        sources.append(source)
        with _StopFlag(handle_signals) as stop:
            while step < total_steps:
                for k, sch in scheds.items():
                    v = sch(step)
                    if k == "lr":
                        for g in opt.param_groups:
                            g["lr"] = v
                    else:
                        setattr(obj, k, v)
                # the generators' states before this step: a divergence checkpoints the step's start
                pre = {"torch": gen.get_state(), "data": source.state_dict()}
                batch = source.next()
                views = batch.views[0] if len(batch.views) == 1 else batch.views
                with autocast:
                    lo = obj.loss(views, step, gen)
                if names is None:
                    names = list(lo.terms)
                    if "loss" not in lo.terms:
                        names = ["loss"] + names
                vals = torch.stack([(lo.total if n == "loss" and "loss" not in lo.terms else lo.terms[n]).detach()
                                    .float().reshape(()) for n in names])
                bad = not bool(torch.isfinite(vals).all())
                # one agreement per step (one all-reduce under torchrun): did any rank diverge or get a signal?
                bad_any, stop_any = dd.flags_over_ranks((bad, stop.signum is not None), ctx, dev)
                if bad_any:
                    ok = all(bool(torch.isfinite(p).all()) for p in obj.parameters())
                    path = save(step, pre) if ok else last_ckpt
                    if bad:
                        i = int((~torch.isfinite(vals)).nonzero()[0, 0])
                        term, value = names[i], float(vals[i])
                    else:
                        term, value = "(on another rank)", float("nan")
                    _finish(main, out_path, cfg, step, "diverged", path, records, loop_state, source, t_start)
                    raise NonFiniteLossError(step, term, value, path)
                opt.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(lo.total).backward()
                else:
                    lo.total.backward()
                dd.average_gradients(main_params, ctx)
                if grad_clip := cfg["grad_clip"]:
                    if scaler is not None:
                        scaler.unscale_(opt)
                    torch.nn.utils.clip_grad_norm_(main_params, grad_clip)
                if scaler is not None:
                    scaler.step(opt)
                    scaler.update()
                else:
                    opt.step()
                if aux_opt is not None:
                    with autocast:
                        aux = obj.aux_loss(views, step, gen)
                    if aux is not None:
                        aux_opt.zero_grad(set_to_none=True)
                        aux.total.backward()
                        dd.average_gradients(aux_params, ctx)
                        aux_opt.step()
                        if aux_names is None:
                            aux_names = list(aux.terms)
                        avals = torch.stack([aux.terms[n].detach().float().reshape(()) for n in aux_names])
                        aux_acc = avals if aux_acc is None else aux_acc + avals
                step += 1
                acc = vals if acc is None else acc + vals
                n_acc += 1
                bar.update()
                if step % cfg["log_every"] == 0 or step == total_steps:
                    means = dd.mean_over_ranks(acc / n_acc, ctx).tolist()
                    now = time.perf_counter()
                    rec = {"step": step, "time": round(loop_state["wall_s"] + now - t_start, 4)}
                    rec.update({n: float(v) for n, v in zip(names, means)})
                    if aux_acc is not None:
                        am = dd.mean_over_ranks(aux_acc / n_acc, ctx).tolist()
                        rec.update({f"aux/{n}": float(v) for n, v in zip(aux_names, am)})
                    rec["lr"] = opt.param_groups[0]["lr"]
                    for k in scheds:
                        if k != "lr":
                            rec[f"param/{k}"] = float(getattr(obj, k))
                    rec["data_wait"] = (source.wait_s - wait_int) / max(now - t_int, 1e-12)
                    rec["steps_per_s"] = n_acc / max(now - t_int, 1e-12)
                    records.append(rec)
                    if log is not None:
                        log.write(rec)
                    if tb is not None:
                        tb.write(rec)
                    bar.show(rec)
                    acc, aux_acc, n_acc, t_int, wait_int = None, None, 0, now, source.wait_s
                if stop_any:  # a signal: this step is complete; checkpoint the state after it and stop
                    path = save(step)
                    _finish(main, out_path, cfg, step, "interrupted", path, records, loop_state, source, t_start)
                    raise TrainingInterrupted(step, path, stop.signum or signal.SIGTERM)
                if cfg["checkpoint_every"] and step % cfg["checkpoint_every"] == 0 and step < total_steps:
                    last_ckpt = save(step) or last_ckpt
        if out_path is not None:
            last_ckpt = save(step) or last_ckpt
        summary = _finish(main, out_path, cfg, step, status, last_ckpt, records, loop_state, source, t_start)
        obj.eval()
        return Run(obj, cfg, step, out_path, last_ckpt, status, records, summary)
    finally:
        for closable in sources:  # the data thread, the log, the bar, TensorBoard
            closable.close()
        dd.teardown(ctx)


def _finish(main, out_path, cfg, step, status, checkpoint, records, loop_state, source, t_start) -> dict:
    wall = loop_state["wall_s"] + time.perf_counter() - t_start
    wait = loop_state["data_wait_s"] + source.wait_s
    summary = {"status": status, "step": step, "steps": cfg["steps"], "checkpoint": checkpoint,
               "wall_s": wall, "data_wait_s": wait, "data_wait_fraction": wait / wall if wall > 0 else None,
               "last": records[-1] if records else None}
    if main:
        from pydisent._io import write_json

        write_json(out_path / SUMMARY_NAME, summary, name="out")
    return summary


def _new_config(objective, dataset, *, steps, batch_size, seed, hparams, latent_dim, architecture, arch_options,
                dataset_options, optimizer, schedules, sampler, log_every, checkpoint_every, keep_checkpoints,
                precision, compile, grad_clip, device, world_size, data_shards, handed_in, memory_format) -> dict:
    """The run's JSON config: everything a resume or a report needs, validated here (before any work)."""
    from pydisent import __version__
    from pydisent.models.objectives import Objective, objective_class

    if isinstance(objective, str):
        cls = objective_class(objective)
        obj_cfg = None
    elif isinstance(objective, Objective):
        cls = type(objective)
        if hparams or latent_dim is not None or architecture is not None or arch_options:
            raise ValueError("arguments 'hparams', 'latent_dim', 'architecture', 'arch_options' apply to an "
                             "objective given by name, not to an Objective instance")
        obj_cfg = objective.config()
    else:
        raise TypeError(f"argument 'objective' must be an objective name or an Objective, "
                        f"got {type(objective).__name__}")
    td = dict(cls.training_defaults)
    if isinstance(dataset, str):
        ds_name, ds_opts = dataset, dict(dataset_options or {})
    else:
        if not hasattr(dataset, "factor_space") or not hasattr(dataset, "observations"):
            raise TypeError(f"argument 'dataset' must be a dataset name or a ground-truth dataset, "
                            f"got {type(dataset).__name__}")
        if dataset_options:
            raise ValueError("argument 'dataset_options' applies to a dataset given by name")
        ds_name, ds_opts = getattr(dataset, "name", type(dataset).__name__), None
    seed = _check_seed(seed)
    steps = _pos_int(td.get("steps", 300_000) if steps is None else steps, "steps")
    batch_size = _pos_int(td.get("batch_size", 64) if batch_size is None else batch_size, "batch_size")
    log_every = _pos_int(log_every, "log_every")
    checkpoint_every = _pos_int(checkpoint_every, "checkpoint_every", allow_none=True)
    keep_checkpoints = _pos_int(keep_checkpoints, "keep_checkpoints", allow_none=True)
    data_shards = _pos_int(1 if data_shards is None else data_shards, "data_shards")
    if batch_size % data_shards:
        raise ValueError(f"argument 'data_shards' ({data_shards}) must divide 'batch_size' ({batch_size})")
    if memory_format not in MEMORY_FORMATS:
        raise ValueError(f"argument 'memory_format' must be one of {MEMORY_FORMATS}, got {memory_format!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"argument 'precision' must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("argument 'precision'='fp16' needs device 'cuda' (GradScaler); "
                         "use 'bf16' or 'fp32' on the CPU")
    if grad_clip is not None:
        if isinstance(grad_clip, bool) or not isinstance(grad_clip, (int, float)) or not grad_clip > 0:
            raise ValueError(f"argument 'grad_clip' must be a positive number or None, got {grad_clip!r}")
        grad_clip = float(grad_clip)
    if optimizer is not None and not isinstance(optimizer, dict):
        raise TypeError(f"argument 'optimizer' must be a dict of options, got {type(optimizer).__name__}")
    opt = {k: v for k, v in td.items() if k in ("optimizer", "lr", "betas", "eps", "weight_decay")}
    opt.update(optimizer or {})
    _optimizer_options(opt)  # validate
    if schedules is not None and not isinstance(schedules, dict):
        raise TypeError(f"argument 'schedules' must be a dict name -> schedule, got {type(schedules).__name__}")
    if obj_cfg is None:
        if hparams is not None and not isinstance(hparams, dict):
            raise TypeError(f"argument 'hparams' must be a dict, got {type(hparams).__name__}")
        allowed = {**cls.common_defaults, **cls.defaults}
        unknown = sorted(set(hparams or {}) - set(allowed))
        if unknown:
            raise ValueError(f"argument 'hparams': objective {cls.name!r} has no hyperparameter(s) {unknown}; "
                             f"known: {sorted(allowed)}")
    schedulable = set(cls.schedulable_names()) if hasattr(cls, "schedulable_names") else {
        k for k, v in {**cls.common_defaults, **cls.defaults}.items() if isinstance(v, float)}
    sch = {}
    for k, v in (schedules or {}).items():
        if k != "lr" and k not in schedulable:
            raise ValueError(f"argument 'schedules': {k!r} is not a schedulable hyperparameter of {cls.name!r}; "
                             f"schedulable: {sorted(schedulable) + ['lr']}")
        try:
            sch[k] = as_schedule(v).to_dict()
        except (TypeError, ValueError) as e:
            raise type(e)(f"argument 'schedules' ({k}): {e}") from None
    if sampler is not None and not isinstance(sampler, dict):
        raise TypeError(f"argument 'sampler' must be a dict of options, got {type(sampler).__name__}")
    samp = {**dict(getattr(cls, "sampler_defaults", {}) or {}), **(sampler or {})}
    if cls.batch_kind == "single" and sampler:
        raise ValueError(f"argument 'sampler': objective {cls.name!r} takes single observations (no sampler options)")
    cfg = {
        "format": RUN_FORMAT, "format_version": RUN_FORMAT_VERSION, "pydisent_version": __version__,
        "objective": cls.name, "hparams": None, "model": None, "objective_config": obj_cfg,
        "dataset": ds_name, "dataset_options": ds_opts,
        "steps": steps, "batch_size": batch_size, "world_size": world_size, "data_shards": data_shards,
        "global_batch_size": batch_size * world_size, "seed": None if all(handed_in) else seed,
        "handed_in_generators": {"rng": handed_in[0], "generator": handed_in[1]},
        "device": str(device), "precision": precision, "compile": bool(compile), "grad_clip": grad_clip,
        "memory_format": memory_format,
        "optimizer": _jsonable(opt), "schedules": sch, "sampler": _jsonable(samp), "batch_kind": cls.batch_kind,
        "log_every": log_every, "checkpoint_every": checkpoint_every, "keep_checkpoints": keep_checkpoints,
    }
    if obj_cfg is None:
        # the objective is built on the dataset's observation shape; its config is filled in then
        cfg["_build"] = {"hparams": dict(hparams or {}), "latent_dim": latent_dim, "architecture": architecture,
                         "arch_options": dict(arch_options or {})}
    return cfg


def load_run(run_dir, checkpoint=None, *, device="cpu", objective=None) -> Run:
    """A trained run back from its folder: the objective with the weights of ``checkpoint`` (default the
    newest), its config, log records and summary. ``run.representation()`` / ``run.generator()`` give the
    views the metrics score. For a run on user modules pass ``objective`` (an Objective on the same
    modules) to receive the weights."""
    from pydisent.models.objectives import make_objective_from_config

    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_NAME).is_file():
        raise FileNotFoundError(f"argument 'run_dir': {str(run_dir)!r} is not a run folder (no {CONFIG_NAME})")
    dev = _device(device)
    state = ck.load_checkpoint(checkpoint if checkpoint is not None else run_dir, map_location=dev)
    cfg = state["config"]
    if objective is None:
        with torch.random.fork_rng(devices=[]):
            objective = make_objective_from_config(cfg["objective_config"])
    objective = objective.to(dev)
    objective.load_state_dict(state["model"])
    objective.eval()
    records = read_log(run_dir) if (run_dir / LOG_NAME).is_file() else []
    summary = {}
    if (run_dir / SUMMARY_NAME).is_file():
        import json

        summary = json.loads((run_dir / SUMMARY_NAME).read_text())
    return Run(objective, cfg, int(state["step"]), run_dir, state["path"], summary.get("status", "unknown"),
               records, summary)
