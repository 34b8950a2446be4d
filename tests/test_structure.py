"""neuroport.structure: paths composed iteratively (issue 12 defect 4).

The walk over transforms must refuse a cycle that has no neuron population
with a GraphError naming it, handle chains far longer than Python's recursion
limit, and stay linear in nodes + edges where paths fork and rejoin.
"""

import time

import nir
import numpy as np
import pytest

import neuroport
from neuroport.errors import GraphError
from neuroport.structure import analyse


def _inp(n):
    return nir.Input(input_type={"input": np.array([n])})


def _if(n):
    return nir.IF(r=np.ones(n), v_threshold=np.ones(n))


def test_cycle_of_linear_nodes_is_a_graph_error_naming_the_cycle():
    graph = nir.NIRGraph(
        nodes={"x": _inp(2), "l1": nir.Linear(weight=np.eye(2)), "l2": nir.Linear(weight=np.eye(2)),
               "l3": nir.Linear(weight=np.eye(2)), "y": _if(2)},
        edges=[("x", "l1"), ("l1", "l2"), ("l2", "l3"), ("l3", "l1"), ("l2", "y")], type_check=False)
    with pytest.raises(GraphError) as err:
        neuroport.compile(graph, dt=1e-3)
    msg = str(err.value)
    assert "cycle" in msg
    for name in ("l1", "l2", "l3"):
        assert repr(name) in msg or f"{name} ->" in msg or f"-> {name}" in msg
    assert "'y'" not in msg and "'x'" not in msg


def test_self_loop_on_a_transform_is_a_graph_error():
    graph = nir.NIRGraph(
        nodes={"x": _inp(2), "s": nir.Scale(scale=np.ones(2)), "y": _if(2)},
        edges=[("x", "s"), ("s", "s"), ("s", "y")], type_check=False)
    with pytest.raises(GraphError, match="cycle.*'s'"):
        neuroport.compile(graph, dt=1e-3)


def test_cycle_through_a_population_is_still_allowed():
    graph = nir.NIRGraph(
        nodes={"x": _inp(2), "l1": nir.Linear(weight=np.eye(2)), "y": _if(2),
               "rec": nir.Linear(weight=0.5 * np.eye(2))},
        edges=[("x", "l1"), ("l1", "y"), ("y", "rec"), ("rec", "y")], type_check=False)
    p = neuroport.compile(graph, dt=1e-3)
    assert {(q.pre, q.post) for q in p.projections} == {("x", "y"), ("y", "y")}


def test_chain_of_1100_scale_nodes_compiles():
    n = 1100
    rng = np.random.default_rng(3)
    scales = rng.uniform(0.999, 1.001, size=(n, 2))
    nodes = {"x": _inp(2), "y": _if(2)}
    edges = [("x", "s0")]
    for i in range(n):
        nodes[f"s{i}"] = nir.Scale(scale=scales[i])
        if i:
            edges.append((f"s{i - 1}", f"s{i}"))
    edges.append((f"s{n - 1}", "y"))
    graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)
    structure = analyse(graph)
    assert len(structure.paths) == 1
    np.testing.assert_allclose(structure.paths[0].matrix.toarray(), np.diag(np.prod(scales, axis=0)),
                               rtol=1e-12)
    assert neuroport.compile(graph, dt=1e-3).projections[0].nnz == 2


def _diamonds(k, left=0.25, right=0.75, delay_every=None):
    """k diamonds in series: each a Scale pair that forks from and rejoins at Identity-like Scale(1) nodes."""
    nodes = {"x": _inp(3), "y": _if(3), "j0": nir.Scale(scale=np.ones(3))}
    edges = [("x", "j0")]
    for i in range(k):
        a, b, j = f"a{i}", f"b{i}", f"j{i + 1}"
        nodes[a] = nir.Scale(scale=np.full(3, left))
        nodes[b] = nir.Scale(scale=np.full(3, right))
        nodes[j] = nir.Scale(scale=np.ones(3))
        edges += [(f"j{i}", a), (f"j{i}", b), (a, j), (b, j)]
    edges.append((f"j{k}", "y"))
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def test_thirty_diamonds_in_series_compile_fast():
    k = 30
    graph = _diamonds(k, left=0.25, right=0.5)
    start = time.perf_counter()
    program = neuroport.compile(graph, dt=1e-3)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5, f"30 diamonds took {elapsed:.2f} s"
    # all 2**30 routes carry the same delay: the effective weight is the sum over routes,
    # (0.25 + 0.5) ** 30 per neuron, times IF's input gain dt * r / dt = ... (read from a 1-route graph)
    one = neuroport.compile(_diamonds(1, left=1.0, right=0.0), dt=1e-3)
    gain = one.projections[0].weights.toarray()[0, 0]
    total = sum(p.weights.toarray() for p in program.projections)
    np.testing.assert_allclose(total, np.eye(3) * gain * 0.75 ** k, rtol=1e-12)


def test_diamond_with_unequal_delays_keeps_both_routes():
    graph = nir.NIRGraph(
        nodes={"x": _inp(2), "s": nir.Scale(scale=np.ones(2)),
               "a": nir.Scale(scale=np.full(2, 2.0)), "d": nir.Delay(delay=np.full(2, 3e-3)),
               "b": nir.Scale(scale=np.full(2, 5.0)), "j": nir.Scale(scale=np.ones(2)), "y": _if(2)},
        edges=[("x", "s"), ("s", "a"), ("a", "d"), ("d", "j"), ("s", "b"), ("b", "j"), ("j", "y")],
        type_check=False)
    p = neuroport.compile(graph, dt=1e-3)  # hardware timing: + 1 step everywhere
    by_delay = {int(q.delays.max()): q.weights.toarray()[0, 0] for q in p.projections}
    assert set(by_delay) == {1, 4}
    assert by_delay[4] / by_delay[1] == pytest.approx(2.0 / 5.0)


def test_affine_bias_before_a_fork_counts_once_per_route():
    graph = nir.NIRGraph(
        nodes={"x": _inp(1), "fc": nir.Affine(weight=np.array([[1.0]]), bias=np.array([0.3])),
               "a": nir.Scale(scale=np.array([1.0])), "b": nir.Scale(scale=np.array([2.0])),
               "j": nir.Scale(scale=np.array([1.0])),
               "y": nir.LIF(tau=np.array([0.01]), r=np.array([2.0]), v_leak=np.array([0.0]),
                            v_threshold=np.array([1.0]))},
        edges=[("x", "fc"), ("fc", "a"), ("fc", "b"), ("a", "j"), ("b", "j"), ("j", "y")], type_check=False)
    p = neuroport.compile(graph, dt=1e-3)
    # y receives (1 + 2) * (x + 0.3): bias 3 * 0.3 through the LIF gain dt / tau * r = 0.2
    np.testing.assert_allclose(p.populations["y"].params["bias"], 0.2 * 3 * 0.3)
    np.testing.assert_allclose(sum(q.weights.toarray() for q in p.projections), [[0.2 * 3]])
