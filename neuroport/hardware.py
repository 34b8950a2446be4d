"""Hardware descriptions: every bit width and size limit of a target in one object.

Quantization (:mod:`neuroport.quantize`), the fixed-point engine
(:mod:`neuroport.backends.numpy_fixed`) and resource mapping
(:mod:`neuroport.mapping`) read these numbers only from a
:class:`HardwareSpec`; nothing hardware-specific lives in module constants.

``LOIHI2`` records, per field in ``sources``, where each figure comes from:
``lava:<file>`` (read from lava-nc 0.10.0's bit-accurate models), ``paper:``
/ ``intel:`` (a published figure) or ``estimate:`` (derived, not published).

Examples
--------
>>> from neuroport.hardware import LOIHI2
>>> LOIHI2.vth_range
(0, 131071)
>>> LOIHI2.with_chips(8).total_cores
1024
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np

from neuroport.errors import ParameterError

#: Lava's names for the weight sign modes (``lava.utils.weightutils.SignMode``).
SIGN_MODES = ("EXCITATORY", "INHIBITORY", "MIXED")

#: ``SignMode`` enum values of lava-nc 0.10 (``lava/utils/weightutils.py``).
_SIGN_MODE_VALUES = {1: "MIXED", 2: "EXCITATORY", 3: "INHIBITORY"}
_SIGN_MODE_ALIASES = {"EXC": "EXCITATORY", "INH": "INHIBITORY", "MIX": "MIXED"}


def sign_mode_of(data: np.ndarray) -> str:
    """Lava's ``determine_sign_mode``: EXCITATORY if all >= 0, INHIBITORY if all <= 0, else MIXED.

    Parameters
    ----------
    data : numpy.ndarray
        Weights (any shape); empty ones are EXCITATORY.

    Returns
    -------
    str
        One of :data:`SIGN_MODES`.

    Examples
    --------
    >>> import numpy as np
    >>> sign_mode_of(np.array([0, 3])), sign_mode_of(np.array([-1, 0])), sign_mode_of(np.array([-1, 2]))
    ('EXCITATORY', 'INHIBITORY', 'MIXED')
    """
    if data.size == 0 or data.min() >= 0:
        return "EXCITATORY"
    if data.max() <= 0:
        return "INHIBITORY"
    return "MIXED"


def sign_mode_name(value, where: str = "projection") -> str:
    """The name of a sign mode given as a name, an alias, an enum or Lava's enum value.

    Parameters
    ----------
    value : str, int or enum
        ``"EXCITATORY"`` / ``"exc"``, Lava's ``SignMode.MIXED``, or its value
        (1 MIXED, 2 EXCITATORY, 3 INHIBITORY).
    where : str
        The object named in the error message (``"projection 'w'"``).

    Returns
    -------
    str
        One of :data:`SIGN_MODES`.

    Raises
    ------
    ParameterError
        For anything else, naming ``where`` and the valid choices.

    Examples
    --------
    >>> sign_mode_name("inh"), sign_mode_name(1)
    ('INHIBITORY', 'MIXED')
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        name = _SIGN_MODE_VALUES.get(int(value))
    else:
        name = str(getattr(value, "name", value)).upper()
        name = _SIGN_MODE_ALIASES.get(name, name)
    if name not in SIGN_MODES:
        raise ParameterError(f"{where}.sign_mode: expected one of EXCITATORY, INHIBITORY, MIXED, got {value!r}")
    return name


