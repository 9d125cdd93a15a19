import json
import subprocess
import sys

import pytest
import torch

from pydisent.cli import main
from pydisent.data import make_dataset
from pydisent.metrics import METRICS
from pydisent.models import load_representation, make_baseline


def test_metrics_and_datasets_listings(capsys):
    assert main(["metrics"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in METRICS)
    assert main(["datasets"]) == 0
    assert "xysquares" in capsys.readouterr().out


def test_evaluate_side_by_side_writes_json(tmp_path, capsys):
    path = tmp_path / "out.json"
    rc = main(["evaluate", "--dataset", "xyobject", "--baseline", "random_projection", "--baseline", "pca",
               "--metrics", "flatness", "--set", "flatness.repeats=4", "--json", str(path), "--quiet"])
    assert rc == 0
    table = capsys.readouterr().out
    assert "flatness.ave_flatness" in table and "random_projection" in table and "pca" in table
    data = json.loads(path.read_text())
    assert set(data["results"]) == {"random_projection", "pca"}
    assert 0.0 <= data["results"]["pca"]["flatness"]["flatness.ave_flatness"] <= 1.0


def test_evaluate_user_model_module_attr(tmp_path, monkeypatch):
    (tmp_path / "my_model.py").write_text(
        "import torch\n"
        "def encode(x):\n"
        "    return x.reshape(len(x), -1)[:, :5].float()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    fn = load_representation("my_model:encode")
    assert fn(torch.zeros(3, 3, 64, 64)).shape == (3, 5)


def test_torchscript_model_loads(tmp_path):
    ds = make_dataset("xysquares")
    module = make_baseline("random_projection", ds, num_codes=4, rng=0)
    path = tmp_path / "m.pt"
    torch.jit.save(torch.jit.script(module), str(path))
    fn = load_representation(str(path))
    x = ds.observations([[0, 1, 2, 3, 4, 5]])
    torch.testing.assert_close(fn(x), module(x))


def test_bad_model_specs_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match="'model'"):
        load_representation("no_such_module_xyz:f")
    with pytest.raises(ValueError, match="'model'"):
        load_representation(str(tmp_path / "missing.pt"))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="'model'"):
        load_representation(str(bad))


def test_cli_rejects_unknown_metric_and_bad_set():
    with pytest.raises(ValueError, match="unknown metric"):
        main(["evaluate", "--dataset", "xysquares", "--baseline", "random_projection", "--metrics", "nope",
              "--quiet"])
    with pytest.raises(SystemExit, match="METRIC.KEY=VALUE"):
        main(["evaluate", "--dataset", "xysquares", "--set", "num_train=3", "--quiet"])


def test_pca_baseline_is_seeded_and_whitened():
    ds = make_dataset("xyobject")
    a, b = make_baseline("pca", ds, 6, rng=3), make_baseline("pca", ds, 6, rng=3)
    torch.testing.assert_close(a.components, b.components)
    x = ds.observations(ds.factor_space.sample_factors(3000, 11))
    std = a(x).std(0)
    assert torch.all((std > 0.8) & (std < 1.2)), std


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "pydisent", "metrics"], capture_output=True, text=True, check=True)
    assert "flatness" in out.stdout


def test_exported_program_loads(tmp_path):
    ds = make_dataset("xysquares")
    module = make_baseline("random_projection", ds, num_codes=4, rng=0)
    x = ds.observations([[0, 1, 2, 3, 4, 5], [1, 1, 1, 1, 1, 1]])
    path = tmp_path / "m.pt2"
    torch.export.save(torch.export.export(module, (x,)), str(path))
    torch.testing.assert_close(load_representation(str(path))(x), module(x))
