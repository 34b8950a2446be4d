"""The Lava process shape every neuroport neuron process shares (``ALIF``, ``CondLIF``).

Kept apart from the process models (``_common.py``): Lava imports every
module of a process's package while it searches for models.
"""

from __future__ import annotations

import typing as ty

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var


#: Overflow counters of the population (:func:`neuroport.models.base.empty_counters`), one value each.
COUNTERS = ("u_wraps", "v_saturations", "int32_wraps")
#: Prefix of the counter Var of each other state's saturations (``saturations[state]``): ``sat_g_exc``.
SATURATION_PREFIX = "sat_"


def saturation_vars(states) -> tuple:
    """The saturation counter Vars of a process with state Vars ``states``."""
    return tuple(SATURATION_PREFIX + s for s in states)


class NeuronProcess(AbstractProcess):
    """A population running a neuroport model's step; subclasses name ``STATES`` and the parameters.

    Every process holds the Vars of both of its models (the unused ones stay
    0): a Lava model must declare exactly its process's Vars. Ports: ``a_in``
    (synaptic input; the excitatory one for two-port populations), ``a_inh``
    (inhibitory magnitudes), ``s_out`` (spikes). The Vars :data:`COUNTERS`
    hold the step's overflow counts, and ``sat_<state>`` (:func:`saturation_vars`) the saturations
    of each other state (e.g. CondLIF's conductances), as numpy-fixed counts them (read by
    ``lava-fixed``'s result).
    """

    STATES: tuple = ()
    FLOAT_PARAMS: tuple = ()
    FIXED_PARAMS: tuple = ()

    def __init__(self, *, shape: ty.Tuple[int, ...], population, params: dict, init: dict, fixed: bool = False,
                 hardware=None, name: ty.Optional[str] = None) -> None:
        names = self.FIXED_PARAMS if fixed else self.FLOAT_PARAMS
        unknown = set(params) - set(names)
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown parameter(s) {sorted(unknown)}; expected {names}")
        super().__init__(shape=shape, name=name, population=population, hardware=hardware)
        self.a_in = InPort(shape=shape)
        self.a_inh = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        dtype = np.int64 if fixed else np.float64
        for key in self.STATES:
            setattr(self, key, Var(shape=shape, init=np.asarray(init.get(key, np.zeros(shape)), dtype=dtype)))
        for key in dict.fromkeys(self.FLOAT_PARAMS + self.FIXED_PARAMS):
            setattr(self, key, Var(shape=shape, init=np.asarray(params.get(key, np.zeros(shape)), dtype=dtype)))
        for key in COUNTERS + saturation_vars(self.STATES):  # overflow counters (fixed point; stay 0 in float)
            setattr(self, key, Var(shape=(1,), init=np.zeros(1, dtype=np.int64)))
