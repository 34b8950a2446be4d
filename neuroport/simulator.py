"""``neuroport.Simulator``: a network kept alive across runs (training loops, continued training).

Unlike :func:`neuroport.run`, which starts from the initial state every time,
a Simulator keeps neuron states, traces and learned weights between calls to
:meth:`Simulator.run`, can reset chosen state variables between samples, and
writes the trained network back to a NIR graph. It runs on the numpy engines
(``numpy`` and ``numpy-fixed``).

Example
-------
>>> import numpy as np, neuroport
>>> net = neuroport.Network()
>>> x = net.input(2, name="x")
>>> y = net.population(1, neuroport.LIF(tau=0.02, v_threshold=0.5), name="y")
>>> _ = net.connect(x, y, weight=np.array([[20.0, 20.0]]))
>>> sim = neuroport.Simulator(net, dt=1e-3)
>>> first = sim.run(10, inputs=np.ones((10, 2)))
>>> second = sim.run(10, inputs=np.ones((10, 2)))   # continues at step 10
>>> sim.t
20
"""

from __future__ import annotations

import dataclasses

import nir
import numpy as np

from neuroport import backend as registry
from neuroport.api import prepare
from neuroport.backend import all_probes, check_steps
from neuroport.batch import batch_inputs, has_plasticity, is_batched, unbatch
from neuroport.duration import steps_for
from neuroport.errors import InputError, UnsupportedNodeError
from neuroport.naming import did_you_mean, probe_list
from neuroport.nodes import AdaptiveLIF, PlasticLinear
from neuroport.program import FixedProgram
from neuroport.result import Result


