"""neuroport.read / neuroport.write: round trips, atomic writes, and a guard per nir 1.0.8 defect."""

import os

import h5py
import nir
import numpy as np
import pytest
import scipy.sparse as sp
from nir.ir.graph import Identity

import neuroport
from neuroport.errors import GraphError, NIRFileError, ParameterError, UnsupportedNodeError


def _small_network():
    net = neuroport.Network()
    x = net.input(4, name="x")
    zeta = net.population(3, neuroport.LIF(tau=0.01, v_threshold=[1.0, 1.5, 2.0]), name="zeta")
    alpha = net.population(2, neuroport.CubaLIF(tau_syn=0.005, tau_mem=0.02), name="alpha")
    net.connect(x, zeta, weight=np.arange(12.0).reshape(3, 4))
    net.connect(zeta, alpha, weight=0.5, delay=2e-3)
    net.output(alpha)
    net.probe(zeta, "v")
    return net


def _arrays(graph):
    out = {}
    for name, node in graph.nodes.items():
        for field, value in vars(node).items():
            if field in ("input_type", "output_type", "metadata"):
                continue
            out[(name, field)] = np.asarray(value)
    return out


def test_round_trip_keeps_arrays_order_and_probes(tmp_path):
    net = _small_network()
    path = tmp_path / "net.nir"
    neuroport.write(path, net)
    back = neuroport.Network.from_nir(neuroport.read(path))
    assert list(back.nodes) == list(net.nodes)  # nir.read alone returns them alphabetically
    assert back.edges == net.edges
    assert back.probes == net.probes
    a, b = _arrays(net.to_nir()), _arrays(back.to_nir())
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=str(key))


def test_plain_nir_graph_is_readable_by_nir(tmp_path):
    path = tmp_path / "plain.nir"
    neuroport.write(path, _small_network())
    graph = nir.read(str(path))
    assert {type(n).__name__ for n in graph.nodes.values()} >= {"Input", "LIF", "CubaLIF", "Linear", "Delay"}


def test_nir_alphabetical_order_defect_is_guarded(tmp_path):
    path = tmp_path / "order.nir"
    neuroport.write(path, _small_network())
    assert list(nir.read(str(path)).nodes) == sorted(neuroport.read(path).nodes)
    assert list(neuroport.read(path).nodes)[:3] == ["x", "zeta", "alpha"]


def test_sparse_extension_fails_loudly_in_plain_nir(tmp_path):
    net = neuroport.Network()
    x = net.input(2000, name="x")
    y = net.population(1000, neuroport.LIF(), name="y")
    net.connect(x, y, weight=0.1, p=0.01, seed=3)
    path = tmp_path / "sparse.nir"
    neuroport.write(path, net)
    with pytest.raises(Exception):
        nir.read(str(path))
    back = neuroport.read(path)
    original = net.nodes["x->y"].matrix()
    assert (back.nodes["x->y"].matrix() != original).nnz == 0
    assert original.nnz > 0


def test_truncated_file_gives_a_neuroport_error(tmp_path):
    path = tmp_path / "net.nir"
    neuroport.write(path, _small_network())
    data = path.read_bytes()
    cut = tmp_path / "cut.nir"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(NIRFileError, match="cut.nir"):
        neuroport.read(cut)


def test_not_hdf5_and_missing_file(tmp_path):
    bogus = tmp_path / "bogus.nir"
    bogus.write_text("not hdf5")
    with pytest.raises(NIRFileError, match="cannot be read"):
        neuroport.read(bogus)
    with pytest.raises(NIRFileError, match="no such file"):
        neuroport.read(tmp_path / "absent.nir")


def test_unknown_node_type_names_the_node(tmp_path):
    path = tmp_path / "net.nir"
    neuroport.write(path, _small_network())
    with h5py.File(path, "r+") as f:
        del f["node/nodes/zeta/type"]
        f["node/nodes/zeta"].create_dataset("type", data="FancyNeuron", dtype=h5py.string_dtype())
    with pytest.raises(NIRFileError, match=r"zeta.*'FancyNeuron'"):
        neuroport.read(path)


