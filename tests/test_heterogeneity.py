"""Heterogeneous populations: per-neuron parameters drawn from neuroport.dist (issue 14, deliverable 4).

The drawn values are checked against the distributions' own definitions (bounds, moments, seeds);
a heterogeneous network survives write/read and runs identically before and after, on numpy,
numpy-fixed and lava-fixed (a bit-exact pair) and on Brian2 (Euler, the same spikes as numpy).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuroport
from neuroport import backend as registry
from neuroport import dist
from neuroport.compare import compare
from neuroport.errors import ParameterError


def test_distributions_draw_what_they_say():
    rng = np.random.default_rng(0)
    v = dist.normal(20e-3, 2e-3, low=17e-3, high=24e-3).draw(rng, 20_000)
    assert v.min() >= 17e-3 and v.max() <= 24e-3 and v.std() > 1e-3
    u = dist.uniform(0.9, 1.1).draw(rng, 20_000)
    assert 0.9 <= u.min() and u.max() < 1.1 and abs(u.mean() - 1.0) < 0.005
    g = dist.lognormal(0.01, 0.3).draw(rng, 20_000)
    assert g.min() > 0 and abs(np.median(g) / 0.01 - 1) < 0.02
    c = dist.choice([1.0, 2.0], p=[0.25, 0.75]).draw(rng, 20_000)
    assert set(np.unique(c)) == {1.0, 2.0} and abs((c == 2.0).mean() - 0.75) < 0.02
    # a distribution's own seed wins over the population's generator
    a = dist.normal(0, 1, seed=5).draw(np.random.default_rng(1), 10)
    b = dist.normal(0, 1, seed=5).draw(np.random.default_rng(2), 10)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make, match", [
    (lambda: dist.normal(0, -1), "sd must be >= 0"),
    (lambda: dist.normal(0, 1, low=2, high=1), "low must be < high"),
    (lambda: dist.uniform(2, 1), "low must be <= high"),
    (lambda: dist.lognormal(-1, 0.1), "median > 0"),
    (lambda: dist.choice([1, 2], p=[0.5, 0.6]), "summing to 1"),
    (lambda: dist.normal(float("nan"), 1), "finite"),
])
def test_bad_distributions_are_refused(make, match):
    with pytest.raises(ParameterError, match=match):
        make()


def test_unreachable_truncation_is_an_error_not_a_clip():
    with pytest.raises(ParameterError, match="widen the bounds"):
        dist.normal(0.0, 1e-3, low=1.0).draw(np.random.default_rng(0), 10)


def _network(seed=None):
    net = neuroport.Network()
    x = net.input(20, name="x")
    hid = net.population(60, neuroport.LIF(tau=dist.normal(20e-3, 4e-3, low=8e-3), r=10.0,
                                           v_threshold=dist.uniform(0.8, 1.2)), name="hid", seed=seed)
    out = net.population(10, neuroport.CubaLIF(tau_mem=dist.lognormal(15e-3, 0.2), tau_syn=5e-3, r=10.0,
                                               v_threshold=dist.choice([0.6, 0.9])), name="out", seed=seed)
    net.connect(x, hid, weight=lambda rng, n: rng.uniform(0.0, 1.0, n), p=0.3, seed=1)
    net.connect(hid, out, weight=lambda rng, n: rng.uniform(0.0, 1.2, n), p=0.4, seed=2)
    return net


def _poisson(steps, n, p, seed):
    return (np.random.default_rng(seed).random((steps, n)) < p).astype(float)


def test_population_values_are_drawn_per_neuron_and_seeded():
    a, b = _network().to_nir(), _network().to_nir()
    tau = np.asarray(a.nodes["hid"].tau)
    assert tau.shape == (60,) and np.unique(tau).size == 60 and tau.min() >= 8e-3
    np.testing.assert_array_equal(tau, b.nodes["hid"].tau)  # same script, same network
    c = _network(seed=3).to_nir()
    assert not np.array_equal(tau, c.nodes["hid"].tau)
    assert a.nodes["hid"].metadata["neuroport.dist.tau"].startswith("normal(mean=0.02")
    thr = np.asarray(a.nodes["hid"].v_threshold)
    assert 0.8 <= thr.min() and thr.max() < 1.2


def test_heterogeneous_parameters_survive_write_read(tmp_path):
    graph = _network().to_nir()
    path = tmp_path / "het.nir"
    neuroport.write(path, graph, options={"dt": 1e-3})
    again = neuroport.read(path)
    for node in ("hid", "out"):
        for field in ("tau", "tau_mem", "v_threshold"):
            if hasattr(graph.nodes[node], field):
                np.testing.assert_array_equal(np.asarray(getattr(again.nodes[node], field)),
                                              np.asarray(getattr(graph.nodes[node], field)))
    assert again.nodes["out"].metadata["neuroport.dist.tau_mem"].startswith("lognormal")
    steps = 200
    x = _poisson(steps, 20, 0.2, 0)
    r1 = neuroport.run(graph, backend="numpy", dt=1e-3, steps=steps, inputs=x)
    r2 = neuroport.run(again, backend="numpy", steps=steps, inputs=x)
    assert r1.spikes["hid"].count > 50 and r1.spikes["out"].count > 5
    for pop in ("hid", "out"):
        np.testing.assert_array_equal(r1.spikes[pop].to_dense(), r2.spikes[pop].to_dense())


def test_heterogeneous_network_on_fixed_point_lava_and_brian2():
    graph = _network().to_nir()
    steps = 150
    x = _poisson(steps, 20, 0.2, 4)
    probes = [("hid", "v"), ("out", "v")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixed = neuroport.run(graph, backend="numpy-fixed", dt=1e-3, steps=40, inputs=x[:40], probes=probes)
    assert fixed.spikes["hid"].count > 0
    ok, why = registry.get("lava-fixed").available()
    if ok:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lava = neuroport.run(graph, backend="lava-fixed", dt=1e-3, steps=40, inputs=x[:40], probes=probes)
        for pop in ("hid", "out"):
            np.testing.assert_array_equal(fixed.spikes[pop].to_dense(), lava.spikes[pop].to_dense(), err_msg=pop)
            np.testing.assert_array_equal(fixed.states[pop]["v"], lava.states[pop]["v"], err_msg=pop)
    ok, why = registry.get("brian2").available()
    if not ok:
        pytest.skip(f"brian2 unavailable: {why}")
    a = neuroport.run(graph, backend="numpy", dt=1e-3, steps=steps, inputs=x, probes=probes)
    b = neuroport.run(graph, backend="brian2", dt=1e-3, steps=steps, inputs=x, probes=probes, scheme="euler")
    rep = compare(a, b, inputs=("x",))
    assert rep.spikes_identical, str(rep)
    assert rep.states["hid.v"].max_rel < 1e-9


def _adaptive_network():
    """A heterogeneous AdaptiveLIF layer (adaptation current, refractoriness, time constants and thresholds
    drawn per neuron) feeding a heterogeneous LIF layer."""
    net = neuroport.Network()
    x = net.input(12, name="x")
    hid = net.population(30, neuroport.LIF(tau=dist.normal(20e-3, 4e-3, low=8e-3), r=10.0,
                                           v_threshold=dist.uniform(0.8, 1.2),
                                           tau_adapt=dist.normal(0.1, 0.02, low=0.03),
                                           b_adapt=dist.uniform(0.02, 0.08),
                                           refractory=dist.choice([0.0, 2e-3])), name="hid", seed=11)
    out = net.population(6, neuroport.LIF(tau=dist.lognormal(15e-3, 0.2), r=10.0,
                                          v_threshold=dist.uniform(0.5, 0.9)), name="out", seed=12)
    net.connect(x, hid, weight=lambda rng, n: rng.uniform(0.0, 1.0, n), p=0.4, seed=1)
    net.connect(hid, out, weight=lambda rng, n: rng.uniform(0.0, 0.6, n), p=0.5, seed=2)
    return net


def test_reread_heterogeneous_graph_runs_identically_on_every_backend(tmp_path):
    """The Done-when line on the graph read back from its file: numpy, numpy-fixed and lava-fixed (bit-exact
    pair), Brian2 Euler identical to numpy, each against the same backend on the graph before writing."""
    from neuroport.nodes import AdaptiveLIF

    graph = _adaptive_network().to_nir()
    assert isinstance(graph.nodes["hid"], AdaptiveLIF)
    assert np.unique(np.asarray(graph.nodes["hid"].b_adapt)).size == 30
    path = tmp_path / "het_adaptive.nir"
    neuroport.write(path, graph, options={"dt": 1e-3})
    again = neuroport.read(path)
    for field in ("tau_mem", "v_threshold", "tau_adapt", "b_adapt", "refractory"):
        np.testing.assert_array_equal(np.asarray(getattr(again.nodes["hid"], field)),
                                      np.asarray(getattr(graph.nodes["hid"], field)), err_msg=field)
    steps = 120
    x = _poisson(steps, 12, 0.3, 7)
    probes = [("hid", "v"), ("out", "v")]

    def run(g, backend, n=steps, **kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return neuroport.run(g, backend=backend, dt=1e-3, steps=n, inputs=x[:n], probes=probes, **kw)

    before, after = run(graph, "numpy"), run(again, "numpy")
    assert before.spikes["hid"].count > 30 and before.spikes["out"].count > 3
    fixed_before, fixed_after = run(graph, "numpy-fixed", 40), run(again, "numpy-fixed", 40)
    assert fixed_after.spikes["hid"].count > 0
    for pop in ("hid", "out"):
        np.testing.assert_array_equal(before.spikes[pop].to_dense(), after.spikes[pop].to_dense(), err_msg=pop)
        np.testing.assert_array_equal(fixed_before.states[pop]["v"], fixed_after.states[pop]["v"], err_msg=pop)
    ok, _ = registry.get("lava-fixed").available()
    if ok:
        lava = run(again, "lava-fixed", 40)
        for pop in ("hid", "out"):
            np.testing.assert_array_equal(fixed_after.spikes[pop].to_dense(), lava.spikes[pop].to_dense(),
                                          err_msg=pop)
            np.testing.assert_array_equal(fixed_after.states[pop]["v"], lava.states[pop]["v"], err_msg=pop)
    ok, why = registry.get("brian2").available()
    if not ok:
        pytest.skip(f"brian2 unavailable: {why}")
    b = run(again, "brian2", scheme="euler")
    rep = compare(after, b, inputs=("x",))
    assert rep.spikes_identical, str(rep)
