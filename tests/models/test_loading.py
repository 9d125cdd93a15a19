"""pydisent.models.loading: TorchScript, exported programs and module:callable specs."""

import pytest
import torch

from pydisent.data import make_dataset
from pydisent.models import load_representation, make_baseline


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


def test_exported_program_loads(tmp_path):
    ds = make_dataset("xysquares")
    module = make_baseline("random_projection", ds, num_codes=4, rng=0)
    x = ds.observations([[0, 1, 2, 3, 4, 5], [1, 1, 1, 1, 1, 1]])
    path = tmp_path / "m.pt2"
    torch.export.save(torch.export.export(module, (x,)), str(path))
    torch.testing.assert_close(load_representation(str(path))(x), module(x))
