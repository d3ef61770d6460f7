# The winner of a tfdqn search (tfdqn search benchmarks/configs/search_cliffwalking.json --env CliffWalking-v1 --preset none --threshold -13 --steps 10000 --eval-every 500 --eval-episodes 5 --confirm-episodes 20 --final-episodes 20 --eval-max-steps 50 --trials 30 --seeds 0 1 2 --num-cpus 2 --out results/search/cliffwalking, 2026-12-04 19:36 UTC): trial t20, median 3,000 env steps to the threshold over seeds [0, 1, 2].
# Adopt it only once it beats the general defaults on seeds it was not chosen on.
'cliffwalking': Preset(
    ('CliffWalking-v1',),
    {'batch_size': 32, 'epsilon_decay_steps': 9944, 'epsilon_end': 0.01, 'gamma': 0.95, 'learning_rate': 0.002333656913611527, 'learning_starts': 100, 'tau': 0.1},
    'results/search/cliffwalking/search.md',
),
