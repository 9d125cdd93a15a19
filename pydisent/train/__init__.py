"""Training: ``pydisent.train.train(objective, dataset, steps=..., out=...)`` and what it is made of.

* :mod:`~pydisent.train.loop`: :func:`train`, :func:`load_run`, :class:`Run`, the NaN guard
  (:class:`NonFiniteLossError`) and the signal checkpoint (:class:`TrainingInterrupted`);
* :mod:`~pydisent.train.data`: the seeded on-the-fly batch source (single observations, pairs, triplets);
* :mod:`~pydisent.train.schedules`: linear, cosine, cyclic, step schedules of any hyperparameter;
* :mod:`~pydisent.train.checkpoint`: atomic, ``weights_only``-loadable checkpoints that resume exactly;
* :mod:`~pydisent.train.log`: the JSON-lines log, the progress bar, TensorBoard;
* :mod:`~pydisent.train.distributed`: data parallelism over ``torch.distributed`` (torchrun).
"""

from pydisent.train.checkpoint import CheckpointError, latest_checkpoint, list_checkpoints, load_checkpoint
from pydisent.train.log import read_log
from pydisent.train.loop import NonFiniteLossError, Run, TrainingInterrupted, load_run, train
from pydisent.train.schedules import SCHEDULES, Constant, Cosine, Cyclic, Linear, Step, parse_schedule

__all__ = ["train", "load_run", "Run", "NonFiniteLossError", "TrainingInterrupted", "CheckpointError",
           "load_checkpoint", "latest_checkpoint", "list_checkpoints", "read_log", "SCHEDULES", "Constant",
           "Cosine", "Cyclic", "Linear", "Step", "parse_schedule"]


def _make_callable() -> None:
    # ``pydisent.train(...)`` is the function while ``pydisent.train`` is also this package: the module
    # object itself forwards calls to :func:`train` (attribute access is unchanged).
    import sys
    import types

    class _TrainModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return train(*args, **kwargs)

    sys.modules[__name__].__class__ = _TrainModule


_make_callable()
