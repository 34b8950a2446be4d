"""Process models of :class:`~neuroport.backends.lava.processes.depression.process.Depression`.

``PyDepressionModelFloat`` (``floating_pt``) repeats the numpy engine's
recovery and ``Engine._depress`` operation for operation;
``PyDepressionModelFixed`` (``fixed_pt``) the integer rule of
:mod:`neuroport.models.fixed`. CPU only.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from neuroport.backends.lava.processes._common import Typed
from neuroport.backends.lava.processes.depression.process import FIXED_PARAMS, FLOAT_PARAMS, PARAMS, Depression


@implements(proc=Depression, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyDepressionModelFloat(PyLoihiProcessModel, metaclass=Typed, float_names=("x",) + FLOAT_PARAMS,
                             int_names=tuple(k for k in PARAMS if k not in FLOAT_PARAMS)):
    """Float64 Tsodyks-Markram release, as ``neuroport.backends.numpy.Engine``."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    def run_spk(self):
        x = self.x
        x += (1.0 - x) * self.recover
        out = self.s_in.recv()
        idx = np.flatnonzero(out)
        values = np.zeros(out.shape, dtype=np.float64)
        if idx.size:
            released = self.u_se[idx] * x[idx] * out[idx]
            x[idx] -= self.u_se[idx] * x[idx]
            values[idx] = released
        self.a_out.send(values)


@implements(proc=Depression, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyDepressionModelFixed(PyLoihiProcessModel, metaclass=Typed, int_names=("x",) + FIXED_PARAMS,
                             float_names=tuple(k for k in PARAMS if k not in FIXED_PARAMS)):
    """Integer rule of :class:`neuroport.models.fixed.DepressionFixed`; sends the payload as int64
    (the connection process's dot product then cannot overflow 32 bits)."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int64)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int64, precision=24)

    def run_spk(self):
        bits = self.proc_params["consts"]["bits"]
        unity = 1 << bits
        x = self.x
        x[:] = unity - np.right_shift((unity - x) * (unity - self.recover), bits)
        out = self.s_in.recv()
        idx = np.flatnonzero(out)
        values = np.zeros(x.shape, dtype=np.int64)
        if idx.size:
            released = np.right_shift(self.u_se[idx] * x[idx], bits)
            x[idx] -= released
            values[idx] = released
        self.a_out.send(values)
