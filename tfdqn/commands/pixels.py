"""`tfdqn pixels`: train DQN on CartPole from pixels (tfdqn/PixelCartPole-v0) and leave the evidence under
results/pixel_cartpole/.

The agent sees only rendered frames: cropped, downscaled to 40x120 greyscale, the last 4 stacked (see
tfdqn/envs/pixels.py); a small convolutional Q-network reads them. Writes: metrics.csv, evaluations.csv,
learning_curve.png, best.keras (+ best.json), last.keras, config.json, summary.json (best.keras greedily on
fresh episodes), untrained.gif and trained.gif (the colour frames CartPole renders) and trained_input.gif
(what the network sees: the newest greyscale frame of each observation, enlarged).
`scripts/train_pixels.py` is this command.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tfdqn.cli import non_negative_int, positive_int, prepare_process
from tfdqn.fileio import check_out_dir
from tfdqn.presets import PRESETS
from tfdqn.training.protocol import add_run_flags

START = time.perf_counter()
HELP = "train a DQN from pixels (default: CartPole rendered, tfdqn/PixelCartPole-v0)"
DEFAULT_OUT = Path("results/pixel_cartpole")
DEFAULT_STEPS = 120_000  # about 10-20 minutes here, with the machine shared (README, 'Learning from pixels')
DESCRIPTION = (
    "Train a DQN on CartPole from pixels (a convolutional Q-network on stacked, greyscale, downscaled "
    "frames) and write metrics, plots, the best model and GIFs to --out."
)
# DQNConfig fields: the "pixels" preset for CartPole rendered; --config and the flags override them.
PIXEL_DEFAULTS = {"env_id": "tfdqn/PixelCartPole-v0", **PRESETS["pixels"].fields}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `tfdqn pixels`; `tfdqn atari` reuses them with its own defaults (`set_defaults`)."""
    p.add_argument(
        "--steps",
        type=positive_int,
        default=DEFAULT_STEPS,
        help="maximum environment steps; training stops earlier once solved (default %(default)s)",
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default %(default)s)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default %(default)s)")
    p.add_argument(
        "--env",
        default=PIXEL_DEFAULTS["env_id"],
        help="environment id with uint8 image observations (default %(default)s)",
    )
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="DQNConfig fields overriding this command's defaults: a JSON (e.g. a config.json) or .toml file "
        "(default: none)",
    )
    p.add_argument(
        "--num-envs",
        type=positive_int,
        default=None,
        help="environments stepped together, in one process (default: the config's num_envs, 1)",
    )
    p.add_argument(
        "--no-gif",
        action="store_true",
        help="skip rendering untrained.gif, trained.gif and trained_input.gif (default: render them)",
    )
    add_run_flags(p, eval_every=5_000, eval_episodes=10, confirm_episodes=50, final_episodes=50)
    p.add_argument(
        "--measure",
        action="store_true",
        help="only time one env step (render included), one greedy action and one gradient step of "
        "this configuration, print them and a budget estimate, and exit (no training) (default off)",
    )


def measure(agent, env_id: str, config, repeats: int = 300) -> dict:
    """Median costs in milliseconds: env step (rendering and wrappers), greedy action, one gradient step."""
    import statistics

    import numpy as np

    import tfdqn
    from tfdqn.replay.pixel import replay_for_observations

    rng = np.random.default_rng(0)
    env = tfdqn.make_env(env_id)
    space = env.observation_space
    assert space.shape is not None and space.dtype is not None  # run() checked: uint8 images
    buffer = replay_for_observations(max(repeats, config.batch_size), space.shape, space.dtype)
    env_ms, act_ms = [], []
    obs, _ = env.reset(seed=0)
    for _ in range(repeats):
        t0 = time.perf_counter()
        action = int(agent.greedy(obs[None])[0])
        t1 = time.perf_counter()
        next_obs, reward, terminated, truncated, _ = env.step(int(rng.integers(0, 2)) if rng.random() < 0.5 else action)
        t2 = time.perf_counter()
        act_ms.append(1e3 * (t1 - t0))
        env_ms.append(1e3 * (t2 - t1))
        buffer.add(obs, action, float(reward), next_obs, bool(terminated))
        obs = next_obs if not (terminated or truncated) else env.reset()[0]
    env.close()
    agent.learn(buffer.sample(config.batch_size, rng, config.gradient_steps))  # compile
    update_ms = []
    for _ in range(30):
        batch = buffer.sample(config.batch_size, rng, config.gradient_steps)
        t0 = time.perf_counter()
        agent.learn(batch)
        update_ms.append(1e3 * (time.perf_counter() - t0) / config.gradient_steps)
    costs = {
        "env_step_ms": statistics.median(env_ms),
        "greedy_action_ms": statistics.median(act_ms),
        "gradient_step_ms": statistics.median(update_ms),
    }
    costs["ms_per_env_step"] = (
        costs["env_step_ms"]
        + costs["greedy_action_ms"]
        + costs["gradient_step_ms"] * config.gradient_steps / config.train_freq
    )
    return costs


