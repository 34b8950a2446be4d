"""Process models of :class:`~neuroport.backends.lava.processes.condlif.process.CondLIF`.

``PyCondLIFModelFloat`` (``floating_pt``) repeats
:meth:`neuroport.models.neurons.CondLIFModel.step_float` operation for
operation; ``PyCondLIFModelFixed`` (``fixed_pt``) the integer step of
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

from neuroport.backends.lava.processes._common import Typed, decay, fire, ints, sat24
from neuroport.backends.lava.processes.condlif.process import FIXED_PARAMS, FLOAT_PARAMS, PARAMS, CondLIF

_FLOAT_STATES = ("g_exc", "g_inh", "g_adapt", "v", "theta")


@implements(proc=CondLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyCondLIFModelFloat(PyLoihiProcessModel, metaclass=Typed, float_names=_FLOAT_STATES + FLOAT_PARAMS,
                          int_names=("refractory_left",) + tuple(k for k in PARAMS if k not in FLOAT_PARAMS)):
    """Float64 step of :class:`neuroport.models.neurons.CondLIFModel`."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_inh: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    def run_spk(self):
        pp = self.proc_params
        a_exc = self.a_in.recv()
        a_inh = self.a_inh.recv()
        ge, gi, v = self.g_exc, self.g_inh, self.v
        ge *= 1.0 - self.de
        ge += a_exc
        gi *= 1.0 - self.di
        gi += a_inh
        current = ge * (self.e_exc - v) + gi * (self.e_inh - v)
        if pp["has_adapt"]:
            ga = self.g_adapt
            ga *= 1.0 - self.da
            current += ga * (self.e_adapt - v)
        if pp["has_theta"]:
            self.theta *= 1.0 - self.theta_decay
        new_v = v * (1.0 - self.dv) + self.dv * current + self.bias
        if pp["has_ref"]:
            ref = self.refractory_left
            active = ref <= 0
            ref[~active] -= 1
            v[active] = new_v[active]
        else:
            v[:] = new_v
        threshold = self.vth + self.theta if pp["has_theta"] else self.vth
        spikes = fire(self, v, threshold, active if pp["has_ref"] else None, ("g_adapt", "b_adapt"),
                      subtract=pp["subtract"], refractory=pp["has_ref"], theta=pp["has_theta"],
                      adapting=pp["has_adapt"])
        self.s_out.send(spikes)


_INT_STATES = ("g_exc", "g_inh", "g_adapt", "v", "theta", "refractory_left")


@implements(proc=CondLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyCondLIFModelFixed(PyLoihiProcessModel, metaclass=Typed, int_names=_INT_STATES + FIXED_PARAMS,
                          float_names=tuple(k for k in PARAMS if k not in FIXED_PARAMS)):
    """Integer step of :class:`neuroport.models.fixed.CondLIFFixed` (steps 1 to 6 of its docstring)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int64)
    a_inh: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int64)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)

    def run_spk(self):
        pp = self.proc_params
        c = pp["consts"]
        bits, m, act = c["decay_bits"], c["state_max"], c["act_shift"]
        a_exc = ints(self.a_in.recv())
        a_inh = ints(self.a_inh.recv())
        # 1., 2. conductances (G format) saturate; 3. theta
        g_exc = sat24(decay(self.g_exc, self.de, 0, bits) + np.left_shift(a_exc, act), m)
        g_inh = sat24(decay(self.g_inh, self.di, 0, bits) + np.left_shift(a_inh, act), m)
        g_adapt = decay(self.g_adapt, self.da, 0, bits)
        self.g_exc[:], self.g_inh[:], self.g_adapt[:] = g_exc, g_inh, g_adapt
        self.theta[:] = decay(self.theta, self.theta_decay, 0, bits)
        # 5. the exact product sum with the previous v, rounded once (ties toward +inf)
        v = self.v
        acc = g_exc * (self.e_exc - v) + g_inh * (self.e_inh - v) + g_adapt * (self.e_adapt - v)
        f = int(self.g_shift[0]) if self.g_shift.size else 0
        drive = np.right_shift(acc + ((1 << (f - 1)) if f > 0 else 0), f)
        new_v = sat24(decay(v, self.dv, c["dv_offset"], bits) + drive + np.left_shift(self.bias_mant, self.bias_exp), m)
        # 4. refractory count-down (v held while counting)
        if pp["has_ref"]:
            ref = self.refractory_left
            active = ref == 0
            ref[~active] -= 1
            v[active] = new_v[active]
        else:
            v[:] = new_v
        # 6. threshold, reset, increments
        threshold = np.left_shift(self.vth, c["vth_shift"]) + self.theta
        spikes = fire(self, v, threshold, active if pp["has_ref"] else None, ("g_adapt", "b_adapt"),
                      subtract=pp["subtract"], state_max=m)
        self.s_out.send(spikes.astype(np.int32))
