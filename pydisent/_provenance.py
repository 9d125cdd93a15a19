"""Provenance: what produced a result, recorded the same way by benchmarks, metric results and checkpoints.

:func:`provenance` returns one JSON-serialisable dict::

    {"date": "2026-12-04T19:40:00+00:00",          # UTC, seconds
     "pydisent": "0.1.0",
     "commit": "83342c2+dirty" | None,              # the source tree's git commit, when it is a checkout
     "build": {...},                                # pydisent.build_info(): compiler, OpenMP, CUDA build/devices
     "versions": {"python": ..., "torch": ..., "numpy": ..., "scipy": ..., "scikit-learn": ..., <packages>},
     "machine": {"platform": ..., "machine": "x86_64", "cpu": "<model name>", "cpu_count": 2,
                 "omp_num_threads": "1" | None, "torch_threads": 2},
     "device": {"name": "cpu" | "cuda:0", "label": "<GPU name>" | "CPU: <model> x<count>",
                "cuda": "12.x" (CUDA devices only)}}
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata as _md
import os
import platform
import subprocess
from pathlib import Path

# always recorded; callers add their peers (e.g. the benchmarks' ripser, gudhi, disent)
CORE_PACKAGES = ("torch", "numpy", "scipy", "scikit-learn")


def _version(pkg: str) -> str | None:
    try:
        return _md.version(pkg)
    except _md.PackageNotFoundError:
        return None


def git_commit(path: str | os.PathLike | None = None) -> str | None:
    """The git commit (short hash, ``+dirty`` with uncommitted changes to tracked files) of the checkout
    whose top level is ``path`` (default: the folder holding the ``pydisent`` package); None elsewhere."""
    root = Path(path) if path is not None else Path(__file__).resolve().parent.parent
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel", "--short", "HEAD"], cwd=root,
                             capture_output=True, text=True, timeout=10)
        lines = top.stdout.split()
        if top.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != root.resolve():
            return None  # not a checkout, or pydisent installed inside some other repository
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return lines[1] + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(device=None, packages=()) -> dict:
    """Version, commit, build, package versions, machine, CPU, device and date, as one dict (see the module
    docstring for the keys).

    Args:
        device: the device the work ran on (``"cpu"``, ``"cuda"``, a ``torch.device``; default ``"cpu"``).
        packages: distribution names whose versions are recorded besides python, torch, numpy, scipy and
            scikit-learn (None for those not installed).
    """
    import torch

    import pydisent
    from pydisent._dispatch import build_info

    dev = str(device) if device is not None else "cpu"
    versions = {"python": platform.python_version()}
    versions.update({p: _version(p) for p in (*CORE_PACKAGES, *[p for p in packages if p not in CORE_PACKAGES])})
    cpu = cpu_model()
    info = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "pydisent": pydisent.__version__,
        "commit": git_commit(),
        "build": build_info(),
        "versions": versions,
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu": cpu,
            "cpu_count": os.cpu_count(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "torch_threads": torch.get_num_threads(),
        },
        "device": {"name": dev, "label": f"CPU: {cpu} x{os.cpu_count()}"},
    }
    if dev.startswith("cuda") and torch.cuda.is_available():
        info["device"]["label"] = torch.cuda.get_device_name(torch.device(dev))
        info["device"]["cuda"] = torch.version.cuda
    return info
