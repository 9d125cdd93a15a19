"""What a run reports while it trains: a JSON-lines log, a tqdm bar, TensorBoard when installed.

The log (``log.jsonl`` in the run folder) has one JSON object per logging step:
``{"step": s, "time": seconds since the run started, "<term>": value, ...}``, each term the mean
over the steps since the previous record (``loss`` is the total the optimiser minimised; the other
keys are the objective's terms, the scheduled hyperparameters' values ``param/<name>`` and the
learning rate ``lr``, an auxiliary network's terms ``aux/<name>`` (FactorVAE's ``aux/disc_loss``);
``steps_per_s``; ``data_wait`` is the fraction of the interval's wall time spent drawing and
rendering batches). Non-finite numbers are written as ``null`` (strict JSON). A resumed run appends:
records past the resumed step are dropped first, so the log reads as one run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pydisent._io import to_json

LOG_NAME = "log.jsonl"


def read_log(path) -> list[dict]:
    """The records of a ``log.jsonl`` (or of a run folder's log)."""
    p = Path(path)
    if p.is_dir():
        p = p / LOG_NAME
    with open(p) as f:
        return [json.loads(line) for line in f if line.strip()]


class JsonlLog:
    """Appends one JSON object per line; each line is flushed (a killed run keeps what it logged)."""

    def __init__(self, path, resume_step: int | None = None):
        self.path = Path(path)
        if resume_step is not None and self.path.exists():
            # keep what precedes the checkpoint; the resumed run re-logs the steps after it
            keep = [r for r in read_log(self.path) if r.get("step", -1) <= resume_step]
            from pydisent._io import atomic_write

            atomic_write(self.path, "".join(to_json(r, indent=None) for r in keep), name="log")
        elif resume_step is None and self.path.exists():
            self.path.unlink()
        self._f = open(self.path, "a")

    def write(self, record: dict) -> None:
        self._f.write(to_json(record, indent=None))
        self._f.flush()

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()


class TensorBoard:
    """``torch.utils.tensorboard.SummaryWriter`` when the ``tensorboard`` package is installed."""

    def __init__(self, log_dir, required: bool = False):
        self.writer = None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except Exception as e:  # tensorboard is optional
            if required:
                raise ImportError(f"argument 'tensorboard'=True needs the tensorboard package ({e}); "
                                  f"pip install tensorboard") from None
            return
        self.writer = SummaryWriter(log_dir=str(log_dir))

    def write(self, record: dict) -> None:
        if self.writer is None:
            return
        step = int(record["step"])
        for k, v in record.items():
            if k in ("step", "time") or not isinstance(v, (int, float)) or isinstance(v, bool):
                continue
            self.writer.add_scalar(k if "/" in k else f"train/{k}", v, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class Progress:
    """A tqdm bar (when tqdm is installed and not ``quiet``) showing the latest record's terms."""

    def __init__(self, total: int, initial: int = 0, quiet: bool = False, desc: str = "train"):
        self.bar = None
        if quiet:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=total, initial=initial, desc=desc, dynamic_ncols=True, file=sys.stderr,
                        disable=os.environ.get("PYDISENT_NO_PROGRESS") == "1")

    def update(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def show(self, record: dict) -> None:
        if self.bar is None:
            return
        shown = {k: v for k, v in record.items() if k not in ("step", "time", "lr", "data_wait", "steps_per_s")
                 and not k.startswith("param/") and isinstance(v, float)}
        self.bar.set_postfix({k: f"{v:.4g}" for k, v in list(shown.items())[:6]}, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
