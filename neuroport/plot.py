"""Plots of runs and weights, safe without a display.

Every function builds a :class:`matplotlib.figure.Figure` with its own Agg
canvas (never ``pyplot``), so it works on a headless machine whatever
``MPLBACKEND`` says, and does not touch figures the caller has open. Each
returns the Figure; with ``path=`` it also writes the image atomically: to a
temporary file in the same folder, then ``os.replace``, so an interrupted or
failed write leaves any previous file at ``path`` intact.

Times are shown in ms when the time step is known, else in steps.
"""

from __future__ import annotations

import math
import os
from typing import Mapping

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from neuroport.errors import InputError, ParameterError
from neuroport.fileutil import atomic_target
from neuroport.result import Result, SpikeTrain, require_unbatched

__all__ = ["raster", "traces", "weights_histogram", "weight_images", "save", "network_activity"]

DPI = 120
_PRIMARY = dict(color="tab:blue", marker="|", markersize=6, markeredgewidth=1.0)
_OVERLAY = dict(color="tab:red", marker="x", markersize=4, markeredgewidth=0.8)


# --------------------------------------------------------------------------- helpers
def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path) -> str:
    """Write ``fig`` to ``path`` atomically (temp file + ``os.replace``).

    The format follows the extension (``.png`` when there is none or it is
    ``.png``; any format matplotlib's Agg canvas writes, such as ``.svg`` or
    ``.pdf``, otherwise), at 120 dpi.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or os.PathLike

    Returns
    -------
    str
        The path written.

    Raises
    ------
    ParameterError
        An extension matplotlib cannot write.
    OSError
        The folder is not writable; the old file, if any, is untouched.

    Examples
    --------
    >>> import os, tempfile
    >>> fig = weights_histogram(np.arange(10.0))
    >>> p = save(fig, os.path.join(tempfile.mkdtemp(), "w.png"))
    >>> os.path.getsize(p) > 1000
    True
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".") or "png"
    supported = FigureCanvasAgg.get_supported_filetypes()
    if ext not in supported:
        raise ParameterError(f"path: expected an image extension among {sorted(supported)}, got {path!r}")
    with atomic_target(path) as tmp:
        with open(tmp, "wb") as fh:
            fig.savefig(fh, format=ext, dpi=DPI)
    return path


def _finish(fig: Figure, path) -> Figure:
    fig.tight_layout()
    if path is not None:
        save(fig, path)
    return fig


def _trains_of(obj, what: str) -> dict:
    if isinstance(obj, Result):
        require_unbatched(obj, what)
        return dict(obj.spikes)
    if isinstance(obj, Mapping) and all(isinstance(t, SpikeTrain) for t in obj.values()):
        return dict(obj)
    raise InputError(f"{what}: expected a Result or a dict of SpikeTrain, got {type(obj).__name__}")


def _time_axis(dt):
    """(scale from steps to axis unit, axis label)."""
    if dt is None:
        return 1.0, "time (steps)"
    return float(dt) * 1e3, "time (ms)"


# --------------------------------------------------------------------------- raster
def raster(result_or_trains, *, populations=None, dt: float | None = None, path=None,
           title: str | None = None, overlay: Result | None = None) -> Figure:
    """Spike raster of one or several populations, stacked in labelled bands.

    Parameters
    ----------
    result_or_trains : Result or dict[str, SpikeTrain]
        Spikes to draw.
    populations : list of str, optional
        Which populations, bottom band first; default all, in order.
    dt : float, optional
        Time step in s; default ``result.dt`` for a Result. With a time step
        the x-axis is in ms, else in steps.
    path : str or os.PathLike, optional
        Write the figure there (see :func:`save`).
    title : str, optional
    overlay : Result, optional
        A second run (another backend) drawn on top in another colour and
        marker; the legend names both backends. Populations of the overlay
        must have the same sizes.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        Unknown population, or an overlay population of another size.

    Examples
    --------
    >>> trains = {"in": SpikeTrain.from_dense(np.eye(20, 4, dtype=bool))}
    >>> fig = raster(trains, dt=1e-3, title="input")
    >>> fig.axes[0].get_xlabel()
    'time (ms)'
    """
    trains = _trains_of(result_or_trains, "result_or_trains")
    if dt is None and isinstance(result_or_trains, Result):
        dt = result_or_trains.dt
    if dt is not None and not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise ParameterError(f"dt: expected a time step in s > 0, got {dt!r}")
    names = list(trains) if populations is None else list(populations)
    missing = [n for n in names if n not in trains]
    if missing:
        raise InputError(f"populations: unknown {missing}; available: {list(trains)}")
    other = _trains_of(overlay, "overlay") if overlay is not None else {}
    for n in names:
        if n in other and other[n].size != trains[n].size:
            raise InputError(f"overlay: population {n!r} has {other[n].size} neurons, "
                             f"expected {trains[n].size} as in the first result")

    scale, xlabel = _time_axis(dt)
    total = sum(trains[n].size for n in names)
    fig = _figure(8.0, min(2.0 + 0.02 * total + 0.4 * len(names), 12.0))
    ax = fig.add_subplot(1, 1, 1)
    base, ticks = 0, []
    num_steps = max([trains[n].num_steps for n in names] + [1])
    for i, n in enumerate(names):
        train = trains[n]
        ax.plot(train.steps * scale, train.neurons + base, linestyle="none", **_PRIMARY)
        if n in other:
            ax.plot(other[n].steps * scale, other[n].neurons + base, linestyle="none", **_OVERLAY)
        ticks.append(base + (train.size - 1) / 2.0)
        if i:
            ax.axhline(base - 0.5, color="0.6", linewidth=0.8)
        base += train.size
    ax.set_yticks(ticks)
    ax.set_yticklabels(names)
    ax.set_ylim(-0.5, max(base, 1) - 0.5)
    ax.set_xlim(-0.5 * scale, (num_steps - 0.5) * scale)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("population (neuron index within band)")
    ax.set_title(title or "spike raster")
    if overlay is not None:
        first = result_or_trains.backend if isinstance(result_or_trains, Result) else "spikes"
        second = overlay.backend if overlay.backend != first else f"{overlay.backend} (overlay)"
        handles = [Line2D([], [], linestyle="none", label=first, **_PRIMARY),
                   Line2D([], [], linestyle="none", label=second, **_OVERLAY)]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                  title="backend", title_fontsize="small")
    return _finish(fig, path)


# --------------------------------------------------------------------------- traces
def traces(result: Result, *, population: str, variable: str = "v", neurons=None,
           path=None, threshold: float | None = None) -> Figure:
    """State traces of a few neurons against time in ms.

    Parameters
    ----------
    result : Result
        A run in which ``population.variable`` was probed.
    population : str
    variable : str
        Probed state variable (``"v"``, ``"u"``...), in the model's units
        (integers for fixed-point runs).
    neurons : list of int, optional
        Neuron indices; default the first 5.
    path : str or os.PathLike, optional
        Write the figure there (see :func:`save`).
    threshold : float, optional
        Draw a dashed horizontal line at this value (same units as the trace).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        The state was not probed, or a neuron index is out of range.

    Examples
    --------
    >>> v = np.linspace(0, 1, 50)[:, None] * np.ones((1, 3))
    >>> res = Result("numpy", 1e-3, 50, states={"lif": {"v": v}})
    >>> fig = traces(res, population="lif", threshold=0.8)
    >>> len(fig.axes[0].lines)
    4
    """
    require_unbatched(result, "traces")
    if not isinstance(result, Result):
        raise InputError(f"result: expected a Result, got {type(result).__name__}")
    try:
        data = np.asarray(result.state(population, variable))
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    if data.ndim == 1:
        data = data[:, None]
    size = data.shape[1]
    idx = list(range(min(5, size))) if neurons is None else [int(i) for i in np.atleast_1d(neurons)]
    bad = [i for i in idx if not 0 <= i < size]
    if bad:
        raise InputError(f"neurons: expected indices in [0, {size - 1}] of {population!r}, got {bad}")
    scale, xlabel = _time_axis(result.dt)
    t = np.arange(data.shape[0]) * scale
    fig = _figure(8.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    for i in idx:
        ax.plot(t, data[:, i], linewidth=1.0, label=f"neuron {i}")
    if threshold is not None:
        ax.axhline(float(threshold), color="k", linestyle="--", linewidth=1.0, label="threshold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{variable} (model units)")
    ax.set_title(f"{population}.{variable} ({result.backend})")
    if idx or threshold is not None:
        ax.legend(loc="best", fontsize="small")
    return _finish(fig, path)


# --------------------------------------------------------------------------- weights
def _values_of(w, name: str) -> np.ndarray:
    """Stored weight values as a flat float array (sparse: stored entries only)."""
    if hasattr(w, "tocsr") and not isinstance(w, np.ndarray):
        data = np.asarray(w.tocsr().data, dtype=np.float64)
    else:
        try:
            data = np.asarray(w, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise InputError(f"{name}: expected a numeric array or scipy sparse matrix, "
                             f"got {type(w).__name__}") from None
    if data.size and not np.all(np.isfinite(data)):
        raise InputError(f"{name}: expected finite weights, got {int(np.sum(~np.isfinite(data)))} NaN/inf")
    return data


def weights_histogram(weights, *, path=None, bins: int = 50, title: str | None = None) -> Figure:
    """Histogram of weight values.

    Parameters
    ----------
    weights : array_like, scipy.sparse matrix, or dict[str, matrix]
        Dense arrays use every entry; sparse matrices only their stored
        entries; a dict gives one overlaid histogram per entry, with a legend.
    path : str or os.PathLike, optional
        Write the figure there (see :func:`save`).
    bins : int
        Number of bins (>= 1), shared by all entries.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        Non-numeric or non-finite weights.
    ParameterError
        ``bins < 1``.

    Examples
    --------
    >>> fig = weights_histogram({"a": np.ones((3, 3)), "b": -np.ones(4)}, bins=10)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['a (9)', 'b (4)']
    """
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ParameterError(f"bins: expected an integer >= 1, got {bins!r}")
    if isinstance(weights, Mapping):
        sets = {str(k): _values_of(v, f"weights[{k!r}]") for k, v in weights.items()}
    else:
        sets = {"weights": _values_of(weights, "weights")}
    everything = np.concatenate([d for d in sets.values()] + [np.zeros(0)])
    fig = _figure(7.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    if everything.size:
        lo, hi = float(everything.min()), float(everything.max())
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, int(bins) + 1)
        alpha = 0.55 if len(sets) > 1 else 0.9
        for name, data in sets.items():
            ax.hist(data, bins=edges, alpha=alpha, label=f"{name} ({data.size})")
        if isinstance(weights, Mapping):
            ax.legend(loc="best", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no stored weights", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("weight (model units)")
    ax.set_ylabel("number of synapses")
    ax.set_title(title or "weight distribution")
    return _finish(fig, path)


def weight_images(weights, *, image_shape, path=None, max_images: int = 100) -> Figure:
    """Receptive fields: each post-neuron's incoming weights as a small image, in a grid.

    Row ``i`` of the ``(post, pre)`` matrix is reshaped (row-major) to
    ``image_shape`` and drawn as tile ``i``, tiles filled left to right, top
    to bottom. All tiles share one colour scale (symmetric around 0 when
    weights of both signs are present), shown in a colour bar.

    Parameters
    ----------
    weights : array_like or scipy.sparse matrix, shape (post, pre)
        ``pre`` must equal ``prod(image_shape)``.
    image_shape : (int, int)
        ``(height, width)`` in pixels of one receptive field.
    path : str or os.PathLike, optional
        Write the figure there (see :func:`save`).
    max_images : int
        Draw at most this many post-neurons (the first ones; >= 1).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        Not 2-D, non-finite, or ``pre != prod(image_shape)``.
    ParameterError
        Bad ``image_shape`` or ``max_images``.

    Examples
    --------
    >>> w = np.random.default_rng(0).random((10, 28 * 28))
    >>> fig = weight_images(w, image_shape=(28, 28))
    >>> fig.axes[0].get_title()
    'receptive fields of 10 post-neurons (28x28)'
    """
    try:
        shape = tuple(int(s) for s in image_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != 2 or min(shape) < 1 or tuple(image_shape) != shape:
        raise ParameterError(f"image_shape: expected (height, width) of positive integers, got {image_shape!r}")
    if isinstance(max_images, bool) or not isinstance(max_images, (int, np.integer)) or max_images < 1:
        raise ParameterError(f"max_images: expected an integer >= 1, got {max_images!r}")
    w = weights.toarray() if hasattr(weights, "toarray") and not isinstance(weights, np.ndarray) else weights
    try:
        w = np.asarray(w, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"weights: expected a numeric (post, pre) matrix, got {type(weights).__name__}") from None
    h, wd = shape
    if w.ndim != 2 or w.shape[1] != h * wd:
        raise InputError(f"weights: expected shape (post, {h * wd}) for image_shape {shape}, got {w.shape}")
    if w.size and not np.all(np.isfinite(w)):
        raise InputError("weights: expected finite weights, got NaN or infinite values")
    n = min(w.shape[0], int(max_images))
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    # one mosaic image with a 1-pixel NaN gap between tiles (drawn as background)
    mosaic = np.full((rows * (h + 1) - 1, cols * (wd + 1) - 1), np.nan)
    for i in range(n):
        r, c = divmod(i, cols)
        mosaic[r * (h + 1):r * (h + 1) + h, c * (wd + 1):c * (wd + 1) + wd] = w[i].reshape(h, wd)
    shown = w[:n]
    lo, hi = (float(shown.min()), float(shown.max())) if shown.size else (0.0, 1.0)
    if lo < 0 < hi:
        m = max(-lo, hi)
        lo, hi, cmap = -m, m, "RdBu_r"
    else:
        cmap = "viridis"
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    side = min(max(3.0, 0.6 * cols + 2.0), 12.0)
    fig = _figure(side + 1.0, min(max(3.0, side * rows / cols), 12.0))
    ax = fig.add_subplot(1, 1, 1)
    cmap = matplotlib.colormaps[cmap].with_extremes(bad="white")
    img = ax.imshow(mosaic, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    ax.set_xticks([c * (wd + 1) + (wd - 1) / 2 for c in range(cols)])
    ax.set_xticklabels([str(c) for c in range(cols)])
    ax.set_yticks([r * (h + 1) + (h - 1) / 2 for r in range(rows)])
    ax.set_yticklabels([str(r * cols) for r in range(rows)])
    ax.tick_params(length=0, labelsize="small")
    ax.set_xlabel("+ column (post-neuron index = row label + column)")
    ax.set_ylabel("first post-neuron of row")
    more = f" of {w.shape[0]}" if n < w.shape[0] else ""
    ax.set_title(f"receptive fields of {n}{more} post-neurons ({h}x{wd})")
    fig.colorbar(img, ax=ax, label="weight (model units)", shrink=0.8)
    return _finish(fig, path)


# --------------------------------------------------------------------------- network activity
def network_activity(result, graph_or_program, **kwargs) -> Figure:
    """The network drawn as neurons lit by recent spikes, at several times: see
    :func:`neuroport.activity.network_activity` (same arguments)."""
    from neuroport.activity import network_activity as draw

    return draw(result, graph_or_program, **kwargs)
