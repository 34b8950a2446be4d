"""``ALIF``: current-based LIF with refractoriness, adaptive threshold, adaptation current
and an optional second (inhibitory) synaptic current, as one Lava process.

It runs three kinds of neuroport population (``lowering.process_kind``):
``alif`` (``neuroport.AdaptiveLIF``), and LIF-family populations that Lava's
``LIF`` cannot run (``refractory > 0``, ``reset="subtract"``, ``u_bias != 0``).
Every parameter is one value per neuron, so a population is never split.

Float step (``models.PyALIFModelFloat``, :class:`neuroport.models.adaptive_lif.AdaptiveLIF`)::

    u     = u * (1 - du) + a_in                 u_inh = u_inh * (1 - du_inh) + a_inh   (two_port)
    drive = u - u_inh (two_port; before u_bias)  or  u + u_bias (one port);  u += u_bias
    w     = w * (1 - w_decay);  drive -= w       theta = theta * (1 - theta_decay)
    v     = v * (1 - dv) + drive + bias          (only where refractory_left <= 0, else it counts down)
    spike = v > vth + theta -> v = 0 (or v -= vth + theta), refractory_left = refractory,
            theta += theta_plus, w += w_plus

The fixed-point model (``fixed_pt``) is
:class:`neuroport.models.adaptive_lif.AdaptiveLIF`'s step in Loihi integers (24-bit
``u``/``u_inh`` wrap, every other state saturates, decays round toward zero).
Lava has no Loihi 2 microcode for this process: it runs in Lava's CPU
simulator only (``loihi2`` refuses it).
"""

from __future__ import annotations

import typing as ty

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var

#: State variables (shape ``(n,)``), in the order the models update them.
STATES = ("u", "u_inh", "w", "v", "theta", "refractory_left")
#: Per-neuron parameters of the float model.
FLOAT_PARAMS = ("du", "du_inh", "dv", "bias", "u_bias", "vth", "refractory", "theta_decay", "theta_plus",
                "w_decay", "w_plus")
#: Per-neuron integer parameters of the fixed-point model (see ``models.PyALIFModelFixed``).
FIXED_PARAMS = ("du", "du_inh", "dv", "theta_decay", "w_decay", "vth", "bias_mant", "bias_exp", "u_bias_mant",
                "u_bias_exp", "refractory", "theta_plus", "w_plus")
PARAMS = tuple(dict.fromkeys(FLOAT_PARAMS + FIXED_PARAMS))


class ALIF(AbstractProcess):
    """Adaptive LIF population (see the module docstring).

    Parameters
    ----------
    shape : tuple of int
        ``(n,)``.
    population : neuroport.program.Population
        The Program's population; its model's ``constants`` (``neuroport.models``) are read from it.
    params : dict of str -> array (n,)
        Model parameters (float model: :data:`FLOAT_PARAMS`; fixed model: the
        integer fields :data:`FIXED_PARAMS` of the fixed Program). Missing ones are 0.
    init : dict of str -> array (n,)
        Initial states (:data:`STATES`); missing ones are 0.
    fixed : bool
        Integer Vars (the ``fixed_pt`` model) instead of float ones.
    hardware : neuroport.hardware.HardwareSpec, optional
        Bit widths of a fixed Program (the ``fixed_pt`` model's arithmetic).

    Ports: ``a_in`` (synaptic input; the excitatory one for two-port
    populations), ``a_inh`` (inhibitory magnitudes, two-port only),
    ``s_out`` (spikes).
    """

    def __init__(self, *, shape: ty.Tuple[int, ...], population, params: dict, init: dict, fixed: bool = False,
                 hardware=None, name: ty.Optional[str] = None) -> None:
        names = FIXED_PARAMS if fixed else FLOAT_PARAMS
        unknown = set(params) - set(names)
        if unknown:
            raise ValueError(f"ALIF: unknown parameter(s) {sorted(unknown)}; expected {names}")
        # every process holds the Vars of both models (the unused ones stay 0): a Lava
        # model must declare exactly its process's Vars
        super().__init__(shape=shape, name=name, population=population, hardware=hardware)
        self.a_in = InPort(shape=shape)
        self.a_inh = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        dtype = np.int64 if fixed else np.float64
        for key in STATES:
            setattr(self, key, Var(shape=shape, init=np.asarray(init.get(key, np.zeros(shape)), dtype=dtype)))
        for key in PARAMS:
            setattr(self, key, Var(shape=shape, init=np.asarray(params.get(key, np.zeros(shape)), dtype=dtype)))
