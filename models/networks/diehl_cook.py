"""The Diehl & Cook (2015) network: builder and frozen copy (no training loop here).

P. U. Diehl and M. Cook, "Unsupervised learning of digit recognition using
spike-timing-dependent plasticity", Front. Comput. Neurosci. 9:99 (2015),
built with neuroport's public API:

* input ``x``: 64 Poisson channels, pixel intensity 0..16 -> 0..``max_rate`` Hz;
* ``x -> exc``: ``neuroport.PlasticLinear`` with ``rule="diehl_cook"``
  (``dW = eta * (x_pre - x_tar) * (w_max - W) ** mu`` on a post spike);
  each neuron's incoming weights start rescaled to sum ``weight_sum``;
* ``exc``: ``neuroport.LIF`` with an adaptive threshold (``theta`` grows by
  ``theta_plus`` per spike and never decays, ``tau_theta = 0``);
* lateral inhibition: direct inhibitory connections ``exc -> exc``, every
  neuron inhibits every other one (the paper's one-to-one exc -> inh ->
  all-other-exc loop with the inhibitory relay folded away).

Training (sample presentation, weight normalisation, label assignment,
saving and loading a trained classifier; what ``neuroport train`` and
``neuroport evaluate`` run) is an application of this network and lives in
:mod:`neuroport.apps.diehl_cook`.

Units: a spike through a weight ``w`` raises ``v`` by ``w * dt / tau_exc``
(NIR's ``LIF`` with ``r = 1``, forward Euler); thresholds and theta are in
that voltage unit.

Example
-------
>>> from neuroport.models.networks import diehl_cook
>>> net = diehl_cook.build(diehl_cook.Config(neurons=10), seed=0)
>>> sorted(net.to_nir().nodes)
['exc', 'inhibition', 'x', 'x->exc']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import nir
import numpy as np

import neuroport
from neuroport.nodes import AdaptiveLIF, PlasticLinear

__all__ = ["Config", "build", "frozen"]


@dataclass(frozen=True)
class Config:
    """Network and training parameters (time in s, rates in Hz)."""

    neurons: int = 400  #: excitatory neurons
    steps: int = 100  #: presentation time per sample, steps of dt
    dt: float = 1e-3
    max_rate: float = 250.0  #: rate of a pixel of intensity 16
    min_spikes: int = 3  #: fewer excitatory spikes: show the sample again, faster
    boost_rate: float = 100.0  #: added to max_rate per repeated presentation
    max_boosts: int = 3
    tau_exc: float = 0.1  #: membrane time constant (dt <= tau: Euler limit)
    v_threshold: float = 0.25
    refractory: float = 0.0  #: 0 keeps the frozen network a plain NIR LIF
    theta_plus: float = 0.01  #: threshold increase per spike (theta never decays)
    inhibition: float = 50.0  #: weight magnitude of exc -> every other exc
    w_max: float = 1.0
    weight_sum: float = 10.0  #: each neuron's incoming weights sum to this after every sample
    eta: float = 0.005
    x_tar: float = 0.4
    mu: float = 1.0
    a_minus: float = 0.0
    tau_pre: float = 0.02
    tau_post: float = 0.02
    test_fraction: float = 0.2


def build(config: Config = Config(), *, seed: int = 0) -> neuroport.Network:
    """The untrained network: input ``x`` (64), plastic ``x->exc``, ``exc`` with theta, ``exc->exc`` inhibition."""
    c = config
    n = c.neurons
    net = neuroport.Network(metadata={"neuroport.description": "Diehl & Cook (2015) digit classifier"})
    x = net.input(64, name="x")
    exc = net.population(n, neuroport.LIF(tau=c.tau_exc, v_threshold=c.v_threshold, refractory=c.refractory,
                                          tau_theta=0.0, theta_plus=c.theta_plus), name="exc")
    w = np.random.default_rng(seed).uniform(0.0, 0.3, size=(n, 64))
    w *= c.weight_sum / w.sum(axis=1, keepdims=True)
    inhibit = np.full((n, n), -c.inhibition)
    np.fill_diagonal(inhibit, 0.0)
    net.connect(exc, exc, weight=inhibit, name="inhibition")
    # a plastic projection is a node of its own (Network.connect makes static ones)
    net.nodes["x->exc"] = PlasticLinear(weight=np.minimum(w, c.w_max), rule="diehl_cook", eta=c.eta,
                                        x_tar=c.x_tar, mu=c.mu, a_minus=c.a_minus, tau_pre=c.tau_pre,
                                        tau_post=c.tau_post, w_min=0.0, w_max=c.w_max)
    net.edges += [(x, "x->exc"), ("x->exc", exc)]
    return net


def frozen(graph, *, fold_theta: bool = True) -> nir.NIRGraph:
    """The graph with learning off, for evaluation (and for fixed point).

    ``PlasticLinear`` nodes become ``nir.Linear`` with the learned weights;
    adaptive thresholds stop adapting (``theta_plus = 0``, ``theta`` stays at
    ``theta_init``). With ``fold_theta`` an ``AdaptiveLIF`` that has nothing
    else NIR's ``LIF`` cannot express (no refractoriness, synaptic filter or
    adaptation current) becomes a plain ``nir.LIF`` with threshold
    ``v_threshold + theta_init``: the same dynamics, and a graph every
    NIR tool and the fixed-point engine run.
    """
    graph = graph.to_nir() if hasattr(graph, "to_nir") else graph
    nodes = {}
    for name, node in graph.nodes.items():
        if isinstance(node, PlasticLinear):
            node = nir.Linear(weight=np.where(node.connectivity, node.weight, 0.0))
        elif isinstance(node, AdaptiveLIF):
            node = dataclasses.replace(node, theta_plus=np.zeros_like(node.theta_plus))
            plain = not any(np.any(getattr(node, f) != 0) for f in
                            ("tau_syn", "tau_syn_inh", "refractory", "tau_adapt", "b_adapt"))
            plain = plain and np.all(node.w_in == 1) and np.all(np.isnan(node.v_init) | (node.v_init == node.v_reset))
            if fold_theta and plain:
                node = nir.LIF(tau=node.tau_mem, r=node.r, v_leak=node.v_leak,
                               v_threshold=node.v_threshold + node.theta_init, v_reset=node.v_reset)
        nodes[name] = node
    return nir.NIRGraph(nodes=nodes, edges=list(graph.edges), metadata=dict(graph.metadata or {}),
                        type_check=False)
