"""Neuron models: each written once, with its discrete float step.

The LIF family (NIR's LIF, CubaLIF, IF, LI, CubaLI, I and Threshold) shares
one discrete update; the differences live in the parameters that
:func:`neuroport.compile` produces (see ``docs/semantics.md``):

.. math::

    u[t] = u[t-1] (1 - d_u) + a_{in}[t] + u_{bias}

    v[t] = v[t-1] (1 - d_v) + u[t] + bias \\quad \\text{(held at 0 while refractory)}

    s[t] = v[t] > v_{th}; \\quad v \\leftarrow 0 \\;(\\text{reset="zero"}) \\text{ or } v - v_{th}
    \\;(\\text{reset="subtract"})

States are shifted so that the reset value is 0 (add ``Population.v_offset``
to report the membrane potential). Each model exposes:

``state_names``       names of the state arrays
``init_state(pop)``   dict of float64 arrays of shape ``(size,)``
``step_float(state, a_in, pop, cache)``   advances one step in place and
                       returns the boolean spike vector (or ``None`` for a
                       non-spiking model)

The fixed-point step lives beside it (see :mod:`neuroport.models.fixed`).
"""

from __future__ import annotations

import numpy as np

from neuroport.errors import UnsupportedNodeError


class LIFFamily:
    """Discrete LIF-family dynamics shared by all NIR neuron primitives."""

    state_names = ("u", "v")
    keys = ("lif", "cubalif", "if", "li", "cubali", "integrator", "threshold")

    def init_state(self, pop) -> dict:
        n = pop.size
        state = {"u": np.zeros(n), "v": np.zeros(n)}
        if np.any(pop.param("refractory", 0) > 0):
            state["refractory_left"] = np.zeros(n, dtype=np.int64)
        return state

    def prepare(self, pop) -> dict:
        """Constants precomputed once per run (shape ``(size,)`` each)."""
        return {
            "u_keep": 1.0 - pop.param("du", 1.0),
            "v_keep": 1.0 - pop.param("dv", 1.0),
            "bias": pop.param("bias", 0.0),
            "u_bias": pop.param("u_bias", 0.0),
            "vth": pop.param("v_threshold", np.inf),
            "refractory": pop.param("refractory", 0).astype(np.int64),
            "subtract": pop.extra.get("reset", "zero") == "subtract",
            "spiking": pop.emits == "spikes",
            "has_u_bias": bool(np.any(pop.param("u_bias", 0.0))),
        }

    def step_float(self, state: dict, a_in: np.ndarray, c: dict):
        u, v = state["u"], state["v"]
        # Same operation order as Lava's PyLifModelFloat: decay, then add.
        u *= c["u_keep"]
        u += a_in
        if c["has_u_bias"]:
            u += c["u_bias"]
        ref = state.get("refractory_left")
        if ref is None:
            v *= c["v_keep"]
            v += u
            v += c["bias"]
        else:
            active = ref <= 0
            v[active] = v[active] * c["v_keep"][active] + u[active] + c["bias"][active]
            ref[~active] -= 1
        if not c["spiking"]:
            return None
        spikes = v > c["vth"]
        if spikes.any():
            if c["subtract"]:
                v[spikes] -= c["vth"][spikes]
            else:
                v[spikes] = 0.0
            if ref is not None:
                ref[spikes] = c["refractory"][spikes]
        return spikes


_MODELS = {}


def register(model) -> None:
    """Register a model object under each of its ``keys``."""
    for key in model.keys:
        _MODELS[key] = model


register(LIFFamily())


def get(key: str):
    """The model registered for ``key``."""
    try:
        return _MODELS[key]
    except KeyError:
        raise UnsupportedNodeError(f"no neuron model {key!r}; known: {', '.join(sorted(_MODELS))}") from None


def discretize_extension(pn, opts):
    """Discretise a population of a neuroport extension model (see ``models``)."""
    model = _MODELS.get(pn.model)
    if model is None or not hasattr(model, "discretize"):
        raise UnsupportedNodeError(
            f"node {pn.name!r}: model {pn.model!r} has no discretisation; known: {', '.join(sorted(_MODELS))}"
        )
    return model.discretize(pn, opts)
