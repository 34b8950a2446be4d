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

from neuroport import fixed_bounds, fixed_format
from neuroport.errors import CompileError, QuantizationError, UnsupportedNodeError
from neuroport.fixed_format import weight_format  # noqa: F401  (re-exported)
from neuroport.hardware import LOIHI2, HardwareSpec, sign_mode_of  # noqa: F401  (sign_mode_of re-exported)
from neuroport.models import neurons
from neuroport.models import fixed_plasticity
from neuroport.program import FixedProgram, FloatProgram, Population, Projection
from neuroport.quantize_report import (MAX_WEIGHT_SUM_ERROR, MAX_WEIGHTS_ZEROED, FidelityReport, ParamEntry,
                                       PopulationBound, QuantizationReport, fidelity, match_spikes, weight_loss)

__all__ = ["quantize", "QuantizationReport", "ParamEntry", "PopulationBound", "fidelity", "FidelityReport",
           "match_spikes", "weight_format", "sign_mode_of"]


def quantize(program: FloatProgram, hardware: HardwareSpec = LOIHI2, strict: bool = False, *,
             headroom_bits: int = 1, min_threshold_bits: int = 12, num_weight_bits: int | None = None,
             scales: Mapping[str, float] | None = None, trace_impulse: int = 16, rng_seed: int = 0,
             max_weights_zeroed: float = MAX_WEIGHTS_ZEROED, max_weight_sum_error: float = MAX_WEIGHT_SUM_ERROR):
    """Map a float Program to the hardware's integers.

    Parameters
    ----------
    program : Program
        ``level="discrete"``. Its timing is kept: an ideal-timing Program gives an ideal-timing
        fixed Program, which the fixed-point backends compensate when they run it
        (:func:`neuroport.timing.compensate`; quantization does not depend on delays).
    hardware : HardwareSpec
        Bit widths (default :data:`neuroport.hardware.LOIHI2`).
    strict : bool
        Raise :class:`QuantizationError` at the first lossy parameter instead
        of warning, and for a population whose integer worst case (every
        input spiking every step, computed from the rounded weights that will
        run: :mod:`neuroport.fixed_bounds`) can wrap ``u`` or Lava's 32-bit
        datapath. Not strict, such a population is listed in
        ``report.overflows`` (the fixed backends count and warn when a wrap
        happens in a run).
    headroom_bits : int
        Bits of ``v`` left above the threshold (``v`` can swing to
        ``-2**headroom_bits * v_threshold`` before saturating).
    min_threshold_bits : int
        The scale shrinks so that the worst-case ``|u|`` (every input spiking
        every step) cannot wrap and the worst-case negative ``v`` cannot
        saturate, but never below the point where ``vth`` would use fewer
        than this many bits (the report then says "may overflow"). The ``u``
        bound is checked again on the rounded integers; while it is exceeded
        and the scale was chosen here (not given in ``scales``, not pinned by
        a plastic projection), the scale is lowered and the population
        quantized again (up to 4 passes).
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
    max_weights_zeroed, max_weight_sum_error : float
        Loss thresholds of each non-plastic projection's weights (defaults
        0.10 and 0.05): the fraction of its non-zero weights that round to 0,
        and the error of its weight sum relative to the sum of magnitudes
        (:func:`neuroport.quantize_report.weight_loss`; both in the report as
        ``zeroed_fraction`` and ``sum_error``). Above either the projection
        is a loss: a QuantizationWarning and ``report.lossy``; strict raises.

    Returns
    -------
    (Program, QuantizationReport)
        The fixed Program (the input is never mutated) and the report.

    Raises
    ------
    QuantizationError
        In strict mode on any loss (the message names the object, the field,
        the range and the first offending value), or on a population that can
        wrap (the message names it and the integer bound).
    UnsupportedNodeError
        For models without a fixed-point step, non-spiking populations that
        drive projections, and learning rules Loihi cannot express
        (Diehl & Cook with ``mu`` other than 0 or 1, per-neuron input gains).
    CompileError
        For a Program that is not ``level="discrete"``.

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(2, name="x")
    >>> y = net.population(3, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
    >>> _ = net.connect(x, y, weight=0.37)

    >>> fixed, report = neuroport.quantize(net.compile(dt=1e-3))
    >>> fixed.level, fixed.populations["y"].params["dv"]          # 12-bit decay: round(4096 * dt / tau)
    ('fixed', array([205, 205, 205]))
    >>> fixed.projections[0].weights.toarray()[0]                 # 0.37 * dt / tau per step, * 2**13
    array([152, 152])
    >>> round(0.37 * 1e-3 / 0.02 * 2 ** 13), report.lossy
    (152, False)
    """
    hw = hardware
    nwb = hw.weight_bits if num_weight_bits is None else int(num_weight_bits)
    if not 1 <= nwb <= hw.weight_bits:
        raise QuantizationError(f"num_weight_bits: expected 1..{hw.weight_bits}, got {num_weight_bits}")
    if not isinstance(program, FloatProgram):
        raise CompileError(f"quantize takes a float Program (level='discrete'), got level={program.level!r}")
    scales = dict(scales or {})
    unknown = set(scales) - set(program.populations)
    if unknown:
        raise QuantizationError(f"scales: no population(s) {sorted(unknown)}; populations: {list(program.populations)}")

    limits = (float(max_weights_zeroed), float(max_weight_sum_error))
    refit = {}
    for _attempt in range(_REFITS):
        fixed, report, auto, bounds = _quantize_once(program, hw, nwb, False, {**scales, **refit},
                                                     headroom_bits, min_threshold_bits, trace_impulse, rng_seed,
                                                     warn=False, refit=set(refit), weight_limits=limits)
        over = {n: b for n, b in bounds.items() if b.u_can_wrap(hw) and n in auto and auto[n] is not None}
        moved = False
        for name, b in over.items():
            s_old = fixed.populations[name].extra["scale"]
            s_new = max(fixed_bounds.refit_scale(s_old, b, hw), auto[name])  # not below min_threshold_bits' floor
            if s_new < s_old:
                refit[name] = s_new
                moved = True
        if not moved:
            break
    fixed, report, _, bounds = _quantize_once(program, hw, nwb, strict, {**scales, **refit}, headroom_bits,
                                              min_threshold_bits, trace_impulse, rng_seed, warn=True,
                                              refit=set(refit), weight_limits=limits)
    return fixed, report


