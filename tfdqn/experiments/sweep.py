"""Many runs at once: a grid of `DQNConfig` overrides x seeds as Ray tasks, gathered into one table.

One run is one fresh process with one TensorFlow/BLAS thread (the fastest setting for these networks, and
what a serial run does, so a seed gives the same result either way). Each run is a Ray task (`num_cpus=1`
by default) that launches that process in the run's own folder and returns its record. Ray is embedded by
default (`ray.init()` on this machine's cores, stopped at the end); `address=` or `RAY_ADDRESS` joins a
cluster, where every node needs tfdqn importable (installed, or shipped with `ship_code=True`, which sends
the working directory as Ray's `runtime_env` `working_dir`).

Layers:
- `run_specs(specs, out, ...)`: the engine. Any worker command (`RunSpec`), one Ray task each, a folder each
  (`<out>/runs/<key>/`, `record.json` once done), live progress, failures recorded, Ctrl-C cancels what is
  outstanding and keeps what finished, finished runs are skipped when the same folder is run again.
  `scripts/benchmark.py --workers N` runs its suites on it.
- `sweep(configs, seeds, out, ...)`: DQNConfig overrides x seeds, each run `python -m tfdqn.experiments.worker`
  (the single-run listeners and evaluation protocol); writes `<out>/sweep.json` and `<out>/sweep.md`
  (per run, and per config medians with 95% intervals) after every finished run.
- `tfdqn.experiments.search` adds random/grid hyperparameter search with ASHA-style halving on the same engine.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
import math
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tfdqn.errors import ConfigError, TfdqnError

RECORD_FILE = "record.json"
CONNECT_TIMEOUT_S = 20.0
"""How long joining a cluster may take before it is an error (a TCP probe comes first, 5 s)."""


class SweepError(TfdqnError):
    """Bad input to a sweep (grid, seeds, folder, Ray address); the message names the problem."""


class SweepInterrupted(TfdqnError):
    """Ctrl-C stopped the sweep: outstanding runs were cancelled, finished ones and the partial table kept."""

    exit_code = 130


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: the worker command and what the table groups it by.

    `argv` is run in a fresh process with one thread; "{python}" in it becomes the node's Python and
    "{run_dir}" the run's folder. The worker writes `result_file` (JSON) into the run's folder; its content
    becomes the run's record, beside `info` (e.g. {"config": name, "seed": s}) and the task's own fields
    (status, error, wall_seconds, progress).
    """

    key: str
    argv: tuple[str, ...]
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    result_file: str = "result.json"
    group: str | None = None  # runs of one search trial share a group (halving decides per group)


