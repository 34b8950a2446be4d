"""STDP on the numpy engine: the rules against hand computation, and the stateful Simulator."""

import nir
import numpy as np
import pytest

import neuroport
from neuroport.errors import GraphError, ParameterError
from neuroport.nodes import PlasticLinear


def _pairing_graph(**rule):
    """pre -> PlasticLinear -> y (IF); a second input forces y to spike when we want."""
    params = dict(weight=np.array([[0.5]]), tau_pre=0.02, tau_post=0.02, a_plus=0.01, a_minus=0.012,
                  w_min=0.0, w_max=1.0)
    params.update(rule)
    return nir.NIRGraph(nodes={
        "pre": nir.Input(input_type={"input": np.array([1])}),
        "force": nir.Input(input_type={"input": np.array([1])}),
        "w": PlasticLinear(**params),
        "drive": nir.Linear(weight=np.array([[1000.0]])),
        "y": nir.IF(r=np.array([1.0]), v_threshold=np.array([0.5]), v_reset=np.array([0.0])),
    }, edges=[("pre", "w"), ("w", "y"), ("force", "drive"), ("drive", "y")], type_check=False)


def _pair(shift, **rule):
    steps = 200
    pre, force = np.zeros((steps, 1)), np.zeros((steps, 1))
    pre[100, 0] = 1
    force[100 + shift, 0] = 1
    res = neuroport.run(_pairing_graph(**rule), dt=1e-3, steps=steps, inputs={"pre": pre, "force": force},
                        timing="ideal")
    assert res.spikes["y"].steps.tolist() == [100 + shift]
    return res.weights["w"][0, 0]


@pytest.mark.parametrize("shift", [-20, -3, -1, 1, 3, 20])
def test_pair_stdp_window_by_hand(shift):
    # traces decay by (1 - dt/tau) per step after their spike: potentiation a_plus * 0.95**|shift|
    # when post follows pre, depression a_minus * 0.95**|shift| when pre follows post
    decay = 1 - 1e-3 / 0.02
    expected = 0.5 + (0.01 if shift > 0 else -0.012) * decay ** abs(shift)
    assert _pair(shift) == pytest.approx(expected, abs=1e-12)


def test_coincident_spikes_apply_both_terms():
    assert _pair(0) == pytest.approx(0.5 + 0.01 - 0.012, abs=1e-12)


def test_soft_bounds_scale_by_distance_to_bound():
    w0, decay = 0.8, 1 - 1e-3 / 0.02
    up = _pair(2, weight=np.array([[w0]]), bounds="soft")
    down = _pair(-2, weight=np.array([[w0]]), bounds="soft")
    assert up == pytest.approx(w0 + 0.01 * decay ** 2 * (1.0 - w0), abs=1e-12)
    assert down == pytest.approx(w0 - 0.012 * decay ** 2 * (w0 - 0.0), abs=1e-12)


def test_hard_bounds_clip():
    assert _pair(1, weight=np.array([[0.999]]), a_plus=0.5) == 1.0
    assert _pair(-1, weight=np.array([[0.001]]), a_minus=0.5) == 0.0


def test_diehl_cook_rule_by_hand():
    # post spike 4 steps after the pre spike: dW = eta * (x_pre - x_tar) * (w_max - w) ** mu
    eta, x_tar, mu, w0 = 0.05, 0.4, 0.5, 0.3
    decay = 1 - 1e-3 / 0.02
    w = _pair(4, rule="diehl_cook", weight=np.array([[w0]]), eta=eta, x_tar=x_tar, mu=mu, a_minus=0.0)
    assert w == pytest.approx(w0 + eta * (decay ** 4 - x_tar) * (1.0 - w0) ** mu, abs=1e-12)
    # without a recent pre spike the offset depresses
    w_far = _pair(60, rule="diehl_cook", weight=np.array([[w0]]), eta=eta, x_tar=x_tar, mu=mu, a_minus=0.0)
    assert w_far < w0


def test_absent_synapses_stay_absent():
    net_graph = nir.NIRGraph(nodes={
        "x": nir.Input(input_type={"input": np.array([2])}),
        "w": PlasticLinear(weight=np.array([[0.5, 0.0], [0.5, 0.5]]),
                           connectivity=np.array([[True, False], [True, True]]), a_plus=0.1),
        "y": nir.IF(r=np.ones(2), v_threshold=np.full(2, 1e-4), v_reset=np.zeros(2)),
    }, edges=[("x", "w"), ("w", "y")], type_check=False)
    res = neuroport.run(net_graph, dt=1e-3, steps=50, inputs=np.ones((50, 2)), timing="ideal")
    assert res.weights["w"][0, 1] == 0.0
    assert res.weights["w"][1, 1] > 0.5


