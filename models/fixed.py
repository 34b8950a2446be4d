"""Fixed-point neuron steps: Lava's ``PyLifModelBitAcc`` bit for bit, and neuroport's own
integer models of ``AdaptiveLIF``, ``CondLIF`` and short-term depression.

This module is the normative definition of every integer algorithm the
``numpy-fixed`` engine runs; neuroport's custom Lava processes
(``backends/lava/processes/``) implement the same steps in their ``fixed_pt``
models and must agree bit for bit. ``docs/fixed_point.md`` repeats them.

Notation (all widths from :class:`neuroport.hardware.HardwareSpec`, LOIHI2 values)::

    D          = 2**decay_bits = 4096
    M          = 2**(state_bits - 1) = 2**23
    trunc0(x)  = sign(x) * (|x| >> 12)                # x / 4096 rounded toward zero
    K(x, d, o) = trunc0(x * (D - (d + o)))            # decay by d (offset o)
    wrap24(x)  = x - 2M if x > M; then x + 2M if x <= -M     (Lava's two-where form,
                                                            applied to the original x)
    sat24(x)   = clip(x, -(M - 1), M - 1)
    shift(x,e) = x << e if e > 0 else x >> -e        # arithmetic: floor for e < 0

All arithmetic is exact integer arithmetic (int64 is wide enough for every
intermediate: the largest is the CondLIF product sum, < 2**50); only the
named ``wrap24`` / ``sat24`` / shifts lose information. ``a_in`` (and
``a_exc`` / ``a_inh`` of two-port populations, which carry the *magnitudes*
of inhibitory weights) are the Dense outputs: integers already shifted by
each projection's ``weight_exp``.

LIF family (``lif``, ``cubalif``, ``if``, ``li``, ``cubali``, ``integrator``,
``threshold``) -- Lava's ``PyLifModelBitAcc``::

    u = wrap24(K(u, du, 1) + (a_in << 6))
    v = sat24(K(v, dv, 0) + u + (bias_mant << bias_exp))
    s = v > (vth << 6);  v[s] = 0

A LIF-family population with ``refractory > 0``, ``reset="subtract"`` or a
bias on ``u`` (``u_bias_mant != 0``) runs :class:`AdaptiveLIFFixed` with no
threshold adaptation, no adaptation current and one port; for such a
population that step reduces exactly to the lines above, plus
``(u_bias_mant << u_bias_exp)`` inside the ``wrap24`` of ``u``, the
refractory hold and the subtractive reset. Non-spiking models (LI, CubaLI,
integrator) run the LIF arithmetic with ``vth`` at its maximum; they are Lava
LIF processes whose spikes nobody reads (``step_fixed`` returns ``None``).

The classes below state the AdaptiveLIF, CondLIF and depression steps.
"""

from __future__ import annotations

import numpy as np

from neuroport.errors import UnsupportedNodeError


def trunc_shift(x: np.ndarray, shift: int) -> np.ndarray:
    """``sign(x) * (|x| >> shift)``: division by ``2**shift`` rounding toward zero.

    Computed as ``(x + ((x >> 63) & (2**shift - 1))) >> shift`` (negative values
    get ``2**shift - 1`` added before the floor shift), which is the same integer.
    """
    q = x >> 63
    q &= (1 << shift) - 1
    q += x
    q >>= shift
    return q


def wrap_state(x: np.ndarray, max_uv: int) -> tuple:
    """Lava's 24-bit wrap of ``u`` (``(wrapped, number of wrapped values)``)."""
    if x.size == 0 or (x.max() <= max_uv and x.min() > -max_uv):
        return x, 0
    hi = x > max_uv
    lo = x <= -max_uv
    wrapped = np.where(hi, x - 2 * max_uv, x)
    return np.where(wrapped <= -max_uv, x + 2 * max_uv, wrapped), int(hi.sum() + lo.sum())


def saturate(x: np.ndarray, lim: int) -> int:
    """Clip ``x`` in place to ``[-lim, lim]``; the number of clipped values."""
    if x.size == 0 or (x.max() <= lim and x.min() >= -lim):
        return 0
    n = int(np.count_nonzero((x > lim) | (x < -lim)))
    np.clip(x, -lim, lim, out=x)
    return n


def _ints(pop, key, default=0) -> np.ndarray:
    """Integer parameter ``key`` of a fixed Population, shape ``(size,)``."""
    return np.array(np.broadcast_to(np.asarray(pop.params.get(key, default), dtype=np.int64), (pop.size,)))


def _keep(d: np.ndarray, offset: int, hw) -> np.ndarray:
    return (hw.decay_unity - (d + offset)).astype(np.int64)


def _counters() -> dict:
    return {"u_wraps": 0, "v_saturations": 0, "saturations": {}}


def _count_sat(c, var, n):
    if n:
        c["counters"]["saturations"][var] = c["counters"]["saturations"].get(var, 0) + n


