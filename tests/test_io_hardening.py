"""Hostile and careless files: declared sizes, links, special files, names (issue 12, defects 5, 6, 9)."""

import os
import threading

import h5py
import nir
import numpy as np
import pytest

import neuroport
from neuroport import limits
from neuroport.errors import CompileError, GraphError, NIRFileError, NeuroportError, ResourceError


@pytest.fixture
def small_limits():
    old = limits.set_limits(max_bytes=64 << 20, max_elements=1 << 20)  # 64 MiB, 1 Mi elements
    yield
    limits.set_limits(**old)


def _chain(n_in=3, n_out=2):
    return nir.NIRGraph.from_list(nir.Input(np.array([n_in])), nir.Linear(np.ones((n_out, n_in))),
                                  nir.LIF(tau=np.full(n_out, 0.01), r=np.ones(n_out), v_leak=np.zeros(n_out),
                                          v_threshold=np.ones(n_out)),
                                  nir.Output(np.array([n_out])))


def _write_plain(tmp_path, name="g.nir"):
    path = tmp_path / name
    neuroport.write(path, _chain())
    return path


def _max_rss_mib():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------- defect 5: sizes
def test_gzip_fillvalue_dataset_is_refused_before_reading(tmp_path):
    path = _write_plain(tmp_path)
    with h5py.File(path, "a") as f:
        w = f["node/nodes"]
        name = [k for k in w if "Linear" in str(w[k]["type"][()]) or k.startswith("1")][0]
        del w[name]["weight"]
        # 10^9 float64 = 7.45 GiB declared, a few KB on disk
        w[name].create_dataset("weight", shape=(10 ** 9,), dtype="f8", chunks=(1 << 20,), compression="gzip",
                               fillvalue=1.0)
    assert os.path.getsize(path) < 200_000
    before = _max_rss_mib()
    with pytest.raises(NIRFileError, match="limit"):
        neuroport.read(path)
    assert _max_rss_mib() - before < 100  # nothing near 7 GiB was allocated


def test_declared_total_is_summed_over_datasets(tmp_path, small_limits):
    path = _write_plain(tmp_path)
    with h5py.File(path, "a") as f:
        for i in range(5):  # each 16 MiB (under the element limit? 2 Mi elements: no -> use 0.5 Mi)
            f["node/metadata"].create_dataset(f"pad{i}", shape=(1 << 19, 4), dtype="f8", fillvalue=0.0,
                                              chunks=(1 << 16, 4), compression="gzip")
    with pytest.raises(NIRFileError, match="bytes"):
        neuroport.read(path)


@pytest.mark.parametrize("shape", [[2 ** 31], [2 ** 32, 2 ** 32], [2 ** 21, 2 ** 21, 2 ** 22]])
def test_huge_input_shape_is_refused_by_compile(shape, small_limits):
    n_out = 2
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(np.array(shape)),
               "lif": nir.LIF(tau=np.full(n_out, 0.01), r=np.ones(n_out), v_leak=np.zeros(n_out),
                              v_threshold=np.ones(n_out)),
               "y": nir.Output(np.array([n_out]))},
        edges=[("x", "lif"), ("lif", "y")], type_check=False)
    with pytest.raises(ResourceError, match="elements"):
        neuroport.compile(graph, dt=1e-3)


def test_overflowing_shape_never_becomes_zero_neurons():
    # 2**32 * 2**32 wraps to 0 in int64: it must be refused even under the default limits
    graph = nir.NIRGraph(nodes={"x": nir.Input(np.array([2 ** 32, 2 ** 32])), "y": nir.Output(np.array([1]))},
                         edges=[("x", "y")], type_check=False)
    with pytest.raises(ResourceError, match=str(2 ** 64)):
        neuroport.compile(graph, dt=1e-3)


def test_huge_input_shape_in_a_file_is_refused_by_read(tmp_path, small_limits):
    path = _write_plain(tmp_path)
    with h5py.File(path, "a") as f:
        for k in f["node/nodes"]:
            if f["node/nodes"][k]["type"][()] == b"Input":
                del f["node/nodes"][k]["shape"]
                f["node/nodes"][k]["shape"] = np.array([2 ** 31])
    with pytest.raises(NIRFileError, match="elements"):
        neuroport.read(path)


