"""Compare neuroport runs with your own recorded spikes (a *reference file*), e.g. a saved snnTorch run.

The reference file (``.npz``, written with ``numpy.savez``) holds one array per
layer; the format is in ``docs/compare.md`` and in the help of
``neuroport compare`` and ``neuroport check --reference``:

======================  ===================================================================
array name              what it holds
======================  ===================================================================
``<layer>``             spikes of one layer per step, shape ``(steps, n)`` or
                        ``(steps, *shape)`` (flattened in C order to ``n`` neurons):
                        0/1, or spike counts (non-negative integers) for tools that
                        emit several spikes per step. ``<layer>`` is the NIR node name
                        of the spiking node (``neuroport info FILE`` lists them; a node
                        of a subgraph is ``block.node``); other names map with
                        ``rename`` / ``--layer-map``.
``spikes__<layer>``     the same (the naming of ``tests/data/interop`` fixtures)
``dt``                  optional scalar, the step in seconds (NaN: not recorded);
                        checked against the run's ``dt``
``v__<layer>``,         optional recorded states: read, not compared (each framework
``i__<layer>``          records its membrane at its own point of the step)
``info``                optional free text (JSON), ignored
``<input node>``        an array named after an input node of the network: accepted,
                        not compared (inputs are identical by construction)
======================  ===================================================================

Any other name is an error that lists the network's layers. The reference is
judged as a float run (``kind="float"``): a float backend must reproduce it spike
for spike ("identical spikes", THRESHOLDS in neuroport/compare.py), a fixed-point one within the
quantization bounds, Brian2 within +-1 step; :func:`neuroport.compare.criteria`
decides, one judgement per layer. Runs of an ideal-timing graph on a pipelined
backend are shifted back by their stated latency (``Result.meta["latency"]``,
docs/timing.md) before they are compared, and so is the reference by its own
``latency`` when it has one (Spyx, for instance, adds one step per layer).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import sys
import time
import warnings

import numpy as np

from neuroport import backend as registry
from neuroport.compare import EquivalenceReport, compare, criteria, mode_kind
from neuroport.errors import InputError, UsageError
from neuroport.result import Result, SpikeTrain

__all__ = ["read_reference", "reference_from_arrays", "compare_reference", "check_reference",
           "plot_overlay", "parse_mapping", "STATE_PREFIXES"]

#: prefixes of recorded-state arrays in a reference file (read, not compared)
STATE_PREFIXES = ("v__", "i__")
_SPIKE_PREFIX = "spikes__"
_IGNORED = ("info",)


def parse_mapping(text: str | None, option: str, *, integer: bool = False) -> dict:
    """``"a=b,c=d"`` -> ``{"a": "b", "c": "d"}`` (values as int with ``integer``); ``None`` -> ``{}``.

    Examples
    --------
    >>> parse_mapping("spk1=lif1,spk2=lif2", "--layer-map")
    {'spk1': 'lif1', 'spk2': 'lif2'}
    >>> parse_mapping("lif1=1", "--reference-latency", integer=True)
    {'lif1': 1}
    """
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        key, sep, value = (s.strip() for s in item.partition("="))
        if not (key and sep and value):
            raise UsageError(f"{option} {text!r}: expected NAME=VALUE[,NAME=VALUE...], e.g. spk1=lif1")
        if integer:
            try:
                value = int(value)
            except ValueError:
                raise UsageError(f"{option} {item!r}: {value!r} is not an integer number of steps") from None
            if value < 0:
                raise UsageError(f"{option} {item!r}: a latency is >= 0 steps")
        out[key] = value
    return out


def _suggest(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def reference_from_arrays(arrays: dict, *, populations: dict, inputs=(), dt: float | None = None,
                          rename: dict | None = None, latency: dict | None = None,
                          source: str = "reference") -> Result:
    """A :class:`~neuroport.result.Result` (backend ``"reference"``) from a reference file's arrays.

    Parameters
    ----------
    arrays : dict[str, numpy.ndarray]
        The file's arrays (see the module doc for the names).
    populations : dict[str, int]
        The network's populations (layer name -> number of neurons) the layers
        must name, inputs included.
    inputs : iterable of str
        Input populations: arrays named after them are accepted and left out.
    dt : float, optional
        Time step in s; default the file's ``dt``. When both are given they must agree.
    rename : dict[str, str], optional
        File array name (without ``spikes__``) -> layer name.
    latency : dict[str, int], optional
        Steps by which the reference's layers lag an ideal-timing run.
    source : str
        Named in error messages.

    Returns
    -------
    Result
        ``spikes`` holds the reference layers (counts repeat their entries),
        ``meta["reference_states"]`` the names of state arrays that were skipped.
    """
    rename = dict(rename or {})
    inputs = set(inputs)
    file_dt = None
    if "dt" in arrays:
        raw = np.asarray(arrays["dt"])
        if raw.size != 1 or not np.issubdtype(raw.dtype, np.number):
            raise InputError(f"{source}: 'dt' must be one number (seconds), got shape {raw.shape} {raw.dtype}")
        value = float(raw.reshape(()))
        if math.isfinite(value):
            if value <= 0:
                raise InputError(f"{source}: 'dt' = {value} s; a time step is > 0 (NaN: not recorded)")
            file_dt = value
    if dt is not None and file_dt is not None and not math.isclose(dt, file_dt, rel_tol=1e-9):
        raise InputError(f"{source}: records dt = {file_dt:g} s but the run uses dt = {dt:g} s; "
                         "give the dt the reference was recorded with (--dt)")
    dt = dt if dt is not None else file_dt
    if dt is None:
        raise InputError(f"{source}: no time step: the file has no 'dt' and none was given "
                         "(--dt SECONDS, or a network that records it / an import profile)")
    unused = set(rename) - {(k[len(_SPIKE_PREFIX):] if k.startswith(_SPIKE_PREFIX) else k) for k in arrays}
    if unused:
        raise InputError(f"{source}: layer map names {', '.join(sorted(unused))}, which the file does not hold; "
                         f"it holds {', '.join(sorted(arrays))}")
    layers, states, steps_seen = {}, [], {}
    for key, value in arrays.items():
        if key in ("dt",) + _IGNORED:
            continue
        if key.startswith(STATE_PREFIXES):
            states.append(key)
            continue
        bare = key[len(_SPIKE_PREFIX):] if key.startswith(_SPIKE_PREFIX) else key
        name = rename.get(bare, bare)
        if name in inputs:
            continue
        if name not in populations:
            layers_list = ", ".join(n for n in populations if n not in inputs) or "none"
            raise InputError(f"{source}: array {key!r} names no layer of the network{_suggest(name, populations)}; "
                             f"layers: {layers_list} (map other names with --layer-map FILE_NAME=LAYER; "
                             f"states go in v__<layer>, free text in info)")
        if name in layers:
            raise InputError(f"{source}: layer {name!r} is given twice (as {layers[name][0]!r} and {key!r})")
        layers[name] = (key, value)
    if not layers:
        raise InputError(f"{source}: holds no spikes of a layer; expected one array (steps, n) per layer named "
                         f"after it: {', '.join(n for n in populations if n not in inputs)}")
    spikes = {}
    for name, (key, value) in layers.items():
        x = np.asarray(value)
        if x.ndim < 2:
            raise InputError(f"{source}: {key!r} has shape {x.shape}; expected (steps, n) spikes per step")
        if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise InputError(f"{source}: {key!r} has dtype {x.dtype}; expected 0/1 or spike counts")
        size = populations[name]
        flat = x.reshape(x.shape[0], -1)
        if flat.shape[1] != size:
            raise InputError(f"{source}: {key!r} has shape {x.shape} ({flat.shape[1]} neurons per step); "
                             f"layer {name!r} has {size} neurons (one sample: save (steps, {size}), no batch axis)")
        counts = flat.astype(np.float64)
        if not np.all(np.isfinite(counts)) or np.any(counts < 0) or np.any(counts != np.round(counts)):
            bad = np.argwhere(~np.isfinite(counts) | (counts < 0) | (counts != np.round(counts)))[0]
            raise InputError(f"{source}: {key!r} at step {bad[0]} neuron {bad[1]} is {flat[tuple(bad)]!r}; "
                             "expected 0/1 or a whole number of spikes >= 0")
        steps_seen[name] = flat.shape[0]
        n = counts.astype(np.int64)
        st, ne = np.nonzero(n)
        reps = n[st, ne]
        spikes[name] = SpikeTrain(np.repeat(st, reps).astype(np.int64), np.repeat(ne, reps).astype(np.int64),
                                  size, flat.shape[0])
    lengths = set(steps_seen.values())
    if len(lengths) > 1:
        raise InputError(f"{source}: layers of different lengths: "
                         + ", ".join(f"{k} {v} steps" for k, v in steps_seen.items()))
    latency = {k: int(v) for k, v in (latency or {}).items()}
    for name in latency:
        if name not in spikes:
            raise InputError(f"{source}: a latency is given for {name!r}, which is not a layer of the reference "
                             f"({', '.join(spikes)}){_suggest(name, spikes)}")
    meta = {"source": source, "reference_states": sorted(states)}
    if latency:
        meta["latency"] = latency
    return Result("reference", float(dt), lengths.pop(), spikes=spikes, meta=meta)


def read_reference(path, *, populations: dict, inputs=(), dt: float | None = None, rename: dict | None = None,
                   latency: dict | None = None) -> Result:
    """Read a reference ``.npz`` file (module doc) into a Result; see :func:`reference_from_arrays`.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "ref.npz")
    >>> np.savez(path, lif1=np.eye(5, 3), dt=1e-3)
    >>> ref = read_reference(path, populations={"x": 2, "lif1": 3}, inputs=["x"])
    >>> ref.num_steps, ref.spike_counts()
    (5, {'lif1': 3})
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"reference {path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"reference {path}: not a readable .npz file ({exc}); save it with numpy.savez") from None
    if not isinstance(arrays, dict) or not arrays:
        raise InputError(f"reference {path}: holds no arrays")
    return reference_from_arrays(arrays, populations=populations, inputs=inputs, dt=dt, rename=rename,
                                 latency=latency, source=f"reference {path}")