def test_malformed_node_fields(tmp_path):
    path = tmp_path / "net.nir"
    neuroport.write(path, _small_network())
    with h5py.File(path, "r+") as f:
        del f["node/nodes/zeta/tau"]
    with pytest.raises(NIRFileError, match="zeta"):
        neuroport.read(path)


def test_failed_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "net.nir"
    neuroport.write(path, _small_network())
    before = path.read_bytes()

    def broken_write(filename, graph, *a, **k):
        with open(filename, "wb") as f:
            f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(nir, "write", broken_write)
    with pytest.raises(NIRFileError, match="left unchanged"):
        neuroport.write(path, _small_network())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.nir"]


def test_none_in_metadata_is_refused_with_the_key(tmp_path):
    net = _small_network()
    net.metadata["author"] = None
    with pytest.raises(NIRFileError, match="author"):
        neuroport.write(tmp_path / "x.nir", net)
    assert not (tmp_path / "x.nir").exists()


def test_identity_round_trips(tmp_path):
    graph = nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([3])}),
               "id": Identity(input_type={"input": np.array([3])}),
               "lif": nir.LIF(tau=np.full(3, 0.01), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3)),
               "out": nir.Output(output_type={"output": np.array([3])})},
        edges=[("in", "id"), ("id", "lif"), ("lif", "out")], type_check=False)
    with pytest.raises(Exception):
        nir.write(str(tmp_path / "raw.nir"), graph)  # the defect neuroport guards against
    neuroport.write(tmp_path / "id.nir", graph)
    back = neuroport.read(tmp_path / "id.nir")
    assert isinstance(back.nodes["id"], Identity)
    program = neuroport.compile(back, dt=1e-3)
    # Identity passes the input through; the only gain is the Euler factor dt / tau = 0.1
    np.testing.assert_allclose(program.projections[0].weights.toarray(), 0.1 * np.eye(3))


def test_scalar_parameters_are_made_arrays_by_the_builder():
    with pytest.raises(AttributeError):
        nir.LIF(tau=0.01, r=1.0, v_leak=0.0, v_threshold=1.0)  # nir rejects scalars
    node = neuroport.LIF(tau=0.01).to_nir(3)
    assert node.tau.shape == (3,)


def test_nested_graph_reads_without_type_check_and_compiles(tmp_path):
    inner = nir.NIRGraph(
        nodes={"i": nir.Input(input_type={"input": np.array([2])}),
               "w": nir.Linear(weight=np.eye(2)),
               "lif": nir.LIF(tau=np.full(2, 0.01), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2)),
               "o": nir.Output(output_type={"output": np.array([2])})},
        edges=[("i", "w"), ("w", "lif"), ("lif", "o")], type_check=False)
    outer = nir.NIRGraph(
        nodes={"x": nir.Input(input_type={"input": np.array([2])}), "sub": inner,
               "y": nir.Output(output_type={"output": np.array([2])})},
        edges=[("x", "sub"), ("sub", "y")], type_check=False)
    neuroport.write(tmp_path / "nested.nir", outer)
    back = neuroport.read(tmp_path / "nested.nir")
    program = neuroport.compile(back, dt=1e-3)
    assert "sub.lif" in program.populations
    assert program.outputs == {"y": "sub.lif"}


def test_flatten_without_batch_axis():
    # nir's Flatten defaults to start_dim=1 (a batch axis NIR does not have): neuroport
    # flattens the whole input whatever start_dim says
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type={"input": np.array([2, 3])}),
               "f": nir.Flatten(input_type={"input": np.array([2, 3])}, start_dim=1),
               "w": nir.Linear(weight=np.ones((4, 6))),
               "lif": nir.LIF(tau=np.full(4, 0.01), r=np.ones(4), v_leak=np.zeros(4), v_threshold=np.ones(4))},
        edges=[("x", "f"), ("f", "w"), ("w", "lif")], type_check=False)
    program = neuroport.compile(graph, dt=1e-3)
    assert program.projections[0].weights.shape == (4, 6)
    assert program.populations["x"].size == 6


