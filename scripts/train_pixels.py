"""Train DQN on CartPole from pixels (tfdqn/PixelCartPole-v0) and leave the evidence under results/pixel_cartpole/.

The agent sees only rendered frames: cropped, downscaled to 40x120 greyscale, the last 4 stacked (see
tfdqn/envs/pixels.py); a small convolutional Q-network reads them. Writes: metrics.csv, evaluations.csv,
learning_curve.png, best.keras (+ best.json), last.keras, config.json, summary.json (best.keras greedily on
fresh episodes), untrained.gif and trained.gif (the colour frames CartPole renders) and trained_input.gif
(what the network sees: the newest greyscale frame of each observation, enlarged).
"""

from tfdqn.commands import run_command

if __name__ == "__main__":
    run_command("pixels", prog="train_pixels.py")
