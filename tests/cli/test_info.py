"""``pydisent info``: the build report."""

import json
import subprocess
import sys

import pydisent


def test_cli_info_json():
    out = subprocess.run([sys.executable, "-m", "pydisent", "info", "--json"], capture_output=True, text=True,
                         check=True)
    info = json.loads(out.stdout)
    assert info["pydisent"] == pydisent.__version__
