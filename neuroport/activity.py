"""Network-activity pictures: the network drawn as neurons and sparse edges, lit by recent spikes.

Four public functions:

* :func:`layout` places every neuron of a network in the plane, by
  population and topology: feed-forward layers as columns (left to right in
  hop distance from the inputs), a ring network as a ring (one sector per
  layer, the inputs in the middle), populations with a 2-D shape (conv maps,
  ``(H, W)`` or ``(C, H, W)``) as sheets of ``H x W`` pixels.
* :func:`network_activity` draws the network once per chosen time, side by
  side in one figure; each neuron's colour and size give its spike count in
  the ``window`` seconds up to that time (shown as a rate in Hz).
* :func:`side_by_side` draws several runs (e.g. sub-critical, critical
  and super-critical) as columns of :func:`network_activity` panels on one
  colour scale, so that their activity compares at a glance.
* :func:`animate` writes the same picture over a run as a GIF (matplotlib's
  ``PillowWriter``) or an MP4 (``FFMpegWriter``, needs ``ffmpeg`` on ``PATH``).

Edges are the network's synapses, subsampled uniformly (seeded) to at most
``max_edges`` so that networks of thousands of neurons and millions of
synapses stay readable and fast: neurons are one ``scatter`` call, edges one
``LineCollection``.

Times are in seconds (``times``, ``window``), as everywhere in neuroport;
figures carry ms on their labels. Every figure has its own Agg canvas (never
``pyplot``); files are written atomically (:mod:`neuroport.fileutil`).

Examples
--------
>>> import numpy as np, neuroport
>>> net = neuroport.Network()
>>> x = net.input(4, name="x")
>>> h = net.population(6, neuroport.LIF(tau=0.02, v_threshold=1.0), name="h")
>>> _ = net.connect(x, h, weight=2.0, p=1.0, seed=0)
>>> lay = layout(net, dt=1e-3)
>>> lay.kind, lay.level["x"], lay.level["h"]
('columns', 0, 1)
"""

from __future__ import annotations

import math
import os
import shutil
from collections import deque
from dataclasses import dataclass, field

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure

from neuroport.errors import BackendUnavailableError, CompileError, InputError, ParameterError
from neuroport.fileutil import atomic_target
from neuroport.program import Program
from neuroport.result import Result, require_unbatched

__all__ = ["Layout", "layout", "sample_edges", "window_counts", "network_activity", "side_by_side", "animate",
           "LAYOUTS"]

LAYOUTS = ("auto", "columns", "ring")
DPI = 100
BACKGROUND = "#101014"
#: inferno without its black end, so that silent neurons stay visible on the dark background
CMAP = ListedColormap(matplotlib.colormaps["inferno"](np.linspace(0.18, 1.0, 256)), name="neuroport_activity")
#: edge colours, kept out of the colour map's hues: excitatory (w >= 0) teal, inhibitory (w < 0) violet
_EDGE_COLORS = {True: (0.30, 0.62, 0.72), False: (0.55, 0.45, 0.85)}


# --------------------------------------------------------------------------- layout
@dataclass
class Layout:
    """Where each neuron of a network is drawn.

    Attributes
    ----------
    kind : str
        ``"columns"`` or ``"ring"``.
    positions : dict[str, numpy.ndarray]
        Population name -> ``(size, 2)`` array of (x, y) in drawing units
        (the whole network fits in about ``[-1.2, 1.2]`` for a ring, ``[0,
        levels] x [0, 1]`` for columns).
    level : dict[str, int]
        Population name -> hop distance from the nearest input (inputs 0);
        populations no input reaches get the level after the deepest one.
    sizes : dict[str, int]
        Neurons per population.
    labels : dict[str, (float, float)]
        Where each population's name is written (beside its neurons).
    """

    kind: str
    positions: dict
    level: dict
    sizes: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)

    @property
    def n_neurons(self) -> int:
        return int(sum(self.sizes.values()))


