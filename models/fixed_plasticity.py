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
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from neuroport.fixed_format import truncate_weights
from neuroport.errors import ParameterError, QuantizationError, UnsupportedNodeError
from neuroport.hardware import sign_mode_name
from neuroport.quantize_report import ParamEntry

W_ACC_U = 15        #: unsigned accumulator width (Lava W_ACCUMULATOR_U)
W_S_MANT = 4        #: coefficient mantissa width (Lava W_S_MANT)
W_FRAC = 7          #: fractional bits of the weight accumulator (16 - 9)
WIDTHS = {"x0": 1, "y0": 1, "x1": 7, "x2": 7, "y1": 7, "y2": 7, "y3": 7, "w": 9}
TAU_RANGE = (0, 255)        #: LearningDense x1_tau/y1_tau Var precision=8
IMPULSE_RANGE = (0, 127)    #: 7-bit traces
ACC_LO, ACC_HI = -(2 ** W_ACC_U) - 1, 2 ** W_ACC_U - 1   # Lava's (asymmetric) accumulator clip
WEIGHT_SEED = 2             #: Lava's ConnVarRandom() default seed


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
class _Stream:
    """Draws of one Lava generator, ahead in blocks (identical sequence to one draw per call)."""

    def __init__(self, seed: int, kind: str, block: int = 4096):
        self.rng = np.random.default_rng(seed=seed)
        self.kind, self.block = kind, block
        self.buf = self._draw()
        self.base = 0  # index of buf[0]

    def _draw(self):
        if self.kind == "float":
            return self.rng.random(self.block)
        return self.rng.integers(0, 128, size=self.block, dtype=int)

    def at(self, i: int):
        while i >= self.base + self.buf.size:
            self.base += self.buf.size
            self.buf = self._draw()
        return self.buf[i - self.base]


class LearningRandom:
    """Lava's ``TraceRandom`` x/y pairs (seeds ``rng_seed + 0..3``) and ``ConnVarRandom`` (seed 2)."""

    def __init__(self, rng_seed: int):
        s = int(rng_seed)
        self.x_decay, self.x_imp = _Stream(s, "float"), _Stream(s + 1, "int")
        self.y_decay, self.y_imp = _Stream(s + 2, "float"), _Stream(s + 3, "int")
        self.weight = _Stream(WEIGHT_SEED, "float")

    def step(self, k: int):
        """``(r_x, q_x, r_y, q_y, r_w)`` for the learning phase of step ``k`` (1-based)."""
        i = 2 * k
        return (self.x_decay.at(i), self.x_imp.at(i), self.y_decay.at(i), self.y_imp.at(i), self.weight.at(k))


# ---------------------------------------------------------------- engine
@dataclass
class FixedPlasticState:
    """Run-time state of one fixed plastic projection.

    ``weights`` (int64, ``(post, pre)``) are the current mantissas;
    ``x1`` (pre,), ``y1`` (post,) the 7-bit traces; ``k`` the learning steps done.
    """

    weights: np.ndarray
    mask: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    spec: dict
    weight_exp: int
    mode: str
    random: LearningRandom
    k: int = 0
    full: bool = True  # next learning step passes every synapse (first step: Lava clips all)

    @property
    def weight_scale(self) -> float:
        return float(self.spec["weight_scale"])


def _decompose(impulse):
    i = math.floor(float(impulse))
    return i, int(np.rint((float(impulse) - i) * 256))


def prepare(proj, hw) -> FixedPlasticState:
    """State of a fixed plastic projection (initial weights truncated as Lava's LearningDense does)."""
    spec = proj.extra["plasticity"]
    if "products" not in spec:
        raise ParameterError(f"projection {proj.name!r}: plasticity without integer parameters "
                             "(quantize the float Program with neuroport.quantize)")
    if int(spec.get("t_epoch", 1)) != 1:
        raise UnsupportedNodeError(f"projection {proj.name!r}: t_epoch = {spec['t_epoch']}; numpy-fixed "
                                   "emulates t_epoch = 1 only")
    if proj.nnz and np.any(np.asarray(proj.delays) != 1):
        raise UnsupportedNodeError(f"projection {proj.name!r}: a plastic projection needs delay 1 (Lava's "
                                   f"LearningDense has no synaptic delays), got {np.unique(proj.delays).tolist()}")
    for p in spec["products"]:
        if p["dependency"] not in ("x0", "y0") or any(v not in ("x0", "y0", "x1", "y1", "w")
                                                      for v, _ in p["factors"]):
            raise UnsupportedNodeError(f"projection {proj.name!r}: product {p} uses a dependency or factor "
                                       "numpy-fixed does not emulate (x0, y0, x1, y1, w only)")
    mode = sign_mode_name(proj.extra.get("sign_mode", "MIXED"), f"projection {proj.name!r}")
    nwb = int(proj.extra.get("num_weight_bits", hw.weight_bits))
    w = np.asarray(spec["weight"]).astype(np.int64).astype(np.int32).astype(np.int64)
    mask = np.asarray(spec["connectivity"], dtype=bool)
    # LearningDense: truncate_weights only (no clip) before the first step
    w = np.where(mask, truncate_weights(w, mode, nwb, hw), 0)
    n_post, n_pre = w.shape
    return FixedPlasticState(np.ascontiguousarray(w, dtype=np.int64), mask, np.zeros(n_pre, np.int64),
                             np.zeros(n_post, np.int64), spec, int(proj.extra.get("weight_exp", 0)), mode,
                             LearningRandom(spec.get("rng_seed", 0)))


