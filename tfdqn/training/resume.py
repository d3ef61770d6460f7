"""Full training checkpoints: everything needed to resume a run exactly, written without pickle.

A state directory holds `checkpoint-<step>/` folders (trainer.json + arrays.npz) and a `latest` file naming
the newest complete one. A checkpoint folder is written under a temporary name, flushed to disk and renamed
to a name no other folder has; `latest` is replaced atomically afterwards, and only then are older folders
deleted. So a process killed at any point leaves `latest` naming a complete checkpoint.
"""

from __future__ import annotations

import collections
import json
import os
import reprlib
import shutil
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from tfdqn.errors import TfdqnError
from tfdqn.fileio import fsync_dir, remove_temporaries, write_json
from tfdqn.rng import generator_state

if TYPE_CHECKING:  # this module stays light: `tfdqn train --resume` reads a state before TensorFlow loads
    from tfdqn.training.trainer import Trainer

FORMAT_VERSION = 1


class StateError(TfdqnError, ValueError):
    """A training-state directory is missing, damaged, or belongs to a different run set-up."""


def save_training_state(trainer: Trainer, directory: str | os.PathLike) -> Path:
    """Write `trainer`'s full state (agent, optimizer, replay, counters, RNGs, listeners) under `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta, arrays = trainer_state(trainer)
    arrays.update({f"agent/{k}": v for k, v in trainer.agent.get_state().items()})
    tf_state = _tf_generator_state()
    if tf_state is not None:
        arrays["tf/global_generator"] = tf_state
    meta.update(
        {
            "format": FORMAT_VERSION,
            "env_id": trainer.config.env_id,
            "config": trainer.config.to_dict(),
            "listeners": {_listener_key(i, x): x.get_state() for i, x in enumerate(trainer.listeners)},
        }
    )
    name = _new_checkpoint_name(directory, trainer.step)
    tmp = directory / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        _write_files(tmp, meta, arrays)
    except BaseException as exc:  # a full disk, Ctrl-C: no half-written folder left behind
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and exc.filename is None:  # ENOSPC from a write names no file: say where
            exc.filename = str(directory)
        raise
    final = directory / name  # a new name: the last good checkpoint stays until `latest` names this one
    os.replace(tmp, final)
    fsync_dir(directory)
    write_json(directory / "latest", {"checkpoint": name, "step": trainer.step})
    remove_temporaries(directory / "latest")
    for old in directory.iterdir():  # older checkpoints and leftovers of interrupted writes
        if old.is_dir() and old.name != name and (old.name.startswith("checkpoint-") or ".tmp-" in old.name):
            shutil.rmtree(old, ignore_errors=True)
    return final


def _write_files(folder: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """arrays.npz and trainer.json into `folder`, flushed to disk."""
    # cast: mypy matches **arrays against savez's `allow_pickle: bool` too (naming allow_pickle instead would
    # store it as one more array under NumPy < 2.1)
    np.savez(folder / "arrays.npz", **cast(dict[str, Any], arrays))
    (folder / "trainer.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    for f in folder.iterdir():
        with open(f, "rb") as handle:
            os.fsync(handle.fileno())
    fsync_dir(folder)


def _new_checkpoint_name(directory: Path, step: int) -> str:
    """`checkpoint-<step>`, or `checkpoint-<step>-<n>` when a checkpoint of that step exists already (the end
    of a run whose budget is a multiple of the period): never the name of a folder `latest` may name."""
    name = f"checkpoint-{step:012d}"
    n = 1
    while (directory / name).exists():
        name, n = f"checkpoint-{step:012d}-{n}", n + 1
    return name


def read_state_config(directory: str | os.PathLike) -> dict[str, Any]:
    """The DQNConfig dict stored in the latest checkpoint, to rebuild the agent before loading."""
    return _read_meta(_latest(Path(directory)))["config"]


def read_state_step(directory: str | os.PathLike) -> int:
    """The env step the latest checkpoint under `directory` resumes from (read before anything loads)."""
    return _read_meta(_latest(Path(directory)))["step"]  # checked: a non-negative int


def check_training_state(directory: str | os.PathLike) -> Path:
    """The latest checkpoint under `directory`, after checking that its arrays.npz reads back whole (every
    member's CRC): a damaged state is refused with one line before TensorFlow loads, not as a traceback."""
    checkpoint = _latest(Path(directory))
    _read_meta(checkpoint)
    path = checkpoint / "arrays.npz"
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except _ARCHIVE_ERRORS as exc:
        raise StateError(f"{path} is damaged: {_reason(exc)}") from None
    if bad is not None:
        raise StateError(f"{path} is damaged: {bad!r} fails its checksum")
    return checkpoint


# what reading a damaged .npz raises: a truncated or empty file (BadZipFile, EOFError), flipped bytes (a bad
# CRC is a BadZipFile; a broken header or compressed stream a ValueError or zlib.error; a flipped compression
# method a NotImplementedError), or a missing file
_ARCHIVE_ERRORS = (OSError, ValueError, EOFError, NotImplementedError, zipfile.BadZipFile, zlib.error)


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def load_training_state(trainer: Trainer, directory: str | os.PathLike) -> int:
    """Restore the latest checkpoint under `directory` into `trainer` (built from the same config);
    returns the step it resumes from."""
    import tensorflow as tf

    checkpoint = _latest(Path(directory))
    meta = _read_meta(checkpoint)  # checks the format and the keys read below
    if meta["env_id"] != trainer.config.env_id:
        raise StateError(
            f"resume directory {str(directory)!r} holds a run on {meta['env_id']!r}, not {trainer.config.env_id!r}"
        )
    try:
        with np.load(checkpoint / "arrays.npz", allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except _ARCHIVE_ERRORS as exc:
        raise StateError(f"{checkpoint / 'arrays.npz'} is damaged: {_reason(exc)}") from None
    try:
        trainer.agent.set_state({k[len("agent/") :]: v for k, v in arrays.items() if k.startswith("agent/")})
        restore_trainer(trainer, meta, arrays)
    except (ValueError, KeyError, TypeError) as exc:  # e.g. a saved RNG state of another bit generator
        raise StateError(f"{checkpoint} does not fit this agent and environment: {exc}") from None
    if "tf/global_generator" in arrays:
        tf.random.get_global_generator().reset(arrays["tf/global_generator"])
    states = meta.get("listeners", {})  # an object when present (checked)
    for i, listener in enumerate(trainer.listeners):
        key = _listener_key(i, listener)
        if key in states:
            listener.set_state(states[key])
    return trainer.step


def _tf_generator_state() -> np.ndarray | None:
    """TensorFlow's global RNG state. tfdqn draws no TF random numbers after building the networks (replay
    sampling and exploration use NumPy), so where TF withholds it (op determinism on) nothing is lost."""
    import tensorflow as tf

    try:
        return tf.random.get_global_generator().state.numpy()
    except RuntimeError:
        return None


def _listener_key(index: int, listener: Any) -> str:
    return f"{index}:{type(listener).__name__}"


def _latest(directory: Path) -> Path:
    pointer = directory / "latest"
    if not pointer.is_file():
        raise StateError(f"no training state in {str(directory)!r} (missing {pointer.name!r})")
    try:
        name = json.loads(pointer.read_text())["checkpoint"]
    except (ValueError, KeyError, TypeError):
        raise StateError(f"{pointer} is damaged") from None
    checkpoint = directory / name
    if not checkpoint.is_dir():
        raise StateError(f"{pointer} names {name!r}, which does not exist")
    return checkpoint


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value: Any) -> bool:  # last_loss is NaN (written as NaN) before the first update
    return isinstance(value, int | float) and not isinstance(value, bool)


_OBJECT: tuple[str, Callable[[Any], bool]] = ("an object", lambda v: isinstance(v, dict))
_COUNT: tuple[str, Callable[[Any], bool]] = ("a non-negative integer", _count)
# what the readers below take from trainer.json, each with what it must be (`format` is checked first)
_META_KEYS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "env_id": ("a string", lambda v: isinstance(v, str)),
    "config": _OBJECT,
    "step": _COUNT,
    "episodes": _COUNT,
    "updates": _COUNT,
    "last_loss": ("a number", _number),
    "last_mean_q": ("a number", _number),
    "recent_returns": ("a list of numbers", lambda v: isinstance(v, list) and all(map(_number, v))),
    "rng": _OBJECT,
    "action_space_rng": _OBJECT,
    "num_envs": ("a positive integer", lambda v: _count(v) and v > 0),
    "replayable": ("true or false", lambda v: isinstance(v, bool)),
    "listeners": _OBJECT,
    "episodes_in_progress": _OBJECT,
}
_OPTIONAL_META_KEYS = ("listeners", "episodes_in_progress")


