"""The divergence alarm: silent on a healthy run, one clear warning on a run made to diverge."""

import warnings

import gymnasium as gym
import keras
import numpy as np
import pytest
from helpers import ChainEnv, FixedLengthEnv, vec

from tfdqn import DivergenceAlarm, DivergenceWarning, DQNAgent, DQNConfig, Trainer, build_q_network
from tfdqn.envs.training_signal import ClipRewardSignal
from tfdqn.replay.buffer import ReplayBuffer


class _FakeTrainer:
    def __init__(self, gamma=0.9, loss="huber"):
        self.config = DQNConfig(gamma=gamma, loss=loss)
        self.stop_training = False
        self.step, self.replay = 0, ReplayBuffer(8, (1,))


def _alarm(**kwargs):
    alarm = DivergenceAlarm(**kwargs)
    alarm.set_trainer(_FakeTrainer())
    return alarm


def test_bound_is_r_max_over_one_minus_gamma_from_the_rewards_stored():
    alarm = _alarm()
    assert alarm.bounds() is None  # no reward stored yet: no bound, no alarm
    alarm.trainer.replay.add_batch(np.zeros((2, 1)), np.zeros(2), np.array([0.5, -2.0]), np.zeros((2, 1)), np.zeros(2))
    alarm.trainer.step = 2
    alarm.on_replay_end({"step": 2, "loss": 0.0, "mean_q": 0.0, "max_abs_q": 0.0})  # reads the replay's rewards
    r_max, gamma, q_bound, loss_bound = alarm.bounds()
    assert (r_max, gamma) == (2.0, 0.9) and q_bound == pytest.approx(20.0)
    assert loss_bound == pytest.approx(2 * 20.0 - 0.5)  # Huber of the largest TD error such Q allow


