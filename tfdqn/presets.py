"""Every hyperparameter preset, and the config a training command uses for an environment.

`DQNConfig()`'s defaults are the general-purpose setting; a preset changes only the fields measurement showed
a task needs changed. Each preset is one entry: the environments it is for, its fields, and where its
evidence is (the docs' lab journal tells how each was chosen). The training command picks the preset
registered for its environment id unless told otherwise, and prints which it used.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from tfdqn.config import DQNConfig
from tfdqn.envs.minatar import GAMES as MINATAR_GAMES
from tfdqn.errors import ConfigError


@dataclass(frozen=True)
class Preset:
    """DQNConfig `fields` for the environments `env_ids`, and `evidence`: where the measurement that chose them
    is. A preset with a `command` is that command's defaults (`tfdqn pixels`, `tfdqn atari`), for its own
    family of environments, and not a `--preset` of `tfdqn train`."""

    env_ids: tuple[str, ...]
    fields: dict[str, Any] = field(default_factory=dict)
    evidence: str = ""
    command: str | None = None


# fmt: off
MINATAR_PAPER: dict[str, Any] = {
    "conv_layers": ((16, 3, 1),), "hidden_sizes": (128,), "initializer": "fan_in_uniform", "layer_norm": False,
    "optimizer": "rmsprop", "learning_rate": 2.5e-4, "learning_rate_final": None, "max_grad_norm": None,
    "loss": "huber", "gamma": 0.99, "double_dqn": False, "num_envs": 1, "buffer_size": 100_000, "batch_size": 32,
    "learning_starts": 5_000, "train_freq": 1, "gradient_steps": 1, "target_update_interval": 1_000, "tau": 1.0,
    "exploration": "linear", "epsilon_start": 1.0, "epsilon_end": 0.1, "epsilon_decay_steps": 100_000,
    "epsilon_decay_start": 5_000,
    "n_step": 1, "dueling": False, "prioritized": False, "noisy": False, "distributional": False,
    "jit_compile": True,
}
"""The MinAtar paper's DQN (Young & Tian 2019; its examples/dqn.py): one 16x3x3 convolution and 128 units with
PyTorch's initialisation, centred RMSProp 2.5e-4 without gradient clipping, Huber loss, replay 100k from 5,000
frames, batch 32, one update per frame, a target copy every 1,000, epsilon 1 -> 0.1 over the 100k frames after the
first 5,000 (`epsilon_decay_start`). Not the paper's but tfdqn's: XLA, which makes this network's single-step
update 1.3x faster (1.7x with the direct call that came with it: results/benchmark/update.md).
benchmarks/configs/minatar_paper.json holds the same."""

PRESETS: dict[str, Preset] = {
    "cartpole": Preset(
        ("CartPole-v1",),
        {
            "hidden_sizes": (64, 64), "learning_rate": 2.3e-3, "learning_rate_final": 0.0,
            "learning_rate_decay_steps": 25_000, "gamma": 0.98, "double_dqn": False, "batch_size": 128,
            "buffer_size": 100_000, "learning_starts": 1_000, "train_freq": 32, "gradient_steps": 128,
            "target_update_interval": 10, "tau": 1.0, "epsilon_end": 0.04, "epsilon_decay_steps": 8_000, "n_step": 3,
            "distributional": True, "num_atoms": 51, "v_min": 0.0, "v_max": 100.0,
        },
        "results/benchmark/cartpole.md (fresh seeds 10-19 beside SB3), screen/cartpole_round12.md",
    ),
    "lunarlander": Preset(
        ("LunarLander-v3",),
        {
            "learning_rate_final": 0.0, "learning_rate_decay_start": 49_000, "learning_rate_decay_steps": 50_000,
            "layer_norm": True,
        },
        "results/benchmark/pooled/lunarlander_preset.md (seeds 30-59), lunarlander.md (beside SB3)",
    ),
    "mountaincar": Preset(
        ("MountainCar-v0",),
        {
            "learning_rate": 0.009145580057174444, "n_step": 3, "batch_size": 64, "buffer_size": 10_000,
            "train_freq": 16, "gradient_steps": 8, "epsilon_decay_steps": 10_393,
        },
        "results/search/mountaincar/search.md (30 trials x seeds 0-2, trial t28), check/check.md (beside the "
        "defaults on seeds 100-109)",
    ),
    "pixels": Preset(
        (),
        {
            "conv_layers": ((16, 8, 4), (32, 4, 2)), "hidden_sizes": (256,), "jit_compile": True,
            "learning_rate": 2.5e-4, "max_grad_norm": 10.0, "gamma": 0.99, "buffer_size": 50_000, "batch_size": 32,
            "learning_starts": 2_000, "train_freq": 4, "gradient_steps": 1, "target_update_interval": 500,
            "epsilon_start": 1.0, "epsilon_end": 0.02, "epsilon_decay_steps": 20_000, "initializer": "he",
            "double_dqn": False, "tau": 1.0, "loss": "huber", "learning_rate_final": None,
        },
        "results/pixel_cartpole/ (tfdqn pixels, seed 0; measured with He init, pinned so it still describes it, and "
        "without XLA, which now makes its update 1.5x faster: results/benchmark/update.md)",
        "pixels",
    ),
    "atari": Preset(
        (),
        {
            "conv_layers": ((32, 8, 4), (64, 4, 2), (64, 3, 1)), "hidden_sizes": (512,), "jit_compile": False,
            "learning_rate": 1e-4, "max_grad_norm": 10.0, "gamma": 0.99, "buffer_size": 100_000, "batch_size": 32,
            "learning_starts": 100_000, "train_freq": 4, "gradient_steps": 1, "target_update_interval": 1_000,
            "epsilon_start": 1.0, "epsilon_end": 0.01, "epsilon_decay_steps": 1_000_000,
            "initializer": "fan_in_uniform", "double_dqn": False, "tau": 1.0, "loss": "huber",
            "learning_rate_final": None,
        },
        "the Nature DQN network with RL Baselines3 Zoo's Atari DQN settings (not measured here: no GPU; with "
        "shorter schedules it learns Pong in 1M agent steps: results/atari/pong/report.md)",
        "atari",
    ),
    "minatar": Preset(
        tuple(f"MinAtar/{game}-v{version}" for game in MINATAR_GAMES for version in (0, 1)),
        {
            **MINATAR_PAPER, "train_freq": 4, "optimizer": "adam", "learning_rate": 1e-4, "double_dqn": True,
            "dueling": True, "n_step": 3,
        },
        "results/minatar/screen2/report.md (candidate cheap_parts_tf4: 5 games x seeds 0-1 x 500k frames, chosen by "
        "the rule in docs/lab-journal.md), results/minatar/report.md (seeds 100-102: short of the paper's DQN at 5M)",
    ),
}
"""name -> `Preset`. "rainbow" (`STACKED_PRESETS`) stacks on an environment's own preset; "pixels" and "atari"
are the defaults of `tfdqn pixels` and `tfdqn atari`."""

RAINBOW_FIELDS: dict[str, Any] = {
    "double_dqn": True, "dueling": True, "n_step": 3, "prioritized": True, "priority_alpha": 0.5,
    "priority_beta": 0.4, "noisy": True, "noisy_sigma": 0.5, "distributional": True, "num_atoms": 51,
}
# fmt: on
"""The "rainbow" preset (Hessel et al. 2018: n = 3, alpha 0.5, beta 0.4 -> 1, sigma_0 0.5, 51 atoms), on top of the
environment's own config; evidence: results/benchmark/rainbow.md, lunarlander_rainbow/ (it is not the default)."""

