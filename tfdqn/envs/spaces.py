"""Observation spaces other than a plain Box: how each is stored (compact, raw) and encoded inside the model
(the encoder layers themselves are `tfdqn.networks.encoders`).

A saved `.keras` Q-network takes the environment's raw observation, whatever its space:

| space | the model takes | encoded inside the model as |
| --- | --- | --- |
| `Box` (n,) / (h, w, c) uint8 | the observation | itself (the MLP) / the conv net, as before |
| `Box` (h, w, c) bool (MinAtar) | the booleans | cast to 0/1 floats, then the conv net |
| `Box` of any other shape | the observation | its values, flattened |
| `Discrete(n, start)` | the integer (a batch has shape (batch,)) | one-hot of `obs - start`, n wide |
| `MultiDiscrete(nvec, start)` | the integer array | one one-hot per element, concatenated |
| `MultiBinary(n)` | the 0/1 array | its bits as 0/1 features |
| `Tuple`, `Dict` of the above | `flatten_observation(space, obs)` | each part as above, concatenated |

A Keras model cannot take a nested tuple or dict as one input, so for `Tuple` and `Dict` the model takes the
output of `flatten_observation`: every leaf's raw values raveled (a `Discrete` leaf is its one integer, not a
one-hot) and concatenated in the space's own order (a `Tuple`'s positions; a `Dict`'s `space.spaces` keys, which
Gymnasium sorts when the space is built from a plain dict), depth first. `tfdqn.make_env` applies it for you
(the `RawObservation` wrapper), and so does `tfdqn evaluate`. The replay buffer stores this compact form: a
FrozenLake state is one integer, not sixteen floats.

The encoding uses built-in Keras layers only (`Reshape`, `Flatten`, `Rescaling` to shift each categorical value
to its own block of columns, a frozen identity `Embedding` for the one-hots (XLA compiles its gather; the
matrix is width x width, hence `MAX_ONE_HOT_WIDTH`), a frozen `Dense` that selects the numeric
or the categorical entries of a mixed vector, `Concatenate`), so `keras.models.load_model(path)` loads the model
with `safe_mode` on and without tfdqn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

import gymnasium as gym
import numpy as np

from tfdqn.errors import EnvError, ModelFileError

MAX_ONE_HOT_WIDTH = 2_048
"""Widest one-hot encoding accepted (summed over the categorical parts of an observation): the frozen identity
matrix that encodes it holds width**2 floats (16 MB at this width); Taxi-v3's 500 states need 500."""


@dataclass(frozen=True)
class Leaf:
    """One part of a flattened observation: `size` consecutive entries, numeric or categorical.

    A categorical leaf has one entry per category variable; entry i takes `starts[i]` .. `starts[i] +
    categories[i] - 1`.
    """

    path: str
    space: gym.Space
    size: int
    categorical: bool
    categories: tuple[int, ...] = ()
    starts: tuple[int, ...] = ()


class FlatBox(gym.spaces.Box):
    """The `Box` of `flatten_observation`'s output for a `Tuple` or `Dict` space; `original` is that space.

    Vector environments copy the single environment's space object, so the encoding survives batching.
    """

    def __init__(self, original: gym.Space, low: np.ndarray, high: np.ndarray, dtype: np.dtype):
        super().__init__(low=low, high=high, shape=low.shape, dtype=dtype)
        self.original = original


def leaves(space: gym.Space, path: str = "observation") -> list[Leaf]:
    """The leaves of `space` in `flatten_observation`'s order; `EnvError` naming any unsupported part."""
    if isinstance(space, gym.spaces.Tuple):
        return [leaf for i, sub in enumerate(space.spaces) for leaf in leaves(sub, f"{path}[{i}]")]
    if isinstance(space, gym.spaces.Dict):
        return [leaf for key, sub in space.spaces.items() for leaf in leaves(sub, f"{path}[{key!r}]")]
    if isinstance(space, gym.spaces.Discrete):
        return [Leaf(path, space, 1, True, (int(space.n),), (int(space.start),))]
    if isinstance(space, gym.spaces.MultiDiscrete):
        return [
            Leaf(
                path,
                space,
                int(space.nvec.size),
                True,
                tuple(int(n) for n in space.nvec.ravel()),
                tuple(int(s) for s in np.broadcast_to(space.start, space.nvec.shape).ravel()),
            )
        ]
    if isinstance(space, (gym.spaces.MultiBinary, gym.spaces.Box)):
        return [Leaf(path, space, int(np.prod(space.shape)), False)]
    raise EnvError(
        f"{path} is a {type(space).__name__} space ({space}), which tfdqn cannot encode: it takes "
        "Box, Discrete, MultiDiscrete, MultiBinary, and Tuple or Dict spaces of these; write a "
        "gymnasium.ObservationWrapper that maps it to one of them"
    )


