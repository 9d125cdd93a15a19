"""``pydisent evaluate``: side-by-side scoring, options and errors."""

import json

import pytest

import pydisent
from pydisent.cli import main


def test_evaluate_side_by_side_writes_json(tmp_path, capsys):
    path = tmp_path / "out.json"
    rc = main(["evaluate", "--dataset", "xyobject", "--baseline", "random_projection", "--baseline", "pca",
               "--metrics", "flatness", "--set", "flatness.repeats=4", "--json", str(path), "--quiet"])
    assert rc == 0
    table = capsys.readouterr().out
    assert "flatness.ave_flatness" in table and "random_projection" in table and "pca" in table
    data = json.loads(path.read_text())
    assert set(data["results"]) == {"random_projection", "pca"}
    assert data["provenance"]["pydisent"] == pydisent.__version__ and "build" in data["provenance"]
    assert 0.0 <= data["results"]["pca"]["flatness"]["flatness.ave_flatness"] <= 1.0


def test_cli_rejects_unknown_metric_and_bad_set():
    with pytest.raises(ValueError, match="unknown metric"):
        main(["evaluate", "--dataset", "xysquares", "--baseline", "random_projection", "--metrics", "nope",
              "--quiet"])
    with pytest.raises(SystemExit, match="METRIC.KEY=VALUE"):
        main(["evaluate", "--dataset", "xysquares", "--set", "num_train=3", "--quiet"])
