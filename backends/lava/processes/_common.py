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
