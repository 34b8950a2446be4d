"""Shared pieces of neuroport's process models: Var declarations and the integer operations
of :mod:`neuroport.models.fixed` (``trunc0``, ``wrap24``, ``sat24``), written out again
here so that the Lava models are an independent implementation of the documented steps."""

from __future__ import annotations

import numpy as np
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.type import LavaPyType


class Typed(type(PyLoihiProcessModel)):
    """Declares the Vars named in the class keywords: ``float_names`` as float64,
    ``int_names`` as int64 (a Lava model must declare exactly its process's Vars)."""

    def __new__(mcs, name, bases, ns, float_names=(), int_names=()):
        for key in float_names:
            ns.setdefault(key, LavaPyType(np.ndarray, float))
        for key in int_names:
            ns.setdefault(key, LavaPyType(np.ndarray, np.int64))
        return super().__new__(mcs, name, bases, ns)

    def __init__(cls, name, bases, ns, float_names=(), int_names=()):
        super().__init__(name, bases, ns)


def trunc0(x: np.ndarray, shift: int) -> np.ndarray:
    """``x / 2**shift`` rounded toward zero (Lava: ``sign(x) * (|x| >> shift)``)."""
    q = np.right_shift(np.abs(x), shift)
    return np.where(x < 0, -q, q)


def decay(x: np.ndarray, d: np.ndarray, offset: int, bits: int) -> np.ndarray:
    """``K(x, d, o) = trunc0(x * (2**bits - (d + o)))``."""
    return trunc0(x * ((1 << bits) - (d + offset)), bits)


def wrap24(x: np.ndarray, m: int) -> np.ndarray:
    """Lava's two-``where`` wrap of ``u``: ``x - 2m`` above ``m``, then ``x + 2m`` at or below ``-m``."""
    first = np.where(x > m, x - 2 * m, x)
    return np.where(first <= -m, x + 2 * m, first)


def sat24(x: np.ndarray, m: int) -> np.ndarray:
    """``clip(x, -(m - 1), m - 1)``."""
    return np.clip(x, -(m - 1), m - 1)


def ints(a) -> np.ndarray:
    return np.asarray(a).astype(np.int64)


def fire(model, v: np.ndarray, threshold: np.ndarray, active, adapt: tuple, *, subtract: bool,
         state_max: int | None = None, refractory: bool = True, theta: bool = True,
         adapting: bool = True) -> np.ndarray:
    """Step 6 shared by the ALIF and CondLIF models: threshold, reset, spike-triggered increments.

    ``active`` masks out neurons refractory this step (``None``: no refractory period);
    ``adapt`` names the adaptation state and its increment (``("w", "w_plus")``,
    ``("g_adapt", "b_adapt")``); ``state_max`` saturates the results (fixed point, ``sat24``),
    ``None`` leaves them as they are (float). The flags skip increments a population does not use.
    Returns the boolean spike vector; ``v`` and the model's states change in place.
    """
    spikes = v > threshold
    if active is not None:
        spikes &= active
    if spikes.any():
        def keep(x):
            return x if state_max is None else sat24(x, state_max)

        v[spikes] = keep(v[spikes] - threshold[spikes]) if subtract else 0
        if refractory:
            model.refractory_left[spikes] = model.refractory[spikes]
        if theta:
            model.theta[spikes] = keep(model.theta[spikes] + model.theta_plus[spikes])
        if adapting:
            state, increment = getattr(model, adapt[0]), getattr(model, adapt[1])
            state[spikes] = keep(state[spikes] + increment[spikes])
    return spikes
