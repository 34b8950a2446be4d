"""numpy-fixed: Lava's bit-accurate arithmetic, the NIR paper check, and runs against Lava itself."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import nir
import numpy as np
import pytest
import scipy.sparse as sp

import neuroport
from neuroport.backends.numpy_fixed import FixedEngine, NumpyFixedBackend
from neuroport.errors import CompileError, InputError, QuantizationWarning
from neuroport.hardware import LOIHI2
from neuroport.models import neurons
from neuroport.models.arithmetic import LoihiArithmetic
from neuroport.program import Population, Program, Projection
from neuroport.quantize import quantize

PAPER = Path(__file__).resolve().parent / "data" / "nir_paper_lif"
HAVE_LAVA = importlib.util.find_spec("lava") is not None


def _a(x):
    return np.asarray(x, dtype=np.float32)


def cuba_graph(seed=0, n_in=12, n=8, rec=(-8.0, 4.0)):
    """Input -> CubaLIF with mixed weights, a leak bias and a recurrent projection."""
    rng = np.random.default_rng(seed)
    w_in = rng.uniform(-20, 60, size=(n, n_in))
    w_rec = rng.uniform(rec[0], rec[1], size=(n, n))
    nodes = {
        "x": nir.Input(np.array([n_in])),
        "w_in": nir.Linear(_a(w_in)),
        "cuba": nir.CubaLIF(tau_syn=_a(np.full(n, 5e-3)), tau_mem=_a(np.full(n, 2e-2)), r=_a(np.ones(n)),
                            v_leak=_a(np.full(n, 0.3)), v_threshold=_a(np.full(n, 1.0)),
                            v_reset=_a(np.zeros(n)), w_in=_a(np.ones(n))),
        "w_rec": nir.Linear(_a(w_rec)),
        "out": nir.Output(np.array([n])),
    }
    edges = [("x", "w_in"), ("w_in", "cuba"), ("cuba", "w_rec"), ("w_rec", "cuba"), ("cuba", "out")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def spikes(steps, n, p, seed):
    return (np.random.default_rng(seed).random((steps, n)) < p).astype(float)


# ------------------------------------------------------------------ NIR paper
def test_nir_paper_spike_steps_and_trace():
    graph = nir.read(str(PAPER / "lif_norse.nir"))
    program = neuroport.compile(graph, dt=1e-4, timing="hardware")
    fixed, report = quantize(program)
    assert not report.lossy
    x = np.loadtxt(PAPER / "lif_norse.csv", delimiter=",")[:, 0]
    result = NumpyFixedBackend().run(fixed, steps=1000, inputs=x[:, None], probes=[("1", "v"), ("1", "u")])
    assert result.spikes["1"].steps.tolist() == [461, 511, 711, 761]
    v = result.states["1"]["v"][:, 0]
    assert v.dtype == np.int64
    # Lava's fixed trace (paper: weight 10 << 6 = 640 per spike for 0.04, so 16000 per unit)
    lava = np.loadtxt(PAPER / "lif_lava_cpu_fixed.csv", delimiter=",")
    ours = v / result.meta["scale"]["1"]
    assert np.flatnonzero(lava[:, 2]).tolist() == [461, 511, 711, 761]
    assert np.max(np.abs(ours - lava[:, 1] / 16000.0)) < 1e-3  # 1% of the threshold 0.1


# ------------------------------------------------------------------ arithmetic
def trunc_shift(x, shift):
    """The fixed arithmetic's decay by the factor ``2**-shift``."""
    return LoihiArithmetic(LOIHI2).decay(x, 1.0 / (1 << shift)).astype(np.int64)


def test_trunc_shift_rounds_toward_zero():
    x = np.array([-8193, -4097, -4096, -1, 0, 1, 4095, 4096, 8193], dtype=np.int64)
    assert trunc_shift(x, 12).tolist() == [-2, -1, -1, 0, 0, 0, 0, 1, 2]


