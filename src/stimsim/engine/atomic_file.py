"""Files written whole or not at all, keeping the target's permissions.

A writer fills a temporary file beside the target, flushes it to disk and renames it over
the target, so a reader sees the old file or the new one, never a part. The temporary
file is removed on every exit path this process controls; a writer killed outright leaves
one behind, named with its process id, and the next write to the same folder removes the
leftovers of processes that no longer run.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

_SUFFIX = ".tmp"


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old file or the new one, never a part."""
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Let ``write`` fill a temporary file beside ``path``, flush it to disk, rename it over
    ``path``: whole or not at all. If ``write`` raises, ``path`` is untouched.

    The new file keeps the mode of the file it replaces; a new file gets the mode the
    umask gives (as ``open`` would), not the private mode of a temporary file.
    """
    target = Path(path)
    folder = target.parent
    remove_stale_temporaries(target)
    mode = _mode_for(target)
    tmp = folder / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{_SUFFIX}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)


def temporaries_of(target: Path) -> list[Path]:
    """The temporary files that writers of ``target`` leave while they run."""
    prefix = f".{target.name}."
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    return [target.parent / n for n in names if n.startswith(prefix) and n.endswith(_SUFFIX)]


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove temporary files of ``target`` whose writing process no longer runs."""
    removed = []
    for tmp in temporaries_of(target):
        pid_text = tmp.name[len(target.name) + 2:].split(".", 1)[0]
        if not pid_text.isdigit() or _running(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
