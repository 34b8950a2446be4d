"""The quadratic integrate-and-fire model (``models/qif.py``): float step against a plain Euler
loop of the ODE, the rheobase against its closed form, the integer step against an independent
Python-int reference, quantization, file round trip and the backends that refuse it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import neuroport
from neuroport.backends.numpy_fixed import NumpyFixedBackend
from neuroport.errors import ParameterError, QuantizationWarning, UnsupportedNodeError
from neuroport.models.qif import QIF
from neuroport.program import Population, Program, Projection

P = dict(tau_mem=0.01, tau_syn=0.005, a=0.04, v_rest=-65.0, v_crit=-50.0, v_threshold=0.0, v_reset=-70.0)


def _network(n=4, n_in=3, seed=0, weight_high=10.0):
    rng = np.random.default_rng(seed)
    net = neuroport.Network()
    x = net.input(n_in, name="x")
    q = net.population(n, QIF(**{**P, "a": np.linspace(0.03, 0.05, n)}), name="q")
    net.connect(x, q, weight=rng.uniform(0, weight_high, (n, n_in)))
    return net, rng


def test_float_step_is_the_euler_step_of_the_ode():
    net, rng = _network(weight_high=40.0)
    dt, steps = 1e-4, 3000
    x = (rng.random((steps, 3)) < 0.3).astype(float)
    res = neuroport.run(net, backend="numpy", steps=steps, inputs=x, dt=dt, timing="ideal", probes=[("q", "v")])
    a = np.linspace(0.03, 0.05, 4)
    W = net.to_nir().nodes  # the weights as the graph stores them
    w = next(np.asarray(node.weight) for node in W.values() if hasattr(node, "weight"))
    current = np.zeros(4)
    v = np.full(4, P["v_rest"])
    vs, spikes = [], []
    for t in range(steps):
        current += dt / P["tau_syn"] * (w @ x[t] - current)
        v = v + dt / P["tau_mem"] * (a * (v - P["v_rest"]) * (v - P["v_crit"]) + current)
        fired = v > P["v_threshold"]
        v[fired] = P["v_reset"]
        spikes += [(t, i) for i in np.flatnonzero(fired)]
        vs.append(v.copy())
    got = list(zip(res.spikes["q"].steps.tolist(), res.spikes["q"].neurons.tolist()))
    assert len(spikes) > 5 and got == spikes
    np.testing.assert_allclose(res.states["q"]["v"], np.array(vs), atol=1e-9)


@pytest.mark.parametrize("drive, fires", [(2.0, False), (2.6, True)])
def test_rheobase_is_a_quarter_of_a_times_the_squared_gap(drive, fires):
    # r I > a (v_crit - v_rest)**2 / 4 = 0.04 * 15**2 / 4 = 2.25 (in voltage units per tau_mem)
    net = neuroport.Network()
    x = net.input(1, name="x")
    q = net.population(1, QIF(**P), name="q")
    net.connect(x, q, weight=drive)
    steps = 20000
    res = neuroport.run(net, backend="numpy", steps=steps, inputs=np.ones((steps, 1)), dt=1e-4)
    assert (res.spikes["q"].count > 0) == fires


def _int_program(weights, *, du, vth, e_rest, e_crit, q_mant, q_shift, v_init):
    n, n_in = weights.shape
    full = lambda v: np.full(n, v, dtype=np.int64)  # noqa: E731
    params = {"du": full(du), "dv": full(0), "vth": full(vth), "bias_mant": full(0), "bias_exp": full(0),
              "refractory": full(0), "e_rest": full(e_rest), "e_crit": full(e_crit), "q_mant": full(q_mant),
              "q_shift": full(q_shift), "v_init": full(v_init)}
    pops = {"x": Population("x", n_in, "input", {}, "state", np.zeros(n_in), (n_in,)),
            "q": Population("q", n, "qif", params, "spikes", np.zeros(n), (n,), {"reset": "zero", "scale": 1.0})}
    w = sp.csr_matrix(weights)
    proj = Projection("x->q", "x", "q", w, np.ones(w.nnz, dtype=np.int64),
                      {"weight_exp": 0, "num_weight_bits": 8, "sign_mode": "EXCITATORY"})
    return Program(pops, (proj,), ("x",), {}, (("q", "v"), ("q", "u")),
                   {"dt": 1e-3, "scheme": "euler", "reset": "zero", "timing": "hardware"}, "fixed")


def test_integer_step_matches_a_python_int_reference():
    rng = np.random.default_rng(3)
    weights = rng.integers(0, 256, (3, 4))
    k = dict(du=818, vth=60000, e_rest=-300000, e_crit=-150000, q_mant=1300, q_shift=37, v_init=-300000)
    program = _int_program(weights, **k)
    steps = 300
    x = (rng.random((steps, 4)) < 0.3).astype(float)
    res = NumpyFixedBackend().run(program, steps=steps, inputs=x)

    def tz(y):  # y / 4096 toward zero
        return -((-y) >> 12) if y < 0 else y >> 12

    u, v = [0] * 3, [k["v_init"]] * 3
    spikes = []
    for t in range(steps):
        for i in range(3):
            a_in = int(sum(int(weights[i, j]) for j in range(4) if t >= 1 and x[t - 1, j]))
            u[i] = tz(u[i] * (4096 - (k["du"] + 1))) + (a_in << 6)
            p = (v[i] - k["e_rest"]) * (v[i] - k["e_crit"])
            drive = (p * k["q_mant"] + (1 << (k["q_shift"] - 1))) >> k["q_shift"]
            v[i] = max(-(2 ** 23 - 1), min(2 ** 23 - 1, v[i] + u[i] + drive))
            if v[i] > k["vth"] << 6:
                v[i] = 0
                spikes.append((t, i))
        assert res.states["q"]["v"][t].tolist() == v and res.states["q"]["u"][t].tolist() == u
    assert len(spikes) > 3
    assert list(zip(res.spikes["q"].steps.tolist(), res.spikes["q"].neurons.tolist())) == spikes


def test_quantized_qif_reports_q_and_tracks_float():
    net, rng = _network(n=6)
    steps = 400
    x = (rng.random((steps, 3)) < 0.3).astype(float)
    program = neuroport.compile(net.to_nir(), dt=1e-3, timing="hardware")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)  # 8-bit weights round the small ones
        fixed, report = neuroport.quantize(program)
    entry = next(e for e in report.entries if e.owner == "q" and e.field == "q")
    assert entry.max_rel_error < 1e-3 and fixed.populations["q"].params["q_mant"].max() <= 2047
    f = neuroport.backends.get("numpy").run(program, steps=steps, inputs=x).spikes["q"].count
    i = NumpyFixedBackend().run(fixed, steps=steps, inputs=x).spikes["q"].count
    assert f > 10 and abs(i - f) <= 0.3 * f  # the 8-bit weights cost spikes; the dynamics are kept


def test_file_round_trip_and_refusals(tmp_path):
    net, rng = _network()
    x = (rng.random((200, 3)) < 0.2).astype(float)
    path = tmp_path / "qif.nir"
    neuroport.write(path, net.to_nir())
    back = neuroport.read(path)
    a = neuroport.run(net, backend="numpy", steps=200, inputs=x, dt=1e-3)
    b = neuroport.run(back, backend="numpy", steps=200, inputs=x, dt=1e-3)
    assert a.spikes["q"].count > 0 and a.spikes["q"].steps.tolist() == b.spikes["q"].steps.tolist()
    with pytest.raises(ParameterError, match="scheme='euler'"):
        neuroport.compile(net.to_nir(), dt=1e-3, scheme="exact")
    with pytest.raises(UnsupportedNodeError, match=r"'q' \(qif\).*Lava backends run only"):
        neuroport.run(net, backend="lava", steps=5, inputs=x[:5], dt=1e-3)
    bad = neuroport.Network()
    bad.population(1, QIF(**{**P, "v_crit": -70.0}))
    with pytest.raises(ParameterError, match="v_crit > v_rest"):
        neuroport.compile(bad.to_nir(), dt=1e-3)


def test_brian2_integrates_the_same_equations():
    pytest.importorskip("brian2")
    net, rng = _network(weight_high=40.0)
    steps = 2000
    x = (rng.random((steps, 3)) < 0.3).astype(float)
    ours = neuroport.run(net, backend="numpy", steps=steps, inputs=x, dt=1e-4, timing="ideal", probes=[("q", "v")])
    theirs = neuroport.run(net, backend="brian2", steps=steps, inputs=x, dt=1e-4, timing="ideal",
                           probes=[("q", "v")])
    a = list(zip(ours.spikes["q"].steps.tolist(), ours.spikes["q"].neurons.tolist()))
    b = list(zip(theirs.spikes["q"].steps.tolist(), theirs.spikes["q"].neurons.tolist()))
    assert len(a) > 10 and a == b  # both forward Euler of the same ODE, same order of updates
    np.testing.assert_allclose(theirs.states["q"]["v"], ours.states["q"]["v"], atol=1e-6)
