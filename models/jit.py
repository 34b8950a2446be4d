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
default :data:`DEFAULT` (``"compiled"`` where numba imports, else ``"numpy"``). ``NEUROPORT_THREADS`` (or
:func:`set_threads`) sets numba's thread count; kernels are single-threaded
unless a kernel says otherwise (measured on a shared 2-core machine, a
thread pool cost more than it gained).

``$NEUROPORT_WHOLE_RUN=0`` keeps the compiled float engine's per-step path where its whole-run loop
would apply (``backends/compiled.py``).

Cache: numba's on-disk cache is keyed by the file of the function it compiled, so on its own a kernel
that calls a helper of another file (every model kernel calls ``base.k_spike`` and the helpers of
``arithmetic.py``; the whole-run loop calls the model kernels) would load stale machine code after
only that helper changed. :func:`njit` therefore gives each kernel a :class:`VersionedCache`, whose
index key adds :func:`source_key`: a hash of every file kernels and their helpers live in (this
package's ``*.py`` and ``backends/compiled*.py``). Any edit of one of them recompiles every kernel once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

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
#: The path without a choice: ``"compiled"`` where numba imports, else ``"numpy"`` (the reference, which
#: the compiled path equals bit for bit: tests/test_compiled.py). Measured with benchmarks/bench_engines.py
#: (COBA 4k, dt 0.1 ms) the compiled float engine runs at Brian2 cpp_standalone's speed and ~8x the numpy
#: path; a machine's first run compiles the kernels once (numba's on-disk cache, module docstring).
DEFAULT = "compiled" if AVAILABLE else "numpy"
ENV = "NEUROPORT_ENGINE"


def kernel_sources() -> list:
    """The files whose text :func:`source_key` hashes: the kernels' and their helpers' homes."""
    here = Path(__file__).resolve().parent
    return sorted(here.glob("*.py")) + sorted((here.parent / "backends").glob("compiled*.py"))


_SOURCE_KEY = None


def source_key() -> str:
    """sha256 of the text of :func:`kernel_sources` (computed once per process)."""
    global _SOURCE_KEY
    if _SOURCE_KEY is None:
        h = hashlib.sha256()
        for path in kernel_sources():
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        _SOURCE_KEY = h.hexdigest()
    return _SOURCE_KEY


if AVAILABLE:  # pragma: no branch
    from numba.core.caching import FunctionCache as _FunctionCache

    class VersionedCache(_FunctionCache):
        """numba's function cache with :func:`source_key` in its index key (module docstring)."""

        def _index_key(self, sig, codegen):
            return super()._index_key(sig, codegen) + (source_key(),)
else:  # pragma: no cover
    VersionedCache = None


def njit(fn=None, *, inline: bool = False):
    """``numba.njit(cache=True)`` with a :class:`VersionedCache` (no fastmath: the float kernels round as
    numpy does); the function itself when numba is missing. ``inline=True``: a per-neuron helper, inlined
    into its callers (it should take and return scalars: see ``models/base.py``'s kernel section)."""
    if fn is None:
        return lambda f: njit(f, inline=inline)
    if not AVAILABLE:
        return fn
    disp = _numba.njit(cache=True, inline="always" if inline else "never")(fn)
    disp._cache = VersionedCache(fn)
    return disp


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
