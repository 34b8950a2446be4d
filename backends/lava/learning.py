"""Plastic projections (STDP) on Lava: ``LearningDense`` with a Loihi 2 learning-rule string.

:func:`float_rule` compiles a float Program's plastic projection
(``Projection.extra["plasticity"]``, see :func:`neuroport.compile`) into a
:class:`LearningSpec`: Lava's ``dw`` string, trace impulses and time
constants, the sign mode and the weight bounds Lava cannot enforce (watched
at run time). :func:`fixed_rule` reads a quantized Program's fields (written by
:mod:`neuroport.quantize`, documented in ``docs/fixed_point.md``).

Float rule strings (Lava weights are the Program's ``W = g * W_graph``, ``g``
the per-post gain; traces ``x1 = I_x * x``, ``y1 = I_y * y`` with impulses
``I`` that are powers of two, 1 whenever the coefficient allows):

=================  ==========================================================
pair, hard bounds  ``c_p * y0 * x1 - c_m * x0 * y1``, ``c_p = g a_plus / I_x``, ``c_m = g a_minus / I_y``
pair, soft bounds  ``c_p * y0 * x1 * (g w_max - w) - c_m * x0 * y1 * (w - g w_min)``, ``c = a / I``
Diehl & Cook       ``c_e * y0 * (x1 - I_x x_tar) * (g w_max - w) - c_m * x0 * y1``, ``c_e = eta / I_x`` (``mu = 1``)
=================  ==========================================================

Every coefficient ``c`` must be ``m * 2**e`` with ``m`` in [-8, 7] and ``e``
in [-7, 8] (Lava's ``Product`` refuses others, in float mode too): the
impulse takes the exponent out of range, the mantissa is rounded to 3 bits
with a :class:`~neuroport.errors.QuantizationWarning` (``strict``: refused).
A partial connectivity adds the factor ``t`` (``tag_1`` holds the mask, 0 for
absent synapses), which Lava multiplies exactly in float.

Timing (measured, see ``docs/lava.md``): Lava's ``LearningDense`` sees a pre
spike at its *emission* step, weights it with the weights before that step's
learning and delivers it one step later; neuroport's numpy engine sees it at
its *arrival* step. The lowering keeps Lava's order; it does not fake the
numpy one.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from neuroport.errors import ParameterError, QuantizationError, QuantizationWarning, UnsupportedNodeError

from neuroport.hardware import LOIHI2

#: Lava's scaling factor of one product: mantissa (4 bit signed) and exponent ranges (HardwareSpec).
MANT_RANGE = tuple(LOIHI2.learning_coeff_mant_range)
EXP_RANGE = tuple(LOIHI2.learning_coeff_exp_range)
#: Relative slack before a weight counts as past a bound Lava cannot clip.
BOUND_TOL = 1e-12


@dataclass
class LearningSpec:
    """What one ``LearningDense`` needs (Lava units)."""

    projection: str
    dw: str
    x1_impulse: float
    x1_tau: float
    y1_impulse: float
    y1_tau: float
    t_epoch: int = 1
    rng_seed: int | None = None
    sign_mode: str = "MIXED"  # SignMode name
    scale: np.ndarray = None  # (post,): Lava weight = scale * reported weight
    mask: np.ndarray = None  # (post, pre) bool: existing synapses
    tag: bool = False  # the rule multiplies by t (tag_1 = mask)
    lo: np.ndarray = None  # (post, pre) Lava-unit bounds watched at run time (None: none)
    hi: np.ndarray = None
    units: str = "graph"
    changes: list = field(default_factory=list)  # coefficient roundings, as text
    kwargs: dict = field(default_factory=dict)  # fixed: weight_exp, num_weight_bits


def check_projection(proj, program, *, fixed: bool, mode: str) -> None:
    """Refuse what ``LearningDense`` cannot run (one delay of 1 step, spikes in, one port)."""
    where = f"backend {mode!r}: plastic projection {proj.name!r}"
    if proj.extra.get("depression") is not None:
        raise UnsupportedNodeError(f"{where}: depression and plasticity on one projection are not supported")
    if proj.nnz and np.any(np.asarray(proj.delays) != 1):
        d = np.unique(proj.delays).tolist()
        raise UnsupportedNodeError(f"{where}: LearningDense has no synaptic delay (a spike is delivered one "
                                   f"step after it is sent); needs delay 1 step everywhere, got {d}")
    pre = program.populations[proj.pre]
    if not pre.is_input and pre.emits != "spikes":
        raise UnsupportedNodeError(f"{where}: its source {proj.pre!r} is not spiking")
    p = proj.extra["plasticity"]
    if fixed:
        missing = [k for k in ("dw", "x1_impulse", "x1_tau", "y1_impulse", "y1_tau") if k not in p]
        if missing:
            raise UnsupportedNodeError(f"{where}: the quantized Program lacks the learning fields {missing} "
                                       f"(has {sorted(p)}); quantize it with a neuroport that lowers STDP")
        return
    if p.get("rule") not in ("pair", "diehl_cook"):
        raise UnsupportedNodeError(f"{where}: rule {p.get('rule')!r}; Lava lowers 'pair' and 'diehl_cook'")
    if p["rule"] == "diehl_cook" and float(p.get("mu", 1.0)) != 1.0:
        raise UnsupportedNodeError(
            f"{where}: Diehl & Cook with mu = {p['mu']}: Loihi's rule language has products of traces, "
            "weights and constants only, so (w_max - w) ** mu is expressible for mu = 1 only")


# --------------------------------------------------------------------------- coefficients
def split_coefficient(value: float) -> tuple:
    """Nearest ``m * 2**e`` to ``value > 0`` with an odd ``m`` in 1..7: ``(m, e)``."""
    e = math.floor(math.log2(value)) - 2  # value / 2**e in [4, 8)
    m = int(round(value / 2.0 ** e))
    while m and m % 2 == 0:
        m //= 2
        e += 1
    return m, e


def literal(m: int, e: int) -> str:
    """Lava literal for ``m * 2**e`` (``m >= 1``)."""
    return f"2^{e}" if m == 1 else f"{m}*2^{e}"


def constant(value: float) -> str:
    """Exact Lava literal (``k * 2^e``, any integer ``k``) of a finite float."""
    if value == 0:
        return "0"
    mant, exp = math.frexp(abs(value))  # abs = mant * 2**exp, mant in [0.5, 1)
    k, e = int(mant * 2 ** 53), exp - 53
    while k % 2 == 0:
        k //= 2
        e += 1
    sign = "-" if value < 0 else ""
    return f"{sign}{k}" if e == 0 else f"{sign}{k}*2^{e}"


def coefficient(value: float, what: str, *, strict: bool, changes: list) -> tuple:
    """``(literal, impulse)`` with ``value ~= literal / impulse``, literal's exponent in range.

    The mantissa is rounded to Lava's 3 magnitude bits (a warning, or an error
    when ``strict``); the exponent goes into the trace impulse (a power of two).
    """
    if value <= 0:
        raise ParameterError(f"{what}: needs a positive coefficient, got {value}")
    m, e = split_coefficient(value)
    exact = m * 2.0 ** e
    if exact != value:
        msg = f"{what} = {value!r} -> {literal(m, e)} = {exact!r} (Lava's rule mantissa is [-8, 7])"
        if strict:
            raise QuantizationError(f"{msg}; strict mode refuses the change")
        changes.append(msg)
    e_rule = min(max(e, EXP_RANGE[0]), EXP_RANGE[1])
    return literal(m, e_rule), 2.0 ** (e - e_rule)


def trace_tau(decay: float) -> float:
    """Lava's float trace time constant (steps) for a per-step decay fraction: ``exp(-1/tau) = 1 - decay``."""
    if decay >= 1.0:
        return float(np.finfo(float).tiny)  # exp(-1/tiny) == 0: the trace holds only this step's spikes
    if decay <= 0.0:
        return math.inf
    return -1.0 / math.log1p(-decay)


