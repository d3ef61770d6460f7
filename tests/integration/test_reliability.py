"""Resume exactly, survive interruption, refuse bad input, never train on NaN."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import BrokenEnv, FixedLengthEnv, tfdqn_cli, vec

from tfdqn import (
    DQNAgent,
    DQNConfig,
    EnvError,
    Listener,
    ModelCheckpoint,
    Trainer,
    build_q_network,
    load_q_network,
)
from tfdqn.errors import ListenerError, NonFiniteError
from tfdqn.training.resume import StateError, load_training_state, save_training_state

ROOT = Path(__file__).resolve().parents[2]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
SMALL = {
    "hidden_sizes": [32, 32],
    "learning_starts": 200,
    "buffer_size": 5000,
    "train_freq": 8,
    "gradient_steps": 4,
    "target_update_interval": 50,
}


def script(*args, timeout=300):
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_cartpole.py"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
        cwd=ROOT,
    )


def small_config(tmp_path) -> Path:
    path = tmp_path / "small.json"
    path.write_text(json.dumps(SMALL))
    return path


def metric_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in csv.DictReader(f)]


@pytest.mark.slow  # CI time: the default kill points (test_kill_points.py) resume in a new process, exactly
def test_resume_in_new_process_is_exact(tmp_path):
    config = small_config(tmp_path)
    common = [
        "--config",
        config,
        "--no-stop",
        "--no-gif",
        "--no-live-plot",
        "--deterministic",
        "--eval-every",
        500,
        "--eval-episodes",
        2,
        "--final-episodes",
        1,
        "--seed",
        5,
    ]
    full, half = tmp_path / "full", tmp_path / "half"
    a = script("--steps", 1500, "--out", full, *common)
    assert a.returncode == 0, a.stderr[-3000:]
    b = script("--steps", 750, "--out", half, *common)
    assert b.returncode == 0, b.stderr[-3000:]
    c = script(
        "--steps",
        1500,
        "--resume",
        half,
        "--no-stop",
        "--no-gif",
        "--no-live-plot",
        "--deterministic",
        "--eval-every",
        500,
        "--eval-episodes",
        2,
        "--final-episodes",
        1,
    )
    assert c.returncode == 0, c.stderr[-3000:]
    assert "resuming CartPole-v1 from step 750" in c.stderr
    for x, y in zip(
        load_q_network(full / "last.keras").get_weights(), load_q_network(half / "last.keras").get_weights()
    ):
        np.testing.assert_array_equal(x, y)
    assert metric_rows(full / "metrics.csv") == metric_rows(half / "metrics.csv")
    assert metric_rows(full / "evaluations.csv") == metric_rows(half / "evaluations.csv")


def test_resume_from_other_environment_or_nothing_is_refused(tmp_path):
    out = tmp_path / "run"
    a = script(
        "--steps",
        300,
        "--out",
        out,
        "--config",
        small_config(tmp_path),
        "--no-gif",
        "--no-live-plot",
        "--eval-every",
        300,
        "--eval-episodes",
        1,
        "--final-episodes",
        1,
    )
    assert a.returncode == 0, a.stderr[-3000:]
    for args, message in (
        (["--resume", out, "--env", "Acrobot-v1"], "holds a run with --env CartPole-v1"),
        (["--resume", tmp_path / "missing"], "no training state"),
    ):
        proc = script(*args)
        assert proc.returncode == 2
        assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and message in proc.stderr


# SIGTERM takes the same handler as SIGINT (only the status differs): it runs with -m slow, for CI time
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), pytest.param(signal.SIGTERM, 143, marks=pytest.mark.slow)])
def test_signal_saves_state_and_exits_with_conventional_status(tmp_path, sig, code):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "train_cartpole.py"),
            "--steps",
            "1000000",
            "--no-stop",
            "--no-gif",
            "--no-live-plot",
            "--out",
            str(out),
            "--config",
            str(small_config(tmp_path)),
            "--eval-every",
            "500",
            "--eval-episodes",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=ROOT,
    )
    deadline = time.time() + 120
    while not (out / "evaluations.csv").exists() or len((out / "evaluations.csv").read_text().splitlines()) < 2:
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read() if proc.poll() is not None else ""
        time.sleep(0.2)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr[-3000:]
    assert f"interrupted by {signal.Signals(sig).name}" in stderr and f"--resume {out}" in stderr
    assert "Traceback" not in stderr
    pointer = json.loads((out / "state" / "latest").read_text())
    assert pointer["step"] >= 500
    resumed = script(
        "--resume",
        out,
        "--steps",
        pointer["step"] + 100,
        "--no-stop",
        "--no-gif",
        "--no-live-plot",
        "--eval-every",
        500,
        "--eval-episodes",
        1,
        "--final-episodes",
        1,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads((out / "summary.json").read_text())["env_steps"] == pointer["step"] + 100


KILLER = """
import sys, itertools
from tfdqn.cli import prepare_process; prepare_process()
import tfdqn
from tfdqn.training.resume import save_training_state
config = tfdqn.DQNConfig(buffer_size=400_000, hidden_sizes=(64,), learning_starts=100, batch_size=32)
env = tfdqn.make_vec_env("CartPole-v1", 1)
trainer = tfdqn.Trainer(tfdqn.DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config),
                        env, config)