def _program_of(graph_or_program, dt) -> Program:
    if isinstance(graph_or_program, Program):
        return graph_or_program
    network = graph_or_program
    if hasattr(network, "to_nir"):
        network = network.to_nir()
    if not hasattr(network, "nodes"):
        raise InputError(f"graph_or_program: expected a neuroport.Network, nir.NIRGraph or Program, "
                         f"got {type(graph_or_program).__name__}")
    from neuroport.compile import compile as compile_graph

    try:
        return compile_graph(network, dt=dt)
    except CompileError as exc:
        raise CompileError(f"{exc} (the activity picture compiles the graph only to find its populations and "
                           "synapses: pass the Program the run used, or the run's dt)") from None


def _levels(program: Program) -> dict:
    """Hop distance from the inputs over the population graph (breadth first)."""
    names = list(program.populations)
    succ = {n: set() for n in names}
    for proj in program.projections:
        if proj.pre != proj.post and proj.pre in succ:
            succ[proj.pre].add(proj.post)
    level = {}
    queue = deque()
    sources = [n for n in names if program.populations[n].is_input]
    if not sources:  # no inputs: start from populations nothing else feeds, else the first one
        fed = {p for s in succ.values() for p in s}
        sources = [n for n in names if n not in fed] or names[:1]
    for n in sources:
        level[n] = 0
        queue.append(n)
    while queue:
        n = queue.popleft()
        for m in sorted(succ[n], key=names.index):
            if m not in level:
                level[m] = level[n] + 1
                queue.append(m)
    deepest = max(level.values(), default=-1)
    for n in names:  # unreachable from the inputs: a column of their own after the rest
        level.setdefault(n, deepest + 1)
    return level


def _is_ring(program: Program, level: dict) -> bool:
    """A ring: >= 3 non-input levels and a synapse from the deepest level back to the first non-input one."""
    inner = sorted({lv for n, lv in level.items() if not program.populations[n].is_input})
    if len(inner) < 3:
        return False
    first, last = inner[0], inner[-1]
    return any(level[p.pre] == last and level[p.post] == first and p.nnz for p in program.projections)


def _sheet_shape(pop) -> tuple | None:
    """(channels, H, W) of a population with a 2-D (or channels x 2-D) shape, else None."""
    shape = tuple(int(s) for s in (pop.shape or ()))
    if len(shape) < 2 or int(np.prod(shape)) != pop.size:
        return None
    h, w = shape[-2], shape[-1]
    if h < 2 or w < 2:
        return None
    return int(np.prod(shape[:-2])) if len(shape) > 2 else 1, h, w


def _unit_coords(pop, aspect: float) -> np.ndarray:
    """(size, 2) coordinates in [0, 1]^2 (u across, v up) for one population's region.

    ``aspect`` is the region's width / height; a 1-D population fills a grid
    of about that aspect, row-major from the top; a sheet keeps its pixels'
    rows and columns (channels tiled in a grid of sheets).
    """
    n = pop.size
    sheet = _sheet_shape(pop)
    if sheet is None:
        cols = max(1, min(n, int(math.ceil(math.sqrt(n * max(aspect, 1e-3))))))
        rows = int(math.ceil(n / cols))
        idx = np.arange(n)
        r, c = np.divmod(idx, cols)
        u = (c + 0.5) / cols
        v = 1.0 - (r + 0.5) / rows
        return np.column_stack([u, v])
    channels, h, w = sheet
    tc = max(1, int(math.ceil(math.sqrt(channels * max(aspect, 1e-3) * h / w))))
    tr = int(math.ceil(channels / tc))
    idx = np.arange(n)
    ch, rest = np.divmod(idx, h * w)
    y, x = np.divmod(rest, w)
    tile_r, tile_c = np.divmod(ch, tc)
    gap = 0.15  # of a tile, between channel sheets
    u = (tile_c + gap / 2 + (1 - gap) * (x + 0.5) / w) / tc
    v = 1.0 - (tile_r + gap / 2 + (1 - gap) * (y + 0.5) / h) / tr
    return np.column_stack([u, v])


