"""The Lava modes: ``lava`` (float), ``lava-fixed`` (bit-accurate CPU models), ``loihi2`` (chip).

All three lower the Program with :mod:`neuroport.backends.lava.lowering`,
run it for the requested steps in one blocking ``run`` call, read what the
``Recorder`` recorded and stop the runtime on every path (errors, SIGINT and
SIGTERM included), so that no Lava child process outlives a call; when the
calling process is killed outright (SIGKILL), Lava's workers die with it and
the shared memory is released (:mod:`neuroport.backends.lava._lifecycle`).
"""

from __future__ import annotations

import multiprocessing
import threading
import time

import numpy as np

from neuroport.backend import Backend, all_probes, check_steps, normalize_inputs
from neuroport.backends.lava import _compat, _lifecycle, building, learning, lowering
from neuroport.backends.numpy_fixed import overflow_meta
from neuroport.errors import BackendError, BackendUnavailableError, InputError, UnsupportedNodeError
from neuroport.hardware import LOIHI2
from neuroport.mapping import CPU_ONLY, cpu_only, map_program
from neuroport.models.base import empty_counters
from neuroport.program import FloatProgram
from neuroport.quantize import quantize
from neuroport.result import Result, SpikeTrain
from neuroport.timing import for_hardware

#: Seconds to wait for Lava's child processes to exit after ``stop`` before they are killed.
SHUTDOWN_TIMEOUT = 10.0
#: Seconds a run may go on after one of Lava's child processes died, before the rest are killed.
DEATH_GRACE = 1.0
INPUT_STATES = ("v", "x", "value")


