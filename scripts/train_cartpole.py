"""Train DQN on CartPole-v1 (or any discrete-action Gymnasium environment with vector observations, e.g.
LunarLander-v3) until a confirmed solve, and leave the evidence under results/<env>/ (results/cartpole/).

The config is the defaults plus the preset registered for the environment (`tfdqn.PRESETS`; printed at the
start), then `--config`, then the flags. Writes: metrics.csv, evaluations.csv, learning_curve.png,
best.keras (+ best.json), last.keras, config.json, summary.json (best.keras greedily on 100 fresh episodes),
untrained.gif and trained.gif, and state/ (the full training state, for --resume).
"""

from tfdqn.commands import run_command

if __name__ == "__main__":
    run_command("train", prog="train_cartpole.py")
