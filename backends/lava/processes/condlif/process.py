"""``CondLIF``: conductance-based LIF (COBA) with refractoriness, adaptation conductance
and adaptive threshold, as one Lava process.

Conductances are relative to the leak conductance; reversal potentials are
shifted by ``v_reset`` like ``v`` (:class:`neuroport.models.cond_lif.CondLIF`).
Float step (``models.PyCondLIFModelFloat``)::

    g_exc = g_exc * (1 - de) + a_in            g_inh = g_inh * (1 - di) + a_inh
    I     = g_exc (e_exc - v) + g_inh (e_inh - v)  [+ g_adapt (e_adapt - v), g_adapt = g_adapt * (1 - da)]
    theta = theta * (1 - theta_decay)
    v     = v * (1 - dv) + dv * I + bias       (only where refractory_left <= 0, else it counts down)
    spike = v > vth + theta -> v = 0 (or v -= vth + theta), refractory_left = refractory,
            theta += theta_plus, g_adapt += b_adapt

``a_in`` receives the excitatory projections, ``a_inh`` the magnitudes of the
inhibitory ones (``Projection.extra["port"]``). The fixed-point model
(``fixed_pt``) is :class:`neuroport.models.cond_lif.CondLIF`'s step in Loihi integers
(conductances as 24-bit fractions ``G = dv * g * 2**g_shift``, the product sum
``G * (E - v)`` exact in int64, rounded once by ``>> g_shift``). CPU only: Lava has no
Loihi 2 microcode for this process (``loihi2`` refuses it).
"""

from __future__ import annotations

from neuroport.backends.lava.processes._neuron_process import NeuronProcess

STATES = ("g_exc", "g_inh", "g_adapt", "v", "theta", "refractory_left")
FLOAT_PARAMS = ("de", "di", "da", "dv", "e_exc", "e_inh", "e_adapt", "bias", "vth", "refractory",
                "theta_decay", "theta_plus", "b_adapt")
#: Per-neuron integer parameters of the fixed-point model (see ``models.PyCondLIFModelFixed``).
FIXED_PARAMS = ("de", "di", "da", "dv", "theta_decay", "g_shift", "e_exc", "e_inh", "e_adapt", "b_adapt", "vth",
                "bias_mant", "bias_exp", "refractory", "theta_plus")
PARAMS = tuple(dict.fromkeys(FLOAT_PARAMS + FIXED_PARAMS))


class CondLIF(NeuronProcess):
    """Conductance-based LIF population (see the module docstring).

    Parameters
    ----------
    shape : tuple of int
        ``(n,)``.
    population : neuroport.program.Population
        The Program's population; its model's ``constants`` (``neuroport.models``) are read from it.
    params : dict of str -> array (n,)
        :data:`FLOAT_PARAMS` (float model) or :data:`FIXED_PARAMS` (fixed model); missing ones are 0.
    init : dict of str -> array (n,)
        Initial states (:data:`STATES`); missing ones are 0.
    fixed : bool
        Integer Vars (``fixed_pt`` model).
    hardware : neuroport.hardware.HardwareSpec, optional
        Bit widths of a fixed Program (the ``fixed_pt`` model's arithmetic).

    Ports: ``a_in`` (excitatory conductance input), ``a_inh`` (inhibitory),
    ``s_out`` (spikes).
    """

    STATES, FLOAT_PARAMS, FIXED_PARAMS = STATES, FLOAT_PARAMS, FIXED_PARAMS
