import math

import pytest

from tfdqn import DQNConfig, ExponentialSchedule, LinearSchedule, MultiplicativeSchedule, make_schedule


def test_linear():
    s = LinearSchedule(1.0, 0.04, 8000)
    assert s(0, 0) == 1.0
    assert s(4000, 0) == pytest.approx(0.52)
    assert s(8000, 0) == pytest.approx(0.04)
    assert s(100_000, 0) == pytest.approx(0.04)


def test_linear_waits_for_its_delay():
    # the MinAtar paper holds epsilon at 1 for its first 5,000 frames, then decays it over 100,000
    s = make_schedule(DQNConfig(epsilon_start=1.0, epsilon_end=0.1, epsilon_decay_steps=100, epsilon_decay_start=50))
    assert s(0) == s(50) == 1.0
    assert s(100) == pytest.approx(0.55) and s(150) == pytest.approx(0.1) and s(10_000) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="epsilon_decay_start"):
        DQNConfig(epsilon_decay_start=-1)
    with pytest.raises(ValueError, match="delays the linear schedule only"):
        DQNConfig(epsilon_decay_start=10, exploration="exponential")


def test_exponential():
    s = ExponentialSchedule(1.0, 0.1, 0.01)
    assert s(0) == 1.0
    assert s(100) == pytest.approx(0.1 + 0.9 * math.exp(-1.0))
    assert s(10_000) == pytest.approx(0.1, abs=1e-6)


def test_multiplicative_is_per_episode():
    s = MultiplicativeSchedule(1.0, 0.05, 0.5)
    assert s(step=999, episode=0) == 1.0
    assert s(step=0, episode=2) == 0.25
    assert s(step=0, episode=10) == 0.05


@pytest.mark.parametrize(
    "name,cls",
    [("linear", LinearSchedule), ("exponential", ExponentialSchedule), ("multiplicative", MultiplicativeSchedule)],
)
def test_make_schedule(name, cls):
    assert isinstance(make_schedule(DQNConfig(exploration=name)), cls)