def _read_meta(checkpoint: Path) -> dict[str, Any]:
    """trainer.json, after checking it holds every key the readers use, of the type they use it as: a file
    that parses but lacks one (an older or hand-edited state) is a `StateError` naming the file and the key."""
    path = checkpoint / "trainer.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StateError(f"{path} is missing or damaged: {exc}") from None
    if not isinstance(meta, dict):
        raise StateError(f"{path} is damaged: it holds {type(meta).__name__}, not an object")
    if "format" not in meta:
        raise StateError(f"{path} is damaged: no 'format' key")
    if meta["format"] != FORMAT_VERSION:  # before the other keys: another format may name them differently
        raise StateError(f"{checkpoint} has state format {meta['format']!r}, this tfdqn reads {FORMAT_VERSION}")
    for key, (kind, fits) in _META_KEYS.items():
        if key not in meta and key not in _OPTIONAL_META_KEYS:
            raise StateError(f"{path} is damaged: no {key!r} key")
        if key in meta and not fits(meta[key]):
            raise StateError(f"{path} is damaged: {key!r} is {reprlib.repr(meta[key])}, not {kind}")
    return meta


def trainer_state(trainer: Trainer) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(JSON-ready metadata, arrays) that let a new Trainer continue `trainer`'s run exactly (the agent's own
    state is saved separately)."""
    episodes = trainer.episodes_in_progress
    meta = {
        "step": trainer.step,
        "episodes": trainer.episodes,
        "updates": trainer.updates,
        "last_loss": trainer.last_loss,
        "last_mean_q": trainer.last_mean_q,
        "recent_returns": list(trainer.recent_returns),
        "rng": generator_state(trainer.rng),
        "action_space_rng": generator_state(trainer.env.action_space.np_random),
        "num_envs": trainer.env.num_envs,
        "replayable": episodes.replayable,
    }
    arrays = {f"replay/{k}": v for k, v in trainer.replay.state_dict().items()}
    arrays.update({f"nstep/{k}": v for k, v in trainer.adder.state_dict().items()})
    in_progress, obs = episodes.get_state()
    if in_progress is not None:
        assert obs is not None  # get_state gives both or neither
        meta["episodes_in_progress"] = in_progress
        arrays["episode/obs"] = obs
    return meta, arrays


def restore_trainer(trainer: Trainer, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Restore `trainer_state()` output into `trainer` (the agent's own state is restored separately)."""
    trainer.step, trainer.episodes, trainer.updates = meta["step"], meta["episodes"], meta["updates"]
    trainer.last_loss, trainer.last_mean_q = meta["last_loss"], meta["last_mean_q"]
    trainer.recent_returns = collections.deque(meta["recent_returns"], maxlen=100)
    trainer.rng.bit_generator.state = meta["rng"]
    trainer.replay.load_state_dict(_prefixed(arrays, "replay/"))
    if trainer.config.n_step > 1:
        trainer.adder.load_state_dict(_prefixed(arrays, "nstep/"))
    if meta["num_envs"] != trainer.env.num_envs:
        raise ValueError(f"saved state has {meta['num_envs']} environments, this trainer {trainer.env.num_envs}")
    trainer.env.action_space.np_random.bit_generator.state = meta["action_space_rng"]
    trainer.resumed = True
    episodes = trainer.episodes_in_progress
    saved = meta.get("episodes_in_progress")
    episodes.first_id = saved["next_id"] if saved is not None else trainer.episodes
    if saved is None or not (episodes.replayable and meta["replayable"]):
        episodes.state = None  # in-progress episodes are dropped; new ones start on the next train()
        return
    episodes.rebuild(saved, arrays["episode/obs"], trainer._choose_actions)


def _prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
