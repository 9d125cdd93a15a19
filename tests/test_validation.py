"""pydisent._validation: one message format, TypeError for the wrong kind, ValueError out of range."""

import math

import numpy as np
import pytest
import torch

from pydisent._validation import (
    Interval,
    Options,
    as_tensor,
    check,
    check_backend,
    check_finite,
    check_float,
    check_positive_int,
    check_rank,
    check_same_device,
)


def test_options():
    assert check("b", "mode", Options(("a", "b"))) == "b"
    with pytest.raises(ValueError, match=r"^argument 'mode' must be one of \['a', 'b'\], got 'c'$"):
        check("c", "mode", Options(("a", "b")))
    with pytest.raises(ValueError, match="got \\[1\\]"):  # unhashable values are just not among the choices
        check([1], "mode", Options(("a",)))
    with pytest.raises(TypeError, match="argument 'metric' must be a str, one of"):
        check(3, "metric", Options(("l1",), type=str))
    assert check(None, "preset", Options(("x",), none=True)) is None
    with pytest.raises(ValueError, match=r"one of \['x'\] or None, got 'y'"):
        check("y", "preset", Options(("x",), none=True))
    with pytest.raises(ValueError, match=r"argument 'backend' must be one of \['auto', 'cpu'\], got 'gpu'"):
        check_backend("gpu", ("auto", "cpu"))


def test_interval_int():
    assert check(np.int32(3), "k", Interval(int, 1, None)) == 3
    assert type(check_positive_int(np.int64(2), "k")) is int
    with pytest.raises(TypeError, match="^argument 'k' must be an integer, got float$"):
        check_positive_int(2.0, "k")
    with pytest.raises(TypeError, match="got bool"):
        check_positive_int(True, "k")
    with pytest.raises(ValueError, match="^argument 'k' must be >= 2, got 1$"):
        check_positive_int(1, "k", 2)
    with pytest.raises(ValueError, match=r"must be in \[0, 5\), got 5"):
        check(5, "i", Interval(int, 0, 5, closed="left"))


def test_interval_float():
    assert check(1, "p", Interval(float, 0, 1)) == 1.0
    for bad in (-0.1, 1.5, math.nan):
        with pytest.raises(ValueError, match=r"argument 'p' must be in \[0, 1\]"):
            check(bad, "p", Interval(float, 0, 1))
    with pytest.raises(ValueError, match=r"must be in \(0, 1\), got 0.0"):
        check(0, "f", Interval(float, 0, 1, closed="neither"))
    assert check(math.inf, "t", Interval(float, 0, None, inf=True)) == math.inf
    with pytest.raises(ValueError, match=r"must be >= 0 \(or inf\), got -1.0"):
        check(-1, "t", Interval(float, 0, None, inf=True))
    with pytest.raises(ValueError, match="got inf"):
        check(math.inf, "p", Interval(float, 0, None))
    with pytest.raises(TypeError, match="must be a real number, got str"):
        check("1", "p", Interval(float, 0, 1))


def test_tensor_checks():
    t = as_tensor(np.zeros((2, 3), np.float32), "x")
    check_float(t, "x")
    check_rank(t, "x", (2,))
    with pytest.raises(TypeError, match="argument 'x' must be float32 or float64, got torch.int64"):
        check_float(torch.zeros(2, dtype=torch.int64), "x")
    with pytest.raises(ValueError, match=r"argument 'x' must have 2 or 3 dimensions \(points\), got shape \(4,\)"):
        check_rank(torch.zeros(4), "x", (2, 3), "(points)")
    with pytest.raises(ValueError, match="argument 'x' contains NaN"):
        check_finite(torch.tensor([1.0, math.inf]), "x")
    with pytest.raises(TypeError, match="argument 'x' must be a numeric array"):
        as_tensor(np.array([object()]), "x")
    check_same_device(("a", t), ("b", t))


def test_check_bool():
    from pydisent._validation import check_bool

    assert check_bool(np.True_, "flag") is True and check_bool(False, "flag") is False
    for bad in (1, 0.0, "yes", None):
        with pytest.raises(TypeError, match="^argument 'flag' must be a bool, got "):
            check_bool(bad, "flag")