def test_non_square_conv_is_read_and_accepted_by_compile(tmp_path):
    conv = nir.Conv2d(input_shape=(8, 6), weight=np.ones((2, 1, 3, 1)), stride=1, padding=0,
                      dilation=1, groups=1, bias=np.zeros(2))
    graph = nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array([1, 8, 6])}), "conv": conv},
                         edges=[("x", "conv")], type_check=False)
    neuroport.write(tmp_path / "conv.nir", graph)
    back = neuroport.read(tmp_path / "conv.nir")  # nir's shape inference would mis-compute this
    assert back.nodes["conv"].weight.shape == (2, 1, 3, 1)
    # conv is lowered now (neuroport/conv.py): what is left to refuse is a graph without neurons
    with pytest.raises(GraphError, match="no neuron population"):
        neuroport.compile(back, dt=1e-3)


def test_mismatched_shapes_raise_graph_error():
    net = neuroport.Network()
    x = net.input(4, name="x")
    y = net.population(3, neuroport.LIF(), name="y")
    with pytest.raises(GraphError, match=r"\(post, pre\) = \(3, 4\)"):
        net.connect(x, y, weight=np.ones((4, 4)))
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type={"input": np.array([4])}), "w": nir.Linear(weight=np.ones((5, 4))),
               "y": nir.LIF(tau=np.full(3, 0.01), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3))},
        edges=[("x", "w"), ("w", "y")], type_check=False)
    with pytest.raises(GraphError, match=r"'y' has 3 neurons but receives a vector of 5"):
        neuroport.compile(graph, dt=1e-3)


@pytest.mark.parametrize("tau", [np.nan, -0.01, 0.0])
def test_bad_time_constants(tau):
    net = neuroport.Network()
    x = net.input(1)
    y = net.population(1, neuroport.LIF(tau=tau), name="y")
    net.connect(x, y)
    with pytest.raises(ParameterError, match=r"y\.tau"):
        neuroport.compile(net.to_nir(), dt=1e-3)


def test_write_refuses_a_missing_directory(tmp_path):
    with pytest.raises(NIRFileError, match="does not exist"):
        neuroport.write(tmp_path / "nope" / "x.nir", _small_network())


def test_recorded_options_are_used(tmp_path):
    path = tmp_path / "dt.nir"
    neuroport.write(path, _small_network(), options={"dt": 5e-4, "timing": "ideal"})
    program = neuroport.compile(neuroport.read(path))
    assert program.dt == 5e-4 and program.timing == "ideal"
    assert os.path.getsize(path) > 0
    assert sp.issparse(program.projections[0].weights)


def test_written_files_have_normal_permissions(tmp_path):
    # atomic writes go through mkstemp (mode 0600); the finished file must be readable like any other
    import os
    import stat

    from neuroport import plot
    from neuroport.backends.base import Result, SpikeTrain

    umask = os.umask(0o022)
    try:
        neuroport.write(tmp_path / "a.nir", _small_network())
        plot.weights_histogram(np.arange(5.0), path=tmp_path / "h.png")
        Result("numpy", 1e-3, 2, {"p": SpikeTrain.from_dense(np.ones((2, 1), bool))}).save_npz(tmp_path / "r.npz")
    finally:
        os.umask(umask)
    for name in ("a.nir", "h.png", "r.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name


# ------------------------------------------------------------ exporters' graphs (issue 11)
def _lif_node(n):
    return nir.LIF(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n),
                   v_reset=np.zeros(n))


def _run_spikes(graph, x, steps=30):
    program = neuroport.compile(graph, dt=1e-3, timing="ideal")
    res = neuroport.run(program, backend="numpy", steps=steps, inputs={program.inputs[0]: x})
    return {k: v.to_dense() for k, v in res.spikes.items()}