# ----- the worker process environment -----------------------------------------------------------------
def worker_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a run's process: one thread for OpenMP/MKL/OpenBLAS, quiet TensorFlow, unbuffered
    output, and tfdqn importable (this package's parent directory first on PYTHONPATH)."""
    env = dict(os.environ if base is None else base)
    env.update(
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
    )
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


# ----- Ray: embedded, or a cluster ---------------------------------------------------------------------
def _import_ray():
    try:
        import ray
    except ImportError:
        raise SweepError("sweeps need Ray: pip install -r requirements.txt (ray==2.60.0)") from None
    return ray


def _probe(address: str, timeout: float = 5.0) -> None:
    """A TCP connection to the address's host:port, so a wrong address fails in seconds, not minutes."""
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise SweepError(f"Ray address {address!r} is not host:port, ray://host:port or 'auto'")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise SweepError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


@contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None, ship_code: bool = False) -> Iterator[Any]:
    """Ray for the duration of a sweep: already initialised (a test fixture, a notebook) is used as is;
    else `address` (or RAY_ADDRESS) is joined, or a local Ray on `num_cpus` cores (default: all) is started
    and shut down at the end. An unreachable address is a `SweepError` within ~25 s, not a hang."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    os.environ.setdefault("RAY_gcs_server_request_timeout_seconds", "10")  # before Ray reads it
    ray = _import_ray()
    if ray.is_initialized():
        yield ray
        return
    kwargs: dict[str, Any] = dict(log_to_driver=False, logging_level="ERROR")
    if ship_code:
        kwargs["runtime_env"] = {"working_dir": os.getcwd(), "excludes": ["results/", ".git/", "*.keras"]}
    if address is None:
        # local workers inherit the environment Ray starts with: make this tfdqn importable there
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = worker_env()["PYTHONPATH"]
        try:
            ray.init(num_cpus=num_cpus, include_dashboard=False, **kwargs)
        finally:
            if saved is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = saved
    else:
        if address != "auto":
            _probe(address)
        box: dict[str, BaseException] = {}

        def connect() -> None:
            try:
                ray.init(address=address, **kwargs)
            except BaseException as exc:  # noqa: BLE001 (reported below)
                box["error"] = exc

        thread = threading.Thread(target=connect, daemon=True)
        with _quiet_stderr():  # Ray's C++ client prints its retries there: the error below is the one line
            thread.start()
            thread.join(CONNECT_TIMEOUT_S)
        if thread.is_alive():
            hint = (
                ""
                if os.environ.get("RAY_AUTH_MODE") == "token"
                else " (a cluster started with token authentication, the default for `ray start` since Ray 2.59, "
                "answers only a client started with RAY_AUTH_MODE=token and its token: `ray get-auth-token`)"
            )
            raise SweepError(f"no Ray cluster answered at {address} within {CONNECT_TIMEOUT_S:.0f} s{hint}")
        if "error" in box:
            raise SweepError(f"cannot join the Ray cluster at {address}: {str(box['error']).splitlines()[0]}")
    try:
        yield ray
    finally:
        ray.shutdown()


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """File descriptor 2 to /dev/null for the duration (C++ libraries write there directly)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# ----- the task (runs on a Ray worker) -----------------------------------------------------------------
def _execute(spec: RunSpec, run_dir: str, driver_node: str, board: Any) -> dict[str, Any]:
    """Run one spec's worker process in `run_dir` (or, on another node than the driver's, in a temporary
    folder whose files come back in the record), relaying its progress lines to `board`; return the record."""
    import shutil
    import signal
    import subprocess
    import tempfile

    import ray

    from tfdqn.experiments.worker import PROGRESS_TAG

    t0 = time.perf_counter()
    here = ray.get_runtime_context().get_node_id()
    local = here == driver_node
    work = Path(run_dir) if local else Path(tempfile.mkdtemp(prefix="tfdqn-run-"))
    work.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"key": spec.key, **spec.info, "node": socket.gethostname(), "progress": []}
    if board is not None and not ray.get(board.started.remote(spec.key, spec.group)):
        return {**record, "status": "stopped", "stopped_at": 0, "wall_seconds": 0.0}
    argv = [a.replace("{python}", sys.executable).replace("{run_dir}", str(work)) for a in spec.argv]
    status, stopped_at = "ok", None
    with (
        open(work / "stdout.log", "w", encoding="utf-8") as out_log,
        open(work / "stderr.log", "w", encoding="utf-8") as err_log,
    ):
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=err_log,
            text=True,
            env=worker_env(),
            cwd=os.getcwd(),
            preexec_fn=_death_signal(),
        )
        try:
            for line in _lines(proc):
                if not line.startswith(PROGRESS_TAG):
                    out_log.write(line)
                    continue
                point = json.loads(line[len(PROGRESS_TAG) :])
                record["progress"].append(point)
                if board is not None and not ray.get(board.report.remote(spec.key, spec.group, point)):
                    status, stopped_at = "stopped", point["step"]
                    proc.send_signal(signal.SIGTERM)  # the trainer saves and exits
                    break
            code = _wait_interruptibly(proc)
        except BaseException:  # cancelled (KeyboardInterrupt from ray.cancel) or a crash: no orphan left
            _wait(proc, kill=True)
            raise
    record["wall_seconds"] = time.perf_counter() - t0
    if board is not None:
        ray.get(board.finished.remote(spec.key, spec.group))
    if status == "stopped":
        record.update(status="stopped", stopped_at=stopped_at)
    elif code != 0:
        tail = [ln for ln in (work / "stderr.log").read_text(encoding="utf-8", errors="replace").splitlines() if ln]
        error = next(
            (ln for ln in reversed(tail) if ln.startswith("error:") or "Error" in ln),
            tail[-1] if tail else f"exit status {code}",
        )
        record.update(status="failed", error=error.strip(), exit_code=code, stderr_tail=tail[-20:])
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
            if p.is_file() and p.stat().st_size < 50 * 2**20
        }
        shutil.rmtree(work, ignore_errors=True)
    return record


