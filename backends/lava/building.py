"""Lava backends, second half: a :class:`~neuroport.backends.lava.lowering.Plan` becomes Lava
processes (Lava's ``LIF``, ``Dense``/``DelayDense``, ``Sparse``, ``LearningDense``, ``RingBuffer`` and neuroport's
own ``ALIF``, ``CondLIF``, ``Depression``, ``Recorder``, ``WeightWatch``) wired together.
:mod:`~neuroport.backends.lava.lowering` makes the plan (checks, grouping, weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neuroport.backends.lava import learning
from neuroport.backends.lava.lowering import GRADED_MESSAGE_BITS, Plan, hardware_or_default
from neuroport.errors import InputError
from neuroport.models import neurons
from neuroport.models.arithmetic import FLOAT, LoihiArithmetic


# --------------------------------------------------------------------------- build
@dataclass
class LavaNetwork:
    """The Lava processes of one run and where the recordings are."""

    plan: Plan
    processes: list
    lifs: dict  # group name -> neuron process (LIF, ALIF or CondLIF)
    recorder: object
    spike_vars: dict  # group name -> Recorder Var name
    state_vars: dict  # (group name, var) -> Recorder Var name
    learning: list = field(default_factory=list)  # (Block, LearningDense) of plastic projections
    watch: object = None  # WeightWatch process (float runs with bounds Lava cannot clip)

    @property
    def root(self):
        return self.recorder


def custom_arguments(pop, kind: str, *, fixed: bool, hardware=None) -> dict:
    """Keyword arguments of the ``ALIF`` / ``CondLIF`` process for ``pop`` (pure numpy).

    The process model runs the population's neuroport model step, which reads
    its constants from ``population``; the parameter Vars hold the same values
    for inspection, and the initial states are the model's ``init_state``.
    """
    if kind == "ALIF":
        from neuroport.backends.lava.processes.alif.process import FIXED_PARAMS, FLOAT_PARAMS
    else:
        from neuroport.backends.lava.processes.condlif.process import FIXED_PARAMS, FLOAT_PARAMS
    hw = hardware_or_default(hardware) if fixed else None
    ar = LoihiArithmetic(hw) if fixed else FLOAT
    init = {k: np.array(v, dtype=ar.dtype) for k, v in neurons.runner(pop).init_state(pop, ar).items()}
    p = pop.params
    if fixed:
        params = {k: np.asarray(p.get(k, p.get("du", 0) if k == "du_inh" else 0), dtype=np.int64)
                  for k in FIXED_PARAMS}
    else:
        renamed = {"vth": "v_threshold"}
        params = {k: np.asarray(p.get(renamed.get(k, k), p.get("du", 1.0) if k == "du_inh" else 0.0),
                                dtype=np.float64) for k in FLOAT_PARAMS}
    params = {k: np.array(np.broadcast_to(v, (pop.size,))) for k, v in params.items()}
    return {"population": pop, "params": params, "init": init, "hardware": hw}


def depression_arguments(dep: dict, size: int, *, fixed: bool, hardware=None) -> dict:
    """Keyword arguments of the ``Depression`` process for one Program depression dict."""
    if fixed:
        bits = int(dep.get("bits", hardware_or_default(hardware).depression_bits))
        params = {k: np.array(np.broadcast_to(np.asarray(dep[k], dtype=np.int64), (size,)))
                  for k in ("recover", "u_se")}
        return {"params": params, "init": {"x": np.full(size, 1 << bits, dtype=np.int64)},
                "consts": {"bits": bits}}
    params = {k: np.array(np.broadcast_to(np.asarray(dep[k], dtype=np.float64), (size,)))
              for k in ("recover", "u_se")}
    return {"params": params, "init": {"x": np.ones(size)}}


def build(plan_: Plan, program, *, steps: int, inputs: dict, probes: list) -> LavaNetwork:
    """Create the Lava processes for ``steps`` steps of ``inputs`` (see :func:`plan`)."""
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF
    from lava.proc.sparse.process import Sparse

    from neuroport.backends.lava.processes.recorder import Recorder  # imports lava (optional)

    fixed = plan_.fixed
    hardware = program.hardware if fixed else None
    processes = []
    senders = {}  # population name -> [OutPort]
    graded = {}
    for name in plan_.inputs:
        data = np.asarray(inputs[name], dtype=np.float64)
        if fixed:
            bad = (data != 0) & (data != 1)
            if bad.any():  # as numpy-fixed: the quantizer has no scale for graded inputs
                t, i = np.argwhere(bad)[0]
                raise InputError(f"input {name!r}: fixed-point runs take spikes (0 or 1) only; got "
                                 f"{data[t, i]!r} at step {t}, neuron {i}")
            data = data.astype(np.int32)
        graded[name] = not np.all((data == 0) | (data == 1))
        src = RingBuffer(data=np.ascontiguousarray(data.T))
        processes.append(src)
        senders[name] = [src.s_out]
    lifs = {}
    for pop_name in plan_.neurons:
        pop = program.populations[pop_name]
        size = pop.size
        senders[pop_name] = []
        for g in plan_.groups[pop_name]:
            p = g.params
            if g.kind != "LIF":
                proc = _custom_process(g.kind)(shape=(size,), fixed=fixed,
                                               **custom_arguments(pop, g.kind, fixed=fixed, hardware=hardware))
            elif fixed:  # Lava's LIF step, plus overflow counters (processes/countlif)
                from neuroport.backends.lava.processes.countlif.process import CountingLIF

                proc = CountingLIF(shape=(size,), du=int(p["du"]), dv=int(p["dv"]), vth=int(p["vth"]),
                                   bias_mant=p["bias_mant"].astype(np.int32),
                                   bias_exp=p["bias_exp"].astype(np.int32))
            else:
                proc = LIF(shape=(size,), du=float(p["du"]), dv=float(p["dv"]), vth=float(p["vth"]),
                           bias_mant=p["bias_mant"].astype(np.float64))
            processes.append(proc)
            lifs[g.name] = proc
            senders[pop_name].append(proc.s_out)
    plastic = []  # (Block, LearningDense)
    depressed = {}  # Depression key -> OutPort
    if plan_.depressions:
        from neuroport.backends.lava.processes.depression.process import Depression  # imports lava (optional)

        for key, (pre, dep) in plan_.depressions.items():
            size = program.populations[pre].size
            proc = Depression(shape=(size,), fixed=fixed,
                              **depression_arguments(dep, size, fixed=fixed, hardware=hardware))
            for port in senders[pre]:
                port.connect(proc.s_in)
            processes.append(proc)
            depressed[key] = proc.a_out
    for b in plan_.blocks:
        bits = GRADED_MESSAGE_BITS if (b.source or graded.get(b.pre, False)) else 0
        weights = b.weights.astype(np.int32) if fixed else b.weights
        if b.learning is not None:
            conn = learning.make_process(b.learning, b.weights, fixed=fixed)
            lifs[b.post].s_out.connect(conn.s_in_bap)  # back-propagating action potentials: y traces
            plastic.append((b, conn))
        elif b.kind == "Dense":
            conn = Dense(weights=weights, num_message_bits=bits, **b.kwargs)
        elif b.kind == "Sparse":
            conn = Sparse(weights=weights, num_message_bits=bits, **b.kwargs)
        else:
            conn = DelayDense(weights=weights, delays=(b.delays - 1).astype(int), num_message_bits=bits,
                              **b.kwargs)
        for port in ([depressed[b.source]] if b.source else senders[b.pre]):
            port.connect(conn.s_in)
        conn.a_out.connect(getattr(lifs[b.post], b.port))
        processes.append(conn)
    ports, variables = [], []
    spike_vars, state_vars = {}, {}
    for gname, lif in lifs.items():
        spike_vars[gname] = f"rec_in_{len(ports)}"
        ports.append(lif.s_out)
    probed = {}
    for pop_name, var in probes:
        if not program.populations[pop_name].is_input:
            probed.setdefault(pop_name, []).append(var)
    for pop_name, groups in plan_.groups.items():
        for var in probed.get(pop_name, ()):
            for g in groups:
                state_vars[(g.name, var)] = f"rec_ref_{len(variables)}"
                variables.append(getattr(lifs[g.name], var))
    recorder = Recorder(ports=ports, variables=variables, num_steps=steps)
    recorder.connect_targets(ports, variables)
    processes.append(recorder)
    watch = None
    if plastic:
        watch = learning.weight_watch(plastic)
    if watch is not None:
        processes.append(watch)
    return LavaNetwork(plan_, processes, lifs, recorder, spike_vars, state_vars, plastic, watch)


def _custom_process(kind: str):
    if kind == "ALIF":
        from neuroport.backends.lava.processes.alif.process import ALIF  # imports lava (optional)

        return ALIF
    from neuroport.backends.lava.processes.condlif.process import CondLIF  # imports lava (optional)

    return CondLIF
