"""Network-activity pictures (neuroport.activity, neuroport.plot.network_activity, neuroport animate)."""

import dataclasses

import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection
from PIL import Image

import neuroport
from neuroport import activity, plot
from neuroport.cli import main
from neuroport.errors import BackendUnavailableError, InputError, ParameterError
from neuroport.models.networks.ei import ei_network
from neuroport.result import Result, SpikeTrain

DT = 1e-3


def tiny_net():
    net = neuroport.Network()
    x = net.input(5, name="x")
    h = net.population(6, neuroport.LIF(tau=0.01, v_threshold=1.0), name="h")
    o = net.population(3, neuroport.LIF(tau=0.01, v_threshold=1.0), name="o")
    net.connect(x, h, weight=np.full((6, 5), 2.0))
    net.connect(h, o, weight=np.full((3, 6), 2.0))
    return net


def made_result(dense: dict) -> Result:
    """A Result from boolean (steps, size) arrays per population."""
    steps = next(iter(dense.values())).shape[0]
    return Result("numpy", DT, steps, spikes={k: SpikeTrain.from_dense(v) for k, v in dense.items()})


def nodes_of(ax) -> PathCollection:
    return [c for c in ax.collections if isinstance(c, PathCollection)][0]


def test_gif_has_the_requested_number_of_frames(tmp_path):
    net = tiny_net()
    x = neuroport.encoders.poisson(np.full(5, 200.0), steps=60, dt=DT, seed=0)
    res = neuroport.run(net, dt=DT, steps=60, inputs=x, progress=False)
    path = activity.animate(res, net, tmp_path / "run.gif", frames=7, fps=5, window=5e-3, progress=False)
    with Image.open(path) as gif:
        assert gif.n_frames == 7
        assert gif.info["duration"] == pytest.approx(1000 / 5, abs=1)
    times = [0.01, 0.02, 0.03]
    with Image.open(activity.animate(res, net, tmp_path / "t.gif", times=times, progress=False)) as gif:
        assert gif.n_frames == len(times)


def test_node_colours_follow_spikes_in_the_window():
    rng = np.random.default_rng(3)
    dense = {"x": np.zeros((100, 5), bool), "h": np.zeros((100, 6), bool), "o": np.zeros((100, 3), bool)}
    dense["h"][60:] = rng.random((40, 6)) < 0.5  # silent for 60 steps, then active
    dense["h"][70:, 2] = False
    res = made_result(dense)
    window = 0.02
    fig = plot.network_activity(res, tiny_net(), times=[0.05, 0.09], window=window, max_edges=10)
    silent, active = nodes_of(fig.axes[0]), nodes_of(fig.axes[1])
    lay = activity.layout(tiny_net(), dt=DT)
    order = list(lay.positions)
    # independent count: the dense array summed over the 20 steps up to and including step 90
    expected = np.concatenate([dense[n][71:91].sum(axis=0) for n in order]) / window
    np.testing.assert_allclose(np.asarray(active.get_array()), expected)
    assert np.all(np.asarray(silent.get_array()) == 0)
    fig.canvas.draw()
    assert not np.allclose(silent.get_facecolors(), active.get_facecolors())
    assert order[:2] == ["x", "h"]
    h = slice(5, 11)  # h follows x (5 neurons) in the layout's order
    sizes = active.get_sizes()
    assert sizes[h][2] < sizes[h][expected[h].argmax()]  # a silent neuron is drawn smaller


def test_layered_populations_sit_in_distinct_columns():
    net = ei_network(topology="layered", n_layers=3, n_per_layer=20, n_input=10)
    lay = activity.layout(net, dt=DT)
    assert lay.kind == "columns"
    span = {n: (p[:, 0].min(), p[:, 0].max()) for n, p in lay.positions.items()}
    columns = [["input"], ["e0", "i0"], ["e1", "i1"], ["e2", "i2"]]
    for left, right in zip(columns, columns[1:]):
        assert max(span[n][1] for n in left) < min(span[n][0] for n in right)
    for e, i in columns[1:]:  # a layer's E and I share a column, one above the other
        assert span[e][0] < span[i][1] and span[i][0] < span[e][1]
        assert lay.positions[e][:, 1].min() > lay.positions[i][:, 1].max()
    assert all(len(np.unique(p, axis=0)) == len(p) for p in lay.positions.values())


