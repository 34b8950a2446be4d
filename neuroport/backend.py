"""Backend interface, registry and the checks every run shares.

Backends are plugins found through the entry-point group
``neuroport.backends`` (the in-tree ones too, so that a third party plugs in
the same way). Each entry point is named by the *mode* it offers (``numpy``,
``numpy-fixed``, ``lava``, ``lava-fixed``, ``loihi2``, ``brian2``) and points
to a :class:`Backend` subclass. The registry loads them lazily through
:mod:`importlib.metadata`, so this core module never imports
``neuroport.backends``: the core reaches a backend by name
(``neuroport.backend.get("numpy")``), backends import this module.
``neuroport.backends`` and ``neuroport.backends.base`` re-export these names
for older imports.

Every backend declares the **level** of Program it consumes:

``nir``       continuous-time parameters from ``program.graph`` (Brian2)
``discrete``  a float Program from :func:`neuroport.compile`
``fixed``     an integer Program from :func:`neuroport.quantize`

Examples
--------
>>> from neuroport import backend
>>> "numpy" in backend.names()
True
>>> backend.get("numpy").level
'discrete'
"""

from __future__ import annotations

import abc
import sys
from importlib import metadata
from typing import Iterable, Mapping

import numpy as np

from neuroport.errors import BackendUnavailableError, InputError, UnknownBackendError
from neuroport.naming import did_you_mean, probe_list
from neuroport.result import Result

__all__ = ["LEVELS", "ENTRY_POINT_GROUP", "Backend", "normalize_inputs", "check_steps", "all_probes", "register",
           "unregister", "names", "get", "availability", "available_names", "python_version_reason"]

LEVELS = ("nir", "discrete", "fixed")
ENTRY_POINT_GROUP = "neuroport.backends"


# --------------------------------------------------------------------------- interface
class Backend(abc.ABC):
    """A way to run a Program. Subclasses set ``name``, ``level`` and ``install_hint``."""

    name: str = ""
    level: str = "discrete"
    install_hint: str = ""
    #: timing modes this backend supports
    timings: tuple = ("hardware", "ideal")

    def available(self) -> tuple[bool, str]:
        """``(True, "")`` when runnable here, else ``(False, reason)``."""
        return True, ""

    def require_available(self) -> None:
        ok, reason = self.available()
        if not ok:
            hint = f" Install hint: {self.install_hint}" if self.install_hint else ""
            raise BackendUnavailableError(f"backend {self.name!r} is unavailable: {reason}.{hint}")

    @abc.abstractmethod
    def run(self, program, *, steps: int, inputs=None, probes: Iterable = (),
            progress: bool | None = None, seed: int = 0) -> Result:
        """Run ``program`` for ``steps`` steps.

        Parameters
        ----------
        program : Program
            Of this backend's level (``neuroport.run`` converts for you).
        steps : int
            Number of time steps.
        inputs : numpy.ndarray or dict[str, numpy.ndarray], optional
            Per input population an array ``(steps, size)`` (spikes as 0/1
            or graded values). A single array is accepted when the Program
            has exactly one input.
        probes : iterable of (population, variable)
            States to record in addition to ``program.probes``.
        progress : bool or None
            Show a progress bar (``None``: only on a terminal for long runs).
        seed : int
            Seed for any randomness inside the backend.
        """


