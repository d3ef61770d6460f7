"""`MLflowLogger`, `--mlflow` and the sweep's tracking against a real local MLflow tracking store (SQLite), not a
mock: what a run logged, read back from the store, equals its own metrics.csv, evaluations.csv and config.json."""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import time
import warnings

import pytest

pytest.importorskip("mlflow", reason='the tracking extra is not installed (pip install "tfdqn[tracking]")')
from mlflow.tracking import MlflowClient  # noqa: E402

from tfdqn.config import DQNConfig  # noqa: E402
from tfdqn.fileio import write_json  # noqa: E402
from tfdqn.listeners.base import Listener  # noqa: E402
from tfdqn.listeners.mlflow import (  # noqa: E402
    EPISODE_METRICS,
    RUN_KEY_TAG,
    MLflowLogger,
    TrackingError,
    param_value,
)
from tfdqn.training.protocol import Protocol  # noqa: E402
from tfdqn.training.resume import load_training_state  # noqa: E402
from tfdqn.training.run import assemble  # noqa: E402
from tfdqn.training.tracking import Tracking  # noqa: E402

SMALL = DQNConfig(
    hidden_sizes=(16,), learning_starts=100, buffer_size=2_000, train_freq=16, target_update_interval=50, seed=3
)
NO_UPDATES = DQNConfig(hidden_sizes=(16,), learning_starts=10_000, seed=3)  # nothing to compile
PROTOCOL = Protocol(eval_every=100, eval_episodes=2, confirm_episodes=0, final_episodes=2, stop_on_reward=False)
EXPERIMENT = "tfdqn-tests"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A fresh SQLite tracking store and its client; the test experiment keeps its artifacts beside the database."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root}/mlflow.db"
    client = MlflowClient(uri)
    client.create_experiment(EXPERIMENT, artifact_location=str(root / "artifacts"))
    return uri, client


@pytest.fixture(scope="module")
def logged(store, tmp_path_factory):
    """A short CartPole run (400 env steps, evaluations every 100) logged to the store, as `tfdqn train` does."""
    uri, client = store
    out = tmp_path_factory.mktemp("run")
    logger = MLflowLogger(uri, EXPERIMENT, run_name="short", directory=out, flush_seconds=0.0)
    run = assemble(SMALL, out, PROTOCOL, listeners=[logger])
    write_json(out / "config.json", SMALL.to_dict())
    summary = run.finish(run.train(400), start=time.perf_counter(), gif=False)
    logger.log_summary(summary)
    return client, logger.run_id, out, summary


def csv_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def history(client, run_id, key):
    """(step, value written as metrics.csv writes it) of one metric, in step order."""
    points = sorted(client.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp))
    return [(m.step, f"{m.value:.6g}") for m in points]


def test_the_metrics_read_back_from_the_store_equal_the_runs_csv_files(logged):
    client, run_id, out, summary = logged
    episodes = csv_rows(out / "metrics.csv")
    assert len(episodes) > 10 and any(row["loss"] for row in episodes)  # updates ran
    for column, key in EPISODE_METRICS.items():  # NaN (before the first update) is a blank cell and no point
        expected = [(int(row["step"]), row[column]) for row in episodes if row[column] != ""]
        assert history(client, run_id, key) == expected, key
    evaluations = csv_rows(out / "evaluations.csv")
    assert [int(r["step"]) for r in evaluations] == [100, 200, 300, 400]
    for field in ("mean_return", "std_return"):
        expected = [(int(r["step"]), r[field]) for r in evaluations]
        assert history(client, run_id, f"evaluation/periodic_{field}") == expected
    final = summary["best_keras_evaluation"]
    assert history(client, run_id, "final/best_keras_mean_return") == [(400, f"{final['mean_return']:.6g}")]


