"""A neuron model's continuous-time equations, as text in Brian2's equation syntax.

Each model file (``lif.py``, ``adaptive_lif.py``, ``cond_lif.py``) has a method
``equations(pn, reset)`` that turns one population node into an
:class:`Equations`: the equations of the membrane group, optionally of a first
group (``syn``: synaptic currents, conductances and the adaptation variable,
integrated *before* the membrane so that ``v`` sees this step's values, as the
discrete order of docs/semantics.md does), the threshold, the reset and the
refractory period. Time in seconds, voltages in the graph's units. This module
holds the type, the parameter helpers and the fragments the models share; it
is pure strings and numpy (``brian2`` is imported only by
``neuroport.backends.brian2``, which generates the Brian2 objects from it; see
``docs/brian2.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neuroport.discretize import node_param
from neuroport.errors import ParameterError


@dataclass
class Equations:
    """Continuous-time equations of one population.

    ``params`` names ending in ``_s`` carry seconds, in ``_hz`` hertz.
    ``ports`` maps a Program port (``input``, or ``exc``/``inh``) to the
    variable an arriving spike adds its weight to and how:
    ``"current"`` (accumulated in ``J``-like variables held over the step and
    cleared after the integration) or ``"jump"`` (added to a conductance right
    after the conductance's own decay, before the membrane update).
    ``input_group`` says which group holds the input variables.
    ``probes`` maps a probe name to ``("main" | "syn", variable)``.
    """

    equations: str
    params: dict
    threshold: str | None = None
    v_init: np.ndarray | None = None
    v_reset: np.ndarray | None = None
    v_threshold: np.ndarray | None = None
    syn: "Equations | None" = None  # integrated first; its variables in ``linked`` are linked into the main group
    no_ode: str | None = None  # code run instead of an ODE (Threshold: v = Jin)
    method: str | None = None  # integration method regardless of the scheme (IF: Euler is exact)
    linked: tuple = ("I",)
    ports: dict = field(default_factory=lambda: {"input": ("J", "current")})
    input_group: str = "main"
    reset_extra: str = ""  # run after the v reset (theta += ..., linked adaptation += ...)
    subtract: str = "v_threshold - v_reset"  # what reset="subtract" removes from v
    refractory_s: np.ndarray | None = None  # the graph's refractory period (s), v clamped (unless refractory)
    init: dict = field(default_factory=dict)  # (group, var) -> initial values
    probes: dict = field(default_factory=lambda: {"v": ("main", "v")})

    @property
    def clear_vars(self) -> list:
        return [var for var, kind in self.ports.values() if kind == "current"]

    def reset_code(self, reset: str) -> str:
        """Reset statements: ``v`` first (using ``theta`` before its jump), then the model's increments."""
        first = "v = v_reset\n" if reset == "zero" else f"v -= ({self.subtract})\n"
        return first + self.reset_extra


def param(pn, field_name: str, default=None) -> np.ndarray:
    """Field ``field_name`` of population ``pn``'s node, ``(pn.size,)`` float64 (``v_init`` may be NaN)."""
    return node_param(pn.name, pn.node, field_name, pn.size, default, finite=field_name != "v_init")


def tau(pn, field_name: str) -> np.ndarray:
    """A time constant (s), refused unless > 0."""
    value = param(pn, field_name)
    if np.any(value <= 0):
        raise ParameterError(f"{pn.name}.{field_name}: time constants must be > 0 s, got {value.min()}")
    return value


def rate(pn, field_name: str) -> np.ndarray:
    """``1 / tau`` in Hz for an optional time constant (0 s: the feature is off, rate 0)."""
    value = param(pn, field_name, 0.0)
    if np.any(value < 0):
        raise ParameterError(f"{pn.name}.{field_name}: must be >= 0 s (0 disables it), got {value.min()}")
    return np.where(value > 0, 1.0 / np.where(value > 0, value, 1.0), 0.0)


LEAKY_V = "dv/dt = (v_leak - v + r * {inp}) / tau_s : 1\n"
PARAMS_LEAKY = "tau_s : second (constant)\nv_leak : 1 (constant)\nr : 1 (constant)\n"
INPUT_VARS = "J : 1\nJb : 1 (constant)\n"  # + "Jin = J + Jb [+ Jg<k>...] : 1", added by the lowering
SPIKE_VARS = "v_threshold : 1 (constant)\nv_reset : 1 (constant)\n"
SYN_CURRENT = "dI/dt = (w_in * Jin - I) / tau_syn_s : 1\ntau_syn_s : second (constant)\nw_in : 1 (constant)\n"


def syn_current(pn) -> Equations:
    """The first group of a current-based model: ``tau_syn dI/dt = w_in Jin - I``."""
    return Equations(SYN_CURRENT + INPUT_VARS, {"tau_syn_s": tau(pn, "tau_syn"), "w_in": param(pn, "w_in", 1.0)})


def finish(pn, eqs, params, spiking) -> Equations:
    """The membrane group: with ``v > v_threshold`` and ``v_reset`` when ``spiking``, else none."""
    if not spiking:
        return Equations(eqs, params, None, np.zeros(pn.size))
    v_reset = param(pn, "v_reset", 0.0)
    return Equations(eqs + SPIKE_VARS, params, "v > v_threshold", v_reset.copy(), v_reset,
                     param(pn, "v_threshold"))


def spiking_extras(pn, spec: Equations) -> Equations:
    """Probes of the linked variables, adaptive threshold ``theta``, refractoriness and ``v_init``
    shared by AdaptiveLIF and CondLIF."""
    spec.probes = {"v": ("main", "v"), **{name: ("syn", name) for name in spec.linked}}
    theta_plus = param(pn, "theta_plus", 0.0)
    theta_init = param(pn, "theta_init", 0.0) if hasattr(pn.node, "theta_init") else np.zeros(pn.size)
    k_theta = rate(pn, "tau_theta")
    if np.any(k_theta > 0) or np.any(theta_plus != 0) or np.any(theta_init != 0):
        spec.equations += "dtheta/dt = -theta * k_theta_hz : 1\nk_theta_hz : hertz (constant)\n" \
                          "theta_plus : 1 (constant)\n"
        spec.params.update({"k_theta_hz": k_theta, "theta_plus": theta_plus})
        spec.threshold = "v > v_threshold + theta"
        spec.subtract = "v_threshold + theta - v_reset"
        spec.reset_extra = "theta += theta_plus\n" + spec.reset_extra
        spec.init[("main", "theta")] = theta_init
        spec.probes["theta"] = ("main", "theta")
    ref = param(pn, "refractory", 0.0)
    if np.any(ref < 0):
        raise ParameterError(f"{pn.name}.refractory: must be >= 0 s, got {ref.min()}")
    if np.any(ref > 0):
        spec.equations = spec.equations.replace(" : 1\n", " : 1 (unless refractory)\n", 1)  # the dv/dt line
        spec.refractory_s = ref
    v_init = param(pn, "v_init", np.nan)
    spec.v_init = np.where(np.isnan(v_init), spec.v_reset, v_init)
    return spec
