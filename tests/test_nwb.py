"""NWB export (``neuroport.nwb.write_nwb``) read back with pynwb, and NWB spike times as run input."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import numpy as np
import pytest

pynwb = pytest.importorskip("pynwb")
from pynwb import NWBFile, NWBHDF5IO  # noqa: E402

import neuroport  # noqa: E402
from neuroport import encoders  # noqa: E402
from neuroport.cli import main  # noqa: E402
from neuroport.errors import InputError  # noqa: E402
from neuroport.nwb import STATE_MODULE, read_nwb_graph, read_nwb_spikes, write_nwb  # noqa: E402

DT = 1e-3
STEPS = 200


def _network():
    net = neuroport.Network()
    x = net.input(6, name="x")
    a = net.population(5, neuroport.LIF(tau=0.02, v_threshold=1.0), name="a")
    b = net.population(3, neuroport.LIF(tau=0.01, v_threshold=1.0), name="b")
    net.connect(x, a, weight=3.0, p=0.6, seed=1)
    net.connect(a, b, weight=2.5, p=0.8, seed=2)
    net.probe(a, "v")
    net.probe(b, "v")
    return net


@pytest.fixture(scope="module")
def run():
    net = _network()
    x = np.asarray(encoders.poisson(np.full(6, 150.0), steps=STEPS, dt=DT, seed=3))
    result = neuroport.run(net, backend="numpy", dt=DT, steps=STEPS, inputs={"x": x}, probes=[("a", "v"), ("b", "v")])
    assert result.spikes["b"].count > 0, "the test network must spike in every layer"
    return net, x, result


def test_spike_times_equal_the_results(run, tmp_path):
    net, _x, result = run
    path = tmp_path / "run.nwb"
    write_nwb(result, path, graph=net, session_description="test run")
    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        units = nwb.units
        assert nwb.session_description == "test run"
        seen = {}
        for i in range(len(units)):
            pop, neuron = str(units["population"][i]), int(units["neuron"][i])
            seen[(pop, neuron)] = np.asarray(units["spike_times"][i])
    assert set(seen) == {(p, n) for p, t in result.spikes.items() for n in range(t.size)}
    for pop, train in result.spikes.items():
        dense = train.to_dense()  # (steps, n) booleans: the steps of each neuron's spikes, times dt
        for n in range(train.size):
            want = np.flatnonzero(dense[:, n]) * result.dt
            np.testing.assert_allclose(seen[(pop, n)], want, rtol=0, atol=1e-12)


def test_states_round_trip_with_units(run, tmp_path):
    _net, _x, result = run
    path = tmp_path / "run.nwb"
    write_nwb(result, path)
    with NWBHDF5IO(str(path), "r") as io:
        module = io.read().processing[STATE_MODULE]
        for pop in ("a", "b"):
            series = module[f"{pop}.v"]
            np.testing.assert_array_equal(series.data[:], result.states[pop]["v"])
            assert series.rate == pytest.approx(1 / DT) and series.starting_time == 0.0
            assert series.unit == "graph units"


def test_fixed_run_states_are_integers_and_graph_is_embedded(run, tmp_path):
    net, x, _result = run
    fixed = neuroport.run(net, backend="numpy-fixed", dt=DT, steps=50, inputs={"x": x[:50]}, probes=[("a", "v")])
    path = tmp_path / "fixed.nwb"
    write_nwb(fixed, path, graph=net)
    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        assert nwb.processing[STATE_MODULE]["a.v"].unit == "fixed-point integer"
        assert '"backend": "numpy-fixed"' in nwb.scratch["neuroport_run"].data
    graph = read_nwb_graph(path, tmp_path / "back.nir")
    again = neuroport.run(graph, backend="numpy-fixed", dt=DT, steps=50, inputs={"x": x[:50]})
    for pop in ("a", "b"):
        np.testing.assert_array_equal(again.spikes[pop].to_dense(), fixed.spikes[pop].to_dense())


def test_nwb_spikes_as_input_reproduce_the_run(run, tmp_path):
    net, x, result = run
    path = tmp_path / "run.nwb"
    write_nwb(result, path, graph=net)
    back = read_nwb_spikes(path, dt=DT, steps=STEPS, population="x")
    np.testing.assert_array_equal(back, x)
    again = neuroport.run(net, backend="numpy", dt=DT, steps=STEPS, inputs={"x": back})
    for pop in ("a", "b"):
        np.testing.assert_array_equal(again.spikes[pop].to_dense(), result.spikes[pop].to_dense())


def _foreign_file(path, spike_times):
    """An NWB file written with pynwb alone (a lab recording): no population column."""
    nwb = NWBFile(session_description="recording", identifier="rec-1",
                  session_start_time=datetime(2026, 1, 1, tzinfo=timezone.utc))
    for times in spike_times:
        nwb.add_unit(spike_times=np.asarray(times, float))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def test_binning_of_a_foreign_recording(tmp_path):
    path = tmp_path / "rec.nwb"
    _foreign_file(path, [[0.0015, 0.0031, 0.0039], [0.0], [0.0049]])
    out = read_nwb_spikes(path, dt=1e-3)
    want = np.zeros((5, 3))
    want[1, 0] = 1
    want[3, 0] = 2  # 3.1 ms and 3.9 ms fall in one 1 ms step: a count
    want[0, 1] = 1
    want[4, 2] = 1
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(read_nwb_spikes(path, dt=1e-3, steps=4), want[:4])
    late = tmp_path / "late.nwb"
    _foreign_file(late, [[10.0015, 10.0031]])
    np.testing.assert_array_equal(read_nwb_spikes(late, dt=1e-3, start_time=10.0, steps=3)[:, 0], [0, 1, 0])
    with pytest.raises(InputError, match="no 'population' column"):
        read_nwb_spikes(path, dt=1e-3, population="x")
    with pytest.raises(InputError, match="before start_time"):
        read_nwb_spikes(path, dt=1e-3, start_time=0.001)


def test_errors_and_atomic_write(run, tmp_path, monkeypatch):
    _net, _x, result = run
    with pytest.raises(InputError, match="no such NWB file"):
        read_nwb_spikes(tmp_path / "missing.nwb", dt=DT)
    with pytest.raises(InputError, match="dt"):
        read_nwb_spikes(tmp_path / "missing.nwb", dt=0)
    not_nwb = tmp_path / "junk.nwb"
    not_nwb.write_text("not hdf5")
    with pytest.raises(InputError, match="not a readable NWB file"):
        read_nwb_spikes(not_nwb, dt=DT)
    path = tmp_path / "run.nwb"
    write_nwb(result, path)
    with pytest.raises(InputError, match="populations: a, b, x"):
        read_nwb_spikes(path, dt=DT, population="c")
    before = path.read_bytes()

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(NWBHDF5IO, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        write_nwb(result, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["junk.nwb", "run.nwb"]  # no temporary file left


def test_cli_run_writes_nwb(tmp_path, capsys):
    nir_path, out = tmp_path / "net.nir", tmp_path / "run.nwb"
    neuroport.write(nir_path, _network(), options={"dt": DT})
    code = main(["run", str(nir_path), "--steps", "100", "--input", "poisson:rate=150", "--probe", "a.v",
                 "--nwb", str(out), "--no-progress"])
    assert code == 0 and f"wrote {out}" in capsys.readouterr().out
    with NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert len(nwb.units) == 6 + 5 + 3 and "a.v" in nwb.processing[STATE_MODULE].data_interfaces
        assert nwb.scratch["nir_graph"].data.shape[0] == nir_path.stat().st_size
    assert main(["run", str(nir_path), "--steps", "10", "--nwb", str(tmp_path / "no" / "x.nwb")]) == 2
