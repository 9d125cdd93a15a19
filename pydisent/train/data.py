"""The training data path: factor batches drawn by a seeded NumPy generator, rendered on the fly.

A :class:`BatchSource` draws what an objective needs, one batch per step:

* ``"single"``: ``batch_size`` uniform factor vectors -> ``(x,)``;
* ``"pairs"``: weakly supervised pairs (Locatello et al. 2020): ``x2`` resamples ``k`` randomly
  chosen factors of ``x1`` (:meth:`FactorSpace.sample_pairs_differing`; ``k=-1`` draws ``k`` in
  ``1..F-1`` per pair, ``dlib_quirk`` reproduces disentanglement_lib's ``choice([1, k])``) -> ``(x1, x2)``;
* ``"triplets"``: (anchor, positive, negative) ordered by a factor distance, ``d(a, p) <= d(a, n)``
  (:meth:`FactorSpace.sample_triplets`, msc-research's ``GroundTruthDistSampler``) -> ``(a, p, n)``.

All views of a step are rendered in **one** ``dataset.observations`` call (the batched C++ or CUDA
renderer; for a procedural dataset built for ``device="cuda"`` the images are drawn on the GPU) and
split. The source's whole state is its generator's bit state and the number of batches drawn, so a
checkpoint resumes the exact data stream. Data parallelism: each rank draws its own shard of the
global batch from its own generator (``shard`` in the seed), so ranks see different data and a
one-process run built with ``shards=W`` sees exactly the union of what ``W`` ranks see.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
import torch

KINDS = ("single", "pairs", "triplets")


class Batch(NamedTuple):
    """One step's data: ``views`` (1, 2 or 3 tensors ``(B, *observation_shape)``) and their factors."""

    views: tuple
    factors: tuple


