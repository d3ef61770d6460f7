"""Train tabular Q-learning on FrozenLake and check it against exact value iteration.

Writes OUT/<map>-<slippery|deterministic>/ (OUT defaults to results/frozenlake):
q_table.npy, metrics.csv (+ an empty evaluations.csv), learning_curve.png (training success rate and its
moving average), policy.png (greedy action and state value per cell, beside value iteration's),
agent.gif (one greedy episode) and summary.json (exact success probabilities of the learned and the
optimal greedy policy within the time limit, max |Q - Q*| over non-terminal states, timings).
"""

from tfdqn.commands import run_command

if __name__ == "__main__":
    run_command("frozenlake", prog="train_frozenlake.py")
