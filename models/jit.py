"""numba, when it imports: the decorator the compiled kernels are written with, and the engine switch.

The kernels (``kernel`` sections of :mod:`neuroport.models.arithmetic`,
:mod:`neuroport.models.base` and each model file) are plain Python
functions of scalars and arrays decorated with :func:`njit`. With numba
installed they compile on first use (``cache=True``: once per machine, kept
next to the source in ``__pycache__``); without it they stay Python
functions, and the engines run their numpy reference path instead
(:func:`engine_path` says which one runs).

Switch: ``engine="numpy"`` or ``"compiled"`` (``Simulator``, ``neuroport.run``,
the numpy backends), or the environment variable ``NEUROPORT_ENGINE``;
default :data:`DEFAULT` (``"numpy"``). ``NEUROPORT_THREADS`` (or
:func:`set_threads`) sets numba's thread count; kernels are single-threaded
unless a kernel says otherwise (measured on a shared 2-core machine, a
thread pool cost more than it gained).

numba's on-disk cache is keyed by the file of the function it compiled: a
kernel that calls a helper of another file (every model kernel calls
``base.k_spike`` and the helpers of ``arithmetic.py``) is not recompiled when
only that helper changes. After editing a helper, delete the cache
(``find . -name '*.nbi' -o -name '*.nbc' | xargs rm``) before measuring or
testing.
"""

from __future__ import annotations

import os

from neuroport.errors import BackendUnavailableError, ParameterError

try:  # pragma: no cover - depends on the environment
    import numba as _numba

    AVAILABLE = True
    REASON = ""
except Exception as exc:  # pragma: no cover
    _numba = None
    AVAILABLE = False
    REASON = f"numba does not import ({type(exc).__name__}: {exc})"

ENGINES = ("numpy", "compiled")
#: The path without a choice: ``"numpy"`` for now. Measured on the shared 2-core machine
#: (benchmarks/bench_engines.py, COBA), the per-population kernels are not yet faster than the
#: vectorised numpy step (scalar, branchy loops vs numpy's SIMD passes); see the issue's note.
DEFAULT = "numpy"
ENV = "NEUROPORT_ENGINE"


def njit(fn=None, *, inline: bool = False):
    """``numba.njit(cache=True)`` (no fastmath: the float kernels round as numpy does); the function
    itself when numba is missing. ``inline=True``: a per-neuron helper, inlined into its callers."""
    if fn is None:
        return lambda f: njit(f, inline=inline)
    if not AVAILABLE:
        return fn
    return _numba.njit(cache=True, inline="always" if inline else "never")(fn)


def engine_path(requested: str | None = None) -> str:
    """The engine path that runs: ``requested``, else ``$NEUROPORT_ENGINE``, else :data:`DEFAULT`.

    Raises
    ------
    ParameterError
        For a name other than ``"numpy"`` / ``"compiled"``.
    BackendUnavailableError
        For ``"compiled"`` asked for explicitly without numba.
    """
    explicit = requested is not None
    name = requested if explicit else os.environ.get(ENV, "").strip() or None
    if name is None:
        return DEFAULT
    if name not in ENGINES:
        source = "engine" if explicit else f"${ENV}"
        raise ParameterError(f"{source}={name!r}: expected one of {', '.join(ENGINES)}")
    if name == "compiled" and not AVAILABLE:
        raise BackendUnavailableError(f"engine='compiled' needs numba: {REASON}; install it (pip install numba) "
                                      "or use engine='numpy'")
    return name


def set_threads(n: int) -> None:
    """numba's thread count for kernels that use threads (default: ``$NEUROPORT_THREADS`` or numba's)."""
    if AVAILABLE:
        _numba.set_num_threads(int(n))


if AVAILABLE and os.environ.get("NEUROPORT_THREADS"):  # pragma: no cover
    set_threads(int(os.environ["NEUROPORT_THREADS"]))
