"""A three-layer digit classifier: input -> heterogeneous adaptive hidden layer -> winner-take-all output.

The network of the seed project that classified digits with heterogeneous
neurons and a winner-take-all output, built with neuroport's public API
(training, label assignment and the comparison with Diehl & Cook are in
:mod:`neuroport.apps.wta_digits`):

* input ``x``: 64 Poisson channels, pixel intensity 0..16 -> 0..``max_rate`` Hz;
* ``x -> hidden``: static, random and sparse (each synapse with probability
  ``input_p``, weight uniform on ``[0, input_weight)``): a fixed random
  feature layer;
* ``hidden``: ``neuroport.LIF`` with an adaptation current (an ``AdaptiveLIF``
  node), every neuron's parameters drawn from :mod:`neuroport.dist`: membrane
  time constant ``normal(tau_hidden, tau_hidden_sd)`` (s, truncated to
  ``>= 5 ms``), threshold ``uniform(threshold_low, threshold_high)``,
  adaptation time constant ``normal(tau_adapt, tau_adapt_sd)`` (s, ``>= 20 ms``)
  and jump ``b_adapt``;
* ``hidden -> out``: ``neuroport.PlasticLinear`` with the Diehl & Cook rule
  (``dW = eta * (x_pre - x_tar) * (w_max - W) ** mu`` on a post spike), each
  neuron's weights rescaled to sum ``weight_sum`` after every sample;
* ``out``: LIF with an adaptive threshold (``theta`` += ``theta_plus`` per
  spike, never decays) and lateral inhibition from
  :meth:`neuroport.Network.winner_take_all`: ``lateral="uniform"`` (every
  output neuron inhibits every other with ``inhibition``) or
  ``"mexican_hat"`` (a ring: excitation ``a_e`` within ``sigma_e``,
  inhibition ``inhibition`` within ``sigma_i``), ``via="direct"`` or
  ``"population"`` (an inhibitory relay population, as Diehl & Cook's paper).

Units: a spike through weight ``w`` raises ``v`` by ``w * dt / tau`` (NIR
``LIF``, ``r = 1``, forward Euler), thresholds in that unit.

>>> from neuroport.models.networks import wta_digits
>>> net = wta_digits.build(wta_digits.Config(hidden=20, neurons=10), seed=0)
>>> sorted(net.to_nir().nodes)
['hidden', 'hidden->out', 'out', 'out.wta', 'x', 'x->hidden']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import neuroport
from neuroport import dist, lateral
from neuroport.errors import ParameterError
from neuroport.nodes import PlasticLinear

__all__ = ["Config", "build"]


@dataclass(frozen=True)
class Config:
    """Network and training parameters (time in s, rates in Hz, weights and thresholds in graph units)."""

    hidden: int = 300  #: hidden (adaptive, heterogeneous) neurons
    neurons: int = 100  #: output (WTA) neurons
    steps: int = 100  #: presentation time per sample, steps of dt
    dt: float = 1e-3
    max_rate: float = 250.0  #: rate of a pixel of intensity 16
    min_spikes: int = 3  #: fewer output spikes: show the sample again, faster
    boost_rate: float = 100.0
    max_boosts: int = 3
    input_p: float = 0.05  #: connection probability x -> hidden
    input_weight: float = 6.0  #: x -> hidden weights uniform on [0, input_weight)
    tau_hidden: float = 20e-3
    tau_hidden_sd: float = 4e-3
    threshold_low: float = 0.8
    threshold_high: float = 1.2
    tau_adapt: float = 0.1
    tau_adapt_sd: float = 0.02
    b_adapt: float = 0.2  #: adaptation jump per spike (v units, ``r * w`` subtracted from the drive)
    tau_out: float = 0.1
    v_threshold: float = 0.25
    theta_plus: float = 0.01
    lateral: str = "uniform"  #: "uniform" or "mexican_hat"
    via: str = "direct"  #: "direct" or "population"
    inhibition: float = 50.0  #: strength (uniform) or a_i (mexican_hat)
    a_e: float = 0.0  #: mexican_hat excitation amplitude
    sigma_e: float = 1.0
    sigma_i: float = 1e3  #: mexican_hat inhibition width (large: nearly uniform)
    w_max: float = 1.0
    weight_sum: float = 30.0  #: each output neuron's incoming weights sum to this after every sample
    eta: float = 0.005
    x_tar: float = 0.4
    mu: float = 1.0
    a_minus: float = 0.0
    tau_pre: float = 0.02
    tau_post: float = 0.02
    test_fraction: float = 0.2


def kernel(config: Config):
    """The lateral kernel of the output layer (:mod:`neuroport.lateral`)."""
    c = config
    if c.lateral == "uniform":
        return lateral.uniform(c.inhibition)
    if c.lateral == "mexican_hat":
        return lateral.mexican_hat(sigma_e=c.sigma_e, sigma_i=c.sigma_i, a_e=c.a_e, a_i=c.inhibition)
    raise ParameterError(f"Config.lateral: expected 'uniform' or 'mexican_hat', got {c.lateral!r}")


def build(config: Config = Config(), *, seed: int = 0) -> neuroport.Network:
    """The untrained network: ``x`` (64) -> ``hidden`` (static) -> ``out`` (plastic) with WTA inhibition."""
    c = config
    net = neuroport.Network(metadata={"neuroport.description": "three-layer WTA digit classifier"})
    x = net.input(64, name="x")
    hidden = net.population(c.hidden, neuroport.LIF(
        tau=dist.normal(c.tau_hidden, c.tau_hidden_sd, low=5e-3),
        v_threshold=dist.uniform(c.threshold_low, c.threshold_high),
        tau_adapt=dist.normal(c.tau_adapt, c.tau_adapt_sd, low=20e-3), b_adapt=c.b_adapt), name="hidden", seed=seed)
    net.connect(x, hidden, weight=lambda rng, n: rng.uniform(0.0, c.input_weight, n), p=c.input_p, seed=seed + 1)
    out = net.population(c.neurons, neuroport.LIF(tau=c.tau_out, v_threshold=c.v_threshold, tau_theta=0.0,
                                                  theta_plus=c.theta_plus), name="out")
    net.winner_take_all(out, kernel(c), via=c.via)
    w = np.random.default_rng(seed).uniform(0.0, 0.3, size=(c.neurons, c.hidden))
    w *= c.weight_sum / w.sum(axis=1, keepdims=True)
    net.nodes["hidden->out"] = PlasticLinear(weight=np.minimum(w, c.w_max), rule="diehl_cook", eta=c.eta,
                                             x_tar=c.x_tar, mu=c.mu, a_minus=c.a_minus, tau_pre=c.tau_pre,
                                             tau_post=c.tau_post, w_min=0.0, w_max=c.w_max)
    net.edges += [(hidden, "hidden->out"), ("hidden->out", out)]
    return net
