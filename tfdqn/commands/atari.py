"""`tfdqn atari`: train the Nature DQN on an Atari game (default ALE/Pong-v5); results under results/atari/<game>/.

Needs the optional extra: `pip install -r requirements-atari.txt` (ale-py, which ships the game ROMs).

The protocol (the Nature DQN as Stable-Baselines3 and Dopamine run it; tfdqn.envs.atari, docs/pixels.md for each
setting's source):

- the game, as training and evaluation both play it: sticky actions 0.25 (ALE v5's default; --sticky-actions),
  up to 30 no-op starts, frame skip 4 (the max of the last 2 frames), 84x84 greyscale, FIRE pressed at the start
  of every life in games that have it, the last 4 frames stacked; an episode is a whole game (at most 108,000
  frames);
- for training only: the learner sees a terminal at every life lost (the game goes on) and rewards clipped to
  their sign;
- every return reported (training episodes in metrics.csv, evaluations, summary.json) is the game's raw score.

The network is Mnih et al.'s (32x8x8/4, 64x4x4/2, 64x3x3/1, 512). The default budget is the usual 10M agent steps:
days on a laptop CPU, hours on a GPU. The flags and the files written are those of `tfdqn pixels`.
`scripts/train_atari.py` is this command.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from tfdqn.cli import probability
from tfdqn.commands import pixels
from tfdqn.envs.atari import STICKY_ACTIONS, atari_env_id
from tfdqn.errors import EnvError
from tfdqn.fileio import check_out_dir
from tfdqn.presets import PRESETS

HELP = "train the Nature DQN on an Atari game (needs: pip install -r requirements-atari.txt)"
DESCRIPTION = (
    "Train the Nature DQN on an Atari game and write metrics, plots, the best model and GIFs to --out. "
    "Training and evaluation play the same game: sticky actions 0.25 (ALE v5's default; --sticky-actions), "
    "up to 30 no-op starts, frame skip 4 (the max of the last 2 frames), 84x84 greyscale, FIRE pressed at the "
    "start of every life in games that have it, the last 4 frames stacked; an episode is a whole game. For "
    "training only, the learner sees a terminal at every life lost (the game goes on) and rewards clipped to their "
    "sign. Every return reported is the game's raw score. Needs: pip install -r requirements-atari.txt"
)

# DQNConfig fields: the "atari" preset (the Nature network with RL Baselines3 Zoo's Atari DQN settings).
ATARI_DEFAULTS = {"env_id": "ALE/Pong-v5", **PRESETS["atari"].fields}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """`tfdqn pixels`' flags with Atari defaults, and --sticky-actions."""
    pixels.add_arguments(p)
    p.set_defaults(
        env=ATARI_DEFAULTS["env_id"],
        steps=10_000_000,
        out=None,
        threshold=None,
        eval_every=250_000,
        eval_episodes=5,
        confirm_episodes=0,
        final_episodes=10,
    )
    for action in p._actions:  # say what the Atari defaults are
        if action.dest == "env":
            action.help = "Atari game id, ALE/<Game>-v5 (default %(default)s)"
        elif action.dest == "out":
            action.help = "output directory (default results/atari/<Game>)"
        elif action.dest == "threshold":
            action.help = "evaluation mean return at which to stop (default: never stop early)"
    p.add_argument(
        "--sticky-actions",
        type=probability,
        default=STICKY_ACTIONS,
        metavar="P",
        help="probability that the game repeats the previous action instead of the agent's, on every frame, in "
        "training and evaluation: 0.25 is ALE v5's default (Machado et al. 2018), 0 the Nature DQN's "
        "deterministic game; another value than 0.25 is named in the env id, e.g. tfdqn/ALE-Pong-sticky0-v5 "
        "(default %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    """Check the game id and ale-py (one line each), then run `tfdqn pixels` on the registered tfdqn/ALE id."""
    game = args.env
    if args.out is None:
        args.out = Path("results/atari") / game.split("/")[-1].rsplit("-v", 1)[0].lower()
    if not args.measure:
        check_out_dir(args.out)
    args.env = atari_env_id(game, args.sticky_actions)  # registers tfdqn/ALE-<Game>-v5: the game under the protocol
    if importlib.util.find_spec("ale_py") is None:
        raise EnvError("Atari needs ale-py, which is not installed: pip install -r requirements-atari.txt")
    return pixels.run(args, ATARI_DEFAULTS)