trainer.train(300)
trainer.replay.size = trainer.replay.capacity  # a large buffer: each write takes a while
print("ready", flush=True)
for i in itertools.count():
    trainer.step = 300 + i
    save_training_state(trainer, sys.argv[1])
"""


@pytest.mark.slow  # test_kill_points.py kills at each write point of a checkpoint in the default run
def test_sigkill_during_checkpoint_write_leaves_previous_checkpoint_loadable(tmp_path):
    state = tmp_path / "state"
    for delay in (0.7, 1.3, 2.1):
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLER, str(state)],
            stdout=subprocess.PIPE,
            text=True,
            env={**ENV, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.kill()
        proc.wait()
        config = DQNConfig(buffer_size=400_000, hidden_sizes=(64,), learning_starts=100, batch_size=32)
        env = vec(lambda: __import__("gymnasium").make("CartPole-v1"))
        trainer = Trainer(DQNAgent(build_q_network((4,), 2, (64,)), 2, config), env, config)
        step = load_training_state(trainer, state)
        assert step >= 300 and len(trainer.replay) == 400_000
        assert len([p for p in state.iterdir() if p.name.startswith("checkpoint-")]) >= 1


def tiny_trainer(env_fn, listeners=(), **overrides):
    config = DQNConfig(
        hidden_sizes=(8,),
        batch_size=4,
        buffer_size=100,
        learning_starts=8,
        train_freq=4,
        gradient_steps=2,
        target_update_interval=4,
        **overrides,
    )
    agent = DQNAgent(build_q_network((1,), 2, (8,)), 2, config)
    return Trainer(agent, vec(env_fn), config, listeners)


@pytest.mark.parametrize("prioritized", [False, True])
def test_non_finite_loss_stops_with_step_and_keeps_last_good_state(tmp_path, prioritized):
    """With prioritized replay too: the loss is checked before the priorities take the non-finite TD errors."""
    checkpoint = ModelCheckpoint(tmp_path, save_state=True, state_every=8)
    trainer = tiny_trainer(lambda: BrokenEnv("reward", after=30), [checkpoint], prioritized=prioritized)
    with pytest.raises(NonFiniteError, match=r"non-finite loss or Q-value at step \d+"):
        trainer.train(200)
    assert not (tmp_path / "last.keras").exists()  # the NaN weights were not saved
    good = tiny_trainer(lambda: FixedLengthEnv())
    step = load_training_state(good, tmp_path / "state")
    assert 8 <= step <= trainer.step
    assert all(np.isfinite(w).all() for w in good.agent.q_network.get_weights())


def test_nan_observation_is_a_clear_error():
    with pytest.raises(EnvError, match="non-finite observation at step"):
        tiny_trainer(lambda: BrokenEnv("obs", after=3)).train(50)


def test_listener_exception_names_listener_after_checkpoint_saved(tmp_path):
    class Exploding(Listener):
        def on_episode_end(self, episode, logs=None):
            if episode == 2:
                raise RuntimeError("disk full")

    checkpoint = ModelCheckpoint(tmp_path, save_state=True)
    with pytest.raises(ListenerError, match=r"Exploding\.on_episode_end raised RuntimeError: disk full"):
        tiny_trainer(lambda: FixedLengthEnv(), [Exploding(), checkpoint]).train(100)
    assert (tmp_path / "last.keras").is_file()
    assert json.loads((tmp_path / "state" / "latest").read_text())["step"] == 9  # 3 episodes of 3 steps


def test_state_from_other_environment_is_refused(tmp_path):
    trainer = tiny_trainer(lambda: FixedLengthEnv())
    trainer.train(20)
    save_training_state(trainer, tmp_path)
    other = tiny_trainer(lambda: FixedLengthEnv(), env_id="Acrobot-v1")
    with pytest.raises(StateError, match="holds a run on 'CartPole-v1', not 'Acrobot-v1'"):
        load_training_state(other, tmp_path)
    wider = DQNConfig(hidden_sizes=(16,), batch_size=4, buffer_size=100)
    mismatched = Trainer(DQNAgent(build_q_network((1,), 2, (16,)), 2, wider), vec(lambda: FixedLengthEnv()), wider)
    with pytest.raises(StateError, match="does not fit"):
        load_training_state(mismatched, tmp_path)


def test_in_process_continuation_equals_one_run():
    """train(n) then train(2n) on one trainer equals train(2n): the loop keeps its state between calls."""
    import keras

    def run(splits):
        keras.utils.set_random_seed(0)
        trainer = tiny_trainer(lambda: FixedLengthEnv(7))
        for s in splits:
            trainer.train(s)
        return trainer

    a, b = run([60]), run([25, 60])
    assert (a.step, a.episodes, a.updates) == (b.step, b.episodes, b.updates)
    for x, y in zip(a.agent.q_network.get_weights(), b.agent.q_network.get_weights()):
        np.testing.assert_allclose(x, y, rtol=1e-6)


@pytest.mark.parametrize("tau", [1.0, 0.5])
def test_hard_target_copies_without_a_gradient_step_in_between_are_skipped(tau):
    """A hard copy repeated with no gradient step since the last one copies the same weights: it is skipped
    (the listener still hears every target update, and the target equals the online network at each);
    Polyak steps (tau < 1) are never skipped."""
    seen = []

    class Check(Listener):
        def on_target_update(self, logs=None):
            if tau == 1.0:
                for o, t in zip(trainer.agent.q_network.get_weights(), trainer.agent.target_network.get_weights()):
                    np.testing.assert_array_equal(o, t)
            seen.append(logs["step"])

    config = DQNConfig(
        hidden_sizes=(8,),
        batch_size=4,
        buffer_size=100,
        learning_starts=8,
        train_freq=12,
        gradient_steps=2,
        target_update_interval=4,
        tau=tau,
    )
    trainer = Trainer(
        DQNAgent(build_q_network((1,), 2, (8,)), 2, config), vec(lambda: FixedLengthEnv(10)), config, [Check()]
    )
    copies = []
    real_update = trainer.agent.update_target
    trainer.agent.update_target = lambda: (copies.append(trainer.step), real_update())[1]
    trainer.train(48)
    assert seen == list(range(4, 49, 4))
    if tau == 1.0:  # the first copy, then the first one after each training call (steps 12, 24, 36, 48;
        assert copies == [4, 16, 28, 40]  # a step's copy comes before its training call)
        version = trainer.agent.weights_version  # what the skip compares: moved by learn and set_state
        assert version == 4  # the training calls at steps 12, 24, 36 and 48
        trainer.agent.set_state(trainer.agent.get_state())
        assert trainer.agent.weights_version == version + 1
    else:
        assert copies == seen


BROKEN_ENV_MODULE = f"""
import sys
sys.path.insert(0, {str(ROOT / "tests")!r})
import gymnasium as gym
from helpers import BrokenEnv
gym.register("BrokenReward-v0", entry_point=lambda: BrokenEnv("reward", after=700), max_episode_steps=10)
"""


def test_a_diverging_prioritized_run_ends_in_one_line_and_keeps_its_last_good_state(tmp_path):
    """`tfdqn train` with prioritized replay on an env whose rewards turn NaN: one line naming the step and the
    last good state, status 1; no NaN written over any checkpoint or model."""
    (tmp_path / "brokenenvs.py").write_text(BROKEN_ENV_MODULE)
    config = tmp_path / "per.json"
    config.write_text(json.dumps({**SMALL, "learning_starts": 100, "prioritized": True}))
    out = tmp_path / "run"
    args = ["train", "--env", "brokenenvs:BrokenReward-v0", "--config", config, "--out", out, "--steps", 3000]
    flags = ["--state-every", 200, "--eval-every", 200, "--eval-episodes", 2, "--no-gif", "--no-live-plot", "--no-stop"]
    proc = tfdqn_cli(*args, *flags, pythonpath=tmp_path)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    [line] = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert "non-finite loss or Q-value at step" in line and "last good state" in line
    assert not (out / "last.keras").exists()
    assert all(np.isfinite(w).all() for w in load_q_network(out / "best.keras").get_weights())
    latest = json.loads((out / "state" / "latest").read_text())
    assert 200 <= latest["step"] < 3000
    with np.load(out / "state" / latest["checkpoint"] / "arrays.npz") as arrays:
        agent = [arrays[k] for k in arrays.files if k.startswith("agent/") and arrays[k].dtype.kind == "f"]
    assert agent and all(np.isfinite(a).all() for a in agent)


def test_a_checkpoint_is_taken_only_once_every_listener_has_seen_every_event_before_it(tmp_path, monkeypatch):
    """An evaluation emitted from `on_step` (as PeriodicEvaluation does) reaches the listeners after the
    checkpoint's own `on_step`; the state saved at that step must hold it for every listener."""

    class Evaluates(Listener):
        def on_step(self, step, logs=None):
            if step % 8 == 0:
                self.trainer.emit_evaluation({"step": step, "kind": "periodic", "episodes": 1})

    class Counts(Listener):
        def __init__(self):
            self.seen = []

        def get_state(self):
            return {"seen": list(self.seen)}

        def on_evaluation(self, logs=None):
            self.seen.append(logs["step"])

    saves = []
    monkeypatch.setattr(Trainer, "save_state", lambda self, d: saves.append((self.step, list(counts.seen))))
    counts = Counts()
    checkpoint = ModelCheckpoint(tmp_path, save_best=False, save_state=True, state_every=8)
    tiny_trainer(lambda: FixedLengthEnv(), [Evaluates(), checkpoint, counts]).train(30)
    assert [step for step, _ in saves] == [8, 16, 24, 30]
    for step, seen in saves:
        assert seen == list(range(8, step + 1, 8))