def test_limits_are_configurable(tmp_path, monkeypatch):
    path = _write_plain(tmp_path)
    old = limits.set_limits(max_bytes=100)
    try:
        with pytest.raises(NIRFileError, match="100 bytes"):
            neuroport.read(path)
    finally:
        limits.set_limits(**old)
    monkeypatch.setenv("NEUROPORT_MAX_BYTES", "100")
    with pytest.raises(NIRFileError, match="NEUROPORT_MAX_BYTES"):
        neuroport.read(path)
    monkeypatch.setenv("NEUROPORT_MAX_BYTES", "lots")
    with pytest.raises(NeuroportError, match="NEUROPORT_MAX_BYTES"):
        neuroport.read(path)
    monkeypatch.delenv("NEUROPORT_MAX_BYTES")
    assert neuroport.io.set_limits is limits.set_limits
    with pytest.raises(NeuroportError, match="positive"):
        neuroport.io.set_limits(max_bytes=-1)
    assert len(neuroport.read(path).nodes) == 4


def test_external_and_soft_links_are_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["secret"] = np.arange(10.0)
    for kind in ("external", "soft", "dangling"):
        path = _write_plain(tmp_path, f"{kind}.nir")
        with h5py.File(path, "a") as f:
            meta = f["node/metadata"]
            if kind == "external":
                meta["x"] = h5py.ExternalLink(str(other), "/secret")
            elif kind == "soft":
                meta["x"] = h5py.SoftLink("/node")  # also a cycle for a recursive reader
            else:
                meta["x"] = h5py.SoftLink("/nowhere")
        with pytest.raises(NIRFileError, match="Link"):
            neuroport.read(path)


def test_hard_link_cycle_is_refused(tmp_path):
    path = _write_plain(tmp_path)
    with h5py.File(path, "a") as f:
        f["node/metadata/loop"] = f["node"]  # a hard link to an ancestor: infinite recursion for nir
    with pytest.raises(NIRFileError, match="twice"):
        neuroport.read(path)


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.nir"
    os.mkfifo(fifo)
    outcome = {}

    def target():
        try:
            neuroport.read(fifo)
        except NIRFileError as exc:
            outcome["error"] = str(exc)

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive(), "read blocked on a FIFO"
    assert "FIFO" in outcome["error"]


def test_device_and_directory_are_refused(tmp_path):
    with pytest.raises(NIRFileError, match="device"):
        neuroport.read("/dev/zero")
    with pytest.raises(NIRFileError, match="directory"):
        neuroport.read(tmp_path)


def test_compound_dtype_is_refused(tmp_path):
    path = _write_plain(tmp_path)
    with h5py.File(path, "a") as f:
        for k in f["node/nodes"]:
            if f["node/nodes"][k]["type"][()] == b"LIF":
                del f["node/nodes"][k]["r"]
                f["node/nodes"][k]["r"] = np.zeros(2, dtype=[("a", "f8"), ("b", "i4")])
    with pytest.raises(NIRFileError, match="dtype"):
        neuroport.read(path)


# ------------------------------------------------------------- defect 6: names
@pytest.mark.parametrize("bad", ["a/b", "/x", "..", ".", ""])
def test_write_refuses_names_read_would_refuse(tmp_path, bad):
    g = _chain()
    nodes = {(bad if k == "linear" else k): v for k, v in g.nodes.items()}
    edges = [tuple(bad if e == "linear" else e for e in edge) for edge in g.edges]
    graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)
    path = tmp_path / "bad.nir"
    with pytest.raises(GraphError, match="not allowed|contains"):
        neuroport.write(path, graph)
    assert not path.exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".bad.nir")]  # no temp file left


def test_write_refuses_edges_to_unknown_nodes(tmp_path):
    g = _chain()
    graph = nir.NIRGraph(nodes=dict(g.nodes), edges=list(g.edges) + [("input", "ghost")], type_check=False)
    with pytest.raises(GraphError, match="ghost"):
        neuroport.write(tmp_path / "e.nir", graph)


def test_write_refuses_slash_in_metadata_key(tmp_path):
    g = _chain()
    g.metadata = {"a/b": "x"}
    with pytest.raises(GraphError, match="metadata key"):
        neuroport.write(tmp_path / "m.nir", g)


