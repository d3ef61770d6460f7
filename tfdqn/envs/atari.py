"""Atari games under the protocol of the Nature DQN as Stable-Baselines3 and Dopamine run it, registered on demand.

`atari_env_id("ALE/Pong-v5")` registers `tfdqn/ALE-Pong-v5`: the game (needs `ale-py`) with sticky actions at ALE
v5's 0.25 (Machado et al. 2018; `sticky_actions` sets another probability, named in the id), up to 30 no-op
starts, frame skip 4 with the last two frames max-pooled, 84x84 greyscale (Gymnasium's `AtariPreprocessing`),
FIRE pressed at the start of every life in games that have it (`FireOnLifeStart`), the last 4 frames stacked,
channels-last. That is the game both training and evaluation play, scored raw over whole games.

The training env alone (`tfdqn.envs.make.make_vec_env`, via `training_wrappers`) also gives the learner rewards
clipped to their sign and a terminal at every life lost (`tfdqn.envs.training_signal`): the game goes on, and the
returns reported are the game's raw scores.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym
from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation

from tfdqn.envs.pixels import ChannelsLast
from tfdqn.envs.training_signal import ClipRewardSignal, LifeLossSignal
from tfdqn.errors import EnvError

ATARI_REQUIREMENTS = "pip install -r requirements-atari.txt"
STICKY_ACTIONS = 0.25
"""Probability that the ALE repeats the previous action instead of the agent's, on every frame: ALE v5's default,
as Machado et al. (2018) recommend and Dopamine runs; 0 is the Nature DQN's deterministic game (SB3's
`NoFrameskip-v4` ids)."""

ATARI_EPISODE_STEPS = 27_000
"""The time limit of a tfdqn/ALE id, stated in its spec: ALE's own, 108,000 frames per episode, at 4 frames per
action. Stated, not new: ALE ends the episode at that frame itself (no-op starts add frames, so ALE cuts first),
and greedy evaluations read the spec to know the game ends on its own (`tfdqn.dqn.evaluation`)."""

_ATARI_ID = re.compile(r"^tfdqn/ALE-(?P<name>[A-Za-z0-9]+)(?:-sticky(?P<sticky>\d[\d.e+-]*?))?-v(?P<version>\d+)$")


class FireOnLifeStart(gym.Wrapper):
    """Press FIRE at the start of every life: after `reset` (the press's reward is dropped, as in SB3's
    `FireResetEnv`) and after a step that loses a life but not the game (that step returns what follows the
    press, rewards summed). Games such as Breakout serve only on FIRE: without it a policy that has not learned
    to press it stands still until the time limit. SB3 presses it at every life start too, in training, where its
    `EpisodicLifeEnv` resets at each life lost."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        meanings = env.unwrapped.get_action_meanings()  # type: ignore[attr-defined]
        if "FIRE" not in meanings:
            raise EnvError(f"FireOnLifeStart needs a game with a FIRE action; this one has {meanings}")
        self.fire, self.lives = meanings.index("FIRE"), 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        self.env.reset(seed=seed, options=options)
        obs, _, terminated, truncated, info = self.env.step(self.fire)
        if terminated or truncated:  # the game ended on its first press (no game does): start it again
            obs, info = self.env.reset(options=options)
        self.lives = int(info.get("lives", 0))
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if int(info.get("lives", 0)) < self.lives and not (terminated or truncated):
            obs, fire_reward, terminated, truncated, info = self.env.step(self.fire)
            reward = float(reward) + float(fire_reward)
        self.lives = int(info.get("lives", 0))
        return obs, reward, terminated, truncated, info


def fire_on_life_start(env: gym.Env) -> gym.Env:
    """`env` with `FireOnLifeStart` if its actions include FIRE (Pong, Breakout, ...), else `env` itself."""
    return FireOnLifeStart(env) if "FIRE" in env.unwrapped.get_action_meanings() else env  # type: ignore[attr-defined]


