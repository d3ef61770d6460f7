# The winner of a tfdqn search (tfdqn search benchmarks/configs/search_acrobot.json --env Acrobot-v1 --preset none --steps 100000 --eval-every 2000 --eval-episodes 20 --confirm-episodes 20 --final-episodes 20 --trials 30 --seeds 200 201 202 --num-cpus 2 --out results/search/acrobot, 2026-12-05 01:51 UTC): trial t23, median 4,000 env steps to the threshold over seeds [200, 201, 202].
# Adopt it only once it beats the general defaults on seeds it was not chosen on.
'acrobot': Preset(
    ('Acrobot-v1',),
    {'buffer_size': 50000, 'epsilon_decay_steps': 3759, 'epsilon_end': 0.1, 'learning_rate': 0.0021778135773272795, 'learning_starts': 2000, 'n_step': 3, 'tau': 1.0, 'train_freq': 1},
    'results/search/acrobot/search.md',
),