def compare_reference(reference: Result, result: Result, *, k: int = 1, tau: float | None = None,
                      program=None, recurrent: bool | None = None, reference_kind: str = "float") -> tuple:
    """Compare ``result`` with ``reference`` and judge every layer by :func:`neuroport.compare.criteria`.

    Both are aligned by their stated latencies (:func:`neuroport.compare.compare`).
    Only the reference's layers are compared; ``result`` must have them with
    the same sizes and the same number of steps.

    Returns
    -------
    (EquivalenceReport, list of dict)
        The report and criteria rows; each row also has ``layer``. The
        reference is judged as a run of kind ``reference_kind`` (``"float"``,
        ``"fixed"`` or ``"nir"``), ``result`` by its backend's level.
    """
    missing = [n for n in reference.spikes if n not in result.spikes]
    if missing:
        raise InputError(f"the run has no layer {', '.join(missing)} of the reference; it has "
                         f"{', '.join(result.spikes) or 'none'}")
    for name, train in reference.spikes.items():
        if result.spikes[name].size != train.size:
            raise InputError(f"layer {name!r}: the reference has {train.size} neurons, the run "
                             f"{result.spikes[name].size}")
    if reference.num_steps != result.num_steps:
        raise InputError(f"the reference has {reference.num_steps} steps, the run {result.num_steps}; "
                         "run as many steps as the reference recorded")
    report = compare(reference, result, k=k, tau=tau, populations=list(reference.spikes))
    kinds = (reference_kind, mode_kind(result.backend))
    rows = []
    for name, metrics in report.populations.items():
        sub = dataclasses.replace(report, populations={name: metrics}, states={})
        for row in criteria(sub, program=program, recurrent=recurrent, kinds=kinds):
            if not row["criterion"].startswith(f"{name} "):
                row["criterion"] = f"{name}: {row['criterion']}"
            rows.append({**row, "layer": name})
    return report, rows