def test_flattened_subgraph_names_read_and_round_trip(tmp_path):
    """snnTorch's RLeaky/RSynaptic arrive as top-level nodes named ``lif1.lif`` / ``lif1.w_rec``."""
    n = 3
    g = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([n])}),
                            "fc1": nir.Linear(weight=20.0 * np.eye(n)), "lif1.lif": _lif_node(n),
                            "lif1.w_rec": nir.Linear(weight=np.full((n, n), 0.3)),
                            "output": nir.Output(output_type={"output": np.array([n])})},
                     edges=[("input", "fc1"), ("fc1", "lif1.lif"), ("lif1.lif", "lif1.w_rec"),
                            ("lif1.w_rec", "lif1.lif"), ("lif1.lif", "output")], type_check=False)
    path = tmp_path / "flat.nir"
    nir.write(str(path), g)  # as the exporter writes it: alphabetical, no neuroport metadata
    back = neuroport.read(path)
    assert list(back.nodes)[:3] == ["input", "fc1", "lif1.lif"]
    again = tmp_path / "again.nir"
    neuroport.write(again, back)
    twice = neuroport.read(again)
    assert list(twice.nodes) == list(back.nodes) and sorted(twice.edges) == sorted(g.edges)
    x = (np.random.default_rng(1).random((30, n)) < 0.5).astype(float)
    a, b = _run_spikes(back, x), _run_spikes(twice, x)
    assert a["lif1.lif"].sum() > 0
    np.testing.assert_array_equal(a["lif1.lif"], b["lif1.lif"])


def test_edge_to_a_missing_dotted_node_is_refused(tmp_path):
    g = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([2])}), "a.lif": _lif_node(2)},
                     edges=[("input", "a.lif"), ("a.lif", "a.w_rec")], type_check=False)
    path = tmp_path / "bad.nir"
    nir.write(str(path), g)
    with pytest.raises(NIRFileError, match="a.w_rec"):
        neuroport.read(path)


def _nested(depth: int, n: int):
    """A recurrent LIF wrapped in ``depth`` levels of NIRGraph (as Spyx nests recurrent layers)."""
    inner = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([n])}), "lif": _lif_node(n),
                                "w_rec": nir.Linear(weight=np.full((n, n), 0.2)),
                                "output": nir.Output(output_type={"output": np.array([n])})},
                         edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
                         type_check=False)
    for _ in range(depth - 1):
        inner = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([n])}), "sub": inner,
                                    "output": nir.Output(output_type={"output": np.array([n])})},
                             edges=[("input", "sub"), ("sub", "output")], type_check=False)
    return nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array([n])}),
                               "fc": nir.Linear(weight=20.0 * np.eye(n)), "rec": inner,
                               "y": nir.Output(output_type={"output": np.array([n])})},
                        edges=[("x", "fc"), ("fc", "rec"), ("rec", "y")], type_check=False)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_nested_graphs_inline_with_dotted_names(depth, tmp_path):
    n = 3
    g = _nested(depth, n)
    path = tmp_path / "nested.nir"
    nir.write(str(path), g)
    back = neuroport.read(path)
    program = neuroport.compile(back, dt=1e-3, timing="ideal")
    name = "rec." + "sub." * (depth - 1) + "lif"
    assert name in program.populations
    rec = [p for p in program.projections if p.pre == name and p.post == name]
    assert rec and rec[0].delays.min() == 1  # the recurrent loop keeps its step
    # same spikes as the flat graph
    x = (np.random.default_rng(2).random((30, n)) < 0.5).astype(float)
    flat = _nested(1, n)
    got = _run_spikes(back, x)[name]
    assert got.sum() > 0
    np.testing.assert_array_equal(got, _run_spikes(flat, x)["rec.lif"])