def test_ring_network_is_drawn_as_a_ring():
    net = ei_network(topology="ring", n_layers=4, n_per_layer=20, n_input=10)
    lay = activity.layout(net, dt=DT)
    assert lay.kind == "ring"
    angles = {}
    for name, p in lay.positions.items():
        radius = np.hypot(p[:, 0], p[:, 1])
        if name == "input":
            assert radius.max() < 0.5
        else:
            assert radius.min() > 0.5 and radius.max() <= 1.0 + 1e-9
            angles[name] = np.angle(np.mean(p[:, 0] + 1j * p[:, 1]))
    layers = [angles[f"e{k}"] for k in range(4)]
    assert len({round(a, 2) for a in layers}) == 4  # each layer its own sector
    assert activity.layout(net, kind="columns", dt=DT).kind == "columns"


def test_two_dimensional_population_is_a_sheet():
    net = neuroport.Network()
    x = net.input(4, name="x")
    s = net.population(20, neuroport.LIF(tau=0.01, v_threshold=1.0), name="sheet")
    net.connect(x, s, weight=np.ones((20, 4)))
    program = neuroport.compile(net.to_nir(), dt=DT)
    pops = dict(program.populations)
    pops["sheet"] = dataclasses.replace(pops["sheet"], shape=(4, 5))  # as a conv map of 4 rows, 5 columns
    program = dataclasses.replace(program, populations=pops)
    p = activity.layout(program).positions["sheet"]
    assert len(np.unique(np.round(p[:, 0], 9))) == 5 and len(np.unique(np.round(p[:, 1], 9))) == 4
    grid = p.reshape(4, 5, 2)  # row-major: neuron r * 5 + c
    assert np.all(np.diff(grid[:, :, 0], axis=1) > 0)  # columns left to right
    assert np.all(np.diff(grid[:, :, 1], axis=0) < 0)  # rows top to bottom


def test_edge_subsampling_caps_and_keeps_real_synapses():
    net = neuroport.Network()
    x = net.input(30, name="x")
    h = net.population(30, neuroport.LIF(tau=0.02, v_threshold=1.0), name="h")
    rng = np.random.default_rng(0)
    w = rng.normal(size=(30, 30))
    w[rng.random((30, 30)) < 0.3] = 0.0
    net.connect(x, h, weight=w)
    program = neuroport.compile(net.to_nir(), dt=DT)
    total = program.n_synapses
    assert total > 300
    edges = activity.sample_edges(program, 100, seed=1)
    pre, post = np.concatenate([e[2] for e in edges]), np.concatenate([e[3] for e in edges])
    weight = np.concatenate([e[4] for e in edges])
    assert len(pre) == 100 and len(set(zip(pre, post))) == 100
    dense = program.projections[0].weights.toarray()
    np.testing.assert_array_equal(dense[post, pre], weight)
    again = activity.sample_edges(program, 100, seed=1)
    np.testing.assert_array_equal(np.concatenate([e[2] for e in again]), pre)
    assert sum(len(e[2]) for e in activity.sample_edges(program, 10 * total)) == total
    res = made_result({"x": np.zeros((20, 30), bool), "h": np.zeros((20, 30), bool)})
    fig = activity.network_activity(res, program, times=[0.01], max_edges=37)
    lines = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    assert len(lines[0].get_segments()) == 37
    with pytest.raises(ParameterError, match="max_edges"):
        activity.sample_edges(program, -1)


def test_refusals_are_clear():
    res = made_result({"x": np.zeros((20, 5), bool), "h": np.zeros((20, 7), bool)})
    with pytest.raises(InputError, match="'h' has 7 neurons in the result and 6 in the network"):
        activity.network_activity(res, tiny_net())
    ok = made_result({"x": np.zeros((20, 5), bool)})
    with pytest.raises(ParameterError, match="outside the run"):
        activity.network_activity(ok, tiny_net(), times=[0.5])
    with pytest.raises(ParameterError, match="window"):
        activity.network_activity(ok, tiny_net(), window=0.0)
    with pytest.raises(ParameterError, match=r"\.gif or \.mp4"):
        activity.animate(ok, tiny_net(), "x.avi")


