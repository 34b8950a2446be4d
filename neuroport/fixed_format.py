"""The integer formats of Loihi 2 parameters, and the worst-case bounds the quantizer scales by.

Each function turns one float parameter of a population into its hardware
integers and records what it did in the :class:`~neuroport.quantize.QuantizationReport`
(scale, bits, error, clipped and underflowed values). The models'
``quantize_params`` (``neuroport.models``) call them; :func:`neuroport.quantize`
runs the models.
"""

from __future__ import annotations

import numpy as np

from neuroport.errors import ParameterError
from neuroport.hardware import sign_mode_name, sign_mode_of
from neuroport.quantize_report import ParamEntry


# ------------------------------------------------------------------ worst cases
def signed(proj) -> float:
    """+1, or -1 for a two-port projection into ``inh`` (it carries magnitudes)."""
    return -1.0 if proj.port == "inh" else 1.0


def max_inputs(projs):
    """Largest positive and negative summed input one step can deliver to one neuron."""
    pos = neg = 0.0
    for proj in projs:
        w = proj.weights * signed(proj)
        if w.nnz == 0:
            continue
        p = np.asarray(w.maximum(0).sum(axis=1)).ravel()
        n = np.asarray((-w).maximum(0).sum(axis=1)).ravel()
        pos, neg = pos + p, neg + n
    return float(np.max(pos, initial=0.0)), float(np.max(neg, initial=0.0))


def state_limit(hw, *arrays) -> float | None:
    """Largest scale at which every value of ``arrays`` (float units) fits a signed 24-bit field."""
    top = max((absmax(a) for a in arrays), default=0.0)
    return (hw.state_max - 1) / top if top > 0 else None


def absmax(a) -> float:
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return float(np.max(np.abs(a), initial=0.0))



# ------------------------------------------------------------------ parameters
def decay(pop, field, hw, report, *, offset=0, default=1.0, optional=False, source=None):
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


def mant_exp(pop, field, x_float, s, hw, report, *, prefix=None):
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


def signed24(pop, field, x_float, s, hw, report, *, loss_on_underflow=True, note=""):
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


def refractory(pop, hw, report):
    ref = pop.param("refractory", 0).astype(float)
    lo, hi = hw.refractory_range
    raw = np.rint(ref).astype(np.int64)
    ints = np.clip(raw, lo, hi)
    if np.any(ref > 0):
        report.add(ParamEntry.build(pop.name, "refractory", ref, ints.astype(float), ints, 1.0, (lo, hi),
                                    clipped=raw != ints, underflow=np.zeros(pop.size, bool),
                                    note="steps held after a spike"))
    return ints.astype(np.int64)


def vth(pop, s, hw, report):
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


def g_format(pop, field, x, gs, hw, report, f):
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


def weight_format(data: np.ndarray, hw, nwb: int):
    """``(sign_mode, lo, hi, step)``: the mantissas Lava's clip + truncate keep unchanged are the
    multiples of ``step`` in ``[lo, hi]`` (MIXED: even numbers in [-256, 254] with 8 bits)."""
    mode = sign_mode_of(data)
    lo, hi = hw.weight_range(mode)
    step = hw.weight_step(mode, nwb)
    return mode, -((-lo) // step) * step, (hi // step) * step, step


def threshold_scale(pop, hw):
    """``s_threshold = (2**17 - 1) * 2**6 / max(v_threshold)`` of a spiking population (None otherwise)."""
    vth = pop.param("v_threshold", np.inf)
    finite = vth[np.isfinite(vth) & (vth > 0)]
    if pop.emits == "spikes" and finite.size:
        return hw.vth_range[1] * 2 ** hw.vth_shift / float(finite.max())
    return None


def bias_limits(pop, hw, keys=("bias", "u_bias")) -> list:
    """The largest scales at which each bias in ``keys`` fits Lava's 13-bit mantissa << 7."""
    bias_lim = hw.bias_mant_range[1] * 2.0 ** hw.bias_exp_range[1]
    return [bias_lim / b for b in (absmax(pop.param(k, 0.0)) for k in keys) if b > 0]


def dense_weights(data, sign_mode, num_weight_bits: int, hw, where: str = "projection") -> np.ndarray:
    """What Lava's Dense does to the integer weights it is given (``lava/utils/weightutils.py``).

    ``astype(int32)``, then ``clip_weights(num_bits=8)`` by sign mode (EXCITATORY
    [0, 255], INHIBITORY [-255, 0], MIXED [-256, 255]), then
    ``truncate_weights``: the low ``8 - num_weight_bits`` bits (one more for
    MIXED) are floored away, on the magnitude for INHIBITORY. A missing
    ``sign_mode`` is Lava's ``determine_sign_mode`` of the weights.

    Raises
    ------
    ParameterError
        Weights that are not integers, an unknown sign mode or
        ``num_weight_bits`` outside ``1..8``.
    """
    data = np.asarray(data)
    if data.size and data.dtype.kind == "f":
        if not np.all(np.isfinite(data)) or np.any(data != np.round(data)):
            bad = data[~np.isfinite(data) | (data != np.round(data))][0]
            raise ParameterError(f"{where}.weights: a fixed Program needs integer mantissas, got {bad!r}")
    mode = sign_mode_name(sign_mode, where) if sign_mode is not None else sign_mode_of(data)
    nwb = int(num_weight_bits)
    if not 1 <= nwb <= hw.weight_bits:
        raise ParameterError(f"{where}.num_weight_bits: expected 1..{hw.weight_bits}, got {num_weight_bits!r}")
    w = np.asarray(data, dtype=np.int64).astype(np.int32).astype(np.int64)
    lo, hi = hw.weight_range(mode)
    return truncate_weights(np.clip(w, lo, hi), mode, nwb, hw)


def truncate_weights(w: np.ndarray, mode: str, num_weight_bits: int, hw) -> np.ndarray:
    """Lava's ``truncate_weights``: the low ``weight_bits - num_weight_bits`` bits (one more for MIXED)
    floored away, on the magnitude for INHIBITORY (int64 in, int64 out)."""
    drop = hw.weight_bits - int(num_weight_bits) + int(mode == "MIXED")
    if mode == "INHIBITORY":
        return -(((-w) >> drop) << drop)
    return (w >> drop) << drop
