"""Process models of :class:`~neuroport.backends.lava.processes.depression.process.Depression`.

``PyDepressionModelFloat`` (``floating_pt``) and ``PyDepressionModelFixed``
(``fixed_pt``) run the rules of :mod:`neuroport.models.depression`, the ones
the numpy engines run. CPU only.
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
from neuroport.models.depression import DepressionFixed, DepressionFloat
from neuroport.backends.lava.processes.depression.process import FIXED_PARAMS, FLOAT_PARAMS, PARAMS, Depression


@implements(proc=Depression, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyDepressionModelFloat(PyLoihiProcessModel, metaclass=Typed, float_names=("x",) + FLOAT_PARAMS,
                             int_names=tuple(k for k in PARAMS if k not in FLOAT_PARAMS)):
    """Float64 Tsodyks-Markram recovery and release (:class:`neuroport.models.depression.DepressionFloat`)."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    def run_spk(self):
        DepressionFloat.recover(self.x, self.recover)
        self.a_out.send(DepressionFloat.release(self.s_in.recv(), self.x, self.u_se))


@implements(proc=Depression, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyDepressionModelFixed(PyLoihiProcessModel, metaclass=Typed, int_names=("x",) + FIXED_PARAMS,
                             float_names=tuple(k for k in PARAMS if k not in FIXED_PARAMS)):
    """Integer rule of :class:`neuroport.models.depression.DepressionFixed`; sends the payload as int64
    (the connection process's dot product then cannot overflow 32 bits)."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int64)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int64, precision=24)

    def run_spk(self):
        bits = self.proc_params["consts"]["bits"]
        c = {"bits": bits, "unity": 1 << bits, "recover": self.recover, "u_se": self.u_se}
        DepressionFixed.recover(self.x, c)
        idx = np.flatnonzero(self.s_in.recv())
        values = np.zeros(self.x.shape, dtype=np.int64)
        if idx.size:
            values[idx] = DepressionFixed.release(self.x, idx, c)
        self.a_out.send(values)
