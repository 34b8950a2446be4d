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
import warnings
from typing import Mapping

import numpy as np
import scipy.sparse as sp

from neuroport.errors import CompileError, QuantizationError, QuantizationWarning, UnsupportedNodeError
from neuroport.hardware import LOIHI2, HardwareSpec
from neuroport.program import Population, Program, Projection

__all__ = ["quantize", "QuantizationReport", "ParamEntry", "fidelity", "FidelityReport"]


def quantize(program: Program, hardware: HardwareSpec = LOIHI2, strict: bool = False, *,
             headroom_bits: int = 1, min_threshold_bits: int = 12, num_weight_bits: int | None = None,
             scales: Mapping[str, float] | None = None):
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
        than this many bits (the report then says "may overflow"). 12 bits
        leave ``v`` room down to ``-32 * v_threshold``.
    num_weight_bits : int, optional
        Weight mantissa bits Lava keeps (default: ``hardware.weight_bits``).
    scales : dict[str, float], optional
        Per-population scale overrides (integer ``v`` units per float unit).

    Returns
    -------
    (Program, QuantizationReport)
        The fixed Program (the input is never mutated) and the report.

    Raises
    ------
    QuantizationError
        In strict mode on any loss; always for ``refractory > 0`` or
        ``u_bias != 0`` (no Lava fixed-point model has them).
    UnsupportedNodeError
        For models without a fixed-point step, ``reset="subtract"`` and
        non-spiking populations that drive projections.
    CompileError
        For a Program that is not ``level="discrete"`` with delays >= 1.
    """
    from neuroport.models import fixed as fixed_models

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
    new_pops, pop_scale = {}, {}
    for name, pop in program.populations.items():
        if pop.is_input:
            new_pops[name] = pop
            continue
        _refuse_unsupported(program, pop, fixed_models)
        s = scales.get(name) or _choose_scale(pop, incoming[name], hw, headroom_bits, nwb, min_threshold_bits)
        pop_scale[name] = float(s)
        params = _quantize_population(pop, s, hw, report)
        new_pops[name] = Population(pop.name, pop.size, pop.model, params, pop.emits, pop.v_offset,
                                    pop.shape, {**dict(pop.extra), "scale": float(s)})
    new_projs = []
    for proj in program.projections:
        s = pop_scale[proj.post]
        weights, extra = _quantize_weights(proj, s, hw, nwb, report)
        new_projs.append(Projection(proj.name, proj.pre, proj.post, weights, proj.delays.copy(),
                                    {**dict(proj.extra), **extra}))
        _check_delays(proj, hw, report)
    for name, s in pop_scale.items():
        report.bounds[name] = _bounds(program.populations[name], incoming[name], s, hw)
    options = {**dict(program.options), "hardware": hw.name, "hardware_spec": hw}
    fixed = Program(new_pops, tuple(new_projs), program.inputs, dict(program.outputs), program.probes,
                    options, "fixed", program.graph)
    report.finish()
    return fixed, report


# ------------------------------------------------------------------ refusals
def _refuse_unsupported(program, pop, fixed_models):
    if not fixed_models.supported(pop.model):
        fixed_models.get(pop.model)  # raises UnsupportedNodeError naming the known models
    ref = pop.param("refractory", 0)
    if np.any(ref > 0):
        raise QuantizationError(
            f"{pop.name}.refractory: Lava's fixed-point LIF has no refractory period; expected 0, "
            f"got {int(np.max(ref))} steps"
        )
    ub = pop.param("u_bias", 0.0)
    if np.any(ub != 0):
        raise QuantizationError(
            f"{pop.name}.u_bias: Lava's fixed-point LIF has no bias on u; expected 0, got {ub[ub != 0][0]:.6g} "
            "(an Affine bias in front of a CubaLIF)"
        )
    if pop.extra.get("reset", "zero") != "zero":
        raise UnsupportedNodeError(
            f"{pop.name}.reset: fixed point resets v to 0 (Lava LIF); reset={pop.extra.get('reset')!r} "
            "has no fixed-point model; compile with reset='zero'"
        )
    if pop.emits != "spikes":
        out = [p.name for p in program.outgoing(pop.name)]
        if out:
            raise UnsupportedNodeError(
                f"{pop.name}: non-spiking model {pop.model!r} sends its graded state to {', '.join(out)}; "
                "fixed-point hardware carries 1-bit spikes only"
            )


# ------------------------------------------------------------------ scaling
def _max_inputs(projs):
    """Largest positive and negative summed input one step can deliver to one neuron."""
    pos = neg = 0.0
    for proj in projs:
        w = proj.weights
        if w.nnz == 0:
            continue
        p = np.asarray(w.maximum(0).sum(axis=1)).ravel()
        n = np.asarray((-w).maximum(0).sum(axis=1)).ravel()
        pos, neg = pos + p, neg + n
    return float(np.max(pos, initial=0.0)), float(np.max(neg, initial=0.0))


def _choose_scale(pop, projs, hw: HardwareSpec, headroom_bits: int, nwb: int, min_threshold_bits: int) -> float:
    limits = []
    vth = pop.param("v_threshold", np.inf)
    finite = vth[np.isfinite(vth) & (vth > 0)]
    spiking = pop.emits == "spikes"
    pos, neg = _max_inputs(projs)
    du = max(float(pop.param("du", 1.0).min()), 1.0 / hw.decay_unity)
    u_bound = max(pos, neg) / du     # |u| when every input spikes every step
    if spiking and finite.size:
        s_thr = hw.vth_range[1] * 2 ** hw.vth_shift / float(finite.max())
        limits.append(s_thr / 2 ** headroom_bits)
        # soft limits: keep u from wrapping and v from saturating below (worst case), unless
        # that leaves vth fewer than min_threshold_bits
        dv = float(pop.param("dv", 1.0).min())
        v_neg = (neg / du + max(0.0, -float(pop.param("bias", 0.0).min()))) / dv if dv > 0 else math.inf
        worst = max(u_bound, v_neg)
        if worst > 0:
            limits.append(max((hw.state_max - 1) / worst, s_thr / 2 ** (hw.vth_bits - min_threshold_bits)))
    top = 2.0 ** hw.weight_exp_range[1] * 2 ** hw.act_shift
    for proj in projs:
        data = np.asarray(proj.weights.data, dtype=float)
        _, lo_eff, hi_eff, _ = weight_format(data, hw, nwb)
        if data.size and data.max() > 0:
            limits.append(hi_eff * top / float(data.max()))
        if data.size and data.min() < 0:
            limits.append(lo_eff * top / float(data.min()))
    bias = float(np.max(np.abs(pop.param("bias", 0.0))))
    if bias > 0:
        limits.append(hw.bias_mant_range[1] * 2.0 ** hw.bias_exp_range[1] / bias)
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


# ------------------------------------------------------------------ parameters
def _quantize_population(pop, s, hw: HardwareSpec, report) -> dict:
    n = pop.size
    unity = hw.decay_unity
    d_lo, d_hi = hw.decay_range
    # du: Lava adds ds_offset=1, so du_int = round(du * 4096) - 1
    du = pop.param("du", 1.0).astype(float)
    raw = np.rint(du * unity).astype(np.int64) - hw.du_offset
    du_i = np.clip(raw, d_lo, d_hi)
    report.add(ParamEntry.build(pop.name, "du", du, (du_i + hw.du_offset) / unity, du_i, float(unity),
                                (d_lo, d_hi), clipped=raw != du_i, underflow=np.zeros(n, bool),
                                note="effective decay (du + 1) / 4096; 0 and < 1/8192 are not representable"))
    # dv: dv_int = round(dv * 4096); 4096 (full decay) is stored as 4095
    dv = pop.param("dv", 1.0).astype(float)
    raw = np.rint(dv * unity).astype(np.int64) - hw.dv_offset
    dv_i = np.clip(np.where(raw == d_hi + 1, d_hi, raw), d_lo, d_hi)
    report.add(ParamEntry.build(pop.name, "dv", dv, (dv_i + hw.dv_offset) / unity, dv_i, float(unity),
                                (d_lo, d_hi), clipped=(raw != dv_i) & (raw != d_hi + 1),
                                underflow=(dv > 0) & (dv_i + hw.dv_offset == 0),
                                note="dv = 1 is stored as 4095 (keeps 1/4096 of v)"))
    # vth: 17-bit mantissa compared as vth << 6
    v_lo, v_hi = hw.vth_range
    step = 2.0 ** hw.vth_shift
    vth = pop.param("v_threshold", np.inf).astype(float)
    if pop.emits == "spikes":
        exact = np.where(np.isfinite(vth), vth * s / step, np.inf)
        raw = np.where(np.isfinite(exact), np.rint(np.clip(exact, -2.0 ** 62, 2.0 ** 62)), 2.0 ** 62)
        raw = raw.astype(np.int64)
        vth_i = np.clip(raw, v_lo, v_hi)
        report.add(ParamEntry.build(pop.name, "vth", vth, vth_i * step / s, vth_i, s / step, (v_lo, v_hi),
                                    clipped=raw != vth_i, underflow=(vth != 0) & (vth_i == 0),
                                    note="v_threshold - v_reset; compared as vth << 6"))
    else:
        vth_i = np.full(n, v_hi, dtype=np.int64)
    # bias: bias_mant << bias_exp ~= bias * s
    b = pop.param("bias", 0.0).astype(float) * s
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
    bias_f = pop.param("bias", 0.0).astype(float)
    report.add(ParamEntry.build(pop.name, "bias", bias_f, mant * 2.0 ** e / s, mant, s, (m_lo, m_hi),
                                clipped=raw != mant, underflow=(bias_f != 0) & (mant == 0), underflow_is_loss=False,
                                note=f"bias_mant << bias_exp, bias_exp in [{e_lo}, {e_hi}] (max {int(e.max())})"))
    return {"du": du_i.astype(np.int64), "dv": dv_i.astype(np.int64), "vth": vth_i.astype(np.int64),
            "bias_mant": mant.astype(np.int64), "bias_exp": e.astype(np.int64),
            "refractory": np.zeros(n, dtype=np.int64)}


def sign_mode_of(data: np.ndarray) -> str:
    """Lava's ``determine_sign_mode``: EXCITATORY if all >= 0, INHIBITORY if all <= 0, else MIXED."""
    if data.size == 0 or data.min() >= 0:
        return "EXCITATORY"
    if data.max() <= 0:
        return "INHIBITORY"
    return "MIXED"


