# The winner of a tfdqn search (tfdqn search benchmarks/configs/search_frozenlake8x8.json --env FrozenLake8x8-v1 --preset none --pruner none --threshold 0.7 --steps 50000 --eval-every 1000 --eval-episodes 100 --confirm-episodes 100 --final-episodes 100 --trials 30 --seeds 200 201 202 --num-cpus 2 --out results/search/frozenlake8x8, 2026-12-05 05:39 UTC): trial t00, median 12,000 env steps to the threshold over seeds [200, 201, 202].
# Adopt it only once it beats the general defaults on seeds it was not chosen on.
'frozenlake8x8': Preset(
    ('FrozenLake8x8-v1',),
    {'epsilon_decay_steps': 10289, 'gamma': 0.95, 'hidden_sizes': (64, 64), 'learning_rate': 0.0011701414134690253, 'learning_starts': 100, 'tau': 1.0},
    'results/search/frozenlake8x8/search.md',
),
