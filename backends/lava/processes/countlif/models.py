"""``fixed_pt`` model of :class:`~neuroport.backends.lava.processes.countlif.process.CountingLIF`.

Lava's ``PyLifModelBitAcc`` (lava-nc 0.10, ``lava/proc/lif/models.py``) computes
in int32 arrays: ``a_in`` arrives as int32 (the Dense ``a_out`` channel), and
``a_in << 6``, ``decayed u + (a_in << 6)`` and ``decayed v + u + bias`` wrap at
32 bits before ``u`` wraps (one two-where pass) and ``v`` saturates at 24 bits.
This subclass runs that step unchanged (``super().subthr_dynamics``) and,
before it, recomputes the same sums exactly in int64 from the Vars, counting
per neuron where they leave their ranges. The decays use the formula written
in Lava's source (``sign(x) * (|x * (4096 - d)| >> 12)``), independently of
:mod:`neuroport.models.arithmetic`.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.lif.models import PyLifModelBitAcc

from neuroport.backends.lava.processes.countlif.process import COUNTERS, CountingLIF

_HALF32 = 1 << 31


def _decayed(x, d: int, unity: int, shift: int) -> np.ndarray:
    p = np.asarray(x, dtype=np.int64) * (unity - d)
    return np.sign(p) * (np.abs(p) >> shift)


def _outside32(x) -> np.ndarray:
    return (x >= _HALF32) | (x < -_HALF32)


def _wrap32(x) -> np.ndarray:
    return ((x + _HALF32) & (2 * _HALF32 - 1)) - _HALF32


class _Unbound(PyLifModelBitAcc):
    # Lava's decorators refuse to re-target a subclass of a decorated model: start unbound
    implements_process = None
    implements_protocol = None
    required_resources = []
    tags = []


@implements(proc=CountingLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PyCountingLifModelBitAcc(_Unbound):
    """Lava's bit-accurate LIF step plus the overflow counters."""

    u_wraps: np.ndarray = LavaPyType(np.ndarray, np.int64)
    v_low: np.ndarray = LavaPyType(np.ndarray, np.int64)
    v_high: np.ndarray = LavaPyType(np.ndarray, np.int64)
    int32_wraps: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def subthr_dynamics(self, activation_in: np.ndarray):
        m = self.max_uv_val
        act = np.asarray(activation_in, dtype=np.int64) << self.act_shift
        x = _decayed(self.u, self.du + self.ds_offset, self.decay_unity, self.decay_shift) + act
        dec_v = _decayed(self.v, self.dv + self.dm_offset, self.decay_unity, self.decay_shift)
        super().subthr_dynamics(activation_in)
        y = dec_v + self.u.astype(np.int64) + np.asarray(self.effective_bias, dtype=np.int64)
        self.u_wraps += (x > m) | (x <= -m)
        self.int32_wraps += _outside32(act) | _outside32(x) | _outside32(y)
        y = _wrap32(y)
        self.v_low += y < -(m - 1)
        self.v_high += y > m - 1
