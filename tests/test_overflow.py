"""Fixed-point overflow (issue 12, defects 1 and 2): the quantizer's bound uses the integers that run,
strict mode refuses a network that can wrap, and numpy-fixed wraps exactly where Lava 0.10's int32
LIF datapath does (``a_in << 6`` and the ``u`` / ``v`` sums), with both fixed backends counting the same.

The reference for the 32-bit datapath is written here from Lava's source (``lava/proc/lif/models.py``
``AbstractPyLifModelFixed.subthr_dynamics``, ``lava/proc/dense/models.py``), in ``np.int32`` arrays
as Lava computes, not with neuroport's arithmetic; where Lava is installed, ``lava-fixed`` itself is
compared bit for bit.
"""

from __future__ import annotations

import warnings

import nir
import numpy as np
import pytest

import neuroport
from neuroport import backends
from neuroport.errors import NeuroportError, QuantizationError, QuantizationWarning

STEPS = 30


def _graph(n_in: int, weights, n: int = 4, tau=0.01):
    lif = nir.LIF(tau=np.full(n, tau), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n))
    w = np.broadcast_to(np.asarray(weights, dtype=float), (n, n_in)).copy()
    return nir.NIRGraph.from_list(nir.Input(np.array([n_in])), nir.Linear(w), lif, nir.Output(np.array([n])))


def _run(backend, program, inputs, pop="lif"):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = backends.get(backend).run(program, steps=inputs.shape[0], inputs=inputs,
                                        probes=[(pop, "u"), (pop, "v")], progress=False)
    return res, [w for w in caught if issubclass(w.category, QuantizationWarning)]


def _lava_lif_reference(fixed, inputs, pop="lif"):
    """Lava's Dense + LIF fixed step, transcribed in np.int32 as lava-nc 0.10 computes it."""
    p = fixed.populations[pop].params
    (proj,) = fixed.projections
    w = proj.weights.toarray().astype(np.int32)   # already what clip/truncate keep (quantizer output)
    exp = int(proj.extra["weight_exp"])
    n = w.shape[0]
    u = np.zeros(n, np.int32)
    v = np.zeros(n, np.int32)
    du, dv = int(p["du"][0]), int(p["dv"][0])
    vth = np.int32(int(p["vth"][0]) << 6)
    bias = (p["bias_mant"].astype(np.int32) << p["bias_exp"].astype(np.int32)).astype(np.int32)
    m = 2 ** 23
    a_buff = np.zeros(n, np.int64)
    us, vs, spikes = [], [], []
    with np.errstate(over="ignore"):
        for t in range(inputs.shape[0]):
            a_in = a_buff.astype(np.int32)                  # the int32 a_out channel
            s_in = inputs[t].astype(bool)
            acc = w[:, s_in].sum(axis=1)                     # int64 (numpy promotes int32 sums)
            a_buff = acc << exp if exp > 0 else acc >> -exp
            dec = np.int64(u) * (4096 - (du + 1))
            dec = np.int32(np.sign(dec) * np.right_shift(np.abs(dec), 12))
            dec += np.left_shift(a_in, 6)                    # int32: wraps
            wrapped = np.where(dec > m, dec - 2 * m, dec)
            u[:] = np.where(wrapped <= -m, dec + 2 * m, wrapped)
            dvv = np.int64(v) * (4096 - dv)
            dvv = np.int32(np.sign(dvv) * np.right_shift(np.abs(dvv), 12))
            v[:] = np.clip(dvv + u + bias, -m + 1, m - 1)
            s = v > vth
            v[s] = 0
            us.append(u.copy())
            vs.append(v.copy())
            spikes.append(s)
    return np.array(us, np.int64), np.array(vs, np.int64), np.array(spikes)


# ------------------------------------------------------------------ defect 1: the bound uses the integers
def test_strict_bound_uses_rounded_weights():
    """200 inputs of weight 1: the float bound lands exactly on 2**23; rounding 163.84 -> 164 used to wrap u."""
    program = neuroport.compile(_graph(200, 1.0), dt=1e-3)
    fixed, report = neuroport.quantize(program, strict=True)
    proj = fixed.projections[0]
    per_step = proj.weights.toarray().sum(axis=1).max() * 2 ** proj.extra["weight_exp"] * 2 ** 6
    assert per_step <= 2 ** 23 - 1  # du = 4095: u is this step's input
    x = np.ones((STEPS, 200))
    ref = backends.get("numpy").run(program, steps=STEPS, inputs=x, progress=False)
    got, caught = _run("numpy-fixed", fixed, x)
    assert not caught and got.meta["u_wraps"]["lif"] == 0
    assert got.spikes["lif"].to_dense().sum() == ref.spikes["lif"].to_dense().sum() > 0
    assert not report.overflows and report.bounds["lif"].integer.u_worst <= 2 ** 23 - 1


