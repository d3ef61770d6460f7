"""Rainbow (Hessel et al. 2018): the fields that turn on all six of its parts at once, scaled to these tasks.

`config_for_env(env_id, preset="rainbow")` (or `--preset rainbow`) is the environment's own config (its
registered preset, if any) with these on top; each part stays a `DQNConfig` switch of its own.
"""

from __future__ import annotations

from typing import Any

RAINBOW_FIELDS: dict[str, Any] = {
    "double_dqn": True,
    "dueling": True,
    "n_step": 3,
    "prioritized": True,
    "priority_alpha": 0.5,
    "priority_beta": 0.4,
    "noisy": True,
    "noisy_sigma": 0.5,
    "distributional": True,
    "num_atoms": 51,
}
"""The paper's settings (n = 3, alpha 0.5, beta 0.4 -> 1, sigma_0 0.5, 51 atoms); its Atari-scale learning
rate, replay and target period are not copied: the environment's own config keeps its measured ones."""

RAINBOW_SUPPORT: dict[str, tuple[float, float]] = {
    "CartPole-v1": (0.0, 100.0),  # +1 per step: returns lie in [0, 1 / (1 - gamma)] = [0, 100] at gamma 0.99
    "LunarLander-v3": (-300.0, 300.0),  # crash -100, landing +100..140, shaping: episode returns within +-300
}
"""[v_min, v_max] of C51's support per environment: the paper's [-10, 10] fits clipped Atari rewards, not
these. Other environments keep `DQNConfig`'s [-10, 10] unless told otherwise."""


RAINBOW_OFF: dict[str, Any] = {
    "n_step": 1,
    "dueling": False,
    "prioritized": False,
    "noisy": False,
    "distributional": False,
}
"""The fields that turn every part but Double DQN off (DQNConfig's defaults for them)."""


def parts_on(config: Any) -> list[str]:
    """Names of the Rainbow parts (but Double DQN) a `DQNConfig` has on, for reports."""
    return [
        name
        for name, on in (
            (f"{config.n_step}-step returns", config.n_step > 1),
            (f"C51 ({config.num_atoms} atoms on [{config.v_min:g}, {config.v_max:g}])", config.distributional),
            ("dueling head", config.dueling),
            ("prioritized replay", config.prioritized),
            ("noisy nets", config.noisy),
        )
        if on
    ]


def rainbow_fields(env_id: str) -> dict[str, Any]:
    """The fields of the "rainbow" preset for `env_id`: every part on, and the support for its returns."""
    fields = dict(RAINBOW_FIELDS)
    if env_id in RAINBOW_SUPPORT:
        fields["v_min"], fields["v_max"] = RAINBOW_SUPPORT[env_id]
    return fields
