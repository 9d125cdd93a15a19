"""Run folders and the other things `evaluate` scores, read back as one Subject."""

from __future__ import annotations

import json

import pytest
import torch

from pydisent.data import make_dataset
from pydisent.report import RunFormatError, open_run, open_subject
from pydisent.report.runs import loss_terms, read_log

DS = ("xysquares", {"num_squares": 1, "rgb": False, "grid_spacing": 1, "grid_size": 4})


def test_log_terms_skip_bookkeeping_and_a_truncated_last_line(tmp_path):
    (tmp_path / "log.jsonl").write_text('{"step": 1, "loss": 3.0, "kl": 1.0, "lr": 0.1, "time": 0.5}\n'
                                        '{"step": 2, "loss": 2.0, "kl": null, "data_wait": 0.01}\n{"step": 3, "lo')
    records = read_log(tmp_path)
    assert [r["step"] for r in records] == [1, 2]
    assert loss_terms(records) == {"loss": ([1, 2], [3.0, 2.0]), "kl": ([1], [1.0])}


def test_standin_run_folder_round_trip(tmp_path):
    from pydisent.cli.demo import _standin_run

    folder = _standin_run("bvae", "beta_vae", {"beta": 4.0}, DS, tmp_path / "run", seed=0)
    sub = open_run(folder)
    assert sub.kind == "run" and sub.latent_dim == 10 and sub.dataset == {"name": DS[0], "kwargs": DS[1]}
    x = make_dataset(DS[0], **DS[1]).observations([[0, 0], [3, 2]])
    z = sub.encode(x)
    assert z.shape == (2, 10)
    # the decoder is the encoder's least-squares inverse: encoding a decoded code gives the code back
    torch.testing.assert_close(sub.encode(sub.decode(z * 0.01)), z * 0.01, atol=1e-4, rtol=1e-3)
    ckpt = torch.load(folder / "model.pt", weights_only=True)
    ckpt["version"] = 99
    torch.save(ckpt, folder / "model.pt")
    with pytest.raises(RunFormatError, match="another version of pydisent"):
        open_run(folder)


def test_what_is_not_a_run_says_so(tmp_path):
    with pytest.raises(RunFormatError, match="no config.json"):
        open_run(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(RunFormatError, match="not a pydisent run folder"):
        open_run(tmp_path)
    with pytest.raises(ValueError, match="'model'"):
        open_subject("no_such_module_xyz:f")


def test_module_callable_subject(tmp_path, monkeypatch):
    (tmp_path / "enc_mod.py").write_text("def encode(x):\n    return x.flatten(1)[:, :3]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sub = open_subject("enc_mod:encode", out=tmp_path / "o")
    assert sub.kind == "callable" and sub.decode is None and sub.folder == tmp_path / "o"
    assert sub.encode(torch.ones(2, 1, 4, 4)).shape == (2, 3)
