"""Atomic file writes: a failed write leaves the old file intact, a finished one has normal permissions."""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import time
from contextlib import contextmanager

STALE_S = 3600.0  # a temp file of ours untouched this long belongs to a killed writer


def _mode_for(path: str) -> int:
    """The mode of the file being replaced, or what ``open(path, "w")`` would create (0666 & ~umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def atomic_target(path, *, suffix: str = ".tmp"):
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary file gets the permissions a plain write would give (not
    ``mkstemp``'s 0600); on any error it is removed and ``path`` is untouched.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "x.txt")
    >>> with atomic_target(target) as tmp:
    ...     _ = open(tmp, "w").write("done")
    >>> open(target).read()
    'done'
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    remove_stale(path, suffix)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.{os.getpid()}.", suffix=suffix, dir=directory)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale(path, suffix: str = ".tmp", *, older_than_s: float = STALE_S) -> list:
    """Delete temp files of :func:`atomic_target`'s own pattern for ``path`` left by a killed writer.

    The pattern is ``.<basename>.<writer pid>.<8 random chars><suffix>`` beside
    ``path``; a file is removed when its writer process is gone (SIGKILL,
    power loss) or it has not been modified for ``older_than_s`` seconds (a
    pid reused since). Returns the removed paths.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(re.escape("." + os.path.basename(path) + ".") + r"(\d+)\.[A-Za-z0-9_]{8}"
                         + re.escape(suffix) + "$")
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        m = pattern.match(name)
        if not m:
            continue
        full = os.path.join(directory, name)
        try:
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode) and (not _alive(int(m.group(1))) or now - st.st_mtime > older_than_s):
                os.unlink(full)
                removed.append(full)
        except OSError:
            pass
    return removed


def write_json(path, obj, *, indent: int = 2) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (:func:`atomic_target`)."""
    with atomic_target(path, suffix=".json.tmp") as tmp:
        with open(tmp, "w") as fh:
            json.dump(obj, fh, indent=indent)