def check_reference(graph, reference_path, *, inputs, backends=("numpy",), dt: float | None = None,
                    scheme: str | None = None, reset: str | None = None, timing: str | None = None,
                    profile: str | None = None, semantics: dict | None = None, rename: dict | None = None,
                    latency: dict | None = None, k: int = 1, tau: float | None = None, seed: int = 0,
                    progress: bool = True):
    """Run ``graph`` on each backend with ``inputs`` and judge each run against a reference file.

    Parameters
    ----------
    graph : nir.NIRGraph or Network
    reference_path : str or os.PathLike
        The reference ``.npz`` (module doc); the runs last as many steps as it holds.
    inputs : dict[str, numpy.ndarray]
        Input population -> array ``(steps, n)`` (at least the reference's steps):
        the input the reference was recorded with.
    backends : iterable of str
        Modes to run (default numpy).
    dt, scheme, reset, timing, profile, semantics
        Compile options (:func:`neuroport.compile`); ``timing=None`` takes the
        file's recorded timing or the profile's (``snntorch``: ideal);
        ``semantics`` (e.g. ``{"reset_delay": False}`` for snnTorch,
        ``{"spikes": "single"}`` for Sinabs) are the profile's overrides.
    rename, latency
        See :func:`reference_from_arrays`.
    k, tau
        Spike-matching tolerance (steps) and van Rossum tau (s).

    Returns
    -------
    neuroport.check.CheckReport
        ``reference`` is ``"reference"``; rows per backend and layer (each with ``layer``).

    Examples
    --------
    >>> report = check_reference(graph, "spikes.npz", inputs={"input": x}, profile="snntorch")  # doctest: +SKIP
    >>> report.passed                                                                           # doctest: +SKIP
    True
    """
    from neuroport.api import prepare
    from neuroport.check import CheckReport
    from neuroport.compile import compile as compile_graph

    if hasattr(graph, "to_nir"):
        graph = graph.to_nir()
    options = dict(dt=dt, scheme=scheme, reset=reset, timing=timing, profile=profile)
    base = compile_graph(graph, **options, **({"semantics": semantics} if semantics else {}))
    # with semantics, every backend gets this Program (prepare quantizes it for the fixed ones)
    source, options = (base, {}) if semantics else (graph, options)
    sizes = {n: p.size for n, p in base.populations.items()}
    ref = read_reference(reference_path, populations=sizes, inputs=base.inputs, dt=base.dt, rename=rename,
                         latency=latency)
    steps = ref.num_steps
    run_inputs = {}
    for name in base.inputs:
        if name not in inputs:
            raise InputError(f"input {name!r} is missing; the network's inputs: {', '.join(base.inputs)}")
        x = np.asarray(inputs[name])
        x = x.reshape(x.shape[0], -1) if x.ndim >= 2 else x
        if x.ndim != 2 or x.shape[0] < steps:
            raise InputError(f"input {name!r} has shape {x.shape}; the reference holds {steps} steps: "
                             f"expected ({steps}, {sizes[name]})")
        run_inputs[name] = x[:steps]
    extra = set(inputs) - set(base.inputs)
    if extra:
        raise InputError(f"input {', '.join(sorted(extra))}: not an input of the network "
                         f"({', '.join(base.inputs)}){_suggest(sorted(extra)[0], base.inputs)}")
    report = CheckReport(reference="reference")
    for i, name in enumerate(backends):
        t0 = time.perf_counter()
        pair = f"reference vs {name}"
        try:
            be = registry.get(name)
            be.require_available()
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                program = prepare(source, be, **options)
                result = be.run(program, steps=steps, inputs=run_inputs, progress=False, seed=seed)
            ours = [w for w in seen if type(w.message).__module__.startswith("neuroport")]
            if ours:
                report.notes.append(f"{name}: {len(ours)} warning(s): {ours[0].message}")
        except Exception as exc:  # a backend that cannot run is a FAIL row, not a crash
            report.rows.append({"pair": pair, "criterion": "run", "value": f"{type(exc).__name__}: {exc}",
                                "threshold": "-", "status": "FAIL", "layer": None})
            _say(progress, f"check: [{i + 1}/{len(backends)}] {name}: FAILED ({exc})")
            continue
        report.results[name] = result
        rep, rows = compare_reference(ref, result, k=k, tau=tau, program=base)
        report.reports[name] = rep
        report.rows.extend(rows)
        _say(progress, f"check: [{i + 1}/{len(backends)}] {name}: {time.perf_counter() - t0:.2f} s, "
                       f"{sum(result.spikes[n].count for n in ref.spikes)} spikes in the reference's layers")
    report.results["reference"] = ref
    if ref.meta.get("reference_states"):
        report.notes.append(f"recorded states not compared: {', '.join(ref.meta['reference_states'])}")
    return report


def failing_layers(rows) -> list:
    """``"pair: layer"`` of every failing row (in order, once each)."""
    out = []
    for r in rows:
        if r["status"] == "FAIL":
            label = f"{r['pair']}: {r.get('layer') or r['criterion']}"
            if label not in out:
                out.append(label)
    return out


def plot_overlay(reference: Result, result: Result, path, *, title: str | None = None):
    """Raster of the reference's layers with ``result``'s spikes overlaid, one band per layer.

    Both are first shifted back by their stated latencies (:func:`neuroport.timing.align`).
    Writes a PNG to ``path`` (atomically, :func:`neuroport.plot.save`) and returns the figure.
    """
    from neuroport.plot import raster
    from neuroport.timing import align

    ref, res = align(reference, result)
    layers = list(reference.spikes)
    only = dataclasses.replace(res, spikes={n: res.spikes[n] for n in layers})
    return raster(ref, populations=layers, overlay=only, path=path,
                  title=title or f"reference vs {result.backend}")


def _say(progress: bool, line: str) -> None:
    if progress:
        print(line, file=sys.stderr, flush=True)
