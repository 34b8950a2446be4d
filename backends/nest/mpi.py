"""NEST across MPI ranks: the ``mpirun`` launcher, its worker, and the gather of per-rank spikes.

Two ways to run the ``nest`` backend on several MPI processes (docs/nest.md):

* **Launched**: ``NestBackend(ranks=N)`` (``neuroport run --backend nest --ranks N``) writes the
  Program's graph (``job.nir``, with its compile options), the inputs (``inputs.npz``) and the run's
  settings (``job.json``) into a private temporary folder (no pickle: files neuroport reads anywhere), and starts
  ``mpirun -np N PYTHON -m neuroport.backends.nest.mpi JOB FOLDER`` on loopback (:func:`launch`).
  Every rank builds the whole network (NEST creates only its local neurons), simulates, and writes
  the events its recorders saw (its local neurons' spikes and multimeter samples) to
  ``FOLDER/rank<r>.npz`` (arrays, plus a JSON header); the parent merges them into one Result (:func:`merge`). The parent never
  imports NEST, so it may run on the PyPI wheel while the worker ``PYTHON`` (``$NEUROPORT_NEST_PYTHON``,
  e.g. ``.venv-nest-mpi/bin/python`` from ``make nest-mpi``) has the MPI build.
* **Under the user's own mpirun**: ``mpirun -np N python script.py`` where the script calls
  ``neuroport.run(..., backend="nest")``: the backend sees ``nest.NumProcesses() > 1``, runs in process
  on every rank and gathers through files in a folder all ranks agree on (:func:`gather_in_job`,
  one machine or a shared file system), so every rank returns the same whole Result.

Random draws: NEST seeds one random stream per virtual process (ranks x threads); keep that product
constant (``NestBackend(virtual_processes=...)``) and 1 x 2 and 2 x 1 give the same draws. The
models lowered here draw no random numbers, so their spikes do not depend on it at all.
"""

from __future__ import annotations

import glob
import os
import json
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from neuroport import errors
from neuroport.errors import BackendError, BackendUnavailableError, NeuroportError
from neuroport.fileutil import atomic_target
from neuroport.program import OPTION_NAMES

#: Environment variable naming the Python (with an MPI NEST) that runs the ranks; default this Python.
PYTHON_ENV = "NEUROPORT_NEST_PYTHON"
#: Environment variable naming the mpirun executable (default ``mpirun`` on PATH).
MPIRUN_ENV = "NEUROPORT_MPIRUN"
#: Environment variable naming the folder for the per-rank files when the script itself runs under mpirun.
GATHER_ENV = "NEUROPORT_NEST_GATHER_DIR"
BUILD_HINT = ("build NEST with MPI with `make nest-mpi` (docs/nest.md; it installs .venv-nest-mpi) and point "
              f"${PYTHON_ENV} at .venv-nest-mpi/bin/python (or run .venv-nest-mpi/bin/neuroport)")
#: Open MPI options: ranks talk over loopback only (no other interface is opened)
LOOPBACK = ("--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo")
# environment variables that mark a process started by mpirun (Open MPI, PMIx, MPICH/Hydra)
_MPI_SIZE_VARS = ("OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE")


def mpi_world_size_from_env() -> int:
    """The rank count this process was started with by ``mpirun`` (from its environment), else 1."""
    for var in _MPI_SIZE_VARS:
        text = os.environ.get(var, "")
        if text.isdigit():
            return int(text)
    return 1


def worker_python(python: str | None) -> str:
    """The interpreter that runs the ranks: ``python``, else ``$NEUROPORT_NEST_PYTHON``, else this one."""
    chosen = python or os.environ.get(PYTHON_ENV) or sys.executable
    path = shutil.which(chosen) if os.sep not in chosen else chosen
    if not path or not os.access(path, os.X_OK):
        raise BackendUnavailableError(f"backend 'nest': the worker Python {chosen!r} (argument python or "
                                      f"${PYTHON_ENV}) is not an executable; {BUILD_HINT}")
    return path


def find_mpirun() -> str:
    """The ``mpirun`` to launch ranks with; :class:`BackendUnavailableError` naming ``make nest-mpi``."""
    chosen = os.environ.get(MPIRUN_ENV) or "mpirun"
    path = shutil.which(chosen)
    if not path:
        raise BackendUnavailableError(f"backend 'nest': ranks > 1 need Open MPI's mpirun, and {chosen!r} is not "
                                      f"on PATH; {BUILD_HINT} (it apt-installs openmpi-bin)")
    return path