def deliver(st: FixedPlasticState, idx: np.ndarray) -> np.ndarray:
    """``a_in`` contribution (int64, (post,)) of the pre neurons ``idx`` that spiked."""
    acc = st.weights[:, idx].sum(axis=1) if idx.size != 1 else st.weights[:, int(idx[0])].copy()
    e = st.weight_exp
    return acc << e if e > 0 else acc >> -e


def _trace(values, tau, r, spiked, q, impulse):
    if tau == 0:
        out = np.zeros_like(values)
    else:
        dec = np.exp(-1 / np.array([[tau]], dtype=np.int64))[0, 0] * values
        out = np.floor(dec).astype(np.int64) + (r < dec % 1)
    if spiked.any():
        i_int, i_frac = _decompose(impulse)
        out[spiked] = np.clip(out[spiked] + i_int + int(q < i_frac), 0, 127)
    return out


def learn(st: FixedPlasticState, s_pre: np.ndarray, s_post: np.ndarray) -> None:
    """One step of Lava's learning phase (``t_epoch = 1``); ``s_pre``: pre spikes *sent* this step."""
    spec = st.spec
    st.k += 1
    r_x, q_x, r_y, q_y, r_w = st.random.step(st.k)
    st.x1 = _trace(st.x1, int(spec["x1_tau"]), r_x, s_pre, q_x, spec["x1_impulse"])
    st.y1 = _trace(st.y1, int(spec["y1_tau"]), r_y, s_post, q_y, spec["y1_impulse"])
    rows, cols = np.flatnonzero(s_post), np.flatnonzero(s_pre)
    if st.full:
        st.full = False
        _update(st, np.arange(st.weights.shape[0]), slice(None), s_pre, s_post, r_w)
        return
    if rows.size:
        _update(st, rows, slice(None), s_pre, s_post, r_w)
    if cols.size:
        others = np.flatnonzero(~s_post) if rows.size else slice(None)
        _update(st, others, cols, s_pre, s_post, r_w)


def _update(st, rows, cols, s_pre, s_post, r_w) -> None:
    """Learning rule on the block ``weights[rows][:, cols]``."""
    W = st.weights
    block = W[rows][:, cols] if not isinstance(rows, slice) else W[:, cols]
    if block.size == 0:
        return
    y0 = s_post[rows].astype(np.int64)[:, None]
    x0 = s_pre[cols].astype(np.int64)[None, :]
    x1 = st.x1[cols][None, :]
    y1 = st.y1[rows][:, None]
    vals = {"x0": x0, "y0": y0, "x1": x1, "y1": y1, "w": block}
    acc = block << W_FRAC
    for p in st.spec["products"]:
        cur = vals[p["dependency"]] * int(p["mantissa"])
        for var, const in p["factors"]:
            width = WIDTHS[var]
            cur = cur * np.clip(vals[var] + int(const), -(2 ** width), 2 ** width - 1)
        cur = np.broadcast_to(cur, block.shape)
        cur = np.clip((cur >> int(p["shift"])) << (int(p["exponent"]) + 7), ACC_LO, ACC_HI)
        acc = np.clip(acc + cur, ACC_LO, ACC_HI)
    if st.mode == "EXCITATORY":
        acc = np.maximum(acc, 0)
    elif st.mode == "INHIBITORY":
        acc = np.minimum(acc, 0)
    new = (acc >> W_FRAC) + (r_w < (acc & (2 ** W_FRAC - 1)) / 2.0 ** W_FRAC)
    if st.mode == "EXCITATORY":
        new = np.clip(new, 0, 255)
    elif st.mode == "INHIBITORY":
        new = np.clip(new, -255, 0)
    else:
        new = np.clip(new, -256, 255)
    mask = st.mask[rows][:, cols] if not isinstance(rows, slice) else st.mask[:, cols]
    new = np.where(mask, new, 0)
    if isinstance(rows, slice):
        W[:, cols] = new
    elif isinstance(cols, slice):
        W[rows] = new
    else:
        W[np.ix_(rows, cols)] = new


def weights_graph_units(st: FixedPlasticState) -> np.ndarray:
    """Current weights in graph units: ``mantissa / weight_scale`` (dense ``(post, pre)``)."""
    return st.weights / st.weight_scale


# ---------------------------------------------------------------- weights and scale
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
