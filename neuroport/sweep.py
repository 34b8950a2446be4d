"""Parameter sweeps: one :func:`neuroport.run` per grid point, fanned out over Dask, gathered into a table.

Examples
--------
>>> import neuroport
>>> from neuroport.models.networks.benchmarks import coba_network
>>> table = neuroport.sweep(lambda weight_scale, seed: coba_network(n_neurons=200, p=0.1, seed=seed,
...                                                                   weight_scale=weight_scale),
...                         {"weight_scale": [0.5, 1.0], "seed": [0, 1]}, steps=300, dt=1e-4,
...                         metrics=("rate", "cv"), workers=0, progress=False)
>>> list(table.columns[:2]), len(table)
(['weight_scale', 'seed'], 4)

``build(**point)`` returns what one run needs: a :class:`neuroport.Network`
(or ``nir.NIRGraph`` / Program); or a tuple ``(network, inputs)``; or a dict
with keys ``network``, optionally ``inputs`` (what :func:`neuroport.run`
takes: an array ``(steps, n)`` or a dict of them), ``labels`` and
``readout`` (for the ``accuracy`` metric).

Metrics are names from :data:`METRICS` or callables ``f(result) -> float |
dict`` (a float becomes column ``f.__name__``; a dict's keys become
columns); a dict ``{column: callable}`` names the columns itself. Named
metrics use every population that is not an input node of the graph:

``rate``
    mean firing rate per neuron in Hz (column ``rate``), and per population
    (``rate_<population>``).
``cv``
    :func:`neuroport.compare.isi_cv` over all non-input neurons pooled
    (mean ISI coefficient of variation over neurons with >= 3 spikes; NaN if
    none), and per population (``cv_<population>``).
``branching``
    :func:`branching_ratio` of the summed activity in bins of one step.
``accuracy``
    :func:`readout_accuracy` with ``labels`` and ``readout`` from build's dict.

Where the points run: ``client="serial"`` or ``workers=0`` runs them one by
one in this process; a ``distributed.Client`` or a scheduler address
(``"tcp://10.0.0.5:8786"``) runs them on that cluster; otherwise a
``distributed.LocalCluster`` of ``workers`` single-threaded processes bound
to 127.0.0.1, without a dashboard, is started and closed again. ``build``
and callable metrics travel to the workers by pickling (cloudpickle:
lambdas and closures work; module-level functions must be importable on the
workers).

A point whose build, run or metric raises is recorded with ``status ==
"error"`` and the exception's message in ``error``; the other points still
complete. With ``cache=DIR`` each finished point is written to
``DIR/<key>.json`` (atomically, as it completes), the key being a SHA-256
of the point, backend, steps, dt, run options, metric names and build's
qualified name (for a ``functools.partial``, with its bound arguments); a
re-run reads the finished points back (``cached`` is True) and runs only the
others, so an interrupted sweep resumes. Failed points are not cached: they
run again. The key does not see changes inside ``build``'s code: use a new
folder when the network itself changes.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import numbers
import os
import sys
import time
import traceback
import types

import numpy as np

from neuroport.errors import InputError, NeuroportError
from neuroport.fileutil import write_json

__all__ = ["sweep", "expand_grid", "point_key", "branching_ratio", "readout_accuracy", "METRICS"]

CACHE_VERSION = 1  #: bump when the cache file's layout or the metrics' definitions change


# ----------------------------------------------------------------------------------------------------------------
# grid


def expand_grid(grid) -> list:
    """The points of a grid, as a list of dicts (in sweep order).

    ``grid`` is a dict of lists (their cartesian product, the last key
    varying fastest) or a list of dicts (taken as they are; all with the
    same keys).

    >>> expand_grid({"a": [1, 2], "b": ["x"]})
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
    """
    if isinstance(grid, dict):
        if not grid:
            raise InputError("grid: expected a dict of lists of values, got an empty dict")
        values = []
        for name, options in grid.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise InputError(f"grid: parameter names must be Python identifiers (build is called as "
                                 f"build(**point)), got {name!r}")
            if isinstance(options, (str, bytes)) or not hasattr(options, "__iter__"):
                raise InputError(f"grid[{name!r}]: expected a list of values, got {options!r}; "
                                 f"write [{options!r}] for a single value")
            options = list(options)
            if not options:
                raise InputError(f"grid[{name!r}]: empty list of values; give at least one")
            values.append(options)
        return [dict(zip(grid, combo)) for combo in itertools.product(*values)]
    if isinstance(grid, (list, tuple)):
        if not grid:
            raise InputError("grid: expected a non-empty list of dicts, got an empty list")
        points = []
        for i, point in enumerate(grid):
            if not isinstance(point, dict):
                raise InputError(f"grid[{i}]: expected a dict of parameter values, got {type(point).__name__}")
            if set(point) != set(grid[0]):
                raise InputError(f"grid[{i}]: parameters {sorted(point)} differ from grid[0]'s {sorted(grid[0])}; "
                                 "every point needs the same parameter names")
            points.append(dict(point))
        return points
    raise InputError(f"grid: expected a dict of lists or a list of dicts, got {type(grid).__name__}")


def _plain(value):
    """``value`` as a JSON-able Python value (numpy scalars and arrays unwrapped); used for keys and cache files."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _callable_name(f) -> str:
    if isinstance(f, functools.partial):  # bound arguments decide the result too (their repr if not JSON-able)
        bound = json.dumps({"args": _plain(f.args), "keywords": _plain(f.keywords)}, sort_keys=True)
        return f"functools.partial({_callable_name(f.func)}, {bound})"
    return f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', type(f).__name__)}"