# --------------------------------------------------------------------------- float
def float_rule(proj, rows: np.ndarray, *, strict: bool = False, mode: str = "lava") -> LearningSpec:
    """The :class:`LearningSpec` of a float plastic projection for the post neurons ``rows``."""
    p = proj.extra["plasticity"]
    where = f"backend {mode!r}: plastic projection {proj.name!r}"
    gain = np.asarray(p["gain"], dtype=np.float64)
    g_rows = np.unique(gain[rows])
    if g_rows.size > 1:
        raise UnsupportedNodeError(
            f"{where}: the post neurons of one Lava process have different input gains "
            f"{g_rows.tolist()[:4]}; a learning rule has one coefficient per LearningDense")
    g = float(g_rows[0]) if g_rows.size else 1.0
    mask = np.asarray(p["connectivity"], dtype=bool)
    weight = np.asarray(p["weight"], dtype=np.float64)
    w_min, w_max = float(p["w_min"]), float(p["w_max"])
    changes = []
    name = f"{proj.name}.{{}}"
    pot, dep = "", ""
    x_imp = y_imp = 1.0
    soft = p["rule"] == "pair" and p.get("bounds", "hard") == "soft"
    if p["rule"] == "pair":
        if p["a_plus"] != 0:
            c, x_imp = coefficient(abs(p["a_plus"] * (1.0 if soft else g)), name.format("a_plus" if soft else
                                                                                     "a_plus * gain"),
                                   strict=strict, changes=changes)
            sign = "" if p["a_plus"] * (1.0 if soft else g) > 0 else "-"
            pot = f"{sign}{c} * y0 * x1" + (f" * ({constant(g * w_max)} - w)" if soft else "")
    else:
        if p["eta"] != 0:
            c, x_imp = coefficient(abs(p["eta"]), name.format("eta"), strict=strict, changes=changes)
            sign = "" if p["eta"] > 0 else "-"
            pot = f"{sign}{c} * y0 * (x1 - {constant(x_imp * p['x_tar'])}) * ({constant(g * w_max)} - w)"
    if p["a_minus"] != 0:
        a = p["a_minus"] * (1.0 if soft else g)
        c, y_imp = coefficient(abs(a), name.format("a_minus" if soft else "a_minus * gain"),
                               strict=strict, changes=changes)
        sign = "-" if a > 0 else ""
        dep = f"{sign}{c} * x0 * y1" + (f" * (w - {constant(g * w_min)})" if soft else "")
    tag = not bool(mask[rows].all())
    terms = [t + (" * t" if tag else "") for t in (pot, dep) if t]
    if not terms:  # nothing learns: keep a rule Lava accepts that changes nothing
        terms = ["0 * y0"]
    dw = " + ".join(terms).replace("+ -", "- ")
    for msg in changes:
        warnings.warn(f"{where}: {msg}", QuantizationWarning, stacklevel=3)
    # weight bounds: Lava clips only at 0, by the sign mode; the others are watched at run time
    lo_l, hi_l = sorted((g * w_min, g * w_max))
    w_l = g * weight[rows][mask[rows]]
    sign_mode = "MIXED"
    need_lo, need_hi = _bounds_matter(p)
    if g < 0:
        need_lo, need_hi = need_hi, need_lo
    if w_l.size and (w_l.min() < lo_l or w_l.max() > hi_l):
        raise ParameterError(f"{where}: initial weights outside [w_min, w_max] = [{w_min}, {w_max}]")
    if lo_l == 0.0:
        sign_mode, need_lo = "EXCITATORY", False
    elif hi_l == 0.0:
        sign_mode, need_hi = "INHIBITORY", False
    lo = np.where(mask, lo_l, -np.inf) if need_lo else None
    hi = np.where(mask, hi_l, np.inf) if need_hi else None
    scale = np.where(np.isin(np.arange(gain.size), rows), gain, 1.0)
    return LearningSpec(proj.name, dw, x_imp, trace_tau(p["pre_decay"]), y_imp, trace_tau(p["post_decay"]),
                        1, None, sign_mode, scale, mask, tag, lo, hi, "graph", changes)