def test_the_config_is_the_parameters_and_the_files_are_artifacts(logged, tmp_path):
    client, run_id, out, _ = logged
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "short"
    assert client.get_experiment(run.info.experiment_id).name == EXPERIMENT
    config = json.loads((out / "config.json").read_text())
    params = run.data.params
    assert set(params) == set(config)
    assert {k: v if isinstance(config[k], str) else json.loads(v) for k, v in params.items()} == config
    assert run.data.tags["env_id"] == "CartPole-v1"
    names = {a.path for a in client.list_artifacts(run_id)}
    assert {"best.keras", "config.json", "learning_curve.png", "metrics.csv", "evaluations.csv"} <= names
    assert "summary.json" in names  # logged after training, by log_summary
    copy = client.download_artifacts(run_id, "best.keras", str(tmp_path))
    assert open(copy, "rb").read() == (out / "best.keras").read_bytes()


def test_a_resumed_run_logs_into_the_same_mlflow_run(store, tmp_path):
    uri, client = store
    first = MLflowLogger(uri, EXPERIMENT, run_name="resumed", flush_seconds=0.0)
    run = assemble(NO_UPDATES, listeners=[first])
    run.train(150)
    run.trainer.save_state(tmp_path)  # the MLflow run's id among the listeners' states
    after_first = len(client.get_metric_history(first.run_id, "episode/return"))
    second = MLflowLogger(uri, EXPERIMENT)
    resumed = assemble(NO_UPDATES, listeners=[second])
    load_training_state(resumed.trainer, tmp_path)
    resumed.train(300)
    assert second.run_id == first.run_id
    assert len(client.get_metric_history(first.run_id, "episode/return")) > after_first
    assert client.get_run(first.run_id).info.status == "FINISHED"
    assert (
        len(
            client.search_runs(
                [client.get_experiment_by_name(EXPERIMENT).experiment_id], "attributes.run_name = 'resumed'"
            )
        )
        == 1
    )


def test_a_run_resumed_after_a_crash_logs_each_value_once(store, tmp_path):
    """The run saves its state at step 200 and goes on to 300, logging those episodes and the evaluation at 300,
    then dies (the state it saved at 300 lost); resumed from step 200 it repeats them exactly: the MLflow run
    holds each value once, as metrics.csv and evaluations.csv do, and its parameters once."""
    uri, client = store
    out = tmp_path / "run"

    class KeepState(Listener):
        def on_step(self, step, logs=None):
            if step == 201:  # the state saved at step 200: the last one a crash at step 300 leaves
                shutil.copytree(out / "state", tmp_path / "saved")

    first = MLflowLogger(uri, EXPERIMENT, run_name="crashed", directory=out, flush_seconds=0.0)
    crashed = assemble(SMALL, out, PROTOCOL, listeners=[first, KeepState()], save_state=True, state_every=200)
    crashed.train(300)  # every value up to step 300 is sent, then the process dies
    shutil.rmtree(out / "state")
    shutil.copytree(tmp_path / "saved", out / "state")
    second = MLflowLogger(uri, EXPERIMENT, directory=out, flush_seconds=0.0)
    resumed = assemble(SMALL, out, PROTOCOL, listeners=[second], save_state=True)
    assert load_training_state(resumed.trainer, out / "state") == 200
    resumed.train(400)
    assert second.run_id == first.run_id and status(client, first.run_id) == "FINISHED"
    episodes = csv_rows(out / "metrics.csv")
    assert any(200 < int(row["step"]) <= 300 and row["loss"] for row in episodes)  # repeated, updates included
    for column, key in EPISODE_METRICS.items():
        assert history(client, first.run_id, key) == [(int(r["step"]), r[column]) for r in episodes if r[column]]
    evaluations = csv_rows(out / "evaluations.csv")
    assert [int(r["step"]) for r in evaluations] == [100, 200, 300, 400]
    expected = [(int(r["step"]), r["mean_return"]) for r in evaluations]
    assert history(client, first.run_id, "evaluation/periodic_mean_return") == expected
    assert set(client.get_run(first.run_id).data.params) == set(SMALL.to_dict())


