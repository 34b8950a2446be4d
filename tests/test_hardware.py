"""neuroport.hardware: one frozen spec, every figure sourced."""

from __future__ import annotations

import dataclasses

import pytest

from neuroport.hardware import LOIHI2, HardwareSpec


def test_loihi2_figures_match_lava_sources():
    hw = LOIHI2
    assert (hw.state_bits, hw.decay_bits, hw.vth_bits, hw.vth_shift, hw.act_shift) == (24, 12, 17, 6, 6)
    assert hw.v_range == (-(2 ** 23 - 1), 2 ** 23 - 1) and hw.state_max == 2 ** 23
    assert hw.decay_range == (0, 4095) and (hw.du_offset, hw.dv_offset) == (1, 0)
    assert hw.vth_range == (0, 131071)
    assert hw.bias_mant_range == (-4096, 4095) and tuple(hw.bias_exp_range) == (0, 7)
    assert hw.weight_range("EXCITATORY") == (0, 255)
    assert hw.weight_range("INHIBITORY") == (-255, 0)
    assert hw.weight_range("MIXED") == (-256, 255)
    assert hw.weight_step("MIXED", 8) == 2 and hw.weight_step("EXCITATORY", 6) == 4
    assert hw.max_delay == 63 and hw.cores_per_chip == 128 and hw.neurons_per_core == 8192
    assert (hw.trace_bits, hw.learning_weight_bits) == (7, 9)
    assert hw.learning_coeff_mant_range == (-8, 7) and hw.learning_coeff_exp_range == (-7, 8)


def test_lava_agrees_on_the_lif_widths():
    pytest.importorskip("lava")
    from lava.proc.lif.models import PyLifModelBitAcc

    assert PyLifModelBitAcc.vth.precision == LOIHI2.vth_bits
    assert PyLifModelBitAcc.u.precision == LOIHI2.state_bits
    assert PyLifModelBitAcc.du.precision == LOIHI2.decay_bits
    assert PyLifModelBitAcc.bias_mant.precision == LOIHI2.bias_mant_bits


def test_every_field_has_a_source():
    names = {f.name for f in dataclasses.fields(HardwareSpec)} - {"name", "sources"}
    assert names <= set(LOIHI2.sources), sorted(names - set(LOIHI2.sources))
    for key, text in LOIHI2.sources.items():
        assert text.split(":")[0] in ("lava", "intel", "paper", "estimate", "choice"), key


def test_frozen_and_replace():
    with pytest.raises(dataclasses.FrozenInstanceError):
        LOIHI2.chips = 2
    with pytest.raises(TypeError):
        LOIHI2.sources["chips"] = "x"
    board = LOIHI2.with_chips(8)
    assert board.total_cores == 1024 and LOIHI2.total_cores == 128
    with pytest.raises(ValueError, match="sign_mode"):
        LOIHI2.weight_range("BOTH")