class LIFFamilyFixed:
    """Bit-accurate LIF-family step (Lava ``PyLifModelBitAcc``) on int64 arrays.

    Fixed Program parameters (``Population.params``, int64, shape ``(size,)``):
    ``du``, ``dv`` [0, 4095]; ``vth`` [0, 131071]; ``bias_mant`` [-4096, 4095];
    ``bias_exp`` [0, 7]; ``refractory`` (steps, [0, 4095]); optionally
    ``u_bias_mant`` / ``u_bias_exp`` (bias format). States ``u``, ``v``.
    """

    state_names = ("u", "v")
    keys = ("lif", "cubalif", "if", "li", "cubali", "integrator", "threshold")

    @staticmethod
    def _general(pop) -> bool:
        """Needs the AdaptiveLIF step (refractory, subtractive reset, u bias)."""
        return (pop.emits == "spikes" and (np.any(_ints(pop, "refractory") > 0)
                                           or pop.extra.get("reset", "zero") == "subtract")) \
            or bool(np.any(_ints(pop, "u_bias_mant") != 0))

    def init_state(self, pop) -> dict:
        if self._general(pop):
            return _ALIF.init_state(pop)
        return {"u": np.zeros(pop.size, dtype=np.int64), "v": np.zeros(pop.size, dtype=np.int64)}

    def prepare(self, pop, hardware) -> dict:
        """Integer constants of one population (each int64, shape ``(size,)``)."""
        if self._general(pop):
            c = _ALIF.prepare(pop, hardware)
            c["general"] = True
            return c
        hw = hardware
        p = {k: _ints(pop, k) for k in ("du", "dv", "vth", "bias_mant", "bias_exp")}
        return {
            "general": False,
            "u_keep": _keep(p["du"], hw.du_offset, hw),
            "v_keep": _keep(p["dv"], hw.dv_offset, hw),
            "bias": np.left_shift(p["bias_mant"], p["bias_exp"]).astype(np.int64),
            "has_bias": bool(np.any(p["bias_mant"])),
            "vth": np.left_shift(p["vth"], hw.vth_shift).astype(np.int64),
            "decay_shift": hw.decay_bits,
            "act_shift": hw.act_shift,
            "max_uv": hw.state_max,
            "v_lim": hw.state_max - 1,
            "spiking": pop.emits == "spikes",
            "counters": _counters(),
        }

    def step_fixed(self, state: dict, a_in: np.ndarray, c: dict):
        """Advance one step in place; the boolean spike vector (``None`` if non-spiking)."""
        if c["general"]:
            return _ALIF.step_fixed(state, a_in, c)
        shift = c["decay_shift"]
        u, n = wrap_state(trunc_shift(state["u"] * c["u_keep"], shift) + np.left_shift(a_in, c["act_shift"]),
                          c["max_uv"])
        c["counters"]["u_wraps"] += n
        state["u"] = u
        v = trunc_shift(state["v"] * c["v_keep"], shift)
        v += u
        if c["has_bias"]:
            v += c["bias"]
        lim = c["v_lim"]
        if v.max(initial=0) > lim or v.min(initial=0) < -lim:
            # counted where it changes the outcome: above the range a spiking
            # neuron fires and resets anyway (vth << 6 < 2**23 - 1)
            low = np.count_nonzero(v < -lim)
            c["counters"]["v_saturations"] += int(low if c["spiking"] else low + np.count_nonzero(v > lim))
            np.clip(v, -lim, lim, out=v)
        spikes = v > c["vth"]
        if spikes.any():
            v[spikes] = 0
        state["v"] = v
        return spikes if c["spiking"] else None


class _SpikingFixed:
    """Refractory hold, threshold (with theta), reset and spike increments shared by the
    extension models (steps 4 to 6 of their algorithms)."""

    increments = ()  # (state, constant) pairs added on a spike, then sat24

    @staticmethod
    def _common_consts(pop, hw) -> dict:
        p = {k: _ints(pop, k) for k in ("dv", "vth", "bias_mant", "bias_exp", "refractory", "theta_decay",
                                         "theta_plus")}
        return {
            "v_keep": _keep(p["dv"], hw.dv_offset, hw),
            "bias": np.left_shift(p["bias_mant"], p["bias_exp"]).astype(np.int64),
            "vth": np.left_shift(p["vth"], hw.vth_shift).astype(np.int64),
            "refractory": p["refractory"],
            "has_ref": bool(np.any(p["refractory"] > 0)),
            "theta_keep": _keep(p["theta_decay"], 0, hw),
            "theta_plus": p["theta_plus"],
            "subtract": pop.extra.get("reset", "zero") == "subtract",
            "decay_shift": hw.decay_bits, "act_shift": hw.act_shift, "max_uv": hw.state_max,
            "v_lim": hw.state_max - 1, "spiking": True, "counters": _counters(),
        }

    @staticmethod
    def _common_init(pop, state) -> dict:
        n = pop.size
        state["theta"] = _ints(pop, "theta_init")
        state["v"] = _ints(pop, "v_init")
        state["refractory_left"] = np.zeros(n, dtype=np.int64)
        return state

    @staticmethod
    def _theta_and_refractory(state, c):
        """Step 3 (theta decay) and 4 (refractory count-down); the mask of active neurons or None."""
        state["theta"] = trunc_shift(state["theta"] * c["theta_keep"], c["decay_shift"])
        if not c["has_ref"]:
            return None
        ref = state["refractory_left"]
        active = ref == 0
        ref[~active] -= 1
        return active

    def _update_v(self, state, new_v, active, c):
        """Step 5: ``v = sat24(new_v)`` where active (refractory neurons keep ``v``)."""
        if active is None:
            c["counters"]["v_saturations"] += saturate(new_v, c["v_lim"])
            state["v"] = new_v
        else:
            sub = new_v[active]
            c["counters"]["v_saturations"] += saturate(sub, c["v_lim"])
            state["v"][active] = sub

    def _spike(self, state, c, active=None):
        """Step 6: threshold ``(vth << 6) + theta`` for neurons not refractory this step, reset,
        refractory, increments."""
        v = state["v"]
        theta = state["theta"]
        threshold = c["vth"] + theta
        spikes = v > threshold
        if active is not None:
            spikes &= active
        if spikes.any():
            if c["subtract"]:
                v[spikes] -= threshold[spikes]
                saturate(v, c["v_lim"])
            else:
                v[spikes] = 0
            state["refractory_left"][spikes] = c["refractory"][spikes]
            lim = c["v_lim"]
            for var, inc in (("theta", "theta_plus"),) + self.increments:
                x = state[var]
                x[spikes] += c[inc][spikes]
                _count_sat(c, var, saturate(x, lim))
        return spikes