def test_a_resumed_run_logs_the_values_its_crashed_attempt_had_not_sent(store):
    """Two episodes end at step 10 and the process dies between them: the resumed run sends the second one,
    and the evaluation at step 10 the attempt never reached, counted metric by metric."""
    uri, client = store
    crashed = MLflowLogger(uri, EXPERIMENT, run_name="partly sent", flush_seconds=0.0)
    crashed.on_train_begin({"config": NO_UPDATES.to_dict(), "step": 0, "resumed": False})
    episodes = [(5, 1.0), (10, 2.0), (10, 3.0), (15, 4.0)]  # (step, return)
    for step, value in episodes[:2]:
        crashed.on_episode_end(0, {"step": step, "return": value, "length": 5})
    resumed = MLflowLogger(uri, EXPERIMENT, flush_seconds=0.0)
    resumed.set_state(crashed.get_state())
    resumed.on_train_begin({"config": NO_UPDATES.to_dict(), "step": 0, "resumed": True})
    for step, value in episodes:
        resumed.on_episode_end(0, {"step": step, "return": value, "length": 5})
    resumed.on_evaluation({"kind": "periodic", "step": 10, "mean_return": 2.5, "std_return": 0.5})
    resumed.on_train_end({})
    assert history(client, crashed.run_id, "episode/return") == [(5, "1"), (10, "2"), (10, "3"), (15, "4")]
    assert [step for step, _ in history(client, crashed.run_id, "episode/length")] == [5, 10, 10, 15]
    assert history(client, crashed.run_id, "evaluation/periodic_mean_return") == [(10, "2.5")]


def test_a_store_that_fails_mid_run_warns_and_the_metrics_wait_for_the_next_flush(store):
    uri, client = store
    logger = MLflowLogger(uri, EXPERIMENT, run_name="flaky")
    logger.on_train_begin({"config": NO_UPDATES.to_dict(), "step": 0, "resumed": False})
    send = logger.client.log_batch
    logger.client.log_batch = lambda *a, **k: (_ for _ in ()).throw(ConnectionError("store down"))
    with pytest.warns(UserWarning, match="store down"):
        logger.on_evaluation({"kind": "periodic", "step": 10, "mean_return": 1.0, "std_return": 0.0})
    logger.client.log_batch = send
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logger.on_train_end({})
    assert history(client, logger.run_id, "evaluation/periodic_mean_return") == [(10, "1")]


def down(*args, **kwargs):
    """A store call that does not answer."""
    raise ConnectionError("store down")


def mlflow_warnings(caught):
    """The MLflow warnings among `caught`."""
    return [str(w.message) for w in caught if "MLflow" in str(w.message)]


def test_parameters_the_store_rejects_for_good_are_dropped_once_and_the_metrics_go_on(store):
    """The first send of the parameters fails, and meanwhile the run gets another value of `seed` (a user's
    log_param): the store rejects the batch for good. The other parameters and every metric are logged, and one
    warning names `seed`; before, the batch was sent again at every flush and held back the metrics."""
    uri, client = store
    config = NO_UPDATES.to_dict()
    logger = MLflowLogger(uri, EXPERIMENT, run_name="rejected", flush_seconds=0.0)
    logger.client.log_batch = down
    with pytest.warns(UserWarning, match="store down"):
        logger.on_train_begin({"config": config, "step": 0, "resumed": False})
    del logger.client.log_batch
    client.log_param(logger.run_id, "seed", "99")
    with pytest.warns(UserWarning, match="rejected") as caught:
        logger.on_evaluation({"kind": "periodic", "step": 10, "mean_return": 1.0, "std_return": 0.0})
    assert len(mlflow_warnings(caught)) == 1 and "seed" in mlflow_warnings(caught)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # dropped: not sent again
        logger.on_evaluation({"kind": "periodic", "step": 20, "mean_return": 2.0, "std_return": 0.0})
        logger.on_train_end({})
    assert history(client, logger.run_id, "evaluation/periodic_mean_return") == [(10, "1"), (20, "2")]
    params = client.get_run(logger.run_id).data.params
    assert params == {**{key: param_value(value) for key, value in config.items()}, "seed": "99"}