#: Quantization passes that may lower a scale until the integer worst case of ``u`` fits (then one final pass).
_REFITS = 4


def _quantize_once(program, hw, nwb, strict, scales, headroom_bits, min_threshold_bits, trace_impulse, rng_seed,
                   *, warn, refit=frozenset(), weight_limits=(MAX_WEIGHTS_ZEROED, MAX_WEIGHT_SUM_ERROR)):
    """One pass: ``(fixed Program, report, {population: lowest automatic scale or None}, {population: IntegerBound})``.

    The lowest automatic scale is where ``vth`` keeps ``min_threshold_bits`` (None: the scale is
    fixed: an override, or pinned by a plastic projection).
    """
    report = QuantizationReport(hardware=hw.name, strict=strict)
    incoming = {name: program.incoming(name) for name in program.populations}
    new_pops, pop_scale, syn_scale, auto = {}, {}, {}, {}
    for name, pop in program.populations.items():
        if pop.is_input:
            new_pops[name] = pop
            continue
        _refuse_unsupported(program, pop)
        model = neurons.get(pop.model)
        s = scales.get(name) or model.choose_scale(pop, incoming[name], hw, headroom_bits=headroom_bits, nwb=nwb,
                                                   min_threshold_bits=min_threshold_bits)
        plastic = [p for p in incoming[name] if p.extra.get("plasticity") is not None]
        if plastic and name not in scales and not model.conductance_weights:
            s = fixed_plasticity.pin_scale(s, plastic[0], hw)  # the first rule's weight bound lands on 255
        s_thr = fixed_format.threshold_scale(pop, hw)
        lowest = 0.0 if s_thr is None else s_thr / 2 ** (hw.vth_bits - min_threshold_bits)
        auto[name] = None if (plastic or model.conductance_weights or (name in scales and name not in refit)) \
            else lowest
        pop_scale[name] = float(s)
        params, syn_scale[name] = model.quantize_params(pop, s, hw, report, incoming[name])
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
        weights, extra = _quantize_weights(proj, syn_scale[proj.post], hw, nwb, report, *weight_limits)
        if proj.extra.get("depression") is not None:
            extra["depression"] = _quantize_depression(proj, hw, report)
            extra["weight_exp"] -= hw.depression_bits
        new_projs.append(Projection(proj.name, proj.pre, proj.post, weights, proj.delays.copy(),
                                    {**dict(proj.extra), **extra}))
        _check_delays(proj, hw, report)
    options = {**dict(program.options), "hardware": hw.name, "hardware_spec": hw}
    fixed = FixedProgram(new_pops, tuple(new_projs), program.inputs, dict(program.outputs), program.probes,
                         options, "fixed", program.graph)
    bounds = {}
    for name, s in pop_scale.items():
        pop = program.populations[name]
        report.bounds[name] = neurons.get(pop.model).bounds(pop, incoming[name], s, hw, new_pops[name].params)
        bounds[name] = fixed_bounds.integer_bound(new_pops[name], fixed.incoming(name), hw)
        report.bounds[name].integer = bounds[name]
        report.add_overflow(bounds[name].message(hw))
    if warn:
        report.finish()
    return fixed, report, auto, bounds


