"""Several environments at once: same learning per env step, every mode works with the Trainer."""

import pytest
from helpers import FixedLengthEnv, Recorder, vec

from tfdqn import DQNAgent, DQNConfig, Trainer, build_q_network, make_vec_env

CONFIG = DQNConfig(
    hidden_sizes=(8,),
    batch_size=8,
    buffer_size=1000,
    learning_starts=40,
    train_freq=8,
    gradient_steps=4,
    target_update_interval=10,
)


def run(env, steps=400, config=CONFIG):
    rec = Recorder.make()
    config = config.replace(num_envs=env.num_envs)
    agent = DQNAgent(build_q_network(env.single_observation_space.shape, 2, (8,)), 2, config)
    trainer = Trainer(agent, env, config, [rec])
    trainer.train(steps)
    env.close()
    return trainer, rec


def test_same_learning_per_env_step_with_1_and_8_envs():
    one, rec1 = run(vec(lambda: FixedLengthEnv(5), 1))
    eight, rec8 = run(vec(lambda: FixedLengthEnv(5), 8))
    assert one.step == eight.step == 400
    assert one.updates == eight.updates == (400 - 40) // 8 * 4 + 4  # calls at 40, 48, ..., 400
    assert rec1.events.count(("train_begin",)) == 1
    count = lambda rec, name: sum(e[0] == name for e in rec.events)  # noqa: E731
    assert count(rec1, "target_update") == count(rec8, "target_update") == 40
    assert count(rec1, "episode_end") == count(rec8, "episode_end") == 80
    ends8 = [log for e, log in zip(rec8.events, rec8.logs) if e[0] == "episode_end"]
    assert {log["env_index"] for log in ends8} == set(range(8))
    assert all(log["length"] == 5 and log["return"] == 5.0 for log in ends8)


@pytest.mark.parametrize("mode", ["sync", "async", "native", "auto"])
def test_every_vector_mode_trains(mode):
    env = make_vec_env("CartPole-v1", 3, mode=mode)
    config = CONFIG.replace(num_envs=3)
    agent = DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
    trainer = Trainer(agent, env, config)
    trainer.train(300)
    env.close()
    assert 300 <= trainer.step <= 302 and trainer.updates > 0 and trainer.episodes > 0
    assert len(trainer.replay) == trainer.step
