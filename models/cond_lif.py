r"""``neuroport.CondLIF``: conductance-based LIF (COBA) with refractoriness and adaptation.

Continuous time (conductances relative to the leak conductance ``g_L``; s; ``v`` in the graph's unit):

.. math::

    \tau_{mem} \dot v = (E_L - v) + g_e (E_e - v) + g_i (E_i - v) + g_a (E_a - v)

    \tau_e \dot g_e = -g_e + \sum w^+ S \qquad \tau_i \dot g_i = -g_i + \sum |w^-| S \qquad
    \tau_a \dot g_a = -g_a

    v > v_{threshold} + \theta \Rightarrow v \leftarrow v_{reset},\; g_a \mathrel{+}= b_{adapt},\;
    \theta \mathrel{+}= \theta_+

A spike raises a conductance by its weight (``g += w``, as in the COBA
literature). :meth:`CondLIF.equations` writes these equations as text
(:class:`~neuroport.models.equations.Equations`), from which the Brian2
lowering is generated.

One step, float and fixed (reversal potentials shifted by
``v_reset`` like ``v``; the drive below, then
:meth:`neuroport.models.base.SpikingModel.step`)::

    1. g_exc = sat24(K(g_exc, de, 0) + (a_exc << 6))      float: g_exc * (1 - de) + a_exc
       g_inh = sat24(K(g_inh, di, 0) + (a_inh << 6))
       g_adapt = K(g_adapt, da, 0)
       acc   = g_exc (e_exc - v) + g_inh (e_inh - v) + g_adapt (e_adapt - v)     (v of the previous step)
       drive = (acc + 2**(F-1)) >> F                       float: dv * acc
    2.-5. as every model: theta, refractory, v = sat24(K(v, dv) + drive + bias), spike

Fixed-point formulation: a conductance is stored per step with ``dv`` folded
in, ``G = round(dv * g * 2**F)`` (signed 24 bit, ``F = g_shift`` fractional
bits, one value per population); ``acc`` is exact in int64 (``|acc| < 2**50``).

Parameters (per neuron)

=========================================== =========================================== ===================
discrete float                              fixed                                       bits
=========================================== =========================================== ===================
``de``, ``di``, ``da``                      decays of g_exc, g_inh, g_adapt (no offset) 12 unsigned
``dv``                                      ``dv`` (folded into ``G`` for the drive)    12 unsigned
``theta_decay``                             ``theta_decay``                             12 unsigned
(none)                                      ``g_shift`` F, one value per population     0..23
``e_exc``, ``e_inh``, ``e_adapt``           reversal potentials - v_reset (v units)     24 signed
``b_adapt``                                 g_adapt jump per spike (G format)           24 signed
``v_threshold``                             ``vth`` (<< 6)                              17 unsigned
``bias`` = dv (E_L - v_reset)               ``bias_mant << bias_exp``                   13 signed, exp 0..7
``refractory``                              ``refractory`` (steps)                      12 unsigned
``theta_plus``, ``v_init``, ``theta_init``  v units                                     24 signed
``g_exc_init``, ``g_inh_init``              initial conductances (G format)             24 signed
=========================================== =========================================== ===================
"""

from __future__ import annotations

import math

import numpy as np

from neuroport import fixed_format as ff
from neuroport.discretize import decay_fraction, initial_v, node_field, optional_decay, refractory_steps
from neuroport.errors import ParameterError
from neuroport.models import base
from neuroport.models import equations as eq
from neuroport.models.arithmetic import k_decay, k_sat
from neuroport.models.jit import njit
from neuroport.quantize_report import PopulationBound