def layout(graph_or_program, *, kind: str = "auto", dt: float | None = None) -> Layout:
    """Place every neuron of a network for drawing.

    Parameters
    ----------
    graph_or_program : neuroport.Network, nir.NIRGraph or Program
        The network; a graph is compiled (with ``dt``) only to find its
        populations and synapses.
    kind : {"auto", "columns", "ring"}
        ``"columns"``: one column per level (hop distance from the inputs),
        the populations of a level stacked in it, each in a band whose height
        is proportional to its size. ``"ring"``: the non-input levels as
        sectors of an annulus (the populations of a level as concentric
        bands), the inputs in the middle. ``"auto"``: a ring when there are
        >= 3 non-input levels and synapses from the deepest back to the first,
        else columns.
    dt : float, optional
        Time step in s, needed to compile a graph that does not record one
        (the layout does not depend on it).

    Returns
    -------
    Layout

    Raises
    ------
    ParameterError
        Unknown ``kind``.
    InputError, CompileError
        Not a network, or a graph that does not compile.
    """
    if kind not in LAYOUTS:
        raise ParameterError(f"kind: expected one of {LAYOUTS}, got {kind!r}")
    program = _program_of(graph_or_program, dt)
    level = _levels(program)
    if kind == "auto":
        kind = "ring" if _is_ring(program, level) else "columns"
    pops = program.populations
    by_level = {}
    for name in pops:
        by_level.setdefault(level[name], []).append(name)
    positions, labels = {}, {}
    if kind == "columns":
        col_w, gap = 0.7, 0.07
        for lv, names in sorted(by_level.items()):
            total = float(sum(pops[n].size for n in names)) or 1.0
            usable = 1.0 - gap * (len(names) - 1)
            top = 1.0
            for n in names:
                height = usable * pops[n].size / total
                uv = _unit_coords(pops[n], col_w / max(height, 1e-6))
                x = lv + (uv[:, 0] - 0.5) * col_w
                y = top - height + uv[:, 1] * height
                positions[n] = np.column_stack([x, y])
                labels[n] = (float(lv), top + 0.012)
                top -= height + gap
    else:
        inner = sorted(lv for lv in by_level if not all(pops[n].is_input for n in by_level[lv]))
        sector = 2 * math.pi / max(len(inner), 1)
        r_in, r_out, gap = 0.62, 1.0, 0.025
        for k, lv in enumerate(inner):
            names = by_level[lv]
            total = float(sum(pops[n].size for n in names)) or 1.0
            a0 = math.pi / 2 - k * sector  # clockwise from the top
            usable = (r_out - r_in) - gap * (len(names) - 1)
            outer = r_out
            for n in names:
                depth = usable * pops[n].size / total
                arc = 0.85 * sector * (outer - depth / 2)
                uv = _unit_coords(pops[n], arc / max(depth, 1e-6))
                angle = a0 - (0.075 + 0.85 * uv[:, 0]) * sector
                radius = outer - depth + uv[:, 1] * depth
                positions[n] = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
                mid = a0 - 0.5 * sector
                r_label = r_out + 0.07 if outer == r_out else outer - depth - 0.06
                labels[n] = (r_label * math.cos(mid), r_label * math.sin(mid))
                outer -= depth + gap
        centre = [n for lv, names in by_level.items() if lv not in inner for n in names]
        side = 0.55
        total = float(sum(pops[n].size for n in centre)) or 1.0
        top = side / 2
        for n in centre:
            height = side * pops[n].size / total
            uv = _unit_coords(pops[n], side / max(height, 1e-6))
            positions[n] = np.column_stack([(uv[:, 0] - 0.5) * side, top - height + uv[:, 1] * height])
            labels[n] = (0.0, top + 0.03)
            top -= height
    return Layout(kind, positions, level, {n: pops[n].size for n in pops}, labels)


