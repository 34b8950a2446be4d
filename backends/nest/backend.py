"""The NEST backend (mode ``nest``, level ``nir``): the graph's continuous-time models on NEST.

It builds NEST neurons, ``spike_generator`` inputs, ``static_synapse``
connections, ``spike_recorder`` and ``multimeter`` probes from the graph's
continuous-time parameters (:mod:`neuroport.backends.nest.lowering`), lets
NEST integrate them (exactly for ``iaf_psc_delta`` / ``iaf_psc_exp``, with
GSL's adaptive Runge-Kutta for the conductance and ``aeif`` models, whatever
the Program's ``scheme``), and returns the common
:class:`~neuroport.result.Result`. NEST's kernel is global: every run starts
with ``ResetKernel``. See ``docs/nest.md``.
"""

from __future__ import annotations

import os
import time

import numpy as np

from neuroport.backend import Backend, all_probes, check_steps, normalize_inputs
from neuroport.backends.nest import _compat
from neuroport.backends.nest.lowering import check_dt, lower
from neuroport.errors import BackendError, BackendUnavailableError, CompileError, InputError, NeuroportError
from neuroport.program import FixedProgram
from neuroport.result import Result, SpikeTrain

#: Environment variable read when ``local_num_threads`` is not given (``neuroport.run(..., backend="nest")``).
THREADS_ENV = "NEUROPORT_NEST_THREADS"


def _positive_int(value, what: str) -> int:
    """``value`` (an int, or the digits of one) as a positive ``int``; :class:`InputError` otherwise."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise InputError(f"nest {what}: expected a positive integer, got {value!r}")
    return int(text)


class NestBackend(Backend):
    """Run a Program's graph on NEST (the PyPI wheel ``nest-simulator``).

    Parameters
    ----------
    local_num_threads : int, optional
        NEST's threads on this process (default ``$NEUROPORT_NEST_THREADS``, else 1). Spike trains do not
        depend on it (every model here is deterministic).
    ranks : int
        MPI processes. Only 1 is supported: the PyPI wheel has no MPI, and launching ranks is not part of
        this backend yet; ``ranks > 1`` is refused with the reason.

    Examples
    --------
    >>> r = neuroport.run(graph, backend="nest", dt=1e-4, steps=1000, inputs=x)  # doctest: +SKIP
    """

    name = "nest"
    level = "nir"
    install_hint = _compat.INSTALL_HINT
    timings = ("hardware",)  # NEST has no zero delay: every connection waits at least one step
    #: NEST integrates exactly whatever the Program's scheme: compare it with numpy's scheme="exact"
    schemes = ("exact",)

    def __init__(self, *, local_num_threads: int | None = None, ranks: int = 1):
        if local_num_threads is None:
            local_num_threads = os.environ.get(THREADS_ENV, "1")
            what = f"threads (${THREADS_ENV})"
        else:
            what = "local_num_threads"
        self.local_num_threads = _positive_int(local_num_threads, what)
        self.ranks = _positive_int(ranks, "ranks")

    def available(self) -> tuple[bool, str]:
        return _compat.available()

    def _check_ranks(self, nest) -> None:
        if self.ranks == 1:
            return
        if not _compat.have_mpi(nest):
            raise BackendUnavailableError(
                f"backend 'nest': ranks={self.ranks} needs a NEST built with MPI; this NEST "
                f"({getattr(nest, '__version__', '?')}) has none (the PyPI wheel never has). Use "
                "local_num_threads for parallelism on one machine")
        raise BackendUnavailableError(f"backend 'nest': ranks={self.ranks}: running across MPI ranks is not "
                                      "implemented in this backend yet; use local_num_threads")

    def run(self, program, *, steps: int, inputs=None, probes=(), progress=None, seed: int = 0) -> Result:
        self.require_available()
        nest = _compat.nest()
        self._check_ranks(nest)
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
        try:
            t_build = time.perf_counter()
            nest.ResetKernel()
            _compat.quiet(nest)
            nest.SetKernelStatus({"resolution": dt_ms, "local_num_threads": self.local_num_threads,
                                  "rng_seed": int(seed) % (2 ** 31 - 2) + 1, "print_time": False})
            lowered = lower(nest, program, steps=steps, inputs=ins, probes=prb)
            t0 = time.perf_counter()
            nest.Simulate(dt_ms)  # the frozen step before step 0 (lowering's docstring)
            for pop in lowered.populations.values():
                pop.set(frozen=False)
            nest.Simulate((steps + 1) * dt_ms)
            wall = time.perf_counter() - t0
            trains, states = self._collect(program, lowered, steps, dt_ms, prb)
        except NeuroportError:
            raise
        except Exception as exc:  # NEST's own errors (nest.NESTError...), wrapped with the backend's name
            raise BackendError(f"nest failed: {type(exc).__name__}: {exc}") from exc
        meta = {"level": "nir", **dict(program.options), "integrator": "NEST (exact / GSL RK45 per model)",
                "nest_models": dict(lowered.models), "local_num_threads": self.local_num_threads,
                "build_time": t0 - t_build, "n_synapses": lowered.n_synapses,
                "late_synapses": lowered.late_synapses,
                "nest_version": getattr(nest, "__version__", "?")}
        return Result(self.name, dt, steps, trains, states, {}, wall, meta)

    @staticmethod
    def _collect(program, lowered, steps, dt_ms, probes):
        trains = {}
        for name, pop in program.populations.items():
            if pop.is_input:
                x = lowered.input_values.get(name, np.zeros((steps, pop.size)))
                trains[name] = SpikeTrain.from_dense(x == 1)
            elif name in lowered.recorders:
                ev = lowered.recorders[name].get("events")
                st = np.rint(np.asarray(ev["times"], dtype=np.float64) / dt_ms).astype(np.int64) - 2
                nr = np.asarray(ev["senders"], dtype=np.int64) - lowered.first_id[name]
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
                arr = lowered.input_values[pop_name].copy()
            else:
                mm, recordable, factor = lowered.multimeters[(pop_name, var)]
                ev = mm.get("events")
                st = np.rint(np.asarray(ev["times"], dtype=np.float64) / dt_ms).astype(np.int64) - 2
                nr = np.asarray(ev["senders"], dtype=np.int64) - lowered.first_id[pop_name]
                arr = np.full((steps, pop.size), np.nan)
                keep = (st >= 0) & (st < steps)
                arr[st[keep], nr[keep]] = np.asarray(ev[recordable], dtype=np.float64)[keep]
                if np.isnan(arr).any():
                    raise BackendError(f"nest recorded {int(np.sum(~np.isnan(arr)))} of {arr.size} values of "
                                       f"{pop_name}.{var}, expected one per step and neuron")
                arr *= np.asarray(factor, dtype=np.float64)[None, :]
            states.setdefault(pop_name, {})[var] = arr
        return trains, states
