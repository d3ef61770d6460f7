"""tfdqn's benchmarks: the measurements behind results/benchmark/ and the figures the docs quote.

A package of its own beside `tfdqn` (it imports tfdqn; tfdqn never imports it). Run a benchmark from the
repository root as `python -m benchmarks.<module>`; README.md says what each one measures and how.

    suite      the suites: loop, solve, vector, memory, and the side-by-side cartpole / lunarlander
    rainbow    the Rainbow ablation          workers    the sweep's speed-up (serial vs Ray workers)
    screen     screening candidate configs   averages   weight averages beside the final network
    pool       pooling one config's runs     frozenlake DQN on FrozenLake, checked exactly
    systems    one run of one system (tfdqn / Stable-Baselines3 / a tutorial loop) in a fresh process
    loop_revisions  the training loop's throughput at two revisions of tfdqn, interleaved in one run
    minatar    the MinAtar side-by-side       numpy_conv acting on MinAtar: NumPy vs TensorFlow
"""
