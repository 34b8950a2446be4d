"""NEST across MPI ranks: the ``mpirun`` launcher, its worker, and the gather of per-rank spikes.

Two ways to run the ``nest`` backend on several MPI processes (docs/nest.md):

* **Launched**: ``NestBackend(ranks=N)`` (``neuroport run --backend nest --ranks N``) pickles the
  Program, inputs and probes into a private temporary folder and starts
  ``mpirun -np N PYTHON -m neuroport.backends.nest.mpi JOB FOLDER`` on loopback (:func:`launch`).
  Every rank builds the whole network (NEST creates only its local neurons), simulates, and writes
  the events its recorders saw (its local neurons' spikes and multimeter samples) to
  ``FOLDER/rank<r>.pkl``; the parent merges them into one Result (:func:`merge`). The parent never
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
import pickle
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from neuroport.errors import BackendError, BackendUnavailableError, NeuroportError
from neuroport.fileutil import atomic_target

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
        job = os.path.join(folder, "job.pkl")
        with open(job, "wb") as fh:
            pickle.dump({"program": program, "steps": steps, "inputs": inputs, "probes": list(probes),
                         "seed": seed, "ranks": ranks, "threads": threads}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        cmd = [mpirun, "-np", str(ranks), "--oversubscribe", "--bind-to", "none", *LOOPBACK,
               python, "-m", "neuroport.backends.nest.mpi", job, folder]
        try:
            proc = subprocess.run(cmd, env=_mpirun_env(), capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise BackendError(f"nest on {ranks} MPI ranks did not finish within {timeout_s} s") from None
        for path in sorted(glob.glob(os.path.join(folder, "error.*.pkl"))):
            with open(path, "rb") as fh:
                raise pickle.load(fh)
        output = proc.stdout + proc.stderr
        if proc.returncode != 0 and "not compiled with MPI" in output:  # NEST exits on import under mpirun
            raise BackendUnavailableError(f"backend 'nest': ranks={ranks} need a NEST built with MPI; the NEST of "
                                          f"{python} has none (the PyPI wheel never has); {BUILD_HINT}")
        if proc.returncode != 0:
            tail = "\n".join(output.strip().splitlines()[-12:])
            raise BackendError(f"nest on {ranks} MPI ranks: mpirun exited with {proc.returncode}:\n{tail}")
        parts = []
        for rank in range(ranks):
            path = os.path.join(folder, f"rank{rank}.pkl")
            if not os.path.exists(path):
                raise BackendError(f"nest on {ranks} MPI ranks: rank {rank} wrote no result ({path})")
            with open(path, "rb") as fh:
                parts.append(pickle.load(fh))
    return parts


def write_part(folder: str, name: str, obj) -> None:
    """Pickle ``obj`` to ``folder/name`` atomically (a reader never sees half a file)."""
    with atomic_target(os.path.join(folder, name)) as tmp:
        with open(tmp, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)


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
    write_part(folder, f"rank{rank}.pkl", part)
    nest.SyncProcesses()
    parts = []
    for r in range(size):
        with open(os.path.join(folder, f"rank{r}.pkl"), "rb") as fh:
            parts.append(pickle.load(fh))
    nest.SyncProcesses()
    if rank == 0:
        shutil.rmtree(folder, ignore_errors=True)
    return merge(parts)


def main(argv=None) -> int:
    """Worker entry (one per rank): ``python -m neuroport.backends.nest.mpi JOB.pkl FOLDER``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m neuroport.backends.nest.mpi JOB.pkl FOLDER (started by NestBackend(ranks=N))",
              file=sys.stderr)
        return 2
    job_path, folder = args
    from neuroport.backends.nest import _compat
    from neuroport.backends.nest.backend import simulate

    try:
        with open(job_path, "rb") as fh:
            job = pickle.load(fh)
        nest = _compat.nest()
        size = nest.NumProcesses()
        if not _compat.have_mpi(nest) or size != job["ranks"]:
            raise BackendUnavailableError(
                f"backend 'nest': mpirun started {job['ranks']} ranks but the worker's NEST "
                f"({sys.executable}) sees {size} process(es) (MPI: {_compat.have_mpi(nest)}); this NEST has no "
                f"MPI; {BUILD_HINT}")
        part = simulate(nest, job["program"], steps=job["steps"], inputs=job["inputs"], probes=job["probes"],
                        seed=job["seed"], threads=job["threads"])
        write_part(folder, f"rank{part['rank']}.pkl", part)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent as an exception
        if not isinstance(exc, NeuroportError):
            exc = BackendError(f"nest failed on an MPI rank: {type(exc).__name__}: {exc}")
        try:
            write_part(folder, f"error.{os.getpid()}.pkl", exc)
        except Exception:  # noqa: BLE001 - an unpicklable exception: send its text
            write_part(folder, f"error.{os.getpid()}.pkl", BackendError(f"{type(exc).__name__}: {exc}"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
