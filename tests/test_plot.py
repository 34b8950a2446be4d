"""Tests of neuroport.plot: files, atomic writes, content of the axes."""

from __future__ import annotations

import doctest
import os
import subprocess
import sys
import textwrap

import matplotlib.image as mpimg
import numpy as np
import pytest
import scipy.sparse as sp
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch

from neuroport import plot
from neuroport.backends.base import Result, SpikeTrain
from neuroport.errors import InputError, ParameterError


def _result(backend="numpy", seed=0, steps=100):
    rng = np.random.default_rng(seed)
    spikes = {"in": SpikeTrain.from_dense(rng.random((steps, 20)) < 0.05),
              "exc": SpikeTrain.from_dense(rng.random((steps, 8)) < 0.1)}
    v = np.cumsum(rng.normal(0.0, 0.1, (steps, 8)), axis=0)
    return Result(backend, 1e-3, steps, spikes=spikes, states={"exc": {"v": v}})


def _check_png(path, min_bytes=5000):
    assert os.path.getsize(path) > min_bytes
    with open(path, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 300 and img.shape[2] in (3, 4)
    assert not np.all(img == img[0, 0])
    return img


def _no_temp_files(folder):
    return [f for f in os.listdir(folder) if f.endswith(".tmp")] == []


def test_docstring_examples_run():
    failures, tried = doctest.testmod(plot)
    assert tried >= 5 and failures == 0


# --------------------------------------------------------------------------- raster
def test_raster_writes_png(tmp_path):
    path = tmp_path / "raster.png"
    fig = plot.raster(_result(), path=path, title="demo")
    assert isinstance(fig, Figure)
    img = _check_png(path)
    w, h = fig.get_size_inches() * 120
    assert img.shape[:2] == (round(h), round(w))  # dpi 120
    assert _no_temp_files(tmp_path)


def test_raster_bands_and_axes():
    res = _result()
    ax = plot.raster(res, title="t").axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["in", "exc"]
    assert ax.get_xlabel() == "time (ms)" and ax.get_title() == "t"
    # exc spikes sit above the 20 neurons of "in", at times step * 1 ms
    exc = res.spikes["exc"]
    x, y = ax.lines[1].get_data()
    np.testing.assert_allclose(x, exc.steps * 1.0)
    np.testing.assert_array_equal(y, exc.neurons + 20)


def test_raster_of_trains_dict_in_steps_and_subset():
    trains = _result().spikes
    ax = plot.raster(trains).axes[0]
    assert ax.get_xlabel() == "time (steps)"
    ax = plot.raster(trains, populations=["exc"], dt=5e-4).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["exc"]
    assert ax.get_xlabel() == "time (ms)"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), trains["exc"].steps * 0.5)


def test_raster_overlay_names_both_backends(tmp_path):
    a, b = _result("numpy", seed=0), _result("lava-fixed", seed=1)
    fig = plot.raster(a, overlay=b, path=tmp_path / "cmp.png")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["numpy", "lava-fixed"]
    spikes = [ln for ln in ax.lines if ln.get_marker() not in (None, "None", "")]
    assert len(spikes) == 4  # two populations x two runs (the rest: band separators)
    assert ax.lines[0].get_color() != ax.lines[1].get_color()
    assert ax.lines[0].get_marker() != ax.lines[1].get_marker()
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), b.spikes["in"].steps * 1.0)
    _check_png(tmp_path / "cmp.png")


def test_raster_overlay_same_backend_is_distinguished():
    labels = [t.get_text() for t in
              plot.raster(_result(), overlay=_result()).axes[0].get_legend().get_texts()]
    assert labels[0] != labels[1] and all("numpy" in s for s in labels)


def test_raster_errors():
    res = _result()
    with pytest.raises(InputError, match="unknown.*nope"):
        plot.raster(res, populations=["nope"])
    bad = Result("x", 1e-3, 100, spikes={"in": SpikeTrain.from_dense(np.zeros((100, 3), bool))})
    with pytest.raises(InputError, match="3 neurons, expected 20"):
        plot.raster(res, overlay=bad)
    with pytest.raises(InputError, match="Result or a dict"):
        plot.raster([1, 2, 3])
    with pytest.raises(ParameterError, match="dt"):
        plot.raster(res.spikes, dt=-1.0)