def data_generator(seed: int, shard: int = 0) -> np.random.Generator:
    """The data generator of ``shard`` for a run seeded ``seed`` (independent streams per shard)."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(1, int(shard))))


class BatchSource:
    """Draws and renders one batch per call of :meth:`next`.

    Args:
        dataset: a ``GroundTruthDataset`` (anything with ``factor_space`` and ``observations(factors)``).
        kind: ``"single"``, ``"pairs"`` or ``"triplets"``.
        batch_size: rows per view and per shard (a batch holds ``len(rngs) * batch_size`` rows).
        rngs: one ``numpy.random.Generator`` per shard drawn by this process (usually one).
        device: where the views must be (rendered there when the dataset can, else copied).
        options: keyword arguments of the pair sampler (``k``, default 1; ``force_different``,
            ``dlib_quirk``) or of the triplet sampler (``mode``, default ``"manhattan_scaled"``;
            ``swap_chance``).
        channels_last: give 4-D views in channels-last memory order (the trainer's ``memory_format``).
    """

    def __init__(self, dataset, kind: str, batch_size: int, rngs, device="cpu", options: dict | None = None,
                 channels_last: bool = False):
        if kind not in KINDS:
            raise ValueError(f"argument 'kind' must be one of {KINDS}, got {kind!r}")
        if not hasattr(dataset, "factor_space") or not hasattr(dataset, "observations"):
            raise TypeError(f"argument 'dataset' must be a ground-truth dataset (factor_space and observations()), "
                            f"got {type(dataset).__name__}")
        if isinstance(rngs, np.random.Generator):
            rngs = [rngs]
        if not rngs or not all(isinstance(r, np.random.Generator) for r in rngs):
            raise TypeError("argument 'rngs' must be a numpy.random.Generator or a non-empty list of them")
        self.dataset = dataset
        self.kind = kind
        self.batch_size = int(batch_size)
        self.rngs = list(rngs)
        self.device = torch.device(device)
        opts = dict(options or {})
        if kind == "single" and opts:
            raise ValueError(f"argument 'sampler': single observations take no sampler options, got {sorted(opts)}")
        if kind == "pairs":
            opts.setdefault("k", 1)
            allowed = {"k", "force_different", "dlib_quirk"}
        else:
            allowed = {"mode", "swap_chance"}
        if kind != "single" and set(opts) - allowed:
            raise ValueError(f"argument 'sampler': unknown option(s) {sorted(set(opts) - allowed)} for {kind}; "
                             f"known: {sorted(allowed)}")
        self.options = opts
        self.channels_last = bool(channels_last)
        self.position = 0  # batches drawn
        self.wait_s = 0.0  # time spent drawing and rendering (the data wait of the loop)
        self._factors(np.random.default_rng(0), 1)  # bad options fail now, not at the first step

    @property
    def num_views(self) -> int:
        return KINDS.index(self.kind) + 1

    def _factors(self, rng: np.random.Generator, n: int | None = None) -> tuple:
        fs, n = self.dataset.factor_space, self.batch_size if n is None else n
        if self.kind == "single":
            return (fs.sample_factors(n, rng),)
        if self.kind == "pairs":
            opts = dict(self.options)
            a, b, _ = fs.sample_pairs_differing(n, opts.pop("k"), rng, **opts)
            return a, b
        return fs.sample_triplets(n, rng, **self.options)

    def draw_factors(self) -> tuple:
        """The factors of the next batch: per view ``(shards * batch_size, F)`` (advances the generators)."""
        parts = [self._factors(r) for r in self.rngs]
        return tuple(np.concatenate([p[v] for p in parts]) for v in range(self.num_views))

    def render(self, factors: tuple) -> tuple:
        allf = np.concatenate(factors) if len(factors) > 1 else factors[0]
        x = self.dataset.observations(allf)
        if not isinstance(x, torch.Tensor):
            x = torch.as_tensor(np.asarray(x))
        if x.device != self.device:
            x = x.pin_memory().to(self.device, non_blocking=True) if self.device.type == "cuda" else x.to(self.device)
        if x.dtype != torch.float32 and not x.is_floating_point():
            raise TypeError(f"dataset observations must be floating point for training, got {x.dtype} "
                            f"(give the dataset a float transform, e.g. pydisent.data.to_float_chw)")
        views = tuple(x.split(len(factors[0]))) if len(factors) > 1 else (x,)
        if self.channels_last and x.dim() == 4:
            views = tuple(v.contiguous(memory_format=torch.channels_last) for v in views)
        return views

    def _produce(self) -> tuple:
        f = self.draw_factors()
        return self.render(f), f, [r.bit_generator.state for r in self.rngs]

    def next(self) -> Batch:
        """The next batch (from the prefetch thread when :meth:`start_prefetch` was called)."""
        t0 = time.perf_counter()
        if self._queue is None:
            views, f, after = self._produce()
        else:
            item = self._queue.get()
            if isinstance(item, BaseException):
                self.close()
                raise item
            views, f, after = item
        self._consumed = after
        self.position += 1
        self.wait_s += time.perf_counter() - t0
        return Batch(views, f)

    # -- prefetching ------------------------------------------------------------------------------
    _queue = None
    _thread = None
    _consumed = None

    def start_prefetch(self, depth: int = 2) -> None:
        """Draw and render the next ``depth`` batches in a background thread while the model trains (the
        renderers release the GIL). The batches and the checkpointed state are those of the plain loop:
        one producer draws them in order, and :meth:`state_dict` is the state after the last batch
        *consumed*. CPU datasets only (a CUDA renderer stays on the training thread's stream)."""
        import queue
        import threading

        if self._queue is not None or depth < 1:
            return
        self._consumed = [r.bit_generator.state for r in self.rngs]
        self._queue = q = queue.Queue(maxsize=int(depth))
        self._stop = stop = threading.Event()

        def work():
            while not stop.is_set():
                try:
                    item = self._produce()
                except BaseException as e:  # handed to the consumer, raised there
                    item = e
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if isinstance(item, BaseException):
                    return

        self._thread = threading.Thread(target=work, name="pydisent-data", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the prefetch thread (the generators then stand past the consumed batches: restore with
        :meth:`load_state_dict` before drawing again)."""
        if self._queue is None:
            return
        self._stop.set()
        self._thread.join(timeout=10)
        self._queue = self._thread = None

    # -- checkpointing ------------------------------------------------------------------------
    def state_dict(self) -> dict:
        gens = self._consumed if self._queue is not None else [r.bit_generator.state for r in self.rngs]
        return {"position": self.position, "bit_generators": [dict(g) for g in gens]}

    def load_state_dict(self, state: dict) -> None:
        if self._queue is not None:
            raise RuntimeError("load_state_dict while prefetching: call close() first")
        gens = state["bit_generators"]
        if len(gens) != len(self.rngs):
            raise ValueError(f"the checkpoint's data sampler has {len(gens)} shard(s), this run {len(self.rngs)}")
        for r, s in zip(self.rngs, gens):
            r.bit_generator.state = s
        self.position = int(state["position"])
