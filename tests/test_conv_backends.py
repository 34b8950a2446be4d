"""Conv1d, Conv2d, AvgPool2d, SumPool2d, Flatten, Scale and Threshold nodes on every backend.

Two small graphs: (a) Input (2, 12) -> Conv1d -> LIF (4, 12), checked on numpy against a plain
loop written here (reference convolution + the Euler LIF step of docs/semantics.md); (b) Input
(2, 9, 9) -> Conv2d (groups 2, dilation 2, non-square kernel) -> LIF -> AvgPool2d -> Scale ->
Threshold, and LIF -> SumPool2d -> Flatten -> Affine -> LIF. Then every backend against numpy by
its criterion in neuroport/compare.py THRESHOLDS.
"""

import warnings

import nir
import numpy as np
import pytest

import neuroport
from neuroport import backend as registry
from neuroport.compare import compare
from neuroport.errors import QuantizationWarning

from test_conv import reference_conv

DT = 1e-3
STEPS = 60


def lif(shape, r, tau=0.005):
    n = np.ones(shape)
    return nir.LIF(tau=tau * n, r=r * n, v_leak=0 * n, v_threshold=n, v_reset=0 * n)


def conv1d_graph(rng):
    w = rng.normal(0.0, 1.5, size=(4, 2, 3))
    b = np.full(4, 0.05)
    nodes = {"input": nir.Input(input_type={"input": np.array([2, 12])}),
             "conv": nir.Conv1d(input_shape=12, weight=w, stride=1, padding=1, dilation=1, groups=1, bias=b),
             "lif": lif((4, 12), r=5.0), "output": nir.Output(output_type={"output": np.array([4, 12])})}
    return nir.NIRGraph(nodes=nodes, edges=[("input", "conv"), ("conv", "lif"), ("lif", "output")],
                        type_check=False), w, b


def conv2d_graph(rng):
    w1 = rng.normal(0.0, 1.2, size=(4, 1, 3, 2))
    w2 = rng.normal(0.0, 0.6, size=(5, 4 * 2 * 3))
    nodes = {
        "input": nir.Input(input_type={"input": np.array([2, 9, 9])}),
        "conv": nir.Conv2d(input_shape=(9, 9), weight=w1, stride=(1, 2), padding=(2, 1), dilation=(2, 1),
                           groups=2, bias=np.zeros(4)),
        "a": lif((4, 9, 5), r=6.0),
        "avg": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "scale": nir.Scale(scale=np.full((4, 4, 2), 2.5)),
        "thr": nir.Threshold(threshold=np.full((4, 4, 2), 0.4)),
        "sum": nir.SumPool2d(kernel_size=np.array([3, 2]), stride=np.array([3, 2]), padding=np.array([0, 1])),
        "flat": nir.Flatten(input_type={"input": np.array([4, 3, 3])}, start_dim=0),
        "fc": nir.Affine(weight=np.hstack([w2, w2[:, :12]]), bias=np.zeros(5)),
        "b": lif(5, r=4.0),
        "out_t": nir.Output(output_type={"output": np.array([4, 4, 2])}),
        "out_b": nir.Output(output_type={"output": np.array([5])}),
    }
    edges = [("input", "conv"), ("conv", "a"), ("a", "avg"), ("avg", "scale"), ("scale", "thr"), ("thr", "out_t"),
             ("a", "sum"), ("sum", "flat"), ("flat", "fc"), ("fc", "b"), ("b", "out_b")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def spikes(shape, rate, seed):
    rng = np.random.default_rng(seed)
    return (rng.random((STEPS, int(np.prod(shape)))) < rate).astype(float)


def test_conv1d_lif_matches_a_plain_loop():
    rng = np.random.default_rng(0)
    graph, w, b = conv1d_graph(rng)
    x = spikes((2, 12), 0.3, 1)
    result = neuroport.run(graph, backend="numpy", dt=DT, steps=STEPS, inputs={"input": x}, probes=[("lif", "v")])
    # plain Euler LIF (tau v' = -v + r I, strict v > 1, reset to 0), timing="hardware": the
    # convolution of the spikes of step t - 1 arrives at step t
    dv, r = DT / 0.005, 5.0
    v = np.zeros(48)
    vs, spk = [], []
    prev = np.zeros((2, 12))  # nothing was sent before step 0
    for t in range(STEPS):
        # the conv's bias is a constant input, there from step 0
        current = reference_conv(prev, w, b, (1,), ((1, 1),), (1,), 1).ravel()
        v = v + dv * (-v + r * current)
        fired = v > 1.0
        spk.append(fired.copy())
        v[fired] = 0.0
        vs.append(v.copy())
        prev = x[t].reshape(2, 12)
    got = np.zeros((STEPS, 48), dtype=bool)
    got[result.spikes["lif"].steps, result.spikes["lif"].neurons] = True
    assert np.array(spk).sum() > 10
    np.testing.assert_array_equal(got, np.array(spk))


def _run(graph, backend, inputs, probes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        return neuroport.run(graph, backend=backend, dt=DT, steps=STEPS, inputs=inputs, probes=probes)


GRAPHS = {"conv1d": lambda: conv1d_graph(np.random.default_rng(0))[0],
          "conv2d_pools": lambda: conv2d_graph(np.random.default_rng(2))}
INPUT_SHAPES = {"conv1d": (2, 12), "conv2d_pools": (2, 9, 9)}


@pytest.mark.parametrize("name", list(GRAPHS))
@pytest.mark.parametrize("pair", [("numpy", "lava"), ("numpy-fixed", "lava-fixed"), ("numpy", "brian2")])
def test_backends_agree(name, pair):
    for be in pair:
        ok, reason = registry.get(be).available()
        if not ok:
            pytest.skip(f"backend {be} unavailable: {reason}")
    graph = GRAPHS[name]()
    inputs = {"input": spikes(INPUT_SHAPES[name], 0.3, 3)}
    program = neuroport.compile(graph, dt=DT)
    pops = [p for p, pop in program.populations.items() if not pop.is_input]
    probes = [(p, "v") for p in pops] if pair[1] != "brian2" else []
    a, b = (_run(graph, be, inputs, probes) for be in pair)
    assert all(a.spikes[p].count > 0 for p in pops), {p: a.spikes[p].count for p in pops}
    if pair[1] == "brian2":
        report = compare(a, b, k=1)
        for p in pops:
            assert report.populations[p].match >= 0.99, (p, report.populations[p])
        return
    for p in pops:
        np.testing.assert_array_equal(a.spikes[p].steps, b.spikes[p].steps)
        np.testing.assert_array_equal(a.spikes[p].neurons, b.spikes[p].neurons)
        if pair[0] == "numpy-fixed":
            np.testing.assert_array_equal(a.state(p, "v"), b.state(p, "v"))
        else:
            np.testing.assert_allclose(b.state(p, "v"), a.state(p, "v"), rtol=0, atol=1e-9)


def test_fixed_point_tracks_float():
    graph = GRAPHS["conv2d_pools"]()
    inputs = {"input": spikes(INPUT_SHAPES["conv2d_pools"], 0.3, 3)}
    a, b = _run(graph, "numpy", inputs, []), _run(graph, "numpy-fixed", inputs, [])
    report = compare(a, b, k=1)
    for p in ("a", "thr", "b"):
        assert report.populations[p].match >= 0.9, (p, report.populations[p])