def normalize_inputs(program, inputs, steps: int) -> dict:
    """Check and convert run inputs to ``{input_name: float64 array (steps, size)}``.

    Raises :class:`InputError` naming the input and the expected shape.
    """
    names = list(program.inputs)
    if inputs is None:
        inputs = {}
    elif not isinstance(inputs, Mapping):
        if len(names) != 1:
            raise InputError(
                f"the network has {len(names)} inputs ({', '.join(names) or 'none'}); "
                "pass a dict {input_name: array(steps, size)}"
            )
        inputs = {names[0]: inputs}
    unknown = set(inputs) - set(names)
    if unknown:
        hints = "".join(did_you_mean(u, names, count=1) for u in sorted(unknown)[:3])
        raise InputError(f"unknown input(s) {sorted(unknown)}{hints}; the network's inputs are {names}")
    out = {}
    for name in names:
        size = program.populations[name].size
        if name not in inputs:
            out[name] = np.zeros((steps, size))
            continue
        arr = np.asarray(inputs[name], dtype=np.float64)
        if arr.ndim == 1 and size == 1:
            arr = arr[:, None]
        if arr.ndim == 3:
            raise InputError(f"input {name!r}: a batched array (steps, B, {size}) goes through neuroport.run "
                             f"(or this backend's run when it batches); this call takes (steps>={steps}, {size}), "
                             f"got {arr.shape}")
        if arr.ndim != 2 or arr.shape[1] != size or arr.shape[0] < steps:
            raise InputError(
                f"input {name!r}: expected an array of shape (steps>={steps}, {size}), got {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise InputError(f"input {name!r}: contains NaN or infinite values")
        out[name] = arr[:steps]
    return out


def check_steps(steps) -> int:
    """``steps`` as a positive ``int``; the same check for every backend and :class:`neuroport.Simulator`.

    Parameters
    ----------
    steps : int-like
        Number of time steps of a run.

    Returns
    -------
    int

    Raises
    ------
    InputError
        For anything that is not a positive integer (``0``, ``2.5``, ``"10"``).

    Examples
    --------
    >>> check_steps(10)
    10
    """
    try:
        value = int(steps)
    except (TypeError, ValueError):
        raise InputError(f"steps: expected a positive integer, got {steps!r}") from None
    if value != steps or value <= 0:
        raise InputError(f"steps: expected a positive integer, got {steps!r}")
    return value


def all_probes(program, probes: Iterable) -> list:
    """Program probes plus extra ones (``"pop.var"`` or pairs), de-duplicated, validated."""
    result = []
    for pop, var in list(program.probes) + probe_list(probes):
        if pop not in program.populations:
            raise InputError(f"probe {pop}.{var}: no population {pop!r}{did_you_mean(pop, program.populations)}; "
                             f"populations: {list(program.populations)}")
        if (pop, var) not in result:
            result.append((pop, var))
    return result


# --------------------------------------------------------------------------- registry
_REGISTRY: dict[str, type] = {}
_LOADED = False


def register(name: str, cls: type) -> None:
    """Register a backend class under mode ``name`` (for tests and plugins).

    Parameters
    ----------
    name : str
        The mode it answers to in :func:`get`.
    cls : type
        A :class:`Backend` subclass (instantiated on every :func:`get`).
    """
    _REGISTRY[name] = cls


def unregister(name: str) -> None:
    """Remove mode ``name`` from the registry (no error if it is not registered)."""
    _REGISTRY.pop(name, None)


def _entry_points():
    eps = metadata.entry_points()
    if hasattr(eps, "select"):
        return list(eps.select(group=ENTRY_POINT_GROUP))
    return list(eps.get(ENTRY_POINT_GROUP, []))  # pragma: no cover (py<3.10)


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    for ep in _entry_points():
        if ep.name in _REGISTRY:
            continue
        try:
            _REGISTRY[ep.name] = ep.load()
        except Exception as exc:  # a broken plugin must not break neuroport
            _REGISTRY[ep.name] = _broken_backend(ep.name, f"{type(exc).__name__}: {exc}")
    _LOADED = True


def _broken_backend(name: str, reason: str) -> type:
    class Broken(Backend):
        def available(self):
            return False, f"its plugin failed to load ({reason})"

        def run(self, program, **kwargs):
            self.require_available()

    Broken.name = name
    return Broken


def names() -> list:
    """All registered backend modes, in a stable order."""
    _load()
    order = ["numpy", "numpy-fixed", "lava", "lava-fixed", "loihi2", "brian2"]
    return sorted(_REGISTRY, key=lambda n: (order.index(n) if n in order else len(order), n))


def get(name: str) -> Backend:
    """The backend instance for mode ``name``.

    Raises
    ------
    UnknownBackendError
        (also a ``KeyError``) naming the registered modes.
    """
    _load()
    if name not in _REGISTRY:
        hint = did_you_mean(name, names()).strip(" ()")
        raise UnknownBackendError(f"unknown backend {name!r}; registered: {', '.join(names())}"
                                  + (f"; {hint}" if hint else ""))
    return _REGISTRY[name]()


def availability() -> dict:
    """``{mode: (available, reason)}`` for every registered backend."""
    out = {}
    for n in names():
        try:
            out[n] = get(n).available()
        except Exception as exc:  # report, never crash a listing
            out[n] = (False, f"{type(exc).__name__}: {exc}")
    return out


def available_names() -> list:
    """The modes whose :meth:`Backend.available` says they can run here, in :func:`names` order."""
    return [n for n, (ok, _) in availability().items() if ok]


def python_version_reason(max_exclusive=(3, 11)) -> str | None:
    """Reason string when this Python is too new for lava-nc, else None."""
    if sys.version_info[:2] >= max_exclusive:
        return (f"lava-nc 0.10 needs Python < {max_exclusive[0]}.{max_exclusive[1]}, "
                f"this is Python {sys.version_info[0]}.{sys.version_info[1]}")
    return None