def test_strict_refuses_a_network_that_can_wrap():
    """A scale override (no room to lower it) or 2,100 inputs of weight 80 (vth would lose its bits)."""
    program = neuroport.compile(_graph(200, 1.0), dt=1e-3)
    with pytest.raises(QuantizationError, match=r"population 'lif'.*u can reach .* > 2\*\*23 - 1 = 8388607"):
        neuroport.quantize(program, strict=True, scales={"lif": 6e5})
    big = neuroport.compile(_graph(2100, 80.0), dt=1e-3)
    with pytest.raises(QuantizationError, match=r"population 'lif'.*2\*\*31.*32-bit") as err:
        neuroport.quantize(big, strict=True)
    assert isinstance(err.value, NeuroportError)
    fixed, report = neuroport.quantize(big)  # not strict: reported
    assert report.overflows and "lif" in report.overflows[0]
    bound = report.to_dict()["populations"]["lif"]
    assert bound["may_overflow"] and bound["u_worst_int"] > 2 ** 31
    assert "Can overflow" in report.to_table()


# ------------------------------------------------------------------ defect 2: the 32-bit datapath
@pytest.mark.parametrize("weight", [80.0, -80.0])
def test_numpy_fixed_wraps_at_32_bits_as_lava_does(weight):
    """2,100 inputs of weight +-80: (a_in << 6) exceeds int32; numpy-fixed matches the int32 transcription."""
    program = neuroport.compile(_graph(2100, weight), dt=1e-3)
    fixed, _ = neuroport.quantize(program)
    x = np.ones((STEPS, 2100))
    got, caught = _run("numpy-fixed", fixed, x)
    u, v, s = _lava_lif_reference(fixed, x)
    assert np.abs(u).max() > 2 ** 23  # the one-pass wrap leaves u outside 24 bits, as Lava's does
    np.testing.assert_array_equal(got.states["lif"]["u"], u)
    np.testing.assert_array_equal(got.states["lif"]["v"], v)
    np.testing.assert_array_equal(got.spikes["lif"].to_dense(), s)
    assert got.meta["int32_wraps"]["lif"] > 0 and got.meta["u_wraps"]["lif"] > 0
    assert caught and "32-bit datapath wrapped" in str(caught[0].message)


def _random_overflow_program(seed: int):
    """Seeded two-layer network whose fan-in and weights reach the 32-bit datapath."""
    rng = np.random.default_rng(seed)
    n_in, n1, n2 = int(rng.integers(1500, 3000)), 6, 5
    w1 = rng.normal(0, 1, (n1, n_in)) * 300
    w1[rng.random(w1.shape) < 0.3] = 0
    w2 = rng.normal(0.5, 1, (n2, n1)) * 50
    g = nir.NIRGraph.from_list(
        nir.Input(np.array([n_in])), nir.Linear(w1),
        nir.CubaLIF(tau_syn=rng.uniform(2e-3, 2e-2, n1), tau_mem=rng.uniform(5e-3, 5e-2, n1), r=np.ones(n1),
                    v_leak=np.zeros(n1), v_threshold=np.ones(n1)),
        nir.Linear(w2),
        nir.LIF(tau=np.full(n2, rng.uniform(5e-3, 5e-2)), r=np.ones(n2), v_leak=np.zeros(n2),
                v_threshold=np.ones(n2)),
        nir.Output(np.array([n2])))
    program = neuroport.compile(g, dt=1e-3)
    fixed, report = neuroport.quantize(program)
    x = (rng.random((STEPS, n_in)) < rng.uniform(0.3, 0.9)).astype(float)
    return fixed, report, x


def test_random_overflow_reported_by_quantize():
    fixed, report, _ = _random_overflow_program(3)
    assert report.overflows  # every such network is reported (strict refuses it)
    with pytest.raises(QuantizationError):
        neuroport.quantize(neuroport.compile(_graph(3000, 300.0), dt=1e-3), strict=True)


# ------------------------------------------------------------------ lava-fixed, bit for bit
def _lava_or_skip():
    ok, reason = backends.get("lava-fixed").available()
    if not ok:
        pytest.skip(f"lava-fixed unavailable: {reason}")


