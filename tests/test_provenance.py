"""pydisent.provenance: one record of what produced a result (benchmarks, results, checkpoints)."""

import json
import re
import subprocess

import numpy as np
import torch

import pydisent
from pydisent._provenance import git_commit


def test_provenance_records_version_build_packages_machine_device_date():
    info = pydisent.provenance(packages=("numpy", "no-such-distribution-xyz"))
    assert json.loads(json.dumps(info)) == info  # JSON as it is
    assert info["pydisent"] == pydisent.__version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", info["date"])
    assert info["build"] == pydisent.build_info()
    v = info["versions"]
    assert v["torch"] == torch.__version__.split("+")[0] or v["torch"] == torch.__version__
    assert v["numpy"] == np.__version__ and v["no-such-distribution-xyz"] is None and "scikit-learn" in v
    assert info["machine"]["cpu_count"] >= 1 and info["machine"]["cpu"]
    assert info["device"]["name"] == "cpu" and info["device"]["label"].startswith("CPU: ")


def test_git_commit_of_a_checkout_and_elsewhere(tmp_path):
    assert git_commit(tmp_path) is None  # not a checkout
    commit = git_commit()
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                          cwd=pydisent.__path__[0]).stdout.strip()
    if root:  # running from a checkout: the short hash, +dirty with changes
        assert commit is not None and re.fullmatch(r"[0-9a-f]{4,40}(\+dirty)?", commit)


def test_benchmark_results_record_it():
    from benchmarks.harness import PEERS, machine_info

    info = machine_info("cpu")
    assert set(PEERS) <= set(info["versions"]) and info["pydisent"] == pydisent.__version__
