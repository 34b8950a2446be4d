"""Canonical seeded test cases shared by every backend's tests.

Each case is a small network built with the public API, a time step, a
number of steps, seeded inputs and the compile options it is meant for.
Backends join the equivalence suite (``tests/test_equivalence.py``) by
running all of them (see :mod:`neuroport.testing.plugin`).

:data:`CANONICAL` holds the LIF-family cases (Lava's own LIF, NIR
primitives, zero reset), which the plain dense loop of
``tests/test_numpy_backend.py`` also checks; :data:`EXTENDED` the cases with
neuroport's extension models and options (conductance-based and adaptive
neurons, subtractive reset, short-term depression, STDP); :data:`ALL` both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import neuroport
from neuroport.models.specs import LIF, CondLIF, CubaLIF
from neuroport.nodes import PlasticLinear

#: The repository's test data (``tests/data``; sources and licences in its READMEs).
TEST_DATA_DIR = Path(__file__).resolve().parents[2] / "tests" / "data"
#: The NIR paper's single-LIF data (``tests/data/nir_paper_lif``).
NIR_PAPER_DIR = TEST_DATA_DIR / "nir_paper_lif"


@dataclass
class Case:
    """A network with everything needed to run it.

    Attributes
    ----------
    name : str
    graph : nir.NIRGraph
    dt : float
        Time step in s.
    steps : int
    inputs : dict[str, numpy.ndarray]
        Per input node, shape ``(steps, size)``.
    recurrent : bool
        Whether the network has recurrent edges (equivalence criteria differ).
    populations : list of str
        Neuron populations worth comparing.
    options : dict
        Compile options other than ``dt`` and ``timing`` (e.g. ``{"reset": "subtract"}``).
    """

    name: str
    graph: object
    dt: float
    steps: int
    inputs: dict
    recurrent: bool = False
    populations: list = field(default_factory=list)
    options: dict = field(default_factory=dict)


def _poisson(rate_hz, steps, n, dt, seed):
    rng = np.random.default_rng(seed)
    return (rng.random((steps, n)) < rate_hz * dt).astype(np.float64)


def single_lif(seed: int = 0) -> Case:
    """One population of 10 LIF neurons driven by 20 Poisson inputs."""
    net = neuroport.Network()
    x = net.input(20, name="x")
    rng = np.random.default_rng(seed)
    lif = net.population(10, LIF(tau=0.02, v_threshold=1.0, v_leak=0.0, v_reset=0.0), name="lif")
    net.connect(x, lif, weight=rng.uniform(0.0, 6.0, size=(10, 20)))
    net.output(lif)
    steps, dt = 300, 1e-3
    return Case("single_lif", net.to_nir(), dt, steps, {x: _poisson(40.0, steps, 20, dt, seed + 1)},
                False, [lif])


def cubalif_chain(seed: int = 0) -> Case:
    """Input -> CubaLIF(30) -> CubaLIF(20) -> CubaLIF(10), excitatory and inhibitory weights."""
    net = neuroport.Network()
    rng = np.random.default_rng(seed)
    x = net.input(20, name="x")
    sizes = [30, 20, 10]
    prev, names = x, []
    for i, n in enumerate(sizes):
        pop = net.population(n, CubaLIF(tau_syn=0.005, tau_mem=0.02, v_threshold=1.0, v_leak=0.0),
                             name=f"cuba{i + 1}")
        n_prev = net.size(prev)
        w = rng.uniform(-3.0, (9.0, 5.0, 8.0)[i], size=(n, n_prev)) * (rng.random((n, n_prev)) < 0.5)
        net.connect(prev, pop, weight=w)
        names.append(pop)
        prev = pop
    net.output(prev)
    steps, dt = 300, 1e-3
    return Case("cubalif_chain", net.to_nir(), dt, steps, {x: _poisson(50.0, steps, 20, dt, seed + 1)},
                False, names)


def recurrent_ei(seed: int = 0, n_exc: int = 80, n_inh: int = 20, steps: int = 300) -> Case:
    """Sparse recurrent excitatory/inhibitory LIF network with Poisson drive."""
    net = neuroport.Network()
    x = net.input(50, name="x")
    exc = net.population(n_exc, LIF(tau=0.02, v_threshold=1.0), name="exc")
    inh = net.population(n_inh, LIF(tau=0.01, v_threshold=1.0), name="inh")
    net.connect(x, exc, weight=2.5, p=0.2, seed=seed + 1)
    net.connect(x, inh, weight=2.0, p=0.2, seed=seed + 2)
    net.connect(exc, exc, weight=1.0, p=0.1, seed=seed + 3, allow_self=False)
    net.connect(exc, inh, weight=1.5, p=0.2, seed=seed + 4)
    net.connect(inh, exc, weight=-3.0, p=0.3, seed=seed + 5)
    net.connect(inh, inh, weight=-1.0, p=0.2, seed=seed + 6, allow_self=False)
    net.output(exc)
    dt = 1e-3
    return Case("recurrent_ei", net.to_nir(), dt, steps, {x: _poisson(30.0, steps, 50, dt, seed + 7)},
                True, [exc, inh])


def delays(seed: int = 0) -> Case:
    """Feed-forward LIF layers with a uniform 3 ms delay and a per-neuron delay vector."""
    net = neuroport.Network()
    rng = np.random.default_rng(seed)
    x = net.input(10, name="x")
    a = net.population(20, LIF(tau=0.01, v_threshold=1.0), name="a")
    b = net.population(10, LIF(tau=0.01, v_threshold=1.0), name="b")
    net.connect(x, a, weight=rng.uniform(0, 5, size=(20, 10)), delay=3e-3)
    net.connect(a, b, weight=rng.uniform(0, 1.2, size=(10, 20)), delay=rng.integers(1, 6, size=10) * 1e-3)
    net.output(b)
    steps, dt = 300, 1e-3
    return Case("delays", net.to_nir(), dt, steps, {x: _poisson(60.0, steps, 10, dt, seed + 1)},
                False, [a, b])


def nir_paper() -> Case:
    """The NIR paper's single LIF neuron (``lif_norse.nir``), dt = 0.1 ms, 1000 steps."""
    graph = neuroport.read(NIR_PAPER_DIR / "lif_norse.nir")
    data = np.loadtxt(NIR_PAPER_DIR / "lif_norse.csv", delimiter=",")
    return Case("nir_paper", graph, 1e-4, 1000, {"input": data[:, :1]}, False, ["1"])


