"""NWB (Neurodata Without Borders) export of a Result, and NWB spike times as run input (``pynwb``).

:func:`write_nwb` writes one NWB 2 file that pynwb (and every NWB tool) reads:

* **spikes**: the ``units`` table, one unit per neuron of every population
  (inputs included), ``spike_times`` in seconds (``step * dt``: a spike of
  step ``t`` is at the start of that step), with the columns ``population``
  (its name) and ``neuron`` (index within the population);
* **probed states**: one ``TimeSeries`` per ``population.variable`` in the
  processing module ``neuroport`` (``data`` of shape ``(steps, n)``,
  ``starting_time`` 0 s, ``rate`` ``1 / dt`` Hz), ``unit`` stated: the graph's
  own voltage or current unit for float runs (NIR graphs carry no unit; it is
  written ``"graph units"``), ``"fixed-point integer"`` for numpy-fixed / Lava
  fixed runs;
* **the graph**: the NIR file itself (its HDF5 bytes, so ``nir.read`` gives the
  exact graph back) as the scratch array ``nir_graph`` (``uint8``), and a text
  summary of its nodes and edges plus the run's options (backend, dt, latency)
  as JSON in the scratch text ``neuroport_run``. Scratch data is pynwb's own
  container for data outside the NWB schema (``NWBFile.add_scratch``); a
  ``LabMetaData`` would need a compiled NWB extension (ndx namespace) that
  every reader must install, for a file that NIR already specifies.

The write is atomic (:func:`neuroport.fileutil.atomic_target`): a failed write
leaves an existing file untouched. :func:`read_nwb_spikes` bins a units
table's spike times at ``dt`` into the ``(steps, n)`` array that
:func:`neuroport.run` takes as input.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import uuid
from datetime import datetime, timezone

import numpy as np

from neuroport.errors import BackendUnavailableError, InputError
from neuroport.fileutil import atomic_target

__all__ = ["write_nwb", "read_nwb_spikes", "read_nwb_graph", "STATE_MODULE"]

#: name of the processing module that holds the probed states
STATE_MODULE = "neuroport"
_INSTALL = "pip install 'neuroport[nwb]' (or pip install pynwb)"


def _pynwb():
    try:
        import pynwb
    except ImportError as exc:
        raise BackendUnavailableError(f"NWB export needs pynwb ({exc}); {_INSTALL}") from None
    return pynwb


def _state_unit(result, variable: str) -> str:
    fixed = any(s in str(result.backend) for s in ("fixed", "loihi"))
    if fixed:
        return "fixed-point integer"
    return "graph units"


def _graph_bytes(graph) -> bytes | None:
    if graph is None:
        return None
    if isinstance(graph, (str, os.PathLike)):
        with open(graph, "rb") as handle:
            return handle.read()
    from neuroport.io import write

    if hasattr(graph, "to_nir"):
        graph = graph.to_nir()
    folder = tempfile.mkdtemp(prefix="neuroport-nwb-")
    path = os.path.join(folder, "graph.nir")
    try:
        write(path, graph)
        with open(path, "rb") as handle:
            return handle.read()
    finally:
        try:
            os.unlink(path)
            os.rmdir(folder)
        except OSError:
            pass


def _graph_summary(graph) -> dict | None:
    if graph is None:
        return None
    if isinstance(graph, (str, os.PathLike)):
        from neuroport.io import read

        graph = read(graph)
    if hasattr(graph, "to_nir"):
        graph = graph.to_nir()
    nodes = {name: type(node).__name__ for name, node in getattr(graph, "nodes", {}).items()}
    return {"nodes": nodes, "edges": [list(e) for e in getattr(graph, "edges", [])]}


def write_nwb(result, path, graph=None, *, session_description: str = "neuroport simulation",
              identifier: str | None = None, session_start_time: datetime | None = None) -> None:
    """Write ``result`` as an NWB file at ``path`` (see the module doc for the layout).

    Parameters
    ----------
    result : Result
        A run (spikes of every population; states of the probed ones).
    path : str or os.PathLike
        The ``.nwb`` file to write (replaced atomically).
    graph : nir.NIRGraph, Network, or str / os.PathLike of a ``.nir`` file, optional
        The network that ran: embedded (NIR bytes) and summarised (nodes, edges).
    session_description : str
        NWB's required description of the session.
    identifier : str, optional
        NWB's unique file identifier (default a random UUID).
    session_start_time : datetime, optional
        Default: now (UTC).

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> from neuroport.result import Result, SpikeTrain
    >>> r = Result("numpy", 1e-3, 4, spikes={"p": SpikeTrain(np.array([1, 3]), np.array([0, 1]), 2, 4)})
    >>> path = os.path.join(tempfile.mkdtemp(), "run.nwb")
    >>> write_nwb(r, path)
    >>> read_nwb_spikes(path, dt=1e-3, steps=4).tolist()
    [[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]
    """
    from neuroport.result import require_unbatched

    require_unbatched(result, "write_nwb")
    pynwb = _pynwb()
    from pynwb import NWBFile, NWBHDF5IO, TimeSeries

    if not (isinstance(result.dt, (int, float)) and math.isfinite(result.dt) and result.dt > 0):
        raise InputError(f"write_nwb: the Result's dt is {result.dt!r}; expected a time step > 0 s")
    if not str(session_description).strip():
        raise InputError("write_nwb: session_description is empty; NWB requires a description of the session")
    nwb = NWBFile(session_description=str(session_description), identifier=identifier or str(uuid.uuid4()),
                  session_start_time=session_start_time or datetime.now(timezone.utc),
                  source_script="neuroport", source_script_file_name="neuroport.nwb.write_nwb")
    nwb.add_unit_column(name="population", description="neuroport population (NIR node) of the neuron")
    nwb.add_unit_column(name="neuron", description="index of the neuron within its population")
    dt = float(result.dt)
    for pop, train in result.spikes.items():
        order = np.lexsort((train.steps, train.neurons))
        steps, neurons = train.steps[order], train.neurons[order]
        bounds = np.searchsorted(neurons, np.arange(train.size + 1))
        for n in range(train.size):
            times = steps[bounds[n]:bounds[n + 1]].astype(np.float64) * dt
            nwb.add_unit(spike_times=times, population=str(pop), neuron=int(n))
    if result.states:
        module = nwb.create_processing_module(
            name=STATE_MODULE, description="probed states of the neuroport run, (steps, neurons) per variable")
        for pop, variables in result.states.items():
            for var, arr in variables.items():
                data = np.asarray(arr)
                module.add(TimeSeries(name=f"{pop}.{var}", data=data, unit=_state_unit(result, var),
                                      starting_time=0.0, rate=1.0 / dt,
                                      description=f"state {var!r} of population {pop!r}, shape (steps, neurons)"))
    raw = _graph_bytes(graph)
    if raw is not None:
        nwb.add_scratch(np.frombuffer(raw, dtype=np.uint8), name="nir_graph",
                        description="the NIR graph that ran: the bytes of its .nir (HDF5) file; "
                                    "neuroport.nwb.read_nwb_graph or nir.read on the bytes written to a file")
    from neuroport.result import _meta_json

    run = {"backend": result.backend, "dt_s": dt, "num_steps": int(result.num_steps),
           "meta": json.loads(_meta_json(result.meta)), "graph": _graph_summary(graph)}
    nwb.add_scratch(json.dumps(run), name="neuroport_run",
                    description="the run's backend, dt (s), steps, options and latency, and the graph's nodes "
                                "and edges, as JSON")
    with atomic_target(path, suffix=".nwb") as tmp:
        with NWBHDF5IO(tmp, "w") as io:
            io.write(nwb)
    del pynwb


def read_nwb_spikes(path, *, dt: float, steps: int | None = None, population: str | None = None,
                    start_time: float = 0.0) -> np.ndarray:
    """Spike times of an NWB file's units table binned at ``dt``: an input array ``(steps, n)``.

    Parameters
    ----------
    path : str or os.PathLike
        An NWB file with a ``units`` table (written by :func:`write_nwb` or any NWB tool).
    dt : float
        Time step in s; a spike at time ``t`` goes to step ``floor((t - start_time) / dt)``
        (with a 1e-9 step tolerance, so ``step * dt`` comes back to ``step``).
    steps : int, optional
        Number of steps (default: up to the last spike); spikes at or after
        ``start_time + steps * dt`` are left out.
    population : str, optional
        Only the units whose ``population`` column is this name, ordered by their
        ``neuron`` column (files of :func:`write_nwb`); default every unit in table order.
    start_time : float
        Time in s that becomes step 0; earlier spikes are an error.

    Returns
    -------
    numpy.ndarray of float64, shape ``(steps, n)``
        Spikes per step and unit (counts when several fall in one step).
    """
    _pynwb()
    from pynwb import NWBHDF5IO

    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise InputError(f"read_nwb_spikes: dt = {dt!r}; expected a time step > 0 s")
    if steps is not None and (int(steps) != steps or steps < 1):
        raise InputError(f"read_nwb_spikes: steps = {steps!r}; expected an integer >= 1")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"{path}: no such NWB file")
    try:
        io = NWBHDF5IO(path, "r")
        nwb = io.read()
    except Exception as exc:
        raise InputError(f"{path}: not a readable NWB file ({type(exc).__name__}: {exc})") from None
    try:
        units = nwb.units
        if units is None or len(units) == 0:
            raise InputError(f"{path}: has no units table (no spike times)")
        columns = set(units.colnames)
        rows = list(range(len(units)))
        if population is not None:
            if "population" not in columns:
                raise InputError(f"{path}: the units table has no 'population' column; read all units "
                                 "(population=None)")
            pops = [str(p) for p in units["population"][:]]
            rows = [i for i, p in enumerate(pops) if p == population]
            if not rows:
                known = sorted(set(pops))
                raise InputError(f"{path}: no units of population {population!r}; populations: {', '.join(known)}")
            if "neuron" in columns:
                index = units["neuron"][:]
                rows.sort(key=lambda i: int(index[i]))
        times = [np.asarray(units["spike_times"][i], dtype=np.float64) for i in rows]
    finally:
        io.close()
    bins = []
    for t in times:
        rel = (t - start_time) / dt
        if rel.size and rel.min() < -1e-9:
            raise InputError(f"{path}: a spike at {t.min():g} s is before start_time = {start_time:g} s")
        bins.append(np.floor(rel + 1e-9).astype(np.int64))
    last = max((b.max() for b in bins if b.size), default=-1)
    n_steps = int(steps) if steps is not None else int(last) + 1
    if n_steps < 1:
        raise InputError(f"{path}: the units hold no spikes; give steps= for an empty input")
    out = np.zeros((n_steps, len(rows)))
    for col, b in enumerate(bins):
        b = b[b < n_steps]
        np.add.at(out, (b, np.full(b.size, col)), 1.0)
    return out


def read_nwb_graph(path, out_path):
    """Write the NIR graph embedded by :func:`write_nwb` to ``out_path`` and return it read (``neuroport.read``)."""
    _pynwb()
    from pynwb import NWBHDF5IO
    from neuroport.io import read

    with NWBHDF5IO(os.fspath(path), "r") as io:
        nwb = io.read()
        if "nir_graph" not in nwb.scratch:
            raise InputError(f"{path}: holds no embedded NIR graph (write_nwb(..., graph=...) embeds one)")
        raw = np.asarray(nwb.scratch["nir_graph"].data[:], dtype=np.uint8).tobytes()
    with atomic_target(out_path, suffix=".nir") as tmp:
        with open(tmp, "wb") as handle:
            handle.write(raw)
    return read(out_path)
