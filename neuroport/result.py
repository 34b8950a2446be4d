"""What a run returns: :class:`SpikeTrain` and :class:`Result`.

Every backend (``neuroport.backends.*``) builds these, and the core
(:mod:`neuroport.compare`, :mod:`neuroport.plot`, :class:`neuroport.Simulator`)
reads them; they live in the core so that neither has to import a backend.
``neuroport.backends.base`` re-exports both names for older imports.

Examples
--------
>>> import numpy as np
>>> from neuroport.result import SpikeTrain
>>> train = SpikeTrain.from_dense(np.array([[True, False], [False, True], [True, False]]))
>>> train.count, train.counts().tolist(), train.times_of(0).tolist()
(3, [2, 1], [0, 2])
"""

from __future__ import annotations

import json

from dataclasses import dataclass, field

import numpy as np

from neuroport.errors import UnknownNameError
from neuroport.fileutil import atomic_target
from neuroport.naming import KeyedByName, did_you_mean, parse_probe

__all__ = ["SpikeTrain", "BatchSpikeTrain", "Result", "require_unbatched"]


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


@dataclass(frozen=True)
class BatchSpikeTrain(SpikeTrain):
    """Spikes of one population in a batch of ``batch`` independent samples (a batched run).

    As :class:`SpikeTrain` plus the sample of each spike; ``steps``, ``neurons`` and ``samples`` are
    sorted by step, then sample, then neuron. :meth:`sample` (or ``train[b]``) is sample ``b``'s own
    :class:`SpikeTrain`; :attr:`count` counts the spikes of all samples.

    Attributes
    ----------
    samples : numpy.ndarray of int64, shape (n_spikes,)
        Sample index (0..batch-1) of each spike.
    batch : int
        Number of samples B.

    Examples
    --------
    >>> import numpy as np
    >>> dense = np.zeros((3, 2, 4), dtype=bool); dense[0, 1, 2] = dense[2, 0, 3] = True   # (steps, B, n)
    >>> train = BatchSpikeTrain.from_dense(dense)
    >>> train.counts().tolist(), train.sample(1).times_of(2).tolist(), train.to_dense().shape
    ([[0, 0, 0, 1], [0, 0, 1, 0]], [0], (3, 2, 4))
    """

    samples: np.ndarray = None
    batch: int = 1

    @classmethod
    def from_dense(cls, spikes: np.ndarray) -> "BatchSpikeTrain":
        """From a boolean array of shape ``(num_steps, batch, size)``."""
        spikes = np.asarray(spikes)
        if spikes.ndim != 3:
            raise ValueError(f"BatchSpikeTrain.from_dense: expected shape (num_steps, batch, size), got {spikes.shape}")
        steps, samples, neurons = np.nonzero(spikes)
        return cls(steps.astype(np.int64), neurons.astype(np.int64), spikes.shape[2], spikes.shape[0],
                   samples.astype(np.int64), spikes.shape[1])

    @classmethod
    def stack(cls, trains) -> "BatchSpikeTrain":
        """One train per sample (:class:`SpikeTrain`, same size and length) as a batched train."""
        trains = list(trains)
        steps = np.concatenate([t.steps for t in trains]).astype(np.int64)
        neurons = np.concatenate([t.neurons for t in trains]).astype(np.int64)
        samples = np.concatenate([np.full(t.steps.size, b, dtype=np.int64) for b, t in enumerate(trains)])
        order = np.lexsort((neurons, samples, steps))  # stable: repeated (multi-spike) entries keep their order
        return cls(steps[order], neurons[order], trains[0].size, trains[0].num_steps, samples[order], len(trains))

    def sample(self, b: int) -> SpikeTrain:
        """Sample ``b``'s spikes as a plain :class:`SpikeTrain`."""
        if not -self.batch <= int(b) < self.batch:
            raise IndexError(f"sample {b}: the batch has {self.batch} samples (0..{self.batch - 1})")
        mask = self.samples == (int(b) % self.batch)
        return SpikeTrain(self.steps[mask], self.neurons[mask], self.size, self.num_steps)

    __getitem__ = sample

    def to_dense(self) -> np.ndarray:
        """Boolean array of shape ``(num_steps, batch, size)``."""
        out = np.zeros((self.num_steps, self.batch, self.size), dtype=bool)
        out[self.steps, self.samples, self.neurons] = True
        return out

    def counts(self) -> np.ndarray:
        """Spike count per sample and neuron, shape ``(batch, size)``."""
        flat = np.bincount(self.samples * self.size + self.neurons, minlength=self.batch * self.size)
        return flat.reshape(self.batch, self.size)

    def times_of(self, neuron: int, sample: int | None = None) -> np.ndarray:
        """Steps at which ``neuron`` of ``sample`` spiked, ascending (``sample`` is required in a batch)."""
        if sample is None:
            raise ValueError("times_of on a batched train: give sample=b (or use train.sample(b).times_of(neuron))")
        return self.sample(sample).times_of(neuron)

    def rate_hz(self, dt: float) -> float:
        """Mean firing rate per neuron and sample in Hz (``dt`` in s)."""
        if self.size == 0 or self.num_steps == 0 or self.batch == 0:
            return 0.0
        return self.count / (self.size * self.num_steps * dt * self.batch)


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
    batch : int or None
        Number of samples B of a batched run (inputs ``(steps, B, n)``, :mod:`neuroport.batch`), else None.
        In a batched Result, ``spikes`` holds :class:`BatchSpikeTrain` and probed states are
        ``(num_steps, B, size)``; :meth:`sample` gives one sample's own Result.

    ``result["exc.v"]`` is the probed state ``exc.v`` (``(num_steps, size)``),
    ``result["exc"]`` the SpikeTrain of ``exc``; an unknown name raises
    :class:`~neuroport.errors.UnknownNameError` (a ``KeyError``) with the
    closest names. ``print(result)`` gives a short summary.

    Examples
    --------
    >>> import numpy as np
    >>> r = Result("numpy", 1e-3, 4, {"exc": SpikeTrain.from_dense(np.eye(4, 2, dtype=bool))},
    ...            {"exc": {"v": np.zeros((4, 2))}})
    >>> r["exc.v"].shape, r["exc"].count
    ((4, 2), 2)
    >>> print(r)
    Result: backend numpy, dt 1 ms, 4 steps (4 ms), wall time 0.000 s
      population   neurons   spikes  rate (Hz)
      exc                2        2     250.00
      probes: exc.v (4, 2)
    """

    backend: str
    dt: float
    num_steps: int
    spikes: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)
    wall_time: float = 0.0
    meta: dict = field(default_factory=dict)
    batch: int | None = None

    def __post_init__(self):
        self.spikes = KeyedByName(self.spikes, kind="population")

    @property
    def probes(self) -> dict:
        """Probed states by name: ``{"exc.v": array (num_steps, size)}`` (``(num_steps, B, size)`` in a batch)."""
        return {f"{pop}.{var}": arr for pop, variables in self.states.items() for var, arr in variables.items()}

    def __getitem__(self, name: str):
        """The probed state ``"pop.var"`` (array ``(num_steps, size)``) or the SpikeTrain of population ``"pop"``."""
        if not isinstance(name, str):
            raise UnknownNameError(f"Result[{name!r}]: expected a probe name 'POPULATION.VARIABLE' or a population name")
        probes = self.probes
        if name in probes:
            return probes[name]
        if name in self.spikes:
            return self.spikes[name]
        known = list(probes) + list(self.spikes)
        raise UnknownNameError(f"{name!r} is neither a probe nor a population of this result"
                               f"{did_you_mean(name, known)}; probes: {', '.join(probes) or 'none'}; "
                               f"populations: {', '.join(self.spikes) or 'none'}")

    def sample(self, b: int) -> "Result":
        """Sample ``b`` of a batched Result as an unbatched Result (spikes, states ``(num_steps, size)``, weights).

        Raises :class:`~neuroport.errors.InputError` on an unbatched Result or for ``b`` outside the batch.

        Examples
        --------
        >>> import numpy as np, neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(1, name="x")
        >>> y = net.population(1, neuroport.LIF(tau=0.01, v_threshold=0.5), name="y")
        >>> _ = net.connect(x, y, weight=20.0)
        >>> drive = np.zeros((6, 2, 1))
        >>> drive[:, 0] = 1.0                       # sample 0 driven on every step, sample 1 silent
        >>> batched = neuroport.run(net, dt=1e-3, steps=6, inputs={"x": drive})
        >>> batched.batch, batched.spikes["y"].counts().ravel().tolist()
        (2, [5, 0])
        >>> one = batched.sample(0)
        >>> one.batch is None, one["y"].count, batched.sample(1)["y"].count
        (True, 5, 0)
        """
        from neuroport.errors import InputError

        if self.batch is None:
            raise InputError("sample(b): this Result is not batched (its inputs had no batch axis)")
        if not -self.batch <= int(b) < self.batch:
            raise InputError(f"sample({b}): the batch has {self.batch} samples (0..{self.batch - 1})")
        b = int(b) % self.batch
        weights = {k: (v[b] if isinstance(v, list) else v) for k, v in self.weights.items()}
        meta = {k: v for k, v in self.meta.items() if k != "batch_path"}
        return Result(self.backend, self.dt, self.num_steps, {n: t.sample(b) for n, t in self.spikes.items()},
                      {p: {v: a[:, b] for v, a in vs.items()} for p, vs in self.states.items()}, weights,
                      self.wall_time, {**meta, "batch_sample": b})

    @classmethod
    def stack(cls, results, *, meta: dict | None = None) -> "Result":
        """Unbatched Results of the same run shape (one per sample) as one batched Result.

        Spikes become :class:`BatchSpikeTrain`, states ``(num_steps, B, size)``, learned weights a list
        per projection (one entry per sample); wall times add up; ``meta`` is the first's plus ``meta``.

        Examples
        --------
        >>> import numpy as np, neuroport
        >>> from neuroport.result import Result
        >>> net = neuroport.Network()
        >>> x = net.input(1, name="x")
        >>> y = net.population(1, neuroport.LIF(tau=0.01, v_threshold=0.5), name="y")
        >>> _ = net.connect(x, y, weight=20.0)
        >>> runs = [neuroport.run(net, dt=1e-3, steps=6, inputs={"x": np.full((6, 1), level)}, probes=["y.v"])
        ...         for level in (1.0, 0.0)]
        >>> both = Result.stack(runs)
        >>> both.batch, both["y.v"].shape, both.spikes["y"].counts().ravel().tolist()
        (2, (6, 2, 1), [5, 0])
        >>> bool(np.array_equal(both.sample(0)["y.v"], runs[0]["y.v"]))
        True
        """
        results = list(results)
        first = results[0]
        spikes = {name: BatchSpikeTrain.stack([r.spikes[name] for r in results]) for name in first.spikes}
        states = {p: {v: np.stack([r.states[p][v] for r in results], axis=1) for v in vs}
                  for p, vs in first.states.items()}
        weights = {name: [r.weights[name] for r in results] for name in first.weights}
        return cls(first.backend, first.dt, first.num_steps, spikes, states, weights,
                   float(sum(r.wall_time for r in results)), {**first.meta, **(meta or {})}, batch=len(results))

    def __contains__(self, name) -> bool:
        return name in self.spikes or name in self.probes

    def summary(self) -> str:
        """A few lines: backend, dt, steps, spikes and rate per population, probes with their shapes.

        Examples
        --------
        >>> import numpy as np, neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(1, name="x")
        >>> y = net.population(2, neuroport.LIF(tau=0.01, v_threshold=0.5), name="y")
        >>> _ = net.connect(x, y, weight=np.array([[20.0], [0.0]]))          # neuron 1 gets no input
        >>> result = neuroport.run(net, dt=1e-3, steps=20, inputs=np.ones((20, 1)), probes=["y.v"])

        >>> print(result.summary())
        Result: backend numpy, dt 1 ms, 20 steps (20 ms), wall time ... s
          population   neurons   spikes  rate (Hz)
          x                  1       20    1000.00
          y                  2       19     475.00
          probes: y.v (20, 2)
        """
        from neuroport.duration import format_seconds

        batch = "" if self.batch is None else f", batch of {self.batch} samples"
        lines = [f"Result: backend {self.backend}, dt {format_seconds(self.dt)}, {self.num_steps} steps "
                 f"({format_seconds(self.num_steps * self.dt)}){batch}, wall time {self.wall_time:.3f} s"]
        if self.spikes:
            width = max(10, *(len(n) for n in self.spikes))
            lines.append(f"  {'population':<{width}} {'neurons':>9} {'spikes':>8} {'rate (Hz)':>10}")
            for name, train in self.spikes.items():
                lines.append(f"  {name:<{width}} {train.size:>9} {train.count:>8} {train.rate_hz(self.dt):>10.2f}")
        probes = self.probes
        if probes:
            lines.append("  probes: " + ", ".join(f"{n} {tuple(np.shape(a))}" for n, a in probes.items()))
        if self.weights:
            lines.append("  learned weights: " + ", ".join(map(str, self.weights)))
        return "\n".join(lines)

    __str__ = summary

    def __repr__(self) -> str:
        counts = ", ".join(f"{n}={t.count}" for n, t in self.spikes.items())
        batch = "" if self.batch is None else f" batch={self.batch}"
        return (f"<Result backend={self.backend!r} dt={self.dt:g} num_steps={self.num_steps}{batch} "
                f"spikes[{counts}] probes[{', '.join(self.probes)}]>")

    def spike_counts(self) -> dict:
        """Total spikes per population.

        Examples
        --------
        >>> import numpy as np, neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(1, name="x")
        >>> y = net.population(2, neuroport.LIF(tau=0.01, v_threshold=0.5), name="y")
        >>> _ = net.connect(x, y, weight=np.array([[20.0], [0.0]]))          # neuron 1 gets no input
        >>> result = neuroport.run(net, dt=1e-3, steps=20, inputs=np.ones((20, 1)), probes=["y.v"])

        >>> result.spike_counts()
        {'x': 20, 'y': 19}
        >>> result["y"].counts().tolist()                                    # per neuron
        [19, 0]
        """
        return {name: train.count for name, train in self.spikes.items()}

    def save_npz(self, path) -> None:
        """Write spikes (``spikes/<pop>/steps|neurons``), states (``states/<pop>/<var>``) and the
        JSON-representable part of :attr:`meta` (``meta/json``: options, ``latency`` per population,
        overflow counts) to a compressed ``.npz`` file, atomically (a failed write keeps the old file).

        Examples
        --------
        >>> import numpy as np, neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(1, name="x")
        >>> y = net.population(2, neuroport.LIF(tau=0.01, v_threshold=0.5), name="y")
        >>> _ = net.connect(x, y, weight=np.array([[20.0], [0.0]]))          # neuron 1 gets no input
        >>> result = neuroport.run(net, dt=1e-3, steps=20, inputs=np.ones((20, 1)), probes=["y.v"])

        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "run.npz")
        >>> result.save_npz(path)
        >>> sorted(k for k in np.load(path) if not k.startswith("meta"))
        ['spikes/x/neurons', 'spikes/x/size', 'spikes/x/steps', 'spikes/y/neurons', 'spikes/y/size', 'spikes/y/steps', 'states/y/v']
        """
        arrays = {"meta/backend": np.array(self.backend), "meta/dt": np.array(self.dt),
                  "meta/num_steps": np.array(self.num_steps), "meta/json": np.array(_meta_json(self.meta))}
        if self.batch is not None:
            arrays["meta/batch"] = np.array(self.batch)
        for pop, train in self.spikes.items():
            if self.batch is not None:
                arrays[f"spikes/{pop}/samples"] = train.samples
            arrays[f"spikes/{pop}/steps"] = train.steps
            arrays[f"spikes/{pop}/neurons"] = train.neurons
            arrays[f"spikes/{pop}/size"] = np.array(train.size)
        for pop, variables in self.states.items():
            for var, arr in variables.items():
                arrays[f"states/{pop}/{var}"] = arr
        with atomic_target(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as handle:
                np.savez_compressed(handle, **arrays)

    @classmethod
    def load_npz(cls, path) -> "Result":
        """Read a file written by :meth:`save_npz`.

        Examples
        --------
        >>> import numpy as np, neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(1, name="x")
        >>> y = net.population(2, neuroport.LIF(tau=0.01, v_threshold=0.5), name="y")
        >>> _ = net.connect(x, y, weight=np.array([[20.0], [0.0]]))          # neuron 1 gets no input
        >>> result = neuroport.run(net, dt=1e-3, steps=20, inputs=np.ones((20, 1)), probes=["y.v"])

        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "run.npz")
        >>> result.save_npz(path)
        >>> loaded = neuroport.result.Result.load_npz(path)
        >>> loaded.backend, loaded.num_steps, loaded.spike_counts()
        ('numpy', 20, {'x': 20, 'y': 19})
        >>> bool(np.array_equal(loaded["y.v"], result["y.v"]))
        True
        """
        with np.load(path, allow_pickle=False) as data:
            keys = list(data.keys())
            batch = int(data["meta/batch"]) if "meta/batch" in keys else None
            result = cls(str(data["meta/backend"]), float(data["meta/dt"]), int(data["meta/num_steps"]), batch=batch)
            if "meta/json" in keys:
                try:
                    result.meta = json.loads(str(data["meta/json"]))
                except ValueError:
                    result.meta = {}
            for key in keys:
                parts = key.split("/")
                if parts[0] == "spikes" and parts[-1] == "steps":
                    pop = "/".join(parts[1:-1])
                    if batch is not None:
                        result.spikes[pop] = BatchSpikeTrain(data[key], data[f"spikes/{pop}/neurons"],
                                                             int(data[f"spikes/{pop}/size"]), result.num_steps,
                                                             data[f"spikes/{pop}/samples"], batch)
                        continue
                    result.spikes[pop] = SpikeTrain(data[key], data[f"spikes/{pop}/neurons"],
                                                    int(data[f"spikes/{pop}/size"]), result.num_steps)
                elif parts[0] == "states":
                    pop, var = "/".join(parts[1:-1]), parts[-1]
                    result.states.setdefault(pop, {})[var] = data[key]
        return result

    def state(self, population: str, variable: str | None = None) -> np.ndarray:
        """The probed state, array ``(num_steps, size)``: ``state("exc", "v")`` or ``state("exc.v")``.

        ``variable`` defaults to ``"v"`` when ``population`` is a population name rather than ``"pop.var"``.

        Examples
        --------
        >>> import numpy as np, neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(1, name="x")
        >>> y = net.population(2, neuroport.LIF(tau=0.01, v_threshold=0.5), name="y")
        >>> _ = net.connect(x, y, weight=np.array([[20.0], [0.0]]))          # neuron 1 gets no input
        >>> result = neuroport.run(net, dt=1e-3, steps=20, inputs=np.ones((20, 1)), probes=["y.v"])

        >>> result.state("y", "v").shape, result.state("y.v") is result.state("y")   # "v" is the default
        ((20, 2), True)
        >>> result.state("y.u")
        Traceback (most recent call last):
        ...
        neuroport.errors.UnknownNameError: y.u was not probed (did you mean 'y.v'?); probed: y.v
        """
        if variable is None:
            if population in self.states or "." not in population:
                variable = "v"
            else:
                population, variable = parse_probe(population)
        try:
            return self.states[population][variable]
        except KeyError:
            probed = list(self.probes)
            raise UnknownNameError(
                f"{population}.{variable} was not probed{did_you_mean(f'{population}.{variable}', probed)}; "
                f"probed: {', '.join(probed) or 'nothing'}"
            ) from None


def require_unbatched(result, what: str) -> None:
    """Raise :class:`~neuroport.errors.InputError` when ``result`` is a batched Result (tools that read one
    sample: compare, plots, NWB export), pointing at ``result.sample(b)``."""
    batch = getattr(result, "batch", None)
    if batch is not None:
        from neuroport.errors import InputError

        raise InputError(f"{what}: this Result holds a batch of {batch} samples; pass one sample, "
                         f"result.sample(b) for b in 0..{batch - 1}")


def _meta_json(meta: dict) -> str:
    """The entries of ``meta`` JSON can hold (numbers, strings, lists, dicts of them), as JSON text."""
    def plain(value):
        if isinstance(value, (str, bool, int, float)) or value is None:
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray) and value.size <= 10_000:
            return value.tolist()
        if isinstance(value, dict):
            out = {str(k): plain(v) for k, v in value.items()}
            return {k: v for k, v in out.items() if v is not _SKIP}
        if isinstance(value, (list, tuple)):
            out = [plain(v) for v in value]
            return _SKIP if any(v is _SKIP for v in out) else out
        return _SKIP

    out = plain(dict(meta or {}))
    return json.dumps(out if out is not _SKIP else {})


_SKIP = object()