def make_atari(
    game: str = "ALE/Pong-v5",
    render_mode: str | None = None,
    repeat_action_probability: float = STICKY_ACTIONS,
    frame_skip: int = 4,
    screen_size: int = 84,
    stack: int = 4,
    noop_max: int = 30,
    **kwargs: Any,
) -> gym.Env:
    """An Atari game as training and evaluation both play it (the module docstring): (84, 84, 4) uint8. Needs
    `ale-py`. Lives are not terminals here (`AtariPreprocessing`'s `terminal_on_life_loss` would also reset the
    game at each one); the training env's `LifeLossSignal` gives the learner its terminals."""
    try:
        import ale_py
    except ImportError:
        raise EnvError(f"Atari games need ale-py, which is not installed: {ATARI_REQUIREMENTS}") from None
    gym.register_envs(ale_py)
    env = gym.make(  # frameskip=1: AtariPreprocessing skips frames (and max-pools the last two)
        game, frameskip=1, repeat_action_probability=repeat_action_probability, render_mode=render_mode, **kwargs
    )
    env = AtariPreprocessing(
        env, noop_max=noop_max, frame_skip=frame_skip, screen_size=screen_size, terminal_on_life_loss=False
    )
    env = FrameStackObservation(fire_on_life_start(env), stack)
    return ChannelsLast(env)


setattr(make_atari, "metadata", {"render_modes": ["rgb_array", "human"], "render_fps": 30})  # noqa: B010


def atari_env_id(game: str, sticky_actions: float = STICKY_ACTIONS) -> str:
    """The registered id of `game` (e.g. "ALE/Pong-v5") under this protocol: "tfdqn/ALE-Pong-v5", or with another
    sticky-action probability "tfdqn/ALE-Pong-sticky0-v5", so that evaluations and saved configs make the same game."""
    match = re.fullmatch(r"ALE/(?P<name>[A-Za-z0-9]+)-v(?P<version>\d+)", game)
    if match is None:
        raise EnvError(f"{game!r} is not an Atari id of the form ALE/<Game>-v<N> (e.g. ALE/Pong-v5)")
    if not 0.0 <= sticky_actions <= 1.0:
        raise EnvError(f"sticky-action probability {sticky_actions} is not in [0, 1]")
    if float(f"{sticky_actions:g}") != sticky_actions:  # the id carries the value, so it must read back exactly
        raise EnvError(f"sticky-action probability {sticky_actions!r} has too many digits: give at most 6")
    sticky = "" if sticky_actions == STICKY_ACTIONS else f"-sticky{sticky_actions:g}"
    env_id = f"tfdqn/ALE-{match['name']}{sticky}-v{match['version']}"
    ensure_registered(env_id)
    return env_id


def ensure_registered(env_id: str) -> None:
    """Register a "tfdqn/ALE-<Game>[-sticky<P>]-v<N>" id on first use; other ids are left alone."""
    match = _ATARI_ID.match(env_id)
    if match is None or env_id in gym.registry:
        return
    try:
        sticky = STICKY_ACTIONS if match["sticky"] is None else float(match["sticky"])
    except ValueError:
        sticky = -1.0  # not a number: refused below
    if not 0.0 <= sticky <= 1.0:
        raise EnvError(f"{env_id!r}: sticky-action probability {match['sticky']} is not in [0, 1]")
    kwargs = {"game": f"ALE/{match['name']}-v{match['version']}", "repeat_action_probability": sticky}
    gym.register(env_id, entry_point=make_atari, kwargs=kwargs, max_episode_steps=ATARI_EPISODE_STEPS)


def training_wrappers(env_id: str) -> list[Callable[[gym.Env], gym.Wrapper]]:
    """The wrappers only the training env of `env_id` gets: for a tfdqn/ALE id, the learner's terminal at every
    life lost and its rewards clipped to their sign (`tfdqn.envs.training_signal`); none for other ids."""
    return [LifeLossSignal, ClipRewardSignal] if _ATARI_ID.match(env_id) else []