def _mpirun_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "PMI_"))}
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # Open MPI refuses root unless told twice
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env.setdefault("PYNEST_QUIET", "1")
    return env


def launch(program, *, steps: int, inputs: dict, probes: list, seed: int, ranks: int, threads: int,
           python: str | None = None, timeout_s: float | None = None) -> list:
    """Run the simulation on ``ranks`` MPI processes x ``threads`` threads; the per-rank parts (:func:`merge`).

    Raises
    ------
    BackendUnavailableError
        no ``mpirun``, or the worker's NEST has no MPI (the message names ``make nest-mpi``).
    NeuroportError
        the worker's own refusal (e.g. :class:`UnsupportedNodeError`), re-raised here unchanged.
    BackendError
        ``mpirun`` failed otherwise (its last output lines are in the message).
    """
    mpirun = find_mpirun()
    python = worker_python(python)
    with tempfile.TemporaryDirectory(prefix="neuroport-nest-mpi-") as folder:
        job = write_job(folder, program, steps=steps, inputs=inputs, probes=probes, seed=seed, ranks=ranks,
                        threads=threads)
        cmd = [mpirun, "-np", str(ranks), "--oversubscribe", "--bind-to", "none", *LOOPBACK,
               python, "-m", "neuroport.backends.nest.mpi", job, folder]
        try:
            proc = subprocess.run(cmd, env=_mpirun_env(), capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise BackendError(f"nest on {ranks} MPI ranks did not finish within {timeout_s} s") from None
        for path in sorted(glob.glob(os.path.join(folder, "error.*.json"))):
            raise read_error(path)
        output = proc.stdout + proc.stderr
        if proc.returncode != 0 and "not compiled with MPI" in output:  # NEST exits on import under mpirun
            raise BackendUnavailableError(f"backend 'nest': ranks={ranks} need a NEST built with MPI; the NEST of "
                                          f"{python} has none (the PyPI wheel never has); {BUILD_HINT}")
        if proc.returncode != 0:
            tail = "\n".join(output.strip().splitlines()[-12:])
            raise BackendError(f"nest on {ranks} MPI ranks: mpirun exited with {proc.returncode}:\n{tail}")
        parts = []
        for rank in range(ranks):
            path = os.path.join(folder, f"rank{rank}.npz")
            if not os.path.exists(path):
                raise BackendError(f"nest on {ranks} MPI ranks: rank {rank} wrote no result ({path})")
            parts.append(read_part(path))
    return parts


def write_job(folder: str, program, *, steps: int, inputs: dict, probes, seed: int, ranks: int,
              threads: int) -> str:
    """The job's files in ``folder``: ``job.nir`` (the Program's graph with its compile options),
    ``inputs.npz`` (one array ``(steps, n)`` per input population) and ``job.json`` (steps, probes,
    seed, ranks, threads); returns the path of ``job.json``. The worker compiles the graph again with
    the same options (:func:`read_job`): the same Program, since compiling is deterministic."""
    from neuroport.io import write

    options = {k: program.options[k] for k in OPTION_NAMES if k in program.options}
    options["probes"] = [list(p) for p in program.probes]
    _require_recompilable(program, options)
    write(os.path.join(folder, "job.nir"), program.graph, options={k: options[k] for k in OPTION_NAMES if k in options})
    with atomic_target(os.path.join(folder, "inputs.npz")) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **{str(k): np.asarray(v) for k, v in inputs.items()})
    path = os.path.join(folder, "job.json")
    with atomic_target(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"options": options, "steps": int(steps), "probes": [list(p) for p in probes],
                       "seed": int(seed), "ranks": int(ranks), "threads": int(threads)}, fh)
    return path


def _compile(graph, options: dict):
    """The Program of ``graph`` with a job's options (``probes`` as lists)."""
    from neuroport.compile import compile as compile_graph

    opts = dict(options)
    probes = tuple(tuple(p) for p in opts.pop("probes", ()))
    return compile_graph(graph, probes=probes, **opts)


