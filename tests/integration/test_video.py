"""mp4 videos through Gymnasium's RecordVideo: `record_video`, the `VideoRecorder` listener and
`tfdqn evaluate --video` (they need the optional video extra, moviepy; without it they skip)."""

from __future__ import annotations

import pytest

pytest.importorskip("moviepy", reason='the video extra is not installed (pip install "tfdqn[video]")')

from tfdqn import DQNConfig, VideoRecorder, evaluate, make_env, record_video  # noqa: E402
from tfdqn.training.protocol import Protocol  # noqa: E402
from tfdqn.training.run import assemble  # noqa: E402

NO_UPDATES = DQNConfig(hidden_sizes=(16,), learning_starts=10_000, seed=4)  # nothing to compile


def is_mp4(path) -> bool:
    return path.stat().st_size > 1_000 and path.read_bytes()[4:8] == b"ftyp"


def seconds(path) -> float:
    """How long the video at `path` plays."""
    from moviepy.video.io.ffmpeg_reader import ffmpeg_parse_infos

    return float(ffmpeg_parse_infos(str(path))["duration"])


def save_untrained_model(path) -> None:
    from tfdqn.dqn.agent import DQNAgent

    env = make_env("CartPole-v1")
    DQNAgent.from_spaces(env.observation_space, env.action_space, NO_UPDATES).save(path)


BALANCING = lambda obs: (obs[:, 2] > 0).astype(int)  # noqa: E731  push towards the pole's lean
CUT = 5  # steps: CartPole plays at 50 frames per second, and a video holds the first frame and one per step


def test_record_video_writes_the_seeded_greedy_episode_whole(tmp_path):
    policy = BALANCING
    ret = record_video(policy, "CartPole-v1", tmp_path / "videos" / "episode.mp4", seed=7)
    assert is_mp4(tmp_path / "videos" / "episode.mp4")
    env = make_env("CartPole-v1")
    assert ret == evaluate(policy, env, 1, seed=7).returns[0] > 20  # the same episode as an evaluation
    assert [p.name for p in (tmp_path / "videos").iterdir()] == ["episode.mp4"]  # no hidden folder left


def test_record_video_cuts_the_episode_at_max_steps(tmp_path):
    assert record_video(BALANCING, "CartPole-v1", tmp_path / "cut.mp4", seed=7, max_steps=CUT) == CUT
    assert seconds(tmp_path / "cut.mp4") == pytest.approx((CUT + 1) / 50, abs=0.021)


def test_the_video_flag_cuts_best_mp4_and_the_listeners_videos_where_the_evaluations_are_cut(tmp_path):
    import argparse

    from tfdqn.training.tracking import Tracking

    save_untrained_model(tmp_path / "best.keras")
    args = argparse.Namespace(video=1, mlflow=None, eval_max_steps=CUT)
    tracking = Tracking.start(args, NO_UPDATES, tmp_path)
    [recorder] = tracking.listeners()
    assert recorder.max_steps == CUT
    tracking.record_best()
    assert seconds(tmp_path / "videos" / "best.mp4") == pytest.approx((CUT + 1) / 50, abs=0.021)


def test_the_listener_records_every_nth_evaluation_into_the_run_folder(tmp_path):
    protocol = Protocol(eval_every=200, eval_episodes=1, confirm_episodes=0, final_episodes=1, stop_on_reward=False)
    recorder = VideoRecorder(tmp_path / "videos", every=2)
    assemble(NO_UPDATES, tmp_path, protocol, listeners=[recorder]).train(600)
    assert sorted(p.name for p in (tmp_path / "videos").iterdir()) == ["step-00000200.mp4", "step-00000600.mp4"]
    assert all(is_mp4(p) for p in recorder.paths)
    assert recorder.get_state() == {"evaluations": 3}  # a resumed run goes on counting


def test_evaluate_video_flag(tmp_path, capsys):
    from tfdqn.commands import main

    save_untrained_model(tmp_path / "m.keras")
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", str(tmp_path / "m.keras"), "--episodes", "1", "--video", str(tmp_path / "one.mp4")])
    assert exit_.value.code == 0
    assert is_mp4(tmp_path / "one.mp4")
    assert f"to {tmp_path / 'one.mp4'}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:  # --max-steps cuts the video's episode as it cuts the others
        main(
            [
                "evaluate",
                str(tmp_path / "m.keras"),
                "--episodes",
                "1",
                "--max-steps",
                "3",
                "--video",
                str(tmp_path / "3.mp4"),
            ]
        )
    assert exit_.value.code == 0
    assert f"recorded one episode (return 3.0) to {tmp_path / '3.mp4'}" in capsys.readouterr().out
