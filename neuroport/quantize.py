"""``quantize``: the single place where floats become hardware integers.

A float Program (``level="discrete"``) becomes a fixed Program
(``level="fixed"``) whose integers are what Lava's bit-accurate models
(``PyLifModelBitAcc``, ``PyDenseModelBitAcc``) take, plus a
:class:`QuantizationReport` listing every parameter's scale, bits used,
errors and clipped values. See ``docs/fixed_point.md``.

Scaling rule, per population ``P`` (``s`` = integer ``v`` units per float unit)::

    s = min(s_threshold / 2**headroom_bits, s_u, s_weight, s_bias)   (or scales[P])
    s_threshold = (2**17 - 1) * 2**6 / max(v_threshold)
    s_u         = max((2**23 - 1) / max(u_worst, v_worst), s_threshold / 2**(17 - min_threshold_bits))
    u_worst     = max(sum of positive, sum of negative incoming w per neuron) / du
    v_worst     = (sum of negative incoming w / du + max(-bias, 0)) / dv      (v below 0)
    s_weight    = 255 * 2**max(weight_exp) * 2**6 / max|w|   (over P's inputs)
    s_bias      = 4095 * 2**7 / max|bias|

    vth       = round(v_threshold * s / 2**6)
    du        = clip(round(du * 4096) - 1, 0, 4095)       (Lava adds 1 back)
    dv        = round(dv * 4096)  (4096 -> 4095, i.e. 1/4096 of v kept)
    bias      = bias_mant << bias_exp ~= bias * s
    w * s     ~= w_mant * 2**weight_exp * 2**6             (per projection)

Extension models (``alif``, ``condlif``), refractory periods, ``u_bias``,
``reset="subtract"`` and short-term depression get neuroport's own integer
formats (``docs/fixed_point.md``, ``neuroport.models``): CondLIF
conductances become ``G = round(dv * g * 2**g_shift)``, reversal potentials
``v`` units, depression fractions of ``2**16``.
Plastic projections become a Loihi 2 learning rule
(:func:`neuroport.models.fixed_plasticity.quantize_plastic`: coefficients as
mantissa x 2**exponent, 7-bit trace impulses and decays, 9-bit weights whose
bound lands on the engine's clip).

Examples
--------
>>> import warnings, neuroport, nir, numpy as np
>>> g = nir.NIRGraph.from_list(nir.Input(np.array([1])),
...     nir.LIF(tau=np.array([0.01]), r=np.array([1.0]), v_leak=np.array([0.0]),
...             v_threshold=np.array([1.0])), nir.Output(np.array([1])))
>>> fixed, report = quantize(neuroport.compile(g, dt=1e-3))
>>> pop = fixed.populations["lif"]
>>> int(pop.params["vth"][0]), int(pop.params["dv"][0]), report.lossy
(65536, 410, False)
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import scipy.sparse as sp

from neuroport.errors import CompileError, QuantizationError, UnsupportedNodeError
from neuroport.hardware import LOIHI2, HardwareSpec, sign_mode_of  # noqa: F401  (sign_mode_of re-exported)
from neuroport.models import neurons
from neuroport.models import fixed_plasticity
from neuroport.program import Population, Program, Projection
from neuroport.quantize_report import (FidelityReport, ParamEntry, PopulationBound, QuantizationReport, fidelity,
                                       match_spikes)

__all__ = ["quantize", "QuantizationReport", "ParamEntry", "PopulationBound", "fidelity", "FidelityReport",
           "match_spikes", "weight_format", "sign_mode_of"]


def quantize(program: Program, hardware: HardwareSpec = LOIHI2, strict: bool = False, *,
             headroom_bits: int = 1, min_threshold_bits: int = 12, num_weight_bits: int | None = None,
             scales: Mapping[str, float] | None = None, trace_impulse: int = 16, rng_seed: int = 0):
    """Map a float Program to the hardware's integers.

    Parameters
    ----------
    program : Program
        ``level="discrete"``, compiled with ``timing="hardware"``.
    hardware : HardwareSpec
        Bit widths (default :data:`neuroport.hardware.LOIHI2`).
    strict : bool
        Raise :class:`QuantizationError` at the first lossy parameter instead
        of warning.
    headroom_bits : int
        Bits of ``v`` left above the threshold (``v`` can swing to
        ``-2**headroom_bits * v_threshold`` before saturating).
    min_threshold_bits : int
        The scale shrinks so that the worst-case ``|u|`` (every input spiking
        every step) cannot wrap and the worst-case negative ``v`` cannot
        saturate, but never below the point where ``vth`` would use fewer
        than this many bits (the report then says "may overflow").
    num_weight_bits : int, optional
        Weight mantissa bits Lava keeps (default: ``hardware.weight_bits``).
    scales : dict[str, float], optional
        Per-population scale overrides (integer ``v`` units per float unit).
    trace_impulse : int
        Plastic projections: 7-bit trace units per spike (``x1_impulse``,
        ``y1_impulse``), 1..127 (Lava's ``STDPLoihi`` default 16).
    rng_seed : int
        Plastic projections: ``Loihi2FLearningRule(rng_seed=...)`` of the
        stochastic trace rounding.

    Returns
    -------
    (Program, QuantizationReport)
        The fixed Program (the input is never mutated) and the report.

    Raises
    ------
    QuantizationError
        In strict mode on any loss (the message names the object, the field,
        the range and the first offending value).
    UnsupportedNodeError
        For models without a fixed-point step, non-spiking populations that
        drive projections, and learning rules Loihi cannot express
        (Diehl & Cook with ``mu`` other than 0 or 1, per-neuron input gains).
    CompileError
        For a Program that is not ``level="discrete"`` with delays >= 1.
    """
    hw = hardware
    nwb = hw.weight_bits if num_weight_bits is None else int(num_weight_bits)
    if not 1 <= nwb <= hw.weight_bits:
        raise QuantizationError(f"num_weight_bits: expected 1..{hw.weight_bits}, got {num_weight_bits}")
    if program.level != "discrete":
        raise CompileError(f"quantize takes a float Program (level='discrete'), got level={program.level!r}")
    for proj in program.projections:
        if proj.nnz and int(proj.delays.min()) < 1:
            raise CompileError(
                f"projection {proj.name!r}: delay 0 (timing={program.timing!r}); fixed point runs "
                "timing='hardware' only (every projection >= 1 step), compile with timing='hardware'"
            )
    scales = dict(scales or {})
    unknown = set(scales) - set(program.populations)
    if unknown:
        raise QuantizationError(f"scales: no population(s) {sorted(unknown)}; populations: {list(program.populations)}")

    report = QuantizationReport(hardware=hw.name, strict=strict)
    incoming = {name: program.incoming(name) for name in program.populations}
    new_pops, pop_scale, syn_scale = {}, {}, {}
    for name, pop in program.populations.items():
        if pop.is_input:
            new_pops[name] = pop
            continue
        _refuse_unsupported(program, pop)
        s = scales.get(name) or _choose_scale(pop, incoming[name], hw, headroom_bits, nwb, min_threshold_bits)
        plastic = [p for p in incoming[name] if p.extra.get("plasticity") is not None]
        if plastic and name not in scales and pop.model != "condlif":
            s = fixed_plasticity.pin_scale(s, plastic[0], hw)  # the first rule's weight bound lands on 255
        pop_scale[name] = float(s)
        params, syn_scale[name] = _quantize_population(pop, s, hw, report, incoming[name])
        new_pops[name] = Population(pop.name, pop.size, pop.model, params, pop.emits, pop.v_offset,
                                    pop.shape, {**dict(pop.extra), "scale": float(s)})
    new_projs = []
    for proj in program.projections:
        if proj.extra.get("plasticity") is not None:
            weights, extra = fixed_plasticity.quantize_weights(proj, syn_scale[proj.post], hw, nwb, report,
                                                               trace_impulse=trace_impulse, rng_seed=rng_seed)
            new_projs.append(Projection(proj.name, proj.pre, proj.post, weights, proj.delays.copy(),
                                        {**dict(proj.extra), **extra}))
            _check_delays(proj, hw, report)
            continue
        weights, extra = _quantize_weights(proj, syn_scale[proj.post], hw, nwb, report)
        if proj.extra.get("depression") is not None:
            extra["depression"] = _quantize_depression(proj, hw, report)
            extra["weight_exp"] -= hw.depression_bits
        new_projs.append(Projection(proj.name, proj.pre, proj.post, weights, proj.delays.copy(),
                                    {**dict(proj.extra), **extra}))
        _check_delays(proj, hw, report)
    for name, s in pop_scale.items():
        report.bounds[name] = _bounds(program.populations[name], incoming[name], s, hw,
                                      new_pops[name].params.get("g_shift"))
    options = {**dict(program.options), "hardware": hw.name, "hardware_spec": hw}
    fixed = Program(new_pops, tuple(new_projs), program.inputs, dict(program.outputs), program.probes,
                    options, "fixed", program.graph)
    report.finish()
    return fixed, report


# ------------------------------------------------------------------ refusals
def _refuse_unsupported(program, pop):
    if not neurons.supported(pop.model):
        neurons.get(pop.model)  # raises UnsupportedNodeError naming the known models
    if pop.emits != "spikes":
        out = [p.name for p in program.outgoing(pop.name)]
        if out:
            raise UnsupportedNodeError(
                f"{pop.name}: non-spiking model {pop.model!r} sends its graded state to {', '.join(out)}; "
                "fixed-point hardware carries 1-bit spikes only"
            )


# ------------------------------------------------------------------ scaling
def _signed(proj) -> float:
    """+1, or -1 for a two-port projection into ``inh`` (it carries magnitudes)."""
    return -1.0 if proj.extra.get("port") == "inh" else 1.0


def _max_inputs(projs):
    """Largest positive and negative summed input one step can deliver to one neuron."""
    pos = neg = 0.0
    for proj in projs:
        w = proj.weights * _signed(proj)
        if w.nnz == 0:
            continue
        p = np.asarray(w.maximum(0).sum(axis=1)).ravel()
        n = np.asarray((-w).maximum(0).sum(axis=1)).ravel()
        pos, neg = pos + p, neg + n
    return float(np.max(pos, initial=0.0)), float(np.max(neg, initial=0.0))


def _state_limit(hw, *arrays) -> float | None:
    """Largest scale at which every value of ``arrays`` (float units) fits a signed 24-bit field."""
    top = max((_absmax(a) for a in arrays), default=0.0)
    return (hw.state_max - 1) / top if top > 0 else None


def _absmax(a) -> float:
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return float(np.max(np.abs(a), initial=0.0))


def _choose_scale(pop, projs, hw: HardwareSpec, headroom_bits: int, nwb: int, min_threshold_bits: int) -> float:
    limits = []
    vth = pop.param("v_threshold", np.inf)
    finite = vth[np.isfinite(vth) & (vth > 0)]
    spiking = pop.emits == "spikes"
    s_thr = hw.vth_range[1] * 2 ** hw.vth_shift / float(finite.max()) if (spiking and finite.size) else None
    bias_lim = hw.bias_mant_range[1] * 2.0 ** hw.bias_exp_range[1]
    for key in ("bias", "u_bias"):
        b = _absmax(pop.param(key, 0.0))
        if b > 0:
            limits.append(bias_lim / b)
    if pop.model == "condlif":
        # v, E, theta share the scale; weights are conductances (their own format)
        if s_thr is not None:
            limits.append(s_thr / 2 ** headroom_bits)
        lim = _state_limit(hw, pop.param("e_exc"), pop.param("e_inh"), pop.param("e_adapt"),
                           pop.param("v_init"), pop.param("theta_init"), pop.param("theta_plus"))
        if lim is not None:
            limits.append(lim)
        return float(min(limits)) if limits else float((hw.state_max - 1) / 2 ** headroom_bits)
    pos, neg = _max_inputs(projs)
    du = max(float(np.min(np.r_[pop.param("du", 1.0), pop.param("du_inh", 1.0)])), 1.0 / hw.decay_unity)
    u_bound = max(pos, neg) / du     # |u| when every input spikes every step
    if s_thr is not None:
        limits.append(s_thr / 2 ** headroom_bits)
        # soft limits: keep u from wrapping and v from saturating below (worst case), unless
        # that leaves vth fewer than min_threshold_bits
        dv = float(pop.param("dv", 1.0).min())
        v_neg = (neg / du + max(0.0, -float(pop.param("bias", 0.0).min()))) / dv if dv > 0 else math.inf
        worst = max(u_bound, v_neg)
        if worst > 0:
            limits.append(max((hw.state_max - 1) / worst, s_thr / 2 ** (hw.vth_bits - min_threshold_bits)))
    if pop.model == "alif":
        lim = _state_limit(hw, pop.param("v_init"), pop.param("theta_init"), pop.param("theta_plus"),
                           pop.param("w_plus"))
        if lim is not None:
            limits.append(lim)
    top = 2.0 ** hw.weight_exp_range[1] * 2 ** hw.act_shift
    for proj in projs:
        data = np.asarray(proj.weights.data, dtype=float)
        _, lo_eff, hi_eff, _ = weight_format(data, hw, nwb)
        if data.size and data.max() > 0:
            limits.append(hi_eff * top / float(data.max()))
        if data.size and data.min() < 0:
            limits.append(lo_eff * top / float(data.min()))
    bias = _absmax(pop.param("bias", 0.0))
    if not (spiking and finite.size):
        # non-spiking: room for the steady state of the worst-case input (or
        # 1024 steps of it for integrators, whose state is unbounded)
        a = max(pos, neg) + bias
        dv = float(pop.param("dv", 1.0).min())
        bound = a / du / dv if dv > 0 else a / du * 1024
        if bound > 0:
            limits.append((hw.state_max - 1) / bound / 2 ** headroom_bits)
    if not limits:
        return float((hw.state_max - 1) / 2 ** headroom_bits)
    return float(min(limits))


def _g_shift(pop, projs, hw: HardwareSpec) -> int:
    """Fractional bits F of CondLIF conductances: ``dv * g`` up to ``c_max`` fits with one bit to spare."""
    dv = pop.param("dv", 1.0)
    one_step = 0.0
    for proj in projs:
        w = abs(proj.weights)
        if w.nnz:
            one_step = max(one_step, float(np.max(np.asarray(w.sum(axis=1)).ravel() * dv)))
    c_max = max(2.0, one_step, _absmax(dv * pop.param("g_exc_init")), _absmax(dv * pop.param("g_inh_init")),
                _absmax(dv * pop.param("b_adapt")))
    f = (hw.state_bits - 1) - 1 - int(math.ceil(math.log2(c_max)))
    return int(min(max(f, 0), hw.cond_frac_bits_max))


# ------------------------------------------------------------------ parameters
def _decay(pop, field, hw, report, *, offset=0, default=1.0, optional=False, source=None):
    """12-bit decay ``d``; the hardware keeps ``4096 - (d + offset)`` of the state per step."""
    unity = hw.decay_unity
    d_lo, d_hi = hw.decay_range
    d = pop.param(source or field, default).astype(float)
    raw = np.rint(d * unity).astype(np.int64) - offset
    full = raw == d_hi + 1  # 1.0 without offset: stored as 4095 (keeps 1/4096)
    d_i = np.clip(np.where(full, d_hi, raw), d_lo, d_hi)
    note = (f"effective decay (d + {offset}) / 4096" if offset else "d = 1 is stored as 4095 (keeps 1/4096)")
    if optional:
        note += "; 0 disables it"
    report.add(ParamEntry.build(pop.name, field, d, (d_i + offset) / unity, d_i, float(unity), (d_lo, d_hi),
                                clipped=(raw != d_i) & ~full, underflow=(d > 0) & (d_i + offset == 0), note=note))
    return d_i.astype(np.int64)


def _mant_exp(pop, field, x_float, s, hw, report, *, prefix=None):
    """``mant << exp ~= x * s`` with a 13-bit mantissa and exponent 0..7 (Lava's bias format)."""
    b = x_float * s
    m_lo, m_hi = hw.bias_mant_range
    e_lo, e_hi = hw.bias_exp_range
    mag = np.abs(b)
    with np.errstate(divide="ignore"):
        e = np.where(mag > m_hi, np.ceil(np.log2(np.maximum(mag, 1.0) / m_hi)), e_lo).astype(np.int64)
    e = np.clip(e, e_lo, e_hi)
    raw = np.rint(b / 2.0 ** e).astype(np.int64)
    bump = ((raw > m_hi) | (raw < m_lo)) & (e < e_hi)
    e = np.where(bump, e + 1, e)
    raw = np.rint(b / 2.0 ** e).astype(np.int64)
    mant = np.clip(raw, m_lo, m_hi)
    report.add(ParamEntry.build(pop.name, field, x_float, mant * 2.0 ** e / s, mant, s, (m_lo, m_hi),
                                clipped=raw != mant, underflow=(x_float != 0) & (mant == 0), underflow_is_loss=False,
                                note=f"{prefix or field}_mant << {prefix or field}_exp, exp in [{e_lo}, {e_hi}] "
                                     f"(max {int(e.max(initial=0))})"))
    return mant.astype(np.int64), e.astype(np.int64)


def _signed24(pop, field, x_float, s, hw, report, *, loss_on_underflow=True, note=""):
    """``round(x * s)`` into a signed 24-bit field."""
    lo, hi = hw.state_range
    x = np.asarray(x_float, dtype=float)
    exact = np.clip(np.where(np.isfinite(x), x, 0.0) * s, -2.0 ** 62, 2.0 ** 62)
    raw = np.rint(exact).astype(np.int64)
    ints = np.clip(raw, lo, hi)
    report.add(ParamEntry.build(pop.name, field, x, ints / s, ints, s, (lo, hi), clipped=raw != ints,
                                underflow=(x != 0) & (ints == 0), underflow_is_loss=loss_on_underflow,
                                note=note or "signed 24 bit"))
    return ints.astype(np.int64)


def _refractory(pop, hw, report):
    ref = pop.param("refractory", 0).astype(float)
    lo, hi = hw.refractory_range
    raw = np.rint(ref).astype(np.int64)
    ints = np.clip(raw, lo, hi)
    if np.any(ref > 0):
        report.add(ParamEntry.build(pop.name, "refractory", ref, ints.astype(float), ints, 1.0, (lo, hi),
                                    clipped=raw != ints, underflow=np.zeros(pop.size, bool),
                                    note="steps held after a spike"))
    return ints.astype(np.int64)


def _vth(pop, s, hw, report):
    v_lo, v_hi = hw.vth_range
    step = 2.0 ** hw.vth_shift
    vth = pop.param("v_threshold", np.inf).astype(float)
    if pop.emits != "spikes":
        return np.full(pop.size, v_hi, dtype=np.int64)
    exact = np.where(np.isfinite(vth), vth * s / step, np.inf)
    raw = np.where(np.isfinite(exact), np.rint(np.clip(exact, -2.0 ** 62, 2.0 ** 62)), 2.0 ** 62).astype(np.int64)
    vth_i = np.clip(raw, v_lo, v_hi)
    report.add(ParamEntry.build(pop.name, "vth", vth, vth_i * step / s, vth_i, s / step, (v_lo, v_hi),
                                clipped=raw != vth_i, underflow=(vth != 0) & (vth_i == 0),
                                note="v_threshold - v_reset; compared as (vth << 6) + theta"))
    return vth_i.astype(np.int64)


def _quantize_population(pop, s, hw: HardwareSpec, report, projs):
    """Integer params of one population and the per-row scale of its incoming weights."""
    n = pop.size
    out = {}
    if pop.model == "condlif":
        f = _g_shift(pop, projs, hw)
        gs = pop.param("dv") * 2.0 ** f  # G units per relative conductance, per neuron
        out["dv"] = _decay(pop, "dv", hw, report)
        for fld in ("de", "di"):
            out[fld] = _decay(pop, fld, hw, report)
        out["da"] = _decay(pop, "da", hw, report, default=0.0, optional=True)
        out["theta_decay"] = _decay(pop, "theta_decay", hw, report, default=0.0, optional=True)
        out["g_shift"] = np.full(n, f, dtype=np.int64)
        for fld in ("e_exc", "e_inh", "e_adapt"):
            out[fld] = _signed24(pop, fld, pop.param(fld), s, hw, report, loss_on_underflow=False,
                                 note="reversal potential - v_reset, v units")
        for fld in ("b_adapt", "g_exc_init", "g_inh_init"):
            x = pop.param(fld)
            ints = _g_format(pop, fld, x, gs, hw, report, f)
            out[fld] = ints
        out["vth"] = _vth(pop, s, hw, report)
        out["bias_mant"], out["bias_exp"] = _mant_exp(pop, "bias", pop.param("bias"), s, hw, report)
        out["refractory"] = _refractory(pop, hw, report)
        for fld in ("theta_plus", "v_init", "theta_init"):
            out[fld] = _signed24(pop, fld, pop.param(fld), s, hw, report, loss_on_underflow=fld == "theta_plus")
        return out, gs
    out["du"] = _decay(pop, "du", hw, report, offset=hw.du_offset)
    if pop.model == "alif":
        out["du_inh"] = _decay(pop, "du_inh", hw, report, offset=hw.du_offset)
    out["dv"] = _decay(pop, "dv", hw, report, offset=hw.dv_offset)
    out["vth"] = _vth(pop, s, hw, report)
    out["bias_mant"], out["bias_exp"] = _mant_exp(pop, "bias", pop.param("bias"), s, hw, report)
    ub = pop.param("u_bias", 0.0).astype(float)
    if pop.model == "alif" or np.any(ub != 0):
        out["u_bias_mant"], out["u_bias_exp"] = _mant_exp(pop, "u_bias", ub, s, hw, report)
    out["refractory"] = _refractory(pop, hw, report)
    if pop.model == "alif":
        out["theta_decay"] = _decay(pop, "theta_decay", hw, report, default=0.0, optional=True)
        out["w_decay"] = _decay(pop, "w_decay", hw, report, default=0.0, optional=True)
        for fld in ("theta_plus", "w_plus", "v_init", "theta_init"):
            out[fld] = _signed24(pop, fld, pop.param(fld), s, hw, report,
                                 loss_on_underflow=fld in ("theta_plus", "w_plus"))
    return out, np.full(n, float(s))


def _g_format(pop, field, x, gs, hw, report, f):
    """``round(x * dv * 2**F)``: a relative conductance in CondLIF's G format (signed 24 bit)."""
    lo, hi = hw.state_range
    x = np.asarray(x, dtype=float)
    raw = np.rint(np.clip(x * gs, -2.0 ** 62, 2.0 ** 62)).astype(np.int64)
    ints = np.clip(raw, lo, hi)
    report.add(ParamEntry.build(pop.name, field, x, ints / gs, ints, float(np.max(gs)), (lo, hi),
                                clipped=raw != ints, underflow=(x != 0) & (ints == 0),
                                underflow_is_loss=field == "b_adapt",
                                note=f"G = dv * g * 2**{f} (g_shift={f})"))
    return ints.astype(np.int64)


def weight_format(data: np.ndarray, hw: HardwareSpec, nwb: int):
    """``(sign_mode, lo, hi, step)``: the mantissas Lava's clip + truncate keep unchanged are the
    multiples of ``step`` in ``[lo, hi]`` (MIXED: even numbers in [-256, 254] with 8 bits)."""
    mode = sign_mode_of(data)
    lo, hi = hw.weight_range(mode)
    step = hw.weight_step(mode, nwb)
    return mode, -((-lo) // step) * step, (hi // step) * step, step


def _quantize_weights(proj, row_scale, hw: HardwareSpec, nwb: int, report):
    """Mantissas and ``weight_exp`` so that ``w_mant << weight_exp << 6 ~= w * row_scale[post]``."""
    w = proj.weights
    data = np.asarray(w.data, dtype=float)
    rows = np.repeat(np.arange(w.shape[0]), np.diff(w.indptr))
    syn_scale = np.asarray(row_scale, dtype=float)[rows] if data.size else np.zeros(0)
    s = float(np.max(row_scale, initial=0.0))
    mode, lo_eff, hi_eff, step = weight_format(data, hw, nwb)
    x = data * syn_scale / 2 ** hw.act_shift
    e_min, e_max = hw.weight_exp_range
    need = 0.0
    if x.size:
        if hi_eff > 0:
            need = max(need, float(x.max()) / hi_eff)
        if lo_eff < 0:
            need = max(need, float(x.min()) / lo_eff)
    exp = int(math.ceil(math.log2(need))) if need > 0 else 0
    exp = min(max(exp, e_min), e_max)

    def mantissa(ex):
        return (np.rint(x / 2.0 ** ex / step) * step).astype(np.int64)

    raw = mantissa(exp)
    if raw.size and (raw.max() > hi_eff or raw.min() < lo_eff) and exp < e_max:
        exp += 1
        raw = mantissa(exp)
    mant = np.clip(raw, lo_eff, hi_eff)
    with np.errstate(divide="ignore", invalid="ignore"):
        back = np.where(syn_scale > 0, mant * 2.0 ** exp * 2 ** hw.act_shift / np.where(syn_scale > 0, syn_scale, 1),
                        0.0)
    report.add(ParamEntry.build(proj.name, "weights", data, back, mant, s / 2 ** hw.act_shift / 2.0 ** exp,
                                (lo_eff, hi_eff), clipped=raw != mant, underflow=(data != 0) & (mant == 0),
                                kind="projection", underflow_is_loss=bool(np.any(data != 0) and
                                                                          not np.any(mant[data != 0])),
                                note=f"{mode}, weight_exp={exp}, num_weight_bits={nwb}"
                                     + (f", port {proj.extra['port']}" if "port" in proj.extra else "")))
    if exp < 0:
        report.add(ParamEntry.build(proj.name, "a_in_floor", np.zeros(1), np.full(1, -2 ** hw.act_shift / s),
                                    np.zeros(1, np.int64), s, (0, 0), clipped=np.zeros(1, bool),
                                    underflow=np.zeros(1, bool), kind="projection",
                                    note=f"weight_exp={exp} floors the summed input: up to one shifted unit per step"))
    weights = sp.csr_matrix((mant, w.indices.copy(), w.indptr.copy()), shape=w.shape)
    return weights, {"weight_exp": exp, "num_weight_bits": nwb, "sign_mode": mode}


def _quantize_depression(proj, hw: HardwareSpec, report) -> dict:
    """Integer ``recover`` and ``u_se`` (fractions of ``2**depression_bits``) of a depressing projection."""
    spec = proj.extra["depression"]
    bits = hw.depression_bits
    unity = 1 << bits
    out = {"node": spec.get("node"), "bits": bits}
    for fld in ("recover", "u_se"):
        x = np.asarray(spec[fld], dtype=float).reshape(-1)
        raw = np.rint(x * unity).astype(np.int64)
        ints = np.clip(raw, 0, unity)
        report.add(ParamEntry.build(proj.name, f"depression.{fld}", x, ints / unity, ints, float(unity),
                                    (0, unity), clipped=raw != ints, underflow=(x > 0) & (ints == 0),
                                    kind="projection", note=f"fraction of 2**{bits}"))
        out[fld] = ints
    return out


def _check_delays(proj, hw: HardwareSpec, report):
    limit = hw.max_delay + hw.hardware_latency
    d = proj.delays
    over = d > limit
    report.add(ParamEntry.build(proj.name, "delays", d.astype(float), d.astype(float), d.astype(np.int64), 1.0,
                                (hw.hardware_latency, limit), clipped=over, underflow=np.zeros(d.size, bool),
                                kind="projection",
                                note="steps; kept as is (numpy-fixed runs them), Loihi cannot hold values over the range"))


def _bounds(pop, projs, s, hw: HardwareSpec, g_shift=None) -> PopulationBound:
    """Worst-case |u| and |v| (every input spiking every step) against 24 bits.

    For CondLIF ``u`` stands for the conductances (G units: every input every
    step, at the steady state of the slowest decay) and ``v`` for the largest
    of the reversal potentials, ``v_init`` and the threshold.
    """
    if pop.model == "condlif":
        f = int(np.asarray(g_shift).flat[0])
        dv = pop.param("dv")
        pos, neg = _max_inputs(projs)
        d = max(float(min(pop.param("de").min(), pop.param("di").min())), 1.0 / hw.decay_unity)
        g_max = (max(pos, neg) / d) * float(dv.max()) * 2.0 ** f
        v_max = max(_absmax(pop.param(k)) for k in ("e_exc", "e_inh", "e_adapt", "v_init", "v_threshold")) * s
        return PopulationBound(pop.name, s, g_max, v_max, hw.state_bits,
                               single_step=max(pos, neg) * float(dv.max()) * 2.0 ** f)
    pos, neg = _max_inputs(projs)
    du = max(float(np.min(np.r_[pop.param("du", 1.0), pop.param("du_inh", 1.0)])), 1.0 / hw.decay_unity)
    dv = float(pop.param("dv", 1.0).min())
    u_bound = max(pos, neg) / du
    bias = pop.param("bias", 0.0)
    vth = pop.param("v_threshold", np.inf)
    neg_v = (neg / du + max(0.0, -float(bias.min()))) / dv if dv > 0 else math.inf
    if pop.emits == "spikes" and np.all(np.isfinite(vth)):
        pos_v = float(vth.max()) + pos / du + max(0.0, float(bias.max()))
    else:
        pos_v = (pos / du + max(0.0, float(bias.max()))) / dv if dv > 0 else math.inf
    return PopulationBound(pop.name, s, u_bound * s, max(pos_v, neg_v) * s, hw.state_bits,
                           single_step=max(pos, neg) * s)