def flatten_observation(space: gym.Space, obs: Any) -> np.ndarray:
    """A `Tuple`/`Dict` observation as one flat array of its leaves' raw values, in `leaves`' order.

    Integers stay integers (a `Discrete` leaf is its one value, not a one-hot); the result is float32 when
    any leaf is a `Box`, else int64. Other spaces' observations are returned as arrays, unchanged.
    """
    if not isinstance(space, (gym.spaces.Tuple, gym.spaces.Dict)):
        return np.asarray(obs, dtype=space.dtype)
    parts: list[np.ndarray] = []
    _collect(space, obs, parts)
    return np.concatenate(parts).astype(_flat_dtype(space), copy=False)


def _collect(space: gym.Space, obs: Any, parts: list[np.ndarray]) -> None:
    if isinstance(space, gym.spaces.Tuple):
        for sub, value in zip(space.spaces, obs):
            _collect(sub, value, parts)
    elif isinstance(space, gym.spaces.Dict):
        for key, sub in space.spaces.items():
            _collect(sub, obs[key], parts)
    else:
        parts.append(np.asarray(obs).ravel())


def _flat_dtype(space: gym.Space) -> np.dtype:
    boxes = [leaf for leaf in leaves(space) if isinstance(leaf.space, gym.spaces.Box)]
    return np.dtype(np.float32) if boxes else np.dtype(np.int64)


def flat_space(space: gym.Space) -> gym.Space:
    """The space of what the model takes: `space` itself, or for `Tuple`/`Dict` the `FlatBox` of
    `flatten_observation`'s output (checked: every part supported)."""
    check_observation_space(space)
    if not isinstance(space, (gym.spaces.Tuple, gym.spaces.Dict)):
        return space
    dtype = _flat_dtype(space)
    lows, highs = [], []
    for leaf_space in (leaf.space for leaf in leaves(space)):
        if isinstance(leaf_space, gym.spaces.Box):
            low, high = leaf_space.low.ravel(), leaf_space.high.ravel()
        elif isinstance(leaf_space, gym.spaces.Discrete):
            low = np.array([leaf_space.start])
            high = low + leaf_space.n - 1
        elif isinstance(leaf_space, gym.spaces.MultiDiscrete):
            low = np.broadcast_to(leaf_space.start, leaf_space.nvec.shape).ravel()
            high = low + leaf_space.nvec.ravel() - 1
        else:
            assert isinstance(leaf_space, gym.spaces.MultiBinary)  # the one leaf space left
            low, high = np.zeros(leaf_space.n).ravel(), np.ones(leaf_space.n).ravel()
        lows.append(np.asarray(low, dtype=np.float64))
        highs.append(np.asarray(high, dtype=np.float64))
    return FlatBox(space, np.concatenate(lows).astype(dtype), np.concatenate(highs).astype(dtype), dtype)


def original_space(space: gym.Space) -> gym.Space:
    """The environment's own space behind a `FlatBox`, else `space`."""
    return space.original if isinstance(space, FlatBox) else space


def check_observation_space(space: gym.Space) -> None:
    """Raise `EnvError` naming the part of `space` tfdqn cannot encode (a Text, Graph, Sequence or OneOf
    space, or one-hots wider than `MAX_ONE_HOT_WIDTH` in all)."""
    width = sum(sum(leaf.categories) for leaf in leaves(original_space(space)) if leaf.categorical)
    if width > MAX_ONE_HOT_WIDTH:
        raise EnvError(
            f"observation space {space} needs one-hot encodings {width:,} wide in all (tfdqn's limit "
            f"is {MAX_ONE_HOT_WIDTH:,}); use an ObservationWrapper that gives a Box of features"
        )


