"""The demo network: Poisson input -> sparse recurrent E/I LIF layer -> LIF readout.

Built with the public API in the style of the seed projects (sparse
recurrent excitatory/inhibitory networks with Poisson drive).
"""

from __future__ import annotations

import neuroport
from neuroport.models.specs import LIF

DT = 1e-3  #: time step of the demo, s


def demo_network(*, n_input: int = 100, n_exc: int = 160, n_inh: int = 40, n_out: int = 10,
                 seed: int = 0) -> neuroport.Network:
    """Build the demo network.

    Parameters
    ----------
    n_input, n_exc, n_inh, n_out : int
        Sizes of the input, excitatory, inhibitory and readout populations.
    seed : int
        Seed of the random connectivity.

    Returns
    -------
    neuroport.Network
        Populations ``input``, ``exc``, ``inh``, ``readout``; ``exc.v`` and
        ``readout.v`` are probed.
    """
    net = neuroport.Network(metadata={"neuroport.description": "demo: Poisson -> recurrent E/I -> readout"})
    x = net.input(n_input, name="input")
    exc = net.population(n_exc, LIF(tau=0.02, v_threshold=1.0, v_leak=0.0, v_reset=0.0), name="exc")
    inh = net.population(n_inh, LIF(tau=0.01, v_threshold=1.0, v_leak=0.0, v_reset=0.0), name="inh")
    out = net.population(n_out, LIF(tau=0.02, v_threshold=1.0), name="readout")
    net.connect(x, exc, weight=8.0, p=0.1, seed=seed + 1)
    net.connect(x, inh, weight=4.0, p=0.1, seed=seed + 2)
    net.connect(exc, exc, weight=2.0, p=0.05, seed=seed + 3, allow_self=False)
    net.connect(exc, inh, weight=2.0, p=0.1, seed=seed + 4)
    net.connect(inh, exc, weight=-4.0, p=0.2, seed=seed + 5)
    net.connect(exc, out, weight=3.0, p=0.2, seed=seed + 6)
    net.output(out)
    net.probe(exc, "v")
    net.probe(out, "v")
    return net
