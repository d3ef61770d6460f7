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

HELP = "train the Nature DQN on an Atari game (needs: pip install -r requirements-atari.txt)"
DESCRIPTION = (
    "Train the Nature DQN on an Atari game (AtariPreprocessing + 4 stacked 84x84 frames) and write "
    "metrics, plots, the best model and GIFs to --out. Needs: pip install -r requirements-atari.txt"
)

# DQNConfig fields: the Nature network with the settings of RL Baselines3 Zoo's Atari DQN.
ATARI_DEFAULTS = {
    "env_id": "ALE/Pong-v5",
    "conv_layers": [[32, 8, 4], [64, 4, 2], [64, 3, 1]],
    "hidden_sizes": [512],
    "jit_compile": False,
    "learning_rate": 1e-4,
    "max_grad_norm": 10.0,
    "gamma": 0.99,
    "buffer_size": 100_000,
    "batch_size": 32,
    "learning_starts": 100_000,
    "train_freq": 4,
    "gradient_steps": 1,
    "target_update_interval": 1_000,
    "epsilon_start": 1.0,
    "epsilon_end": 0.01,
    "epsilon_decay_steps": 1_000_000,
    # RL-Zoo's choices (SB3 DQN): plain DQN target, hard target copy, PyTorch's default initialisation
    "initializer": "fan_in_uniform",
    "double_dqn": False,
    "tau": 1.0,
    "loss": "huber",
    "learning_rate_final": None,
}


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
    if importlib.util.find_spec("ale_py") is None:
        raise EnvError("Atari needs ale-py, which is not installed: pip install -r requirements-atari.txt")
    from tfdqn.envs.pixels import atari_env_id

    game = args.env
    args.env = atari_env_id(game)  # registers tfdqn/ALE-<Game>-v5: the game with DQN preprocessing
    if args.out is None:
        args.out = Path("results/atari") / game.split("/")[-1].rsplit("-v", 1)[0].lower()
    return pixels.run(args, ATARI_DEFAULTS)
