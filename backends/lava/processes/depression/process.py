"""``Depression``: Tsodyks-Markram short-term depression of a population's spikes, as a
Lava process placed between the source and its connection process(es).

Each channel ``j`` keeps a resource ``x_j`` (1 at rest). Per step, as the
numpy engine (``Engine.advance`` / ``Engine._depress``)::

    x = x + (1 - x) * recover          (every channel, before the step's spikes)
    y = u_se * x * s                   (s: the source's output this step, 0/1 or graded)
    x = x - u_se * x                   (where s != 0)

and sends ``y`` as a graded message to the projection's ``Dense`` /
``DelayDense`` (which must take ``num_message_bits > 0``). It receives and
sends in the same step (no added latency), so the projection keeps its
Program delay. One process serves every projection of one source that shares
the same ``neuroport.Depression`` node. The fixed-point model (``fixed_pt``)
is :class:`neuroport.models.depression.DepressionFixed` (``X = 2**bits``)::

    x = X - (((X - x) * (X - recover)) >> bits)        # every channel, start of the step
    r = (u_se * x) >> bits;  x = x - r                 # spiking channels; r is the graded payload CPU only (``loihi2`` refuses it).
"""

from __future__ import annotations

import typing as ty

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var

STATES = ("x",)
FLOAT_PARAMS = ("recover", "u_se")
#: Per-channel integer parameters of the fixed-point model (fractions of ``2**bits``).
FIXED_PARAMS = ("recover", "u_se")
PARAMS = tuple(dict.fromkeys(FLOAT_PARAMS + FIXED_PARAMS))


class Depression(AbstractProcess):
    """Short-term depression of ``shape`` channels (see the module docstring).

    Parameters
    ----------
    shape : tuple of int
    params : dict of str -> array
        :data:`FLOAT_PARAMS` or :data:`FIXED_PARAMS`.
    init : dict of str -> array
        Initial resources ``x`` (default: 1 in float; the fixed model's unity in fixed point).
    fixed : bool
    consts : dict, optional

    Ports: ``s_in`` (the source's spikes), ``a_out`` (graded, to the connection process).
    """

    def __init__(self, *, shape: ty.Tuple[int, ...], params: dict, init: dict, fixed: bool = False,
                 consts: ty.Optional[dict] = None, name: ty.Optional[str] = None) -> None:
        names = FIXED_PARAMS if fixed else FLOAT_PARAMS
        unknown = set(params) - set(names)
        if unknown:
            raise ValueError(f"Depression: unknown parameter(s) {sorted(unknown)}; expected {names}")
        super().__init__(shape=shape, name=name, consts=dict(consts or {}))
        self.s_in = InPort(shape=shape)
        self.a_out = OutPort(shape=shape)
        dtype = np.int64 if fixed else np.float64
        self.x = Var(shape=shape, init=np.asarray(init["x"], dtype=dtype))
        for key in PARAMS:
            setattr(self, key, Var(shape=shape, init=np.asarray(params.get(key, np.zeros(shape)), dtype=dtype)))