@dataclass(frozen=True)
class HardwareSpec:
    """Bit widths and resource limits of one neuromorphic target.

    Neuron (LIF) state and parameters, after Lava's ``PyLifModelBitAcc``::

        u = wrap24(trunc0(u * (2**decay_bits - (du + du_offset)) / 2**decay_bits) + (a_in << act_shift))
        v = sat24(trunc0(v * (2**decay_bits - (dv + dv_offset)) / 2**decay_bits) + u + (bias_mant << bias_exp))
        spike = v > (vth << vth_shift)

    Attributes are plain ints (bits or counts) unless stated.
    """

    name: str
    # --- neuron state and parameters (LIF) -------------------------------
    state_bits: int = 24            #: u, v: signed two's complement width
    decay_bits: int = 12            #: du, dv: unsigned, [0, 2**12 - 1]
    du_offset: int = 1              #: added to du by the hardware (Loihi's ds_offset)
    dv_offset: int = 0              #: added to dv (dm_offset)
    vth_bits: int = 17              #: vth mantissa, unsigned
    vth_shift: int = 6              #: vth is compared as vth << 6
    act_shift: int = 6              #: synaptic input enters u as a_in << 6
    word_bits: int = 32             #: Lava's int32 datapath: Dense outputs, LIF a_in, a_in << 6, the u and v sums
    bias_mant_bits: int = 13        #: signed bias mantissa
    bias_exp_range: tuple = (0, 7)  #: bias = bias_mant << bias_exp
    # --- neuroport's own neuron programs (AdaptiveLIF, CondLIF, refractory) ---
    refractory_bits: int = 12       #: refractory period in steps, unsigned
    cond_frac_bits_max: int = 23    #: CondLIF g_shift (fractional bits of G) in [0, 23]
    depression_bits: int = 16       #: short-term depression: x, u_se, recover as fractions of 2**16
    # --- synapses ----------------------------------------------------------
    weight_bits: int = 8            #: weight mantissa magnitude bits
    sign_modes: tuple = SIGN_MODES
    weight_exp_range: tuple = (-8, 7)   #: shared exponent per projection
    max_delay: int = 63             #: DelayDense extra delay in steps (6 bit)
    hardware_latency: int = 1       #: steps a spike takes through a plain Dense
    # --- learning ----------------------------------------------------------
    trace_bits: int = 7
    learning_weight_bits: int = 9   #: signed, after learning
    learning_coeff_mant_range: tuple = (-8, 7)
    learning_coeff_exp_range: tuple = (-7, 8)
    # --- resources ---------------------------------------------------------
    cores_per_chip: int = 128
    neurons_per_core: int = 8192
    synapses_per_core: int = 937_500
    max_fan_in: int = 937_500       #: synapses of one neuron (must sit on its core)
    neurons_per_chip: int = 1_000_000       #: neurons one chip holds (below cores x neurons_per_core)
    synapses_per_chip: int = 120_000_000    #: synapses one chip holds
    chips: int = 1
    # --- between chips (neuroport.multichip) -------------------------------
    spike_message_bits: int = 32    #: size of one spike message on a chip-to-chip link, bits
    chip_link_bits_per_s: float = 0.0   #: bandwidth of one chip's links, bits/s; 0: not known
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))

    # --- derived ranges (inclusive) -----------------------------------------
    @property
    def state_max(self) -> int:
        """``2**23``: u wraps above it; v saturates at ``state_max - 1``."""
        return 1 << (self.state_bits - 1)

    @property
    def v_range(self) -> tuple:
        return (-(self.state_max - 1), self.state_max - 1)

    @property
    def decay_unity(self) -> int:
        return 1 << self.decay_bits

    @property
    def decay_range(self) -> tuple:
        return (0, self.decay_unity - 1)

    @property
    def vth_range(self) -> tuple:
        return (0, (1 << self.vth_bits) - 1)

    @property
    def refractory_range(self) -> tuple:
        return (0, (1 << self.refractory_bits) - 1)

    @property
    def state_range(self) -> tuple:
        """Signed 24-bit fields (theta_plus, w_plus, e_exc, v_init, ...): ``(-(2**23 - 1), 2**23 - 1)``."""
        return self.v_range

    @property
    def bias_mant_range(self) -> tuple:
        half = 1 << (self.bias_mant_bits - 1)
        return (-half, half - 1)

    def weight_range(self, sign_mode: str) -> tuple:
        """Mantissa range Lava's ``clip_weights`` keeps for ``sign_mode``."""
        full = (1 << self.weight_bits) - 1
        if sign_mode == "EXCITATORY":
            return (0, full)
        if sign_mode == "INHIBITORY":
            return (-full, 0)
        if sign_mode == "MIXED":
            return (-(full + 1), full)
        raise ValueError(f"sign_mode: expected one of {', '.join(self.sign_modes)}, got {sign_mode!r}")

    def weight_step(self, sign_mode: str, num_weight_bits: int) -> int:
        """Granularity Lava's ``truncate_weights`` leaves (MIXED drops one more bit)."""
        return 1 << (self.weight_bits - num_weight_bits + int(sign_mode == "MIXED"))

    @property
    def total_cores(self) -> int:
        return self.cores_per_chip * self.chips

    def with_chips(self, chips: int) -> "HardwareSpec":
        """The same target with ``chips`` chips (e.g. 8 for a Kapoho Point board)."""
        return dataclasses.replace(self, chips=int(chips))

    def replace(self, **changes) -> "HardwareSpec":
        return dataclasses.replace(self, **changes)


_LAVA_LIF = "lava: lava/proc/lif/models.py (AbstractPyLifModelFixed, PyLifModelBitAcc), lava-nc 0.10.0"
_LAVA_DENSE = "lava: lava/proc/dense/models.py + lava/utils/weightutils.py, lava-nc 0.10.0"
_LAVA_LEARN = "lava: lava/magma/core/learning/ (constants.py, learning_rule.py), lava-nc 0.10.0"

