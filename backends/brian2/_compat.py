"""Optional import of Brian2 (``pip install 'neuroport[brian2]'``).

``import neuroport`` never imports Brian2; the backend calls :func:`brian2`
when it runs, and :func:`available` says why it cannot.
"""

from __future__ import annotations

from neuroport.errors import BackendUnavailableError

INSTALL_HINT = "pip install 'neuroport[brian2]'"
MIN_VERSION = (2, 5)

_CACHE: dict = {}


def _version_tuple(text: str) -> tuple:
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def available() -> tuple[bool, str]:
    """``(True, "")`` when a usable Brian2 is importable, else ``(False, reason)``."""
    if "status" in _CACHE:
        return _CACHE["status"]
    try:
        import brian2  # noqa: F401
    except Exception as exc:  # ImportError, or a broken install raising anything
        status = (False, f"brian2 is not importable ({type(exc).__name__}: {exc})")
    else:
        version = getattr(brian2, "__version__", "0")
        if _version_tuple(version) < MIN_VERSION:
            status = (False, f"brian2 {version} is too old; need >= {'.'.join(map(str, MIN_VERSION))}")
        else:
            status = (True, "")
    _CACHE["status"] = status
    return status


def brian2():
    """The ``brian2`` module, or :class:`BackendUnavailableError` with the install hint."""
    ok, reason = available()
    if not ok:
        raise BackendUnavailableError(f"backend 'brian2' is unavailable: {reason}. Install hint: {INSTALL_HINT}")
    import brian2 as b2

    return b2