def _two_layer(name: str, model, w_in: tuple, w_hidden: tuple, seed: int) -> Case:
    """Input(20) -> model(30) -> [2 ms] -> model(20), uniform weights in ``w_in`` / ``w_hidden``,
    50 Hz Poisson input, 250 steps of 1 ms."""
    net = neuroport.Network()
    rng = np.random.default_rng(seed)
    x = net.input(20, name="x")
    a = net.population(30, model, name="a")
    b = net.population(20, model, name="b")
    net.connect(x, a, weight=rng.uniform(*w_in, size=(30, 20)))
    net.connect(a, b, weight=rng.uniform(*w_hidden, size=(20, 30)), delay=2e-3)
    net.output(b)
    steps, dt = 250, 1e-3
    return Case(name, net.to_nir(), dt, steps, {x: _poisson(50.0, steps, 20, dt, seed + 1)}, False, [a, b])


def conductance(seed: int = 0) -> Case:
    """Input -> CondLIF(30) -> [2 ms] -> CondLIF(20): excitatory and inhibitory conductances,
    refractoriness and a spike-triggered adaptation conductance."""
    return _two_layer("conductance", CondLIF(refractory=2e-3, tau_adapt=0.1, b_adapt=0.05),
                      (0.0, 0.25), (-0.3, 0.6), seed)


def adaptive(seed: int = 0) -> Case:
    """Input -> AdaptiveLIF(30) -> [2 ms] -> AdaptiveLIF(20): refractory period, adaptive threshold
    and adaptation current (``neuroport.AdaptiveLIF``)."""
    model = LIF(tau=0.02, v_threshold=1.0, r=10.0, refractory=3e-3, tau_theta=0.05, theta_plus=0.2,
                tau_adapt=0.1, b_adapt=0.05)
    return _two_layer("adaptive", model, (0.0, 1.0), (-0.3, 1.0), seed)


