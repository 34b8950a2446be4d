"""Fixed-point learning: Lava's Loihi 2 learning engine, bit for bit (numpy-fixed).

Reproduces ``LearningConnectionModelBitApproximate`` +
``LearningRuleApplierBitApprox`` (``lava/magma/core/model/py/connection.py``,
``lava/magma/core/learning/``, lava-nc 0.10.0) for the rules neuroport emits,
and maps the float rules of :mod:`neuroport.models.plasticity` to them
(:func:`quantize_plastic`, called by :func:`neuroport.quantize`).

Fixed Program schema of a plastic projection
--------------------------------------------
``Projection.extra`` holds, as for a Dense projection, ``weight_exp``,
``num_weight_bits`` and ``sign_mode`` (``"EXCITATORY"`` if ``w_min >= 0``,
``"INHIBITORY"`` if ``w_max <= 0``, else ``"MIXED"``), passed unchanged to
``LearningDense``. ``Projection.weights`` holds the initial mantissas (CSR);
``Projection.delays`` are all 1 (LearningDense has no delays).
``Projection.extra["plasticity"]`` is a dict:

``node`` (str)
    The graph's PlasticLinear node name.
``rule`` (str)
    The float rule it came from, ``"pair"`` or ``"diehl_cook"`` (information).
``engine`` (str)
    ``"loihi2"``: the keys below are Lava's ``Loihi2FLearningRule`` arguments.
``dw`` (str)
    The learning rule string, e.g. ``"-5*2^-4 * x0 * y1 + 5*2^-4 * y0 * x1"``
    or ``"3*2^-1 * y0 * (x1 - 3) * (w - 255)"``. Lava parses it into exactly
    the products of ``products``.
``products`` (tuple of dict)
    A float coefficient ``c`` becomes one product, or two with the same
    factors when the residual of the first exceeds ``|c| / 64``
    (``5*2^-5 + 3*2^-9``: 8 bits of mantissa in all). The parsed form of ``dw`` as Lava's ``ProductSeries`` holds it: per product
    ``dependency`` (``"x0"`` or ``"y0"``), ``mantissa`` (int, [-8, 7]),
    ``exponent`` (int, [-7, 8]; Lava's ``Product.s_exp`` is ``exponent + 7``),
    ``factors`` (tuple of ``(state_var, const)``, e.g. ``("x1", -3)``,
    ``("w", -255)``; const 0 = no constant) and ``shift`` (the multi-factor
    down-shift ``max(0, sum(widths) + 4 - 15)``, widths x1/y1 7, w 9, x0/y0 1).
``x1_impulse``, ``y1_impulse`` (int, [0, 127])
    Trace increment per spike, 7-bit trace units (integers: the impulse is
    added exactly; only the decay rounds stochastically).
``x1_tau``, ``y1_tau`` (int, steps, [0, 255])
    Trace decay: ``x <- stochastic_round(exp(-1 / tau) * x)``; 0 empties the
    trace every step (before this step's impulse).
``t_epoch`` (int)
    1: the learning phase runs every step.
``rng_seed`` (int)
    ``Loihi2FLearningRule(rng_seed=...)``: x traces draw from seeds
    ``rng_seed`` (decay) and ``rng_seed + 1`` (impulse), y traces from
    ``rng_seed + 2`` / ``rng_seed + 3``. (The weight rounding generator is
    Lava's ``ConnVarRandom()``, always seed 2.)
``weight`` (int64, ``(post, pre)``), ``connectivity`` (bool, ``(post, pre)``)
    Initial mantissas (0 where absent) and which synapses exist. With full
    connectivity this is ``LearningDense(weights=weight)``; otherwise absent
    synapses must not learn (``LearningSparse`` with explicit zeros).
``weight_scale`` (float)
    Mantissa units per graph weight unit: graph weight = mantissa /
    ``weight_scale`` (``learned_weights()`` returns this), and
    ``mantissa << weight_exp << 6 ~= gain * w * scale[post]``.
``w_lo``, ``w_hi`` (int)
    The bounds the engine enforces (Lava's ``clip_weights(sign_mode, 8)``:
    EXCITATORY [0, 255], INHIBITORY [-255, 0], MIXED [-256, 255]).
``float`` (dict)
    The float rule parameters (``a_plus``, ``a_minus``, ``eta``, ``x_tar``,
    ``mu``, ``w_min``, ``w_max``, ``bounds``, ``tau_pre``, ``tau_post``,
    ``pre_decay``, ``post_decay``), for reports.

Lava construction (the lowering): ``Loihi2FLearningRule(dw=p["dw"],
x1_impulse=p["x1_impulse"], x1_tau=p["x1_tau"], y1_impulse=p["y1_impulse"],
y1_tau=p["y1_tau"], t_epoch=p["t_epoch"], rng_seed=p["rng_seed"])``,
``LearningDense(weights=p["weight"], weight_exp=..., num_weight_bits=...,
sign_mode=SignMode[...], learning_rule=rule)``; pre ``s_out -> s_in``, post
``s_out -> s_in_bap`` and ``a_out -> a_in``.

Step ``t`` (numpy-fixed = Lava; the learning phase follows the spiking phase)
-------------------------------------------------------------------------
1. delivery: the pre spikes sent at ``t`` reach ``a_in`` at ``t + 1`` through
   the weights *before* step ``t``'s learning
   (``shift(sum_j w[:, j], weight_exp)``);
2. traces (after all neurons stepped), with one random number per trace
   group and step (``r`` in [0, 1) for the decay, ``q`` in [0, 128) for the
   impulse's fraction)::

       x1 = floor(exp(-1/x1_tau) * x1) + (r < frac(exp(-1/x1_tau) * x1))   # x1_tau = 0: x1 = 0
       x1[pre spiked at t] = clip(x1 + impulse_int + (q < impulse_frac_256), 0, 127)

   and the same for ``y1`` with the post spikes of ``t``. The learning
   engine sees a pre spike when it is *sent* (step ``t``), one step before
   the post neuron receives it (the float engine counts at arrival).
3. weights: ``acc = w << 7``; per product, in order::

       p = dep * prod(clip(f + const, -2**width, 2**width - 1)) * mantissa
       p = clip((p >> shift) << (exponent + 7), -32769, 32767)
       acc = clip(acc + p, -32769, 32767)

   (``dep`` is 0/1: ``y0`` = post spiked at ``t``, ``x0`` = pre sent at
   ``t``; traces are the values after step 2, ``w`` the weights before
   learning); EXCITATORY keeps ``acc >= 0``, INHIBITORY ``<= 0``; then
   ``w = (acc >> 7) + (r_w < (acc & 127) / 128)`` with one ``r_w`` per step,
   clipped to ``[w_lo, w_hi]``. Synapses whose row and column saw no
   dependency keep their weight exactly (their ``acc`` has no fraction).

Random numbers: Lava's ``TraceRandom`` advances twice per step (after the pre
and after the post spikes); the learning phase of step ``k`` (1-based) uses
draw ``2k`` of each trace stream and draw ``k`` of the weight stream
(``numpy.random.default_rng``, ``random()`` / ``integers(0, 128)``), which
:class:`LearningRandom` reproduces by drawing ahead in blocks (same
sequence). Products of 32-bit integers stay below ``2**31`` for every rule
emitted here (at most one trace and one weight factor).
"""

