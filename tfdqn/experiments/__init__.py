"""Many runs at once (optional: `pip install "tfdqn[experiments]"` for Ray): sweeps and searches as Ray tasks,
and statistics over seeds. The core package never imports this subpackage.

- `tfdqn.experiments.sweep`: `sweep(configs, seeds, out, protocol)`, a grid of DQNConfig overrides x seeds.
- `tfdqn.experiments.search`: `search(space, seeds, out, protocol)`, an Optuna search (TPE, random or grid)
  whose trials' seeds run on the engine, pruned at milestones; `search_report`: its ranking and winner.
- `tfdqn.experiments.plan`: `SweepProtocol` (what every run shares), `RunSpec` (one run's worker command), checks.
- `tfdqn.experiments.grid`: configs from `--set` flags and grid files.
- `tfdqn.experiments.space`, `tfdqn.experiments.study`, `tfdqn.experiments.milestones`: a search's space, its
  Optuna study (SQLite storage, sampler, pruner, importances), and its trials' values at env-step milestones.
- `tfdqn.experiments.engine`: `run_specs`, which runs any `RunSpec`s as Ray tasks, resumes and cancels.
- `tfdqn.experiments.task`, `tfdqn.experiments.process`, `tfdqn.experiments.board`: one run as a Ray task,
  its worker's process tree, and the actor the tasks report to.
- `tfdqn.experiments.cluster`: Ray embedded or joined, and a run's process environment.
- `tfdqn.experiments.report`: the table (medians with 95% intervals) and its Markdown.
- `tfdqn.experiments.stats`: bootstrap and Wilson intervals, verdicts, McNemar's test.
- `tfdqn.experiments.worker`: `python -m tfdqn.experiments.worker`, one DQN run of a sweep.
- `tfdqn.experiments.errors`: `SweepError`, `RayNotInstalled`, `SweepInterrupted`.

Only `cluster.import_ray` (and the task it runs, on a Ray worker) imports Ray; only `study.import_optuna`
imports Optuna.
"""