def subtract_reset(seed: int = 0) -> Case:
    """Input -> LIF(30) -> CubaLIF(20), compiled with ``reset="subtract"``."""
    net = neuroport.Network()
    rng = np.random.default_rng(seed)
    x = net.input(20, name="x")
    a = net.population(30, LIF(tau=0.02, v_threshold=1.0), name="a")
    b = net.population(20, CubaLIF(tau_syn=0.005, tau_mem=0.02, v_threshold=1.0), name="b")
    net.connect(x, a, weight=rng.uniform(0.0, 4.0, size=(30, 20)))
    net.connect(a, b, weight=rng.uniform(-3.0, 4.0, size=(20, 30)))
    net.output(b)
    steps, dt = 250, 1e-3
    return Case("subtract_reset", net.to_nir(), dt, steps, {x: _poisson(50.0, steps, 20, dt, seed + 1)},
                False, [a, b], {"reset": "subtract"})


def depression(seed: int = 0) -> Case:
    """Input -> LIF(30) -> LIF(20), both projections with short-term depression (Tsodyks-Markram)."""
    net = neuroport.Network()
    x = net.input(20, name="x")
    a = net.population(30, LIF(tau=0.02, v_threshold=1.0), name="a")
    b = net.population(20, LIF(tau=0.01, v_threshold=0.5), name="b")
    net.connect(x, a, weight=10.0, p=0.5, seed=seed + 1, depression=(0.05, 0.4))
    net.connect(a, b, weight=8.0, p=0.6, seed=seed + 2, depression=(0.02, 0.2))
    net.output(b)
    steps, dt = 250, 1e-3
    return Case("depression", net.to_nir(), dt, steps, {x: _poisson(80.0, steps, 20, dt, seed + 3)},
                False, [a, b])


#: STDP cases' time step: ``dt = 2**-10`` s and ``tau = 16 dt`` make every decay and learning
#: coefficient a power of two, which Lava's rule mantissas hold exactly (no rounding warning).
STDP_DT = 2.0 ** -10


def _stdp(name: str, seed: int, p_connect: float | None) -> Case:
    net = neuroport.Network()
    rng = np.random.default_rng(seed)
    tau = 16 * STDP_DT
    n_in, n_out = 16, 8
    x = net.input(n_in, name="x")
    y = net.population(n_out, LIF(tau=tau, v_threshold=1.0, r=4.0), name="y")
    conn = np.ones((n_out, n_in), bool) if p_connect is None else rng.random((n_out, n_in)) < p_connect
    w0 = np.where(conn, rng.uniform(0.1, 0.5, size=(n_out, n_in)), 0.0)
    # a plastic projection is a node of its own (Network.connect makes static ones)
    net.nodes["x->y"] = PlasticLinear(weight=w0, connectivity=conn, rule="pair", bounds="soft", tau_pre=tau,
                                      tau_post=tau, a_plus=2.0 ** -5, a_minus=2.0 ** -5, w_min=0.0, w_max=1.0)
    net.edges += [(x, "x->y"), ("x->y", y)]
    net.output(y)
    steps = 300
    return Case(name, net.to_nir(), STDP_DT, steps, {x: _poisson(100.0, steps, n_in, STDP_DT, seed + 1)},
                False, [y])


def stdp(seed: int = 0) -> Case:
    """Input(16) -> PlasticLinear (pair STDP, soft bounds, all to all) -> LIF(8)."""
    return _stdp("stdp", seed, None)


def stdp_sparse(seed: int = 0) -> Case:
    """As :func:`stdp` with 70 % of the synapses present (absent ones must never learn)."""
    return _stdp("stdp_sparse", seed, 0.7)


