"""The embedded numpy engine (mode ``numpy``, float64, level ``discrete``).

Per step, for each population in the Program's update order:

1. its input ``a_in`` is read from its ring buffer (slot ``t mod L``; filled
   by projections with delay >= 1) plus, in ``timing="ideal"``, the
   zero-delay projections from populations already updated this step;
2. the neuron model advances (its one step, ``neuroport.models``, in float64);
3. its output (spikes, or the state for non-spiking models / graded input)
   is pushed into the ring buffers of its targets at ``t + d``, touching only
   the weight columns of the neurons that are non-zero (CSC gather).

:class:`Engine` is shared with the fixed-point mode, which overrides the
per-population and per-projection hooks.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import scipy.sparse as sp

from neuroport.backend import Backend, all_probes, check_steps, normalize_inputs
from neuroport.batch import is_batched, replicate, run_vectorised
from neuroport.errors import CompileError, InputError, UnsupportedNodeError
from neuroport.result import Result, SpikeTrain
from neuroport.models import neurons
from neuroport.models.arithmetic import FLOAT
from neuroport.models.depression import DepressionFloat
from neuroport.models.jit import engine_path

#: Runs longer than this many neuron-steps show a progress bar on a terminal.
PROGRESS_THRESHOLD = 5_000_000


class _Delivery:
    """One projection's synapses with one delay, as CSC arrays for column gathers."""

    __slots__ = ("post", "delay", "indptr", "indices", "data", "matrix", "n_post", "proj", "port")

    def __init__(self, proj, delay: int, matrix: sp.spmatrix, dtype):
        csc = sp.csc_matrix(matrix)
        csc.sort_indices()
        self.proj = proj
        self.post = proj.post
        self.delay = int(delay)
        self.indptr = csc.indptr.astype(np.int64)
        self.indices = csc.indices  # scipy's index dtype (int32 below 2**31 entries): no copy
        self.data = csc.data if csc.data.dtype == dtype else csc.data.astype(dtype)
        self.matrix = csc
        self.n_post = matrix.shape[0]

    def gather(self, active: np.ndarray, values: np.ndarray | None) -> np.ndarray:
        """``W[:, active] @ values`` (``values=None`` means all ones), shape ``(n_post,)``."""
        starts = self.indptr[active]
        lengths = self.indptr[active + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(self.n_post, dtype=self.data.dtype)
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        weights = self.data[offsets]
        if values is not None:
            weights = weights * np.repeat(values, lengths)
        out = np.bincount(self.indices[offsets], weights=weights, minlength=self.n_post)
        return out


def input_ports(program) -> dict:
    """``{population: its input ports}`` (``("input",)`` or ``("exc", "inh")``); every projection's
    port is checked against its target's."""
    ports = {name: pop.ports for name, pop in program.populations.items()}
    for proj in program.projections:
        port = proj.port
        if port not in ports[proj.post]:
            raise CompileError(f"projection {proj.name}: port {port!r} not among {proj.post}'s "
                               f"ports {ports[proj.post]}")
    return ports


class Engine:
    """Vectorised step loop over a Program. Subclass hooks: ``dtype``,
    ``prepare_population``, ``step_population``, ``finish_delivery``."""

    dtype = np.float64
    mode = "numpy"

    def __init__(self, program):
        self.program = program
        self.order = list(program.populations)
        self.ports = input_ports(program)
        self.deliveries = {name: [] for name in self.order}  # by pre, delay >= 1
        self.zero_delay = {name: [] for name in self.order}  # by post (ideal timing)
        self.outgoing = {name: [] for name in self.order}  # projections by pre
        self.plastic_in = {name: [] for name in self.order}  # plastic projections by post
        self.plastic_out = {name: [] for name in self.order}  # ... and by pre
        ring_len = {name: 1 for name in self.order}
        for proj in program.projections:
            port = proj.port
            self.outgoing[proj.pre].append(proj)
            if proj.plasticity is not None:
                if proj.depression is not None:
                    raise UnsupportedNodeError(f"{proj.name}: depression and plasticity on one projection "
                                               "are not supported")
                self.plastic_in[proj.post].append(proj)
                self.plastic_out[proj.pre].append(proj)
                ring_len[proj.post] = max(ring_len[proj.post], int(proj.delays.max(initial=0)) + 1)
                continue
            for delay, matrix in proj.by_delay():
                d = _Delivery(proj, delay, matrix, self.delivery_dtype(proj))
                d.port = port
                if delay == 0:
                    self.zero_delay[proj.post].append(d)
                else:
                    self.deliveries[proj.pre].append(d)
                    ring_len[proj.post] = max(ring_len[proj.post], delay + 1)
        self.ring_len = ring_len
        self.depression = {p.name: p.extra["depression"] for p in program.projections
                           if p.depression is not None}
        self.t = None  # global step counter once started

    # -- hooks -------------------------------------------------------------
    def delivery_dtype(self, proj):
        return np.float64

    def prepare_population(self, pop):
        """``(block, state, block)``: the population's model step on a one-member
        :class:`~neuroport.models.base.Block` in float64, and its state variables."""
        blk = neurons.block(pop, FLOAT)
        return blk, blk.member_states[0], blk

    def step_population(self, blk, state, a_in, consts):
        """One step of one population; the spike vector (``None`` for a non-spiking model)."""
        if isinstance(a_in, dict):
            fired = blk.step(a_in["exc"], a_in["inh"])
        else:
            fired = blk.step(a_in)
        if blk.any.get("multi"):  # several spikes per step: the count is what the layer sends
            return np.where(fired, blk.count, 0.0)
        return fired if blk.any["spiking"] else None

    def finish_delivery(self, delivery, contribution):
        """Post-process one projection's summed input (fixed point shifts here)."""
        return contribution

    def output_values(self, pop, state, spikes):
        """What the population sends on: spikes as 0/1, or ``v`` for non-spiking models."""
        if spikes is not None:
            return spikes
        return state["v"] + pop.v_offset

    def report_state(self, pop, state, var):
        if var == "v":
            return state["v"] + pop.v_offset
        return state[var]

    def prepare_plastic(self, proj):
        from neuroport.models import plasticity

        return plasticity.prepare(proj)

    def plastic_contribution(self, state, active, values):
        from neuroport.models import plasticity

        return plasticity.contribution(state, active, values)

    def plastic_learn(self, state, s_pre, s_post):
        from neuroport.models import plasticity

        plasticity.learn(state, s_pre, s_post)

    def set_plastic_weights(self, name: str, weights) -> None:
        """Overwrite a plastic projection's weights (graph units, dense ``(post, pre)``)."""
        st = self.plastic[name]
        st.weights[:] = np.where(st.mask, weights, 0.0)

    def plastic_weights(self, proj, state):
        """Current weights of a plastic projection in graph units (dense ``(post, pre)``)."""
        return state.weights.copy()

    # -- loop --------------------------------------------------------------
    def start(self) -> None:
        """Create the run-time state: neuron states, ring buffers, traces, weights; ``t = 0``."""
        pops = self.program.populations
        self.ring = {(n, port): np.zeros((self.ring_len[n], pops[n].size), dtype=self.dtype)
                     for n in self.order for port in self.ports[n]}
        self.runtime = {name: None if pops[name].is_input else self.prepare_population(pops[name])
                        for name in self.order}
        self.resources = {p.name: np.ones(pops[p.pre].size) for p in self.program.projections
                          if p.name in self.depression}
        self.plastic = {p.name: self.prepare_plastic(p) for post in self.order for p in self.plastic_in[post]}
        self.sent = {}
        self.t = 0

    def restart(self) -> None:
        """Back to the state :meth:`start` creates, for :meth:`neuroport.Simulator.reset` (which then puts
        back the learned weights and the kept variables). Here a full :meth:`start`; the compiled engine
        does it in place where it can (:meth:`~neuroport.backends.compiled.CompiledEngine.restart`)."""
        self.start()

    def run(self, *, steps: int, inputs: dict, probes: list, progress) -> tuple:
        """Start from the initial state and run ``steps`` steps."""
        self.start()
        return self.advance(steps=steps, inputs=inputs, probes=probes, progress=progress)

    def advance(self, *, steps: int, inputs: dict, probes: list, progress) -> tuple:
        """Run ``steps`` more steps from the current state.

        Returns ``(spike trains, probed states, wall time)``; steps in the
        trains count from the start of this call.
        """
        if self.t is None:
            self.start()
        pops = self.program.populations
        spike_steps = {n: [] for n in self.order}
        spike_neurons = {n: [] for n in self.order}
        recorded = self._make_recorders(probes, self.runtime, steps)
        bar = _progress_bar(steps, self.program, progress, self.mode)
        t0 = time.perf_counter()
        for local in range(steps):
            t = self.t
            for name, x in self.resources.items():  # depression: resources recover
                DepressionFloat.recover(x, self.depression[name]["recover"])
            step_spikes = {}
            for name in self.order:
                pop = pops[name]
                if pop.is_input:
                    out = inputs[name][local]
                    spikes = None
                    if (name, "v") in recorded:
                        recorded[(name, "v")][local] = out
                    idx = np.flatnonzero(out)
                    if idx.size and np.all(out[idx] == 1):
                        spike_steps[name].append(np.full(idx.size, local, dtype=np.int64))
                        spike_neurons[name].append(idx)
                else:
                    a_in = self._gather_input(name, t)
                    model, state, consts = self.runtime[name]
                    spikes = self.step_population(model, state, a_in.get("input", a_in) if len(a_in) == 1
                                                  else a_in, consts)
                    out = self.output_values(pop, state, spikes)
                    for (pname, var), arr in recorded.items():
                        if pname == name:
                            arr[local] = self.report_state(pop, state, var)
                    if spikes is not None:
                        idx = np.flatnonzero(spikes)
                        if idx.size and spikes.dtype != bool:  # spike counts: one entry per spike
                            idx = np.repeat(idx, spikes[idx].astype(np.int64))
                        if idx.size:
                            spike_steps[name].append(np.full(idx.size, local, dtype=np.int64))
                            spike_neurons[name].append(idx)
                step_spikes[name] = out
                for proj in self.outgoing[name]:
                    self.sent[proj.name] = out if proj.name not in self.resources else \
                        DepressionFloat.release(out, self.resources[proj.name], self.depression[proj.name]["u_se"])
                for d in self.deliveries[name]:
                    self.deliver(d, self.sent[d.proj.name],
                                 self.ring[(d.post, d.port)][(t + d.delay) % self.ring_len[d.post]])
                for proj in self.plastic_out[name]:  # sent now, with the weights before this step's learning
                    st = self.plastic[proj.name]
                    active = np.flatnonzero(out)
                    if active.size:
                        values = None if out.dtype == bool or np.all(out[active] == 1) else out[active]
                        self.ring[(proj.post, proj.port)][(t + st.delay) % self.ring_len[proj.post]] += \
                            self.plastic_contribution(st, active, values)
            for post in self.order:
                for proj in self.plastic_in[post]:  # pre spikes count in the step they are emitted (as Lava)
                    self.plastic_learn(self.plastic[proj.name], np.asarray(step_spikes[proj.pre]) != 0,
                                       np.asarray(step_spikes[post]) != 0)
            self.t += 1
            if bar is not None:
                bar.update(1)
        wall = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        trains = {}
        for name in self.order:
            st = np.concatenate(spike_steps[name]) if spike_steps[name] else np.zeros(0, np.int64)
            nr = np.concatenate(spike_neurons[name]) if spike_neurons[name] else np.zeros(0, np.int64)
            trains[name] = SpikeTrain(st, nr.astype(np.int64), pops[name].size, steps)
        states = {}
        for (pop_name, var), arr in recorded.items():
            states.setdefault(pop_name, {})[var] = arr
        return trains, states, wall

    def _gather_input(self, name: str, t: int) -> dict:
        a_in = {}
        for port in self.ports[name]:
            slot = self.ring[(name, port)][t % self.ring_len[name]]
            a_in[port] = slot.copy()
            slot[:] = 0
        for d in self.zero_delay[name]:
            self.deliver(d, self.sent[d.proj.name], a_in[d.port])
        return a_in

    def deliver(self, d: _Delivery, out, target: np.ndarray) -> None:
        """Add ``d``'s input from the sent values ``out`` (spikes or graded) into ``target`` (a ring row)."""
        contribution = self._contribution(d, out)
        if contribution is not None:
            target += self.finish_delivery(d, contribution)

    def path_meta(self) -> dict:
        """``{"engine_path": "numpy"}`` (the compiled engines add which populations their kernels step)."""
        return {"engine_path": "numpy"}

    def final_state(self) -> dict:
        """Copies of every population's state variables: ``{population: {variable: array}}``."""
        out = {}
        for name, rt in (self.runtime or {}).items():
            if rt is not None:
                out[name] = {k: np.array(v, copy=True) for k, v in rt[1].items()}
        return out

    def learned_weights(self) -> dict:
        """Current weights of every plastic projection (graph units, dense)."""
        return {p.name: self.plastic_weights(p, self.plastic[p.name])
                for post in self.order for p in self.plastic_in[post]}

    def _make_recorders(self, probes, runtime, steps) -> dict:
        pops = self.program.populations
        recorded = {}
        for pop_name, var in probes:
            pop = pops[pop_name]
            if pop.is_input:
                if var != "v":
                    raise InputError(f"probe {pop_name}.{var}: an input population has only its value 'v'")
            else:
                state = runtime[pop_name][1]
                if var not in state:
                    raise InputError(f"probe {pop_name}.{var}: {pop.model} has states {', '.join(state)}")
            recorded[(pop_name, var)] = np.zeros((steps, pop.size), dtype=self.record_dtype(var))
        return recorded

    def record_dtype(self, var):
        return np.float64

    def _contribution(self, d: _Delivery, out):
        if out.dtype == bool:
            active = np.flatnonzero(out)
            if active.size == 0:
                return None
            return d.gather(active, None)
        active = np.flatnonzero(out)
        if active.size == 0:
            return None
        if active.size > 0.3 * out.size:
            return d.matrix @ out
        return d.gather(active, out[active])


def _progress_bar(steps, program, progress, mode):
    if progress is False:
        return None
    work = steps * max(1, program.n_neurons)
    if progress is None and (not sys.stderr.isatty() or work < PROGRESS_THRESHOLD):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=steps, desc=f"{mode} run", unit="step", leave=False)


