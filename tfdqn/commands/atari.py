"""`tfdqn atari`: train the Nature DQN on an Atari game (default ALE/Pong-v5); results under results/atari/<game>/.

Needs the optional extra: `pip install -r requirements-atari.txt` (ale-py, which ships the game ROMs).
Observations go through Gymnasium's `AtariPreprocessing` (no-op starts, frame skip 4 with max-pooling,
84x84 greyscale) and `FrameStackObservation` (4 frames), channels-last; the network is Mnih et al.'s
(32x8x8/4, 64x4x4/2, 64x3x3/1, 512). The default budget is the usual 10M agent steps: days on a laptop
CPU, hours on a GPU. The flags and the files written are those of `tfdqn pixels`.
`scripts/train_atari.py` is this command.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from tfdqn.commands import pixels
from tfdqn.errors import EnvError
from tfdqn.fileio import check_out_dir
from tfdqn.presets import PRESETS

HELP = "train the Nature DQN on an Atari game (needs: pip install -r requirements-atari.txt)"
DESCRIPTION = (
    "Train the Nature DQN on an Atari game (AtariPreprocessing + 4 stacked 84x84 frames) and write "
    "metrics, plots, the best model and GIFs to --out. Needs: pip install -r requirements-atari.txt"
)

# DQNConfig fields: the "atari" preset (the Nature network with RL Baselines3 Zoo's Atari DQN settings).
ATARI_DEFAULTS = {"env_id": "ALE/Pong-v5", **PRESETS["atari"].fields}


def add_arguments(p: argparse.ArgumentParser) -> None:
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


def run(args: argparse.Namespace) -> int:
    game = args.env
    if args.out is None:
        args.out = Path("results/atari") / game.split("/")[-1].rsplit("-v", 1)[0].lower()
    if not args.measure:
        check_out_dir(args.out)
    if importlib.util.find_spec("ale_py") is None:
        raise EnvError("Atari needs ale-py, which is not installed: pip install -r requirements-atari.txt")
    from tfdqn.envs.atari import atari_env_id

    args.env = atari_env_id(game)  # registers tfdqn/ALE-<Game>-v5: the game with DQN preprocessing
    return pixels.run(args, ATARI_DEFAULTS)
