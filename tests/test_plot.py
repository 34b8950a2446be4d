"""Plots: valid, non-trivial PNGs; atomic writes; overlays label both backends."""

import matplotlib.image as mpimg
import numpy as np
import pytest
import scipy.sparse as sp

from neuroport import plot
from neuroport.backends.base import Result, SpikeTrain


def _result(name="numpy", seed=0):
    rng = np.random.default_rng(seed)
    spikes = rng.random((200, 20)) < 0.05
    v = rng.normal(size=(200, 20)).cumsum(axis=0)
    return Result(name, 1e-3, 200, {"pop": SpikeTrain.from_dense(spikes)}, {"pop": {"v": v}})


def _check_png(path):
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    assert not np.all(img == img[0, 0])  # something was drawn


def test_raster_and_overlay(tmp_path):
    path = tmp_path / "raster.png"
    fig = plot.raster(_result(), path=path, overlay=_result("brian2", seed=1), title="test")
    _check_png(path)
    labels = [t.get_text() for ax in fig.axes for t in (ax.get_legend().get_texts() if ax.get_legend() else [])]
    assert "numpy" in labels and "brian2" in labels
    assert any("ms" in ax.get_xlabel() for ax in fig.axes)


def test_traces_histogram_and_images(tmp_path):
    plot.traces(_result(), population="pop", path=tmp_path / "t.png", threshold=1.0)
    _check_png(tmp_path / "t.png")
    w = sp.random(30, 64, density=0.2, random_state=0, format="csr")
    plot.weights_histogram({"a": w, "b": np.random.default_rng(1).normal(size=(5, 5))}, path=tmp_path / "h.png")
    _check_png(tmp_path / "h.png")
    plot.weight_images(np.random.default_rng(2).random((12, 64)), image_shape=(8, 8), path=tmp_path / "i.png")
    _check_png(tmp_path / "i.png")


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "raster.png"
    plot.raster(_result(), path=path)
    before = path.read_bytes()

    import os

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        plot.raster(_result(seed=3), path=path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raster.png"]
