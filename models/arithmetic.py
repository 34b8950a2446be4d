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
    wrap32(x)  = ((x + 2**31) mod 2**32) - 2**31                  (int32 two's complement, word_bits)

Lava's own ``LIF`` (``PyLifModelBitAcc``) computes in int32 numpy arrays, and
every ``Dense`` / ``DelayDense`` sends its output through an int32 channel
(``a_out``: the exact int64 sum, floored by ``weight_exp``, is cast, i.e.
wrapped). So for the populations that run on Lava's LIF (the plain LIF family:
:attr:`neuroport.models.lif.LIFFamily.int32_datapath`) one step is, exactly::

    a   = wrap32(sum of the Dense outputs)          the int32 port sum (modular: = wrap32 of the exact sum)
    x   = K(u, du, 1) + (a << 6)                    exact in int64; ``u_wraps`` counts x outside (-M, M]
    u   = wrap24(wrap32(x))                          one two-where pass: |x| > 3M can stay outside 24 bits
    y   = K(v, dv, 0) + u + bias                     exact; ``int32_wraps`` counts a << 6, x or y outside int32
    v   = sat24(wrap32(y))                           ``v_saturations`` counts wrap32(y) outside +-(M - 1)

(:meth:`LoihiArithmetic.lif_current`, :meth:`LoihiArithmetic.word`).
neuroport's own processes (``ALIF``, ``CondLIF``) receive each Dense output
wrapped to int32 but add the ports and run their step in int64: numpy-fixed
does not wrap their summed input (bit-exact while no single projection's
per-step output leaves int32, which :func:`neuroport.quantize` checks and
refuses in strict mode).
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
        self.word_half = 1 << (int(hardware.word_bits) - 1)

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

    def word(self, x: np.ndarray) -> np.ndarray:
        """``wrap32(x)``: int64 holding Lava's int32 value (``x`` float64 holding integers is accepted);
        ``x`` itself (as int64) when nothing leaves int32."""
        x = np.asarray(x)
        if x.dtype != np.int64:
            x = x.astype(np.int64)
        half = self.word_half
        if x.max(initial=0) < half and x.min(initial=0) >= -half:
            return x
        return ((x + half) & (2 * half - 1)) - half

    def lif_current(self, decayed: np.ndarray, a: np.ndarray) -> tuple:
        """Lava LIF's ``u`` sum in its int32 datapath: ``(wrap32(exact), exact, wide)``.

        ``exact = decayed + (wrap32(a) << 6)`` in int64 (``u_wraps`` is counted
        on it); ``wide`` is None, or a bool array marking where ``a << 6`` or the
        sum left int32 (``int32_wraps``)."""
        act = self.synaptic(self.word(a))
        exact = decayed.astype(np.int64)
        exact += act
        x = self.word(exact)
        act32 = self.word(act)
        wide = None
        if x is not exact or act32 is not act:
            wide = (x != exact) | (act32 != act)
        return x, exact, wide

    def wrap(self, x: np.ndarray, out: np.ndarray, counter, name: str, exact=None) -> None:
        """``out[:] = wrap24(x)``; wraps are counted per member in ``counter[name]``, where ``exact``
        (default ``x``: the unbounded value) leaves ``(-M, M]``."""
        m = self.max_uv
        exact = x if exact is None else exact
        if exact.max(initial=0) <= m and exact.min(initial=0) > -m:
            out[...] = x
            return
        counter.add(name, (exact > m) | (exact <= -m))
        hi = x > m
        lo = x <= -m
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
