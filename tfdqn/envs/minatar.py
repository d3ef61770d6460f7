"""MinAtar (Young & Tian 2019): five Atari-like games on a 10x10 grid of boolean channels, registered on demand.

`minatar` 1.0.15 registers its games only when `minatar.gym.register_envs()` is called (Gymnasium 1.x no longer
loads its plugin entry point), so `ensure_registered` does it the first time an id of the form
`MinAtar/<Game>-v<N>` is asked for. `-v0` has all 6 actions (the paper's setting), `-v1` each game's minimal
action set. Observations are `Box(False, True, (10, 10, C), bool)`: the replay keeps one byte per cell and the
Q-network takes the booleans as they come (cast to float inside the model).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import gymnasium as gym
import numpy as np

from tfdqn.errors import EnvError

MINATAR_REQUIREMENT = "pip install 'tfdqn[minatar]' (minatar==1.0.15)"
GAMES = ("Asterix", "Breakout", "Freeway", "Seaquest", "SpaceInvaders")
"""The games `minatar.gym.register_envs()` registers, each as -v0 (6 actions) and -v1 (minimal action set)."""
CHANNELS = {"Asterix": 4, "Breakout": 4, "Freeway": 7, "Seaquest": 10, "SpaceInvaders": 6}
"""Observation channels per game (each observation is 10 x 10 x C booleans)."""

EPISODE_CAP = 10_000
"""Where a greedy MinAtar episode is cut by default. The games register no time limit but end on their own
(Freeway after 2,500 steps, the others at a death, which difficulty ramping brings on), so the 1,000 steps that
cut other limitless environments (`tfdqn.dqn.evaluation.UNLIMITED_EPISODE_CAP`) would end Freeway's episodes at
40% and score them so; 10,000 steps is four Freeway episodes."""

FRAME_SCALE = 16
"""Pixels per grid cell in rendered frames (a 10x10 grid: 160x160)."""

_MINATAR_ID = re.compile(r"^MinAtar/(?P<game>[^-/]+)-v(?P<version>\d+)$")


def is_minatar_id(env_id: str) -> bool:
    """Whether `env_id` names a MinAtar game (registered or not): `MinAtar/<Game>-v<N>`."""
    return env_id.startswith("MinAtar/")


def ensure_registered(env_id: str) -> None:
    """Register MinAtar's games the first time a `MinAtar/...` id is asked for; other ids are left alone.

    `EnvError` in one line when the `minatar` package is missing (naming what to install) or the game or
    version is not one MinAtar has (naming the ones it has)."""
    if not is_minatar_id(env_id) or env_id in gym.registry:
        return
    match = _MINATAR_ID.match(env_id)
    if match is None or match["game"] not in GAMES or match["version"] not in ("0", "1"):
        known = ", ".join(f"MinAtar/{game}-v1" for game in GAMES)
        raise EnvError(f"{env_id!r} is not a MinAtar game: use one of {known} (or -v0 for all 6 actions)")
    register_all()


def register_all() -> None:
    """Register the ten MinAtar ids (once), each made by `make_minatar`. `EnvError` naming the package when
    `minatar` is not installed. Its import warns through the root logger when seaborn (only for its own
    drawing) is absent; that warning is silenced: `MinAtarFrames` draws the frames without it."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        import minatar.gym  # noqa: F401 (the package is there: the games can be made)
    except ImportError:
        raise EnvError(f"MinAtar games need the minatar package, not installed: {MINATAR_REQUIREMENT}") from None
    finally:
        logging.disable(previous)
    for game in GAMES:
        for version, minimal in (("0", False), ("1", True)):
            env_id = f"MinAtar/{game}-v{version}"
            if env_id not in gym.registry:
                gym.register(
                    env_id, entry_point=f"{__name__}:make_minatar", kwargs={"game": game, "minimal_actions": minimal}
                )


