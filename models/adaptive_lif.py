r"""``neuroport.AdaptiveLIF``: CubaLIF with refractoriness, an adaptive threshold, an adaptation
current and an optional second (inhibitory) synaptic current.

Continuous time (s; ``v`` in the graph's unit):

.. math::

    \tau_{syn} \dot u = -u + w_{in} S_{exc} \qquad \tau_{syn,inh} \dot u_{inh} = -u_{inh} + w_{in} S_{inh}

    \tau_{mem} \dot v = (v_{leak} - v) + r (u - u_{inh} - w) \qquad
    \tau_{adapt} \dot w = -w \qquad \tau_\theta \dot\theta = -\theta

    v > v_{threshold} + \theta \Rightarrow v \leftarrow v_{reset},\; w \mathrel{+}= b_{adapt},\;
    \theta \mathrel{+}= \theta_+, \text{ held for } t_{ref}

:meth:`AdaptiveLIF.equations` writes them as equation text
(:class:`~neuroport.models.equations.Equations`), from which the Brian2
lowering is generated.

One step, float and fixed (the drive of :class:`~neuroport.models.lif.LIFFamily`,
then :meth:`neuroport.models.base.SpikingModel.step`)::

    1. u     = wrap24(K(u, du, 1) + (a_exc << 6) + (u_bias_mant << u_bias_exp))
       u_inh = wrap24(K(u_inh, du_inh, 1) + (a_inh << 6))          # two ports only
       w     = K(w, w_decay, 0)
    2. theta = K(theta, theta_decay, 0)
    3. active = refractory_left == 0;  refractory_left[~active] -= 1
    4. where active:  v = sat24(K(v, dv, 0) + u - u_inh - w + (bias_mant << bias_exp))
    5. s = v > (vth << 6) + theta   (neurons refractory this step never spike)
       where s:  v = 0  (reset="subtract": v = sat24(v - ((vth << 6) + theta)))
                 refractory_left = refractory;  theta = sat24(theta + theta_plus);  w = sat24(w + w_plus)

Parameters (per neuron)

================ ===================================== ========================= =====================
discrete float   meaning                               fixed                     bits
================ ===================================== ========================= =====================
``du``           u decay per step                      ``du`` (+1 by hardware)   12 unsigned
``du_inh``       u_inh decay per step                  ``du_inh`` (+1)           12 unsigned
``dv``           v decay per step                      ``dv``                    12 unsigned
``theta_decay``  theta decay (0: none)                 ``theta_decay``           12 unsigned
``w_decay``      w decay (0: none)                     ``w_decay``               12 unsigned
``v_threshold``  threshold - v_reset (v units)         ``vth`` (<< 6)            17 unsigned
``bias``         v bias per step                       ``bias_mant/exp``         13 signed, exp 0..7
``u_bias``       u bias per step                       ``u_bias_mant/exp``       13 signed, exp 0..7
``refractory``   steps held after a spike              ``refractory``            12 unsigned
``theta_plus``   theta jump per spike (v units)        ``theta_plus``            24 signed
``w_plus``       w jump per spike (v units per step)   ``w_plus``                24 signed
``v_init``       initial v - v_reset                   ``v_init``                24 signed
``theta_init``   initial theta                         ``theta_init``            24 signed
================ ===================================== ========================= =====================
"""

from __future__ import annotations

import numpy as np

from neuroport import fixed_format as ff
from neuroport.discretize import decay_fraction, initial_v, node_field, optional_decay, refractory_steps
from neuroport.errors import ParameterError, UnsupportedNodeError
from neuroport.models import base
from neuroport.models import equations as eq
from neuroport.models.arithmetic import k_decay, k_wrap
from neuroport.models.jit import njit
from neuroport.models.lif import _CI_U_BIAS, LIFFamily, k_current