@pytest.mark.parametrize("names", [
    ("in", "lif1.lif", "lif1.lif.out"),        # dotted (the import branch's nested names)
    ("entrée", "ニューロン", "выход"),            # unicode
    ("x" * 300, "y" * 1000, "z.z" * 100),      # long
    (" spaced ", "...", "-1"),                 # odd but legal
])
def test_awkward_names_round_trip(tmp_path, names):
    a, b, c = names
    n = 2
    graph = nir.NIRGraph(
        nodes={a: nir.Input(np.array([3])), b: nir.Linear(np.arange(6.0).reshape(n, 3)),
               c: nir.LIF(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n)),
               "out": nir.Output(np.array([n]))},
        edges=[(a, b), (b, c), (c, "out")], type_check=False)
    path = tmp_path / "awkward.nir"
    neuroport.write(path, graph)
    back = neuroport.read(path)
    assert list(back.nodes) == [a, b, c, "out"]
    assert sorted(back.edges) == sorted(graph.edges)
    np.testing.assert_array_equal(back.nodes[b].weight, np.arange(6.0).reshape(n, 3))


# ------------------------------------------------------------- defect 9: metadata and edges
def _meta_file(tmp_path, **meta):
    path = _write_plain(tmp_path)
    with h5py.File(path, "a") as f:
        for k, v in meta.items():
            if k in f["node/metadata"]:
                del f["node/metadata"][k]
            f["node/metadata"][k] = v
    return path


@pytest.mark.parametrize("value", [np.array([1, 2]), np.array([1.0]), "quantum"])
def test_malformed_timing_metadata_is_a_compile_error(tmp_path, value):
    graph = neuroport.read(_meta_file(tmp_path, **{"neuroport.timing": value}))
    with pytest.raises(CompileError, match="timing"):
        neuroport.compile(graph, dt=1e-3)


@pytest.mark.parametrize("value", [np.array([1, 2]), "not json", '{"a": 1}', '[["lif", 3]]', '[["a", "b", "c"]]',
                                   '[1, 2]'])
def test_malformed_probes_metadata_is_a_graph_error(tmp_path, value):
    graph = neuroport.read(_meta_file(tmp_path, **{"neuroport.probes": value}))
    with pytest.raises(GraphError, match="neuroport.probes"):
        neuroport.compile(graph, dt=1e-3)
    with pytest.raises(GraphError, match="neuroport.probes"):
        neuroport.Network.from_nir(graph)


def test_three_column_edges_are_refused_not_repaired(tmp_path):
    path = _write_plain(tmp_path)
    with h5py.File(path, "a") as f:
        edges = f["node/edges"][()]
        del f["node/edges"]
        # 3 edges of 2 -> 2 rows of 3: a reshape(-1, 2) would silently re-pair them
        f["node/edges"] = edges.reshape(-1)[:6].reshape(2, 3)
    with pytest.raises(NIRFileError, match="edges"):
        neuroport.read(path)


# ------------------------------------------------------------- defect 9: parameter values
def _lif(n=2, **kw):
    d = dict(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n))
    d.update(kw)
    return nir.LIF(**d)


def _graph(pop, weight=None, n=2):
    return nir.NIRGraph.from_list(nir.Input(np.array([3])), weight if weight is not None else
                                  nir.Linear(np.ones((n, 3))), pop, nir.Output(np.array([n])))


@pytest.mark.parametrize("make, match", [
    (lambda: _graph(_lif(r=np.array([b"x"] * 2))), "lif.r: expected real"),
    (lambda: _graph(_lif(tau=np.full(2, 0.01 + 0.01j))), "lif.tau: expected real"),
    (lambda: _graph(_lif(tau=np.array(["a", "b"]))), "lif.tau: expected real"),
    (lambda: _graph(_lif(), nir.Linear(np.ones((2, 3)) * (1 + 1j))), "linear.weight: expected real"),
    (lambda: _graph(neuroport.nodes.AdaptiveLIF(tau_mem=np.full(2, 0.02), v_threshold=np.ones(2),
                                                tau_theta=np.inf, theta_plus=0.1)), "tau_theta: must be finite"),
    (lambda: _graph(neuroport.nodes.CondLIF(tau_mem=0.02, e_leak=0.0, e_exc=np.nan, e_inh=-1.0, tau_exc=0.005,
                                            tau_inh=0.01, v_threshold=1.0, v_reset=0.0), n=1), "e_exc: must be finite"),
    (lambda: _graph(_lif(), neuroport.nodes.PlasticLinear(np.full((2, 3), np.nan))), "weight: must be finite"),
    (lambda: nir.NIRGraph.from_list(nir.Input(np.array([0])), nir.Linear(np.ones((0, 0))),
                                    _lif(0), nir.Output(np.array([0]))), "0 neurons"),
])
def test_invalid_parameters_are_refused_not_run(make, match):
    # before: ValueError/IndexError deep in numpy, or a run with the imaginary part / NaN silently used
    with pytest.raises(NeuroportError, match=match):
        neuroport.quantize(neuroport.compile(make(), dt=1e-3))