def make_minatar(game: str, minimal_actions: bool = True, render_mode: str | None = None, **kwargs: Any) -> gym.Env:
    """MinAtar's own Gymnasium env for `game` (sticky actions 0.1 and difficulty ramping on, its defaults;
    `kwargs` go to `minatar.Environment`), its frames drawn by `MinAtarFrames`."""
    from minatar.gym import BaseEnv

    name = "_".join(part.lower() for part in re.findall(r"[A-Z][a-z]*", game))  # SpaceInvaders -> space_invaders
    if render_mode not in (None, "rgb_array"):
        raise EnvError(f"MinAtar games render rgb_array frames only, not {render_mode!r}")
    env = BaseEnv(name, render_mode=render_mode, use_minimal_action_set=minimal_actions, **kwargs)
    return MinAtarFrames(MinAtarState(env))


class MinAtarState(gym.Wrapper):
    """MinAtar's random stream as the env's `np_random`, and its last action (a sticky action repeats it, even on
    the next episode's first step) as state carried across resets: both are then part of a training state, so a
    resumed run rebuilds its episodes exactly (`tfdqn.envs.reset_state`). Seeded, it draws what MinAtar's own
    seeding draws: the same MT19937 stream, shared by a `RandomState` (MinAtar's API) and a `Generator`."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self._game: Any = env.unwrapped.game  # type: ignore[attr-defined]  # minatar.Environment
        self._use(_generator_of(self._game.random))

    def _use(self, generator: np.random.Generator) -> None:
        """Draw the game's randomness (sticky actions and the game's own) from `generator`'s bit generator."""
        self._generator = generator
        self._game.random = np.random.RandomState(generator.bit_generator)
        self._game.env.random = self._game.random  # as `minatar.Environment.seed` shares it

    @property
    def np_random(self) -> np.random.Generator:
        """The generator MinAtar draws from (live: a draw from either moves both)."""
        return self._generator

    @np_random.setter
    def np_random(self, value: np.random.Generator) -> None:
        self._use(value)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """A seeded reset seeds the game as MinAtar does and then shares its stream; an unseeded one goes on."""
        if seed is not None:  # MinAtar's own seeding (its legacy RandomState), then shared
            self._game.seed(seed)
            self._use(_generator_of(self._game.random))
        return self.env.reset(options=options)  # unseeded: MinAtar would seed its game again

    def carried_state(self) -> dict[str, Any]:
        """The last action, which the next episode's first sticky action repeats (JSON-ready)."""
        return {"last_action": int(self._game.last_action)}

    def restore_carried_state(self, state: dict[str, Any]) -> None:
        """Put back the last action `carried_state` read, before the episode it begins is rebuilt."""
        self._game.last_action = int(state["last_action"])


def _generator_of(legacy: np.random.RandomState) -> np.random.Generator:
    """A Generator on a new MT19937 at `legacy`'s state: wrapped in a RandomState again, it draws what `legacy`
    would (MinAtar draws only uniforms: no cached Gaussian to carry)."""
    bit_generator = np.random.MT19937()
    bit_generator.state = {"bit_generator": "MT19937", "state": legacy.get_state(legacy=False)["state"]}
    return np.random.Generator(bit_generator)


class MinAtarFrames(gym.Wrapper):
    """Draws `rgb_array` frames of a MinAtar grid (each channel its colour on black, `FRAME_SCALE` pixels a
    cell) from the last observation, with Matplotlib's cubehelix map as MinAtar's own drawing (seaborn's)."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.metadata = {**env.metadata, "render_modes": ["rgb_array"], "render_fps": 15}
        assert env.observation_space.shape is not None  # a Box (10, 10, C)
        channels = int(env.observation_space.shape[-1])
        import matplotlib  # here: only drawing needs it, and it is slow to import

        colours = matplotlib.colormaps["cubehelix"](np.linspace(0.35, 0.9, channels))[:, :3]
        self._palette = (np.vstack([np.zeros(3), colours]) * 255).astype(np.uint8)
        self._last: np.ndarray | None = None

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self._last = obs
        return obs, info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._last = obs
        return obs, reward, terminated, truncated, info

    def render(self) -> np.ndarray | None:
        if self.env.render_mode != "rgb_array" or self._last is None:
            return None
        grid = np.asarray(self._last, dtype=bool)
        index = np.max(grid * np.arange(1, grid.shape[-1] + 1), axis=-1)  # the highest channel set, 0: none
        frame = self._palette[index]
        return np.repeat(np.repeat(frame, FRAME_SCALE, axis=0), FRAME_SCALE, axis=1)
