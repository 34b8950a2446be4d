"""Plots of runs and weights, safe without a display.

Every function builds a :class:`matplotlib.figure.Figure` with its own Agg
canvas (never ``pyplot``), so it works on a headless machine whatever
``MPLBACKEND`` says, and does not touch figures the caller has open. Each
returns the Figure; with ``path=`` it also writes the image atomically: to a
temporary file in the same folder, then ``os.replace``, so an interrupted or
failed write leaves any previous file at ``path`` intact.

Every function also takes ``ax=`` (an existing :class:`matplotlib.axes.Axes`
to draw into, e.g. one panel of the caller's figure) and then returns that
axes' figure without changing its layout.

Time axes follow the length of what is shown (:func:`time_unit`): ms below
2 s, s below 10 minutes, min beyond; in steps when the time step is unknown.
Rates are in Hz (spikes per neuron per second).
"""

from __future__ import annotations

import math
import os
from typing import Mapping

import matplotlib
import matplotlib.axes
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from neuroport.errors import InputError, ParameterError
from neuroport.fileutil import atomic_target
from neuroport.naming import did_you_mean
from neuroport.result import Result, SpikeTrain, require_unbatched

__all__ = ["raster", "traces", "weights_histogram", "weight_images", "save", "network_activity",
           "network_activity_side_by_side", "threshold_of", "time_unit", "binned_rate", "population_rate", "psth", "isi_histogram", "rate_map", "KINDS"]

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


def _trains_of(obj, what: str) -> dict:
    if isinstance(obj, Result):
        require_unbatched(obj, what)
        return dict(obj.spikes)
    if isinstance(obj, Mapping) and all(isinstance(t, SpikeTrain) for t in obj.values()):
        return dict(obj)
    raise InputError(f"{what}: expected a Result or a dict of SpikeTrain, got {type(obj).__name__}")


#: (upper limit of the duration in s, unit, factor from s) -- the first that holds is used
_TIME_UNITS = ((2.0, "ms", 1e3), (600.0, "s", 1.0), (math.inf, "min", 1.0 / 60.0))


def time_unit(duration: float) -> tuple:
    """The unit to show times of a span of ``duration`` seconds in, and its factor from seconds.

    ms below 2 s, s from 2 s to below 10 minutes (600 s), min beyond; so a
    run of 200000 steps of 1 s is labelled in min, not "200000000 ms".

    Parameters
    ----------
    duration : float
        Length in s of what the axis shows (>= 0).

    Returns
    -------
    (float, str)
        ``(factor, unit)``: a time of ``t`` s is drawn at ``t * factor``.

    Examples
    --------
    >>> time_unit(0.5), time_unit(2.0), time_unit(200000.0)
    ((1000.0, 'ms'), (1.0, 's'), (0.016666666666666666, 'min'))
    """
    if not (isinstance(duration, (int, float, np.integer, np.floating)) and math.isfinite(duration)
            and duration >= 0):
        raise ParameterError(f"duration: expected a length in s >= 0, got {duration!r}")
    for limit, unit, factor in _TIME_UNITS:
        if duration < limit:
            return factor, unit
    return _TIME_UNITS[-1][2], _TIME_UNITS[-1][1]  # pragma: no cover (inf is never reached)


def _time_axis(dt, num_steps: int = 0):
    """(scale from steps to the axis unit, axis label) for a run of ``num_steps`` steps of ``dt`` s."""
    if dt is None:
        return 1.0, "time (steps)"
    factor, unit = time_unit(float(dt) * max(int(num_steps), 1))
    return float(dt) * factor, f"time ({unit})"


def _check_dt(dt) -> None:
    if dt is not None and not (isinstance(dt, (int, float, np.floating)) and math.isfinite(dt) and dt > 0):
        raise ParameterError(f"dt: expected a time step in s > 0, got {dt!r}")