def _death_signal() -> Callable[[], None] | None:
    """For the run's process (Linux): a `preexec_fn` asking for SIGTERM when the task's worker dies, so a killed
    worker leaves no orphan. Resolved here, in the parent: the child only makes the call."""
    try:
        import ctypes
        import signal

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _lines(proc: Any) -> Iterator[str]:
    """The process's stdout lines, read by a helper thread: the task's main thread never blocks in a read, so
    a cancellation (Ray interrupts the main thread between bytecodes) reaches it at once."""
    import queue

    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            return
        yield line


def _wait_interruptibly(proc: Any) -> int:
    """`proc.wait()` in short slices, so a cancellation is not held up by a blocking wait."""
    while proc.poll() is None:
        time.sleep(0.2)
    return proc.returncode


def _wait(proc: Any, kill: bool = False) -> int:
    """Wait for the worker process; `kill`: terminate it first (then kill it if it lingers)."""
    import subprocess

    if kill and proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(timeout=30 if kill else None)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


class Board:
    """What the driver shows as progress (runs started and finished) and, in a search, the halving rule that
    decides at each reported evaluation whether a run goes on. Lives in a Ray actor (one per sweep)."""

    def __init__(self, rule: Any = None):
        self.rule = rule
        self.running: set[str] = set()
        self.points: dict[str, dict[str, Any]] = {}

    def started(self, key: str, group: str | None) -> bool:
        if self.rule is not None and not self.rule.alive(group):
            return False
        self.running.add(key)
        return True

    def report(self, key: str, group: str | None, point: dict[str, Any]) -> bool:
        self.points[key] = point
        return True if self.rule is None else self.rule.report(group, key, point)

    def finished(self, key: str, group: str | None) -> None:
        self.running.discard(key)
        if self.rule is not None:
            self.rule.finished(group, key)

    def snapshot(self) -> dict[str, Any]:
        return {
            "running": sorted(self.running),
            "points": dict(self.points),
            "rule": None if self.rule is None else self.rule.summary(),
        }


# ----- the engine (driver side) ------------------------------------------------------------------------
def read_record(run_dir: Path) -> dict[str, Any] | None:
    """A finished run's record (`record.json` with status ok, or stopped by a search's halving), or None
    (never run, failed or cancelled: such runs are run again on resume)."""
    path = run_dir / RECORD_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if record.get("status") in ("ok", "stopped") else None


