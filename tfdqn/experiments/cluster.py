"""Ray for the length of a sweep: embedded on this machine's cores, or a cluster joined by address; and the
environment a run's process starts with.

Ray is an optional extra (`pip install "tfdqn[experiments]"`): `require_ray` says so in one line before
anything expensive, and Ray itself is imported only inside `import_ray`, so the rest of this subpackage (plans,
tables, statistics) works without it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from tfdqn.experiments.errors import RayNotInstalled, SweepError

CONNECT_TIMEOUT_S = 20.0
"""How long joining a cluster may take before it is an error (a TCP probe comes first, 5 s)."""


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


def require_ray(what: str = "sweeps and searches") -> None:
    """Raise `RayNotInstalled` (one line naming the extra to install) unless Ray can be imported; imports nothing."""
    try:
        found = importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):  # a broken or half-removed install
        found = False
    if not found:
        raise RayNotInstalled(what)


def import_ray() -> ModuleType:
    """The `ray` module, or `RayNotInstalled`. Ray is imported here, not at the top, because it is optional."""
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise RayNotInstalled() from None


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
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    kwargs: dict[str, Any] = dict(log_to_driver=False, logging_level="ERROR")
    if ship_code:
        kwargs["runtime_env"] = {"working_dir": os.getcwd(), "excludes": ["results/", ".git/", "*.keras"]}
    if address is None:
        _start_local(ray, num_cpus, kwargs)
    else:
        _join(ray, address, kwargs)
    try:
        yield ray
    finally:
        ray.shutdown()


def _start_local(ray: Any, num_cpus: int | None, kwargs: dict[str, Any]) -> None:
    """`ray.init` on this machine; its workers inherit the environment Ray starts with, so this tfdqn is made
    importable there for the call."""
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = worker_env()["PYTHONPATH"]
    try:
        ray.init(num_cpus=num_cpus, include_dashboard=False, **kwargs)
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved


def _join(ray: Any, address: str, kwargs: dict[str, Any]) -> None:
    """`ray.init(address=...)` in a thread given `CONNECT_TIMEOUT_S`: a cluster that never answers is an error."""
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
