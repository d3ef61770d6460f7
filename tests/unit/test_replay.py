import numpy as np
import pytest

from tfdqn import ReplayBuffer


def fill(buf, values):
    for v in values:
        buf.add(np.full(2, v), int(v) % 3, float(v), np.full(2, v + 0.5), v % 2 == 0)


def test_wrap_around_keeps_newest():
    buf = ReplayBuffer(4, (2,))
    fill(buf, range(6))
    assert len(buf) == 4 and buf.pos == 2
    assert sorted(buf.rewards.tolist()) == [2.0, 3.0, 4.0, 5.0]
    assert buf.obs[0, 0] == 4.0 and buf.obs[1, 0] == 5.0  # overwrote the two oldest slots
    np.testing.assert_array_equal(buf.next_obs[:, 0] - buf.obs[:, 0], 0.5)


def test_add_batch_wraps_like_add():
    a, b = ReplayBuffer(5, (2,)), ReplayBuffer(5, (2,))
    values = np.arange(8, dtype=np.float32)
    fill(a, values)
    b.add_batch(
        np.repeat(values[:3, None], 2, 1),
        values[:3].astype(int) % 3,
        values[:3],
        np.repeat(values[:3, None] + 0.5, 2, 1),
        values[:3] % 2 == 0,
    )
    b.add_batch(
        np.repeat(values[3:, None], 2, 1),
        values[3:].astype(int) % 3,
        values[3:],
        np.repeat(values[3:, None] + 0.5, 2, 1),
        values[3:] % 2 == 0,
    )
    for name in ("obs", "next_obs", "actions", "rewards", "terminated"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert (a.pos, a.size) == (b.pos, b.size)


def test_sample_only_filled_slots_and_shapes():
    buf = ReplayBuffer(100, (2,))
    fill(buf, range(10))
    rng = np.random.default_rng(0)
    batch = buf.sample(32, rng)
    assert batch.obs.shape == (32, 2) and batch.actions.shape == (32,)
    assert batch.obs.dtype == np.float32 and batch.actions.dtype == np.int32
    assert set(batch.rewards.tolist()) <= set(range(10))
    many = buf.sample(8, rng, gradient_steps=5)
    assert many.obs.shape == (5, 8, 2) and many.terminated.shape == (5, 8)
    # rows stay consistent: each sampled transition is one stored transition
    np.testing.assert_array_equal(many.next_obs[..., 0] - many.obs[..., 0], 0.5)
    np.testing.assert_array_equal(many.actions, many.rewards.astype(int) % 3)


def test_sampling_is_uniform():
    buf = ReplayBuffer(10, (1,))
    for v in range(10):
        buf.add(np.array([v]), 0, float(v), np.array([v]), False)
    counts = np.bincount(buf.sample(100_000, np.random.default_rng(1)).rewards.astype(int), minlength=10)
    assert counts.min() > 9_000 and counts.max() < 11_000


def test_memory_is_preallocated_and_proportional_to_capacity():
    small, large = ReplayBuffer(1_000, (4,)), ReplayBuffer(10_000, (4,))
    assert large.nbytes == 10 * small.nbytes
    assert small.nbytes == 1_000 * (2 * 4 * 4 + 4 + 4 + 4)


def test_uint8_observations_stay_uint8():
    buf = ReplayBuffer(10, (3, 3), np.uint8)
    buf.add(np.full((3, 3), 255, np.uint8), 0, 0.0, np.zeros((3, 3), np.uint8), False)
    assert buf.sample(2, np.random.default_rng(0)).obs.dtype == np.uint8


def test_state_round_trip():
    buf = ReplayBuffer(8, (2,))
    fill(buf, range(11))
    again = ReplayBuffer(8, (2,))
    again.load_state_dict(buf.state_dict())
    for name in ("obs", "next_obs", "actions", "rewards", "terminated"):
        np.testing.assert_array_equal(getattr(buf, name), getattr(again, name))
    assert (again.pos, again.size) == (buf.pos, buf.size)


def test_empty_sample_and_bad_capacity():
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(4, (1,)).sample(2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, (1,))
