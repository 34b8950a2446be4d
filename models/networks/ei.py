"""Sparse excitatory/inhibitory LIF networks in layered and ring topologies.

Each layer is a recurrent E/I module (80 % excitatory); excitatory neurons of
layer ``k`` project to layer ``k + 1`` (and, in the ring, the last layer back
to the first). A Poisson input drives layer 0. ``weight_scale`` multiplies
every recurrent and feed-forward weight: sweeping it moves the network from
sub-critical (activity dies out along the layers) through critical to
super-critical (runaway excitation).
"""

from __future__ import annotations

import neuroport
from neuroport.models.specs import LIF

TOPOLOGIES = ("layered", "ring")


def ei_network(*, topology: str = "layered", n_layers: int = 4, n_per_layer: int = 100,
               exc_fraction: float = 0.8, n_input: int = 50, weight_scale: float = 1.0,
               p_recurrent: float = 0.1, p_forward: float = 0.1, refractory: float = 2e-3,
               seed: int = 0) -> neuroport.Network:
    """Build a layered or ring E/I network.

    Parameters
    ----------
    topology : {"layered", "ring"}
    n_layers, n_per_layer : int
        Number of layers and neurons per layer.
    exc_fraction : float
        Fraction of excitatory neurons per layer.
    n_input : int
        Poisson input channels driving layer 0 (``input``).
    weight_scale : float
        Multiplies all weights between neurons (not the input weights).
    p_recurrent, p_forward : float
        Connection probabilities within a layer and between layers.
    refractory : float
        Absolute refractory period, s.
    seed : int

    Returns
    -------
    neuroport.Network
        Populations ``e0, i0, e1, i1, ...`` and input ``input``.
    """
    if topology not in TOPOLOGIES:
        raise neuroport.GraphError(f"topology: expected one of {TOPOLOGIES}, got {topology!r}")
    if n_layers < 1:
        raise neuroport.ParameterError(f"n_layers: expected >= 1, got {n_layers}")
    n_exc = int(round(n_per_layer * exc_fraction))
    n_inh = n_per_layer - n_exc
    net = neuroport.Network(metadata={"neuroport.description": f"{topology} E/I network, {n_layers} layers"})
    x = net.input(n_input, name="input")
    s = seed * 1000
    layers = []
    for k in range(n_layers):
        e = net.population(n_exc, LIF(tau=0.02, v_threshold=1.0, refractory=refractory), name=f"e{k}")
        i = net.population(n_inh, LIF(tau=0.01, v_threshold=1.0, refractory=refractory), name=f"i{k}")
        layers.append((e, i))
        w = weight_scale
        net.connect(e, e, weight=1.5 * w, p=p_recurrent, seed=s + 10 * k + 1, allow_self=False)
        net.connect(e, i, weight=2.0 * w, p=p_recurrent, seed=s + 10 * k + 2)
        net.connect(i, e, weight=-4.0 * w, p=p_recurrent * 2, seed=s + 10 * k + 3)
        net.connect(i, i, weight=-1.0 * w, p=p_recurrent, seed=s + 10 * k + 4, allow_self=False)
    net.connect(x, layers[0][0], weight=6.0, p=0.2, seed=s + 5)
    net.connect(x, layers[0][1], weight=4.0, p=0.2, seed=s + 6)
    pairs = list(zip(layers[:-1], layers[1:]))
    if topology == "ring" and n_layers > 1:
        pairs.append((layers[-1], layers[0]))
    for k, ((e_pre, _), (e_post, i_post)) in enumerate(pairs):
        net.connect(e_pre, e_post, weight=3.0 * weight_scale, p=p_forward, seed=s + 500 + 2 * k)
        net.connect(e_pre, i_post, weight=2.0 * weight_scale, p=p_forward, seed=s + 501 + 2 * k)
    return net