def _require_recompilable(program, options: dict) -> None:
    """Refuse a Program the ranks could not rebuild from its graph (one changed after compiling, e.g. new
    weights through ``Program.replace``): every population and projection must come out the same."""
    again = _compile(program.graph, options)
    same = [(n, p.size) for n, p in program.populations.items()] == [(n, p.size) for n, p in again.populations.items()]
    same = same and len(program.projections) == len(again.projections)
    for a, b in zip(program.projections, again.projections) if same else ():
        wa, wb = a.weights.tocsr(), b.weights.tocsr()
        same = (a.name, a.pre, a.post, a.port) == (b.name, b.pre, b.post, b.port) and wa.shape == wb.shape \
            and np.array_equal(wa.indptr, wb.indptr) and np.array_equal(wa.indices, wb.indices) \
            and np.array_equal(wa.data, wb.data) and np.array_equal(a.delays, b.delays)
        if not same:
            break
    if not same:
        raise BackendError("nest on MPI ranks: the ranks rebuild the Program from its graph (compile(graph, ...)), "
                           "and this Program differs from what its graph compiles to (changed after compiling?); "
                           "put the change into the graph (neuroport.Network / the NIR nodes) and compile that")


def read_job(path: str) -> dict:
    """:func:`write_job`'s files as ``{"program", "inputs", "steps", "probes", "seed", "ranks", "threads"}``."""
    from neuroport.io import read

    folder = os.path.dirname(path)
    with open(path, encoding="utf-8") as fh:
        job = json.load(fh)
    job["program"] = _compile(read(os.path.join(folder, "job.nir")), job.pop("options"))
    with np.load(os.path.join(folder, "inputs.npz"), allow_pickle=False) as data:
        job["inputs"] = {k: data[k] for k in data.files}
    job["probes"] = [tuple(p) for p in job["probes"]]
    return job


def write_part(folder: str, name: str, part: dict) -> None:
    """One rank's part (:func:`neuroport.backends.nest.backend.simulate`) as ``folder/name``, an ``.npz``
    of its event arrays plus a JSON header for the rest, written atomically (a reader never sees half a file)."""
    arrays, spikes, states = {}, [], []
    for k, (name_, (times, senders)) in enumerate(part["spikes"].items()):
        spikes.append(name_)
        arrays[f"spikes{k}_times"], arrays[f"spikes{k}_senders"] = times, senders
    for k, (key, (times, senders, values)) in enumerate(part["states"].items()):
        states.append(list(key))
        arrays[f"states{k}_times"], arrays[f"states{k}_senders"], arrays[f"states{k}_values"] = times, senders, values
        arrays[f"states{k}_factor"] = np.asarray(part["factors"][key], dtype=np.float64)
    header = {k: v for k, v in part.items() if k not in ("spikes", "states", "factors")}
    header["first_id"] = {str(k): int(v) for k, v in header["first_id"].items()}
    header.update(spike_names=spikes, state_keys=states)
    arrays["header"] = np.array(json.dumps(header, default=_json_scalar))
    with atomic_target(os.path.join(folder, name)) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def read_part(path: str) -> dict:
    """:func:`write_part`'s file as the part it wrote."""
    with np.load(path, allow_pickle=False) as data:
        part = json.loads(str(data["header"]))
        part["spikes"] = {name: (data[f"spikes{k}_times"], data[f"spikes{k}_senders"])
                          for k, name in enumerate(part.pop("spike_names"))}
        keys = [tuple(key) for key in part.pop("state_keys")]
        part["states"] = {key: (data[f"states{k}_times"], data[f"states{k}_senders"], data[f"states{k}_values"])
                          for k, key in enumerate(keys)}
        part["factors"] = {key: data[f"states{k}_factor"] for k, key in enumerate(keys)}
    return part


def _json_scalar(value):
    """numpy scalars (and 0-d arrays) in a part's header as plain Python numbers."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def write_error(folder: str, exc: BaseException) -> None:
    """A rank's failure as ``folder/error.<pid>.json``: the neuroport error class's name and its message."""
    kind = type(exc).__name__ if isinstance(exc, NeuroportError) else "BackendError"
    message = str(exc) if isinstance(exc, NeuroportError) else f"nest failed on an MPI rank: {type(exc).__name__}: {exc}"
    with atomic_target(os.path.join(folder, f"error.{os.getpid()}.json")) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"type": kind, "message": message}, fh)


def read_error(path: str) -> NeuroportError:
    """:func:`write_error`'s file as the error to raise: the same neuroport class (BackendError if unknown)."""
    with open(path, encoding="utf-8") as fh:
        record = json.load(fh)
    cls = getattr(errors, str(record.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, NeuroportError)):
        cls = BackendError
    return cls(str(record.get("message", "")))