class NumpyBackend(Backend):
    """Float64 vectorised engine: the embedded default backend."""

    name = "numpy"
    level = "discrete"
    engine_class = Engine
    #: batched inputs ``(steps, B, n)`` run in one engine pass (:mod:`neuroport.batch`)
    vectorised_batch = True

    def batched_program(self, program, batch: int):
        """``program`` as ``batch`` block-diagonal copies (:func:`neuroport.batch.replicate`)."""
        return replicate(program, batch)

    def make_engine(self, program, engine: str | None = None) -> Engine:
        """A fresh engine for ``program`` (used by :class:`neuroport.Simulator`): :class:`Engine`
        (``engine="numpy"``) or the compiled one (``"compiled"``; default: :func:`neuroport.models.jit.engine_path`)."""
        if engine_path(engine) == "compiled":
            from neuroport.backends.compiled import CompiledEngine

            return CompiledEngine(program)
        return self.engine_class(program)

    def check_inputs(self, program, inputs, steps: int) -> dict:
        return normalize_inputs(program, inputs, steps)

    def run(self, program, *, steps: int, inputs=None, probes=(), progress=None, seed: int = 0,
            engine: str | None = None) -> Result:
        """As :meth:`neuroport.backend.Backend.run`; ``engine``: ``"numpy"`` (the reference path) or
        ``"compiled"`` (numba kernels), default :func:`neuroport.models.jit.engine_path`. The path that
        ran is ``Result.meta["engine_path"]``. Inputs ``(steps, B, n)`` run B samples in one pass and
        return a batched Result (:mod:`neuroport.batch`)."""
        if program.level != self.level:
            raise CompileError(
                f"backend {self.name!r} runs {self.level!r} Programs, got a {program.level!r} one; "
                "use neuroport.run(...), which converts for you"
            )
        steps = check_steps(steps)
        if is_batched(inputs):  # (steps, B, n): one pass over B block-diagonal copies
            return run_vectorised(self, program, steps=steps, inputs=inputs, probes=probes, progress=progress,
                                  seed=seed, engine=engine)
        ins = normalize_inputs(program, inputs, steps)
        prb = all_probes(program, probes)
        eng = self.make_engine(program, engine)
        trains, states, wall = eng.run(steps=steps, inputs=ins, probes=prb, progress=progress)
        return Result(self.name, program.dt, steps, trains, states, eng.learned_weights(), wall,
                      {"level": program.level, **dict(program.options), **eng.path_meta()})

