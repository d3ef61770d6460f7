"""One run as a Ray task: launch its worker process in the run's folder, relay its progress to the board, stop
it when the sweep is cancelled (or its search trial is stopped), and return its record.

`execute` runs on a Ray worker; it is plain Python that `tfdqn.experiments.engine` wraps with `ray.remote`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tfdqn.experiments.cluster import import_ray, worker_env
from tfdqn.experiments.plan import PROGRESS_TAG, RunSpec
from tfdqn.experiments.process import read_lines, reap_group, spawn, stop_tree, wait_interruptibly

POLL_S = 1.0
"""How often a running task asks the board whether the sweep was cancelled."""
MAX_FILE_BYTES = 50 * 2**20
"""Files of a run on another node larger than this stay there (the record says so by their absence)."""


class RunCancelled(Exception):
    """The sweep was cancelled: the task stops its run's process tree and ends."""


class Cancellation:
    """Whether this run must stop: `ray.cancel` (an interrupt of the task's main thread) or the board's flag.

    While active, Ray's interrupt only sets `requested` instead of raising `KeyboardInterrupt` wherever the
    task happens to be (between starting the worker and recording it, or inside the clean-up itself); the task
    acts on it at its own checks, at most `TICK_S` later."""

    def __init__(self, ray: Any, board: Any) -> None:
        self.requested = False
        self._ray, self._board = ray, board
        self._polled = time.monotonic()
        self._saved: Any = None

    def __enter__(self) -> Cancellation:
        try:
            self._saved = signal.signal(signal.SIGINT, self._interrupted)
        except ValueError:  # not the main thread: Ray's interrupt stays a KeyboardInterrupt
            self._saved = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            signal.signal(signal.SIGINT, self._saved)

    def _interrupted(self, signum: int, frame: Any) -> None:
        self.requested = True

    def check(self, poll: bool = False) -> None:
        """Raise `RunCancelled` if the run must stop; `poll`: ask the board too (at most once per `POLL_S`)."""
        if poll and not self.requested and self._board is not None and time.monotonic() - self._polled >= POLL_S:
            self._polled = time.monotonic()
            self.requested = bool(self._ray.get(self._board.should_stop.remote()))
        if self.requested:
            raise RunCancelled


def execute(spec: RunSpec, run_dir: str, driver_node: str, board: Any) -> dict[str, Any]:
    """Run one spec's worker process in `run_dir` (or, on another node than the driver's, in a temporary
    folder whose files come back in the record), relaying its progress lines to `board`; return the record.

    However the task ends (finished, cancelled by the board or by `ray.cancel`, crashed), the run's process
    tree is gone before it returns or raises, and the board is told (`exited`)."""
    ray = import_ray()
    t0 = time.perf_counter()
    here = ray.get_runtime_context().get_node_id()
    local = here == driver_node
    work = Path(run_dir) if local else Path(tempfile.mkdtemp(prefix="tfdqn-run-"))
    work.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"key": spec.key, **spec.info, "node": socket.gethostname(), "progress": []}
    with Cancellation(ray, board) as cancel:
        try:
            if board is not None and not ray.get(board.started.remote(spec.key, spec.group, here)):
                return {**record, "status": "stopped", "stopped_at": 0, "wall_seconds": 0.0}
            cancel.check()
            status, stopped_at, code = _supervise(ray, spec, work, board, here, record, cancel)
        finally:
            if board is not None:
                board.exited.remote(spec.key)  # no wait: calls from this task reach the actor in order
    record["wall_seconds"] = time.perf_counter() - t0
    if board is not None:
        ray.get(board.finished.remote(spec.key, spec.group))
    if status == "stopped":
        record.update(status="stopped", stopped_at=stopped_at)
    elif code != 0:
        record.update(_failure(work, code))
    else:
        try:
            record.update(json.loads((work / spec.result_file).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            record.update(status="failed", error=f"the worker wrote no readable {spec.result_file}: {exc}")
    record.setdefault("status", "ok")
    if not local:  # another node: bring the run's files back to the driver
        record["_files"] = {
            str(p.relative_to(work)): p.read_bytes()
            for p in work.rglob("*")
            if p.is_file() and p.stat().st_size < MAX_FILE_BYTES
        }
        shutil.rmtree(work, ignore_errors=True)
    return record


def _supervise(
    ray: Any, spec: RunSpec, work: Path, board: Any, node: str, record: dict[str, Any], cancel: Cancellation
) -> tuple[str, int | None, int]:
    """Launch the worker and follow it to its end: (status "ok" or "stopped", step it was stopped at, exit code).
    On any exception (a cancellation included) the process tree is stopped before the exception goes on."""
    argv = [a.replace("{python}", sys.executable).replace("{run_dir}", str(work)) for a in spec.argv]
    status, stopped_at = "ok", None
    with (
        open(work / "stdout.log", "w", encoding="utf-8") as out_log,
        open(work / "stderr.log", "w", encoding="utf-8") as err_log,
    ):
        proc = spawn(argv, stderr=err_log, env=worker_env(), cwd=os.getcwd())
        try:
            if board is not None and not ray.get(board.spawned.remote(spec.key, node, proc.pid)):
                raise RunCancelled
            for line in read_lines(proc):
                cancel.check(poll=line is None)  # no output for a tick: ask the board too
                if line is None:
                    continue
                if not line.startswith(PROGRESS_TAG):
                    out_log.write(line)
                    continue
                point = json.loads(line[len(PROGRESS_TAG) :])
                record["progress"].append(point)
                if board is not None and not ray.get(board.report.remote(spec.key, spec.group, point)):
                    status, stopped_at = "stopped", point["step"]
                    proc.send_signal(signal.SIGTERM)  # the trainer saves and exits
                    break
            code = wait_interruptibly(proc, cancel.check)
            reap_group(proc)
        except BaseException:  # cancelled (the board, or KeyboardInterrupt from ray.cancel) or a crash
            stop_tree(proc)
            raise
    return status, stopped_at, code


def _failure(work: Path, code: int) -> dict[str, Any]:
    """A failed run's fields: the error line of its stderr (or its last line, or the exit status) and the tail."""
    tail = [ln for ln in (work / "stderr.log").read_text(encoding="utf-8", errors="replace").splitlines() if ln]
    error = next(
        (ln for ln in reversed(tail) if ln.startswith("error:") or "Error" in ln),
        tail[-1] if tail else f"exit status {code}",
    )
    return {"status": "failed", "error": error.strip(), "exit_code": code, "stderr_tail": tail[-20:]}