class AdaptiveLIF(LIFFamily):
    """``neuroport.AdaptiveLIF`` (model key ``alif``); also runs the LIF family's general populations."""

    int32_datapath = False  # runs on neuroport's int64 process (ALIF), not Lava's LIF

    keys = ("alif",)
    title = "adaptive LIF (neuroport.AdaptiveLIF)"
    state_names = ("u", "u_inh", "w", "theta", "v", "refractory_left")
    increments = (("theta", "theta_plus", "has_theta"), ("w", "w_plus", "has_w"))
    optional_states = {"u_inh": "u_inh", "w": "w", "theta": "theta", "refractory_left": "refractory"}

    def runner(self, pop):
        return self

    def discretize(self, pn, opts):
        dt = opts["dt"]
        dv = decay_fraction(pn.name, "tau_mem", node_field(pn, "tau_mem"), dt, opts["scheme"])
        r, w_in = node_field(pn, "r"), node_field(pn, "w_in")
        du = optional_decay(pn, "tau_syn", opts)
        du_inh = optional_decay(pn, "tau_syn_inh", opts)
        filtered = du > 0
        du = np.where(filtered, du, 1.0)
        split = bool(np.any(du_inh > 0))
        if split and not np.all(filtered):
            raise ParameterError(f"{pn.name}: tau_syn_inh needs tau_syn > 0 for every neuron")
        du_inh = np.where(du_inh > 0, du_inh, du)
        v_offset = node_field(pn, "v_reset")
        gain = dv * r * w_in * du
        params = {
            "du": du, "du_inh": du_inh, "dv": dv,
            "v_threshold": node_field(pn, "v_threshold") - v_offset,
            "bias": dv * (node_field(pn, "v_leak") - v_offset), "u_bias": np.zeros(pn.size),
            "refractory": refractory_steps(pn, opts),
            "theta_decay": optional_decay(pn, "tau_theta", opts), "theta_plus": node_field(pn, "theta_plus"),
            "w_decay": optional_decay(pn, "tau_adapt", opts), "w_plus": dv * r * node_field(pn, "b_adapt"),
            "v_init": initial_v(pn, v_offset), "theta_init": node_field(pn, "theta_init"),
        }
        extra = {"ports": ("exc", "inh") if split else ("input",),
                 "bias_target": "u_bias" if np.any(filtered) else "bias"}
        if split:  # the inhibitory current has its own Euler factor dt / tau_syn_inh
            extra["port_gain"] = {"inh": dv * r * w_in * du_inh}
        return params, gain, gain, v_offset, "spikes", extra

    def equations(self, pn, reset="zero") -> eq.Equations:
        """The continuous-time :class:`~neuroport.models.equations.Equations` of one population."""
        tau_syn = eq.param(pn, "tau_syn", 0.0)
        filtered = tau_syn > 0
        if filtered.any() and not filtered.all():
            raise UnsupportedNodeError(f"{pn.name}: backend 'brian2' needs tau_syn > 0 for every neuron or for none "
                                       "(a population mixing filtered and unfiltered input)")
        k_inh = eq.rate(pn, "tau_syn_inh")
        split = bool(np.any(k_inh > 0))
        k_adapt, b_adapt = eq.rate(pn, "tau_adapt"), eq.param(pn, "b_adapt", 0.0)
        adapt = bool(np.any(k_adapt > 0) or np.any(b_adapt != 0))
        params = {"tau_s": eq.tau(pn, "tau_mem"), "v_leak": eq.param(pn, "v_leak", 0.0),
                  "r": eq.param(pn, "r", 1.0)}
        w_in = eq.param(pn, "w_in", 1.0)
        syn_eqs, syn_params, linked, drive = "", {}, [], []
        ports = {"input": ("J", "current")}
        if filtered.all():
            syn_eqs += eq.SYN_CURRENT
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
        eqs = eq.LEAKY_V.format(inp="(" + " ".join(drive) + ")") + eq.PARAMS_LEAKY
        eqs += "".join(f"{name} : 1 (linked)\n" for name in linked)
        if "w_in" in params:
            eqs += "w_in : 1 (constant)\n"
        if adapt:
            eqs += "b_adapt : 1 (constant)\n"
        v_reset = eq.param(pn, "v_reset", 0.0)
        spec = eq.Equations(eqs + eq.SPIKE_VARS + ("" if filtered.all() else eq.INPUT_VARS), params,
                            "v > v_threshold", None, v_reset, eq.param(pn, "v_threshold"), linked=tuple(linked),
                            ports=ports, reset_extra="w_adapt += b_adapt\n" if adapt else "")
        if filtered.all() or adapt:
            spec.syn = eq.Equations(syn_eqs + (eq.INPUT_VARS if filtered.all() else ""), syn_params)
        spec.input_group = "syn" if filtered.all() else "main"
        return eq.spiking_extras(pn, spec)

    def constants(self, pop, ar) -> dict:
        p = pop.params
        c = self.spiking_constants(pop, ar)
        n = pop.size
        u_keep = ar.keep(p, "du", "du_offset")
        w_plus = ar.value(p, "w_plus")
        u_bias = ar.bias(p, "u_bias") if (ar.fixed or "u_bias" in p) else np.zeros(n)
        c.update({
            "u_keep": u_keep,
            "u_inh_keep": ar.keep(p, "du_inh", "du_offset") if "du_inh" in p else u_keep,
            "w_keep": ar.keep(p, "w_decay", default=0), "w_plus": w_plus,
            "u_bias": u_bias, "has_u_bias": np.full(n, bool(np.any(u_bias))),
            "two_port": np.full(n, self.two_port(pop)),
            "has_w": np.full(n, self.uses(pop, "w")),
        })
        return c

    def init_state(self, pop, ar) -> dict:
        n = pop.size
        state = {k: np.zeros(n, dtype=ar.dtype) for k in self.state_names}
        state["theta"] = np.array(pop.param("theta_init", 0), dtype=ar.dtype)
        state["v"] = np.array(pop.param("v_init", 0), dtype=ar.dtype)
        return state

    # -- fixed point -------------------------------------------------------------------------
    always_u_bias = True
    _SIGNED24 = ("theta_plus", "w_plus", "v_init", "theta_init")

    def state_limits(self, pop) -> tuple:
        return tuple(pop.param(k) for k in ("v_init", "theta_init", "theta_plus", "w_plus"))

    def quantize_params(self, pop, s, hw, report, projs):
        out = {"du": ff.decay(pop, "du", hw, report, offset=hw.du_offset),
               "du_inh": ff.decay(pop, "du_inh", hw, report, offset=hw.du_offset)}
        out.update(self.quantize_membrane(pop, s, hw, report))
        out["theta_decay"] = ff.decay(pop, "theta_decay", hw, report, default=0.0, optional=True)
        out["w_decay"] = ff.decay(pop, "w_decay", hw, report, default=0.0, optional=True)
        for fld in self._SIGNED24:
            out[fld] = ff.signed24(pop, fld, pop.param(fld), s, hw, report,
                                   loss_on_underflow=fld in ("theta_plus", "w_plus"))
        return out, np.full(pop.size, float(s))

    # -- kernel (compiled step, models/jit.py): the LIF family's drive with u_inh and w, then base.k_spike
    kernel_floats = ("u_keep", "u_inh_keep", "w_keep")
    kernel_ints = ("u_bias", "theta_plus", "w_plus")
    kernel_flags = ("has_u_bias", "two_port", "has_w")
    kernel_saturated = ()

    @property
    def kernel(self):
        return _alif_kernel


