"""neuroport.compile: options, discretisation formulas, timing, errors."""

import math

import nir
import numpy as np
import pytest

import neuroport
from neuroport.errors import NeuroportError
from neuroport.errors import CompileError, GraphError, ParameterError, UnsupportedNodeError


def _lif_graph(tau=0.01, **extra):
    net = neuroport.Network()
    x = net.input(2, name="x")
    y = net.population(2, neuroport.LIF(tau=tau, v_threshold=1.0, v_leak=0.2, v_reset=-0.5, r=2.0), name="y")
    net.connect(x, y, weight=[[1.0, 0.0], [0.5, 3.0]], **extra)
    return net.to_nir()


def test_missing_dt_lists_the_ways_to_give_one():
    with pytest.raises(CompileError, match=r"no time step.*dt=.*profile.*--dt"):
        neuroport.compile(_lif_graph())


def test_profile_supplies_dt():
    assert neuroport.compile(_lif_graph(), profile="norse").dt == 1e-3
    with pytest.raises(CompileError, match="unknown profile 'torch'"):
        neuroport.compile(_lif_graph(), profile="torch")


@pytest.mark.parametrize("key,value", [("scheme", "rk4"), ("reset", "soft"), ("timing", "fast")])
def test_bad_option_names_the_choices(key, value):
    with pytest.raises(CompileError, match=f"{key}: expected one of"):
        neuroport.compile(_lif_graph(), dt=1e-3, **{key: value})


def test_euler_lif_coefficients_by_hand():
    p = neuroport.compile(_lif_graph(), dt=1e-3)
    pop = p.populations["y"]
    dv = 1e-3 / 0.01
    np.testing.assert_allclose(pop.params["dv"], dv)
    np.testing.assert_allclose(pop.params["du"], 1.0)
    np.testing.assert_allclose(pop.params["v_threshold"], 1.0 - (-0.5))
    np.testing.assert_allclose(pop.params["bias"], dv * (0.2 - (-0.5)))
    np.testing.assert_allclose(pop.v_offset, -0.5)
    w = p.projections[0].weights.toarray()
    np.testing.assert_allclose(w, dv * 2.0 * np.array([[1.0, 0.0], [0.5, 3.0]]))


def test_exact_scheme():
    p = neuroport.compile(_lif_graph(), dt=1e-3, scheme="exact")
    np.testing.assert_allclose(p.populations["y"].params["dv"], 1 - math.exp(-0.1))


def test_euler_refuses_dt_larger_than_tau():
    with pytest.raises(ParameterError, match=r"y\.tau.*dt <= tau.*scheme='exact'"):
        neuroport.compile(_lif_graph(tau=5e-4), dt=1e-3)
    assert neuroport.compile(_lif_graph(tau=5e-4), dt=1e-3, scheme="exact")


def test_cubalif_gains():
    net = neuroport.Network()
    x = net.input(1, name="x")
    c = net.population(1, neuroport.CubaLIF(tau_syn=0.005, tau_mem=0.02, r=2.0, w_in=3.0), name="c")
    net.connect(x, c, weight=0.5)
    p = neuroport.compile(net.to_nir(), dt=1e-3)
    du, dv = 1e-3 / 0.005, 1e-3 / 0.02
    np.testing.assert_allclose(p.populations["c"].params["du"], du)
    np.testing.assert_allclose(p.projections[0].weights.toarray(), [[dv * 2.0 * du * 3.0 * 0.5]])


def test_hardware_timing_adds_one_step_everywhere():
    g = _lif_graph(delay=3e-3)
    ideal = neuroport.compile(g, dt=1e-3, timing="ideal")
    hardware = neuroport.compile(g, dt=1e-3, timing="hardware")
    assert set(ideal.projections[0].delays.tolist()) == {3}
    assert set(hardware.projections[0].delays.tolist()) == {4}


def test_fractional_delay_is_refused():
    with pytest.raises(ParameterError, match="whole number of steps"):
        neuroport.compile(_lif_graph(delay=1.5e-3), dt=1e-3)


def test_ideal_recurrent_edges_get_one_step_and_feedforward_zero():
    net = neuroport.Network()
    x = net.input(2, name="x")
    a = net.population(2, neuroport.LIF(), name="a")
    b = net.population(2, neuroport.LIF(), name="b")
    net.connect(x, a)
    net.connect(a, b)
    net.connect(b, a)
    net.connect(b, b)
    p = neuroport.compile(net.to_nir(), dt=1e-3, timing="ideal")
    delays = {(q.pre, q.post): int(q.delays.max()) for q in p.projections}
    assert delays == {("x", "a"): 0, ("a", "b"): 0, ("b", "a"): 1, ("b", "b"): 1}
    assert list(p.populations) == ["x", "a", "b"]


def test_affine_bias_becomes_neuron_bias():
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type={"input": np.array([1])}),
               "fc": nir.Affine(weight=np.array([[1.0]]), bias=np.array([0.3])),
               "y": nir.LIF(tau=np.array([0.01]), r=np.array([2.0]), v_leak=np.array([0.0]),
                            v_threshold=np.array([1.0]))},
        edges=[("x", "fc"), ("fc", "y")], type_check=False)
    p = neuroport.compile(graph, dt=1e-3)
    np.testing.assert_allclose(p.populations["y"].params["bias"], 0.1 * 2.0 * 0.3)


def test_composed_linear_scale_chain():
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type={"input": np.array([2])}),
               "l1": nir.Linear(weight=np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])),
               "s": nir.Scale(scale=np.array([1.0, 0.0, 2.0])),
               "l2": nir.Linear(weight=np.array([[1.0, 1.0, 1.0]])),
               "y": nir.IF(r=np.array([1.0]), v_threshold=np.array([1.0]))},
        edges=[("x", "l1"), ("l1", "s"), ("s", "l2"), ("l2", "y")], type_check=False)
    p = neuroport.compile(graph, dt=1e-3)
    expected = np.array([[1.0, 1.0, 1.0]]) @ np.diag([1.0, 0.0, 2.0]) @ np.array([[1, 2], [3, 4], [5, 6]])
    np.testing.assert_allclose(p.projections[0].weights.toarray(), 1e-3 * expected)


def test_unknown_edge_end():
    graph = nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array([1])})},
                         edges=[("x", "ghost")], type_check=False)
    with pytest.raises(GraphError, match="'ghost'"):
        neuroport.compile(graph, dt=1e-3)


def test_unsupported_node_is_named():
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type={"input": np.array([1, 4, 4])}),
               "pool": nir.Delay(delay=np.array([np.nan] * 16)),
               "y": nir.LIF(tau=np.ones(16) * 0.01, r=np.ones(16), v_leak=np.zeros(16),
                            v_threshold=np.ones(16), v_reset=np.zeros(16))},
        edges=[("x", "pool"), ("pool", "y")], type_check=False)
    with pytest.raises(NeuroportError, match=r"pool"):
        neuroport.compile(graph, dt=1e-3)


def test_compile_does_not_mutate_the_graph():
    g = _lif_graph()
    before = g.nodes["y"].tau.copy()
    neuroport.compile(g, dt=1e-3)
    np.testing.assert_array_equal(g.nodes["y"].tau, before)


def test_nan_weight_is_refused():
    net = neuroport.Network()
    x = net.input(2)
    y = net.population(2, neuroport.LIF(), name="y")
    with pytest.raises(ParameterError, match="NaN"):
        net.connect(x, y, weight=np.array([[np.nan, 0], [0, 1]]))