@pytest.mark.parametrize(
    ("code", "for_good"),
    [
        ("INVALID_PARAMETER_VALUE", True),
        ("BAD_REQUEST", True),
        ("MALFORMED_REQUEST", True),
        ("RESOURCE_ALREADY_EXISTS", True),
        ("INTERNAL_ERROR", False),
        ("TEMPORARILY_UNAVAILABLE", False),
        ("RESOURCE_EXHAUSTED", False),
        ("REQUEST_LIMIT_EXCEEDED", False),
        ("DEADLINE_EXCEEDED", False),
    ],
)
def test_only_a_request_the_store_calls_bad_is_dropped_every_other_failure_is_retried(store, code, for_good):
    from mlflow.exceptions import MlflowException
    from mlflow.protos import databricks_pb2

    from tfdqn.listeners.mlflow_store import rejected

    uri, client = store
    logger = MLflowLogger(uri, EXPERIMENT, run_name=f"refused {code}", flush_seconds=0.0)

    def refuse(*args, **kwargs):
        raise MlflowException("refused", getattr(databricks_pb2, code))

    logger.client.log_batch = refuse
    with pytest.warns(UserWarning, match="rejected" if for_good else "failed"):
        logger.on_train_begin({"config": {"seed": 3}, "step": 0, "resumed": False})
    assert rejected(MlflowException("refused", getattr(databricks_pb2, code))) is for_good
    assert (logger._unsent_params == []) is for_good  # dropped, or kept for the next flush
    assert not rejected(ConnectionError("store down"))


def test_a_run_resumed_after_a_crash_before_its_parameters_were_sent_logs_them(store):
    uri, client = store
    begin = {"config": NO_UPDATES.to_dict(), "step": 0, "resumed": False}
    crashed = MLflowLogger(uri, EXPERIMENT, run_name="crashed unsent", flush_seconds=0.0)
    crashed.client.log_batch = down
    with pytest.warns(UserWarning, match="store down"):
        crashed.on_train_begin(begin)  # the run is made, its parameters not sent; then the process dies
    assert client.get_run(crashed.run_id).data.params == {}
    resumed = MLflowLogger(uri, EXPERIMENT, flush_seconds=0.0)
    resumed.set_state(crashed.get_state())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed.on_train_begin({**begin, "resumed": True})
        resumed.on_train_end({})
    params = client.get_run(crashed.run_id).data.params
    assert params == {key: param_value(value) for key, value in NO_UPDATES.to_dict().items()}


def stopped_and_resumed(uri, run_name):
    """A logger whose run began and was stopped by SIGINT, and a new logger given its state (a resumed run's)."""
    first = MLflowLogger(uri, EXPERIMENT, run_name=run_name, flush_seconds=0.0)
    first.on_train_begin({"config": NO_UPDATES.to_dict(), "step": 0, "resumed": False})
    first.on_train_end({"interrupted": "SIGINT"})
    resumed = MLflowLogger(uri, EXPERIMENT, flush_seconds=0.0)
    resumed.set_state(first.get_state())
    return first, resumed


