"""Every CPU kernel family run with the portable variant forced (PYDISENT_CPU_GENERIC=1, and the Rips
engine's own PYDISENT_RIPS_GENERIC=1) and with the best one this CPU has, compared under each kernel's
promise (csrc/common/cpu.h):

* bit-identical on every level: the Rips engine (no FMA anywhere, so diagrams and generators never depend
  on the machine), paired_image_mse (exact integer sums), rankdata and the tree replay (no variants),
  the renderers and the uint8 -> float conversion (one IEEE division per value), pairwise manhattan and
  chebyshev distances (no multiply), paired distances of float32 rows (their float64 squares are exact)
  and paired manhattan;
* within rounding otherwise: the AVX2/AVX-512 distance and float64 paired kernels may contract
  ``d * d + acc`` into an FMA, and the AVX-512 PCA likewise; the results then differ in the last bits,
  well inside each kernel's documented error bound.

On a CPU without AVX2 both runs are the generic one and the comparison is trivial (the test says so).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pydisent import _C

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).resolve().parent / "cpu_variant_probe.py"
EXACT_FAMILIES = ("rips/", "paired_image/", "rank/", "trees/", "render/")


def _run(tmp_path, tag, **env):
    path = tmp_path / f"{tag}.npz"
    full = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for key in ("PYDISENT_CPU_GENERIC", "PYDISENT_RIPS_GENERIC"):
        full.pop(key, None)
    full.update(env)
    subprocess.run([sys.executable, str(PROBE), str(path)], check=True, env=full, cwd=str(ROOT), timeout=300)
    return np.load(path)


def _promise(key: str):
    """'exact' or (rtol, atol, relative-to-max) for a probe output."""
    if key.startswith(EXACT_FAMILIES):
        return "exact"
    family, *rest = key.split("/")
    f32 = "float32" in key
    if family == "distance":
        return "exact" if rest[0] in ("manhattan", "chebyshev") else ((2e-6, 2.4e-7) if f32 else (4e-15, 4.5e-16))
    if family == "paired":
        return "exact" if (f32 or rest[0] == "manhattan") else (4e-15, 0.0)
    if family == "pca":  # eigen-decompositions: within 1e-9 of the largest entry (observed 1e-11 .. 2e-12)
        return "pca"
    raise AssertionError(f"no promise stated for {key}")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("variants")
    return {"best": _run(tmp, "best"), "generic": _run(tmp, "generic", PYDISENT_CPU_GENERIC="1"),
            "rips": _run(tmp, "rips", PYDISENT_RIPS_GENERIC="1")}


def test_every_family_portable_vs_best(runs):
    best, generic = runs["best"], runs["generic"]
    host = _C.cpu_variants()["host"]
    assert list(generic["variants"]) == ["generic", "generic"]
    assert list(best["variants"]) == [host, host]  # the Rips engine runs its AVX2 kernels at either AVX level
    if host == "generic":
        pytest.skip("this CPU has no AVX2: the best variant is the generic one (nothing to compare)")
    assert set(best.files) == set(generic.files)
    families = set()
    for key in best.files:
        if key == "variants":
            continue
        a, b = best[key], generic[key]
        assert a.shape == b.shape and a.dtype == b.dtype, key
        families.add(key.split("/")[0])
        promise = _promise(key)
        if promise == "exact":
            np.testing.assert_array_equal(a, b, err_msg=key)
        elif promise == "pca":
            assert np.abs(a.astype(np.float64) - b).max() <= 1e-9 * np.abs(a).max(), key
        else:
            np.testing.assert_allclose(a, b, rtol=promise[0], atol=promise[1], err_msg=key)
    assert families == {"distance", "paired", "pca", "rank", "paired_image", "rips", "render", "trees"}


def test_rips_own_switch_is_a_special_case(runs):
    """PYDISENT_RIPS_GENERIC=1 forces the portable Rips kernels only; every output is the best run's."""
    rips_only, best = runs["rips"], runs["best"]
    assert rips_only["variants"][1] == "generic" and rips_only["variants"][0] == _C.cpu_variants()["host"]
    for key in best.files:
        if key != "variants":
            np.testing.assert_array_equal(best[key], rips_only[key], err_msg=key)
