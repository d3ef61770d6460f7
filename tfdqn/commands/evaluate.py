"""`tfdqn evaluate`: greedy evaluation of a saved `.keras` Q-network (mean ± std over fresh episodes),
optionally recording one episode to a GIF or an mp4 or showing it in a window. `scripts/evaluate.py` is this
command."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tfdqn.cli import non_negative_int, positive_int, prepare_process
from tfdqn.extras import require_extra
from tfdqn.fileio import check_out_file

HELP = "evaluate a saved .keras Q-network greedily (mean ± std), optionally to a GIF or a window"
DESCRIPTION = (
    "Greedy evaluation of a saved .keras Q-network. The model takes the environment's raw "
    "observations (its observation encoding is inside it); a model that does not fit the "
    "environment is refused with one line."
)
DEFAULT_ENV = "CartPole-v1"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, help="path to a .keras model (e.g. results/cartpole/best.keras)")
    p.add_argument(
        "--env",
        default=None,
        help=f"environment id (default: env_id from config.json beside the model, else {DEFAULT_ENV})",
    )
    p.add_argument("--episodes", type=positive_int, default=100, help="episodes to run (default 100)")
    p.add_argument("--seed", type=non_negative_int, default=12_345, help="seed of the first episode (default 12345)")
    p.add_argument(
        "--max-steps",
        type=positive_int,
        default=None,
        metavar="N",
        help="cut every episode (the GIF's and the window's too) after N steps (default: the environment's own "
        "time limit; 1000 for one without a time limit, e.g. CliffWalking-v1; 10000 on MinAtar)",
    )
    p.add_argument("--gif", type=Path, default=None, help="also record one greedy episode to this GIF (default: none)")
    p.add_argument(
        "--video",
        type=Path,
        default=None,
        help='also record one greedy episode to this mp4 (needs pip install "tfdqn[video]") (default: none)',
    )
    p.add_argument(
        "--render", action="store_true", help="show one greedy episode in a window (needs a display) (default off)"
    )


def default_env_id(model_path: Path) -> str:
    """env_id from the config.json saved beside the model, else CartPole-v1."""
    config = model_path.parent / "config.json"
    try:
        return str(json.loads(config.read_text())["env_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_ENV


def run(args: argparse.Namespace) -> int:
    prepare_process()
    if args.gif is not None:
        check_out_file(args.gif, "--gif")
    if args.video is not None:
        require_extra("video", "--video")
        check_out_file(args.video, "--video")
    import tfdqn
    from tfdqn.dqn.evaluation import evaluation_step_cap, step_cap_line

    env_id = args.env or default_env_id(args.model)
    cap = evaluation_step_cap(env_id, args.max_steps)
    if line := step_cap_line(env_id, args.max_steps, flag="--max-steps"):
        print(line, file=sys.stderr)
    result = tfdqn.evaluate_model(args.model, env_id, args.episodes, seed=args.seed, max_steps=cap)
    print(f"{env_id}, {args.model}: {result}")
    if args.gif or args.video or args.render:
        policy = tfdqn.Policy(tfdqn.load_q_network(args.model))  # acts in NumPy where the network allows
        if args.gif:
            ret = tfdqn.record_gif(policy, env_id, args.gif, seed=args.seed, max_steps=cap)
            print(f"recorded one episode (return {ret:.1f}) to {args.gif}")
        if args.video:
            ret = tfdqn.record_video(policy, env_id, args.video, seed=args.seed, max_steps=cap)
            print(f"recorded one episode (return {ret:.1f}) to {args.video}")
        if args.render:
            ret = tfdqn.render_episode(policy, env_id, seed=args.seed, max_steps=cap)
            print(f"rendered one episode (return {ret:.1f})")
    return 0
