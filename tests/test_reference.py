"""A user's own recorded spikes as the reference: ``neuroport check --reference``, ``neuroport compare``.

The reference is a framework's own run (``tests/data/interop/snntorch/*.npz``: snnTorch 1.0's spikes,
recorded by ``make_snntorch.py``), never neuroport's output, so a PASS is two independent computations
agreeing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neuroport.cli import main
from neuroport.errors import InputError
from neuroport.reference import compare_reference, parse_mapping, reference_from_arrays
from neuroport.result import Result, SpikeTrain

SNNTORCH = Path(__file__).resolve().parent / "data" / "interop" / "snntorch"
CASE = SNNTORCH / "leaky_ff_subtract"  # snnTorch Leaky, reset_mechanism="subtract" (the profile's default)


@pytest.fixture
def saved_run(tmp_path):
    """``(nir, input.npz, reference.npz, arrays)``: the shipped snnTorch fixture as a user saves it."""
    with np.load(CASE.with_suffix(".npz")) as data:
        arrays = {k: data[k] for k in data.files}
    inp = tmp_path / "input.npz"
    np.savez(inp, input=arrays["input"])
    return CASE.with_suffix(".nir"), inp, CASE.with_suffix(".npz"), arrays


def _flip(arrays, layer, step, neuron, path):
    out = dict(arrays)
    spikes = out[f"spikes__{layer}"].copy()
    spikes[step, neuron] = 1 - spikes[step, neuron]
    out[f"spikes__{layer}"] = spikes
    np.savez(path, **out)
    return path


def test_check_reference_reproduces_a_saved_snntorch_run(saved_run, tmp_path, capsys):
    nir_path, inp, ref, arrays = saved_run
    png, js = tmp_path / "overlay.png", tmp_path / "report.json"
    code = main(["check", str(nir_path), "--profile", "snntorch", "--input", str(inp), "--reference", str(ref),
                 "--backends", "numpy,numpy-fixed", "--plot", str(png), "--json", str(js), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = json.loads(js.read_text())["rows"]
    layers = {k[len("spikes__"):] for k in arrays if k.startswith("spikes__")}
    numpy_rows = [r for r in rows if r["pair"] == "reference vs numpy"]
    assert {r["layer"] for r in numpy_rows} == layers == {"lif1", "lif2"}
    assert all(r["status"] == "PASS" and r["value"] == "none" for r in numpy_rows)  # identical spikes
    fixed_rows = [r for r in rows if r["pair"] == "reference vs numpy-fixed"]
    assert fixed_rows and all(r["status"] == "PASS" for r in fixed_rows)  # quantization bounds, latency aligned
    assert (tmp_path / "overlay-numpy.png").stat().st_size > 0
    assert (tmp_path / "overlay-numpy-fixed.png").stat().st_size > 0
    assert "lif1: identical spikes" in out and "PASS" in out


def test_a_perturbed_reference_fails_naming_the_layer(saved_run, tmp_path, capsys):
    nir_path, inp, _ref, arrays = saved_run
    bad = _flip(arrays, "lif2", 40, 3, tmp_path / "bad.npz")
    code = main(["check", str(nir_path), "--profile", "snntorch", "--input", str(inp), "--reference", str(bad),
                 "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert "reference vs numpy: lif2" in captured.err and "lif1" not in captured.err
    lines = {line.split()[3].rstrip(":"): line for line in captured.out.splitlines() if "identical spikes" in line}
    assert "FAIL" in lines["lif2"] and " 40 " in lines["lif2"] and "PASS" in lines["lif1"]


def test_compare_command_on_a_saved_run(saved_run, tmp_path, capsys):
    nir_path, inp, ref, arrays = saved_run
    run_npz = tmp_path / "run.npz"
    assert main(["run", str(nir_path), "--profile", "snntorch", "--steps", str(arrays["input"].shape[0]),
                 "--input", str(inp), "--backend", "numpy-fixed", "--out", str(run_npz), "--no-progress"]) == 0
    assert Result.load_npz(run_npz).meta["latency"]["lif2"] > 0  # compensated ideal timing
    capsys.readouterr()
    png = tmp_path / "c.png"
    assert main(["compare", str(run_npz), str(ref), "--plot", str(png)]) == 0
    assert "PASS" in capsys.readouterr().out and png.stat().st_size > 0
    bad = tmp_path / "bad.npz"  # a layer that never fired: beyond the quantization bounds
    np.savez(bad, **{**arrays, "spikes__lif1": np.zeros_like(arrays["spikes__lif1"])})
    assert main(["compare", str(run_npz), str(bad)]) == 1
    assert "reference vs numpy-fixed: lif1" in capsys.readouterr().err


def _train(steps, neurons, size, num_steps):
    return SpikeTrain(np.asarray(steps, np.int64), np.asarray(neurons, np.int64), size, num_steps)


def test_alignment_uses_the_stated_latency():
    """A run whose layer lags by 2 steps matches the reference only once shifted back by its latency."""
    ref_dense = np.zeros((20, 3))
    ref_dense[[2, 5, 9, 14], [0, 1, 2, 0]] = 1
    ref = reference_from_arrays({"p": ref_dense, "dt": np.array(1e-3)}, populations={"p": 3})
    st, ne = np.nonzero(ref_dense)
    lagged = Result("numpy", 1e-3, 20, spikes={"p": _train(st + 2, ne, 3, 20)})
    _rep, rows = compare_reference(ref, lagged)
    assert [r["status"] for r in rows] == ["FAIL"]
    lagged.meta["latency"] = {"p": 2}
    rep, rows = compare_reference(ref, lagged)
    assert [r["status"] for r in rows] == ["PASS"] and rep.num_steps == 18
    # the reference's own latency (e.g. Spyx's step per layer) aligns the other way round
    ref_late = reference_from_arrays({"p": np.roll(ref_dense, 1, axis=0)}, populations={"p": 3}, dt=1e-3,
                                     latency={"p": 1})
    on_time = Result("numpy", 1e-3, 20, spikes={"p": _train(st, ne, 3, 20)})
    assert [r["status"] for r in compare_reference(ref_late, on_time)[1]] == ["PASS"]


def test_counts_rename_and_kinds():
    counts = np.zeros((10, 2))
    counts[3, 1] = 2  # two spikes in one step (Sinabs / Rockpool multi-spike)
    ref = reference_from_arrays({"spk1": counts}, populations={"x": 2, "lif1": 2}, inputs=["x"], dt=1e-3,
                                rename=parse_mapping("spk1=lif1", "--layer-map"))
    assert ref.spike_counts() == {"lif1": 2}
    one = Result("numpy", 1e-3, 10, spikes={"lif1": _train([3], [1], 2, 10)})
    two = Result("numpy", 1e-3, 10, spikes={"lif1": _train([3, 3], [1, 1], 2, 10)})
    assert compare_reference(ref, two)[0].populations["lif1"].match == 1.0
    assert compare_reference(ref, one)[0].populations["lif1"].match == 0.5
    # Brian2 (a continuous-time run) gets the +-1 step criterion, per layer
    brian = Result("brian2", 1e-3, 10, spikes={"lif1": _train([4, 4], [1, 1], 2, 10)})
    rows = compare_reference(ref, brian)[1]
    assert rows[0]["criterion"].startswith("lif1 spikes matched +-1") and rows[0]["status"] == "PASS"


@pytest.mark.parametrize("arrays, kw, message", [
    ({"lif3": np.zeros((5, 2))}, {}, "did you mean 'lif1'"),
    ({"lif1": np.zeros((5, 3))}, {}, "layer 'lif1' has 2 neurons"),
    ({"lif1": np.full((5, 2), 0.5)}, {}, "whole number of spikes"),
    ({"lif1": np.zeros((5, 2)), "dt": np.array(1e-4)}, {"dt": 1e-3}, "records dt = 0.0001 s"),
    ({"lif1": np.zeros((5, 2))}, {"dt": None}, "no time step"),
    ({"lif1": np.zeros(5)}, {}, "expected (steps, n)"),
    ({"v__lif1": np.zeros((5, 2))}, {}, "holds no spikes of a layer"),
    ({"lif1": np.zeros((5, 2)), "spikes__lif1": np.zeros((5, 2))}, {}, "given twice"),
    ({"lif1": np.zeros((5, 2))}, {"rename": {"spk9": "lif1"}}, "layer map names spk9"),
    ({"lif1": np.zeros((5, 2))}, {"latency": {"lif2": 1}}, "latency is given for 'lif2'"),
])
def test_bad_reference_files_are_clear_errors(arrays, kw, message):
    kw = {"dt": 1e-3, **kw}
    with pytest.raises(InputError) as info:
        reference_from_arrays(arrays, populations={"x": 2, "lif1": 2}, inputs=["x"], **kw)
    assert message in str(info.value)


def test_cli_misuse(saved_run, tmp_path, capsys):
    nir_path, inp, ref, _arrays = saved_run
    assert main(["check", str(nir_path), "--profile", "snntorch", "--reference", str(ref)]) == 2
    assert "needs --input" in capsys.readouterr().err
    assert main(["check", str(nir_path), "--profile", "snntorch", "--input", str(inp), "--backends", "numpy"]) == 2
    assert "--input applies with --reference" in capsys.readouterr().err
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, lif9=np.zeros((80, 8)))
    assert main(["check", str(nir_path), "--profile", "snntorch", "--input", str(inp), "--reference",
                 str(wrong), "--quiet"]) == 1
    assert "did you mean" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "missing.npz"), str(ref)]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["compare", str(ref), str(ref), "--layer-map", "nonsense"]) == 2


@pytest.mark.parametrize("case, options", [
    ("leaky_ff_zero", ["--reset", "zero"]),  # reset_mechanism="zero": not in the file, stated by the user
    ("leaky_ff_subtract_nodelay", ["--reset", "subtract_no_delay"]),  # reset_delay=False
    ("rleaky_subtract", []),  # RLeaky: the layer inside the exported subgraph is named lif1.lif
])
def test_other_snntorch_runs_with_the_constructor_options(case, options, tmp_path, capsys):
    with np.load(SNNTORCH / f"{case}.npz") as data:
        np.savez(tmp_path / "input.npz", input=data["input"])
        layers = {k[len("spikes__"):] for k in data.files if k.startswith("spikes__")}
    js = tmp_path / "r.json"
    code = main(["check", str(SNNTORCH / f"{case}.nir"), "--profile", "snntorch", *options, "--input",
                 str(tmp_path / "input.npz"), "--reference", str(SNNTORCH / f"{case}.npz"), "--json", str(js),
                 "--quiet"])
    assert code == 0, capsys.readouterr().out
    rows = json.loads(js.read_text())["rows"]
    assert {r["layer"] for r in rows} == layers and all(r["status"] == "PASS" for r in rows)
