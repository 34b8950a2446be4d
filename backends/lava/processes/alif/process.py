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

from neuroport.backends.lava.processes._neuron_process import NeuronProcess

#: State variables (shape ``(n,)``), in the order the models update them.
STATES = ("u", "u_inh", "w", "v", "theta", "refractory_left")
#: Per-neuron parameters of the float model.
FLOAT_PARAMS = ("du", "du_inh", "dv", "bias", "u_bias", "vth", "refractory", "theta_decay", "theta_plus",
                "w_decay", "w_plus")
#: Per-neuron integer parameters of the fixed-point model (see ``models.PyALIFModelFixed``).
FIXED_PARAMS = ("du", "du_inh", "dv", "theta_decay", "w_decay", "vth", "bias_mant", "bias_exp", "u_bias_mant",
                "u_bias_exp", "refractory", "theta_plus", "w_plus")
PARAMS = tuple(dict.fromkeys(FLOAT_PARAMS + FIXED_PARAMS))


class ALIF(NeuronProcess):
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

    STATES, FLOAT_PARAMS, FIXED_PARAMS = STATES, FLOAT_PARAMS, FIXED_PARAMS