class CondLIF(base.SpikingModel):
    """``neuroport.CondLIF`` (model key ``condlif``)."""

    keys = ("condlif",)
    title = "conductance-based LIF (neuroport.CondLIF)"
    state_names = ("g_exc", "g_inh", "g_adapt", "theta", "v", "refractory_left")
    increments = (("theta", "theta_plus", "has_theta"), ("g_adapt", "b_adapt", "has_adapt"))
    optional_states = {"g_adapt": "g_adapt", "theta": "theta", "refractory_left": "refractory"}

    def discretize(self, pn, opts):
        dt, scheme = opts["dt"], opts["scheme"]
        dv = decay_fraction(pn.name, "tau_mem", node_field(pn, "tau_mem"), dt, scheme)
        v_offset = node_field(pn, "v_reset")
        params = {
            "dv": dv,
            "de": decay_fraction(pn.name, "tau_exc", node_field(pn, "tau_exc"), dt, scheme),
            "di": decay_fraction(pn.name, "tau_inh", node_field(pn, "tau_inh"), dt, scheme),
            "da": optional_decay(pn, "tau_adapt", opts), "b_adapt": node_field(pn, "b_adapt"),
            "e_exc": node_field(pn, "e_exc") - v_offset, "e_inh": node_field(pn, "e_inh") - v_offset,
            "e_adapt": node_field(pn, "e_adapt") - v_offset,
            "v_threshold": node_field(pn, "v_threshold") - v_offset,
            "bias": dv * (node_field(pn, "e_leak") - v_offset),
            "refractory": refractory_steps(pn, opts),
            "theta_decay": optional_decay(pn, "tau_theta", opts), "theta_plus": node_field(pn, "theta_plus"),
            "v_init": initial_v(pn, v_offset),
            "g_exc_init": node_field(pn, "g_exc_init"), "g_inh_init": node_field(pn, "g_inh_init"),
        }
        ones = np.ones(pn.size)
        return params, ones, ones, v_offset, "spikes", {"ports": ("exc", "inh"), "bias_target": None}

    def equations(self, pn, reset="zero") -> eq.Equations:
        """The continuous-time :class:`~neuroport.models.equations.Equations` of one population."""
        k_adapt, b_adapt = eq.rate(pn, "tau_adapt"), eq.param(pn, "b_adapt", 0.0)
        adapt = bool(np.any(k_adapt > 0) or np.any(b_adapt != 0))
        syn_eqs = ("dg_exc/dt = -g_exc / tau_exc_s : 1\ndg_inh/dt = -g_inh / tau_inh_s : 1\n"
                   "tau_exc_s : second (constant)\ntau_inh_s : second (constant)\n")
        syn_params = {"tau_exc_s": eq.tau(pn, "tau_exc"), "tau_inh_s": eq.tau(pn, "tau_inh")}
        current = "(e_leak - v) + g_exc * (e_exc - v) + g_inh * (e_inh - v)"
        linked = ["g_exc", "g_inh"]
        params = {"tau_s": eq.tau(pn, "tau_mem"), "e_leak": eq.param(pn, "e_leak"), "e_exc": eq.param(pn, "e_exc"),
                  "e_inh": eq.param(pn, "e_inh")}
        extra_eqs = ""
        if adapt:
            syn_eqs += "dg_adapt/dt = -g_adapt * k_adapt_hz : 1\nk_adapt_hz : hertz (constant)\n"
            syn_params["k_adapt_hz"] = k_adapt
            current += " + g_adapt * (e_adapt - v)"
            linked.append("g_adapt")
            params.update({"e_adapt": eq.param(pn, "e_adapt", 0.0), "b_adapt": b_adapt})
            extra_eqs = "e_adapt : 1 (constant)\nb_adapt : 1 (constant)\n"
        eqs = (f"dv/dt = ({current}) / tau_s : 1\ntau_s : second (constant)\ne_leak : 1 (constant)\n"
               "e_exc : 1 (constant)\ne_inh : 1 (constant)\n" + extra_eqs
               + "".join(f"{name} : 1 (linked)\n" for name in linked) + eq.SPIKE_VARS)
        spec = eq.Equations(eqs, params, "v > v_threshold", None, eq.param(pn, "v_reset"),
                            eq.param(pn, "v_threshold"), syn=eq.Equations(syn_eqs, syn_params), linked=tuple(linked),
                            ports={"exc": ("g_exc", "jump"), "inh": ("g_inh", "jump")}, input_group="syn",
                            reset_extra="g_adapt += b_adapt\n" if adapt else "")
        spec.init[("syn", "g_exc")] = eq.param(pn, "g_exc_init", 0.0)
        spec.init[("syn", "g_inh")] = eq.param(pn, "g_inh_init", 0.0)
        return eq.spiking_extras(pn, spec)

    def constants(self, pop, ar) -> dict:
        p = pop.params
        c = self.spiking_constants(pop, ar)
        n = pop.size
        b_adapt = ar.value(p, "b_adapt")
        c.update({
            "e_keep": ar.keep(p, "de", default=0), "i_keep": ar.keep(p, "di", default=0),
            "a_keep": ar.keep(p, "da", default=0),
            "e_exc": ar.value(p, "e_exc"), "e_inh": ar.value(p, "e_inh"), "e_adapt": ar.value(p, "e_adapt"),
            "b_adapt": b_adapt,
            "has_adapt": np.full(n, self.uses(pop, "g_adapt")),
            "dv": np.asarray(p.get("dv", 0), dtype=np.float64),
        })
        if ar.fixed:
            g_shift = np.asarray(p.get("g_shift", 0), dtype=np.int64).reshape(-1)
            if g_shift.size and np.any(g_shift != g_shift[0]):
                raise ParameterError(f"{pop.name}.g_shift: one value per population, got "
                                     f"{sorted(set(g_shift.tolist()))}")
            f = int(g_shift[0]) if g_shift.size else 0
            c["g_shift"] = np.full(n, f, dtype=np.int64)
            c["g_round"] = np.full(n, (1 << (f - 1)) if f > 0 else 0, dtype=np.int64)
        else:
            c["g_shift"] = c["g_round"] = np.zeros(n, dtype=np.int64)
        c["g_div"] = np.left_shift(np.int64(1), c["g_shift"])  # the compiled step floors by 2**g_shift
        return c

    def init_state(self, pop, ar) -> dict:
        n = pop.size
        state = {k: np.zeros(n, dtype=ar.dtype) for k in self.state_names}
        for var, key in (("g_exc", "g_exc_init"), ("g_inh", "g_inh_init"), ("theta", "theta_init"),
                         ("v", "v_init")):
            state[var] = np.array(pop.param(key, 0), dtype=ar.dtype)
        return state

    def drive(self, ar, b, a_exc, a_inh):
        """The conductances, then the conductance current of the previous step's ``v``."""
        s, c = b.state, b.c
        for var, keep, a in (("g_exc", "e_keep", a_exc), ("g_inh", "i_keep", a_inh)):
            g = ar.decay(s[var], c[keep])
            g += ar.synaptic(a)
            ar.saturate(g, b._counters, var)
            s[var][...] = g
        v = s["v"]
        acc = s["g_exc"] * (c["e_exc"] - v)
        acc += s["g_inh"] * (c["e_inh"] - v)
        if b.any["has_adapt"]:
            ga = s["g_adapt"]
            ga[...] = ar.decay(ga, c["a_keep"])
            acc += ga * (c["e_adapt"] - v)
        return ar.conductance_drive(acc, c["dv"], c["g_shift"], c["g_round"])

    # -- fixed point -------------------------------------------------------------------------
    conductance_weights = True

    def choose_scale(self, pop, projs, hw, *, headroom_bits: int, nwb: int, min_threshold_bits: int) -> float:
        """``v``, reversal potentials and theta share the scale; weights are conductances (own format)."""
        limits = ff.bias_limits(pop, hw)
        s_thr = ff.threshold_scale(pop, hw)
        if s_thr is not None:
            limits.append(s_thr / 2 ** headroom_bits)
        lim = ff.state_limit(hw, *(pop.param(k) for k in ("e_exc", "e_inh", "e_adapt", "v_init", "theta_init",
                                                            "theta_plus")))
        if lim is not None:
            limits.append(lim)
        return float(min(limits)) if limits else float((hw.state_max - 1) / 2 ** headroom_bits)

    @staticmethod
    def g_shift(pop, projs, hw) -> int:
        """Fractional bits F of the conductances: ``dv * g`` up to ``c_max`` fits with one bit to spare."""
        dv = pop.param("dv", 1.0)
        one_step = 0.0
        for proj in projs:
            w = abs(proj.weights)
            if w.nnz:
                one_step = max(one_step, float(np.max(np.asarray(w.sum(axis=1)).ravel() * dv)))
        c_max = max(2.0, one_step, ff.absmax(dv * pop.param("g_exc_init")), ff.absmax(dv * pop.param("g_inh_init")),
                    ff.absmax(dv * pop.param("b_adapt")))
        f = (hw.state_bits - 1) - 1 - int(math.ceil(math.log2(c_max)))
        return int(min(max(f, 0), hw.cond_frac_bits_max))

    def quantize_params(self, pop, s, hw, report, projs):
        """Integer params, and the per-row scale of incoming weights: ``G`` units per relative conductance."""
        n = pop.size
        f = self.g_shift(pop, projs, hw)
        gs = pop.param("dv") * 2.0 ** f
        out = {"dv": ff.decay(pop, "dv", hw, report)}
        for fld in ("de", "di"):
            out[fld] = ff.decay(pop, fld, hw, report)
        out["da"] = ff.decay(pop, "da", hw, report, default=0.0, optional=True)
        out["theta_decay"] = ff.decay(pop, "theta_decay", hw, report, default=0.0, optional=True)
        out["g_shift"] = np.full(n, f, dtype=np.int64)
        for fld in ("e_exc", "e_inh", "e_adapt"):
            out[fld] = ff.signed24(pop, fld, pop.param(fld), s, hw, report, loss_on_underflow=False,
                                   note="reversal potential - v_reset, v units")
        for fld in ("b_adapt", "g_exc_init", "g_inh_init"):
            out[fld] = ff.g_format(pop, fld, pop.param(fld), gs, hw, report, f)
        out["vth"] = ff.vth(pop, s, hw, report)
        out["bias_mant"], out["bias_exp"] = ff.mant_exp(pop, "bias", pop.param("bias"), s, hw, report)
        out["refractory"] = ff.refractory(pop, hw, report)
        for fld in ("theta_plus", "v_init", "theta_init"):
            out[fld] = ff.signed24(pop, fld, pop.param(fld), s, hw, report, loss_on_underflow=fld == "theta_plus")
        return out, gs

    def bounds(self, pop, projs, s, hw, fixed_params) -> PopulationBound:
        """``u`` stands for the conductances (G units: every input every step, at the steady state of the
        slowest decay), ``v`` for the largest of the reversal potentials, ``v_init`` and the threshold."""
        f = int(np.asarray(fixed_params["g_shift"]).flat[0])
        dv = pop.param("dv")
        pos, neg = ff.max_inputs(projs)
        d = max(float(min(pop.param("de").min(), pop.param("di").min())), 1.0 / hw.decay_unity)
        g_max = (max(pos, neg) / d) * float(dv.max()) * 2.0 ** f
        v_max = max(ff.absmax(pop.param(k)) for k in ("e_exc", "e_inh", "e_adapt", "v_init", "v_threshold")) * s
        return PopulationBound(pop.name, s, g_max, v_max, hw.state_bits,
                               single_step=max(pos, neg) * float(dv.max()) * 2.0 ** f)

    # -- kernel (compiled step, models/jit.py): the drive above on one neuron, then base.k_spike -------
    kernel_floats = ("e_keep", "i_keep", "a_keep", "dv")
    kernel_ints = ("e_exc", "e_inh", "e_adapt", "g_round", "g_div", "theta_plus", "b_adapt")
    kernel_flags = ("has_adapt",)
    kernel_saturated = ("g_exc", "g_inh")

    @property
    def kernel(self):
        return _condlif_kernel


