"""Schedules: values against hand computations, parsing, round trips, bad input."""

import math

import pytest

from pydisent.train.schedules import (
    Constant,
    Cosine,
    Cyclic,
    Linear,
    Step,
    as_schedule,
    make_schedule,
    parse_schedule,
)


def test_linear_hand_values():
    s = Linear(0.0, 4.0, 100, begin=10)
    assert [s(t) for t in (0, 10, 35, 60, 110, 10**6)] == [0.0, 0.0, 1.0, 2.0, 4.0, 4.0]
    down = Linear(1.0, 0.5, 10)  # msc-research's share scale 1.0 -> 0.5
    assert down(5) == 0.75 and down(10) == 0.5


def test_cosine_hand_values():
    s = Cosine(1.0, 0.0, 100)
    assert s(0) == 1.0 and s(100) == 0.0 and s(200) == 0.0
    assert s(50) == pytest.approx(0.5)
    assert s(25) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))


def test_cyclic_hand_values():
    s = Cyclic(0.0, 1.0, period=10, ratio=0.5)  # rise over 5 steps, hold 5, repeat
    assert [s(t) for t in range(12)] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.2]
    c = Cyclic(0.0, 1.0, period=10, ratio=0.5, cycles=2, begin=5)
    assert c(0) == 0.0 and c(5) == 0.0 and c(7) == pytest.approx(0.4) and c(25) == 1.0 and c(10**5) == 1.0
    cos = Cyclic(0.0, 2.0, period=4, ratio=1.0, mode="cosine")
    assert cos(2) == pytest.approx(1.0) and cos(1) == pytest.approx(1 - math.cos(math.pi / 4))


def test_step_hand_values():
    s = Step([1e-3, 1e-4, 1e-5], [100, 200])
    assert [s(t) for t in (0, 99, 100, 199, 200, 10**6)] == [1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-5]


@pytest.mark.parametrize("sched", [Constant(3.0), Linear(0, 4, 10, 2), Cosine(1, 0, 5),
                                   Cyclic(0, 1, 7, 0.3, "cosine", 3, 1), Step([1, 2], [5])])
def test_round_trip(sched):
    again = make_schedule(sched.to_dict())
    assert again == sched and [again(t) for t in range(30)] == [sched(t) for t in range(30)]
    assert parse_schedule(repr(sched)) == sched


def test_parse():
    assert parse_schedule("linear(0, 4, 10000)") == Linear(0, 4, 10000)
    assert parse_schedule("cyclic(low=0, high=1, period=5000)") == Cyclic(0, 1, 5000)
    assert parse_schedule("step([1e-3, 1e-4], [5000])") == Step([1e-3, 1e-4], [5000])
    assert parse_schedule("2.5") == Constant(2.5) and parse_schedule("-1") == Constant(-1)
    assert as_schedule(4) == Constant(4.0)


@pytest.mark.parametrize("text,match", [
    ("linar(0, 1, 10)", "unknown schedule 'linar'.*known"),
    ("linear(0, 1)", "steps"),
    ("linear(0, 1, 0)", "argument 'steps' must be >= 1"),
    ("linear(0, 1, 10, begin=-1)", "argument 'begin'"),
    ("linear(0, float('nan'), 10)", "literals"),
    ("cyclic(0, 1, 10, ratio=0)", "argument 'ratio'"),
    ("cyclic(0, 1, 10, mode='square')", "argument 'mode'"),
    ("step([1, 2], [5, 6])", "argument 'values'"),
    ("step([1, 2, 3], [6, 5])", "argument 'milestones'"),
    ("linear(0, 1, 10", "cannot parse"),
    ("os.system('x')", "expected KIND"),
])
def test_bad_schedules(text, match):
    with pytest.raises((ValueError, TypeError), match=match):
        parse_schedule(text)


def test_bad_types():
    with pytest.raises(TypeError, match="argument 'start'"):
        Linear("a", 1, 10)
    with pytest.raises(TypeError, match="argument 'step'"):
        Linear(0, 1, 10)(1.5)
    with pytest.raises(TypeError, match="schedule"):
        as_schedule([1, 2])
    with pytest.raises(ValueError, match="unknown schedule"):
        make_schedule({"kind": "nope"})
