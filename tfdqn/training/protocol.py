"""`Protocol`: how a run is evaluated and when it stops, and the command-line flags that set it.

Light on purpose (no TensorFlow): the commands parse their flags into a `Protocol` before anything heavy
loads, and `tfdqn.training.run.assemble` turns it into listeners. Every command, the sweep worker and the
benchmarks evaluate with the same seeds, offset from the run's seed so evaluations never replay training
episodes.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from tfdqn.cli import non_negative_int, positive_int

EVAL_SEED_OFFSET = 10_000
"""Periodic greedy evaluations use seeds from `config.seed + EVAL_SEED_OFFSET`."""
CONFIRM_SEED_OFFSET = 20_000
"""The confirmation of a solve uses seeds from `config.seed + CONFIRM_SEED_OFFSET`."""
FINAL_SEED_OFFSET = 30_000
"""The final evaluation of best.keras (summary.json) uses seeds from `config.seed + FINAL_SEED_OFFSET`."""


@dataclass(frozen=True)
class Protocol:
    """The evaluation protocol of a run: greedy evaluations every `eval_every` env steps on `eval_episodes`
    episodes; a stop once an evaluation reaches `threshold` (None: the environment's reward_threshold) and
    `confirm_episodes` fresh episodes confirm it; best.keras judged on `final_episodes` at the end. Every
    greedy episode is cut after `eval_max_steps` steps (None: the environment's own time limit, or
    `tfdqn.dqn.evaluation.limitless_cap` for an environment without one)."""

    eval_every: int = 1_000
    eval_episodes: int = 20
    confirm_episodes: int = 100
    final_episodes: int = 100
    threshold: float | None = None
    stop_on_reward: bool = True
    live_plot: bool = False
    divergence_alarm: bool = True
    tensorboard: str | None = None
    plot_threshold: bool = True
    eval_max_steps: int | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace, *, plot_threshold: bool = True) -> Protocol:
        """The protocol `add_run_flags`'s flags describe."""
        return cls(
            eval_every=args.eval_every,
            eval_episodes=args.eval_episodes,
            confirm_episodes=args.confirm_episodes,
            final_episodes=args.final_episodes,
            threshold=args.threshold,
            stop_on_reward=not args.no_stop,
            live_plot=not args.no_live_plot,
            divergence_alarm=not getattr(args, "no_divergence_alarm", False),
            tensorboard=getattr(args, "tensorboard", None),
            plot_threshold=plot_threshold,
            eval_max_steps=getattr(args, "eval_max_steps", None),
        )


def add_run_flags(
    parser: argparse.ArgumentParser, *, eval_every: int, eval_episodes: int, confirm_episodes: int, final_episodes: int
) -> None:
    """The evaluation, stopping, plotting and thread flags every training command takes, with its defaults."""
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="evaluation mean return that counts as solved (default: the environment's "
        "reward_threshold from its Gymnasium spec, 475 for CartPole-v1, 200 for LunarLander-v3; "
        "without one, training runs the whole budget)",
    )
    parser.add_argument(
        "--eval-every",
        type=positive_int,
        default=eval_every,
        help="env steps between greedy evaluations (default %(default)s)",
    )
    parser.add_argument(
        "--eval-episodes",
        type=positive_int,
        default=eval_episodes,
        help="episodes per periodic evaluation (default %(default)s)",
    )
    parser.add_argument(
        "--confirm-episodes",
        type=non_negative_int,
        default=confirm_episodes,
        help="fresh episodes that must confirm a solve before stopping; 0 = trust one evaluation (default %(default)s)",
    )
    parser.add_argument(
        "--final-episodes",
        type=positive_int,
        default=final_episodes,
        help="fresh episodes for the final evaluation of best.keras in summary.json (default %(default)s)",
    )
    parser.add_argument(
        "--eval-max-steps",
        type=positive_int,
        default=None,
        metavar="N",
        help="cut every greedy evaluation episode (periodic, confirmation, final, GIFs) after N steps "
        "(default: the environment's own time limit; 1000 for one without a time limit, e.g. CliffWalking-v1; "
        "10000 on MinAtar)",
    )
    parser.add_argument("--no-stop", action="store_true", help="train for all --steps even once solved")
    parser.add_argument(
        "--no-live-plot",
        action="store_true",
        help="do not refresh the learning curve during training (it is still written at the end)",
    )
    parser.add_argument(
        "--no-divergence-alarm",
        action="store_true",
        help="do not warn when Q-values exceed r_max / (1 - gamma) (the alarm is on by default)",
    )
    parser.add_argument(
        "--tensorboard",
        metavar="DIR",
        default=None,
        help="also write TensorBoard event files to DIR (view: tensorboard --logdir DIR); default: none",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="TensorFlow CPU threads (default %(default)s: fastest for small networks)",
    )