# --------------------------------------------------------------------------- edges
def sample_edges(program: Program, max_edges: int, *, seed: int = 0):
    """A uniform random sample of at most ``max_edges`` synapses of ``program``, without replacement.

    Parameters
    ----------
    program : Program
    max_edges : int
        Upper bound on the number returned (>= 0); all synapses when the
        network has fewer.
    seed : int
        Seed of the sample (the same seed gives the same edges).

    Returns
    -------
    list of (pre_name, post_name, pre_index, post_index, weight)
        One tuple per projection that keeps any edge; the last three are
        arrays of shape ``(k,)``.

    Examples
    --------
    >>> import neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(30, name="x")
    >>> h = net.population(30, neuroport.LIF(tau=0.02, v_threshold=1.0), name="h")
    >>> _ = net.connect(x, h, weight=1.0, p=1.0, seed=0)
    >>> prog = neuroport.compile(net.to_nir(), dt=1e-3)
    >>> sum(len(e[2]) for e in sample_edges(prog, 100))
    100
    """
    if isinstance(max_edges, bool) or not isinstance(max_edges, (int, np.integer)) or max_edges < 0:
        raise ParameterError(f"max_edges: expected an integer >= 0, got {max_edges!r}")
    projs = [p for p in program.projections if p.nnz]
    counts = np.array([p.nnz for p in projs], dtype=np.int64)
    total = int(counts.sum())
    if total == 0 or max_edges == 0:
        return []
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(total, size=min(int(max_edges), total), replace=False)) if max_edges < total \
        else np.arange(total)
    starts = np.concatenate([[0], np.cumsum(counts)])
    out = []
    for k, proj in enumerate(projs):
        lo, hi = np.searchsorted(chosen, [starts[k], starts[k + 1]])
        if hi <= lo:
            continue
        local = chosen[lo:hi] - starts[k]
        w = proj.weights
        rows = np.searchsorted(w.indptr, local, side="right") - 1
        out.append((proj.pre, proj.post, w.indices[local].astype(np.int64), rows.astype(np.int64),
                    np.asarray(w.data[local], dtype=np.float64)))
    return out


# --------------------------------------------------------------------------- activity
def _check_result(result, lay: Layout):
    if not isinstance(result, Result):
        raise InputError(f"result: expected a neuroport Result (neuroport.run, Result.load_npz), "
                         f"got {type(result).__name__}")
    require_unbatched(result, "network_activity")
    shared = [n for n in lay.sizes if n in result.spikes]
    if not shared:
        raise InputError(f"result: none of the network's populations ({', '.join(lay.sizes)}) has spikes in the "
                         f"result (it has {', '.join(result.spikes) or 'none'}); was it run on this network?")
    for n in shared:
        if result.spikes[n].size != lay.sizes[n]:
            raise InputError(f"result: population {n!r} has {result.spikes[n].size} neurons in the result and "
                             f"{lay.sizes[n]} in the network; was it run on this network?")


def _steps_of(times, window, result: Result):
    """Chosen times (s) -> last step of each window, and the window length in steps."""
    dt = float(result.dt)
    if isinstance(window, bool) or not isinstance(window, (int, float, np.floating)) \
            or not math.isfinite(window) or window <= 0:
        raise ParameterError(f"window: expected a duration in s > 0, got {window!r}")
    window_steps = max(1, int(round(window / dt)))
    last_time = (result.num_steps - 1) * dt
    try:
        t = np.atleast_1d(np.asarray(times, dtype=np.float64))
    except (TypeError, ValueError):
        raise ParameterError(f"times: expected times in s, got {times!r}") from None
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)):
        raise ParameterError(f"times: expected a non-empty list of finite times in s, got {times!r}")
    steps = np.round(t / dt).astype(np.int64)
    bad = t[(steps < 0) | (steps > result.num_steps - 1)]
    if bad.size:
        raise ParameterError(f"times: {bad[0] * 1e3:g} ms is outside the run (0 to {last_time * 1e3:g} ms "
                             f"in steps of {dt * 1e3:g} ms)")
    return steps, window_steps


def default_times(result: Result, count: int, window: float) -> np.ndarray:
    """``count`` times in s, evenly spaced from the end of the first window to the last step."""
    dt = float(result.dt)
    end = (result.num_steps - 1) * dt
    start = min(max(window - dt, 0.0), end)
    return np.linspace(start, end, int(count))


def window_counts(result: Result, names, end_steps, window_steps: int) -> dict:
    """Spike counts per neuron in the ``window_steps`` steps up to and including each end step.

    Returns
    -------
    dict[str, numpy.ndarray]
        Population name -> array ``(len(end_steps), size)`` of spike counts;
        populations absent from ``result`` get zeros.

    Examples
    --------
    >>> from neuroport.result import SpikeTrain
    >>> res = Result("numpy", 1e-3, 10, spikes={"p": SpikeTrain.from_dense(np.eye(10, 2, dtype=bool))})
    >>> window_counts(res, ["p"], [0, 1, 9], 2)["p"].tolist()
    [[1, 0], [1, 1], [0, 0]]
    """
    end_steps = np.asarray(end_steps, dtype=np.int64)
    out = {}
    for name in names:
        train = result.spikes.get(name)
        if train is None:
            out[name] = None
            continue
        # cumulative counts per neuron at step boundaries, read at the two ends of each window
        order = np.argsort(train.steps, kind="stable")
        steps, neurons = train.steps[order], train.neurons[order]
        hi = np.searchsorted(steps, end_steps, side="right")
        lo = np.searchsorted(steps, end_steps - window_steps, side="right")
        counts = np.zeros((end_steps.size, train.size), dtype=np.int64)
        for k in range(end_steps.size):
            counts[k] = np.bincount(neurons[lo[k]:hi[k]], minlength=train.size)
        out[name] = counts
    return out