class _LavaBackend(Backend):
    """Shared run path of the Lava modes (subclasses set the run configuration)."""

    level = "discrete"
    install_hint = _compat.INSTALL_HINT
    fixed = False
    #: Refuse (``QuantizationError``) instead of rounding a float learning rule's coefficients.
    strict = False

    def __init__(self, *, strict: bool = False):
        self.strict = strict

    def available(self) -> tuple[bool, str]:
        try:
            reason = _compat.lava_reason()
        except Exception as exc:  # available() never raises
            reason = f"{type(exc).__name__}: {exc}"
        return (reason is None), (reason or "")

    def run_config(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def refuse(self, program) -> None:
        """Raise for what this mode cannot run even where it is available (the CPU modes run all)."""

    # -- run ---------------------------------------------------------------
    def run(self, program, *, steps: int, inputs=None, probes=(), progress=None, seed: int = 0) -> Result:
        """Run ``program`` on Lava (see :meth:`neuroport.backends.base.Backend.run`).

        ``Result.meta["processes"]`` holds the number of Lava processes.

        Raises
        ------
        BackendUnavailableError
            Lava (or, for ``loihi2``, lava-loihi) is missing.
        CompileError, UnsupportedNodeError
            The Program is not of this mode's level, has ``timing="ideal"`` where no
            compensating delays exist (:func:`neuroport.timing.compensate`), or uses
            what Lava's LIF cannot express.

        An ideal-timing Program runs compensated: ``Result.meta["latency"][pop]`` is
        the number of steps by which each population's spikes come out shifted.
        """
        self.refuse(program)
        program = for_hardware(program)
        self.require_available()
        steps = check_steps(steps)
        plan = lowering.plan(program, fixed=self.fixed, mode=self.name, strict=self.strict)
        ins = normalize_inputs(program, inputs, steps)
        prb = all_probes(program, probes)
        for pop_name, var in prb:
            pop = program.populations[pop_name]
            valid = INPUT_STATES if pop.is_input else lowering.state_names(pop, fixed=self.fixed)
            if var not in valid:
                raise InputError(f"probe {pop_name}.{var}: {pop.model} has states {', '.join(valid)}")
        t_build = time.perf_counter()
        net = building.build(plan, program, steps=steps, inputs=ins, probes=prb)
        with _lifecycle.sigterm_guard():  # SIGTERM: stop the runtime, then end as the signal would
            recorded, wall, t_compile = _execute(net, steps, self.run_config())
        result = self._result(program, plan, net, recorded, ins, prb, steps, wall)
        result.meta["build_time"] = t_compile - t_build
        if net.learning:
            result.weights = learning.learned_weights(program, net, recorded, mode=self.name)
            result.meta["learning"] = learning.describe(net)
        return result

    def _result(self, program, plan, net, recorded, ins, prb, steps, wall) -> Result:
        pops = program.populations
        trains, states = {}, {}
        for name, pop in pops.items():
            dense = np.zeros((steps, pop.size), dtype=bool)
            if pop.is_input:
                values = ins[name]
                nz = values != 0
                # the numpy engine's rule: a step counts as spikes only if all its non-zeros are 1
                dense = nz & np.all((values == 1) | ~nz, axis=1)[:, None]
            elif pop.emits == "spikes":  # non-spiking read-outs report no spikes, as on numpy
                for g in plan.groups[name]:
                    dense[:, g.index] = recorded[net.spike_vars[g.name]][:, g.index] > 0
            trains[name] = SpikeTrain.from_dense(dense)
        for pop_name, var in prb:
            pop = pops[pop_name]
            if pop.is_input:
                arr = ins[pop_name].copy()
            else:
                arr = np.zeros((steps, pop.size), dtype=np.int64 if self.fixed else np.float64)
                for g in plan.groups[pop_name]:
                    data = recorded[net.state_vars[(g.name, var)]]
                    data = data[:, g.index]
                    arr[:, g.index] = np.rint(data).astype(np.int64) if self.fixed else data
                if var == "v" and not self.fixed and pop.v_offset is not None:
                    arr = arr + np.asarray(pop.v_offset, dtype=np.float64)
            states.setdefault(pop_name, {})[var] = arr
        overflow = {}
        if self.fixed:
            overflow = overflow_meta(_counters(program, plan, net, recorded), stacklevel=4)
        meta = {"level": program.level, **dict(program.options),
                **overflow,
                "processes": plan.n_processes, "process_counts": plan.process_counts,
                "lava_version": _compat.lava_version(), "run_config": type(self.run_config()).__name__}
        return Result(self.name, program.dt, steps, trains, states, {}, wall, meta)


def _counter_vars(proc) -> tuple:
    """The overflow counter Vars of a neuron process: ``CountingLIF`` (Lava's LIF in ``lava-fixed``, per
    neuron) or neuroport's ``ALIF`` / ``CondLIF`` (the population's totals)."""
    from neuroport.backends.lava.processes._neuron_process import COUNTERS as TOTALS, NeuronProcess, saturation_vars
    from neuroport.backends.lava.processes.countlif.process import COUNTERS, CountingLIF

    if isinstance(proc, CountingLIF):
        return COUNTERS
    return TOTALS + saturation_vars(proc.STATES) if isinstance(proc, NeuronProcess) else ()


def _counters(program, plan, net, recorded) -> dict:
    """Per-population overflow counters, as numpy-fixed's engine counts them (``models/base.py``).

    ``v`` saturating above the range is counted only for populations that do
    not spike (a spiking one fires and resets anyway), as numpy-fixed does;
    neuroport's processes also report their other states' saturations (``saturations``).
    """
    from neuroport.backends.lava.processes._neuron_process import SATURATION_PREFIX

    out = {}
    for name, groups in plan.groups.items():
        pop = program.populations[name]
        if pop.is_input:
            continue
        c = empty_counters()
        for g in groups:
            if ("count", g.name, "u_wraps") not in recorded:
                continue
            if ("count", g.name, "v_low") not in recorded:  # neuroport's process: the model's own totals
                for var in ("u_wraps", "v_saturations", "int32_wraps"):
                    c[var] += int(recorded[("count", g.name, var)].sum())
                for key, arr in recorded.items():  # sat_<state>: saturations of the model's other states
                    if key[:2] == ("count", g.name) and key[2].startswith(SATURATION_PREFIX) and arr.sum():
                        state = key[2][len(SATURATION_PREFIX):]
                        c["saturations"][state] = c["saturations"].get(state, 0) + int(arr.sum())
                continue
            part = {var: int(recorded[("count", g.name, var)][g.index].sum()) for var in
                    ("u_wraps", "v_low", "v_high", "int32_wraps")}
            c["u_wraps"] += part["u_wraps"]
            c["int32_wraps"] += part["int32_wraps"]
            c["v_saturations"] += part["v_low"] + (part["v_high"] if pop.emits != "spikes" else 0)
        out[name] = c
    return out


def _execute(net, steps: int, run_cfg):
    """Compile, run and read the Recorder; the runtime is stopped on every path."""
    root = net.root
    t0 = time.perf_counter()
    _lifecycle.install()  # Lava's workers and shared-memory manager die with this process (_lifecycle.py)
    try:
        root.create_runtime(run_cfg=run_cfg)
        t1 = time.perf_counter()
        _run_watched(root, steps)
        wall = time.perf_counter() - t1
        names = list(net.spike_vars.values()) + list(net.state_vars.values())
        recorded = {name: np.asarray(getattr(net.recorder, name).get()) for name in names}
        for k, (_block, conn) in enumerate(net.learning):
            got = conn.weights.get()
            recorded[("learning", k)] = got.toarray() if hasattr(got, "toarray") else np.asarray(got)
        for gname, proc in net.lifs.items():
            for var in _counter_vars(proc):
                recorded[("count", gname, var)] = np.asarray(getattr(proc, var).get()).astype(np.int64)
        if net.watch is not None:
            for j in range(len(net.watch.watched)):
                for var in ("excess", "first"):
                    recorded[("watch", var, j)] = float(np.asarray(getattr(net.watch, f"{var}_{j}").get()).ravel()[0])
    except NameError as exc:  # Loihi2HwCfg without lava-loihi; guarded earlier, never surfaced
        raise BackendUnavailableError(f"Lava failed with {exc}: {_compat.LOIHI_HINT}") from exc
    except BackendError:
        raise
    except RuntimeError as exc:
        raise BackendError(f"Lava run failed: {exc}") from exc
    finally:
        shutdown(root)
    return recorded, wall, t0


def _actors(runtime) -> list:
    infra = getattr(runtime, "_messaging_infrastructure", None)
    return list(getattr(infra, "actors", [])) if infra is not None else []


def _alive(actor) -> bool:
    try:
        return actor.is_alive()
    except ValueError:  # closed by Lava's join
        return False


def _run_watched(root, steps: int) -> None:
    """``root.run(RunSteps(steps))``, watched from this thread.

    When a process model raises, Lava's runtime joins every child process while
    the healthy ones still wait for the next step, and blocks for ever. Here the
    blocking call runs in a helper thread; once a child has died, the others are
    terminated, which releases Lava's join and lets its RuntimeError through.
    """
    from lava.magma.core.run_conditions import RunSteps

    outcome = {}

    def target():
        try:
            root.run(condition=RunSteps(num_steps=steps))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = exc

    actors = _actors(root._runtime)
    thread = threading.Thread(target=target, name="neuroport-lava-run", daemon=True)
    thread.start()
    died_at = None
    while thread.is_alive():
        thread.join(0.05)
        if died_at is None and any(not _alive(a) for a in actors):
            died_at = time.monotonic()
        if died_at is not None and time.monotonic() - died_at > DEATH_GRACE:
            outcome.setdefault("cause", _first_exception(actors))
            _kill(actors)
            # Lava's runtime may wait for ever for a reply that no child will send any more;
            # that idle daemon thread is left behind (no process survives).
            thread.join(DEATH_GRACE)
            break
    if "error" in outcome:
        raise outcome["error"]
    if died_at is not None:
        raise BackendError("Lava run failed: one of its processes exited during the run"
                           + (f": {outcome['cause']}" if outcome.get("cause") else ""))


def _first_exception(actors) -> str:
    """``"ExcType: message"`` of the first child that reported an exception (Lava's SystemProcess)."""
    for actor in actors:
        try:
            info = actor.exception if not _alive(actor) else None
        except Exception:  # noqa: BLE001 - the pipe may be closed
            info = None
        if info:
            exc = info[0]
            return f"{type(exc).__name__}: {exc}"
    return ""


def _kill(actors) -> None:
    for actor in actors:
        if _alive(actor):
            actor.terminate()
    for actor in actors:
        try:
            multiprocessing.Process.join(actor, SHUTDOWN_TIMEOUT)
            if _alive(actor):
                actor.kill()
                multiprocessing.Process.join(actor, SHUTDOWN_TIMEOUT)
        except (ValueError, AssertionError):  # closed, or not a child of this process
            pass


def shutdown(process) -> None:
    """Stop the Lava runtime of ``process``; make sure none of its child processes survives.

    Lava's own ``stop`` is used when every child is alive (it waits for their
    acknowledgement, in a helper thread with a time limit); otherwise, or when it
    fails, the children are terminated and the shared-memory manager and watchdog
    are shut down directly. The runtime is then marked stopped so that Lava's
    ``__del__`` does not try again.
    """
    runtime = getattr(process, "_runtime", None)
    if runtime is None:
        return
    actors = _actors(runtime)
    stopped = False
    if getattr(runtime, "_is_started", False) and actors and all(_alive(a) for a in actors):
        thread = threading.Thread(target=_quiet(runtime.stop), name="neuroport-lava-stop", daemon=True)
        thread.start()
        thread.join(SHUTDOWN_TIMEOUT)
        stopped = not thread.is_alive() and not any(_alive(a) for a in actors)
    if not stopped:
        _kill(actors)
        infra = getattr(runtime, "_messaging_infrastructure", None)
        smm = getattr(infra, "_smm", None)
        if smm is not None:
            _quiet(smm.shutdown)()
        watchdog = getattr(runtime, "_watchdog_manager", None)
        if watchdog is not None:
            _quiet(watchdog.stop)()
    runtime._is_started = False
    runtime._is_running = False
    process._runtime = None


def _quiet(fn):
    def call():
        try:
            fn()
        except Exception:  # noqa: BLE001 - best effort during cleanup
            pass

    return call


class LavaFloatBackend(_LavaBackend):
    """Lava's CPU simulator with its ``floating_pt`` models (float Programs)."""

    name = "lava"
    level = "discrete"
    fixed = False

    def run_config(self):
        from lava.magma.core.run_configs import Loihi2SimCfg

        return Loihi2SimCfg(select_tag="floating_pt")


class LavaFixedBackend(_LavaBackend):
    """Lava's CPU simulator with its bit-accurate ``fixed_pt`` models (quantized Programs)."""

    name = "lava-fixed"
    level = "fixed"
    fixed = True

    def run_config(self):
        from lava.magma.core.run_configs import Loihi2SimCfg

        return Loihi2SimCfg(select_tag="fixed_pt")


class Loihi2Backend(_LavaBackend):
    """A Loihi 2 chip through Lava's ``Loihi2HwCfg`` (needs Intel's lava-loihi).

    ``available()`` checks ``lava.utils.loihi.is_installed()`` first: without
    lava-loihi, ``Loihi2HwCfg`` fails with a ``NameError`` deep inside Lava and
    leaves the processes marked compiled, so this backend never gets that far
    (and never reuses processes for a fallback).
    """

    name = "loihi2"
    level = "fixed"
    fixed = True
    install_hint = "join Intel's INRC to obtain lava-loihi and Loihi 2 access (https://intel-ncl.atlassian.net/wiki/spaces/INRC)"

    def available(self) -> tuple[bool, str]:
        try:
            reason = _compat.loihi_reason()
        except Exception as exc:  # available() never raises
            reason = f"{type(exc).__name__}: {exc}"
        return (reason is None), (reason or "")

    def run_config(self):
        from lava.magma.core.run_configs import Loihi2HwCfg

        return Loihi2HwCfg(select_tag="fixed_pt")

    def refuse(self, program) -> None:
        """neuroport's own processes (ALIF, CondLIF, Depression) have no Loihi 2 microcode.

        Checked before availability, so the answer is the same with or without a chip.

        Raises
        ------
        UnsupportedNodeError
            Naming every population and projection that needs one of them.
        """
        found = cpu_only(program)
        if found:
            raise UnsupportedNodeError(
                f"backend {self.name!r}: " + "; ".join(f"{what} is {CPU_ONLY}: {why}" for what, why in found.items())
                + "; run it on 'lava-fixed' (Lava's CPU simulator, bit-accurate) or 'numpy-fixed'")

    def dry_run(self, program, *, hardware=None) -> dict:
        """Lower ``program`` to Lava processes without running it, and map it onto the chip.

        Works without lava-loihi (and counts the processes even without
        lava-nc). A float Program is quantized first.

        Returns
        -------
        dict
            ``backend``, ``available``, ``reason``, ``processes`` (count),
            ``process_counts`` (by Lava class), ``cpu_only`` (``{what: why}`` for
            what needs neuroport's own CPU-only processes, which ``run`` refuses),
            ``groups`` (neuron processes per population), ``built`` (whether the
            Lava processes were created),
            ``mapping`` (the :class:`MappingReport` or ``None``).

        Raises
        ------
        ResourceError
            The network does not fit the hardware (from ``neuroport.mapping``).
        CompileError, UnsupportedNodeError
            As :meth:`run`.
        """
        if isinstance(program, FloatProgram):
            kwargs = {} if hardware is None else {"hardware": hardware}
            program, _ = quantize(program, **kwargs)
        program = for_hardware(program)
        plan = lowering.plan(program, fixed=True, mode=self.name)
        ok, reason = self.available()
        built = False
        if _compat.lava_reason() is None:
            steps = 1
            zeros = {name: np.zeros((steps, program.populations[name].size)) for name in program.inputs}
            building.build(plan, program, steps=steps, inputs=zeros, probes=[])  # not compiled, not run
            built = True
        mapping = map_program(program, LOIHI2 if hardware is None else hardware)
        return {"backend": self.name, "available": ok, "reason": reason,
                "processes": plan.n_processes, "process_counts": plan.process_counts,
                "cpu_only": plan.custom_processes,
                "groups": {name: len(g) for name, g in plan.groups.items()
                           if not program.populations[name].is_input},
                "built": built, "mapping": mapping}


__all__ = ["LavaFloatBackend", "LavaFixedBackend", "Loihi2Backend", "shutdown"]