class AdaptiveLIFFixed(_SpikingFixed):
    """``neuroport.AdaptiveLIF`` in fixed point (model key ``alif``).

    State (int64 arrays holding signed 24-bit values, all in integer ``v``
    units of the population's scale ``s``): ``u``, ``u_inh`` (0 unless the
    population has the ports ``("exc", "inh")``), ``w``, ``theta``, ``v``, and
    ``refractory_left`` (steps, >= 0). Initial values: ``v = v_init``,
    ``theta = theta_init``, the rest 0.

    Parameters (``Population.params`` of the fixed Program, int64, shape ``(size,)``):

    ============== ======================= ====================================
    ``du``         [0, 4095]               u decay, hardware adds 1 (as LIF)
    ``du_inh``     [0, 4095]               u_inh decay, hardware adds 1
    ``dv``         [0, 4095]               v decay
    ``theta_decay``[0, 4095]               theta decay (0: none)
    ``w_decay``    [0, 4095]               w decay (0: none)
    ``vth``        [0, 131071]             threshold, compared as ``vth << 6``
    ``bias_mant``  [-4096, 4095]           v bias = ``bias_mant << bias_exp``
    ``bias_exp``   [0, 7]
    ``u_bias_mant``[-4096, 4095]           u bias = ``u_bias_mant << u_bias_exp``
    ``u_bias_exp`` [0, 7]
    ``refractory`` [0, 4095]               steps held after a spike
    ``theta_plus`` [-(2**23-1), 2**23-1]   added to theta per spike
    ``w_plus``     [-(2**23-1), 2**23-1]   added to w per spike
    ``v_init``     [-(2**23-1), 2**23-1]   initial v
    ``theta_init`` [-(2**23-1), 2**23-1]   initial theta
    ============== ======================= ====================================

    Flags from ``Population.extra``: two ports when ``extra["ports"] ==
    ("exc", "inh")`` (input ``a_exc``, ``a_inh``; else one input ``a_in``
    called ``a_exc`` below); ``extra["reset"] == "subtract"``.

    Step, in this order (``K``, ``wrap24``, ``sat24`` as in the module docstring)::

        1. u     = wrap24(K(u, du, 1) + (a_exc << 6) + (u_bias_mant << u_bias_exp))
           u_inh = wrap24(K(u_inh, du_inh, 1) + (a_inh << 6))          # two ports only
        2. w     = K(w, w_decay, 0)
        3. theta = K(theta, theta_decay, 0)
        4. active = refractory_left == 0;  refractory_left[~active] -= 1
        5. where active:  v = sat24(K(v, dv, 0) + u - u_inh - w + (bias_mant << bias_exp))
        6. s = v > (vth << 6) + theta          (exact compare; neurons refractory this step never spike)
           where s:  v = 0  (reset="subtract": v = sat24(v - ((vth << 6) + theta)))
                     refractory_left = refractory
                     theta = sat24(theta + theta_plus);  w = sat24(w + w_plus)

    The sum in step 5 is exact before ``sat24``. A LIF (no theta, no w, one
    port, no refractory) gives exactly Lava's ``PyLifModelBitAcc``.
    """

    keys = ("alif",)
    state_names = ("u", "u_inh", "w", "theta", "v", "refractory_left")
    increments = (("w", "w_plus"),)

    def init_state(self, pop) -> dict:
        n = pop.size
        state = {"u": np.zeros(n, dtype=np.int64), "u_inh": np.zeros(n, dtype=np.int64),
                 "w": np.zeros(n, dtype=np.int64)}
        return self._common_init(pop, state)

    def prepare(self, pop, hardware) -> dict:
        hw = hardware
        c = self._common_consts(pop, hw)
        du = _ints(pop, "du")
        ub = np.left_shift(_ints(pop, "u_bias_mant"), _ints(pop, "u_bias_exp"))
        c.update({
            "u_keep": _keep(du, hw.du_offset, hw),
            "u_inh_keep": _keep(_ints(pop, "du_inh", 0) if "du_inh" in pop.params else du, hw.du_offset, hw),
            "w_keep": _keep(_ints(pop, "w_decay"), 0, hw),
            "w_plus": _ints(pop, "w_plus"),
            "u_bias": ub.astype(np.int64), "has_u_bias": bool(np.any(ub)),
            "two_port": tuple(pop.extra.get("ports", ("input",))) == ("exc", "inh"),
            "spiking": pop.emits == "spikes",
        })
        return c

    def step_fixed(self, state, a_in, c):
        shift, act = c["decay_shift"], c["act_shift"]
        a_exc = a_in["exc"] if isinstance(a_in, dict) else a_in
        u = trunc_shift(state["u"] * c["u_keep"], shift) + np.left_shift(a_exc, act)
        if c["has_u_bias"]:
            u += c["u_bias"]
        u, n = wrap_state(u, c["max_uv"])
        c["counters"]["u_wraps"] += n
        state["u"] = u
        drive = u
        if c.get("two_port"):
            ui, n = wrap_state(trunc_shift(state["u_inh"] * c["u_inh_keep"], shift)
                               + np.left_shift(a_in["inh"], act), c["max_uv"])
            c["counters"]["u_wraps"] += n
            state["u_inh"] = ui
            drive = drive - ui
        if "w" in state:
            state["w"] = trunc_shift(state["w"] * c["w_keep"], shift)
            drive = drive - state["w"]
        active = self._theta_and_refractory(state, c)
        new_v = trunc_shift(state["v"] * c["v_keep"], shift) + drive + c["bias"]
        self._update_v(state, new_v, active, c)
        if not c["spiking"]:
            return None
        return self._spike(state, c, active)


