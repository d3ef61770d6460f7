"""One run of the MinAtar side-by-side, in this fresh one-thread process: its worker.

`python -m benchmarks.minatar_runs SYSTEM --game G --seed S --frames F --out run.json` trains one system on
`MinAtar/<G>-v0` (the paper's full 6-action set) and writes every completed training episode's return and the
frame it ended at (the paper's score is read from these, `benchmarks.minatar_scores`), the training speed, and
for tfdqn's preset a greedy evaluation of best.keras and of the final network. Systems (`SYSTEMS`):

- `tfdqn`: tfdqn's `minatar` preset (the screen's `cheap_parts_tf4`: Adam 1e-4, Double DQN, dueling, 3-step
  returns, one update per 4 frames, over the paper's network and replay);
- `tfdqn_equal`, `sb3_equal`: the paper's network and settings with one update every 4 frames (as Dopamine runs
  MinAtar), in tfdqn and in Stable-Baselines3 (a features extractor with the paper's convolution).

and, for the screen that chooses the preset (`benchmarks.minatar_screen`), `candidate --fields JSON`: tfdqn with
those DQNConfig fields over the paper's settings, training returns only (no evaluation), like `tfdqn_equal`.

A tfdqn run saves its full training state (`tfdqn.training.resume`, by `ModelCheckpoint`) every `--state-every`
frames in its own folder (`run_folder`: `runs/<name>/` beside `runs/<name>.json`); started again with the same
`--out`, it resumes from that state and writes the record an uninterrupted run would (returns, end frames,
evaluations), its training seconds summed over its attempts (`Attempts`). SB3 runs are not resumed: they start over.

Heavy imports (TensorFlow, torch) happen inside each runner, as in `benchmarks.systems`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from benchmarks.common import atomic_write_text, host
from benchmarks.minatar_state import Attempts, discard_state, resume, run_folder
from tfdqn.cli import ArgumentParser, positive_int, prepare_process, run_main
from tfdqn.envs.minatar import GAMES
from tfdqn.presets import MINATAR_PAPER

SYSTEMS = {
    "tfdqn": "tfdqn, --preset minatar",
    "tfdqn_equal": "tfdqn, paper settings, 1 update / 4 frames",
    "sb3_equal": "SB3 DQN, paper settings, 1 update / 4 frames",
}
EQUAL_FIELDS = {**MINATAR_PAPER, "train_freq": 4, "gradient_steps": 1, "epsilon_decay_start": 0}
"""The equal-settings pair's DQNConfig: the paper's, one update every 4 frames, and epsilon decaying from the first
frame (SB3's schedule cannot wait for the paper's 5,000)."""
CANDIDATE = "candidate"
"""The worker's system for a screened candidate (`--fields`): not one of the side-by-side's `SYSTEMS`."""
STATE_EVERY = 250_000
"""Frames between saves of a tfdqn run's training state: the most a stopped run loses (a save takes seconds)."""


def candidate_fields(overrides: dict[str, Any]) -> dict[str, Any]:
    """A screened candidate's DQNConfig fields: the paper's settings with `overrides` on top."""
    return {**MINATAR_PAPER, **overrides}


def env_id(game: str) -> str:
    """The id every system runs `game` as: the paper's full action set."""
    return f"MinAtar/{game}-v0"