def _pop(**params):
    n = len(next(iter(params.values())))
    full = {"du": [4095] * n, "dv": [0] * n, "vth": [100] * n, "bias_mant": [0] * n, "bias_exp": [0] * n}
    full.update(params)
    return Population("p", n, "lif", {k: np.asarray(v, dtype=np.int64) for k, v in full.items()})


def test_u_wraps_and_v_saturates_like_lava():
    pop = _pop(du=[4095, 4095, 4095], vth=[131071] * 3)
    blk = neurons.block(pop, LoihiArithmetic(LOIHI2))
    c, state = {"counters": blk.counters[0]}, blk.state
    # a_in << 6 = 2**23 + 64, -(2**23), 2**23: Lava wraps the first two, keeps +2**23
    s = blk.step(np.array([2 ** 17 + 1, -(2 ** 17), 2 ** 17], dtype=np.int64))
    assert state["u"].tolist() == [-(2 ** 23) + 64, 2 ** 23, 2 ** 23]
    # v saturates at 2**23 - 1 > vth << 6 = 8388544: spikes and resets to 0
    assert s.tolist() == [False, True, True]
    assert state["v"].tolist() == [-(2 ** 23) + 64, 0, 0]
    assert c["counters"]["u_wraps"] == 2 and c["counters"]["v_saturations"] == 0


def test_decay_bias_threshold_formula():
    pop = _pop(du=[100], dv=[200], vth=[10], bias_mant=[-7], bias_exp=[3])
    blk = neurons.block(pop, LoihiArithmetic(LOIHI2))
    st = blk.state
    st["u"][...], st["v"][...] = -5000, -3000
    s = blk.step(np.array([3], dtype=np.int64))
    u = -int(5000 * (4096 - 101) / 4096) + (3 << 6)
    v = -int(3000 * (4096 - 200) / 4096) + u + (-7 << 3)
    assert st["u"].tolist() == [u] and st["v"].tolist() == [v] and not s[0]


# ------------------------------------------------------------------ backend contract
def test_graded_input_is_refused_with_the_value():
    program = neuroport.compile(cuba_graph(), dt=1e-3, timing="hardware")
    fixed, _ = quantize(program)
    x = spikes(10, 12, 0.3, 1)
    x[4, 2] = 0.5
    with pytest.raises(InputError, match=r"0\.5 at step 4, neuron 2"):
        NumpyFixedBackend().run(fixed, steps=10, inputs=x)


def test_float_program_is_refused_and_ideal_timing_is_compensated():
    program = neuroport.compile(cuba_graph(), dt=1e-3, timing="ideal")
    with pytest.raises(CompileError, match="quantize"):
        NumpyFixedBackend().run(program, steps=5)
    fixed, _ = quantize(program)  # quantization keeps the timing; the backend compensates (tests/test_timing.py)
    assert fixed.timing == "ideal"
    with pytest.raises(CompileError, match="compensate"):  # the engine itself runs pipelined Programs only
        FixedEngine(fixed, fixed.hardware)
    # its v_leak is a bias: held at 0 until the population's latency (tests/test_timing.py)
    r = NumpyFixedBackend().run(fixed, steps=5)
    assert r.meta["latency"]["cuba"] >= 1


def test_registry_and_neuroport_run():
    from neuroport import backends

    be = backends.get("numpy-fixed")
    assert be.level == "fixed" and be.timings == ("hardware", "ideal")
    r = neuroport.run(cuba_graph(), backend="numpy-fixed", dt=1e-3, steps=50, inputs=spikes(50, 12, 0.2, 0),
                      probes=[("cuba", "v")])
    assert r.states["cuba"]["v"].dtype == np.int64 and "cuba" in r.meta["scale"]


