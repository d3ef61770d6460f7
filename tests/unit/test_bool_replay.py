"""Boolean grids (MinAtar) in the replay: one byte per cell, each observation stored once, and exactly what a
plain buffer of the same transitions holds (saved and restored mid-stream included)."""

import numpy as np
import pytest

from tfdqn.replay.buffer import ReplayBuffer
from tfdqn.replay.pixel import PixelReplayBuffer, replay_for_observations

SHAPE = (3, 3, 2)


@pytest.mark.parametrize("seed", range(8))
def test_bool_grids_in_the_pixel_buffer_match_a_plain_buffer(seed):
    rng = np.random.default_rng(seed)
    n_envs, capacity = int(rng.integers(1, 5)), int(rng.integers(2, 30))
    plain, pixel = ReplayBuffer(capacity, SHAPE, np.bool_), replay_for_observations(capacity, SHAPE, np.bool_)
    assert isinstance(pixel, PixelReplayBuffer) and pixel.obs.dtype == np.bool_
    grids = lambda n: rng.random((n, *SHAPE)) < 0.2  # noqa: E731 (sparse: many equal grids, as in MinAtar)
    obs, resetting = grids(n_envs), np.zeros(n_envs, bool)
    for k in range(80):
        next_obs, done = grids(n_envs), rng.random(n_envs) < 0.1
        real = ~resetting  # next-step autoreset: the reset step of a finished env is not a transition
        args = (obs[real], rng.integers(0, 4, n_envs)[real], rng.normal(size=n_envs).astype(np.float32)[real],
                next_obs[real], (done & (rng.random(n_envs) < 0.5))[real])  # fmt: skip
        if k == 50:
            saved = pixel.state_dict()
            pixel = PixelReplayBuffer(capacity, SHAPE, np.bool_)
            pixel.load_state_dict({name: np.array(a) for name, a in saved.items()})
        plain.add_batch(*args)
        pixel.add_batch(*args)
        resetting, obs = done & real, next_obs
    a, b = plain.sample(8, np.random.default_rng(0), 2), pixel.sample(8, np.random.default_rng(0), 2)
    assert b.obs.dtype == np.bool_ and b.obs.shape == (2, 8, *SHAPE)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