from __future__ import annotations

import math
import numpy as np
import scipy.sparse as sp

from neuroport.errors import QuantizationError, UnsupportedNodeError
from neuroport.models.learning_engine import (  # noqa: F401  (the engine, re-exported for its users)
    ACC_HI, ACC_LO, IMPULSE_RANGE, TAU_RANGE, W_ACC_U, W_FRAC, W_S_MANT, WEIGHT_SEED, WIDTHS, FixedPlasticState,
    LearningRandom, deliver, learn, prepare, weights_graph_units)
from neuroport.quantize_report import ParamEntry



# ---------------------------------------------------------------- rule strings
def product_shift(factors) -> int:
    """Lava's down-shift of one product: ``max(0, sum(factor widths) + 4 - 15)``."""
    return max(0, sum(WIDTHS[f] for f, _ in factors) + W_S_MANT - W_ACC_U)


def _factor_str(var: str, const: int) -> str:
    if const == 0:
        return var
    return f"({var} {'-' if const < 0 else '+'} {abs(int(const))})"


def rule_string(products) -> str:
    """Lava's ``dw`` string for ``products`` (see the module docstring)."""
    parts = []
    for i, p in enumerate(products):
        m = int(p["mantissa"])
        lit = f"{abs(m)}*2^{int(p['exponent'])}"
        terms = " * ".join([lit, p["dependency"]] + [_factor_str(v, c) for v, c in p["factors"]])
        sign = "-" if m < 0 else ("+" if i else "")
        parts.append(f"{sign} {terms}".strip() if i else (f"-{terms}" if m < 0 else terms))
    return " ".join(parts)


