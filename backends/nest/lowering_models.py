"""Each population's NEST model and parameters, from its neuron model's continuous-time equations.

The equations live in the model files (``equations(pn, reset)`` of
:mod:`neuroport.models.lif`, :mod:`~neuroport.models.adaptive_lif`,
:mod:`~neuroport.models.cond_lif`); this module reads their parameters (time
in s, voltages in the graph's unit) and writes the NEST model's parameters in
NEST's units (ms, mV, pA, nS, pF). The translation table, with the reasons,
is ``docs/nest.md``.

Unit convention: the graph's voltage unit is read as mV. A current-based
neuron gets ``C_m = tau_m`` (pF per ms), so its membrane resistance
``tau_m / C_m`` is 1 GOhm and a current of ``x`` pA moves ``v`` like a drive
``r I = x`` in graph units; a conductance-based neuron gets ``g_L = 1 nS`` and
``C_m = tau_mem * g_L``, so a conductance relative to the leak (the graph's
``g``) is the same number in nS.

Input convention: neuroport's input spike is the value 1.0 held over its
step (the piecewise-constant current of the Brian2 lowering). NEST takes a
spike as a jump at the end of its arrival step, so a jump of the size the
one-step pulse leaves behind is given: ``w (1 - exp(-dt / tau_mem))`` added
to ``v`` at the end of the step (``LIF``: ``iaf_psc_delta``), or
``w dt / tau_syn`` added to the synaptic current at the start of the step,
the pulse's charge (``CubaLIF``: ``iaf_psc_exp``); conductances jump by ``w`` at the start
of the step, as they do in the graph (:mod:`.lowering` has the time grid).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neuroport.discretize import refractory_steps
from neuroport.errors import UnsupportedNodeError
from neuroport.models import neurons

MS = 1e3  #: ms per s

#: neuroport model key -> what the NEST backend runs it as (docs/nest.md).
SUPPORTED = {
    "lif": "iaf_psc_delta",
    "cubalif": "iaf_psc_exp",
    "alif": "iaf_psc_delta / iaf_psc_exp, aeif_psc_delta / aeif_psc_exp with an adaptation current",
    "condlif": "iaf_cond_exp, iaf_cond_exp_sfa_rr with an adaptation conductance",
}


@dataclass
class NestPopulation:
    """One population as NEST runs it.

    Attributes
    ----------
    model : str
        NEST neuron model name.
    params : dict[str, numpy.ndarray]
        NEST parameters, each ``(size,)``, in NEST units (ms, mV, pA, nS, pF).
    weight_scale : dict[str, numpy.ndarray]
        ``"exc"`` / ``"inh"`` -> ``(size,)`` NEST weight (mV, pA or nS) per unit of graph weight,
        by post neuron, for weights ``>= 0`` / ``< 0`` (the sign is kept: NEST routes by it).
    bias_scale : numpy.ndarray or None
        ``(size,)`` pA of ``I_e`` per unit of constant (Affine bias) input; ``None``: none possible.
    probes : dict[str, tuple[str, numpy.ndarray]]
        neuroport state name -> (NEST recordable, ``(size,)`` factor to graph units).
    """

    model: str
    params: dict
    weight_scale: dict
    bias_scale: np.ndarray | None
    probes: dict = field(default_factory=dict)
    #: True: neuroport adds an arriving spike to a synaptic state at the start of its step, which the
    #: membrane then integrates (current- and conductance-based models); False: it adds it to ``v`` at the
    #: end of the step (delta synapses). Decides when NEST must deliver it (:mod:`.lowering`).
    input_at_start: bool = True


def _jump(tau_s: np.ndarray, dt: float) -> np.ndarray:
    """What a one-step unit pulse leaves in a state of time constant ``tau_s`` (s): ``1 - exp(-dt/tau)``
    (NEST adds the jump at the end of the step: the delta-synapse membrane)."""
    return -np.expm1(-dt / tau_s)


def _jump_at_start(tau_s: np.ndarray, dt: float) -> np.ndarray:
    """The jump at the start of a step with the charge of a one-step unit pulse: ``dt / tau``
    (``tau dI/dt = -I + pulse``: both integrate to ``dt``; the synaptic current). It lies between
    ``1 - exp(-dt/tau)`` (what the pulse leaves at its end) and ``exp(dt/tau) - 1`` (the jump that
    leaves that much after its step's decay), nearest to the pulse's effect on ``v``."""
    return dt / tau_s


def _refuse(pn, what: str, fix: str):
    raise UnsupportedNodeError(f"node {pn.name!r} ({pn.model}): {what} has no NEST counterpart in backend 'nest'; "
                               f"{fix}")


def _refractory_ms(pn, spec, dt: float) -> np.ndarray:
    """NEST's ``t_ref`` (ms): the whole steps neuroport holds ``v`` for (``refractory_steps``)."""
    if spec.refractory_s is None:
        return np.zeros(pn.size)
    return refractory_steps(pn, {"dt": dt}) * dt * MS


def _membrane(pn, spec, dt: float) -> dict:
    """Parameters every spiking model shares: threshold, reset, initial ``v``, refractory period."""
    v_th, v_reset = np.asarray(spec.v_threshold, float), np.asarray(spec.v_reset, float)
    if np.any(v_th <= v_reset):
        raise UnsupportedNodeError(f"node {pn.name!r}: NEST needs v_threshold > v_reset for every neuron "
                                   f"(got v_threshold {v_th.min():g} <= v_reset); raise the threshold")
    return {"V_th": v_th, "V_reset": v_reset, "V_m": np.asarray(spec.v_init, float), "t_ref": _refractory_ms(pn, spec, dt)}


def _no_theta(pn, spec) -> None:
    if "theta" in spec.probes:
        _refuse(pn, "an adaptive threshold (tau_theta, theta_plus)",
                "run it on numpy or brian2, or drop the threshold adaptation")


def _lif(pn, spec, dt) -> NestPopulation:
    p = spec.params
    tau_ms, r = p["tau_s"] * MS, p["r"]
    params = {"tau_m": tau_ms, "C_m": tau_ms, "E_L": p["v_leak"], **_membrane(pn, spec, dt)}
    scale = r * _jump(p["tau_s"], dt)
    return NestPopulation("iaf_psc_delta", params, {"exc": scale, "inh": scale}, r, {"v": ("V_m", np.ones(pn.size))},
                          input_at_start=False)


def _cubalif(pn, spec, dt) -> NestPopulation:
    p, s = spec.params, spec.syn.params
    tau_ms, r, w_in = p["tau_s"] * MS, p["r"], s["w_in"]
    params = {"tau_m": tau_ms, "C_m": tau_ms, "E_L": p["v_leak"], "tau_syn_ex": s["tau_syn_s"] * MS,
              "tau_syn_in": s["tau_syn_s"] * MS, **_membrane(pn, spec, dt)}
    scale = r * w_in * _jump_at_start(s["tau_syn_s"], dt)
    return NestPopulation("iaf_psc_exp", params, {"exc": scale, "inh": scale}, r * w_in,
                          {"v": ("V_m", np.ones(pn.size))})


def _alif(pn, spec, dt) -> NestPopulation:
    _no_theta(pn, spec)
    p = spec.params
    s = spec.syn.params if spec.syn is not None else {}
    tau_ms, r = p["tau_s"] * MS, p["r"]
    filtered = "tau_syn_s" in s
    w_in = s["w_in"] if filtered else p["w_in"]
    adapt = "b_adapt" in p
    # aeif has no tau_m: g_L = 1 nS and C_m = tau_m pF give the same membrane (tau_m = C_m / g_L)
    leak = {"g_L": np.ones(pn.size)} if adapt else {"tau_m": tau_ms}
    params = {**leak, "C_m": tau_ms, "E_L": p["v_leak"], **_membrane(pn, spec, dt)}
    probes = {"v": ("V_m", np.ones(pn.size))}
    if filtered:
        tau_exc = s["tau_syn_s"]
        tau_inh = s.get("tau_inh_s", tau_exc)
        params.update({"tau_syn_ex": tau_exc * MS, "tau_syn_in": tau_inh * MS})
        scale = {"exc": r * w_in * _jump_at_start(tau_exc, dt), "inh": r * w_in * _jump_at_start(tau_inh, dt)}
    else:
        jump = r * w_in * _jump(p["tau_s"], dt)
        scale = {"exc": jump, "inh": jump}
    if adapt:
        k = s["k_adapt_hz"]
        if np.any(k <= 0):
            _refuse(pn, "an adaptation current that never decays (tau_adapt = 0 s with b_adapt != 0)",
                    "give tau_adapt > 0 s")
        # aeif with Delta_T = 0 and a = 0 is a LIF with a spike-triggered adaptation current:
        # C dV/dt = -g_L (V - E_L) - w + I,  tau_w dw/dt = -w,  w += b at a spike (NEST checks V >= V_th)
        params.update({"Delta_T": np.zeros(pn.size), "a": np.zeros(pn.size), "b": r * p["b_adapt"],
                       "tau_w": MS / k, "V_peak": params["V_th"]})
        probes["w_adapt"] = ("w", 1.0 / r)
        model = "aeif_psc_exp" if filtered else "aeif_psc_delta"
    else:
        model = "iaf_psc_exp" if filtered else "iaf_psc_delta"
    return NestPopulation(model, params, scale, r * w_in, probes, input_at_start=filtered)


def _condlif(pn, spec, dt) -> NestPopulation:
    _no_theta(pn, spec)
    p, s = spec.params, spec.syn.params
    ones = np.ones(pn.size)
    params = {"g_L": ones, "C_m": p["tau_s"] * MS, "E_L": p["e_leak"], "E_ex": p["e_exc"], "E_in": p["e_inh"],
              "tau_syn_ex": s["tau_exc_s"] * MS, "tau_syn_in": s["tau_inh_s"] * MS,
              "g_ex": np.asarray(spec.init[("syn", "g_exc")], float),
              "g_in": np.asarray(spec.init[("syn", "g_inh")], float), **_membrane(pn, spec, dt)}
    probes = {"v": ("V_m", ones), "g_exc": ("g_ex", ones), "g_inh": ("g_in", ones)}
    model = "iaf_cond_exp"
    if "b_adapt" in p:
        k = s["k_adapt_hz"]
        if np.any(k <= 0):
            _refuse(pn, "an adaptation conductance that never decays (tau_adapt = 0 s with b_adapt != 0)",
                    "give tau_adapt > 0 s")
        # iaf_cond_exp_sfa_rr: g_sfa jumps by q_sfa at a spike and decays with tau_sfa; relative refractoriness off
        params.update({"tau_sfa": MS / k, "E_sfa": p["e_adapt"], "q_sfa": p["b_adapt"], "q_rr": 0.0 * ones,
                       "E_rr": p["e_adapt"]})
        probes["g_adapt"] = ("g_sfa", ones)
        model = "iaf_cond_exp_sfa_rr"
    return NestPopulation(model, params, {"exc": ones, "inh": ones}, None, probes)


_TRANSLATE = {"lif": _lif, "cubalif": _cubalif, "alif": _alif, "condlif": _condlif}


def translate(pn, *, reset: str, dt: float) -> NestPopulation:
    """The :class:`NestPopulation` of population node ``pn`` (``dt`` in s).

    Raises
    ------
    UnsupportedNodeError
        The model has no NEST counterpart here (naming the supported ones), or a feature of it does not map.
    """
    if pn.model not in _TRANSLATE:
        kind = "a non-spiking (graded) node" if pn.model in ("li", "cubali", "integrator") else f"model {pn.model!r}"
        raise UnsupportedNodeError(
            f"node {pn.name!r}: {kind} has no NEST lowering in backend 'nest'; it runs "
            f"{', '.join(f'{k} ({v})' for k, v in SUPPORTED.items())}; run this graph on numpy or brian2")
    if reset != "zero":
        _refuse(pn, f"reset {reset!r} (subtracting the threshold)", "NEST's models reset v to V_reset: compile with "
                "reset='zero', or run it on numpy or brian2")
    spec = neurons.get(pn.model).equations(pn, reset)
    return _TRANSLATE[pn.model](pn, spec, dt)