LOIHI2 = HardwareSpec(
    name="loihi2",
    sources={
        "state_bits": _LAVA_LIF + ": u, v precision=24; u wraps, v saturates at +-(2**23 - 1)",
        "decay_bits": _LAVA_LIF + ": du, dv uint16 precision=12, decay_shift=12",
        "du_offset": _LAVA_LIF + ": ds_offset = 1",
        "dv_offset": _LAVA_LIF + ": dm_offset = 0",
        "vth_bits": _LAVA_LIF + ": vth precision=17",
        "vth_shift": _LAVA_LIF + ": vth_shift = 6",
        "act_shift": _LAVA_LIF + ": act_shift = 6",
        "word_bits": _LAVA_LIF + " and " + _LAVA_DENSE.split(": ", 1)[1]
                     + ": a_out int32 (the channel casts the int64 sum), a_in, u, v int32 arrays, "
                       "so a_in << 6 and both sums wrap at 32 bits",
        "bias_mant_bits": _LAVA_LIF + ": bias_mant int16 precision=13",
        "bias_exp_range": _LAVA_LIF + ": bias_exp 'unsigned 3-bit integer (0 to 7)'",
        "refractory_bits": "choice: neuroport's refractory counter (Lava's fixed LIF has none), 0..4095 steps",
        "cond_frac_bits_max": "choice: CondLIF conductances are signed 24-bit fractions, up to 23 fractional bits",
        "depression_bits": "choice: neuroport's fixed-point depression (numpy-fixed; Lava custom process)",
        "weight_bits": _LAVA_DENSE + ": clip_weights(num_bits=8), weights precision=8",
        "sign_modes": _LAVA_DENSE + ": SignMode EXCITATORY / INHIBITORY / MIXED",
        "weight_exp_range": "estimate: Loihi 1 NxSDK weightExponent range [-8, 7]; Lava does not check it",
        "max_delay": "lava: lava/proc/dense/models.py PyDelayDenseModelBitAcc 'delays between 0 and 63'",
        "hardware_latency": _LAVA_DENSE + ": a_out sends the buffer of step t-1",
        "trace_bits": _LAVA_LEARN + ": traces 7 bit with stochastic rounding",
        "learning_weight_bits": _LAVA_LEARN + ": weights 9 bit signed after learning",
        "learning_coeff_mant_range": _LAVA_LEARN + ": rule coefficient mantissa [-8, 7]",
        "learning_coeff_exp_range": _LAVA_LEARN + ": rule coefficient exponent [-7, 8]",
        "cores_per_chip": "intel: Loihi 2 brief (2021): 128 neuro cores per chip",
        "neurons_per_core": "estimate: 1M neurons per chip (Intel Loihi 2 brief) / 128 cores = 8192",
        "synapses_per_core": "estimate: 120M synapses per chip (Intel Loihi 2 brief) / 128 cores",
        "max_fan_in": "estimate: a neuron's synapses must fit its core's synapse memory",
        "neurons_per_chip": "intel: Loihi 2 brief (2021): up to 1M neurons per chip",
        "synapses_per_chip": "intel: Loihi 2 brief (2021): up to 120M synapses per chip",
        "chips": "choice: one chip; KAPOHO_POINT (8) and HALA_POINT (1,152) below, or LOIHI2.with_chips(n)",
        "spike_message_bits": "estimate: one 32-bit word per spike message (Loihi 2's graded spikes carry "
                              "up to 32 bits); Intel publishes no inter-chip message format",
        "chip_link_bits_per_s": "estimate: unknown (0); Intel publishes no inter-chip link bandwidth for "
                                "Loihi 2, so the chip map reports traffic in messages per step only unless "
                                "a figure is given with spec.replace(chip_link_bits_per_s=...)",
    },
)

_KAPOHO = ("intel: Kapoho Point board: 8 Loihi 2 chips (Intel Loihi 2 announcement, 2021; "
           "Kapoho Point release, 2022)")
_HALA = ("intel: Hala Point announcement (Intel, April 2024): 1,152 Loihi 2 processors, 140,544 neuromorphic "
         "cores, 1.15 billion neurons, 128 billion synapses")

KAPOHO_POINT = dataclasses.replace(
    LOIHI2, name="kapoho-point", chips=8,
    sources={**LOIHI2.sources, "chips": _KAPOHO})
"""Kapoho Point: one board of 8 Loihi 2 chips (published), each chip as :data:`LOIHI2`.

8 x 128 = 1,024 cores, up to 8M neurons and 960M synapses (the per-chip figures
of Intel's Loihi 2 brief times 8). Chip-to-chip link figures are estimates
(``sources``)."""

HALA_POINT = dataclasses.replace(
    LOIHI2, name="hala-point", chips=1152, cores_per_chip=140_544 // 1152,
    neurons_per_chip=1_150_000_000 // 1152, synapses_per_chip=128_000_000_000 // 1152,
    sources={**LOIHI2.sources, "chips": _HALA + ": 1,152 chips",
             "cores_per_chip": _HALA + ": 140,544 cores / 1,152 chips = 122 cores per chip "
                                       "(fewer than the chip's 128; the announcement gives the total only)",
             "neurons_per_chip": "estimate: " + _HALA.split(": ", 1)[1] + ": 1.15e9 neurons / 1,152 chips",
             "synapses_per_chip": "estimate: " + _HALA.split(": ", 1)[1] + ": 128e9 synapses / 1,152 chips"})
"""Hala Point: Intel's 1,152-chip Loihi 2 system (published: chips, 140,544 cores,
1.15 billion neurons, 128 billion synapses in total, Intel's announcement of April 2024).

The per-chip limits are the published totals divided by 1,152 (marked
``estimate`` in ``sources``: Intel gives totals only): 122 cores, 998,263
neurons and 111,111,111 synapses per chip."""

#: Named multi-chip targets (``neuroport map --system NAME``).
SYSTEMS = {"loihi2": LOIHI2, "kapoho-point": KAPOHO_POINT, "hala-point": HALA_POINT}
