"""The loop suite: how close the Trainer's train-only env steps/s come to the floor its parts imply.

The floor is `updates_per_step x t_update + t_env_and_act` (one compiled gradient step; one env step with an
epsilon-greedy action), measured in the same process as a 10,000-step Trainer run, the three interleaved in
every repeat; the report gives the ratio achieved / floor per repeat with a bootstrap interval over repeats.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from tfdqn.experiments import stats
from tfdqn.presets import parts_on

OLD_COMMAND = "python scripts/benchmark.py --suite loop"
"""What results recorded before reports stored their command were produced by."""


def bench_loop(repeats: int) -> dict[str, Any]:
    """Floor `updates_per_step * t_update + t_env_and_act` versus the Trainer's achieved train-only rate."""
    # TensorFlow and the agent load here, not at the top: the other suites and `--help` do without them
    import keras
    import numpy as np

    import tfdqn
    from tfdqn.replay.prioritized import ExtendedReplay

    tfdqn.configure_threads(1)
    config = tfdqn.config_for_env("CartPole-v1")  # what train_cartpole.py uses
    keras.utils.set_random_seed(0)
    env = tfdqn.make_vec_env(config.env_id, 1)
    agent = tfdqn.DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
    rng = np.random.default_rng(0)
    # The Trainer's own kind of replay (n-step discounts beside the buffer when the config asks for them).
    buffer = ExtendedReplay.for_config(tfdqn.ReplayBuffer(config.buffer_size, (4,)), config)
    obs, _ = env.reset(seed=0)
    for _ in range(5_000):  # realistic CartPole transitions to sample from
        action = rng.integers(0, 2, size=1)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add_batch(obs, action, reward, next_obs, terminated)
        obs = next_obs

    # The same update without XLA (jit_compile=False), timed alternately with the default, to show what
    # jit_compile=True buys.
    plain = tfdqn.DQNAgent.from_spaces(
        env.single_observation_space, env.single_action_space, config.replace(jit_compile=False)
    )
    for learner in (agent, plain):
        learner.learn(buffer.sample(config.batch_size, rng, config.gradient_steps))  # trace and compile
    learn = agent.learn  # bound; timed_learn wraps it for the Trainer runs only
    in_loop: list[float] = []  # seconds inside agent.learn during a Trainer run

    def timed_learn(batch):
        t0 = time.perf_counter()
        try:
            return learn(batch)
        finally:
            in_loop.append(time.perf_counter() - t0)

    # Every repeat times each part in turn (interleaved), so that drift in the machine's load hits all alike.
    updates_per_step = config.gradient_steps / config.train_freq
    t_update: list[float] = []
    t_update_plain: list[float] = []
    t_env_act: list[float] = []
    achieved: list[float] = []
    update_share: list[tuple[float, int]] = []
    for r in range(repeats):
        for learner, times in ((agent, t_update), (plain, t_update_plain)):
            calls = []
            for _ in range(20):
                batch = buffer.sample(config.batch_size, rng, config.gradient_steps)
                t0 = time.perf_counter()
                learner.learn(batch)
                calls.append(time.perf_counter() - t0)
            times.append(statistics.median(calls) / config.gradient_steps)

        n = 5_000
        obs, _ = env.reset(seed=r)
        t0 = time.perf_counter()
        for _ in range(n):
            action = agent.act(obs, 0.05, rng)
            obs, reward, terminated, truncated, _ = env.step(action)
        t_env_act.append((time.perf_counter() - t0) / n)

        trainer = tfdqn.Trainer(agent, env, config.replace(learning_starts=0, seed=r))
        trainer.replay = buffer  # already warm: every step of this run is a training step
        steps = 10_000
        in_loop.clear()
        agent.learn = timed_learn  # type: ignore[method-assign]  # a stub on the instance, deleted below
        try:
            t0 = time.perf_counter()
            trainer.step = 0
            trainer.train(steps)
            elapsed = time.perf_counter() - t0
        finally:
            del agent.learn  # the class's own method again
        achieved.append(steps / elapsed)
        update_share.append((sum(in_loop) / steps, len(in_loop)))
    env.close()
    tu, te, sps = statistics.median(t_update), statistics.median(t_env_act), statistics.median(achieved)
    floor = updates_per_step * tu + te
    # Where a Trainer step's time goes: the update calls, and everything else (acting, the env, replay, bookkeeping).
    update_per_step = statistics.median(u for u, _ in update_share)
    rest_per_step = statistics.median(1 / a - u for a, (u, _) in zip(achieved, update_share))
    update_calls = update_share[0][1]
    # The same ratio within each repeat (its own floor and Trainer run), with a bootstrap interval over repeats.
    ratios = [a * (updates_per_step * u + e) for a, u, e in zip(achieved, t_update, t_env_act)]
    return {
        "t_update_ms": tu * 1e3,
        "t_update_without_xla_ms": statistics.median(t_update_plain) * 1e3,
        "t_env_and_act_us": te * 1e6,
        "updates_per_step": updates_per_step,
        "gradient_steps_per_call": config.gradient_steps,
        "batch_size": config.batch_size,
        "hidden_sizes": list(config.hidden_sizes),
        "parts": parts_on(config),
        "floor_ms_per_step": floor * 1e3,
        "ceiling_steps_per_s": 1 / floor,
        "achieved_steps_per_s": sps,
        "achieved_over_ceiling": sps * floor,
        "repeats": repeats,
        "in_loop_update_ms_per_step": update_per_step * 1e3,
        "in_loop_t_update_ms": update_per_step / updates_per_step * 1e3,
        "in_loop_rest_us_per_step": rest_per_step * 1e6,
        "in_loop_update_calls": update_calls,
        "ratio_per_repeat": ratios,
        "median_ratio": statistics.median(ratios),
        "ci_ratio": stats.bootstrap_ci(ratios),
        "raw": {
            "t_update_s": t_update,
            "t_update_without_xla_s": t_update_plain,
            "t_env_and_act_s": t_env_act,
            "achieved_steps_per_s": achieved,
            "in_loop_update_s_per_step": [u for u, _ in update_share],
        },
    }