class _Drawing:
    """One panel: edges once, neurons as one scatter updated per time."""

    def __init__(self, ax, lay: Layout, edges, names, norm, max_count: float):
        self.ax, self.lay, self.names, self.norm = ax, lay, names, norm
        self.max_count = max(float(max_count), 1.0)
        ax.set_facecolor(BACKGROUND)
        self.xy = np.concatenate([lay.positions[n] for n in names]) if names else np.zeros((0, 2))
        n = len(self.xy)
        self.base_size = float(np.clip(4000.0 / max(n, 1), 0.8, 40.0))
        if edges:
            segs, colors = [], []
            for pre, post, i_pre, i_post, w in edges:
                a, b = lay.positions[pre][i_pre], lay.positions[post][i_post]
                segs.append(np.stack([a, b], axis=1))
                colors.append(np.where((w >= 0)[:, None], _EDGE_COLORS[True], _EDGE_COLORS[False]))
            segs = np.concatenate(segs)
            colors = np.concatenate(colors)
            alpha = float(np.clip(7.0 / math.sqrt(len(segs)), 0.03, 0.4))
            self.edges = LineCollection(segs, colors=np.column_stack([colors, np.full(len(colors), alpha)]),
                                        linewidths=0.4, zorder=1)
            ax.add_collection(self.edges)
        else:
            self.edges = None
        self.nodes = ax.scatter(self.xy[:, 0], self.xy[:, 1], c=np.zeros(n), s=np.full(n, self.base_size),
                                cmap=CMAP, norm=norm, linewidths=0, zorder=2)
        pad = 0.1
        anchors = np.array([lay.labels[n] for n in names if n in lay.labels]).reshape(-1, 2)
        everything = np.concatenate([self.xy, anchors])
        lo, hi = everything.min(axis=0) - pad, everything.max(axis=0) + pad
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        if lay.kind == "ring":
            ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for name in names:
            x, y = lay.labels.get(name, lay.positions[name].mean(axis=0))
            ax.text(float(x), float(y), name, color="0.85", fontsize=7, ha="center",
                    va="bottom" if lay.kind == "columns" else "center", zorder=3)

    def update(self, counts: np.ndarray, rate_scale: float, title: str):
        """``counts``: spikes per neuron in the window, concatenated in ``names`` order."""
        self.nodes.set_array(counts * rate_scale)
        self.nodes.set_sizes(self.base_size * (1.0 + 3.0 * np.minimum(counts / self.max_count, 1.0)))
        self.ax.set_title(title, fontsize=9)


def _panel_title(result: Result, step: int, counts, window_s: float) -> str:
    """``"t = 50 ms (12 spikes in the last 10 ms)"``: times in the unit of :func:`neuroport.plot.time_unit`
    for the run's length (ms below 2 s, s, min), the window in its own."""
    from neuroport.plot import time_unit

    factor, unit = time_unit(result.num_steps * float(result.dt))
    w_factor, w_unit = time_unit(window_s)
    return (f"t = {step * float(result.dt) * factor:.4g} {unit} ({int(np.sum(counts))} spikes in the last "
            f"{window_s * w_factor:.4g} {w_unit})")


def _prepare(result, graph_or_program, kind, max_edges, seed):
    if not isinstance(result, Result):
        raise InputError(f"result: expected a neuroport Result (neuroport.run, Result.load_npz), "
                         f"got {type(result).__name__}")
    program = _program_of(graph_or_program, result.dt)
    lay = layout(program, kind=kind)
    _check_result(result, lay)
    edges = sample_edges(program, max_edges, seed=seed)
    return program, lay, edges