def test_plastic_node_validation():
    with pytest.raises(GraphError, match="rule"):
        PlasticLinear(weight=np.ones((1, 1)), rule="bcm")
    with pytest.raises(ParameterError, match="w_min < w_max"):
        PlasticLinear(weight=np.ones((1, 1)), w_min=1.0, w_max=0.5)


def _training_net(seed=0):
    rng = np.random.default_rng(seed)
    graph = nir.NIRGraph(nodes={
        "x": nir.Input(input_type={"input": np.array([8])}),
        "w": PlasticLinear(weight=rng.uniform(0.2, 0.8, size=(4, 8)), rule="diehl_cook", eta=0.02, x_tar=0.3,
                           a_minus=0.001),
        "y": neuroport.LIF(tau=0.02, v_threshold=0.5, tau_theta=0.0, theta_plus=0.05).to_nir(4),
    }, edges=[("x", "w"), ("w", "y")], type_check=False)
    samples = [(rng.random((40, 8)) < rng.random(8) * 0.5).astype(float) for _ in range(6)]
    return graph, samples


def _train(sim, samples):
    for sample in samples:
        sim.run(len(sample), inputs=sample)
        sim.reset()


def test_simulator_continues_exactly():
    graph, samples = _training_net()
    one = neuroport.Simulator(graph, dt=1e-3)
    whole = np.concatenate(samples)
    r1 = one.run(len(whole), inputs=whole)
    two = neuroport.Simulator(graph, dt=1e-3)
    parts = [two.run(len(s), inputs=s) for s in samples]
    np.testing.assert_array_equal(r1.weights["w"], parts[-1].weights["w"])
    steps = np.concatenate([p.spikes["y"].steps + sum(len(s) for s in samples[:k]) for k, p in enumerate(parts)])
    np.testing.assert_array_equal(r1.spikes["y"].steps, steps)
    assert two.t == len(whole)


def test_save_reload_continue_equals_uninterrupted(tmp_path):
    graph, samples = _training_net()
    straight = neuroport.Simulator(graph, dt=1e-3)
    _train(straight, samples)
    first = neuroport.Simulator(graph, dt=1e-3)
    _train(first, samples[:3])
    path = tmp_path / "trained.nir"
    neuroport.write(path, first.to_nir(), options={"dt": 1e-3})
    resumed = neuroport.Simulator(neuroport.read(path))
    np.testing.assert_array_equal(resumed.state("y")["theta"], first.state("y")["theta"])
    _train(resumed, samples[3:])
    np.testing.assert_array_equal(resumed.weights["w"], straight.weights["w"])
    np.testing.assert_array_equal(resumed.state("y")["theta"], straight.state("y")["theta"])
    assert not np.array_equal(straight.weights["w"], graph.nodes["w"].weight)  # it learned something


def test_simulator_refuses_backends_without_state():
    graph, _ = _training_net()
    with pytest.raises(neuroport.NeuroportError, match="cannot keep state"):
        neuroport.Simulator(graph, dt=1e-3, backend="brian2")


def test_set_weights_on_the_fixed_engine_round_trips_through_the_scale():
    import warnings

    graph = nir.NIRGraph(nodes={
        "x": nir.Input(input_type={"input": np.array([3])}),
        "w": PlasticLinear(weight=np.full((2, 3), 0.5), a_plus=2 ** -6, a_minus=2 ** -6),
        "y": neuroport.LIF(tau=0.02, v_threshold=1.0).to_nir(2),
    }, edges=[("x", "w"), ("w", "y")], type_check=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", neuroport.QuantizationWarning)
        sim = neuroport.Simulator(graph, backend="numpy-fixed", dt=1e-3)
    scale = sim.engine.plastic[next(iter(sim.engine.plastic))].weight_scale
    target = np.array([[0.1, 0.25, 0.9], [0.0, 0.5, 1.0]])
    sim.set_weights("w", target)
    np.testing.assert_allclose(sim.weights["w"], np.rint(target * scale) / scale)


def test_package_attribute_quantize_is_the_function():
    import importlib

    importlib.import_module("neuroport.quantize")
    assert callable(neuroport.quantize) and neuroport.quantize.__name__ == "quantize"