def weight_format(data: np.ndarray, hw: HardwareSpec, nwb: int):
    """``(sign_mode, lo, hi, step)``: the mantissas Lava's clip + truncate keep unchanged are the
    multiples of ``step`` in ``[lo, hi]`` (MIXED: even numbers in [-256, 254] with 8 bits)."""
    mode = sign_mode_of(data)
    lo, hi = hw.weight_range(mode)
    step = hw.weight_step(mode, nwb)
    return mode, -((-lo) // step) * step, (hi // step) * step, step


def _quantize_weights(proj, s, hw: HardwareSpec, nwb: int, report):
    w = proj.weights
    data = np.asarray(w.data, dtype=float)
    mode, lo_eff, hi_eff, step = weight_format(data, hw, nwb)
    x = data * s / 2 ** hw.act_shift
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
    back = mant * 2.0 ** exp * 2 ** hw.act_shift / s
    report.add(ParamEntry.build(proj.name, "weights", data, back, mant, s / 2 ** hw.act_shift / 2.0 ** exp,
                                (lo_eff, hi_eff), clipped=raw != mant, underflow=(data != 0) & (mant == 0),
                                kind="projection", underflow_is_loss=bool(np.any(data != 0) and
                                                                          not np.any(mant[data != 0])),
                                note=f"{mode}, weight_exp={exp}, num_weight_bits={nwb}"))
    if exp < 0:
        report.add(ParamEntry.build(proj.name, "a_in_floor", np.zeros(1), np.full(1, -2 ** hw.act_shift / s),
                                    np.zeros(1, np.int64), s, (0, 0), clipped=np.zeros(1, bool),
                                    underflow=np.zeros(1, bool), kind="projection",
                                    note=f"weight_exp={exp} floors the summed input: up to one shifted unit per step"))
    weights = sp.csr_matrix((mant, w.indices.copy(), w.indptr.copy()), shape=w.shape)
    return weights, {"weight_exp": exp, "num_weight_bits": nwb, "sign_mode": mode}


def _check_delays(proj, hw: HardwareSpec, report):
    limit = hw.max_delay + hw.hardware_latency
    d = proj.delays
    over = d > limit
    report.add(ParamEntry.build(proj.name, "delays", d.astype(float), d.astype(float), d.astype(np.int64), 1.0,
                                (hw.hardware_latency, limit), clipped=over, underflow=np.zeros(d.size, bool),
                                kind="projection",
                                note="steps; kept as is (numpy-fixed runs them), Loihi cannot hold values over the range"))


def _bounds(pop, projs, s, hw: HardwareSpec) -> PopulationBound:
    """Worst-case |u| and |v| (every input spiking every step) against 24 bits."""
    pos, neg = _max_inputs(projs)
    du = max(float(pop.param("du", 1.0).min()), 1.0 / hw.decay_unity)
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




# ------------------------------------------------------------------ report
def _finite_max(a) -> float:
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return float(np.max(np.abs(a))) if a.size else 0.0


class ParamEntry:
    """One quantized field of one population or projection.

    Attributes
    ----------
    kind : {"population", "projection"}
    owner, field : str
    scale : float
        Integer units per float unit of this field.
    range : (int, int)
        Inclusive hardware range of the stored integers.
    bits : int
        Bits the largest stored magnitude uses (sign included for signed ranges).
    count : int
    max_abs : float
        Largest ``|value|`` in float units.
    max_abs_error, max_rel_error : float
        Of ``float -> fixed -> float`` (relative: over non-zero values; ``inf``
        when a zero became non-zero).
    clipped, underflow : int
        Values clamped into the range / non-zero values that became 0. A
        clipped value is always a loss; an underflow is one for decays and
        thresholds (the dynamics change), and for weights only when every
        non-zero weight of the projection vanished (otherwise it is the
        rounding of an 8-bit mantissa, within half a step).
    clipped_index, clipped_values, underflow_index, underflow_values : numpy.ndarray
        Every one of them (indices into the field's flat array, float values).
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    @classmethod
    def build(cls, owner, field, x, back, ints, scale, rng, *, clipped, underflow, kind="population", note="",
              underflow_is_loss=True):
        x = np.asarray(x, dtype=float)
        back = np.asarray(back, dtype=float)
        ok = np.isfinite(x)
        err = np.where(ok, np.abs(back - np.where(ok, x, 0.0)), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(x != 0, err / np.abs(np.where(x != 0, x, 1.0)), np.where(err > 0, np.inf, 0.0))
        rel = np.where(ok, rel, 0.0)
        ints = np.asarray(ints, dtype=np.int64)
        mag = int(np.max(np.abs(ints), initial=0))
        bits = mag.bit_length() + int(rng[0] < 0 and mag > 0)
        ci, ui = np.flatnonzero(clipped), np.flatnonzero(underflow)
        return cls(kind=kind, owner=owner, field=field, scale=float(scale), range=(int(rng[0]), int(rng[1])),
                   bits=bits, count=int(x.size), max_abs=_finite_max(x),
                   max_abs_error=float(err.max(initial=0.0)), max_rel_error=float(rel.max(initial=0.0)),
                   clipped=int(ci.size), clipped_index=ci, clipped_values=x[ci],
                   underflow=int(ui.size), underflow_index=ui, underflow_values=x[ui], note=note,
                   underflow_is_loss=bool(underflow_is_loss))

    @property
    def lossy(self) -> bool:
        return self.clipped > 0 or (self.underflow > 0 and self.underflow_is_loss)

    @property
    def name(self) -> str:
        return f"{self.owner}.{self.field}"

    def loss_message(self) -> str:
        parts = []
        if self.clipped:
            v = self.clipped_values[0]
            parts.append(f"{self.clipped} value(s) outside [{self.range[0]}, {self.range[1]}] after scaling by "
                         f"{self.scale:.6g} were clipped (first: {v:.6g} at index {int(self.clipped_index[0])})")
        if self.underflow and self.underflow_is_loss:
            v = self.underflow_values[0]
            parts.append(f"{self.underflow} non-zero value(s) rounded to 0 (first: {v:.6g} at index "
                         f"{int(self.underflow_index[0])}, scale {self.scale:.6g})")
        return f"{self.kind} {self.name}: " + "; ".join(parts) + (f" [{self.note}]" if self.note else "")

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("kind", "owner", "field", "scale", "bits", "count", "max_abs",
                                             "max_abs_error", "max_rel_error", "clipped", "underflow", "note")}
        out["range"] = list(self.range)
        out["clipped_index"] = self.clipped_index.tolist()
        out["clipped_values"] = self.clipped_values.tolist()
        out["underflow_index"] = self.underflow_index.tolist()
        out["underflow_values"] = self.underflow_values.tolist()
        return _json_safe(out)


class PopulationBound:
    """Worst-case ``|u|`` and ``|v|`` of one population (every input spiking every step), in integers."""

    def __init__(self, name, scale, u_max, v_max, state_bits, single_step):
        self.name, self.scale, self.u_max, self.v_max = name, float(scale), float(u_max), float(v_max)
        self.state_bits, self.single_step = state_bits, float(single_step)

    def _headroom(self, value) -> float:
        if value <= 0:
            return float(self.state_bits - 1)
        return (self.state_bits - 1) - math.log2(value) if math.isfinite(value) else -math.inf

    @property
    def u_headroom_bits(self) -> float:
        return self._headroom(self.u_max)

    @property
    def v_headroom_bits(self) -> float:
        return self._headroom(self.v_max)

    @property
    def may_overflow(self) -> bool:
        return self.u_headroom_bits < 0 or self.v_headroom_bits < 0

    def to_dict(self) -> dict:
        return _json_safe({"scale": self.scale, "u_worst": self.u_max, "v_worst": self.v_max,
                           "single_step_input": self.single_step, "u_headroom_bits": self.u_headroom_bits,
                           "v_headroom_bits": self.v_headroom_bits, "may_overflow": self.may_overflow})


def _json_safe(obj):
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return "inf" if obj > 0 else ("-inf" if obj < 0 else "nan")
    return obj


class QuantizationReport:
    """What :func:`quantize` did to every parameter.

    Attributes
    ----------
    hardware : str
    entries : list of ParamEntry
    bounds : dict[str, PopulationBound]
        Worst-case state magnitude and headroom to the 24-bit range.
    losses : list of str
        One message per lossy entry (each also emitted as a QuantizationWarning).
    """

    def __init__(self, hardware: str, strict: bool = False):
        self.hardware = hardware
        self.strict = strict
        self.entries: list = []
        self.bounds: dict = {}
        self.losses: list = []

    def add(self, entry: ParamEntry) -> None:
        self.entries.append(entry)
        if entry.lossy:
            msg = entry.loss_message()
            if self.strict:
                raise QuantizationError(msg)
            self.losses.append(msg)

    def finish(self) -> None:
        if self.losses:
            warnings.warn("quantization lost information:\n  " + "\n  ".join(self.losses)
                          + "\n(see the QuantizationReport; strict=True raises instead)",
                          QuantizationWarning, stacklevel=3)

    # -- queries -----------------------------------------------------------
    @property
    def lossy(self) -> bool:
        return bool(self.losses)

    @property
    def clipped(self) -> int:
        return sum(e.clipped for e in self.entries)

    @property
    def scales(self) -> dict:
        return {name: b.scale for name, b in self.bounds.items()}

    def entry(self, owner: str, field: str) -> ParamEntry:
        for e in self.entries:
            if e.owner == owner and e.field == field:
                return e
        raise KeyError(f"no report entry {owner}.{field}; entries: {', '.join(e.name for e in self.entries)}")

    def max_rel_error(self, field: str | None = None) -> float:
        errs = [e.max_rel_error for e in self.entries if field is None or e.field == field]
        return max(errs, default=0.0)

    def raise_if(self, *, max_rel_error: float | None = None, clipped: int | None = None) -> "QuantizationReport":
        """Raise :class:`QuantizationError` if any entry exceeds the limits; else return ``self``."""
        bad = []
        for e in self.entries:
            if max_rel_error is not None and e.max_rel_error > max_rel_error:
                bad.append(f"{e.name}: relative error {e.max_rel_error:.3g} > {max_rel_error:.3g}")
        if clipped is not None and self.clipped > clipped:
            names = ", ".join(f"{e.name} ({e.clipped})" for e in self.entries if e.clipped)
            bad.append(f"{self.clipped} clipped values > {clipped} allowed: {names}")
        if bad:
            raise QuantizationError("quantization outside limits: " + "; ".join(bad))
        return self

    # -- output --------------------------------------------------------------
    def to_table(self) -> str:
        head = ("object", "field", "scale", "bits", "range", "max|x|", "max abs err", "max rel err",
                "clipped", "underflow")
        rows = [head]
        for e in self.entries:
            rows.append((e.owner, e.field, f"{e.scale:.4g}", str(e.bits), f"[{e.range[0]}, {e.range[1]}]",
                         f"{e.max_abs:.4g}", f"{e.max_abs_error:.3g}", f"{e.max_rel_error:.3g}",
                         str(e.clipped), str(e.underflow)))
        lines = [f"Quantization report (hardware {self.hardware})", _format(rows), "",
                 "State headroom (worst case: every input spiking every step)"]
        rows = [("population", "scale", "u worst", "u headroom", "v worst", "v headroom", "")]
        for b in self.bounds.values():
            rows.append((b.name, f"{b.scale:.4g}", f"{b.u_max:.3g}", f"{b.u_headroom_bits:.1f} bit",
                         f"{b.v_max:.3g}", f"{b.v_headroom_bits:.1f} bit",
                         "may overflow" if b.may_overflow else "ok"))
        lines.append(_format(rows))
        if self.losses:
            lines += ["", "Losses:"] + [f"  {m}" for m in self.losses]
        return "\n".join(lines)

    __str__ = to_table

    def to_dict(self) -> dict:
        return {"hardware": self.hardware, "lossy": self.lossy, "clipped": self.clipped,
                "entries": [e.to_dict() for e in self.entries],
                "populations": {n: b.to_dict() for n, b in self.bounds.items()},
                "losses": list(self.losses)}


def _format(rows) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    out = []
    for k, r in enumerate(rows):
        out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


# ------------------------------------------------------------------ fidelity
def match_spikes(a: np.ndarray, b: np.ndarray, tolerance: int = 1) -> int:
    """Number of spikes of ``a`` and ``b`` (bool, shape ``(steps, n)``) paired within ``tolerance`` steps.

    Greedy: exact coincidences first, then offsets ``+1, -1, +2, ...``; each
    spike pairs at most once.
    """
    a, b = a.copy(), b.copy()
    total = 0
    for k in range(tolerance + 1):
        for off in ((0,) if k == 0 else (k, -k)):
            if off >= 0:
                m = a[: a.shape[0] - off] & b[off:]
                a[: a.shape[0] - off] &= ~m
                b[off:] &= ~m
            else:
                m = a[-off:] & b[: b.shape[0] + off]
                a[-off:] &= ~m
                b[: b.shape[0] + off] &= ~m
            total += int(m.sum())
    return total


class FidelityReport:
    """Float vs fixed spikes per population.

    Attributes
    ----------
    rows : dict[str, dict]
        Per population: ``spikes_float``, ``spikes_fixed``, ``matched``,
        ``match_rate`` (``2 * matched / (n_float + n_fixed)``, 1 when both
        are 0), ``rate_float_hz``, ``rate_fixed_hz``, ``rate_error``
        (``|fixed - float| / float``; 0 when both are 0, ``inf`` when only
        float is 0).
    tolerance : int
        Steps within which two spikes match.
    """

    def __init__(self, rows: dict, tolerance: int, steps: int):
        self.rows, self.tolerance, self.steps = rows, tolerance, steps

    @property
    def min_match_rate(self) -> float:
        return min((r["match_rate"] for r in self.rows.values()), default=1.0)

    @property
    def max_rate_error(self) -> float:
        return max((r["rate_error"] for r in self.rows.values()), default=0.0)

    def to_table(self) -> str:
        rows = [("population", "spikes float", "spikes fixed", f"match (+-{self.tolerance})", "rate float Hz",
                 "rate fixed Hz", "rate error")]
        for n, r in self.rows.items():
            rows.append((n, str(r["spikes_float"]), str(r["spikes_fixed"]), f"{r['match_rate']:.4f}",
                         f"{r['rate_float_hz']:.4g}", f"{r['rate_fixed_hz']:.4g}", f"{r['rate_error']:.3g}"))
        return f"Fidelity float vs fixed over {self.steps} steps\n" + _format(rows)

    __str__ = to_table

    def to_dict(self) -> dict:
        return _json_safe({"tolerance": self.tolerance, "steps": self.steps, "populations": self.rows})


def fidelity(program: Program, steps: int, inputs=None, *, hardware: HardwareSpec = LOIHI2, tolerance: int = 1,
             fixed_program: Program | None = None, populations=None, **quantize_options) -> FidelityReport:
    """Run ``program`` on ``numpy`` (float) and ``numpy-fixed`` and compare the spikes.

    Parameters
    ----------
    program : Program
        The float Program (``timing="hardware"``).
    steps : int
    inputs : array or dict
        Spike inputs (0/1), as for :meth:`Backend.run`.
    hardware : HardwareSpec
    tolerance : int
        Spikes within this many steps match.
    fixed_program : Program, optional
        An already quantized Program (else ``quantize(program, hardware, **quantize_options)``,
        whose warnings propagate).
    populations : iterable of str, optional
        Populations to compare (default: every spiking non-input population).

    Returns
    -------
    FidelityReport

    Examples
    --------
    >>> # rep = fidelity(program, 1000, spikes); print(rep); rep.min_match_rate
    """
    from neuroport.backends.numpy import NumpyBackend
    from neuroport.backends.numpy_fixed import NumpyFixedBackend

    if fixed_program is None:
        fixed_program, _ = quantize(program, hardware, **quantize_options)
    ref = NumpyBackend().run(program, steps=steps, inputs=inputs, progress=False)
    got = NumpyFixedBackend().run(fixed_program, steps=steps, inputs=inputs, progress=False)
    names = populations or [n for n, p in program.populations.items() if not p.is_input and p.emits == "spikes"]
    rows = {}
    for n in names:
        a, b = ref.spikes[n].to_dense(), got.spikes[n].to_dense()
        na, nb = int(a.sum()), int(b.sum())
        m = match_spikes(a, b, tolerance)
        ra, rb = ref.spikes[n].rate_hz(program.dt), got.spikes[n].rate_hz(program.dt)
        rate_err = 0.0 if na == nb == 0 else (abs(rb - ra) / ra if ra > 0 else math.inf)
        rows[n] = {"spikes_float": na, "spikes_fixed": nb, "matched": m,
                   "match_rate": 1.0 if na + nb == 0 else 2.0 * m / (na + nb),
                   "rate_float_hz": ra, "rate_fixed_hz": rb, "rate_error": rate_err}
    return FidelityReport(rows, tolerance, steps)
