"""pydisent._memory and the refusals it backs (issue 15, defect 22): estimates first, a MemoryError with
the estimate and the way out, tested under an address-space cap (RLIMIT_AS) in a subprocess."""

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pydisent._memory import check_memory, resolve_budget

_CAPPED = textwrap.dedent("""
    import resource, sys
    import numpy as np, torch
    import pydisent.metrics as pm
    from pydisent.ops import pairwise_distance
    from pydisent.topology import vietoris_rips
    from tests._probe import probe
    vm = int([l for l in open('/proc/self/status') if l.startswith('VmSize:')][0].split()[1]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (vm + (1536 << 20), resource.RLIM_INFINITY))
    out = []
    def expect_memory_error(fn, *needles):
        try:
            fn()
        except MemoryError as e:
            msg = str(e)
            assert all(n in msg for n in needles), msg
            out.append('refused')
        else:
            out.append('ran')
    x = np.random.default_rng(0).random((60000, 3)).astype(np.float32)
    expect_memory_error(lambda: vietoris_rips(x, maxdim=1), 'vietoris_rips', 'GB', 'maxdim=0', 'fewer points')
    d0 = vietoris_rips(x[:8000], maxdim=0)  # the way out works under the same cap (O(n) memory)
    out.append(str(len(d0.dgms[0])))
    expect_memory_error(lambda: pairwise_distance(np.zeros((100000, 2))), 'pairwise_distance', 'cdist')
    C, F, _ = probe()
    g = C.reshape(-1, 3, 3)[:, :2].repeat(2, 1)[:30]
    out.append(str(pm.factor_vae(C, g, F[:30, 0] * 10**8, g, F[:30, 0] * 10**8)['num_active_dims']))
    print(' '.join(out))
""")


def test_refusals_under_an_address_space_cap():
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.getcwd())
    env.pop("PYDISENT_MEMORY_BUDGET", None)
    p = subprocess.run([sys.executable, "-c", _CAPPED], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.split() == ["refused", "8000", "refused", "3"]


def test_budget_forms(monkeypatch):
    assert resolve_budget(1000) == (1000.0, "memory_budget")
    assert resolve_budget("1.5k")[0] == 1536.0 and resolve_budget("8G")[0] == 8 * 2**30
    assert resolve_budget("off")[0] == math.inf
    for bad in (0, -1, "lots", float("nan")):
        with pytest.raises(ValueError, match="'memory_budget'"):
            resolve_budget(bad)
    with pytest.raises(TypeError, match="'memory_budget'"):
        resolve_budget(True)
    monkeypatch.setenv("PYDISENT_MEMORY_BUDGET", "2M")
    assert resolve_budget() == (2 * 2**20, "PYDISENT_MEMORY_BUDGET")
    with pytest.raises(MemoryError, match=r"needs about 100\.0 MB.*budget of 2\.0 MB.*do less"):
        check_memory(100 << 20, "this", "do less")
    monkeypatch.delenv("PYDISENT_MEMORY_BUDGET")
    check_memory(1 << 20, "small", "nothing")  # small estimates are never refused by the default


def test_rips_budget_argument():
    from pydisent.topology import vietoris_rips

    x = np.random.default_rng(0).random((300, 2))
    with pytest.raises(MemoryError, match="vietoris_rips.*maxdim=0"):
        vietoris_rips(x, memory_budget="100k")
    assert len(vietoris_rips(x, maxdim=0, memory_budget="100k").dgms[0]) == 300
    with pytest.raises(ValueError, match="'memory_budget'"):
        vietoris_rips(x, memory_budget="lots")