def _bounds_matter(p) -> tuple:
    """Whether the rule can push a weight below ``w_min`` / above ``w_max`` (graph units)."""
    if p["rule"] == "pair":
        return p["a_minus"] > 0 or p["a_plus"] < 0, p["a_plus"] > 0 or p["a_minus"] < 0
    # Diehl & Cook: eta (x - x_tar) (w_max - w) can have either sign unless x_tar <= 0
    down = p["a_minus"] > 0 or (p["eta"] != 0 and (p["x_tar"] > 0 or p["eta"] < 0))
    return down, p["eta"] != 0 or p["a_minus"] < 0


# --------------------------------------------------------------------------- fixed
def fixed_rule(proj, rows: np.ndarray, *, mode: str = "lava-fixed") -> LearningSpec:
    """The :class:`LearningSpec` of a quantized plastic projection.

    Reads the fields of ``neuroport.models.fixed_plasticity`` (``docs/fixed_point.md``,
    "Learning"): ``dw``, ``x1_impulse``, ``x1_tau``, ``y1_impulse``, ``y1_tau``,
    ``t_epoch``, ``rng_seed``, ``connectivity``, ``weight_scale``; ``sign_mode``,
    ``weight_exp``, ``num_weight_bits`` from ``Projection.extra``. Learned weights
    are reported as ``mantissa / weight_scale`` (graph units, as numpy-fixed).
    """
    p = proj.extra["plasticity"]
    n_post, n_pre = proj.weights.shape
    mask = np.asarray(p.get("connectivity", np.ones((n_post, n_pre), bool)), dtype=bool)
    sign_mode = proj.extra.get("sign_mode", p.get("sign_mode", "MIXED"))
    sign_mode = str(getattr(sign_mode, "name", sign_mode)).upper()
    kwargs = {"weight_exp": int(proj.extra.get("weight_exp", 0)),
              "num_weight_bits": int(proj.extra.get("num_weight_bits", 8))}
    for key in ("x1_impulse", "y1_impulse", "x1_tau", "y1_tau"):
        val = p[key]
        hi = 127 if key.endswith("impulse") else 255
        if int(val) != val or not 0 <= int(val) <= hi:
            raise ParameterError(f"backend {mode!r}: plastic projection {proj.name!r}: {key} needs an "
                                 f"integer in [0, {hi}], got {val!r}")
    if not mask[rows].all():
        # LearningDense would let absent synapses learn, and the tag-mask factor used in float
        # would change the fixed-point products' shift; LearningSparse's fixed_pt model failed
        # in our runs (lava-nc 0.10.0)
        raise UnsupportedNodeError(f"backend {mode!r}: plastic projection {proj.name!r}: partial "
                                   f"connectivity ({int((~mask[rows]).sum())} absent synapses) is not "
                                   "lowered in fixed point; use full connectivity or the float 'lava' mode")
    scale = float(p.get("weight_scale", 1.0))
    seed = p.get("rng_seed")
    return LearningSpec(proj.name, str(p["dw"]), int(p["x1_impulse"]), int(p["x1_tau"]), int(p["y1_impulse"]),
                        int(p["y1_tau"]), int(p.get("t_epoch", 1)), None if seed is None else int(seed),
                        {"EXC": "EXCITATORY", "INH": "INHIBITORY", "MIX": "MIXED"}.get(sign_mode, sign_mode),
                        np.full(n_post, scale), mask, False, None, None, "graph", [], kwargs)


