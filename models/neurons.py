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
        if ref is not None:
            spikes &= active
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


# --------------------------------------------------------------------- extension models
def _field(pn, name: str) -> np.ndarray:
    return np.asarray(getattr(pn.node, name), dtype=np.float64).reshape(-1)


def _optional_decay(pn, field: str, opts) -> np.ndarray:
    """Decay fraction per step for a time constant where 0 means 'feature off' (returns 0 there)."""
    from neuroport.compile import decay_fraction

    tau = _field(pn, field)
    out = np.zeros(pn.size)
    on = tau > 0
    if np.any(~np.isfinite(tau)) or np.any(tau < 0):
        from neuroport.errors import ParameterError

        raise ParameterError(f"{pn.name}.{field}: must be >= 0 s (0 disables it), got {tau[~(tau >= 0)][0]}")
    if on.any():
        out[on] = decay_fraction(pn.name, field, tau[on], opts["dt"], opts["scheme"])
    return out


def _refractory_steps(pn, opts) -> np.ndarray:
    from neuroport.errors import ParameterError

    ref = _field(pn, "refractory")
    if np.any(~np.isfinite(ref)) or np.any(ref < 0):
        raise ParameterError(f"{pn.name}.refractory: must be >= 0 s, got {ref.min()}")
    steps = ref / opts["dt"]
    rounded = np.rint(steps)
    if np.any(np.abs(steps - rounded) > 1e-6 * np.maximum(1.0, rounded)):
        raise ParameterError(
            f"{pn.name}.refractory: {ref.max()} s is not a whole number of steps of dt = {opts['dt']} s"
        )
    return rounded.astype(np.int64)


def _v_init(pn, v_offset) -> np.ndarray:
    v0 = _field(pn, "v_init")
    return np.where(np.isnan(v0), 0.0, v0 - v_offset)


class _SpikingBase:
    """Shared spike / reset / refractory / adaptive-threshold handling of the extension models."""

    def _spike(self, state, c, active=None):
        """Threshold, reset and spike-triggered increments; ``active`` masks out refractory neurons."""
        v = state["v"]
        threshold = c["vth"] + state["theta"] if "theta" in state else c["vth"]
        spikes = v > threshold
        if active is not None:  # a refractory neuron does not spike (matters with reset="subtract")
            spikes &= active
        if spikes.any():
            if c["subtract"]:
                v[spikes] -= threshold[spikes]
            else:
                v[spikes] = 0.0
            if "refractory_left" in state:
                state["refractory_left"][spikes] = c["refractory"][spikes]
            if "theta" in state:
                state["theta"][spikes] += c["theta_plus"][spikes]
            for var, inc in self.spike_increments:
                if var in state:
                    state[var][spikes] += c[inc][spikes]
        return spikes

    @staticmethod
    def _common_init(pop, state):
        p = pop.params
        if np.any(p["refractory"] > 0):
            state["refractory_left"] = np.zeros(pop.size, dtype=np.int64)
        theta0 = pop.param("theta_init", 0.0)
        if np.any(p["theta_decay"] > 0) or np.any(p["theta_plus"] != 0) or np.any(theta0 != 0):
            state["theta"] = np.array(theta0, dtype=np.float64)
        state["v"] = np.array(p["v_init"], dtype=np.float64)
        return state

    @staticmethod
    def _common_consts(pop):
        p = pop.params
        return {"vth": p["v_threshold"], "refractory": p["refractory"], "theta_keep": 1.0 - p["theta_decay"],
                "theta_plus": p["theta_plus"], "subtract": pop.extra.get("reset", "zero") == "subtract",
                "bias": p["bias"], "v_keep": 1.0 - p["dv"]}

    @staticmethod
    def _decay_theta_and_refractory(state, c):
        if "theta" in state:
            state["theta"] *= c["theta_keep"]
        ref = state.get("refractory_left")
        if ref is None:
            return None
        active = ref <= 0
        ref[~active] -= 1
        return active


