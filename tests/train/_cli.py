"""Shared settings of the tests that run ``pydisent train`` (in process or as subprocesses)."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--set", "dataset.square_size=2", "--set", "dataset.image_size=8", "--set", "model.latent_dim=4",
        "--set", "model.hidden=[32]", "--quiet"]
B8 = ["--batch-size", "8"]


def subprocess_env():
    """The environment of a child ``pydisent`` process: this tree importable, one thread, no inherited rank."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    env.pop("RANK", None)
    env.pop("WORLD_SIZE", None)
    return env