def test_overflow_warns():
    # five coincident spikes of 255 << 7 << 6 exceed 2**23: u wraps
    pops = {"x": Population("x", 5, "input", {}, "state", np.zeros(5)),
            "p": _pop(vth=[131071])}
    w = sp.csr_matrix(np.full((1, 5), 255, dtype=np.int64))
    proj = Projection("x->p", "x", "p", w, np.ones(5, dtype=np.int64),
                      {"weight_exp": 7, "num_weight_bits": 8, "sign_mode": "EXCITATORY"})
    prog = Program(pops, (proj,), ("x",), {}, (), {"dt": 1e-3, "timing": "hardware"}, "fixed")
    x = np.zeros((3, 5))
    x[0] = 1
    with pytest.warns(QuantizationWarning, match="u wrapped"):
        r = NumpyFixedBackend().run(prog, steps=3, inputs=x)
    assert r.meta["u_wraps"]["p"] == 1


def test_fixed_is_deterministic_and_close_to_float():
    program = neuroport.compile(cuba_graph(), dt=1e-3, timing="hardware")
    fixed, _ = quantize(program)
    x = spikes(300, 12, 0.1, 3)
    a = NumpyFixedBackend().run(fixed, steps=300, inputs=x)
    b = NumpyFixedBackend().run(fixed, steps=300, inputs=x)
    assert np.array_equal(a.spikes["cuba"].to_dense(), b.spikes["cuba"].to_dense())
    f = neuroport.backends.get("numpy").run(program, steps=300, inputs=x)
    assert abs(a.spikes["cuba"].count - f.spikes["cuba"].count) <= max(2, 0.05 * f.spikes["cuba"].count)


# ------------------------------------------------------------------ against Lava's own models
def run_lava_fixed(fixed, steps, x):
    """The fixed Program as LIF + Dense + RingBuffer in Lava (fixed_pt); u, v per step."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor
    from lava.utils.weightutils import SignMode

    pop = fixed.populations["cuba"]
    p = pop.params
    lif = LIF(shape=(pop.size,), du=int(p["du"][0]), dv=int(p["dv"][0]), vth=int(p["vth"][0]),
              bias_mant=p["bias_mant"].astype(np.int32), bias_exp=p["bias_exp"].astype(np.int32))
    src = RingBuffer(data=x.T.astype(np.int32))
    procs = []
    for proj in fixed.projections:
        dense = Dense(weights=proj.weights.toarray().astype(np.int32), weight_exp=proj.extra["weight_exp"],
                      num_weight_bits=proj.extra["num_weight_bits"], sign_mode=SignMode[proj.extra["sign_mode"]])
        (src.s_out if proj.pre == "x" else lif.s_out).connect(dense.s_in)
        dense.a_out.connect(lif.a_in)
        procs.append(dense)
    mu, mv = Monitor(), Monitor()
    mu.probe(lif.u, steps)
    mv.probe(lif.v, steps)
    lif.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    try:
        u = mu.get_data()[lif.name]["u"]
        v = mv.get_data()[lif.name]["v"]
    finally:
        lif.stop()
    return np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)


@pytest.mark.skipif(not HAVE_LAVA, reason="lava-nc is not installed")
def test_bit_identical_to_lava_pylifmodelbitacc():
    """Strong recurrent inhibition and a 12x scale: u wraps and v saturates in both."""
    steps = 60
    program = neuroport.compile(cuba_graph(seed=4, rec=(-30.0, 10.0)), dt=1e-3, timing="hardware")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        fixed, report = quantize(program)
        fixed, _ = quantize(program, scales={"cuba": 12 * report.scales["cuba"]})
        x = spikes(steps, 12, 0.25, 5)
        ours = NumpyFixedBackend().run(fixed, steps=steps, inputs=x, probes=[("cuba", "u"), ("cuba", "v")])
    assert {p.extra["sign_mode"] for p in fixed.projections} == {"MIXED"}
    assert ours.meta["u_wraps"]["cuba"] > 0 and ours.meta["v_saturations"]["cuba"] > 0
    u, v = run_lava_fixed(fixed, steps, x)
    assert np.array_equal(ours.states["cuba"]["u"], u)
    assert np.array_equal(ours.states["cuba"]["v"], v)
    assert ours.spikes["cuba"].count > 0
