import torch

from pydisent.metrics import evaluate
from tests.metrics._data import FactorVectors

SIZES = [6, 9, 1, 7]  # one single-valued factor: skipped, as in disent


def axis_embedding(scales, extra=2):
    """Factor i -> latent i, scaled; `extra` dead dims."""
    s = torch.tensor(scales, dtype=torch.float32)
    return lambda x: torch.cat([x * s, torch.zeros(len(x), extra)], 1)


def run(metric, fn, repeats=64, seed=0, sizes=SIZES, **opts):
    options = {metric: dict(repeats=repeats, **opts)}
    return evaluate(fn, FactorVectors(sizes), metric, seed=seed, options=options)[metric]