def coefficient(c: float, shift: int, hw):
    """``(mantissa, exponent, clipped, coarse)`` with ``mantissa * 2**(exponent - shift) ~= c``.

    The mantissa magnitude is at most 7 and the exponent in the hardware's
    range; the smallest exponent that holds ``c`` is used (most mantissa
    bits). ``coarse``: the exponent is at its minimum and fewer than 3
    mantissa bits remain (e.g. 0.01 -> 2**-7), or ``c`` rounded to 0.
    """
    e_lo, e_hi = hw.learning_coeff_exp_range
    m_hi = hw.learning_coeff_mant_range[1]
    mag = abs(float(c)) * 2.0 ** shift
    if mag == 0:
        return 0, e_lo, False, False
    for e in range(e_lo, e_hi + 1):
        m = int(np.rint(mag / 2.0 ** e))
        if m <= m_hi:
            sign = -1 if c < 0 else 1
            return sign * m, e, False, (e == e_lo and m < 4)
    return (-m_hi if c < 0 else m_hi), e_hi, True, False


# ---------------------------------------------------------------- quantization
def tau_steps(decay: float) -> float:
    """Lava's ``tau`` (steps) whose per-step retention ``exp(-1/tau)`` equals ``1 - decay``."""
    keep = 1.0 - float(decay)
    if keep <= 0:
        return 0.0
    if keep >= 1:
        return math.inf
    return -1.0 / math.log(keep)


