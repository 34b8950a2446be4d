"""The optional ``lava`` import, and why a Lava mode cannot run here.

``import neuroport`` never imports Lava. The Lava backends call
:func:`lava_reason` (cheap after the first call) from ``available()`` and
:func:`require_lava` from ``run``. Nothing in this module raises on import.
"""

from __future__ import annotations

import functools

from neuroport.backend import python_version_reason

INSTALL_HINT = "pip install 'lava-nc==0.10.*' (Python 3.8-3.10)"
LOIHI_HINT = (
    "Loihi 2 needs Intel's lava-loihi extension, which Intel distributes only to members "
    "of the Intel Neuromorphic Research Community (INRC), and access to a Loihi 2 system"
)


def _allow_lava_fork() -> None:
    """Let Lava's import-time ``set_start_method("fork")`` succeed when the default (fork) context was
    already fixed by someone else (tqdm's first progress bar does it, through a multiprocessing lock).

    Only the already-chosen 'fork' context is reset; another start method is left alone and the
    import failure is reported as the reason.
    """
    import multiprocessing as mp
    import sys as _sys

    if "lava.magma.runtime.message_infrastructure.multiprocessing" in _sys.modules:
        return
    if mp.get_start_method(allow_none=True) == "fork":
        mp.set_start_method(None, force=True)


@functools.lru_cache(maxsize=None)
def lava_reason() -> str | None:
    """``None`` when lava-nc can be imported here, else the reason why not.

    Lava's multiprocessing module calls ``multiprocessing.set_start_method("fork")``
    on import, which raises ``RuntimeError`` when something imported before it
    already fixed another start method: that, like every other import failure,
    is reported here rather than raised.
    """
    reason = python_version_reason()
    if reason is not None:
        return reason
    _allow_lava_fork()
    try:
        import lava  # noqa: F401
        from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: F401
        from lava.proc.dense.process import Dense  # noqa: F401
        from lava.proc.lif.process import LIF  # noqa: F401
    except ImportError as exc:
        return f"lava-nc is not installed ({exc})"
    except Exception as exc:  # lava's own import-time failures (start method, numpy ABI)
        return f"lava-nc failed to import ({type(exc).__name__}: {exc})"
    return None


@functools.lru_cache(maxsize=None)
def loihi_reason() -> str | None:
    """``None`` when lava-loihi (the chip runtime) is installed, else the reason why not."""
    reason = lava_reason()
    if reason is not None:
        return reason
    try:
        from lava.utils import loihi

        installed = bool(loihi.is_installed())
    except Exception as exc:  # never surface Lava's own errors from available()
        return f"could not check for lava-loihi ({type(exc).__name__}: {exc}); {LOIHI_HINT}"
    if not installed:
        return f"lava-loihi is not installed: {LOIHI_HINT}"
    return None


def lava_version() -> str:
    """Installed lava-nc version, or ``"unknown"``."""
    from importlib import metadata

    try:
        return metadata.version("lava-nc")
    except metadata.PackageNotFoundError:
        return "unknown"