def point_key(point: dict, *, backend: str, steps: int, dt=None, run_options=None, metric_names=(),
              build_name: str = "") -> str:
    """A stable hex SHA-256 of everything that decides a point's result (the cache file's name).

    Same across processes and Python sessions (JSON with sorted keys, not
    ``hash()``); ``1`` and ``1.0`` give different keys.
    """
    description = {"version": CACHE_VERSION, "point": _plain(point), "backend": backend, "steps": int(steps),
                   "dt": _plain(dt), "run_options": _plain(run_options or {}), "metrics": list(metric_names),
                   "build": build_name}
    text = json.dumps(description, sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------------------------------------------------------
# metrics


def _neuron_trains(result, input_names) -> dict:
    return {name: train for name, train in result.spikes.items() if name not in input_names}


def _activity(trains: dict, num_steps: int) -> np.ndarray:
    total = np.zeros(num_steps, dtype=np.int64)
    for train in trains.values():
        total += np.bincount(train.steps, minlength=num_steps)[:num_steps]
    return total


def branching_ratio(activity) -> float:
    """Branching ratio of a population activity: mean of ``A[t+1] / A[t]`` over bins with ``A[t] > 0``.

    ``activity`` is spikes per time bin, shape ``(bins,)`` (e.g. summed over
    all neurons per 1-step bin). This is the "descendants per ancestor"
    estimate of Beggs & Plenz (2003) applied to every active bin: ~1 at the
    critical point, < 1 when activity dies out, > 1 when it grows. It is
    biased under subsampling and strong external drive (Wilting & Priesemann
    2018); NaN when fewer than one active bin has a successor.

    >>> branching_ratio([2, 4, 0, 1, 1])
    1.0
    """
    a = np.asarray(activity, dtype=np.float64)
    if a.ndim != 1:
        raise InputError(f"activity: expected a 1-D array of spikes per bin, got shape {a.shape}")
    ancestors, descendants = a[:-1], a[1:]
    active = ancestors > 0
    if not active.any():
        return math.nan
    return float(np.mean(descendants[active] / ancestors[active]))


def readout_accuracy(result, labels, readout: str) -> float:
    """Fraction of presentation windows whose most active readout neuron is the label.

    The run is split into ``len(labels)`` equal windows of
    ``result.num_steps // len(labels)`` steps; in window ``k`` the predicted
    class is the index of the ``readout`` population's neuron with the most
    spikes (ties: the lowest index; a silent window counts as wrong).

    Parameters
    ----------
    labels : array of int, shape (windows,)
        The class presented in each window, in ``[0, readout size)``.
    readout : str
        Population with one neuron per class.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise InputError(f"labels: expected a 1-D array of classes, one per window, got shape {labels.shape}")
    if readout not in result.spikes:
        raise InputError(f"readout {readout!r}: no such population; the result has {sorted(result.spikes)}")
    train = result.spikes[readout]
    window = result.num_steps // labels.size
    if window < 1:
        raise InputError(f"labels: {labels.size} windows do not fit in {result.num_steps} steps")
    counts = np.zeros((labels.size, train.size), dtype=np.int64)
    keep = train.steps < window * labels.size
    np.add.at(counts, (train.steps[keep] // window, train.neurons[keep]), 1)
    predicted = np.argmax(counts, axis=1)
    hits = (predicted == labels) & (counts.max(axis=1) > 0)
    return float(hits.mean())


def _metric_rate(result, ctx) -> dict:
    trains = _neuron_trains(result, ctx["inputs"])
    neurons = sum(t.size for t in trains.values())
    total = sum(t.count for t in trains.values())
    out = {"rate": total / (neurons * result.num_steps * result.dt) if neurons and result.num_steps else 0.0}
    out.update({f"rate_{name}": t.rate_hz(result.dt) for name, t in trains.items()})
    return out


def _metric_cv(result, ctx) -> dict:
    from neuroport.compare import isi_cv
    from neuroport.result import SpikeTrain

    trains = _neuron_trains(result, ctx["inputs"])
    offset, steps, neurons = 0, [], []
    for t in trains.values():
        steps.append(t.steps)
        neurons.append(t.neurons + offset)
        offset += t.size
    steps = np.concatenate(steps) if steps else np.zeros(0, np.int64)
    neurons = np.concatenate(neurons) if neurons else np.zeros(0, np.int64)
    order = np.argsort(steps, kind="stable")
    pooled = SpikeTrain(steps[order], neurons[order], offset, result.num_steps)
    out = {"cv": isi_cv(pooled)}
    out.update({f"cv_{name}": isi_cv(t) for name, t in trains.items()})
    return out


def _metric_branching(result, ctx) -> dict:
    return {"branching": branching_ratio(_activity(_neuron_trains(result, ctx["inputs"]), result.num_steps))}


def _metric_accuracy(result, ctx) -> dict:
    if ctx.get("labels") is None or ctx.get("readout") is None:
        raise InputError("metric 'accuracy' needs build() to return a dict with 'labels' (one class per "
                         "presentation window) and 'readout' (the population with one neuron per class)")
    return {"accuracy": readout_accuracy(result, ctx["labels"], ctx["readout"])}


#: Named metrics: name -> function(result, context) -> dict of columns.
METRICS = {"rate": _metric_rate, "cv": _metric_cv, "branching": _metric_branching, "accuracy": _metric_accuracy}


def _normalise_metrics(metrics) -> list:
    """[(label, callable_or_name, column_or_None)]: label is what goes into the cache key."""
    if metrics is None:
        metrics = ("rate",)
    if isinstance(metrics, (str, bytes)) or callable(metrics):
        metrics = (metrics,)
    out = []
    if isinstance(metrics, dict):
        for column, f in metrics.items():
            if not callable(f):
                raise InputError(f"metrics[{column!r}]: expected a callable f(result), got {f!r}")
            out.append((f"{column}={_callable_name(f)}", f, str(column)))
        return out
    for m in metrics:
        if isinstance(m, str):
            if m not in METRICS:
                raise InputError(f"metric {m!r}: unknown; named metrics are {', '.join(METRICS)}, "
                                 "or pass a callable f(result) -> float | dict")
            out.append((m, m, None))
        elif callable(m):
            out.append((_callable_name(m), m, None))
        else:
            raise InputError(f"metric {m!r}: expected a name ({', '.join(METRICS)}) or a callable f(result)")
    return out


def _unpack_build(built) -> dict:
    if isinstance(built, dict):
        if "network" not in built:
            raise InputError(f"build() returned a dict without 'network' (keys {sorted(built)}); return a "
                             "network, (network, inputs) or {'network': ..., 'inputs': ...}")
        return built
    if isinstance(built, tuple):
        if len(built) != 2:
            raise InputError(f"build() returned a tuple of {len(built)} items; expected (network, inputs)")
        return {"network": built[0], "inputs": built[1]}
    return {"network": built}


def _input_names(network) -> set:
    import nir

    graph = network.to_nir() if hasattr(network, "to_nir") else network
    if isinstance(graph, nir.NIRGraph):
        return {name for name, node in graph.nodes.items() if isinstance(node, nir.Input)}
    return set(getattr(graph, "inputs", ()))  # a Program


def run_point(build, point: dict, *, backend: str, steps: int, dt, run_options: dict, metrics) -> dict:
    """Build, run and measure one point; never raises: ``{"status", "error", "wall_s", **metric columns}``.

    Runs in the worker (or in this process for a serial sweep).
    """
    import neuroport

    start = time.perf_counter()
    row = {}
    try:
        built = _unpack_build(build(**point))
        network = built["network"]
        options = dict(run_options or {})
        if dt is not None:
            options["dt"] = dt
        options.setdefault("progress", False)
        result = neuroport.run(network, backend=backend, steps=steps, inputs=built.get("inputs"), **options)
        ctx = {"inputs": _input_names(network), "labels": built.get("labels"), "readout": built.get("readout")}
        for _label, m, column in metrics:
            if isinstance(m, str):
                values = METRICS[m](result, ctx)
            else:
                value = m(result)
                if isinstance(value, dict):
                    values = value
                elif isinstance(value, (numbers.Number, np.generic)) or value is None:
                    values = {column or getattr(m, "__name__", "metric"): value}
                else:
                    raise InputError(f"metric {_callable_name(m)} returned {type(value).__name__}; "
                                     "expected a number or a dict of numbers")
            row.update({str(k): _plain(v) for k, v in values.items()})
        row.update(status="ok", error="")
    except Exception as exc:  # one point's failure is a row, never the sweep's
        where = "" if isinstance(exc, NeuroportError) else f" ({_where(exc)})"
        row = {"status": "error", "error": f"{type(exc).__name__}: {exc}{where}"}
    row["wall_s"] = time.perf_counter() - start
    return row


def _where(exc) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "no traceback"
    f = frames[-1]
    return f"at {os.path.basename(f.filename)}:{f.lineno} in {f.name}"


# ----------------------------------------------------------------------------------------------------------------
# cache


def _cache_path(cache, key: str) -> str:
    return os.path.join(os.fspath(cache), f"{key}.json")


def _read_cached(cache, key: str):
    """The cached row of ``key``, or None (missing, unreadable or of another version: it runs again)."""
    path = _cache_path(cache, key)
    try:
        with open(path) as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or not isinstance(data.get("row"), dict):
        return None
    return data["row"]


def _write_cached(cache, key: str, point: dict, row: dict, description: dict) -> None:
    write_json(_cache_path(cache, key), {"version": CACHE_VERSION, "point": _plain(point), **description, "row": row})


# ----------------------------------------------------------------------------------------------------------------
# where the points run


def _executor(client, workers, n_points):
    """(kind, client, cleanup): kind "serial" or "dask"."""
    if isinstance(client, str) and client == "serial":
        return "serial", None, lambda: None
    if client is None and workers is not None:
        if not isinstance(workers, numbers.Integral) or isinstance(workers, bool) or workers < 0:
            raise InputError(f"workers: expected an integer >= 0 (0: run serially in this process), got {workers!r}")
        if workers == 0:
            return "serial", None, lambda: None
    try:
        import distributed
    except ImportError as exc:
        raise _missing_dask(exc) from None
    if client is None:
        n = workers if workers is not None else max(1, min(os.cpu_count() or 1, n_points))
        cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                           dashboard_address=None)
        dask_client = distributed.Client(cluster)

        def cleanup():
            dask_client.close()
            cluster.close()

        return "dask", dask_client, cleanup
    if isinstance(client, str):
        try:
            dask_client = distributed.Client(client, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"scheduler {client!r}: cannot connect ({exc}); give a running Dask scheduler's "
                             "address, e.g. tcp://127.0.0.1:8786, or run serially (workers=0, --workers 0)") from None
        return "dask", dask_client, dask_client.close
    if isinstance(client, distributed.Client):
        return "dask", client, lambda: None
    raise InputError(f"client: expected None, 'serial', a scheduler address or a distributed.Client, "
                     f"got {type(client).__name__}")


def _missing_dask(exc):
    from neuroport.errors import BackendUnavailableError

    return BackendUnavailableError(f"parallel sweeps need dask.distributed ({exc}); install it with "
                                   "pip install 'neuroport[sweep]', or run serially with workers=0")


# ----------------------------------------------------------------------------------------------------------------
# the sweep


def sweep(build, grid, *, backend: str = "numpy", steps: int, metrics=("rate",), dt=None, run_options=None,
          client=None, workers=None, cache=None, progress: bool = True):
    """Run ``build(**point)`` on ``backend`` for every point of ``grid``; one table row per point.

    Parameters
    ----------
    build : callable
        ``build(**point)`` -> network, ``(network, inputs)`` or a dict (see the module docstring).
    grid : dict of lists, or list of dicts
        Parameter values (:func:`expand_grid`).
    backend : str
        Mode for :func:`neuroport.run` (``numpy``, ``numpy-fixed``, ``brian2``, ...).
    steps : int
        Time steps per run.
    metrics : sequence of names / callables, or dict {column: callable}
        What to measure (module docstring); default ``("rate",)``.
    dt : float, optional
        Time step in seconds, for graphs that do not record one.
    run_options : dict, optional
        More keyword arguments of :func:`neuroport.run` (``seed``, ``engine``, ``timing``, ...).
    client : None, "serial", str or distributed.Client
        Where to run (module docstring).
    workers : int, optional
        Processes of the LocalCluster started when ``client`` is None
        (default: CPU count, at most the number of points); 0 runs serially.
    cache : path, optional
        Folder of one JSON file per finished point; created if missing.
    progress : bool
        A tqdm bar over completed points (on stderr).

    Returns
    -------
    pandas.DataFrame
        One row per point, in grid order: the grid's columns, the metric
        columns, ``status`` ("ok" or "error"), ``error`` (the message, ""
        when ok), ``wall_s`` (seconds for build + run + metrics) and
        ``cached`` (True when read from ``cache``).

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> def one_neuron(weight):
    ...     net = neuroport.Network()
    ...     x = net.input(1, name="x")
    ...     y = net.population(1, neuroport.LIF(tau=0.01, v_threshold=1.0), name="y")
    ...     _ = net.connect(x, y, weight=weight)
    ...     return net, np.ones((100, 1))                      # the input spikes every step
    >>> table = neuroport.sweep(one_neuron, {"weight": [0.5, 20.0]}, steps=100, dt=1e-3, workers=0, progress=False)
    >>> table[["weight", "rate", "status"]].values.tolist()  # 0.5: v settles at 0.5 < 1; 20: a spike a step
    [[0.5, 0.0, 'ok'], [20.0, 990.0, 'ok']]
    """
    import pandas as pd

    if not callable(build):
        raise InputError(f"build: expected a callable build(**point) returning a network, got {build!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise InputError(f"steps: expected an integer >= 1, got {steps!r}")
    steps = int(steps)
    points = expand_grid(grid)
    metric_list = _normalise_metrics(metrics)
    metric_names = [label for label, _m, _c in metric_list]
    run_options = dict(run_options or {})
    for reserved in ("backend", "steps", "inputs", "network", "dt"):
        if reserved in run_options:
            raise InputError(f"run_options[{reserved!r}]: set by the sweep itself; "
                             + ("pass dt=..." if reserved == "dt" else "return inputs from build()"
                                if reserved == "inputs" else f"pass {reserved}=... to sweep()"))
    description = {"backend": backend, "steps": steps, "dt": _plain(dt), "run_options": _plain(run_options),
                   "metrics": metric_names, "build": _callable_name(build)}
    keys = [point_key(p, backend=backend, steps=steps, dt=dt, run_options=run_options, metric_names=metric_names,
                      build_name=description["build"]) for p in points]
    rows: list = [None] * len(points)
    if cache is not None:
        if os.path.exists(cache) and not os.path.isdir(cache):
            raise InputError(f"cache {os.fspath(cache)!r}: is a file; give a folder (it is created if missing)")
        os.makedirs(cache, exist_ok=True)
        for i, key in enumerate(keys):
            row = _read_cached(cache, key)
            if row is not None:
                rows[i] = {**row, "cached": True}
    todo = [i for i, row in enumerate(rows) if row is None]

    def finished(i, row):
        rows[i] = {**row, "cached": False}
        if cache is not None and row.get("status") == "ok":
            _write_cached(cache, keys[i], points[i], row, description)

    kwargs = dict(backend=backend, steps=steps, dt=dt, run_options=run_options, metrics=metric_list)
    if todo:
        kind, dask_client, cleanup = _executor(client, workers, len(todo))
        bar = _bar(progress, len(points), len(points) - len(todo))
        try:
            if kind == "serial":
                for i in todo:
                    finished(i, run_point(build, points[i], **kwargs))
                    bar.update(1)
            else:
                import distributed

                futures = {dask_client.submit(run_point, build, points[i], pure=False, **kwargs): i for i in todo}
                for future in distributed.as_completed(futures):
                    i = futures[future]
                    try:
                        row = future.result()
                    except Exception as exc:  # the worker died, or the point could not be unpickled there
                        row = {"status": "error", "error": f"{type(exc).__name__}: {exc}", "wall_s": math.nan}
                    finished(i, row)
                    bar.update(1)
        finally:
            bar.close()
            cleanup()
    table = pd.DataFrame([{**points[i], **rows[i]} for i in range(len(points))])
    front = list(points[0])
    metric_columns = [c for c in table.columns if c not in front and c not in ("status", "error", "wall_s", "cached")]
    return table[front + metric_columns + ["status", "error", "wall_s", "cached"]]


def _bar(progress: bool, total: int, done: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc="sweep", unit="point", disable=not progress, leave=False)


class _CallableModule(types.ModuleType):
    """``neuroport.sweep(...)`` calls :func:`sweep`; ``neuroport.sweep.branching_ratio`` etc. stay reachable."""

    def __call__(self, *args, **kwargs):
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