def quantize_plastic(proj, params: dict, weight_scale: float, mode: str, hw, report, *, trace_impulse: int = 16,
                     rng_seed: int = 0) -> dict:
    """The fixed ``extra["plasticity"]`` of one plastic projection, with report rows.

    Parameters
    ----------
    proj : Projection
        The float plastic projection (for its name).
    params : dict
        Its float ``extra["plasticity"]`` (see :func:`neuroport.compile`).
    weight_scale : float
        Mantissa units per graph weight unit (uniform over the projection).
    mode : str
        Lava sign mode of the projection.
    hw : HardwareSpec
    report : QuantizationReport
    trace_impulse : int
        Trace units per spike (``x1_impulse = y1_impulse``), in [1, 127].
    rng_seed : int
        ``Loihi2FLearningRule`` seed.

    Raises
    ------
    UnsupportedNodeError
        Diehl & Cook with ``mu`` other than 0 or 1 (Loihi's products have
        integer powers of one weight factor at most).
    QuantizationError
        ``trace_impulse`` outside [1, 127].
    """
    name = proj.name
    lo_i, hi_i = IMPULSE_RANGE
    if not (isinstance(trace_impulse, (int, np.integer)) and lo_i < trace_impulse <= hi_i):
        raise QuantizationError(f"trace_impulse: expected an integer in [1, {hi_i}], got {trace_impulse!r}")
    imp = int(trace_impulse)
    k = float(weight_scale)
    w_lo, w_hi = hw.weight_range(mode)
    rule = params["rule"]
    mu = float(params.get("mu", 1.0))
    if rule == "diehl_cook" and mu not in (0.0, 1.0):
        raise UnsupportedNodeError(
            f"{params.get('node', name)}.mu: Loihi's learning engine multiplies by the weight at most once; "
            f"Diehl & Cook needs mu = 0 or 1 in fixed point, got {mu}")

    # weight bounds: what the engine clips to, against the float bounds
    for fld, lim in (("w_min", w_lo), ("w_max", w_hi)):
        x = float(params[fld])
        back = lim / k
        off = abs(back - x) > 0.5 / k
        report.add(ParamEntry.build(name, f"plasticity.{fld}", np.array([x]), np.array([back]), np.array([lim]), k,
                                    (w_lo, w_hi), clipped=np.array([off]), underflow=np.zeros(1, bool),
                                    kind="projection",
                                    note=f"hard bound = the {mode} clip of the learning engine"
                                         + ("; NOT the float bound" if off else "")))
    wmax_i = int(np.clip(np.rint(float(params["w_max"]) * k), w_lo, w_hi))
    wmin_i = int(np.clip(np.rint(float(params["w_min"]) * k), w_lo, w_hi))

    # traces
    taus = {}
    for trace, fld in (("x1", "pre_decay"), ("y1", "post_decay")):
        tf = tau_steps(params[fld])
        raw = int(min(np.rint(tf), 2 ** 31)) if math.isfinite(tf) else 2 ** 31
        ti = int(np.clip(raw, *TAU_RANGE))
        taus[trace] = ti
        report.add(ParamEntry.build(name, f"plasticity.{trace}_tau", np.array([tf]), np.array([float(ti)]),
                                    np.array([ti]), 1.0, TAU_RANGE, clipped=np.array([raw != ti]),
                                    underflow=np.zeros(1, bool), kind="projection",
                                    note="steps; trace keeps exp(-1/tau) per step (0: emptied every step)"))
    for trace in ("x1", "y1"):
        report.add(ParamEntry.build(name, f"plasticity.{trace}_impulse", np.array([1.0]), np.array([1.0]),
                                    np.array([imp]), float(imp), IMPULSE_RANGE, clipped=np.zeros(1, bool),
                                    underflow=np.zeros(1, bool), kind="projection",
                                    note=f"trace units per spike; 7-bit traces saturate at {hi_i} "
                                         f"({hi_i / imp:.3g} float trace units)"))

    # products: (dependency, float coefficient in integer units, factors, float value, unit)
    terms = []
    a_plus, a_minus = float(params["a_plus"]), float(params["a_minus"])
    soft = params.get("bounds") == "soft"
    if rule == "pair":
        if a_minus:
            if soft:
                terms.append(("x0", -a_minus / imp, (("y1", 0), ("w", -wmin_i)), "a_minus", -a_minus))
            else:
                terms.append(("x0", -a_minus * k / imp, (("y1", 0),), "a_minus", -a_minus))
        if soft:
            terms.append(("y0", -a_plus / imp, (("x1", 0), ("w", -wmax_i)), "a_plus", a_plus))
        else:
            terms.append(("y0", a_plus * k / imp, (("x1", 0),), "a_plus", a_plus))
    else:
        eta, x_tar = float(params["eta"]), float(params["x_tar"])
        raw = int(np.rint(x_tar * imp))
        xt = int(np.clip(raw, 0, IMPULSE_RANGE[1]))
        report.add(ParamEntry.build(name, "plasticity.x_tar", np.array([x_tar]), np.array([xt / imp]), np.array([xt]),
                                    float(imp), (0, IMPULSE_RANGE[1]), clipped=np.array([raw != xt]),
                                    underflow=np.array([x_tar != 0 and xt == 0]), kind="projection",
                                    note="trace units, the constant of (x1 - x_tar)"))
        if a_minus:
            terms.append(("x0", -a_minus * k / imp, (("y1", 0),), "a_minus", -a_minus))
        if mu == 1.0:
            terms.append(("y0", -eta / imp, (("x1", -xt), ("w", -wmax_i)), "eta", eta))
        else:
            terms.append(("y0", eta * k / imp, (("x1", -xt),), "eta", eta))
    products = []
    for dep, c, factors, fld, x in terms:
        shift = product_shift(factors)
        m, e, clipped, coarse = coefficient(c, shift, hw)
        pieces = [(m, e)]
        rest = c - m * 2.0 ** (e - shift)
        if c and not clipped and abs(rest) > abs(c) / 64:
            # a second product of the same factors carries the residual (4 more mantissa bits)
            m2, e2, _, _ = coefficient(rest, shift, hw)
            if m2:
                pieces.append((m2, e2))
        eff = sum(mm * 2.0 ** (ee - shift) for mm, ee in pieces)
        back = x * eff / c if c else 0.0
        coarse = coarse and len(pieces) == 1
        text = " + ".join(f"{mm}*2^{ee}" for mm, ee in pieces)
        report.add(ParamEntry.build(name, f"plasticity.{fld}", np.array([x]), np.array([back]), np.array([m]),
                                    abs(c / x) if x else 1.0, hw.learning_coeff_mant_range,
                                    clipped=np.array([clipped]), underflow=np.array([coarse]), kind="projection",
                                    note=f"{text} in dw (shift {shift}); "
                                         + ("fewer than 3 mantissa bits at the smallest exponent" if coarse
                                            else "mantissa [-8, 7], exponent [-7, 8]")))
        for mm, ee in pieces:
            products.append({"dependency": dep, "mantissa": int(mm), "exponent": int(ee),
                             "factors": tuple((v, int(cst)) for v, cst in factors), "shift": int(shift)})
    products = tuple(products)
    keys = ("a_plus", "a_minus", "eta", "x_tar", "mu", "w_min", "w_max", "bounds", "tau_pre", "tau_post",
            "pre_decay", "post_decay")
    return {
        "node": params.get("node", name), "rule": rule, "engine": "loihi2",
        "dw": rule_string(products), "products": products,
        "x1_impulse": imp, "x1_tau": taus["x1"], "y1_impulse": imp, "y1_tau": taus["y1"],
        "t_epoch": 1, "rng_seed": int(rng_seed),
        "weight_scale": k, "w_lo": int(w_lo), "w_hi": int(w_hi),
        "float": {key: params[key] for key in keys if key in params},
    }