def _counts_matrix(result, lay, end_steps, window_steps):
    names = list(lay.positions)
    per_pop = window_counts(result, names, end_steps, window_steps)
    blocks = [per_pop[n] if per_pop[n] is not None else np.zeros((len(end_steps), lay.sizes[n]), dtype=np.int64)
              for n in names]
    return names, np.concatenate(blocks, axis=1)


def network_activity(result: Result, graph_or_program, *, times=None, window: float = 0.01, path=None,
                     max_edges: int = 2000, layout_kind: str = "auto", seed: int = 0,
                     title: str | None = None, axes=None, vmax: float | None = None) -> Figure:
    """The network at several times side by side, each neuron lit by its spikes in the window before.

    Parameters
    ----------
    result : Result
        A run of the network (:func:`neuroport.run`, or
        :meth:`Result.load_npz` of ``neuroport run --out``).
    graph_or_program : neuroport.Network, nir.NIRGraph or Program
        The network that was run (a graph is compiled with ``result.dt``
        only to find its populations and synapses).
    times : sequence of float, optional
        Times in s (each rounded to a step of the run), one panel each, left
        to right; default 4 evenly spaced from the end of the first window to
        the end of the run.
    window : float
        Length in s of the window ending at each time (that step included)
        in which spikes are counted; rounded to whole steps, at least one.
    path : str or os.PathLike, optional
        Write the figure there (PNG, or any format matplotlib writes),
        atomically.
    max_edges : int
        Draw at most this many synapses, a uniform sample (seeded by
        ``seed``); 0 draws none.
    layout_kind : {"auto", "columns", "ring"}
        See :func:`layout`.
    seed : int
        Seed of the edge sample.
    title : str, optional
        Figure title (default: backend and window); with ``axes``, the
        first panel's title is prefixed with it.
    axes : sequence of matplotlib Axes, optional
        Draw into these (one per time, all of one figure) instead of a new
        figure: no colour bar, no figure title, nothing written (to compose
        several runs in one figure; ``path`` must then be None).
    vmax : float, optional
        Rate in Hz at the top of the colour scale (default the highest rate
        drawn); give the same value to compare several runs.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per time (then the colour bar's); each panel's neurons are
        its first ``PathCollection`` (``ax.collections``), whose array is the
        rate in Hz of each neuron in the window (spike count / window length),
        in the order of ``layout(...).positions``.

    Raises
    ------
    InputError
        ``result`` is not a Result, or its populations do not match the network.
    ParameterError
        A time outside the run, a non-positive window, bad ``max_edges``.
    """
    program, lay, edges = _prepare(result, graph_or_program, layout_kind, max_edges, seed)
    if times is None:
        times = default_times(result, 4, window)
    end_steps, window_steps = _steps_of(times, window, result)
    names, counts = _counts_matrix(result, lay, end_steps, window_steps)
    window_s = window_steps * result.dt
    rate_scale = 1.0 / window_s
    if vmax is not None and not (isinstance(vmax, (int, float, np.floating)) and math.isfinite(vmax) and vmax > 0):
        raise ParameterError(f"vmax: expected a rate in Hz > 0, got {vmax!r}")
    top = float(vmax) if vmax is not None else max(float(counts.max(initial=0)) * rate_scale, rate_scale)
    norm = Normalize(0.0, top)
    panels = len(end_steps)
    compose = axes is not None
    if compose:
        axes = list(axes)
        if len(axes) != panels:
            raise ParameterError(f"axes: expected one axes per time ({panels}), got {len(axes)}")
        if path is not None:
            raise ParameterError("path: with axes=..., save the caller's figure instead (path must be None)")
        fig = axes[0].figure
    else:
        width = 4.0 if lay.kind == "ring" else 0.6 + 1.0 * (max(lay.level.values()) + 1)
        fig = Figure(figsize=(min(width * panels + 1.0, 40.0), 4.4), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        axes = [fig.add_subplot(1, panels, k + 1) for k in range(panels)]
    max_count = top * window_s if vmax is not None else float(counts.max(initial=0))
    for k, ax in enumerate(axes):
        drawing = _Drawing(ax, lay, edges, names, norm, max_count)
        drawing.update(counts[k].astype(np.float64), rate_scale, _panel_title(result, end_steps[k], counts[k], window_s))
    if compose:
        if title:
            axes[0].set_title(f"{title}\n{axes[0].get_title()}", fontsize=9)
        return fig
    fig.colorbar(axes[-1].collections[-1], ax=axes, label=f"rate in the {window_s * 1e3:g} ms window (Hz)",
                 shrink=0.85, pad=0.01)
    n_edges = sum(len(e[2]) for e in edges)
    fig.suptitle(title or f"network activity ({result.backend}, {lay.n_neurons} neurons, "
                          f"{n_edges} of {program.n_synapses} synapses drawn)", fontsize=10)
    if path is not None:
        from neuroport.plot import save

        save(fig, path)
    return fig


def side_by_side(runs, *, times, window: float = 0.01, vmax: float | None = None, max_edges: int = 2000,
                 layout_kind: str = "auto", seed: int = 0, path=None, title: str | None = None) -> Figure:
    """Several runs as columns of :func:`network_activity` panels (one row per time), on one colour scale.

    Parameters
    ----------
    runs : dict[str, (network, Result)]
        Column title (e.g. ``"sub-critical (weight scale 0.5)"``) -> the
        network (``neuroport.Network``, NIR graph or Program) and its run;
        columns left to right in the dict's order.
    times : sequence of float
        Times in s, one row each, top to bottom (each inside every run).
    window : float
        Window in s before each time in which spikes are counted.
    vmax : float, optional
        Rate in Hz at the top of the shared colour scale; default the highest
        window rate of any neuron of any run at the times drawn.
    max_edges, layout_kind, seed
        As for :func:`network_activity`.
    path : str or os.PathLike, optional
        Write the figure there, atomically.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        ``len(times) * len(runs)`` panel axes, row by row (then the colour
        bar's); panel ``row * len(runs) + col`` is run ``col`` at ``times[row]``.

    Raises
    ------
    ParameterError
        No runs, a time outside a run, a bad window or vmax.
    """
    runs = dict(runs)
    if not runs:
        raise ParameterError("runs: expected at least one (network, result) pair")
    for label, pair in runs.items():
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ParameterError(f"runs[{label!r}]: expected a (network, Result) pair, got {type(pair).__name__}")
    if vmax is None:
        top = 0.0
        for _net, result in runs.values():
            if not isinstance(result, Result):
                raise InputError(f"result: expected a neuroport Result, got {type(result).__name__}")
            end_steps, window_steps = _steps_of(times, window, result)
            counts = window_counts(result, list(result.spikes), end_steps, window_steps)
            top = max([top] + [float(c.max(initial=0)) / (window_steps * result.dt) for c in counts.values()])
        vmax = top if top > 0 else 1.0 / window
    rows, cols = len(np.atleast_1d(times)), len(runs)
    fig = Figure(figsize=(min(4.0 * cols, 40.0), min(3.6 * rows + 0.8, 60.0)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    panels = [fig.add_subplot(rows, cols, k + 1) for k in range(rows * cols)]
    for col, (label, (net, result)) in enumerate(runs.items()):
        network_activity(result, net, times=times, window=window, max_edges=max_edges, layout_kind=layout_kind,
                         seed=seed, axes=panels[col::cols], vmax=vmax, title=label)
    window_ms = max(1, int(round(window / float(next(iter(runs.values()))[1].dt)))) * \
        float(next(iter(runs.values()))[1].dt) * 1e3
    fig.colorbar(panels[0].collections[-1], ax=panels, label=f"rate in the {window_ms:g} ms window (Hz)",
                 shrink=0.5)
    if title:
        fig.suptitle(title, fontsize=11)
    if path is not None:
        from neuroport.plot import save

        save(fig, path)
    return fig


def animate(result: Result, graph_or_program, path, *, fps: float = 10.0, window: float = 0.01,
            frames: int | None = None, times=None, max_edges: int = 2000, layout_kind: str = "auto",
            seed: int = 0, progress: bool | None = None, title: str | None = None,
            vmax: float | None = None) -> str:
    """Write the network's activity over a run as an animation (GIF, or MP4 when ``ffmpeg`` exists).

    Parameters
    ----------
    result : Result
    graph_or_program : neuroport.Network, nir.NIRGraph or Program
        As for :func:`network_activity`.
    path : str or os.PathLike
        ``.gif`` (matplotlib's PillowWriter) or ``.mp4`` (FFMpegWriter; needs
        the ``ffmpeg`` program on ``PATH``). Written atomically.
    fps : float
        Frames per second of the animation (> 0).
    window : float
        Window in s before each frame's time in which spikes are counted.
    frames : int, optional
        Number of frames, at times evenly spaced over the run (>= 1);
        default one frame per ``window`` (at most 200).
    times : sequence of float, optional
        Explicit frame times in s (instead of ``frames``).
    max_edges, layout_kind, seed, title, vmax
        As for :func:`network_activity`.
    progress : bool, optional
        A tqdm progress bar over frames (default: shown when stderr is a terminal).

    Returns
    -------
    str
        The path written.

    Raises
    ------
    ParameterError
        Unknown extension, bad ``fps`` / ``frames`` / times / window.
    BackendUnavailableError
        ``.mp4`` without ``ffmpeg`` on ``PATH``.
    """
    from matplotlib.animation import FFMpegWriter, PillowWriter
    from tqdm.auto import tqdm

    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".gif", ".mp4"):
        raise ParameterError(f"path: expected a .gif or .mp4 file name, got {path!r}")
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.floating)) or not math.isfinite(fps) or fps <= 0:
        raise ParameterError(f"fps: expected frames per second > 0, got {fps!r}")
    if ext == ".mp4" and shutil.which(matplotlib.rcParams["animation.ffmpeg_path"]) is None:
        raise BackendUnavailableError(
            f"path {path!r}: writing MP4 needs the ffmpeg program on PATH (install it, e.g. "
            "'apt-get install ffmpeg' or 'conda install ffmpeg'), or write a .gif instead")
    program, lay, edges = _prepare(result, graph_or_program, layout_kind, max_edges, seed)
    if times is None:
        if frames is None:
            frames = int(min(200, max(1, round(result.num_steps * result.dt / window))))
        if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 1:
            raise ParameterError(f"frames: expected an integer >= 1, got {frames!r}")
        times = default_times(result, frames, window)
    elif frames is not None:
        raise ParameterError("frames and times: give one of them, not both")
    end_steps, window_steps = _steps_of(times, window, result)
    names, counts = _counts_matrix(result, lay, end_steps, window_steps)
    window_s = window_steps * result.dt
    rate_scale = 1.0 / window_s
    if vmax is not None and not (isinstance(vmax, (int, float, np.floating)) and math.isfinite(vmax) and vmax > 0):
        raise ParameterError(f"vmax: expected a rate in Hz > 0, got {vmax!r}")
    top = float(vmax) if vmax is not None else max(float(counts.max(initial=0)) * rate_scale, rate_scale)
    norm = Normalize(0.0, top)
    width = 4.6 if lay.kind == "ring" else 0.8 + 1.1 * (max(lay.level.values()) + 1)
    fig = Figure(figsize=(min(width + 1.0, 16.0), 4.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    drawing = _Drawing(ax, lay, edges, names, norm,
                       top * window_s if vmax is not None else float(counts.max(initial=0)))
    fig.colorbar(drawing.nodes, ax=ax, label=f"rate in the {window_s * 1e3:g} ms window (Hz)", shrink=0.85)
    fig.suptitle(title or f"network activity ({result.backend})", fontsize=10)
    drawing.update(counts[0].astype(np.float64), rate_scale, "t")
    fig.canvas.draw()  # solve the constrained layout once, then keep it for every frame (much faster)
    fig.set_layout_engine("none")
    writer = PillowWriter(fps=fps) if ext == ".gif" else FFMpegWriter(fps=fps)
    bar = tqdm(total=len(end_steps), desc="frames", unit="frame", leave=False,
               disable=(None if progress is None else not progress))
    try:
        with atomic_target(path, suffix=ext) as tmp:
            with writer.saving(fig, tmp, dpi=DPI):
                for k, step in enumerate(end_steps):
                    drawing.update(counts[k].astype(np.float64), rate_scale,
                                   _panel_title(result, step, counts[k], window_s))
                    writer.grab_frame(facecolor="white")
                    bar.update(1)
    finally:
        bar.close()
    return path