CANONICAL = {
    "single_lif": single_lif,
    "cubalif_chain": cubalif_chain,
    "recurrent_ei": recurrent_ei,
    "delays": delays,
}
def quadratic(seed: int = 0) -> Case:
    """Input -> QIF(30) -> [2 ms] -> QIF(20): the quadratic integrate-and-fire model (``models/qif.py``)."""
    from neuroport.models.qif import QIF

    net = neuroport.Network()
    rng = np.random.default_rng(seed)
    x = net.input(20, name="x")
    a = net.population(30, QIF(a=rng.uniform(0.03, 0.05, 30)), name="a")
    b = net.population(20, QIF(), name="b")
    net.connect(x, a, weight=rng.uniform(0.0, 12.0, size=(30, 20)))
    net.connect(a, b, weight=rng.uniform(-20.0, 60.0, size=(20, 30)), delay=2e-3)
    net.output(b)
    steps, dt = 250, 1e-3
    return Case("quadratic", net.to_nir(), dt, steps, {x: _poisson(50.0, steps, 20, dt, seed + 1)},
                False, [a, b])


def _annotated(net, conventions: dict):
    """The network's NIR graph with per-node conventions (:mod:`neuroport.semantics`) in node metadata."""
    from neuroport import semantics

    graph = net.to_nir()
    for node, conv in conventions.items():
        semantics.annotate(graph.nodes[node], **conv)
    return graph


def deferred_resets(seed: int = 0) -> Case:
    """Input -> LIF(30), snnTorch's undecayed subtraction -> CubaLIF(20), snnTorch's zero-and-hold reset,
    threshold compared with ``>=`` (per-node conventions in the node metadata)."""
    net = neuroport.Network()
    rng = np.random.default_rng(seed)
    x = net.input(20, name="x")
    a = net.population(30, LIF(tau=0.02, v_threshold=1.0), name="a")
    b = net.population(20, CubaLIF(tau_syn=0.005, tau_mem=0.02, v_threshold=1.0), name="b")
    net.connect(x, a, weight=rng.uniform(0.0, 4.0, size=(30, 20)))
    net.connect(a, b, weight=rng.uniform(-3.0, 4.0, size=(20, 30)))
    net.output(b)
    steps, dt = 250, 1e-3
    graph = _annotated(net, {a: {"reset": "subtract_undecayed"}, b: {"reset": "zero_hold", "threshold": "ge"}})
    return Case("deferred_resets", graph, dt, steps, {x: _poisson(50.0, steps, 20, dt, seed + 1)}, False, [a, b])


def multi_spike(seed: int = 0) -> Case:
    """Input -> IF(30) with Sinabs' conventions (input added as it is, several spikes per step, ``>=``,
    reset by subtraction) -> LIF(10)."""
    net = neuroport.Network()
    rng = np.random.default_rng(seed)
    x = net.input(20, name="x")
    a = net.population(30, neuroport.IF(v_threshold=1.0), name="a")
    b = net.population(10, LIF(tau=0.02, v_threshold=1.0), name="b")
    net.connect(x, a, weight=rng.uniform(-0.5, 2.0, size=(30, 20)))
    net.connect(a, b, weight=rng.uniform(0.0, 1.5, size=(10, 30)))
    net.output(b)
    steps, dt = 250, 1e-3
    graph = _annotated(net, {a: {"reset": "subtract", "spikes": "multi", "threshold": "ge", "input": "jump"}})
    return Case("multi_spike", graph, dt, steps, {x: _poisson(80.0, steps, 20, dt, seed + 1)}, False, [a, b])


EXTENDED = {
    "quadratic": quadratic,
    "conductance": conductance,
    "adaptive": adaptive,
    "subtract_reset": subtract_reset,
    "depression": depression,
    "stdp": stdp,
    "stdp_sparse": stdp_sparse,
    "deferred_resets": deferred_resets,
    "multi_spike": multi_spike,
}
ALL = {**CANONICAL, **EXTENDED}


def canonical_cases(seed: int = 0) -> list:
    """The LIF-family cases (:data:`CANONICAL`), built with ``seed``."""
    return [make(seed) for make in CANONICAL.values()]


def all_cases(seed: int = 0) -> list:
    """Every case (:data:`ALL`), built with ``seed``."""
    return [make(seed) for make in ALL.values()]
