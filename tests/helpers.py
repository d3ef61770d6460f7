"""Small deterministic environments whose exact answers the tests know."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np


class ChainEnv(gym.Env):
    """States 0..n-1 in a line, start at 0. Action 1 moves right, 0 moves left (floored at 0).
    Entering state n-1 pays 1 and terminates; every other step pays 0. A time limit truncates.

    Optimal values: Q*(s, right) = gamma**(n-2-s); Q*(s, left) = gamma * Q*(max(s-1, 0), right).
    """

    def __init__(self, n: int = 5, max_steps: int = 20):
        self.n, self.max_steps = n, max_steps
        self.observation_space = gym.spaces.Box(0.0, 1.0, (n,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.state = 0
        self.t = 0

    def _obs(self) -> np.ndarray:
        obs = np.zeros(self.n, np.float32)
        obs[self.state] = 1.0
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state, self.t = 0, 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        self.state = self.state + 1 if action == 1 else max(self.state - 1, 0)
        terminated = self.state == self.n - 1
        truncated = not terminated and self.t >= self.max_steps
        return self._obs(), float(terminated), terminated, truncated, {}


def chain_q_star(n: int, gamma: float) -> np.ndarray:
    """Exact Q* of `ChainEnv(n)` for the non-terminal states, shape (n-1, 2) as [left, right]."""
    right = np.array([gamma ** (n - 2 - s) for s in range(n - 1)])
    left = np.array([gamma * right[max(s - 1, 0)] for s in range(n - 1)])
    return np.stack([left, right], axis=1)


class FixedLengthEnv(gym.Env):
    """Episodes end after a fixed number of steps: terminated if `terminate`, else truncated.
    The observation counts steps in the episode, so every stored transition can be checked."""

    def __init__(self, length: int = 3, terminate: bool = True):
        self.length, self.terminate = length, terminate
        self.observation_space = gym.spaces.Box(0.0, 1000.0, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        end = self.t >= self.length
        return (np.array([self.t], np.float32), 1.0, end and self.terminate, end and not self.terminate, {})


def vec(env_fn, n: int = 1) -> gym.vector.SyncVectorEnv:
    """A SyncVectorEnv of n copies (next-step autoreset, as Gymnasium's default)."""
    return gym.vector.SyncVectorEnv([env_fn for _ in range(n)])


CHAIN_ID = "tfdqn-test/Chain-v0"
if CHAIN_ID not in gym.registry:
    gym.register(CHAIN_ID, entry_point=ChainEnv)


class Recorder:
    """Builds a Listener that records every event as a tuple (hook, index-or-step)."""

    @staticmethod
    def make():
        from tfdqn import Listener

        class _Recorder(Listener):
            def __init__(self):
                self.events = []
                self.logs = []

            def _rec(self, name, key=None, logs=None):
                self.events.append((name, key) if key is not None else (name,))
                self.logs.append(logs)

            def on_train_begin(self, logs=None):
                self._rec("train_begin", logs=logs)

            def on_train_end(self, logs=None):
                self._rec("train_end", logs=logs)

            def on_episode_begin(self, episode, logs=None):
                self._rec("episode_begin", episode, logs)

            def on_episode_end(self, episode, logs=None):
                self._rec("episode_end", episode, logs)

            def on_step(self, step, logs=None):
                self._rec("step", step, logs)

            def on_replay_start(self, logs=None):
                self._rec("replay_start", logs["step"], logs)

            def on_replay_end(self, logs=None):
                self._rec("replay_end", logs["step"], logs)

            def on_replay_fail(self, logs=None):
                self._rec("replay_fail", logs["step"], logs)

            def on_target_update(self, logs=None):
                self._rec("target_update", logs["step"], logs)

            def on_evaluation(self, logs=None):
                self._rec("evaluation", logs["kind"], logs)

        return _Recorder()


def raising_recorder(hook, exc):
    """A recorder that records every event and raises `exc` from `hook` once, after recording it (at episode
    1, or step 6, so that the run is under way)."""
    rec = Recorder.make()
    record = getattr(rec, hook)
    fired = []

    def hook_then_raise(*args):
        record(*args)
        due = not args or not isinstance(args[0], int) or args[0] == (6 if hook == "on_step" else 1)
        if due and not fired:
            fired.append(True)
            raise exc

    setattr(rec, hook, hook_then_raise)  # a hook assigned on the instance is called
    return rec


def assert_pairs_matched(rec):
    """Every on_train_begin has exactly one on_train_end (none without one); every episode begun ends once
    after its begin, and none ends without beginning."""
    names = [e[0] for e in rec.events]
    assert names.count("train_begin") == names.count("train_end") == 1
    assert names[0] == "train_begin" and names[-1] == "train_end"
    open_episodes = set()
    for event in rec.events:
        if event[0] == "episode_begin":
            assert event[1] not in open_episodes
            open_episodes.add(event[1])
        elif event[0] == "episode_end":
            assert event[1] in open_episodes, f"episode {event[1]} ended without beginning"
            open_episodes.remove(event[1])
    assert not open_episodes, f"episodes {open_episodes} began and never ended"


class BrokenEnv(FixedLengthEnv):
    """Like FixedLengthEnv, but from step `after` on returns NaN as the `what` ("obs" or "reward")."""

    def __init__(self, what: str = "obs", after: int = 5, length: int = 10):
        super().__init__(length)
        self.what, self.after, self.total = what, after, 0

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        self.total += 1
        if self.total >= self.after:
            if self.what == "obs":
                obs = np.array([np.nan], np.float32)
            else:
                reward = float("nan")
        return obs, reward, terminated, truncated, info


ROOT = Path(__file__).resolve().parents[1]
CLI_ENV = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}


def tfdqn_cli(*args, cwd=ROOT, pythonpath=None, timeout=300, preamble=None) -> subprocess.CompletedProcess:
    """Run `python -m tfdqn ARGS` as a user would (no TF_* settings), optionally with `pythonpath` first, or,
    given `preamble` (Python code, e.g. a fault injected by monkeypatching), the command after that code."""
    env = dict(CLI_ENV)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(pythonpath), CLI_ENV.get("PYTHONPATH")) if p)
    command = ["-m", "tfdqn"] if preamble is None else ["-c", f"{preamble}\nfrom tfdqn.commands import main\nmain()"]
    return subprocess.run(
        [sys.executable, *command, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
    )


def one_error_line(proc: subprocess.CompletedProcess, message: str) -> None:
    """The command refused: status 2, one `error:` line on stderr holding `message`, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and message in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


def refusing_writes_in(folder, error: str = "PermissionError(13, 'Permission denied')") -> str:
    """A `tfdqn_cli` preamble under which creating a temporary file in `folder` (`check_out_dir`'s write probe)
    raises `error` (a Python expression): a folder that cannot be written, even by root, whom permission bits
    do not stop (and no read-only mount is at hand in a test)."""
    return (
        "import tempfile\n"
        "_mkstemp = tempfile.mkstemp\n"
        "def _refuse(*args, dir=None, **kwargs):\n"
        f"    if dir is not None and str(dir) == {str(folder)!r}:\n"
        f"        raise {error}\n"
        "    return _mkstemp(*args, dir=dir, **kwargs)\n"
        "tempfile.mkstemp = _refuse\n"
    )