def test_a_resumed_run_with_another_value_of_a_parameter_warns_once_and_logs_the_rest(store):
    """The MLflow run holds the config's learning_rate and no `note`; the resumed run's config says 0.5 and has a note:
    the note is logged, learning_rate stays (MLflow parameters are immutable) with one warning, metrics go on."""
    uri, client = store
    first, resumed = stopped_and_resumed(uri, "changed")
    config = {**NO_UPDATES.to_dict(), "learning_rate": 0.5, "note": "again"}
    with pytest.warns(UserWarning, match="learning_rate") as caught:
        resumed.on_train_begin({"config": config, "step": 10, "resumed": True})
    assert len(mlflow_warnings(caught)) == 1 and "0.5" in mlflow_warnings(caught)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed.on_episode_end(0, {"step": 15, "return": 4.0, "length": 5})
        resumed.on_train_end({})
    params = client.get_run(first.run_id).data.params
    assert params["learning_rate"] == param_value(NO_UPDATES.learning_rate) and params["note"] == "again"
    assert history(client, first.run_id, "episode/return") == [(15, "4")]


def test_a_run_continued_by_calling_train_again_logs_on_into_its_mlflow_run(store, tmp_path, monkeypatch):
    uri, client = store
    out = tmp_path / "run"
    logger = MLflowLogger(uri, EXPERIMENT, run_name="continued", directory=out, flush_seconds=0.0)
    run = assemble(SMALL, out, PROTOCOL, listeners=[logger])
    run.train(200)
    monkeypatch.setattr(logger, "held_steps", down)  # not a resume: nothing to read back from the store
    run.train(400)
    run.close()
    episodes = csv_rows(out / "metrics.csv")
    assert int(episodes[0]["step"]) < 200 < int(episodes[-1]["step"])  # both calls' rows
    for column, key in EPISODE_METRICS.items():
        assert history(client, logger.run_id, key) == [(int(r["step"]), r[column]) for r in episodes if r[column]]
    expected = [(int(r["step"]), r["mean_return"]) for r in csv_rows(out / "evaluations.csv")]
    assert [step for step, _ in expected] == [100, 200, 300, 400]
    assert history(client, logger.run_id, "evaluation/periodic_mean_return") == expected
    assert status(client, logger.run_id) == "FINISHED"


def test_a_store_that_does_not_answer_when_training_begins_warns_once_and_training_goes_on(store):
    uri, client = store
    logger = MLflowLogger(uri, EXPERIMENT, run_name="unanswered", run_key="unanswered__seed0", flush_seconds=0.0)
    logger.client.search_runs = logger.client.create_run = down
    run = assemble(NO_UPDATES, listeners=[logger])
    with pytest.warns(UserWarning, match="store down") as caught:
        end = run.train(100)
    assert end["step"] == 100 and logger.run_id is None
    assert sum("MLflow" in str(w.message) for w in caught) == 1  # once, not at every episode or flush
    del logger.client.search_runs, logger.client.create_run  # the store answers again: the next call makes the run
    run.train(200)
    run.close()
    steps = [step for step, _ in history(client, logger.run_id, "episode/return")]
    assert steps and min(steps) > 100 and status(client, logger.run_id) == "FINISHED"
    assert client.get_run(logger.run_id).data.tags[RUN_KEY_TAG] == "unanswered__seed0"


def test_a_resumed_run_whose_store_does_not_answer_at_the_start_goes_on_and_logs_later(store):
    uri, client = store
    first, resumed = stopped_and_resumed(uri, "reopened")
    resumed.client.update_run = resumed.client.get_run = down  # get_run: what held_steps reads
    with pytest.warns(UserWarning, match="store down"):
        resumed.on_train_begin({"config": NO_UPDATES.to_dict(), "step": 10, "resumed": True})
    del resumed.client.update_run, resumed.client.get_run
    resumed.on_episode_end(0, {"step": 15, "return": 4.0, "length": 5})
    resumed.on_train_end({})
    assert history(client, first.run_id, "episode/return") == [(15, "4")] and status(client, first.run_id) == "FINISHED"


