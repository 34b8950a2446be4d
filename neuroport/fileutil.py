"""Atomic file writes: a failed write leaves the old file intact, a finished one has normal permissions."""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager


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
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=suffix, dir=directory)
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
