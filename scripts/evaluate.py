"""Evaluate a saved `.keras` Q-network greedily: mean ± std over fresh episodes, optionally a GIF or a window."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfdqn.cli import ArgumentParser, non_negative_int, positive_int, prepare_process, run_main  # noqa: E402


def parse_args(argv: list[str] | None = None):
    p = ArgumentParser(description="Greedy evaluation of a saved .keras Q-network.")
    p.add_argument("model", type=Path, help="path to a .keras model (e.g. results/cartpole/best.keras)")
    p.add_argument("--episodes", type=positive_int, default=100, help="episodes to run (default 100)")
    p.add_argument("--env", default=None,
                   help="environment id (default: env_id from config.json beside the model, else CartPole-v1)")
    p.add_argument("--seed", type=non_negative_int, default=12_345, help="seed of the first episode (default 12345)")
    p.add_argument("--gif", type=Path, default=None, help="also record one greedy episode to this GIF")
    p.add_argument("--render", action="store_true", help="show one greedy episode in a window (needs a display)")
    return p.parse_args(argv)


def default_env_id(model_path: Path) -> str:
    """env_id from the config.json saved beside the model, else CartPole-v1."""
    config = model_path.parent / "config.json"
    try:
        return str(json.loads(config.read_text())["env_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return "CartPole-v1"


def main() -> int:
    args = parse_args()
    prepare_process()
    import tfdqn

    env_id = args.env or default_env_id(args.model)
    result = tfdqn.evaluate_model(args.model, env_id, args.episodes, seed=args.seed)
    print(f"{env_id}, {args.model}: {result}")
    if args.gif or args.render:
        policy = tfdqn.greedy_policy(tfdqn.load_q_network(args.model))
        if args.gif:
            ret = tfdqn.record_gif(policy, env_id, args.gif, seed=args.seed)
            print(f"recorded one episode (return {ret:.1f}) to {args.gif}")
        if args.render:
            ret = tfdqn.render_episode(policy, env_id, seed=args.seed)
            print(f"rendered one episode (return {ret:.1f})")
    return 0


if __name__ == "__main__":
    run_main(main)