def run_tfdqn(
    game: str,
    seed: int,
    frames: int,
    fields: dict[str, Any] | None,
    eval_episodes: int,
    folder: Path,
    state_every: int = STATE_EVERY,
) -> dict[str, Any]:
    """tfdqn through `assemble`: the preset (`fields` None) with periodic evaluations (best.keras) and a final
    greedy evaluation of best.keras and of the final network, or `fields` over no preset (the equal settings, a
    screened candidate) with no evaluation at all (so its speed is the training loop's alone). Its training state
    is saved in `folder` every `state_every` frames; one found there is resumed."""
    prepare_process()
    import tfdqn
    from tfdqn.dqn.evaluation import evaluate_model, evaluation_step_cap
    from tfdqn.listeners.checkpoint import ModelCheckpoint
    from tfdqn.training.protocol import FINAL_SEED_OFFSET, Protocol
    from tfdqn.training.run import assemble

    tfdqn.configure_threads(1)  # a resume is exact in the process settings of the run it resumes: one thread
    equal = fields is not None
    config = tfdqn.config_for_env(env_id(game), "none" if equal else "auto", seed=seed, **(fields or {}))
    attempts = Attempts()
    protocol = None
    if equal:  # no evaluation, no run files: a checkpoint that keeps the training state only
        saver = ModelCheckpoint(folder, save_best=False, save_last=False, save_state=True, state_every=state_every)
        run = assemble(config, listeners=[attempts, saver])
    else:
        every = max(frames // 20, 1_000)
        protocol = Protocol(every, 10, final_episodes=max(eval_episodes, 1), stop_on_reward=False)
        run = assemble(config, folder, protocol, listeners=[attempts], save_state=True, state_every=state_every)
    resume(run.trainer, folder / "state", attempts)
    cpu = time.process_time()
    try:
        end = run.train(frames)
    finally:
        run.close()
    record: dict[str, Any] = {"config": config.to_dict(), "returns": attempts.returns}
    record["end_frames"] = attempts.end_frames
    wall = attempts.earlier_wall + end["wall_seconds"]
    record.update(env_steps=end["step"], train_seconds=wall, updates=end["updates"])
    # what a core of its own would take (load-proof), summed over the attempts
    record["train_cpu_seconds"] = attempts.earlier_cpu + time.process_time() - cpu
    record.update(attempts=len(attempts.resumed_from) + 1, resumed_from=attempts.resumed_from)
    if protocol is not None and eval_episodes:
        assert run.checkpoint is not None
        summary = run.finish(end, start=time.perf_counter(), gif=False)
        final = evaluate_model(run.checkpoint.last_path, config.env_id, eval_episodes, seed + FINAL_SEED_OFFSET)
        record["greedy_best"] = summary["best_keras_evaluation"]["mean_return"]
        record["greedy_final"] = final.mean
        record["greedy_step_cap"] = evaluation_step_cap(config.env_id)  # where both cut a greedy episode
    return record


def sb3_model(game: str, seed: int, frames: int) -> Any:
    """Stable-Baselines3 DQN with the equal settings (`EQUAL_FIELDS`): the paper's convolution as a features
    extractor, its 128 units as `net_arch`, centred RMSProp (PyTorch's, as the paper's code), no gradient clipping,
    epsilon decaying over `epsilon_decay_steps` of the `frames` it will train for."""
    import gymnasium as gym
    import torch
    from stable_baselines3 import DQN
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

    from tfdqn.envs.minatar import ensure_registered

    torch.set_num_threads(1)
    if torch.get_num_interop_threads() != 1:  # settable once a process: a second model here must not set it again
        torch.set_num_interop_threads(1)
    ensure_registered(env_id(game))
    env = gym.make(env_id(game))

    f = EQUAL_FIELDS
    ((filters, kernel, stride),) = f["conv_layers"]  # the paper's one convolution: 16 3x3 filters, stride 1

    class MinAtarConv(BaseFeaturesExtractor):
        """The paper's convolution (valid padding, ReLU) on the channels-last boolean grid, flattened."""

        def __init__(self, observation_space: gym.spaces.Box):
            height, width, channels = (int(n) for n in observation_space.shape)  # (10, 10, C)
            side = ((height - kernel) // stride + 1) * ((width - kernel) // stride + 1)
            super().__init__(observation_space, features_dim=filters * side)
            self.conv = torch.nn.Conv2d(channels, filters, kernel_size=kernel, stride=stride)

        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.conv(obs.permute(0, 3, 1, 2).float())).flatten(1)

    return DQN(
        "MlpPolicy",
        env,
        learning_rate=f["learning_rate"],
        buffer_size=f["buffer_size"],
        learning_starts=f["learning_starts"],
        batch_size=f["batch_size"],
        tau=1.0,
        gamma=f["gamma"],
        train_freq=f["train_freq"],
        gradient_steps=f["gradient_steps"],
        target_update_interval=f["target_update_interval"],
        exploration_fraction=min(1.0, f["epsilon_decay_steps"] / frames),
        exploration_initial_eps=f["epsilon_start"],
        exploration_final_eps=f["epsilon_end"],
        max_grad_norm=float("inf"),
        policy_kwargs={
            "features_extractor_class": MinAtarConv,
            "net_arch": list(f["hidden_sizes"]),
            "normalize_images": False,
            "optimizer_class": torch.optim.RMSprop,
            "optimizer_kwargs": {"alpha": 0.95, "eps": 0.01, "centered": True},
        },
        seed=seed,
        device="cpu",
        verbose=0,
    )


def run_sb3(game: str, seed: int, frames: int) -> dict[str, Any]:
    """Train `sb3_model` on `game` for `frames` and record its training returns, their end frames and its speed."""
    import stable_baselines3
    import torch
    from stable_baselines3.common.callbacks import BaseCallback

    model = sb3_model(game, seed, frames)
    returns: list[float] = []
    ends: list[int] = []

    class Episodes(BaseCallback):
        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if "episode" in info:  # SB3's Monitor wrapper
                    returns.append(float(info["episode"]["r"]))
                    ends.append(int(self.num_timesteps))
            return True

    start, cpu = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=frames, callback=Episodes())
    return {
        "returns": returns,
        "end_frames": ends,
        "env_steps": int(model.num_timesteps),
        "train_seconds": time.perf_counter() - start,
        "train_cpu_seconds": time.process_time() - cpu,
        "updates": int(model._n_updates),
        "versions": {"stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__},
    }


def main(argv: list[str] | None = None) -> int:
    """The worker: run one system on one game once (a tfdqn run from its saved state, if any) and write its
    record (`--out`)."""
    p = ArgumentParser(description="Run one system of the MinAtar side-by-side once; write its JSON.")
    p.add_argument("system", choices=(*SYSTEMS, CANDIDATE))
    p.add_argument("--game", required=True, choices=GAMES)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--frames", type=int, required=True, help="training frames")
    p.add_argument("--eval-episodes", type=int, default=100, help="greedy episodes for best and final (tfdqn)")
    p.add_argument("--fields", type=json.loads, default={}, help="candidate: DQNConfig fields over the paper's (JSON)")
    p.add_argument(
        "--state-every",
        type=positive_int,
        default=STATE_EVERY,
        help="tfdqn: frames between saves of the training state, to resume from (default %(default)s)",
    )
    p.add_argument("--out", type=Path, required=True, help="the record (JSON); the run's folder is beside it")
    args = p.parse_args(argv)
    started = time.perf_counter()
    if args.system == "sb3_equal":
        record = run_sb3(args.game, args.seed, args.frames)
    else:
        fields = candidate_fields(args.fields) if args.system == CANDIDATE else None
        if args.system == "tfdqn_equal":
            fields = EQUAL_FIELDS
        folder = run_folder(args.out)
        record = run_tfdqn(args.game, args.seed, args.frames, fields, args.eval_episodes, folder, args.state_every)
    record.update(system=args.system, game=args.game, seed=args.seed, frames=args.frames)
    record["process_seconds"] = time.perf_counter() - started  # this attempt's process
    record["host"] = host()  # the machine of the attempt that finished: the report groups speeds by it
    atomic_write_text(args.out, json.dumps(record, indent=1))  # written whole, last: a rerun may reuse it
    if args.system != "sb3_equal":
        discard_state(run_folder(args.out))
    return 0


if __name__ == "__main__":
    run_main(main)