def test_lava_fixed_identical_on_overflow_cases():
    """The reproducers (weights +-80 over 2,100 inputs; 200 inputs of 1 at a forced scale) and a seeded
    random two-layer overflow network: identical spikes, u and v, and identical overflow counts."""
    _lava_or_skip()
    from neuroport.testing.random_networks import union, union_inputs

    programs, ins = [], []
    for weight in (80.0, -80.0):
        fixed, _ = neuroport.quantize(neuroport.compile(_graph(2100, weight), dt=1e-3))
        programs.append(fixed)
        ins.append({"input": np.ones((STEPS, 2100))})
    fixed, _ = neuroport.quantize(neuroport.compile(_graph(200, 1.0), dt=1e-3), scales={"lif": 6e5})
    programs.append(fixed)
    ins.append({"input": np.ones((STEPS, 200))})
    fixed, _, x = _random_overflow_program(7)
    programs.append(fixed)
    ins.append({"input": x})
    big = union(programs)
    inputs = union_inputs(programs, ins)
    probes = [(n, var) for n, p in big.populations.items() if not p.is_input for var in ("u", "v")]
    results = {}
    for mode in ("numpy-fixed", "lava-fixed"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results[mode] = backends.get(mode).run(big, steps=STEPS, inputs=inputs, probes=probes, progress=False)
        assert any(issubclass(w.category, QuantizationWarning) for w in caught), mode
    a, b = results["numpy-fixed"], results["lava-fixed"]
    for name, pop in big.populations.items():
        np.testing.assert_array_equal(a.spikes[name].to_dense(), b.spikes[name].to_dense(), err_msg=name)
    for name, var in probes:
        np.testing.assert_array_equal(a.states[name][var], b.states[name][var], err_msg=f"{name}.{var}")
    for key in ("u_wraps", "v_saturations", "int32_wraps"):
        assert a.meta[key] == b.meta[key], key
    assert sum(a.meta["int32_wraps"].values()) > 0 and sum(a.meta["u_wraps"].values()) > 0


# ------------------------------------------------------------------ defect 8: a projection mostly deleted
def _spread_graph(seed=0, n_in=50, n=20):
    rng = np.random.default_rng(seed)
    w = 10.0 ** rng.uniform(-3, 3, (n, n_in))  # magnitudes spread over 1e-3..1e3
    lif = nir.LIF(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n))
    return nir.NIRGraph.from_list(nir.Input(np.array([n_in])), nir.Linear(w), lif, nir.Output(np.array([n]))), w


def test_projection_mostly_zeroed_is_a_loss():
    g, w = _spread_graph()
    program = neuroport.compile(g, dt=1e-3)
    with pytest.raises(QuantizationError, match=r"projection linear\.weights: .*% of the non-zero weights became 0"):
        neuroport.quantize(program, strict=True)
    with pytest.warns(QuantizationWarning, match="became 0"):
        fixed, report = neuroport.quantize(program)
    assert report.lossy
    entry = report.entry("linear", "weights")
    # independent count: the mantissas that run are 0 where the float weight was not
    mant = fixed.projections[0].weights.toarray()
    assert entry.zeroed_fraction == pytest.approx(np.mean(mant[w != 0] == 0)) and entry.zeroed_fraction > 0.5
    assert any(e.get("zeroed_fraction") == entry.zeroed_fraction for e in report.to_dict()["entries"])
    # thresholds are the caller's to move
    fixed, report = neuroport.quantize(program, max_weights_zeroed=0.9, max_weight_sum_error=1.0)
    assert not report.lossy


def test_ordinary_projection_is_not_a_loss():
    rng = np.random.default_rng(1)
    n_in, n = 50, 20
    w = rng.uniform(0.5, 1.5, (n, n_in))
    lif = nir.LIF(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n) * 20)
    g = nir.NIRGraph.from_list(nir.Input(np.array([n_in])), nir.Linear(w), lif, nir.Output(np.array([n])))
    fixed, report = neuroport.quantize(neuroport.compile(g, dt=1e-3), strict=True)
    entry = report.entry("linear", "weights")
    assert entry.zeroed_fraction == 0 and entry.sum_error < 0.01 and not report.lossy


def test_lava_fixed_counts_like_numpy_fixed_on_random_networks():
    """Random integer networks (every sign mode, weight_exp up to 7, LIF, ALIF, CondLIF; u wrapping and
    v saturating): lava-fixed reports the same overflow counts as numpy-fixed, population by population."""
    _lava_or_skip()
    from neuroport.testing.random_networks import KINDS, random_fixed_program, random_inputs, union, union_inputs

    programs = ([random_fixed_program(seed, max_neurons=60, models=KINDS) for seed in range(6)]
                + [random_fixed_program(seed, max_neurons=60) for seed in range(4)])
    big = union(programs)
    inputs = union_inputs(programs, [random_inputs(p, 40, seed) for seed, p in enumerate(programs)])
    meta = {}
    for mode in ("numpy-fixed", "lava-fixed"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QuantizationWarning)
            meta[mode] = backends.get(mode).run(big, steps=40, inputs=inputs, progress=False).meta
    for key in ("u_wraps", "v_saturations", "int32_wraps"):
        assert meta["numpy-fixed"][key] == meta["lava-fixed"][key], key
    assert sum(meta["numpy-fixed"]["u_wraps"].values()) > 0 and sum(meta["numpy-fixed"]["v_saturations"].values()) > 0