def test_a_tracked_run_with_no_mlflow_run_says_so_at_the_end(store, tmp_path, capsys):
    uri, _ = store
    args = argparse.Namespace(mlflow=uri, mlflow_experiment=EXPERIMENT, video=None)
    tracking = Tracking.start(args, NO_UPDATES, tmp_path, run_name="never made")
    tracking.mlflow.client.create_run = down
    with pytest.warns(UserWarning, match="store down"):
        tracking.mlflow.on_train_begin({"config": NO_UPDATES.to_dict(), "step": 0, "resumed": False})
    tracking.mlflow.on_train_end({})
    summary = {"env_steps": 10, "best_keras_evaluation": {"mean_return": 9.0, "std_return": 1.0}}
    assert tracking.finish(lambda: summary) is summary
    assert "no MLflow run was made" in capsys.readouterr().err


def status(client, run_id):
    return client.get_run(run_id).info.status


def test_a_new_attempt_at_a_keyed_run_marks_the_unfinished_one_killed(store):
    uri, client = store
    begin = {"config": NO_UPDATES.to_dict(), "step": 0, "resumed": False}
    done = MLflowLogger(uri, EXPERIMENT, run_key="cfg__seed0")
    done.on_train_begin(begin)
    done.on_train_end({})  # an earlier sweep's finished run of this key
    crashed = MLflowLogger(uri, EXPERIMENT, run_key="cfg__seed1")
    crashed.on_train_begin(begin)  # then the process died: left RUNNING
    other = MLflowLogger(uri, EXPERIMENT, run_key="cfg__seed2")
    other.on_train_begin(begin)  # another run, still going
    retry = MLflowLogger(uri, EXPERIMENT, run_key="cfg__seed1")
    retry.on_train_begin(begin)  # a resumed sweep or a Ray retry starts the run again from scratch
    assert status(client, crashed.run_id) == "KILLED"
    assert status(client, retry.run_id) == status(client, other.run_id) == "RUNNING"
    assert status(client, done.run_id) == "FINISHED"
    assert client.get_run(retry.run_id).data.tags[RUN_KEY_TAG] == "cfg__seed1"
    with pytest.raises(ValueError, match="run_key"):
        MLflowLogger(uri, EXPERIMENT, run_key="it's")


def test_a_tracked_run_ends_its_mlflow_run_after_its_final_results(store, tmp_path):
    uri, client = store
    args = argparse.Namespace(mlflow=uri, mlflow_experiment=EXPERIMENT, video=None)
    summary = {"env_steps": 10, "best_keras_evaluation": {"mean_return": 9.0, "std_return": 1.0}}

    def tracked(finish, video_every=None):
        tracking = Tracking.start(args, NO_UPDATES, tmp_path, run_name="ordered")
        tracking.video_every = video_every
        tracking.mlflow.on_train_begin({"config": NO_UPDATES.to_dict(), "step": 0, "resumed": False})
        tracking.mlflow.on_train_end({})
        assert status(client, tracking.mlflow.run_id) == "RUNNING"  # the final results are still to come
        return tracking, tracking.finish(finish)

    tracking, returned = tracked(lambda: summary)
    assert returned is summary and status(client, tracking.mlflow.run_id) == "FINISHED"
    assert history(client, tracking.mlflow.run_id, "final/best_keras_mean_return") == [(10, "9")]
    with pytest.raises(RuntimeError, match="no summary"):
        tracked(lambda: (_ for _ in ()).throw(RuntimeError("no summary")))
    with pytest.raises(Exception, match="best.keras"):  # videos/best.mp4 of a best.keras that is not there
        tracked(lambda: summary, video_every=1)
    failed = client.search_runs(
        [client.get_experiment_by_name(EXPERIMENT).experiment_id], "attributes.run_name = 'ordered'"
    )
    assert sorted(run.info.status for run in failed) == ["FAILED", "FAILED", "FINISHED"]