# ---------------------------------------------------------------- random numbers


def sign_mode_for(params: dict) -> str:
    """Lava sign mode that holds ``[w_min, w_max]``."""
    if float(params["w_min"]) >= 0:
        return "EXCITATORY"
    if float(params["w_max"]) <= 0:
        return "INHIBITORY"
    return "MIXED"


def _uniform_gain(proj) -> float:
    params = proj.extra["plasticity"]
    gain = np.asarray(params["gain"], dtype=float).reshape(-1)
    if gain.size and np.ptp(gain) > 1e-12 * np.max(np.abs(gain)):
        raise UnsupportedNodeError(
            f"{params.get('node', proj.name)}: the input gain into {proj.post!r} differs between neurons "
            f"({gain.min():.6g} .. {gain.max():.6g}); one learning rule per projection needs one weight scale")
    return float(gain[0]) if gain.size else 1.0


def _bound_scale(params: dict, hw) -> float:
    """Mantissa units per graph unit that put the float bound(s) on the engine's clip (``k``)."""
    mode = sign_mode_for(params)
    lo, hi = hw.weight_range(mode)
    w_min, w_max = float(params["w_min"]), float(params["w_max"])
    ks = []
    if w_max > 0:
        ks.append(hi / w_max)
    if w_min < 0:
        ks.append(lo / w_min)
    return min(ks)