_CF_E, _CF_I, _CF_A, _CF_DV = range(len(base.CF_SHARED), len(base.CF_SHARED) + 4)
_CI_E_EXC, _CI_E_INH, _CI_E_ADAPT, _CI_G_ROUND, _CI_G_DIV = range(len(base.CI_SHARED), len(base.CI_SHARED) + 5)
_F_ADAPT = len(base.FLAGS_SHARED)
_C_G_EXC, _C_G_INH = 2, 3  # counter rows (after u_wraps, v_saturations)


@njit
def _condlif_kernel(S, Cf, Ci, fl, inc, a_exc, a_inh, fired, cnt, lim, m, act, fixed):
    """:meth:`CondLIF.drive` and the shared step (rows: g_exc, g_inh, g_adapt, theta, v, refractory_left)."""
    for i in range(S.shape[1]):
        g, hit = k_sat(k_decay(S[0, i], Cf[_CF_E, i], fixed) + a_exc[i] * act, lim, fixed)
        if hit:
            cnt[_C_G_EXC, i] += 1
        S[0, i] = g
        g, hit = k_sat(k_decay(S[1, i], Cf[_CF_I, i], fixed) + a_inh[i] * act, lim, fixed)
        if hit:
            cnt[_C_G_INH, i] += 1
        S[1, i] = g
        v = S[4, i]
        acc = S[0, i] * (Ci[_CI_E_EXC, i] - v)
        acc = acc + S[1, i] * (Ci[_CI_E_INH, i] - v)
        if fl[_F_ADAPT]:
            S[2, i] = k_decay(S[2, i], Cf[_CF_A, i], fixed)
            acc = acc + S[2, i] * (Ci[_CI_E_ADAPT, i] - v)
        if fixed:
            drive = (acc + Ci[_CI_G_ROUND, i]) // Ci[_CI_G_DIV, i]
        else:
            drive = Cf[_CF_DV, i] * acc
        v, th, ref, spk, f, sat = base.k_spike(v, S[3, i], S[5, i], drive, base.k_consts(Cf, Ci, i), fl, lim, fixed)
        S[4, i] = v
        S[3, i] = th
        S[5, i] = ref
        fired[i] = spk
        if sat:
            cnt[base.C_V_SAT, i] += 1
        if f:
            base.k_increments(S, Ci, inc, i, cnt, lim, fixed)