# --------------------------------------------------------------------------- atomic writes
def test_failed_replace_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    path.write_bytes(b"old contents")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(plot.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        plot.raster(_result(), path=path)
    assert path.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["out.png"]  # temp file removed


def test_failed_render_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.png"
    path.write_bytes(b"old contents")

    def boom(self, *args, **kwargs):
        raise RuntimeError("render failed")

    monkeypatch.setattr(Figure, "savefig", boom)
    with pytest.raises(RuntimeError, match="render failed"):
        plot.weights_histogram(np.arange(10.0), path=path)
    assert path.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["w.png"]


def test_save_overwrites_and_refuses_unknown_extension(tmp_path):
    path = tmp_path / "x.png"
    path.write_bytes(b"old")
    plot.traces(_result(), population="exc", path=path)
    _check_png(path)
    with pytest.raises(ParameterError, match="extension"):
        plot.save(plot.weights_histogram(np.ones(3)), tmp_path / "x.notaformat")
    with pytest.raises(OSError):
        plot.save(plot.weights_histogram(np.ones(3)), tmp_path / "missing_dir" / "x.png")


def test_headless_without_mplbackend(tmp_path):
    code = textwrap.dedent(f"""
        import sys, numpy as np
        from neuroport import plot
        plot.weight_images(np.eye(4), image_shape=(2, 2), path={str(tmp_path / 'h.png')!r})
        assert "matplotlib.pyplot" not in sys.modules
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
    _check_png(tmp_path / "h.png", min_bytes=2000)


# --------------------------------------------------------------------------- traces
def test_traces_content(tmp_path):
    res = _result()
    fig = plot.traces(res, population="exc", threshold=0.5, path=tmp_path / "v.png", spikes=False)
    ax = fig.axes[0]
    assert len(ax.lines) == 6  # 5 neurons + threshold
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.arange(100) * 1.0)
    np.testing.assert_allclose(ax.lines[3].get_ydata(), res.states["exc"]["v"][:, 3])
    assert ax.lines[-1].get_linestyle() == "--"
    assert list(ax.lines[-1].get_ydata()) == [0.5, 0.5]
    assert ax.get_xlabel() == "time (ms)" and "v" in ax.get_ylabel()
    _check_png(tmp_path / "v.png")


def test_traces_selected_neurons_and_errors():
    res = _result()
    ax = plot.traces(res, population="exc", neurons=[7, 2], spikes=False).axes[0]
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), res.states["exc"]["v"][:, 7])
    with pytest.raises(InputError, match=r"exc\.u was not probed"):
        plot.traces(res, population="exc", variable="u")
    with pytest.raises(InputError, match=r"\[0, 7\].*\[8\]"):
        plot.traces(res, population="exc", neurons=[8])


# --------------------------------------------------------------------------- weights
def _bar_total(ax):
    return sum(p.get_height() for p in ax.patches)


def test_histogram_dense_and_sparse_stored_only(tmp_path):
    dense = np.random.default_rng(0).normal(size=(30, 40))
    ax = plot.weights_histogram(dense, bins=20, path=tmp_path / "h.png").axes[0]
    assert _bar_total(ax) == 1200 and len(ax.patches) == 20
    _check_png(tmp_path / "h.png")
    sparse = sp.csr_matrix(([0.5, -0.25, 2.0], ([0, 3, 7], [1, 1, 9])), shape=(100, 100))
    ax = plot.weights_histogram(sparse, bins=10).axes[0]
    assert _bar_total(ax) == 3  # not the 9997 implicit zeros
    ax = plot.weights_histogram(sp.coo_matrix(sparse)).axes[0]
    assert _bar_total(ax) == 3


def test_histogram_dict_overlaid_with_legend():
    w = {"ee": sp.random(50, 50, density=0.2, random_state=1, format="csr"), "ie": -np.ones((5, 5))}
    ax = plot.weights_histogram(w, bins=15, title="projections").axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ee (500)", "ie (25)"]
    assert _bar_total(ax) == 525 and ax.get_title() == "projections"
    assert ax.get_xlabel().startswith("weight") and ax.get_ylabel()


def test_histogram_errors():
    with pytest.raises(InputError, match=r"weights\['a'\].*1 NaN"):
        plot.weights_histogram({"a": np.array([1.0, np.nan])})
    with pytest.raises(ParameterError, match="bins"):
        plot.weights_histogram(np.ones(3), bins=0)


def test_weight_images_tiles(tmp_path):
    w = np.random.default_rng(2).normal(size=(7, 12))
    fig = plot.weight_images(w, image_shape=(3, 4), path=tmp_path / "rf.png")
    mosaic = np.ma.filled(fig.axes[0].get_images()[0].get_array().astype(float), np.nan)
    assert mosaic.shape == (3 * 4 - 1, 3 * 5 - 1)  # 3x3 grid, 1-pixel gaps
    for i in range(7):
        r, c = divmod(i, 3)
        np.testing.assert_array_equal(mosaic[r * 4:r * 4 + 3, c * 5:c * 5 + 4], w[i].reshape(3, 4))
    assert np.isnan(mosaic[3]).all()  # gap row
    assert len(fig.axes) == 2  # image + colour bar
    _check_png(tmp_path / "rf.png")


def test_weight_images_limit_sparse_and_errors():
    w = sp.random(30, 16, density=0.5, random_state=0, format="csr")
    fig = plot.weight_images(w, image_shape=(4, 4), max_images=9)
    assert fig.axes[0].get_title() == "receptive fields of 9 of 30 post-neurons (4x4)"
    with pytest.raises(InputError, match=r"\(post, 16\).*\(30, 15\)"):
        plot.weight_images(np.ones((30, 15)), image_shape=(4, 4))
    with pytest.raises(ParameterError, match="image_shape"):
        plot.weight_images(np.ones((2, 16)), image_shape=(16,))
    with pytest.raises(ParameterError, match="max_images"):
        plot.weight_images(np.ones((2, 16)), image_shape=(4, 4), max_images=0)



# --------------------------------------------------------------------------- time axes
def _sparse_train(num_steps, size=3, seed=0, count=30):
    rng = np.random.default_rng(seed)
    steps = np.sort(rng.integers(0, num_steps, count))
    return SpikeTrain(steps.astype(np.int64), rng.integers(0, size, count).astype(np.int64), size, num_steps)


@pytest.mark.parametrize("dt, num_steps, unit, per_step", [
    (1e-3, 1999, "ms", 1.0),          # 1.999 s: still ms
    (1e-3, 2000, "s", 1e-3),          # 2 s: seconds
    (1.0, 599, "s", 1.0),             # just under 10 minutes
    (1.0, 600, "min", 1 / 60),        # 10 minutes: minutes
    (1.0, 200_000, "min", 1 / 60),    # dt = 1 s, 200000 steps: never "200000 ms"
])
def test_time_axis_switches_units(dt, num_steps, unit, per_step):
    train = _sparse_train(num_steps)
    ax = plot.raster({"p": train}, dt=dt).axes[0]
    assert ax.get_xlabel() == f"time ({unit})"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), train.steps * per_step)
    v = np.zeros((num_steps, 3)) if num_steps <= 2000 else np.zeros((num_steps, 1))
    res = Result("numpy", dt, num_steps, spikes={"p": train}, states={"p": {"v": v}})
    assert plot.traces(res, population="p", neurons=[0], spikes=False).axes[0].get_xlabel() == f"time ({unit})"
    assert plot.time_unit(num_steps * dt)[1] == unit


def test_time_unit_rejects_bad_durations():
    for bad in (-1.0, float("nan"), "1s"):
        with pytest.raises(ParameterError, match="duration"):
            plot.time_unit(bad)


# --------------------------------------------------------------------------- spike markers on traces
def test_traces_mark_spikes_at_their_times_on_the_threshold():
    res = _result()
    ax = plot.traces(res, population="exc", neurons=[1, 4], threshold=0.7).axes[0]
    markers = [ln for ln in ax.lines if ln.get_marker() == "v"]
    spiking = [i for i in (1, 4) if res.spikes["exc"].times_of(i).size]
    assert len(markers) == len(spiking) >= 1
    dense = res.spikes["exc"].to_dense()
    for ln, i in zip(markers, spiking):
        np.testing.assert_allclose(ln.get_xdata(), np.flatnonzero(dense[:, i]) * 1.0)  # ms, dt = 1 ms
        assert set(ln.get_ydata()) == {0.7}
    # without a threshold the marker sits on top of the neuron's trace; the legend names "spike" once
    ax = plot.traces(res, population="exc", neurons=[spiking[0]], unit="mV").axes[0]
    marker = [ln for ln in ax.lines if ln.get_marker() == "v"][0]
    assert set(marker.get_ydata()) == {res.states["exc"]["v"][:, spiking[0]].max()}
    assert [t.get_text() for t in ax.get_legend().get_texts()].count("spike") == 1
    assert ax.get_ylabel() == "v (mV)"


# --------------------------------------------------------------------------- rate, PSTH
def test_psth_one_bar_per_bin_with_independent_heights(tmp_path):
    res = _result(steps=103)
    fig = plot.psth(res, bin_width=10e-3, path=tmp_path / "psth.png")
    assert len(fig.axes) == 2 and fig.axes[-1].get_xlabel() == "time (ms)"
    for ax, name in zip(fig.axes, ["in", "exc"]):
        dense = res.spikes[name].to_dense()
        heights = [p.get_height() for p in ax.patches]
        assert len(heights) == 11  # 10 full bins of 10 steps and the 3-step remainder
        expected = [dense[k:k + 10].sum() / (dense.shape[1] * min(10, 103 - k) * 1e-3) for k in range(0, 103, 10)]
        np.testing.assert_allclose(heights, expected)
        assert "rate (Hz)" in ax.get_ylabel() and name in ax.get_ylabel()
    _check_png(tmp_path / "psth.png")


def test_population_rate_lines_and_smoothing():
    res = _result(steps=200)
    ax = plot.population_rate(res, populations="exc", bin_width=5e-3).axes[0]
    (line,) = ax.lines
    dense = res.spikes["exc"].to_dense()
    np.testing.assert_allclose(line.get_xdata(), np.arange(2.5, 200, 5.0))  # bin centres in ms
    raw = dense.reshape(40, 5, 8).sum(axis=(1, 2)) / (8 * 5e-3)
    np.testing.assert_allclose(line.get_ydata(), raw)
    assert ax.get_ylabel() == "rate (Hz)"
    assert f"mean {dense.sum() / (8 * 0.2):.3g} Hz" in ax.get_legend().get_texts()[0].get_text()
    smooth = plot.population_rate(res, populations=["exc"], bin_width=5e-3, smooth=20e-3).axes[0].lines[0]
    y = smooth.get_ydata()
    assert y.std() < raw.std() and abs(y.mean() - raw.mean()) < 0.1 * raw.mean()
    assert "smoothing" in plot.population_rate(res, smooth=20e-3).axes[0].get_title()


def test_rate_plots_errors():
    res = _result()
    with pytest.raises(InputError, match="did you mean 'exc'"):
        plot.psth(res, populations=["exx"])
    with pytest.raises(ParameterError, match="bin_width"):
        plot.population_rate(res, bin_width=0.0)
    with pytest.raises(ParameterError, match="smooth"):
        plot.population_rate(res, smooth=-1.0)
    with pytest.raises(ParameterError, match="dt"):
        plot.psth(res.spikes)  # a dict of trains carries no time step


# --------------------------------------------------------------------------- ISI
def _independent_cv(dense):
    cvs = []
    for col in dense.T:
        t = np.flatnonzero(col)
        if len(t) >= 3:
            isi = np.diff(t)
            cvs.append(np.std(isi) / np.mean(isi))
    return np.mean(cvs)


def test_isi_histogram_cv_in_legend_and_counts(tmp_path):
    rng = np.random.default_rng(5)
    poisson = rng.random((2000, 10)) < 0.05
    regular = np.zeros((2000, 4), bool)
    regular[::25] = True
    res = Result("numpy", 1e-3, 2000, spikes={"poisson": SpikeTrain.from_dense(poisson),
                                              "regular": SpikeTrain.from_dense(regular)})
    ax = plot.isi_histogram(res, bins=30, path=tmp_path / "isi.png").axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    n_isi = int(poisson.sum() - 10)
    assert texts == [f"poisson: CV {_independent_cv(poisson):.2f} ({n_isi} ISIs)",
                     f"regular: CV 0.00 ({int(regular.sum() - 4)} ISIs)"]
    assert 0.8 < _independent_cv(poisson) < 1.1  # a Poisson train: CV near 1
    assert ax.get_xlabel() == "inter-spike interval (ms)"
    steps = [p for p in ax.patches if isinstance(p, StepPatch)]
    assert len(steps) == 2 and all(len(p.get_data().values) == 30 for p in steps)
    isi_ms = np.concatenate([np.diff(np.flatnonzero(col)) for col in poisson.T])  # 1 ms steps
    values, edges = steps[0].get_data()[:2]
    np.testing.assert_array_equal(values, np.histogram(isi_ms, bins=edges)[0])
    assert values.sum() == n_isi
    _check_png(tmp_path / "isi.png")
    log_ax = plot.isi_histogram(res, populations="poisson", log_x=True).axes[0]
    assert log_ax.get_xscale() == "log"


def test_isi_histogram_without_isis_says_so():
    res = Result("numpy", 1e-3, 10, spikes={"p": SpikeTrain.from_dense(np.eye(10, 3, dtype=bool))})
    ax = plot.isi_histogram(res).axes[0]
    assert ax.texts[0].get_text() == "no neuron spiked twice"
    with pytest.raises(ParameterError, match="bins"):
        plot.isi_histogram(res, bins=0)


# --------------------------------------------------------------------------- rate map
def test_rate_map_bars_and_images(tmp_path):
    res = _result(steps=100)
    dense = res.spikes["in"].to_dense()
    ax = plot.rate_map(res, "in").axes[0]
    assert len(ax.patches) == 20
    np.testing.assert_allclose([p.get_height() for p in ax.patches], dense.sum(axis=0) / 0.1)
    fig = plot.rate_map(res, "in", shape=(4, 5), path=tmp_path / "map.png")
    np.testing.assert_allclose(fig.axes[0].get_images()[0].get_array(), (dense.sum(axis=0) / 0.1).reshape(4, 5))
    assert fig.axes[1].get_ylabel() == "rate (Hz)"  # the colour bar
    _check_png(tmp_path / "map.png", min_bytes=2000)
    maps = np.ma.filled(plot.rate_map(res, "in", shape=(2, 2, 5)).axes[0].get_images()[0].get_array(), np.nan)
    assert maps.shape == (2, 11) and np.isnan(maps[:, 5]).all()
    np.testing.assert_allclose(maps[:, 6:], (dense.sum(axis=0) / 0.1).reshape(2, 2, 5)[1])
    with pytest.raises(InputError, match="holds 16 neurons.*20"):
        plot.rate_map(res, "in", shape=(4, 4))
    with pytest.raises(ParameterError, match="shape"):
        plot.rate_map(res, "in", shape=(20,))


# --------------------------------------------------------------------------- composing with ax=
def test_every_plot_draws_into_a_given_axes(tmp_path):
    res = _result()
    fig = Figure(figsize=(8, 4))
    axes = [fig.add_subplot(2, 4, k + 1) for k in range(8)]
    assert plot.raster(res, ax=axes[0]) is fig
    assert plot.population_rate(res, ax=axes[1]) is fig
    assert plot.psth(res, populations="exc", ax=axes[2]) is fig
    assert plot.isi_histogram(res, ax=axes[3]) is fig
    assert plot.rate_map(res, "exc", ax=axes[4]) is fig
    assert plot.traces(res, population="exc", ax=axes[5]) is fig
    assert plot.weights_histogram(np.ones(4), ax=axes[6]) is fig
    assert plot.weight_images(np.eye(4), image_shape=(2, 2), ax=axes[7], path=tmp_path / "all.png") is fig
    assert all(ax.has_data() for ax in axes)
    _check_png(tmp_path / "all.png")
    with pytest.raises(ParameterError, match="one matplotlib Axes per population"):
        plot.psth(res, ax=axes[2])  # two populations, one axes
    with pytest.raises(ParameterError, match="ax"):
        plot.isi_histogram(res, ax="not an axes")


# --------------------------------------------------------------------------- receptive fields with classes
def test_weight_images_tiles_labelled_with_their_class(tmp_path):
    w = np.random.default_rng(4).random((6, 16))
    classes = [3, 0, -1, 3, 9, 1]
    fig = plot.weight_images(w, image_shape=(4, 4), labels=classes, path=tmp_path / "rf.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["3", "0", "-", "3", "9", "1"]
    colours = [t.get_bbox_patch().get_facecolor() for t in ax.texts]
    assert colours[0] == colours[3] and len({colours[i] for i in (0, 1, 2, 4, 5)}) == 5
    frames = [p for p in ax.patches if not p.get_fill()]
    assert [f.get_edgecolor() for f in frames] == colours
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["unassigned", "class 0", "class 1", "class 3",
                                                                   "class 9"]
    assert "assigned class" in ax.get_title()
    _check_png(tmp_path / "rf.png")
    with pytest.raises(InputError, match="one integer class per post-neuron"):
        plot.weight_images(w, image_shape=(4, 4), labels=[1, 2])


# --------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("kind, extra", [
    ("raster", []), ("rate", ["--bin-ms", "10", "--smooth-ms", "20"]), ("psth", ["--population", "exc"]),
    ("isi", ["--log-x"]), ("ratemap", ["--population", "in", "--shape", "4x5"]),
    ("trace", ["--probe", "exc.v", "--neurons", "0,3", "--threshold", "0.5", "--title", "my title"]),
])
def test_cli_plot_kinds_write_png(tmp_path, capsys, kind, extra):
    from neuroport.cli import main

    npz = tmp_path / "run.npz"
    _result().save_npz(npz)
    out = tmp_path / f"{kind}.png"
    assert main(["plot", str(npz), "--kind", kind, "--out", str(out)] + extra) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    _check_png(out, min_bytes=2000)


def test_cli_plot_refuses_bad_kinds_and_options(tmp_path, capsys):
    from neuroport.cli import main

    npz = tmp_path / "run.npz"
    _result().save_npz(npz)
    assert main(["plot", str(npz), "--kind", "psht"]) == 2
    err = capsys.readouterr().err
    assert "unknown kind (did you mean 'psth'?)" in err and "raster, rate" in err and "Traceback" not in err
    assert main(["plot", str(npz), "--kind", "rate", "--shape", "4x5"]) == 2
    assert "--shape applies to --kind ratemap" in capsys.readouterr().err
    assert main(["plot", str(npz), "--kind", "trace", "--probe", "exc.u"]) == 2
    assert "did you mean 'exc.v'" in capsys.readouterr().err
    assert main(["plot", str(npz), "--kind", "ratemap"]) == 2
    assert "give one of in, exc" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "missing.npz")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["plot", str(tmp_path)]) == 1
    assert "is a folder" in capsys.readouterr().err
    assert main(["plot", str(npz), "--out", str(tmp_path / "x.notaformat")]) == 2
    assert "expected an image file name" in capsys.readouterr().err
    assert main(["plot", str(npz)]) == 0  # default: a raster next to the result
    assert (tmp_path / "run_raster.png").exists()


def test_threshold_line_from_the_network(tmp_path):
    import neuroport
    from neuroport.cli import main

    net = neuroport.Network()
    x = net.input(4, name="x")
    exc = net.population(3, neuroport.LIF(tau=0.02, v_threshold=0.6), name="exc")
    net.connect(x, exc, weight=np.full((3, 4), 20.0))
    spikes_in = np.random.default_rng(0).random((80, 4)) < 0.3
    res = neuroport.run(net, dt=1e-3, steps=80, inputs=spikes_in, probes=["exc.v"], progress=False)
    assert plot.threshold_of(net, "exc") == 0.6
    ax = plot.traces(res, population="exc", network=net).axes[0]
    assert list(ax.lines[-1].get_ydata()) == [0.6, 0.6] and ax.lines[-1].get_linestyle() == "--"
    assert res.spikes["exc"].count > 0  # the markers sit on that line
    assert all(set(ln.get_ydata()) == {0.6} for ln in ax.lines if ln.get_marker() == "v")
    fixed = Result("numpy-fixed", 1e-3, 80, spikes=dict(res.spikes), states={"exc": {"v": res["exc.v"] * 64}})
    assert not any(ln.get_linestyle() == "--" for ln in plot.traces(fixed, population="exc", network=net).axes[0].lines)
    with pytest.raises(InputError, match="did you mean 'exc'"):
        plot.threshold_of(net, "ex")
    nir_path, npz = tmp_path / "net.nir", tmp_path / "run.npz"
    neuroport.write(nir_path, net, options={"dt": 1e-3})
    res.save_npz(npz)
    assert main(["plot", str(npz), "--kind", "trace", "--network", str(nir_path), "--out", str(tmp_path / "t.png")]) == 0
    _check_png(tmp_path / "t.png", min_bytes=2000)
