"""Shared pieces of neuroport's process models: Var declarations, and the ``run_spk`` that
runs a neuroport neuron model's one step (:mod:`neuroport.models`) on the process's Vars.

The ALIF and CondLIF process models do not keep a copy of the step: they hand
their Vars to the same code the numpy engines run, in float64
(``floating_pt``) or in Loihi integers (``fixed_pt``). What stays independent
of neuroport is Lava's own ``LIF``/``Dense``/``DelayDense`` (the LIF family and
every projection), which the equivalence tests compare against.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.type import LavaPyType

from neuroport.backends.lava.processes._neuron_process import COUNTERS, SATURATION_PREFIX, saturation_vars
from neuroport.models import neurons
from neuroport.models.arithmetic import FLOAT, LoihiArithmetic


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


def ints(a) -> np.ndarray:
    return np.asarray(a).astype(np.int64)


class ModelStep:
    """Mixin of a process model: ``run_spk`` is the neuroport model's step on this process's Vars.

    The process's ``proc_params`` carry ``population`` (the Program's
    :class:`~neuroport.program.Population`, which the model's ``constants``
    read), ``fixed`` and ``hardware`` (the HardwareSpec of a fixed Program).
    Each step copies the state Vars into the model's block, steps, and copies
    them back, so Lava's Vars always hold the model's state.
    """

    fixed_point = False
    spike_dtype = bool

    def _block(self):
        blk = getattr(self, "_neuroport_block", None)
        if blk is None:
            pp = self.proc_params
            ar = LoihiArithmetic(pp["hardware"]) if self.fixed_point else FLOAT
            blk = self._neuroport_block = neurons.block(pp["population"], ar)
        return blk

    def run_spk(self):
        blk = self._block()
        names = blk.model.state_names
        for var in names:
            blk.state[var][...] = getattr(self, var)
        a_exc, a_inh = self.a_in.recv(), self.a_inh.recv()
        if self.fixed_point:
            a_exc, a_inh = ints(a_exc), ints(a_inh)
        fired = blk.step(a_exc, a_inh)
        for var in names:
            getattr(self, var)[...] = blk.state[var]
        counts = blk.counters[0]
        for var in COUNTERS:
            getattr(self, var)[...] = counts.get(var, 0)
        for var, n in counts["saturations"].items():
            getattr(self, SATURATION_PREFIX + var)[...] = n
        if not blk.any["spiking"]:
            fired[...] = False
        self.s_out.send(fired.astype(self.spike_dtype))


def model_pair(proc, states, float_params, fixed_params, params, module: str):
    """The ``floating_pt`` and ``fixed_pt`` process models of a neuroport neuron process ``proc``.

    Lava finds a process's models among the module-level classes of the
    ``models.py`` beside it: assign both there. Every Var of the process is
    declared (Lava requires exactly its process's Vars): states and the
    model's own parameters in its precision, the other model's parameters as
    the other type. ``module`` is the calling module's ``__name__``: Lava keeps
    only classes whose ``__module__`` is the module it executed.
    """
    from lava.magma.core.decorator import implements, requires, tag
    from lava.magma.core.model.py.ports import PyInPort, PyOutPort
    from lava.magma.core.resources import CPU
    from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

    int_states = ("refractory_left",)
    float_ns = {"a_in": LavaPyType(PyInPort.VEC_DENSE, float), "a_inh": LavaPyType(PyInPort.VEC_DENSE, float),
                "s_out": LavaPyType(PyOutPort.VEC_DENSE, float),
                "__doc__": f"The {proc.__name__} step of neuroport.models in float64.",
                "__module__": module}
    fixed_ns = {"a_in": LavaPyType(PyInPort.VEC_DENSE, np.int64), "a_inh": LavaPyType(PyInPort.VEC_DENSE, np.int64),
                "s_out": LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24),
                "fixed_point": True, "spike_dtype": np.int32,
                "__doc__": f"The {proc.__name__} step of neuroport.models in Loihi integers.",
                "__module__": float_ns["__module__"]}
    floating = Typed(f"Py{proc.__name__}ModelFloat", (ModelStep, PyLoihiProcessModel), float_ns,
                     float_names=tuple(s for s in states if s not in int_states) + float_params,
                     int_names=int_states + tuple(k for k in params if k not in float_params) + COUNTERS
                     + saturation_vars(states))
    fixed = Typed(f"Py{proc.__name__}ModelFixed", (ModelStep, PyLoihiProcessModel), fixed_ns,
                  int_names=tuple(states) + fixed_params + COUNTERS + saturation_vars(states),
                  float_names=tuple(k for k in params if k not in fixed_params))
    decorate = (implements(proc=proc, protocol=LoihiProtocol), requires(CPU))
    for cls, precision in ((floating, "floating_pt"), (fixed, "fixed_pt")):
        for d in decorate + (tag(precision),):
            cls = d(cls)
    return floating, fixed
