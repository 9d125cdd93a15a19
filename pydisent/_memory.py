"""Working-memory budgets: estimate first, refuse with a way out, never die in an allocator.

Kernels whose workspace grows faster than their input (a Rips filtration holds every edge, a distance
matrix every pair) call :func:`check_memory` with an estimate before allocating. Above the budget they
raise ``MemoryError`` stating the estimate, the budget and what to change (a threshold, fewer points,
``maxdim=0``, ``memory_budget=``), instead of a bare ``std::bad_alloc`` or the kernel's OOM kill.

The budget: the function's ``memory_budget`` argument (bytes, or a string such as ``"8G"``; ``inf``
or ``"off"`` disables the check), else the ``PYDISENT_MEMORY_BUDGET`` environment variable (same forms),
else 90% of what is available now: the least of ``MemAvailable`` (``/proc/meminfo``), the cgroup's
``memory.max - memory.current`` and the address-space limit (``RLIMIT_AS``) minus the process's current
size. Where none can be read (not Linux) there is no default limit.
"""

from __future__ import annotations

import math
import os
import re

__all__ = ["available_memory", "check_memory", "format_bytes", "resolve_budget"]

ENV_VAR = "PYDISENT_MEMORY_BUDGET"
_DEFAULT_FRACTION = 0.9
# Below this an estimate is never checked: reading /proc costs more than such an allocation risks.
_SMALL = 64 << 20
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30,
          "t": 1 << 40, "tb": 1 << 40}


def format_bytes(n: float) -> str:
    if not math.isfinite(n):
        return "unlimited"
    for unit, size in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def _read_int(path: str) -> int | None:
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_memory() -> int | None:
    """Bytes this process can still allocate (see the module docstring), or None where unknown."""
    import resource

    limits = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
                    break
    except OSError:
        pass
    cg_max, cg_cur = _read_int("/sys/fs/cgroup/memory.max"), _read_int("/sys/fs/cgroup/memory.current")
    if cg_max is not None and cg_cur is not None:
        limits.append(max(0, cg_max - cg_cur))
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        vm = 0
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmSize:"):
                        vm = int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
        limits.append(max(0, soft - vm))
    return min(limits) if limits else None


def _parse(value, name: str) -> float:
    if isinstance(value, bool):
        raise TypeError(f"argument '{name}' must be a number of bytes or a string such as '8G', got bool")
    if isinstance(value, (int, float)):
        if math.isnan(value) or value <= 0:
            raise ValueError(f"argument '{name}' must be a positive number of bytes, got {value}")
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("inf", "off", "none", "unlimited"):
            return math.inf
        m = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*([kmgt]?b?)", text)
        if m and float(m.group(1)) > 0:
            return float(m.group(1)) * _UNITS[m.group(2)]
        raise ValueError(f"argument '{name}' must be a number of bytes or a string such as '512M', '8G' or "
                         f"'off', got {value!r}")
    raise TypeError(f"argument '{name}' must be a number of bytes or a string such as '8G', "
                    f"got {type(value).__name__}")


def resolve_budget(memory_budget=None) -> tuple[float, str]:
    """``(bytes, where it came from)``; ``inf`` means no limit."""
    if memory_budget is not None:
        return _parse(memory_budget, "memory_budget"), "memory_budget"
    env = os.environ.get(ENV_VAR)
    if env:
        return _parse(env, ENV_VAR), ENV_VAR
    avail = available_memory()
    if avail is None:
        return math.inf, "no limit known"
    return _DEFAULT_FRACTION * avail, f"{int(_DEFAULT_FRACTION * 100)}% of the memory available now"


def check_memory(estimate: float, what: str, way_out: str, memory_budget=None) -> None:
    """Raise ``MemoryError`` when ``estimate`` bytes of working memory for ``what`` exceed the budget.

    ``way_out`` says what the caller can change; the message always adds ``memory_budget=`` and
    :data:`ENV_VAR`. An explicit ``memory_budget`` is validated even for small estimates.
    """
    if memory_budget is None and estimate < _SMALL:
        return
    budget, source = resolve_budget(memory_budget)
    if estimate > budget:
        raise MemoryError(f"{what} needs about {format_bytes(estimate)} of working memory, more than the budget of "
                          f"{format_bytes(budget)} ({source}); {way_out}, or raise the budget with "
                          f"memory_budget=... (bytes or e.g. '32G') or {ENV_VAR} if the memory is really there")
