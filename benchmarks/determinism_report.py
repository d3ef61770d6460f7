"""The determinism benchmark's report (`benchmarks.determinism`): the machine it ran on, the cases' tables and
the verdict, in Markdown."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from typing import Any

from benchmarks.common import host, load_note


def machine() -> dict[str, Any]:
    """The CPU model, its cores, and the library versions: what "one machine, one version" means here."""
    this = host()
    found = {d.metadata["Name"].lower().replace("_", "-"): d.version for d in metadata.distributions()}
    versions = {name: found.get(name) for name in ("keras", "numpy")}
    tf = found.get("tensorflow") or found.get("tensorflow-cpu")  # one package under two names
    return {
        "cpu": this["cpu"],
        "cores": this["cores"],
        "python": platform.python_version(),
        "tensorflow": tf,
        **versions,
    }


def verdict(r: dict[str, Any]) -> str:
    """The report's conclusion: were all cases alike, and did op determinism change any bytes."""
    changed = r["changed_by_determinism"]
    differ = [c["name"] for c in r["training"] + r["gradients"] if not c["identical"]]
    return (
        f"{'differ from the first case: ' + '; '.join(differ) if differ else 'every case identical'}. Op "
        f"determinism {'changed the bytes of: ' + '; '.join(changed) if changed else 'changed no bytes'} (each case "
        "against its twin without it)"
    )


def diff(c: dict[str, Any]) -> str:
    """A gradient's largest difference from the first variant's, and that relative to its largest entry."""
    return f"{c['max_abs_diff']:.3g} ({c['max_abs_diff'] / c['largest']:.2g})"


def yes(x: bool) -> str:
    """A verdict cell."""
    return "**identical**" if x else "**DIFFERS**"


def render(r: dict[str, Any]) -> str:
    """The Markdown report (also what the command prints)."""
    m, train, grads = r["machine"], r["training"], r["gradients"]
    lines = [
        "# Determinism with and without `--deterministic` (CPU)",
        "",
        f"Produced by `{r['command']}`.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, TensorFlow {m['tensorflow']}, Keras "
        f"{m['keras']}, NumPy {m['numpy']}. Every case a fresh process, {r['jobs']} at a time.",
        "",
        f"## Training: `tfdqn train` on CartPole-v1, {r['steps']:,} env steps, seed 0",
        "",
        f"Config: the CartPole-v1 preset with `{json.dumps(r['config'])}`; flags `{' '.join(r['flags'])}`. "
        "Compared with the first case: metrics.csv and evaluations.csv (every column but `wall_seconds`) and the "
        "weights of last.keras, byte for byte.",
        "",
        "| case | episodes | same as the first |",
        "| --- | --- | --- |",
        *(
            f"| {c['name']} | {c['episodes']} | {yes(c['identical'])}"
            + (f" ({', '.join(c['differs'])} differ)" if c["differs"] else "")
            + " |"
            for c in train
        ),
        "",
        f"## Gradients: the Nature DQN network, {'x'.join(map(str, r['obs_shape']))} uint8 frames, batch {r['batch']}",
        "",
        f"One mean-Huber-loss gradient of Q(s, a) against fixed targets on a fixed random batch ({r['n_actions']} "
        f"actions, seed 0), computed {r['repeats']} times in each process. Compared: every repeat's bytes with the "
        "process's first, and the first with the first variant's.",
        "",
        "| variant | repeats alike | same as the first variant | largest difference (relative) |",
        "| --- | --- | --- | --- |",
        *(
            f"| {c['name']} | {'yes' if c['repeats_identical'] else 'no'} | {yes(c['identical'])} | "
            + ("shapes differ" if c["max_abs_diff"] is None else diff(c))
            + ("" if c["same_start"] else " (initial weights differ)")
            + " |"
            for c in grads
        ),
        "",
        f"**Verdict: {verdict(r)}.**",
        load_note(*r["load"]),
    ]
    return "\n".join(lines)