COND_LIF = base.register(CondLIF())


#: The flags (``KernelPlan.fl``, first 9) :func:`_condlif_float_rows` is written for: no threshold
#: adaptation, a refractory period, bias optional, every neuron resets (to 0, no subtract) and spikes, no
#: ``g_adapt``. Other float CondLIF blocks run :func:`_condlif_kernel`.
FLOAT_ROWS_FLAGS = (False, True, None, True, True, False, True, False, False)


def float_rows_apply(fl, inc) -> bool:
    """Whether a float CondLIF block with flags ``fl`` (``KernelPlan.fl``) and increment table ``inc``
    (``KernelPlan.inc``, shape ``(n_increments, 4)``) can run :func:`_condlif_float_rows`."""
    fl = tuple(bool(x) for x in fl)
    if len(fl) != len(FLOAT_ROWS_FLAGS):
        return False
    if any(want is not None and got != want for got, want in zip(fl, FLOAT_ROWS_FLAGS)):
        return False
    return not np.asarray(inc)[:, 2].any() if np.asarray(inc).size else True


@njit
def _condlif_float_rows(S, Cf, Ci, has_bias, a_exc, a_inh, fired):
    """:func:`_condlif_kernel` in float (``fixed=False``, ``act=1``) for the flags of
    :data:`FLOAT_ROWS_FLAGS` (see :func:`float_rows_apply`), on C-ordered ``S`` (shape ``(6, n)``),
    ``Cf``, ``Ci`` (``KernelPlan`` rows, shape ``(rows, n)``), so that each state and constant is one
    contiguous row and the neuron loop compiles to SIMD code (the general kernel's per-neuron flag and
    counter branches keep it scalar). The same floating-point operations in the same order on each
    neuron as :func:`_condlif_kernel` (no fastmath), so states and spikes are equal to the last bit;
    ``tests/test_compiled.py`` runs both. ``a_exc``, ``a_inh``: this step's input, shape ``(n,)``;
    ``fired`` (bool, ``(n,)``) receives the spikes."""
    g_e, g_i, vv, refl = S[0], S[1], S[4], S[5]
    v_keep, e_keep, i_keep, dv = Cf[base.CF_V_KEEP], Cf[_CF_E], Cf[_CF_I], Cf[_CF_DV]
    bias, vth, refractory = Ci[base.CI_BIAS], Ci[base.CI_VTH], Ci[base.CI_REFRACTORY]
    e_exc, e_inh = Ci[_CI_E_EXC], Ci[_CI_E_INH]
    if has_bias:
        for i in range(g_e.shape[0]):
            ge = g_e[i] * e_keep[i] + a_exc[i]
            gi = g_i[i] * i_keep[i] + a_inh[i]
            v = vv[i]
            ref = refl[i]
            nv = v * v_keep[i] + dv[i] * (ge * (e_exc[i] - v) + gi * (e_inh[i] - v))
            nv = nv + bias[i]
            active = ref <= 0
            v = nv if active else v
            f = v > vth[i] and active
            g_e[i] = ge
            g_i[i] = gi
            vv[i] = 0.0 if f else v
            refl[i] = refractory[i] if f else (ref if active else ref - 1)
            fired[i] = f
    else:
        for i in range(g_e.shape[0]):
            ge = g_e[i] * e_keep[i] + a_exc[i]
            gi = g_i[i] * i_keep[i] + a_inh[i]
            v = vv[i]
            ref = refl[i]
            nv = v * v_keep[i] + dv[i] * (ge * (e_exc[i] - v) + gi * (e_inh[i] - v))
            active = ref <= 0
            v = nv if active else v
            f = v > vth[i] and active
            g_e[i] = ge
            g_i[i] = gi
            vv[i] = 0.0 if f else v
            refl[i] = refractory[i] if f else (ref if active else ref - 1)
            fired[i] = f


