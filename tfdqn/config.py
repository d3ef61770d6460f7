"""`DQNConfig`: every DQN hyperparameter in one frozen, validated, JSON-serialisable dataclass."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfdqn.errors import ArgumentError, ConfigError
from tfdqn.validation import (
    CheckedFields,
    check_exploration,
    check_field_names,
    invalid,
    is_int,
    is_real,
    plain_scalars,
)

LOSSES = ("huber", "mse")
OPTIMIZERS = ("adam", "rmsprop")
"""`optimizer` choices: Adam (Keras defaults but the learning rate), or centred RMSProp with the DQN papers'
squared-gradient momentum 0.95 and minimum squared gradient 0.01 (`tfdqn.dqn.learning_rate.make_optimizer`)."""
INITIALIZERS = ("fan_in_uniform", "he")
"""Weight initialisation schemes (see `tfdqn.networks.build`): "fan_in_uniform" draws kernels and biases from
U(+-1/sqrt(fan_in)), PyTorch's `nn.Linear`/`nn.Conv2d` default; "he" is He-normal hidden kernels, a
Glorot-uniform output kernel and zero biases (Keras's usual choice, ~2.45x larger per layer)."""
NATURE_CONV_LAYERS: tuple[tuple[int, int, int], ...] = ((32, 8, 4), (64, 4, 2), (64, 3, 1))
"""(filters, kernel_size, stride) of the convolutions of Mnih et al. (2015), "Human-level control"."""


@dataclass(frozen=True)
class DQNConfig(CheckedFields):
    """Hyperparameters of a DQN run. The defaults are the general-purpose setting (measured on LunarLander-v3
    and CartPole-v1; see the README): PyTorch-style initialisation, Adam 6.3e-4, one gradient step of 128 per
    env step, Double DQN with a Polyak-averaged target. `tfdqn.config_for_env` adds an environment's preset
    (CartPole-v1 has one); `tfdqn.PRESETS` lists them.

    Every interval is counted in environment steps summed over all parallel environments, so
    `num_envs` changes how experience is collected, not how much learning happens per env step.
    """

    env_id: str = "CartPole-v1"
    seed: int = 0
    num_envs: int = 1
    # Q-network and optimisation
    hidden_sizes: tuple[int, ...] = (256, 256)  # the MLP, or the dense part after the convolutions
    # image observations (height, width, channels) only: (filters, kernel_size, stride) per Conv2D
    conv_layers: tuple[tuple[int, int, int], ...] = NATURE_CONV_LAYERS
    initializer: str = "fan_in_uniform"  # see INITIALIZERS; the step size of every default assumes it
    layer_norm: bool = False  # LayerNormalization in each hidden layer, before its ReLU
    optimizer: str = "adam"  # see OPTIMIZERS
    learning_rate: float = 6.3e-4
    # linear decay from learning_rate to learning_rate_final over learning_rate_decay_steps env steps, after
    # learning_rate_decay_start env steps at learning_rate (both counted from the first update); None keeps
    # learning_rate constant
    learning_rate_final: float | None = None
    learning_rate_decay_steps: int = 50_000
    learning_rate_decay_start: int = 0  # env steps of updates at learning_rate before the decay begins
    max_grad_norm: float | None = 10.0  # global norm; None disables clipping
    loss: str = "huber"
    gamma: float = 0.99
    double_dqn: bool = True
    jit_compile: bool = True
    # replay and update schedule
    buffer_size: int = 100_000
    batch_size: int = 128
    learning_starts: int = 1_000  # uniformly random steps before the first update
    train_freq: int = 4  # env steps between training calls
    gradient_steps: int = 4  # gradient steps per training call (one compiled call): 1 per env step
    target_update_interval: int = 4  # env steps between target updates
    tau: float = 0.02  # 1.0 = hard copy; < 1 = Polyak averaging at each target update (0.02 every 4 steps)
    # exploration
    exploration: str = "linear"
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int = 10_000  # linear: steps from start to end
    epsilon_decay_start: int = 0  # linear: env steps at epsilon_start before the decay begins
    epsilon_decay_rate: float = 5e-4  # exponential: end + (start - end) * exp(-rate * step)
    epsilon_multiplier: float = 0.995  # multiplicative: start * multiplier ** episode, floored at end
    # Rainbow's parts (Hessel et al. 2018), each off by default and switchable alone (README: "Rainbow");
    # the "rainbow" preset turns them all on. Double DQN is `double_dqn` above.
    dueling: bool = False  # Q = V + A - mean(A), the aggregation a fixed linear layer
    n_step: int = 1  # rewards summed per target; bootstrap with gamma**n (1: one-step DQN)
    prioritized: bool = False  # proportional prioritized replay (sum-tree)
    priority_alpha: float = 0.6  # priority = (|TD error| + priority_eps) ** alpha
    priority_eps: float = 1e-6
    priority_beta: float = 0.4  # importance-weight exponent at the first update, annealed linearly to 1
    priority_beta_steps: int | None = None  # env steps to anneal beta over; None: the run's total_steps
    noisy: bool = False  # factorised Gaussian noisy layers replace epsilon-greedy (epsilon is 0 when on)
    noisy_sigma: float = 0.5  # sigma_0: initial noise scale sigma_0 / sqrt(fan_in)
    distributional: bool = False  # C51: a categorical return distribution, cross-entropy loss
    num_atoms: int = 51
    v_min: float = -10.0  # support of the return distribution, [v_min, v_max]
    v_max: float = 10.0

    def __post_init__(self) -> None:
        plain_scalars(self)
        if isinstance(self.hidden_sizes, (list, tuple)):  # NumPy integers become ints; 64.5 stays, refused below
            object.__setattr__(self, "hidden_sizes", tuple(int(h) if is_int(h) else h for h in self.hidden_sizes))
        if isinstance(self.conv_layers, (list, tuple)):  # JSON gives lists of lists
            object.__setattr__(
                self,
                "conv_layers",
                tuple(tuple(layer) if isinstance(layer, (list, tuple)) else layer for layer in self.conv_layers),
            )
        self.validate()

    def validate(self) -> None:
        """Raise `ConfigError` naming the first field whose value is invalid."""

        def bad(name: str, why: str) -> ConfigError:
            return invalid(self, name, why)

        if not isinstance(self.env_id, str) or not self.env_id:
            raise bad("env_id", "must be a non-empty environment id")
        for name in ("seed",):
            if not is_int(getattr(self, name)) or getattr(self, name) < 0:
                raise bad(name, "must be a non-negative integer")
        for name in (
            "num_envs",
            "buffer_size",
            "batch_size",
            "train_freq",
            "gradient_steps",
            "target_update_interval",
            "epsilon_decay_steps",
            "learning_rate_decay_steps",
        ):
            if not is_int(getattr(self, name)) or getattr(self, name) < 1:
                raise bad(name, "must be a positive integer")
        for name in ("learning_starts", "learning_rate_decay_start", "epsilon_decay_start"):
            if not is_int(getattr(self, name)) or getattr(self, name) < 0:
                raise bad(name, "must be a non-negative integer")
        if self.epsilon_decay_start and self.exploration != "linear":
            raise bad("epsilon_decay_start", f"delays the linear schedule only, not exploration={self.exploration!r}")
        if (
            not isinstance(self.hidden_sizes, tuple)
            or not self.hidden_sizes
            or any(not is_int(h) or h < 1 for h in self.hidden_sizes)
        ):
            raise bad("hidden_sizes", "must be a non-empty sequence of positive integer layer widths")
        if (
            not isinstance(self.conv_layers, tuple)
            or not self.conv_layers
            or any(
                not isinstance(layer, tuple) or len(layer) != 3 or not all(is_int(v) and v >= 1 for v in layer)
                for layer in self.conv_layers
            )
        ):
            raise bad(
                "conv_layers",
                "must be a non-empty sequence of (filters, kernel_size, stride) triples of positive integers",
            )
        if not is_real(self.learning_rate) or not self.learning_rate > 0:
            raise bad("learning_rate", "must be a positive number")
        if self.learning_rate_final is not None and (
            not is_real(self.learning_rate_final) or not 0 <= self.learning_rate_final <= self.learning_rate
        ):
            raise bad("learning_rate_final", f"must be None or lie in [0, learning_rate={self.learning_rate}]")
        if self.initializer not in INITIALIZERS:
            raise bad("initializer", f"must be one of {INITIALIZERS}")
        if not isinstance(self.layer_norm, bool):
            raise bad("layer_norm", "must be True or False")
        if self.max_grad_norm is not None and (not is_real(self.max_grad_norm) or not self.max_grad_norm > 0):
            raise bad("max_grad_norm", "must be a positive number or None")
        if self.optimizer not in OPTIMIZERS:
            raise bad("optimizer", f"must be one of {OPTIMIZERS}")
        if self.loss not in LOSSES:
            raise bad("loss", f"must be one of {LOSSES}")
        if not is_real(self.gamma) or not 0 < self.gamma <= 1:
            raise bad("gamma", "must lie in (0, 1]")
        if not is_real(self.tau) or not 0 < self.tau <= 1:
            raise bad("tau", "must lie in (0, 1]")
        if self.batch_size > self.buffer_size:
            raise ConfigError(
                f"DQNConfig.batch_size={self.batch_size} is invalid: larger than buffer_size={self.buffer_size}"
            )
        check_exploration(self)
        self._validate_rainbow(bad)
        for name in ("double_dqn", "jit_compile"):
            if not isinstance(getattr(self, name), bool):
                raise bad(name, "must be True or False")

    def _validate_rainbow(self, bad) -> None:
        for name in ("dueling", "prioritized", "noisy", "distributional"):
            if not isinstance(getattr(self, name), bool):
                raise bad(name, "must be True or False")
        if not is_int(self.n_step) or self.n_step < 1:
            raise bad("n_step", "must be a positive integer")
        if not is_real(self.priority_alpha) or not 0 <= self.priority_alpha <= 1:
            raise bad("priority_alpha", "must lie in [0, 1]")
        if not is_real(self.priority_beta) or not 0 <= self.priority_beta <= 1:
            raise bad("priority_beta", "must lie in [0, 1]")
        if not is_real(self.priority_eps) or not self.priority_eps > 0:
            raise bad("priority_eps", "must be a positive number")
        if self.priority_beta_steps is not None and (
            not is_int(self.priority_beta_steps) or self.priority_beta_steps < 1
        ):
            raise bad("priority_beta_steps", "must be None or a positive integer")
        if not is_real(self.noisy_sigma) or not self.noisy_sigma > 0:
            raise bad("noisy_sigma", "must be a positive number")
        if not is_int(self.num_atoms) or self.num_atoms < 2:
            raise bad("num_atoms", "must be an integer of at least 2")
        for name in ("v_min", "v_max"):
            if not is_real(getattr(self, name)):
                raise bad(name, "must be a finite number")
        if not self.v_min < self.v_max:
            raise bad("v_max", f"must exceed v_min={self.v_min}")

    def replace(self, **changes: Any) -> DQNConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        d = dataclasses.asdict(self)
        d["hidden_sizes"] = list(self.hidden_sizes)
        d["conv_layers"] = [list(layer) for layer in self.conv_layers]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DQNConfig:
        """Build from `to_dict()` output; unknown keys are an error rather than silently ignored."""
        check_field_names(cls, data)
        data = dict(data)
        if "hidden_sizes" in data:
            data["hidden_sizes"] = tuple(data["hidden_sizes"])
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DQNConfig:
        return cls.from_dict(_json_object(text, "config"))


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """The DQNConfig fields in `path` (names checked, values not; see `read_object_file` for the formats).
    A misspelt field is a ConfigError naming it and the closest valid name."""
    data = read_object_file(path)
    check_field_names(DQNConfig, data, where=f"config file {str(path)!r} has")
    return data


def read_object_file(path: str | os.PathLike) -> dict[str, Any]:
    """The object in `path`: a `.toml` file's table (Python's built-in `tomllib`; TOML has no null, so a field
    set to None needs JSON), any other file's JSON object (e.g. a saved config.json). A missing file, or one
    that is not an object of that format, is a ConfigError naming the file."""
    path = Path(path)
    what = f"config file {str(path)!r}"
    if not path.is_file():
        raise ConfigError(f"{what} does not exist")
    if path.suffix.lower() == ".toml":
        import tomllib

        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{what} is not valid TOML: {exc}") from None
    return _json_object(path.read_text(encoding="utf-8"), what)


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} must hold a JSON object")
    return data


def check_config(config: Any) -> DQNConfig:
    """`config` if it is a `DQNConfig`, else an `ArgumentError` saying how to make one."""
    if isinstance(config, DQNConfig):
        return config
    if isinstance(config, dict):
        raise ArgumentError(
            "config is a dict: pass DQNConfig.from_dict(...) (or DQNConfig(**...), or "
            "tfdqn.config_for_env(env_id).replace(...)) instead"
        )
    if isinstance(config, type) and issubclass(config, DQNConfig):
        raise ArgumentError("config is the DQNConfig class: did you mean DQNConfig()?")
    raise ArgumentError(f"config={config!r} is invalid: pass a tfdqn.DQNConfig")