def is_plain(space: gym.Space) -> TypeGuard[gym.spaces.Box]:
    """True for the spaces the Q-network builders take directly: a Box vector (n,) or image (h, w, c)."""
    return is_box(space) and len(space.shape) in (1, 3)


def encoded_size(space: gym.Space) -> int:
    """Width of the encoded feature vector the MLP reads (one-hots counted in full)."""
    return sum(sum(leaf.categories) if leaf.categorical else leaf.size for leaf in leaves(original_space(space)))


def replay_dtype(space: gym.Space) -> np.dtype:
    """How the replay buffer stores observations of `space`: uint8 (images) stays uint8 and a boolean Box
    (MinAtar's grids) bool, one byte per cell; the integer spaces (`Discrete`, `MultiDiscrete`, `MultiBinary`,
    an all-integer `FlatBox`) keep their integer dtype, one value per category variable; everything else is
    float32."""
    dtype = np.dtype(space.dtype)
    if dtype == np.uint8 or (dtype == np.bool_ and is_box(space)):
        return dtype
    if not is_box(space) and np.issubdtype(dtype, np.integer):
        return dtype
    return np.dtype(np.float32)


def is_box(space: gym.Space) -> TypeGuard[gym.spaces.Box]:
    """True for an environment's own `Box` (not the `FlatBox` standing for a Tuple or Dict)."""
    return isinstance(space, gym.spaces.Box) and not isinstance(space, FlatBox)


def image_input_dtype(space: gym.Space) -> str:
    """The dtype the convolutional Q-network's input takes for an image `space`: "bool" for a boolean grid
    (MinAtar; cast to 0/1 floats inside the model), else "uint8" (pixels, scaled by 1/255 inside the model)."""
    return "bool" if np.dtype(space.dtype) == np.bool_ else "uint8"


def network_input_shape(space: gym.Space) -> tuple[int, ...]:
    """The shape the Q-network builders are given: the observation's own for a plain Box, else the width of
    the encoded feature vector, (encoded_size,)."""
    return tuple(space.shape) if is_plain(space) else (encoded_size(space),)


class RawObservation(gym.ObservationWrapper):
    """Gives non-Box observations as NumPy arrays: a `Discrete` state as a 0-d integer array (so `obs[None]`
    is a batch of one), a `Tuple`/`Dict` observation as `flatten_observation`'s flat array (space: `FlatBox`)."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.observation_space = flat_space(env.observation_space)
        self._source = env.observation_space

    def observation(self, observation: Any) -> np.ndarray:
        return flatten_observation(self._source, observation)


def needs_wrapper(space: gym.Space) -> bool:
    """True when `RawObservation` should wrap an environment with this observation space."""
    return not isinstance(space, gym.spaces.Box)


def check_model_fits(model, space: gym.Space, where: str) -> None:
    """`ModelFileError` unless `model` takes observations of `space` as the environment gives them: the same
    raw shape and, for categorical observations, one-hots of the same width (a FrozenLake 4x4 model's 16
    states cannot read FrozenLake 8x8's 64). `where` names the model in the message."""
    expected = tuple(model.inputs[0].shape[1:])
    assert space.shape is not None  # every space tfdqn encodes has one (make_env flattens Tuple and Dict)
    if expected != tuple(space.shape):
        raise ModelFileError(
            f"{where} takes observations of shape {expected} but the environment gives "
            f"{tuple(space.shape)} ({original_space(space)})"
        )
    width = sum(sum(leaf.categories) for leaf in leaves(original_space(space)) if leaf.categorical)
    lookup = next((layer for layer in model.layers if layer.name == "one_hot_rows"), None)
    model_width = 0 if lookup is None else int(lookup.input_dim)
    if model_width != width:
        raise ModelFileError(
            f"{where} one-hot encodes {model_width} categories but the environment's "
            f"observation space {original_space(space)} has {width}"
        )
