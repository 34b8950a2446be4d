"""Process models of :class:`~neuroport.backends.lava.processes.alif.process.ALIF`.

``PyALIFModelFloat`` (tag ``floating_pt``) repeats
:meth:`neuroport.models.neurons.AdaptiveLIFModel.step_float` (and the LIF
family's step, for the populations lowered onto this process) operation for
operation, so that float64 results equal the numpy engine's. ``PyALIFModelFixed``
(tag ``fixed_pt``) repeats the integer step of :mod:`neuroport.models.fixed`.
Both run on Lava's CPU simulator only.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from neuroport.backends.lava.processes._common import Typed, decay, fire, ints, sat24, wrap24
from neuroport.backends.lava.processes.alif.process import ALIF, FIXED_PARAMS, FLOAT_PARAMS, PARAMS


_FLOAT_STATES = ("u", "u_inh", "w", "v", "theta")


@implements(proc=ALIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyALIFModelFloat(PyLoihiProcessModel, metaclass=Typed, float_names=_FLOAT_STATES + FLOAT_PARAMS,
                       int_names=("refractory_left",) + tuple(k for k in PARAMS if k not in FLOAT_PARAMS)):
    """Float64 step of :class:`neuroport.models.neurons.AdaptiveLIFModel`."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_inh: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    def run_spk(self):
        pp = self.proc_params
        a_exc = self.a_in.recv()
        a_inh = self.a_inh.recv()
        u = self.u
        u *= 1.0 - self.du
        u += a_exc
        u += self.u_bias
        if pp["two_port"]:
            self.u_inh *= 1.0 - self.du_inh
            self.u_inh += a_inh
            drive = u - self.u_inh
        else:
            drive = u.copy()
        if pp["has_w"]:
            self.w *= 1.0 - self.w_decay
            drive = drive - self.w
        if pp["has_theta"]:
            self.theta *= 1.0 - self.theta_decay
        new_v = self.v * (1.0 - self.dv) + drive + self.bias
        if pp["has_ref"]:
            ref = self.refractory_left
            active = ref <= 0
            ref[~active] -= 1
            self.v[active] = new_v[active]
        else:
            self.v[:] = new_v
        if not pp["spiking"]:  # a non-spiking LIF-family read-out (u_bias): no spikes, no reset
            self.s_out.send(np.zeros(self.v.shape, dtype=bool))
            return
        threshold = self.vth + self.theta if pp["has_theta"] else self.vth
        spikes = fire(self, self.v, threshold, active if pp["has_ref"] else None, ("w", "w_plus"),
                      subtract=pp["subtract"], refractory=pp["has_ref"], theta=pp["has_theta"],
                      adapting=pp["has_w"])
        self.s_out.send(spikes)


_INT_STATES = ("u", "u_inh", "w", "v", "theta", "refractory_left")


@implements(proc=ALIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyALIFModelFixed(PyLoihiProcessModel, metaclass=Typed, int_names=_INT_STATES + FIXED_PARAMS,
                       float_names=tuple(k for k in PARAMS if k not in FIXED_PARAMS)):
    """Integer step of :class:`neuroport.models.fixed.AdaptiveLIFFixed` (steps 1 to 6 of its docstring)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int64)
    a_inh: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int64)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)

    def run_spk(self):
        pp = self.proc_params
        c = pp["consts"]
        bits, m, act = c["decay_bits"], c["state_max"], c["act_shift"]
        a_exc = ints(self.a_in.recv())
        a_inh = ints(self.a_inh.recv())
        # 1. synaptic currents wrap at 24 bit, as Lava's u
        u = wrap24(decay(self.u, self.du, c["du_offset"], bits) + np.left_shift(a_exc, act)
                   + np.left_shift(self.u_bias_mant, self.u_bias_exp), m)
        self.u[:] = u
        drive = u
        if pp["two_port"]:
            u_inh = wrap24(decay(self.u_inh, self.du_inh, c["du_offset"], bits) + np.left_shift(a_inh, act), m)
            self.u_inh[:] = u_inh
            drive = drive - u_inh
        # 2., 3. adaptation current and threshold decay
        self.w[:] = decay(self.w, self.w_decay, 0, bits)
        drive = drive - self.w
        self.theta[:] = decay(self.theta, self.theta_decay, 0, bits)
        # 4., 5. refractory count-down; v where active
        new_v = sat24(decay(self.v, self.dv, c["dv_offset"], bits) + drive
                      + np.left_shift(self.bias_mant, self.bias_exp), m)
        if pp["has_ref"]:
            ref = self.refractory_left
            active = ref == 0
            ref[~active] -= 1
            self.v[active] = new_v[active]
        else:
            self.v[:] = new_v
        if not pp["spiking"]:
            self.s_out.send(np.zeros(self.v.shape, dtype=np.int32))
            return
        # 6. threshold, reset, increments
        threshold = np.left_shift(self.vth, c["vth_shift"]) + self.theta
        spikes = fire(self, self.v, threshold, active if pp["has_ref"] else None, ("w", "w_plus"),
                      subtract=pp["subtract"], state_max=m)
        self.s_out.send(spikes.astype(np.int32))
