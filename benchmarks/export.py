"""Export speed: `tfdqn export` of the trained CartPole model (results/cartpole/best.keras) to each format, the
target being under 10 s.

`python -m benchmarks.export` runs, --repeats times round-robin over the formats, each in a fresh process:
  command   `python -m tfdqn export MODEL --format F --out TMP`, its wall time (what a user waits: Python and
            TensorFlow start-up, loading the model, the conversion, the write);
  export    the `tfdqn.export(MODEL, F, TMP)` call alone in a fresh process that has imported tfdqn and
            TensorFlow (loading, tracing, converting, writing: the first export of a process);
each as wall time and as CPU time, which other jobs on a shared machine do not inflate.
Prints medians with 95% bootstrap intervals and the machine's load; `--write` also writes the report as
export.md and export.json under --out (default results/benchmark/), naming the command that produced it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, command_line, load_note, publish, repo_relative
from tfdqn.cli import ArgumentParser, positive_int, run_main
from tfdqn.experiments import stats
from tfdqn.fileio import check_out_dir
from tfdqn.networks.export_formats import FORMATS

MODEL = ROOT / "results" / "cartpole" / "best.keras"
TARGET_S = 10.0
CHILD = (
    "import json, sys, time\n"
    "from tfdqn.cli import prepare_process; prepare_process()\n"
    "import tfdqn, tensorflow\n"
    "t0, c0 = time.perf_counter(), time.process_time(); tfdqn.export(sys.argv[1], sys.argv[2], sys.argv[3])\n"
    "print(json.dumps([time.perf_counter() - t0, time.process_time() - c0]))\n"
)
SERIES = {
    "command": "`tfdqn export` command, wall s",
    "command_cpu": "its CPU s",
    "export": "the `tfdqn.export` call, wall s",
    "export_cpu": "its CPU s",
}
"""What is timed: the whole command and the call alone, each as wall time and as CPU time (user + system, all
threads), which a busy machine does not inflate: on an idle one the wall time of one thread's work is about it."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command's flags."""
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=MODEL, help="the .keras model (default results/cartpole/best.keras)")
    p.add_argument("--repeats", type=positive_int, default=5, help="fresh processes per format and kind (default 5)")
    p.add_argument(
        "--formats", nargs="+", choices=list(FORMATS), default=list(FORMATS), help="formats (default: all three)"
    )
    p.add_argument("--write", action="store_true", help="also write export.md and export.json to --out")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark", help="(default results/benchmark)")
    args = p.parse_args(argv)
    args.model = args.model.resolve()  # the measuring processes work from the repository root
    if not args.model.is_file():
        p.error(f"--model {args.model} is not a file")  # before minutes of measuring
    return args


def _run(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds and stdout of one process run from the repository root; SystemExit on a failure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    seconds, after = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"error: {' '.join(args[:4])} failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return seconds, cpu, proc.stdout


def measure(model: Path, formats: list[str], repeats: int) -> dict[str, dict[str, list[float]]]:
    """format -> {series (`SERIES`): seconds in each repeat}, the formats round-robin."""
    times: dict[str, dict[str, list[float]]] = {f: {key: [] for key in SERIES} for f in formats}
    with tempfile.TemporaryDirectory(prefix="tfdqn-export-bench-") as folder:
        for r in range(repeats):
            for f in formats:
                out = os.path.join(folder, f"{f}_{r}{FORMATS[f].suffix}")
                wall, cpu, _ = _run(["-m", "tfdqn", "export", str(model), "--format", f, "--out", out + "_cli"])
                call_wall, call_cpu = json.loads(_run(["-c", CHILD, str(model), f, out])[2])
                for key, value in zip(SERIES, (wall, cpu, call_wall, call_cpu)):
                    times[f][key].append(float(value))
                print(f"repeat {r + 1}/{repeats} {f}: command {wall:.2f} s ({cpu:.2f} CPU s), call {call_wall:.2f} s")
    return times


def summarize(times: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, dict[str, Any]]]:
    """format -> series -> the median seconds, its 95% bootstrap interval and the verdict on `TARGET_S`."""
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for f, t in times.items():
        summary[f] = {}
        for kind, values in t.items():
            interval = stats.bootstrap_ci(values)
            verdict = stats.verdict(interval, TARGET_S, "lower")
            summary[f][kind] = {"median": statistics.median(values), "ci": list(interval), "verdict": verdict}
    return summary


def render(r: dict[str, Any]) -> str:
    """The Markdown report of a result (`main`'s), which the command prints and --write writes."""
    lines = [
        f"# Export speed: `tfdqn export` of {r['model']}, target < {r['target_s']:.0f} s",
        "",
        f"Produced by `{r['command']}`: {r['repeats']} fresh processes per format and series.",
        "",
        f"| format | {' | '.join(SERIES.values())} |",
        "| --- |" + " --- |" * len(SERIES),
    ]
    for f in r["formats"]:  # in the order asked for (the JSON's keys are sorted)
        row = r["summary"][f]
        cells = [
            f"{x['median']:.2f} {stats.fmt_interval(tuple(x['ci']), '.2f')} ({x['verdict']})"
            for x in (row[kind] for kind in SERIES)
        ]
        lines.append(f"| {f} | {' | '.join(cells)} |")
    lines.append("Medians [95% bootstrap intervals]; a verdict is met when the whole interval lies under the target.")
    return "\n".join([*lines, load_note(*r["load"])])


def main(argv: list[str] | None = None) -> int:
    """Measure, print the report and, with --write, write it."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.write:
        check_out_dir(args.out)  # before minutes of measuring
    before = os.getloadavg()[0]
    times = measure(args.model, args.formats, args.repeats)
    result = {
        "command": command_line("export", argv),
        "model": repo_relative(args.model),
        "repeats": args.repeats,
        "formats": args.formats,
        "target_s": TARGET_S,
        "series": SERIES,
        "times": times,
        "summary": summarize(times),
        "load": [before, os.getloadavg()[0]],
    }
    publish("export", result, render(result), args.out if args.write else None)
    return 0


if __name__ == "__main__":
    run_main(main)
