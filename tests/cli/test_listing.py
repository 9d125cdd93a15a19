"""``pydisent metrics`` / ``pydisent datasets`` and the module entry point."""

import subprocess
import sys

from pydisent.cli import main
from pydisent.metrics import METRICS


def test_metrics_and_datasets_listings(capsys):
    assert main(["metrics"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in METRICS)
    assert main(["datasets"]) == 0
    assert "xysquares" in capsys.readouterr().out


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "pydisent", "metrics"], capture_output=True, text=True, check=True)
    assert "flatness" in out.stdout
