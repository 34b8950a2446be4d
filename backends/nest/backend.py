"""The NEST backend (mode ``nest``, level ``nir``): the graph's continuous-time models on NEST.

It builds NEST neurons, ``spike_generator`` inputs, ``static_synapse`` (and
``tsodyks2_synapse`` for depression) connections, ``spike_recorder`` and
``multimeter`` probes from the graph's
continuous-time parameters (:mod:`neuroport.backends.nest.lowering`), lets
NEST integrate them (exactly for ``iaf_psc_delta`` / ``iaf_psc_exp``, with
GSL's adaptive Runge-Kutta for the conductance and ``aeif`` models, whatever
the Program's ``scheme``), and returns the common
:class:`~neuroport.result.Result`. NEST's kernel is global: every run starts
with ``ResetKernel``. Across MPI ranks: :mod:`neuroport.backends.nest.mpi`.
See ``docs/nest.md``.
"""

from __future__ import annotations

import os
import time

import numpy as np

from neuroport.backend import Backend, all_probes, check_steps, normalize_inputs
from neuroport.backends.nest import _compat, mpi
from neuroport.backends.nest.lowering import check_dt, lower, tics_per_ms
from neuroport.errors import BackendError, CompileError, InputError, NeuroportError
from neuroport.program import FixedProgram
from neuroport.result import Result, SpikeTrain

#: Environment variable read when ``local_num_threads`` is not given (``neuroport.run(..., backend="nest")``).
THREADS_ENV = "NEUROPORT_NEST_THREADS"
#: Environment variable read when ``ranks`` is not given.
RANKS_ENV = "NEUROPORT_NEST_RANKS"


