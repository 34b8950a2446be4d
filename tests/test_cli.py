"""The neuroport command line, run in-process through neuroport.cli.main."""

import numpy as np
import pytest

import neuroport
from neuroport.backends.base import Result
from neuroport.cli import build_parser, main


@pytest.fixture
def nir_file(tmp_path):
    net = neuroport.Network()
    x = net.input(5, name="x")
    y = net.population(4, neuroport.LIF(tau=0.01, v_threshold=1.0), name="y")
    net.connect(x, y, weight=np.full((4, 5), 6.0))
    net.output(y)
    path = tmp_path / "net.nir"
    neuroport.write(path, net)
    return path


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for cmd in ("info", "run", "demo"):
        assert cmd in out


def test_info(nir_file, capsys):
    assert main(["info", str(nir_file)]) == 0
    out = capsys.readouterr().out
    assert "LIF (lif)" in out and "20 synapses" in out and "tau=0.01" in out


def test_run_writes_result_and_plot(nir_file, tmp_path, capsys):
    out_npz, png = tmp_path / "r.npz", tmp_path / "r.png"
    code = main(["run", str(nir_file), "--dt", "1e-3", "--steps", "200", "--input", "poisson:rate=100",
                 "--out", str(out_npz), "--plot", str(png), "--probe", "y.v"])
    assert code == 0
    res = Result.load_npz(out_npz)
    assert res.spikes["y"].count > 0
    assert res.state("y", "v").shape == (200, 4)
    assert png.stat().st_size > 1000
    assert "steps/s" in capsys.readouterr().out


def test_run_with_npz_input(nir_file, tmp_path):
    inp = tmp_path / "in.npz"
    np.savez(inp, x=np.ones((50, 5)))
    assert main(["run", str(nir_file), "--dt", "1e-3", "--steps", "50", "--input", str(inp),
                 "--out", str(tmp_path / "r.npz")]) == 0
    assert Result.load_npz(tmp_path / "r.npz").spikes["x"].count == 250


def test_missing_dt_is_a_clean_error(nir_file, capsys):
    assert main(["run", str(nir_file), "--steps", "10"]) == 1
    err = capsys.readouterr().err
    assert "no time step" in err and "Traceback" not in err


def test_bad_input_spec(nir_file, capsys):
    assert main(["run", str(nir_file), "--dt", "1e-3", "--steps", "10", "--input", "gauss:rate=3"]) == 1
    assert "poisson:rate=HZ" in capsys.readouterr().err


def test_unreadable_file(tmp_path, capsys):
    bad = tmp_path / "bad.nir"
    bad.write_bytes(b"\x89HDF garbage")
    assert main(["info", str(bad)]) == 1
    assert "bad.nir" in capsys.readouterr().err


def test_every_subcommand_has_help_text():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert p.description, f"{name} has no description"


def test_demo_writes_nir_png_and_table(tmp_path, capsys):
    code = main(["demo", "--out", str(tmp_path), "--steps", "200", "--backends", "numpy,numpy-fixed,loihi2"])
    assert code == 0
    out = capsys.readouterr().out
    assert "numpy-fixed" in out and "(reference)" in out and "unavailable" in out
    assert (tmp_path / "demo.nir").stat().st_size > 0
    assert (tmp_path / "demo_raster.png").stat().st_size > 1000
