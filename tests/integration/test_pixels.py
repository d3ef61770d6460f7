"""Learning from pixels: the convolutional Q-network, the pixel replay buffer, the pixel environments."""

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import keras
import numpy as np
import pytest

from tfdqn import (
    Batch,
    ConfigError,
    DQNAgent,
    DQNConfig,
    EnvError,
    ReplayBuffer,
    Trainer,
    build_q_network,
    greedy_policy,
    load_q_network,
    make_env,
    make_vec_env,
    save_model,
)
from tfdqn.envs.atari import atari_env_id
from tfdqn.envs.pixels import PIXEL_CARTPOLE_ID, ChannelsLast, crop_rows
from tfdqn.networks.build import build_conv_q_network
from tfdqn.replay.pixel import PixelReplayBuffer, replay_for_observations

ROOT = Path(__file__).resolve().parents[2]
SMALL_CONV = ((8, 8, 4), (16, 4, 2))


# ----- the convolutional Q-network -------------------------------------------------------------------
def test_nature_layout_by_default():
    net = build_q_network((84, 84, 4), 6)
    assert isinstance(net, keras.Sequential)
    assert net.inputs[0].dtype == "uint8" and net.output_shape == (None, 6)
    convs = [layer for layer in net.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size[0], c.strides[0]) for c in convs] == [(32, 8, 4), (64, 4, 2), (64, 3, 1)]
    assert [c.output.shape[1:] for c in convs] == [(20, 20, 32), (9, 9, 64), (7, 7, 64)]
    dense = [layer.units for layer in net.layers if isinstance(layer, keras.layers.Dense)]
    assert dense == [256, 256, 6]  # build_q_network's hidden_sizes default; the Nature net passes (512,)
    assert [
        layer.units for layer in build_conv_q_network((84, 84, 4), 6).layers if isinstance(layer, keras.layers.Dense)
    ] == [512, 6]


def test_configurable_small_layout_and_shape_errors():
    net = build_q_network((40, 120, 4), 2, (32,), conv_layers=SMALL_CONV)
    assert net.output_shape == (None, 2)
    assert [layer.output.shape[1:] for layer in net.layers if isinstance(layer, keras.layers.Conv2D)] == [
        (9, 29, 8),
        (3, 13, 16),
    ]
    with pytest.raises(ConfigError, match="convolution 2.*leaves no output"):
        build_q_network((20, 20, 1), 2, conv_layers=((8, 8, 4), (16, 4, 2), (16, 3, 1)))
    with pytest.raises(ConfigError, match="conv_layers"):
        build_q_network((20, 20, 1), 2, conv_layers=((8, 8),))
    with pytest.raises(EnvError, match="not a flat vector"):
        build_q_network((84, 84), 2)


def test_uint8_pixels_are_scaled_inside_the_network():
    net = build_q_network((12, 16, 2), 3, (8,), conv_layers=((4, 3, 2),))
    x = np.random.default_rng(0).integers(0, 256, size=(5, 12, 16, 2), dtype=np.uint8)
    q_uint8 = net(x).numpy()
    np.testing.assert_allclose(net(x.astype(np.float32)).numpy(), q_uint8, rtol=1e-5, atol=1e-6)
    h = x.astype(np.float32) / 255.0  # the layers after Rescaling, on pixels scaled by hand
    for layer in net.layers[1:]:
        h = layer(h)
    np.testing.assert_allclose(np.asarray(h), q_uint8, rtol=1e-5, atol=1e-6)
    assert isinstance(net.layers[0], keras.layers.Rescaling)


def test_conv_model_saves_and_loads_safely(tmp_path):
    net = build_q_network((24, 24, 4), 2, (16,), conv_layers=((8, 4, 2), (8, 3, 2)))
    path = save_model(net, tmp_path / "conv.keras")
    loaded = load_q_network(path, n_actions=2)  # safe_mode=True: no Lambda layers, no pickles
    x = np.random.default_rng(1).integers(0, 256, size=(3, 24, 24, 4), dtype=np.uint8)
    np.testing.assert_allclose(loaded(x).numpy(), net(x).numpy(), rtol=1e-6)
    assert loaded.inputs[0].dtype == "uint8"
    np.testing.assert_array_equal(greedy_policy(loaded)(x), np.argmax(net(x).numpy(), axis=-1))