def _positive_int(value, what: str) -> int:
    """``value`` (an int, or the digits of one) as a positive ``int``; :class:`InputError` otherwise."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise InputError(f"nest {what}: expected a positive integer, got {value!r}")
    return int(text)


class NestBackend(Backend):
    """Run a Program's graph on NEST: in this process (threads), or across MPI ranks (docs/nest.md).

    Parameters
    ----------
    local_num_threads : int, optional
        NEST's threads per process (default ``$NEUROPORT_NEST_THREADS``, else 1; or
        ``virtual_processes // ranks``).
    ranks : int, optional
        MPI processes (default ``$NEUROPORT_NEST_RANKS``, else 1). ``ranks > 1`` starts
        ``mpirun -np ranks`` on loopback with the worker :mod:`neuroport.backends.nest.mpi`, whose
        Python needs a NEST built with MPI (``make nest-mpi``; ``python`` below); refused with
        :class:`BackendUnavailableError` when ``mpirun`` is missing or that NEST has no MPI. A script
        started by the user's own ``mpirun`` keeps ``ranks=1``: the backend finds the rank count
        from NEST and every rank returns the whole Result.
    virtual_processes : int, optional
        ``ranks x local_num_threads``, the number of NEST's random streams: give it (instead of
        ``local_num_threads``) to keep the draws identical between, e.g., 1 x 2 and 2 x 1.
    python : str, optional
        The interpreter of the ranks (default ``$NEUROPORT_NEST_PYTHON``, else this one), e.g.
        ``.venv-nest-mpi/bin/python``. Given explicitly, even ``ranks=1`` runs through ``mpirun``.
    timeout_s : float, optional
        Wall-clock limit (s) of one ``mpirun``; :class:`BackendError` when exceeded (default none).

    Spike trains do not depend on ranks or threads: every model lowered here is deterministic.

    Examples
    --------
    >>> r = neuroport.run(graph, backend="nest", dt=1e-4, steps=1000, inputs=x)  # doctest: +SKIP
    >>> r = NestBackend(ranks=2, virtual_processes=2).run(program, steps=1000)  # doctest: +SKIP
    """

    name = "nest"
    level = "nir"
    install_hint = _compat.INSTALL_HINT
    timings = ("hardware",)  # NEST has no zero delay: every connection waits at least one step
    #: NEST integrates exactly whatever the Program's scheme: compare it with numpy's scheme="exact"
    schemes = ("exact",)

    def __init__(self, *, local_num_threads: int | None = None, ranks: int | None = None,
                 virtual_processes: int | None = None, python: str | None = None, timeout_s: float | None = None):
        if ranks is None:
            ranks, what = os.environ.get(RANKS_ENV, "1"), f"ranks (${RANKS_ENV})"
        else:
            what = "ranks"
        self.ranks = _positive_int(ranks, what)
        if virtual_processes is not None:
            vp = _positive_int(virtual_processes, "virtual_processes")
            if local_num_threads is not None or vp % self.ranks:
                raise InputError(f"nest virtual_processes={vp} with ranks={self.ranks}: give either "
                                 "local_num_threads or virtual_processes, a multiple of ranks")
            local_num_threads, what = vp // self.ranks, "virtual_processes"
        elif local_num_threads is None:
            local_num_threads = os.environ.get(THREADS_ENV, "1")
            what = f"threads (${THREADS_ENV})"
        else:
            what = "local_num_threads"
        self.local_num_threads = _positive_int(local_num_threads, what)
        self.python = None if python is None else str(python)
        self.timeout_s = timeout_s

    def available(self) -> tuple[bool, str]:
        return _compat.available()

    def run(self, program, *, steps: int, inputs=None, probes=(), progress=None, seed: int = 0) -> Result:
        if isinstance(program, FixedProgram):
            raise CompileError("backend 'nest' needs the float Program (it reads program.graph); "
                               "it was given a quantized one")
        timing = program.options.get("timing", "hardware")
        if timing not in self.timings:
            raise CompileError(f"backend 'nest' runs timing 'hardware' only, not {timing!r}: NEST connections "
                               "have a delay of at least one step; compile with timing='hardware'")
        steps = check_steps(steps)
        ins = normalize_inputs(program, inputs, steps)
        prb = all_probes(program, probes)
        dt = float(program.dt)
        dt_ms = check_dt(dt)
        in_job = mpi.mpi_world_size_from_env()
        if self.ranks > 1 or self.python is not None:
            if in_job > 1:
                raise InputError(f"backend 'nest': ranks={self.ranks}: this process already runs under mpirun "
                                 f"({in_job} ranks); either let mpirun start the ranks (leave ranks=1) or "
                                 "call NestBackend(ranks=N) from a plain process")
            part = mpi.merge(mpi.launch(program, steps=steps, inputs=ins, probes=prb, seed=seed, ranks=self.ranks,
                                        threads=self.local_num_threads, python=self.python,
                                        timeout_s=self.timeout_s))
        else:
            self.require_available()
            nest = _compat.nest()
            part = simulate(nest, program, steps=steps, inputs=ins, probes=prb, seed=seed,
                            threads=self.local_num_threads)
            if nest.NumProcesses() > 1:  # the user's script runs under mpirun: gather every rank's part
                part = mpi.gather_in_job(nest, part)
        trains, states = collect(program, part, ins, steps, dt_ms, prb)
        meta = {"level": "nir", **dict(program.options), "integrator": "NEST (exact / GSL RK45 per model)",
                "nest_models": dict(part["models"]), "local_num_threads": self.local_num_threads,
                "ranks": part["num_processes"], "virtual_processes": part["num_processes"] * self.local_num_threads,
                "build_time": part["build_time"], "n_synapses": part["n_synapses"],
                "late_synapses": part["late_synapses"], "nest_version": part["nest_version"],
                "nest_have_mpi": part["have_mpi"]}
        return Result(self.name, dt, steps, trains, states, {}, part["wall"], meta)


def simulate(nest, program, *, steps: int, inputs: dict, probes: list, seed: int, threads: int) -> dict:
    """Build and run the Program on this NEST process; the events its recorders saw (this rank's neurons).

    Returns ``{"rank", "num_processes", "spikes": {pop: (times_ms (n,), senders (n,))}, "states":
    {(pop, var): (times_ms (n,), senders (n,), values (n,))}, "first_id", "factors", "models",
    "n_synapses", "late_synapses", "wall", "build_time" (s), "nest_version", "have_mpi"}``;
    :func:`collect` turns it (or :func:`neuroport.backends.nest.mpi.merge` of several) into trains.
    """
    dt_ms = check_dt(float(program.dt))
    try:
        t_build = time.perf_counter()
        nest.ResetKernel()
        _compat.quiet(nest)
        nest.SetKernelStatus({"tics_per_ms": int(tics_per_ms(float(program.dt))), "resolution": dt_ms,
                              "local_num_threads": threads,
                              "rng_seed": int(seed) % (2 ** 31 - 2) + 1, "print_time": False})
        lowered = lower(nest, program, steps=steps, inputs=inputs, probes=probes)
        t0 = time.perf_counter()
        nest.Simulate(dt_ms)  # the frozen step before step 0 (lowering's docstring)
        for pop in lowered.populations.values():
            pop.set(frozen=False)
        nest.Simulate((steps + 1) * dt_ms)
        wall = time.perf_counter() - t0
        spikes = {}
        for name, rec in lowered.recorders.items():
            ev = rec.get("events")
            spikes[name] = (np.asarray(ev["times"], dtype=np.float64), np.asarray(ev["senders"], dtype=np.int64))
        states = {}
        for key, (mm, recordable, _factor) in lowered.multimeters.items():
            ev = mm.get("events")
            states[key] = (np.asarray(ev["times"], dtype=np.float64), np.asarray(ev["senders"], dtype=np.int64),
                           np.asarray(ev[recordable], dtype=np.float64))
    except NeuroportError:
        raise
    except Exception as exc:  # NEST's own errors (nest.NESTError...), wrapped with the backend's name
        raise BackendError(f"nest failed: {type(exc).__name__}: {exc}") from exc
    return {"rank": int(nest.Rank()), "num_processes": int(nest.NumProcesses()), "spikes": spikes, "states": states,
            "first_id": dict(lowered.first_id),
            "factors": {key: np.asarray(f, dtype=np.float64) for key, (_m, _r, f) in lowered.multimeters.items()},
            "models": dict(lowered.models), "n_synapses": lowered.n_synapses, "late_synapses": lowered.late_synapses,
            "wall": wall, "build_time": t0 - t_build, "nest_version": getattr(nest, "__version__", "?"),
            "have_mpi": _compat.have_mpi(nest)}


def _steps_of(times_ms: np.ndarray, dt_ms: float) -> np.ndarray:
    """neuroport step of each NEST event time (ms): NEST's ``T`` is step ``T / dt - 2`` (lowering docstring)."""
    return np.rint(times_ms / dt_ms).astype(np.int64) - 2


def collect(program, part: dict, inputs: dict, steps: int, dt_ms: float, probes) -> tuple:
    """``(trains, states)`` of the Result from a :func:`simulate` part (all ranks' events merged)."""
    trains = {}
    for name, pop in program.populations.items():
        if pop.is_input:
            x = inputs.get(name, np.zeros((steps, pop.size)))
            trains[name] = SpikeTrain.from_dense(x == 1)
        elif name in part["spikes"]:
            times, senders = part["spikes"][name]
            st, nr = _steps_of(times, dt_ms), senders - part["first_id"][name]
            keep = (st >= 0) & (st < steps)
            st, nr = st[keep], nr[keep]
            order = np.lexsort((nr, st))
            trains[name] = SpikeTrain(st[order], nr[order], pop.size, steps)
        else:
            trains[name] = SpikeTrain(np.zeros(0, np.int64), np.zeros(0, np.int64), pop.size, steps)
    states = {}
    for pop_name, var in probes:
        pop = program.populations[pop_name]
        if pop.is_input:
            arr = np.asarray(inputs[pop_name], dtype=np.float64).copy()
        else:
            times, senders, values = part["states"][(pop_name, var)]
            st, nr = _steps_of(times, dt_ms), senders - part["first_id"][pop_name]
            arr = np.full((steps, pop.size), np.nan)
            keep = (st >= 0) & (st < steps)
            arr[st[keep], nr[keep]] = values[keep]
            if np.isnan(arr).any():
                raise BackendError(f"nest recorded {int(np.sum(~np.isnan(arr)))} of {arr.size} values of "
                                   f"{pop_name}.{var}, expected one per step and neuron")
            arr *= part["factors"][(pop_name, var)][None, :]
        states.setdefault(pop_name, {})[var] = arr
    return trains, states
