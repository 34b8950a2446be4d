"""Optional import of NEST (``pip install 'neuroport[nest]'``, the PyPI wheel ``nest-simulator``).

``import neuroport`` never imports NEST; the backend calls :func:`nest` when it
runs, and :func:`available` says why it cannot. NEST prints a banner and
kernel messages on import and on every call: the import sets
``PYNEST_QUIET=1`` first and the verbosity is lowered to errors only.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings

from neuroport.errors import BackendUnavailableError

INSTALL_HINT = "pip install 'neuroport[nest]'  (the PyPI wheel nest-simulator, Linux and macOS)"
MIN_VERSION = (3, 6)

_CACHE: dict = {}


def _version_tuple(text: str) -> tuple:
    parts = []
    for piece in str(text).split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _import():
    os.environ.setdefault("PYNEST_QUIET", "1")
    with contextlib.redirect_stdout(io.StringIO()):
        import nest  # noqa: F401
    quiet(nest)
    return nest


def quiet(nest) -> None:
    """Lower NEST's kernel messages to errors only (on NEST 3.10 and on older 3.x)."""
    level = getattr(nest, "VerbosityLevel", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if level is not None and hasattr(level, "ERROR"):
            try:
                nest.verbosity = level.ERROR
                return
            except Exception:  # noqa: BLE001 - an older API: fall back below
                pass
        nest.set_verbosity("M_ERROR")


def available() -> tuple[bool, str]:
    """``(True, "")`` when a usable NEST is importable, else ``(False, reason)``."""
    if "status" in _CACHE:
        return _CACHE["status"]
    try:
        nest = _import()
    except Exception as exc:  # ImportError, or a broken install raising anything
        status = (False, f"nest is not importable ({type(exc).__name__}: {exc})")
    else:
        version = getattr(nest, "__version__", "0")
        if _version_tuple(version) < MIN_VERSION:
            status = (False, f"nest {version} is too old; need >= {'.'.join(map(str, MIN_VERSION))}")
        else:
            status = (True, "")
    _CACHE["status"] = status
    return status


def nest():
    """The ``nest`` module, or :class:`BackendUnavailableError` with the install hint."""
    ok, reason = available()
    if not ok:
        raise BackendUnavailableError(f"backend 'nest' is unavailable: {reason}. Install hint: {INSTALL_HINT}")
    return _import()


def have_mpi(nest_module) -> bool:
    """Whether this NEST was built with MPI (the PyPI wheel is not)."""
    info = getattr(nest_module, "build_info", None)
    if isinstance(info, dict):
        return bool(info.get("have_mpi", False))
    try:
        return bool(nest_module.ll_api.sli_func("statusdict/have_mpi ::"))
    except Exception:  # noqa: BLE001 - unknown API: assume none
        return False
