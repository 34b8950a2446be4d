"""No Lava process outlives the process that started it, even when that one is killed.

lava-nc 0.10 (``lava/magma/runtime/message_infrastructure/multiprocessing.py``)
forks one ``SystemProcess`` per process model and one for the runtime service,
and starts a ``multiprocessing.managers.SharedMemoryManager`` server
(``shared_memory_manager.py``) that owns the ``/dev/shm`` segments of every
channel; multiprocessing's resource tracker (a separate process) records those
segments. Lava stops them only from ``runtime.stop()``. A SIGTERM or SIGKILL of
the parent therefore left all of them blocked for ever, holding the segments.

Two hooks, installed by :func:`install` (idempotent) before each Lava runtime
is created; nothing in the installed package is edited:

* ``SystemProcess.run`` and the shared-memory manager's server start (through
  the ``initializer`` that ``multiprocessing.managers.BaseManager.start``
  takes) first call :func:`die_with_parent`: ``prctl(PR_SET_PDEATHSIG,
  SIGKILL)`` through ctypes (Linux), then exit at once if the parent is
  already gone. When the parent dies by any signal, the kernel kills them. The
  resource tracker then sees its last writer close and unlinks the segments
  it recorded (it is how multiprocessing cleans up leaked shared memory).
* :func:`sigterm_guard` (used around each run by
  :mod:`neuroport.backends.lava.backend`) turns a SIGTERM that arrives in the
  main thread into an exception, so the run's ``finally`` stops the runtime
  (``runtime.stop()``, which also shuts the manager down and unlinks the
  segments); the previous SIGTERM disposition is then restored and the signal
  delivered again (a default disposition ends the process by SIGTERM, as it
  would have without the guard).

On platforms without ``prctl`` the first hook is a no-op (a watchdog on the
parent pid is not started); the SIGTERM guard works wherever signals do.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1
_INSTALLED = False


def die_with_parent(parent_pid: int | None = None) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies; exit now if it already has."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: nothing to hook
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)  # the parent died between fork and prctl


def install() -> None:
    """Hook Lava's worker and shared-memory-manager start (once per process)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from lava.magma.runtime.message_infrastructure import multiprocessing as lava_mp
    from lava.magma.runtime.message_infrastructure import shared_memory_manager as lava_smm

    run = lava_mp.SystemProcess.run

    @functools.wraps(run)
    def run_dying_with_parent(self):
        die_with_parent(getattr(self, "_parent_pid", None))
        return run(self)

    def start_dying_with_parent(self) -> None:
        self._manager.start(initializer=functools.partial(die_with_parent, os.getpid()))

    lava_mp.SystemProcess.run = run_dying_with_parent
    lava_smm.SharedMemoryManager.start = start_dying_with_parent
    _INSTALLED = True


class Terminated(BaseException):
    """A SIGTERM arrived during a Lava run (a BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` swallows it)."""


@contextlib.contextmanager
def sigterm_guard():
    """Within: SIGTERM raises :class:`Terminated` in the main thread; after the block has cleaned up,
    the previous disposition is restored and the signal is delivered again."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_IGN, None):
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except Terminated:
        signal.signal(signal.SIGTERM, previous)
        if callable(previous):
            previous(signal.SIGTERM, None)
        else:  # SIG_DFL: end as the signal would have
            os.kill(os.getpid(), signal.SIGTERM)
        raise
    finally:
        if signal.getsignal(signal.SIGTERM) is handler:
            signal.signal(signal.SIGTERM, previous)