class CondLIFFixed(_SpikingFixed):
    """``neuroport.CondLIF`` in fixed point (model key ``condlif``).

    Formulation: ``v``, ``theta`` and the reversal potentials are integer
    ``v`` units of the population's scale ``s`` (``v_int = v * s``, like
    LIF). A conductance is stored *per step and with ``dv`` folded in*: the
    float model adds ``dv * g * (E - v)`` to ``v``, so the state is
    ``G = round(dv * g * 2**F)``, a signed 24-bit fraction with ``F =
    g_shift`` fractional bits (one ``F`` per population, chosen by the
    quantizer; ``G = 2**F`` means "``v`` moves all the way to ``E`` in one
    step"). Weights into a CondLIF are in the same format (``w_mant <<
    weight_exp << 6 ~= dv * w * 2**F``), so spikes add to ``G`` exactly as
    they add to ``u`` of a LIF.

    State (int64 arrays holding signed 24-bit values): ``g_exc``, ``g_inh``,
    ``g_adapt`` (``G`` format), ``theta``, ``v`` (``v`` units),
    ``refractory_left`` (steps). Initial values: ``g_exc = g_exc_init``,
    ``g_inh = g_inh_init`` (may be negative), ``v = v_init``, ``theta =
    theta_init``, ``g_adapt = 0``.

    Parameters (``Population.params`` of the fixed Program, int64, shape ``(size,)``):

    ============== ======================= ====================================
    ``de``, ``di`` [0, 4095]               g_exc / g_inh decay (no offset)
    ``da``         [0, 4095]               g_adapt decay (0: none)
    ``dv``         [0, 4095]               v decay (leak toward e_leak, whose
                                           ``dv * (e_leak - v_reset)`` is ``bias``)
    ``theta_decay``[0, 4095]
    ``g_shift``    [0, 23], one value      F, fractional bits of G
    ``e_exc``, ``e_inh``, ``e_adapt``      [-(2**23-1), 2**23-1], v units (minus v_reset)
    ``b_adapt``    [-(2**23-1), 2**23-1]   added to g_adapt per spike, G format
    ``vth``        [0, 131071]             compared as ``vth << 6``
    ``bias_mant``  [-4096, 4095], ``bias_exp`` [0, 7]
    ``refractory`` [0, 4095]               steps
    ``theta_plus``, ``v_init``, ``theta_init``   [-(2**23-1), 2**23-1], v units
    ``g_exc_init``, ``g_inh_init``              [-(2**23-1), 2**23-1], G format
    ============== ======================= ====================================

    Step, in this order (``v`` in step 5 is the value from the previous step)::

        1. g_exc = sat24(K(g_exc, de, 0) + (a_exc << 6))
           g_inh = sat24(K(g_inh, di, 0) + (a_inh << 6))
        2. g_adapt = K(g_adapt, da, 0)
        3. theta = K(theta, theta_decay, 0)
        4. active = refractory_left == 0;  refractory_left[~active] -= 1
        5. acc   = g_exc * (e_exc - v) + g_inh * (e_inh - v) + g_adapt * (e_adapt - v)   # exact, |acc| < 2**50
           drive = (acc + 2**(F-1)) >> F        # round to nearest, ties toward +inf (F = 0: drive = acc)
           where active:  v = sat24(K(v, dv, 0) + drive + (bias_mant << bias_exp))
        6. s = v > (vth << 6) + theta  (neurons refractory this step never spike)
           where s:  v = 0  (reset="subtract": v = sat24(v - ((vth << 6) + theta)))
                     refractory_left = refractory
                     theta = sat24(theta + theta_plus);  g_adapt = sat24(g_adapt + b_adapt)

    Every operation is an integer add, multiply, shift or compare. The
    products ``G * (E - v)`` (24 x 25 bits) need a 49-bit intermediate
    (a Loihi 2 neuron program forms it as two 24-bit partial products and
    shifts); the Lava CPU model computes it in int64.
    """

    keys = ("condlif",)
    state_names = ("g_exc", "g_inh", "g_adapt", "theta", "v", "refractory_left")
    increments = (("g_adapt", "b_adapt"),)

    def init_state(self, pop) -> dict:
        state = {"g_exc": _ints(pop, "g_exc_init"), "g_inh": _ints(pop, "g_inh_init"),
                 "g_adapt": np.zeros(pop.size, dtype=np.int64)}
        return self._common_init(pop, state)

    def prepare(self, pop, hardware) -> dict:
        hw = hardware
        c = self._common_consts(pop, hw)
        g_shift = _ints(pop, "g_shift")
        if g_shift.size and np.any(g_shift != g_shift[0]):
            from neuroport.errors import ParameterError

            raise ParameterError(f"{pop.name}.g_shift: one value per population, got {sorted(set(g_shift.tolist()))}")
        f = int(g_shift[0]) if g_shift.size else 0
        c.update({
            "e_keep": _keep(_ints(pop, "de"), 0, hw), "i_keep": _keep(_ints(pop, "di"), 0, hw),
            "a_keep": _keep(_ints(pop, "da"), 0, hw),
            "e_exc": _ints(pop, "e_exc"), "e_inh": _ints(pop, "e_inh"), "e_adapt": _ints(pop, "e_adapt"),
            "b_adapt": _ints(pop, "b_adapt"), "g_shift": f, "g_round": (1 << (f - 1)) if f > 0 else 0,
        })
        return c

    def step_fixed(self, state, a_in, c):
        shift, act, lim = c["decay_shift"], c["act_shift"], c["v_lim"]
        ge = trunc_shift(state["g_exc"] * c["e_keep"], shift) + np.left_shift(a_in["exc"], act)
        _count_sat(c, "g_exc", saturate(ge, lim))
        gi = trunc_shift(state["g_inh"] * c["i_keep"], shift) + np.left_shift(a_in["inh"], act)
        _count_sat(c, "g_inh", saturate(gi, lim))
        ga = trunc_shift(state["g_adapt"] * c["a_keep"], shift)
        state["g_exc"], state["g_inh"], state["g_adapt"] = ge, gi, ga
        active = self._theta_and_refractory(state, c)
        v = state["v"]
        acc = ge * (c["e_exc"] - v) + gi * (c["e_inh"] - v) + ga * (c["e_adapt"] - v)
        drive = (acc + c["g_round"]) >> c["g_shift"]
        new_v = trunc_shift(v * c["v_keep"], shift) + drive + c["bias"]
        self._update_v(state, new_v, active, c)
        return self._spike(state, c, active)


