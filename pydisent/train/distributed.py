"""Data-parallel training with ``torch.distributed``: one process per device, launched by ``torchrun``.

``torchrun --nproc_per_node=G [--nnodes=N --node_rank=i --rdzv_endpoint=host:port] -m pydisent train ...``
sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``MASTER_ADDR``/``MASTER_PORT``; :func:`setup` reads them,
joins the process group (NCCL for CUDA, gloo for the CPU) and picks ``cuda:LOCAL_RANK``.

Every rank starts from the same weights (broadcast from rank 0), draws its own shard of the data
(its own seed, see :mod:`pydisent.train.data`), and averages gradients over the ranks after every
backward pass, before every optimiser step: exactly what ``DistributedDataParallel`` computes (the
gradient of the mean loss over the global batch). It is done here with one all-reduce per optimiser over
the flattened gradients, not by wrapping the model in ``DistributedDataParallel``, because objectives
call their encoder, decoder and (FactorVAE) discriminator directly and step several optimisers per
step, which DDP's forward-hook bookkeeping does not follow. Rank 0 alone writes checkpoints and logs;
the logged terms are the means over the ranks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class Context:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    initialised_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def env_world() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from the torchrun environment (``(0, 1, 0)`` without it)."""
    try:
        env = os.environ
        return int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0))
    except ValueError as e:
        raise ValueError(f"bad torchrun environment (RANK/WORLD_SIZE/LOCAL_RANK): {e}") from None


def setup(device: str | torch.device | None, backend: str | None = None) -> tuple[Context, torch.device]:
    """Join the process group when launched with ``WORLD_SIZE > 1`` (or use the existing one).

    Returns the context and the device this rank trains on (``cuda:LOCAL_RANK`` for a CUDA run)."""
    if dist.is_available() and dist.is_initialized():
        ctx = Context(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    else:
        rank, world, local = env_world()
        ctx = Context(rank, world, local)
        if world > 1:
            if not dist.is_available():
                raise RuntimeError("WORLD_SIZE > 1 but this torch has no torch.distributed")
            want_cuda = device is not None and torch.device(device).type == "cuda"
            backend = backend or ("nccl" if want_cuda else "gloo")
            if want_cuda:
                torch.cuda.set_device(local)
            dist.init_process_group(backend=backend, rank=rank, world_size=world)
            ctx.initialised_here = True
    dev = torch.device("cpu") if device is None else torch.device(device)
    if dev.type == "cuda" and dev.index is None and ctx.enabled:
        dev = torch.device("cuda", ctx.local_rank)
    return ctx, dev


def teardown(ctx: Context) -> None:
    if ctx.initialised_here and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_parameters(module: torch.nn.Module, ctx: Context) -> None:
    """Rank 0's parameters and buffers on every rank."""
    if not ctx.enabled:
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=0)


def average_gradients(params, ctx: Context) -> None:
    """Replace each gradient by its mean over the ranks (one all-reduce over the flattened gradients)."""
    if not ctx.enabled:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat.div_(ctx.world_size)
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset:offset + n].view_as(g))
        offset += n


def mean_over_ranks(values: torch.Tensor, ctx: Context) -> torch.Tensor:
    """The element-wise mean of ``values`` over the ranks (for the logged terms)."""
    if not ctx.enabled:
        return values
    values = values.clone()
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values / ctx.world_size


def flags_over_ranks(flags, ctx: Context, device) -> tuple[bool, ...]:
    """Each flag raised on any rank (a non-finite loss or a stop request stops every rank), in one all-reduce."""
    if not ctx.enabled:
        return tuple(bool(f) for f in flags)
    t = torch.tensor([1.0 if f else 0.0 for f in flags], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return tuple(bool(v > 0) for v in t.tolist())