def test_agent_acts_and_learns_on_uint8_images():
    space = gym.spaces.Box(0, 255, (16, 16, 2), np.uint8)
    config = DQNConfig(conv_layers=((4, 4, 2),), hidden_sizes=(8,), batch_size=4, buffer_size=16, jit_compile=False)
    agent = DQNAgent.from_spaces(space, gym.spaces.Discrete(3), config)
    assert agent.q_network.inputs[0].shape[1:] == (16, 16, 2)
    rng = np.random.default_rng(2)
    obs = rng.integers(0, 256, size=(2, 5, 16, 16, 2), dtype=np.uint8)
    np.testing.assert_allclose(agent.q_values(obs[0]), agent.q_network(obs[0]).numpy(), rtol=1e-5, atol=1e-6)
    assert agent.act(obs[0], 0.0, rng).shape == (5,)
    batch = Batch(
        obs[0][None],
        rng.integers(0, 3, (1, 5)).astype(np.int32),
        np.ones((1, 5), np.float32),
        obs[1][None],
        np.zeros((1, 5), np.float32),
    )
    metrics, _ = agent.learn(batch)
    assert np.isfinite(metrics["loss"]) and np.isfinite(metrics["mean_q"])


# ----- the config field ------------------------------------------------------------------------------
def test_conv_layers_json_round_trip_and_defaults():
    config = DQNConfig(conv_layers=[[16, 8, 4], [32, 4, 2]])
    assert config.conv_layers == ((16, 8, 4), (32, 4, 2))
    assert json.loads(config.to_json())["conv_layers"] == [[16, 8, 4], [32, 4, 2]]
    assert DQNConfig.from_json(config.to_json()) == config
    assert DQNConfig().conv_layers == ((32, 8, 4), (64, 4, 2), (64, 3, 1))
    # the CartPole MLP is unchanged by the field
    net = DQNAgent.from_spaces(gym.spaces.Box(-1, 1, (4,), np.float32), gym.spaces.Discrete(2)).q_network
    assert [layer.units for layer in net.layers] == [256, 256, 2]


@pytest.mark.parametrize("value", [(), ((16, 8),), ((16, 8, 0),), ((16, 8.5, 4),), ((True, 8, 4),), "abc", 3])
def test_invalid_conv_layers_name_the_field(value):
    with pytest.raises(ConfigError, match="DQNConfig.conv_layers"):
        DQNConfig(conv_layers=value)


# ----- the pixel replay buffer -----------------------------------------------------------------------
def _stream(rng, n_envs, steps, shape=(3, 3, 2), values=256, p_done=0.1):
    """add_batch arguments as the Trainer makes them from a vector env: with next-step autoreset, the
    reset step of a finished sub-environment is filtered out; observations are random frames (few values
    -> many coincidentally equal frames)."""
    frames = lambda n: rng.integers(0, values, size=(n, *shape), dtype=np.uint8)  # noqa: E731
    obs, resetting = frames(n_envs), np.zeros(n_envs, bool)
    for _ in range(steps):
        next_obs, done = frames(n_envs), rng.random(n_envs) < p_done
        terminated = done & (rng.random(n_envs) < 0.5)
        real = ~resetting
        actions, rewards = rng.integers(0, 4, n_envs), rng.normal(size=n_envs).astype(np.float32)
        yield obs[real], actions[real], rewards[real], next_obs[real], terminated[real]
        resetting, obs = done & real, next_obs