class DepressionFixed:
    """Tsodyks-Markram short-term depression of one projection, in fixed point.

    Numpy-fixed only for now (the Lava side is a custom process). Resources
    ``x`` are one unsigned integer per pre neuron, a fraction with
    ``X = 2**depression_bits`` (LOIHI2: 16 bits, ``x`` in [0, 65536], 1.0 =
    65536); initial ``x = X``. The fixed Projection's
    ``extra["depression"]`` holds ``recover`` and ``u_se`` as integers in
    [0, X] (``round(recover * X)``, ``round(u_se * X)``) and ``bits``.

    Per step::

        1. (start of the step, every pre neuron, before any population updates)
           x = X - (((X - x) * (X - recover)) >> bits)          # deficit decays, floor
        2. (when the pre population has spiked, before delivery)
           r = (u_se * x) >> bits   where spiking, else 0         # released, floor
           x = x - r
        3. the projection delivers the graded payload r (a Loihi 2 graded spike):
           a = shift(sum_j w_mant[i, j] * r_j, weight_exp)       # per delay slot, as Dense

    The quantizer stores ``weight_exp`` of a depressing projection already
    lowered by ``bits`` (``w_mant << (weight_exp + bits) << 6 ~= w * s``), so
    a payload of ``X`` (full resources) delivers what an ordinary spike would.
    Floor in step 1 makes the deficit shrink by at least 1 per step while it
    is > 0, so ``x`` always recovers to exactly ``X``.
    """

    @staticmethod
    def prepare(spec, size: int) -> dict:
        bits = int(spec["bits"])
        return {"bits": bits, "unity": 1 << bits,
                "recover": np.broadcast_to(np.asarray(spec["recover"], dtype=np.int64), (size,)).copy(),
                "u_se": np.broadcast_to(np.asarray(spec["u_se"], dtype=np.int64), (size,)).copy()}

    @staticmethod
    def init_state(c) -> np.ndarray:
        return np.full(c["recover"].shape, c["unity"], dtype=np.int64)

    @staticmethod
    def recover(x: np.ndarray, c) -> None:
        X = c["unity"]
        x[:] = X - (((X - x) * (X - c["recover"])) >> c["bits"])

    @staticmethod
    def release(x: np.ndarray, active: np.ndarray, c) -> np.ndarray:
        """Payload of the spiking pre neurons ``active`` (indices); updates ``x``."""
        r = (c["u_se"][active] * x[active]) >> c["bits"]
        x[active] -= r
        return r


