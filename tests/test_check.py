"""neuroport.check and the ``neuroport check`` command."""

import json

import numpy as np
import pytest

nir = pytest.importorskip("nir")

from neuroport import backends  # noqa: E402
from neuroport.backends.base import Result, SpikeTrain  # noqa: E402
from neuroport.backends.numpy import NumpyBackend  # noqa: E402
from neuroport.check import check  # noqa: E402


def small_graph(n_in=10, n1=12, n2=8, seed=0):
    rng = np.random.default_rng(seed)

    def lif(n):
        return nir.LIF(tau=np.full(n, 0.02), r=np.full(n, 10.0), v_leak=np.zeros(n), v_threshold=np.ones(n),
                       v_reset=np.zeros(n))

    nodes = {"input": nir.Input(input_type={"input": np.array([n_in])}),
             "fc1": nir.Linear(weight=rng.uniform(0, 1.0, (n1, n_in))), "l1": lif(n1),
             "fc2": nir.Linear(weight=rng.uniform(0, 1.0, (n2, n1))), "l2": lif(n2),
             "output": nir.Output(output_type={"output": np.array([n2])})}
    edges = [("input", "fc1"), ("fc1", "l1"), ("l1", "fc2"), ("fc2", "l2"), ("l2", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


class DropSpikes(NumpyBackend):
    """A deliberately broken float backend: runs numpy, then loses every other spike."""

    name = "broken"

    def run(self, program, **kwargs):
        r = super().run(program, **kwargs)
        trains = {n: (t if n in program.inputs else SpikeTrain(t.steps[::2], t.neurons[::2], t.size, t.num_steps))
                  for n, t in r.spikes.items()}
        return Result(self.name, r.dt, r.num_steps, trains, r.states, {}, r.wall_time, r.meta)


class Explodes(NumpyBackend):
    name = "explodes"

    def run(self, program, **kwargs):
        raise RuntimeError("simulated crash in the backend")


@pytest.fixture
def nir_file(tmp_path):
    path = tmp_path / "small.nir"
    nir.write(str(path), small_graph())
    return str(path)


@pytest.fixture
def test_backends():
    backends.register("broken", DropSpikes)
    backends.register("explodes", Explodes)
    try:
        yield
    finally:
        backends.unregister("broken")
        backends.unregister("explodes")


def cli(argv):
    from neuroport.cli import main

    return main(argv)


def test_check_numpy_vs_brian2_passes():
    pytest.importorskip("brian2")
    rep = check(small_graph(), dt=1e-3, steps=400, backends=["numpy", "brian2"], input_rate_hz=50, seed=1,
                timing="ideal", progress=False)
    assert rep.passed, str(rep)
    assert rep.reference == "numpy" and set(rep.results) == {"numpy", "brian2"}
    assert {r["pair"] for r in rep.rows} == {"numpy vs brian2"}
    assert rep.results["numpy"].spike_counts()["l2"] > 10
    # same seeded input on both backends
    assert np.array_equal(rep.results["numpy"].spikes["input"].steps, rep.results["brian2"].spikes["input"].steps)
    json.dumps(rep.to_dict())


def test_failing_backends_are_rows_not_crashes(test_backends):
    rep = check(small_graph(), dt=1e-3, steps=300, backends=["numpy", "broken", "explodes"], input_rate_hz=50,
                progress=False)
    assert not rep.passed
    assert rep.failing_pairs == ["numpy vs broken", "numpy vs explodes"]
    crash = [r for r in rep.rows if r["pair"] == "numpy vs explodes"][0]
    assert "simulated crash" in crash["value"] and crash["status"] == "FAIL"


def test_command_exits_zero(nir_file, tmp_path, capsys):
    pytest.importorskip("brian2")
    out, png = tmp_path / "report.json", tmp_path / "overlay.png"
    code = cli(["check", nir_file, "--dt", "1e-3", "--steps", "300", "--backends", "numpy,brian2", "--rate", "50",
                "--json", str(out), "--plot", str(png), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert "numpy vs brian2" in captured.out and "PASS" in captured.out
    data = json.loads(out.read_text())
    assert data["passed"] is True and data["reference"] == "numpy"
    try:
        import neuroport.plot  # noqa: F401
    except ImportError:
        assert "plot skipped" in captured.err
    else:
        assert png.stat().st_size > 0


def test_command_names_the_failing_pair(nir_file, test_backends, capsys):
    code = cli(["check", nir_file, "--dt", "1e-3", "--steps", "300", "--backends", "numpy,broken", "--rate", "50"])
    captured = capsys.readouterr()
    assert code != 0
    assert "numpy vs broken" in captured.err and "FAIL" in captured.out
    assert "check: [2/2] broken" in captured.err  # one progress line per backend


def test_broken_backend_is_unregistered_afterwards():
    assert "broken" not in backends.names()