def merge(parts: list) -> dict:
    """One rank's part from all ranks' parts: events concatenated, the rest taken from rank 0.

    A part is ``{"spikes": {pop: (times_ms, senders)}, "states": {(pop, var): (times_ms, senders,
    values)}, ...}``; each rank recorded only its local neurons, so concatenation loses nothing.
    """
    parts = sorted(parts, key=lambda p: p["rank"])
    out = dict(parts[0])
    out["spikes"] = {name: tuple(np.concatenate([p["spikes"][name][i] for p in parts]) for i in range(2))
                     for name in parts[0]["spikes"]}
    out["states"] = {key: tuple(np.concatenate([p["states"][key][i] for p in parts]) for i in range(3))
                     for key in parts[0]["states"]}
    out["wall"] = max(p["wall"] for p in parts)
    out["build_time"] = max(p["build_time"] for p in parts)
    out["num_processes"] = len(parts)
    return out


_RUNS_IN_JOB = [0]


def gather_in_job(nest, part: dict) -> dict:
    """All ranks' parts merged, on every rank of a job started by the user's own ``mpirun``.

    The ranks agree on a folder without communicating: ``$NEUROPORT_NEST_GATHER_DIR`` or the system's
    temporary folder, named after the MPI job's id and the number of runs so far (every rank runs the
    same script). Each rank writes its part, waits for all (``nest.SyncProcesses``), reads all, waits
    again, and rank 0 removes the folder. Ranks on several machines need a shared ``$NEUROPORT_NEST_GATHER_DIR``.
    """
    job = next((os.environ[v] for v in ("OMPI_MCA_orte_ess_jobid", "OMPI_MCA_ess_base_jobid", "PMIX_NAMESPACE",
                                        "PMI_JOBID", "SLURM_JOB_ID") if os.environ.get(v)), None)
    if job is None:
        raise BackendError("nest runs on several MPI ranks but this process's environment names no MPI job id "
                           "(OMPI_MCA_orte_ess_jobid / PMIX_NAMESPACE); launch with NestBackend(ranks=N) instead")
    _RUNS_IN_JOB[0] += 1
    base = os.environ.get(GATHER_ENV) or tempfile.gettempdir()
    folder = os.path.join(base, f"neuroport-nest-{re.sub(r'[^A-Za-z0-9_.-]', '_', job)}-{_RUNS_IN_JOB[0]}")
    os.makedirs(folder, exist_ok=True)
    rank, size = part["rank"], nest.NumProcesses()
    write_part(folder, f"rank{rank}.npz", part)
    nest.SyncProcesses()
    parts = [read_part(os.path.join(folder, f"rank{r}.npz")) for r in range(size)]
    nest.SyncProcesses()
    if rank == 0:
        shutil.rmtree(folder, ignore_errors=True)
    return merge(parts)


def main(argv=None) -> int:
    """Worker entry (one per rank): ``python -m neuroport.backends.nest.mpi JOB.json FOLDER``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m neuroport.backends.nest.mpi JOB.json FOLDER (started by NestBackend(ranks=N))",
              file=sys.stderr)
        return 2
    job_path, folder = args
    from neuroport.backends.nest import _compat
    from neuroport.backends.nest.backend import simulate

    try:
        job = read_job(job_path)
        nest = _compat.nest()
        size = nest.NumProcesses()
        if not _compat.have_mpi(nest) or size != job["ranks"]:
            raise BackendUnavailableError(
                f"backend 'nest': mpirun started {job['ranks']} ranks but the worker's NEST "
                f"({sys.executable}) sees {size} process(es) (MPI: {_compat.have_mpi(nest)}); this NEST has no "
                f"MPI; {BUILD_HINT}")
        part = simulate(nest, job["program"], steps=job["steps"], inputs=job["inputs"], probes=job["probes"],
                        seed=job["seed"], threads=job["threads"])
        write_part(folder, f"rank{part['rank']}.npz", part)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent as an exception
        write_error(folder, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