class Simulator:
    """A stateful run of one network on a numpy engine.

    Parameters
    ----------
    network : Network, nir.NIRGraph or Program
    backend : {"numpy", "numpy-fixed"}
    dt, scheme, reset, timing, profile
        Compile options (graphs only); see :func:`neuroport.compile`.
    probes : iterable of str or (population, variable)
        Recorded on every :meth:`run`, as ``"exc.v"`` or ``("exc", "v")``.
    hardware, strict
        Quantization options for ``numpy-fixed``.
    engine : {"numpy", "compiled"}, optional
        The numpy reference path or the numba kernels (default :func:`neuroport.models.jit.engine_path`).
    batch : int, optional
        Keep ``batch`` independent samples (:mod:`neuroport.batch`): every :meth:`run` then takes inputs
        ``(steps, batch, n)`` and returns a batched Result, one engine pass for all samples;
        :meth:`state` gives ``(batch, size)`` arrays. Plastic networks are refused (the samples would
        share their weights); :meth:`to_nir` is not available.

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(1, name="x")
    >>> y = net.population(1, neuroport.LIF(tau=0.01, v_threshold=0.5), name="y")
    >>> _ = net.connect(x, y, weight=20.0)
    >>> sim = neuroport.Simulator(net, dt=1e-3)
    >>> [sim.run(5, inputs=np.ones((5, 1)))["y"].count for sample in range(3)]   # first run: one step of synapse
    [4, 5, 5]
    >>> sim.t, sim.dt
    (15, 0.001)
    """

    def __init__(self, network, *, backend: str = "numpy", dt=None, scheme=None, reset=None, timing=None,
                 profile=None, probes=(), hardware=None, strict: bool = False, engine: str | None = None,
                 batch: int | None = None):
        self.backend = registry.get(backend)
        if not hasattr(self.backend, "make_engine"):
            raise UnsupportedNodeError(
                f"Simulator: backend {backend!r} cannot keep state between runs; use 'numpy' or 'numpy-fixed' "
                "(or neuroport.run for one-shot runs)"
            )
        self.backend.require_available()
        probes = probe_list(probes)
        self.graph = network.to_nir() if hasattr(network, "to_nir") else getattr(network, "graph", network)
        self.program = prepare(network, self.backend, dt=dt, scheme=scheme, reset=reset, timing=timing,
                               profile=profile, probes=probes, hardware=hardware, strict=strict)
        self.probes = list(probes)
        self.batch = None if batch is None else _batch_size(batch)
        running = self.program
        if self.batch is not None:
            if has_plasticity(self.program):
                names = [p.name for p in self.program.projections if p.plasticity is not None]
                raise InputError(f"Simulator(batch={batch}): the network has plastic projections "
                                 f"({', '.join(names)}); a batch would share their weights. Train with "
                                 "batch=None (one sample at a time), or freeze the weights first")
            running = self.backend.batched_program(self.program, self.batch)
        self.engine = self.backend.make_engine(running, engine)
        self.engine.start()

    @property
    def t(self) -> int:
        """Steps simulated so far."""
        return int(self.engine.t)

    @property
    def dt(self) -> float:
        """Time step in seconds."""
        return self.program.dt

    def run(self, steps: int | None = None, inputs=None, *, duration=None, probes=(), progress=None):
        """Advance from the current state; returns a Result for these steps.

        Parameters
        ----------
        steps : int, optional
            Number of steps of :attr:`dt`; give ``steps`` or ``duration``, not both.
        inputs : array (steps, n) or dict[str, array]
            Per input node, one row per step.
        duration : float or str, optional
            Seconds (``0.1``) or text with a unit (``"100ms"``); a whole number of steps of :attr:`dt`.
        probes : iterable of str or (population, variable)
            Recorded in this run in addition to the Simulator's probes.
        progress : bool, optional
            Show a progress bar (default: only on a terminal, for long runs).

        Examples
        --------
        >>> import numpy as np, neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(2, name="x")
        >>> y = net.population(1, neuroport.LIF(tau=0.02, v_threshold=0.5), name="y")
        >>> _ = net.connect(x, y, weight=np.array([[20.0, 20.0]]))
        >>> sim = neuroport.Simulator(net, dt=1e-3)

        >>> drive = np.full((10, 2), 0.001)                    # graded input, below threshold
        >>> first = sim.run(10, inputs=drive, probes=["y.v"])
        >>> second = sim.run(duration="10ms", inputs=drive, probes=["y.v"])
        >>> sim.t, first.meta["t_start"], second.meta["t_start"]
        (20, 0, 10)
        >>> float(first["y.v"][0, 0]), bool(second["y.v"][0, 0] > first["y.v"][-1, 0])  # no restart from 0
        (0.0, True)
        """
        steps = check_steps(steps_for(steps=steps, duration=duration, dt=self.program.dt))
        batched = is_batched(inputs)
        if self.batch is None and batched:
            raise InputError("Simulator.run: these inputs have a batch axis (steps, B, n); this Simulator runs one "
                             "sample: create it with Simulator(..., batch=B), or use neuroport.run")
        if self.batch is not None:
            if inputs is not None and not batched:
                raise InputError(f"Simulator.run: this Simulator holds a batch of {self.batch} samples; give inputs "
                                 f"of shape (steps, {self.batch}, n)")
            size, ins = batch_inputs(self.program, {} if inputs is None else inputs, steps) if batched else \
                (self.batch, {n: np.zeros((steps, self.batch, self.program.populations[n].size))
                              for n in self.program.inputs})
            if size != self.batch:
                raise InputError(f"Simulator.run: inputs have batch size B={size}, this Simulator holds "
                                 f"{self.batch} samples")
            inputs = {k: v.reshape(steps, -1) for k, v in ins.items()}
        ins = self.backend.check_inputs(self.engine.program if self.batch else self.program, inputs, steps)
        prb = all_probes(self.program, list(self.probes) + probe_list(probes))
        trains, states, wall = self.engine.advance(steps=steps, inputs=ins, probes=prb, progress=progress)
        result = Result(self.backend.name, self.program.dt, steps, trains, states, self.engine.learned_weights(),
                        wall, {"level": self.program.level, "t_start": self.t - steps,
                               **_latency(self.engine.program), **self.engine.path_meta()})
        return result if self.batch is None else unbatch(result, self.batch)

    def reset(self, *, keep=("theta",)) -> None:
        """Reset neuron states, synaptic buffers and learning traces; keep learned weights and ``keep`` variables.

        Parameters
        ----------
        keep : iterable of str
            State variables carried over (default: adaptive thresholds ``theta``).

        Examples
        --------
        >>> import numpy as np, neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(2, name="x")
        >>> y = net.population(1, neuroport.LIF(tau=0.02, v_threshold=0.5), name="y")
        >>> _ = net.connect(x, y, weight=np.array([[20.0, 20.0]]))
        >>> sim = neuroport.Simulator(net, dt=1e-3)

        >>> first = sim.run(10, inputs=np.ones((10, 2)), probes=["y.v"])
        >>> sim.reset()
        >>> again = sim.run(10, inputs=np.ones((10, 2)), probes=["y.v"])
        >>> bool(np.array_equal(first["y.v"], again["y.v"])), sim.t         # same start state, the clock goes on
        (True, 20)
        """
        saved = {name: {var: rt[1][var].copy() for var in keep if var in rt[1]}
                 for name, rt in self.engine.runtime.items() if rt is not None}
        weights = {name: st for name, st in self.engine.plastic.items()}
        t = self.engine.t
        self.engine.restart()
        for name, variables in saved.items():
            for var, value in variables.items():
                self.engine.runtime[name][1][var][:] = value
        for name, st in weights.items():
            fresh = self.engine.plastic[name]
            fresh.weights[:] = st.weights
        self.engine.t = t

    def state(self, population: str) -> dict:
        """Copies of the state variables of ``population`` (internal units, ``v`` shifted to reset 0),
        arrays ``(size,)``, or ``(batch, size)`` in a batched Simulator.

        Examples
        --------
        >>> import numpy as np, neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(2, name="x")
        >>> y = net.population(1, neuroport.LIF(tau=0.02, v_threshold=0.5), name="y")
        >>> _ = net.connect(x, y, weight=np.array([[20.0, 20.0]]))
        >>> sim = neuroport.Simulator(net, dt=1e-3)

        >>> sorted(sim.state("y"))
        ['u', 'v']
        >>> sim.state("y")["v"]
        array([0.])
        >>> _ = sim.run(3, inputs=np.full((3, 2), 0.001))
        >>> sim.state("y")["v"].round(6)   # input reaches v one step later: v <- 0.95 v + 0.05 * 0.04, twice
        array([0.0039])
        """
        rt = self.engine.runtime.get(population)
        if rt is None:
            known = [n for n, r in self.engine.runtime.items() if r is not None]
            raise InputError(f"state: {population!r} is not a neuron population{did_you_mean(population, known)}; "
                             f"populations: {known}")
        out = {k: np.array(v, copy=True) for k, v in rt[1].items()}
        if self.batch is not None:
            out = {k: v.reshape(self.batch, -1) if v.ndim == 1 else v for k, v in out.items()}
        return out

    def set_state(self, population: str, variable: str, values) -> None:
        """Overwrite one state variable of ``population`` (broadcast to its size; in a batched Simulator
        to ``(batch, size)``: one row per sample, or one value / row for all).

        Examples
        --------
        >>> import numpy as np, neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(2, name="x")
        >>> y = net.population(1, neuroport.LIF(tau=0.02, v_threshold=0.5), name="y")
        >>> _ = net.connect(x, y, weight=np.array([[20.0, 20.0]]))
        >>> sim = neuroport.Simulator(net, dt=1e-3)

        >>> sim.set_state("y", "v", 0.3)
        >>> sim.state("y")["v"]
        array([0.3])
        >>> silent = sim.run(1, inputs=np.zeros((1, 2)), probes=["y.v"])   # decays from 0.3 (dt / tau = 0.05)
        >>> round(float(silent["y.v"][0, 0]), 6)
        0.285
        """
        state = self.engine.runtime.get(population)
        if state is None or variable not in state[1]:
            known = [f"{n}.{v}" for n, r in self.engine.runtime.items() if r is not None for v in r[1]]
            raise InputError(f"set_state: {population}.{variable} does not exist"
                             f"{did_you_mean(f'{population}.{variable}', known)}; state variables: {', '.join(known)}")
        if self.batch is not None:
            n = self.program.populations[population].size
            try:
                values = np.broadcast_to(np.asarray(values), (self.batch, n)).reshape(-1)
            except ValueError:
                raise InputError(f"set_state {population}.{variable}: expected values broadcastable to "
                                 f"(batch, size) = ({self.batch}, {n}), got shape {np.shape(values)}") from None
        state[1][variable][:] = values

    @property
    def weights(self) -> dict:
        """Learned weights of the plastic projections, graph units, by weight-node name."""
        return {self._node_of(name): w for name, w in self.engine.learned_weights().items()}

    def set_weights(self, node: str, weights) -> None:
        """Overwrite the weights (graph units) of plastic weight node ``node``.

        Examples
        --------
        >>> import numpy as np, nir, neuroport
        >>> from neuroport.nodes import PlasticLinear
        >>> graph = nir.NIRGraph(nodes={
        ...     "x": nir.Input(input_type={"input": np.array([3])}),
        ...     "w": PlasticLinear(weight=np.full((2, 3), 0.5), a_plus=0.01, a_minus=0.01),
        ...     "y": neuroport.LIF(tau=0.02, v_threshold=1.0).to_nir(2)},
        ...     edges=[("x", "w"), ("w", "y")], type_check=False)
        >>> sim = neuroport.Simulator(graph, dt=1e-3)

        >>> sim.weights["w"]
        array([[0.5, 0.5, 0.5],
               [0.5, 0.5, 0.5]])
        >>> sim.set_weights("w", np.array([[0.1, 0.2, 0.3], [0.0, 0.0, 1.0]]))
        >>> sim.weights["w"][1]
        array([0., 0., 1.])
        """
        for name, st in self.engine.plastic.items():
            if self._node_of(name) == node:
                w = np.asarray(weights, dtype=np.float64)
                if w.shape != st.weights.shape:
                    raise InputError(f"set_weights {node}: expected shape {st.weights.shape}, got {w.shape}")
                self.engine.set_plastic_weights(name, w)
                return
        raise InputError(f"set_weights: no plastic weight node {node!r}{did_you_mean(node, self.weights)}; "
                         f"plastic: {list(self.weights)}")

    def _node_of(self, projection_name: str) -> str:
        proj = next(p for p in self.program.projections if p.name == projection_name)
        return proj.extra["plasticity"]["node"]

    def to_nir(self, *, metadata: dict | None = None):
        """The source graph with learned weights and adaptive thresholds written back.

        Plastic weight nodes get their current weights; ``AdaptiveLIF``
        populations get ``theta_init`` = their current ``theta``. From a
        ``numpy-fixed`` Simulator both are converted to graph units: weights
        ``mantissa / weight_scale`` (as :attr:`weights`), theta
        ``theta_int / scale`` (the population's ``extra["scale"]``), float64.
        Quantizing the result with the same scales gives back the same
        integers (``rint(m / k * k) = m``); a different scale (another
        graph, e.g. a frozen one) rounds them anew.

        Examples
        --------
        >>> import numpy as np, nir, neuroport
        >>> from neuroport.nodes import PlasticLinear
        >>> graph = nir.NIRGraph(nodes={
        ...     "x": nir.Input(input_type={"input": np.array([3])}),
        ...     "w": PlasticLinear(weight=np.full((2, 3), 0.5), a_plus=0.01, a_minus=0.01),
        ...     "y": neuroport.LIF(tau=0.02, v_threshold=1.0).to_nir(2)},
        ...     edges=[("x", "w"), ("w", "y")], type_check=False)
        >>> sim = neuroport.Simulator(graph, dt=1e-3)

        >>> sim.set_weights("w", np.array([[0.1, 0.2, 0.3], [0.0, 0.0, 1.0]]))
        >>> trained = sim.to_nir(metadata={"epochs": 1})
        >>> trained.nodes["w"].weight[1], trained.metadata["epochs"]
        (array([0., 0., 1.]), 1)
        >>> graph.nodes["w"].weight[1]                                       # the source graph is unchanged
        array([0.5, 0.5, 0.5])
        """
        if self.program.level not in ("discrete", "fixed"):
            raise UnsupportedNodeError(f"to_nir: cannot write back from a {self.program.level!r} Program")
        if self.batch is not None:
            raise UnsupportedNodeError(f"to_nir: a batched Simulator (batch={self.batch}) holds one state per "
                                       "sample, not one network to write back")
        nodes = dict(self.graph.nodes)
        for node_name, w in self.weights.items():
            old = nodes[node_name]
            if not isinstance(old, PlasticLinear):
                raise UnsupportedNodeError(f"to_nir: {node_name} is not a PlasticLinear node")
            nodes[node_name] = dataclasses.replace(old, weight=w)
        for name, rt in self.engine.runtime.items():
            if rt is None or name not in nodes or not isinstance(nodes[name], AdaptiveLIF):
                continue
            if "theta" in rt[1]:
                theta = rt[1]["theta"].copy()
                if isinstance(self.program, FixedProgram):
                    theta = theta.astype(np.float64) / float(self.program.populations[name].extra["scale"])
                nodes[name] = dataclasses.replace(nodes[name], theta_init=theta)
        meta = dict(self.graph.metadata or {})
        meta.update(metadata or {})
        return nir.NIRGraph(nodes=nodes, edges=list(self.graph.edges), metadata=meta, type_check=False)


def _batch_size(batch) -> int:
    """``batch`` as a positive int, else :class:`~neuroport.errors.InputError`."""
    try:
        value = int(batch)
    except (TypeError, ValueError):
        value = None
    if value is None or value != batch or value < 1:
        raise InputError(f"Simulator: batch must be a positive integer (the number of samples), got {batch!r}")
    return value


def _latency(program) -> dict:
    """``{"latency": {...}}`` for an engine running a compensated ideal-timing Program, else ``{}``."""
    lat = program.options.get("latency")
    return {"latency": dict(lat)} if lat else {}
