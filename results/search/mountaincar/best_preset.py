# The winner of a tfdqn search (tfdqn search benchmarks/configs/search_mountaincar.json --env MountainCar-v0 --preset none --steps 120000 --eval-every 2000 --eval-episodes 10 --confirm-episodes 20 --final-episodes 20 --trials 30 --seeds 0 1 2 --num-cpus 2 --out results/search/mountaincar, 2026-12-04 19:52 UTC): trial t28, median 32,000 env steps to the threshold over seeds [0, 1, 2].
# Adopt it only once it beats the general defaults on seeds it was not chosen on.
'mountaincar': Preset(
    ('MountainCar-v0',),
    {'batch_size': 64, 'buffer_size': 10000, 'epsilon_decay_steps': 10393, 'gradient_steps': 8, 'learning_rate': 0.009145580057174444, 'n_step': 3, 'train_freq': 16},
    'results/search/mountaincar/search.md',
),
