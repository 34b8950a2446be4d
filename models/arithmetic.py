"""The two arithmetics every neuron model's one step is written against.

A model's step (``models/base.py``, ``models/adaptive_lif.py``,
``models/cond_lif.py``) is written once, in terms of the operations below.
:data:`FLOAT` runs it in float64 (the ``numpy`` engine and Lava's
``floating_pt`` models); :class:`LoihiArithmetic` runs the same text in
Loihi 2 integers as Lava's bit-accurate CPU models compute them (the
``numpy-fixed`` engine and neuroport's ``fixed_pt`` Lava process models).

Integer states are held in int64 arrays. Decays are computed in float64
holding the exact integer: ``keep = (D - (d + o)) / D`` is a binary
fraction, so ``trunc(x * keep)`` is exactly ``trunc0(x * (D - (d + o)) /
D)`` for every ``|x| < 2**41`` (24-bit states; ``u`` before its wrap for
any input short of ``2**35`` per step). Notation of ``docs/fixed_point.md``::

    K(x, d, o) = trunc0(x * (D - (d + o)) / D)     D = 2**decay_bits
    wrap24(x)  = x - 2M if x > M; then x + 2M if that is <= -M    (Lava's two-where form)
    sat24(x)   = clip(x, -(M - 1), M - 1)                         M = 2**(state_bits - 1)
"""

from __future__ import annotations

import numpy as np


