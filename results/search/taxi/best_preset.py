# The winner of a tfdqn search (tfdqn search benchmarks/configs/search_taxi.json --env Taxi-v4 --preset none --threshold 7 --steps 100000 --eval-every 2000 --eval-episodes 20 --confirm-episodes 20 --final-episodes 20 --trials 30 --seeds 0 1 2 --num-cpus 2 --out /work/main/results/search/taxi, 2026-12-05 01:13 UTC): trial t00, median 100,000 env steps to the threshold over seeds [0, 1, 2].
# Adopt it only once it beats the general defaults on seeds it was not chosen on.
'taxi': Preset(
    ('Taxi-v4',),
    {'epsilon_decay_steps': 30526, 'epsilon_end': 0.01, 'gamma': 0.95, 'gradient_steps': 8, 'hidden_sizes': (64, 64), 'learning_rate': 0.0012520653814999472, 'target_update_interval': 100, 'train_freq': 1},
    '/work/main/results/search/taxi/search.md',
),
