"""The Brian2 backend (mode ``brian2``, level ``nir``): the continuous-time reference.

It builds Brian2 ``NeuronGroup``/``Synapses`` from the graph's continuous-time
parameters (:mod:`neuroport.backends.brian2.lowering`), integrates them with
Brian2's own ``euler`` or ``exact`` method, and returns the common
:class:`~neuroport.backends.base.Result`. See ``docs/brian2.md``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time

import numpy as np

from neuroport.backend import Backend, all_probes, check_steps, normalize_inputs
from neuroport.backends.brian2 import _compat
from neuroport.backends.brian2.lowering import lower
from neuroport.errors import BackendError, CompileError, InputError, NeuroportError
from neuroport.program import FixedProgram
from neuroport.result import Result, SpikeTrain

CODEGEN_TARGETS = ("numpy", "cython")
DEVICES = ("runtime", "cpp_standalone")


class Brian2Backend(Backend):
    """Run a Program's graph on Brian2.

    Parameters
    ----------
    codegen : {"numpy", "cython"}
        Code generation target of Brian2's runtime device. ``numpy`` (the
        default) starts at once; ``cython`` compiles on first use (slow once,
        then cached) and runs faster.
    device : {"runtime", "cpp_standalone"}
        ``cpp_standalone`` compiles the whole run to C++ in a temporary
        directory (removed afterwards): worth it for long runs only.

    Examples
    --------
    >>> import neuroport, numpy as np                                # doctest: +SKIP
    >>> r = neuroport.run(graph, backend="brian2", dt=1e-4, steps=1000, inputs=x)  # doctest: +SKIP
    """

    name = "brian2"
    level = "nir"
    install_hint = _compat.INSTALL_HINT
    timings = ("hardware", "ideal")

    def __init__(self, *, codegen: str = "numpy", device: str = "runtime"):
        if codegen not in CODEGEN_TARGETS:
            raise InputError(f"brian2 codegen: expected one of {', '.join(CODEGEN_TARGETS)}, got {codegen!r}")
        if device not in DEVICES:
            raise InputError(f"brian2 device: expected one of {', '.join(DEVICES)}, got {device!r}")
        self.codegen = codegen
        self.device = device

    def available(self) -> tuple[bool, str]:
        return _compat.available()

    def run(self, program, *, steps: int, inputs=None, probes=(), progress=None, seed: int = 0) -> Result:
        self.require_available()
        b2 = _compat.brian2()
        if isinstance(program, FixedProgram):
            raise CompileError("backend 'brian2' needs the float Program (it reads program.graph); "
                               "it was given a quantized one")
        steps = check_steps(steps)
        ins = normalize_inputs(program, inputs, steps)
        prb = all_probes(program, probes)
        dt = program.dt
        standalone = self.device == "cpp_standalone"
        build_dir = tempfile.mkdtemp(prefix="neuroport-brian2-") if standalone else None
        old_target = b2.prefs.codegen.target
        try:
            if standalone:
                b2.set_device("cpp_standalone", directory=build_dir, build_on_run=True, with_output=False)
            else:
                b2.set_device("runtime")
                b2.prefs.codegen.target = self.codegen
            b2.start_scope()
            b2.defaultclock.dt = dt * b2.second
            b2.seed(seed)
            t_build = time.perf_counter()
            lowered = lower(b2, program, steps=steps, inputs=ins, probes=prb)
            t0 = time.perf_counter()
            report = "stderr" if (progress or (progress is None and sys.stderr.isatty()
                                                and steps * max(1, program.n_neurons) > 5_000_000)) else None
            lowered.network.run(steps * dt * b2.second, report=report, namespace={})
            wall = time.perf_counter() - t0
            # standalone: wall is code generation + compile + run; the simulation alone, as Brian2 timed it
            run_only = float(getattr(b2.device, "_last_run_time", None) or wall) if standalone else wall
            trains, states = self._collect(b2, program, lowered, steps, dt, prb)
            weights = lowered.weights()
        except NeuroportError:
            raise
        except Exception as exc:  # Brian2's own errors, wrapped with the backend's name
            raise BackendError(f"brian2 failed: {type(exc).__name__}: {exc}") from exc
        finally:
            b2.prefs.codegen.target = old_target
            if standalone:
                b2.device.reinit()
                b2.device.activate()
                b2.set_device("runtime")
                shutil.rmtree(build_dir, ignore_errors=True)
        meta = {"level": "nir", **dict(program.options), "codegen": self.codegen, "device": self.device,
                "brian2_method": lowered.meta["method"], "build_time": t0 - t_build, "run_only_time": run_only,
                "brian2_version": b2.__version__}
        return Result(self.name, dt, steps, trains, states, weights, wall, meta)

    @staticmethod
    def _collect(b2, program, lowered, steps, dt, probes):
        trains = {}
        for name, pop in program.populations.items():
            if pop.is_input:
                x = lowered.input_values.get(name, np.zeros((steps, pop.size)))
                rows = [t for t in range(steps) if np.any(x[t]) and np.all(x[t][x[t] != 0] == 1)]
                mask = np.zeros_like(x, dtype=bool)
                mask[rows] = x[rows] == 1
                trains[name] = SpikeTrain.from_dense(mask)
            elif name in lowered.spike_monitors:
                mon = lowered.spike_monitors[name]
                st = np.rint(np.asarray(mon.t / b2.second) / dt).astype(np.int64)
                nr = np.asarray(mon.i[:], dtype=np.int64)
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
                mon, attr = lowered.state_monitors[(pop_name, var)]
                arr = np.asarray(getattr(mon, attr)).T.copy()
                if arr.shape[0] != steps:
                    raise BackendError(f"brian2 recorded {arr.shape[0]} steps of {pop_name}.{var}, expected {steps}")
            states.setdefault(pop_name, {})[var] = arr
        return trains, states
