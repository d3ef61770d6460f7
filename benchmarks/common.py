"""What every benchmark shares: the repository root, how a report names its command, atomic text files,
and the short figures the reports print (a median's bootstrap interval, a rate's Wilson interval)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tfdqn.experiments import stats
from tfdqn.fileio import atomic_write, write_json

ROOT = Path(__file__).resolve().parents[1]
"""The repository root: reports go under ROOT/results, workers run with it as their directory."""

SCRIPT_ENV = "BENCHMARKS_SCRIPT"
"""Set by an old entry point in scripts/ to "MODULE:scripts/OLD.py" (e.g. "suite:scripts/benchmark.py")."""


def command_line(module: str, argv: Sequence[object]) -> str:
    """The command a report names: `python -m benchmarks.<module> ARGS`, or `python scripts/<old>.py ARGS` when
    that module's old entry point started this process (so a report rewritten by its recorded command, which
    names the old script, says the same)."""
    started, _, script = os.environ.get(SCRIPT_ENV, "").partition(":")
    prog = f"python {script}" if started == module and script else f"python -m benchmarks.{module}"
    return " ".join([prog, *map(str, argv)])


def repo_relative(path: Path) -> str:
    """`path` as a report names it: relative to the repository when inside it (wherever the tree was)."""
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` (UTF-8) atomically: a reader sees the old file or the new one, never half."""

    def write(tmp: str) -> None:
        Path(tmp).write_text(text, encoding="utf-8")

    atomic_write(path, write)


def publish(name: str, result: dict, report: str, out: Path | None) -> None:
    """Print a benchmark's Markdown `report`; with `out` (its --write), also write NAME.json (`result`) and NAME.md
    there."""
    print("\n" + report)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / f"{name}.json", result)
        atomic_write_text(out / f"{name}.md", report)


def median_interval(values: list) -> str:
    """The 95% bootstrap interval of a median over seeds (unsolved = worse than any solve)."""
    return stats.fmt_interval(stats.bootstrap_ci(values))


def rate_interval(k: int, n: int) -> str:
    """The 95% Wilson interval of a rate of k in n."""
    lo, hi = stats.wilson_ci(k, n)
    return f"[{lo:.2f}, {hi:.2f}]"


def fmt_steps(x: float | None) -> str:
    """A step count with thousands separators, "-" for none."""
    return "-" if x is None else f"{x:,.0f}"


def load_note(before: float, after: float) -> str:
    """The report's line on the machine's load at the start and end of a suite."""
    cores = os.cpu_count() or 1
    busy = (
        f"above {cores}: other jobs shared the cores and wall times are inflated; step counts are not affected"
        if max(before, after) > cores
        else f"at most {cores}: the cores were not oversubscribed"
    )
    return (
        f"\nMachine: {cores} cores; 1-minute load average {before:.1f} at the start and {after:.1f} at "
        f"the end ({busy}).\n"
    )


def host() -> dict[str, Any]:
    """The machine a process runs on: CPU model, its clock (MHz, None where not reported), cores, and the boot's
    id (first 8 characters), which tells two machines of one model apart, so a report can say whose speeds compare."""
    info = Path("/proc/cpuinfo")
    lines = info.read_text(encoding="utf-8").splitlines() if info.exists() else []
    fields = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in lines if ":" in line)}
    boot = Path("/proc/sys/kernel/random/boot_id")
    mhz = fields.get("cpu MHz", "")
    return {
        "cpu": fields.get("model name") or platform.processor() or platform.machine(),
        "mhz": round(float(mhz)) if mhz.replace(".", "", 1).isdigit() else None,
        "cores": os.cpu_count(),
        "boot": boot.read_text(encoding="utf-8")[:8] if boot.exists() else "unknown",
    }


def per_call_seconds(fn: Callable[[], Any], calls: int) -> float:
    """Median wall time of one call of `fn` over `calls` calls (after one warm-up call): a micro-benchmark's
    figure for one repeat, robust to the other jobs of a shared machine."""
    fn()
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - start
    return float(np.median(times))


def microseconds(values: Sequence[float], fmt: str = ",.1f") -> str:
    """Per-repeat seconds as "median [95% bootstrap interval]" in microseconds."""
    micro = [1e6 * v for v in values]
    return f"{stats.median(micro):{fmt}} {stats.fmt_interval(stats.bootstrap_ci(micro), fmt)}"


def micro_benchmark(
    module: str,
    argv: Sequence[str],
    measure: Callable[[], list[Any]],
    render: Callable[[list[Any], str, tuple[float, float]], str],
    out: Path | None,
) -> int:
    """Run a one-thread micro-benchmark: `measure()` on one TensorFlow thread, `render(results, command, load)`
    printed and, with `out`, written; the load averages before and after go into the report."""
    from tfdqn.runtime import configure_threads

    configure_threads(1)
    before = os.getloadavg()[0]
    results = measure()
    text = render(results, command_line(module, argv), (before, os.getloadavg()[0]))
    print(text, end="")
    if out is not None:
        atomic_write_text(out, text)
    return 0


# DQNConfig fields added after a suite's first runs, with the value that behaves as before they existed: left out of
# a config's digest at that value, so a new field does not make finished runs of the same settings run again.
ADDED_LATER: dict[str, Any] = {"epsilon_decay_start": 0}


def digest(settings: dict[str, Any]) -> str:
    """A short digest of a run's settings, for its key or file name: a rerun keeps only runs of the same settings."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:8]


def config_digest(config: dict[str, Any]) -> str:
    """`digest` of a DQNConfig's fields without its seed, and without a field of `ADDED_LATER` at its old value."""
    kept = {k: v for k, v in config.items() if k != "seed" and not (k in ADDED_LATER and v == ADDED_LATER[k])}
    return digest(kept)