class FloatArithmetic:
    """Float64: decays multiply, nothing wraps or saturates, parameters are used as they are.

    Parameter names are those of the discrete float Program (``du``, ``dv``,
    ``v_threshold``, ``bias``, ...).
    """

    fixed = False
    dtype = np.float64

    # -- constants (once per run) ------------------------------------------------------
    def keep(self, params, key: str, offset: str | None = None, default: float = 1.0) -> np.ndarray:
        """``1 - d``: the fraction of a state kept per step (``offset`` is a hardware detail; unused)."""
        return 1.0 - params.get(key, default)

    def threshold(self, params) -> np.ndarray:
        """The spike threshold ``v_threshold`` in ``v`` units."""
        return params["v_threshold"]

    def bias(self, params, name: str) -> np.ndarray:
        """The per-step bias ``params[name]``."""
        return params[name]

    def value(self, params, key: str, default: float = 0.0):
        """A parameter used as it is (increments, reversal potentials)."""
        return params.get(key, default)

    # -- per-step operations -------------------------------------------------------------
    @staticmethod
    def decay(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """``x * keep`` (a new array)."""
        return x * keep

    @staticmethod
    def synaptic(a: np.ndarray) -> np.ndarray:
        """The synaptic input as it enters a state (float: unchanged)."""
        return a

    @staticmethod
    def wrap(x: np.ndarray, out: np.ndarray, counter, name: str) -> None:
        """``out[:] = x`` (float states do not wrap)."""
        out[...] = x

    @staticmethod
    def saturate(x: np.ndarray, counter, name: str, where=None) -> None:
        """Nothing: float states do not saturate."""

    @staticmethod
    def conductance_drive(acc: np.ndarray, dv: np.ndarray, g_shift, g_round) -> np.ndarray:
        r"""``dv * acc``: the leak-relative conductance current :math:`\sum g (E - v)` per step."""
        return dv * acc

    @staticmethod
    def product_drive(p: np.ndarray, factor: np.ndarray, shift, rnd) -> np.ndarray:
        """``factor * p``: a per-step coefficient times a product of states."""
        return factor * p


class LoihiArithmetic:
    """Loihi 2 integers (Lava ``PyLifModelBitAcc`` and neuroport's integer models).

    Parameters
    ----------
    hardware : neuroport.hardware.HardwareSpec
        Bit widths and shifts (``decay_bits``, ``du_offset``, ``dv_offset``,
        ``vth_shift``, ``act_shift``, ``state_max``).

    Parameter names are those of the fixed Program (``du``/``dv`` in
    [0, 4095], ``vth`` 17-bit mantissa, ``bias_mant``/``bias_exp``, ...).
    """

    fixed = True
    dtype = np.int64

    def __init__(self, hardware):
        self.hardware = hardware
        self.unity = float(hardware.decay_unity)
        self.act_shift = int(hardware.act_shift)
        self.max_uv = int(hardware.state_max)
        self.lim = int(hardware.state_max) - 1

    # -- constants (once per run) ------------------------------------------------------
    def keep(self, params, key: str, offset: str | None = None, default: int = 0) -> np.ndarray:
        """``(D - (d + o)) / D`` as float64 (exact binary fraction); ``offset`` names a HardwareSpec field."""
        d = np.asarray(params.get(key, default), dtype=np.int64)
        o = int(getattr(self.hardware, offset)) if offset else 0
        return (self.hardware.decay_unity - (d + o)) / self.unity

    def threshold(self, params) -> np.ndarray:
        """``vth << vth_shift`` (int64)."""
        return np.left_shift(np.asarray(params["vth"], dtype=np.int64), self.hardware.vth_shift)

    def bias(self, params, name: str) -> np.ndarray:
        """``{name}_mant << {name}_exp`` (int64)."""
        return np.left_shift(np.asarray(params.get(name + "_mant", 0), dtype=np.int64),
                             np.asarray(params.get(name + "_exp", 0), dtype=np.int64))

    def value(self, params, key: str, default: int = 0):
        """An integer parameter used as it is (increments, reversal potentials)."""
        return np.asarray(params.get(key, default), dtype=np.int64)

    # -- per-step operations -------------------------------------------------------------
    @staticmethod
    def decay(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """``K(x, d, o)`` as float64 holding the exact integer (see the module docstring)."""
        y = x * keep
        np.trunc(y, out=y)
        return y

    def synaptic(self, a: np.ndarray) -> np.ndarray:
        """``a << act_shift``: a Dense output as it enters ``u`` (or a conductance)."""
        return np.left_shift(a, self.act_shift)

    def wrap(self, x: np.ndarray, out: np.ndarray, counter, name: str) -> None:
        """``out[:] = wrap24(x)``; wraps are counted per member in ``counter[name]``."""
        m = self.max_uv
        if x.max(initial=0) <= m and x.min(initial=0) > -m:
            out[...] = x
            return
        hi = x > m
        lo = x <= -m
        counter.add(name, hi | lo)
        wrapped = np.where(hi, x - 2 * m, x)
        out[...] = np.where(wrapped <= -m, x + 2 * m, wrapped)

    def saturate(self, x: np.ndarray, counter, name: str, where=None) -> None:
        """``x = sat24(x)`` in place; values out of range (only ``where`` it is True, if given) are
        counted per member in ``counter[name]`` (``name=None``: not counted)."""
        lim = self.lim
        if x.max(initial=0) <= lim and x.min(initial=0) >= -lim:
            return
        if name is not None:
            over = (x > lim) | (x < -lim)
            if where is not None:
                over &= where
            counter.add(name, over)
        np.clip(x, -lim, lim, out=x)

    @staticmethod
    def conductance_drive(acc: np.ndarray, dv, g_shift: np.ndarray, g_round: np.ndarray) -> np.ndarray:
        """``(acc + 2**(F-1)) >> F``: the exact product sum rounded once (``dv`` is folded into ``G``)."""
        acc += g_round
        acc >>= g_shift
        return acc

    @staticmethod
    def product_drive(p: np.ndarray, factor: np.ndarray, shift: np.ndarray, rnd: np.ndarray) -> np.ndarray:
        """``(p * factor + 2**(shift-1)) >> shift``: ``factor / 2**shift`` (a 12-bit mantissa) times the
        exact product ``p`` (``|p| < 2**50``), rounded once."""
        acc = p * factor
        acc += rnd
        acc >>= shift
        return acc


#: The float64 arithmetic (stateless; one instance serves every engine).
FLOAT = FloatArithmetic()


def arithmetic_for(level: str, hardware=None):
    """The arithmetic of a Program ``level`` (``"discrete"`` -> :data:`FLOAT`, ``"fixed"`` -> Loihi)."""
    if level == "fixed":
        return LoihiArithmetic(hardware)
    return FLOAT


# -- kernel: the operations above on one neuron's scalars (compiled by models/jit.py) ------------
# ``fixed`` selects the arithmetic; ``m`` / ``lim`` are LoihiArithmetic's ``max_uv`` / ``lim``. A
# wrap of an intermediate width (e.g. Lava's int32 / 24-bit sums) is one more helper like these.
from neuroport.models.jit import njit  # noqa: E402


@njit(inline=True)
def k_decay(x, keep, fixed):
    """:meth:`LoihiArithmetic.decay` / :meth:`FloatArithmetic.decay` of one value."""
    y = x * keep
    if fixed:
        y = np.trunc(y)
    return y


@njit(inline=True)
def k_wrap(x, m, fixed):
    """``(wrap24(x), 1 if it wrapped else 0)`` (float: ``(x, 0)``), as :meth:`LoihiArithmetic.wrap`."""
    hit = 0
    if fixed:
        if x > m:
            x = x - 2 * m
            hit = 1
        elif x <= -m:
            x = x + 2 * m
            hit = 1
    return x, hit


@njit(inline=True)
def k_sat(x, lim, fixed):
    """``(sat24(x), 1 if it saturated else 0)`` (float: ``(x, 0)``), as :meth:`LoihiArithmetic.saturate`."""
    hit = 0
    if fixed:
        if x > lim:
            x = lim
            hit = 1
        elif x < -lim:
            x = -lim
            hit = 1
    return x, hit
