"""Canonical seeded test cases shared by every backend's tests.

Each case is a small network built with the public API, a time step, a
number of steps and seeded inputs. Backends join the equivalence suite by
running these (see :mod:`neuroport.testing.plugin`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import neuroport
from neuroport.models.specs import LIF, CubaLIF

#: The NIR paper's single-LIF data (``../shared/testdata/nir_paper_lif``).
NIR_PAPER_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "nir_paper_lif"


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
    """

    name: str
    graph: object
    dt: float
    steps: int
    inputs: dict
    recurrent: bool = False
    populations: list = field(default_factory=list)


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
    steps, dt = 400, 1e-3
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
    steps, dt = 400, 1e-3
    return Case("cubalif_chain", net.to_nir(), dt, steps, {x: _poisson(50.0, steps, 20, dt, seed + 1)},
                False, names)


def recurrent_ei(seed: int = 0, n_exc: int = 80, n_inh: int = 20, steps: int = 500) -> Case:
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


CANONICAL = {
    "single_lif": single_lif,
    "cubalif_chain": cubalif_chain,
    "recurrent_ei": recurrent_ei,
    "delays": delays,
}


def canonical_cases(seed: int = 0) -> list:
    """All canonical cases, built with ``seed``."""
    return [make(seed) for make in CANONICAL.values()]