def test_warns_once_when_q_exceeds_the_bound_and_names_the_causes():
    alarm = _alarm(r_max=1.0, slack=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        alarm.on_replay_end({"step": 100, "loss": 0.1, "mean_q": 5.0, "max_abs_q": 9.9})  # within 10
        assert not caught
        alarm.on_replay_end({"step": 200, "loss": 0.1, "mean_q": 5.0, "max_abs_q": 10.5})
        alarm.on_replay_end({"step": 300, "loss": 0.1, "mean_q": 5.0, "max_abs_q": 1e6})
    assert len(caught) == 1 and issubclass(caught[0].category, DivergenceWarning)
    text = str(caught[0].message)
    assert "step 200" in text and "r_max / (1 - gamma) = 10" in text and "learning rate" in text
    assert alarm.alarm == text and not alarm.trainer.stop_training


def test_huber_loss_bound_is_quadratic_below_one():
    alarm = _alarm(r_max=0.002)  # gamma 0.9: |Q| <= 0.02, TD errors <= 0.04: Huber loss <= 0.5 * 0.04 ** 2
    assert alarm.bounds()[3] == pytest.approx(0.0008)


def test_warns_on_a_loss_no_bounded_q_allows_and_can_stop():
    alarm = _alarm(r_max=1.0, stop=True)
    with pytest.warns(DivergenceWarning, match="the loss"):
        alarm.on_replay_end({"step": 5, "loss": 1e4, "mean_q": 1.0, "max_abs_q": 1.0})
    assert alarm.trainer.stop_training


def test_gamma_one_has_no_bound():
    alarm = DivergenceAlarm(r_max=1.0)
    alarm.set_trainer(_FakeTrainer(gamma=1.0))
    assert alarm.bounds() is None
    alarm.on_replay_end({"step": 5, "loss": 1e9, "mean_q": 1e9, "max_abs_q": 1e9})
    assert alarm.alarm is None


def _chain_run(config, steps):
    keras.utils.set_random_seed(config.seed)
    env = vec(lambda: ChainEnv(5, max_steps=20))
    agent = DQNAgent(build_q_network((5,), 2, config.hidden_sizes), 2, config)
    alarm = DivergenceAlarm()
    Trainer(agent, env, config, [alarm]).train(steps)
    return alarm


def test_silent_on_a_healthy_run():
    config = DQNConfig(
        hidden_sizes=(32,),
        learning_rate=1e-3,
        gamma=0.9,
        batch_size=32,
        buffer_size=2_000,
        learning_starts=200,
        train_freq=4,
        gradient_steps=4,
        target_update_interval=100,
        tau=1.0,
        epsilon_start=1.0,
        epsilon_end=1.0,
        seed=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        alarm = _chain_run(config, 1_500)
    assert alarm.alarm is None


class TwoStateEnv(gym.Env):
    """Tsitsiklis and Van Roy's divergence example: state A (observation 1) moves to state B (observation 2)
    paying `reward` (0.01), and the time limit cuts the episode there. Q(B) is never trained, only reached
    through the network's generalisation, so Q(A) <- r + gamma * Q(B) ~ r + 2 gamma Q(A): it grows without end
    for gamma > 0.5, however small the step size."""

    observation_space = gym.spaces.Box(0.0, 2.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, reward=0.01):
        self.reward = reward

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.ones(1, np.float32), {}

    def step(self, action):
        return np.full(1, 2.0, np.float32), self.reward, False, True, {}


def _diverge(env_fn, alarm):
    """Train on `env_fn` (a `TwoStateEnv`) with settings that make Q diverge, warning (`DivergenceWarning`s)."""
    config = DQNConfig(
        hidden_sizes=(16,),
        learning_rate=1e-2,
        gamma=0.99,
        batch_size=16,
        buffer_size=1_000,
        learning_starts=50,
        train_freq=1,
        gradient_steps=4,
        target_update_interval=10,
        tau=1.0,
        epsilon_start=1.0,
        epsilon_end=1.0,
        seed=0,
    )
    keras.utils.set_random_seed(config.seed)
    agent = DQNAgent(build_q_network((1,), 2, config.hidden_sizes), 2, config)
    with pytest.warns(DivergenceWarning, match="training looks divergent") as caught:
        Trainer(agent, vec(env_fn), config, [alarm]).train(2_000)
    return [w for w in caught if issubclass(w.category, DivergenceWarning)]


def test_fires_on_a_run_made_to_diverge():
    alarm = DivergenceAlarm()
    assert len(_diverge(TwoStateEnv, alarm)) == 1  # once
    assert "r_max = 0.01" in alarm.alarm and "= 1" in alarm.alarm  # the bound 0.01 / (1 - 0.99)


def test_the_bound_is_the_learners_clipped_rewards_not_the_games():
    """Under the Atari protocol the learner trains on rewards clipped to their sign: a game paying 100 a step
    bounds |Q| by 1 / (1 - gamma) = 100, not 10,000, and the run made to diverge is caught past 150."""
    alarm = DivergenceAlarm(stop=True)
    _diverge(lambda: ClipRewardSignal(TwoStateEnv(reward=100.0)), alarm)
    assert alarm.bounds()[:3] == (1.0, 0.99, pytest.approx(100.0))
    assert "r_max = 1, the largest |reward| the learner has stored" in alarm.alarm
    q = float(alarm.alarm.split("max |Q| = ")[1].split(" ")[0].replace(",", ""))
    assert 150 < q < 15_000  # beyond the learner's bound, within the one the game's rewards would give


@pytest.mark.parametrize("n_step", [1, 3])
def test_an_n_step_return_counts_per_step(n_step):
    """Rewards of 1 a step: an n-step return 1 + gamma + gamma ** 2 is 2.71 (gamma 0.9) but bounds Q no more
    than the rewards it sums: r_max stays 1 with n-step returns, ends of episodes and two environments."""
    config = DQNConfig(
        hidden_sizes=(8,), gamma=0.9, n_step=n_step, batch_size=8, learning_starts=16, buffer_size=500, seed=0
    )
    keras.utils.set_random_seed(config.seed)
    agent = DQNAgent(build_q_network((1,), 2, config.hidden_sizes), 2, config)
    alarm = DivergenceAlarm()
    trainer = Trainer(agent, vec(lambda: FixedLengthEnv(length=7), n=2), config, [alarm])
    trainer.train(200)
    assert alarm.r_max_seen == pytest.approx(1.0)
    stored, _ = trainer.replay.newest_rewards(len(trainer.replay))
    assert stored.max() == pytest.approx(1 + 0.9 + 0.81 if n_step == 3 else 1.0)
