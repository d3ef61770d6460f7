"""Train the Nature DQN on an Atari game (default ALE/Pong-v5); results under results/atari/<game>/.

Needs the optional extra: `pip install -r requirements-atari.txt` (ale-py, which ships the game ROMs).
Observations go through Gymnasium's `AtariPreprocessing` (no-op starts, frame skip 4 with max-pooling,
84x84 greyscale) and `FrameStackObservation` (4 frames), channels-last; the network is Mnih et al.'s
(32x8x8/4, 64x4x4/2, 64x3x3/1, 512). The default budget is the usual 10M agent steps: days on a laptop
CPU, hours on a GPU. The flags and the files written are those of train_pixels.py.
"""

from tfdqn.commands import run_command

if __name__ == "__main__":
    run_command("atari", prog="train_atari.py")
