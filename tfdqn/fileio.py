"""Atomic file writes: write to a temporary file beside the target, flush it to disk, `os.replace` it into place
and flush the directory entry, so a crash at any moment leaves either the old file or the new one."""

from __future__ import annotations

import glob
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tfdqn.errors import OutputDirError


def atomic_write(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Call `write(tmp_path)` and move the result to `path`; an interruption leaves the old file intact.

    The temporary file keeps the target's suffix (Keras, Matplotlib and NumPy choose a format by it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=path.suffix or ".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


def remove_temporaries(where: str | os.PathLike) -> None:
    """Delete what an `atomic_write` killed mid-write (kill -9, power loss) left behind: of the file `where`, or
    of every file in the folder `where` (a run's folder, which only that run writes)."""
    where = Path(where)
    if where.is_dir():
        folder, pattern = where, ".*.tmp-*"
    else:
        folder, pattern = where.parent, f"{glob.escape(_temporary_prefix(where))}*"
    if folder.is_dir():
        for leftover in folder.glob(pattern):
            if leftover.is_file():
                leftover.unlink(missing_ok=True)


def fsync_dir(directory: str | os.PathLike) -> None:
    """Flush `directory`'s entries (a rename into it) to disk: without it a power loss can undo the rename."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # a platform or file system that cannot open directories: nothing to flush
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself has happened
    finally:
        os.close(handle)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Atomically write `data` as indented JSON."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")

    return atomic_write(path, write)


def check_out_dir(out: Path, flag: str = "--out") -> None:
    """Refuse an output directory the run could not write, before anything expensive: one that is an existing
    file, lies under a file, or whose nearest existing folder refuses a probe file (created and removed at
    once, so nothing is left behind; the folder itself is made later, by the run)."""
    if out.exists() and not out.is_dir():
        raise OutputDirError(f"{flag} {out} is an existing file, not a directory")
    existing = out
    while not existing.exists():  # the nearest existing folder: Path("a").parent is ".", which exists
        existing = existing.parent
    if not existing.is_dir():
        raise OutputDirError(f"{flag} {out} cannot be created: {existing} is a file, not a directory")
    try:
        handle, probe = tempfile.mkstemp(prefix=".tfdqn-write-probe-", dir=existing)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise OutputDirError(f"{flag} {out} cannot be written: {existing}: {exc.strerror or exc}") from None


def check_out_file(path: Path, flag: str = "--out") -> None:
    """Refuse an output file that could not be written, before anything expensive: a path that is a folder, or
    whose folder `check_out_dir` refuses (under a file, or not writable)."""
    if path.is_dir():
        raise OutputDirError(f"{flag} {path} is a directory, not a file")
    check_out_dir(path.parent, flag=f"{flag} {path}: its folder")