def build_config(args, tfdqn, defaults: dict = PIXEL_DEFAULTS):
    """The run's DQNConfig: `defaults` < --config < flags."""
    from tfdqn.config import read_config_file

    fields = dict(defaults)
    if args.config is not None:
        fields.update(read_config_file(args.config))  # unknown fields fail in from_dict
    fields["seed"] = args.seed
    if args.env is not None:
        fields["env_id"] = args.env
    if args.num_envs is not None:
        fields["num_envs"] = args.num_envs
    return tfdqn.DQNConfig.from_dict(fields)


def record_input_gif(
    policy, env_id: str, path: Path, seed: int, scale: int = 4, fps: int = 25, max_steps: int | None = None
) -> float:
    """One greedy episode as the network sees it: the newest frame of each stacked observation (cut after
    `max_steps` steps, as `tfdqn.record_gif` cuts it)."""
    import numpy as np
    from PIL import Image

    import tfdqn
    from tfdqn.dqn.evaluation import episode_step_cap
    from tfdqn.fileio import atomic_write

    env = tfdqn.make_env(env_id)
    frames, total = [], 0.0
    try:
        obs, _ = env.reset(seed=seed)
        done, t, cap = False, 0, episode_step_cap(env, max_steps)
        while True:
            frame = Image.fromarray(np.asarray(obs[..., -1]))
            frames.append(frame.resize((frame.width * scale, frame.height * scale), Image.Resampling.NEAREST))
            if done:
                break
            obs, reward, terminated, truncated, _ = env.step(int(policy(obs[None])[0]))
            total += float(reward)
            t += 1
            done = terminated or truncated or (cap is not None and t >= cap)
    finally:
        env.close()
    atomic_write(
        path,
        lambda tmp: frames[0].save(
            tmp, format="GIF", save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0
        ),
    )
    return total


def run(args: argparse.Namespace, defaults: dict = PIXEL_DEFAULTS) -> int:
    """Train with `defaults` (DQNConfig fields) under the flags `args`."""
    # oneDNN kernels made this network's gradient step 2x faster here (prepare_process turns them off,
    # which suits the small MLP); an explicit TF_ENABLE_ONEDNN_OPTS in the environment still wins
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    prepare_process()
    import tfdqn  # light: TensorFlow loads with the first name that needs it
    from tfdqn.envs.make import make_vec_env

    config = build_config(args, tfdqn, defaults)  # bad input fails here, before TensorFlow loads
    out: Path = args.out
    if not args.measure:  # a measurement writes nothing
        check_out_dir(out)
    env = make_vec_env(config.env_id, config.num_envs, mode="sync")
    space = env.single_observation_space
    if space.shape is None or len(space.shape) != 3 or space.dtype != "uint8":
        env.close()
        raise tfdqn.EnvError(
            f"{config.env_id} gives observations {space}; tfdqn pixels needs uint8 images "
            "(height, width, channels) (use tfdqn train for other observations)"
        )
    # TensorFlow loads from here on (the modules below import it)
    from tfdqn.fileio import write_json
    from tfdqn.training.protocol import Protocol
    from tfdqn.training.run import assemble

    tfdqn.configure_threads(args.threads)
    if args.measure:  # not a run: the agent alone, timed
        import keras

        keras.utils.set_random_seed(config.seed)
        agent = tfdqn.DQNAgent.from_spaces(space, env.single_action_space, config)
        env.close()
        costs = measure(agent, config.env_id, config)
        for name, value in costs.items():
            print(f"{name}: {value:.2f}")
        print(
            f"{args.steps} steps need about {costs['ms_per_env_step'] * args.steps / 60_000:.1f} minutes of "
            "training, evaluations not included"
        )
        return 0
    out.mkdir(parents=True, exist_ok=True)
    run = assemble(config, out, Protocol.from_args(args, plot_threshold=False), env=env)
    for note in run.notes:  # what the run stops at, where evaluations are cut
        print(note, file=sys.stderr)
    write_json(out / "config.json", config.to_dict())
    if not args.no_gif:
        tfdqn.record_gif(
            run.agent.greedy, config.env_id, out / "untrained.gif", seed=config.seed, max_steps=run.eval_max_steps
        )
    try:
        end = run.train(args.steps)
    finally:
        run.close()

    best_periodic = max(run.periodic_evaluations(), key=lambda r: float(r["mean_return"]), default=None)
    replay = run.trainer.replay
    extra = {
        "best_periodic_evaluation": None
        if best_periodic is None
        else {
            "step": int(best_periodic["step"]),
            "mean_return": float(best_periodic["mean_return"]),
            "episodes": args.eval_episodes,
        },
        "replay_buffer": {"type": type(replay).__name__, "nbytes": replay.nbytes, "transitions": len(replay)},
    }
    run.finish(
        end,
        start=START,
        gif=not args.no_gif,
        extra=extra,
        more_gifs=lambda best: record_input_gif(
            best, config.env_id, out / "trained_input.gif", seed=config.seed + 1, max_steps=run.eval_max_steps
        ),
    )
    return 0