def test_mp4_without_ffmpeg_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(activity.shutil, "which", lambda name: None)
    ok = made_result({"x": np.zeros((20, 5), bool)})
    with pytest.raises(BackendUnavailableError, match="ffmpeg"):
        activity.animate(ok, tiny_net(), tmp_path / "run.mp4")
    assert not (tmp_path / "run.mp4").exists()


def test_cli_animate_smoke(tmp_path, capsys):
    nir_path, npz, gif, png = (tmp_path / n for n in ("net.nir", "run.npz", "run.gif", "run.png"))
    neuroport.write(nir_path, tiny_net(), options={"dt": DT})
    assert main(["run", str(nir_path), "--steps", "80", "--input", "poisson:rate=150", "--out", str(npz),
                 "--no-progress"]) == 0
    assert main(["animate", str(nir_path), str(npz), "--out", str(gif), "--frames", "4", "--fps", "8",
                 "--window-ms", "5", "--no-progress"]) == 0
    with Image.open(gif) as im:
        assert im.n_frames == 4
    assert main(["animate", str(nir_path), str(npz), "--out", str(png), "--times", "20,79"]) == 0
    assert png.stat().st_size > 1000
    capsys.readouterr()
    assert main(["animate", str(nir_path), str(npz), "--out", str(png), "--times", "500"]) == 2
    assert "--times 500: outside the run" in capsys.readouterr().err
    assert main(["animate", str(nir_path), str(nir_path), "--out", str(png)]) == 1
    assert "not a result file" in capsys.readouterr().err
    assert main(["animate", str(nir_path), str(npz), "--out", str(tmp_path / "x.avi")]) == 2


def test_side_by_side_columns_share_one_colour_scale(tmp_path):
    net = tiny_net()
    quiet = made_result({"x": np.zeros((50, 5), bool), "h": np.zeros((50, 6), bool), "o": np.zeros((50, 3), bool)})
    busy_h = np.zeros((50, 6), bool)
    busy_h[30:40, 1] = True  # 10 spikes of one neuron in the 10 ms before t = 39 ms
    busy = made_result({"x": np.zeros((50, 5), bool), "h": busy_h, "o": np.zeros((50, 3), bool)})
    fig = activity.side_by_side({"quiet": (net, quiet), "busy": (net, busy)}, times=[0.02, 0.039], window=0.01,
                                path=tmp_path / "two.png", title="two runs")
    panels = fig.axes[:4]
    assert len(fig.axes) == 5  # 2 times x 2 runs + the colour bar
    assert "quiet" in panels[0].get_title() and "busy" in panels[1].get_title()
    # the shared top of the colour scale: the busiest neuron's window rate, 10 spikes / 10 ms
    assert [nodes_of(ax).norm.vmax for ax in panels] == pytest.approx([10 / 0.01] * 4)
    assert np.asarray(nodes_of(panels[3]).get_array()).max() == pytest.approx(1000.0)  # busy run, t = 39 ms
    assert np.asarray(nodes_of(panels[2]).get_array()).max() == 0.0  # quiet run, t = 39 ms
    assert (tmp_path / "two.png").stat().st_size > 5000
    with pytest.raises(ParameterError, match="runs"):
        activity.side_by_side({}, times=[0.01])
    with pytest.raises(ParameterError, match="outside the run"):
        activity.side_by_side({"quiet": (net, quiet)}, times=[0.5])


def test_panel_times_switch_units_with_the_run_length():
    dense = {"x": np.zeros((3000, 5), bool), "h": np.zeros((3000, 6), bool), "o": np.zeros((3000, 3), bool)}
    dense["h"][2990:, 0] = True
    res = made_result(dense)  # 3000 steps of 1 ms: 3 s, shown in s
    fig = plot.network_activity(res, tiny_net(), times=[0.5, 2.999], window=0.01, max_edges=0)
    assert fig.axes[0].get_title() == "t = 0.5 s (0 spikes in the last 10 ms)"
    assert fig.axes[1].get_title() == "t = 2.999 s (10 spikes in the last 10 ms)"
