"""pydisent._io: checked output paths, atomic writes, strict JSON."""

import json
import os
import stat

import numpy as np
import pytest
import torch

from pydisent._io import atomic_open, atomic_path, atomic_write, check_output_path, json_safe, to_json, write_json


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def test_atomic_write_bytes_and_str(tmp_path):
    p = tmp_path / "a.txt"
    atomic_write(p, "héllo")
    assert p.read_text(encoding="utf-8") == "héllo"
    atomic_write(p, b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path) == []
    with pytest.raises(TypeError, match="'data'"):
        atomic_write(p, 3)


def test_new_file_mode_follows_umask_and_existing_mode_is_kept(tmp_path):
    p = tmp_path / "new.json"
    atomic_write(p, "1")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask
    os.chmod(p, 0o640)
    atomic_write(p, "2")
    assert stat.S_IMODE(p.stat().st_mode) == 0o640


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_interrupted_write_keeps_the_old_file(tmp_path, exc):
    p = tmp_path / "scores.json"
    p.write_text("old")
    with pytest.raises(exc):
        with atomic_open(p, "w") as f:
            f.write("new, half written")
            raise exc()
    assert p.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_atomic_path_keeps_suffix_and_replaces(tmp_path):
    p = tmp_path / "arr.npy"
    with atomic_path(p) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".npy" and tmp != p
        np.save(tmp, np.arange(3))
        assert not p.exists()
    np.testing.assert_array_equal(np.load(p), np.arange(3))
    assert _leftovers(tmp_path) == []


def test_atomic_open_binary_torch_save(tmp_path):
    p = tmp_path / "ckpt.pt"
    with atomic_open(p, "wb") as f:
        torch.save({"w": torch.ones(2)}, f)
    assert torch.equal(torch.load(p, weights_only=True)["w"], torch.ones(2))
    with pytest.raises(ValueError, match="'mode'"):
        with atomic_open(p, "a"):
            pass


def test_check_output_path(tmp_path):
    assert check_output_path(tmp_path / "x.json") == tmp_path / "x.json"
    with pytest.raises(ValueError, match=r"argument 'json'.*does not exist"):
        check_output_path(tmp_path / "missing" / "x.json", "json")
    with pytest.raises(ValueError, match="is a folder"):
        check_output_path(tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is not a folder"):
        check_output_path(tmp_path / "file" / "x.json")
    with pytest.raises(ValueError, match="empty"):
        check_output_path("")
    with pytest.raises(TypeError, match="'path'"):
        check_output_path(3)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_check_output_path_unwritable_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        with pytest.raises(ValueError, match="not writable"):
            check_output_path(ro / "x.json")
    finally:
        os.chmod(ro, 0o700)


def test_strict_json_nan_is_null(tmp_path):
    obj = {"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5], "c": np.float32(np.nan),
           "d": np.arange(3), "e": torch.tensor([0.5, float("nan")]), "f": np.int64(7), 3: (True, None),
           "g": np.bool_(True)}
    text = to_json(obj)
    assert "NaN" not in text and "Infinity" not in text
    back = json.loads(text)
    assert back == {"a": None, "b": [None, None, 1.5], "c": None, "d": [0, 1, 2], "e": [0.5, None], "f": 7,
                    "3": [True, None], "g": True}
    write_json(tmp_path / "r.json", obj)
    assert json.loads((tmp_path / "r.json").read_text()) == back
    with pytest.raises(TypeError, match="set"):
        json_safe({1, 2})