# ------------------------------------------------------------------ refusals
def _refuse_unsupported(program, pop):
    if not neurons.supported(pop.model):
        neurons.get(pop.model)  # raises UnsupportedNodeError naming the known models
    if pop.multi_spike:
        raise UnsupportedNodeError(
            f"{pop.name}: spikes='multi' (several spikes per step, Sinabs' MultiSpike) has no fixed-point "
            "form: Loihi 2's neuron models as Lava implements them (LIF and neuroport's ALIF) send one binary "
            "spike per step; compile with semantics={'spikes': 'single'} (or profile=..., spikes='single') to "
            "run a one-spike version, or run it on numpy"
        )
    if pop.emits != "spikes":
        out = [p.name for p in program.outgoing(pop.name)]
        if out:
            raise UnsupportedNodeError(
                f"{pop.name}: non-spiking model {pop.model!r} sends its graded state to {', '.join(out)}; "
                "fixed-point hardware carries 1-bit spikes only"
            )


# ------------------------------------------------------------------ scaling
# ------------------------------------------------------------------ parameters
def _quantize_weights(proj, row_scale, hw: HardwareSpec, nwb: int, report, max_zeroed: float = MAX_WEIGHTS_ZEROED,
                      max_sum_error: float = MAX_WEIGHT_SUM_ERROR):
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
    zeroed, sum_error = weight_loss(data, back)
    losses = []
    if zeroed > max_zeroed:
        losses.append(f"{zeroed:.1%} of the non-zero weights became 0 (more than max_weights_zeroed="
                      f"{max_zeroed:g}; their magnitudes span more than the 8-bit mantissa holds)")
    if sum_error > max_sum_error:
        losses.append(f"the weight sum changed by {sum_error:.1%} of the summed magnitudes (more than "
                      f"max_weight_sum_error={max_sum_error:g})")
    entry = ParamEntry.build(proj.name, "weights", data, back, mant, s / 2 ** hw.act_shift / 2.0 ** exp,
                             (lo_eff, hi_eff), clipped=raw != mant, underflow=(data != 0) & (mant == 0),
                             kind="projection", underflow_is_loss=bool(np.any(data != 0) and
                                                                       not np.any(mant[data != 0])),
                             losses=losses,
                             note=f"{mode}, weight_exp={exp}, num_weight_bits={nwb}"
                                  + (f", port {proj.extra['port']}" if "port" in proj.extra else ""))
    entry.zeroed_fraction, entry.sum_error = zeroed, sum_error
    report.add(entry)
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