def test_a_store_that_cannot_be_used_is_one_clear_error(store, tmp_path):
    uri, client = store
    with pytest.raises(TrackingError, match="bogus://nowhere"):
        MLflowLogger("bogus://nowhere")
    gone = client.create_experiment("deleted one", artifact_location=str(tmp_path))
    client.delete_experiment(gone)
    with pytest.raises(TrackingError, match="'deleted one' .* is deleted"):
        MLflowLogger(uri, "deleted one")


def tensorboard_hparams(folder):
    """The hparams a TensorBoard run folder holds (the HParams plugin's session start)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    events = EventAccumulator(str(folder))
    events.Reload()
    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    values = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info.hparams
    return {name: getattr(value, value.WhichOneof("kind")) for name, value in values.items()}


def test_a_sweep_logs_one_mlflow_run_per_config_and_seed_and_its_fields_as_tensorboard_hparams(store, tmp_path):
    from tfdqn.experiments import worker
    from tfdqn.experiments.plan import SweepProtocol, run_key
    from tfdqn.experiments.tracking import SweepTracking, worker_tracking

    uri, client = store
    client.create_experiment("sweep-tests", artifact_location=str(tmp_path / "artifacts"))
    configs = {"narrow": {"hidden_sizes": [16]}, "wide": {"hidden_sizes": [32], "learning_rate": 1e-3}}
    protocol = SweepProtocol(
        steps=400, threshold=1e6, eval_every=200, eval_episodes=2, confirm_episodes=0, final_episodes=2
    ).resolved()
    tracked = worker_tracking(SweepTracking(uri, "sweep-tests", str(tmp_path / "tb")), tmp_path / "sweep", configs)
    for name, overrides in configs.items():  # each run as its Ray task starts it, in this process
        key = run_key(name, 0)
        argv = protocol.argv({"learning_starts": 10_000, **overrides}, 0)[3:] + tracked(key)  # after "python -m"
        assert worker.main([a.replace("{run_dir}", str(tmp_path / "sweep" / "runs" / key)) for a in argv]) == 0
    runs = client.search_runs([client.get_experiment_by_name("sweep-tests").experiment_id])
    by_name = {run.info.run_name: run for run in runs}
    assert sorted(by_name) == ["narrow__seed0", "wide__seed0"]
    assert by_name["wide__seed0"].data.params["hidden_sizes"] == "[32]"
    assert {key: run.data.tags[RUN_KEY_TAG] for key, run in by_name.items()} == {key: key for key in by_name}
    assert {run.info.status for run in runs} == {"FINISHED"}
    assert by_name["wide__seed0"].data.params["learning_rate"] == "0.001"
    for key, run in by_name.items():
        evaluations = csv_rows(tmp_path / "sweep" / "runs" / key / "evaluations.csv")
        expected = [(int(r["step"]), r["mean_return"]) for r in evaluations]
        assert history(client, run.info.run_id, "evaluation/periodic_mean_return") == expected
    assert tensorboard_hparams(tmp_path / "tb" / "wide__seed0") == {
        "hidden_sizes": "[32]",
        "learning_rate": pytest.approx(1e-3),
        "seed": 0,
    }
    assert tensorboard_hparams(tmp_path / "tb" / "narrow__seed0")["hidden_sizes"] == "[16]"


def test_after_an_inexact_resume_only_steps_the_run_holds_are_skipped():
    # the crashed attempt logged `return` at steps 100, 200 and twice at 300; an inexact resume ends its episodes
    # at other steps: those are sent, and each held value is skipped as often as it is held, no more
    from collections import Counter
    from types import SimpleNamespace

    from tfdqn.listeners.mlflow import MLflowLogger

    logger = SimpleNamespace(_held={"return": Counter({100: 1, 200: 1, 300: 2})})
    sent = [
        step for step in (150, 200, 250, 300, 300, 300, 400) if not MLflowLogger._logged_before(logger, "return", step)
    ]
    assert sent == [150, 250, 300, 400]
    assert not MLflowLogger._logged_before(logger, "loss", 100)  # a metric the run does not hold