# ------------------------------------------------------------------ ALIF / CondLIF: Lava's Dense wraps per projection
#: one step of 70,000 inputs through weights at the top mantissa (255 << 7) exceeds 2**31 - 1
N_WIDE = 70_000


def _custom_program(kind: str, weight: float):
    """``N_WIDE`` inputs into 2 neurons of ``kind`` (``alif``: a refractory CubaLIF, run on ALIF; ``condlif``)."""
    net = neuroport.Network()
    x = net.input(N_WIDE, name="x")
    model = (neuroport.CubaLIF(tau_mem=0.02, tau_syn=0.005, v_threshold=1.0, refractory=0.002) if kind == "alif"
             else neuroport.CondLIF())
    p = net.population(2, model, name="p")
    net.connect(x, p, weight=np.full((2, N_WIDE), weight))
    return net.compile(dt=1e-3)


def _quiet_quantize(program, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        return neuroport.quantize(program, **kw)


@pytest.mark.parametrize("kind, weight, port", [("alif", 1000.0, ""), ("condlif", 4e7, ":exc"),
                                                ("condlif", -4e7, ":inh")])
def test_strict_refuses_a_projection_whose_dense_output_leaves_int32(kind, weight, port):
    program = _custom_program(kind, weight)
    with pytest.raises(QuantizationError) as exc:
        neuroport.quantize(program, strict=True)
    msg = str(exc.value)
    assert f"'x->p{port}'" in msg and "int32 channel" in msg and "2**31" in msg
    fixed, report = _quiet_quantize(program)
    assert any(f"'x->p{port}'" in m and "int32 channel" in m for m in report.overflows)
    assert report.bounds["p"].integer.dense_worst >= 2 ** 31


def test_condlif_shift_beyond_int32_is_no_wrap():
    """CondLIF runs in int64: a_in << 6 beyond int32 saturates g (counted), it does not wrap; the quantizer
    does not report a 32-bit wrap for it (the Dense output itself stays inside int32)."""
    fixed, report = _quiet_quantize(_custom_program("condlif", 1.5e6))
    b = report.bounds["p"].integer
    assert b.shifted_worst >= 2 ** 31 > b.dense_worst
    assert not any("int32" in m for m in report.overflows)


def _wide_inputs(steps, seed=0):
    """All-ones steps (70,000 * 32,640 > 2**31: the Dense output wraps) between partial ones (no wrap)."""
    frac = np.resize([1.0, 0.5, 1.0, 0.99, 0.9, 1.0, 0.2, 1.0, 0.0, 0.97], steps)
    return (np.random.default_rng(seed).random((steps, N_WIDE)) < frac[:, None]).astype(float)


def test_lava_fixed_identical_on_alif_condlif_projection_wraps():
    """The quantizer's ALIF and CondLIF reproducers (70,000 inputs, one Dense output beyond int32): Lava's
    Dense wraps it in its int32 a_out channel; numpy-fixed (both engines) gives the same spikes, u, g and v,
    and the same overflow counts (u wraps, v and conductance saturations), which are not zero."""
    _lava_or_skip()
    from neuroport.testing.random_networks import union, union_inputs

    steps = 12
    programs = [_quiet_quantize(_custom_program(k, w))[0] for k, w in (("alif", 1000.0), ("condlif", 4e7),
                                                                        ("condlif", -4e7))]
    big = union(programs)
    inputs = union_inputs(programs, [{"x": _wide_inputs(steps, k)} for k in range(len(programs))])
    probes = [("n0/p", "u"), ("n0/p", "v")] + [(f"n{k}/p", v) for k in (1, 2) for v in ("g_exc", "g_inh", "v")]
    results = {}
    for mode, engine in (("numpy-fixed", "numpy"), ("numpy-fixed", "compiled"), ("lava-fixed", None)):
        kw = {"engine": engine} if engine else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QuantizationWarning)
            results[engine or mode] = backends.get(mode).run(big, steps=steps, inputs=inputs, probes=probes,
                                                             progress=False, **kw)
    lava = results["lava-fixed"]
    for engine in ("numpy", "compiled"):
        got = results[engine]
        for k in range(3):
            name = f"n{k}/p"
            np.testing.assert_array_equal(got.spikes[name].to_dense(), lava.spikes[name].to_dense(), err_msg=name)
        for name, var in probes:
            np.testing.assert_array_equal(got.states[name][var], lava.states[name][var], err_msg=f"{name}.{var}")
        for key in ("u_wraps", "v_saturations", "int32_wraps", "saturations"):
            assert got.meta[key] == lava.meta[key], (engine, key)
    assert lava.meta["u_wraps"]["n0/p"] > 0
    assert lava.meta["saturations"]["n1/p"]["g_exc"] > 0 and lava.meta["saturations"]["n2/p"]["g_inh"] > 0
