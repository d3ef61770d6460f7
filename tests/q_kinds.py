"""Every kind of Q-network tfdqn saves, built small and seeded, each with a cheap environment of its observations;
and the trained models in results/: what the export and policy tests run on."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import keras
import numpy as np

import tfdqn
from tfdqn.envs.spaces import flat_space, flatten_observation

ROOT = Path(__file__).resolve().parents[1]
N_ACTIONS = 3
SPACES = {
    "box": gym.spaces.Box(-2.0, 2.0, (4,), np.float32),
    "discrete": gym.spaces.Discrete(6, start=1),
    "multidiscrete": gym.spaces.MultiDiscrete([3, 4]),
    "tuple": gym.spaces.Tuple((gym.spaces.Discrete(5), gym.spaces.Box(-1.0, 1.0, (2,), np.float32))),
    "dict": gym.spaces.Dict(
        {
            "pos": gym.spaces.Box(-1.0, 1.0, (2,), np.float32),
            "cell": gym.spaces.Discrete(4),
            "bits": gym.spaces.MultiBinary(2),
        }
    ),
    "pixels": gym.spaces.Box(0, 255, (24, 24, 2), np.uint8),
    "grid": gym.spaces.Box(0.0, 1.0, (10, 10, 4), bool),  # as minatar.gym declares it: 10x10 boolean channels
}
# kind -> (space, config fields)
KINDS = {
    "mlp": ("box", {}),
    "discrete": ("discrete", {}),
    "multidiscrete": ("multidiscrete", {}),
    "tuple": ("tuple", {}),
    "dict": ("dict", {}),
    "conv": ("pixels", {"conv_layers": ((4, 4, 2), (8, 3, 2)), "hidden_sizes": (16,)}),
    "minatar": ("grid", {"conv_layers": ((8, 3, 1),), "hidden_sizes": (16,)}),  # the MinAtar network, smaller
    "dueling": ("box", {"dueling": True}),
    "c51": ("box", {"distributional": True, "num_atoms": 11}),
    "noisy": ("box", {"noisy": True}),
    "layer_norm": ("box", {"layer_norm": True}),
}
MIRRORED = {"mlp", "conv", "minatar", "dueling", "c51", "noisy", "layer_norm"}
"""The kinds whose saved model the NumPy mirror computes (small convolutions included; the encoders of non-Box
observations act through TensorFlow)."""
# trained models the repository's scripts wrote, by the kind they are, with their environments (cheap ones)
TRAINED = {
    "cartpole_c51": ROOT / "results" / "cartpole" / "best.keras",
    "frozenlake_discrete": ROOT / "results" / "frozenlake_dqn" / "seed_0" / "best.keras",
}
TRAINED_ENVS = {"cartpole_c51": "CartPole-v1", "frozenlake_discrete": "FrozenLake-v1"}


class KindEnv(gym.Env):
    """Random observations of `space` (seeded by reset), 3 actions; action `t % 3` pays 1; 25 steps per episode."""

    def __init__(self, space: str = "box"):
        self.observation_space = SPACES[space]
        self.action_space = gym.spaces.Discrete(N_ACTIONS)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.observation_space.seed(int(self.np_random.integers(2**31)))
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        reward = float(int(action) == self.t % N_ACTIONS)
        self.t += 1
        return self.observation_space.sample(), reward, self.t >= 25, False, {}


def env_id(kind: str) -> str:
    """The registered id of `kind`'s environment (trained kinds: their own)."""
    if kind in TRAINED_ENVS:
        return TRAINED_ENVS[kind]
    space = KINDS[kind][0]
    name = f"tfdqn-test/Kind-{space}-v0"
    if name not in gym.registry:
        gym.register(name, entry_point=KindEnv, kwargs={"space": space})
    return name


def save_kind(kind: str, folder: Path) -> Path:
    """`kind`'s saved `.keras` model (seeded weights), written into `folder`; trained kinds: their file."""
    if kind in TRAINED:
        return TRAINED[kind]
    space, fields = KINDS[kind]
    keras.utils.set_random_seed(7)
    config = tfdqn.DQNConfig(env_id=env_id(kind), **{"hidden_sizes": (32, 32), **fields})
    agent = tfdqn.DQNAgent.from_spaces(flat_space(SPACES[space]), gym.spaces.Discrete(N_ACTIONS), config)
    return agent.save(folder / f"{kind}.keras")


def observation_space(kind: str) -> gym.Space:
    """The environment's own observation space of `kind` (a Tuple or Dict, not the flattened one)."""
    return SPACES[KINDS[kind][0]] if kind in KINDS else gym.make(TRAINED_ENVS[kind]).observation_space


def observations(kind: str, n: int = 1_000, seed: int = 0) -> np.ndarray:
    """`n` observations as the model takes them (flattened Tuple/Dict, the model's input dtype), seeded."""
    space = observation_space(kind)
    space.seed(seed)
    return np.stack([flatten_observation(space, space.sample()) for _ in range(n)])


def greedy_returns(q_fn, kind: str, dtype: np.dtype, episodes: int = 20) -> np.ndarray:
    """The returns of `episodes` greedy episodes (seeds 0..episodes-1, run side by side in a vector env) acting
    on `q_fn(batch) -> Q-values`."""
    envs = gym.vector.SyncVectorEnv([lambda: tfdqn.make_env(env_id(kind))] * episodes)
    try:
        obs, _ = envs.reset(seed=0)  # env i gets seed i
        totals, alive = np.zeros(episodes), np.ones(episodes, bool)
        while alive.any():
            actions = np.argmax(q_fn(np.asarray(obs, dtype=dtype)), axis=-1)
            obs, rewards, terminated, truncated, _ = envs.step(actions)
            totals += np.where(alive, rewards, 0.0)
            alive &= ~(terminated | truncated)
        return totals
    finally:
        envs.close()