def test_input_batch_axis_is_dropped(tmp_path):
    n = 4
    g = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([1, n])}),
                            "fc": nir.Linear(weight=np.ones((2, n))), "lif": _lif_node(2),
                            "output": nir.Output(output_type={"output": np.array([2])})},
                     edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")], type_check=False)
    path = tmp_path / "batch.nir"
    nir.write(str(path), g)
    back = neuroport.read(path)
    assert tuple(back.nodes["input"].input_type["input"]) == (n,)
    assert back.nodes["input"].metadata["neuroport.batch_axis"] == 1
    program = neuroport.compile(back, dt=1e-3)
    assert program.populations["input"].size == n and program.populations["input"].shape == (n,)
    # a batch of 8 (the exporter's sample batch): dropped because the Linear takes 4
    g.nodes["input"] = nir.Input(input_type={"input": np.array([8, n])})
    nir.write(str(path), g)
    assert tuple(neuroport.read(path).nodes["input"].input_type["input"]) == (n,)


def test_zero_d_parameters_broadcast(tmp_path):
    n = 5
    path = tmp_path / "scalars.nir"
    with h5py.File(path, "w") as f:  # what an exporter writing one scalar per layer produces
        node = f.create_group("node")
        node["type"] = "NIRGraph"
        nodes = node.create_group("nodes")
        x = nodes.create_group("x")
        x["type"], x["shape"] = "Input", np.array([3])
        w = nodes.create_group("w")
        w["type"], w["weight"] = "Linear", np.ones((n, 3))
        lif = nodes.create_group("lif")
        lif["type"], lif["tau"], lif["r"] = "LIF", np.full(n, 0.01), np.array(1.0)
        lif["v_leak"], lif["v_threshold"], lif["v_reset"] = np.array(0.0), np.array(1.0), np.array(0.0)
        y = nodes.create_group("y")
        y["type"], y["shape"] = "Output", np.array([n])
        node["edges"] = np.array([["x", "w"], ["w", "lif"], ["lif", "y"]], dtype="S")
        f["version"] = "1.0.8"
    g = neuroport.read(path)
    assert np.shape(g.nodes["lif"].r) == (n,) and np.all(g.nodes["lif"].r == 1.0)
    program = neuroport.compile(g, dt=1e-3)
    assert program.populations["lif"].size == n


def test_all_scalar_neuron_takes_its_size_from_the_weights(tmp_path):
    n = 4
    path = tmp_path / "allscalar.nir"
    with h5py.File(path, "w") as f:
        node = f.create_group("node")
        node["type"] = "NIRGraph"
        nodes = node.create_group("nodes")
        x = nodes.create_group("x")
        x["type"], x["shape"] = "Input", np.array([2])
        w = nodes.create_group("w")
        w["type"], w["weight"] = "Linear", np.ones((n, 2))
        lif = nodes.create_group("lif")
        lif["type"], lif["tau"], lif["r"] = "LIF", np.array(0.01), np.array(1.0)
        lif["v_leak"], lif["v_threshold"], lif["v_reset"] = np.array(0.0), np.array(1.0), np.array(0.0)
        node["edges"] = np.array([["x", "w"], ["w", "lif"]], dtype="S")
    g = neuroport.read(path)
    assert neuroport.compile(g, dt=1e-3).populations["lif"].size == n


def test_flatten_with_batch_style_start_dim():
    """A Flatten written with torch's start_dim=1 (as if a batch axis existed) still flattens all."""
    g = nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array([2, 3])}),
                            "flat": nir.Flatten(input_type={"input": np.array([2, 3])}, start_dim=1),
                            "fc": nir.Linear(weight=np.ones((2, 6))), "lif": _lif_node(2),
                            "y": nir.Output(output_type={"output": np.array([2])})},
                     edges=[("x", "flat"), ("flat", "fc"), ("fc", "lif"), ("lif", "y")], type_check=False)
    program = neuroport.compile(g, dt=1e-3)
    assert program.populations["x"].size == 6
    assert program.projections[0].weights.shape == (2, 6)
