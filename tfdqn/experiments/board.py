"""The sweep's `Board`, a Ray actor every run's task talks to: runs started and finished (the driver's progress
line), each run's process while it lives (so the driver can wait for, or kill, a cancelled run's tree), the
cancellation flag, and in a search the rule that gathers each trial's values at milestones for the driver's
pruner and stops the trials it prunes. Plain Python: `ray.remote(Board)` makes it the actor."""

from __future__ import annotations

from typing import Any, Protocol


class Rule(Protocol):
    """What the board asks a search's early-stopping rule (`tfdqn.experiments.milestones.Milestones`)."""

    def alive(self, trial: str | None) -> bool: ...

    def report(self, trial: str, run: str, point: dict[str, Any]) -> bool: ...

    def finished(self, trial: str, run: str) -> None: ...

    def stop(self, trial: str, step: int) -> None: ...

    def drain(self) -> list[tuple[str, int, float]]: ...

    def summary(self) -> str: ...


class Board:
    """Shared state of one sweep's runs (one actor per sweep)."""

    def __init__(self, rule: Rule | None = None) -> None:
        self.rule = rule
        self.running: set[str] = set()
        self.points: dict[str, dict[str, Any]] = {}
        self.processes: dict[str, tuple[str, int | None]] = {}  # key -> (node id, worker pid or None yet)
        self.launched: dict[str, tuple[str, int]] = {}  # key -> (node id, worker pid), kept after the run ends
        self.cancelled = False

    def started(self, key: str, group: str | None, node: str) -> bool:
        """A task is about to launch run `key` on `node`: False if it should not (cancelled, or its trial stopped)."""
        if self.cancelled or (self.rule is not None and not self.rule.alive(group)):
            return False
        self.running.add(key)
        self.processes[key] = (node, None)
        return True

    def spawned(self, key: str, node: str, pid: int) -> bool:
        """Run `key`'s worker is process (and group) `pid` on `node`: False if it should stop at once."""
        self.processes[key] = self.launched[key] = (node, pid)
        return not self.cancelled

    def should_stop(self) -> bool:
        """Whether the sweep was cancelled (each task asks about once a second)."""
        return self.cancelled

    def report(self, key: str, group: str | None, point: dict[str, Any]) -> bool:
        """A run's periodic evaluation `{"step", "mean"}`; False when its trial was pruned."""
        self.points[key] = point
        return True if self.rule is None or group is None else self.rule.report(group, key, point)

    def finished(self, key: str, group: str | None) -> None:
        """Run `key` ended (its record is being made); the rule learns its trial has one run fewer to wait for."""
        self.running.discard(key)
        if self.rule is not None and group is not None:
            self.rule.finished(group, key)

    def drain(self) -> list[tuple[str, int, float]]:
        """The rule's values gathered since the last call (the driver reports them to its pruner)."""
        return [] if self.rule is None else self.rule.drain()

    def stop(self, group: str, step: int) -> None:
        """The driver pruned trial `group`: its runs end at their next evaluation, its queued runs never start."""
        if self.rule is not None:
            self.rule.stop(group, step)

    def exited(self, key: str) -> None:
        """Run `key`'s task holds no process any more (reaped, or never started)."""
        self.running.discard(key)
        self.processes.pop(key, None)

    def cancel(self) -> None:
        """Stop every run: tasks not yet started return at once, running ones stop their process tree."""
        self.cancelled = True

    def live(self) -> dict[str, tuple[str, int | None]]:
        """Runs whose task may still hold a process: key -> (node id, pid or None)."""
        return dict(self.processes)

    def workers(self, keys: list[str]) -> dict[str, tuple[str, int]]:
        """The worker process (node id, pid) each of `keys` was launched as, if it was."""
        return {k: self.launched[k] for k in keys if k in self.launched}

    def snapshot(self) -> dict[str, Any]:
        """Runs in progress, their last evaluations and the rule's one-line state, for the progress line."""
        return {
            "running": sorted(self.running),
            "points": dict(self.points),
            "rule": None if self.rule is None else self.rule.summary(),
        }
