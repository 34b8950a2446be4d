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
    fig = plot.traces(res, population="exc", threshold=0.5, path=tmp_path / "v.png")
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
    ax = plot.traces(res, population="exc", neurons=[7, 2]).axes[0]
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