# rows after the shared ones; u_keep, u_bias and has_u_bias first, as in the LIF family's (k_current)
_CF_U, _CF_U_INH, _CF_W = range(len(base.CF_SHARED), len(base.CF_SHARED) + 3)
_F_U_BIAS, _F_TWO, _F_W = range(len(base.FLAGS_SHARED), len(base.FLAGS_SHARED) + 3)


@njit
def _alif_kernel(S, Cf, Ci, fl, inc, a_exc, a_inh, fired, cnt, lim, m, act, fixed):
    """:meth:`LIFFamily.drive` (u, u_inh, w) and the shared step (rows: u, u_inh, w, theta, v, refractory_left)."""
    for i in range(S.shape[1]):
        u, hit = k_current(S[0, i], Cf[_CF_U, i], Ci[_CI_U_BIAS, i], fl, a_exc[i], m, act, fixed)  # LIF's rows
        S[0, i] = u
        if hit:
            cnt[base.C_U_WRAPS, i] += 1
        drive = u
        if fl[_F_TWO]:
            y, hit = k_wrap(k_decay(S[1, i], Cf[_CF_U_INH, i], fixed) + a_inh[i] * act, m, fixed)
            if hit:
                cnt[base.C_U_WRAPS, i] += 1
            S[1, i] = y
            drive = S[0, i] - S[1, i]
        if fl[_F_W]:
            S[2, i] = k_decay(S[2, i], Cf[_CF_W, i], fixed)
            drive = drive - S[2, i]
        v, th, ref, spk, f, sat = base.k_spike(S[4, i], S[3, i], S[5, i], drive, base.k_consts(Cf, Ci, i), fl,
                                               lim, fixed)
        S[4, i] = v
        S[3, i] = th
        S[5, i] = ref
        fired[i] = spk
        if sat:
            cnt[base.C_V_SAT, i] += 1
        if f:
            base.k_increments(S, Ci, inc, i, cnt, lim, fixed)


ADAPTIVE_LIF = base.register(AdaptiveLIF())