def run_specs(
    specs: Sequence[RunSpec],
    out: Path,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    cpus_per_run: float = 1,
    ship_code: bool = False,
    rule: Any = None,
    resume: bool = True,
    on_record: Callable[[dict[str, Any], list[dict[str, Any]]], None] | None = None,
    describe_best: Callable[[list[dict[str, Any]]], str] | None = None,
    progress_every: float = 15.0,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every spec as a Ray task (`cpus_per_run` CPUs each), in order, as many at once as the cluster has
    CPUs; return the records in spec order. Finished runs in `out/runs/` are reused (`resume`); a run that
    fails is recorded (status "failed", its error) and the others go on; `on_record` sees each new record and
    all so far; Ctrl-C cancels outstanding runs and raises `SweepInterrupted` with the finished ones kept."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise SweepError(f"run keys must be unique: {sorted(k for k in keys if keys.count(k) > 1)[:3]}")
    runs_dir = Path(out) / "runs"
    records: dict[str, dict[str, Any]] = {}
    todo = []
    for spec in specs:
        old = read_record(runs_dir / spec.key) if resume else None
        if old is not None:
            records[spec.key] = {**old, "resumed": True}
        else:
            todo.append(spec)
    if records:
        log(f"resuming: {len(records)} finished run(s) in {runs_dir} kept, {len(todo)} to run")
    ordered = lambda: [records[k] for k in keys if k in records]  # noqa: E731
    if not todo:
        return ordered()
    with ray_session(address, num_cpus, ship_code) as ray:
        board = ray.remote(num_cpus=0)(Board).remote(rule)
        task = ray.remote(_execute).options(num_cpus=cpus_per_run, max_retries=0)
        driver = ray.get_runtime_context().get_node_id()
        cpus = ray.cluster_resources().get("CPU", 0)
        # At most as many runs in flight as the CPUs hold: Ray lends a task's CPU to a queued task while the
        # first waits in ray.get (its progress reports), which would put 3 runs on 2 cores. The driver's queue
        # also keeps the runs' order exactly (every system and config interleaved).
        capacity = max(1, int(cpus // cpus_per_run))
        queue = list(todo)
        refs: dict[Any, RunSpec] = {}
        cancelled = 0

        def submit() -> None:
            while queue and len(refs) < capacity:
                spec = queue.pop(0)
                refs[task.remote(spec, str((runs_dir / spec.key).resolve()), driver, board)] = spec

        t0 = last = time.perf_counter()
        log(
            f"sweep: {len(todo)} run(s) on Ray ({cpus:g} CPUs, {cpus_per_run:g} per run, {capacity} at once) "
            f"-> {runs_dir}"
        )
        try:
            submit()
            while refs:
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=1.0)
                for ref in ready:
                    spec = refs.pop(ref)
                    record = _collect(ray, ref, spec, runs_dir / spec.key)
                    records[spec.key] = record
                    _write_record(runs_dir / spec.key, record)
                    if on_record is not None:
                        on_record(record, ordered())
                submit()
                now = time.perf_counter()
                if ready or now - last >= progress_every:
                    last = now
                    snap = ray.get(board.snapshot.remote())
                    log(
                        _progress_line(
                            ordered(), len(specs), len(snap["running"]), now - t0, describe_best, snap.get("rule")
                        )
                    )
        except BaseException as exc:  # Ctrl-C, or an error in on_record: no run is left going on
            outstanding = list(refs)
            cancelled = len(outstanding) + len(queue)
            for ref in outstanding:
                ray.cancel(ref)  # the task kills its worker process
            if outstanding:
                ray.wait(outstanding, num_returns=len(outstanding), timeout=30)
            if not isinstance(exc, KeyboardInterrupt):
                raise
            raise SweepInterrupted(
                f"interrupted: {len(records)} of {len(specs)} runs finished and kept, "
                f"{cancelled} cancelled; run the same sweep again to resume"
            ) from None
    return ordered()


def _collect(ray: Any, ref: Any, spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """The task's record, or a failure record if the task itself died; files from another node written."""
    try:
        record = ray.get(ref)
    except Exception as exc:  # noqa: BLE001 (a worker crash: record it, the sweep goes on)
        text = str(exc).strip().splitlines()
        return {"key": spec.key, **spec.info, "status": "failed", "error": text[-1] if text else type(exc).__name__}
    for name, data in record.pop("_files", {}).items():
        path = run_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return record


def _write_record(run_dir: Path, record: dict[str, Any]) -> None:
    from tfdqn.fileio import write_json

    write_json(run_dir / RECORD_FILE, record)


def _progress_line(
    records: list[dict[str, Any]],
    total: int,
    running: int,
    seconds: float,
    describe_best: Callable[[list[dict[str, Any]]], str] | None,
    rule: Any,
) -> str:
    failed = sum(r["status"] == "failed" for r in records)
    stopped = sum(r["status"] == "stopped" for r in records)
    line = (
        f"[{seconds / 60:5.1f} min] {len(records)}/{total} done ({failed} failed"
        + (f", {stopped} stopped early" if stopped else "")
        + f"), {running} running"
    )
    best = describe_best(records) if describe_best is not None else ""
    return line + (f"; best so far: {best}" if best else "") + (f"; {rule}" if rule else "")


# ----- a sweep of DQNConfig overrides x seeds ----------------------------------------------------------
def expand_grid(grid: dict[str, Sequence[Any]]) -> dict[str, dict[str, Any]]:
    """{field: [values]} -> every combination, named "field=value,..." ({} -> one config, the defaults)."""
    for field, values in grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise SweepError(f"grid field {field!r} needs a non-empty list of values, not {values!r}")
    fields = list(grid)
    configs = {}
    for combo in itertools.product(*(grid[f] for f in fields)):
        overrides = dict(zip(fields, combo))
        configs[",".join(f"{f}={json.dumps(v)}" for f, v in overrides.items()) or "defaults"] = overrides
    return configs


def read_configs(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Configs from a JSON file: {"grid": {field: [values]}} (every combination), {"configs": {name:
    {field: value}}}, or {name: {field: value}} (the screens' candidate files)."""
    from tfdqn.config import read_object_file

    data = read_object_file(path)
    if "grid" in data or "configs" in data:
        unknown = sorted(set(data) - {"grid", "configs"})
        if unknown:
            raise SweepError(f"sweep file {str(path)!r}: unknown key(s) {unknown} (expected 'grid' and/or 'configs')")
        configs = dict(data.get("configs", {}))
        configs.update(expand_grid(data.get("grid", {})) if data.get("grid") else {})
        return configs
    return data


def parse_set(items: Iterable[str]) -> dict[str, list[Any]]:
    """`--set field=v1,v2` flags -> a grid {field: [v1, v2]}; each value is JSON (strings may be bare)."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        field, sep, values = item.partition("=")
        if not sep or not field or not values:
            raise SweepError(f"--set {item!r} is not FIELD=VALUE[,VALUE...]")
        grid[field.strip()] = [_json_value(v) for v in _split_values(values)]
    return grid


def _split_values(text: str) -> list[str]:
    """Split on commas outside brackets: "[64,64],[256,256]" -> two values."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "[{" and 1 or (-1 if ch in "]}" else 0)
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return parts + [cur]


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text.strip()


def check_configs(configs: dict[str, dict[str, Any]], env_id: str, preset: str | None) -> None:
    """Every config's overrides build a valid DQNConfig for `env_id`; else a ConfigError naming the config."""
    from tfdqn.presets import config_for_env

    if not configs:
        raise SweepError("the sweep has no configs: give a grid (--set FIELD=V1,V2 or a file)")
    for name, overrides in configs.items():
        if not isinstance(overrides, dict):
            raise SweepError(f"config {name!r} must be an object of DQNConfig fields, not {overrides!r}")
        if "seed" in overrides or "env_id" in overrides:
            raise SweepError(
                f"config {name!r} sets {'seed' if 'seed' in overrides else 'env_id'}: the sweep's "
                "seeds and environment set those"
            )
        try:
            config_for_env(env_id, preset, **overrides)
        except ConfigError as exc:
            raise ConfigError(f"config {name!r}: {exc}") from None


def check_seeds(seeds: Sequence[int]) -> list[int]:
    seeds = list(seeds)
    if not seeds:
        raise SweepError("the seed list is empty: give at least one seed")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int) or s < 0]
    if bad:
        raise SweepError(f"seeds must be non-negative integers, not {bad[0]!r}")
    if len(set(seeds)) != len(seeds):
        raise SweepError(f"seed {next(s for s in seeds if seeds.count(s) > 1)} is listed twice")
    return seeds


def run_key(name: str, seed: int) -> str:
    """A run's folder name: the config's name made file-safe, then the seed."""
    safe = re.sub(r"[^A-Za-z0-9._=+-]+", "_", name).strip("_")[:80] or "config"
    return f"{safe}__seed{seed}"


@dataclasses.dataclass(frozen=True)
class Protocol:
    """What every run of a sweep shares: environment, preset, budget and the evaluation protocol."""

    env_id: str = "CartPole-v1"
    preset: str | None = "auto"  # "auto" (the environment's own), None (= "none": the plain defaults) or a name
    steps: int | None = None  # default: the budget the environment's config was measured with
    threshold: float | None = None  # default: the environment's reward_threshold
    eval_every: int = 1_000
    eval_episodes: int = 20
    confirm_episodes: int = 100
    final_episodes: int = 100
    stop_on_reward: bool = True  # as a single run: stop at a confirmed threshold
    deterministic: bool = False

    def __post_init__(self) -> None:
        from tfdqn.presets import NO_PRESET

        if self.preset == NO_PRESET:  # one spelling in a saved plan, so a folder resumes whichever was given
            object.__setattr__(self, "preset", None)

    def resolved(self) -> Protocol:
        from tfdqn.envs.make import reward_threshold
        from tfdqn.presets import budget_for_env

        return dataclasses.replace(
            self,
            steps=self.steps or budget_for_env(self.env_id),
            threshold=self.threshold if self.threshold is not None else reward_threshold(self.env_id),
        )

    def argv(self, overrides: dict[str, Any], seed: int) -> tuple[str, ...]:
        """The worker command of one run."""
        argv = [
            "{python}",
            "-m",
            "tfdqn.experiments.worker",
            "--out",
            "{run_dir}",
            "--env",
            self.env_id,
            "--preset",
            "none" if self.preset is None else self.preset,
            "--overrides",
            json.dumps(overrides),
            "--seed",
            str(seed),
            "--steps",
            str(self.steps),
            "--eval-every",
            str(self.eval_every),
            "--eval-episodes",
            str(self.eval_episodes),
            "--confirm-episodes",
            str(self.confirm_episodes),
            "--final-episodes",
            str(self.final_episodes),
        ]
        if self.threshold is not None:
            argv += ["--threshold", repr(float(self.threshold))]
        return tuple(
            argv
            + (["--no-stop"] if not self.stop_on_reward else [])
            + (["--deterministic"] if self.deterministic else [])
        )


def check_folder(out: Path, plan: dict[str, Any], what: str = "sweep") -> None:
    """`out` must be empty, new, or hold this same plan (a resume); another plan's results are an error."""
    manifest = out / f"{what}.json"
    if manifest.is_file():
        try:
            old = json.loads(manifest.read_text(encoding="utf-8")).get("plan")
        except ValueError:
            raise SweepError(f"{manifest} is not valid JSON: choose another folder") from None
        if old != json.loads(json.dumps(plan)):
            changed = sorted(k for k in set(old or {}) | set(plan) if (old or {}).get(k) != plan.get(k))
            raise SweepError(
                f"{out} holds another {what}'s results (it differs in: {', '.join(changed)}): choose "
                "another folder, or rerun that one to resume it"
            )
    elif (out / "runs").is_dir() and any((out / "runs").iterdir()):
        raise SweepError(f"{out}/runs holds runs but no {what}.json: choose another folder")


def sweep(
    configs: dict[str, dict[str, Any]],
    seeds: Sequence[int],
    out: str | os.PathLike,
    protocol: Protocol = Protocol(),
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    cpus_per_run: float = 1,
    ship_code: bool = False,
    command: str | None = None,
    progress_every: float = 15.0,
) -> dict[str, Any]:
    """Train every config (DQNConfig overrides on the environment's preset) with every seed, one Ray task per
    run, and write `out/sweep.json` and `out/sweep.md` (per run; per config the median steps to the threshold,
    best and final score with 95% intervals); return the sweep's result (the content of sweep.json).

    Bad input (an unknown field, no seeds, a folder holding another sweep) raises before Ray starts.
    """
    out = Path(out)
    seeds = check_seeds(seeds)
    check_configs(configs, protocol.env_id, protocol.preset)
    protocol = protocol.resolved()
    plan = {"kind": "sweep", "protocol": dataclasses.asdict(protocol), "configs": configs}
    check_folder(out, plan)
    if cpus_per_run <= 0:
        raise SweepError(f"cpus_per_run={cpus_per_run} must be positive")
    specs = [
        RunSpec(run_key(name, seed), protocol.argv(overrides, seed), {"config": name, "seed": seed})
        for seed in seeds
        for name, overrides in configs.items()
    ]  # seed-major: configs interleaved
    result = {
        "plan": plan,
        "seeds": seeds,
        "command": command or "tfdqn.experiments.sweep.sweep(...)",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "runs": [],
        "summary": [],
        "complete": False,
    }
    t0 = time.perf_counter()

    def write(records: list[dict[str, Any]], note: str | None = None) -> None:
        result.update(
            runs=records,
            summary=summarize(records, configs, protocol.steps),
            duration_seconds=time.perf_counter() - t0,
            note=note,
        )
        write_report(out, result)

    out.mkdir(parents=True, exist_ok=True)
    try:
        records = run_specs(
            specs,
            out,
            address=address,
            num_cpus=num_cpus,
            cpus_per_run=cpus_per_run,
            ship_code=ship_code,
            on_record=lambda _r, rs: write(rs),
            describe_best=describe_best,
            progress_every=progress_every,
        )
    except SweepInterrupted as exc:
        done = [r for s in specs if (r := read_record(out / "runs" / s.key)) is not None]
        write(done, f"partial: {exc}")
        raise
    result["complete"] = len(records) == len(specs)
    write(records)
    return result


def describe_best(records: list[dict[str, Any]]) -> str:
    """The finished run that reached the threshold soonest (else the best score): one phrase."""
    ok = [r for r in records if r["status"] == "ok"]
    if not ok:
        return ""
    r = min(ok, key=lambda r: (r.get("solved_step") is None, r.get("solved_step") or 0, -(r.get("best_score") or 0)))
    solved = f"solved at {r['solved_step']:,} steps" if r.get("solved_step") is not None else "not solved"
    return f"{r.get('config')} seed {r.get('seed')} {solved}, best {r.get('best_score', math.nan):.1f}"


def summarize(
    records: list[dict[str, Any]], configs: dict[str, dict[str, Any]], budget: int | None = None
) -> list[dict[str, Any]]:
    """Per config: runs, failures, solved k/n with a Wilson interval, and the medians (95% bootstrap intervals
    over seeds) of env steps to the threshold (unsolved = worse than any solve), best and final score."""
    from tfdqn.experiments import stats

    rows = []
    for name in configs:
        rs = [r for r in records if r.get("config") == name]
        ok = [r for r in rs if r["status"] == "ok"]
        steps = [r.get("solved_step") for r in ok]
        solved = sum(s is not None for s in steps)
        row: dict[str, Any] = {
            "config": name,
            "overrides": configs[name],
            "runs": len(rs),
            "ok": len(ok),
            "failed": sum(r["status"] == "failed" for r in rs),
            "stopped": sum(r["status"] == "stopped" for r in rs),
            "seeds": [r.get("seed") for r in ok],
            "solved": solved,
            "solved_rate_ci": list(stats.wilson_ci(solved, len(ok))),
        }
        for field, values in (
            ("solved_step", steps),
            ("best_score", [r["best_score"] for r in ok]),
            ("final_score", [r["final_score"] for r in ok]),
            ("wall_seconds", [r["wall_seconds"] for r in ok]),
        ):
            row[f"median_{field}"] = _finite(stats.median(values)) if values else None
            row[f"ci_{field}"] = [_finite(v) for v in stats.bootstrap_ci(values)] if values else None
        if budget is not None:  # the search objective: unsolved counts as the budget
            row["median_steps_unsolved_as_budget"] = (
                stats.median([budget if s is None else s for s in steps]) if steps else None
            )
        rows.append(row)
    return rows


def _finite(v: float) -> float | None:
    """JSON-safe: inf (not solved) and nan (no data) become None."""
    return None if v is None or math.isinf(v) or math.isnan(v) else v


def write_report(
    out: Path, result: dict[str, Any], name: str = "sweep", renderer: Callable[[dict[str, Any]], str] | None = None
) -> None:
    """`out/<name>.json` and `out/<name>.md` (`renderer`, default `render`), atomically."""
    from tfdqn.fileio import atomic_write, write_json

    write_json(out / f"{name}.json", result)
    text = (renderer or render)(result)
    atomic_write(out / f"{name}.md", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _num(v: Any, fmt: str = ",.0f", none: str = "-") -> str:
    return none if v is None else format(v, fmt)


def _interval(ci: Sequence[Any] | None, fmt: str = ",.0f", none: str = "not solved") -> str:
    if not ci:
        return ""
    return "[" + ", ".join(none if v is None else format(v, fmt) for v in ci) + "]"


def render(result: dict[str, Any]) -> str:
    """The Markdown table of a sweep: per config (medians with 95% intervals), then per run."""
    p = result["plan"]["protocol"]
    th = p["threshold"]
    lines = [
        f"# Sweep: {p['env_id']}, {len(result['plan']['configs'])} config(s) x {len(result['seeds'])} seed(s)",
        "",
        f"`{result['command']}`, {result['date']}; {len(result['runs'])} run(s) recorded"
        + (f", {result['duration_seconds'] / 60:.1f} min" if result.get("duration_seconds") else "")
        + ".",
        "",
    ]
    if result.get("note"):
        lines += [f"**{result['note']}**", ""]
    lines += [
        f"Each run: `python -m tfdqn.experiments.worker` in a fresh one-thread process (a Ray task), preset "
        f"{p['preset']!r} + the config's fields, budget {p['steps']:,} env steps, greedy evaluation of "
        f"{p['eval_episodes']} episodes every {p['eval_every']:,} env steps; **solved** = first evaluation >= "
        f"{_num(th, 'g')}"
        + ("; training stops at a confirmed solve" if p["stop_on_reward"] else "; no early stop")
        + f"; best (best.keras) and final policy on the same {p['final_episodes']} fresh episodes.",
        "",
        "Medians over seeds with 95% percentile-bootstrap intervals (an unsolved run counts as worse than any "
        "solve); Wilson interval for the solved rate.",
        "",
        "| config | runs | failed | solved [95%] | env steps to threshold [95%] | best [95%] | final [95%] | wall s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in result["summary"]:
        lo, hi = s["solved_rate_ci"]
        steps = "not solved" if s["median_solved_step"] is None and s["ok"] else _num(s["median_solved_step"])
        lines.append(
            f"| {s['config']} | {s['runs']} | {s['failed']} | {s['solved']}/{s['ok']} [{lo:.2f}, {hi:.2f}] | "
            f"{steps} {_interval(s['ci_solved_step'])} | {_num(s['median_best_score'], '.1f')} "
            f"{_interval(s['ci_best_score'], '.1f', '-')} | {_num(s['median_final_score'], '.1f')} "
            f"{_interval(s['ci_final_score'], '.1f', '-')} | {_num(s['median_wall_seconds'], '.1f')} |"
        )
    lines += [
        "",
        "## Runs",
        "",
        "| config | seed | status | env steps to threshold | best | final | env steps | wall s | error |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in sorted(result["runs"], key=lambda r: (str(r.get("config")), r.get("seed", 0))):
        lines.append(
            f"| {r.get('config')} | {r.get('seed')} | {r['status']}{' (resumed)' if r.get('resumed') else ''} "
            f"| {_num(r.get('solved_step'), ',.0f', 'not solved' if r['status'] == 'ok' else '-')} | "
            f"{_num(r.get('best_score'), '.1f')} | {_num(r.get('final_score'), '.1f')} | "
            f"{_num(r.get('env_steps'))} | {_num(r.get('wall_seconds'), '.1f')} | "
            f"{(r.get('error') or '').replace('|', '/')[:200]} |"
        )
    lines += ["", "Configs:", ""] + [f"- **{k}**: `{json.dumps(v)}`" for k, v in result["plan"]["configs"].items()]
    return "\n".join(lines) + "\n"
