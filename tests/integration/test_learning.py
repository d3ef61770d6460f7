"""DQN must recover the exact optimal Q-values of a small deterministic MDP."""

import keras
import numpy as np
from helpers import ChainEnv, chain_q_star, vec

from tfdqn import DQNAgent, DQNConfig, Trainer, build_q_network


def test_dqn_learns_exact_q_values_of_chain_mdp():
    n, gamma = 5, 0.9
    # A purely random behaviour policy: Q-learning is off-policy, so it must still find Q*.
    # The 20-step time limit truncates many episodes; treating those as terminal would bias Q low.
    config = DQNConfig(
        hidden_sizes=(64, 64),
        learning_rate=1e-3,
        gamma=gamma,
        batch_size=64,
        buffer_size=10_000,
        learning_starts=500,
        train_freq=4,
        gradient_steps=8,
        target_update_interval=100,
        tau=1.0,
        double_dqn=False,
        epsilon_start=1.0,
        epsilon_end=1.0,
        seed=3,
    )
    keras.utils.set_random_seed(config.seed)
    env = vec(lambda: ChainEnv(n, max_steps=20))
    agent = DQNAgent(build_q_network((n,), 2, config.hidden_sizes), 2, config)
    Trainer(agent, env, config).train(8_000)
    q = agent.q_values(np.eye(n, dtype=np.float32)[: n - 1])
    expected = chain_q_star(n, gamma)
    np.testing.assert_allclose(q, expected, rtol=0.05)
    assert (np.argmax(q, axis=1) == 1).all()
