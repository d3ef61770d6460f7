"""The engine under every sweep and search: `run_specs` runs worker commands (`RunSpec`) as Ray tasks, a folder
each (`<out>/runs/<key>/`, `record.json` once done), with live progress; a failure is recorded and the others
go on; Ctrl-C cancels what is outstanding, waits until every cancelled run's process tree is gone, and keeps
what finished; finished runs are skipped when the same folder is run again.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tfdqn.experiments.board import Board, Rule
from tfdqn.experiments.cluster import ray_session
from tfdqn.experiments.errors import SweepError, SweepInterrupted
from tfdqn.experiments.plan import RunSpec
from tfdqn.experiments.process import STOP_GRACE_S, kill_group
from tfdqn.experiments.task import POLL_S, execute
from tfdqn.fileio import write_json

RECORD_FILE = "record.json"
CANCEL_WAIT_S = STOP_GRACE_S + POLL_S + 10.0
"""How long the driver waits for cancelled runs to report their processes gone before it kills them itself."""

Records = list[dict[str, Any]]


def read_record(run_dir: Path) -> dict[str, Any] | None:
    """A finished run's record (`record.json` with status ok, or stopped by a search's pruner), or None
    (never run, failed or cancelled: such runs are run again on resume)."""
    path = run_dir / RECORD_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if record.get("status") in ("ok", "stopped") else None


def write_record(run_dir: Path, record: dict[str, Any]) -> None:
    """`run_dir/record.json`, atomically."""
    write_json(run_dir / RECORD_FILE, record)


def run_specs(
    specs: Sequence[RunSpec],
    out: Path,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    cpus_per_run: float = 1,
    ship_code: bool = False,
    rule: Rule | None = None,
    feed: Callable[[], Sequence[RunSpec]] | None = None,
    on_tick: Callable[[Any], None] | None = None,
    resume: bool = True,
    on_record: Callable[[dict[str, Any], Records], None] | None = None,
    describe_best: Callable[[Records], str] | None = None,
    progress_every: float = 15.0,
    log: Callable[[str], None] | None = None,
) -> Records:
    """Run every spec as a Ray task (`cpus_per_run` CPUs each), in order, as many at once as the cluster has
    CPUs; return the records in spec order. Finished runs in `out/runs/` are reused (`resume`); a run that
    fails is recorded (status "failed", its error) and the others go on; `on_record` sees each new record and
    all so far; Ctrl-C cancels outstanding runs and raises `SweepInterrupted` with the finished ones kept.

    A search adds runs as it goes: `feed` is asked for more whenever the queue is empty and a CPU is free (an
    empty answer: none yet; the sweep ends when nothing runs and `feed` has none), and `on_tick` sees the
    board about once a second (a search's pruner)."""
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    keys: list[str] = []
    runs_dir = Path(out) / "runs"
    records: dict[str, dict[str, Any]] = {}

    def accept(new: Sequence[RunSpec]) -> list[RunSpec]:
        """The specs of `new` still to run (finished ones are reused); their keys join the order."""
        added = [s.key for s in new]
        if len(set(keys + added)) != len(keys) + len(added):
            raise SweepError(f"run keys must be unique: {sorted(k for k in added if (keys + added).count(k) > 1)[:3]}")
        keys.extend(added)
        todo = []
        for spec in new:
            old = read_record(runs_dir / spec.key) if resume else None
            if old is not None:
                records[spec.key] = {**old, "resumed": True}
                if on_record is not None and feed is not None:
                    on_record(records[spec.key], ordered())
            else:
                todo.append(spec)
        return todo

    def ordered() -> Records:
        return [records[k] for k in keys if k in records]

    todo = accept(specs)
    if records:
        say(f"resuming: {len(records)} finished run(s) in {runs_dir} kept, {len(todo)} to run")
    while not todo and feed is not None and (more := feed()):
        todo = accept(more)
    if not todo:
        return ordered()
    with ray_session(address, num_cpus, ship_code) as ray:
        board = ray.remote(num_cpus=0)(Board).remote(rule)
        task = ray.remote(execute).options(num_cpus=cpus_per_run, max_retries=0)
        driver = ray.get_runtime_context().get_node_id()
        cpus = ray.cluster_resources().get("CPU", 0)
        # At most as many runs in flight as the CPUs hold: Ray lends a task's CPU to a queued task while the
        # first waits in ray.get (its progress reports), which would put 3 runs on 2 cores. The driver's queue
        # also keeps the runs' order exactly (every system and config interleaved).
        capacity = max(1, int(cpus // cpus_per_run))
        queue = list(todo)
        refs: dict[Any, RunSpec] = {}

        def submit() -> None:
            while len(refs) < capacity:
                while not queue and feed is not None and (more := feed()):
                    queue.extend(accept(more))
                if not queue:
                    return
                spec = queue.pop(0)
                refs[task.remote(spec, str((runs_dir / spec.key).resolve()), driver, board)] = spec

        if on_tick is not None:
            on_tick(board)  # before the first run starts: a search tells the board what it found on resume
        t0 = last = time.perf_counter()
        say(
            f"sweep: {len(todo)}{' + more as the search asks' if feed else ''} run(s) "
            f"on Ray ({cpus:g} CPUs, {cpus_per_run:g} per run, {capacity} at once) "
            f"-> {runs_dir}"
        )
        try:
            submit()
            while refs:
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=1.0)
                if on_tick is not None:
                    on_tick(board)
                for ref in ready:
                    spec = refs.pop(ref)
                    record = _collect(ray, ref, spec, runs_dir / spec.key)
                    records[spec.key] = record
                    write_record(runs_dir / spec.key, record)
                    if on_record is not None:
                        on_record(record, ordered())
                submit()
                now = time.perf_counter()
                if ready or now - last >= progress_every:
                    last = now
                    snap = ray.get(board.snapshot.remote())
                    best = describe_best(ordered()) if describe_best is not None else ""
                    say(_progress_line(ordered(), len(keys), len(snap["running"]), now - t0, best, snap.get("rule")))
        except BaseException as exc:  # Ctrl-C, or an error in on_record: no run is left going on
            cancelled = len(refs) + len(queue)
            _cancel(ray, board, refs, driver, say)
            if not isinstance(exc, KeyboardInterrupt):
                raise
            raise SweepInterrupted(
                f"interrupted: {len(records)} of {len(keys)} runs finished and kept, "
                f"{cancelled} cancelled; run the same sweep again to resume"
            ) from None
    return ordered()


def _cancel(ray: Any, board: Any, refs: dict[Any, RunSpec], driver: str, say: Callable[[str], None]) -> None:
    """Stop every outstanding run and return once their process trees are gone.

    The board's flag reaches each task within `POLL_S` (a task not yet started returns at once) and `ray.cancel`
    within `TICK_S`; each task stops its tree (SIGTERM, SIGKILL after `STOP_GRACE_S`), reaps its worker and
    reports it gone. The driver waits for that (`CANCEL_WAIT_S` at most, then force-cancels the tasks left), and
    then, whatever the tasks did, kills any process group of a cancelled run still on this node."""
    ray.get(board.cancel.remote())
    for ref in refs:
        ray.cancel(ref)
    deadline = time.monotonic() + CANCEL_WAIT_S
    live = ray.get(board.live.remote())
    while live and time.monotonic() < deadline:
        time.sleep(0.1)
        live = ray.get(board.live.remote())
    if live:
        say(f"{len(live)} cancelled run(s) did not stop within {CANCEL_WAIT_S:.0f} s: killing them")
        for ref in refs:
            try:
                ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 (already finished, or cancelled the other way)
                pass
    workers = ray.get(board.workers.remote([spec.key for spec in refs.values()]))
    # another node's runs die with their task's worker (PR_SET_PDEATHSIG); this node's are checked here
    left = [key for key, (node, pid) in workers.items() if node == driver and kill_group(pid)]
    if left:
        say(f"killed what was left of cancelled run(s) {', '.join(left)}")


def _collect(ray: Any, ref: Any, spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """The task's record, or a failure record if the task itself died; files from another node written."""
    try:
        record: dict[str, Any] = ray.get(ref)
    except Exception as exc:  # noqa: BLE001 (a worker crash: record it, the sweep goes on)
        text = str(exc).strip().splitlines()
        return {"key": spec.key, **spec.info, "status": "failed", "error": text[-1] if text else type(exc).__name__}
    for name, data in record.pop("_files", {}).items():
        path = run_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return record


def _progress_line(records: Records, total: int, running: int, seconds: float, best: str, rule: str | None) -> str:
    """`[  1.2 min] 3/8 done (0 failed), 2 running; best so far: ...; <the search rule's state>`."""
    failed = sum(r["status"] == "failed" for r in records)
    stopped = sum(r["status"] == "stopped" for r in records)
    line = (
        f"[{seconds / 60:5.1f} min] {len(records)}/{total} done ({failed} failed"
        + (f", {stopped} stopped early" if stopped else "")
        + f"), {running} running"
    )
    return line + (f"; best so far: {best}" if best else "") + (f"; {rule}" if rule else "")