# ---------------------------------------------------------------- several populations as one
class FixedGroup:
    """Several populations of one model stepped as one (the ``numpy-fixed`` engine's fast path).

    The members' states are concatenated into ``block`` (int64, ``(variables,
    n)``, one row per variable in ``init_state`` order); each member's state
    dict then holds *views* of its slice, so the engine, probes
    and ``Simulator.set_state`` see and change the same integers. Constants
    are per neuron (concatenated from each member's ``prepare``); flags that
    only select a shortcut (``has_bias``, ``has_u_bias``) become "any member".
    :meth:`step` computes, for every member, exactly the integers of that
    member's own ``step_fixed`` (the algorithms above, unchanged), including
    the per-population counters: wherever a member's step clips or wraps a
    whole population, the group checks its whole range first and then clips
    member by member, as the member would. Decays ``K`` are computed in
    float64 (:func:`_decay`), exact for every state below ``2**41`` in
    magnitude (24-bit states, ``u`` after one wrap of any input short of
    ``2**35`` per step).

    Parameters
    ----------
    kind : {"lif", "alif", "condlif"}
        ``"lif"``: :class:`LIFFamilyFixed` without the general step;
        ``"alif"``: the :class:`AdaptiveLIFFixed` step (``alif`` and general
        LIF-family populations), all members one-port or all ``("exc", "inh")``;
        ``"condlif"``: :class:`CondLIFFixed`.
    members : list of (state, consts, size)
        Each member's state dict (rebound to views) and ``prepare`` constants.
    """

    _consts = {
        "lif": ("u_keep", "v_keep", "bias", "vth"),
        "alif": ("u_keep", "u_inh_keep", "w_keep", "u_bias", "v_keep", "bias", "vth", "theta_keep", "theta_plus",
                 "w_plus", "refractory"),
        "condlif": ("e_keep", "i_keep", "a_keep", "e_exc", "e_inh", "e_adapt", "b_adapt", "v_keep", "bias", "vth",
                    "theta_keep", "theta_plus", "refractory"),
    }

    def __init__(self, kind: str, members: list, hw):
        self.kind = kind
        sizes = [n for _, _, n in members]
        self.n = sum(sizes)
        self.bounds = np.cumsum([0] + sizes)
        self.starts = self.bounds[:-1]
        self.counters = [c["counters"] for _, c, _ in members]
        names = list(members[0][0])
        self.block = np.empty((len(names), self.n), dtype=np.int64)  # one row per state variable
        for k, var in enumerate(names):
            self.block[k] = np.concatenate([s[var] for s, _, _ in members])
        self.state = {var: self.block[k] for k, var in enumerate(names)}
        for k, (s, _, _) in enumerate(members):
            lo, hi = self.bounds[k], self.bounds[k + 1]
            for var in s:
                s[var] = self.state[var][lo:hi]
        consts = [c for _, c, _ in members]
        for key in self._consts[kind]:
            setattr(self, key, np.concatenate([np.broadcast_to(c[key], (n,)) for c, n in zip(consts, sizes)])
                    .astype(np.int64))
        # K(x, d, o) = trunc0(x * keep / 2**12) is computed as trunc(x * (keep / 2**12)) in float64: exact,
        # as keep / 2**12 is a binary fraction and |x * keep| < 2**53 (|x| < 2**41, 13-bit keep)
        for key in self._consts[kind]:
            if key.endswith("_keep"):
                setattr(self, key, getattr(self, key) / float(1 << hw.decay_bits))
        self.shift = hw.decay_bits
        self.act = hw.act_shift
        self.max_uv = hw.state_max
        self.lim = hw.state_max - 1
        spiking = np.concatenate([np.full(n, bool(c["spiking"])) for c, n in zip(consts, sizes)])
        self.all_spiking = bool(spiking.all())
        self.none_spiking = not spiking.any()
        self.spiking = spiking
        self.has_bias = any(c.get("has_bias", True) for c in consts)
        self.has_u_bias = any(c.get("has_u_bias", False) for c in consts)
        self.two_port = kind == "condlif" or any(c.get("two_port", False) for c in consts)
        if kind != "lif":
            has_ref = np.concatenate([np.full(n, bool(c["has_ref"])) for c, n in zip(consts, sizes)])
            self.has_ref = bool(has_ref.any())
            self.no_ref = None if has_ref.all() else ~has_ref  # members whose step ignores refractory_left
            sub = np.concatenate([np.full(n, bool(c["subtract"])) for c, n in zip(consts, sizes)])
            self.subtract = sub if sub.any() else None
            self.subtract_members = [bool(c["subtract"]) for c in consts]
            self.increments = (("theta", "theta_plus"),) + (
                (("w", "w_plus"),) if kind == "alif" else (("g_adapt", "b_adapt"),))
        if kind == "condlif":
            f = np.concatenate([np.full(n, c["g_shift"]) for c, n in zip(consts, sizes)]).astype(np.int64)
            self.g_shift = f
            self.g_round = np.where(f > 0, np.left_shift(1, np.maximum(f - 1, 0)), 0).astype(np.int64)

    # -- per-member bookkeeping (only when a range check fails) ----------------
    def _per_member(self, mask) -> np.ndarray:
        return np.add.reduceat(mask, self.starts, dtype=np.int64)

    def _wrap(self, x, out) -> None:
        """``out[:] = wrap24(x)``, counting wraps per member (``wrap_state``)."""
        m = self.max_uv
        if x.max() <= m and x.min() > -m:
            out[...] = x
            return
        hi = x > m
        lo = x <= -m
        for c, n in zip(self.counters, self._per_member(hi | lo)):
            c["u_wraps"] += int(n)
        wrapped = np.where(hi, x - 2 * m, x)
        out[...] = np.where(wrapped <= -m, x + 2 * m, wrapped)

    def _saturate_counted(self, x, var) -> None:
        """``saturate`` on each member's whole slice of ``x``, counted in ``saturations[var]``."""
        lim = self.lim
        if x.max() <= lim and x.min() >= -lim:
            return
        for c, n in zip(self.counters, self._per_member((x > lim) | (x < -lim))):
            if n:
                c["saturations"][var] = c["saturations"].get(var, 0) + int(n)
        np.clip(x, -lim, lim, out=x)

    # -- steps ------------------------------------------------------------------
    def step(self, a_exc, a_inh, fired) -> None:
        """One step of every member: ``a_exc`` (``a_in`` of one-port members) and ``a_inh`` (None for
        one port) are the group's input rows, ``fired`` (bool view, size ``n``) receives the spikes."""
        getattr(self, f"_step_{self.kind}")(a_exc, a_inh, fired)

    def _step_lif(self, a_in, _, fired) -> None:
        s, shift, lim = self.state, self.shift, self.lim
        u, v = s["u"], s["v"]
        x = _decay(u, self.u_keep)
        x += np.left_shift(a_in, self.act)
        self._wrap(x, u)
        y = _decay(v, self.v_keep)
        y += u
        if self.has_bias:
            y += self.bias
        if y.max() > lim or y.min() < -lim:
            low = y < -lim
            if not self.all_spiking:
                low |= (y > lim) & ~self.spiking
            for c, n in zip(self.counters, self._per_member(low)):
                c["v_saturations"] += int(n)
            np.clip(y, -lim, lim, out=y)
        np.greater(y, self.vth, out=fired)
        np.copyto(y, 0.0, where=fired)
        if not self.all_spiking:
            fired &= self.spiking
        v[...] = y

    def _refractory(self):
        """Step 4: the active mask (None: no member has a refractory period)."""
        if not self.has_ref:
            return None
        ref = self.state["refractory_left"]
        active = ref == 0
        if self.no_ref is not None:
            active |= self.no_ref
        np.subtract(ref, 1, out=ref, where=~active)
        return active

    def _update_v(self, new_v, active) -> None:
        """Step 5: ``v = sat24(new_v)`` where active, saturations counted per member."""
        lim = self.lim
        if new_v.max() > lim or new_v.min() < -lim:
            over = (new_v > lim) | (new_v < -lim)
            if active is not None:
                over &= active
            for c, n in zip(self.counters, self._per_member(over)):
                c["v_saturations"] += int(n)
            np.clip(new_v, -lim, lim, out=new_v)
        if active is None:
            self.state["v"][...] = new_v
        else:
            np.copyto(self.state["v"], new_v, where=active, casting="unsafe")

    def _spike(self, active, fired) -> None:
        """Step 6 for the spiking members; ``fired`` gets the spikes."""
        s, lim = self.state, self.lim
        if self.none_spiking:
            fired[...] = False
            return
        v = s["v"]
        threshold = self.vth + s["theta"]
        np.greater(v, threshold, out=fired)
        if active is not None:
            fired &= active
        if not self.all_spiking:
            fired &= self.spiking
        idx = np.flatnonzero(fired)
        if idx.size == 0:
            return
        if self.subtract is None:
            v[idx] = 0
        else:
            v[idx] = np.where(self.subtract[idx], v[idx] - threshold[idx], 0)
            if v.max() > lim or v.min() < -lim:  # members with reset="subtract" that spiked: saturate(v)
                for k, sub in enumerate(self.subtract_members):
                    lo, hi = self.bounds[k], self.bounds[k + 1]
                    if sub and fired[lo:hi].any():
                        saturate(v[lo:hi], lim)
        s["refractory_left"][idx] = self.refractory[idx]
        for var, inc in self.increments:
            x = s[var]
            x[idx] += getattr(self, inc)[idx]
            if x.max() > lim or x.min() < -lim:
                for k, c in enumerate(self.counters):
                    lo, hi = self.bounds[k], self.bounds[k + 1]
                    if fired[lo:hi].any():
                        _count_sat({"counters": c}, var, saturate(x[lo:hi], lim))

    def _step_alif(self, a_exc, a_inh, fired) -> None:
        s, shift, act = self.state, self.shift, self.act
        x = _decay(s["u"], self.u_keep)
        x += np.left_shift(a_exc, act)
        if self.has_u_bias:
            x += self.u_bias
        u = s["u"]
        self._wrap(x, u)
        if self.two_port:
            y = _decay(s["u_inh"], self.u_inh_keep)
            y += np.left_shift(a_inh, act)
            self._wrap(y, s["u_inh"])
            drive = u - s["u_inh"]
        else:
            drive = u.copy()
        w = s["w"]
        w[...] = _decay(w, self.w_keep)
        drive -= w
        s["theta"][...] = _decay(s["theta"], self.theta_keep)
        active = self._refractory()
        new_v = _decay(s["v"], self.v_keep)
        new_v += drive
        new_v += self.bias
        self._update_v(new_v, active)
        self._spike(active, fired)

    def _step_condlif(self, a_exc, a_inh, fired) -> None:
        s, shift, act = self.state, self.shift, self.act
        ge = _decay(s["g_exc"], self.e_keep)
        ge += np.left_shift(a_exc, act)
        self._saturate_counted(ge, "g_exc")
        gi = _decay(s["g_inh"], self.i_keep)
        gi += np.left_shift(a_inh, act)
        self._saturate_counted(gi, "g_inh")
        s["g_exc"][...] = ge
        s["g_inh"][...] = gi
        ga = s["g_adapt"]
        ga[...] = _decay(ga, self.a_keep)
        s["theta"][...] = _decay(s["theta"], self.theta_keep)
        active = self._refractory()
        v, ge, gi = s["v"], s["g_exc"], s["g_inh"]
        acc = ge * (self.e_exc - v)
        acc += gi * (self.e_inh - v)
        acc += ga * (self.e_adapt - v)
        acc += self.g_round
        acc >>= self.g_shift
        new_v = _decay(v, self.v_keep)
        new_v += acc
        new_v += self.bias
        self._update_v(new_v, active)
        self._spike(active, fired)