class AdaptiveLIFModel(_SpikingBase):
    """``neuroport.AdaptiveLIF``: CubaLIF + refractoriness + adaptive threshold + adaptation current.

    Discrete step (``u``, ``w`` in membrane units; ``u_inh`` only with ``tau_syn_inh > 0``)::

        u     = u * (1 - du) + a_exc            u_inh = u_inh * (1 - du_inh) + a_inh
        w     = w * (1 - dw)                    theta = theta * (1 - dtheta)
        v     = v * (1 - dv) + u - u_inh - w + bias     (held while refractory)
        spike = v > v_th + theta  ->  v = 0, w += w_plus, theta += theta_plus
    """

    keys = ("alif",)
    spike_increments = (("w", "w_plus"),)

    def discretize(self, pn, opts):
        dt = opts["dt"]
        from neuroport.compile import decay_fraction

        dv = decay_fraction(pn.name, "tau_mem", _field(pn, "tau_mem"), dt, opts["scheme"])
        r, w_in = _field(pn, "r"), _field(pn, "w_in")
        du = _optional_decay(pn, "tau_syn", opts)
        du_inh = _optional_decay(pn, "tau_syn_inh", opts)
        filtered = du > 0
        du = np.where(filtered, du, 1.0)
        split = bool(np.any(du_inh > 0))
        if split and not np.all(filtered):
            from neuroport.errors import ParameterError

            raise ParameterError(f"{pn.name}: tau_syn_inh needs tau_syn > 0 for every neuron")
        du_inh = np.where(du_inh > 0, du_inh, du)
        v_offset = _field(pn, "v_reset")
        gain = dv * r * w_in * du
        params = {
            "du": du, "du_inh": du_inh, "dv": dv,
            "v_threshold": _field(pn, "v_threshold") - v_offset,
            "bias": dv * (_field(pn, "v_leak") - v_offset), "u_bias": np.zeros(pn.size),
            "refractory": _refractory_steps(pn, opts),
            "theta_decay": _optional_decay(pn, "tau_theta", opts), "theta_plus": _field(pn, "theta_plus"),
            "w_decay": _optional_decay(pn, "tau_adapt", opts), "w_plus": dv * r * _field(pn, "b_adapt"),
            "v_init": _v_init(pn, v_offset), "theta_init": _field(pn, "theta_init"),
        }
        extra = {"ports": ("exc", "inh") if split else ("input",),
                 "bias_target": "u_bias" if np.any(filtered) else "bias"}
        if split:  # the inhibitory current has its own Euler factor dt / tau_syn_inh
            extra["port_gain"] = {"inh": dv * r * w_in * du_inh}
        return params, gain, gain, v_offset, "spikes", extra

    def init_state(self, pop) -> dict:
        n = pop.size
        state = {"u": np.zeros(n)}
        if pop.extra.get("ports") == ("exc", "inh"):
            state["u_inh"] = np.zeros(n)
        if np.any(pop.params["w_decay"] > 0) or np.any(pop.params["w_plus"] != 0):
            state["w"] = np.zeros(n)
        return self._common_init(pop, state)

    def prepare(self, pop) -> dict:
        p = pop.params
        c = self._common_consts(pop)
        c.update({"u_keep": 1.0 - p["du"], "u_inh_keep": 1.0 - p["du_inh"], "w_keep": 1.0 - p["w_decay"],
                  "w_plus": p["w_plus"], "u_bias": p["u_bias"]})
        return c

    def step_float(self, state, a_in, c):
        u, v = state["u"], state["v"]
        u *= c["u_keep"]
        u += a_in["exc"] if isinstance(a_in, dict) else a_in
        u += c["u_bias"]
        if isinstance(a_in, dict):
            state["u_inh"] *= c["u_inh_keep"]
            state["u_inh"] += a_in["inh"]
            drive = u - state["u_inh"]
        else:
            drive = u
        if "w" in state:
            state["w"] *= c["w_keep"]
            drive = drive - state["w"]
        active = self._decay_theta_and_refractory(state, c)
        new_v = v * c["v_keep"] + drive + c["bias"]
        if active is None:
            v[:] = new_v
        else:
            v[active] = new_v[active]
        return self._spike(state, c, active)


