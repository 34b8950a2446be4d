"""``CountingLIF``: Lava's ``LIF`` process plus per-neuron overflow counters (``lava-fixed`` only).

Its process model (``models.py`` beside it) is Lava's own ``PyLifModelBitAcc``
step, unchanged; before each step it counts what that step's 24- and 32-bit
arithmetic is about to wrap or saturate, so that ``lava-fixed`` reports the
same ``u_wraps`` / ``v_saturations`` / ``int32_wraps`` as ``numpy-fixed``
(:func:`neuroport.backends.numpy_fixed.overflow_meta`).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.variable import Var
from lava.proc.lif.process import LIF

#: Per-neuron counters: u left 24 bits; wrap32(v sum) below / above +-(2**23 - 1); a 32-bit wrap.
COUNTERS = ("u_wraps", "v_low", "v_high", "int32_wraps")


class CountingLIF(LIF):
    """Lava's ``LIF`` (same Vars, ports and arguments) with the int64 counter Vars :data:`COUNTERS`."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        shape = kwargs["shape"]
        for name in COUNTERS:
            setattr(self, name, Var(shape=shape, init=np.zeros(shape, dtype=np.int64)))