def _own_axes(ax, width: float, height: float):
    """(figure, axes, drawn in a new figure?) -- a new figure unless the caller gave ``ax``."""
    if ax is None:
        fig = _figure(width, height)
        return fig, fig.add_subplot(1, 1, 1), True
    if not isinstance(ax, matplotlib.axes.Axes):
        raise ParameterError(f"ax: expected a matplotlib Axes, got {type(ax).__name__}")
    return ax.figure, ax, False


def _done(fig: Figure, path, own: bool) -> Figure:
    """Lay out a figure of our own; write it to ``path`` when given."""
    if own:
        fig.tight_layout()
    if path is not None:
        save(fig, path)
    return fig


def _select(trains: dict, populations, what: str = "populations") -> list:
    """The population names asked for (a name or a list; default all), each checked to exist."""
    if populations is None:
        return list(trains)
    names = [populations] if isinstance(populations, str) else list(populations)
    for n in names:
        if n not in trains:
            raise InputError(f"{what}: unknown population {n!r}{did_you_mean(n, list(trains))}; "
                                   f"available: {', '.join(map(str, trains))}")
    return names


# --------------------------------------------------------------------------- raster
def raster(result_or_trains, *, populations=None, dt: float | None = None, path=None,
           title: str | None = None, overlay: Result | None = None, ax=None) -> Figure:
    """Spike raster of one or several populations, stacked in labelled bands.

    Parameters
    ----------
    result_or_trains : Result or dict[str, SpikeTrain]
        Spikes to draw.
    populations : list of str, optional
        Which populations, bottom band first; default all, in order.
    dt : float, optional
        Time step in s; default ``result.dt`` for a Result. With a time step
        the x-axis is in ms, s or min by the run's length (:func:`time_unit`),
        else in steps.
    path : str or os.PathLike, optional
        Write the figure there (see :func:`save`).
    title : str, optional
    overlay : Result, optional
        A second run (another backend) drawn on top in another colour and
        marker; the legend names both backends. Populations of the overlay
        must have the same sizes.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes instead of a new figure.

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
    _check_dt(dt)
    names = _select(trains, populations)
    other = _trains_of(overlay, "overlay") if overlay is not None else {}
    for n in names:
        if n in other and other[n].size != trains[n].size:
            raise InputError(f"overlay: population {n!r} has {other[n].size} neurons, "
                             f"expected {trains[n].size} as in the first result")

    total = sum(trains[n].size for n in names)
    fig, ax, own = _own_axes(ax, 8.0, min(2.0 + 0.02 * total + 0.4 * len(names), 12.0))
    base, ticks = 0, []
    num_steps = max([trains[n].num_steps for n in names] + [1])
    scale, xlabel = _time_axis(dt, num_steps)
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
    return _done(fig, path, own)


# --------------------------------------------------------------------------- traces
def threshold_of(network, population: str) -> float | None:
    """The firing threshold of one population in a graph, when one value holds for all its neurons.

    Parameters
    ----------
    network : neuroport.Network or nir.NIRGraph
    population : str
        A node of the graph.

    Returns
    -------
    float or None
        The node's ``v_threshold`` (the graph's voltage unit); None for a node
        without one, or with different thresholds per neuron.

    Raises
    ------
    InputError
        Not a network, or no node of that name.

    Examples
    --------
    >>> import neuroport
    >>> net = neuroport.Network()
    >>> _ = net.population(3, neuroport.LIF(tau=0.02, v_threshold=0.8), name="exc")
    >>> threshold_of(net, "exc")
    0.8
    """
    graph = network.to_nir() if hasattr(network, "to_nir") else network
    if not hasattr(graph, "nodes"):
        raise InputError(f"network: expected a neuroport.Network or nir.NIRGraph, got {type(network).__name__}")
    if population not in graph.nodes:
        raise InputError(f"population {population!r}: not a node of the network"
                         f"{did_you_mean(population, list(graph.nodes))}")
    value = getattr(graph.nodes[population], "v_threshold", None)
    if value is None:
        return None
    value = np.asarray(value, dtype=np.float64).ravel()
    if value.size == 0 or not np.all(np.isfinite(value)) or not np.all(value == value[0]):
        return None
    return float(value[0])


def traces(result: Result, *, population: str, variable: str = "v", neurons=None,
           path=None, threshold: float | None = None, spikes: bool = True, ax=None,
           unit: str | None = None, network=None, title: str | None = None) -> Figure:
    """State traces of a few neurons against time, with a marker where each neuron spiked.

    Parameters
    ----------
    result : Result
        A run in which ``population.variable`` was probed (``probes=["exc.v"]``).
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
    network : neuroport.Network or nir.NIRGraph, optional
        The network that was run: without ``threshold``, the line is drawn at
        the population's ``v_threshold`` (:func:`threshold_of`) when
        ``variable`` is ``"v"`` and the run is not fixed-point (whose integer
        states are in other units).
    spikes : bool
        Mark each spike of a drawn neuron (from ``result.spikes[population]``,
        when the run has it) with a ``v`` marker in the trace's colour, at the
        threshold when given, else at the top of that neuron's trace.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes instead of a new figure.
    unit : str, optional
        Unit of the variable for the y label (e.g. ``"mV"``); default
        ``"model units"``.
    title : str, optional
        Axes title; default ``"population.variable (backend)"``.

    Returns
    -------
    matplotlib.figure.Figure
        Its axes holds, in order: one line per neuron, one marker line per
        neuron that spiked (x: spike times, in the axis' time unit), and the
        threshold line last.

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
    if threshold is None and network is not None and variable == "v" and "fixed" not in str(result.backend):
        threshold = threshold_of(network, population)
    size = data.shape[1]
    idx = list(range(min(5, size))) if neurons is None else [int(i) for i in np.atleast_1d(neurons)]
    bad = [i for i in idx if not 0 <= i < size]
    if bad:
        raise InputError(f"neurons: expected indices in [0, {size - 1}] of {population!r}, got {bad}")
    scale, xlabel = _time_axis(result.dt, data.shape[0])
    t = np.arange(data.shape[0]) * scale
    fig, ax, own = _own_axes(ax, 8.0, 4.0)
    colours = []
    for i in idx:
        (line,) = ax.plot(t, data[:, i], linewidth=1.0, label=f"neuron {i}")
        colours.append(line.get_color())
    train = result.spikes.get(population) if spikes else None
    if train is not None and train.size == size:
        labelled = False
        for i, colour in zip(idx, colours):
            steps = train.times_of(i)
            if steps.size:
                top = float(threshold) if threshold is not None else float(np.nanmax(data[:, i]))
                ax.plot(steps * scale, np.full(steps.size, top), linestyle="none", marker="v", markersize=5,
                        color=colour, label=None if labelled else "spike")
                labelled = True
    if threshold is not None:
        ax.axhline(float(threshold), color="k", linestyle="--", linewidth=1.0, label="threshold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{variable} ({unit or 'model units'})")
    ax.set_title(title or f"{population}.{variable} ({result.backend})")
    if idx or threshold is not None:
        ax.legend(loc="best", fontsize="small")
    return _done(fig, path, own)


# --------------------------------------------------------------------------- rates, PSTH, ISI
def _result_and_dt(result_or_trains, dt, what="result_or_trains"):
    trains = _trains_of(result_or_trains, what)
    if dt is None and isinstance(result_or_trains, Result):
        dt = result_or_trains.dt
    if dt is None:
        raise ParameterError("dt: expected the time step in s (a dict of SpikeTrain does not carry it)")
    _check_dt(dt)
    return trains, float(dt)


def binned_rate(train: SpikeTrain, dt: float, bin_width: float) -> tuple:
    """Population rate of one spike train in bins of ``bin_width`` seconds.

    Parameters
    ----------
    train : SpikeTrain
    dt : float
        Time step of the run in s.
    bin_width : float
        Bin width in s, rounded to a whole number of steps (at least one).
        The last bin may be shorter (the run's remainder); its rate is over
        its own length.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``edges`` in s, shape ``(bins + 1,)``, and ``rate`` in Hz (spikes
        per neuron per second in each bin), shape ``(bins,)``.

    Examples
    --------
    >>> t = SpikeTrain.from_dense(np.eye(10, 2, dtype=bool))  # neuron 0 at step 0, neuron 1 at step 1
    >>> edges, rate = binned_rate(t, 1e-3, 5e-3)
    >>> edges.tolist(), rate.tolist()
    ([0.0, 0.005, 0.01], [200.0, 0.0])
    """
    _check_dt(dt)
    if not (isinstance(bin_width, (int, float, np.floating)) and math.isfinite(bin_width) and bin_width > 0):
        raise ParameterError(f"bin_width: expected a bin width in s > 0, got {bin_width!r}")
    bin_steps = max(1, int(round(bin_width / dt)))
    num_steps = max(int(train.num_steps), 1)
    edges_steps = np.arange(0, num_steps + bin_steps, bin_steps)
    edges_steps[-1] = min(edges_steps[-1], num_steps)
    if edges_steps.size > 2 and edges_steps[-1] == edges_steps[-2]:
        edges_steps = edges_steps[:-1]
    counts = np.histogram(train.steps, bins=edges_steps)[0].astype(np.float64)
    length_s = np.diff(edges_steps) * dt
    rate = counts / (max(train.size, 1) * length_s)
    return edges_steps * dt, rate


def _rate_setup(result_or_trains, populations, dt, bin_width):
    trains, dt = _result_and_dt(result_or_trains, dt)
    names = _select(trains, populations)
    num_steps = max([trains[n].num_steps for n in names] + [1])
    factor, unit = time_unit(num_steps * dt)
    rates = {n: binned_rate(trains[n], dt, bin_width) for n in names}
    width_s = max(1, int(round(bin_width / dt))) * dt
    return trains, names, factor, unit, rates, width_s, dt


def _ms_text(seconds: float) -> str:
    factor, unit = time_unit(seconds)
    return f"{seconds * factor:g} {unit}"


def population_rate(result_or_trains, *, populations=None, bin_width: float = 5e-3, smooth: float | None = None,
                    dt: float | None = None, ax=None, path=None, title: str | None = None) -> Figure:
    """Population firing rate against time, one line per population.

    Parameters
    ----------
    result_or_trains : Result or dict[str, SpikeTrain]
    populations : str or list of str, optional
        Which populations (default all, inputs included).
    bin_width : float
        Bin width in s (rounded to whole steps); default 5 ms.
    smooth : float, optional
        Standard deviation in s of a Gaussian kernel the binned rate is
        smoothed with (:func:`scipy.ndimage.gaussian_filter1d`); default none.
    dt : float, optional
        Time step in s; default ``result.dt``.
    ax, path, title
        Axes to draw into, file to write (:func:`save`), axes title.

    Returns
    -------
    matplotlib.figure.Figure
        One line per population (x: bin centres in the axis' time unit, y:
        rate in Hz), labelled with the population's name and mean rate.

    Examples
    --------
    >>> trains = {"exc": SpikeTrain.from_dense(np.random.default_rng(0).random((400, 10)) < 0.02)}
    >>> ax = population_rate(trains, dt=1e-3, bin_width=10e-3, smooth=20e-3).axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel(), len(ax.lines[0].get_xdata())
    ('time (ms)', 'rate (Hz)', 40)
    """
    trains, names, factor, unit, rates, width_s, dt = _rate_setup(result_or_trains, populations, dt, bin_width)
    if smooth is not None and not (isinstance(smooth, (int, float, np.floating)) and math.isfinite(smooth)
                                   and smooth >= 0):
        raise ParameterError(f"smooth: expected a kernel width in s >= 0 (or None), got {smooth!r}")
    fig, ax, own = _own_axes(ax, 8.0, 3.5)
    for n in names:
        edges, rate = rates[n]
        if smooth:
            from scipy.ndimage import gaussian_filter1d

            rate = gaussian_filter1d(rate, float(smooth) / width_s, mode="nearest")
        mean = trains[n].count / (max(trains[n].size, 1) * max(edges[-1], dt))
        ax.plot(0.5 * (edges[:-1] + edges[1:]) * factor, rate, linewidth=1.2, label=f"{n} (mean {mean:.3g} Hz)")
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("rate (Hz)")
    how = f"{_ms_text(width_s)} bins" + (f", Gaussian smoothing sigma {_ms_text(float(smooth))}" if smooth else "")
    ax.set_title(title or f"population rate ({how})")
    if names:
        ax.legend(loc="best", fontsize="small")
    return _done(fig, path, own)


def psth(result_or_trains, *, populations=None, bin_width: float = 5e-3, dt: float | None = None, ax=None,
         path=None, title: str | None = None) -> Figure:
    """Peri-stimulus time histogram: rate in Hz per time bin, as bars, one panel per population.

    Time 0 is the start of the run (align a stimulus by starting the run at it).

    Parameters
    ----------
    result_or_trains : Result or dict[str, SpikeTrain]
    populations : str or list of str, optional
        Which populations, top panel first (default all).
    bin_width : float
        Bin width in s (rounded to whole steps); default 5 ms.
    dt : float, optional
        Time step in s; default ``result.dt``.
    ax : matplotlib.axes.Axes or list of Axes, optional
        One axes per population to draw into (a single Axes for one population).
    path, title
        File to write (:func:`save`); title of the top panel.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per population, each with one bar per bin (height: rate in Hz).

    Examples
    --------
    >>> trains = {"a": SpikeTrain.from_dense(np.ones((100, 4), bool)), "b": SpikeTrain.from_dense(np.zeros((100, 2), bool))}
    >>> fig = psth(trains, dt=1e-3, bin_width=10e-3)
    >>> [len(a.patches) for a in fig.axes], fig.axes[0].patches[0].get_height()
    ([10, 10], 1000.0)
    """
    trains, names, factor, unit, rates, width_s, dt = _rate_setup(result_or_trains, populations, dt, bin_width)
    if ax is None:
        fig = _figure(8.0, min(1.0 + 1.8 * max(len(names), 1), 14.0))
        axes = [fig.add_subplot(max(len(names), 1), 1, k + 1) for k in range(len(names))]
        own = True
    else:
        axes = [ax] if isinstance(ax, matplotlib.axes.Axes) else list(ax)
        if len(axes) != len(names) or not all(isinstance(a, matplotlib.axes.Axes) for a in axes):
            raise ParameterError(f"ax: expected one matplotlib Axes per population ({len(names)}), got {ax!r}")
        fig, own = axes[0].figure, False
    for k, (n, a) in enumerate(zip(names, axes)):
        edges, rate = rates[n]
        a.bar(edges[:-1] * factor, rate, width=np.diff(edges) * factor, align="edge", color=f"C{k % 10}",
              edgecolor="none", label=n)
        a.set_ylabel(f"{n}\nrate (Hz)")
        a.set_xlim(edges[0] * factor, edges[-1] * factor)
        if k < len(names) - 1 and own:
            a.tick_params(labelbottom=False)
    if axes:
        axes[-1].set_xlabel(f"time ({unit})")
        axes[0].set_title(title or f"PSTH ({_ms_text(width_s)} bins)")
    return _done(fig, path, own)


def _isis_s(train: SpikeTrain, dt: float) -> np.ndarray:
    """Inter-spike intervals in s of every neuron of the train, pooled."""
    order = np.lexsort((train.steps, train.neurons))
    steps, neurons = train.steps[order], train.neurons[order]
    same = neurons[1:] == neurons[:-1]
    return np.diff(steps)[same].astype(np.float64) * dt


def isi_histogram(result_or_trains, *, populations=None, bins: int = 40, log_x: bool = False,
                  dt: float | None = None, ax=None, path=None, title: str | None = None) -> Figure:
    """Histogram of inter-spike intervals per population, with each population's CV in the legend.

    The CV is :func:`neuroport.compare.isi_cv`: the ISI coefficient of
    variation (standard deviation / mean) of each neuron with at least 3
    spikes, averaged over those neurons (about 1 for Poisson firing, 0 for
    regular firing). The histogram pools the intervals of all neurons.

    Parameters
    ----------
    result_or_trains : Result or dict[str, SpikeTrain]
    populations : str or list of str, optional
        Which populations (default all).
    bins : int
        Number of bins (>= 1), shared by all populations.
    log_x : bool
        Logarithmic ISI axis with logarithmically spaced bins (for
        intervals spread over decades, e.g. bursting).
    dt : float, optional
        Time step in s; default ``result.dt``.
    ax, path, title
        Axes to draw into, file to write (:func:`save`), axes title.

    Returns
    -------
    matplotlib.figure.Figure
        One filled :class:`~matplotlib.patches.StepPatch` per population with
        ISIs (``get_data()``: counts per bin and bin edges in the axis' unit of
        ms, s or min); legend entries ``"exc: CV 0.97 (1234 ISIs)"``.

    Examples
    --------
    >>> regular = SpikeTrain.from_dense(np.tile(np.arange(200)[:, None] % 10 == 0, (1, 3)))
    >>> fig = isi_histogram({"clock": regular}, dt=1e-3, bins=5)
    >>> fig.axes[0].get_legend().get_texts()[0].get_text()
    'clock: CV 0.00 (57 ISIs)'
    """
    from neuroport.compare import isi_cv

    trains, dt = _result_and_dt(result_or_trains, dt)
    names = _select(trains, populations)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ParameterError(f"bins: expected an integer >= 1, got {bins!r}")
    isis = {n: _isis_s(trains[n], dt) for n in names}
    everything = np.concatenate([v for v in isis.values()] + [np.zeros(0)])
    fig, ax, own = _own_axes(ax, 7.0, 4.0)
    factor, unit = time_unit(float(everything.max()) if everything.size else dt)
    if everything.size:
        lo, hi = float(everything.min()), float(everything.max())
        if log_x:
            edges = np.geomspace(lo, hi * 1.0001 if hi > lo else lo * 10.0, int(bins) + 1)
        else:
            edges = np.linspace(0.0, hi + dt, int(bins) + 1)
        for k, n in enumerate(names):
            if isis[n].size == 0:
                continue
            cv = isi_cv(trains[n])
            cv_text = "n/a" if math.isnan(cv) else f"{cv:.2f}"
            counts = np.histogram(isis[n], bins=edges)[0]
            ax.stairs(counts, edges * factor, fill=True, alpha=0.5 if len(names) > 1 else 0.9, color=f"C{k % 10}",
                      label=f"{n}: CV {cv_text} ({isis[n].size} ISIs)")
        ax.legend(loc="best", fontsize="small", title="CV: mean over neurons with >= 3 spikes",
                  title_fontsize="x-small")
    else:
        ax.text(0.5, 0.5, "no neuron spiked twice", ha="center", va="center", transform=ax.transAxes)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(f"inter-spike interval ({unit})")
    ax.set_ylabel("number of intervals")
    ax.set_title(title or "inter-spike intervals")
    return _done(fig, path, own)


def rate_map(result_or_trains, population: str, *, shape=None, dt: float | None = None, ax=None, path=None,
             title: str | None = None, cmap: str = "viridis") -> Figure:
    """Mean firing rate of each neuron of one population: bars, or an image when a shape is given.

    Parameters
    ----------
    result_or_trains : Result or dict[str, SpikeTrain]
    population : str
    shape : tuple of int, optional
        ``(height, width)``: the rates as an image (row-major, e.g. ``(28, 28)``
        pixels or ``(8, 8)`` digits), or ``(channels, height, width)`` (a conv
        layer's feature maps, drawn side by side); its product must equal the
        population's size. Default: one bar per neuron.
    dt : float, optional
        Time step in s; default ``result.dt``.
    ax, path, title
        Axes to draw into, file to write (:func:`save`), axes title.
    cmap : str
        Colour map of the image.

    Returns
    -------
    matplotlib.figure.Figure
        Bars: one per neuron (height: rate in Hz); image: its array holds the
        rates in Hz (NaN in the gaps between channels), with a colour bar.

    Examples
    --------
    >>> trains = {"grid": SpikeTrain.from_dense(np.eye(100, 6, dtype=bool))}
    >>> fig = rate_map(trains, "grid", shape=(2, 3), dt=1e-3)
    >>> fig.axes[0].get_images()[0].get_array().tolist()
    [[10.0, 10.0, 10.0], [10.0, 10.0, 10.0]]
    """
    trains, dt = _result_and_dt(result_or_trains, dt)
    (name,) = _select(trains, [population], "population")
    train = trains[name]
    rates = train.counts() / (max(train.num_steps, 1) * dt)
    fig, ax, own = _own_axes(ax, 7.0, 4.0)
    if shape is None:
        ax.bar(np.arange(train.size), rates, width=1.0 if train.size > 50 else 0.8, color="C0")
        ax.set_xlabel(f"neuron index in {name}")
        ax.set_ylabel("rate (Hz)")
        ax.set_xlim(-0.5, train.size - 0.5)
    else:
        try:
            dims = tuple(int(d) for d in shape)
        except (TypeError, ValueError):
            dims = ()
        if len(dims) not in (2, 3) or min(dims) < 1:
            raise ParameterError(f"shape: expected (height, width) or (channels, height, width) of positive "
                                 f"integers, got {shape!r}")
        if int(np.prod(dims)) != train.size:
            raise InputError(f"shape {dims}: holds {int(np.prod(dims))} neurons, but {name!r} has {train.size}")
        maps = rates.reshape((1,) + dims if len(dims) == 2 else dims)
        c, h, w = maps.shape
        mosaic = np.full((h, c * (w + 1) - 1), np.nan)
        for k in range(c):
            mosaic[:, k * (w + 1):k * (w + 1) + w] = maps[k]
        img = ax.imshow(mosaic, cmap=matplotlib.colormaps[cmap].with_extremes(bad="white"),
                        interpolation="nearest", vmin=0.0, vmax=max(float(rates.max(initial=0.0)), 1e-12))
        fig.colorbar(img, ax=ax, label="rate (Hz)", shrink=0.8)
        ax.set_xlabel("column" if c == 1 else f"column, {c} channels left to right")
        ax.set_ylabel("row")
    ax.set_title(title or f"{name}: rate per neuron (mean {float(rates.mean()) if rates.size else 0.0:.3g} Hz)")
    return _done(fig, path, own)


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


def weights_histogram(weights, *, path=None, bins: int = 50, title: str | None = None, ax=None) -> Figure:
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
    ax : matplotlib.axes.Axes, optional
        Draw into this axes instead of a new figure.

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
    fig, ax, own = _own_axes(ax, 7.0, 4.0)
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
    return _done(fig, path, own)


def weight_images(weights, *, image_shape, path=None, max_images: int = 100, labels=None, ax=None) -> Figure:
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
    labels : sequence of int, optional
        The class assigned to each post-neuron (length ``post``; e.g.
        :func:`neuroport.apps.diehl_cook.assign_labels`, ``-1`` for a neuron
        never assigned). Each tile gets its class as text in its top-left
        corner and a frame, both in that class's colour (``tab10``; black "-"
        for -1), and a legend lists the classes shown.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        With ``labels``, the axes' texts are the tiles' labels in tile order.

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
    if labels is not None:
        try:
            labels = np.asarray(labels)
            ok = labels.ndim == 1 and labels.size == w.shape[0] and np.all(labels == np.round(labels))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(f"labels: expected one integer class per post-neuron ({w.shape[0]}), "
                             f"got {np.shape(labels)}")
        labels = labels.astype(np.int64)
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
    fig, ax, own = _own_axes(ax, side + (2.0 if labels is not None else 1.0), min(max(3.0, side * rows / cols), 12.0))
    cmap = matplotlib.colormaps[cmap].with_extremes(bad="white")
    img = ax.imshow(mosaic, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    if labels is not None:
        from matplotlib.patches import Patch, Rectangle

        palette = matplotlib.colormaps["tab10"]
        colour = {k: ("black" if k < 0 else palette(k % 10)) for k in np.unique(labels[:n]).tolist()}
        for i in range(n):
            r, c = divmod(i, cols)
            k = int(labels[i])
            x0, y0 = c * (wd + 1) - 0.5, r * (h + 1) - 0.5
            ax.add_patch(Rectangle((x0, y0), wd, h, fill=False, edgecolor=colour[k], linewidth=1.5))
            ax.text(x0 + 0.15 * wd, y0 + 0.2 * h, "-" if k < 0 else str(k), color="white", fontsize="small",
                    fontweight="bold", ha="center", va="center",
                    bbox=dict(boxstyle="round,pad=0.15", facecolor=colour[k], edgecolor="none"))
        ax.legend(handles=[Patch(color=colour[k], label="unassigned" if k < 0 else f"class {k}")
                           for k in sorted(colour)], loc="upper left", bbox_to_anchor=(1.25, 1.0),
                  fontsize="x-small", title="assigned class", title_fontsize="x-small")
    ax.set_xticks([c * (wd + 1) + (wd - 1) / 2 for c in range(cols)])
    ax.set_xticklabels([str(c) for c in range(cols)])
    ax.set_yticks([r * (h + 1) + (h - 1) / 2 for r in range(rows)])
    ax.set_yticklabels([str(r * cols) for r in range(rows)])
    ax.tick_params(length=0, labelsize="small")
    ax.set_xlabel("+ column (post-neuron index = row label + column)")
    ax.set_ylabel("first post-neuron of row")
    more = f" of {w.shape[0]}" if n < w.shape[0] else ""
    ax.set_title(f"receptive fields of {n}{more} post-neurons ({h}x{wd})"
                 + (", labelled by assigned class" if labels is not None else ""))
    fig.colorbar(img, ax=ax, label="weight (model units)", shrink=0.8)
    return _done(fig, path, own)


# --------------------------------------------------------------------------- network activity
def network_activity(result, graph_or_program, **kwargs) -> Figure:
    """The network drawn as neurons lit by recent spikes, at several times: see
    :func:`neuroport.activity.network_activity` (same arguments)."""
    from neuroport.activity import network_activity as draw

    return draw(result, graph_or_program, **kwargs)


#: The kinds of ``neuroport plot RESULT.npz --kind KIND``: kind -> what it draws.
KINDS = {
    "raster": "spike raster, populations stacked in bands (raster)",
    "rate": "population rate in Hz against time, one line per population, optional smoothing (population_rate)",
    "psth": "rate in Hz per time bin as bars, one panel per population (psth)",
    "isi": "inter-spike-interval histogram per population with its CV (isi_histogram)",
    "ratemap": "rate per neuron of one population: bars, or an image with --shape (rate_map)",
    "trace": "probed state traces of a few neurons with their spikes marked (traces)",
}


def network_activity_side_by_side(runs, **kwargs) -> Figure:
    """Several runs as columns of network-activity panels on one colour scale: see
    :func:`neuroport.activity.side_by_side` (same arguments).

    Examples
    --------
    >>> import neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(4, name="x")
    >>> h = net.population(6, neuroport.LIF(tau=0.02, v_threshold=1.0), name="h")
    >>> _ = net.connect(x, h, weight=np.full((6, 4), 30.0))
    >>> runs = {f"input at {rate:g} Hz": (net, neuroport.run(net, dt=1e-3, steps=50, progress=False,
    ...         inputs=np.random.default_rng(0).random((50, 4)) < rate * 1e-3)) for rate in (50, 400)}
    >>> fig = network_activity_side_by_side(runs, times=[0.02, 0.049], window=0.01)
    >>> len(fig.axes)  # 2 times x 2 runs, and the shared colour bar
    5
    """
    from neuroport.activity import side_by_side

    return side_by_side(runs, **kwargs)
