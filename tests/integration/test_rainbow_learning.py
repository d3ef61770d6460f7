"""Each Rainbow part, and all of them together, must recover the exact Q* of the chain MDP
(the same check as tests/integration/test_learning.py for plain DQN)."""

import keras
import numpy as np
import pytest
from helpers import ChainEnv, chain_q_star, vec

from tfdqn import DQNAgent, DQNConfig, Trainer
from tfdqn.networks.build import build_network

N, GAMMA = 5, 0.9
BASE = dict(
    hidden_sizes=(64, 64),
    learning_rate=1e-3,
    gamma=GAMMA,
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
# n-step targets follow the behaviour policy inside the window (Rainbow does not correct for it): with the
# random behaviour of the other cases they would estimate a mix of Q* and the random policy's values. So the
# n-step cases act nearly greedily once warmed up, and keep a smaller buffer so that the random phase's
# windows have left it by the end: their targets are then (within ~1%) those of the optimal policy.
NEAR_GREEDY = dict(epsilon_end=0.05, epsilon_decay_steps=2_000, buffer_size=2_000)
C51 = dict(distributional=True, num_atoms=51, v_min=-0.5, v_max=1.5)
PARTS = {
    "dueling": dict(dueling=True),
    "n_step": dict(n_step=3, **NEAR_GREEDY),
    "prioritized": dict(prioritized=True, priority_alpha=0.6, priority_beta=0.4),
    "noisy": dict(noisy=True),
    "distributional": C51,
    "all": dict(
        dueling=True, n_step=3, prioritized=True, priority_alpha=0.5, noisy=True, double_dqn=True, **C51, **NEAR_GREEDY
    ),
}


# every part together runs with -m slow (for CI time); each part alone, and every part resumed
# (test_rainbow.py), run by default
@pytest.mark.parametrize("part", [pytest.param(p, marks=pytest.mark.slow) if p == "all" else p for p in sorted(PARTS)])
def test_rainbow_part_learns_exact_q_values_of_chain_mdp(part):
    config = DQNConfig(**{**BASE, **PARTS[part]})
    keras.utils.set_random_seed(config.seed)
    env = vec(lambda: ChainEnv(N, max_steps=20))
    agent = DQNAgent(build_network((N,), 2, config), 2, config)
    Trainer(agent, env, config).train(8_000)
    q = agent.q_values(np.eye(N, dtype=np.float32)[: N - 1])
    q_star = chain_q_star(N, GAMMA)
    assert (np.argmax(q, axis=1) == 1).all()
    if part != "all":
        np.testing.assert_allclose(q, q_star, rtol=0.05)
        return
    # All together, noisy nets do the exploring (epsilon is unused), and n-step targets of the actions that
    # policy rarely takes (left) follow its noisy choices for the rest of the window: Rainbow's uncorrected
    # n-step bias. The values of the optimal actions are exact; the left ones came out 10-20% low (measured
    # at sigma_0 0.5 and 0.1), so for them the test asserts only that they lie below and within 25%.
    np.testing.assert_allclose(q[:, 1], q_star[:, 1], rtol=0.05)
    assert ((q[:, 0] <= q_star[:, 0] * 1.05) & (q[:, 0] >= q_star[:, 0] * 0.75)).all()
