"""Side-by-side timing: pydisent and its peers measured in one process, one run.

A suite module ``benchmarks/bench_<name>.py`` defines ``cases(args) -> iterable of Case``. Each case
holds a callable per implementation (pydisent first, then peers); every callable is warmed up, then
timed ``repeats`` times, and the table reports the median, and the ratio peer / pydisent (> 1 means
pydisent is faster). Results are written as JSON (``machine``: :func:`pydisent.provenance`) to
``benchmarks/results/``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import statistics
import time
from collections.abc import Callable
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclasses.dataclass
class Case:
    """One benchmark row. ``impls`` maps an implementation name to a zero-argument callable; the
    first entry is the subject (pydisent), the rest are peers. ``sync`` is called after each run
    (``torch.cuda.synchronize`` for GPU cases). ``check`` (optional) receives the outputs of every
    implementation and may raise if they disagree; ``extra`` is copied into the JSON row."""

    name: str
    impls: dict[str, Callable]
    sync: Callable | None = None
    check: Callable | None = None
    extra: dict = dataclasses.field(default_factory=dict)
    repeats: int | None = None


def time_call(fn: Callable, *, warmup: int, repeats: int, sync: Callable | None, budget_s: float):
    out = None
    for _ in range(warmup):
        out = fn()
        if sync:
            sync()
    times = []
    t_start = time.perf_counter()
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        if sync:
            sync()
        times.append(time.perf_counter() - t0)
        # Slow peers: stop early rather than spend minutes on repeats of a multi-second call.
        if time.perf_counter() - t_start > budget_s:
            break
    return out, times


# the peers whose versions every result records (besides pydisent's core packages)
PEERS = ("ripser", "giotto-ph", "gudhi", "POT", "disent")


def machine_info(device: str = "cpu") -> dict:
    """:func:`pydisent.provenance` of this run (version, commit, build, packages with the peers, machine,
    CPU, device, date): the ``machine`` entry of every result file."""
    from pydisent import provenance

    return provenance(device, packages=PEERS)


def device_label(device: str) -> str:
    return machine_info(device)["device"]["label"]


def run_cases(cases, *, suite: str, device: str, warmup: int = 1, repeats: int = 5, budget_s: float = 20.0,
              out_dir: Path | None = RESULTS_DIR, tag: str = "") -> list[dict]:
    rows = []
    label = device_label(device)
    print(f"# suite {suite} on {label}")
    header = f"{'case':<44} {'impl':<22} {'median s':>11} {'ratio':>9}"
    print(header)
    print("-" * len(header))
    for case in cases:
        outputs, medians = {}, {}
        for impl, fn in case.impls.items():
            try:
                out, times = time_call(fn, warmup=warmup, repeats=case.repeats or repeats, sync=case.sync,
                                       budget_s=budget_s)
            except Exception as e:  # a peer that cannot run this case is reported, not fatal
                print(f"{case.name:<44} {impl:<22} {'failed':>11}   {type(e).__name__}: {e}")
                rows.append({"case": case.name, "impl": impl, "error": f"{type(e).__name__}: {e}", **case.extra})
                continue
            outputs[impl] = out
            medians[impl] = statistics.median(times)
            rows.append({"case": case.name, "impl": impl, "median_s": medians[impl], "min_s": min(times),
                         "repeats": len(times), **case.extra})
        subject = next(iter(case.impls))
        for row in rows[-len(case.impls):]:
            if "median_s" in row and subject in medians:
                row["ratio_vs_pydisent"] = row["median_s"] / medians[subject]
            ratio = row.get("ratio_vs_pydisent")
            med = row.get("median_s")
            if med is not None:
                rtxt = "" if row["impl"] == subject else f"{ratio:8.2f}x"
                print(f"{case.name:<44} {row['impl']:<22} {med:11.5f} {rtxt:>9}")
        if case.check is not None and len(outputs) > 1:
            try:
                case.check(outputs)
            except Exception as e:
                print(f"  !! outputs disagree: {e}")
                rows.append({"case": case.name, "impl": "check", "error": str(e)})
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        dev = "cuda" if device.startswith("cuda") else "cpu"
        path = out_dir / f"{suite}{('-' + tag) if tag else ''}-{dev}-{stamp}.json"
        from pydisent._io import write_json

        write_json(path, {"suite": suite, "machine": machine_info(device), "rows": rows})
        print(f"# wrote {path}")
    return rows