class CondLIFModel(_SpikingBase):
    """``neuroport.CondLIF``: conductance-based LIF with refractoriness and adaptation.

    Discrete step (conductances relative to ``g_L``; reversal potentials shifted
    by ``v_reset`` like ``v``)::

        g_e = g_e * (1 - de) + a_exc            g_i = g_i * (1 - di) + a_inh
        g_a = g_a * (1 - da)                    theta = theta * (1 - dtheta)
        v   = v * (1 - dv) + dv * (g_e (E_e - v) + g_i (E_i - v) + g_a (E_a - v)) + bias
        spike = v > v_th + theta  ->  v = 0, g_a += b_adapt, theta += theta_plus
    """

    keys = ("condlif",)
    spike_increments = (("g_adapt", "b_adapt"),)

    def discretize(self, pn, opts):
        from neuroport.compile import decay_fraction

        dt, scheme = opts["dt"], opts["scheme"]
        dv = decay_fraction(pn.name, "tau_mem", _field(pn, "tau_mem"), dt, scheme)
        v_offset = _field(pn, "v_reset")
        params = {
            "dv": dv,
            "de": decay_fraction(pn.name, "tau_exc", _field(pn, "tau_exc"), dt, scheme),
            "di": decay_fraction(pn.name, "tau_inh", _field(pn, "tau_inh"), dt, scheme),
            "da": _optional_decay(pn, "tau_adapt", opts), "b_adapt": _field(pn, "b_adapt"),
            "e_exc": _field(pn, "e_exc") - v_offset, "e_inh": _field(pn, "e_inh") - v_offset,
            "e_adapt": _field(pn, "e_adapt") - v_offset,
            "v_threshold": _field(pn, "v_threshold") - v_offset,
            "bias": dv * (_field(pn, "e_leak") - v_offset),
            "refractory": _refractory_steps(pn, opts),
            "theta_decay": _optional_decay(pn, "tau_theta", opts), "theta_plus": _field(pn, "theta_plus"),
            "v_init": _v_init(pn, v_offset),
            "g_exc_init": _field(pn, "g_exc_init"), "g_inh_init": _field(pn, "g_inh_init"),
        }
        ones = np.ones(pn.size)
        return params, ones, ones, v_offset, "spikes", {"ports": ("exc", "inh"), "bias_target": None}

    def init_state(self, pop) -> dict:
        n = pop.size
        state = {"g_exc": np.array(pop.param("g_exc_init", 0.0), dtype=np.float64),
                 "g_inh": np.array(pop.param("g_inh_init", 0.0), dtype=np.float64)}
        if np.any(pop.params["da"] > 0) or np.any(pop.params["b_adapt"] != 0):
            state["g_adapt"] = np.zeros(n)
        return self._common_init(pop, state)

    def prepare(self, pop) -> dict:
        p = pop.params
        c = self._common_consts(pop)
        c.update({"e_keep": 1.0 - p["de"], "i_keep": 1.0 - p["di"], "a_keep": 1.0 - p["da"], "dv": p["dv"],
                  "e_exc": p["e_exc"], "e_inh": p["e_inh"], "e_adapt": p["e_adapt"], "b_adapt": p["b_adapt"]})
        return c

    def step_float(self, state, a_in, c):
        ge, gi, v = state["g_exc"], state["g_inh"], state["v"]
        ge *= c["e_keep"]
        ge += a_in["exc"]
        gi *= c["i_keep"]
        gi += a_in["inh"]
        current = ge * (c["e_exc"] - v) + gi * (c["e_inh"] - v)
        if "g_adapt" in state:
            ga = state["g_adapt"]
            ga *= c["a_keep"]
            current += ga * (c["e_adapt"] - v)
        active = self._decay_theta_and_refractory(state, c)
        new_v = v * c["v_keep"] + c["dv"] * current + c["bias"]
        if active is None:
            v[:] = new_v
        else:
            v[active] = new_v[active]
        return self._spike(state, c, active)


register(AdaptiveLIFModel())
register(CondLIFModel())