# --------------------------------------------------------------------------- build
def learning_rule(spec: LearningSpec):
    """Lava's ``Loihi2FLearningRule`` for ``spec``."""
    from lava.magma.core.learning.learning_rule import Loihi2FLearningRule

    return Loihi2FLearningRule(dw=spec.dw, x1_impulse=spec.x1_impulse, x1_tau=spec.x1_tau,
                               y1_impulse=spec.y1_impulse, y1_tau=spec.y1_tau, t_epoch=spec.t_epoch,
                               rng_seed=spec.rng_seed)


def make_process(spec: LearningSpec, weights: np.ndarray, *, fixed: bool):
    """The ``LearningDense`` of one block (``weights`` in Lava units, ``(post, pre)``)."""
    from lava.proc.dense.process import LearningDense
    from lava.utils.weightutils import SignMode

    kwargs = dict(spec.kwargs)
    kwargs["sign_mode"] = SignMode[spec.sign_mode]
    w = weights.astype(np.int32) if fixed else weights.astype(np.float64)
    tag = spec.mask.astype(np.float64) if spec.tag else None
    return LearningDense(weights=w, tag_1=tag, learning_rule=learning_rule(spec), num_message_bits=0, **kwargs)


def graph_weights(spec: LearningSpec, lava_weights: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    """Write rows ``rows`` of the learned Lava weights into ``out`` in the reported units."""
    if hasattr(lava_weights, "toarray"):
        lava_weights = lava_weights.toarray()
    w = np.asarray(lava_weights, dtype=np.float64)[rows]
    if spec.units == "graph":
        w = w / spec.scale[rows, None]
    out[rows] = np.where(spec.mask[rows], w, 0.0)


def bound_error(proj_name: str, p: dict, spec: LearningSpec, excess: float, step: int, mode: str) -> str:
    """Message for a weight that went past a bound Lava's learning engine does not clip."""
    return (f"backend {mode!r}: plastic projection {proj_name!r}: a weight left [w_min, w_max] = "
            f"[{p['w_min']}, {p['w_max']}] at step {step} (by {excess:.3g} in Program units); numpy clips "
            "there, Lava's learning engine cannot (it clips only at 0, through the sign mode). Use "
            "w_min = 0 (or w_max = 0), soft bounds that keep weights inside, smaller rates, or the numpy engine")


def weight_watch(plastic):
    """A ``WeightWatch`` over the learning blocks whose bounds Lava cannot clip (``None`` if none)."""
    watched = [(b, conn) for b, conn in plastic if b.learning.lo is not None or b.learning.hi is not None]
    if not watched:
        return None
    from neuroport.backends.lava.processes.weightwatch import WeightWatch

    bounds = []
    for b, _conn in watched:
        spec = b.learning
        shape = b.weights.shape
        lo = np.full(shape, -np.inf) if spec.lo is None else np.array(spec.lo, dtype=np.float64)
        hi = np.full(shape, np.inf) if spec.hi is None else np.array(spec.hi, dtype=np.float64)
        outside = ~np.isin(np.arange(shape[0]), b.rows)
        lo[outside], hi[outside] = -np.inf, np.inf
        finite = np.abs(np.r_[lo[np.isfinite(lo)], hi[np.isfinite(hi)]])
        scale = max(float(finite.max()) if finite.size else 1.0, float(np.abs(b.weights).max(initial=0.0)), 1e-300)
        bounds.append((lo, hi, 1e-12 * scale))
    variables = [conn.weights for _b, conn in watched]
    watch = WeightWatch(variables=variables, bounds=bounds)
    watch.connect_targets(variables)
    watch.watched = [b for b, _conn in watched]
    return watch


def learned_weights(program, net, recorded: dict, *, mode: str) -> dict:
    """``{projection: dense (post, pre) weights}`` after the run, in each spec's units.

    Float: graph units (as the numpy engine). Raises ``UnsupportedNodeError``
    when a watched weight left ``[w_min, w_max]`` (Lava could not clip it).
    """
    if net.watch is not None:
        for j, b in enumerate(net.watch.watched):
            first = int(recorded[("watch", "first", j)])
            if first >= 0:
                p = next(q for q in program.projections if q.name == b.projection).extra["plasticity"]
                raise UnsupportedNodeError(bound_error(b.projection, p, b.learning,
                                                       recorded[("watch", "excess", j)], first, mode))
    out = {}
    for k, (b, _conn) in enumerate(net.learning):
        shape = b.weights.shape
        dense = out.setdefault(b.projection, np.zeros(shape))
        graph_weights(b.learning, recorded[("learning", k)], b.rows, dense)
    return out


def describe(net) -> dict:
    """``{projection: {dw, impulses, taus, sign_mode, units, changes}}`` for ``Result.meta``."""
    out = {}
    for b, _conn in net.learning:
        s = b.learning
        out[b.projection] = {"dw": s.dw, "x1_impulse": s.x1_impulse, "x1_tau": s.x1_tau,
                             "y1_impulse": s.y1_impulse, "y1_tau": s.y1_tau, "t_epoch": s.t_epoch,
                             "sign_mode": s.sign_mode, "units": s.units, "changes": list(s.changes),
                             "watched_bounds": s.lo is not None or s.hi is not None}
    return out