RAINBOW_SUPPORT: dict[str, tuple[float, float]] = {"CartPole-v1": (0.0, 100.0), "LunarLander-v3": (-300.0, 300.0)}
"""[v_min, v_max] of C51's support per environment (the paper's [-10, 10] fits clipped Atari rewards): CartPole's
returns lie in [0, 1 / (1 - gamma)] at gamma 0.99; LunarLander's episode returns within +-300."""

RAINBOW_OFF: dict[str, Any] = {
    "n_step": 1,
    "dueling": False,
    "prioritized": False,
    "noisy": False,
    "distributional": False,
}
"""The fields that turn every Rainbow part but Double DQN off (DQNConfig's defaults for them)."""

RL_ZOO: dict[str, dict[str, Any]] = {
    "CartPole-v1": {
        "learning_rate": 2.3e-3,
        "batch_size": 64,
        "buffer_size": 100_000,
        "learning_starts": 1_000,
        "gamma": 0.99,
        "target_update_interval": 10,
        "train_freq": 256,
        "gradient_steps": 128,
        "exploration_fraction": 0.16,
        "exploration_final_eps": 0.04,
        "policy_kwargs": {"net_arch": [256, 256]},
    },
    "LunarLander-v3": {
        "learning_rate": 6.3e-4,
        "batch_size": 128,
        "buffer_size": 50_000,
        "learning_starts": 0,
        "gamma": 0.99,
        "target_update_interval": 250,
        "train_freq": 4,
        "gradient_steps": 4,
        "exploration_fraction": 0.12,
        "exploration_final_eps": 0.1,
        "policy_kwargs": {"net_arch": [256, 256]},
    },
    "MountainCar-v0": {
        "learning_rate": 4e-3,
        "batch_size": 128,
        "buffer_size": 10_000,
        "learning_starts": 1_000,
        "gamma": 0.98,
        "target_update_interval": 600,
        "train_freq": 16,
        "gradient_steps": 8,
        "exploration_fraction": 0.2,
        "exploration_final_eps": 0.07,
        "policy_kwargs": {"net_arch": [256, 256]},
    },
}
"""RL Baselines3 Zoo's tuned DQN hyperparameters (hyperparams/dqn.yml, in SB3's terms; gradient_steps -1 there, for
LunarLander and Acrobot, is one gradient step per env step collected, here 4 every 4): the benchmarks' SB3
settings. The Zoo's budgets: CartPole 50k, Acrobot 100k, MountainCar 120k, LunarLander 100k env steps."""
RL_ZOO["Acrobot-v1"] = dict(RL_ZOO["LunarLander-v3"])  # the Zoo's Acrobot settings are LunarLander's, value for value

