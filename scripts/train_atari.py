"""Train the Nature DQN on an Atari game (default ALE/Pong-v5); results under results/atari/<game>/.

Needs the optional extra: `pip install -r requirements-atari.txt` (ale-py, which ships the game ROMs).
This is `tfdqn atari`: the protocol (sticky actions 0.25, no-op starts, frame skip 4, FIRE at every life start;
for training only, a terminal at every life lost and rewards clipped to their sign; raw scores reported) is in
its --help and in docs/pixels.md. The flags and the files written are those of train_pixels.py.
"""

from tfdqn.commands import run_command

if __name__ == "__main__":
    run_command("atari", prog="train_atari.py")
