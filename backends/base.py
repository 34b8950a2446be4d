"""Backend interface, registry and the common :class:`Result`.

Backends are plugins found through the entry-point group
``neuroport.backends`` (the in-tree ones too, so that a third party plugs in
the same way). Each entry point is named by the *mode* it offers (``numpy``,
``numpy-fixed``, ``lava``, ``lava-fixed``, ``loihi2``, ``brian2``) and points
to a :class:`Backend` subclass.

Every backend declares the **level** of Program it consumes:

``nir``       continuous-time parameters from ``program.graph`` (Brian2)
``discrete``  a float Program from :func:`neuroport.compile`
``fixed``     an integer Program from :func:`neuroport.quantize`
"""

from __future__ import annotations

import abc
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Iterable, Mapping

import numpy as np

from neuroport.errors import BackendUnavailableError, InputError, UnknownBackendError

LEVELS = ("nir", "discrete", "fixed")
ENTRY_POINT_GROUP = "neuroport.backends"


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class SpikeTrain:
    """Spikes of one population, stored compactly as (step, neuron) pairs.

    Attributes
    ----------
    steps : numpy.ndarray of int64, shape (n_spikes,)
        Time step of each spike (0-based), sorted ascending.
    neurons : numpy.ndarray of int64, shape (n_spikes,)
        Neuron index of each spike.
    size : int
        Number of neurons in the population.
    num_steps : int
        Length of the run in steps.
    """

    steps: np.ndarray
    neurons: np.ndarray
    size: int
    num_steps: int

    @classmethod
    def from_dense(cls, spikes: np.ndarray) -> "SpikeTrain":
        """From a boolean array of shape ``(num_steps, size)``."""
        spikes = np.asarray(spikes)
        steps, neurons = np.nonzero(spikes)
        return cls(steps.astype(np.int64), neurons.astype(np.int64), spikes.shape[1], spikes.shape[0])

    def to_dense(self) -> np.ndarray:
        """Boolean array of shape ``(num_steps, size)``."""
        out = np.zeros((self.num_steps, self.size), dtype=bool)
        out[self.steps, self.neurons] = True
        return out

    @property
    def count(self) -> int:
        return int(self.steps.size)

    def counts(self) -> np.ndarray:
        """Spike count per neuron, shape ``(size,)``."""
        return np.bincount(self.neurons, minlength=self.size)

    def times_of(self, neuron: int) -> np.ndarray:
        """Steps at which ``neuron`` spiked, ascending."""
        return self.steps[self.neurons == neuron]

    def rate_hz(self, dt: float) -> float:
        """Mean firing rate per neuron in Hz over the run (``dt`` in s)."""
        if self.size == 0 or self.num_steps == 0:
            return 0.0
        return self.count / (self.size * self.num_steps * dt)