BUDGETS: dict[str, int] = {"CartPole-v1": 50_000, "LunarLander-v3": 100_000, "MountainCar-v0": 120_000}
"""The env-step budget each environment's defaults were measured with: the training command's default --steps."""

NO_PRESET = "none"
"""The preset name meaning "no preset: the plain `DQNConfig` defaults" (what `--preset none` passes)."""

STACKED_PRESETS = ("rainbow",)
"""Presets for any environment, applied on top of the environment's own preset."""


def rainbow_fields(env_id: str) -> dict[str, Any]:
    """The fields of the "rainbow" preset for `env_id`: every part on, and the support for its returns."""
    fields = dict(RAINBOW_FIELDS)
    if env_id in RAINBOW_SUPPORT:
        fields["v_min"], fields["v_max"] = RAINBOW_SUPPORT[env_id]
    return fields


def parts_on(config: Any) -> list[str]:
    """Names of the Rainbow parts (but Double DQN) a `DQNConfig` has on, for reports."""
    atoms = f"C51 ({config.num_atoms} atoms on [{config.v_min:g}, {config.v_max:g}])"
    parts = (
        (f"{config.n_step}-step returns", config.n_step > 1),
        (atoms, config.distributional),
        ("dueling head", config.dueling),
        ("prioritized replay", config.prioritized),
        ("noisy nets", config.noisy),
    )
    return [name for name, on in parts if on]