def _assert_same_contents(plain, pixel):
    assert (plain.pos, plain.size) == (pixel.pos, pixel.size)
    idx = np.arange(plain.size)
    for a, b in zip(plain.gather(idx), pixel.gather(idx)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", range(40))
def test_pixel_buffer_matches_plain_buffer(seed):
    rng = np.random.default_rng(seed)
    n_envs, capacity = int(rng.integers(1, 6)), int(rng.integers(1, 40))
    plain, pixel = ReplayBuffer(capacity, (3, 3, 2), np.uint8), PixelReplayBuffer(capacity, (3, 3, 2))
    for k, args in enumerate(_stream(rng, n_envs, 100, values=int(rng.choice([2, 256])))):
        if k == 60:  # save and restore mid-stream, then go on
            pixel, saved = PixelReplayBuffer(capacity, (3, 3, 2)), pixel.state_dict()
            pixel.load_state_dict({name: np.array(a) for name, a in saved.items()})
        if rng.random() < 0.7:
            plain.add_batch(*args)
            pixel.add_batch(*args)
        else:
            for row in zip(*args):
                plain.add(*row)
                pixel.add(*row)
        _assert_same_contents(plain, pixel)
    # same generator state -> the same sample, (gradient_steps, batch) shape included
    a, b = plain.sample(8, np.random.default_rng(0), 3), pixel.sample(8, np.random.default_rng(0), 3)
    assert b.obs.shape == (3, 8, 3, 3, 2) and b.obs.dtype == np.uint8 and b.actions.shape == (3, 8)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    # a plain buffer's saved state loads into the pixel buffer, slot for slot
    again = PixelReplayBuffer(capacity, (3, 3, 2))
    again.load_state_dict(plain.state_dict())
    _assert_same_contents(plain, again)


def test_pixel_buffer_stores_each_observation_once():
    shape = (84, 84, 4)
    frame_bytes = 84 * 84 * 4
    big = PixelReplayBuffer(100_000, shape)  # zero pages: nothing is touched until written
    assert frame_bytes * 100_000 <= big.nbytes < frame_bytes * 100_000 * 1.01  # 2.82 GB, not 5.64 GB
    assert big.nbytes < 0.51 * 2 * frame_bytes * 100_000
    # filled with long episodes (~100 steps), only the episode ends are stored a second time
    rng = np.random.default_rng(0)
    small_shape = (8, 8, 4)
    buf = PixelReplayBuffer(2_000, small_shape)
    for args in _stream(rng, 4, 1_500, shape=small_shape, p_done=0.01):
        buf.add_batch(*args)
    assert len(buf) == 2_000
    plain_bytes = ReplayBuffer(2_000, small_shape, np.uint8).nbytes
    assert buf.extra_count < 60
    assert buf.nbytes < 0.6 * plain_bytes


def test_buffer_choice_follows_the_observations():
    assert type(replay_for_observations(10, (84, 84, 4), np.uint8)) is PixelReplayBuffer
    assert type(replay_for_observations(10, (4,), np.float32)) is ReplayBuffer
    assert type(replay_for_observations(10, (3, 3), np.uint8)) is ReplayBuffer


# ----- the environments ------------------------------------------------------------------------------
def test_pixel_cartpole_observations():
    env = make_env(PIXEL_CARTPOLE_ID)
    try:
        assert env.observation_space.shape == (40, 120, 4) and env.observation_space.dtype == np.uint8
        obs, _ = env.reset(seed=0)
        assert obs.shape == (40, 120, 4) and obs.dtype == np.uint8 and obs in env.observation_space
        assert all(np.array_equal(obs[..., k], obs[..., 0]) for k in range(4))  # padded with the first frame
        assert obs.min() < 100 and obs.max() == 255  # a dark cart on a white background
        frames = [obs]
        for _ in range(5):
            obs, reward, terminated, truncated, _ = env.step(0)
            assert reward == 2.0 and not (terminated or truncated)  # each action lasts 2 CartPole steps
            frames.append(obs)
        assert not np.array_equal(frames[-1][..., -1], frames[0][..., -1])  # the cart moved
        for before, after in zip(frames, frames[1:]):  # the stack shifts by one frame per step
            np.testing.assert_array_equal(after[..., :-1], before[..., 1:])
        assert env.render().shape == (400, 600, 3)  # the full colour frame, for GIFs
    finally:
        env.close()


def test_pixel_cartpole_vector_env_and_wrappers():
    venv = make_vec_env(PIXEL_CARTPOLE_ID, 2)
    try:
        obs, _ = venv.reset(seed=0)
        assert isinstance(venv, gym.vector.SyncVectorEnv) and obs.shape == (2, 40, 120, 4)
    finally:
        venv.close()
    env = gym.make(PIXEL_CARTPOLE_ID, height=32, width=48, stack=2, crop=None, frame_skip=1)
    assert env.observation_space.shape == (32, 48, 2)
    env.reset(seed=0)
    assert env.step(0)[1] == 1.0
    env.close()
    base = gym.wrappers.FrameStackObservation(
        gym.wrappers.TransformObservation(
            gym.make("CartPole-v1"), lambda o: np.zeros((5, 7), np.uint8), gym.spaces.Box(0, 255, (5, 7), np.uint8)
        ),
        3,
    )
    assert ChannelsLast(base).observation_space.shape == (5, 7, 3)
    with pytest.raises(EnvError, match="crop rows"):
        crop_rows(gym.wrappers.AddRenderObservation(gym.make("CartPole-v1", render_mode="rgb_array")), 300, 500)


def test_atari_without_ale_py_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ale_py", None)  # import ale_py now raises ImportError
    with pytest.raises(EnvError, match="pip install -r requirements-atari.txt"):
        make_env(atari_env_id("ALE/Pong-v5"))
    with pytest.raises(EnvError, match="ALE/<Game>"):
        atari_env_id("Pong")


def test_atari_preprocessing_shapes():
    pytest.importorskip("ale_py")
    env = make_env(atari_env_id("ALE/Pong-v5"))
    try:
        obs, _ = env.reset(seed=0)
        assert obs.shape == (84, 84, 4) and obs.dtype == np.uint8
        assert env.step(0)[0].shape == (84, 84, 4)
    finally:
        env.close()


# ----- training --------------------------------------------------------------------------------------
def test_smoke_training_on_pixels():
    config = DQNConfig(
        env_id=PIXEL_CARTPOLE_ID,
        conv_layers=SMALL_CONV,
        hidden_sizes=(16,),
        buffer_size=300,
        batch_size=8,
        learning_starts=50,
        train_freq=10,
        gradient_steps=2,
        num_envs=2,
        jit_compile=False,
        target_update_interval=50,
        seed=1,
    )
    keras.utils.set_random_seed(1)
    env = make_vec_env(config.env_id, config.num_envs)
    agent = DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
    trainer = Trainer(agent, env, config)
    try:
        end = trainer.train(250)
    finally:
        env.close()
    assert end["step"] >= 250 and end["updates"] > 0 and end["episodes"] > 2
    assert isinstance(trainer.replay, PixelReplayBuffer) and np.isfinite(trainer.last_loss)
    # every stored transition is real: the next observation's stack is the observation's, shifted by a frame
    batch = trainer.replay.gather(np.arange(len(trainer.replay)))
    np.testing.assert_array_equal(batch.next_obs[..., :-1], batch.obs[..., 1:])
    assert trainer.replay.extra_count <= end["episodes"] + config.num_envs


def test_train_pixels_script_writes_every_result(tmp_path):
    config = tmp_path / "tiny.json"
    config.write_text(
        json.dumps(
            {
                "conv_layers": [[8, 8, 4], [16, 4, 2]],
                "hidden_sizes": [16],
                "buffer_size": 500,
                "batch_size": 8,
                "learning_starts": 100,
                "train_freq": 8,
                "gradient_steps": 2,
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "train_pixels.py"),
            "--steps",
            "300",
            "--out",
            str(tmp_path),
            "--config",
            str(config),
            "--no-live-plot",
            "--eval-every",
            "150",
            "--eval-episodes",
            "2",
            "--final-episodes",
            "2",
            "--seed",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    said = f"stops at the first evaluation >= 475 ({PIXEL_CARTPOLE_ID}'s reward_threshold), confirmed on 50 fresh"
    assert any(line.startswith(said) for line in proc.stderr.splitlines()), proc.stderr[-3000:]  # Run.notes
    for name in (
        "metrics.csv",
        "evaluations.csv",
        "learning_curve.png",
        "best.keras",
        "last.keras",
        "config.json",
        "summary.json",
        "untrained.gif",
        "trained.gif",
        "trained_input.gif",
    ):
        assert (tmp_path / name).is_file(), name
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["env_id"] == PIXEL_CARTPOLE_ID and summary["replay_buffer"]["type"] == "PixelReplayBuffer"
    assert json.loads((tmp_path / "config.json").read_text())["conv_layers"] == [[8, 8, 4], [16, 4, 2]]


def test_train_pixels_help_and_bad_input(tmp_path):
    script = str(ROOT / "scripts" / "train_pixels.py")
    proc = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0
    for flag in ("--steps", "--seed", "--out", "--no-live-plot", "--no-gif", "--num-envs", "--config", "--measure"):
        assert flag in proc.stdout
    assert "results/pixel_cartpole" in proc.stdout
    proc = subprocess.run(
        [sys.executable, script, "--env", "CartPole-v1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "needs uint8 images" in lines[0]


def test_train_atari_without_ale_py_exits_2(tmp_path):
    if _has_ale_py():
        pytest.skip("ale-py is installed")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_atari.py"), "--steps", "10", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install -r requirements-atari.txt" in lines[0]


def _has_ale_py() -> bool:
    import importlib.util

    return importlib.util.find_spec("ale_py") is not None