@dataclass
class Result:
    """What a backend returns from a run.

    Attributes
    ----------
    backend : str
        Mode that produced it (``"numpy"``, ``"lava-fixed"``...).
    dt : float
        Time step in s.
    num_steps : int
    spikes : dict[str, SpikeTrain]
        Per population (inputs included).
    states : dict[str, dict[str, numpy.ndarray]]
        Probed states: population -> variable -> array ``(num_steps, size)``,
        in the model's units (``v`` in the graph's voltage units; in fixed
        runs, integers).
    weights : dict[str, Any]
        Final weights of plastic projections (CSR), by projection name.
    wall_time : float
        Seconds spent in the simulation loop.
    meta : dict
        Backend-specific facts (process count, compile time, options).
    """

    backend: str
    dt: float
    num_steps: int
    spikes: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)
    wall_time: float = 0.0
    meta: dict = field(default_factory=dict)

    def spike_counts(self) -> dict:
        """Total spikes per population."""
        return {name: train.count for name, train in self.spikes.items()}

    def save_npz(self, path) -> None:
        """Write spikes (``spikes/<pop>/steps|neurons``) and states (``states/<pop>/<var>``)
        to a compressed ``.npz`` file, atomically (a failed write keeps the old file)."""
        arrays = {"meta/backend": np.array(self.backend), "meta/dt": np.array(self.dt),
                  "meta/num_steps": np.array(self.num_steps)}
        for pop, train in self.spikes.items():
            arrays[f"spikes/{pop}/steps"] = train.steps
            arrays[f"spikes/{pop}/neurons"] = train.neurons
            arrays[f"spikes/{pop}/size"] = np.array(train.size)
        for pop, variables in self.states.items():
            for var, arr in variables.items():
                arrays[f"states/{pop}/{var}"] = arr
        from neuroport.fileutil import atomic_target

        with atomic_target(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as handle:
                np.savez_compressed(handle, **arrays)

    @classmethod
    def load_npz(cls, path) -> "Result":
        """Read a file written by :meth:`save_npz`."""
        with np.load(path, allow_pickle=False) as data:
            keys = list(data.keys())
            result = cls(str(data["meta/backend"]), float(data["meta/dt"]), int(data["meta/num_steps"]))
            for key in keys:
                parts = key.split("/")
                if parts[0] == "spikes" and parts[-1] == "steps":
                    pop = "/".join(parts[1:-1])
                    result.spikes[pop] = SpikeTrain(data[key], data[f"spikes/{pop}/neurons"],
                                                    int(data[f"spikes/{pop}/size"]), result.num_steps)
                elif parts[0] == "states":
                    pop, var = "/".join(parts[1:-1]), parts[-1]
                    result.states.setdefault(pop, {})[var] = data[key]
        return result

    def state(self, population: str, variable: str = "v") -> np.ndarray:
        try:
            return self.states[population][variable]
        except KeyError:
            probed = [f"{p}.{v}" for p, vs in self.states.items() for v in vs]
            raise KeyError(
                f"{population}.{variable} was not probed; probed: {', '.join(probed) or 'nothing'}"
            ) from None


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
        raise InputError(f"unknown input(s) {sorted(unknown)}; the network's inputs are {names}")
    out = {}
    for name in names:
        size = program.populations[name].size
        if name not in inputs:
            out[name] = np.zeros((steps, size))
            continue
        arr = np.asarray(inputs[name], dtype=np.float64)
        if arr.ndim == 1 and size == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != size or arr.shape[0] < steps:
            raise InputError(
                f"input {name!r}: expected an array of shape (steps>={steps}, {size}), got {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise InputError(f"input {name!r}: contains NaN or infinite values")
        out[name] = arr[:steps]
    return out


def all_probes(program, probes: Iterable) -> list:
    """Program probes plus extra ones, de-duplicated, validated."""
    result = []
    for pop, var in list(program.probes) + [tuple(p) for p in probes]:
        if pop not in program.populations:
            raise InputError(f"probe {pop}.{var}: no population {pop!r}; populations: {list(program.populations)}")
        if (pop, var) not in result:
            result.append((pop, var))
    return result


# --------------------------------------------------------------------------- registry
_REGISTRY: dict[str, type] = {}
_LOADED = False


def register(name: str, cls: type) -> None:
    """Register a backend class under mode ``name`` (for tests and plugins)."""
    _REGISTRY[name] = cls


def unregister(name: str) -> None:
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
        raise UnknownBackendError(f"unknown backend {name!r}; registered: {', '.join(names())}")
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
    return [n for n, (ok, _) in availability().items() if ok]


def python_version_reason(max_exclusive=(3, 11)) -> str | None:
    """Reason string when this Python is too new for lava-nc, else None."""
    if sys.version_info[:2] >= max_exclusive:
        return (f"lava-nc 0.10 needs Python < {max_exclusive[0]}.{max_exclusive[1]}, "
                f"this is Python {sys.version_info[0]}.{sys.version_info[1]}")
    return None

