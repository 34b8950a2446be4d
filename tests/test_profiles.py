"""Import profiles (neuroport.profiles): per-node translation, overrides, parameter rewrites that are
reported, and the exporter fingerprints ``neuroport info`` uses."""

from __future__ import annotations

import warnings
from pathlib import Path

import nir
import numpy as np
import pytest

import neuroport
from neuroport import profiles, semantics
from neuroport.errors import CompileError

DATA = Path(__file__).resolve().parent / "data"


def _snn_graph():
    dt = 1e-4
    tau = dt / (1 - 0.9)
    ts = dt / (1 - 0.8)
    n = 4
    lif = nir.LIF(tau=np.full(n, tau), r=np.full(n, tau / dt), v_leak=np.zeros(n), v_threshold=np.ones(n),
                  v_reset=np.zeros(n))
    cuba = nir.CubaLIF(tau_syn=np.full(n, ts), tau_mem=np.full(n, tau), r=np.full(n, tau / dt),
                       w_in=np.full(n, ts / dt), v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n))
    rec_lif = nir.LIF(tau=np.full(n, tau), r=np.full(n, tau / dt), v_leak=np.zeros(n), v_threshold=np.ones(n),
                      v_reset=np.zeros(n))
    nodes = {"input": nir.Input(input_type={"input": np.array([n])}), "fc1": nir.Linear(weight=np.eye(n)),
             "lif1": lif, "fc2": nir.Linear(weight=np.eye(n)), "lif2.lif": rec_lif,
             "lif2.w_rec": nir.Linear(weight=0.1 * np.eye(n)), "fc3": nir.Linear(weight=np.eye(n)), "lif3": cuba,
             "output": nir.Output(output_type={"output": np.array([n])})}
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2.lif"), ("lif2.lif", "lif2.w_rec"),
             ("lif2.w_rec", "lif2.lif"), ("lif2.lif", "fc3"), ("fc3", "lif3"), ("lif3", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def test_every_issue_profile_exists():
    assert set(profiles.PROFILES) >= {"snntorch", "norse", "sinabs", "rockpool", "spyx", "lava-dl", "nir-paper"}


@pytest.mark.parametrize("reset,delay,expect", [
    ("zero", True, {"lif1": "zero", "lif2.lif": "zero_hold", "lif3": "zero_hold"}),
    ("subtract", True, {"lif1": "subtract_undecayed", "lif2.lif": "subtract_undecayed", "lif3": "subtract_undecayed"}),
    ("subtract", False, {"lif1": "subtract_no_delay", "lif2.lif": "subtract_no_delay", "lif3": "subtract_no_delay"}),
    ("zero", False, {"lif1": "zero", "lif2.lif": "zero", "lif3": "zero"}),
])
def test_snntorch_reset_translated_per_node(reset, delay, expect):
    program = neuroport.compile(_snn_graph(), profile="snntorch", reset=reset, semantics={"reset_delay": delay})
    assert {n: program.populations[n].reset for n in expect} == expect
    assert program.dt == 1e-4 and program.timing == "ideal"
    assert any("lif2.lif" in note for note in program.options["notes"])


def test_profile_leaves_the_input_graph_alone():
    g = _snn_graph()
    neuroport.compile(g, profile="snntorch", reset="zero")
    assert not any(k.startswith("neuroport.") for n in g.nodes.values() for k in (n.metadata or {}))


def test_profile_exact_variant_and_unknown_override():
    program = neuroport.compile(_snn_graph(), profile="snntorch", reset="zero_hold")
    assert {p.reset for p in program.populations.values() if not p.is_input} == {"zero_hold"}
    with pytest.raises(CompileError, match="unknown override"):
        neuroport.compile(_snn_graph(), profile="snntorch", semantics={"bogus": 1})
    with pytest.raises(CompileError, match="unknown profile"):
        neuroport.compile(_snn_graph(), profile="tensorflow")


def test_norse_tau_correction_is_reported_and_applied_once():
    dt = 1e-3
    n = 3
    tau_written = dt * 0.01  # Norse 1.1: dt / tau_inv with tau_inv = 100 /s
    node = nir.LIF(tau=np.full(n, tau_written), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n),
                   v_reset=np.zeros(n))
    g = nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array([n])}), "w": nir.Linear(weight=np.eye(n)),
                            "lif": node, "y": nir.Output(output_type={"output": np.array([n])})},
                     edges=[("x", "w"), ("w", "lif"), ("lif", "y")], type_check=False)
    assert profiles.detect(g)[0][0] == "norse"
    with pytest.warns(UserWarning, match="time constants multiplied by 1000"):
        program = neuroport.compile(g, profile="norse")
    np.testing.assert_allclose(program.populations["lif"].params["dv"], dt / 0.01)
    assert any("multiplied" in note for note in program.options["notes"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = neuroport.compile(program.graph, profile="norse")  # already corrected: not again
    np.testing.assert_allclose(again.populations["lif"].params["dv"], dt / 0.01)


def test_fingerprints():
    assert profiles.detect(_snn_graph())[0][0] == "snntorch"
    n = 3
    sinabs = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([n])}),
                                 "0": nir.Linear(weight=np.eye(n)),
                                 "1": nir.IF(r=np.ones(n), v_threshold=np.ones(n), v_reset=np.zeros(n)),
                                 "output": nir.Output(output_type={"output": np.array([n])})},
                          edges=[("input", "0"), ("0", "1"), ("1", "output")], type_check=False)
    found = profiles.detect(sinabs, nir_version="1.0.4")
    assert found[0][0] == "sinabs" and "1.0.4" in found[0][1]


def test_info_suggests_profile(tmp_path, capsys):
    from neuroport import cli

    path = tmp_path / "snn.nir"
    neuroport.write(path, _snn_graph())
    assert cli.main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "looks exported by snntorch" in out and "--profile snntorch" in out


def test_sinabs_profile_multi_spike_jump():
    n = 3
    g = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([n])}),
                            "0": nir.Linear(weight=np.eye(n)),
                            "1": nir.IF(r=np.ones(n), v_threshold=np.ones(n), v_reset=np.zeros(n)),
                            "output": nir.Output(output_type={"output": np.array([n])})},
                     edges=[("input", "0"), ("0", "1"), ("1", "output")], type_check=False)
    program = neuroport.compile(g, profile="sinabs")
    pop = program.populations["1"]
    assert pop.multi_spike and pop.threshold_ge and pop.reset == "subtract"
    x = np.zeros((3, n))
    x[0] = [2.5, 1.0, 0.5]
    res = neuroport.run(program, backend="numpy", steps=3, inputs={"input": x})
    assert res.spikes["1"].counts().tolist() == [2, 1, 0]
    single = neuroport.compile(g, profile="sinabs", semantics={"spikes": "single"})
    assert not single.populations["1"].multi_spike


def _fixture_paths():
    from interop_util import fixtures

    return fixtures()


@pytest.mark.parametrize("path", _fixture_paths(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fingerprints_name_the_exporter_of_every_framework_fixture(path):
    """The exporter is known from the fixture's folder (the framework that wrote it), not from the file."""
    from neuroport.commands.info import _file_version

    found = profiles.detect(neuroport.read(path), nir_version=_file_version(path))
    assert found and found[0][0] == path.parent.name, found