def zoo_fields(env_id: str, budget: int) -> dict[str, Any]:
    """The DQNConfig fields that reproduce RL-Zoo's settings for `env_id` (and SB3's fixed choices) in tfdqn, for a
    run of `budget` env steps (SB3's exploration is a fraction of the budget)."""
    if env_id not in RL_ZOO:
        raise ConfigError(f"RL-Zoo has no DQN settings for {env_id} here; known: {', '.join(RL_ZOO)}")
    z = RL_ZOO[env_id]
    return {
        "learning_rate": z["learning_rate"],
        "batch_size": z["batch_size"],
        "buffer_size": z["buffer_size"],
        "learning_starts": z["learning_starts"],
        "gamma": z["gamma"],
        "target_update_interval": z["target_update_interval"],
        "train_freq": z["train_freq"],
        "gradient_steps": z["gradient_steps"],
        "exploration": "linear",
        "epsilon_start": 1.0,
        "epsilon_end": z["exploration_final_eps"],
        "epsilon_decay_steps": int(z["exploration_fraction"] * budget),
        "hidden_sizes": tuple(z["policy_kwargs"]["net_arch"]),
        # SB3 DQN's fixed choices: global grad-norm clip 10, smooth L1 (= Huber, delta 1), plain DQN target, hard
        # target copy, constant learning rate, PyTorch's initialisation, one environment, no Rainbow part.
        "max_grad_norm": 10.0,
        "loss": "huber",
        "double_dqn": False,
        "tau": 1.0,
        "num_envs": 1,
        "learning_rate_final": None,
        "initializer": "fan_in_uniform",
        **RAINBOW_OFF,
    }


def preset_for_env(env_id: str) -> str | None:
    """The name of the preset registered for `env_id`, or None (the plain defaults)."""
    return next((name for name, p in PRESETS.items() if env_id in p.env_ids), None)


def budget_for_env(env_id: str, default: int = 50_000) -> int:
    """The env-step budget `env_id`'s config was measured with (`BUDGETS`), else `default`."""
    return BUDGETS.get(env_id, default)


def preset_fields(name: str, env_id: str) -> dict[str, Any]:
    """The fields preset `name` sets (`{}` for `NO_PRESET`); a `ConfigError` for an unknown name or a preset
    meant for another env."""
    if name == NO_PRESET:
        return {}
    if name == "rainbow":
        own = preset_for_env(env_id)
        return {**(preset_fields(own, env_id) if own else {}), **rainbow_fields(env_id)}
    known = [*(n for n, p in PRESETS.items() if p.command is None), *STACKED_PRESETS, NO_PRESET]
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        command = f" (the defaults of `tfdqn {PRESETS[name].command}`)" if name in PRESETS else ""
        raise ConfigError(f"unknown preset {name!r}{command}{hint}; presets: {', '.join(sorted(known))}")
    preset = PRESETS[name]
    if preset.env_ids and env_id not in preset.env_ids:
        raise ConfigError(f"preset {name!r} is for {', '.join(preset.env_ids)}, not {env_id}")
    return dict(preset.fields)


def resolve_preset(env_id: str, preset: str | None = "auto") -> str | None:
    """The preset a `preset` argument means for `env_id`: "auto" the registered one (or None), None or
    `NO_PRESET` None (the plain defaults), any other name itself (checked by `preset_fields`)."""
    if preset == "auto":
        return preset_for_env(env_id)
    return None if preset in (None, NO_PRESET) else preset


def config_for_env(env_id: str = "CartPole-v1", preset: str | None = "auto", **fields: Any) -> DQNConfig:
    """`DQNConfig` for `env_id`: the defaults, then the preset ("auto": the one registered for `env_id`;
    None or `NO_PRESET` ("none"): no preset; or a name), then `fields`."""
    name = resolve_preset(env_id, preset)
    values = preset_fields(name, env_id) if name is not None else {}
    values.update(fields)
    values["env_id"] = env_id
    return DQNConfig.from_dict(values)
