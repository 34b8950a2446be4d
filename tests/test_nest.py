"""The NEST backend (backends/nest/) against numpy with scheme="exact", and its refusals.

Skipped when NEST (``pip install 'neuroport[nest]'``) is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("nest", reason="NEST is not installed (pip install 'neuroport[nest]')")

import neuroport  # noqa: E402
from neuroport.compare import compare  # noqa: E402
from neuroport.errors import CompileError, ParameterError, UnsupportedNodeError  # noqa: E402
from neuroport.models.networks.benchmarks import coba_network  # noqa: E402

DT = 1e-4


def _single(spec, weight, steps=400, seed=0, dt=DT):
    net = neuroport.Network()
    x = net.input(5, name="x")
    p = net.population(3, spec, name="p")
    net.connect(x, p, weight=weight, p=1.0, seed=1)
    net.probe(p, "v")
    inputs = (np.random.default_rng(seed).random((steps, 5)) < 0.05).astype(float)
    return {be: neuroport.run(net, backend=be, steps=steps, inputs=inputs, dt=dt, scheme="exact")
            for be in ("numpy", "nest")}


@pytest.mark.parametrize("spec, weight", [
    (neuroport.LIF(tau=0.02, v_threshold=1.0), 30.0),
    (neuroport.LIF(tau=0.02, v_threshold=1.0, refractory=2e-3), 30.0),
    (neuroport.CubaLIF(tau_mem=0.02, tau_syn=0.005, v_threshold=1.0), 20.0),
])
def test_driven_neuron_spikes_within_one_step(spec, weight):
    res = _single(spec, weight)
    a, b = res["numpy"].spikes["p"], res["nest"].spikes["p"]
    assert a.count >= 10, "the case must spike"
    assert a.count == b.count
    assert np.max(np.abs(np.sort(a.steps) - np.sort(b.steps))) <= 1
    va, vb = res["numpy"].states["p"]["v"], res["nest"].states["p"]["v"]
    assert vb.shape == va.shape and np.ptp(vb) > 0.1


def test_power_of_two_dt_runs_on_a_tic_grid_of_its_own():
    """dt = 2**-10 s (the STDP cases', exact in Lava's decays) is no whole number of NEST's default 1 us
    tics; the backend sets ``tics_per_ms = 1024`` and the spikes land where numpy's do (within one step)."""
    res = _single(neuroport.LIF(tau=16 * 2.0 ** -10, v_threshold=1.0), 30.0, dt=2.0 ** -10)
    a, b = res["numpy"].spikes["p"], res["nest"].spikes["p"]
    assert a.count >= 10 and a.count == b.count
    assert np.max(np.abs(np.sort(a.steps) - np.sort(b.steps))) <= 1


def test_dt_off_every_tic_grid_is_refused():
    net = neuroport.Network()
    x = net.input(2, name="x")
    net.connect(x, net.population(1, neuroport.LIF(tau=0.02, v_threshold=1.0), name="p"), weight=1.0)
    with pytest.raises(ParameterError, match="whole number of its tics"):
        neuroport.run(net, backend="nest", steps=10, dt=1e-3 / 3, scheme="exact")


def test_coba_rates_and_cv_within_10_percent():
    program = neuroport.compile(coba_network(n_neurons=1000, p=0.08, delay=DT).to_nir(), dt=DT, scheme="exact")
    ref = neuroport.run(program, backend="numpy", steps=3000)
    got = neuroport.run(program, backend="nest", steps=3000)
    assert got.meta["late_synapses"] == 0
    for name, m in compare(ref, got).populations.items():
        assert m.rate_a_hz > 1.0, f"{name} silent"
        assert abs(m.rate_b_hz - m.rate_a_hz) / m.rate_a_hz <= 0.10, (name, m.rate_a_hz, m.rate_b_hz)
        assert abs(m.cv_b - m.cv_a) / m.cv_a <= 0.10, (name, m.cv_a, m.cv_b)


def _net(spec, **connect):
    net = neuroport.Network()
    x = net.input(2, name="x")
    p = net.population(2, spec, name="p")
    net.connect(x, p, weight=1.0, **connect)
    return net


def test_refuses_adaptive_threshold():
    net = _net(neuroport.LIF(tau=0.02, v_threshold=1.0, tau_theta=0.1, theta_plus=0.05))
    with pytest.raises(UnsupportedNodeError, match=r"'p'.*adaptive threshold"):
        neuroport.run(net, backend="nest", steps=10, dt=DT)


def test_refuses_subtract_reset_and_ideal_timing_and_graded_input():
    net = _net(neuroport.LIF(tau=0.02, v_threshold=1.0))
    with pytest.raises(UnsupportedNodeError, match="reset 'subtract'"):
        neuroport.run(net, backend="nest", steps=10, dt=DT, reset="subtract")
    with pytest.raises(CompileError, match="timing"):
        neuroport.run(net, backend="nest", steps=10, dt=DT, timing="ideal")
    with pytest.raises(UnsupportedNodeError, match="spike inputs only"):
        neuroport.run(net, backend="nest", steps=10, dt=DT, inputs=np.full((10, 2), 0.5))


def test_depression_into_current_neurons_matches_numpy():
    """tsodyks2_synapse behind a parrot_neuron (input spikes) into CubaLIF, and neuron -> neuron into LIF, vs numpy
    scheme="exact" (the depression case of tests/test_equivalence.py covers LIF from an input)."""
    steps = 1000
    net = neuroport.Network()
    x = net.input(5, name="x")
    a = net.population(4, neuroport.CubaLIF(tau_mem=0.02, tau_syn=0.005, v_threshold=1.0), name="a")
    b = net.population(3, neuroport.LIF(tau=0.01, v_threshold=0.5), name="b")
    net.connect(x, a, weight=100.0, p=1.0, seed=1, depression=(0.02, 0.5), delay=2 * DT)
    net.connect(a, b, weight=150.0, p=1.0, seed=2, depression=(0.01, 0.3))
    inputs = (np.random.default_rng(4).random((steps, 5)) < 0.04).astype(float)
    res = {be: neuroport.run(net, backend=be, steps=steps, inputs=inputs, dt=DT, scheme="exact")
           for be in ("numpy", "nest")}
    for name in ("a", "b"):
        p, q = res["numpy"].spikes[name], res["nest"].spikes[name]
        assert p.count >= 10, f"{name} must spike"
        assert compare(res["numpy"], res["nest"], k=1).populations[name].match >= 0.99, name
    static = neuroport.Network()
    xs = static.input(5, name="x")
    static.connect(xs, static.population(4, neuroport.CubaLIF(tau_mem=0.02, tau_syn=0.005, v_threshold=1.0),
                                         name="a"), weight=100.0, p=1.0, seed=1, delay=2 * DT)
    undepressed = neuroport.run(static, backend="nest", steps=steps, inputs=inputs, dt=DT, scheme="exact")
    assert undepressed.spikes["a"].count > 1.2 * res["nest"].spikes["a"].count, "depression must depress"


def test_refuses_depression_from_input_into_current_neuron_without_delay():
    """(ranks > 1 without an MPI NEST: tests/test_nest_mpi.py.)"""
    net = _net(neuroport.CubaLIF(tau_mem=0.02, tau_syn=0.005, v_threshold=1.0), depression=(0.3, 0.4))
    with pytest.raises(UnsupportedNodeError, match="depression on spikes of input 'x'.*graph delay >= dt"):
        neuroport.run(net, backend="nest", steps=10, dt=DT)
