"""The user's surface: durations instead of steps, probes named "pop.var", Result by name, short print,
CLI consistency (--steps/--duration, --progress/--no-progress, .npy/.npz input names, --dt notice, info)."""

import pathlib
import re

import numpy as np
import pytest

import neuroport
from neuroport.cli import build_parser, main
from neuroport.duration import parse_duration
from neuroport.errors import InputError, UnknownNameError
from neuroport.result import Result

REPO = pathlib.Path(__file__).resolve().parents[1]
DT = 1e-3


def _net():
    net = neuroport.Network()
    x = net.input(5, name="x")
    exc = net.population(4, neuroport.LIF(tau=0.01, v_threshold=1.0), name="exc")
    net.connect(x, exc, weight=np.full((4, 5), 3.0))
    return net


def _inputs(steps, seed=0):
    return (np.random.default_rng(seed).random((steps, 5)) < 0.3).astype(float)


@pytest.fixture
def nir_file(tmp_path):
    path = tmp_path / "net.nir"
    neuroport.write(path, _net(), options={"dt": DT})
    return path


def _same_result(a, b):
    assert a.num_steps == b.num_steps and set(a.spikes) == set(b.spikes)
    for pop in a.spikes:
        np.testing.assert_array_equal(a.spikes[pop].to_dense(), b.spikes[pop].to_dense())
    for name, arr in a.probes.items():
        np.testing.assert_array_equal(arr, b.probes[name])


# ----------------------------------------------------------------------------- durations
@pytest.mark.parametrize("mode", ["numpy", "numpy-fixed"])
def test_duration_equals_steps_times_dt(mode):
    steps = 60
    ins = _inputs(steps)
    by_steps = neuroport.run(_net(), backend=mode, dt=DT, steps=steps, inputs=ins, probes=[("exc", "v")])
    for duration in (steps * DT, f"{steps}ms", f"{steps * DT}s", f"{steps * 1000}us"):
        by_time = neuroport.run(_net(), backend=mode, dt=DT, duration=duration, inputs=ins, probes=["exc.v"])
        _same_result(by_steps, by_time)
    assert by_steps.spikes["exc"].count > 0  # the comparison compared something


def test_simulator_duration_and_string_probes():
    ins = _inputs(40)
    a = neuroport.Simulator(_net(), dt=DT, probes=["exc.v"])
    b = neuroport.Simulator(_net(), dt=DT, probes=[("exc", "v")])
    first, second = a.run(duration="20ms", inputs=ins[:20]), a.run(duration=0.02, inputs=ins[20:])
    _same_result(first, b.run(20, inputs=ins[:20]))
    _same_result(second, b.run(20, inputs=ins[20:]))
    assert a.t == 40 and second["exc.v"].shape == (20, 4)


def test_duration_refusals():
    with pytest.raises(InputError, match="not both"):
        neuroport.run(_net(), dt=DT, steps=10, duration=0.01)
    with pytest.raises(InputError, match=r"1\.5 steps.*1 step = 1 ms or 2 steps = 2 ms"):
        neuroport.run(_net(), dt=DT, duration="1.5ms")
    with pytest.raises(InputError, match="steps.*or.*duration"):
        neuroport.run(_net(), dt=DT)
    with pytest.raises(InputError, match="unit"):
        neuroport.run(_net(), dt=DT, duration="10 parsecs")
    with pytest.raises(InputError, match="not both"):
        neuroport.Simulator(_net(), dt=DT).run(10, duration=0.01)


def test_parse_duration_units():
    # the units as SI defines them, written out here independently of neuroport.duration.UNITS
    assert parse_duration("2min") == pytest.approx(120.0)
    assert parse_duration("250 us") == pytest.approx(250e-6)
    assert parse_duration("1e-1") == pytest.approx(0.1)
    for bad in ("", "ms", "-5ms", "0s", "inf", "5 hours"):
        with pytest.raises(InputError):
            parse_duration(bad)


# ----------------------------------------------------------------------------- probes and Result
def test_result_by_name_and_suggestions():
    steps = 30
    res = neuroport.run(_net(), dt=DT, steps=steps, inputs=_inputs(steps), probes="exc.v")
    assert res["exc.v"] is res.states["exc"]["v"] and res["exc.v"].shape == (steps, 4)
    assert res.state("exc.v") is res.state("exc", "v")
    assert res["exc"] is res.spikes["exc"] and "exc.v" in res and "exc.u" not in res
    with pytest.raises(UnknownNameError, match="did you mean 'exc.v'"):
        res["exc.vv"]
    with pytest.raises(KeyError, match="did you mean 'exc'"):
        res.spikes["exe"]
    with pytest.raises(InputError, match="did you mean 'exc'"):
        neuroport.run(_net(), dt=DT, steps=5, probes=["exd.v"])
    with pytest.raises(InputError, match="POPULATION.VARIABLE"):
        neuroport.run(_net(), dt=DT, steps=5, probes=["v"])


def test_print_result_is_a_short_summary():
    steps = 2000
    res = neuroport.run(_net(), dt=DT, steps=steps, inputs=_inputs(steps), probes=["exc.v"])
    text = str(res)
    lines = text.splitlines()
    assert len(lines) <= 2 + len(res.spikes) + 2, text
    assert len(text) < 600, text
    for pop, train in res.spikes.items():
        row = next(line for line in lines if line.split()[:1] == [pop])
        assert str(train.count) in row.split()
    assert f"{steps} steps" in text and "exc.v (2000, 4)" in text and "numpy" in text
    assert len(repr(res)) < 300 and "exc=" in repr(res)


