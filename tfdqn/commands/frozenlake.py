"""`tfdqn frozenlake`: train tabular Q-learning on FrozenLake and check it against exact value iteration.

Writes OUT/<map>-<slippery|deterministic>/ (OUT defaults to results/frozenlake):
q_table.npy, metrics.csv (+ an empty evaluations.csv), learning_curve.png (training success rate and its
moving average), policy.png (greedy action and state value per cell, beside value iteration's),
agent.gif (one greedy episode) and summary.json (exact success probabilities of the learned and the
optimal greedy policy within the time limit, max |Q - Q*| over non-terminal states, timings).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tfdqn.cli import non_negative_int, positive_int, prepare_process
from tfdqn.fileio import check_out_dir

START = time.perf_counter()
HELP = "tabular Q-learning on FrozenLake checked exactly by value iteration (or --check a saved DQN)"
DESCRIPTION = (
    "Train tabular Q-learning on FrozenLake and compare the learned greedy policy with value "
    "iteration's, exactly, from the transition model; or, with --check, do the same for a saved DQN."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The map, the Q-learning hyperparameters, the output folder and --check."""
    p.add_argument(
        "--map",
        default="4x4",
        help="FrozenLake map: 4x4 (FrozenLake-v1, 100-step limit) or 8x8 (FrozenLake8x8-v1, "
        "200-step limit) (default 4x4)",
    )
    p.add_argument(
        "--slippery",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="slippery ice: the intended move happens with probability 1/3, each sideways move "
        "with 1/3 (default: slippery; --no-slippery for deterministic moves)",
    )
    p.add_argument(
        "--episodes", type=positive_int, default=None, help="training episodes (default 20000 on 4x4, 50000 on 8x8)"
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results/frozenlake"),
        help="parent output directory; files go to OUT/<map>-<slippery|deterministic>/ (default results/frozenlake)",
    )
    p.add_argument("--gamma", type=float, default=None, help="discount factor in (0, 1] (default 0.99)")
    p.add_argument("--alpha", type=float, default=None, help="initial learning rate in (0, 1] (default 0.1)")
    p.add_argument(
        "--alpha-end", type=float, default=None, help="learning rate after the decay, in (0, alpha] (default 0.01)"
    )
    p.add_argument(
        "--epsilon-end", type=float, default=None, help="exploration rate after the decay, in [0, 1] (default 0.01)"
    )
    p.add_argument(
        "--decay-fraction",
        type=float,
        default=None,
        help="share of the episodes over which epsilon and alpha decay linearly (default 0.5)",
    )
    p.add_argument(
        "--no-live-plot",
        action="store_true",
        help="do not refresh the learning curve during training (it is still written at the end)",
    )
    p.add_argument("--no-gif", action="store_true", help="skip rendering agent.gif (default: render it)")
    p.add_argument(
        "--check",
        type=Path,
        default=None,
        metavar="MODEL",
        help="instead of training, check a saved .keras DQN (e.g. from tfdqn train --env FrozenLake-v1): "
        "the exact success probability of its greedy policy on --map against value iteration's "
        "(default: train the Q-table)",
    )


