"""The COBA and CUBA benchmark networks of Brette et al. (2007), built with the public API.

Brette R. et al., "Simulation of networks of spiking neurons: a review of
tools and strategies", J. Comput. Neurosci. 23:349-398 (2007), benchmarks 1
(COBA) and 2 (CUBA): 4,000 LIF neurons, 80 % excitatory, 2 % random
connectivity, tau_m = 20 ms, refractory 5 ms, threshold -50 mV, reset
-60 mV, random initial potentials, no external input (self-sustained
activity). Voltages are in mV, times in s.
"""

from __future__ import annotations

import numpy as np

import neuroport
from neuroport.models.specs import CondLIF, CubaLIF

#: Parameters of benchmark 1 (COBA), conductances relative to g_L = 10 nS.
COBA = dict(tau_mem=0.020, e_leak=-60.0, e_exc=0.0, e_inh=-80.0, tau_exc=0.005, tau_inh=0.010,
            v_threshold=-50.0, v_reset=-60.0, refractory=0.005, w_exc=0.6, w_inh=6.7)
#: Parameters of benchmark 2 (CUBA), synaptic jumps in mV.
CUBA = dict(tau_mem=0.020, v_leak=-49.0, tau_exc=0.005, tau_inh=0.010, v_threshold=-50.0, v_reset=-60.0,
            refractory=0.005, w_exc=60 * 0.27 / 10, w_inh=20 * 4.5 / 10)


def _split(n_neurons, exc_fraction):
    n_exc = int(round(n_neurons * exc_fraction))
    return n_exc, n_neurons - n_exc


def coba_network(*, n_neurons: int = 4000, exc_fraction: float = 0.8, p: float = 0.02,
                 weight_scale: float = 1.0, delay: float = 0.0, seed: int = 0) -> neuroport.Network:
    """Benchmark 1: conductance-based LIF network (``neuroport.CondLIF``).

    Parameters
    ----------
    n_neurons : int
        Total neurons (default 4,000).
    exc_fraction : float
        Fraction excitatory (default 0.8).
    p : float
        Connection probability (default 0.02).
    weight_scale : float
        Multiplies both synaptic weights (1.0: the published 6 nS / 67 nS).
    delay : float
        Synaptic delay of every connection, s (default 0; NEST's version of the benchmark uses 1e-4 s,
        and the ``nest`` backend needs >= one step for an exact counterpart, docs/nest.md).
    seed : int
        Seeds connectivity and the initial state, as in R. Brette's Brian
        implementation of the benchmark: ``v ~ N(-65, 5) mV``,
        ``g_e ~ N(4, 1.5)``, ``g_i ~ N(20, 12)`` (relative to g_L, not clipped:
        the few negative initial conductances are part of the published
        initial condition; with them clipped at 0 the activity dies out within
        10 ms).

    Returns
    -------
    neuroport.Network
        Populations ``exc`` and ``inh``; the graph has no input node.
    """
    rng = np.random.default_rng(seed)
    n_exc, n_inh = _split(n_neurons, exc_fraction)
    c = COBA
    net = neuroport.Network(metadata={"neuroport.description": "COBA benchmark (Brette et al. 2007, benchmark 1)"})
    pops = {}
    for name, n in (("exc", n_exc), ("inh", n_inh)):
        v0 = rng.normal(-65.0, 5.0, size=n)
        ge0 = rng.normal(4.0, 1.5, size=n)
        gi0 = rng.normal(20.0, 12.0, size=n)
        pops[name] = net.population(n, CondLIF(tau_mem=c["tau_mem"], e_leak=c["e_leak"], e_exc=c["e_exc"],
                                               e_inh=c["e_inh"], tau_exc=c["tau_exc"], tau_inh=c["tau_inh"],
                                               v_threshold=c["v_threshold"], v_reset=c["v_reset"],
                                               refractory=c["refractory"], v_init=v0, g_exc_init=ge0,
                                               g_inh_init=gi0), name=name)
    for k, (pre, weight) in enumerate((("exc", c["w_exc"]), ("inh", -c["w_inh"]))):
        for j, post in enumerate(("exc", "inh")):
            net.connect(pops[pre], pops[post], weight=weight * weight_scale, p=p, seed=seed + 10 + 2 * k + j,
                        allow_self=pre != post, delay=delay)
    return net


def cuba_network(*, dt: float = 1e-4, n_neurons: int = 4000, exc_fraction: float = 0.8, p: float = 0.02,
                 weight_scale: float = 1.0, seed: int = 0) -> neuroport.Network:
    """Benchmark 2: current-based LIF network with two synapse time constants.

    Brian's CUBA adds ``w`` to the synaptic variable per spike; in NIR's
    convention an input spike is the value 1.0 in its step, which raises the
    current by ``dt / tau_syn * w``, so the weights are stored as
    ``w * tau_syn / dt`` for the ``dt`` given here (the network is meant to
    be compiled with that ``dt``).
    """
    rng = np.random.default_rng(seed)
    n_exc, n_inh = _split(n_neurons, exc_fraction)
    c = CUBA
    net = neuroport.Network(metadata={"neuroport.description": "CUBA benchmark (Brette et al. 2007, benchmark 2)",
                                      "neuroport.dt": dt})
    pops = {}
    for name, n in (("exc", n_exc), ("inh", n_inh)):
        v0 = rng.uniform(c["v_reset"], c["v_threshold"], size=n)
        pops[name] = net.population(n, CubaLIF(tau_syn=c["tau_exc"], tau_syn_inh=c["tau_inh"], tau_mem=c["tau_mem"],
                                               v_leak=c["v_leak"], v_threshold=c["v_threshold"],
                                               v_reset=c["v_reset"], refractory=c["refractory"], v_init=v0),
                                    name=name)
    w_exc = c["w_exc"] * c["tau_exc"] / dt
    w_inh = -c["w_inh"] * c["tau_inh"] / dt
    for k, (pre, weight) in enumerate((("exc", w_exc), ("inh", w_inh))):
        for j, post in enumerate(("exc", "inh")):
            net.connect(pops[pre], pops[post], weight=weight * weight_scale, p=p, seed=seed + 10 + 2 * k + j,
                        allow_self=pre != post)
    return net