def report_loop(r: dict[str, Any]) -> str:
    """The loop suite's Markdown report."""
    return "\n".join(
        [
            "# Loop efficiency (CartPole-v1, the training command's CartPole config, 1 TensorFlow thread)",
            "",
            f"Medians of {r['repeats']} repeats, measured in one process by `{r.get('command', OLD_COMMAND)}`.",
            "",
            "| figure | value |",
            "| --- | --- |",
            f"| one gradient step (batch {r.get('batch_size', 64)}, "
            f"{'x'.join(str(h) for h in r.get('hidden_sizes', (256, 256)))}"
            f"{''.join(', ' + p for p in r.get('parts', []))}, "
            f"inside a {r.get('gradient_steps_per_call', 64)}-step compiled call) "
            f"| {r['t_update_ms']:.3f} ms |",
            *(
                [
                    "| the same gradient step without XLA (`jit_compile=False`) | "
                    f"{r['t_update_without_xla_ms']:.3f} ms "
                    f"({r['t_update_without_xla_ms'] / r['t_update_ms']:.1f}x) |"
                ]
                if "t_update_without_xla_ms" in r
                else []
            ),
            f"| one env step + epsilon-greedy action | {r['t_env_and_act_us']:.1f} µs |",
            f"| gradient steps per env step | {r['updates_per_step']:g} |",
            f"| floor = updates_per_step x t_update + t_env_and_act | {r['floor_ms_per_step']:.3f} ms/step "
            f"({r['ceiling_steps_per_s']:,.0f} steps/s) |",
            f"| achieved train-only env steps/s (Trainer, no listeners) | {r['achieved_steps_per_s']:,.0f} |",
            f"| achieved / floor | **{r['achieved_over_ceiling']:.2f}** (goal >= 0.9) |",
            *(
                [
                    f"| achieved / floor within each repeat: median [95% bootstrap interval over repeats] | "
                    f"{r['median_ratio']:.2f} [{r['ci_ratio'][0]:.2f}, {r['ci_ratio'][1]:.2f}] "
                    f"({', '.join(f'{x:.2f}' for x in r['ratio_per_repeat'])}): goal 0.9 "
                    f"{'met' if r['ci_ratio'][0] >= 0.9 else 'missed' if r['ci_ratio'][1] < 0.9 else 'undecided'} |"
                ]
                if "median_ratio" in r
                else []
            ),
            *(
                [
                    f"| in that Trainer run: time in the update calls ({r['in_loop_update_calls']:,} calls) | "
                    f"{r['in_loop_update_ms_per_step']:.3f} ms/step "
                    f"({r['in_loop_t_update_ms']:.3f} ms per gradient step) |",
                    "| in that Trainer run: everything else (act, env, replay, n-step windows, target copies, "
                    "bookkeeping) | "
                    f"{r['in_loop_rest_us_per_step']:.1f} µs/step (the floor allows {r['t_env_and_act_us']:.1f}) |",
                ]
                if "in_loop_update_ms_per_step" in r
                else []
            ),
            *(
                [
                    "",
                    "Each repeat times the update, the env step and a 10,000-step Trainer run in turn (interleaved); "
                    "'met' needs the whole interval at or above 0.9 (with 5 repeats or fewer the interval is simply "
                    "the lowest to the highest repeat).",
                ]
                if "in_loop_update_ms_per_step" in r
                else []
            ),
            "",
        ]
    )