def test_saved_result_keeps_name_access(tmp_path):
    res = neuroport.run(_net(), dt=DT, steps=20, inputs=_inputs(20), probes=["exc.v"])
    res.save_npz(tmp_path / "r.npz")
    back = Result.load_npz(tmp_path / "r.npz")
    np.testing.assert_array_equal(back["exc.v"], res["exc.v"])
    with pytest.raises(KeyError, match="did you mean"):
        back.spikes["exx"]


# ----------------------------------------------------------------------------- CLI
def test_cli_duration_equals_steps_and_string_probe(nir_file, tmp_path):
    inp = tmp_path / "in.npz"
    np.savez(inp, x=_inputs(80))
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    assert main(["run", str(nir_file), "--steps", "80", "--input", str(inp), "--probe", "exc.v",
                 "--out", str(a), "--no-progress"]) == 0
    assert main(["run", str(nir_file), "--duration", "80ms", "--input", str(inp), "--probe", "exc.v",
                 "--out", str(b), "--progress"]) == 0
    ra, rb = Result.load_npz(a), Result.load_npz(b)
    _same_result(ra, rb)
    direct = neuroport.run(neuroport.read(nir_file), steps=80, inputs=_inputs(80), probes=["exc.v"])
    _same_result(ra, direct)


def test_cli_run_length_refusals(nir_file, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", str(nir_file), "--steps", "10", "--duration", "10ms"])
    assert exc.value.code == 2 and "not allowed with" in capsys.readouterr().err
    assert main(["run", str(nir_file)]) == 2
    assert "--steps N" in capsys.readouterr().err
    assert main(["run", str(nir_file), "--duration", "2.5ms"]) == 2
    err = capsys.readouterr().err
    assert "2 steps = 2 ms or 3 steps = 3 ms" in err and "Traceback" not in err


def test_cli_npz_names_must_be_inputs(nir_file, tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    np.savez(bad, _inputs(10))  # unnamed: arr_0
    assert main(["run", str(nir_file), "--steps", "10", "--input", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "'arr_0'" in err and "named after the inputs: x" in err
    typo = tmp_path / "typo.npz"
    np.savez(typo, xx=_inputs(10))
    assert main(["run", str(nir_file), "--steps", "10", "--input", str(typo)]) == 1
    assert "did you mean 'x'" in capsys.readouterr().err


def test_cli_npy_input_is_the_single_input(nir_file, tmp_path):
    ins = _inputs(30)
    np.save(tmp_path / "in.npy", ins)
    np.savez(tmp_path / "in.npz", x=ins)
    for name in ("in.npy", "in.npz"):
        assert main(["run", str(nir_file), "--steps", "30", "--input", str(tmp_path / name),
                     "--out", str(tmp_path / f"{name}.out.npz")]) == 0
    _same_result(Result.load_npz(tmp_path / "in.npy.out.npz"), Result.load_npz(tmp_path / "in.npz.out.npz"))
    assert Result.load_npz(tmp_path / "in.npy.out.npz").spikes["x"].count == int(ins.sum())


def test_cli_dt_override_notice(nir_file, capsys):
    assert main(["run", str(nir_file), "--steps", "5", "--dt", "5e-4", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"notice: --dt 500 us overrides the dt recorded in .*net\.nir \(1 ms\)", err), err
    assert main(["run", str(nir_file), "--steps", "5", "--dt", "1e-3"]) == 0
    assert "notice" not in capsys.readouterr().err
    assert main(["run", str(nir_file), "--duration", "5ms", "--dt", "5e-4"]) == 0  # 10 steps of 0.5 ms
    assert "10 steps of 0.5 ms" in capsys.readouterr().out


def test_info_shows_edges_and_recorded_options(tmp_path, capsys):
    net = _net()
    net.probe("exc", "v")
    path = tmp_path / "p.nir"
    neuroport.write(path, net, options={"dt": 2e-3, "timing": "ideal"})
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    graph = neuroport.read(path)
    for a, b in graph.edges:
        assert f"{a} -> {b}" in out
    assert "dt=0.002 s" in out and "timing=ideal" in out and "recorded probes: exc.v" in out


def _subparsers():
    parser = build_parser()
    return next(a for a in parser._actions if a.dest == "command").choices


def test_commands_share_run_length_and_progress_flags():
    subs = _subparsers()
    for name in ("run", "check", "quantize", "demo", "train"):
        opts = {o for a in subs[name]._actions for o in a.option_strings}
        assert {"--steps", "--duration"} <= opts, name
    for name in ("run", "check", "demo", "train", "evaluate"):
        opts = {o for a in subs[name]._actions for o in a.option_strings}
        assert {"--progress", "--no-progress"} <= opts, name


def test_help_texts_cite_only_files_that_exist():
    texts = []
    for p in _subparsers().values():
        texts += [p.description or "", p.epilog or ""] + [a.help or "" for a in p._actions]
    for path in REPO.joinpath("docs").glob("*.md"):
        texts.append(path.read_text())
    cited = set()
    for text in texts:
        assert "DESIGN section" not in text and "DESIGN 6" not in text
        cited |= set(re.findall(r"\b((?:docs|neuroport|examples|benchmarks|tests)/[\w./-]+\.(?:md|py))", text))
    assert cited, "expected some file citations"
    missing = sorted(c for c in cited if not (REPO / c).exists() and not (REPO / "backends" / c).exists())
    assert not missing, missing


def test_simulator_names_suggest():
    sim = neuroport.Simulator(_net(), dt=DT)
    with pytest.raises(InputError, match="did you mean 'exc.v'"):
        sim.set_state("exc", "vv", 0.0)
    with pytest.raises(InputError, match="did you mean 'exc'"):
        sim.state("exx")
