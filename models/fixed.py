"""Fixed-point neuron steps: Lava's ``PyLifModelBitAcc``, bit for bit.

The LIF family (same model keys as :class:`neuroport.models.neurons.LIFFamily`)
runs on int64 arrays holding Lava's integers (``D = 2**decay_bits = 4096``)::

    u = trunc0(u * (D - (du + 1)) / D) + (a_in << 6)      # then wrap to 24 bit
    v = trunc0(v * (D - dv) / D) + u + (bias_mant << bias_exp)
    v = clip(v, -(2**23 - 1), 2**23 - 1)
    s = v > (vth << 6);  v[s] = 0

``trunc0`` rounds toward zero (Lava: ``sign(x) * (abs(x) >> 12)``). The wrap
of ``u`` is Lava's two-``where`` form: values above ``2**23`` lose ``2**24``,
values ``<= -2**23`` gain ``2**24`` (so ``+2**23`` itself is kept, exactly as
Lava keeps it). ``a_in`` is the sum of the Dense outputs (integers, already
shifted by each projection's ``weight_exp``).

Non-spiking models (LI, CubaLI, integrator) run the same arithmetic with
``vth`` at its maximum; they are Lava LIF processes whose spikes nobody
reads, so :meth:`LIFFamilyFixed.step_fixed` returns ``None`` for them (the
quantizer reports when ``v`` could ever reach that threshold).
"""

from __future__ import annotations

import numpy as np

from neuroport.errors import UnsupportedNodeError


def trunc_shift(x: np.ndarray, shift: int) -> np.ndarray:
    """``sign(x) * (|x| >> shift)``: division by ``2**shift`` rounding toward zero."""
    q = np.abs(x) >> shift
    return np.where(x < 0, -q, q)


class LIFFamilyFixed:
    """Bit-accurate LIF-family step (Lava ``PyLifModelBitAcc``) on int64 arrays."""

    state_names = ("u", "v")
    keys = ("lif", "cubalif", "if", "li", "cubali", "integrator", "threshold")

    def init_state(self, pop) -> dict:
        return {"u": np.zeros(pop.size, dtype=np.int64), "v": np.zeros(pop.size, dtype=np.int64)}

    def prepare(self, pop, hardware) -> dict:
        """Integer constants of one population (each int64, shape ``(size,)``)."""
        hw = hardware
        unity = hw.decay_unity
        p = {k: np.broadcast_to(np.asarray(pop.params[k], dtype=np.int64), (pop.size,))
             for k in ("du", "dv", "vth", "bias_mant", "bias_exp")}
        return {
            "u_keep": (unity - (p["du"] + hw.du_offset)).astype(np.int64),
            "v_keep": (unity - (p["dv"] + hw.dv_offset)).astype(np.int64),
            "bias": np.left_shift(p["bias_mant"], p["bias_exp"]).astype(np.int64),
            "has_bias": bool(np.any(p["bias_mant"])),
            "vth": np.left_shift(p["vth"], hw.vth_shift).astype(np.int64),
            "decay_shift": hw.decay_bits,
            "act_shift": hw.act_shift,
            "max_uv": hw.state_max,
            "v_lim": hw.state_max - 1,
            "spiking": pop.emits == "spikes",
            "counters": {"u_wraps": 0, "v_saturations": 0},
        }

    def step_fixed(self, state: dict, a_in: np.ndarray, c: dict):
        """Advance one step in place; the boolean spike vector (``None`` if non-spiking)."""
        shift = c["decay_shift"]
        max_uv = c["max_uv"]
        decayed = trunc_shift(state["u"] * c["u_keep"], shift)
        decayed += np.left_shift(a_in, c["act_shift"])
        hi = decayed > max_uv
        lo = decayed <= -max_uv
        if hi.any() or lo.any():
            c["counters"]["u_wraps"] += int(hi.sum() + lo.sum())
            wrapped = np.where(hi, decayed - 2 * max_uv, decayed)
            decayed = np.where(wrapped <= -max_uv, decayed + 2 * max_uv, wrapped)
        u = decayed
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


_MODELS = {}


def register(model) -> None:
    """Register a fixed-point model object under each of its ``keys``."""
    for key in model.keys:
        _MODELS[key] = model


register(LIFFamilyFixed())


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