def pin_scale(s: float, proj, hw) -> float:
    """The largest population scale ``<= s`` at which ``proj``'s weight bound lands exactly on 255 (256).

    ``scale = k * 2**6 * 2**weight_exp / gain`` for an exponent in the
    hardware's range (at most a factor 2 below ``s``; the smallest exponent if
    even that is above ``s``).
    """
    k = _bound_scale(proj.extra["plasticity"], hw)
    g = _uniform_gain(proj)
    e_lo, e_hi = hw.weight_exp_range
    best = None
    for e in range(e_lo, e_hi + 1):
        cand = k * 2.0 ** hw.act_shift * 2.0 ** e / g
        if cand <= s * (1 + 1e-12):
            best = cand
    return best if best is not None else k * 2.0 ** hw.act_shift * 2.0 ** e_lo / g


def quantize_weights(proj, row_scale, hw, nwb: int, report, *, trace_impulse: int, rng_seed: int):
    """CSR mantissas and ``extra`` (``weight_exp``, ``num_weight_bits``, ``sign_mode``, ``plasticity``)."""
    params = proj.extra["plasticity"]
    mode = sign_mode_for(params)
    g = _uniform_gain(proj)
    rs = np.asarray(row_scale, dtype=float).reshape(-1)
    if rs.size and np.ptp(rs) > 1e-12 * np.max(np.abs(rs)):
        raise UnsupportedNodeError(f"projection {proj.name!r}: plastic weights into a population whose rows have "
                                   "different scales")
    per_unit = float(rs[0]) * g / 2.0 ** hw.act_shift  # mantissa << weight_exp per graph unit
    k_want = _bound_scale(params, hw)
    e_lo, e_hi = hw.weight_exp_range
    e = int(math.ceil(math.log2(per_unit / k_want) - 1e-9))
    e = min(max(e, e_lo), e_hi)
    k = per_unit / 2.0 ** e
    lo, hi = hw.weight_range(mode)
    step = hw.weight_step(mode, nwb)
    lo_eff, hi_eff = -((-lo) // step) * step, (hi // step) * step
    W = np.asarray(params["weight"], dtype=float)
    mask = np.asarray(params["connectivity"], dtype=bool)
    raw = (np.rint(W * k / step) * step).astype(np.int64)
    mant = np.where(mask, np.clip(raw, lo_eff, hi_eff), 0)
    data = W[mask]
    report.add(ParamEntry.build(proj.name, "weights", data, mant[mask] / k, mant[mask], k, (lo_eff, hi_eff),
                                clipped=(raw != mant)[mask], underflow=(data != 0) & (mant[mask] == 0),
                                kind="projection", underflow_is_loss=False,
                                note=f"plastic, {mode}, weight_exp={e}, num_weight_bits={nwb}; graph weight = "
                                     f"mantissa / {k:.6g}; learned weights are 9-bit signed in [{lo}, {hi}]"))
    spec = quantize_plastic(proj, params, k, mode, hw, report, trace_impulse=trace_impulse, rng_seed=rng_seed)
    spec["weight"] = mant.astype(np.int64)
    spec["connectivity"] = mask.copy()
    w = proj.weights
    rows = np.repeat(np.arange(w.shape[0]), np.diff(w.indptr))
    csr = sp.csr_matrix((mant[rows, w.indices].astype(np.int64), w.indices.copy(), w.indptr.copy()), shape=w.shape)
    return csr, {"weight_exp": e, "num_weight_bits": nwb, "sign_mode": mode, "plasticity": spec}
