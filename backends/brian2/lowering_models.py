"""Brian2 equations per neuron model, from the graph's continuous-time parameters.

One function per model key (registered with :func:`register_model`) turns a
population node into a :class:`ModelSpec`: the Brian2 equations of the
membrane group, optionally of a first group (``syn``: synaptic currents,
conductances and the adaptation variable, integrated *before* the membrane so
that ``v`` sees this step's values, as the discrete order of DESIGN section 3
does), the threshold, the reset and the refractory period. Time in seconds,
voltages in the graph's units. See ``docs/brian2.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neuroport.errors import GraphError, ParameterError, UnsupportedNodeError

_MODELS: dict = {}


def register_model(key: str):
    """Decorator: ``fn(pn, reset) -> ModelSpec`` lowering a population of model ``key``."""

    def deco(fn):
        _MODELS[key] = fn
        return fn

    return deco


def supported_models() -> list:
    return sorted(_MODELS)


@dataclass
class ModelSpec:
    """Brian2 equations of one population.

    ``params`` names ending in ``_s`` carry seconds, in ``_hz`` hertz.
    ``ports`` maps a Program port (``input``, or ``exc``/``inh``) to the
    Brian2 variable an arriving spike adds its weight to and how:
    ``"current"`` (accumulated in ``J``-like variables held over the step and
    cleared after the integration) or ``"jump"`` (added to a conductance right
    after the conductance's own decay, before the membrane update).
    ``input_group`` says which group holds the input variables.
    ``probes`` maps a probe name to ``("main" | "syn", brian2 variable)``.
    """

    equations: str
    params: dict
    threshold: str | None = None
    v_init: np.ndarray | None = None
    v_reset: np.ndarray | None = None
    v_threshold: np.ndarray | None = None
    syn: "ModelSpec | None" = None  # integrated first; its variables in ``linked`` are linked into the main group
    no_ode: str | None = None  # code run instead of an ODE (Threshold: v = Jin)
    method: str | None = None  # Brian2 method regardless of the scheme (IF: Euler is exact)
    linked: tuple = ("I",)
    ports: dict = field(default_factory=lambda: {"input": ("J", "current")})
    input_group: str = "main"
    reset_extra: str = ""  # run after the v reset (theta += ..., linked adaptation += ...)
    subtract: str = "v_threshold - v_reset"  # what reset="subtract" removes from v
    refractory_s: np.ndarray | None = None  # seconds Brian2 keeps v clamped (see docs: refractory + dt)
    init: dict = field(default_factory=dict)  # (group, var) -> initial values
    probes: dict = field(default_factory=lambda: {"v": ("main", "v")})

    @property
    def clear_vars(self) -> list:
        return [var for var, kind in self.ports.values() if kind == "current"]


def _param(pn, field_name: str, default=None) -> np.ndarray:
    value = getattr(pn.node, field_name, None)
    if value is None:
        if default is None:
            raise ParameterError(f"{pn.name}.{field_name}: missing")
        value = default
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size == 1 and pn.size != 1:
        arr = np.full(pn.size, arr[0])
    if arr.size != pn.size:
        raise GraphError(f"{pn.name}.{field_name}: expected {pn.size} values, got shape {np.shape(value)}")
    if not np.all(np.isfinite(arr)) and field_name != "v_init":
        raise ParameterError(f"{pn.name}.{field_name}: must be finite")
    return arr


def _tau(pn, field_name: str) -> np.ndarray:
    tau = _param(pn, field_name)
    if np.any(tau <= 0):
        raise ParameterError(f"{pn.name}.{field_name}: time constants must be > 0 s, got {tau.min()}")
    return tau


def _rate(pn, field_name: str) -> np.ndarray:
    """``1 / tau`` in Hz for an optional time constant (0 s: the feature is off, rate 0)."""
    tau = _param(pn, field_name, 0.0)
    if np.any(tau < 0):
        raise ParameterError(f"{pn.name}.{field_name}: must be >= 0 s (0 disables it), got {tau.min()}")
    return np.where(tau > 0, 1.0 / np.where(tau > 0, tau, 1.0), 0.0)


_LEAKY_V = "dv/dt = (v_leak - v + r * {inp}) / tau_s : 1\n"
_PARAMS_LEAKY = "tau_s : second (constant)\nv_leak : 1 (constant)\nr : 1 (constant)\n"
INPUT_VARS = "J : 1\nJb : 1 (constant)\n"  # + "Jin = J + Jb [+ Jg<k>...] : 1", added by lower()
_SPIKE_VARS = "v_threshold : 1 (constant)\nv_reset : 1 (constant)\n"


def _syn_spec(pn) -> ModelSpec:
    eqs = "dI/dt = (w_in * Jin - I) / tau_syn_s : 1\ntau_syn_s : second (constant)\nw_in : 1 (constant)\n"
    return ModelSpec(eqs + INPUT_VARS, {"tau_syn_s": _tau(pn, "tau_syn"), "w_in": _param(pn, "w_in", 1.0)})


@register_model("lif")
@register_model("li")
def _leaky(pn, reset="zero") -> ModelSpec:
    spiking = pn.model == "lif"
    params = {"tau_s": _tau(pn, "tau"), "v_leak": _param(pn, "v_leak"), "r": _param(pn, "r")}
    eqs = _LEAKY_V.format(inp="Jin") + _PARAMS_LEAKY + INPUT_VARS
    return _finish(pn, eqs, params, spiking)


@register_model("cubalif")
@register_model("cubali")
def _cuba(pn, reset="zero") -> ModelSpec:
    spiking = pn.model == "cubalif"
    params = {"tau_s": _tau(pn, "tau_mem"), "v_leak": _param(pn, "v_leak"), "r": _param(pn, "r")}
    eqs = _LEAKY_V.format(inp="I") + _PARAMS_LEAKY + "I : 1 (linked)\n"
    spec = _finish(pn, eqs, params, spiking)
    spec.syn = _syn_spec(pn)
    spec.input_group = "syn"
    spec.probes = {"v": ("main", "v"), "I": ("syn", "I")}
    return spec


@register_model("if")
@register_model("integrator")
def _integrate(pn, reset="zero") -> ModelSpec:
    spiking = pn.model == "if"
    eqs = "dv/dt = r * Jin / second : 1\nr : 1 (constant)\n" + INPUT_VARS
    spec = _finish(pn, eqs, {"r": _param(pn, "r")}, spiking)
    spec.method = "euler"  # the right-hand side is constant over a step: Euler is exact here
    return spec


@register_model("threshold")
def _threshold(pn, reset="zero") -> ModelSpec:
    spec = ModelSpec("v : 1\n" + INPUT_VARS + _SPIKE_VARS, {}, "v > v_threshold",
                     np.zeros(pn.size), np.zeros(pn.size), _param(pn, "threshold"))
    spec.no_ode = "v = Jin"
    return spec


def _finish(pn, eqs, params, spiking) -> ModelSpec:
    if not spiking:
        return ModelSpec(eqs, params, None, np.zeros(pn.size))
    v_reset = _param(pn, "v_reset", 0.0)
    return ModelSpec(eqs + _SPIKE_VARS, params, "v > v_threshold", v_reset.copy(), v_reset,
                     _param(pn, "v_threshold"))


# ---------------------------------------------------------------- extension models
def _spiking_extras(pn, spec: ModelSpec, dt: float) -> ModelSpec:
    """Adaptive threshold ``theta``, refractoriness and ``v_init`` shared by AdaptiveLIF and CondLIF."""
    theta_plus = _param(pn, "theta_plus", 0.0)
    theta_init = _param(pn, "theta_init", 0.0) if hasattr(pn.node, "theta_init") else np.zeros(pn.size)
    k_theta = _rate(pn, "tau_theta")
    if np.any(k_theta > 0) or np.any(theta_plus != 0) or np.any(theta_init != 0):
        spec.equations += "dtheta/dt = -theta * k_theta_hz : 1\nk_theta_hz : hertz (constant)\n" \
                          "theta_plus : 1 (constant)\n"
        spec.params.update({"k_theta_hz": k_theta, "theta_plus": theta_plus})
        spec.threshold = "v > v_threshold + theta"
        spec.subtract = "v_threshold + theta - v_reset"
        spec.reset_extra = "theta += theta_plus\n" + spec.reset_extra
        spec.init[("main", "theta")] = theta_init
        spec.probes["theta"] = ("main", "theta")
    ref = _param(pn, "refractory", 0.0)
    if np.any(ref < 0):
        raise ParameterError(f"{pn.name}.refractory: must be >= 0 s, got {ref.min()}")
    if np.any(ref > 0):
        steps = np.rint(ref / dt)
        spec.equations = spec.equations.replace(" : 1\n", " : 1 (unless refractory)\n", 1)  # the dv/dt line
        # neuroport holds v for refractory/dt steps after the spike step; Brian2 integrates again once
        # timestep(t - lastspike) >= timestep(refractory), i.e. holds refractory/dt - 1 steps: add one dt
        spec.refractory_s = (steps + 1.0) * dt
    v_init = _param(pn, "v_init", np.nan)
    spec.v_init = np.where(np.isnan(v_init), spec.v_reset, v_init)
    return spec


@register_model("alif")
def _alif(pn, reset="zero", dt=None) -> ModelSpec:
    tau_syn = _param(pn, "tau_syn", 0.0)
    filtered = tau_syn > 0
    if filtered.any() and not filtered.all():
        raise UnsupportedNodeError(f"{pn.name}: backend 'brian2' needs tau_syn > 0 for every neuron or for none "
                                   "(a population mixing filtered and unfiltered input)")
    k_inh = _rate(pn, "tau_syn_inh")
    split = bool(np.any(k_inh > 0))
    k_adapt, b_adapt = _rate(pn, "tau_adapt"), _param(pn, "b_adapt", 0.0)
    adapt = bool(np.any(k_adapt > 0) or np.any(b_adapt != 0))
    params = {"tau_s": _tau(pn, "tau_mem"), "v_leak": _param(pn, "v_leak", 0.0), "r": _param(pn, "r", 1.0)}
    w_in = _param(pn, "w_in", 1.0)
    syn_eqs, syn_params, linked, drive = "", {}, [], []
    ports = {"input": ("J", "current")}
    if filtered.all():
        syn_eqs += "dI/dt = (w_in * Jin - I) / tau_syn_s : 1\ntau_syn_s : second (constant)\nw_in : 1 (constant)\n"
        syn_params.update({"tau_syn_s": tau_syn, "w_in": w_in})
        linked.append("I")
        drive.append("I")
        if split:
            # the natural continuous form: tau_syn_inh dI_inh/dt = w_in J_inh - I_inh (see docs/brian2.md)
            tau_inh = np.where(k_inh > 0, 1.0 / np.where(k_inh > 0, k_inh, 1.0), tau_syn)
            syn_eqs += "dI_inh/dt = (w_in * Ji - I_inh) / tau_inh_s : 1\ntau_inh_s : second (constant)\nJi : 1\n"
            syn_params["tau_inh_s"] = tau_inh
            linked.append("I_inh")
            drive.append("- I_inh")
            ports = {"exc": ("J", "current"), "inh": ("Ji", "current")}
    else:
        drive.append("w_in * Jin")
        params["w_in"] = w_in
    if adapt:
        syn_eqs += "dw_adapt/dt = -w_adapt * k_adapt_hz : 1\nk_adapt_hz : hertz (constant)\n"
        syn_params["k_adapt_hz"] = k_adapt
        linked.append("w_adapt")
        drive.append("- w_adapt")
        params["b_adapt"] = b_adapt
    eqs = _LEAKY_V.format(inp="(" + " ".join(drive) + ")") + _PARAMS_LEAKY
    eqs += "".join(f"{name} : 1 (linked)\n" for name in linked)
    if "w_in" in params:
        eqs += "w_in : 1 (constant)\n"
    if adapt:
        eqs += "b_adapt : 1 (constant)\n"
    v_reset = _param(pn, "v_reset", 0.0)
    spec = ModelSpec(eqs + _SPIKE_VARS + ("" if filtered.all() else INPUT_VARS), params, "v > v_threshold",
                     None, v_reset, _param(pn, "v_threshold"), linked=tuple(linked), ports=ports,
                     reset_extra="w_adapt += b_adapt\n" if adapt else "")
    if filtered.all() or adapt:
        spec.syn = ModelSpec(syn_eqs + (INPUT_VARS if filtered.all() else ""), syn_params)
    spec.input_group = "syn" if filtered.all() else "main"
    spec.probes = {"v": ("main", "v"), **{name: ("syn", name) for name in linked}}
    return _spiking_extras(pn, spec, dt)


@register_model("condlif")
def _condlif(pn, reset="zero", dt=None) -> ModelSpec:
    k_adapt, b_adapt = _rate(pn, "tau_adapt"), _param(pn, "b_adapt", 0.0)
    adapt = bool(np.any(k_adapt > 0) or np.any(b_adapt != 0))
    syn_eqs = ("dg_exc/dt = -g_exc / tau_exc_s : 1\ndg_inh/dt = -g_inh / tau_inh_s : 1\n"
               "tau_exc_s : second (constant)\ntau_inh_s : second (constant)\n")
    syn_params = {"tau_exc_s": _tau(pn, "tau_exc"), "tau_inh_s": _tau(pn, "tau_inh")}
    current = "(e_leak - v) + g_exc * (e_exc - v) + g_inh * (e_inh - v)"
    linked = ["g_exc", "g_inh"]
    params = {"tau_s": _tau(pn, "tau_mem"), "e_leak": _param(pn, "e_leak"), "e_exc": _param(pn, "e_exc"),
              "e_inh": _param(pn, "e_inh")}
    extra_eqs = ""
    if adapt:
        syn_eqs += "dg_adapt/dt = -g_adapt * k_adapt_hz : 1\nk_adapt_hz : hertz (constant)\n"
        syn_params["k_adapt_hz"] = k_adapt
        current += " + g_adapt * (e_adapt - v)"
        linked.append("g_adapt")
        params.update({"e_adapt": _param(pn, "e_adapt", 0.0), "b_adapt": b_adapt})
        extra_eqs = "e_adapt : 1 (constant)\nb_adapt : 1 (constant)\n"
    eqs = (f"dv/dt = ({current}) / tau_s : 1\ntau_s : second (constant)\ne_leak : 1 (constant)\n"
           "e_exc : 1 (constant)\ne_inh : 1 (constant)\n" + extra_eqs
           + "".join(f"{name} : 1 (linked)\n" for name in linked) + _SPIKE_VARS)
    spec = ModelSpec(eqs, params, "v > v_threshold", None, _param(pn, "v_reset"), _param(pn, "v_threshold"),
                     syn=ModelSpec(syn_eqs, syn_params), linked=tuple(linked),
                     ports={"exc": ("g_exc", "jump"), "inh": ("g_inh", "jump")}, input_group="syn",
                     reset_extra="g_adapt += b_adapt\n" if adapt else "")
    spec.init[("syn", "g_exc")] = _param(pn, "g_exc_init", 0.0)
    spec.init[("syn", "g_inh")] = _param(pn, "g_inh_init", 0.0)
    spec.probes = {"v": ("main", "v"), **{name: ("syn", name) for name in linked}}
    return _spiking_extras(pn, spec, dt)


def build_spec(pn, *, reset: str, dt: float) -> ModelSpec:
    """The :class:`ModelSpec` of population ``pn`` (``UnsupportedNodeError`` for an unknown model)."""
    fn = _MODELS.get(pn.model)
    if fn is None:
        raise UnsupportedNodeError(
            f"node {pn.name!r}: model {pn.model!r} has no Brian2 lowering; supported: {', '.join(supported_models())}")
    if pn.model in ("alif", "condlif"):
        return fn(pn, reset, dt=dt)
    return fn(pn)


def reset_code(spec: ModelSpec, reset: str) -> str:
    """Reset statements: ``v`` first (using ``theta`` before its jump), then the model's increments."""
    first = "v = v_reset\n" if reset == "zero" else f"v -= ({spec.subtract})\n"
    return first + spec.reset_extra