#: The constants :func:`_condlif_float_uniform` takes as scalars (``cu``), in its order: ``(table, row)``
#: of ``KernelPlan.Cf`` (``"f"``) or ``KernelPlan.Ci`` (``"i"``).
UNIFORM_CONSTANTS = (("f", base.CF_V_KEEP), ("f", _CF_E), ("f", _CF_I), ("f", _CF_DV), ("i", base.CI_VTH),
                     ("i", base.CI_REFRACTORY), ("i", _CI_E_EXC), ("i", _CI_E_INH), ("i", base.CI_BIAS))


def uniform_constants(Cf, Ci):
    """The constants of :data:`UNIFORM_CONSTANTS` as one float64 array of shape ``(9,)`` when every
    neuron of the block has the same value in each (a homogeneous population, as in the COBA
    benchmark), else None. ``Cf``, ``Ci``: ``KernelPlan`` tables, shape ``(rows, n)``."""
    out = np.zeros(len(UNIFORM_CONSTANTS))
    for k, (table, row) in enumerate(UNIFORM_CONSTANTS):
        values = (Cf if table == "f" else Ci)[row]
        if values.size == 0 or not np.array_equal(values, np.full(values.shape, values[0])):
            return None
        out[k] = values[0]
    return out


@njit
def _condlif_float_uniform(S, cu, has_bias, a_exc, a_inh, fired):
    """:func:`_condlif_float_rows` for a block whose constants are the same for every neuron
    (:func:`uniform_constants`: ``cu``, shape ``(9,)``, in :data:`UNIFORM_CONSTANTS` order): the
    constants are scalars in registers, so a step streams only the states (``S``, C order, shape
    ``(6, n)``), the inputs and the spikes (~75 bytes per neuron instead of ~140). The same
    floating-point operations in the same order as :func:`_condlif_float_rows` and
    :func:`_condlif_kernel` (no fastmath), so states and spikes are equal to the last bit. It also
    zeroes its inputs ``a_exc``, ``a_inh`` (this step's ring slots, shape ``(n,)``) once read, which the
    whole-run loop otherwise does in a second pass; ``fired`` (bool, ``(n,)``) receives the spikes."""
    g_e, g_i, vv, refl = S[0], S[1], S[4], S[5]
    v_keep, e_keep, i_keep, dv = cu[0], cu[1], cu[2], cu[3]
    vth, refractory, e_exc, e_inh, bias = cu[4], cu[5], cu[6], cu[7], cu[8]
    if has_bias:
        for i in range(g_e.shape[0]):
            ae = a_exc[i]
            ai = a_inh[i]
            a_exc[i] = 0.0
            a_inh[i] = 0.0
            ge = g_e[i] * e_keep + ae
            gi = g_i[i] * i_keep + ai
            v = vv[i]
            ref = refl[i]
            nv = v * v_keep + dv * (ge * (e_exc - v) + gi * (e_inh - v))
            nv = nv + bias
            active = ref <= 0
            v = nv if active else v
            f = v > vth and active
            g_e[i] = ge
            g_i[i] = gi
            vv[i] = 0.0 if f else v
            refl[i] = refractory if f else (ref if active else ref - 1)
            fired[i] = f
    else:
        for i in range(g_e.shape[0]):
            ae = a_exc[i]
            ai = a_inh[i]
            a_exc[i] = 0.0
            a_inh[i] = 0.0
            ge = g_e[i] * e_keep + ae
            gi = g_i[i] * i_keep + ai
            v = vv[i]
            ref = refl[i]
            nv = v * v_keep + dv * (ge * (e_exc - v) + gi * (e_inh - v))
            active = ref <= 0
            v = nv if active else v
            f = v > vth and active
            g_e[i] = ge
            g_i[i] = gi
            vv[i] = 0.0 if f else v
            refl[i] = refractory if f else (ref if active else ref - 1)
            fired[i] = f