def run(args: argparse.Namespace) -> int:
    """Train the Q-table, write its files and the exact comparison with value iteration (or --check a DQN)."""
    prepare_process()
    if args.check is not None:
        return check_model(args)
    check_out_dir(args.out)  # an existing file, a path under one, a folder refusing writes: one line, now
    # Imported here, not at the top, so `tfdqn --help` stays fast (NumPy, Gymnasium, matplotlib).
    import numpy as np

    from tfdqn.fileio import atomic_write, write_json
    from tfdqn.listeners import LivePlot, MetricsLogger, ProgressLogger
    from tfdqn.tabular.config import TabularConfig
    from tfdqn.tabular.dp import compare_with_optimum, value_iteration
    from tfdqn.tabular.frozenlake import plot_policy, policy_grid, record_episode_gif
    from tfdqn.tabular.mdp import TabularMDP, frozenlake_map, make_frozenlake
    from tfdqn.tabular.qlearning import QLearner

    overrides = {
        "gamma": args.gamma,
        "alpha": args.alpha,
        "alpha_end": args.alpha_end,
        "epsilon_end": args.epsilon_end,
        "decay_fraction": args.decay_fraction,
        "episodes": args.episodes,
    }
    config = TabularConfig(
        map_name=args.map,
        is_slippery=args.slippery,
        seed=args.seed,
        **{k: v for k, v in overrides.items() if v is not None},
    )
    out: Path = args.out / f"{config.map_name}-{'slippery' if config.is_slippery else 'deterministic'}"
    check_out_dir(out)  # OUT/<map>-<kind> itself may be an existing file
    out.mkdir(parents=True, exist_ok=True)
    kind = "slippery" if config.is_slippery else "deterministic"
    listeners = [
        ProgressLogger(),
        MetricsLogger(out),
        LivePlot(
            out / "learning_curve.png",
            live=not args.no_live_plot,
            window=max(100, config.episode_budget // 100),
            value_key="success",
            value_label="success (1 = reached the goal)",
            title=f"Q-learning on {config.env_id} ({kind}): training episodes, epsilon-greedy",
        ),
    ]
    learner = QLearner(config, listeners=listeners)
    try:
        end = learner.train()
    finally:
        learner.env.close()

    q_table = learner.q_table
    atomic_write(out / "q_table.npy", lambda tmp: np.save(tmp, q_table))
    env = make_frozenlake(config.map_name, config.is_slippery)
    try:
        report = compare_with_optimum(q_table, env, config.gamma, visits=learner.visits)
        q_star = value_iteration(TabularMDP.from_env(env), gamma=config.gamma)
        desc = frozenlake_map(env)
    finally:
        env.close()
    plot_policy(
        q_table,
        desc,
        out / "policy.png",
        reference=q_star,
        title=f"learned ({kind} {config.map_name}, {end['episodes']:,} episodes)",
        reference_title=f"value iteration, gamma {config.gamma}",
    )
    gif = None
    if not args.no_gif:
        gif = record_episode_gif(
            learner.greedy_actions(), config.map_name, config.is_slippery, out / "agent.gif", seed=config.seed
        )

    summary = {
        "env_id": config.env_id,
        "map": config.map_name,
        "slippery": config.is_slippery,
        "seed": config.seed,
        "episodes": end["episodes"],
        "env_steps": end["step"],
        "train_seconds": round(end["wall_seconds"], 2),
        "wall_seconds": round(time.perf_counter() - START, 2),
        **report,
        "training_success_rate_last_100": float(np.mean(learner.recent_returns)),
        "gif_episode": gif,
        "config": config.to_dict(),
    }
    for key in ("learned_policy", "optimal_policy"):  # rows of L/D/R/U, H, G: readable beside the map
        summary[key] = policy_grid(summary[key], desc)
    write_json(out / "summary.json", summary)
    print(
        f"greedy policy reaches the goal within {report['horizon']} steps with probability "
        f"{report['learned_success_probability']:.4f}; value iteration's at gamma {config.gamma}: "
        f"{report['optimal_success_probability']:.4f} (best of any policy: "
        f"{report['best_success_probability_any_policy']:.4f}); max |Q - Q*| = {report['max_abs_q_error']:.3f}"
    )
    print(f"results written to {out}/")
    return 0


def check_model(args: argparse.Namespace) -> int:
    """Print the exact success probability of a saved Q-network's greedy policy against the optimum's."""
    # Imported here, not at the top, so `tfdqn --help` stays fast.
    from tfdqn.tabular.config import TabularConfig
    from tfdqn.tabular.frozenlake import check_q_network

    gamma = TabularConfig().gamma if args.gamma is None else args.gamma
    report = check_q_network(args.check, args.map, args.slippery, gamma)
    print(
        json.dumps(
            {
                k: report[k]
                for k in (
                    "learned_success_probability",
                    "optimal_success_probability",
                    "best_success_probability_any_policy",
                    "success_gap",
                    "horizon",
                    "gamma",
                    "policy_disagreements",
                )
            }
        )
    )
    return 0