def _decay(x, keep):
    """``K(x, d, o)`` as float64 holding the exact integer: ``keep`` is ``(D - (d + o)) / D``, a binary
    fraction, so ``x * keep`` is exact for ``|x| < 2**41`` and ``trunc`` is ``trunc0``."""
    y = x * keep
    np.trunc(y, out=y)
    return y


def group_kind(model, pop):
    """The :class:`FixedGroup` kind a population of ``model`` steps in, or None (stepped alone)."""
    ports = tuple(pop.extra.get("ports", ("input",)))
    if pop.size == 0 or not (len(ports) == 1 or ports == ("exc", "inh")):
        return None
    if type(model) is LIFFamilyFixed:
        if not model._general(pop):
            return ("lif", False) if len(ports) == 1 else None
        return ("alif", len(ports) == 2)
    if type(model) is AdaptiveLIFFixed:
        return ("alif", len(ports) == 2)
    if type(model) is CondLIFFixed and len(ports) == 2:
        return ("condlif", True)
    return None


_ALIF = AdaptiveLIFFixed()

_MODELS = {}


def register(model) -> None:
    """Register a fixed-point model object under each of its ``keys``."""
    for key in model.keys:
        _MODELS[key] = model


register(LIFFamilyFixed())
register(_ALIF)
register(CondLIFFixed())

#: Integer parameters of each fixed model, as the quantizer emits them (Lava processes read these).
FIXED_PARAMS = {
    "lif": ("du", "dv", "vth", "bias_mant", "bias_exp", "refractory"),
    "alif": ("du", "du_inh", "dv", "theta_decay", "w_decay", "vth", "bias_mant", "bias_exp", "u_bias_mant",
             "u_bias_exp", "refractory", "theta_plus", "w_plus", "v_init", "theta_init"),
    "condlif": ("de", "di", "da", "dv", "theta_decay", "g_shift", "e_exc", "e_inh", "e_adapt", "b_adapt", "vth",
                "bias_mant", "bias_exp", "refractory", "theta_plus", "v_init", "theta_init", "g_exc_init",
                "g_inh_init"),
}


def get(key: str):
    """The fixed-point model registered for ``key``.

    Raises
    ------
    UnsupportedNodeError
        When no fixed-point step exists for the model.
    """
    try:
        return _MODELS[key]
    except KeyError:
        raise UnsupportedNodeError(
            f"model {key!r} has no fixed-point step; fixed-point models: {', '.join(sorted(_MODELS))}"
        ) from None


def supported(key: str) -> bool:
    return key in _MODELS
