"""Winner-take-all / lateral inhibition (issue 14, deliverable 4): the connector and the three-layer digits app.

Connector weights are checked against plain loops over neuron pairs written from the formula in
neuroport/lateral.py's docstring; the WTA behaviour against what inhibition must do (the most
strongly driven neuron fires, the others stay silent, and without the inhibition they do fire);
backends against each other (numpy vs Brian2 Euler, numpy-fixed vs lava-fixed bit for bit).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import neuroport
from neuroport import backend as registry
from neuroport import lateral
from neuroport.compare import compare
from neuroport.errors import GraphError, InputError, ParameterError


# ---------------------------------------------------------------- weights against loops
@pytest.mark.parametrize("self_inhibition", [False, True])
def test_uniform_weights_against_a_loop(self_inhibition):
    n, s = 7, 3.5
    w = lateral.uniform(s, self_inhibition=self_inhibition).matrix(n)
    for i in range(n):
        for j in range(n):
            expected = 0.0 if (i == j and not self_inhibition) else -s
            assert w[i, j] == expected, (i, j)


def _hat(d, se, si, ae, ai):
    return ae * math.exp(-d * d / (2 * se * se)) - ai * math.exp(-d * d / (2 * si * si))


def test_mexican_hat_on_a_ring_against_a_loop():
    n, se, si, ae, ai = 16, 1.5, 4.0, 3.0, 1.2
    w = lateral.mexican_hat(sigma_e=se, sigma_i=si, a_e=ae, a_i=ai).matrix(n)
    for i in range(n):
        for j in range(n):
            # position on a circle of circumference n: the arc length between the two neurons
            ang = 2 * math.pi * (i - j) / n
            d = abs(math.atan2(math.sin(ang), math.cos(ang))) * n / (2 * math.pi)
            expected = 0.0 if i == j else _hat(d, se, si, ae, ai)
            assert w[i, j] == pytest.approx(expected, rel=1e-12, abs=1e-12), (i, j)


@pytest.mark.parametrize("periodic", [False, True])
def test_mexican_hat_on_a_grid_against_a_loop(periodic):
    rows, cols, se, si, ae, ai, cutoff = 3, 5, 0.8, 2.0, 2.0, 1.0, 2.5
    w = lateral.mexican_hat(sigma_e=se, sigma_i=si, a_e=ae, a_i=ai, topology=(rows, cols), periodic=periodic,
                            cutoff=cutoff, self_connection=True).matrix(rows * cols)
    for i in range(rows * cols):
        for j in range(rows * cols):
            (ri, ci), (rj, cj) = divmod(i, cols), divmod(j, cols)
            dr, dc = abs(ri - rj), abs(ci - cj)
            if periodic:
                dr, dc = min(dr, rows - dr), min(dc, cols - dc)
            d = math.sqrt(dr * dr + dc * dc)
            expected = _hat(d, se, si, ae, ai) if d <= cutoff else 0.0
            assert w[i, j] == pytest.approx(expected, rel=1e-12, abs=1e-12), (i, j)


def test_mexican_hat_sign_structure():
    n = 40
    w = lateral.mexican_hat(sigma_e=2.0, sigma_i=6.0, a_e=2.0, a_i=1.0).matrix(n)
    np.testing.assert_array_equal(np.diag(w), 0.0)
    np.testing.assert_allclose(w, w.T)
    row = w[0]
    assert np.all(row[1:3] > 0) and np.all(row[-2:] > 0)  # near neighbours excite, on both sides
    assert np.all(row[6:15] < 0)  # farther ones inhibit
    assert abs(row[n // 2]) < 0.02  # far away: both Gaussians have vanished
    # every row is the first one rotated (a ring has no edge)
    for i in range(n):
        np.testing.assert_allclose(w[i], np.roll(row, i))


# ---------------------------------------------------------------- behaviour
def _driven(n, wta=None, via="direct", steps=120):
    """n LIF neurons, each driven one to one by a constant input of its own strength."""
    net = neuroport.Network()
    x = net.input(n, name="x")
    out = net.population(n, neuroport.LIF(tau=0.02, v_threshold=1.0), name="out")
    net.connect(x, out, weight=np.eye(n))
    added = net.winner_take_all(out, wta, via=via) if wta is not None else None
    # v -> drive at rest: all of them reach threshold 1 alone; the last one first, by several steps (the
    # relay population's inhibition arrives two steps after the winner's spike, the direct one in one)
    drive = np.append(np.linspace(1.4, 1.7, n - 1), 2.0)
    inputs = np.tile(drive, (steps, 1))
    return net, added, inputs


@pytest.mark.parametrize("via", ["direct", "population"])
def test_strongest_neuron_wins_and_silences_the_others(via):
    n, steps = 6, 120
    free_net, _, inputs = _driven(n, steps=steps)
    free = neuroport.run(free_net, backend="numpy", dt=1e-3, steps=steps, inputs=inputs)
    counts_free = np.bincount(free.spikes["out"].neurons, minlength=n)
    assert np.all(counts_free > 0)  # without inhibition every neuron fires

    net, added, inputs = _driven(n, lateral.uniform(50.0), via=via, steps=steps)
    res = neuroport.run(net, backend="numpy", dt=1e-3, steps=steps, inputs=inputs)
    counts = np.bincount(res.spikes["out"].neurons, minlength=n)
    assert counts.argmax() == n - 1 and counts[-1] >= counts_free[-1] - 1
    assert counts[:-1].sum() == 0, counts
    if via == "population":
        inh = res.spikes[added["population"]]
        # every output spike makes its relay neuron spike exactly once, one step later
        np.testing.assert_array_equal(inh.neurons, res.spikes["out"].neurons)
        np.testing.assert_array_equal(inh.steps, res.spikes["out"].steps + 1)


def test_mexican_hat_keeps_a_bump_around_the_winner():
    n, steps = 24, 150
    net = neuroport.Network()
    x = net.input(n, name="x")
    out = net.population(n, neuroport.LIF(tau=0.02, v_threshold=1.0), name="out")
    net.connect(x, out, weight=np.eye(n))
    idx = np.arange(n)
    drive = 1.1 + 0.5 * np.exp(-np.minimum(np.abs(idx - 6), n - np.abs(idx - 6)) ** 2 / 8.0)  # peak at 6
    inputs = np.tile(drive, (steps, 1))
    free = neuroport.run(net, backend="numpy", dt=1e-3, steps=steps, inputs=inputs)
    net.winner_take_all(out, lateral.mexican_hat(sigma_e=1.0, sigma_i=8.0, a_e=30.0, a_i=20.0))
    res = neuroport.run(net, backend="numpy", dt=1e-3, steps=steps, inputs=inputs)
    counts = np.bincount(res.spikes["out"].neurons, minlength=n)
    far = np.abs(idx - 18) <= 6
    assert np.all(np.bincount(free.spikes["out"].neurons, minlength=n)[far] > 0)  # alone, the far side fires
    assert counts[6] == counts.max() and counts[5] > 0 and counts[7] > 0  # a bump around the peak
    assert counts[far].sum() == 0  # the far side is suppressed


# ---------------------------------------------------------------- files and backends
def _tiny(via="direct"):
    net = neuroport.Network()
    x = net.input(8, name="x")
    out = net.population(10, neuroport.LIF(tau=0.02, v_threshold=1.0), name="out")
    net.connect(x, out, weight=lambda rng, k: rng.uniform(0.0, 6.0, k), p=0.5, seed=3)
    net.winner_take_all(out, lateral.mexican_hat(sigma_e=1.0, sigma_i=3.0, a_e=2.0, a_i=4.0), via=via)
    return net


def _poisson(steps, n, p, seed):
    return (np.random.default_rng(seed).random((steps, n)) < p).astype(float)


@pytest.mark.parametrize("via", ["direct", "population"])
def test_write_read_round_trip(tmp_path, via):
    graph = _tiny(via).to_nir()
    path = tmp_path / "wta.nir"
    neuroport.write(path, graph, options={"dt": 1e-3})
    again = neuroport.read(path)
    key = "out.wta" if via == "direct" else "out.inh->out"
    np.testing.assert_array_equal(np.asarray(again.nodes[key].weight), np.asarray(graph.nodes[key].weight))
    assert str(again.nodes[key].metadata["neuroport.lateral"]).startswith("mexican_hat(")
    x = _poisson(100, 8, 0.3, 1)
    a = neuroport.run(graph, backend="numpy", dt=1e-3, steps=100, inputs=x)
    b = neuroport.run(again, backend="numpy", steps=100, inputs=x)
    assert a.spikes["out"].count > 10
    np.testing.assert_array_equal(a.spikes["out"].to_dense(), b.spikes["out"].to_dense())


def test_numpy_and_brian2_euler_give_the_same_spikes():
    ok, why = registry.get("brian2").available()
    if not ok:
        pytest.skip(f"brian2 unavailable: {why}")
    graph = _tiny("population").to_nir()
    x = _poisson(100, 8, 0.3, 2)
    probes = [("out", "v")]
    a = neuroport.run(graph, backend="numpy", dt=1e-3, steps=100, inputs=x, probes=probes)
    b = neuroport.run(graph, backend="brian2", dt=1e-3, steps=100, inputs=x, probes=probes, scheme="euler")
    assert a.spikes["out"].count > 10
    rep = compare(a, b, inputs=("x",))
    assert rep.spikes_identical, str(rep)


def test_numpy_fixed_and_lava_fixed_are_bit_identical():
    graph = _tiny("direct").to_nir()
    x = _poisson(40, 8, 0.3, 3)
    probes = [("out", "v")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixed = neuroport.run(graph, backend="numpy-fixed", dt=1e-3, steps=40, inputs=x, probes=probes)
    assert fixed.spikes["out"].count > 5
    ok, why = registry.get("lava-fixed").available()
    if not ok:
        pytest.skip(f"lava-fixed unavailable: {why}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lava = neuroport.run(graph, backend="lava-fixed", dt=1e-3, steps=40, inputs=x, probes=probes)
    np.testing.assert_array_equal(fixed.spikes["out"].to_dense(), lava.spikes["out"].to_dense())
    np.testing.assert_array_equal(fixed.states["out"]["v"], lava.states["out"]["v"])


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize("make, error, match", [
    (lambda: lateral.uniform(-1.0), ParameterError, "must be > 0"),
    (lambda: lateral.uniform(float("nan")), ParameterError, "finite"),
    (lambda: lateral.uniform("strong"), ParameterError, "expected a number"),
    (lambda: lateral.mexican_hat(sigma_e=3.0, sigma_i=1.0, a_e=1.0, a_i=1.0), ParameterError, "sigma_e < sigma_i"),
    (lambda: lateral.mexican_hat(sigma_e=1.0, sigma_i=3.0, a_e=-1.0, a_i=1.0), ParameterError, "a_e: must be >= 0"),
    (lambda: lateral.mexican_hat(sigma_e=1.0, sigma_i=3.0, a_e=1.0, a_i=1.0, topology="torus"), ParameterError,
     "'ring' or \\(rows, cols\\)"),
    (lambda: lateral.mexican_hat(sigma_e=1.0, sigma_i=3.0, a_e=1.0, a_i=1.0, topology=(2, 0)), ParameterError,
     "positive integers"),
])
def test_bad_kernels_are_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_winner_take_all_calls_are_clear_errors():
    net = neuroport.Network()
    x = net.input(4, name="x")
    out = net.population(6, neuroport.LIF(), name="out")
    with pytest.raises(GraphError, match="must be a neuron population"):
        net.winner_take_all(x, lateral.uniform(1.0))
    with pytest.raises(GraphError, match="kernel must be"):
        net.winner_take_all(out, np.ones((6, 6)))
    with pytest.raises(GraphError, match="via must be"):
        net.winner_take_all(out, lateral.uniform(1.0), via="relay")
    with pytest.raises(ParameterError, match="holds 4 neurons, the population has 6"):
        net.winner_take_all(out, lateral.mexican_hat(sigma_e=1.0, sigma_i=2.0, a_e=1.0, a_i=1.0, topology=(2, 2)))
    with pytest.raises(ParameterError, match="relay_weight"):
        net.winner_take_all(out, lateral.uniform(1.0), via="population", relay_weight=0.0)
    with pytest.raises(GraphError, match="no node named"):
        net.winner_take_all("missing", lateral.uniform(1.0))


# ---------------------------------------------------------------- the three-layer app
def test_three_layer_app_smoke(tmp_path):
    from neuroport.apps import wta_digits as wd
    from neuroport.nodes import AdaptiveLIF, PlasticLinear

    # a tiny, denser version (30 weights <= w_max = 1 can sum to 10)
    config = wd.Config(hidden=30, neurons=10, steps=30, weight_sum=10.0, input_p=0.3, input_weight=3.0)
    graph = wd.build(config, seed=1).to_nir()
    hidden = graph.nodes["hidden"]
    assert isinstance(hidden, AdaptiveLIF) and np.unique(hidden.tau_mem).size == 30  # heterogeneous
    assert np.all(hidden.b_adapt > 0) and np.unique(hidden.tau_adapt).size == 30
    assert isinstance(graph.nodes["hidden->out"], PlasticLinear)
    data = wd.load_split()
    model = wd.WTADigits(config, seed=1)
    w0 = model.sim.weights["hidden->out"].copy()
    model.fit(data.x_train[:6])
    w = model.sim.weights["hidden->out"]
    assert not np.allclose(w, w0)
    np.testing.assert_allclose(w.sum(axis=1), config.weight_sum)
    labels = model.assign(data.x_train[:6], data.y_train[:6])
    assert labels.shape == (10,) and np.all((labels >= -1) & (labels < 10))
    pred = model.predict(data.x_test[:4])
    assert pred.shape == (4,) and np.all((pred >= 0) & (pred < 10))
    model.save(tmp_path / "wta.nir")
    again = wd.WTADigits.load(tmp_path / "wta.nir")
    np.testing.assert_array_equal(again.labels, labels)
    np.testing.assert_array_equal(again.sim.weights["hidden->out"], w)
    np.testing.assert_array_equal(again.predict(data.x_test[:4]), pred)
    with pytest.raises(InputError, match="not a WTA digits model"):
        neuroport.write(tmp_path / "plain.nir", _tiny().to_nir(), options={"dt": 1e-3})
        wd.WTADigits.load(tmp_path / "plain.nir")
    with pytest.raises(InputError, match="no labels yet"):
        wd.WTADigits(config).predict(data.x_test[:1])
    with pytest.raises(InputError, match="n_train"):
        wd.compare(n_train=0)


def test_docstring_examples_run():
    import doctest

    from neuroport.models.networks import wta_digits

    for module in (lateral, wta_digits):
        failures, tried = doctest.testmod(module)
        assert tried > 0 and failures == 0, module.__name__
